package memory_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
)

// TestListIdentitiesPaging pages through 10,000 identities created out of
// order (some at the same instant, some disabled), outside and inside a
// transaction that adds, moves and deletes some of them.
func TestListIdentitiesPaging(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()
	p := newPool(1)
	mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertPool(ctx, p); err != nil {
			return err
		}
		// Another pool's identities are not listed.
		if err := tx.InsertPool(ctx, newPool(2)); err != nil {
			return err
		}
		return tx.InsertIdentity(ctx, newIdentity(poolID(2), 99_999))
	})
	const total = 10_000
	rng := rand.New(rand.NewPCG(7, 7))
	order := rng.Perm(total)
	mk := func(n int) *store.Identity {
		id := newIdentity(p.ID, n)
		// Groups of four share an instant: ties go by id.
		id.CreatedAt = base.Add(time.Duration(n/4) * time.Microsecond)
		id.Disabled = n%5 == 0
		return id
	}
	for i := 0; i < total; i += 500 {
		mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, n := range order[i : i+500] {
				if err := tx.InsertIdentity(ctx, mk(n)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	want := func(ns []int, hideDisabled bool) []string {
		var out []string
		for _, n := range ns {
			if !hideDisabled || n%5 != 0 {
				out = append(out, identityID(n))
			}
		}
		return out
	}
	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	for _, limit := range []int{1, 7, 60, 1000, total + 1} {
		for _, hide := range []bool{false, true} {
			got := pageAll(t, s, p.ID, limit, hide)
			if !slices.Equal(got, want(all, hide)) {
				t.Errorf("limit %d hideDisabled %v: %d ids, want %d (or out of order)", limit, hide, len(got), len(want(all, hide)))
			}
		}
	}

	// Inside a transaction: delete every third, move (delete and insert
	// again at another time) one in 50, and add new ones between and after.
	expect := map[int]time.Time{}
	for n := range total {
		expect[n] = mk(n).CreatedAt
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		for n := 0; n < total; n += 3 {
			if err := tx.DeleteIdentity(ctx, identityID(n)); err != nil {
				return err
			}
			delete(expect, n)
		}
		for n := 1; n < total; n += 50 {
			if n%3 == 0 {
				continue
			}
			if err := tx.DeleteIdentity(ctx, identityID(n)); err != nil {
				return err
			}
			moved := mk(n)
			moved.CreatedAt = base.Add(time.Duration(total-n) * time.Microsecond / 4)
			if err := tx.InsertIdentity(ctx, moved); err != nil {
				return err
			}
			expect[n] = moved.CreatedAt
		}
		for n := total; n < total+300; n++ {
			id := mk(n)
			id.CreatedAt = base.Add(time.Duration(rng.IntN(total/4+100)) * time.Microsecond)
			if err := tx.InsertIdentity(ctx, id); err != nil {
				return err
			}
			expect[n] = id.CreatedAt
		}
		var ns []int
		for n := range expect {
			ns = append(ns, n)
		}
		slices.SortFunc(ns, func(a, b int) int {
			if c := expect[a].Compare(expect[b]); c != 0 {
				return c
			}
			return strings.Compare(identityID(a), identityID(b))
		})
		for _, limit := range []int{7, 60, 20_000} {
			for _, hide := range []bool{false, true} {
				if got := pageAll(t, tx, p.ID, limit, hide); !slices.Equal(got, want(ns, hide)) {
					t.Errorf("in the transaction, limit %d hideDisabled %v: %d ids, want %d (or out of order)", limit, hide, len(got), len(want(ns, hide)))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Committed, the store lists what the transaction listed.
	var ns []int
	for n := range expect {
		ns = append(ns, n)
	}
	slices.SortFunc(ns, func(a, b int) int {
		if c := expect[a].Compare(expect[b]); c != 0 {
			return c
		}
		return strings.Compare(identityID(a), identityID(b))
	})
	if got := pageAll(t, s, p.ID, 60, false); !slices.Equal(got, want(ns, false)) {
		t.Errorf("after commit: %d ids, want %d (or out of order)", len(got), len(ns))
	}
}

func pageAll(t *testing.T, r store.Reader, pool string, limit int, hideDisabled bool) []string {
	t.Helper()
	var out []string
	var cursor *store.IdentityCursor
	for {
		page, err := r.ListIdentities(context.Background(), pool, cursor, limit, hideDisabled)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range page {
			out = append(out, id.ID)
		}
		if len(page) < limit {
			return out
		}
		last := page[len(page)-1]
		cursor = &store.IdentityCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
}

// TestPoolRecreatedInTransaction: a transaction that deletes a pool,
// creates it again and inserts an identity under an old identity's id, at
// the same place, sees (and commits) a clean slate: the old identity's
// logins are gone, and the new identity is listed once.
func TestPoolRecreatedInTransaction(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()
	old := newIdentity(poolID(1), 1, "login.dev", "u1")
	mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertPool(ctx, newPool(1)); err != nil {
			return err
		}
		if err := tx.InsertIdentity(ctx, old); err != nil {
			return err
		}
		return tx.InsertIdentity(ctx, newIdentity(poolID(1), 2, "login.dev", "u2"))
	})
	check := func(r store.Reader, when string) {
		t.Helper()
		if _, err := r.FindLogin(ctx, poolID(1), "login.dev", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the old identity's login: %v, want ErrNotFound", when, err)
		}
		if _, err := r.FindLogin(ctx, poolID(1), "login.dev", "u2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the dropped identity's login: %v, want ErrNotFound", when, err)
		}
		got, err := r.GetIdentity(ctx, old.ID)
		if err != nil || len(got.Logins) != 0 {
			t.Errorf("%s: GetIdentity = %+v, %v; want the new one, without logins", when, got, err)
		}
		if _, err := r.GetIdentity(ctx, identityID(2)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the dropped identity: %v, want ErrNotFound", when, err)
		}
		for _, limit := range []int{1, 10} {
			if ids := pageAll(t, r, poolID(1), limit, false); !slices.Equal(ids, []string{old.ID}) {
				t.Errorf("%s: listed %v (limit %d), want only %s", when, ids, limit, old.ID)
			}
		}
	}
	mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeletePool(ctx, poolID(1)); err != nil {
			return err
		}
		if err := tx.InsertPool(ctx, newPool(1)); err != nil {
			return err
		}
		again := newIdentity(poolID(1), 1) // same id, same place, no logins
		if err := tx.InsertIdentity(ctx, again); err != nil {
			return err
		}
		check(tx, "in the transaction")
		return nil
	})
	check(s, "committed")
}
