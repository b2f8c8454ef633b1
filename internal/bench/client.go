package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Signing parameters of the developer operations.
const (
	Region      = "us-east-1"
	ServiceName = "cognito-identity"
	contentType = "application/x-amz-json-1.1"
	targetPfx   = "AWSCognitoIdentityService."
)

// Request is one API call of a workload, built once at setup and sent many
// times.
type Request struct {
	Op     string // operation, e.g. "GetId"
	Body   []byte // the JSON body
	Signed bool   // SigV4-sign it (developer operations)
	// Check validates the body of a 200 response; nil accepts any JSON
	// object.
	Check func(body []byte) error
	// Kind indexes the workload's Kinds, for per-operation figures of a
	// mix.
	Kind int

	target []string // X-Amz-Target header value, built once by NewRequest
}

// NewRequest returns a request of op with the JSON encoding of in as its
// body.
func NewRequest(op string, in any, signed bool, check func([]byte) error) *Request {
	body, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("bench: encoding a %s request: %v", op, err)) // only fixed shapes are encoded
	}
	return &Request{Op: op, Body: body, Signed: signed, Check: check, target: []string{targetPfx + op}}
}

// Client sends Requests to one target over keep-alive connections.
type Client struct {
	url    string
	urls   []string
	next   atomic.Uint64
	hc     *http.Client
	signer *v4.Signer
	creds  aws.Credentials
	// SignCache lets a worker reuse the signature of an identical request
	// (same operation and body) signed in the same second: SigV4 depends
	// only on the method, URL, signed headers, body and the time to the
	// second, so the reused headers are byte-identical to what signing
	// afresh would produce.
	SignCache bool
}

// NewClient returns a client of the target at url with room for conns
// concurrent keep-alive connections. url may list several servers
// separated by commas (replicas sharing one database): requests then go to
// each in turn.
func NewClient(url string, conns int, accessKey, secretKey string) *Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	urls := strings.Split(url, ",")
	return &Client{
		url:    urls[0],
		urls:   urls,
		hc:     &http.Client{Transport: tr, Timeout: 60 * time.Second},
		signer: v4.NewSigner(),
		creds:  aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey, Source: "idpool-bench"},
	}
}

// URL is the target's (first) URL.
func (c *Client) URL() string { return c.url }

// pick returns the URL of the next request.
func (c *Client) pick() string {
	if len(c.urls) == 1 {
		return c.url
	}
	return c.urls[c.next.Add(1)%uint64(len(c.urls))]
}

// Close drops the idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// signEntry is a cached signature: the headers SigV4 added.
type signEntry struct {
	sec        int64
	date, auth string
}

// callState is what one worker reuses from call to call.
type callState struct {
	buf   bytes.Buffer
	cache map[string]signEntry
}

// HTTPError is a response whose status is not 200.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("status %d: %s", e.Status, e.Body)
}

// ShapeError is a 200 response whose body is not what the operation
// returns.
type ShapeError struct {
	Op  string
	Err error
}

func (e *ShapeError) Error() string { return fmt.Sprintf("unexpected response: %v", e.Err) }
func (e *ShapeError) Unwrap() error { return e.Err }

// outcome is what one call did besides answering.
type outcome struct {
	sign time.Duration // time spent signing
	sent time.Time     // when the request went to the transport, after signing
}

// do sends r and returns the body of its 200 response (valid until the
// next call with st). Any other outcome is an error: transport,
// *HTTPError or *ShapeError.
func (c *Client) do(ctx context.Context, r *Request, st *callState) ([]byte, outcome, error) {
	var oc outcome
	target := r.target
	if target == nil {
		target = []string{targetPfx + r.Op}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.pick(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, oc, err
	}
	req.Header = http.Header{
		"Content-Type": {contentType},
		"X-Amz-Target": target,
	}
	oc.sent = time.Now()
	if r.Signed {
		t0 := oc.sent
		if err := c.sign(ctx, req, r, st, t0); err != nil {
			return nil, oc, err
		}
		oc.sent = time.Now()
		oc.sign = oc.sent.Sub(t0)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, oc, err
	}
	st.buf.Reset()
	_, err = st.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, oc, err
	}
	body := st.buf.Bytes()
	if resp.StatusCode != http.StatusOK {
		return nil, oc, &HTTPError{Status: resp.StatusCode, Body: truncate(string(body), 300)}
	}
	if r.Check != nil {
		err = r.Check(body)
	} else if !json.Valid(body) || len(body) == 0 || body[0] != '{' {
		err = errors.New("not a JSON object")
	}
	if err != nil {
		return nil, oc, &ShapeError{Op: r.Op, Err: err}
	}
	return body, oc, nil
}

// sign adds the SigV4 headers, hashing the body as a real client does.
func (c *Client) sign(ctx context.Context, req *http.Request, r *Request, st *callState, now time.Time) error {
	sec := now.Unix()
	var key string
	if c.SignCache {
		key = r.Op + "\x00" + string(r.Body)
		if e, ok := st.cache[key]; ok && e.sec == sec {
			req.Header["X-Amz-Date"] = []string{e.date}
			req.Header["Authorization"] = []string{e.auth}
			return nil
		}
	}
	sum := sha256.Sum256(r.Body)
	at := time.Unix(sec, 0).UTC()
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), ServiceName, Region, at); err != nil {
		return fmt.Errorf("sigv4: %w", err)
	}
	if c.SignCache {
		if st.cache == nil {
			st.cache = make(map[string]signEntry)
		}
		st.cache[key] = signEntry{sec: sec, date: req.Header.Get("X-Amz-Date"), auth: req.Header.Get("Authorization")}
	}
	return nil
}

// Call sends one request outside a measured phase (setup, seeding) and
// decodes the response into out (when out is not nil).
func (c *Client) Call(ctx context.Context, op string, in any, signed bool, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	var st callState
	// Operations without output answer an empty body or "{}".
	check := func(b []byte) error {
		if len(bytes.TrimSpace(b)) == 0 || (json.Valid(b) && b[0] == '{') {
			return nil
		}
		return errors.New("not a JSON object")
	}
	resp, _, err := c.do(ctx, &Request{Op: op, Body: body, Signed: signed, Check: check}, &st)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if out != nil {
		if len(resp) == 0 {
			return fmt.Errorf("%s: empty response", op)
		}
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("%s: decoding the response: %w", op, err)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
