package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/testpg"
	"github.com/idpool/idpool/test/e2e"
)

// get serves one GET through h and returns the status and body.
func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// TestMetricsPlacement: GET /metrics is on the API handler unless
// MetricsOffAPI keeps it off; MetricsHandler serves the metrics either way.
func TestMetricsPlacement(t *testing.T) {
	for _, tc := range []struct {
		name  string
		off   bool
		onAPI bool
	}{
		{"zero value: on the API handler", false, true},
		{"off the API handler", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServerWith(t, server.Options{MetricsOffAPI: tc.off})
			status, body := get(s.Handler(), "/metrics")
			if got := status == http.StatusOK && strings.Contains(body, "idpool_requests_total"); got != tc.onAPI {
				t.Errorf("GET /metrics on the API handler: %d, metrics served %v, want %v", status, got, tc.onAPI)
			}
			status, body = get(s.MetricsHandler(), "/metrics")
			if status != http.StatusOK || !strings.Contains(body, "idpool_signing_key_age_seconds") {
				t.Errorf("MetricsHandler: %d %.200s", status, body)
			}
		})
	}
}

// syncBuffer is a log destination safe for concurrent use.
type syncBuffer struct{ e2e.SyncBuffer }

// records are the JSON records logged with the message msg.
func (s *syncBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(strings.NewReader(s.String()))
	for {
		var rec map[string]any
		if err := dec.Decode(&rec); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
}

// TestRotationAudit: rotating the signing keys logs an audit line with the
// key ids and no key material.
func TestRotationAudit(t *testing.T) {
	var log syncBuffer
	now := wireClock
	s := newServerWith(t, server.Options{Clock: func() time.Time { return now }, Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	ring := s.KeyRing()
	first := ring.KeyIDs()
	id, err := ring.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lines := log.records(t, "audit")
	if len(lines) != 1 {
		t.Fatalf("%d audit lines, want 1: %v", len(lines), lines)
	}
	rec := lines[0]
	retired, _ := rec["retired_key_ids"].([]any)
	if rec["action"] != "signing_key.rotate" || rec["key_id"] != id || len(retired) != 1 || retired[0] != first[0] {
		t.Errorf("audit line %v: want action signing_key.rotate, key_id %s, retired [%s]", rec, id, first[0])
	}
	if len(rec) != 8 { // time, level, msg, action, account, key_id, retired and deleted key ids
		t.Errorf("audit line %v has unexpected fields", rec)
	}
}

// TestSigningKeyAge: the gauge is the age, at scrape time on the server's
// clock, of the key that signs then.
func TestSigningKeyAge(t *testing.T) {
	var now atomic.Pointer[time.Time]
	set := func(t time.Time) { now.Store(&t) }
	set(wireClock)
	s := newServerWith(t, server.Options{Clock: func() time.Time { return *now.Load() }})
	set(wireClock.Add(90 * time.Second))
	_, body := get(s.MetricsHandler(), "/metrics")
	if !strings.Contains(body, "\nidpool_signing_key_age_seconds 90\n") {
		t.Errorf("no signing key age of 90 s in\n%s", grepLines(body, "idpool_signing_key"))
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPostgresPoolMetrics: over PostgreSQL the connection pool's
// statistics are read at each scrape. It needs IDPOOL_TEST_POSTGRES (and
// fails without it under CI=true, like the store's own tests).
func TestPostgresPoolMetrics(t *testing.T) {
	dsn := testpg.DSN(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, testpg.Schema(t, dsn), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := server.New(server.Options{Store: st, Secrets: [][]byte{testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(s.Handler(), "CreateIdentityPool", `{"IdentityPoolName":"pg","AllowUnauthenticatedIdentities":true}`); rec.Code != http.StatusOK {
		t.Fatalf("CreateIdentityPool: %d %s", rec.Code, rec.Body)
	}
	_, body := get(s.Handler(), "/metrics")
	stats := st.PoolStats()
	for _, want := range []string{
		fmt.Sprintf("\nidpool_postgres_pool_max_connections %d\n", stats.MaxConns),
		"\nidpool_postgres_pool_acquired_connections ",
		"\nidpool_postgres_pool_idle_connections ",
		"\nidpool_postgres_pool_connections ",
		"\nidpool_postgres_pool_acquires_total ",
		"\nidpool_postgres_pool_acquire_wait_seconds_total ",
		"\nidpool_postgres_pool_empty_acquires_total ",
		"\nidpool_postgres_pool_canceled_acquires_total ",
		"\nidpool_store_call_duration_seconds_count{method=\"Update\"} ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in\n%s", strings.TrimSpace(want), grepLines(body, "idpool_postgres"))
		}
	}
	if stats.AcquireCount == 0 || stats.MaxConns == 0 {
		t.Errorf("pool statistics %+v: nothing acquired", stats)
	}
	if !strings.Contains(body, "\nidpool_sqlite_commit_batch_writes_count 0\n") {
		t.Errorf("SQLite group commits counted over PostgreSQL:\n%s", grepLines(body, "idpool_sqlite"))
	}
}

// TestConsoleRotationNamesWhoDidIt: a rotation made in a console session
// is audited with the session's account and the request's id, and its
// access line names the account too.
func TestConsoleRotationNamesWhoDidIt(t *testing.T) {
	var log syncBuffer
	s := newServerWith(t, server.Options{Clock: func() time.Time { return wireClock }, Logger: slog.New(slog.NewJSONHandler(&log, nil)),
		AccessLog: true, DefaultAccount: "123456789012"})
	send := func(method, path string, cookie *http.Cookie, csrf string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://idpool.test"+path, strings.NewReader("{}"))
		if cookie != nil {
			r.AddCookie(cookie)
		}
		if csrf != "" {
			r.Header.Set("X-Idpool-Csrf", csrf)
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w
	}
	w := send(http.MethodGet, "/console/api/session", nil, "")
	var sess struct{ Csrf string }
	if err := json.Unmarshal(w.Body.Bytes(), &sess); err != nil || sess.Csrf == "" || len(w.Result().Cookies()) == 0 {
		t.Fatalf("session: %d %s", w.Code, w.Body)
	}
	w = send(http.MethodPost, "/console/api/keys/rotate", w.Result().Cookies()[0], sess.Csrf)
	if w.Code != http.StatusOK {
		t.Fatalf("rotate: %d %s", w.Code, w.Body)
	}
	id := w.Header().Get("X-Amzn-Requestid")
	audits := log.records(t, "audit")
	if len(audits) != 1 || audits[0]["action"] != "signing_key.rotate" || audits[0]["account"] != "123456789012" || audits[0]["request_id"] != id {
		t.Errorf("audit lines %v: want one signing_key.rotate with account 123456789012 and request_id %s", audits, id)
	}
	var access []map[string]any
	for _, rec := range log.records(t, "request") {
		if rec["path"] == "/console/api/keys/rotate" {
			access = append(access, rec)
		}
	}
	if len(access) != 1 || access[0]["account"] != "123456789012" || access[0]["request_id"] != id {
		t.Errorf("access lines of the rotation %v: want account 123456789012, request_id %s", access, id)
	}
}
