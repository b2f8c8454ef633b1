package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
)

func identityTests() []namedTest {
	return []namedTest{
		{"IdentityRoundTrip", testIdentityRoundTrip},
		{"IdentityLoginsUnique", testIdentityLoginsUnique},
		{"IdentityRelinkUnlink", testIdentityRelinkUnlink},
		{"IdentityUpdateDelete", testIdentityUpdateDelete},
		{"IdentityPoolDeleteCascades", testIdentityPoolDeleteCascades},
		{"IdentityList", testIdentityList},
		{"ConcurrentFindOrCreateLogin", testConcurrentFindOrCreate},
		{"ConcurrentMerges", testConcurrentMerges},
		{"CreateIdentity", testCreateIdentity},
	}
}

func identityID(n int) string { return fmt.Sprintf("us-east-1:11111111-0000-4000-8000-%012d", n) }

func newIdentity(pool *store.Pool, n int, logins ...string) *store.Identity {
	id := &store.Identity{
		ID:        identityID(n),
		PoolID:    pool.ID,
		CreatedAt: base.Add(time.Duration(n) * time.Millisecond),
		UpdatedAt: base.Add(time.Duration(n) * time.Millisecond),
	}
	for i := 0; i+1 < len(logins); i += 2 {
		id.Logins = append(id.Logins, store.Login{PoolID: pool.ID, Provider: logins[i], Subject: logins[i+1], IdentityID: id.ID})
	}
	return id
}

func update(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	return s.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) })
}

func mustIdentity(t *testing.T, s store.Reader, id string) *store.Identity {
	t.Helper()
	got, err := s.GetIdentity(context.Background(), id)
	if err != nil {
		t.Fatalf("GetIdentity(%s): %v", id, err)
	}
	return got
}

func loginsOf(id *store.Identity) string {
	out := ""
	for _, l := range id.Logins {
		out += l.Provider + "=" + l.Subject + ";"
	}
	return out
}

func withPool(t *testing.T, s store.Store) *store.Pool {
	t.Helper()
	p := newPool(1, "123456789012", "us-east-1")
	insert(t, s, p)
	return p
}

func testIdentityRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := withPool(t, s)
	want := newIdentity(p, 1, "graph.facebook.com", "fb-1", "accounts.google.com", "g-1", "login.dev", "user a")
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertIdentity(ctx, want) }); err != nil {
		t.Fatal(err)
	}
	got := mustIdentity(t, s, want.ID)
	if got.PoolID != p.ID || got.Disabled || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("identity = %+v, want %+v", got, want)
	}
	// Logins come back sorted by provider, then subject.
	if l := loginsOf(got); l != "accounts.google.com=g-1;graph.facebook.com=fb-1;login.dev=user a;" {
		t.Errorf("logins = %s", l)
	}
	for _, l := range want.Logins {
		id, err := s.FindLogin(ctx, p.ID, l.Provider, l.Subject)
		if err != nil || id != want.ID {
			t.Errorf("FindLogin(%s, %s) = %q, %v; want %s", l.Provider, l.Subject, id, err, want.ID)
		}
	}
	if _, err := s.FindLogin(ctx, p.ID, "graph.facebook.com", "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindLogin(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.GetIdentity(ctx, identityID(99)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIdentity(unknown) error = %v, want ErrNotFound", err)
	}
	// An identity of a pool that does not exist cannot be stored.
	orphan := newIdentity(&store.Pool{ID: "us-east-1:99999999-0000-4000-8000-000000000000"}, 2)
	err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertIdentity(ctx, orphan) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("InsertIdentity(missing pool) error = %v, want ErrNotFound", err)
	}
}

func testIdentityLoginsUnique(t *testing.T, s store.Store) {
	p := withPool(t, s)
	a := newIdentity(p, 1, "graph.facebook.com", "fb-1")
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertIdentity(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	// A second identity claiming the same login fails as a whole.
	b := newIdentity(p, 2, "accounts.google.com", "g-1", "graph.facebook.com", "fb-1")
	err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertIdentity(ctx, b) })
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("InsertIdentity(taken login) error = %v, want ErrExists", err)
	}
	if _, err := s.GetIdentity(context.Background(), b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("identity of a failed transaction exists: %v", err)
	}
	if _, err := s.FindLogin(context.Background(), p.ID, "accounts.google.com", "g-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("login of a failed transaction exists: %v", err)
	}
	err = update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.LinkLogin(ctx, store.Login{PoolID: p.ID, Provider: "graph.facebook.com", Subject: "fb-1", IdentityID: a.ID})
	})
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("LinkLogin(linked) error = %v, want ErrExists", err)
	}
	err = update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.LinkLogin(ctx, store.Login{PoolID: p.ID, Provider: "x", Subject: "y", IdentityID: identityID(77)})
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LinkLogin(missing identity) error = %v, want ErrNotFound", err)
	}
	// The same provider user in another pool is another login.
	p2 := newPool(2, "123456789012", "us-east-1")
	insert(t, s, p2)
	c := newIdentity(p2, 3, "graph.facebook.com", "fb-1")
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertIdentity(ctx, c) }); err != nil {
		t.Errorf("same login in another pool: %v", err)
	}
}

func testIdentityRelinkUnlink(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := withPool(t, s)
	a := newIdentity(p, 1, "graph.facebook.com", "fb-1", "login.dev", "u1")
	b := newIdentity(p, 2)
	err := update(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertIdentity(ctx, a); err != nil {
			return err
		}
		return tx.InsertIdentity(ctx, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RelinkLogin(ctx, store.Login{PoolID: p.ID, Provider: "graph.facebook.com", Subject: "fb-1", IdentityID: b.ID})
	})
	if err != nil {
		t.Fatalf("RelinkLogin: %v", err)
	}
	if got := loginsOf(mustIdentity(t, s, a.ID)); got != "login.dev=u1;" {
		t.Errorf("logins of a after relink = %s", got)
	}
	if got := loginsOf(mustIdentity(t, s, b.ID)); got != "graph.facebook.com=fb-1;" {
		t.Errorf("logins of b after relink = %s", got)
	}
	err = update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RelinkLogin(ctx, store.Login{PoolID: p.ID, Provider: "graph.facebook.com", Subject: "nobody", IdentityID: b.ID})
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RelinkLogin(unlinked) error = %v, want ErrNotFound", err)
	}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UnlinkLogin(ctx, p.ID, "login.dev", "u1") }); err != nil {
		t.Fatalf("UnlinkLogin: %v", err)
	}
	if _, err := s.FindLogin(ctx, p.ID, "login.dev", "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindLogin after unlink error = %v", err)
	}
	err = update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UnlinkLogin(ctx, p.ID, "login.dev", "u1") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second UnlinkLogin error = %v, want ErrNotFound", err)
	}
}

func testIdentityUpdateDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := withPool(t, s)
	a := newIdentity(p, 1, "graph.facebook.com", "fb-1")
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertIdentity(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	a.Disabled = true
	a.UpdatedAt = base.Add(time.Hour)
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateIdentity(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	got := mustIdentity(t, s, a.ID)
	if !got.Disabled || !got.UpdatedAt.Equal(a.UpdatedAt) || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("after UpdateIdentity: %+v", got)
	}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteIdentity(ctx, a.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIdentity(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIdentity after delete error = %v", err)
	}
	if _, err := s.FindLogin(ctx, p.ID, "graph.facebook.com", "fb-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("login of a deleted identity still linked: %v", err)
	}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteIdentity(ctx, a.ID) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteIdentity error = %v", err)
	}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateIdentity(ctx, a) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateIdentity(deleted) error = %v", err)
	}
}

func testIdentityPoolDeleteCascades(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := withPool(t, s)
	a := newIdentity(p, 1, "graph.facebook.com", "fb-1")
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertIdentity(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeletePool(ctx, p.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIdentity(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("identity of a deleted pool: %v", err)
	}
	if _, err := s.FindLogin(ctx, p.ID, "graph.facebook.com", "fb-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("login of a deleted pool: %v", err)
	}
	// The pool id can be reused with a clean slate.
	insert(t, s, newPool(1, "123456789012", "us-east-1"))
	if ids, err := s.ListIdentities(ctx, p.ID, nil, 10, false); err != nil || len(ids) != 0 {
		t.Errorf("identities of a re-created pool: %d, %v", len(ids), err)
	}
}

func testIdentityList(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := withPool(t, s)
	var all []string
	err := update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, n := range []int{5, 3, 1, 4, 2} {
			id := newIdentity(p, n, "login.dev", fmt.Sprint("u", n))
			id.Disabled = n%2 == 0
			if err := tx.InsertIdentity(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 5; n++ {
		all = append(all, identityID(n))
	}
	got, err := s.ListIdentities(ctx, p.ID, nil, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, id := range got {
		gotIDs = append(gotIDs, id.ID)
		if len(id.Logins) != 1 {
			t.Errorf("identity %s listed with %d logins, want 1", id.ID, len(id.Logins))
		}
	}
	if fmt.Sprint(gotIDs) != fmt.Sprint(all) {
		t.Errorf("ListIdentities = %v, want %v", gotIDs, all)
	}
	page, err := s.ListIdentities(ctx, p.ID, &store.IdentityCursor{CreatedAt: got[1].CreatedAt, ID: got[1].ID}, 2, false)
	if err != nil || len(page) != 2 || page[0].ID != all[2] || page[1].ID != all[3] {
		t.Errorf("ListIdentities after 2nd, limit 2 = %v, %v", page, err)
	}
	enabled, err := s.ListIdentities(ctx, p.ID, nil, 10, true)
	if err != nil || len(enabled) != 3 {
		t.Errorf("ListIdentities(hideDisabled) returned %d, %v; want 3", len(enabled), err)
	}
	for _, id := range enabled {
		if id.Disabled {
			t.Errorf("hideDisabled listed disabled %s", id.ID)
		}
	}
}

// testConcurrentFindOrCreate has many requests resolve the same new login
// at once: find it, else create an identity holding it; on ErrExists, look
// again. Exactly one identity may come out, and everyone gets it.
func testConcurrentFindOrCreate(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := withPool(t, s)
	const callers = 100
	results := make([]string, callers)
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempt := 0; attempt < 10; attempt++ {
				var got string
				err := s.Update(ctx, func(tx store.Tx) error {
					id, err := tx.FindLogin(ctx, p.ID, "graph.facebook.com", "same-user")
					if err == nil {
						got = id
						return nil
					}
					if !errors.Is(err, store.ErrNotFound) {
						return err
					}
					ident := newIdentity(p, 1000+i, "graph.facebook.com", "same-user")
					got = ident.ID
					return tx.InsertIdentity(ctx, ident)
				})
				if errors.Is(err, store.ErrExists) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = got
				return
			}
			t.Errorf("caller %d never resolved the login", i)
		}()
	}
	wg.Wait()
	ids, err := s.ListIdentities(ctx, p.ID, nil, callers+1, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Fatalf("%d identities created for one login, want 1", len(ids))
	}
	for i, r := range results {
		if r != ids[0].ID {
			t.Errorf("caller %d got %q, want %s", i, r, ids[0].ID)
		}
	}
}

// testConcurrentMerges moves logins between identities from many
// goroutines at once, each move a read-check-write transaction: no login is
// lost or duplicated, and each ends up exactly where the last move put it.
func testConcurrentMerges(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := withPool(t, s)
	const identities, loginsEach = 8, 3
	err := update(t, s, func(ctx context.Context, tx store.Tx) error {
		for n := 0; n < identities; n++ {
			var logins []string
			for k := 0; k < loginsEach; k++ {
				logins = append(logins, fmt.Sprintf("provider%d", k), fmt.Sprintf("user-%d-%d", n, k))
			}
			if err := tx.InsertIdentity(ctx, newIdentity(p, n, logins...)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Merge every identity into identity 0, concurrently, pairwise chains.
	var wg sync.WaitGroup
	for n := 1; n < identities; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(ctx, func(tx store.Tx) error {
				from, err := tx.GetIdentity(ctx, identityID(n))
				if err != nil {
					return err
				}
				for _, l := range from.Logins {
					l.IdentityID = identityID(0)
					if err := tx.RelinkLogin(ctx, l); err != nil {
						return err
					}
				}
				from.Disabled = true
				return tx.UpdateIdentity(ctx, from)
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	survivor := mustIdentity(t, s, identityID(0))
	if len(survivor.Logins) != identities*loginsEach {
		t.Errorf("survivor holds %d logins, want %d", len(survivor.Logins), identities*loginsEach)
	}
	for n := 1; n < identities; n++ {
		got := mustIdentity(t, s, identityID(n))
		if !got.Disabled || len(got.Logins) != 0 {
			t.Errorf("merged identity %d: disabled %v, %d logins", n, got.Disabled, len(got.Logins))
		}
	}
}

// testCreateIdentity stores guests concurrently (the SQLite backend batches
// them into one statement): all arrive, a taken id fails alone, a missing
// pool is ErrNotFound.
func testCreateIdentity(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := withPool(t, s)
	taken := newIdentity(p, 0)
	if err := s.CreateIdentity(ctx, taken); err != nil {
		t.Fatal(err)
	}
	const guests = 64
	errs := make([]error, guests+2)
	var wg sync.WaitGroup
	for i := 0; i < guests; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateIdentity(ctx, newIdentity(p, i+1))
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs[guests] = s.CreateIdentity(ctx, newIdentity(p, 0)) // the taken id
	}()
	go func() {
		defer wg.Done()
		errs[guests+1] = s.CreateIdentity(ctx, newIdentity(&store.Pool{ID: "us-east-1:99999999-0000-4000-8000-000000000000"}, 999))
	}()
	wg.Wait()
	for i := 0; i < guests; i++ {
		if errs[i] != nil {
			t.Errorf("guest %d: %v", i+1, errs[i])
		}
	}
	if !errors.Is(errs[guests], store.ErrExists) {
		t.Errorf("taken id: %v, want ErrExists", errs[guests])
	}
	if !errors.Is(errs[guests+1], store.ErrNotFound) {
		t.Errorf("missing pool: %v, want ErrNotFound", errs[guests+1])
	}
	ids, err := s.ListIdentities(ctx, p.ID, nil, 1000, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != guests+1 {
		t.Errorf("%d identities stored, want %d", len(ids), guests+1)
	}
	for _, id := range ids {
		if len(id.Logins) != 0 || id.Disabled {
			t.Errorf("guest %s stored with logins %v, disabled %v", id.ID, id.Logins, id.Disabled)
		}
	}
}
