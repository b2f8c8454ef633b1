package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/awsjson"
	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/ratelimit"
	"github.com/idpool/idpool/internal/reqinfo"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/sts"
	"github.com/idpool/idpool/internal/tokens"
	"github.com/idpool/idpool/internal/trust"
)

// Options configures a Server.
type Options struct {
	Store store.Store
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Rand is the source of ids and request ids; nil means crypto/rand.
	// It must be safe for concurrent use.
	Rand   io.Reader
	Logger *slog.Logger

	DefaultAccount string // account of unsigned requests; "000000000000" if empty
	DefaultRegion  string // region of unsigned requests; "us-east-1" if empty
	MaxPools       int    // pools per account and region; cognito.DefaultMaxPools if 0
	MaxBodyBytes   int64  // awsjson.DefaultMaxBodyBytes if 0

	// IssuerURL is the iss of issued tokens and the base of the discovery
	// document; it should be the URL clients reach the server at.
	IssuerURL string
	// Secrets seal the signing keys and session tokens; the first one
	// seals. Nil means InsecureDevelopmentSecret, for tests only.
	Secrets [][]byte
	// Verifier checks login tokens; nil means federation.Trust.
	Verifier federation.Verifier
	// CredentialsLifetime is how long minted credentials last;
	// sts.DefaultLifetime (one hour) if 0.
	CredentialsLifetime time.Duration
	// Keys switches on strict authentication: developer operations and
	// STS must be signed with one of these keys. Nil is permissive.
	Keys auth.Keys
	// RateLimits are per-operation requests per second; nil limits
	// nothing.
	RateLimits map[string]float64
	// StoreIsPrivate says no other server shares the store (true for the
	// embedded SQLite database): pool reads may then all be cached.
	StoreIsPrivate bool
	// Roles are the trust policies of the roles file; nil lists none.
	// Roles it does not list fall under the implicit policy in strict
	// mode (Keys set) and are allowed, with a warning, in permissive mode.
	Roles *trust.Roles
}

// InsecureDevelopmentSecret is the server secret of a Server built without
// one. It is public: anyone can open what it seals. The idpool command
// never uses it (it generates a secret into the data directory).
var InsecureDevelopmentSecret = []byte("idpool insecure development secret, never use it")

// DefaultAccount is the account of requests whose access key names none.
const DefaultAccount = "000000000000"

// Server is the idpool HTTP server: the Cognito Identity API and the
// endpoints around it, behind shared middleware.
type Server struct {
	handler http.Handler
	log     *slog.Logger
	now     func() time.Time
	date    dateHeader
	rand    io.Reader
	ring    *tokens.KeyRing
	issuer  *tokens.Issuer
	store   store.Store
}

// New builds a Server from its options.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DefaultAccount == "" {
		o.DefaultAccount = DefaultAccount
	}
	if o.DefaultRegion == "" {
		o.DefaultRegion = "us-east-1"
	}
	if o.IssuerURL == "" {
		o.IssuerURL = "http://127.0.0.1:4591"
	}
	if len(o.Secrets) == 0 {
		o.Logger.Warn("no server secret configured: using the public development secret; do not use this server for anything real")
		o.Secrets = [][]byte{InsecureDevelopmentSecret}
	}
	ring, err := tokens.NewKeyRing(tokens.KeyRingOptions{
		Store: o.Store, Secrets: o.Secrets, Clock: o.Clock, Rand: o.Rand, KIDPrefix: o.DefaultRegion, Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	if err := ring.Load(context.Background()); err != nil {
		return nil, err
	}
	issuer := tokens.NewIssuer(o.IssuerURL, ring, o.Clock)
	m, err := model.Load()
	if err != nil {
		return nil, err
	}
	minter, err := sts.NewMinter(o.Secrets, o.Rand)
	if err != nil {
		return nil, err
	}
	var authenticator awsjson.Authenticator = auth.Permissive{DefaultAccount: o.DefaultAccount}
	var longTerm sts.LongTermKeys
	if o.Keys != nil {
		authenticator = auth.Strict{Keys: o.Keys, Minter: minter, Now: o.Clock}
		longTerm = o.Keys.Lookup
	}
	var limiter awsjson.Limiter
	if len(o.RateLimits) > 0 {
		limiter = ratelimit.New(o.RateLimits)
	}
	api := awsjson.New(awsjson.Options{
		Model:         m,
		Authenticator: authenticator,
		Limiter:       limiter,
		Logger:        o.Logger,
		MaxBodyBytes:  o.MaxBodyBytes,
	})
	svc := cognito.New(cognito.Config{
		Store:         o.Store,
		Clock:         o.Clock,
		Rand:          o.Rand,
		DefaultRegion: o.DefaultRegion,
		MaxPools:      o.MaxPools,
		Logger:        o.Logger,
		Verifier:      o.Verifier,
		Issuer:        issuer,
		Minter:        minter,

		CredentialsLifetime: o.CredentialsLifetime,
		StoreIsPrivate:      o.StoreIsPrivate,
		Roles:               o.Roles,
		StrictTrust:         o.Keys != nil,
	})
	register(api, svc)

	s := &Server{log: o.Logger, now: o.Clock, rand: o.Rand, ring: ring, issuer: issuer, store: o.Store}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /ready", s.ready)
	issuer.Mount(mux)
	stsHandler := sts.New(sts.Options{Minter: minter, Issuer: issuer, Clock: o.Clock, Logger: o.Logger, DefaultAccount: o.DefaultAccount, Keys: longTerm, Trust: svc})
	// Cognito Identity and STS share the port: an STS call is a form
	// (awsQuery) request with an Action, Cognito's carry X-Amz-Target.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sts.IsSTS(r) {
			stsHandler.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	s.handler = s.middleware(mux)
	return s, nil
}

// register mounts the operations that are built.
func register(h *awsjson.Handler, s *cognito.Service) {
	awsjson.Register(h, "CreateIdentityPool", s.CreateIdentityPool)
	awsjson.Register(h, "DescribeIdentityPool", s.DescribeIdentityPool)
	awsjson.Register(h, "UpdateIdentityPool", s.UpdateIdentityPool)
	awsjson.Register(h, "DeleteIdentityPool", s.DeleteIdentityPool)
	awsjson.Register(h, "ListIdentityPools", s.ListIdentityPools)
	awsjson.Register(h, "SetIdentityPoolRoles", s.SetIdentityPoolRoles)
	awsjson.Register(h, "GetIdentityPoolRoles", s.GetIdentityPoolRoles)
	awsjson.Register(h, "SetPrincipalTagAttributeMap", s.SetPrincipalTagAttributeMap)
	awsjson.Register(h, "GetPrincipalTagAttributeMap", s.GetPrincipalTagAttributeMap)
	awsjson.Register(h, "TagResource", s.TagResource)
	awsjson.Register(h, "UntagResource", s.UntagResource)
	awsjson.Register(h, "ListTagsForResource", s.ListTagsForResource)

	awsjson.Register(h, "GetId", s.GetId)
	awsjson.Register(h, "GetOpenIdToken", s.GetOpenIdToken)
	awsjson.Register(h, "GetCredentialsForIdentity", s.GetCredentialsForIdentity)
	awsjson.Register(h, "GetOpenIdTokenForDeveloperIdentity", s.GetOpenIdTokenForDeveloperIdentity)
	awsjson.Register(h, "DescribeIdentity", s.DescribeIdentity)
	awsjson.Register(h, "ListIdentities", s.ListIdentities)
	awsjson.Register(h, "DeleteIdentities", s.DeleteIdentities)
	awsjson.Register(h, "UnlinkIdentity", s.UnlinkIdentity)
	awsjson.Register(h, "LookupDeveloperIdentity", s.LookupDeveloperIdentity)
	awsjson.Register(h, "MergeDeveloperIdentities", s.MergeDeveloperIdentities)
	awsjson.Register(h, "UnlinkDeveloperIdentity", s.UnlinkDeveloperIdentity)
}

// Operations lists the names of the API's operations (for validating
// configuration that names them).
func Operations() []string {
	m, err := model.Load()
	if err != nil {
		return nil
	}
	return m.OperationNames()
}

// KeyRing returns the server's signing keys (for `idpool keys` and tests).
func (s *Server) KeyRing() *tokens.KeyRing { return s.ring }

// Issuer returns the server's token issuer.
func (s *Server) Issuer() *tokens.Issuer { return s.issuer }

// Handler returns the server's HTTP handler, middleware included.
func (s *Server) Handler() http.Handler { return s.handler }

// health is liveness: the process serves HTTP. It checks nothing else, so
// that an orchestrator does not restart a server whose database is down
// (it recovers by itself once the database answers).
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"ok"}`)
}

// readyTimeout bounds the store check of /ready.
const readyTimeout = 2 * time.Second

// ready is readiness: 200 when the store answers and a signing key is
// loaded, else 503 with the reasons, so that a load balancer sends
// traffic elsewhere while this server cannot serve it.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	var problems []string
	if err := s.store.Ping(ctx); err != nil {
		problems = append(problems, err.Error()) // "store: unavailable: ..."
	}
	if !s.ring.CanSign(s.now()) {
		problems = append(problems, "signing keys: none loaded that may sign")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if len(problems) == 0 {
		io.WriteString(w, `{"status":"ready"}`)
		return
	}
	s.log.WarnContext(r.Context(), "not ready", "problems", problems)
	body, _ := json.Marshal(map[string]any{"status": "unavailable", "problems": problems})
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write(body)
}

// ShutdownTimeout bounds how long Serve waits for in-flight requests once
// its context is done.
const ShutdownTimeout = 30 * time.Second

// Serve serves on ln until ctx is done, then stops accepting connections
// and lets in-flight requests finish (up to ShutdownTimeout).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ringCtx, stopRing := context.WithCancel(ctx)
	defer stopRing()
	go s.ring.Run(ringCtx)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// exposed are the response headers browsers may show to scripts.
const exposed = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"

var (
	allowOrigin   = []string{"*"}
	exposeHeaders = []string{exposed}
)

// dateHeader keeps the Date header of the current second, formatted once.
type dateHeader struct{ cur atomic.Pointer[dateValue] }

type dateValue struct {
	sec int64
	v   []string
}

func (d *dateHeader) value(t time.Time) []string {
	sec := t.Unix()
	if v := d.cur.Load(); v != nil && v.sec == sec {
		return v.v
	}
	v := &dateValue{sec, []string{t.UTC().Format(http.TimeFormat)}}
	d.cur.Store(v)
	return v.v
}

// allowedHeaders answers a preflight that lists no headers: what the SDKs
// and Amplify send.
const allowedHeaders = "content-type,x-amz-target,x-amz-user-agent,x-amz-date,authorization," +
	"x-amz-security-token,x-amz-content-sha256,amz-sdk-invocation-id,amz-sdk-request,cache-control"

// middleware wraps every request: request id, Date and CORS headers,
// preflight answers, panic recovery and the access log.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		id := s.requestID()
		// Keys already in canonical form, and values shared between
		// responses (net/http only reads them): no work per request
		// beyond the request id and, once a second, the Date.
		hdr := w.Header()
		hdr["X-Amzn-Requestid"] = []string{id}
		hdr["Date"] = s.date.value(start)
		hdr["Access-Control-Allow-Origin"] = allowOrigin
		hdr["Access-Control-Expose-Headers"] = exposeHeaders

		if r.Method == http.MethodOptions {
			preflight(w, r)
			return
		}
		var outcome reqinfo.Outcome
		ctx := reqinfo.WithOutcome(reqinfo.WithRequestID(r.Context(), id), &outcome)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic serving request", "request_id", id, "op", outcome.Operation, "panic", v)
				if !rec.wrote {
					awsjson.WriteError(rec, apierr.New(apierr.InternalError, "An internal error occurred. Please try again."), http.StatusInternalServerError)
				}
				outcome.Code = string(apierr.InternalError)
			}
			s.log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("op", outcome.Operation),
				slog.Int("status", rec.status),
				slog.String("error", outcome.Code),
				slog.Duration("duration", s.now().Sub(start)),
			)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

func (s *Server) requestID() string {
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return uuid.NewString()
	}
	return u.String()
}

// preflight answers a CORS preflight on any path (protocol.md §8).
func preflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
		hdr.Set("Access-Control-Allow-Headers", h)
	} else {
		hdr.Set("Access-Control-Allow-Headers", allowedHeaders)
	}
	hdr.Set("Access-Control-Max-Age", "172800")
	hdr.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}
