package memory

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// TestIndex checks the chunked index against a sorted slice through
// inserts and removals in several orders, across many chunk splits.
func TestIndex(t *testing.T) {
	const n = 5 * chunkSize
	orders := map[string]func(rng *rand.Rand, ids []int){
		"ascending":  func(*rand.Rand, []int) {},
		"descending": func(_ *rand.Rand, ids []int) { slices.Reverse(ids) },
		"random": func(rng *rand.Rand, ids []int) {
			rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			ids := make([]int, n)
			for i := range ids {
				ids[i] = i
			}
			order(rng, ids)
			x := &index{}
			var want []*identity
			add := func(i int) {
				// Every three identities share a creation time: ties are
				// ordered by id.
				r := &identity{id: fmt.Sprintf("id-%06d", i), created: int64(i / 3)}
				x.insert(r)
				at, _ := slices.BinarySearchFunc(want, r, func(e, r *identity) int { return cmpPosition(e, r.created, r.id) })
				want = slices.Insert(want, at, r)
			}
			for _, i := range ids {
				add(i)
			}
			checkIndex(t, x, want, rng)
			// Remove a random half, then insert them again.
			rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			for _, i := range ids[:n/2] {
				r := &identity{id: fmt.Sprintf("id-%06d", i), created: int64(i / 3)}
				if !x.remove(r) {
					t.Fatalf("remove(%s) found nothing", r.id)
				}
				at, _ := slices.BinarySearchFunc(want, r, func(e, r *identity) int { return cmpPosition(e, r.created, r.id) })
				want = slices.Delete(want, at, at+1)
				if x.remove(r) {
					t.Fatalf("second remove(%s) found it", r.id)
				}
			}
			checkIndex(t, x, want, rng)
			for _, i := range ids[:n/2] {
				add(i)
			}
			checkIndex(t, x, want, rng)
			for _, r := range slices.Clone(want) {
				x.remove(r)
			}
			if x.n != 0 || len(x.chunks) != 0 {
				t.Errorf("after removing everything: n %d, %d chunks", x.n, len(x.chunks))
			}
		})
	}
}

func checkIndex(t *testing.T, x *index, want []*identity, rng *rand.Rand) {
	t.Helper()
	if x.n != len(want) {
		t.Fatalf("n = %d, want %d", x.n, len(want))
	}
	for i, c := range x.chunks {
		if len(c) == 0 || len(c) > chunkSize || cap(c) != chunkSize {
			t.Fatalf("chunk %d: len %d cap %d", i, len(c), cap(c))
		}
	}
	got := slices.Collect(x.ascend(nil))
	if !slices.Equal(got, want) {
		t.Fatalf("ascend(nil) returned %d entries out of order (want %d)", len(got), len(want))
	}
	// From cursors at entries, and between entries.
	for range 50 {
		i := rng.IntN(len(want) + 1)
		var cur store.IdentityCursor
		if i < len(want) {
			cur = store.IdentityCursor{CreatedAt: time.Unix(0, want[i].created), ID: want[i].id}
		} else {
			cur = store.IdentityCursor{CreatedAt: time.Unix(0, 1<<40), ID: ""}
		}
		var first *identity
		for r := range x.ascend(&cur) {
			first = r
			break
		}
		var wantFirst *identity
		for _, r := range want {
			if cmpPosition(r, nanos(cur.CreatedAt), cur.ID) > 0 {
				wantFirst = r
				break
			}
		}
		if first != wantFirst {
			t.Fatalf("ascend after %+v starts at %v, want %v", cur, first, wantFirst)
		}
	}
	// A cursor between two ids of the same instant.
	if len(want) > 0 {
		cur := store.IdentityCursor{CreatedAt: time.Unix(0, want[0].created), ID: want[0].id + "~"}
		n := 0
		for range x.ascend(&cur) {
			n++
		}
		if n != len(want)-1 {
			t.Fatalf("ascend after %+v yields %d, want %d", cur, n, len(want)-1)
		}
	}
}

// TestIndexAppendFillsChunks: identities created in order fill every chunk
// but the last.
func TestIndexAppendFillsChunks(t *testing.T) {
	x := &index{}
	for i := range 10 * chunkSize {
		x.insert(&identity{id: fmt.Sprint(i), created: int64(i)})
	}
	if len(x.chunks) != 10 {
		t.Errorf("%d chunks for %d identities in order, want 10", len(x.chunks), 10*chunkSize)
	}
}
