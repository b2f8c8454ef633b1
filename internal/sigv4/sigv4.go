// Package sigv4 verifies AWS Signature Version 4 on incoming requests, in
// both the Authorization-header form and the presigned query form.
//
// Only the headers the client listed as signed are canonicalised (Go moves
// Host out of the header map into r.Host; it is read from there). The
// payload hash is computed over the exact body bytes. The signature is
// compared in constant time. Errors are Kinds, so each protocol (awsJson
// for Cognito, awsQuery for STS) can answer with its own codes and texts.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far a request's time may be from the server's clock.
const MaxSkew = 5 * time.Minute

// Kind classifies a verification failure.
type Kind int

// Failure kinds.
const (
	// Missing: the request carries no signature at all.
	Missing Kind = iota + 1
	// Incomplete: a signature is present but malformed or lacks parts.
	Incomplete
	// Mismatch: the signature does not match the request.
	Mismatch
	// Expired: the request time is too far from now, or a presigned URL
	// has expired.
	Expired
	// Scope: the credential scope names another service, a date that is
	// not the request's, or a bad terminator.
	Scope
)

// Error is a verification failure with AWS's text for it.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)

// ValidRegion reports whether r has the form of an AWS region name
// (us-east-1, us-gov-west-1, cn-north-1, ap-southeast-4, ...).
func ValidRegion(r string) bool { return regionPattern.MatchString(r) }

// Auth is the parsed signature of a request.
type Auth struct {
	AccessKeyID   string
	Date          string // YYYYMMDD of the credential scope
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
	Time          time.Time // the request time (X-Amz-Date, or Date)
	amzDate       string    // the request time as sent, for the string to sign
	SecurityToken string    // X-Amz-Security-Token, if any
	Presigned     bool
	Expires       time.Duration // presigned only
}

// Parse reads the signature of r without checking it. A request without
// any signature gives an *Error of kind Missing.
func Parse(r *http.Request) (*Auth, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return parseHeader(r, h)
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") != "" || q.Get("X-Amz-Signature") != "" || q.Get("X-Amz-Credential") != "" {
		return parseQuery(r, q)
	}
	return nil, fail(Missing, "Missing Authentication Token")
}

func parseHeader(r *http.Request, h string) (*Auth, error) {
	alg, rest, _ := strings.Cut(h, " ")
	if alg != Algorithm {
		return nil, fail(Incomplete, "Authorization header requires '%s' algorithm.", Algorithm)
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		params[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fail(Incomplete, "Authorization header requires '%s' parameter. Authorization=%s", missing[0], h)
	}
	a := &Auth{Signature: params["Signature"], SecurityToken: r.Header.Get("X-Amz-Security-Token")}
	if err := a.parseCredential(params["Credential"]); err != nil {
		return nil, err
	}
	a.SignedHeaders = strings.Split(params["SignedHeaders"], ";")
	a.amzDate = r.Header.Get("X-Amz-Date")
	if a.amzDate == "" {
		if d := r.Header.Get("Date"); d != "" {
			t, err := http.ParseTime(d)
			if err != nil {
				return nil, fail(Incomplete, "Date must be in ISO-8601 'basic format'. Got '%s'.", d)
			}
			a.Time = t.UTC()
			a.amzDate = a.Time.Format("20060102T150405Z")
			return a, nil
		}
		return nil, fail(Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s", h)
	}
	t, err := time.Parse("20060102T150405Z", a.amzDate)
	if err != nil || len(a.amzDate) != len("20060102T150405Z") {
		return nil, fail(Incomplete, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", a.amzDate)
	}
	a.Time = t
	return a, nil
}

func parseQuery(r *http.Request, q url.Values) (*Auth, error) {
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if q.Get(k) == "" {
			return nil, fail(Incomplete, "AWS query-string parameters must include '%s'. Re-examine the query-string parameters.", k)
		}
	}
	if q.Get("X-Amz-Algorithm") != Algorithm {
		return nil, fail(Incomplete, "X-Amz-Algorithm only supports '%s'", Algorithm)
	}
	a := &Auth{Signature: q.Get("X-Amz-Signature"), SecurityToken: q.Get("X-Amz-Security-Token"), Presigned: true}
	if a.SecurityToken == "" {
		a.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	}
	if err := a.parseCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	a.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	a.amzDate = q.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", a.amzDate)
	if err != nil || len(a.amzDate) != len("20060102T150405Z") {
		return nil, fail(Incomplete, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	a.Time = t
	if e := q.Get("X-Amz-Expires"); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil || n < 1 || n > 604800 {
			return nil, fail(Incomplete, "X-Amz-Expires must be between 1 and 604800 seconds")
		}
		a.Expires = time.Duration(n) * time.Second
	}
	return a, nil
}

func (a *Auth) parseCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		return fail(Incomplete, "Credential should be scoped to a valid region. ")
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = parts[0], parts[1], parts[2], parts[3]
	if parts[4] != "aws4_request" {
		return fail(Scope, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", parts[4])
	}
	if len(a.Date) != 8 || strings.Trim(a.Date, "0123456789") != "" {
		return fail(Incomplete, "Credential should be scoped to a valid date. ")
	}
	if a.Region == "" {
		return fail(Incomplete, "Credential should be scoped to a valid region. ")
	}
	return nil
}

// CheckScope verifies the credential scope: the service must be one of
// services and the scope's date must be the request's.
func (a *Auth) CheckScope(services ...string) error {
	ok := false
	for _, s := range services {
		ok = ok || a.Service == s
	}
	if !ok {
		return fail(Scope, "Credential should be scoped to correct service: '%s'. ", services[0])
	}
	if a.Date != a.amzDate[:8] {
		return fail(Scope, "Credential should be scoped to a valid date. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.Date, a.amzDate[:8], a.amzDate)
	}
	signsHost, signsDate := false, false
	for _, h := range a.SignedHeaders {
		signsHost = signsHost || h == "host"
		signsDate = signsDate || h == "x-amz-date" || h == "date"
	}
	if !signsHost {
		return fail(Incomplete, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !a.Presigned && !signsDate {
		return fail(Incomplete, "'X-Amz-Date' or 'Date' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// CheckTime verifies the request time against now: within MaxSkew for a
// signed header, within X-Amz-Expires (and not in the future) for a
// presigned URL.
func (a *Auth) CheckTime(now time.Time) error {
	const layout = "20060102T150405Z"
	if a.Presigned {
		if a.Time.After(now.Add(MaxSkew)) {
			return fail(Expired, "Signature not yet current: %s is still later than %s (%s + 5 min.)",
				a.amzDate, now.Add(MaxSkew).UTC().Format(layout), now.UTC().Format(layout))
		}
		expires := a.Expires
		if expires == 0 {
			expires = MaxSkew
		}
		if now.After(a.Time.Add(expires)) {
			return fail(Expired, "Request has expired: it was valid until %s, it is now %s.",
				a.Time.Add(expires).UTC().Format(layout), now.UTC().Format(layout))
		}
		return nil
	}
	if a.Time.Before(now.Add(-MaxSkew)) {
		return fail(Expired, "Signature expired: %s is now earlier than %s (%s - 5 min.)",
			a.amzDate, now.Add(-MaxSkew).UTC().Format(layout), now.UTC().Format(layout))
	}
	if a.Time.After(now.Add(MaxSkew)) {
		return fail(Expired, "Signature not yet current: %s is still later than %s (%s + 5 min.)",
			a.amzDate, now.Add(MaxSkew).UTC().Format(layout), now.UTC().Format(layout))
	}
	return nil
}

// Verify checks the signature of r (whose body is body) with the secret
// access key.
func (a *Auth) Verify(r *http.Request, body []byte, secret string) error {
	canonical, err := a.canonicalRequest(r, body)
	if err != nil {
		return err
	}
	if a.matchesEither(canonical, secret) {
		return nil
	}
	// botocore and the JavaScript SDK sign the path with its dot segments
	// resolved and its empty segments dropped ("//" as "/", "/base//" as
	// "/base/"), as AWS's test suite does (normalize-path); aws-sdk-go-v2
	// signs it as sent. Either is accepted.
	if norm := normalizedURI(r.URL); norm != canonicalURI(r.URL) && a.matchesEither(withURI(canonical, norm), secret) {
		return nil
	}
	return fail(Mismatch, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

// matchesEither checks the canonical request and, for a presigned URL,
// the same with UNSIGNED-PAYLOAD: botocore's presigner signs that; other
// signers hash the body. Either is accepted.
func (a *Auth) matchesEither(canonical, secret string) bool {
	if a.matches(canonical, secret) {
		return true
	}
	return a.Presigned && a.matches(a.withPayloadHash(canonical, "UNSIGNED-PAYLOAD"), secret)
}

func (a *Auth) matches(canonical, secret string) bool {
	// The signature is lower-case hex: comparing the text (in constant
	// time) refuses an upper-cased copy too.
	want := hex.EncodeToString(a.signature(canonical, secret))
	return hmac.Equal([]byte(want), []byte(a.Signature))
}

// withPayloadHash replaces the last line (the payload hash) of a canonical
// request.
func (a *Auth) withPayloadHash(canonical, hash string) string {
	i := strings.LastIndexByte(canonical, '\n')
	return canonical[:i+1] + hash
}

func (a *Auth) scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// SigningKey derives the signing key of a secret for a date, region and
// service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func (a *Auth) signature(canonical, secret string) []byte {
	sum := sha256.Sum256([]byte(canonical))
	stringToSign := Algorithm + "\n" + a.amzDate + "\n" + a.scope() + "\n" + hex.EncodeToString(sum[:])
	return hmacSHA256(SigningKey(secret, a.Date, a.Region, a.Service), stringToSign)
}

func (a *Auth) canonicalRequest(r *http.Request, body []byte) (string, error) {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, a.Presigned))
	b.WriteByte('\n')
	for _, name := range a.SignedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.SignedHeaders, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(sum[:])
	switch declared := r.Header.Get("X-Amz-Content-Sha256"); {
	case declared == "":
		b.WriteString(bodyHash)
	case declared == "UNSIGNED-PAYLOAD" || strings.HasPrefix(declared, "STREAMING-"):
		b.WriteString(declared)
	case !hmac.Equal([]byte(strings.ToLower(declared)), []byte(bodyHash)):
		return "", fail(Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	default:
		b.WriteString(declared)
	}
	return b.String(), nil
}

// headerValue is the canonical value of a signed header: the values of
// every occurrence, trimmed, inner runs of spaces collapsed, joined by ",".
func headerValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "content-length":
		values = r.Header.Values("Content-Length")
		if len(values) == 0 && r.ContentLength >= 0 {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		values = r.Header.Values(name)
	}
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
}

// canonicalURI escapes the request path the way AWS's signers do for every
// service but S3: the escaped path, each byte outside the unreserved set
// and "/" escaped again.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if u.Opaque != "" {
		p = u.Opaque
	}
	if p == "" {
		return "/"
	}
	return escape(p, false)
}

// normalizedURI is the canonical URI of the path with "." and empty
// segments dropped and ".." resolved (RFC 3986), a trailing slash kept.
func normalizedURI(u *url.URL) string {
	p := u.EscapedPath()
	if u.Opaque != "" {
		p = u.Opaque
	}
	var segs []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		out += "/"
	}
	return escape(out, false)
}

// withURI replaces the canonical URI (the second line) of a canonical
// request.
func withURI(canonical, uri string) string {
	method, rest, _ := strings.Cut(canonical, "\n")
	_, rest, _ = strings.Cut(rest, "\n")
	return method + "\n" + uri + "\n" + rest
}

// canonicalQuery sorts the query parameters by escaped name, then value;
// a presigned URL's own X-Amz-Signature is left out.
func canonicalQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	q, _ := url.ParseQuery(raw)
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, kv{escape(k, true), escape(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// escape percent-encodes every byte outside the RFC 3986 unreserved set
// (and "/" unless slash is true), with upper-case hex.
func escape(s string, slash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && !slash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
