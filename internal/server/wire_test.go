package server_test

// Golden wire tests, in the style of caddy's caddytest adapt files.
//
// Each testdata/wire/*.txt file is one conversation with a fresh server
// (SQLite in a temporary directory, a fixed clock, seeded randomness, so
// that pool ids, request ids, keys and tokens come out the same on every
// run). A file holds free comment lines, then one or more exchanges:
//
//	==> request [#label] [free text]
//	POST / HTTP/1.1
//	Host: idpool.test
//	X-Amz-Target: AWSCognitoIdentityService.CreateIdentityPool
//	Content-Type: application/x-amz-json-1.1
//
//	{"IdentityPoolName":"pool","AllowUnauthenticatedIdentities":false}
//	<== response
//	HTTP/1.1 200 OK
//	Content-Type: application/x-amz-json-1.1
//	...
//
//	{"IdentityPoolId":"us-east-1:...", ...}
//
// The request is raw HTTP/1.1 (LF line ends are turned into CRLF) and is
// parsed by net/http's own request parser. Content-Length is added when the
// request has none; with "Transfer-Encoding: chunked" the body is sent as
// one chunk. In a request, {{repeat N "s"}} expands to N copies of s, and
// {{Name}} to the last string member Name (nested members as Parent.Name)
// of an earlier JSON response, or {{label.Name}} to the member of the
// response of the exchange labelled #label.
//
// A comment line "# server: strict" in the preamble builds the server in
// strict mode, with one access key (strictKey, account 123456789012). The
// pseudo-header "X-Test-Sign: <access key id> <region> [<secret>]" makes
// the runner sign the request with aws-sdk-go-v2's SigV4 signer at the
// fixed clock (with the key's secret unless one is given) and is removed
// before the request is served.
//
// The expected response lists the status line, every header (sorted) and
// the body, byte for byte. Run `go test ./internal/server -run TestWire
// -update` to rewrite the expected responses after a deliberate change, and
// review the diff. Every response is also checked against the protocol's
// invariants (error header and body agree, request id, Date, CORS, lengths,
// timestamps are numbers), whatever the file expects.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the expected responses of testdata/wire/*.txt")

// wireClock is the fixed time of the golden files.
var wireClock = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

// lockedRand is a deterministic, concurrency-safe source of randomness.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func newRand(seed byte) *lockedRand {
	var s [32]byte
	for i := range s {
		s[i] = seed + byte(i)
	}
	return &lockedRand{r: rand.NewChaCha8(s)}
}

func (l *lockedRand) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// testSecret seals keys and session tokens in tests.
var testSecret = []byte("idpool wire test secret: 32+ bytes long, public")

// newTestServer builds a server over a fresh SQLite store with a fixed
// clock and seeded randomness.
func newTestServer(t testing.TB, clock func() time.Time, seed byte, logger *slog.Logger) *server.Server {
	t.Helper()
	return newServerWith(t, server.Options{Clock: clock, Rand: newRand(seed), Logger: logger})
}

// strictKey is the access key of strict-mode golden files.
var strictKey = auth.Key{AccessKeyID: "AKIDWIRETEST", SecretAccessKey: "wire-test-secret-access-key", Account: "123456789012"}

// newServerWith builds a server over a fresh SQLite store; o gives the
// clock, randomness and anything else the test needs.
func newServerWith(t testing.TB, o server.Options) *server.Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o.Store = st
	o.IssuerURL = "https://idpool.test"
	o.Secrets = [][]byte{testSecret}
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWire(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "wire", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in testdata/wire (%v)", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			// Keys are generated from crypto/rand whatever Options.Rand
			// says (Go 1.26); make that deterministic too.
			cryptotest.SetGlobalRandom(t, 1)
			runWireFile(t, file)
		})
	}
}

type exchange struct {
	title    string // the text after "==> request"
	request  string
	response string
	line     int // of the "==> request" line
}

type wireFile struct {
	preamble  string
	exchanges []*exchange
}

const (
	requestMark  = "==> request"
	responseMark = "<== response"
)

func parseWireFile(text string) (*wireFile, error) {
	f := &wireFile{}
	var cur *exchange
	var buf []string
	inResponse := false
	flush := func() {
		s := strings.TrimRight(strings.Join(buf, "\n"), "\n")
		switch {
		case cur == nil:
			f.preamble = s
		case inResponse:
			cur.response = s
		default:
			cur.request = s
		}
		buf = nil
	}
	for i, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, requestMark):
			if cur != nil && !inResponse {
				return nil, fmt.Errorf("line %d: request without a %q line", cur.line, responseMark)
			}
			flush()
			cur = &exchange{title: strings.TrimSpace(strings.TrimPrefix(line, requestMark)), line: i + 1}
			f.exchanges = append(f.exchanges, cur)
			inResponse = false
		case strings.HasPrefix(line, responseMark):
			if cur == nil || inResponse {
				return nil, fmt.Errorf("line %d: %q without a request", i+1, responseMark)
			}
			flush()
			inResponse = true
		default:
			buf = append(buf, line)
		}
	}
	if cur != nil && !inResponse {
		return nil, fmt.Errorf("line %d: request without a %q line", cur.line, responseMark)
	}
	flush()
	return f, nil
}

func (f *wireFile) String() string {
	var b strings.Builder
	if f.preamble != "" {
		b.WriteString(f.preamble + "\n\n")
	}
	for i, ex := range f.exchanges {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(strings.TrimSpace(requestMark+" "+ex.title) + "\n")
		b.WriteString(ex.request + "\n")
		b.WriteString(responseMark + "\n")
		if ex.response != "" {
			b.WriteString(ex.response + "\n")
		}
	}
	return b.String()
}

func runWireFile(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseWireFile(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	opts := server.Options{Clock: func() time.Time { return wireClock }, Rand: newRand(1)}
	for _, line := range strings.Split(f.preamble, "\n") {
		directive, ok := strings.CutPrefix(line, "# server:")
		if !ok {
			continue
		}
		switch strings.TrimSpace(directive) {
		case "strict":
			opts.Keys = auth.Keys{strictKey.AccessKeyID: strictKey}
		default:
			t.Fatalf("%s: unknown directive %q", path, line)
		}
	}
	srv := newServerWith(t, opts)
	vars := map[string]string{}
	for _, ex := range f.exchanges {
		where := fmt.Sprintf("%s:%d (%s)", path, ex.line, ex.title)
		req, err := buildRequest(ex.request, vars)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		res := rec.Result()
		body := rec.Body.Bytes()
		checkInvariants(t, where, req, res, body)
		got := renderResponse(res, body)
		if *update {
			ex.response = got
		} else if got != ex.response {
			t.Errorf("%s: response differs\n--- got\n%s\n--- want\n%s", where, got, ex.response)
		}
		capture(vars, ex.title, body)
	}
	if *update {
		if out := f.String(); out != string(raw) {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("updated %s", path)
		}
	}
}

var template = regexp.MustCompile(`\{\{\s*(?:repeat\s+(\d+)\s+("(?:[^"\\]|\\.)*")|([A-Za-z_][\w.-]*))\s*\}\}`)

func expand(s string, vars map[string]string) (string, error) {
	var err error
	out := template.ReplaceAllStringFunc(s, func(m string) string {
		sub := template.FindStringSubmatch(m)
		if sub[1] != "" {
			n, _ := strconv.Atoi(sub[1])
			unit, uerr := strconv.Unquote(sub[2])
			if uerr != nil {
				err = fmt.Errorf("%s: %v", m, uerr)
			}
			return strings.Repeat(unit, n)
		}
		v, ok := vars[sub[3]]
		if !ok {
			err = fmt.Errorf("%s: no earlier response has a member %s", m, sub[3])
		}
		return v
	})
	return out, err
}

// buildRequest turns the text of a request into an *http.Request by way of
// net/http's parser.
func buildRequest(text string, vars map[string]string) (*http.Request, error) {
	text, err := expand(text, vars)
	if err != nil {
		return nil, err
	}
	head, body, _ := strings.Cut(text, "\n\n")
	lines := strings.Split(head, "\n")
	hasLength, chunked := false, false
	for _, l := range lines[1:] {
		name, value, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			hasLength = true
		case "transfer-encoding":
			chunked = strings.EqualFold(strings.TrimSpace(value), "chunked")
		}
	}
	method, _, _ := strings.Cut(lines[0], " ")
	switch {
	case chunked:
		if body != "" {
			body = fmt.Sprintf("%x\r\n%s\r\n", len(body), body)
		}
		body += "0\r\n\r\n"
	case !hasLength && (body != "" || method == http.MethodPost):
		lines = append(lines, "Content-Length: "+strconv.Itoa(len(body)))
	}
	raw := strings.Join(lines, "\r\n") + "\r\n\r\n" + body
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return nil, fmt.Errorf("parsing the request: %w", err)
	}
	req.RemoteAddr = "192.0.2.10:49152"
	if spec := req.Header.Get("X-Test-Sign"); spec != "" {
		req.Header.Del("X-Test-Sign")
		if err := sign(req, spec); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// sign signs req as aws-sdk-go-v2 would, at the golden files' clock. spec
// is "<access key id> <region> [<secret>]".
func sign(req *http.Request, spec string) error {
	f := strings.Fields(spec)
	if len(f) < 2 {
		return fmt.Errorf("X-Test-Sign %q: want <access key id> <region> [<secret>]", spec)
	}
	secret := "not-a-configured-secret"
	if f[0] == strictKey.AccessKeyID {
		secret = strictKey.SecretAccessKey
	}
	if len(f) > 2 {
		secret = f[2]
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: f[0], SecretAccessKey: secret}
	return v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "cognito-identity", f[1], wireClock)
}

func renderResponse(res *http.Response, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\n", res.StatusCode, http.StatusText(res.StatusCode))
	names := make([]string, 0, len(res.Header))
	for k := range res.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range res.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if len(body) > 0 {
		b.WriteString("\n")
		b.Write(body)
	}
	return strings.TrimRight(b.String(), "\n")
}

// capture remembers the string members of a JSON response for later
// requests.
func capture(vars map[string]string, title string, body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	label := ""
	if f := strings.Fields(title); len(f) > 0 && strings.HasPrefix(f[0], "#") {
		label = strings.TrimPrefix(f[0], "#") + "."
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(prefix+k+".", c)
			}
		case string:
			name := strings.TrimSuffix(prefix, ".")
			vars[name] = x
			if label != "" {
				vars[label+name] = x
			}
		}
	}
	walk("", v)
}

var (
	uuidRE        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	timestampKeys = []string{"CreationDate", "LastModifiedDate", "Expiration"}
)

// checkInvariants applies the rules of AWS's protocol that every response must
// follow, so that no golden file can bless a broken response.
func checkInvariants(t *testing.T, where string, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	h := res.Header
	if !uuidRE.MatchString(h.Get("X-Amzn-Requestid")) {
		t.Errorf("%s: x-amzn-RequestId %q is not a lower-case UUID", where, h.Get("X-Amzn-Requestid"))
	}
	if got, want := h.Get("Date"), wireClock.Format(http.TimeFormat); got != want {
		t.Errorf("%s: Date %q, want %q (from the server's clock)", where, got, want)
	}
	if h.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("%s: no Access-Control-Allow-Origin", where)
	}
	if exp := h.Get("Access-Control-Expose-Headers"); !strings.Contains(exp, "x-amzn-RequestId") || !strings.Contains(exp, "x-amzn-ErrorType") {
		t.Errorf("%s: Access-Control-Expose-Headers %q", where, exp)
	}
	if res.StatusCode == http.StatusInternalServerError {
		t.Errorf("%s: status 500: %s", where, body)
	}
	// The API answers on "/" or wherever a target is sent (a base path).
	api := req.Header.Get("X-Amz-Target") != "" || req.URL.Path == "/"
	if cl := h.Get("Content-Length"); (cl != "" || api) && cl != strconv.Itoa(len(body)) {
		t.Errorf("%s: Content-Length %q for a %d-byte body", where, cl, len(body))
	}
	if req.Method == http.MethodOptions || !api || req.Header.Get("X-Amz-Target") == "" && req.Method == http.MethodPost && strings.Contains(req.Header.Get("Content-Type"), "form") {
		return // a preflight, another endpoint or an STS call
	}
	if ct := h.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("%s: Content-Type %q", where, ct)
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Errorf("%s: body is not a JSON object: %v: %s", where, err, body)
		return
	}
	if res.StatusCode == http.StatusOK {
		if h.Get("X-Amzn-Errortype") != "" {
			t.Errorf("%s: a success with X-Amzn-ErrorType %q", where, h.Get("X-Amzn-Errortype"))
		}
		checkTimestamps(t, where, "", obj)
		return
	}
	typ, ok := obj["__type"].(string)
	if !ok || typ == "" {
		t.Errorf("%s: error body without a __type: %s", where, body)
	}
	msg, ok := obj["message"].(string)
	if !ok {
		t.Errorf("%s: error body without a string message: %s", where, body)
	}
	if got := h.Get("X-Amzn-Errortype"); got != typ+":" {
		t.Errorf("%s: X-Amzn-ErrorType %q but __type %q", where, got, typ)
	}
	var clean strings.Builder
	for _, r := range msg {
		if r >= 0x20 && r != 0x7f {
			clean.WriteRune(r)
		}
	}
	hm := h.Get("X-Amzn-Errormessage")
	if want := clean.String(); hm != want && !(len(want) > len(hm) && strings.HasPrefix(want, hm) && len(hm) > 4000) {
		t.Errorf("%s: x-amzn-ErrorMessage %q but message %q", where, hm, msg)
	}
}

// checkTimestamps requires every timestamp member to be a JSON number.
func checkTimestamps(t *testing.T, where, path string, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if slices.Contains(timestampKeys, k) {
				if _, ok := c.(float64); !ok {
					t.Errorf("%s: %s%s is %T, want a JSON number", where, path, k, c)
				}
			}
			checkTimestamps(t, where, path+k+".", c)
		}
	case []any:
		for _, c := range x {
			checkTimestamps(t, where, path, c)
		}
	}
}

// TestWireCoversEveryOperation requires a successful exchange in the golden
// files for every operation of the model.
func TestWireCoversEveryOperation(t *testing.T) {
	m, err := model.Load()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "wire", "*.txt"))
	ok := map[string]bool{}
	targetRE := regexp.MustCompile(`(?mi)^X-Amz-Target:\s*AWSCognitoIdentityService\.(\w+)\s*$`)
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parseWireFile(string(raw))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, ex := range f.exchanges {
			if sub := targetRE.FindStringSubmatch(ex.request); sub != nil && strings.HasPrefix(ex.response, "HTTP/1.1 200 ") {
				ok[sub[1]] = true
			}
		}
	}
	for _, name := range m.OperationNames() {
		if !ok[name] {
			t.Errorf("no golden file shows a successful %s", name)
		}
	}
}

// TestWireFileRoundTrip: parsing and printing a golden file gives it back,
// so that -update only ever touches expected responses.
func TestWireFileRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "wire", "*.txt"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parseWireFile(string(raw))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got := f.String(); got != string(raw) {
			t.Errorf("%s does not round-trip; run the test with -update to normalise it", file)
		}
	}
}
