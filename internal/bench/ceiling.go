package bench

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The ceiling server's fixed answers: the IdentityId of its GetId, and the
// pool of its ListIdentities page (the pool its workloads name).
const (
	ceilingIdentity = "us-east-1:6b0ab0e4-0f2c-4c4b-9e7e-2f1f3c1d2a10"
	ceilingPool     = "us-east-1:00000000-0000-4000-8000-000000000000"
)

// ceilingPage builds the ceiling server's ListIdentities answer: a full
// page of listPage identities in the shape idpool answers (IdentityId,
// Logins by provider name only, omitted for guests, CreationDate and
// LastModifiedDate as epoch seconds with milliseconds, a NextToken since
// the pool holds more).
//
// Its size is that of idpool's first page of the bench's bulk-seeded
// pools, in which scripts/bench runs every scenario (-scale too): BulkSeed,
// with the 25 % developer and 25 % Facebook users scripts/bench and -scale
// ask for, links identity i to the developer provider when i%100 < 25, to
// Facebook when i%100 < 50, and leaves it a guest otherwise, so the first
// 60 are 25 developer users, 25 Facebook users and 10 guests. This page is
// laid out the same way, with ids, dates (three decimals) and a cursor of
// the lengths idpool writes, and comes to 9,465 bytes, the size of such a
// page of idpool's measured when it was built (a date whose milliseconds
// end in 0 is written a byte or two shorter, so a real page varies by a
// few bytes). The list-identities scenario's own pool holds only guests,
// whose page is 50 Logins (1,600 bytes) lighter, about 7.85 KB: the
// ceiling is then a little stricter than it need be.
// TestCeilingPageMatchesIdpool (cmd/idpool-bench) keeps this page within
// 2 % of idpool's.
func ceilingPage() []byte {
	type identity struct {
		IdentityId       string
		Logins           []string `json:",omitempty"`
		CreationDate     float64
		LastModifiedDate float64
	}
	page := struct {
		IdentityPoolId string
		Identities     []identity
		NextToken      string
	}{IdentityPoolId: ceilingPool, Identities: make([]identity, 0, listPage)}
	// A fixed seed and start: the same page every run. The dates start
	// at 2026-01-01T00:00:00.123Z.
	rng := rand.New(rand.NewPCG(0x1d9001, uint64(listPage)))
	const created = 1_767_225_600_000
	var lastNS int64
	for i := range listPage {
		id := identity{IdentityId: fmt.Sprintf("%s:%08x-%04x-4%03x-%04x-%012x", Region,
			rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, 0x8000|rng.Uint32()&0x3fff, rng.Uint64()&(1<<48-1))}
		switch {
		case i%100 < 25:
			id.Logins = []string{DeveloperProvider}
		case i%100 < 50:
			id.Logins = []string{FacebookProvider}
		}
		ms := created + 123 + int64(i)*1_111
		if ms%10 == 0 {
			ms++ // three decimals, as nine real dates in ten have
		}
		id.CreationDate = float64(ms) / 1000
		id.LastModifiedDate = id.CreationDate
		lastNS = ms*1e6 + 456_789
		page.Identities = append(page.Identities, id)
	}
	// idpool's cursor: the last identity's creation time and id.
	last := page.Identities[len(page.Identities)-1].IdentityId
	page.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(lastNS, 10) + "|" + last))
	b, err := json.Marshal(page)
	if err != nil {
		panic("bench: encoding the ceiling page: " + err.Error())
	}
	return b
}

// CeilingHandler is the least an awsJson1_1 server can do: check the
// method and target, read the body, and answer a fixed response with the
// headers idpool sends (content type and length, request id, Date, CORS).
// No store, no validation, no authentication. Driven by the same generator
// as a real server, it measures what HTTP, JSON framing and the generator
// itself allow on this machine. ListIdentities gets a fixed page of 60
// identities, the size of idpool's (see ceilingPage), built once here;
// every other operation gets a fixed GetId answer of 60 bytes.
func CeilingHandler() http.Handler {
	getID := []byte(`{"IdentityId":"` + ceilingIdentity + `"}`)
	page := ceilingPage()
	getIDLen, pageLen := strconv.Itoa(len(getID)), strconv.Itoa(len(page))
	listTarget := targetPfx + "ListIdentities"
	var seq atomic.Uint64
	base := rand.Uint64()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		if r.Method != http.MethodPost || !strings.HasPrefix(target, targetPfx) {
			http.Error(w, "want POST with X-Amz-Target", http.StatusBadRequest)
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		body, length := getID, getIDLen
		if target == listTarget {
			body, length = page, pageLen
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

// CeilingBounds are the ceilings the ceiling server measures, in the
// order they are run and reported.
func CeilingBounds() []Bound {
	return []Bound{BoundAWSJSON, BoundAWSJSONSigned, BoundAWSJSONPage}
}

// CeilingWorkload is what measures ceiling b on the ceiling server: GetId,
// unsigned for awsjson and signed for awsjson-signed, or signed
// ListIdentities of MaxResults 60 for awsjson-signed-page, its pages
// checked as the list-identities scenario checks idpool's. It is nil when
// b is not one of CeilingBounds.
func CeilingWorkload(b Bound) *Workload {
	switch b {
	case BoundAWSJSON, BoundAWSJSONSigned:
		r := NewRequest("GetId", map[string]any{"IdentityPoolId": ceilingPool}, b == BoundAWSJSONSigned, func(b []byte) error {
			var out struct{ IdentityId string }
			if err := decode(b, &out); err != nil {
				return err
			}
			return wantEqual("IdentityId", out.IdentityId, ceilingIdentity)
		})
		return pick("GetId", []*Request{r})
	case BoundAWSJSONPage:
		return pick("ListIdentities", []*Request{listIdentitiesRequest(ceilingPool, listPage, false)})
	}
	return nil
}

// StartCeiling starts `exe ceiling-server -listen 127.0.0.1:0` as a child
// process, so that the ceiling server does not share a Go scheduler with
// the generator (as a real target does not), and returns it once it
// listens. The child prints "listening on <url>" first.
func StartCeiling(ctx context.Context, exe string) (*Process, error) {
	cmd := command(exe, "ceiling-server", "-listen", "127.0.0.1:0")
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
