package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// BenchmarkInsertIdentity measures durable single-identity writes (what
// GetId for a guest costs the store), from many goroutines at once.
func BenchmarkInsertIdentity(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	pool := &store.Pool{ID: "us-east-1:00000000-0000-4000-8000-000000000001", Account: "123456789012", Region: "us-east-1", Name: "bench", CreatedAt: now, UpdatedAt: now}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, pool) }); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := &store.Identity{ID: fmt.Sprintf("us-east-1:%036d", n.Add(1)), PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertIdentity(ctx, id) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
