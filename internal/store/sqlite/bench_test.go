package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idpool/idpool/internal/bench"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// benchStore opens a store in a new file holding one pool; it is closed
// when the benchmark ends.
func benchStore(b *testing.B) (*sqlite.Store, *store.Pool, time.Time) {
	b.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	pool := &store.Pool{ID: "us-east-1:00000000-0000-4000-8000-000000000001", Account: "123456789012", Region: "us-east-1", Name: "bench", CreatedAt: now, UpdatedAt: now}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, pool) }); err != nil {
		b.Fatal(err)
	}
	return s, pool, now
}

// BenchmarkInsertIdentity measures durable single-identity writes (what
// GetId for a guest costs the store), from many goroutines at once.
func BenchmarkInsertIdentity(b *testing.B) {
	ctx := context.Background()
	s, pool, now := benchStore(b)
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

// BenchmarkCreateGuest measures durable guest writes (CreateIdentity, as
// GetId for a guest) from 32 goroutines into a pool already holding
// IDPOOL_BENCH_SEED identities (10,000 by default), with random ids
// (UUIDv4, as AWS makes them) and with time-ordered ids (UUIDv7, as idpool
// makes them): the numbers behind docs/storage.md. cpu-µs/op is the
// process's CPU time (user and system) per write.
//
//	IDPOOL_BENCH_SEED=1000000 go test -run - -bench CreateGuest -benchtime 100000x ./internal/store/sqlite
func BenchmarkCreateGuest(b *testing.B) {
	seedN := 10000
	if v := os.Getenv("IDPOOL_BENCH_SEED"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		seedN = n
	}
	for _, kind := range []struct {
		name string
		id   func() string
	}{{"uuid-v4", benchV4}, {"uuid-v7", benchV7}} {
		b.Run(kind.name, func(b *testing.B) {
			ctx := context.Background()
			s, pool, now := benchStore(b)
			for i := 0; i < seedN; i += 1000 {
				if err := s.Update(ctx, func(tx store.Tx) error {
					for range min(1000, seedN-i) {
						if err := tx.InsertIdentity(ctx, &store.Identity{ID: kind.id(), PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			cpu0 := bench.SelfCPU()
			b.SetParallelism(16) // 32 goroutines on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.CreateIdentity(ctx, &store.Identity{ID: kind.id(), PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((bench.SelfCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

func benchV4() string {
	u := uuid.New()
	return "us-east-1:" + u.String()
}

func benchV7() string {
	u, err := uuid.NewV7()
	if err != nil {
		panic(err)
	}
	return "us-east-1:" + u.String()
}
