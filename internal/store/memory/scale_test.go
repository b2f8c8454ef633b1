package memory_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
)

// setupLarge creates n guests in one pool, in creation order, and reports
// the heap they take.
func setupLarge(tb testing.TB, n int) (*memory.Store, string) {
	ctx := context.Background()
	s := memory.New()
	p := newPool(1)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, p) }); err != nil {
		tb.Fatal(err)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		id := &store.Identity{ID: fmt.Sprintf("us-east-1:%08x-0000-4000-8000-000000000000", i), PoolID: p.ID,
			CreatedAt: base.Add(time.Duration(i) * time.Microsecond), UpdatedAt: base}
		if err := s.CreateIdentity(ctx, id); err != nil {
			tb.Fatal(err)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	tb.Logf("%d identities: %d bytes of heap each", n, (after.HeapAlloc-before.HeapAlloc)/uint64(n))
	return s, p.ID
}

// BenchmarkListIdentitiesLargePool reads a page of 60 from the middle of a
// 1M-identity pool.
func BenchmarkListIdentitiesLargePool(b *testing.B) {
	const n = 1_000_000
	s, pool := setupLarge(b, n)
	ctx := context.Background()
	after := &store.IdentityCursor{CreatedAt: base.Add(n / 2 * time.Microsecond), ID: ""}
	for b.Loop() {
		page, err := s.ListIdentities(ctx, pool, after, 60, false)
		if err != nil || len(page) != 60 {
			b.Fatal(len(page), err)
		}
	}
}

// BenchmarkCreateIdentity stores guests one by one.
func BenchmarkCreateIdentity(b *testing.B) {
	ctx := context.Background()
	s := memory.New()
	p := newPool(1)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, p) }); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		id := &store.Identity{ID: fmt.Sprintf("us-east-1:%08x-0000-4000-8000-000000000000", i), PoolID: p.ID,
			CreatedAt: base.Add(time.Duration(i) * time.Microsecond), UpdatedAt: base}
		if err := s.CreateIdentity(ctx, id); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
