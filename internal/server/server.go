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
	"time"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/awsjson"
	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/console"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/metrics"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/ratelimit"
	"github.com/idpool/idpool/internal/seed"
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
	// MetricsOffAPI keeps GET /metrics off the API handler (Handler): set
	// it when MetricsHandler is served on a separate address. The zero
	// value serves the metrics on the API handler too, so that a server
	// built without more ado (tests, harnesses) can be scraped.
	MetricsOffAPI bool
	// AccessLog logs one info line per request, every request (health
	// checks, preflights and scrapes too): request id, method, path,
	// client address, account, operation, status, error type and
	// duration_ms. The zero value logs none: a server embedded in tests
	// stays quiet, and the idpool command decides (--access-log). Panics
	// and internal errors are logged either way; audit lines go to Logger
	// at info level whatever AccessLog says.
	AccessLog bool
	// Seed is applied by New, before the server answers anything, and
	// again after every reset; nil seeds nothing.
	Seed *seed.Seed
	// Reset says who may call POST /_idpool/reset; the zero value,
	// ResetAuto, lets anyone in permissive mode and nobody in strict mode.
	Reset ResetPolicy
	// ConsoleOff leaves the web console (/console/) out. The zero value
	// serves it: open in permissive mode, behind a sign-in with the
	// strict mode keys otherwise.
	ConsoleOff bool
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
	handler   http.Handler
	log       *slog.Logger
	now       func() time.Time
	date      dateHeader
	rand      io.Reader
	ring      *tokens.KeyRing
	issuer    *tokens.Issuer
	store     store.Store
	metrics   *metrics.Metrics
	accessLog bool

	svc            *cognito.Service
	seed           *seed.Seed
	defaultAccount string
	resetPolicy    ResetPolicy
	// strict verifies the signature of reset requests in strict mode
	// (nil in permissive mode).
	strict *auth.Strict
	// console and activity are nil when the console is off.
	console  *console.Console
	activity *console.Activity
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
	m, err := model.Load()
	if err != nil {
		return nil, err
	}
	mtr := metrics.New(metrics.Options{
		Operations:      append(m.OperationNames(), stsOperations...),
		TokenKinds:      []string{cognito.TokenOpenID, cognito.TokenDeveloper},
		CredentialFlows: []string{sts.FlowEnhanced, sts.FlowBasic},
		Clock:           o.Clock,
	})
	if err := observeBackend(o.Store, mtr); err != nil {
		return nil, err
	}
	// Everything below uses the store through the timing decorator.
	st := mtr.Store(o.Store)
	ring, err := tokens.NewKeyRing(tokens.KeyRingOptions{
		Store: st, Secrets: o.Secrets, Clock: o.Clock, Rand: o.Rand, KIDPrefix: o.DefaultRegion, Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	if err := ring.Load(context.Background()); err != nil {
		return nil, err
	}
	err = mtr.WatchSigningKey(func(now time.Time) (time.Time, bool) {
		_, created, ok := ring.SigningKey(now)
		return created, ok
	})
	if err != nil {
		return nil, err
	}
	issuer := tokens.NewIssuer(o.IssuerURL, ring, o.Clock)
	minter, err := sts.NewMinter(o.Secrets, o.Rand)
	if err != nil {
		return nil, err
	}
	var authn awsjson.Authenticator = auth.Permissive{DefaultAccount: o.DefaultAccount}
	var longTerm sts.LongTermKeys
	var strict *auth.Strict
	if o.Keys != nil {
		strict = &auth.Strict{Keys: o.Keys, Minter: minter, Now: o.Clock}
		authn = *strict
		longTerm = o.Keys.Lookup
	}
	var limits awsjson.Limiter
	if len(o.RateLimits) > 0 {
		limits = limiter{next: ratelimit.New(o.RateLimits), metrics: mtr}
	}
	api := awsjson.New(awsjson.Options{
		Model:         m,
		Authenticator: authenticator{next: authn},
		Limiter:       limits,
		Logger:        o.Logger,
		MaxBodyBytes:  o.MaxBodyBytes,
	})
	obs := observer{metrics: mtr}
	svc := cognito.New(cognito.Config{
		Store:         st,
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
		Observer:            obs,
	})
	register(api, svc)
	if err := applySeed(context.Background(), svc, o.Seed, o.DefaultAccount, o.Logger); err != nil {
		return nil, err
	}

	s := &Server{log: o.Logger, now: o.Clock, rand: o.Rand, ring: ring, issuer: issuer, store: st, metrics: mtr, accessLog: o.AccessLog,
		svc: svc, seed: o.Seed, defaultAccount: o.DefaultAccount, resetPolicy: o.Reset, strict: strict}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /ready", s.ready)
	mux.HandleFunc("POST "+ResetPath, s.reset)
	if !o.MetricsOffAPI {
		mux.Handle("GET /metrics", mtr.Handler())
	}
	if !o.ConsoleOff {
		s.activity = console.NewActivity(o.Clock)
		s.console = console.New(console.Options{
			Service: svc, Model: m, Register: func(h *awsjson.Handler) { register(h, svc) },
			Limiter: limits, Logger: o.Logger, Keys: o.Keys,
			WrapAuthenticator: func(a awsjson.Authenticator) awsjson.Authenticator { return authenticator{next: a} },
			DefaultAccount:    o.DefaultAccount, DefaultRegion: o.DefaultRegion,
			Ring: ring, Issuer: issuer, Activity: s.activity, Clock: o.Clock, Rand: o.Rand,
			API: func() http.Handler { return s.handler }, ActsFor: obs.ActsFor,
		})
		s.console.Mount(mux)
	} else {
		// Without this, a browser pointed at /console/ would reach the
		// API and get its 405 for a GET.
		mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "404 page not found: the web console is off on this server (--console off)", http.StatusNotFound)
		})
	}
	issuer.Mount(mux)
	stsHandler := sts.New(sts.Options{Minter: minter, Issuer: issuer, Clock: o.Clock, Logger: o.Logger, DefaultAccount: o.DefaultAccount, Keys: longTerm, Trust: svc, Observer: obs})
	// Cognito Identity and STS share the port: an STS call is a form
	// (awsQuery) request with an Action, Cognito's carry X-Amz-Target.
	calls := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sts.IsSTS(r) {
			stsHandler.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
	mux.Handle("/", calls)
	s.handler = s.middleware(postsToCalls(mux, calls))
	return s, nil
}

// postsToCalls sends a POST whose path leads to the API calls (the
// catch-all pattern, once the path is cleaned) straight to them. Through
// the mux, a path in unclean form ("//", "/base//", "/a/../b") would get
// a redirect, which SDKs do not follow for a POST; calls are routed on
// X-Amz-Target (or STS's Action), not on the path. A POST whose clean
// path is another endpoint's (the reset endpoint's, the console's) goes
// through the mux, its redirect included.
func postsToCalls(mux *http.ServeMux, calls http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			// For a path in unclean form, the pattern is the one its
			// clean form matches.
			if _, pattern := mux.Handler(r); pattern == "/" {
				calls.ServeHTTP(w, r)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
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

// MetricsHandler returns the handler of the server's metrics, in
// Prometheus' exposition formats, for serving on a separate address
// (Options.MetricsOffAPI). It is the handler GET /metrics serves on the
// API handler otherwise.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.Handler() }

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
	if s.console != nil {
		// Event streams would hold the shutdown up until its timeout.
		hs.RegisterOnShutdown(s.console.Close)
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

// CloseStreams ends the console's event streams, which a server shut down
// by other means than Serve (an httptest server, say) must do before it
// waits for the requests in flight.
func (s *Server) CloseStreams() {
	if s.console != nil {
		s.console.Close()
	}
}
