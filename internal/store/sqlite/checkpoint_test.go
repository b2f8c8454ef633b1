package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// TestWALStartsOver drives the checkpoints by hand: the checkpointer
// copies a WAL longer than walRestartFrames and hands the tail to the
// writer, whose next commits find the WAL fully copied and start it over.
// Nothing written is lost across a reopen.
func TestWALStartsOver(t *testing.T) {
	defer func(f int64, c bool) { walRestartFrames, startCheckpointer = f, c }(walRestartFrames, startCheckpointer)
	walRestartFrames, startCheckpointer = 32, false

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idpool.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	pool := &store.Pool{ID: "us-east-1:00000000-0000-4000-8000-000000000001", Account: "123456789012", Region: "us-east-1", Name: "p", CreatedAt: now, UpdatedAt: now}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, pool) }); err != nil {
		t.Fatal(err)
	}
	guest := func(i int) *store.Identity {
		return &store.Identity{ID: fmt.Sprintf("us-east-1:00000000-0000-4000-8000-%012d", i), PoolID: pool.ID,
			CreatedAt: now.Add(time.Duration(i)), UpdatedAt: now}
	}
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- s.CreateIdentity(ctx, guest(i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// A reader holding an old snapshot keeps the checkpointer from copying
	// what is committed after it, as commits made during a checkpoint do.
	rc, err := s.r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var count int
	if _, err := rc.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if err := rc.QueryRowContext(ctx, "SELECT count(*) FROM identities").Scan(&count); err != nil || count != n {
		t.Fatalf("reader saw %d identities (%v), want %d", count, err, n)
	}
	if err := s.CreateIdentity(ctx, guest(n)); err != nil {
		t.Fatal(err)
	}
	before, _, ok := checkpoint(s.ck)
	if !ok || before <= walRestartFrames {
		t.Fatalf("WAL after %d guests: %d frames (ok %v), want more than %d", n+1, before, ok, walRestartFrames)
	}
	s.checkpointRound()
	if !s.walTail.Load() {
		t.Fatal("a WAL past walRestartFrames did not hand its tail to the writer")
	}
	if _, err := rc.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	// The first write is followed by the writer's tail checkpoint, the
	// second starts the WAL over.
	for i := n + 1; i < n+3; i++ {
		if err := s.CreateIdentity(ctx, guest(i)); err != nil {
			t.Fatal(err)
		}
	}
	if s.walTail.Load() {
		t.Error("the writer did not copy the WAL's tail")
	}
	after, _, ok := checkpoint(s.ck)
	if !ok || after > 16 {
		t.Errorf("WAL after it should have started over: %d frames (ok %v), was %d", after, ok, before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n + 3 {
		if _, err := s.GetIdentity(ctx, guest(i).ID); err != nil {
			t.Fatalf("guest %d after reopen: %v", i, err)
		}
	}
}

// TestConnectionSettings checks the pragmas each connection ends up with:
// the writer's smaller page cache (the later pragma of its DSN wins) and no
// automatic checkpoints on it, the readers' larger cache.
func TestConnectionSettings(t *testing.T) {
	s, _, _ := openCacheTest(t)
	ctx := context.Background()
	var cache, auto int
	if err := s.wc.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil || cache != -8192 {
		t.Errorf("writer cache_size = %d (%v), want -8192", cache, err)
	}
	if err := s.wc.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Errorf("writer wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil || cache != -32768 {
		t.Errorf("reader cache_size = %d (%v), want -32768", cache, err)
	}
}
