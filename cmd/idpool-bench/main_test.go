package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
	args := []string{"-url", ts.URL, "-scenario", "all", "-c", "4", "-d", "300ms", "-warmup", "50ms", "-k", "64", "-merges", "200", "-q", "-json", out}
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
		signed := s.Name == "developer-token" || s.Name == "developer-new" || s.Name == "merge" || s.Name == "describe-pool" || s.Name == "list-identities" || s.Name == "lookup-developer" || s.Name == "mix"
		if signed != (r.Signed > 0) || (signed && r.SignMeanUS <= 0) {
			t.Errorf("%s: %d signed requests, %.1fµs each", s.Name, r.Signed, r.SignMeanUS)
		}
	}
	// Each of the 200 pairs merges once: never more requests, and a phase
	// that ended before its 300ms ended because they were used up.
	if m := got["merge"]; m != nil && (m.Requests > 200 || (m.Seconds < 0.25 && m.Requests != 200)) {
		t.Errorf("merge: %d merges in %.3fs, want at most 200, and all 200 when the phase ended early", m.Requests, m.Seconds)
	}
	// The target's /metrics gave the SQLite writer's group commits of a
	// write scenario's phase, and the table's notes report them.
	if g := got["getid-guest"]; g != nil {
		w := g.Writer
		switch {
		case w == nil:
			t.Error("getid-guest: no SQLite writer figures")
		case w.Commits <= 0 || w.Writes < float64(w.Commits) || w.Writes > float64(g.Requests+g.Errors) || w.CommitSeconds <= 0 || w.CommitSeconds > g.Seconds:
			t.Errorf("getid-guest: %d requests in %.2fs, writer %+v", g.Requests, g.Seconds, *w)
		}
	}
	if !strings.Contains(stdout.String(), "url/getid-guest: SQLite writer: ") {
		t.Errorf("the notes lack the writer's figures:\n%s", &stdout)
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

// TestCeilingAndRatios drives the ceiling handler with each ceiling's
// workload and checks that ratios come out of the report against the
// right ceiling.
func TestCeilingAndRatios(t *testing.T) {
	ts := httptest.NewServer(bench.CeilingHandler())
	defer ts.Close()
	cfg := &bench.Config{Load: bench.Load{Concurrency: 4, Duration: 300 * time.Millisecond}, AccessKey: "AKIDEXAMPLE", SecretKey: "secret"}
	ctx := context.Background()
	ceilings := map[bench.Bound]*bench.ScenarioResult{}
	var all []*bench.ScenarioResult
	for _, b := range bench.CeilingBounds() {
		r := bench.RunCeiling(ctx, "ceiling", ts.URL, 0, b, cfg)
		checkSane(t, r)
		if r.Scenario != string(b) {
			t.Errorf("ceiling %s reported as %q", b, r.Scenario)
		}
		if r.Writer != nil {
			t.Errorf("ceiling %s: SQLite writer figures %+v from a server without one", b, *r.Writer)
		}
		ceilings[b] = r
		all = append(all, r)
	}
	unsigned, signed, page := ceilings[bench.BoundAWSJSON], ceilings[bench.BoundAWSJSONSigned], ceilings[bench.BoundAWSJSONPage]
	if unsigned == nil || signed == nil || page == nil {
		t.Fatalf("ceilings measured: %v", bench.CeilingBounds())
	}
	if unsigned.Signed != 0 {
		t.Errorf("unsigned ceiling: %d requests signed", unsigned.Signed)
	}
	for _, r := range []*bench.ScenarioResult{signed, page} {
		if r.Signed != r.Requests+r.Errors {
			t.Errorf("%s ceiling: %d of %d requests signed", r.Scenario, r.Signed, r.Requests)
		}
	}
	if bad := bench.RunCeiling(ctx, "ceiling", ts.URL, 0, bench.BoundSigning, cfg); !bad.Failed() || bad.Requests != 0 {
		t.Errorf("rs512 was run as a ceiling of the awsJson server: %+v", bad)
	}
	sr, err := bench.MeasureSignRate(ctx, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if sr.PerCore <= 0 || sr.AllCores <= 0 || sr.SealAllCores <= 0 {
		t.Fatalf("sign rate %+v", sr)
	}
	// list-identities takes its bound from the scenario table, as a run
	// does.
	listBound := bench.Find("list-identities").Bound
	if listBound != bench.BoundAWSJSONPage {
		t.Errorf("list-identities is bounded by %q, want %q", listBound, bench.BoundAWSJSONPage)
	}
	rep := &bench.Report{SignRates: []*bench.SignRate{sr}, Ceilings: all, Targets: []*bench.TargetResult{{
		Name: "x",
		Scenarios: []*bench.ScenarioResult{
			{Scenario: "getid-guest", Bound: bench.BoundAWSJSON, Throughput: unsigned.BestSecond / 2},
			{Scenario: "describe-pool", Bound: bench.BoundAWSJSONSigned, Throughput: signed.BestSecond / 4},
			{Scenario: "list-identities", Bound: listBound, Throughput: page.BestSecond / 5},
			{Scenario: "getopenidtoken", Bound: bench.BoundSigning, Throughput: sr.Bound()},
			{Scenario: "mix", Bound: bench.BoundMix, Throughput: 1},
		},
	}}}
	rep.ComputeRatios()
	s := rep.Targets[0].Scenarios
	for i, want := range []float64{0.5, 0.25, 0.2, 1} {
		if d := s[i].Ratio - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: ratio %v, want %v", s[i].Scenario, s[i].Ratio, want)
		}
	}
	if s[2].BoundRate != page.BestSecond {
		t.Errorf("list-identities: bound %.0f req/s, want the page ceiling's %.0f (the signed GetId ceiling's is %.0f)",
			s[2].BoundRate, page.BestSecond, signed.BestSecond)
	}
	if s[4].BoundRate <= 0 || s[4].BoundRate >= unsigned.BestSecond {
		t.Errorf("mix bound %.0f, unsigned ceiling %.0f", s[4].BoundRate, unsigned.BestSecond)
	}
}

// TestCeilingPageMatchesIdpool compares the ceiling server's
// ListIdentities page with idpool's first page of a pool bulk-seeded as
// scripts/bench seeds its pools: the same shape, the same mix of logins
// and nearly the same size, so that the awsjson-signed-page ceiling bounds
// what idpool is asked to do.
func TestCeilingPageMatchesIdpool(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	seeded, err := bench.BulkSeed(ctx, bench.SeedOptions{DataDir: dir, N: 500, DeveloperPercent: 25, FacebookPercent: 25})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := server.New(server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	real := httptest.NewServer(srv.Handler())
	defer real.Close()
	ceiling := httptest.NewServer(bench.CeilingHandler())
	defer ceiling.Close()

	page := func(url, pool string) []byte {
		t.Helper()
		var raw json.RawMessage
		c := bench.NewClient(url, 1, "AKIDEXAMPLE", "secret")
		defer c.Close()
		if err := c.Call(ctx, "ListIdentities", map[string]any{"IdentityPoolId": pool, "MaxResults": 60}, true, &raw); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	type shape struct {
		IdentityPoolId string
		Identities     []struct {
			IdentityId                     string
			Logins                         []string
			CreationDate, LastModifiedDate json.Number
		}
		NextToken string
	}
	describe := func(b []byte) (s shape, logins map[string]int) {
		t.Helper()
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		logins = map[string]int{}
		for _, id := range s.Identities {
			logins[strings.Join(id.Logins, ",")]++
		}
		return s, logins
	}
	want := page(real.URL, seeded.PoolID)
	got := page(ceiling.URL, "us-east-1:00000000-0000-4000-8000-000000000000")
	ws, wl := describe(want)
	gs, gl := describe(got)
	if len(ws.Identities) != 60 || len(gs.Identities) != 60 || ws.NextToken == "" || gs.NextToken == "" {
		t.Fatalf("idpool answered %d identities (NextToken %q), the ceiling %d (%q)", len(ws.Identities), ws.NextToken, len(gs.Identities), gs.NextToken)
	}
	if fmt.Sprint(wl) != fmt.Sprint(gl) {
		t.Errorf("logins per identity: idpool %v, the ceiling %v", wl, gl)
	}
	if len(gs.NextToken) != len(ws.NextToken) || len(gs.Identities[0].IdentityId) != len(ws.Identities[0].IdentityId) {
		t.Errorf("NextToken %d bytes, IdentityId %d; idpool's %d and %d",
			len(gs.NextToken), len(gs.Identities[0].IdentityId), len(ws.NextToken), len(ws.Identities[0].IdentityId))
	}
	// idpool writes times in milliseconds with trailing zeros trimmed, as
	// AWS does, so its page is shorter when the seed's clock fell on a
	// round millisecond (up to 8 bytes an identity): count them back.
	trimmed := 0
	for _, id := range ws.Identities {
		for _, n := range []json.Number{id.CreationDate, id.LastModifiedDate} {
			if _, frac, ok := strings.Cut(string(n), "."); ok {
				trimmed += 3 - len(frac)
			} else {
				trimmed += 4
			}
		}
	}
	if d := float64(len(got)-len(want)-trimmed) / float64(len(want)+trimmed); d > 0.02 || d < -0.02 {
		t.Errorf("the ceiling's page is %d bytes, idpool's %d (%d more with its times' trailing zeros; %+.1f%%)", len(got), len(want), trimmed, 100*d)
	}
	t.Logf("ListIdentities page of 60: the ceiling's %d bytes, idpool's %d", len(got), len(want))

	// The seeded ids are made as the server makes them: UUIDv7 carrying
	// the identity's creation time, so that a seeded store's id index is
	// laid out as a served one's.
	for _, id := range ws.Identities {
		_, rest, _ := strings.Cut(id.IdentityId, ":")
		u, err := uuid.Parse(rest)
		if err != nil || u.Version() != 7 {
			t.Fatalf("seeded identity id %q is not a UUIDv7 (%v)", id.IdentityId, err)
		}
		sec, nsec := u.Time().UnixTime()
		created, err := id.CreationDate.Float64()
		if msOfID := sec*1000 + nsec/1e6; err != nil || msOfID != int64(math.Round(created*1000)) {
			t.Errorf("identity %s: time in its id %d ms, its CreationDate %s (%v)", id.IdentityId, msOfID, id.CreationDate, err)
		}
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
