package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// TestDurabilitySettings checks the settings every connection of the
// store ends up with, as SQLite reports them: a lowered synchronous or a
// journal other than the WAL would lose acknowledged writes on a power
// cut, and nothing else would notice. Every connection the store lists in
// connections() is checked, several of each pool.
func TestDurabilitySettings(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "idpool.db"))

	// Every connection: the commit is on disk before the caller hears of
	// it (synchronous FULL = 2), in the WAL, with foreign keys enforced,
	// waiting for locks instead of failing at once, and savepoint
	// journals in memory (temp_store MEMORY = 2).
	common := map[string]string{
		"synchronous":  "2",
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "10000",
		"temp_store":   "2",
	}
	roles := map[string]map[string]string{
		// The writer never checkpoints by itself (the checkpointer does).
		"writer":       {"wal_autocheckpoint": "0", "query_only": "0"},
		"checkpointer": {"wal_autocheckpoint": "0", "query_only": "0"},
		"reader":       {"query_only": "1"},
	}
	conns := s.connections()
	if len(conns) != len(roles) {
		t.Fatalf("the store has connections %v; this test knows %v: check the new ones' settings here", keys(conns), keys(roles))
	}
	for role, db := range conns {
		want, ok := roles[role]
		if !ok {
			t.Fatalf("no expected settings for the %s connections", role)
		}
		// Hold several connections at once so that a pool opens more
		// than one; the writer's pool has one, held by the writer
		// goroutine, which db.Conn then waits for between commits.
		n := 3
		if role != "reader" {
			n = 1
		}
		var held []*sql.Conn
		for i := range n {
			c, err := connOf(ctx, s, role, db)
			if err != nil {
				t.Fatalf("%s connection %d: %v", role, i, err)
			}
			held = append(held, c)
		}
		for i, c := range held {
			for name, v := range merge(common, want) {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
					t.Fatalf("%s connection %d: PRAGMA %s: %v", role, i, name, err)
				}
				if !strings.EqualFold(got, v) {
					t.Errorf("%s connection %d: PRAGMA %s = %s, want %s", role, i, name, got, v)
				}
			}
		}
		for _, c := range held {
			if c != s.wc {
				c.Close()
			}
		}
	}
}

// connOf returns a connection of the store's role: the writer's own held
// connection, or one from the pool.
func connOf(ctx context.Context, s *Store, role string, db *sql.DB) (*sql.Conn, error) {
	if role == "writer" {
		return s.wc, nil
	}
	return db.Conn(ctx)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

var faultEpoch = time.Unix(1700000000, 0)

func faultPool(name string) *store.Pool {
	return &store.Pool{ID: "us-east-1:00000000-0000-4000-8000-0000000000f1", Account: "123456789012", Region: "us-east-1",
		Name: name, CreatedAt: faultEpoch, UpdatedAt: faultEpoch}
}

func faultIdentity(n int, logins ...string) *store.Identity {
	id := &store.Identity{ID: fmt.Sprintf("us-east-1:22222222-0000-4000-8000-%012d", n), PoolID: faultPool("").ID,
		CreatedAt: faultEpoch, UpdatedAt: faultEpoch}
	for i := 0; i+1 < len(logins); i += 2 {
		id.Logins = append(id.Logins, store.Login{PoolID: id.PoolID, Provider: logins[i], Subject: logins[i+1], IdentityID: id.ID})
	}
	return id
}

// openWithPool opens a store in a new file holding faultPool("before");
// it is closed when the test ends.
func openWithPool(t *testing.T) (*Store, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idpool.db")
	s := openAt(t, path)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, faultPool("before")) }); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// openAt opens the store at path and closes it when the test ends (Close
// is idempotent, so a test may close it first).
func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reopen closes s, which must close cleanly, and opens its file again.
func reopen(t *testing.T, s *Store, path string) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openAt(t, path)
}

// faultWrites runs n writes of each kind at once, as concurrent requests
// do, so that they share group commits: guests (CreateIdentity),
// identities with a login, and pool renames. It returns each write's
// error by name.
func faultWrites(s *Store, from, n int) map[string]error {
	ctx := context.Background()
	var mu sync.Mutex
	out := map[string]error{}
	var wg sync.WaitGroup
	run := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f()
			mu.Lock()
			out[name] = err
			mu.Unlock()
		}()
	}
	for i := from; i < from+n; i++ {
		run(fmt.Sprintf("guest %d", i), func() error { return s.CreateIdentity(ctx, faultIdentity(i)) })
		run(fmt.Sprintf("login %d", i), func() error {
			return s.Update(ctx, func(tx store.Tx) error {
				return tx.InsertIdentity(ctx, faultIdentity(1000+i, "graph.facebook.com", fmt.Sprint("user-", i)))
			})
		})
		run(fmt.Sprintf("rename %d", i), func() error {
			return s.Update(ctx, func(tx store.Tx) error { return tx.UpdatePool(ctx, faultPool(fmt.Sprint("renamed-", i))) })
		})
	}
	wg.Wait()
	return out
}

// TestFailedCommitsAreNeverAcknowledged injects what a failing disk makes
// SQLite answer (a failed BEGIN, a failed COMMIT, an fsync error in the
// commit, a full disk in the commit) into group commits of many waiting
// writes. Every waiting write must get an error, none may be visible
// afterwards, through the read cache or after a reopen, and the store
// must go on working once the disk is back.
func TestFailedCommitsAreNeverAcknowledged(t *testing.T) {
	cases := []struct {
		name  string
		point faultPoint
		err   error
	}{
		{"begin fails", faultBegin, errors.New("disk I/O error (SQLITE_IOERR)")},
		{"commit fails", faultCommit, errors.New("disk I/O error (SQLITE_IOERR_WRITE)")},
		{"fsync fails", faultCommit, errors.New("disk I/O error (SQLITE_IOERR_FSYNC)")},
		{"disk full", faultCommit, errors.New("database or disk is full (SQLITE_FULL)")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			s, path := openWithPool(t)
			// Read the pool once so that the read cache holds it.
			if p, err := s.GetPool(ctx, faultPool("").ID); err != nil || p.Name != "before" {
				t.Fatalf("GetPool: %v %v", p, err)
			}

			var injected sync.Map
			s.faults = func(p faultPoint) error {
				if p != c.point {
					return nil
				}
				injected.Store(p, true)
				return c.err
			}
			const n = 24
			for name, err := range faultWrites(s, 0, n) {
				if err == nil {
					t.Errorf("%s: acknowledged although its commit failed", name)
				} else if !errors.Is(err, c.err) && !(strings.HasPrefix(name, "rename") && errors.Is(err, store.ErrConflict)) {
					// A rename may also lose to another rename of its
					// batch; any other error must be the disk's.
					t.Errorf("%s: error %v does not carry the disk's error %v", name, err, c.err)
				}
			}
			if _, ok := injected.Load(c.point); !ok {
				t.Fatal("the fault was never injected")
			}
			s.faults = nil // the next write's channel send orders this before the writer reads it

			check := func(when string, s *Store) {
				t.Helper()
				p, err := s.GetPool(ctx, faultPool("").ID)
				if err != nil {
					t.Fatalf("%s: GetPool: %v", when, err)
				}
				if p.Name != "before" {
					t.Errorf("%s: the pool is named %q: a failed rename is visible", when, p.Name)
				}
				ids, err := s.ListIdentities(ctx, faultPool("").ID, nil, 1000, false)
				if err != nil {
					t.Fatal(err)
				}
				if len(ids) != 1 || ids[0].ID != faultIdentity(9999).ID {
					var got []string
					for _, id := range ids {
						got = append(got, id.ID)
					}
					t.Errorf("%s: identities %v, want only the one written after the fault", when, got)
				}
			}
			// The disk is back: writes work again.
			if err := s.CreateIdentity(ctx, faultIdentity(9999)); err != nil {
				t.Fatalf("a write after the fault: %v", err)
			}
			check("after the fault", s)
			check("after a reopen", reopen(t, s, path))
		})
	}
}

// TestFullDatabase fills the database for real: SQLite refuses to grow the
// file past max_page_count with SQLITE_FULL, as it does on a full disk,
// and may then roll back the whole transaction, after which a statement
// would commit on its own. Writes that fit in pages already there may
// succeed; every write that was acknowledged is there after a reopen,
// every refused one is not, and some are refused.
func TestFullDatabase(t *testing.T) {
	ctx := context.Background()
	s, path := openWithPool(t)
	var pages int64
	if err := s.wc.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wc.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	// First one group commit made by hand, as the writer makes them: 80
	// guests (a chunk of 64 that cannot fit, then rows that might) and
	// identities with a login. Whatever SQLite rolled back, every write is
	// refused and none is there.
	var batch []*write
	for i := range 80 {
		batch = append(batch, &write{ctx: ctx, guest: faultIdentity(5000 + i), done: make(chan struct{})})
	}
	for i := range 16 {
		batch = append(batch, &write{ctx: ctx, done: make(chan struct{}), fn: func(tx store.Tx) error {
			return tx.InsertIdentity(ctx, faultIdentity(6000+i, "graph.facebook.com", fmt.Sprint("batch-", i)))
		}})
	}
	s.commit(batch)
	for i, w := range batch {
		id := faultIdentity(5000 + i).ID
		if w.guest == nil {
			id = faultIdentity(6000 + i - 80).ID
		}
		_, err := s.GetIdentity(ctx, id)
		switch {
		case w.err == nil:
			t.Errorf("write %d of the full batch acknowledged", i)
		case err == nil:
			t.Errorf("write %d of the full batch refused (%v) but there", i, w.err)
		}
	}

	// Then concurrent writes, batched as they come.
	results := map[string]error{}
	for round := range 4 {
		for name, err := range faultWrites(s, round*64, 64) {
			results[name] = err
		}
	}
	refused := 0
	for name, err := range results {
		if err != nil {
			refused++
			if strings.HasPrefix(name, "rename") && errors.Is(err, store.ErrConflict) {
				continue // lost to another rename of its batch
			}
			if !strings.Contains(err.Error(), "database or disk is full") {
				t.Errorf("a write refused for another reason than a full database: %v", err)
			}
		}
	}
	if refused == 0 {
		t.Fatal("no write was refused: the database never filled up")
	}
	s = reopen(t, s, path)
	for name, werr := range results {
		var n int
		fmt.Sscanf(name[strings.LastIndex(name, " ")+1:], "%d", &n)
		var id string
		switch {
		case strings.HasPrefix(name, "guest"):
			id = faultIdentity(n).ID
		case strings.HasPrefix(name, "login"):
			id = faultIdentity(1000 + n).ID
		default:
			continue // renames overwrite each other: nothing to find per write
		}
		_, err := s.GetIdentity(ctx, id)
		switch {
		case werr == nil && err != nil:
			t.Errorf("%s was acknowledged and is gone after a reopen: %v", name, err)
		case werr != nil && err == nil:
			t.Errorf("%s was refused (%v) and is there after a reopen", name, werr)
		}
	}
	t.Logf("%d of %d writes refused with a full database", refused, len(results))
}
