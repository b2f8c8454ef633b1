package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// openCacheTest opens a store in a temporary directory, closed at the end
// of the test, and returns the pool the test creates first.
func openCacheTest(t *testing.T) (*Store, *store.Pool, time.Time) {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Unix(1700000000, 0).UTC()
	pool := &store.Pool{ID: "us-east-1:00000000-0000-4000-8000-000000000001", Account: "123456789012", Region: "us-east-1", Name: "p", CreatedAt: now, UpdatedAt: now}
	return s, pool, now
}

// TestReadCacheIsExact reads through the cache, changes what was read,
// and reads again: every acknowledged change shows at once, guest inserts
// keep what is cached, and callers cannot change the cached copies.
func TestReadCacheIsExact(t *testing.T) {
	ctx := context.Background()
	s, pool, now := openCacheTest(t)
	a := &store.Identity{ID: "us-east-1:00000000-0000-4000-8000-00000000000a", PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}
	b := &store.Identity{ID: "us-east-1:00000000-0000-4000-8000-00000000000b", PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}
	fb := store.Login{PoolID: pool.ID, Provider: "graph.facebook.com", Subject: "u1"}
	update := func(fn func(tx store.Tx) error) {
		t.Helper()
		if err := s.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx store.Tx) error {
		if err := tx.InsertPool(ctx, pool); err != nil {
			return err
		}
		a.Logins = []store.Login{fb}
		if err := tx.InsertIdentity(ctx, a); err != nil {
			return err
		}
		return tx.InsertIdentity(ctx, b)
	})
	owner := func(want string) {
		t.Helper()
		got, err := s.FindLogin(ctx, fb.PoolID, fb.Provider, fb.Subject)
		if want == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("FindLogin = %q, %v; want not found", got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("FindLogin = %q, %v; want %q", got, err, want)
		}
	}
	logins := func(id string, want int) *store.Identity {
		t.Helper()
		got, err := s.GetIdentity(ctx, id)
		if err != nil || len(got.Logins) != want {
			t.Fatalf("GetIdentity(%s) = %+v, %v; want %d logins", id, got, err, want)
		}
		return got
	}

	// Twice each: the second read is served by the cache.
	owner(a.ID)
	owner(a.ID)
	logins(a.ID, 1).Logins[0].Subject = "changed by a caller"
	if got := logins(a.ID, 1); got.Logins[0].Subject != "u1" {
		t.Fatalf("a caller changed the cached identity: %+v", got)
	}

	gen := s.cache.Generation()
	if err := s.CreateIdentity(ctx, &store.Identity{ID: "us-east-1:00000000-0000-4000-8000-00000000000c", PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if s.cache.Generation() != gen {
		t.Error("a guest insert emptied the cache")
	}

	// Move the login from a to b: both reads change as soon as Update returns.
	update(func(tx store.Tx) error {
		return tx.RelinkLogin(ctx, store.Login{PoolID: pool.ID, Provider: fb.Provider, Subject: fb.Subject, IdentityID: b.ID})
	})
	owner(b.ID)
	logins(a.ID, 0)
	logins(b.ID, 1)

	update(func(tx store.Tx) error { return tx.UnlinkLogin(ctx, fb.PoolID, fb.Provider, fb.Subject) })
	owner("")
	logins(b.ID, 0)

	update(func(tx store.Tx) error { return tx.DeleteIdentity(ctx, b.ID) })
	if _, err := s.GetIdentity(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetIdentity of a deleted identity: %v, want not found", err)
	}

	// A failed write changes nothing and the cache may keep serving.
	logins(a.ID, 0)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertIdentity(ctx, a) }); !errors.Is(err, store.ErrExists) {
		t.Fatalf("inserting a taken id: %v, want ErrExists", err)
	}
	logins(a.ID, 0)
}

// TestReadCacheUnderConcurrentReads moves a login back and forth while
// other goroutines keep reading it (and so keep filling the cache with
// what they read, possibly just before a move): after each move is
// acknowledged, a read must show it.
func TestReadCacheUnderConcurrentReads(t *testing.T) {
	ctx := context.Background()
	s, pool, now := openCacheTest(t)
	ids := []string{"us-east-1:00000000-0000-4000-8000-00000000000a", "us-east-1:00000000-0000-4000-8000-00000000000b"}
	l := store.Login{PoolID: pool.ID, Provider: "graph.facebook.com", Subject: "u1"}
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertPool(ctx, pool); err != nil {
			return err
		}
		for i, id := range ids {
			ident := &store.Identity{ID: id, PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}
			if i == 0 {
				ident.Logins = []store.Login{l}
			}
			if err := tx.InsertIdentity(ctx, ident); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.FindLogin(ctx, l.PoolID, l.Provider, l.Subject)
				s.GetIdentity(ctx, ids[0])
			}
		}()
	}
	for i := range 200 {
		to := ids[(i+1)%2]
		moved := l
		moved.IdentityID = to
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.RelinkLogin(ctx, moved) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.FindLogin(ctx, l.PoolID, l.Provider, l.Subject); err != nil || got != to {
			t.Fatalf("move %d: FindLogin = %q, %v; want %q", i, got, err, to)
		}
		want := 0
		if to == ids[0] {
			want = 1
		}
		if got, err := s.GetIdentity(ctx, ids[0]); err != nil || len(got.Logins) != want {
			t.Fatalf("move %d: GetIdentity = %+v, %v; want %d logins", i, got, err, want)
		}
	}
	close(stop)
	for range 4 {
		<-done
	}
}
