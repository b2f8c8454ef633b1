package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/server"
)

// TestConsoleOff: with the console off, its pages and its API answer 404
// with a line that says why, while the API and /health still answer; with
// it on, the same page is served.
func TestConsoleOff(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	get := func(t *testing.T, s *server.Server, method, path string) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader("{}")))
		body, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(body)
	}
	off := newServerWith(t, server.Options{Clock: clock, Rand: newRand(1), ConsoleOff: true})
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/console/"},
		{http.MethodGet, "/console/assets/console.js"},
		{http.MethodPost, "/console/api/aws"},
	} {
		code, body := get(t, off, c.method, c.path)
		if code != http.StatusNotFound || !strings.Contains(body, "the web console is off on this server (--console off)") {
			t.Errorf("console off: %s %s = %d %q, want 404 saying the console is off", c.method, c.path, code, body)
		}
	}
	if code, body := get(t, off, http.MethodGet, "/health"); code != http.StatusOK {
		t.Errorf("console off: GET /health = %d %q", code, body)
	}

	on := newServerWith(t, server.Options{Clock: clock, Rand: newRand(1)})
	if code, body := get(t, on, http.MethodGet, "/console/"); code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Errorf("console on: GET /console/ = %d %.80q", code, body)
	}
}
