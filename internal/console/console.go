package console

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/awsjson"
	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/tokens"
)

// Prefix is where the console is served.
const Prefix = "/console/"

//go:embed assets
var assets embed.FS

// Options configures a Console.
type Options struct {
	Service *cognito.Service
	Model   *model.Model
	// Register mounts the API's operations on the console's awsjson
	// handler: the server passes the function that mounts them on its own.
	Register func(*awsjson.Handler)
	Limiter  awsjson.Limiter
	// WrapAuthenticator, if set, wraps the console's authenticator (the
	// server's wrapper records who each request acts for).
	WrapAuthenticator func(awsjson.Authenticator) awsjson.Authenticator
	Logger            *slog.Logger
	// Keys are strict mode's access keys; nil is permissive mode.
	Keys           auth.Keys
	DefaultAccount string
	DefaultRegion  string
	Ring           *tokens.KeyRing
	Issuer         *tokens.Issuer
	Activity       *Activity
	Clock          func() time.Time
	Rand           io.Reader
	// API returns the server's whole handler: Try it asks STS who its
	// credentials are through it, as a client would.
	API func() http.Handler
	// ActsFor, when set, is told the account of each request made in a
	// session (the server puts it on the request's access log line).
	ActsFor func(ctx context.Context, account string)
}

// Console is the web console's handler.
type Console struct {
	o        Options
	api      *awsjson.Handler
	sessions *sessions
	static   http.Handler

	closeOnce sync.Once
	closed    chan struct{}
}

// New returns a Console.
func New(o Options) *Console {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Activity == nil {
		o.Activity = NewActivity(o.Clock)
	}
	c := &Console{o: o, sessions: newSessions(o.Clock, o.Rand), closed: make(chan struct{})}
	var authn awsjson.Authenticator = sessionAuth{defaultRegion: o.DefaultRegion}
	if o.WrapAuthenticator != nil {
		authn = o.WrapAuthenticator(authn)
	}
	c.api = awsjson.New(awsjson.Options{
		Model:         o.Model,
		Authenticator: authn,
		Limiter:       o.Limiter,
		Logger:        o.Logger,
	})
	o.Register(c.api)
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	c.static = http.StripPrefix(Prefix, http.FileServerFS(sub))
	return c
}

// Close ends the console's event streams (the server calls it when it
// shuts down, so that no stream holds the shutdown up).
func (c *Console) Close() { c.closeOnce.Do(func() { close(c.closed) }) }

// strict reports whether sign-in is required.
func (c *Console) strict() bool { return c.o.Keys != nil }

// csp allows the console's own scripts, styles and connections only.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Mount adds the console's routes to mux.
func (c *Console) Mount(mux *http.ServeMux) {
	mux.Handle("GET /console", http.RedirectHandler(Prefix, http.StatusMovedPermanently))
	mux.Handle("GET "+Prefix, c.secure(c.static))
	mux.Handle("GET /console/api/session", c.secure(http.HandlerFunc(c.session)))
	mux.Handle("POST /console/api/signin", c.secure(http.HandlerFunc(c.signIn)))
	mux.Handle("POST /console/api/signout", c.secure(c.guard(c.signOut)))
	mux.Handle("POST /console/api/account", c.secure(c.guard(c.setAccount)))
	mux.Handle("POST /console/api/aws", c.secure(c.guard(c.aws)))
	mux.Handle("POST /console/api/identity", c.secure(c.guard(c.identity)))
	mux.Handle("POST /console/api/find-login", c.secure(c.guard(c.findLogin)))
	mux.Handle("POST /console/api/unlink", c.secure(c.guard(c.unlink)))
	mux.Handle("POST /console/api/inspect-token", c.secure(c.guard(c.inspectToken)))
	mux.Handle("POST /console/api/keys", c.secure(c.guard(c.keys)))
	mux.Handle("POST /console/api/keys/rotate", c.secure(c.guard(c.rotate)))
	mux.Handle("POST /console/api/activity", c.secure(c.guard(c.activity)))
	mux.Handle("GET /console/api/activity/stream", c.secure(c.readGuard(c.stream)))
}

// secure sets the headers every console answer carries.
func (c *Console) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		// The API's CORS header lets any origin read API answers; the
		// console's answers are for the console's own origin only.
		h.Del("Access-Control-Allow-Origin")
		h.Del("Access-Control-Expose-Headers")
		if strings.HasPrefix(r.URL.Path, "/console/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// Console-specific error codes (the API's codes are used where they fit).
const (
	codeCSRF     apierr.Code = "InvalidCsrfToken"
	codeNoSesion apierr.Code = "SignInRequired"
)

// fail writes an error: an *apierr.Error as it is, anything else as a
// generic internal error with its cause logged.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae, unexpected := apierr.From(err)
	if unexpected {
		c.o.Logger.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
	}
	awsjson.WriteError(w, ae, ae.Code.Status())
}

// reply writes v as JSON.
func reply(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// maxBody bounds the console's own JSON requests (the API's go through
// awsjson's limit).
const maxBody = 1 << 20

// decode reads a JSON request body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apierr.Errorf(apierr.Serialization, "The request body is not the JSON this endpoint takes: %v", err)
	}
	return nil
}
