package memory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
	"github.com/idpool/idpool/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}

var base = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func poolID(n int) string     { return fmt.Sprintf("us-east-1:00000000-0000-4000-8000-%012d", n) }
func identityID(n int) string { return fmt.Sprintf("us-east-1:11111111-0000-4000-8000-%012d", n) }

func newPool(n int) *store.Pool {
	check := true
	return &store.Pool{
		ID: poolID(n), Account: "123456789012", Region: "us-east-1", Name: fmt.Sprint("pool ", n),
		SupportedLoginProviders:  map[string]string{"graph.facebook.com": "1"},
		CognitoIdentityProviders: []store.CognitoProvider{{ProviderName: "cip", ClientID: "c", ServerSideTokenCheck: &check}},
		Tags:                     map[string]string{"team": "a"},
		RoleMappings: map[string]store.RoleMapping{"cip": {Type: "Rules",
			RulesConfiguration: &store.RulesConfiguration{Rules: []store.MappingRule{{Claim: "c", MatchType: "Equals", Value: "v", RoleARN: "arn:r"}}}}},
		CreatedAt: base.Add(time.Duration(n) * time.Second),
		UpdatedAt: base.Add(time.Duration(n) * time.Second),
	}
}

func newIdentity(pool string, n int, logins ...string) *store.Identity {
	id := &store.Identity{
		ID: identityID(n), PoolID: pool,
		CreatedAt: base.Add(time.Duration(n) * time.Millisecond),
		UpdatedAt: base.Add(time.Duration(n) * time.Millisecond),
	}
	for i := 0; i+1 < len(logins); i += 2 {
		id.Logins = append(id.Logins, store.Login{PoolID: pool, Provider: logins[i], Subject: logins[i+1], IdentityID: id.ID})
	}
	return id
}

func mustUpdate(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

// dump reads everything a store holds about the given pools, identities
// and keys, as text to compare.
func dump(t *testing.T, r store.Reader, pools []string, identities []string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	line := func(what string, v any, err error) {
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s: %s %s\n", what, j, errClass(err))
	}
	ps, err := r.ListPools(ctx, "", "", nil, 1000)
	line("pools", ps, err)
	for _, id := range pools {
		p, err := r.GetPool(ctx, id)
		line("pool "+id, p, err)
		ids, err := r.ListIdentities(ctx, id, nil, 1_000_000, false)
		line("identities of "+id, listed(ids), err)
		for _, listed := range ids {
			ident, err := r.GetIdentity(ctx, listed.ID)
			if err != nil {
				t.Fatalf("listed identity %s: %v", listed.ID, err)
			}
			for _, l := range ident.Logins {
				holder, err := r.FindLogin(ctx, l.PoolID, l.Provider, l.Subject)
				line("login "+l.Provider+"/"+l.Subject, holder, err)
			}
		}
	}
	for _, id := range identities {
		ident, err := r.GetIdentity(ctx, id)
		line("identity "+id, ident, err)
	}
	keys, err := r.ListSigningKeys(ctx)
	line("keys", keys, err)
	return b.String()
}

func errClass(err error) string {
	for _, e := range []error{store.ErrNotFound, store.ErrExists, store.ErrConflict, store.ErrUnavailable} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

// TestRecordsAreCopies: changing a record given to the store, or one it
// returned, changes nothing stored.
func TestRecordsAreCopies(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()
	p := newPool(1)
	ident := newIdentity(p.ID, 1, "graph.facebook.com", "u1", "login.dev", "u2")
	retires := base.Add(time.Hour)
	key := &store.SigningKey{ID: "k1", Sealed: []byte{1, 2, 3}, CreatedAt: base, RetiresAt: &retires}
	mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertPool(ctx, p); err != nil {
			return err
		}
		if err := tx.InsertIdentity(ctx, ident); err != nil {
			return err
		}
		return tx.InsertSigningKey(ctx, key)
	})
	pools, idents := []string{p.ID}, []string{ident.ID}
	before := dump(t, s, pools, idents)

	// The records given to the store.
	p.Name, p.Tags["team"], p.CognitoIdentityProviders[0].ClientID = "x", "x", "x"
	*p.CognitoIdentityProviders[0].ServerSideTokenCheck = false
	p.RoleMappings["cip"].RulesConfiguration.Rules[0].Value = "x"
	ident.Logins[0].Subject, ident.Disabled = "x", true
	key.Sealed[0], *key.RetiresAt = 9, base
	// The records it returned.
	mutatePool := func(q *store.Pool) {
		q.Name, q.Version = "y", 99
		q.Tags["team"] = "y"
		q.SupportedLoginProviders["new"] = "y"
		*q.CognitoIdentityProviders[0].ServerSideTokenCheck = false
		q.RoleMappings["cip"].RulesConfiguration.Rules[0].Value = "y"
	}
	got, err := s.GetPool(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	mutatePool(got)
	list, _ := s.ListPools(ctx, "", "", nil, 10)
	mutatePool(list[0])
	gi, _ := s.GetIdentity(ctx, ident.ID)
	gi.Logins[0].Subject, gi.Logins = "y", gi.Logins[:1]
	li, _ := s.ListIdentities(ctx, p.ID, nil, 10, false)
	li[0].Logins[1].Provider, li[0].Disabled = "y", true
	keys, _ := s.ListSigningKeys(ctx)
	keys[0].Sealed[1], *keys[0].RetiresAt = 9, base
	// And the records a transaction read.
	mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error {
		q, err := tx.GetPool(ctx, p.ID)
		if err != nil {
			return err
		}
		mutatePool(q)
		i, err := tx.GetIdentity(ctx, ident.ID)
		if err != nil {
			return err
		}
		i.Logins[0].Subject = "z"
		return nil
	})

	if after := dump(t, s, pools, idents); after != before {
		t.Errorf("stored records changed through copies:\nbefore %s\nafter  %s", before, after)
	}
}

// TestRollbackLeavesNothing runs a transaction that changes every kind of
// record, reading its own writes, then fails (or panics): the store reads
// exactly as before.
func TestRollbackLeavesNothing(t *testing.T) {
	for _, how := range []string{"error", "panic"} {
		t.Run(how, func(t *testing.T) {
			s := memory.New()
			defer s.Close()
			p1, p2 := newPool(1), newPool(2)
			mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error {
				for _, p := range []*store.Pool{p1, p2} {
					if err := tx.InsertPool(ctx, p); err != nil {
						return err
					}
				}
				for n := 1; n <= 4; n++ {
					if err := tx.InsertIdentity(ctx, newIdentity(poolID(1+n%2), n, "login.dev", fmt.Sprint("u", n))); err != nil {
						return err
					}
				}
				return tx.InsertSigningKey(ctx, &store.SigningKey{ID: "k1", Sealed: []byte{1}, CreatedAt: base})
			})
			pools := []string{poolID(1), poolID(2), poolID(3)}
			var idents []string
			for n := 1; n <= 6; n++ {
				idents = append(idents, identityID(n))
			}
			before := dump(t, s, pools, idents)

			boom := errors.New("boom")
			steps := []func(ctx context.Context, tx store.Tx) error{
				func(ctx context.Context, tx store.Tx) error { return tx.InsertPool(ctx, newPool(3)) },
				func(ctx context.Context, tx store.Tx) error {
					p1.Name = "renamed"
					return tx.UpdatePool(ctx, p1)
				},
				func(ctx context.Context, tx store.Tx) error {
					return tx.InsertIdentity(ctx, newIdentity(poolID(3), 5, "login.dev", "u5"))
				},
				func(ctx context.Context, tx store.Tx) error {
					return tx.RelinkLogin(ctx, store.Login{PoolID: poolID(2), Provider: "login.dev", Subject: "u1", IdentityID: identityID(3)})
				},
				func(ctx context.Context, tx store.Tx) error { return tx.UnlinkLogin(ctx, poolID(1), "login.dev", "u2") },
				func(ctx context.Context, tx store.Tx) error {
					return tx.LinkLogin(ctx, store.Login{PoolID: poolID(1), Provider: "x", Subject: "y", IdentityID: identityID(2)})
				},
				func(ctx context.Context, tx store.Tx) error {
					return tx.UpdateIdentity(ctx, &store.Identity{ID: identityID(4), Disabled: true, UpdatedAt: base.Add(time.Hour)})
				},
				func(ctx context.Context, tx store.Tx) error { return tx.DeleteIdentity(ctx, identityID(4)) },
				func(ctx context.Context, tx store.Tx) error { return tx.DeletePool(ctx, poolID(2)) },
				func(ctx context.Context, tx store.Tx) error { return tx.InsertPool(ctx, newPool(2)) },
				func(ctx context.Context, tx store.Tx) error { return tx.InsertIdentity(ctx, newIdentity(poolID(2), 6)) },
				func(ctx context.Context, tx store.Tx) error { return tx.RetireSigningKey(ctx, "k1", base) },
				func(ctx context.Context, tx store.Tx) error {
					return tx.InsertSigningKey(ctx, &store.SigningKey{ID: "k2", Sealed: []byte{2}, CreatedAt: base})
				},
				func(ctx context.Context, tx store.Tx) error { return tx.DeleteSigningKey(ctx, "k1") },
			}
			var inside string
			err := func() (err error) {
				if how == "panic" {
					defer func() {
						if r := recover(); r != nil {
							err = fmt.Errorf("panicked: %v", r)
						}
					}()
				}
				return s.Update(context.Background(), func(tx store.Tx) error {
					for i, step := range steps {
						if err := step(context.Background(), tx); err != nil {
							return fmt.Errorf("step %d: %w", i, err)
						}
					}
					inside = dump(t, tx, pools, idents)
					if how == "panic" {
						panic(boom)
					}
					return boom
				})
			}()
			if err == nil || (how == "error" && !errors.Is(err, boom)) {
				t.Fatalf("Update = %v, want the function's failure", err)
			}
			if inside == before {
				t.Fatal("the transaction did not see its own writes")
			}
			for _, want := range []string{`"Name":"renamed"`, identityID(5) + `","PoolID":"` + poolID(3), `"x","Subject":"y"`} {
				if !strings.Contains(inside, want) {
					t.Errorf("inside the transaction, %s is not visible:\n%s", want, inside)
				}
			}
			if after := dump(t, s, pools, idents); after != before {
				t.Errorf("a rolled-back transaction changed the store:\nbefore %s\nafter  %s", before, after)
			}
			if p1.Version != 1 {
				t.Errorf("rolled-back UpdatePool set Version %d", p1.Version)
			}
			// The store still works.
			mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeletePool(ctx, poolID(2)) })
		})
	}
}

// TestConcurrentUpdatesAndReads has writers create identities with
// logins, disable them and move logins while readers page through the
// pool and follow logins (run with -race). Readers see only committed
// states: an identity's logins always lead back to it, and pages are in
// order.
func TestConcurrentUpdatesAndReads(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()
	p := newPool(1)
	mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertPool(ctx, p) })
	const writers, perWriter, readers = 8, 50, 2
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				n := w*perWriter + i
				// A logins-bearing identity, in its own transaction...
				id := newIdentity(p.ID, n, "login.dev", fmt.Sprint("u", n), "graph.facebook.com", fmt.Sprint("f", n))
				if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertIdentity(ctx, id) }); err != nil {
					t.Error(err)
					return
				}
				// ...a guest...
				if err := s.CreateIdentity(ctx, newIdentity(p.ID, 1_000_000+n)); err != nil {
					t.Error(err)
					return
				}
				// ...and a merge of the previous identity into this one,
				// reading through the store from inside the transaction.
				if i == 0 {
					continue
				}
				err := s.Update(ctx, func(tx store.Tx) error {
					if _, err := s.GetPool(ctx, p.ID); err != nil {
						return err
					}
					from, err := tx.GetIdentity(ctx, identityID(n-1))
					if err != nil {
						return err
					}
					for _, l := range from.Logins {
						l.IdentityID = id.ID
						if err := tx.RelinkLogin(ctx, l); err != nil {
							return err
						}
					}
					from.Disabled = true
					return tx.UpdateIdentity(ctx, from)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var rwg sync.WaitGroup
	for range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for passes := 0; ; passes++ {
				select {
				case <-stop:
					if passes < 2 {
						t.Errorf("a reader finished %d passes while the writers ran", passes)
					}
					return
				default:
				}
				var cursor *store.IdentityCursor
				var last *store.Identity
				for {
					page, err := s.ListIdentities(ctx, p.ID, cursor, 97, false)
					if err != nil {
						t.Error(err)
						return
					}
					for _, id := range page {
						if last != nil && !(last.CreatedAt.Before(id.CreatedAt) || last.CreatedAt.Equal(id.CreatedAt) && last.ID < id.ID) {
							t.Errorf("out of order: %s after %s", id.ID, last.ID)
						}
						last = id
						if id.Disabled && len(id.Logins) != 0 {
							t.Errorf("disabled %s holds %d logins: a merge was seen half done", id.ID, len(id.Logins))
						}
						for _, l := range id.Logins {
							holder, err := s.FindLogin(ctx, l.PoolID, l.Provider, l.Subject)
							if err != nil && !errors.Is(err, store.ErrNotFound) {
								t.Error(err)
							}
							_ = holder // it may have moved on since the page was read
						}
					}
					if len(page) < 97 {
						break
					}
					// Readers that never yield would keep the writers, woken
					// from the lock, waiting for a time slice on a small
					// machine.
					runtime.Gosched()
					cursor = &store.IdentityCursor{CreatedAt: last.CreatedAt, ID: last.ID}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()

	all, err := s.ListIdentities(ctx, p.ID, nil, 1_000_000, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*writers*perWriter {
		t.Fatalf("%d identities, want %d", len(all), 2*writers*perWriter)
	}
	enabled, _ := s.ListIdentities(ctx, p.ID, nil, 1_000_000, true)
	// Each writer leaves its last logins-bearing identity enabled, holding
	// all of its 2*perWriter logins, plus perWriter guests.
	if len(enabled) != writers+writers*perWriter {
		t.Errorf("%d enabled identities, want %d", len(enabled), writers+writers*perWriter)
	}
	for w := range writers {
		last, err := s.GetIdentity(ctx, identityID(w*perWriter+perWriter-1))
		if err != nil {
			t.Fatal(err)
		}
		if len(last.Logins) != 2*perWriter {
			t.Errorf("writer %d's survivor holds %d logins, want %d", w, len(last.Logins), 2*perWriter)
		}
	}
}

// TestClose: Close waits for the running transaction, later calls fail,
// and a second Close is harmless.
func TestClose(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	mustUpdate(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertPool(ctx, newPool(1)) })
	inside, release := make(chan struct{}), make(chan struct{})
	updated := make(chan error)
	go func() {
		updated <- s.Update(ctx, func(tx store.Tx) error {
			close(inside)
			<-release
			return tx.InsertPool(ctx, newPool(2))
		})
	}()
	<-inside
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	close(release)
	if err := <-updated; err != nil {
		t.Fatalf("the Update running at Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPool(ctx, poolID(1)); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("GetPool after Close = %v, want ErrClosed", err)
	}
	if err := s.Update(ctx, func(store.Tx) error { return nil }); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping after Close = %v, want ErrUnavailable", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestUpdateWaitsWithContext: an Update waiting for another one gives up
// when its context ends.
func TestUpdateWaitsWithContext(t *testing.T) {
	s := memory.New()
	defer s.Close()
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Update(context.Background(), func(store.Tx) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Update(ctx, func(store.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context = %v", err)
	}
	close(release)
	<-done
}
