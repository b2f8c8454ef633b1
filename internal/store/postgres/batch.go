package postgres

import (
	"context"
	"sync"
)

// batcher runs the calls of one kind of hot read or write together, one
// statement for many requests: the round trip, the statement's fixed cost
// in PostgreSQL and, for writes, the commit's WAL flush are shared by every
// call of a batch. It adds no wait: a call that finds fewer than
// maxRunning batches running starts one at once; calls that arrive while
// batches run queue up and go together in the next one. Under light load
// every batch holds one call; under heavy load batches grow with the
// number of requests in flight.
//
// Each call still reads, or writes, exactly as if it ran alone: a read
// starts after its request arrived, so it sees every write acknowledged
// before then, on any replica.
type batcher[K, V any] struct {
	// run performs one batch. It must set vals[i] or errs[i] for every
	// key; errs[i] is the call's own outcome (ErrNotFound, ...).
	run func(ctx context.Context, keys []K, vals []V, errs []error)
	// bound gives a batch its context: the store's operation timeout.
	// A batch serves several requests, so no one caller's cancellation
	// may stop it.
	bound func() (context.Context, context.CancelFunc)

	maxRunning, maxBatch int

	mu      sync.Mutex
	queue   []*call[K, V]
	running int
}

// call is one request's part of a batch.
type call[K, V any] struct {
	key  K
	val  V
	err  error
	done chan struct{}
}

// do runs one call, in a batch, and returns its outcome. The wait is
// bounded by the batch's own timeout (the store's); a caller whose context
// has already ended is not queued.
func (b *batcher[K, V]) do(ctx context.Context, key K) (V, error) {
	if err := ctx.Err(); err != nil {
		var zero V
		return zero, err
	}
	c := &call[K, V]{key: key, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	start := b.running < b.maxRunning
	if start {
		b.running++
	}
	b.mu.Unlock()
	if start {
		// This caller runs the first batch itself (its own call is in it);
		// whatever queued meanwhile is drained by another goroutine, so
		// that this caller's answer is not held back.
		if b.runOnce() {
			go b.drain()
		}
	}
	<-c.done
	return c.val, c.err
}

// drain runs batches until the queue is empty.
func (b *batcher[K, V]) drain() {
	for b.runOnce() {
	}
}

// runOnce runs the queued calls (up to maxBatch) as one batch and reports
// whether more are queued, in which case the caller must keep draining;
// otherwise it gives up its running slot.
func (b *batcher[K, V]) runOnce() (more bool) {
	b.mu.Lock()
	n := min(len(b.queue), b.maxBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	if len(b.queue) == 0 {
		b.queue = nil
	}
	b.mu.Unlock()

	if n > 0 {
		keys := make([]K, n)
		for i, c := range batch {
			keys[i] = c.key
		}
		vals, errs := make([]V, n), make([]error, n)
		ctx, cancel := b.bound()
		b.run(ctx, keys, vals, errs)
		cancel()
		for i, c := range batch {
			c.val, c.err = vals[i], errs[i]
			close(c.done)
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) > 0 {
		return true
	}
	b.running--
	return false
}

// fail sets every call of a batch to err.
func fail(errs []error, err error) {
	for i := range errs {
		errs[i] = err
	}
}
