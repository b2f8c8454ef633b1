package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// TestBackupWhileWriting backs up a database while goroutines keep
// writing identities to it, and checks the copy: whole (integrity_check),
// holding every identity acknowledged before the backup began, only
// identities that were acknowledged, and each with its logins.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "idpool.db")
	s, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pool := &store.Pool{ID: "us-east-1:00000000-0000-4000-8000-000000000001", Account: "111111111111", Region: "us-east-1", Name: "p", CreatedAt: at, UpdatedAt: at}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, pool) }); err != nil {
		t.Fatal(err)
	}
	// withLogins says which identities are made with a login: its subject
	// is the identity's number.
	withLogins := func(n int) bool { return n%2 == 1 }
	identity := func(n int) *store.Identity {
		id := &store.Identity{ID: fmt.Sprintf("us-east-1:00000000-0000-4000-8000-%012d", n), PoolID: pool.ID, CreatedAt: at.Add(time.Duration(n)), UpdatedAt: at}
		if withLogins(n) {
			id.Logins = []store.Login{{PoolID: pool.ID, Provider: "graph.facebook.com", Subject: fmt.Sprint(n), IdentityID: id.ID}}
		}
		return id
	}
	// Enough data that the copy takes a while.
	const seeded = 20_000
	for lo := 0; lo < seeded; lo += 2000 {
		err := s.Update(ctx, func(tx store.Tx) error {
			for n := lo; n < lo+2000; n++ {
				if err := tx.InsertIdentity(ctx, identity(n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		next     atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
		warm     = make(chan struct{})
		warmOnce sync.Once
		failures = make(chan error, 8)
	)
	next.Store(seeded)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				n := int(next.Add(1))
				id := identity(n)
				var err error
				if withLogins(n) {
					err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertIdentity(ctx, id) })
				} else {
					err = s.CreateIdentity(ctx, id)
				}
				if err != nil {
					failures <- err
					return
				}
				mu.Lock()
				acked[id.ID] = true
				if len(acked) >= 200 {
					warmOnce.Do(func() { close(warm) })
				}
				mu.Unlock()
			}
		})
	}
	select {
	case <-warm:
	case err := <-failures:
		t.Fatal(err)
	}
	mu.Lock()
	before := make(map[string]bool, len(acked))
	for id := range acked {
		before[id] = true
	}
	mu.Unlock()
	dest := filepath.Join(t.TempDir(), "backup.db")
	backupErr := sqlite.Backup(ctx, dbPath, dest)
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	stop.Store(true)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Fatal(err)
	}
	if backupErr != nil {
		t.Fatal(backupErr)
	}
	t.Logf("%d writes acknowledged before the backup began, %d while it ran, %d in all", len(before), during, len(acked))

	raw, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of the backup: %q, %v", check, err)
	}
	raw.Close()
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 1 {
		t.Errorf("the backup's directory holds %d entries, want the backup alone", len(entries))
	}

	b, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := map[string]bool{}
	var after *store.IdentityCursor
	for {
		page, err := b.ListIdentities(ctx, pool.ID, after, 1000, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range page {
			got[id.ID] = true
			var n int
			if _, err := fmt.Sscanf(id.ID, "us-east-1:00000000-0000-4000-8000-%d", &n); err != nil {
				t.Fatal(err)
			}
			if n >= seeded && !acked[id.ID] {
				t.Errorf("the backup holds %s, which was never acknowledged", id.ID)
			}
			want := 0
			if withLogins(n) {
				want = 1
			}
			if len(id.Logins) != want || (want == 1 && id.Logins[0].Subject != fmt.Sprint(n)) {
				t.Errorf("identity %s in the backup has logins %+v", id.ID, id.Logins)
			}
		}
		if len(page) < 1000 {
			break
		}
		after = &store.IdentityCursor{CreatedAt: page[len(page)-1].CreatedAt, ID: page[len(page)-1].ID}
	}
	for id := range before {
		if !got[id] {
			t.Errorf("%s, acknowledged before the backup began, is not in it", id)
		}
	}
	if n := len(got) - seeded; n < len(before) || n > len(acked) {
		t.Errorf("the backup holds %d written identities; %d were acknowledged before it began, %d by the end", n, len(before), len(acked))
	}
	if holder, err := b.FindLogin(ctx, pool.ID, "graph.facebook.com", "19999"); err != nil || holder != identity(19999).ID {
		t.Errorf("FindLogin in the backup: %q, %v", holder, err)
	}
}

// TestBackupRefuses: an existing destination is never overwritten, and a
// missing database is not created.
func TestBackupRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "idpool.db")
	s, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(dest, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Backup(ctx, dbPath, dest); !errors.Is(err, sqlite.ErrBackupExists) {
		t.Errorf("backup onto an existing file: %v, want ErrBackupExists", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "precious" {
		t.Errorf("the existing file was changed: %q", b)
	}

	missing := filepath.Join(t.TempDir(), "none", "idpool.db")
	if err := sqlite.Backup(ctx, missing, filepath.Join(t.TempDir(), "b.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backup of a missing database: %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the missing database's directory was created: %v", err)
	}

	// A database no server has open (its WAL checkpointed away) backs up too.
	closed := filepath.Join(t.TempDir(), "closed.db")
	if err := sqlite.Backup(ctx, dbPath, closed); err != nil {
		t.Errorf("backup of a closed database: %v", err)
	}
}
