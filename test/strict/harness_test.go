// Package strict drives an idpool server in strict mode (SigV4 verified
// against configured keys, login tokens verified against their issuers'
// keys, AWS's rate limits) with the real aws-sdk-go-v2 clients and, where
// no SDK call can produce the fault, with raw HTTP requests signed by the
// SDK's signer.
package strict

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/sqlite"
	"github.com/idpool/idpool/internal/testclock"
	"github.com/idpool/idpool/internal/trust"
)

// The accounts, keys and regions of the tests.
const (
	accountA = "111111111111"
	accountB = "222222222222"
	keyA     = "AKIASTRICTAAAAAAAAAA"
	secretA  = "strict/secret+A/0123456789abcdefghijklmnop"
	keyB     = "AKIASTRICTBBBBBBBBBB"
	secretB  = "strict/secret+B/0123456789abcdefghijklmnop"
	region   = "us-east-1"
)

// epoch is the server clock's first reading.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// doer is the SDK's HTTP client interface.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// env is one strict-mode server with the OpenID issuer its logins come
// from.
type env struct {
	t      testing.TB
	url    string
	clock  *testclock.Clock
	oidc   *issuer
	client doer

	close func()
}

// options configures start.
type options struct {
	// rateLimits are the server's rates; nil limits nothing.
	rateLimits map[string]float64
	// inProcess serves requests by calling the handler directly, without
	// a listener (for testing/synctest bubbles, where time stands still
	// while nothing is waiting).
	inProcess bool
	// roles are the trust policies of a roles file (nil: none).
	roles *trust.Roles
	// trustLogins reads login tokens without verifying their signatures
	// (--logins trust), beside strict SigV4.
	trustLogins bool
}

// oidcClient is the client id the pools trust for the test issuer, and
// facebookToken the one opaque token verify mode knows.
const (
	oidcClient    = "strict-client"
	facebookApp   = "fb-app-1"
	facebookToken = "EAAGstrictfacebooktoken"
	facebookUser  = "10150000000000042"
)

// start runs a strict server: keys A and B, login verification against
// the test issuer (OIDC by discovery; not in process) and the tokens map
// for Facebook.
func start(t testing.TB, o options) *env {
	t.Helper()
	c := testclock.New(epoch, time.Millisecond)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	providers := map[string]federation.ProviderConfig{
		"graph.facebook.com": {Tokens: map[string]string{facebookToken: facebookUser}},
	}
	// In process there is no issuer: its servers would block a synctest
	// bubble (goroutines waiting on the network are not durably blocked).
	var oidc *issuer
	oidcHTTP := http.DefaultClient
	if !o.inProcess {
		oidc = newIssuer(t, c)
		providers[oidc.key] = federation.ProviderConfig{Issuer: oidc.iss, ClientIDs: []string{oidcClient}}
		oidcHTTP = oidc.client
	}
	keys := auth.Keys{
		keyA: {AccessKeyID: keyA, SecretAccessKey: secretA, Account: accountA},
		keyB: {AccessKeyID: keyB, SecretAccessKey: secretB, Account: accountB},
	}
	var verifier federation.Verifier = federation.NewStrict(providers, c.Now, oidcHTTP)
	if o.trustLogins {
		verifier = federation.Trust{Now: c.Now, Providers: providers}
	}
	e := &env{t: t, clock: c, oidc: oidc}
	const inProcessURL = "http://idpool.test"
	var hs *httptest.Server
	issuerURL := inProcessURL
	if !o.inProcess {
		hs = httptest.NewUnstartedServer(nil)
		issuerURL = "http://" + hs.Listener.Addr().String()
	}
	srv, err := server.New(server.Options{
		Store:      st,
		Clock:      c.Now,
		IssuerURL:  issuerURL,
		Secrets:    [][]byte{[]byte("strict-mode test secret, at least 32 bytes")},
		Keys:       keys,
		Verifier:   verifier,
		RateLimits: o.rateLimits,
		Roles:      o.roles,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	if o.inProcess {
		e.url, e.client = inProcessURL, inProcess{srv.Handler()}
	} else {
		hs.Config.Handler = srv.Handler()
		hs.Start()
		e.url, e.client = hs.URL, hs.Client()
	}
	var once sync.Once
	e.close = func() {
		once.Do(func() {
			if hs != nil {
				hs.Close()
			}
			if err := st.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
	}
	t.Cleanup(e.close)
	return e
}

// inProcess hands each request to the handler as a server would (Host in
// r.Host, the request line parsed again) and returns its response.
type inProcess struct{ h http.Handler }

func (p inProcess) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	r := httptest.NewRequestWithContext(req.Context(), req.Method, req.URL.String(), bytes.NewReader(body))
	r.Header = req.Header.Clone()
	if req.Host != "" {
		r.Host = req.Host
	}
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// signer signs at the server's clock plus skew, so that moving the clock
// moves request times with it and a test can sign stale requests.
type signer struct {
	v4    *v4.Signer
	clock *testclock.Clock
	skew  time.Duration
}

func (s signer) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.v4.SignHTTP(ctx, creds, r, payloadHash, service, region, s.clock.Peek().Add(s.skew), optFns...)
}

// clientOption configures a Cognito Identity client.
type clientOption func(*cognitoidentity.Options)

// skewed signs skew away from the server's time.
func (e *env) skewed(skew time.Duration) clientOption {
	return func(o *cognitoidentity.Options) {
		o.HTTPSignerV4 = signer{v4: v4.NewSigner(), clock: e.clock, skew: skew}
	}
}

// inRegion signs for (and sends to) another region.
func inRegion(r string) clientOption {
	return func(o *cognitoidentity.Options) { o.Region = r }
}

// cognito returns an SDK client that signs with creds (aws.AnonymousCredentials{}
// for none) and never retries.
func (e *env) cognito(creds aws.CredentialsProvider, opts ...clientOption) *cognitoidentity.Client {
	o := cognitoidentity.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.url),
		Credentials:  creds,
		HTTPClient:   e.client,
		Retryer:      aws.NopRetryer{},
		HTTPSignerV4: signer{v4: v4.NewSigner(), clock: e.clock},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return cognitoidentity.New(o)
}

func static(key, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, token)
}

// clientA and clientB act for accounts A and B; public signs nothing.
func (e *env) clientA() *cognitoidentity.Client { return e.cognito(static(keyA, secretA, "")) }
func (e *env) clientB() *cognitoidentity.Client { return e.cognito(static(keyB, secretB, "")) }
func (e *env) public() *cognitoidentity.Client  { return e.cognito(aws.AnonymousCredentials{}) }

// sts returns an SDK STS client for the server's STS endpoint.
func (e *env) sts(creds aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.url),
		Credentials:  creds,
		HTTPClient:   e.client,
		Retryer:      aws.NopRetryer{},
		HTTPSignerV4: signer{v4: v4.NewSigner(), clock: e.clock},
	})
}

// rawRequest is a Cognito Identity request built by hand: signed by the
// SDK's signer when creds is set, then changed by edit.
type rawRequest struct {
	op      string
	body    string
	creds   *aws.Credentials
	service string // "cognito-identity" if empty
	presign bool
	edit    func(*http.Request)
}

// rawResponse is what came back.
type rawResponse struct {
	status    int
	errorType string // X-Amzn-ErrorType, without the trailing ":"
	code      string // the body's __type
	message   string
	body      map[string]any
}

func (e *env) raw(t *testing.T, q rawRequest) rawResponse {
	t.Helper()
	body := []byte(q.body)
	req, err := http.NewRequest(http.MethodPost, e.url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+q.op)
	if q.creds != nil {
		service := q.service
		if service == "" {
			service = "cognito-identity"
		}
		sum := sha256.Sum256(body)
		s := v4.NewSigner()
		if q.presign {
			// X-Amz-Target must stay a header: the presigner would hoist
			// it into the query.
			u, hdr, err := s.PresignHTTP(context.Background(), *q.creds, req, hex.EncodeToString(sum[:]), service, region, e.clock.Peek(),
				func(o *v4.SignerOptions) { o.DisableHeaderHoisting = true })
			if err != nil {
				t.Fatal(err)
			}
			if req, err = http.NewRequest(http.MethodPost, u, bytes.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			for k, v := range hdr {
				if k != "Host" && k != "Content-Length" {
					req.Header[k] = v
				}
			}
		} else if err := s.SignHTTP(context.Background(), *q.creds, req, hex.EncodeToString(sum[:]), service, region, e.clock.Peek()); err != nil {
			t.Fatal(err)
		}
	}
	if q.edit != nil {
		q.edit(req)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawResponse{status: resp.StatusCode, errorType: strings.TrimSuffix(resp.Header.Get("X-Amzn-ErrorType"), ":")}
	if err := json.Unmarshal(data, &out.body); err != nil {
		t.Fatalf("%s: response %d is not JSON: %q", q.op, resp.StatusCode, data)
	}
	out.code, _ = out.body["__type"].(string)
	out.message, _ = out.body["message"].(string)
	return out
}

// wantRawError checks a raw response for an error with code and exact
// message, status 400 and the X-Amzn-ErrorType header.
func wantRawError(t *testing.T, got rawResponse, code, message string) {
	t.Helper()
	if got.status != http.StatusBadRequest || got.code != code || got.errorType != code || got.message != message {
		t.Errorf("got %d %s (X-Amzn-ErrorType %s) %q\nwant 400 %s %q", got.status, got.code, got.errorType, got.message, code, message)
	}
}

// apiError checks that err is an API error with code and the exact message
// sent with status (400 unless given), and a request id.
func apiError(t testing.TB, err error, code, message string, status ...int) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s %q", code, message)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %T %v, want API error %s", err, err, code)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != message {
		t.Errorf("got %s %q\nwant %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
	want := http.StatusBadRequest
	if len(status) > 0 {
		want = status[0]
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: no HTTP response in %T", code, err)
		return
	}
	if re.HTTPStatusCode() != want {
		t.Errorf("%s: HTTP status %d, want %d", code, re.HTTPStatusCode(), want)
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("%s: no request id", code)
	}
}

// issuer is an OpenID Connect provider: its discovery document is served
// by one server and names a JWKS served by another.
type issuer struct {
	t       testing.TB
	clock   *testclock.Clock
	iss     string // the iss of its tokens
	key     string // its Logins key: iss without the scheme
	arn     string // its IAM OIDC provider ARN in account A
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	client  *http.Client
	servers []*httptest.Server
}

func newIssuer(t testing.TB, c *testclock.Clock) *issuer {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	i := &issuer{t: t, clock: c, rsa: rk, ec: ek}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: rk.Public(), KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
		{Key: ek.Public(), KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	discovery := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oidc/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": i.iss, "jwks_uri": jwks.URL + "/jwks.json"})
	}))
	i.servers = []*httptest.Server{jwks, discovery}
	i.client = discovery.Client()
	i.iss = discovery.URL + "/oidc"
	i.key = federation.IssuerKey(i.iss)
	i.arn = "arn:aws:iam::" + accountA + ":oidc-provider/" + i.key
	t.Cleanup(func() {
		for _, s := range i.servers {
			s.Close()
		}
	})
	return i
}

// token returns an RS256 ID token of the issuer for sub, valid for an hour
// from the server's clock, with changes applied to its claims (a nil value
// removes a claim).
func (i *issuer) token(sub string, changes ...any) string {
	now := i.clock.Peek()
	claims := map[string]any{"iss": i.iss, "sub": sub, "aud": oidcClient, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email": sub + "@example.com"}
	for n := 0; n+1 < len(changes); n += 2 {
		if changes[n+1] == nil {
			delete(claims, changes[n].(string))
		} else {
			claims[changes[n].(string)] = changes[n+1]
		}
	}
	return i.sign(jose.RS256, i.rsa, "rsa-1", claims)
}

func (i *issuer) sign(alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	i.t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		i.t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		i.t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		i.t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		i.t.Fatal(err)
	}
	return out
}
