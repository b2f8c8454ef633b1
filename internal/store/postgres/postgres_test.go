package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/store/storetest"
	"github.com/idpool/idpool/internal/testpg"
)

func TestConformance(t *testing.T) {
	dsn := testpg.DSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), testpg.Schema(t, dsn), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestMigrationsTogether opens one database from several replicas at once:
// the migrations run once and every replica ends up usable.
func TestMigrationsTogether(t *testing.T) {
	dsn := testpg.Schema(t, testpg.DSN(t))
	errs := make(chan error, 4)
	stores := make(chan *postgres.Store, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			errs <- err
			stores <- s
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		s := <-stores
		if _, err := s.CountPools(context.Background(), "123456789012", "us-east-1"); err != nil {
			t.Error(err)
		}
		s.Close()
	}
}

// TestConformanceWithCache runs the conformance suite with the read cache
// on: within one store, every acknowledged write is seen at once.
func TestConformanceWithCache(t *testing.T) {
	dsn := testpg.DSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), testpg.Schema(t, dsn), postgres.Options{CacheTTL: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestCacheExactAcrossReplicas: replica B caches an identity and its
// logins; replica A changes them; as soon as A's Update returns (the write
// is acknowledged), B reads the change, for every kind of change. A's
// Update waits out the cache's time to live before it returns; without
// that wait B would serve what it cached.
func TestCacheExactAcrossReplicas(t *testing.T) {
	dsn := testpg.Schema(t, testpg.DSN(t))
	const ttl = 300 * time.Millisecond
	open := func() *postgres.Store {
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{CacheTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pool := &store.Pool{ID: "us-east-1:00000000-0000-4000-8000-00000000cafe", Account: "123456789012", Region: "us-east-1", CreatedAt: now, UpdatedAt: now}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, pool) }))
	ident := func(n int, subjects ...string) *store.Identity {
		id := &store.Identity{ID: fmt.Sprintf("us-east-1:00000000-0000-4000-8000-%012d", n), PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}
		for _, s := range subjects {
			id.Logins = append(id.Logins, store.Login{PoolID: pool.ID, Provider: "graph.facebook.com", Subject: s, IdentityID: id.ID})
		}
		return id
	}
	x, y := ident(1, "u1"), ident(2, "u2")
	began := time.Now()
	must(a.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertIdentity(ctx, x); err != nil {
			return err
		}
		return tx.InsertIdentity(ctx, y)
	}))
	if d := time.Since(began); d >= ttl {
		t.Errorf("inserting new identities waited %v: they change nothing a replica cached", d)
	}
	// warm caches B's view of both identities and of the logins.
	warm := func() {
		t.Helper()
		for _, id := range []string{x.ID, y.ID} {
			if _, err := b.GetIdentity(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
		}
		for _, s := range []string{"u1", "u2", "u3"} {
			if _, err := b.FindLogin(ctx, pool.ID, "graph.facebook.com", s); err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
		}
	}
	// change runs fn on A and checks that it waited out the time to live.
	change := func(fn func(tx store.Tx) error) {
		t.Helper()
		warm()
		began := time.Now()
		must(a.Update(ctx, fn))
		if d := time.Since(began); d < ttl {
			t.Errorf("an acknowledged change of identities returned after %v, before the cache's %v", d, ttl)
		}
	}
	holder := func(subject string) string {
		t.Helper()
		id, err := b.FindLogin(ctx, pool.ID, "graph.facebook.com", subject)
		if errors.Is(err, store.ErrNotFound) {
			return ""
		}
		must(err)
		return id
	}
	logins := func(id string) []string {
		t.Helper()
		got, err := b.GetIdentity(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		must(err)
		var out []string
		for _, l := range got.Logins {
			out = append(out, l.Subject)
		}
		if got.Disabled {
			out = append(out, "(disabled)")
		}
		return out
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s on B right after A's change: %v, want %v", what, got, want)
		}
	}

	// A link to an existing identity.
	change(func(tx store.Tx) error {
		return tx.LinkLogin(ctx, store.Login{PoolID: pool.ID, Provider: "graph.facebook.com", Subject: "u3", IdentityID: x.ID})
	})
	check("x's logins after a link", logins(x.ID), []string{"u1", "u3"})
	check("u3's holder after a link", holder("u3"), x.ID)

	// A merge: y's login moves to x, y is disabled.
	change(func(tx store.Tx) error {
		if err := tx.RelinkLogin(ctx, store.Login{PoolID: pool.ID, Provider: "graph.facebook.com", Subject: "u2", IdentityID: x.ID}); err != nil {
			return err
		}
		y.Disabled, y.UpdatedAt = true, now.Add(time.Second)
		return tx.UpdateIdentity(ctx, y)
	})
	check("u2's holder after a merge", holder("u2"), x.ID)
	check("y after a merge", logins(y.ID), []string{"(disabled)"})

	// An unlink.
	change(func(tx store.Tx) error { return tx.UnlinkLogin(ctx, pool.ID, "graph.facebook.com", "u1") })
	check("u1's holder after an unlink", holder("u1"), "")
	check("x's logins after an unlink", logins(x.ID), []string{"u2", "u3"})

	// A deleted identity.
	change(func(tx store.Tx) error { return tx.DeleteIdentity(ctx, x.ID) })
	check("x after its deletion", logins(x.ID), []string(nil))
	check("u3's holder after its identity's deletion", holder("u3"), "")

	// A deleted pool takes y with it.
	change(func(tx store.Tx) error { return tx.DeletePool(ctx, pool.ID) })
	check("y after its pool's deletion", logins(y.ID), []string(nil))
}
