package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/awsjson"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/sigv4"
)

const (
	// cookieName is the session cookie.
	cookieName = "idpool_console"
	// csrfHeader carries the session's CSRF token on every POST.
	csrfHeader = "X-Idpool-Csrf"
	// regionHeader names the region the console acts in ("" or absent:
	// every region for lists, the default region for creations).
	regionHeader = "X-Idpool-Region"
	// sessionLifetime is how long a session lasts after it is made.
	sessionLifetime = 12 * time.Hour
	// maxSessions bounds the sessions kept: a permissive console hands one
	// to every visitor, so the oldest are dropped past it.
	maxSessions = 10000
)

// session is a signed-in (or, in permissive mode, anonymous) browser.
type session struct {
	accessKeyID string // "" for an anonymous permissive session
	account     string
	csrf        string
	expires     time.Time
}

// sessions are kept in memory, keyed by the SHA-256 of the cookie value,
// so that a lookup compares no secret byte by byte. A replica knows only
// its own sessions: behind a load balancer, sessions need stickiness.
type sessions struct {
	now  func() time.Time
	rand io.Reader

	mu   sync.Mutex
	byID map[[32]byte]*session
}

func newSessions(now func() time.Time, rand io.Reader) *sessions {
	return &sessions{now: now, rand: rand, byID: map[[32]byte]*session{}}
}

// token returns a fresh random token (256 bits, URL-safe).
func (s *sessions) token() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// create makes a session and returns its cookie value.
func (s *sessions) create(accessKeyID, account string) (string, *session, error) {
	id, err := s.token()
	if err != nil {
		return "", nil, err
	}
	csrf, err := s.token()
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	ss := &session{accessKeyID: accessKeyID, account: account, csrf: csrf, expires: now.Add(sessionLifetime)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= maxSessions {
		for k, v := range s.byID {
			if now.After(v.expires) || len(s.byID) >= maxSessions {
				delete(s.byID, k)
			}
		}
	}
	s.byID[sha256.Sum256([]byte(id))] = ss
	return id, ss, nil
}

// get returns the live session of a cookie value, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[k]
	if ss == nil {
		return nil
	}
	if s.now().After(ss.expires) {
		delete(s.byID, k)
		return nil
	}
	cp := *ss
	return &cp
}

// update changes the account of a session.
func (s *sessions) setAccount(id, account string) {
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.byID[k]; ss != nil {
		ss.account = account
	}
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, sha256.Sum256([]byte(id)))
}

func cookieValue(r *http.Request) string {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return ck.Value
}

// setCookie sends the session cookie: HttpOnly, SameSite=Strict, scoped to
// the console, and Secure when the console is served over TLS.
func setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: "/console/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
		MaxAge: maxAge,
	})
}

type sessionKey struct{}

// sameOrigin reports whether a POST comes from the console's own pages:
// browsers send Origin on every cross-origin POST (and on same-origin ones
// too); a request without one comes from no page at all.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (c *Console) crossOrigin(w http.ResponseWriter, r *http.Request) {
	c.o.Logger.WarnContext(r.Context(), "console request from another origin refused", "path", r.URL.Path, "origin", clip(r.Header.Get("Origin"), 256))
	writeStatus(w, apierr.New(codeCSRF, "The request comes from another site."), http.StatusForbidden)
}

// guard admits a POST only from the console's origin, with a live session
// and its CSRF token.
func (c *Console) guard(next func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			c.crossOrigin(w, r)
			return
		}
		ss := c.sessions.get(cookieValue(r))
		if ss == nil {
			c.fail(w, r, apierr.New(codeNoSesion, "Sign in to the console first."))
			return
		}
		got := r.Header.Get(csrfHeader)
		if subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) != 1 {
			c.o.Logger.WarnContext(r.Context(), "console request without a valid CSRF token refused", "path", r.URL.Path)
			writeStatus(w, apierr.New(codeCSRF, "The request has no valid CSRF token: reload the console."), http.StatusForbidden)
			return
		}
		next(w, r.WithContext(c.actingAs(r.Context(), ss)))
	})
}

// actingAs is the context of a request made in session ss: the session in
// it, the caller its key and account (what an audit line names), and the
// account told to the server for the access log.
func (c *Console) actingAs(ctx context.Context, ss *session) context.Context {
	ctx = caller.With(context.WithValue(ctx, sessionKey{}, ss), caller.Info{AccessKeyID: ss.accessKeyID, Account: ss.account})
	if c.o.ActsFor != nil {
		c.o.ActsFor(ctx, ss.account)
	}
	return ctx
}

// readGuard admits a GET with a live session (a GET changes nothing, and
// SameSite=Strict keeps other sites' pages from sending the cookie).
func (c *Console) readGuard(next func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss := c.sessions.get(cookieValue(r))
		if ss == nil {
			c.fail(w, r, apierr.New(codeNoSesion, "Sign in to the console first."))
			return
		}
		next(w, r.WithContext(c.actingAs(r.Context(), ss)))
	})
}

func sessionOf(ctx context.Context) *session {
	ss, _ := ctx.Value(sessionKey{}).(*session)
	return ss
}

// callerOf is who a console request acts as: the session's key and
// account, in the region the page names.
func callerOf(r *http.Request, defaultRegion string) caller.Info {
	ss := sessionOf(r.Context())
	info := caller.Info{Account: ss.account, AccessKeyID: ss.accessKeyID, Signed: true}
	if region := r.Header.Get(regionHeader); region != "" && sigv4.ValidRegion(region) {
		info.Region = region
	}
	return info
}

// sessionAuth is the console's awsjson authenticator: the guard already
// checked the session and CSRF token.
type sessionAuth struct{ defaultRegion string }

func (a sessionAuth) Authenticate(r *http.Request, _ []byte, _ *model.Operation) (caller.Info, error) {
	return callerOf(r, a.defaultRegion), nil
}

// sessionView is what the page learns about its session: never a secret
// but the CSRF token, which the page must send back.
type sessionView struct {
	Mode           string
	SignedIn       bool
	AccessKeyId    string `json:",omitempty"`
	Account        string `json:",omitempty"`
	Csrf           string `json:",omitempty"`
	DefaultRegion  string
	DefaultAccount string `json:",omitempty"`
	Issuer         string
}

func (c *Console) view(ss *session) sessionView {
	v := sessionView{Mode: "permissive", DefaultRegion: c.o.DefaultRegion, Issuer: c.o.Issuer.URL()}
	if c.strict() {
		v.Mode = "strict"
	} else {
		v.DefaultAccount = c.o.DefaultAccount
	}
	if ss != nil {
		v.SignedIn, v.AccessKeyId, v.Account, v.Csrf = true, ss.accessKeyID, ss.account, ss.csrf
	}
	return v
}

// session answers GET /console/api/session: the current session, made on
// the spot in permissive mode.
func (c *Console) session(w http.ResponseWriter, r *http.Request) {
	ss := c.sessions.get(cookieValue(r))
	if ss == nil && !c.strict() {
		id, made, err := c.sessions.create("", c.o.DefaultAccount)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		setCookie(w, r, id, int(sessionLifetime/time.Second))
		ss = made
	}
	reply(w, c.view(ss))
}

// signIn checks an access key and secret of the configured credentials
// (constant-time) and starts a session acting for the key's account.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		// A sign-in from another site would sign the browser in as
		// someone else's key.
		c.crossOrigin(w, r)
		return
	}
	if !c.strict() {
		c.fail(w, r, apierr.New(apierr.InvalidParameter, "This server runs in permissive mode: the console needs no sign-in."))
		return
	}
	var in struct {
		AccessKeyId     string
		SecretAccessKey string
	}
	if err := decode(w, r, &in); err != nil {
		c.fail(w, r, err)
		return
	}
	secret, account, ok := c.o.Keys.Lookup(strings.TrimSpace(in.AccessKeyId))
	// Compare against something even for an unknown key, so that the
	// answer takes as long either way.
	if !ok {
		secret = "\x00unknown key\x00"
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(in.SecretAccessKey)) != 1 || !ok {
		c.o.Logger.WarnContext(r.Context(), "console sign-in refused", "access_key_id", clip(in.AccessKeyId, 128))
		writeStatus(w, apierr.New(apierr.NotAuthorized, "The access key or the secret is wrong."), http.StatusUnauthorized)
		return
	}
	if old := cookieValue(r); old != "" {
		c.sessions.remove(old)
	}
	id, ss, err := c.sessions.create(strings.TrimSpace(in.AccessKeyId), account)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	setCookie(w, r, id, int(sessionLifetime/time.Second))
	c.o.Logger.InfoContext(r.Context(), "audit", "action", "console.sign_in", "account", account, "access_key_id", ss.accessKeyID)
	reply(w, c.view(ss))
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	c.sessions.remove(cookieValue(r))
	setCookie(w, r, "", -1)
	reply(w, c.view(nil))
}

// setAccount switches the account a permissive session acts for.
func (c *Console) setAccount(w http.ResponseWriter, r *http.Request) {
	var in struct{ Account string }
	if err := decode(w, r, &in); err != nil {
		c.fail(w, r, err)
		return
	}
	if c.strict() {
		c.fail(w, r, apierr.New(apierr.NotAuthorized, "In strict mode the console acts for the signed-in key's account only."))
		return
	}
	if len(in.Account) != 12 || strings.Trim(in.Account, "0123456789") != "" {
		c.fail(w, r, apierr.New(apierr.Validation, "An account id is 12 digits."))
		return
	}
	c.sessions.setAccount(cookieValue(r), in.Account)
	ss := *sessionOf(r.Context())
	ss.account = in.Account
	reply(w, c.view(&ss))
}

func writeStatus(w http.ResponseWriter, e *apierr.Error, status int) {
	awsjson.WriteError(w, e, status)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
