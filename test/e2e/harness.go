// Package e2e drives a real idpool server, over HTTP, with the real
// aws-sdk-go-v2 Cognito Identity client. Nothing here reaches into the
// server's internals: a test sees exactly what an SDK user sees.
//
// Its harness (Start, the client constructors, the error checks, Raw) is
// the one every test that drives a server uses: test/strict starts its
// strict servers with it, and the tests of built binaries (cmd/idpool,
// test/replicas) and of idpooltest servers (test/browser) make their
// clients and check their errors with it.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
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
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/sqlite"
	"github.com/idpool/idpool/internal/testclock"
	"github.com/idpool/idpool/internal/trust"
)

// Accounts and regions the tests act in. A 12-digit access key id is that
// account to idpool's permissive authenticator; any other key is
// server.DefaultAccount.
const (
	AccountA = "111111111111"
	AccountB = "222222222222"
	USEast1  = "us-east-1"
	EUWest1  = "eu-west-1"
)

// Epoch is the first instant of every test's clock.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Options configures Start.
type Options struct {
	// DBPath is the SQLite file; a new file in t.TempDir() when empty.
	DBPath string
	// Clock is the server's clock; a stepping clock from Epoch when nil.
	Clock *testclock.Clock
	// MaxPools is the pool quota per account and region (0: the default).
	MaxPools int
	// MaxBodyBytes bounds request bodies (0: the default).
	MaxBodyBytes int64
	// IssuerURL is the iss of the tokens the server issues; when empty,
	// the server's own URL, so that its discovery document is found
	// where it says it is.
	IssuerURL string
	// Roles are the trust policies of a roles file (nil: none).
	Roles *trust.Roles
	// Logger receives the server's log (nil: discarded).
	Logger *slog.Logger
	// AccessLog logs a line per request to Logger.
	AccessLog bool
	// RateLimits are per-operation requests per second (nil: none).
	RateLimits map[string]float64
	// Keys switch on strict mode: SigV4 is verified against them, and
	// an unsigned or unknown caller is refused (nil: permissive, any key
	// accepted).
	Keys auth.Keys
	// Verifier checks login tokens (nil: the server's default, which
	// reads them without verifying signatures).
	Verifier federation.Verifier
	// Secrets seal signing keys and session tokens (nil: the server's
	// default).
	Secrets [][]byte
	// InProcess serves requests by calling the server's handler
	// directly, without a listener: for testing/synctest bubbles, where
	// a goroutine waiting on the network is not durably blocked.
	InProcess bool
}

// inProcessURL is the address of a server started InProcess: nothing
// listens there, the requests go straight to its handler.
const inProcessURL = "http://idpool.test"

// Doer sends an HTTP request and returns its response, as the SDKs'
// HTTPClient does.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Env is one running server with its store.
type Env struct {
	t      testing.TB
	URL    string
	DBPath string
	Clock  *testclock.Clock
	// Issuer is the iss of the server's tokens.
	Issuer string

	http  *httptest.Server // nil InProcess
	doer  Doer
	store *sqlite.Store
	once  sync.Once
}

// Start opens the store, builds the server and serves it on a loopback
// port. It is stopped when the test ends, or earlier with Close.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	if o.DBPath == "" {
		o.DBPath = filepath.Join(t.TempDir(), "idpool.db")
	}
	if o.Clock == nil {
		o.Clock = testclock.New(Epoch, time.Millisecond)
	}
	st, err := sqlite.Open(context.Background(), o.DBPath)
	if err != nil {
		t.Fatalf("open store %s: %v", o.DBPath, err)
	}
	// The listener comes first: the server's issuer URL is its address.
	url := inProcessURL
	var hs *httptest.Server
	if !o.InProcess {
		hs = httptest.NewUnstartedServer(nil)
		url = "http://" + hs.Listener.Addr().String()
	}
	if o.IssuerURL == "" {
		o.IssuerURL = url
	}
	srv, err := server.New(server.Options{
		Keys:         o.Keys,
		Verifier:     o.Verifier,
		Secrets:      o.Secrets,
		Store:        st,
		Clock:        o.Clock.Now,
		MaxPools:     o.MaxPools,
		MaxBodyBytes: o.MaxBodyBytes,
		IssuerURL:    o.IssuerURL,
		Roles:        o.Roles,
		Logger:       o.Logger,
		AccessLog:    o.AccessLog,
		RateLimits:   o.RateLimits,
		// One server per SQLite database, as the idpool command runs it:
		// the developer operations read pools through the cache.
		StoreIsPrivate: true,
	})
	if err != nil {
		if hs != nil {
			hs.Close()
		}
		st.Close()
		t.Fatalf("new server: %v", err)
	}
	e := &Env{t: t, URL: url, DBPath: o.DBPath, Clock: o.Clock, Issuer: o.IssuerURL, http: hs, store: st}
	if hs != nil {
		hs.Config.Handler = srv.Handler()
		hs.Start()
		e.doer = hs.Client()
	} else {
		e.doer = inProcess{srv.Handler()}
	}
	t.Cleanup(e.Close)
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

// Close stops the HTTP server and closes the store. It may be called more
// than once.
func (e *Env) Close() {
	e.once.Do(func() {
		if e.http != nil {
			e.http.Close()
		}
		if err := e.store.Close(); err != nil {
			e.t.Errorf("close store: %v", err)
		}
	})
}

// Client returns an SDK client that signs as accessKeyID for region and
// never retries, so that a throttling-class error (LimitExceededException)
// reaches the test at once.
func (e *Env) Client(accessKeyID, region string) *cognitoidentity.Client {
	return NewCognito(e.URL, e.doer, credentials.NewStaticCredentialsProvider(accessKeyID, "secret-key-"+accessKeyID, ""), InRegion(region))
}

// PublicClient returns an SDK client that signs nothing, as an app calls
// the public operations (GetId, GetOpenIdToken, GetCredentialsForIdentity,
// UnlinkIdentity).
func (e *Env) PublicClient(region string) *cognitoidentity.Client {
	return NewCognito(e.URL, e.doer, aws.AnonymousCredentials{}, InRegion(region))
}

// NewCognito returns an SDK Cognito Identity client of the server at url,
// for USEast1, that signs with creds (aws.AnonymousCredentials{} for
// none), sends through hc (nil: the SDK's own client) and never retries,
// so that every error, throttling included, reaches the test; opts change
// its options.
func NewCognito(url string, hc Doer, creds aws.CredentialsProvider, opts ...func(*cognitoidentity.Options)) *cognitoidentity.Client {
	o := cognitoidentity.Options{
		Region:       USEast1,
		BaseEndpoint: aws.String(url),
		Credentials:  creds,
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return cognitoidentity.New(o)
}

// NewSTS returns an SDK STS client of the server at url, as NewCognito
// does for Cognito Identity.
func NewSTS(url string, hc Doer, creds aws.CredentialsProvider, opts ...func(*sts.Options)) *sts.Client {
	o := sts.Options{
		Region:       USEast1,
		BaseEndpoint: aws.String(url),
		Credentials:  creds,
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return sts.New(o)
}

// HTTPClient returns a client for plain HTTP requests to the server's
// listener (none InProcess: use Do).
func (e *Env) HTTPClient() *http.Client {
	if e.http == nil {
		e.t.Fatal("e2e: a server started InProcess has no listener; use Do")
	}
	return e.http.Client()
}

// Do sends a plain HTTP request to the server, over its listener or in
// process.
func (e *Env) Do(req *http.Request) (*http.Response, error) { return e.doer.Do(req) }

// Cognito returns an SDK client for USEast1 that signs with creds
// (aws.AnonymousCredentials{} for none) at the server's clock and never
// retries; opts change its options (InRegion, e.Skewed, ...).
func (e *Env) Cognito(creds aws.CredentialsProvider, opts ...func(*cognitoidentity.Options)) *cognitoidentity.Client {
	return NewCognito(e.URL, e.doer, creds, append([]func(*cognitoidentity.Options){e.Skewed(0)}, opts...)...)
}

// Skewed makes a client sign skew away from the server's clock.
func (e *Env) Skewed(skew time.Duration) func(*cognitoidentity.Options) {
	return func(o *cognitoidentity.Options) {
		o.HTTPSignerV4 = clockSigner{signer: v4.NewSigner(), clock: e.Clock, skew: skew}
	}
}

// InRegion makes a client sign for, and send to, region r.
func InRegion(r string) func(*cognitoidentity.Options) {
	return func(o *cognitoidentity.Options) { o.Region = r }
}

// STSClient returns an SDK STS client for the server's STS endpoint that
// signs with creds (aws.AnonymousCredentials{} for unsigned calls). It
// signs at the time of the server's clock plus skew (none if not given),
// so that a test that moves the clock moves the request time with it, and
// it never retries.
func (e *Env) STSClient(creds aws.CredentialsProvider, skew ...time.Duration) *sts.Client {
	s := clockSigner{signer: v4.NewSigner(), clock: e.Clock}
	if len(skew) > 0 {
		s.skew = skew[0]
	}
	return NewSTS(e.URL, e.doer, creds, func(o *sts.Options) { o.HTTPSignerV4 = s })
}

// clockSigner is the SDK's SigV4 signer with the signing time taken from
// a test clock, plus skew, instead of the wall clock.
type clockSigner struct {
	signer *v4.Signer
	clock  *testclock.Clock
	skew   time.Duration
}

func (s clockSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.signer.SignHTTP(ctx, creds, r, payloadHash, service, region, s.clock.Peek().Add(s.skew), optFns...)
}

// WithoutClientValidation removes the SDK's check of required members, so
// that the server's own validation can be tested.
func WithoutClientValidation(o *cognitoidentity.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, err := s.Initialize.Remove("OperationInputValidation")
		return err
	})
}

// WithRawBody replaces the JSON body the SDK serialized with body, before
// the request is signed: a way to send what no SDK call would.
func WithRawBody(body string) func(*cognitoidentity.Options) {
	return func(o *cognitoidentity.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Build.Add(middleware.BuildMiddlewareFunc("e2eRawBody",
				func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
					req, ok := in.Request.(*smithyhttp.Request)
					if !ok {
						return middleware.BuildOutput{}, middleware.Metadata{}, errors.New("e2e: unexpected transport request type")
					}
					r, err := req.SetStream(bytes.NewReader([]byte(body)))
					if err != nil {
						return middleware.BuildOutput{}, middleware.Metadata{}, err
					}
					r.ContentLength = int64(len(body))
					in.Request = r
					return next.HandleBuild(ctx, in)
				}), middleware.After)
		})
	}
}

// CaptureResponseBody stores the raw body of the operation's HTTP response
// in *dst before the SDK decodes it, so that a test can check the wire.
func CaptureResponseBody(dst *[]byte) func(*cognitoidentity.Options) {
	return func(o *cognitoidentity.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("e2eCaptureBody",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					resp, ok := out.RawResponse.(*smithyhttp.Response)
					if err != nil || !ok {
						return out, md, err
					}
					body, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					if rerr != nil {
						return out, md, rerr
					}
					*dst = body
					resp.Body = io.NopCloser(bytes.NewReader(body))
					return out, md, nil
				}), middleware.After)
		})
	}
}

// APIError checks that err is a Cognito Identity API error with the given
// code and exact message, sent with HTTP status (400, or 500 for
// InternalErrorException, unless given) and a request id, and that the
// SDK decoded a modeled code into its typed error.
func APIError(t testing.TB, err error, code, message string, status ...int) {
	t.Helper()
	want := http.StatusBadRequest
	if code == "InternalErrorException" {
		want = http.StatusInternalServerError
	}
	if len(status) > 0 {
		want = status[0]
	}
	checkAPIError(t, err, code, message, want, isTyped)
}

// STSError checks that err is an STS error with the given code, exact
// message and HTTP status, with a request id, decoded into the SDK's typed
// error when STS models the code.
func STSError(t testing.TB, err error, code, message string, status int) {
	t.Helper()
	checkAPIError(t, err, code, message, status, isSTSTyped)
}

func checkAPIError(t testing.TB, err error, code, message string, status int, typed func(error, string) bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s %q", code, message)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %T %v, want API error %s", err, err, code)
	}
	if ae.ErrorCode() != code {
		t.Errorf("error code = %q, want %q (message %q)", ae.ErrorCode(), code, ae.ErrorMessage())
	}
	if ae.ErrorMessage() != message {
		t.Errorf("%s message =\n  %q\nwant\n  %q", code, ae.ErrorMessage(), message)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: no HTTP response in %T", code, err)
	} else {
		if re.HTTPStatusCode() != status {
			t.Errorf("%s: HTTP status %d, want %d", code, re.HTTPStatusCode(), status)
		}
		if re.ServiceRequestID() == "" {
			t.Errorf("%s: no request id", code)
		}
	}
	if !typed(err, code) {
		t.Errorf("%s was not decoded into the SDK's error type for it: %T", code, ae)
	}
}

// isSTSTyped reports whether err unwraps to STS's type for code; codes
// that STS does not model must arrive as a generic API error.
func isSTSTyped(err error, code string) bool {
	switch code {
	case "InvalidIdentityToken":
		var e *ststypes.InvalidIdentityTokenException
		return errors.As(err, &e)
	case "ExpiredTokenException":
		var e *ststypes.ExpiredTokenException
		return errors.As(err, &e)
	default:
		var e *smithy.GenericAPIError
		return errors.As(err, &e)
	}
}

// RawRequest is a Cognito Identity request built by hand, for what no SDK
// call sends: signed by the SDK's signer at the server's clock when Creds
// is set (presigned, in the query, with Presign), then changed by Edit.
type RawRequest struct {
	Op      string
	Body    string
	Creds   *aws.Credentials
	Service string // "cognito-identity" if empty
	Presign bool
	Edit    func(*http.Request)
}

// RawResponse is what came back to a RawRequest.
type RawResponse struct {
	Status    int
	ErrorType string // X-Amzn-ErrorType, without the trailing ":"
	Code      string // the body's __type
	Message   string
	Body      map[string]any
}

// Raw sends q to the server, signed for USEast1, and returns the answer,
// whose body must be JSON.
func (e *Env) Raw(t testing.TB, q RawRequest) RawResponse {
	t.Helper()
	body := []byte(q.Body)
	req, err := http.NewRequest(http.MethodPost, e.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+q.Op)
	if q.Creds != nil {
		service := q.Service
		if service == "" {
			service = "cognito-identity"
		}
		sum := sha256.Sum256(body)
		s := v4.NewSigner()
		if q.Presign {
			// X-Amz-Target must stay a header: the presigner would hoist
			// it into the query.
			u, hdr, err := s.PresignHTTP(context.Background(), *q.Creds, req, hex.EncodeToString(sum[:]), service, USEast1, e.Clock.Peek(),
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
		} else if err := s.SignHTTP(context.Background(), *q.Creds, req, hex.EncodeToString(sum[:]), service, USEast1, e.Clock.Peek()); err != nil {
			t.Fatal(err)
		}
	}
	if q.Edit != nil {
		q.Edit(req)
	}
	resp, err := e.doer.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := RawResponse{Status: resp.StatusCode, ErrorType: strings.TrimSuffix(resp.Header.Get("X-Amzn-ErrorType"), ":")}
	if err := json.Unmarshal(data, &out.Body); err != nil {
		t.Fatalf("%s: response %d is not JSON: %q", q.Op, resp.StatusCode, data)
	}
	out.Code, _ = out.Body["__type"].(string)
	out.Message, _ = out.Body["message"].(string)
	return out
}

// WantRawError checks a raw response for an error with code and exact
// message, status 400 and the X-Amzn-ErrorType header.
func WantRawError(t testing.TB, got RawResponse, code, message string) {
	t.Helper()
	if got.Status != http.StatusBadRequest || got.Code != code || got.ErrorType != code || got.Message != message {
		t.Errorf("got %d %s (X-Amzn-ErrorType %s) %q\nwant 400 %s %q", got.Status, got.Code, got.ErrorType, got.Message, code, message)
	}
}

// isTyped reports whether err unwraps to the SDK type of code; codes that
// are not in the model must arrive as a generic API error.
func isTyped(err error, code string) bool {
	switch code {
	case "ResourceNotFoundException":
		var e *types.ResourceNotFoundException
		return errors.As(err, &e)
	case "InvalidParameterException":
		var e *types.InvalidParameterException
		return errors.As(err, &e)
	case "LimitExceededException":
		var e *types.LimitExceededException
		return errors.As(err, &e)
	case "NotAuthorizedException":
		var e *types.NotAuthorizedException
		return errors.As(err, &e)
	case "ResourceConflictException":
		var e *types.ResourceConflictException
		return errors.As(err, &e)
	case "ConcurrentModificationException":
		var e *types.ConcurrentModificationException
		return errors.As(err, &e)
	case "TooManyRequestsException":
		var e *types.TooManyRequestsException
		return errors.As(err, &e)
	case "InternalErrorException":
		var e *types.InternalErrorException
		return errors.As(err, &e)
	case "DeveloperUserAlreadyRegisteredException":
		var e *types.DeveloperUserAlreadyRegisteredException
		return errors.As(err, &e)
	case "InvalidIdentityPoolConfigurationException":
		var e *types.InvalidIdentityPoolConfigurationException
		return errors.As(err, &e)
	case "ExternalServiceException":
		var e *types.ExternalServiceException
		return errors.As(err, &e)
	default:
		var e *smithy.GenericAPIError
		return errors.As(err, &e)
	}
}

// SyncBuffer is a bytes.Buffer that a server's logger, a child process's
// output copier and the test may use at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
