// Package federation decides who a login token identifies.
//
// Every Logins entry of a request goes through one Verifier, so that the
// default trust mode and strict verification are interchangeable: the
// service never looks at a token itself. Trust, the default, reads tokens
// without checking signatures (a local emulator cannot reach Facebook or a
// user pool's keys); it still applies every rule that needs no key, with
// the same code verify mode uses (checkClaims): the provider must be
// configured on the pool, a JWT must name an asymmetric algorithm, its iss
// must be present and match the Logins key, its aud (or azp) must be one of
// the client ids configured for the provider, and its exp must be present
// and not past AWS's five minutes of grace.
package federation

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/store"
)

// Kind is the kind of provider a Logins key names.
type Kind int

// Provider kinds.
const (
	Public   Kind = iota // a SupportedLoginProviders domain (Facebook, Google, ...)
	UserPool             // a Cognito user pool (CognitoIdentityProviders)
	OIDC                 // an OpenID Connect provider (OpenIdConnectProviderARNs)
	SAML                 // a SAML provider (SamlProviderARNs)
)

// Login is what a verified token says: which user of which provider.
type Login struct {
	Provider string // the Logins key
	Kind     Kind
	Subject  string // the provider's user id
	// ClientID is, for user pools, the app client the token was issued to
	// (its aud, or azp): role mappings of user pools are keyed by
	// "<provider>:<client id>".
	ClientID string
	// Claims are the token's claims (JWT) or attributes (SAML), used by
	// role-mapping rules and principal tags; nil for opaque tokens.
	Claims map[string]any
	// Verified says the token's origin was proven (a signature checked
	// against the issuer's keys, or an opaque token found in the
	// providers file). Claims of an unverified token are whatever its
	// sender wrote: strict mode's implicit trust policy does not let them
	// grant roles.
	Verified bool
}

// Verifier checks one Logins entry of a request against a pool.
type Verifier interface {
	// Verify returns who token identifies at provider, or an
	// *apierr.Error (NotAuthorizedException with AWS's text) when the
	// token must be refused.
	Verify(ctx context.Context, pool *store.Pool, provider, token string) (*Login, error)
}

// AWS's refusal texts (docs/behaviour.md §11).
const (
	msgUnsupported  = "Token is not from a supported provider of this identity pool."
	msgNotOIDC      = "Invalid login token. Not a valid OpenId Connect identity token."
	msgIssuer       = "Invalid login token. Issuer doesn't match providerName"
	msgMissingAud   = "Invalid login token. Missing a required claim: aud"
	msgMissingSub   = "Invalid login token. Missing a required claim: sub"
	expiredTemplate = "Invalid login token. Token expired: %s >= %s"
)

func notAuthorized(msg string) error { return apierr.New(apierr.NotAuthorized, msg) }

// Provider describes how a pool is configured for one Logins key.
type Provider struct {
	Kind Kind
	// AppID is the configured app or client id of a public provider.
	AppID string
	// ClientIDs are the app clients configured for a user pool.
	ClientIDs []string
	// ARN is the IAM ARN of an OIDC or SAML provider.
	ARN string
}

// Lookup returns how the pool is configured for the Logins key, and false
// when the key names no provider of the pool.
func Lookup(p *store.Pool, key string) (Provider, bool) {
	if app, ok := p.SupportedLoginProviders[key]; ok {
		return Provider{Kind: Public, AppID: app}, true
	}
	var up Provider
	for _, c := range p.CognitoIdentityProviders {
		if c.ProviderName == key {
			up.Kind = UserPool
			up.ClientIDs = append(up.ClientIDs, c.ClientID)
		}
	}
	if len(up.ClientIDs) > 0 {
		return up, true
	}
	for _, arn := range p.OpenIDConnectProviderARNs {
		if _, issuer, ok := strings.Cut(arn, ":oidc-provider/"); ok && issuer == key {
			return Provider{Kind: OIDC, ARN: arn}, true
		}
	}
	for _, arn := range p.SAMLProviderARNs {
		if arn == key {
			return Provider{Kind: SAML, ARN: arn}, true
		}
	}
	return Provider{}, false
}

// Unsupported is the refusal of a Logins key that is not a provider of
// the pool. A key that looks like a provider (a domain, a path or an ARN)
// gets "not from a supported provider"; anything else, such as "Facebook",
// gets "not a valid OpenId Connect identity token", as AWS answered.
func Unsupported(key string) error {
	if strings.ContainsAny(key, ".:/") {
		return notAuthorized(msgUnsupported)
	}
	return notAuthorized(msgNotOIDC)
}

// Trust verifies logins without checking signatures.
type Trust struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Providers are the providers file's settings, of which trust mode
	// uses the client ids (the audiences an OIDC provider accepts).
	Providers map[string]ProviderConfig
}

// Verify implements Verifier.
func (t Trust) Verify(_ context.Context, pool *store.Pool, key, token string) (*Login, error) {
	prov, ok := Lookup(pool, key)
	if !ok {
		return nil, Unsupported(key)
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	login := &Login{Provider: key, Kind: prov.Kind}
	if prov.Kind == SAML {
		subject, attrs := parseSAML(token)
		if subject == "" {
			// Not a SAML response we can read: the assertion itself names
			// the user, as for opaque tokens.
			subject = token
		}
		login.Subject, login.Claims = subject, attrs
		return login, nil
	}
	claims, isJWT := ParseJWT(token)
	if !isJWT {
		if prov.Kind != Public || IDTokenProvider(key) {
			return nil, notAuthorized(msgNotOIDC)
		}
		// Opaque access tokens (Facebook, Amazon, Twitter): the token
		// itself stands for the user. The rules of role mappings see the
		// claims AWS derives for these providers.
		login.Subject = token
		login.Claims = map[string]any{"sub": token, "aud": prov.AppID, "iss": key}
		return login, nil
	}
	if !asymmetric(headerAlg(token)) {
		return nil, notAuthorized(msgNotOIDC)
	}
	client, err := checkClaims(prov, t.Providers[key], key, claims, now(), true)
	if err != nil {
		return nil, err
	}
	if prov.Kind == UserPool {
		login.ClientID = client
	}
	login.Subject, login.Claims = claims["sub"].(string), claims
	return login, nil
}

// SigningAlgorithms are the JWS algorithms accepted on login tokens: the
// asymmetric ones IAM accepts from OpenID Connect providers. "none" and
// the HMAC algorithms would let anyone who knows a client id (or nothing)
// mint tokens.
var SigningAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

func asymmetric(alg string) bool { return slices.Contains(SigningAlgorithms, alg) }

// headerAlg is the alg of a compact JWS's protected header, or "" when
// the header cannot be read.
func headerAlg(token string) string {
	h, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h, "="))
	if err != nil {
		return ""
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(raw, &header) != nil {
		return ""
	}
	return header.Alg
}

// checkClaims applies the checks of a JWT login that need no key, in both
// trust and verify mode: iss is present and matches the Logins key, exp is
// present and not past the grace (nbf, when present, is reached), sub is
// present, and aud (azp when present) is one of the provider's client ids.
// It returns that client id. unlisted says what an OIDC provider without
// client ids in the providers file accepts: any audience (trust mode,
// where nothing else is known of it) or none (verify mode, where a signed
// token another app of the same issuer received must not sign users in).
func checkClaims(prov Provider, cfg ProviderConfig, key string, claims map[string]any, now time.Time, unlisted bool) (string, error) {
	iss, _ := claims["iss"].(string)
	if iss == "" {
		return "", notAuthorized(msgNotOIDC)
	}
	if IssuerKey(iss) != key {
		return "", notAuthorized(msgIssuer)
	}
	if err := checkTimes(claims, now); err != nil {
		return "", err
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return "", notAuthorized(msgMissingSub)
	}
	aud := Audience(claims)
	if aud == "" {
		return "", notAuthorized(msgMissingAud)
	}
	allowed, anyClient := clientIDs(prov, cfg)
	if !(anyClient && unlisted) && !slices.Contains(allowed, aud) {
		return "", notAuthorized(msgUnsupported)
	}
	return aud, nil
}

// clientIDs are the audiences a provider accepts: a user pool's app
// clients; for an OIDC provider, the client ids the providers file names
// (anyClient when it names none: IAM's provider record is not available to
// idpool); for Google, Apple and other JWT-issuing public providers, the
// providers file's client ids, else the pool's app id (a comma-separated
// list of ids, as some pools hold for several platforms' clients).
func clientIDs(prov Provider, cfg ProviderConfig) (ids []string, anyClient bool) {
	switch prov.Kind {
	case UserPool:
		return prov.ClientIDs, false
	case OIDC:
		return cfg.ClientIDs, len(cfg.ClientIDs) == 0
	}
	if len(cfg.ClientIDs) > 0 {
		return cfg.ClientIDs, false
	}
	for _, id := range strings.Split(prov.AppID, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, false
}

// IDTokenProvider reports whether a public provider signs users in with
// OpenID Connect ID tokens (JWTs) rather than opaque access tokens.
func IDTokenProvider(key string) bool {
	return key == "accounts.google.com" || key == "appleid.apple.com"
}

// IssuerKey is the Logins key of an issuer: its URL without the scheme
// (https://login.example.com/x -> login.example.com/x), as Amplify builds
// it.
func IssuerKey(iss string) string {
	if _, rest, ok := strings.Cut(iss, "://"); ok {
		iss = rest
	}
	return strings.TrimSuffix(iss, "/")
}

// Audience is the client a token was issued to: azp when present, else aud
// (the first one, when aud is a list).
func Audience(claims map[string]any) string {
	if azp, ok := claims["azp"].(string); ok && azp != "" {
		return azp
	}
	switch aud := claims["aud"].(type) {
	case string:
		return aud
	case []any:
		if len(aud) > 0 {
			s, _ := aud[0].(string)
			return s
		}
	}
	return ""
}

// ParseJWT decodes the claims of a compact JWS without checking its
// signature. ok is false when token is not a JWT with a JSON object
// payload.
func ParseJWT(token string) (claims map[string]any, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, false
	}
	// Numbers become float64 for callers, but only if they fit.
	for k, v := range claims {
		if n, isNum := v.(json.Number); isNum {
			f, err := n.Float64()
			if err != nil || math.IsInf(f, 0) {
				return nil, false
			}
			claims[k] = f
		}
	}
	return claims, true
}

// parseSAML reads the NameID and the attributes of a base64 SAML response.
func parseSAML(token string) (subject string, attrs map[string]any) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return "", nil
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	attrs = map[string]any{}
	var (
		inNameID    bool
		currentAttr string
		inValue     bool
	)
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "NameID":
				inNameID = true
			case "Attribute":
				for _, a := range el.Attr {
					if a.Name.Local == "Name" {
						currentAttr = a.Value
					}
				}
			case "AttributeValue":
				inValue = currentAttr != ""
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "NameID":
				inNameID = false
			case "Attribute":
				currentAttr = ""
			case "AttributeValue":
				inValue = false
			}
		case xml.CharData:
			text := strings.TrimSpace(string(el))
			switch {
			case inNameID && subject == "":
				subject = text
			case inValue && text != "":
				prev, _ := attrs[currentAttr].([]any)
				attrs[currentAttr] = append(prev, text)
			}
		}
	}
	if subject == "" {
		return "", nil
	}
	attrs["sub"] = subject
	return subject, attrs
}

// String names a provider kind in logs and errors.
func (k Kind) String() string {
	switch k {
	case Public:
		return "public"
	case UserPool:
		return "user pool"
	case OIDC:
		return "OIDC"
	case SAML:
		return "SAML"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}
