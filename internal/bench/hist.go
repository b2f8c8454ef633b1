package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets: exact below 128 ns,
// then 128 buckets per power of two, so a reported quantile is within 0.8%
// of the true value. It is not safe for concurrent use; workers keep their
// own and Merge them at the end.
type Histogram struct {
	counts   []uint64
	n        uint64
	sum      float64 // nanoseconds
	min, max int64
}

const (
	subBits    = 7
	subBuckets = 1 << subBits
	// maxTracked caps recorded values (about 18 minutes); anything longer
	// is recorded as this, and max still says the truth.
	maxTracked = int64(1) << 40
	numBuckets = (40 - subBits + 2) * subBuckets
)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets), min: math.MaxInt64}
}

func bucketOf(v int64) int {
	if v < subBuckets {
		return int(v)
	}
	exp := bits.Len64(uint64(v)) - subBits - 1
	return (exp+1)*subBuckets + int(v>>exp) - subBuckets
}

// bucketMid is the middle of a bucket's range of values.
func bucketMid(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	exp := i/subBuckets - 1
	sub := int64(i%subBuckets + subBuckets)
	lo := sub << exp
	hi := (sub+1)<<exp - 1
	return lo + (hi-lo)/2
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.n++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
	h.counts[bucketOf(min(v, maxTracked-1))]++
}

// Merge adds o's records to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of records.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest record, exactly.
func (h *Histogram) Max() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.max)
}

// Mean is the average record.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile returns the value below which the fraction q of the records
// lie (q in [0, 1]); 0 when there are none.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	if rank >= h.n {
		return time.Duration(h.max) // exact, even beyond maxTracked
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := bucketMid(i)
			// The bucket's middle can lie outside what was seen.
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
