package sts

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/reqinfo"
	"github.com/idpool/idpool/internal/sigv4"
	"github.com/idpool/idpool/internal/tokens"
	"github.com/idpool/idpool/internal/trust"
)

// Version is the STS API version, sent as Version=2011-06-15.
const Version = "2011-06-15"

const namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// maxBody bounds an STS request (a web identity token is at most 20,000
// characters).
const maxBody = 64 << 10

// LongTermKeys looks up a long-term access key (one that is not a session
// of idpool): its secret and account. A nil LongTermKeys accepts any such
// key without checking the signature (the permissive default).
type LongTermKeys func(accessKeyID string) (secret, account string, ok bool)

// RoleTrust decides whether the holder of a verified token idpool issued
// may become a role (the role's trust policy, or the implicit policy).
// The Cognito service implements it: it knows the token's pool.
type RoleTrust interface {
	AuthorizeWebIdentity(ctx context.Context, roleARN string, c *tokens.Claims) (bool, error)
}

// The flows that mint credentials, as metrics and logs name them.
const (
	// FlowEnhanced is Cognito's GetCredentialsForIdentity.
	FlowEnhanced = "enhanced"
	// FlowBasic is STS AssumeRoleWithWebIdentity with a token of
	// idpool's (GetOpenIdToken's, in Cognito's basic flow).
	FlowBasic = "basic"
)

// Observer is told what a handler did, for the access log and the metrics.
// Its methods run on the request's goroutine; they must be quick and safe
// for concurrent use.
type Observer interface {
	// ActsFor is told the account a request acts for, once the handler
	// knows it: the signer's for a signed call, the role's for
	// AssumeRoleWithWebIdentity.
	ActsFor(ctx context.Context, account string)
	// CredentialsIssued is told of every set of temporary credentials
	// minted, with the flow (FlowEnhanced, FlowBasic).
	CredentialsIssued(ctx context.Context, flow string)
}

// Handler serves the STS operations idpool implements, in STS's awsQuery
// protocol: AssumeRoleWithWebIdentity and GetCallerIdentity.
type Handler struct {
	minter         *Minter
	issuer         *tokens.Issuer
	now            func() time.Time
	log            *slog.Logger
	keys           LongTermKeys
	defaultAccount string
	trust          RoleTrust
	obs            Observer
}

// Options configures a Handler.
type Options struct {
	Minter         *Minter
	Issuer         *tokens.Issuer
	Clock          func() time.Time
	Logger         *slog.Logger
	Keys           LongTermKeys
	DefaultAccount string
	// Trust decides who may become which role; nil allows every role
	// (for tests of the protocol alone).
	Trust RoleTrust
	// Observer is told what requests did; nil observes nothing.
	Observer Observer
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{minter: o.Minter, issuer: o.Issuer, now: o.Clock, log: o.Logger, keys: o.Keys, defaultAccount: o.DefaultAccount, trust: o.Trust, obs: o.Observer}
}

// actsFor tells the observer, if any, the account a request acts for.
func (h *Handler) actsFor(ctx context.Context, account string) {
	if h.obs != nil {
		h.obs.ActsFor(ctx, account)
	}
}

// IsSTS reports whether a request is an STS call: an Action parameter in a
// form body or the query string, and no X-Amz-Target.
func IsSTS(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	if r.URL.Query().Get("Action") != "" {
		return true
	}
	ct := r.Header.Get("Content-Type")
	return r.Method == http.MethodPost && strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded")
}

// apiError is an STS error as its XML body carries it.
type apiError struct {
	status  int
	Type    string // Sender or Receiver
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func sender(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, Type: "Sender", Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP serves one STS request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		h.writeError(w, sender(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request body is larger than %d bytes.", maxBody))
		return
	}
	params := r.URL.Query()
	if len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			h.writeError(w, sender(http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form-encoded query string."))
			return
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	var out any
	action := params.Get("Action")
	switch action {
	case "AssumeRoleWithWebIdentity":
		out, err = h.assumeRoleWithWebIdentity(r.Context(), params)
	case "GetCallerIdentity":
		out, err = h.getCallerIdentity(r, body)
	case "":
		err = sender(http.StatusBadRequest, "MissingAction", "Missing Action")
	default:
		err = sender(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", action, Version)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			h.log.ErrorContext(r.Context(), "sts internal error", "err", err)
			ae = &apiError{status: http.StatusInternalServerError, Type: "Receiver", Code: "InternalFailure", Message: "An internal error occurred."}
		}
		reqinfo.Record(r.Context(), "sts:"+action, ae.Code)
		h.writeError(w, ae)
		return
	}
	reqinfo.Record(r.Context(), "sts:"+action, "")
	h.writeXML(w, http.StatusOK, withRequestID(out, w.Header().Get("x-amzn-RequestId")))
}

func (h *Handler) writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte("<ErrorResponse/>")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	w.Write(body)
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     errorBody
	RequestID string `xml:"RequestId"`
}

type errorBody struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (h *Handler) writeError(w http.ResponseWriter, e *apiError) {
	h.writeXML(w, e.status, errorResponse{
		Xmlns:     namespace,
		Error:     errorBody{Type: e.Type, Code: e.Code, Message: e.Message},
		RequestID: w.Header().Get("x-amzn-RequestId"),
	})
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

func withRequestID(out any, id string) any {
	switch o := out.(type) {
	case *assumeRoleWithWebIdentityResponse:
		o.Metadata.RequestID = id
	case *getCallerIdentityResponse:
		o.Metadata.RequestID = id
	}
	return out
}

type credentialsXML struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type assumeRoleWithWebIdentityResponse struct {
	XMLName xml.Name `xml:"AssumeRoleWithWebIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		SubjectFromWebIdentityToken string          `xml:"SubjectFromWebIdentityToken"`
		Audience                    string          `xml:"Audience"`
		AssumedRoleUser             assumedRoleUser `xml:"AssumedRoleUser"`
		Credentials                 credentialsXML  `xml:"Credentials"`
		Provider                    string          `xml:"Provider"`
	} `xml:"AssumeRoleWithWebIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)

// validation reports STS's model constraint violations, in AWS's format.
func validation(msgs []string) error {
	if len(msgs) == 0 {
		return nil
	}
	noun := "errors"
	if len(msgs) == 1 {
		noun = "error"
	}
	return sender(http.StatusBadRequest, "ValidationError", "%d validation %s detected: %s", len(msgs), noun, strings.Join(msgs, "; "))
}

func (h *Handler) assumeRoleWithWebIdentity(ctx context.Context, p url.Values) (any, error) {
	roleARN, sessionName, token := p.Get("RoleArn"), p.Get("RoleSessionName"), p.Get("WebIdentityToken")
	var msgs []string
	check := func(name, v string, min, max int) {
		switch n := utf8.RuneCountInString(v); {
		case v == "" && !p.Has(strings.ToUpper(name[:1])+name[1:]):
			msgs = append(msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", name))
		case n < min:
			msgs = append(msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", v, name, min))
		case n > max:
			msgs = append(msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, name, max))
		}
	}
	check("roleArn", roleARN, 20, 2048)
	check("roleSessionName", sessionName, 2, 64)
	if sessionName != "" && !sessionNamePattern.MatchString(sessionName) {
		msgs = append(msgs, fmt.Sprintf("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", sessionName))
	}
	if token == "" {
		msgs = append(msgs, "Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null")
	} else if n := len(token); n < 4 || n > 20000 {
		msgs = append(msgs, "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
	}
	duration := time.Hour
	if d := p.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		switch {
		case err != nil:
			msgs = append(msgs, fmt.Sprintf("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be a number", d))
		case n < 900:
			msgs = append(msgs, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", n))
		case n > 43200:
			msgs = append(msgs, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", n))
		default:
			duration = time.Duration(n) * time.Second
		}
	}
	if err := validation(msgs); err != nil {
		return nil, err
	}

	claims, isJWT := federation.ParseJWT(token)
	if !isJWT {
		return nil, sender(http.StatusBadRequest, "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")
	}
	if iss, _ := claims["iss"].(string); iss != h.issuer.URL() {
		return nil, sender(http.StatusBadRequest, "InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s", iss)
	}
	c, err := h.issuer.Verify(ctx, token)
	if err != nil {
		if exp, ok := tokens.ClaimTime(claims, "exp"); ok && tokens.Expired(exp, h.now()) {
			return nil, sender(http.StatusBadRequest, "ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time %d",
				h.now().Unix(), exp.Unix())
		}
		return nil, sender(http.StatusBadRequest, "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")
	}
	account := RoleAccount(roleARN)
	if account == "" || !trust.ValidRoleARN(roleARN) {
		return nil, sender(http.StatusBadRequest, "ValidationError", "%s is invalid", roleARN)
	}
	h.actsFor(ctx, account)
	if h.trust != nil {
		ok, err := h.trust.AuthorizeWebIdentity(ctx, roleARN, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errNotAuthorized
		}
	}
	now := h.now()
	sess := Session{
		RoleARN: roleARN, SessionName: sessionName, IdentityID: c.Subject, PoolID: c.Audience, Account: account,
		PrincipalTags: c.PrincipalTags, Issued: now, Expiration: now.Add(duration),
	}
	creds, err := h.minter.Mint(sess)
	if err != nil {
		return nil, err
	}
	if h.obs != nil {
		h.obs.CredentialsIssued(ctx, FlowBasic)
	}
	out := &assumeRoleWithWebIdentityResponse{Xmlns: namespace}
	out.Result.SubjectFromWebIdentityToken = c.Subject
	out.Result.Audience = c.Audience
	out.Result.AssumedRoleUser = assumedRoleUser{Arn: sess.AssumedRoleARN(), AssumedRoleID: RoleID(roleARN) + ":" + sessionName}
	out.Result.Credentials = credentialsXML{
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
		Expiration: creds.Expiration.UTC().Format(time.RFC3339),
	}
	out.Result.Provider = federation.IssuerKey(h.issuer.URL())
	return out, nil
}

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// STS's authentication and authorization failures.
var (
	errNotAuthorized      = sender(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	errInvalidClientToken = sender(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	errExpiredToken       = sender(http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired")
)

// authenticate checks a signed STS request and returns the session it was
// signed with (nil for a long-term key) and the caller's account.
func (h *Handler) authenticate(r *http.Request, body []byte) (*Session, string, error) {
	a, err := sigv4.Parse(r)
	if err != nil {
		return nil, "", sigError(err)
	}
	if err := a.CheckScope("sts"); err != nil {
		return nil, "", sigError(err)
	}
	if err := a.CheckTime(h.now()); err != nil {
		return nil, "", sigError(err)
	}
	if a.SecurityToken != "" {
		sess, err := h.minter.OpenFor(a.SecurityToken, a.AccessKeyID, h.now())
		switch {
		case errors.Is(err, ErrExpiredSession):
			return nil, "", errExpiredToken
		case err != nil:
			return nil, "", errInvalidClientToken
		}
		if err := a.Verify(r, body, sess.SecretAccessKey); err != nil {
			return nil, "", sigError(err)
		}
		return sess, sess.Account, nil
	}
	if strings.HasPrefix(a.AccessKeyID, "ASIA") {
		// A temporary key must come with its session token.
		return nil, "", errInvalidClientToken
	}
	if h.keys == nil {
		return nil, caller.AccountOf(a.AccessKeyID, h.defaultAccount), nil
	}
	secret, account, ok := h.keys(a.AccessKeyID)
	if !ok {
		return nil, "", errInvalidClientToken
	}
	if err := a.Verify(r, body, secret); err != nil {
		return nil, "", sigError(err)
	}
	return nil, account, nil
}

// sigError maps a SigV4 failure to STS's error.
func sigError(err error) error {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Kind {
	case sigv4.Missing:
		return sender(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case sigv4.Incomplete:
		return sender(http.StatusBadRequest, "IncompleteSignature", "%s", se.Message)
	default:
		return sender(http.StatusForbidden, "SignatureDoesNotMatch", "%s", se.Message)
	}
}

func (h *Handler) getCallerIdentity(r *http.Request, body []byte) (any, error) {
	sess, account, err := h.authenticate(r, body)
	if err != nil {
		return nil, err
	}
	h.actsFor(r.Context(), account)
	out := &getCallerIdentityResponse{Xmlns: namespace}
	out.Result.Account = account
	if sess != nil {
		out.Result.Arn = sess.AssumedRoleARN()
		out.Result.UserID = RoleID(sess.RoleARN) + ":" + sess.SessionName
	} else {
		out.Result.Arn = "arn:aws:iam::" + account + ":root"
		out.Result.UserID = account
	}
	return out, nil
}
