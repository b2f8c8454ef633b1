package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Load is how hard and how long a phase drives the target.
type Load struct {
	// Concurrency is the number of workers, each with its own keep-alive
	// connection. In the open model (Rate > 0) it caps the requests in
	// flight; requests due while every worker is busy wait, and the wait
	// counts in their latency.
	Concurrency int
	// Rate is the arrival rate in requests per second; 0 is the closed
	// model, where each worker sends its next request when the previous
	// one is answered.
	Rate float64
	// N bounds the number of requests; 0 is no bound.
	N int64
	// Duration bounds the phase; 0 is no bound (then N must be set).
	Duration time.Duration
}

func (l Load) validate() error {
	if l.Concurrency < 1 {
		return errors.New("concurrency must be at least 1")
	}
	if l.Rate < 0 {
		return errors.New("rate must not be negative")
	}
	if l.N <= 0 && l.Duration <= 0 {
		return errors.New("a phase needs a request count or a duration")
	}
	return nil
}

// Workload is what a phase sends: Next picks each request.
type Workload struct {
	// Kinds names the operations of the workload, indexed by
	// Request.Kind; a single-operation workload has one.
	Kinds []string
	// Next returns the request to send next; rng is the worker's own.
	// It must be safe to call from several workers at once. nil means
	// the workload is used up: the worker stops, and the phase ends when
	// every worker has.
	Next func(rng *rand.Rand) *Request
}

// maxErrorSamples is how many error messages a phase keeps.
const maxErrorSamples = 5

// Phase is the outcome of driving a workload.
type Phase struct {
	Elapsed  time.Duration
	OK       int64 // requests answered as expected
	Errors   int64 // requests that failed in any way
	Samples  []string
	Latency  *Histogram   // of the requests answered as expected
	ByKind   []*Histogram // Latency per workload kind
	Signed   int64        // requests signed
	SignTime time.Duration
	// MaxLag is, in the open model, the longest a request waited past
	// its scheduled time before it was sent: a generator (or server)
	// that cannot keep up shows here.
	MaxLag time.Duration
	// PerSecond counts the requests answered as expected in each second
	// of the phase (the last one is usually partial): stalls show here.
	PerSecond []int64
	// Backlog is, in the open model, how many requests were due before
	// the end but never sent because every worker was busy: the target
	// did not sustain the rate. Their latency is unknown (and at least
	// as long as they waited), so they are reported, not guessed.
	Backlog int64
}

// BestSecond is the highest count of PerSecond over the whole seconds of
// the phase; the average throughput when the phase lasted less than two
// seconds.
func (p *Phase) BestSecond() float64 {
	full := int(p.Elapsed / time.Second)
	if full < 2 || len(p.PerSecond) < full {
		return p.Throughput()
	}
	return float64(slices.Max(p.PerSecond[:full]))
}

// Throughput is the rate of requests answered as expected.
func (p *Phase) Throughput() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.OK) / p.Elapsed.Seconds()
}

// worker is one worker's private state.
type worker struct {
	rng      *rand.Rand
	st       callState
	lat      *Histogram
	byKind   []*Histogram
	ok, errs int64
	signed   int64
	signTime time.Duration
	maxLag   time.Duration
	start    time.Time
	perSec   []int64
}

// Drive runs the workload on the client under the load and returns what it
// measured. It stops early when ctx is done.
func Drive(ctx context.Context, c *Client, w *Workload, l Load) (*Phase, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	var (
		mu      sync.Mutex
		samples []string
		next    atomic.Int64
		wg      sync.WaitGroup
	)
	note := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(samples) < maxErrorSamples {
			samples = append(samples, describeErr(err))
		}
	}
	workers := make([]*worker, l.Concurrency)
	seed := rand.Uint64()
	start := time.Now()
	var deadline time.Time
	if l.Duration > 0 {
		deadline = start.Add(l.Duration)
	}
	var interval time.Duration
	if l.Rate > 0 {
		interval = time.Duration(float64(time.Second) / l.Rate)
	}
	for i := range workers {
		wk := &worker{rng: rand.New(rand.NewPCG(seed, uint64(i))), lat: NewHistogram(), start: start}
		for range w.Kinds {
			wk.byKind = append(wk.byKind, NewHistogram())
		}
		workers[i] = wk
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if l.N > 0 && i >= l.N {
					return
				}
				var scheduled time.Time // zero in the closed model
				if interval > 0 {
					// Open model: request i is due at start + i/rate,
					// whoever sends it and whenever.
					due := start.Add(time.Duration(i) * interval)
					if !deadline.IsZero() && (!due.Before(deadline) || !time.Now().Before(deadline)) {
						// Past the end: what is still due is backlog,
						// reported, never sent late.
						return
					}
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
					wk.maxLag = max(wk.maxLag, time.Since(due))
					scheduled = due
				} else if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				r := w.Next(wk.rng)
				if r == nil {
					return
				}
				oc, err := wk.send(ctx, c, r, scheduled)
				if r.Signed {
					wk.signed++
					wk.signTime += oc.sign
				}
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					wk.errs++
					note(err)
				}
			}
		})
	}
	wg.Wait()
	p := &Phase{Elapsed: time.Since(start), Latency: NewHistogram(), Samples: samples}
	for range w.Kinds {
		p.ByKind = append(p.ByKind, NewHistogram())
	}
	for _, wk := range workers {
		p.OK += wk.ok
		p.Errors += wk.errs
		p.Latency.Merge(wk.lat)
		for k, h := range wk.byKind {
			p.ByKind[k].Merge(h)
		}
		p.Signed += wk.signed
		p.SignTime += wk.signTime
		p.MaxLag = max(p.MaxLag, wk.maxLag)
		for len(p.PerSecond) < len(wk.perSec) {
			p.PerSecond = append(p.PerSecond, 0)
		}
		for s, n := range wk.perSec {
			p.PerSecond[s] += n
		}
	}
	if interval > 0 && l.Duration > 0 {
		due := int64(l.Duration / interval)
		if l.N > 0 {
			due = min(due, l.N)
		}
		p.Backlog = max(0, due-p.OK-p.Errors)
	}
	return p, ctx.Err()
}

// send makes one call and records its latency: from due (the scheduled
// time, open model) or from just after signing (closed model).
func (wk *worker) send(ctx context.Context, c *Client, r *Request, due time.Time) (outcome, error) {
	_, oc, err := c.do(ctx, r, &wk.st)
	end := time.Now()
	if err != nil {
		return oc, err
	}
	lat := end.Sub(oc.sent)
	if !due.IsZero() {
		lat = end.Sub(due)
	}
	wk.ok++
	wk.lat.Record(lat)
	sec := int(end.Sub(wk.start) / time.Second)
	for len(wk.perSec) <= sec {
		wk.perSec = append(wk.perSec, 0)
	}
	wk.perSec[sec]++
	if r.Kind < len(wk.byKind) {
		wk.byKind[r.Kind].Record(lat)
	}
	return oc, nil
}

// describeErr says what kind of failure err is, for the report.
func describeErr(err error) string {
	var he *HTTPError
	var se *ShapeError
	var ue *url.Error
	switch {
	case errors.As(err, &he):
		return "http: " + he.Error()
	case errors.As(err, &se):
		return "shape: " + se.Op + ": " + se.Error()
	case errors.As(err, &ue):
		return "transport: " + ue.Err.Error()
	default:
		return fmt.Sprintf("error: %v", err)
	}
}
