package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// gather returns the families of m's registry by name.
func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// find returns the metric of family name whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
next:
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func newTestMetrics() *Metrics {
	return New(Options{
		Operations:      []string{"GetId", "DescribeIdentityPool", "sts:GetCallerIdentity"},
		TokenKinds:      []string{"openid", "developer"},
		CredentialFlows: []string{"enhanced", "basic"},
	})
}

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		errorType string
		want      string
	}{
		{"success", 200, "", OutcomeOK},
		{"redirect", 304, "", OutcomeOK},
		{"client error", 400, "ResourceNotFoundException", OutcomeClientError},
		{"wrong method", 405, "UnknownOperationException", OutcomeClientError},
		{"refused without a code", 413, "", OutcomeClientError},
		{"internal error", 500, "InternalErrorException", OutcomeServerError},
		{"STS receiver error", 503, "ServiceUnavailable", OutcomeServerError},
		{"code with a success status", 200, "SomethingException", OutcomeClientError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Outcome(tc.status, tc.errorType); got != tc.want {
				t.Errorf("Outcome(%d, %q) = %s, want %s", tc.status, tc.errorType, got, tc.want)
			}
		})
	}
}

func TestSanitizeErrorType(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"none", "", ""},
		{"Cognito code", "ResourceNotFoundException", "ResourceNotFoundException"},
		{"STS code", "InvalidIdentityToken", "InvalidIdentityToken"},
		{"qualified code", "com.amazon.coral:Throttling_1-2", "com.amazon.coral:Throttling_1-2"},
		{"an id", "us-east-1:0b9a6f34-6c5b-4b07-8f3c-3b4a1d0e2f11", "us-east-1:0b9a6f34-6c5b-4b07-8f3c-3b4a1d0e2f11"},
		{"spaces", "Not a code", Other},
		{"quotes", `Bad"Code`, Other},
		{"not UTF-8", "Bad\xffCode", Other},
		{"too long", strings.Repeat("A", maxErrorType+1), Other},
		{"longest", strings.Repeat("A", maxErrorType), strings.Repeat("A", maxErrorType)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sanitizeErrorType(tc.in); got != tc.want {
				t.Errorf("sanitizeErrorType(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRequests: requests are counted under the fixed operation names or
// Other, with their outcome and error type, and timed.
func TestRequests(t *testing.T) {
	m := newTestMetrics()
	if got := m.Operation("GetId").Name(); got != "GetId" {
		t.Errorf("Operation(GetId) is %s", got)
	}
	for _, name := range []string{"", "NoSuchOperation", "sts:NoSuchAction", "us-east-1:0b9a6f34-6c5b-4b07-8f3c-3b4a1d0e2f11"} {
		if got := m.Operation(name); got != m.Operation(Other) {
			t.Errorf("Operation(%q) is %s, want %s", name, got.Name(), Other)
		}
	}
	m.Operation("GetId").Observe(200, "", 3*time.Millisecond)
	m.Operation("GetId").Observe(200, "", 3*time.Millisecond)
	m.Operation("GetId").Observe(400, "NotAuthorizedException", time.Millisecond)
	m.Operation("GetId").Observe(500, "InternalErrorException", time.Millisecond)
	m.Operation("sts:GetCallerIdentity").Observe(403, "InvalidClientTokenId", time.Millisecond)
	m.Operation("bogus").Observe(400, "UnknownOperationException", time.Millisecond)
	m.Operation("bogus").Observe(400, "a message, not a code", time.Millisecond)
	m.Operation("GetId").Limited()

	fams := gather(t, m)
	for _, tc := range []struct {
		op, outcome, errorType string
		want                   float64
	}{
		{"GetId", OutcomeOK, "", 2},
		{"GetId", OutcomeClientError, "NotAuthorizedException", 1},
		{"GetId", OutcomeServerError, "InternalErrorException", 1},
		{"sts:GetCallerIdentity", OutcomeClientError, "InvalidClientTokenId", 1},
		{Other, OutcomeClientError, "UnknownOperationException", 1},
		{Other, OutcomeClientError, Other, 1},
		{"DescribeIdentityPool", OutcomeOK, "", 0},
	} {
		c := find(fams, "idpool_requests_total", map[string]string{"operation": tc.op, "outcome": tc.outcome, "error_type": tc.errorType})
		if c == nil || c.GetCounter().GetValue() != tc.want {
			t.Errorf("requests %s %s %q = %v, want %v", tc.op, tc.outcome, tc.errorType, c.GetCounter(), tc.want)
		}
	}
	// Error series exist only once an error happened.
	if c := find(fams, "idpool_requests_total", map[string]string{"operation": "DescribeIdentityPool", "outcome": OutcomeClientError}); c != nil {
		t.Errorf("an error series of DescribeIdentityPool exists before any error: %v", c)
	}
	h := find(fams, "idpool_request_duration_seconds", map[string]string{"operation": "GetId"})
	if h.GetHistogram().GetSampleCount() != 4 || h.GetHistogram().GetSampleSum() < 0.0079 || h.GetHistogram().GetSampleSum() > 0.0081 {
		t.Errorf("GetId durations: %v", h.GetHistogram())
	}
	if c := find(fams, "idpool_rate_limited_requests_total", map[string]string{"operation": "GetId"}); c.GetCounter().GetValue() != 1 {
		t.Errorf("GetId refusals = %v, want 1", c.GetCounter())
	}
}

// TestObserveAllocates nothing: the request path looks its series up
// once, in New, and an error series once, at its first use.
func TestObserveAllocates(t *testing.T) {
	m := newTestMetrics()
	m.Operation("GetId").Observe(400, "NotAuthorizedException", time.Millisecond)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"success", func() { m.Operation("GetId").Observe(200, "", time.Millisecond) }},
		{"error", func() { m.Operation("GetId").Observe(400, "NotAuthorizedException", time.Millisecond) }},
		{"unknown operation", func() { m.Operation("nope").Observe(200, "", time.Millisecond) }},
		{"refusal", func() { m.Operation("GetId").Limited() }},
		{"token", func() { m.TokenIssued("openid") }},
		{"credentials", func() { m.CredentialsIssued("basic") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
				t.Errorf("%v allocations per call, want 0", n)
			}
		})
	}
}

// TestConcurrentObserve creates error series from many goroutines at
// once (the race detector checks the series map).
func TestConcurrentObserve(t *testing.T) {
	m := newTestMetrics()
	var wg sync.WaitGroup
	codes := []string{"AException", "BException", "CException"}
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				m.Operation("GetId").Observe(400, codes[(i+j)%len(codes)], time.Millisecond)
			}
		})
	}
	wg.Wait()
	fams := gather(t, m)
	total := 0.0
	for _, code := range codes {
		total += find(fams, "idpool_requests_total", map[string]string{"operation": "GetId", "error_type": code}).GetCounter().GetValue()
	}
	if total != 800 {
		t.Errorf("%v errors counted, want 800", total)
	}
}

func TestTokensAndCredentials(t *testing.T) {
	m := newTestMetrics()
	m.TokenIssued("openid")
	m.TokenIssued("developer")
	m.TokenIssued("developer")
	m.TokenIssued("something else")
	m.CredentialsIssued("enhanced")
	m.CredentialsIssued("basic")
	m.CredentialsIssued("us-east-1:0b9a6f34")
	fams := gather(t, m)
	for _, tc := range []struct {
		family, label, value string
		want                 float64
	}{
		{"idpool_tokens_issued_total", "kind", "openid", 1},
		{"idpool_tokens_issued_total", "kind", "developer", 2},
		{"idpool_tokens_issued_total", "kind", Other, 1},
		{"idpool_credentials_issued_total", "flow", "enhanced", 1},
		{"idpool_credentials_issued_total", "flow", "basic", 1},
		{"idpool_credentials_issued_total", "flow", Other, 1},
	} {
		if c := find(fams, tc.family, map[string]string{tc.label: tc.value}); c.GetCounter().GetValue() != tc.want {
			t.Errorf("%s{%s=%q} = %v, want %v", tc.family, tc.label, tc.value, c.GetCounter(), tc.want)
		}
	}
	if n := len(fams["idpool_tokens_issued_total"].GetMetric()); n != 3 {
		t.Errorf("%d token series, want 3 (openid, developer, other)", n)
	}
}

// countOf is the sample count of a store method's histogram.
func countOf(t *testing.T, m *Metrics, method string) uint64 {
	t.Helper()
	return find(gather(t, m), "idpool_store_call_duration_seconds", map[string]string{"method": method}).GetHistogram().GetSampleCount()
}

// TestStore: the decorator passes every call to the store, returns its
// results and errors unchanged, and times each call by method.
func TestStore(t *testing.T) {
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := newTestMetrics()
	st := m.Store(raw)
	now := time.Unix(1700000000, 0).UTC()
	pool := &store.Pool{ID: "us-east-1:pool", Account: "111111111111", Region: "us-east-1", Name: "p", CreatedAt: now, UpdatedAt: now}

	// Update runs the function on the store's own transaction, and
	// returns its error as it is.
	mine := errors.New("the function's own error")
	if err := st.Update(ctx, func(tx store.Tx) error { return mine }); err != mine {
		t.Errorf("Update returned %v, want the function's error itself", err)
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, pool) }); err != nil {
		t.Fatal(err)
	}
	if pool.Version != 1 {
		t.Errorf("the store's changes to the record were lost: version %d", pool.Version)
	}
	guest := &store.Identity{ID: "us-east-1:guest", PoolID: pool.ID, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateIdentity(ctx, guest); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIdentity(ctx, guest); !errors.Is(err, store.ErrExists) {
		t.Errorf("second CreateIdentity: %v, want ErrExists", err)
	}

	for _, tc := range []struct {
		method string
		call   func() (any, error)
		want   any
	}{
		{"GetPool", func() (any, error) { p, err := st.GetPool(ctx, pool.ID); return p.Name, err }, "p"},
		{"ListPools", func() (any, error) { ps, err := st.ListPools(ctx, pool.Account, "", nil, 10); return len(ps), err }, 1},
		{"CountPools", func() (any, error) { return st.CountPools(ctx, pool.Account, pool.Region) }, 1},
		{"GetIdentity", func() (any, error) { id, err := st.GetIdentity(ctx, guest.ID); return id.PoolID, err }, pool.ID},
		{"ListIdentities", func() (any, error) { ids, err := st.ListIdentities(ctx, pool.ID, nil, 10, false); return len(ids), err }, 1},
		{"ListSigningKeys", func() (any, error) { ks, err := st.ListSigningKeys(ctx); return len(ks), err }, 0},
		{"Ping", func() (any, error) { return nil, st.Ping(ctx) }, nil},
	} {
		t.Run(tc.method, func(t *testing.T) {
			before := countOf(t, m, tc.method)
			got, err := tc.call()
			if err != nil || got != tc.want {
				t.Errorf("%s = %v, %v; want %v", tc.method, got, err, tc.want)
			}
			if n := countOf(t, m, tc.method); n != before+1 {
				t.Errorf("%s timed %d times, want %d", tc.method, n, before+1)
			}
		})
	}
	t.Run("errors pass unchanged", func(t *testing.T) {
		if _, err := st.GetPool(ctx, "us-east-1:missing"); err != store.ErrNotFound {
			t.Errorf("GetPool of a missing pool: %v, want store.ErrNotFound itself", err)
		}
		if _, err := st.FindLogin(ctx, pool.ID, "graph.facebook.com", "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindLogin of a missing login: %v", err)
		}
		if n := countOf(t, m, "FindLogin"); n != 1 {
			t.Errorf("FindLogin timed %d times, want 1", n)
		}
	})
	if n := countOf(t, m, "Update"); n != 2 {
		t.Errorf("Update timed %d times, want 2", n)
	}
	if n := countOf(t, m, "CreateIdentity"); n != 2 {
		t.Errorf("CreateIdentity timed %d times, want 2", n)
	}
	// Close reaches the store.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := raw.Update(ctx, func(store.Tx) error { return nil }); !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("Update after Close: %v, want sqlite.ErrClosed", err)
	}
}

// TestSQLiteObserver: every group commit is counted before its writers
// return, and the checkpoint that closing the store runs is timed.
func TestSQLiteObserver(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := newTestMetrics()
	st.SetObserver(m.SQLite())
	now := time.Unix(1700000000, 0).UTC()
	pool := &store.Pool{ID: "us-east-1:pool", Account: "111111111111", Region: "us-east-1", CreatedAt: now, UpdatedAt: now}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, pool) }); err != nil {
		t.Fatal(err)
	}
	h := find(gather(t, m), "idpool_sqlite_commit_batch_writes", nil).GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 1 {
		t.Errorf("after one write: %d commits carrying %v writes, want 1 and 1", h.GetSampleCount(), h.GetSampleSum())
	}
	if h := find(gather(t, m), "idpool_sqlite_commit_duration_seconds", nil).GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() <= 0 {
		t.Errorf("after one write: %d COMMITs timed, %vs in all; want 1, taking some time", h.GetSampleCount(), h.GetSampleSum())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if n := find(gather(t, m), "idpool_sqlite_checkpoint_duration_seconds", nil).GetHistogram().GetSampleCount(); n < 1 {
		t.Errorf("%d checkpoints timed, want at least the one of Close", n)
	}
}

func TestConnPool(t *testing.T) {
	m := newTestMetrics()
	stats := ConnPoolStats{Acquired: 2, Idle: 3, Total: 5, Max: 8, Acquires: 100, AcquireDuration: 1500 * time.Millisecond, EmptyAcquires: 7, CanceledAcquires: 1}
	if err := m.WatchConnPool(func() ConnPoolStats { return stats }); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchConnPool(func() ConnPoolStats { return stats }); err == nil {
		t.Error("a second connection pool was registered")
	}
	fams := gather(t, m)
	for _, tc := range []struct {
		name string
		typ  dto.MetricType
		want float64
	}{
		{"idpool_postgres_pool_acquired_connections", dto.MetricType_GAUGE, 2},
		{"idpool_postgres_pool_idle_connections", dto.MetricType_GAUGE, 3},
		{"idpool_postgres_pool_connections", dto.MetricType_GAUGE, 5},
		{"idpool_postgres_pool_max_connections", dto.MetricType_GAUGE, 8},
		{"idpool_postgres_pool_acquires_total", dto.MetricType_COUNTER, 100},
		{"idpool_postgres_pool_acquire_wait_seconds_total", dto.MetricType_COUNTER, 1.5},
		{"idpool_postgres_pool_empty_acquires_total", dto.MetricType_COUNTER, 7},
		{"idpool_postgres_pool_canceled_acquires_total", dto.MetricType_COUNTER, 1},
	} {
		f := fams[tc.name]
		if f == nil || f.GetType() != tc.typ {
			t.Errorf("%s: %v, want a %v", tc.name, f, tc.typ)
			continue
		}
		got := f.GetMetric()[0].GetGauge().GetValue() + f.GetMetric()[0].GetCounter().GetValue()
		if got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Read at every scrape, not copied once.
	stats.Acquired = 4
	if got := gather(t, m)["idpool_postgres_pool_acquired_connections"].GetMetric()[0].GetGauge().GetValue(); got != 4 {
		t.Errorf("acquired after a change = %v, want 4", got)
	}
}

func TestSigningKeyAge(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := New(Options{Clock: func() time.Time { return now }})
	var created time.Time
	var ok bool
	if err := m.WatchSigningKey(func(at time.Time) (time.Time, bool) {
		if !at.Equal(now) {
			t.Errorf("asked at %v, want the clock's %v", at, now)
		}
		return created, ok
	}); err != nil {
		t.Fatal(err)
	}
	if f := gather(t, m)["idpool_signing_key_age_seconds"]; f != nil {
		t.Errorf("an age without a signing key: %v", f)
	}
	created, ok = now.Add(-90*time.Minute), true
	f := gather(t, m)["idpool_signing_key_age_seconds"]
	if f == nil || f.GetMetric()[0].GetGauge().GetValue() != 5400 {
		t.Errorf("age = %v, want 5400", f)
	}
}

// TestHandler serves the exposition format with the runtime collectors.
func TestHandler(t *testing.T) {
	m := newTestMetrics()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	m.Handler().ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for _, want := range []string{"go_goroutines ", "process_cpu_seconds_total ", `idpool_requests_total{error_type="",operation="GetId",outcome="ok"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in the exposition", want)
		}
	}
}
