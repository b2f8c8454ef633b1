package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
)

func keyTests() []namedTest {
	return []namedTest{
		{"SigningKeyRoundTrip", testSigningKeyRoundTrip},
		{"SigningKeyRetireOnce", testSigningKeyRetireOnce},
	}
}

func testSigningKeyRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	retired := base.Add(time.Hour)
	keys := []*store.SigningKey{
		{ID: "k2", Sealed: []byte{1, 2, 3}, CreatedAt: base.Add(time.Minute)},
		{ID: "k1", Sealed: []byte{0, 255}, CreatedAt: base, RetiresAt: &retired},
	}
	for _, k := range keys {
		if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertSigningKey(ctx, k) }); err != nil {
			t.Fatal(err)
		}
	}
	dup := &store.SigningKey{ID: "k1", Sealed: []byte{9}, CreatedAt: base}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertSigningKey(ctx, dup) }); !errors.Is(err, store.ErrExists) {
		t.Errorf("InsertSigningKey(duplicate) error = %v, want ErrExists", err)
	}
	got, err := s.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "k1" || got[1].ID != "k2" {
		t.Fatalf("ListSigningKeys = %+v, want k1 then k2", got)
	}
	if string(got[0].Sealed) != string([]byte{0, 255}) || !got[0].CreatedAt.Equal(base) || got[0].RetiresAt == nil || !got[0].RetiresAt.Equal(retired) {
		t.Errorf("k1 = %+v", got[0])
	}
	if got[1].RetiresAt != nil {
		t.Errorf("k2 retires at %v, want never", got[1].RetiresAt)
	}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteSigningKey(ctx, "k1") }); err != nil {
		t.Fatal(err)
	}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteSigningKey(ctx, "k1") }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteSigningKey error = %v, want ErrNotFound", err)
	}
}

// testSigningKeyRetireOnce has many rotations race to retire the same key:
// exactly one wins the compare-and-swap.
func testSigningKeyRetireOnce(t *testing.T, s store.Store) {
	k := &store.SigningKey{ID: "k1", Sealed: []byte{1}, CreatedAt: base}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertSigningKey(ctx, k) }); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := base.Add(time.Duration(i+1) * time.Minute)
			err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RetireSigningKey(ctx, "k1", at) })
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d rotations retired the key, want exactly 1", wins.Load())
	}
	if err := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RetireSigningKey(ctx, "nope", base) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RetireSigningKey(missing) error = %v, want ErrNotFound", err)
	}
}
