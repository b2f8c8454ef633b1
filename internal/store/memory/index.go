package memory

import (
	"iter"
	"slices"
	"sort"

	"github.com/idpool/idpool/internal/store"
)

// chunkSize is the most identities one chunk of an index holds.
const chunkSize = 512

// index keeps the identities of one pool in listing order (creation time,
// then id), for ListIdentities to seek to a cursor and read a page in
// O(log n + page) whatever the pool's size.
//
// It is a list of sorted chunks of at most chunkSize identities, every
// chunk's entries before the next chunk's: inserting or removing moves at
// most one chunk's entries and, when a chunk splits or empties, the chunk
// list's headers (a 1M-identity pool has about 2,000 chunks). Appending in
// creation order, the common case (guests), fills each chunk completely.
type index struct {
	chunks [][]*identity // each non-empty, cap chunkSize
	n      int
}

// chunkFor returns the chunk where position (ns, id) is or belongs: the
// first whose last entry is not before it, else the last one. The index
// must not be empty.
func (x *index) chunkFor(ns int64, id string) int {
	i := sort.Search(len(x.chunks), func(i int) bool {
		c := x.chunks[i]
		return cmpPosition(c[len(c)-1], ns, id) >= 0
	})
	return min(i, len(x.chunks)-1)
}

// insert adds r, which the index must not hold yet.
func (x *index) insert(r *identity) {
	x.n++
	if len(x.chunks) == 0 {
		x.chunks = append(x.chunks, append(make([]*identity, 0, chunkSize), r))
		return
	}
	ci := x.chunkFor(r.created, r.id)
	c := x.chunks[ci]
	j := sort.Search(len(c), func(j int) bool { return cmpPosition(c[j], r.created, r.id) >= 0 })
	if len(c) < chunkSize {
		x.chunks[ci] = slices.Insert(c, j, r)
		return
	}
	if ci == len(x.chunks)-1 && j == len(c) {
		// Appending past the end: start a new chunk, leaving this one full.
		x.chunks = append(x.chunks, append(make([]*identity, 0, chunkSize), r))
		return
	}
	// Split the full chunk in halves and insert into the half r belongs to.
	half := chunkSize / 2
	right := append(make([]*identity, 0, chunkSize), c[half:]...)
	clear(c[half:])
	left := c[:half]
	if j <= half {
		left = slices.Insert(left, j, r)
	} else {
		right = slices.Insert(right, j-half, r)
	}
	x.chunks[ci] = left
	x.chunks = slices.Insert(x.chunks, ci+1, right)
}

// remove removes r (the very record inserted, or one at its place); it
// reports whether it was there.
func (x *index) remove(r *identity) bool {
	if len(x.chunks) == 0 {
		return false
	}
	ci := x.chunkFor(r.created, r.id)
	c := x.chunks[ci]
	j, ok := slices.BinarySearchFunc(c, r, func(e, r *identity) int { return cmpPosition(e, r.created, r.id) })
	if !ok {
		return false
	}
	x.n--
	if len(c) == 1 {
		x.chunks = slices.Delete(x.chunks, ci, ci+1)
		return true
	}
	x.chunks[ci] = slices.Delete(c, j, j+1)
	return true
}

// ascend yields the identities after the cursor (all of them when after is
// nil), in listing order. The index must not change while it runs.
func (x *index) ascend(after *store.IdentityCursor) iter.Seq[*identity] {
	return func(yield func(*identity) bool) {
		ci, j := 0, 0
		if after != nil {
			ns, id := nanos(after.CreatedAt), after.ID
			ci = sort.Search(len(x.chunks), func(i int) bool {
				c := x.chunks[i]
				return cmpPosition(c[len(c)-1], ns, id) > 0
			})
			if ci < len(x.chunks) {
				c := x.chunks[ci]
				j = sort.Search(len(c), func(j int) bool { return cmpPosition(c[j], ns, id) > 0 })
			}
		}
		for ; ci < len(x.chunks); ci, j = ci+1, 0 {
			for _, r := range x.chunks[ci][j:] {
				if !yield(r) {
					return
				}
			}
		}
	}
}
