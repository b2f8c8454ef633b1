// Package e2e drives a real idpool server, over HTTP, with the real
// aws-sdk-go-v2 Cognito Identity client. Nothing here reaches into the
// server's internals: a test sees exactly what an SDK user sees.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

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
}

// Env is one running server with its store.
type Env struct {
	t      testing.TB
	URL    string
	DBPath string
	Clock  *testclock.Clock
	// Issuer is the iss of the server's tokens.
	Issuer string

	http  *httptest.Server
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
	hs := httptest.NewUnstartedServer(nil)
	if o.IssuerURL == "" {
		o.IssuerURL = "http://" + hs.Listener.Addr().String()
	}
	srv, err := server.New(server.Options{
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
		hs.Close()
		st.Close()
		t.Fatalf("new server: %v", err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	e := &Env{t: t, URL: hs.URL, DBPath: o.DBPath, Clock: o.Clock, Issuer: o.IssuerURL, http: hs, store: st}
	t.Cleanup(e.Close)
	return e
}

// Close stops the HTTP server and closes the store. It may be called more
// than once.
func (e *Env) Close() {
	e.once.Do(func() {
		e.http.Close()
		if err := e.store.Close(); err != nil {
			e.t.Errorf("close store: %v", err)
		}
	})
}

// Client returns an SDK client that signs as accessKeyID for region and
// never retries, so that a throttling-class error (LimitExceededException)
// reaches the test at once.
func (e *Env) Client(accessKeyID, region string) *cognitoidentity.Client {
	return cognitoidentity.New(cognitoidentity.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, "secret-key-"+accessKeyID, ""),
		HTTPClient:   e.http.Client(),
		Retryer:      aws.NopRetryer{},
	})
}

// PublicClient returns an SDK client that signs nothing, as an app calls
// the public operations (GetId, GetOpenIdToken, GetCredentialsForIdentity,
// UnlinkIdentity).
func (e *Env) PublicClient(region string) *cognitoidentity.Client {
	return cognitoidentity.New(cognitoidentity.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.URL),
		Credentials:  aws.AnonymousCredentials{},
		HTTPClient:   e.http.Client(),
		Retryer:      aws.NopRetryer{},
	})
}

// HTTPClient returns a client for plain HTTP requests to the server.
func (e *Env) HTTPClient() *http.Client { return e.http.Client() }

// STSClient returns an SDK STS client for the server's STS endpoint that
// signs with creds (aws.AnonymousCredentials{} for unsigned calls). It
// signs at the time of the server's clock, so that a test that moves the
// clock moves the request time with it, and it never retries.
func (e *Env) STSClient(creds aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{
		Region:       USEast1,
		BaseEndpoint: aws.String(e.URL),
		Credentials:  creds,
		HTTPClient:   e.http.Client(),
		Retryer:      aws.NopRetryer{},
		HTTPSignerV4: clockSigner{signer: v4.NewSigner(), clock: e.Clock},
	})
}

// clockSigner is the SDK's SigV4 signer with the signing time taken from
// a test clock instead of the wall clock.
type clockSigner struct {
	signer *v4.Signer
	clock  *testclock.Clock
}

func (s clockSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.signer.SignHTTP(ctx, creds, r, payloadHash, service, region, s.clock.Peek(), optFns...)
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

// APIError checks that err is an API error with the given code and exact
// message, sent with HTTP status 400 (500 for InternalErrorException), and
// that the SDK decoded a modeled code into its typed error.
func APIError(t testing.TB, err error, code, message string) {
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
	wantStatus := 400
	if code == "InternalErrorException" {
		wantStatus = 500
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: no HTTP response in %T", code, err)
	} else if re.HTTPStatusCode() != wantStatus {
		t.Errorf("%s: HTTP status %d, want %d", code, re.HTTPStatusCode(), wantStatus)
	}
	if re != nil && re.ServiceRequestID() == "" {
		t.Errorf("%s: no x-amzn-RequestId", code)
	}
	if !isTyped(err, code) {
		t.Errorf("%s was not decoded into the SDK's typed error: %T", code, ae)
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
