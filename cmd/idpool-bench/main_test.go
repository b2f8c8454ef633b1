package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/bench"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// newServer starts idpool in-process, over a SQLite store in a temporary
// directory, behind httptest.
func newServer(t *testing.T, keys auth.Keys) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := server.New(server.Options{Store: st, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// checkSane fails the test unless the scenario ran, without errors, with
// plausible figures.
func checkSane(t *testing.T, r *bench.ScenarioResult) {
	t.Helper()
	id := r.Target + "/" + r.Scenario
	if r.Skipped != "" || r.Failure != "" {
		t.Errorf("%s: skipped %q, failure %q", id, r.Skipped, r.Failure)
		return
	}
	if r.Errors != 0 || r.WarmupErrors != 0 {
		t.Errorf("%s: %d errors, %d in warm-up: %q", id, r.Errors, r.WarmupErrors, r.ErrorSamples)
	}
	l := r.Latency
	if r.Requests == 0 || r.Throughput <= 0 || r.Seconds <= 0 {
		t.Errorf("%s: %d requests, %.1f req/s in %.2fs", id, r.Requests, r.Throughput, r.Seconds)
	}
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("%s: latencies out of order: %+v", id, l)
	}
	if got := float64(r.Requests) / r.Seconds; got < r.Throughput*0.99 || got > r.Throughput*1.01 {
		t.Errorf("%s: %d requests in %.2fs is not %.1f req/s", id, r.Requests, r.Seconds, r.Throughput)
	}
	if r.BenchCPU <= 0 {
		t.Errorf("%s: bench CPU %.1f%%", id, r.BenchCPU)
	}
}

// TestSmoke runs every scenario briefly through the command, against an
// in-process server, and checks the JSON report.
func TestSmoke(t *testing.T) {
	ts := newServer(t, nil)
	out := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	args := []string{"-url", ts.URL, "-scenario", "all", "-c", "4", "-d", "300ms", "-warmup", "50ms", "-k", "64", "-q", "-json", out}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != 1 {
		t.Fatalf("%d targets", len(rep.Targets))
	}
	got := map[string]*bench.ScenarioResult{}
	for _, r := range rep.Targets[0].Scenarios {
		got[r.Scenario] = r
		checkSane(t, r)
	}
	for _, s := range bench.Scenarios() {
		r := got[s.Name]
		if r == nil {
			t.Errorf("scenario %s did not run", s.Name)
			continue
		}
		signed := s.Name == "developer-token" || s.Name == "describe-pool" || s.Name == "list-identities" || s.Name == "lookup-developer" || s.Name == "mix"
		if signed != (r.Signed > 0) || (signed && r.SignMeanUS <= 0) {
			t.Errorf("%s: %d signed requests, %.1fµs each", s.Name, r.Signed, r.SignMeanUS)
		}
	}
	mix := got["mix"]
	if mix != nil {
		if len(mix.ByKind) != len(bench.Find("mix").Parts) {
			t.Fatalf("mix: %d kinds", len(mix.ByKind))
		}
		var sum int64
		for _, k := range mix.ByKind {
			sum += k.Requests
		}
		if sum != mix.Requests {
			t.Errorf("mix: kinds add up to %d requests, not %d", sum, mix.Requests)
		}
	}
	for _, want := range []string{"getid-guest", "lookup-developer", "mix", "· getid-existing"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, &stdout)
		}
	}
}

// TestCeilingAndRatios drives the ceiling handler, signed and unsigned,
// and checks that ratios come out of the report.
func TestCeilingAndRatios(t *testing.T) {
	ts := httptest.NewServer(bench.CeilingHandler())
	defer ts.Close()
	cfg := &bench.Config{Load: bench.Load{Concurrency: 4, Duration: 300 * time.Millisecond}, AccessKey: "AKIDEXAMPLE", SecretKey: "secret"}
	ctx := context.Background()
	unsigned := bench.RunCeiling(ctx, "ceiling", ts.URL, 0, false, cfg)
	signed := bench.RunCeiling(ctx, "ceiling", ts.URL, 0, true, cfg)
	checkSane(t, unsigned)
	checkSane(t, signed)
	if signed.Signed != signed.Requests+signed.Errors {
		t.Errorf("signed ceiling: %d of %d requests signed", signed.Signed, signed.Requests)
	}
	sr, err := bench.MeasureSignRate(ctx, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if sr.PerCore <= 0 || sr.AllCores <= 0 || sr.SealAllCores <= 0 {
		t.Fatalf("sign rate %+v", sr)
	}
	rep := &bench.Report{SignRates: []*bench.SignRate{sr}, Ceilings: []*bench.ScenarioResult{unsigned, signed}, Targets: []*bench.TargetResult{{
		Name: "x",
		Scenarios: []*bench.ScenarioResult{
			{Scenario: "getid-guest", Bound: bench.BoundAWSJSON, Throughput: unsigned.Throughput / 2},
			{Scenario: "describe-pool", Bound: bench.BoundAWSJSONSigned, Throughput: signed.Throughput / 4},
			{Scenario: "getopenidtoken", Bound: bench.BoundSigning, Throughput: sr.Bound()},
			{Scenario: "mix", Bound: bench.BoundMix, Throughput: 1},
		},
	}}}
	rep.ComputeRatios()
	s := rep.Targets[0].Scenarios
	for i, want := range []float64{0.5, 0.25, 1} {
		if d := s[i].Ratio - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: ratio %v, want %v", s[i].Scenario, s[i].Ratio, want)
		}
	}
	if s[3].BoundRate <= 0 || s[3].BoundRate >= unsigned.Throughput {
		t.Errorf("mix bound %.0f, unsigned ceiling %.0f", s[3].BoundRate, unsigned.Throughput)
	}
}

// TestStrictAndOpenModel checks that the generator's signatures pass
// idpool's strict verification, and that the open model sends at the
// rate asked for.
func TestStrictAndOpenModel(t *testing.T) {
	key := auth.Key{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench-secret", Account: "000000000000"}
	ts := newServer(t, auth.Keys{key.AccessKeyID: key})
	scenarios, err := bench.Select("developer-token,describe-pool")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &bench.Config{Load: bench.Load{Concurrency: 4, Rate: 100, Duration: 500 * time.Millisecond}, K: 8,
		AccessKey: key.AccessKeyID, SecretKey: key.SecretAccessKey, SignCache: true}
	results := bench.RunTarget(context.Background(), bench.Target{Name: "strict", URL: ts.URL}, scenarios, cfg)
	for _, r := range results {
		checkSane(t, r)
		// 50 requests are due in the half second: each was sent or, on
		// a machine too busy to keep up, is counted as backlog; none
		// more.
		if r.Requests+r.Backlog != 50 || r.MaxLagMS <= 0 {
			t.Errorf("%s: %d requests and a backlog of %d (max lag %.1fms) at 100/s for 0.5s", r.Scenario, r.Requests, r.Backlog, r.MaxLagMS)
		}
	}

	// A wrong secret is refused: the run fails with counted errors.
	cfg.SecretKey = "wrong"
	cfg.Load = bench.Load{Concurrency: 2, N: 10}
	r := bench.RunTarget(context.Background(), bench.Target{Name: "strict", URL: ts.URL}, scenarios[1:], cfg)[0]
	if !r.Failed() || !strings.Contains(r.Failure, "InvalidSignatureException") {
		t.Errorf("a bad signature was not reported: %+v", r)
	}
}

func TestRefusesRemoteTargets(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-url", "http://example.com/", "-d", "1s"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "non-loopback") {
		t.Errorf("exit %d, stderr %q", code, &stderr)
	}
}
