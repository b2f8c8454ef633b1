package sigv4_test

// Differential tests: aws-sdk-go-v2's signer is the oracle. Random
// requests (methods, odd paths, repeated and unicode query keys, repeated
// headers with runs of spaces, bodies, regions, session tokens, payload
// hash modes) are signed by the SDK, in the header form and the presigned
// query form, sent over a real loopback connection, and verified as the
// server's handler sees them. Every request must verify; every single-byte
// change to what the signature covers must not.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"

	"github.com/idpool/idpool/internal/sigv4"
)

// diffSeed fixes the random requests, so that a failure reproduces. Change
// it locally to explore; keep it fixed in the repository.
const diffSeed = 0x1d9001

// Enough samples to hit every branch of the generator many times; the
// whole test takes well under a second.
const (
	headerSamples  = 400
	presignSamples = 250
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// received is a request as the server's handler got it.
type received struct {
	r    *http.Request
	body []byte
}

// loopback is an HTTP server that hands every request it receives to the
// test, so that verification sees exactly what a handler sees (Host moved
// to r.Host, the path and query as parsed from the request line, the
// headers as the transport wrote them).
type loopback struct {
	srv *httptest.Server
	got chan received
}

func newLoopback(t *testing.T) *loopback {
	t.Helper()
	l := &loopback{got: make(chan received, 1)}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		l.got <- received{r: r.Clone(context.Background()), body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *loopback) send(t *testing.T, req *http.Request) received {
	t.Helper()
	resp, err := l.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("send %s %s: %v", req.Method, req.URL, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("send %s %s: the server answered %s before the handler", req.Method, req.URL, resp.Status)
	}
	return <-l.got
}

// check runs the whole server-side verification: parse, scope, time,
// signature.
func check(r *http.Request, body []byte, secret, service string, now time.Time) (*sigv4.Auth, error) {
	a, err := sigv4.Parse(r)
	if err != nil {
		return nil, err
	}
	if err := a.CheckScope(service); err != nil {
		return a, err
	}
	if err := a.CheckTime(now); err != nil {
		return a, err
	}
	return a, a.Verify(r, body, secret)
}

// gen draws the parts of random requests.
type gen struct{ *rand.Rand }

func (g gen) oneOf(xs ...string) string { return xs[g.IntN(len(xs))] }
func (g gen) chance(p float64) bool     { return g.Float64() < p }

func (g gen) from(alphabet string, n int) string {
	runes := []rune(alphabet)
	var b strings.Builder
	for range n {
		b.WriteRune(runes[g.IntN(len(runes))])
	}
	return b.String()
}

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	// Characters of decoded path segments and query names and values:
	// unreserved, reserved, percent, space, unicode.
	oddChars = alnum + "-._~ !$&'()*+,;=:@%/?#[]\"<>^`{|}\\éß字ሴ😀"
	// Characters of header values: printable ASCII and unicode, with
	// spaces (tabs and other unicode spaces are tested on their own, see
	// TestHeaderWhitespaceIsCollapsedLikeBotocore).
	valueChars = alnum + "-._~!$&'()*+,;=:@%/?#[]\"<>^`{|}\\éß字ሴ     "
)

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// pct percent-encodes one byte, in upper- or lower-case hex: both are the
// same character to a server.
func (g gen) pct(c byte) string {
	digits := "0123456789ABCDEF"
	if g.chance(0.3) {
		digits = "0123456789abcdef"
	}
	return "%" + string(digits[c>>4]) + string(digits[c&15])
}

// encode writes s the way some client might: characters that may appear
// raw appear raw or percent-encoded, everything else percent-encoded; in a
// query a space is "+" or "%20".
func (g gen) encode(s string, rawOK string, query bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case query && c == ' ':
			b.WriteString(g.oneOf("+", "%20"))
		case unreserved(c) || strings.IndexByte(rawOK, c) >= 0:
			if g.chance(0.15) {
				b.WriteString(g.pct(c))
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteString(g.pct(c))
		}
	}
	return b.String()
}

// path returns a decoded path and one valid escaping of it (a RawPath).
func (g gen) path() (decoded, raw string) {
	if g.chance(0.15) {
		return "/", "/"
	}
	var dec, enc strings.Builder
	for range 1 + g.IntN(4) {
		seg := g.from(oddChars, g.IntN(8))
		dec.WriteString("/" + seg)
		enc.WriteString("/" + g.encode(seg, "!$&'()*+,;=:@", false))
	}
	if g.chance(0.2) {
		dec.WriteString("/")
		enc.WriteString("/")
	}
	return dec.String(), enc.String()
}

// queryKeys are few, so that keys repeat; none is a SigV4 parameter.
var queryKeys = []string{"a", "b", "B", "Action", "ሴ", "key with space", "x+y", "%", "a&b", "=", "", "z", "~t", "é", "{", "-", "X-Amz-Meta", "list[]"}

// query returns a raw query string with repeated keys, empty values and
// keys without "=".
func (g gen) query() string {
	if g.chance(0.25) {
		return ""
	}
	var pairs []string
	for range 1 + g.IntN(6) {
		k := queryKeys[g.IntN(len(queryKeys))]
		v := g.from(oddChars, g.IntN(10))
		ek := g.encode(k, "!$'()*,/:@?", true)
		if ek == "" && v == "" {
			ek = "e"
		}
		if v == "" && g.chance(0.3) {
			pairs = append(pairs, ek)
			continue
		}
		pairs = append(pairs, ek+"="+g.encode(v, "!$'()*,/:@?", true))
	}
	return strings.Join(pairs, "&")
}

// headerNames mixes headers the SDK signs in place with X-Amz-* headers its
// presigner hoists into the query; x-lower-case is set under a
// non-canonical key.
var headerNames = []string{"X-Custom-Alpha", "X-Custom-Beta", "X-Amz-Meta-Note", "X-Amz-Target", "Content-Type",
	"Cache-Control", "X-Amz-User-Agent", "X-Amz-Foo", "If-Match", "Accept-Language", "x-lower-case"}

func (g gen) headerValue() string {
	if g.chance(0.05) {
		return ""
	}
	v := g.from(valueChars, 1+g.IntN(20))
	if g.chance(0.3) {
		v = "  " + v + "   "
	}
	return v
}

func (g gen) headers(h http.Header) {
	for range g.IntN(5) {
		name := headerNames[g.IntN(len(headerNames))]
		key := textproto.CanonicalMIMEHeaderKey(name)
		if name == "x-lower-case" {
			key = name
		}
		for range 1 + g.IntN(3)*g.IntN(2) {
			h[key] = append(h[key], g.headerValue())
		}
	}
}

// sample is one signed request and what verifying it needs.
type sample struct {
	name            string
	creds           aws.Credentials
	service, region string
	at, now         time.Time
	presigned       bool
	unsignedPayload bool
	sdkCanonical    string
	rec             received
}

func (s *sample) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s (Host %q)\n", s.name, s.rec.r.Method, s.rec.r.URL.RequestURI(), s.rec.r.Host)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.rec.r.Header {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "  %s: %q\n", k, s.rec.r.Header[k])
	}
	fmt.Fprintf(&b, "  body %q\n  SDK canonical request:\n%s", s.rec.body, s.sdkCanonical)
	return b.String()
}

// newSigner returns the SDK's signer with its canonical request logged into
// *canonical, for failure messages.
func newSigner(canonical *string) *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) {
		o.LogSigning = true
		o.Logger = logging.LoggerFunc(func(_ logging.Classification, format string, v ...any) {
			*canonical = fmt.Sprintf(format, v...)
		})
	})
}

// draw builds, signs and sends one random request.
func (g gen) draw(t *testing.T, l *loopback, name string, presign bool) *sample {
	t.Helper()
	s := &sample{name: name, presigned: presign}
	s.creds = aws.Credentials{AccessKeyID: "AKIA" + g.from(upperAlnum, 16), SecretAccessKey: g.from(alnum+"+/", 40)}
	if g.chance(0.4) {
		s.creds.SessionToken = g.from(alnum+"+/=", 20+g.IntN(200))
	}
	s.service = "cognito-identity"
	if g.chance(0.2) {
		s.service = "sts"
	}
	s.region = g.oneOf("us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "local")
	s.at = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.Int64N(10*365*24*3600)) * time.Second)

	method := g.oneOf("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND")
	var body []byte
	if g.chance(0.7) {
		body = make([]byte, g.IntN(200))
		for i := range body {
			body[i] = byte(g.IntN(256))
		}
	}
	dec, raw := g.path()
	rawQuery := g.query()
	u := &url.URL{Scheme: "http", Host: l.srv.Listener.Addr().String(), Path: dec, RawPath: raw, RawQuery: rawQuery}
	req, err := http.NewRequest(method, "http://placeholder/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL = u
	req.Host = g.oneOf("", "", "cognito-identity.us-east-1.amazonaws.com", "Example.COM:8443", "localhost:4566", "example.com:80", "idpool.internal")
	g.headers(req.Header)
	sum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(sum[:])

	signer := newSigner(&s.sdkCanonical)
	ctx := context.Background()
	if !presign {
		s.now = s.at.Add(time.Duration(g.IntN(599)-299) * time.Second)
		payloadHash := bodyHash
		switch g.IntN(4) {
		case 0:
			req.Header.Set("X-Amz-Content-Sha256", bodyHash)
		case 1:
			payloadHash = "UNSIGNED-PAYLOAD"
			req.Header.Set("X-Amz-Content-Sha256", payloadHash)
			s.unsignedPayload = true
		}
		if err := signer.SignHTTP(ctx, s.creds, req, payloadHash, s.service, s.region, s.at); err != nil {
			t.Fatal(err)
		}
		// The SDK rewrites the query in canonical form as it signs; a
		// client may as well send it the way it was written.
		if rawQuery != "" && g.chance(0.5) {
			req.URL.RawQuery = rawQuery
		}
		if g.chance(0.3) {
			req.Header.Set("X-Added-After-Signing", g.headerValue())
		}
		s.rec = l.send(t, req)
		return s
	}

	expires := 0
	if g.chance(0.7) {
		expires = 1 + g.IntN(604800)
		sep := "&"
		if req.URL.RawQuery == "" {
			sep = ""
		}
		req.URL.RawQuery += sep + "X-Amz-Expires=" + strconv.Itoa(expires)
	}
	window := expires
	if window == 0 || window > 299 {
		window = 299
	}
	s.now = s.at.Add(time.Duration(g.IntN(299+window)-299) * time.Second)
	payloadHash := bodyHash
	if g.chance(0.5) {
		payloadHash = "UNSIGNED-PAYLOAD"
		s.unsignedPayload = true
	}
	signedURL, signedHeaders, err := signer.PresignHTTP(ctx, s.creds, req, payloadHash, s.service, s.region, s.at)
	if err != nil {
		t.Fatal(err)
	}
	send, err := http.NewRequest(method, signedURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	// The presigner signs the Host it would send (without a default port),
	// which it returns among the signed headers.
	send.Host = signedHeaders.Get("Host")
	for k, vs := range signedHeaders {
		if k != "Host" && k != "Content-Length" {
			send.Header[k] = vs
		}
	}
	// The presigned URL may travel re-encoded and reordered.
	if g.chance(0.5) {
		pairs := strings.Split(send.URL.RawQuery, "&")
		g.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
		for i, p := range pairs {
			k, v, _ := strings.Cut(p, "=")
			dk, err1 := url.QueryUnescape(k)
			dv, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				t.Fatalf("the SDK wrote an undecodable query pair %q", p)
			}
			pairs[i] = g.encode(dk, "!$'()*,/:@?", true) + "=" + g.encode(dv, "!$'()*,/:@?", true)
		}
		send.URL.RawQuery = strings.Join(pairs, "&")
	}
	if g.chance(0.3) {
		send.Header.Set("X-Not-Signed", g.headerValue())
	}
	s.rec = l.send(t, send)
	return s
}

// clone copies a received request so that a mutation leaves the original
// alone.
func clone(rec received) (*http.Request, []byte) {
	return rec.r.Clone(context.Background()), bytes.Clone(rec.body)
}

// replaceByte returns s with the byte at i replaced by a character of
// alphabet that differs from it even ignoring case (so that a change of
// hex-digit case in a percent escape, which is no change, is never drawn).
func (g gen) replaceByte(s string, i int, alphabet string) string {
	for {
		c := alphabet[g.IntN(len(alphabet))]
		if !strings.EqualFold(string(c), string(s[i])) {
			return s[:i] + string(c) + s[i+1:]
		}
	}
}

// mutation changes one thing a signature covers (or, when keeps is true,
// something it does not) and reports false when it does not apply to r.
type mutation struct {
	name  string
	keeps bool // the signature must still verify
	apply func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool)
}

var mutations = []mutation{
	{name: "body byte", apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		if len(body) == 0 || s.unsignedPayload {
			return nil, nil, false
		}
		body[g.IntN(len(body))] ^= byte(1 + g.IntN(255))
		return r, body, true
	}},
	{name: "body byte of an unsigned payload", keeps: true, apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		if len(body) == 0 || !s.unsignedPayload {
			return nil, nil, false
		}
		body[g.IntN(len(body))] ^= byte(1 + g.IntN(255))
		return r, body, true
	}},
	{name: "signed header value", apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		var names []string
		for _, h := range a.SignedHeaders {
			if h != "host" && len(r.Header.Values(h)) > 0 {
				names = append(names, h)
			}
		}
		if len(names) == 0 {
			return nil, nil, false
		}
		key := textproto.CanonicalMIMEHeaderKey(names[g.IntN(len(names))])
		vals := r.Header[key]
		j := g.IntN(len(vals))
		if vals[j] == "" {
			vals[j] = "x"
		} else {
			vals[j] = g.replaceByte(vals[j], g.IntN(len(vals[j])), alnum)
		}
		return r, body, true
	}},
	{name: "host", apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		r.Host = g.replaceByte(r.Host, g.IntN(len(r.Host)), alnum)
		return r, body, true
	}},
	{name: "path byte", apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		p := r.URL.EscapedPath()
		for range 20 {
			mutated := g.replaceByte(p, g.IntN(len(p)), alnum)
			uri := mutated
			if r.URL.RawQuery != "" {
				uri += "?" + r.URL.RawQuery
			}
			u, err := url.ParseRequestURI(uri)
			if err != nil {
				continue // an invalid escape: the server never gets that far
			}
			r.URL, r.RequestURI = u, uri
			return r, body, true
		}
		return nil, nil, false
	}},
	{name: "query byte", apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		q := r.URL.RawQuery
		if q == "" {
			return nil, nil, false
		}
		r.URL.RawQuery = g.replaceByte(q, g.IntN(len(q)), alnum)
		return r, body, true
	}},
	{name: "request date", apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		if !s.presigned {
			d := r.Header.Get("X-Amz-Date")
			r.Header.Set("X-Amz-Date", g.flipDigit(d))
			return r, body, true
		}
		return r, body, editParam(r, "X-Amz-Date", g.flipDigit)
	}},
	{name: "signature hex digit", apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		if !s.presigned {
			h := r.Header.Get("Authorization")
			i := strings.LastIndex(h, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", h[:i]+g.flipHex(h[i:]))
			return r, body, true
		}
		return r, body, editParam(r, "X-Amz-Signature", g.flipHex)
	}},
	{name: "unsigned header added", keeps: true, apply: func(g gen, s *sample, a *sigv4.Auth, r *http.Request, body []byte) (*http.Request, []byte, bool) {
		r.Header.Add("X-Amzn-Trace-Id", "Root=1-"+g.from(alnum, 8))
		r.Header.Set("User-Agent", g.headerValue())
		return r, body, true
	}},
}

// editParam replaces the value of the query parameter name (however the
// client encoded it) with edit(value).
func editParam(r *http.Request, name string, edit func(string) string) bool {
	pairs := strings.Split(r.URL.RawQuery, "&")
	for i, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err != nil || dk != name {
			continue
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return false
		}
		pairs[i] = k + "=" + url.QueryEscape(edit(dv))
		r.URL.RawQuery = strings.Join(pairs, "&")
		return true
	}
	return false
}

// flipDigit changes one digit of s to another digit.
func (g gen) flipDigit(s string) string {
	var idx []int
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			idx = append(idx, i)
		}
	}
	i := idx[g.IntN(len(idx))]
	return g.replaceByte(s, i, "0123456789")
}

// flipHex changes one hex digit of s to another value (lower case, as
// signatures are written).
func (g gen) flipHex(s string) string {
	return g.replaceByte(s, g.IntN(len(s)), "0123456789abcdef")
}

func TestDifferentialSDKSigner(t *testing.T) {
	l := newLoopback(t)
	g := gen{rand.New(rand.NewPCG(diffSeed, 1))}
	var samples []*sample
	for i := range headerSamples {
		samples = append(samples, g.draw(t, l, fmt.Sprintf("header#%d", i), false))
	}
	for i := range presignSamples {
		samples = append(samples, g.draw(t, l, fmt.Sprintf("presigned#%d", i), true))
	}
	applied := map[string]int{}
	for _, s := range samples {
		secret := s.creds.SecretAccessKey
		a, err := check(s.rec.r, s.rec.body, secret, s.service, s.now)
		if err != nil {
			t.Errorf("a request the SDK signed does not verify: %v\n%s", err, s)
			continue
		}
		if a.AccessKeyID != s.creds.AccessKeyID || a.Region != s.region || a.Service != s.service ||
			a.SecurityToken != s.creds.SessionToken || a.Presigned != s.presigned || !a.Time.Equal(s.at) {
			t.Errorf("%s: parsed %+v, want key %s region %s service %s token %q presigned %v time %s",
				s.name, a, s.creds.AccessKeyID, s.region, s.service, s.creds.SessionToken, s.presigned, s.at)
		}
		if _, err := check(s.rec.r, s.rec.body, secret+"x", s.service, s.now); !isKind(err, sigv4.Mismatch) {
			t.Errorf("%s: verified with a wrong secret: %v", s.name, err)
		}
		for _, m := range mutations {
			r, body := clone(s.rec)
			r, body, ok := m.apply(g, s, a, r, body)
			if !ok {
				continue
			}
			applied[m.name]++
			_, err := check(r, body, secret, s.service, s.now)
			switch {
			case m.keeps && err != nil:
				t.Errorf("%s: after %s the request no longer verifies: %v\n%s", s.name, m.name, err, s)
			case !m.keeps && err == nil:
				t.Errorf("%s: a changed %s still verifies (now %s %s, Host %q, Authorization %q)\n%s",
					s.name, m.name, r.Method, r.URL.RequestURI(), r.Host, r.Header.Get("Authorization"), s)
			case err != nil:
				var se *sigv4.Error
				if !errors.As(err, &se) {
					t.Errorf("%s: %s: error %T %v is not a *sigv4.Error", s.name, m.name, err, err)
				}
			}
		}
	}
	for _, m := range mutations {
		if applied[m.name] < 50 {
			t.Errorf("mutation %q applied only %d times: the generator no longer exercises it", m.name, applied[m.name])
		}
	}
	t.Logf("%d requests; mutations applied: %v", len(samples), applied)
}

func isKind(err error, k sigv4.Kind) bool {
	var se *sigv4.Error
	return errors.As(err, &se) && se.Kind == k
}

// vector is a request of AWS's SigV4 test suite with its published
// signature.
type vector struct {
	name    string
	method  string
	host    string
	uri     string
	headers []string // "Name:value", added in order
	body    string
	authz   string // "" for the query form
	// unsignedPayload: the signature covers UNSIGNED-PAYLOAD, not the body.
	unsignedPayload bool
	service         string
	secret          string
	at              time.Time
}

const suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

var (
	// The 2011 suite signs with a Date header, not X-Amz-Date.
	suite2011 = time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC)
	suite2015 = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
)

func old(name, method, uri string, headers []string, body, signedHeaders, sig string) vector {
	return vector{name: name, method: method, host: "host.foo.com", uri: uri, headers: headers, body: body,
		authz:   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=" + signedHeaders + ", Signature=" + sig,
		service: "host", secret: suiteSecret, at: suite2011}
}

func modern(name, method, uri string, sig string) vector {
	return vector{name: name, method: method, host: "example.amazonaws.com", uri: uri, headers: []string{"X-Amz-Date:20150830T123600Z"},
		authz:   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig,
		service: "service", secret: suiteSecret, at: suite2015}
}

var dateHeader = []string{"Date:Mon, 09 Sep 2011 23:36:00 GMT"}

// suiteVectors are the test-suite cases whose canonical requests follow the
// rules the SDKs sign by: the path as sent, header values in the order
// sent (the 2011 cases that normalise paths, sort header values or encode
// the path once are left out; normalizePathVectors has the 2015 suite's
// normalized paths).
var suiteVectors = []vector{
	old("get-vanilla", "GET", "/", dateHeader, "", "date;host", "b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470"),
	old("get-vanilla-empty-query-key", "GET", "/?foo=bar", dateHeader, "", "date;host", "56c054473fd260c13e4e7393eb203662195f5d4a1fada5314b8b52b23f985e9f"),
	old("get-vanilla-query-order-key-case", "GET", "/?foo=Zoo&foo=aha", dateHeader, "", "date;host", "be7148d34ebccdc6423b19085378aa0bee970bdc61d144bd1a8c48c33079ab09"),
	old("get-vanilla-query-order-key", "GET", "/?a=foo&b=foo", dateHeader, "", "date;host", "0dc122f3b28b831ab48ba65cb47300de53fbe91b577fe113edac383730254a3b"),
	old("get-vanilla-query-order-value", "GET", "/?foo=b&foo=a", dateHeader, "", "date;host", "feb926e49e382bec75c9d7dcb2a1b6dc8aa50ca43c25d2bc51143768c0875acc"),
	old("get-vanilla-query-unreserved", "GET", "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		dateHeader, "", "date;host", "f1498ddb4d6dae767d97c466fb92f1b59a2c71ca29ac954692663f9db03426fb"),
	old("get-vanilla-ut8-query", "GET", "/?ሴ=bar", dateHeader, "", "date;host", "6fb359e9a05394cc7074e0feb42573a2601abc0c869a953e8c5c12e4e01f1a8c"),
	old("get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dateHeader, "", "date;host", "830cc36d03f0f84e6ee4953fbe701c1c8b71a0372c63af9255aa364dd183281e"),
	old("get-header-value-trim", "POST", "/", []string{"DATE:Mon, 09 Sep 2011 23:36:00 GMT", "p: phfft "}, "", "date;host;p", "debf546796015d6f6ded8626f5ce98597c33b47b9164cf6b17b4642036fcb592"),
	old("post-header-key-case", "POST", "/", []string{"DATE:Mon, 09 Sep 2011 23:36:00 GMT"}, "", "date;host", "22902d79e148b64e7571c3565769328423fe276eae4b26f83afceda9e767f726"),
	old("post-header-key-sort", "POST", "/", []string{"DATE:Mon, 09 Sep 2011 23:36:00 GMT", "ZOO:zoobar"}, "", "date;host;zoo", "b7a95a52518abbca0964a999a880429ab734f35ebbf1235bd79a5de87756dc4a"),
	old("post-header-value-case", "POST", "/", []string{"DATE:Mon, 09 Sep 2011 23:36:00 GMT", "zoo:ZOOBAR"}, "", "date;host;zoo", "273313af9d0c265c531e11db70bbd653f3ba074c1009239e8559d3987039cad7"),
	old("post-vanilla", "POST", "/", dateHeader, "", "date;host", "22902d79e148b64e7571c3565769328423fe276eae4b26f83afceda9e767f726"),
	old("post-vanilla-query", "POST", "/?foo=bar", dateHeader, "", "date;host", "b6e3b79003ce0743a491606ba1035a804593b0efb1e20a11cba83f8c25a57a92"),
	old("post-x-www-form-urlencoded", "POST", "/", []string{"Content-Type:application/x-www-form-urlencoded", "Date:Mon, 09 Sep 2011 23:36:00 GMT"},
		"foo=bar", "content-type;date;host", "5a15b22cf462f047318703b92e6f4f38884e4a7ab7b1d6426ca46a8bd1c26cbc"),
	old("post-x-www-form-urlencoded-parameters", "POST", "/", []string{"Content-Type:application/x-www-form-urlencoded; charset=utf8", "Date:Mon, 09 Sep 2011 23:36:00 GMT"},
		"foo=bar", "content-type;date;host", "b105eb10c6d318d2294de9d49dd8b031b55e3c3fe139f2e637da70511e9e7b71"),
	modern("get-vanilla (2015)", "GET", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
	modern("post-vanilla (2015)", "POST", "/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
	modern("get-vanilla-query-order-key-case (2015)", "GET", "/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
	{
		// The S3 documentation's presigned GET: UNSIGNED-PAYLOAD, which the
		// server must try when the body hash does not match.
		name: "s3 presigned GET (UNSIGNED-PAYLOAD)", method: "GET", host: "examplebucket.s3.amazonaws.com",
		uri: "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
			"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
			"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
		service: "s3", secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", at: time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC),
		unsignedPayload: true,
	},
}

// normalizePathVectors are the 2015 suite's normalize-path cases: botocore
// and the JavaScript SDK sign the path with dot segments resolved and
// empty segments dropped; aws-sdk-go-v2 signs it as sent ("//" signed as
// "//", the last case). Both are accepted.
var normalizePathVectors = []vector{
	modern("get-slash (normalized)", "GET", "//", vanilla2015),
	modern("get-slashes (normalized)", "GET", "//example//", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
	modern("get-slash-pointless-dot (normalized)", "GET", "/./example", "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
	modern("get-slash (as sent)", "GET", "//", "c88bcd3d312d75078c0cd961d6deae3f4c754924b01669efcfcb439fd5e5b76e"),
	// These three normalize to "/": their published signature is
	// get-vanilla's.
	modern("get-relative (normalized)", "GET", "/example/..", vanilla2015),
	modern("get-relative-relative (normalized)", "GET", "/example1/example2/../..", vanilla2015),
	modern("get-slash-dot-slash (normalized)", "GET", "/./", vanilla2015),
}

// vanilla2015 is the signature of the 2015 suite's get-vanilla: a GET of
// "/".
const vanilla2015 = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

// TestNormalizedPathIsNoWildcard: the normalized form stands for its own
// path only. A signature over "/" is refused on any path whose segments
// are not all empty, "." or resolved away by "..".
func TestNormalizedPathIsNoWildcard(t *testing.T) {
	for _, uri := range []string{"/x", "/x/", "//x", "/x/./", "/x/../y", "/..x", "/%2E%2E"} {
		v := modern("a signature over / at "+uri, "GET", uri, vanilla2015)
		if _, err := check(v.request(), nil, v.secret, v.service, v.at); !isKind(err, sigv4.Mismatch) {
			t.Errorf("%s: %v, want Mismatch", v.name, err)
		}
	}
	// A signature over /example/ is good for //example// and for
	// /example/x/.., not for /example or /example/x.
	slashes := "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84" // get-slashes
	for uri, ok := range map[string]bool{"//example//": true, "/example/x/../": true, "/example": false, "/example/x": false, "/other/": false} {
		v := modern("a signature over /example/ at "+uri, "GET", uri, slashes)
		_, err := check(v.request(), nil, v.secret, v.service, v.at)
		if ok && err != nil {
			t.Errorf("%s: %v", v.name, err)
		}
		if !ok && !isKind(err, sigv4.Mismatch) {
			t.Errorf("%s: %v, want Mismatch", v.name, err)
		}
	}
}

func (v vector) request() *http.Request {
	r := httptest.NewRequest(v.method, v.uri, strings.NewReader(v.body))
	r.Host = v.host
	for _, h := range v.headers {
		name, value, _ := strings.Cut(h, ":")
		r.Header.Add(name, value)
	}
	if v.authz != "" {
		r.Header.Set("Authorization", v.authz)
	}
	return r
}

func TestSuiteVectors(t *testing.T) {
	for _, v := range slices.Concat(suiteVectors, normalizePathVectors) {
		t.Run(v.name, func(t *testing.T) {
			r := v.request()
			if _, err := check(r, []byte(v.body), v.secret, v.service, v.at); err != nil {
				t.Fatalf("the published signature does not verify: %v", err)
			}
			if _, err := check(r, []byte(v.body), v.secret, v.service, v.at.Add(sigv4.MaxSkew-time.Second)); err != nil {
				t.Errorf("4m59s later: %v", err)
			}
			_, err := check(r, []byte(v.body+"x"), v.secret, v.service, v.at)
			switch {
			case v.unsignedPayload && err != nil:
				t.Errorf("with another body under UNSIGNED-PAYLOAD: %v", err)
			case !v.unsignedPayload && !isKind(err, sigv4.Mismatch):
				t.Errorf("with a changed body: %v, want Mismatch", err)
			}
		})
	}
}

// TestDateHeaderForm checks the request time of a signature that carries a
// Date header instead of X-Amz-Date (the 2011 suite's get-vanilla).
func TestDateHeaderForm(t *testing.T) {
	v := suiteVectors[0]
	cases := []struct {
		name    string
		date    string
		now     time.Time
		kind    sigv4.Kind
		message string
	}{
		{name: "on time", date: "Mon, 09 Sep 2011 23:36:00 GMT", now: suite2011},
		{name: "five minutes early", date: "Mon, 09 Sep 2011 23:36:00 GMT", now: suite2011.Add(-sigv4.MaxSkew)},
		{name: "expired", date: "Mon, 09 Sep 2011 23:36:00 GMT", now: suite2011.Add(sigv4.MaxSkew + time.Second), kind: sigv4.Expired,
			message: "Signature expired: 20110909T233600Z is now earlier than 20110909T233601Z (20110909T234101Z - 5 min.)"},
		{name: "not yet current", date: "Mon, 09 Sep 2011 23:36:00 GMT", now: suite2011.Add(-sigv4.MaxSkew - time.Second), kind: sigv4.Expired,
			message: "Signature not yet current: 20110909T233600Z is still later than 20110909T233559Z (20110909T233059Z + 5 min.)"},
		{name: "another second", date: "Mon, 09 Sep 2011 23:36:01 GMT", now: suite2011, kind: sigv4.Mismatch,
			message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
		{name: "unparsable", date: "yesterday", now: suite2011, kind: sigv4.Incomplete, message: "Date must be in ISO-8601 'basic format'. Got 'yesterday'."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := v.request()
			r.Header.Set("Date", c.date)
			_, err := check(r, nil, v.secret, v.service, c.now)
			wantErr(t, err, c.kind, c.message)
		})
	}
}

// wantErr checks that err is a *sigv4.Error of kind with message (nil when
// kind is 0).
func wantErr(t *testing.T, err error, kind sigv4.Kind, message string) {
	t.Helper()
	if kind == 0 {
		if err != nil {
			t.Fatalf("got %v, want success", err)
		}
		return
	}
	var se *sigv4.Error
	if !errors.As(err, &se) {
		t.Fatalf("got %T %v, want *sigv4.Error kind %d", err, err, kind)
	}
	if se.Kind != kind || se.Message != message {
		t.Errorf("got kind %d %q\nwant kind %d %q", se.Kind, se.Message, kind, message)
	}
}

// signed returns a server-side request signed by the SDK in the header
// form, after prepare has set headers on the client request.
func signed(t testing.TB, body []byte, payloadHash string, creds aws.Credentials, at time.Time, prepare func(*http.Request)) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://cognito-identity.us-east-1.amazonaws.com/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.ListIdentityPools")
	if prepare != nil {
		prepare(req)
	}
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "cognito-identity", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return toServer(req, body)
}

// toServer turns a client request into what an http.Server hands a
// handler: Host in r.Host, the request line parsed again.
func toServer(req *http.Request, body []byte) *http.Request {
	r := httptest.NewRequest(req.Method, req.URL.RequestURI(), bytes.NewReader(body))
	r.Header = req.Header.Clone()
	r.Host = req.Host
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	return r
}

var testCreds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret-key-1"}

const mismatchText = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func TestPayloadHashModes(t *testing.T) {
	body := []byte(`{"MaxResults":10}`)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	cases := []struct {
		name        string
		payloadHash string // what the SDK signs
		header      string // X-Amz-Content-Sha256 sent, "" for none
		sendBody    []byte
		kind        sigv4.Kind
		message     string
	}{
		{name: "body hash, no header", sendBody: body},
		{name: "body hash in the header", header: hash, sendBody: body},
		{name: "body hash in the header, upper case", payloadHash: strings.ToUpper(hash), header: strings.ToUpper(hash), sendBody: body},
		{name: "UNSIGNED-PAYLOAD header", payloadHash: "UNSIGNED-PAYLOAD", header: "UNSIGNED-PAYLOAD", sendBody: body},
		{name: "UNSIGNED-PAYLOAD header, another body", payloadHash: "UNSIGNED-PAYLOAD", header: "UNSIGNED-PAYLOAD", sendBody: []byte(`{"MaxResults":60}`)},
		{name: "UNSIGNED-PAYLOAD signed without the header", payloadHash: "UNSIGNED-PAYLOAD", sendBody: body, kind: sigv4.Mismatch, message: mismatchText},
		{name: "empty body", payloadHash: emptySHA256, sendBody: []byte{}},
		{name: "header hash of another body", payloadHash: emptySHA256, header: emptySHA256, sendBody: body, kind: sigv4.Mismatch,
			message: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "body changed under a signed hash header", header: hash, sendBody: []byte(`{"MaxResults":11}`), kind: sigv4.Mismatch,
			message: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "body changed, no header", sendBody: []byte(`{"MaxResults":11}`), kind: sigv4.Mismatch, message: mismatchText},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			payload := c.payloadHash
			if payload == "" {
				payload = hash
			}
			r := signed(t, body, payload, testCreds, now, func(req *http.Request) {
				if c.header != "" {
					req.Header.Set("X-Amz-Content-Sha256", c.header)
				}
			})
			_, err := check(r, c.sendBody, testCreds.SecretAccessKey, "cognito-identity", now)
			wantErr(t, err, c.kind, c.message)
		})
	}
}

// TestHeaderWhitespaceIsCollapsedLikeBotocore pins how a signed header
// value with tabs or unicode spaces inside is canonicalised: every run of
// white space becomes one space, as botocore (' '.join(v.split())) and the
// JS SDK v3 (/\s+/g) do. aws-sdk-go-v2 collapses only runs of ASCII
// spaces, so a Go SDK request with a tab inside a signed header value does
// not verify (see the report of this test's author); no SDK puts one there
// for Cognito calls.
func TestHeaderWhitespaceIsCollapsedLikeBotocore(t *testing.T) {
	cases := []struct{ name, signedAs, sent string }{
		{name: "tab", signedAs: "a b", sent: "a\tb"},
		{name: "tab and spaces", signedAs: "a b", sent: "a \t  b"},
		{name: "no-break space", signedAs: "a b", sent: "a\u00a0b"},
		{name: "leading and trailing tabs", signedAs: "a b", sent: "\ta  b\t"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := signed(t, nil, emptySHA256, testCreds, now, func(req *http.Request) { req.Header.Set("X-Custom", c.signedAs) })
			r.Header.Set("X-Custom", c.sent)
			if _, err := check(r, nil, testCreds.SecretAccessKey, "cognito-identity", now); err != nil {
				t.Errorf("%q signed as %q: %v", c.sent, c.signedAs, err)
			}
		})
	}
}

// TestSignatureCaseIsSignificant: a signature is 64 lower-case hex digits
// (SigV4 canonicalization); upper-casing one digit is a one-byte change of the
// signature and must be refused like any other.
func TestSignatureCaseIsSignificant(t *testing.T) {
	r := signed(t, nil, emptySHA256, testCreds, now, nil)
	h := r.Header.Get("Authorization")
	i := strings.LastIndex(h, "Signature=") + len("Signature=")
	j := i + strings.IndexAny(h[i:], "abcdef")
	r.Header.Set("Authorization", h[:j]+strings.ToUpper(h[j:j+1])+h[j+1:])
	_, err := check(r, nil, testCreds.SecretAccessKey, "cognito-identity", now)
	wantErr(t, err, sigv4.Mismatch, mismatchText)
}

// TestHeaderFormSignsEveryQueryParameter: in the header form the canonical
// query holds every parameter of the URL; only the presigned form leaves
// out its own X-Amz-Signature.
func TestHeaderFormSignsEveryQueryParameter(t *testing.T) {
	req, err := http.NewRequest(http.MethodPost, "http://cognito-identity.us-east-1.amazonaws.com/?X-Amz-Signature=abc&a=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, emptySHA256, "cognito-identity", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	r := toServer(req, nil)
	if _, err := check(r, nil, testCreds.SecretAccessKey, "cognito-identity", now); err != nil {
		t.Errorf("an SDK-signed request with a query parameter named X-Amz-Signature: %v", err)
	}
	r.URL.RawQuery = "X-Amz-Signature=changed&a=1"
	if _, err := check(r, nil, testCreds.SecretAccessKey, "cognito-identity", now); err == nil {
		t.Error("a changed X-Amz-Signature query parameter of a header-signed request still verifies")
	}
}

// TestXAmzDateMustBeSigned: as AWS requires, x-amz-date must be
// among the signed headers when that header carries the request time.
func TestXAmzDateMustBeSigned(t *testing.T) {
	r := signed(t, nil, emptySHA256, testCreds, now, nil)
	// Re-sign by hand with only host signed, using the SDK's algorithm
	// through Verify's own key derivation: the signature is then right,
	// only the list of signed headers is short.
	canonical := "POST\n/\n\nhost:" + r.Host + "\n\nhost\n" + emptySHA256
	amzDate := r.Header.Get("X-Amz-Date")
	sum := sha256.Sum256([]byte(canonical))
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + amzDate[:8] + "/us-east-1/cognito-identity/aws4_request\n" + hex.EncodeToString(sum[:])
	key := sigv4.SigningKey(testCreds.SecretAccessKey, amzDate[:8], "us-east-1", "cognito-identity")
	sig := hmacHex(key, sts)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+amzDate[:8]+"/us-east-1/cognito-identity/aws4_request, SignedHeaders=host, Signature="+sig)
	a, err := check(r, nil, testCreds.SecretAccessKey, "cognito-identity", now)
	if a == nil {
		t.Fatalf("parse: %v", err)
	}
	if !isKind(err, sigv4.Incomplete) {
		t.Errorf("x-amz-date not among the signed headers: got %v, want an Incomplete error", err)
	}
}

func hmacHex(key []byte, data string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil))
}
