package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck runs `idpool healthcheck` against an httptest server
// that plays /ready, and against an address nobody listens on.
func TestHealthcheck(t *testing.T) {
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/ready" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"status":"ready"}`))
	}))
	defer ready.Close()
	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("{\"status\":\"unavailable\",\n \"problems\":[\"store: unavailable: connection refused\"]}"))
	}))
	defer unready.Close()
	// A handler that never answers: the probe must give up on its own.
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer silent.Close()
	// An address nobody listens on: one the kernel picked, then closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	_, readyPort, _ := net.SplitHostPort(strings.TrimPrefix(ready.URL, "http://"))

	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout string // substring; "" means stdout must be empty
		stderr string // substring; "" means stderr must be empty
	}{
		{name: "ready", args: []string{"--url", ready.URL}, code: 0, stdout: "ready (GET " + ready.URL + "/ready: 200 OK)"},
		{name: "trailing slash", args: []string{"--url", ready.URL + "/"}, code: 0, stdout: "200 OK"},
		{name: "wildcard listen address", env: map[string]string{"IDPOOL_LISTEN": "0.0.0.0:" + readyPort}, code: 0, stdout: "http://127.0.0.1:" + readyPort + "/ready"},
		{name: "empty host listen address", env: map[string]string{"IDPOOL_LISTEN": ":" + readyPort}, code: 0, stdout: "200 OK"},
		{
			name:   "not ready",
			args:   []string{"--url", unready.URL},
			code:   1,
			stderr: "GET " + unready.URL + `/ready: 503 Service Unavailable: {"status":"unavailable", "problems":["store: unavailable: connection refused"]}`,
		},
		{name: "wrong path is not ready", args: []string{"--url", ready.URL + "/elsewhere"}, code: 1, stderr: "404 Not Found"},
		{name: "unreachable", args: []string{"--url", "http://" + closed}, code: 1, stderr: "connection refused"},
		{name: "unreachable default", env: map[string]string{"IDPOOL_LISTEN": closed}, code: 1, stderr: "connection refused"},
		{name: "no answer in time", args: []string{"--url", silent.URL, "--timeout", "50ms"}, code: 1, stderr: "/ready: no answer within 50ms"},
		{name: "bad url", args: []string{"--url", "localhost:4591"}, code: 1, stderr: `--url "localhost:4591": must be an http or https URL`},
		{name: "bad listen address", env: map[string]string{"IDPOOL_LISTEN": "nohostport"}, code: 1, stderr: `IDPOOL_LISTEN "nohostport"`},
		{name: "stray argument", args: []string{"--url", ready.URL, "extra"}, code: 1, stderr: "unexpected arguments: extra"},
		{name: "unknown flag", args: []string{"--no-such-flag"}, code: 1, stderr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			var stdout, stderr bytes.Buffer
			code := healthcheck(tt.args, getenv, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", code, tt.code, stdout.String(), stderr.String())
			}
			check := func(stream, got, want string) {
				t.Helper()
				switch {
				case want == "" && got != "":
					t.Errorf("%s = %q, want it empty", stream, got)
				case want != "" && !strings.Contains(got, want):
					t.Errorf("%s = %q, want it to contain %q", stream, got, want)
				}
			}
			check("stdout", stdout.String(), tt.stdout)
			if tt.code == 1 && !strings.HasPrefix(tt.stderr, "flag provided") {
				// The reason is exactly one line, for the container
				// runtime's health log.
				if n := strings.Count(stderr.String(), "\n"); n != 1 || !strings.HasPrefix(stderr.String(), "idpool healthcheck: ") {
					t.Errorf("stderr = %q, want one line starting with \"idpool healthcheck: \"", stderr.String())
				}
			}
			check("stderr", stderr.String(), tt.stderr)
		})
	}
}

// TestHealthcheckReadyURL pins how the probed URL is derived.
func TestHealthcheckReadyURL(t *testing.T) {
	tests := []struct {
		base, listen, want string
		tls                bool
	}{
		{"", "", "http://127.0.0.1:4591/ready", false},
		{"", "0.0.0.0:4591", "https://127.0.0.1:4591/ready", true},
		{"", "0.0.0.0:4591", "http://127.0.0.1:4591/ready", false},
		{"", "[::]:8080", "http://127.0.0.1:8080/ready", false},
		{"", ":8080", "http://127.0.0.1:8080/ready", false},
		{"", "10.0.0.11:4591", "http://10.0.0.11:4591/ready", false},
		{"", "[::1]:4591", "http://[::1]:4591/ready", false},
		{"http://idpool:4591", "0.0.0.0:1", "http://idpool:4591/ready", false},
		{"https://identity.example.com/base/", "", "https://identity.example.com/base/ready", false},
		{"http://127.0.0.1:4591/?x=1", "", "http://127.0.0.1:4591/ready", false},
	}
	for _, tt := range tests {
		got, err := readyURL(tt.base, tt.listen, tt.tls)
		if err != nil || got != tt.want {
			t.Errorf("readyURL(%q, %q, %v) = %q, %v; want %q", tt.base, tt.listen, tt.tls, got, err, tt.want)
		}
	}
}
