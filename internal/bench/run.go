package bench

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Config is what every scenario of a run shares.
type Config struct {
	Load   Load
	Warmup time.Duration
	// K is how many identities of each kind scenarios seed.
	K int
	// Merges is how many pairs of developer users the merge scenario
	// merges.
	Merges               int
	AccessKey, SecretKey string
	SignCache            bool
	Keep                 bool
	// PoolID makes every scenario use this existing pool.
	PoolID string
	Log    io.Writer
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, args...)
	}
}

// Target is a server to measure.
type Target struct {
	Name string // for the report: "idpool", "moto", "url"
	URL  string
	// PID, when not 0, is the server's process: its CPU time and memory
	// are read from /proc.
	PID int
	// MorePIDs are the other processes of a target of several replicas:
	// their CPU time counts as the target's too.
	MorePIDs []int
	Moto     bool
}

// pids are all of a target's processes, or nil.
func (t Target) pids() []int {
	if t.PID == 0 {
		return nil
	}
	return append([]int{t.PID}, t.MorePIDs...)
}

// readCPU sums the CPU time of the processes.
func readCPU(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, pid := range pids {
		d, err := ReadCPU(pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// LatencySummary is a latency distribution in milliseconds.
type LatencySummary struct {
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

func summarize(h *Histogram) LatencySummary {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return LatencySummary{Mean: ms(h.Mean()), P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
}

// KindResult is one operation of a mix.
type KindResult struct {
	Kind       string         `json:"kind"`
	Requests   int64          `json:"requests"`
	Throughput float64        `json:"req_per_s"`
	Latency    LatencySummary `json:"latency"`
}

// ScenarioResult is one scenario (or ceiling) on one target.
type ScenarioResult struct {
	Target   string `json:"target"`
	Scenario string `json:"scenario"`
	// Skipped says why the scenario did not run (not a failure).
	Skipped string   `json:"skipped,omitempty"`
	Failure string   `json:"failure,omitempty"` // setup or run failure
	Notes   []string `json:"notes,omitempty"`

	SetupSeconds float64  `json:"setup_s,omitempty"`
	Requests     int64    `json:"requests"`
	Errors       int64    `json:"errors"`
	WarmupErrors int64    `json:"warmup_errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Seconds      float64  `json:"elapsed_s"`
	Throughput   float64  `json:"req_per_s"`
	// BestSecond is the most requests answered in one whole second of
	// the phase; PerSecond has every second's count (the last one is
	// usually partial).
	BestSecond float64        `json:"best_second_req_per_s"`
	PerSecond  []int64        `json:"per_second"`
	Latency    LatencySummary `json:"latency"`
	ByKind     []KindResult   `json:"by_kind,omitempty"`

	// Signing done by the generator: requests signed, mean time per
	// signature, and signing as a share of one core over the phase.
	Signed     int64   `json:"signed_requests"`
	SignMeanUS float64 `json:"sign_mean_us"`
	SignCPU    float64 `json:"sign_cpu_pct"`

	// CPU time over the measured phase, as a percentage of one core:
	// the target's, the generator's, and everything else on the machine
	// (other processes compete for the same cores and distort figures;
	// without a target pid, "other" includes the target).
	TargetCPU float64 `json:"target_cpu_pct,omitempty"`
	BenchCPU  float64 `json:"bench_cpu_pct"`
	OtherCPU  float64 `json:"other_cpu_pct"`
	TargetRSS int64   `json:"target_rss_bytes,omitempty"`

	// Writer has the SQLite group commits of an idpool target over the
	// phase, where its /metrics reports them.
	Writer *WriterStats `json:"sqlite_writer,omitempty"`

	// Open model only.
	MaxLagMS float64 `json:"max_lag_ms,omitempty"`
	Backlog  int64   `json:"backlog,omitempty"`

	Bound     Bound   `json:"bound,omitempty"`
	BoundRate float64 `json:"bound_req_per_s,omitempty"`
	Ratio     float64 `json:"ratio,omitempty"`
}

// Failed reports whether the scenario ran and went wrong in any way.
func (r *ScenarioResult) Failed() bool {
	return r.Skipped == "" && (r.Failure != "" || r.Errors > 0 || r.WarmupErrors > 0)
}

// measure drives the workload through a warm-up and a measured phase and
// fills in r.
func measure(ctx context.Context, c *Client, w *Workload, load Load, warmup time.Duration, pids []int, r *ScenarioResult) error {
	if warmup > 0 {
		wl := load
		wl.N, wl.Duration = 0, warmup
		p, err := Drive(ctx, c, w, wl)
		if err != nil {
			return err
		}
		r.WarmupErrors = p.Errors
		r.ErrorSamples = append(r.ErrorSamples, prefixAll("warm-up ", p.Samples)...)
	}
	// The writer's figures are scraped outside the CPU window, so that
	// rendering /metrics is not counted as the phase's work.
	writer0, writerOK := c.readWriter(ctx)
	var tgt0 time.Duration
	var tgtErr error
	if len(pids) > 0 {
		tgt0, tgtErr = readCPU(pids)
	}
	self0 := SelfCPU()
	mach0, machErr := MachineCPU()
	p, err := Drive(ctx, c, w, load)
	if err != nil {
		return err
	}
	secs := p.Elapsed.Seconds()
	r.BenchCPU = 100 * (SelfCPU() - self0).Seconds() / secs
	if len(pids) > 0 && tgtErr == nil {
		if t1, err := readCPU(pids); err == nil {
			r.TargetCPU = 100 * (t1 - tgt0).Seconds() / secs
		}
		if m, err := ReadMemory(pids[0]); err == nil {
			r.TargetRSS = m.RSS
		}
	}
	if mach1, err := MachineCPU(); err == nil && machErr == nil {
		r.OtherCPU = max(0, 100*(mach1-mach0).Seconds()/secs-r.BenchCPU-r.TargetCPU)
	}
	if writerOK {
		if writer1, ok := c.readWriter(ctx); ok && writer1.Commits > writer0.Commits {
			r.Writer = writerDelta(writer0, writer1)
		}
	}
	r.Requests, r.Errors = p.OK, p.Errors
	r.ErrorSamples = append(r.ErrorSamples, p.Samples...)
	r.Seconds, r.Throughput = secs, p.Throughput()
	r.BestSecond, r.PerSecond = p.BestSecond(), p.PerSecond
	r.Latency = summarize(p.Latency)
	if len(w.Kinds) > 1 {
		for i, k := range w.Kinds {
			h := p.ByKind[i]
			r.ByKind = append(r.ByKind, KindResult{Kind: k, Requests: int64(h.Count()), Throughput: float64(h.Count()) / secs, Latency: summarize(h)})
		}
	}
	r.Signed = p.Signed
	if p.Signed > 0 {
		r.SignMeanUS = float64(p.SignTime) / float64(p.Signed) / 1e3
		r.SignCPU = 100 * p.SignTime.Seconds() / secs
	}
	if load.Rate > 0 {
		r.MaxLagMS = float64(p.MaxLag) / float64(time.Millisecond)
		r.Backlog = p.Backlog
	}
	return nil
}

func prefixAll(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}

// RunScenario sets the scenario up on the target, warms up, measures and
// cleans up. Failures are in the result, not returned: one scenario
// failing does not stop the others.
func RunScenario(ctx context.Context, t Target, c *Client, s *Scenario, cfg *Config) *ScenarioResult {
	r := &ScenarioResult{Target: t.Name, Scenario: s.Name, Bound: s.Bound}
	if t.Moto && s.MotoSkip != "" {
		r.Skipped = s.MotoSkip
		cfg.logf("%s/%s: skipped: %s\n", t.Name, s.Name, s.MotoSkip)
		return r
	}
	env := &Env{Client: c, Moto: t.Moto, K: cfg.K, Merges: cfg.Merges, PoolID: cfg.PoolID, Prefix: randomTag(), Keep: cfg.Keep, Log: cfg.Log}
	t0 := time.Now()
	f, err := s.Setup(ctx, env)
	r.SetupSeconds = time.Since(t0).Seconds()
	if err != nil {
		r.Failure = "setup: " + err.Error()
		cfg.logf("%s/%s: setup failed: %v\n", t.Name, s.Name, err)
		return r
	}
	r.Notes = f.Notes
	cfg.logf("%s/%s: set up in %.1fs (pool %s), running\n", t.Name, s.Name, r.SetupSeconds, f.PoolID)
	warmup := cfg.Warmup
	if f.NoWarmup {
		warmup = 0
	}
	if err := measure(ctx, c, f.Workload, cfg.Load, warmup, t.pids(), r); err != nil {
		r.Failure = "run: " + err.Error()
	}
	if err := f.Cleanup(context.WithoutCancel(ctx)); err != nil {
		r.Notes = append(r.Notes, "cleanup failed: "+err.Error())
	}
	cfg.logf("%s/%s: %.0f req/s, p99 %.2fms, %d errors\n", t.Name, s.Name, r.Throughput, r.Latency.P99, r.Errors+r.WarmupErrors)
	return r
}

// RunCeiling measures ceiling b (one of CeilingBounds) on a ceiling server
// (CeilingHandler) with CeilingWorkload(b), always in the closed model at
// the run's concurrency: a ceiling is the most the machine can answer,
// whatever rate the scenarios use. label names the measurement in the
// report; the result's Scenario is the bound's name.
func RunCeiling(ctx context.Context, label, url string, pid int, b Bound, cfg *Config) *ScenarioResult {
	name := string(b)
	r := &ScenarioResult{Target: label, Scenario: name}
	w := CeilingWorkload(b)
	if w == nil {
		r.Failure = fmt.Sprintf("%q is not a ceiling (ceilings: %v)", b, CeilingBounds())
		return r
	}
	c := NewClient(url, cfg.Load.Concurrency, cfg.AccessKey, cfg.SecretKey)
	c.SignCache = cfg.SignCache
	defer c.Close()
	load := cfg.Load
	load.Rate = 0
	var pids []int
	if pid != 0 {
		pids = []int{pid}
	}
	if err := measure(ctx, c, w, load, cfg.Warmup, pids, r); err != nil {
		r.Failure = "run: " + err.Error()
	}
	cfg.logf("%s/%s: %.0f req/s, p99 %.2fms\n", label, name, r.Throughput, r.Latency.P99)
	return r
}

// RunTarget runs the scenarios against one target.
func RunTarget(ctx context.Context, t Target, scenarios []*Scenario, cfg *Config) []*ScenarioResult {
	c := NewClient(t.URL, cfg.Load.Concurrency, cfg.AccessKey, cfg.SecretKey)
	c.SignCache = cfg.SignCache
	defer c.Close()
	var out []*ScenarioResult
	for _, s := range scenarios {
		if ctx.Err() != nil {
			break
		}
		out = append(out, RunScenario(ctx, t, c, s, cfg))
	}
	return out
}
