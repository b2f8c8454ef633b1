package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Machine describes where the figures were taken.
type Machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
}

// ThisMachine describes the machine the bench runs on.
func ThisMachine() Machine {
	return Machine{runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version()}
}

// RunSettings are the load settings, for the report.
type RunSettings struct {
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate_per_s,omitempty"`
	N           int64   `json:"n,omitempty"`
	Duration    float64 `json:"duration_s"`
	Warmup      float64 `json:"warmup_s"`
	K           int     `json:"k"`
	Merges      int     `json:"merges,omitempty"`
	SignCache   bool    `json:"sign_cache"`
	PoolID      string  `json:"pool_id,omitempty"`
}

// TargetResult is everything measured on one target.
type TargetResult struct {
	Name      string            `json:"name"`
	URL       string            `json:"url"`
	PID       int               `json:"pid,omitempty"`
	Failure   string            `json:"failure,omitempty"`
	Scenarios []*ScenarioResult `json:"scenarios"`
	// Memory of a server the bench started (or named with -pid), read
	// just before it was stopped.
	Memory *Memory `json:"memory,omitempty"`
	// DataBytes is the size of a started idpool's data directory: before
	// the server stopped (database and write-ahead log) and after (once
	// the log is checkpointed into the database).
	DataBytesRunning int64 `json:"data_bytes_running,omitempty"`
	DataBytesStopped int64 `json:"data_bytes_stopped,omitempty"`
}

// Report is the outcome of a whole run.
type Report struct {
	Started time.Time `json:"started"`
	// LoadAverage is the machine's one-minute load average when the run
	// started and ended: other work on the machine shows here.
	LoadAverage [2]float64  `json:"load_average"`
	Machine     Machine     `json:"machine"`
	Settings    RunSettings `json:"settings"`
	// SignRates and Ceilings are measured at the start of a run and again
	// at its end; bounds take the best of both.
	SignRates []*SignRate       `json:"sign_rates,omitempty"`
	Ceilings  []*ScenarioResult `json:"ceilings,omitempty"`
	Seed      *SeedResult       `json:"seed,omitempty"`
	Targets   []*TargetResult   `json:"targets"`
}

// Failed reports whether anything failed: a target that did not start, a
// scenario that could not be set up, any error response.
func (r *Report) Failed() bool {
	for _, c := range r.Ceilings {
		if c.Failed() {
			return true
		}
	}
	for _, t := range r.Targets {
		if t.Failure != "" {
			return true
		}
		for _, s := range t.Scenarios {
			if s.Failed() {
				return true
			}
		}
	}
	return false
}

// boundRate returns the rate of a bound, 0 when it was not measured. A
// bound is the best the machine was seen to do: the best whole second of
// a ceiling server's phases, the best round of signing (see
// SignRate.Bound). On a machine that other work shares, that keeps a ratio
// from passing 1 because the ceiling happened to be measured in a busy
// moment.
func (r *Report) boundRate(b Bound) float64 {
	var best float64
	switch b {
	case BoundSigning:
		for _, sr := range r.SignRates {
			best = max(best, sr.Bound())
		}
	case BoundAWSJSON, BoundAWSJSONSigned, BoundAWSJSONPage:
		for _, c := range r.Ceilings {
			if c.Scenario == string(b) && !c.Failed() {
				best = max(best, c.BestSecond)
			}
		}
	}
	return best
}

// mixBound is the bound of a mix: each request of part i costs 1/bound_i
// of the machine, so the mix costs Σ w_i/bound_i per request and its bound
// is the inverse (a weighted harmonic mean).
func (r *Report) mixBound(parts []Part) float64 {
	var cost, total float64
	for _, p := range parts {
		s := Find(p.Scenario)
		if s == nil {
			return 0
		}
		b := r.boundRate(s.Bound)
		if b == 0 {
			return 0
		}
		cost += float64(p.Weight) / b
		total += float64(p.Weight)
	}
	return total / cost
}

// ComputeRatios sets each scenario's bound rate and its ratio to it.
func (r *Report) ComputeRatios() {
	for _, t := range r.Targets {
		for _, s := range t.Scenarios {
			if s.Skipped != "" || s.Bound == "" {
				continue
			}
			if s.Bound == BoundMix {
				if sc := Find(s.Scenario); sc != nil {
					s.BoundRate = r.mixBound(sc.Parts)
				}
			} else {
				s.BoundRate = r.boundRate(s.Bound)
			}
			if s.BoundRate > 0 {
				s.Ratio = s.Throughput / s.BoundRate
			}
		}
	}
}

// WriteJSON writes the report, indented, to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func fmtMS(ms float64) string {
	switch {
	case ms == 0:
		return "-"
	case ms < 1:
		return fmt.Sprintf("%.0fµs", ms*1000)
	case ms < 100:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 10000:
		return fmt.Sprintf("%.0fms", ms)
	default:
		return fmt.Sprintf("%.1fs", ms/1000)
	}
}

func fmtMB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func fmtPct(p float64) string {
	if p == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", p)
}

// WriteTable writes the human-readable report.
func (r *Report) WriteTable(w io.Writer) {
	m, s := r.Machine, r.Settings
	fmt.Fprintf(w, "machine: %s/%s, %d CPUs, GOMAXPROCS %d, %s; load average %.2f at the start, %.2f at the end\n",
		m.GOOS, m.GOARCH, m.NumCPU, m.GOMAXPROCS, m.GoVersion, r.LoadAverage[0], r.LoadAverage[1])
	mode := fmt.Sprintf("closed model, %d workers", s.Concurrency)
	if s.Rate > 0 {
		mode = fmt.Sprintf("open model, %.0f req/s, at most %d in flight", s.Rate, s.Concurrency)
	}
	fmt.Fprintf(w, "load: %s, %gs per scenario (n %d), warm-up %gs, K %d, sign cache %v\n", mode, s.Duration, s.N, s.Warmup, s.K, s.SignCache)
	for _, sr := range r.SignRates {
		fmt.Fprintf(w, "rs512 signing at the %s (RSA-2048 PKCS#1 v1.5 SHA-512), best (median) of %d rounds: %.0f/s (%.0f) on one core, %.0f/s (%.0f) on %d cores; AES-256-GCM seal of 512 B: %.0f/s on %d cores\n",
			sr.Label, signRounds, sr.PerCore, sr.PerCoreMedian, sr.AllCores, sr.AllCoresMedian, sr.Cores, sr.SealAllCores, sr.Cores)
	}
	if sd := r.Seed; sd != nil {
		fmt.Fprintf(w, "bulk seed: %d identities (%d guests, %d developer, %d Facebook) into pool %s in %.1fs (%.0f/s), data dir %s\n",
			sd.Identities, sd.Guests, sd.Developers, sd.Facebook, sd.PoolID, sd.Elapsed.Seconds(), sd.Rate(), fmtMB(sd.DBBytes))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tscenario\treq/s\tp50\tp90\tp99\tmax\terrors\tsign/req\tsign cpu\ttarget cpu\tbench cpu\tother cpu\tbound\tbound req/s\tratio\t")
	row := func(s *ScenarioResult) {
		if s.Skipped != "" {
			fmt.Fprintf(tw, "%s\t%s\tskipped\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n", s.Target, s.Scenario)
			return
		}
		if s.Failure != "" && s.Requests == 0 {
			fmt.Fprintf(tw, "%s\t%s\tFAILED\t\t\t\t\t%d\t\t\t\t\t\t\t\t\t\n", s.Target, s.Scenario, s.Errors+s.WarmupErrors)
			return
		}
		sign := "-"
		if s.Signed > 0 {
			sign = fmt.Sprintf("%.1fµs", s.SignMeanUS)
		}
		bound, boundRate, ratio := string(s.Bound), "-", "-"
		if s.BoundRate > 0 {
			boundRate = fmt.Sprintf("%.0f", s.BoundRate)
			ratio = fmt.Sprintf("%.2f", s.Ratio)
		}
		if bound == "" {
			bound = "-"
		}
		errs := fmt.Sprint(s.Errors + s.WarmupErrors)
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			s.Target, s.Scenario, s.Throughput, fmtMS(s.Latency.P50), fmtMS(s.Latency.P90), fmtMS(s.Latency.P99), fmtMS(s.Latency.Max),
			errs, sign, fmtPct(s.SignCPU), fmtPct(s.TargetCPU), fmtPct(s.BenchCPU), fmtPct(s.OtherCPU), bound, boundRate, ratio)
		for _, k := range s.ByKind {
			fmt.Fprintf(tw, "\t· %s\t%.0f\t%s\t%s\t%s\t%s\t\t\t\t\t\t\t\t\t\t\n",
				k.Kind, k.Throughput, fmtMS(k.Latency.P50), fmtMS(k.Latency.P90), fmtMS(k.Latency.P99), fmtMS(k.Latency.Max))
		}
	}
	for _, c := range r.Ceilings {
		row(c)
	}
	for _, t := range r.Targets {
		if t.Failure != "" {
			fmt.Fprintf(tw, "%s\t(target failed)\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n", t.Name)
		}
		for _, s := range t.Scenarios {
			row(s)
		}
	}
	tw.Flush()

	var notes []string
	if len(r.Ceilings) > 0 {
		notes = append(notes, fmt.Sprintf("bounds: the ceilings' best whole second (%s req/s), rs512 %.0f/s; ratio = scenario req/s / bound req/s",
			ceilingBest(r.Ceilings), r.boundRate(BoundSigning)))
	}
	for _, t := range r.Targets {
		if t.Failure != "" {
			notes = append(notes, fmt.Sprintf("%s: FAILED: %s", t.Name, t.Failure))
		}
		if t.Memory != nil {
			line := fmt.Sprintf("%s (pid %d): peak RSS %s, RSS at the end %s", t.Name, t.PID, fmtMB(t.Memory.HWM), fmtMB(t.Memory.RSS))
			if t.DataBytesRunning > 0 {
				line += fmt.Sprintf("; data dir %s while running, %s after stopping", fmtMB(t.DataBytesRunning), fmtMB(t.DataBytesStopped))
			}
			notes = append(notes, line)
		}
	}
	all := append(append([]*ScenarioResult{}, r.Ceilings...), flatten(r.Targets)...)
	for _, s := range all {
		id := s.Target + "/" + s.Scenario
		if s.Skipped != "" {
			notes = append(notes, id+": skipped: "+s.Skipped)
		}
		if s.Failure != "" {
			notes = append(notes, id+": FAILED: "+s.Failure)
		}
		for _, n := range s.Notes {
			notes = append(notes, id+": "+n)
		}
		if wr := s.Writer; wr != nil && s.Seconds > 0 {
			notes = append(notes, fmt.Sprintf("%s: SQLite writer: %.0f group commits/s carrying %.1f writes each; COMMIT (WAL written and flushed) %s on average, %.0f %% of the time",
				id, float64(wr.Commits)/s.Seconds, wr.Writes/float64(wr.Commits), fmtMS(1e3*wr.CommitSeconds/float64(wr.Commits)), 100*wr.CommitSeconds/s.Seconds))
		}
		if s.Backlog > 0 {
			notes = append(notes, fmt.Sprintf("%s: did not sustain the rate: %d requests due were never sent (max lag %s)", id, s.Backlog, fmtMS(s.MaxLagMS)))
		}
		for _, e := range s.ErrorSamples {
			notes = append(notes, id+": ERROR "+e)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, strings.TrimSpace(n))
		}
	}
}

func ceilingBest(cs []*ScenarioResult) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s/%s %.0f", c.Target, c.Scenario, c.BestSecond))
	}
	return strings.Join(parts, ", ")
}

func flatten(ts []*TargetResult) []*ScenarioResult {
	var out []*ScenarioResult
	for _, t := range ts {
		out = append(out, t.Scenarios...)
	}
	return out
}
