package idpooltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/seal"
	"github.com/idpool/idpool/internal/seed"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/memory"
)

// Server is a running idpool server.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:<port>: the
	// BaseEndpoint of Cognito Identity and STS clients alike, and the
	// issuer (iss) of the OpenID tokens it signs.
	URL string

	t     testing.TB // nil for Start
	http  *httptest.Server
	srv   *server.Server
	store *memory.Store
	once  sync.Once
}

// Key is an access key a strict server accepts (WithStrict).
type Key struct {
	AccessKeyID     string
	SecretAccessKey string // at least 8 characters
	AccountID       string // 12 digits: the account the key acts for
}

// Option configures a server.
type Option func(*options)

type options struct {
	seed     func() (*seed.Seed, error)
	keys     []Key
	clock    func() time.Time
	logger   *slog.Logger
	account  string
	region   string
	lifetime time.Duration
}

// WithSeedFile seeds the server from a seed file (YAML or JSON), as
// idpool serve --seed does. A later seed option replaces an earlier one.
func WithSeedFile(path string) Option {
	return func(o *options) {
		o.seed = func() (*seed.Seed, error) { return seed.Load(path) }
	}
}

// WithSeedYAML seeds the server from the text of a seed file (YAML or
// JSON). A later seed option replaces an earlier one.
func WithSeedYAML(data []byte) Option {
	data = append([]byte(nil), data...)
	return func(o *options) {
		o.seed = func() (*seed.Seed, error) { return seed.Parse("WithSeedYAML", data) }
	}
}

// WithSeed seeds the server from a seed written in Go. A later seed
// option replaces an earlier one.
func WithSeed(s Seed) Option {
	return func(o *options) {
		o.seed = func() (*seed.Seed, error) {
			// Indented, so that the line numbers of messages point
			// somewhere sensible in the JSON they name.
			data, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				return nil, err
			}
			return seed.Parse("WithSeed", data)
		}
	}
}

// WithStrict makes the server strict: the developer operations (all but
// GetId, GetOpenIdToken, GetCredentialsForIdentity and UnlinkIdentity),
// STS's long-term-key calls and POST /_idpool/reset must be signed with
// one of keys, at a time within five minutes of the server's clock.
func WithStrict(keys ...Key) Option {
	return func(o *options) { o.keys = append(o.keys, keys...) }
}

// WithClock sets the server's clock (time.Now by default): token and
// credential lifetimes, creation dates and, in strict mode, the check of
// signing times follow it.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.clock = now }
}

// WithLogger sends the server's log (audit lines, refusals, internal
// errors) to l; it is discarded by default.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithDefaultAccount sets the account of unsigned requests, of access keys
// that are not 12 digits, and of seeded pools that name none
// (000000000000 by default).
func WithDefaultAccount(account string) Option {
	return func(o *options) { o.account = account }
}

// WithDefaultRegion sets the region of unsigned requests (us-east-1 by
// default).
func WithDefaultRegion(region string) Option {
	return func(o *options) { o.region = region }
}

// WithCredentialsLifetime sets how long the credentials of
// GetCredentialsForIdentity last (one hour by default).
func WithCredentialsLifetime(d time.Duration) Option {
	return func(o *options) { o.lifetime = d }
}

// New starts a server for the test and stops it when the test ends. A
// problem (a seed that does not pass the API's rules, say) fails the test
// at once.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("idpooltest: %v", err)
	}
	s.t = t
	t.Cleanup(s.Close)
	return s
}

// Start starts a server that lives until Close: for a server shared by a
// package's tests (TestMain), or an example.
func Start(opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var sd *seed.Seed
	if o.seed != nil {
		var err error
		if sd, err = o.seed(); err != nil {
			return nil, err
		}
	}
	var keys auth.Keys
	if len(o.keys) > 0 {
		lines := make([]string, len(o.keys))
		for i, k := range o.keys {
			lines[i] = strings.Join([]string{k.AccessKeyID, k.SecretAccessKey, k.AccountID}, " ")
		}
		var err error
		if keys, err = auth.ParseKeys(strings.NewReader(strings.Join(lines, "\n")), "\n"); err != nil {
			return nil, fmt.Errorf("WithStrict: %w", err)
		}
	}
	secret, err := seal.NewSecret()
	if err != nil {
		return nil, err
	}
	secrets, err := seal.ParseSecrets(secret)
	if err != nil {
		return nil, err
	}
	st := memory.New()
	// The listener comes first: the issuer of the tokens is the
	// server's own URL.
	hs := httptest.NewUnstartedServer(nil)
	srv, err := server.New(server.Options{
		Store:               st,
		Clock:               o.clock,
		Logger:              o.logger,
		DefaultAccount:      o.account,
		DefaultRegion:       o.region,
		IssuerURL:           "http://" + hs.Listener.Addr().String(),
		Secrets:             secrets,
		CredentialsLifetime: o.lifetime,
		Keys:                keys,
		StoreIsPrivate:      true,
		Seed:                sd,
		// The test owns the server: the reset endpoint is open (signed
		// with one of the keys in strict mode).
		Reset: server.ResetOn,
	})
	if err != nil {
		hs.Close()
		st.Close()
		return nil, err
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	return &Server{URL: hs.URL, http: hs, srv: srv, store: st}, nil
}

// Client returns an HTTP client for the server (any client reaches it;
// this one is closed with it).
func (s *Server) Client() *http.Client { return s.http.Client() }

// Reset deletes every pool and identity and applies the seed again, as
// POST /_idpool/reset does; signing keys stay, so tokens issued before
// still verify. A failure fails the test of New (call Reset from the
// test's goroutine), or panics for a server of Start.
func (s *Server) Reset() {
	if s.t != nil {
		s.t.Helper()
	}
	if _, err := s.srv.Reset(context.Background()); err != nil {
		if s.t != nil {
			s.t.Fatalf("idpooltest: reset: %v", err)
		}
		panic("idpooltest: reset: " + err.Error())
	}
}

// Close stops the server: it stops listening and waits for the requests
// in flight. New calls it when the test ends; calling it again does
// nothing.
func (s *Server) Close() {
	s.once.Do(func() {
		s.srv.CloseStreams()
		s.http.Close()
		if err := s.store.Close(); err != nil && !errors.Is(err, memory.ErrClosed) {
			if s.t != nil {
				s.t.Errorf("idpooltest: close: %v", err)
			} else {
				fmt.Fprintln(os.Stderr, "idpooltest: close:", err)
			}
		}
	})
}
