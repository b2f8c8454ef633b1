package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ceilingIdentity is the fixed IdentityId the ceiling server answers.
const ceilingIdentity = "us-east-1:6b0ab0e4-0f2c-4c4b-9e7e-2f1f3c1d2a10"

// CeilingHandler is the least an awsJson1_1 server can do: check the
// method and target, read the body, and answer a fixed GetId response with
// the headers idpool sends (content type and length, request id, Date,
// CORS). No store, no validation, no authentication. Driven by the same
// generator as a real server, it measures what HTTP, JSON framing and the
// generator itself allow on this machine.
func CeilingHandler() http.Handler {
	body := []byte(`{"IdentityId":"` + ceilingIdentity + `"}`)
	length := strconv.Itoa(len(body))
	var seq atomic.Uint64
	base := rand.Uint64()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPfx) {
			http.Error(w, "want POST with X-Amz-Target", http.StatusBadRequest)
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		n := seq.Add(1)
		h := w.Header()
		h["Content-Type"] = []string{contentType}
		h["Content-Length"] = []string{length}
		h["X-Amzn-Requestid"] = []string{fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(base), n)}
		h["Date"] = []string{time.Now().UTC().Format(http.TimeFormat)}
		h["Access-Control-Allow-Origin"] = []string{"*"}
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
}

// ServeCeiling serves CeilingHandler on ln until ctx is done.
func ServeCeiling(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: CeilingHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// CeilingWorkload sends GetId to the ceiling server, signed or not.
func CeilingWorkload(signed bool) *Workload {
	r := NewRequest("GetId", map[string]any{"IdentityPoolId": "us-east-1:00000000-0000-4000-8000-000000000000"}, signed, func(b []byte) error {
		var out struct{ IdentityId string }
		if err := decode(b, &out); err != nil {
			return err
		}
		return wantEqual("IdentityId", out.IdentityId, ceilingIdentity)
	})
	return pick("GetId", []*Request{r})
}

// StartCeiling starts `exe ceiling-server -listen 127.0.0.1:0` as a child
// process, so that the ceiling server does not share a Go scheduler with
// the generator (as a real target does not), and returns it once it
// listens. The child prints "listening on <url>" first.
func StartCeiling(ctx context.Context, exe string) (*Process, error) {
	cmd := exec.Command(exe, "ceiling-server", "-listen", "127.0.0.1:0")
	orphanGuard(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the ceiling server: %w", err)
	}
	p := &Process{Name: "ceiling", cmd: cmd, done: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	select {
	case line, ok := <-lines:
		u, found := strings.CutPrefix(line, "listening on ")
		if !ok || !found {
			p.Stop()
			return nil, fmt.Errorf("ceiling server: unexpected first line %q", line)
		}
		p.URL = u
	case <-time.After(10 * time.Second):
		p.Stop()
		return nil, errors.New("ceiling server: did not start within 10s")
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
	p.PID = cmd.Process.Pid
	return p, nil
}
