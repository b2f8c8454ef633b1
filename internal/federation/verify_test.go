package federation_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/tokens"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// AWS's refusal texts, and the two verify mode chooses (federation.go).
const (
	msgUnsupported  = "Token is not from a supported provider of this identity pool."
	msgNotOIDC      = "Invalid login token. Not a valid OpenId Connect identity token."
	msgIssuer       = "Invalid login token. Issuer doesn't match providerName"
	msgMissingAud   = "Invalid login token. Missing a required claim: aud"
	msgMissingSub   = "Invalid login token. Missing a required claim: sub"
	msgBadSignature = "Invalid login token. Couldn't verify signed token."
	msgOpaque       = "Invalid login token. The token could not be verified."
)

// signingKey is a private key with its key id and JWS algorithm.
type signingKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func rsaKey(t *testing.T, kid string) signingKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.RS256, key: k}
}

func ecKey(t *testing.T, kid string) signingKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.ES256, key: k}
}

// sign returns a compact JWS of claims.
func (k signingKey) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.key, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jwks is the public JSON Web Key Set of keys.
func jwks(t *testing.T, keys ...signingKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.key.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	out, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// keyServer serves a JWKS that a test can replace, counting fetches.
type keyServer struct {
	*httptest.Server
	mu      sync.Mutex
	set     []byte
	fetches atomic.Int32
}

func newKeyServer(t *testing.T, set []byte) *keyServer {
	t.Helper()
	ks := &keyServer{set: set}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(ks.set)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) replace(set []byte) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.set = set
}

// discoveryServer is an OpenID issuer: every path P answers
// P/.well-known/openid-configuration with issuer <server>P and the JWKS of
// keys (served by another server); "/broken" has no discovery document.
type discoveryServer struct {
	*httptest.Server
	keys    *keyServer
	fetches atomic.Int32
}

func newDiscoveryServer(t *testing.T, keys *keyServer) *discoveryServer {
	t.Helper()
	d := &discoveryServer{keys: keys}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix, ok := strings.CutSuffix(r.URL.Path, "/.well-known/openid-configuration")
		if !ok || prefix == "/broken" {
			http.NotFound(w, r)
			return
		}
		d.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                d.URL + prefix,
			"jwks_uri":                              keys.URL + "/keys",
			"authorization_endpoint":                d.URL + prefix + "/authorize",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	}))
	t.Cleanup(d.Close)
	return d
}

// fixture is one identity pool with a provider of every kind, the issuers
// behind them and a verify-mode verifier configured for them.
type fixture struct {
	pool     *store.Pool
	verifier *federation.Strict
	clock    time.Time

	issuer   *discoveryServer // OIDC (discovery) and user pool (jwks_url) issuer
	keys     *keyServer
	rsa, ec  signingKey // the issuer's keys
	google   signingKey // in the Google JWKS file
	apple    signingKey // in the Apple JWKS file
	stranger signingKey // nobody's

	oidcKey, oidcIss         string
	userPoolKey, userPoolIss string
	brokenKey                string
	samlARN, samlToken       string
}

const (
	googleKey    = "accounts.google.com"
	googleIss    = "https://accounts.google.com"
	googleApp    = "123456789012-google.apps.googleusercontent.com"
	appleKey     = "appleid.apple.com"
	appleIss     = "https://appleid.apple.com"
	facebookKey  = "graph.facebook.com"
	amazonKey    = "www.amazon.com"
	oidcClient   = "oidc-client"
	poolClient1  = "userpoolclient1"
	poolClient2  = "userpoolclient2"
	appleService = "com.example.app.signin"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: now, rsa: rsaKey(t, "rsa-1"), ec: ecKey(t, "ec-1"), google: rsaKey(t, "google-1"), apple: ecKey(t, "apple-1"), stranger: rsaKey(t, "rsa-1")}
	f.keys = newKeyServer(t, jwks(t, f.rsa, f.ec))
	f.issuer = newDiscoveryServer(t, f.keys)
	f.oidcIss = f.issuer.URL + "/oidc"
	f.oidcKey = federation.IssuerKey(f.oidcIss)
	f.userPoolIss = f.issuer.URL + "/eu-west-1_Pool1"
	f.userPoolKey = federation.IssuerKey(f.userPoolIss)
	f.brokenKey = federation.IssuerKey(f.issuer.URL + "/broken")
	f.samlARN = "arn:aws:iam::111111111111:saml-provider/Corp"
	f.samlToken = base64.StdEncoding.EncodeToString([]byte(samlResponse))

	dir := t.TempDir()
	googleFile := filepath.Join(dir, "google.json")
	appleFile := filepath.Join(dir, "apple.json")
	writeFile(t, googleFile, jwks(t, f.google))
	writeFile(t, appleFile, jwks(t, f.apple))

	f.pool = &store.Pool{
		ID: "eu-west-1:00000000-0000-4000-8000-000000000001", Account: "111111111111", Region: "eu-west-1",
		SupportedLoginProviders: map[string]string{googleKey: googleApp, appleKey: "ignored.in.favour.of.client_ids", facebookKey: "fb-app-1", amazonKey: "amzn1.application.1"},
		CognitoIdentityProviders: []store.CognitoProvider{
			{ProviderName: f.userPoolKey, ClientID: poolClient1},
			{ProviderName: f.userPoolKey, ClientID: poolClient2},
		},
		OpenIDConnectProviderARNs: []string{
			"arn:aws:iam::111111111111:oidc-provider/" + f.oidcKey,
			"arn:aws:iam::111111111111:oidc-provider/" + f.brokenKey,
		},
		SAMLProviderARNs:      []string{f.samlARN},
		DeveloperProviderName: "login.example.dev",
	}
	providers := map[string]federation.ProviderConfig{
		// The in-process issuers serve plain HTTP, so their exact iss is
		// configured (the default is https://<key>).
		f.oidcKey:     {Issuer: f.oidcIss, ClientIDs: []string{oidcClient}},
		f.userPoolKey: {Issuer: f.userPoolIss, JWKSURL: f.keys.URL + "/keys"},
		f.brokenKey:   {Issuer: f.issuer.URL + "/broken"},
		googleKey:     {JWKSFile: googleFile},
		appleKey:      {JWKSFile: appleFile, ClientIDs: []string{appleService}},
		facebookKey:   {Tokens: map[string]string{"EAAGfacebookaccesstoken": "10150000000000001"}},
		f.samlARN:     {Tokens: map[string]string{f.samlToken: "alice"}},
	}
	f.verifier = federation.NewStrict(providers, func() time.Time { return f.clock }, f.issuer.Client())
	return f
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

const samlResponse = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
	`<saml:Assertion><saml:Subject><saml:NameID>alice@corp.example</saml:NameID></saml:Subject>` +
	`<saml:AttributeStatement><saml:Attribute Name="department"><saml:AttributeValue>eng</saml:AttributeValue>` +
	`<saml:AttributeValue>ops</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>`

// claims are an ID token's claims, valid for an hour from now.
func claims(iss, aud, sub string) map[string]any {
	c := map[string]any{"iss": iss, "sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email": sub + "@example.com"}
	if aud != "" {
		c["aud"] = aud
	}
	return c
}

func with(c map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// unsigned returns a JWT with the given header and claims and an empty
// signature.
func unsigned(t *testing.T, header string, c map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// hs256 signs claims with HMAC-SHA256 keyed by secret: the alg-confusion
// attack of a verifier that trusts the token's alg.
func hs256(t *testing.T, secret []byte, c map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "rsa-1"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(c)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

type want struct {
	kind     federation.Kind
	subject  string
	clientID string
	claims   map[string]any // checked member by member
}

func TestStrictVerify(t *testing.T) {
	f := newFixture(t)
	rsaPublic, err := json.Marshal(jose.JSONWebKey{Key: f.rsa.key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	expired := now.Add(-tokens.ClockSkew - time.Second)
	cases := []struct {
		name    string
		key     string
		token   func() string
		want    *want
		code    apierr.Code
		message string
	}{
		// OIDC provider, keys found through discovery.
		{name: "oidc: RS256 token", key: f.oidcKey, token: func() string { return f.rsa.sign(t, claims(f.oidcIss, oidcClient, "oidc-user-1")) },
			want: &want{kind: federation.OIDC, subject: "oidc-user-1", claims: map[string]any{"email": "oidc-user-1@example.com", "aud": oidcClient}}},
		{name: "oidc: ES256 token", key: f.oidcKey, token: func() string { return f.ec.sign(t, claims(f.oidcIss, oidcClient, "oidc-user-2")) },
			want: &want{kind: federation.OIDC, subject: "oidc-user-2"}},
		{name: "oidc: azp is the client", key: f.oidcKey,
			token: func() string { return f.rsa.sign(t, with(claims(f.oidcIss, "api://resource", "u"), "azp", oidcClient)) },
			want:  &want{kind: federation.OIDC, subject: "u"}},
		{name: "oidc: aud list led by the client", key: f.oidcKey,
			token: func() string {
				return f.rsa.sign(t, with(claims(f.oidcIss, "", "u"), "aud", []string{oidcClient, "other"}))
			},
			want: &want{kind: federation.OIDC, subject: "u"}},
		{name: "oidc: expired within the five minutes of grace", key: f.oidcKey,
			token: func() string {
				return f.rsa.sign(t, with(claims(f.oidcIss, oidcClient, "u"), "exp", now.Add(-tokens.ClockSkew+time.Second).Unix()))
			},
			want: &want{kind: federation.OIDC, subject: "u"}},
		{name: "oidc: valid from a second from now (the issuer's clock is ahead)", key: f.oidcKey,
			token: func() string {
				return f.rsa.sign(t, with(claims(f.oidcIss, oidcClient, "u"), "nbf", now.Add(time.Second).Unix()))
			},
			want: &want{kind: federation.OIDC, subject: "u"}},
		{name: "oidc: valid from four minutes from now", key: f.oidcKey,
			token: func() string {
				return f.rsa.sign(t, with(claims(f.oidcIss, oidcClient, "u"), "nbf", now.Add(4*time.Minute).Unix()))
			},
			want: &want{kind: federation.OIDC, subject: "u"}},
		{name: "oidc: expired beyond the grace", key: f.oidcKey,
			token:   func() string { return f.rsa.sign(t, with(claims(f.oidcIss, oidcClient, "u"), "exp", expired.Unix())) },
			code:    apierr.NotAuthorized,
			message: "Invalid login token. Token expired: 2026-11-22T11:54:59Z >= 2026-11-22T12:00:00Z"},
		{name: "oidc: expired and signed by another key", key: f.oidcKey,
			token: func() string {
				return f.stranger.sign(t, with(claims(f.oidcIss, oidcClient, "u"), "exp", expired.Unix()))
			},
			code:    apierr.NotAuthorized,
			message: msgBadSignature},
		{name: "oidc: wrong audience", key: f.oidcKey, token: func() string { return f.rsa.sign(t, claims(f.oidcIss, "someone-else", "u")) },
			code: apierr.NotAuthorized, message: msgUnsupported},
		{name: "oidc: wrong azp, right aud", key: f.oidcKey,
			token: func() string { return f.rsa.sign(t, with(claims(f.oidcIss, oidcClient, "u"), "azp", "someone-else")) },
			code:  apierr.NotAuthorized, message: msgUnsupported},
		{name: "oidc: no aud", key: f.oidcKey, token: func() string { return f.rsa.sign(t, claims(f.oidcIss, "", "u")) },
			code: apierr.NotAuthorized, message: msgMissingAud},
		{name: "oidc: no sub", key: f.oidcKey, token: func() string { return f.rsa.sign(t, with(claims(f.oidcIss, oidcClient, ""), "sub", nil)) },
			code: apierr.NotAuthorized, message: msgMissingSub},
		{name: "oidc: issuer of another provider", key: f.oidcKey, token: func() string { return f.rsa.sign(t, claims(f.userPoolIss, oidcClient, "u")) },
			code: apierr.NotAuthorized, message: msgIssuer},
		{name: "oidc: issuer of another host", key: f.oidcKey, token: func() string { return f.rsa.sign(t, claims("https://evil.example/oidc", oidcClient, "u")) },
			code: apierr.NotAuthorized, message: msgIssuer},
		{name: "oidc: no issuer", key: f.oidcKey, token: func() string { return f.rsa.sign(t, with(claims("", oidcClient, "u"), "iss", nil)) },
			code: apierr.NotAuthorized, message: msgNotOIDC},
		{name: "oidc: signed by another key with the same kid", key: f.oidcKey, token: func() string { return f.stranger.sign(t, claims(f.oidcIss, oidcClient, "u")) },
			code: apierr.NotAuthorized, message: msgBadSignature},
		{name: "oidc: signed by another key with an unknown kid", key: f.oidcKey,
			token: func() string { k := f.stranger; k.kid = "nobody"; return k.sign(t, claims(f.oidcIss, oidcClient, "u")) },
			code:  apierr.NotAuthorized, message: msgBadSignature},
		{name: "oidc: signature of another token", key: f.oidcKey, token: func() string {
			a := strings.Split(f.rsa.sign(t, claims(f.oidcIss, oidcClient, "victim")), ".")
			b := strings.Split(f.rsa.sign(t, claims(f.oidcIss, oidcClient, "attacker")), ".")
			return a[0] + "." + b[1] + "." + a[2]
		}, code: apierr.NotAuthorized, message: msgBadSignature},
		{name: "oidc: alg none", key: f.oidcKey, token: func() string {
			return unsigned(t, `{"alg":"none","typ":"JWT"}`, claims(f.oidcIss, oidcClient, "u"))
		}, code: apierr.NotAuthorized, message: msgBadSignature},
		{name: "oidc: HS256 keyed with the issuer's public key", key: f.oidcKey, token: func() string {
			return hs256(t, rsaPublic, claims(f.oidcIss, oidcClient, "u"))
		}, code: apierr.NotAuthorized, message: msgBadSignature},
		{name: "oidc: not a JWT", key: f.oidcKey, token: func() string { return "EAAGnotajwt" },
			code: apierr.NotAuthorized, message: msgNotOIDC},
		{name: "oidc: three parts, no JSON", key: f.oidcKey, token: func() string { return "a.b.c" },
			code: apierr.NotAuthorized, message: msgNotOIDC},

		// Cognito user pool, keys from jwks_url; aud against the pool's
		// client ids.
		{name: "user pool: ID token of the second client", key: f.userPoolKey,
			token: func() string {
				return f.rsa.sign(t, with(claims(f.userPoolIss, poolClient2, "up-user"), "token_use", "id"))
			},
			want: &want{kind: federation.UserPool, subject: "up-user", clientID: poolClient2, claims: map[string]any{"token_use": "id"}}},
		{name: "user pool: ES256 ID token", key: f.userPoolKey, token: func() string { return f.ec.sign(t, claims(f.userPoolIss, poolClient1, "up-user")) },
			want: &want{kind: federation.UserPool, subject: "up-user", clientID: poolClient1}},
		{name: "user pool: another app client", key: f.userPoolKey, token: func() string { return f.rsa.sign(t, claims(f.userPoolIss, "otherclient", "up-user")) },
			code: apierr.NotAuthorized, message: msgUnsupported},
		{name: "user pool: OIDC client id is not the pool's", key: f.userPoolKey, token: func() string { return f.rsa.sign(t, claims(f.userPoolIss, oidcClient, "up-user")) },
			code: apierr.NotAuthorized, message: msgUnsupported},
		{name: "user pool: access token", key: f.userPoolKey,
			token: func() string {
				return f.rsa.sign(t, with(claims(f.userPoolIss, "", "up-user"), "client_id", poolClient1, "token_use", "access"))
			},
			code: apierr.NotAuthorized, message: msgMissingAud},
		{name: "user pool: expired", key: f.userPoolKey,
			token: func() string {
				return f.rsa.sign(t, with(claims(f.userPoolIss, poolClient1, "u"), "exp", now.Add(-time.Hour).Unix()))
			},
			code:    apierr.NotAuthorized,
			message: "Invalid login token. Token expired: 2026-11-22T11:00:00Z >= 2026-11-22T12:00:00Z"},
		{name: "user pool: token of the OIDC issuer", key: f.userPoolKey, token: func() string { return f.rsa.sign(t, claims(f.oidcIss, poolClient1, "u")) },
			code: apierr.NotAuthorized, message: msgIssuer},

		// Google and Apple: keys from jwks_file; aud against the pool's app
		// id, or the configured client_ids.
		{name: "google: ID token for the pool's app id", key: googleKey, token: func() string { return f.google.sign(t, claims(googleIss, googleApp, "1170000000001")) },
			want: &want{kind: federation.Public, subject: "1170000000001", claims: map[string]any{"iss": googleIss}}},
		{name: "google: another app", key: googleKey, token: func() string { return f.google.sign(t, claims(googleIss, "other.apps.googleusercontent.com", "1")) },
			code: apierr.NotAuthorized, message: msgUnsupported},
		{name: "google: signed by the OIDC issuer's key", key: googleKey, token: func() string { return f.rsa.sign(t, claims(googleIss, googleApp, "1")) },
			code: apierr.NotAuthorized, message: msgBadSignature},
		{name: "google: no aud", key: googleKey, token: func() string { return f.google.sign(t, claims(googleIss, "", "1")) },
			code: apierr.NotAuthorized, message: msgMissingAud},
		{name: "google: issuer of another provider", key: googleKey, token: func() string { return f.google.sign(t, claims(appleIss, googleApp, "1")) },
			code: apierr.NotAuthorized, message: msgIssuer},
		{name: "google: opaque token", key: googleKey, token: func() string { return "ya29.opaque-google-access-token" },
			code: apierr.NotAuthorized, message: msgNotOIDC},
		{name: "apple: opaque token", key: appleKey, token: func() string { return "opaque-apple-token" },
			code: apierr.NotAuthorized, message: msgNotOIDC},
		{name: "apple: token for a configured client id", key: appleKey, token: func() string { return f.apple.sign(t, claims(appleIss, appleService, "001234.abc")) },
			want: &want{kind: federation.Public, subject: "001234.abc"}},
		{name: "apple: the pool's app id is overridden by client_ids", key: appleKey,
			token: func() string {
				return f.apple.sign(t, claims(appleIss, "ignored.in.favour.of.client_ids", "001234.abc"))
			},
			code: apierr.NotAuthorized, message: msgUnsupported},

		// Opaque tokens and SAML: only through the static tokens map.
		{name: "facebook: token in the tokens map", key: facebookKey, token: func() string { return "EAAGfacebookaccesstoken" },
			want: &want{kind: federation.Public, subject: "10150000000000001",
				claims: map[string]any{"sub": "10150000000000001", "aud": "fb-app-1", "iss": facebookKey}}},
		{name: "facebook: token not in the map", key: facebookKey, token: func() string { return "EAAGsomeothertoken" },
			code: apierr.NotAuthorized, message: msgOpaque},
		{name: "amazon: no tokens map", key: amazonKey, token: func() string { return "Atza|opaque" },
			code: apierr.NotAuthorized, message: msgOpaque},
		{name: "saml: response in the tokens map", key: f.samlARN, token: func() string { return f.samlToken },
			want: &want{kind: federation.SAML, subject: "alice", claims: map[string]any{"sub": "alice", "department": []any{"eng", "ops"}}}},
		{name: "saml: response not in the map", key: f.samlARN,
			token: func() string {
				return base64.StdEncoding.EncodeToString([]byte(strings.Replace(samlResponse, "alice", "mallory", 1)))
			},
			code: apierr.NotAuthorized, message: msgOpaque},
		{name: "saml: a JWT instead", key: f.samlARN, token: func() string { return f.rsa.sign(t, claims(f.oidcIss, oidcClient, "u")) },
			code: apierr.NotAuthorized, message: msgOpaque},

		// Keys that are no provider of the pool.
		{name: "provider not on the pool", key: "login.unknown.example", token: func() string { return f.rsa.sign(t, claims("https://login.unknown.example", "x", "u")) },
			code: apierr.NotAuthorized, message: msgUnsupported},
		{name: "provider name that is no provider at all", key: "Facebook", token: func() string { return "EAAGfacebookaccesstoken" },
			code: apierr.NotAuthorized, message: msgNotOIDC},
		{name: "the pool's developer provider", key: "login.example.dev", token: func() string { return "user-1" },
			code: apierr.NotAuthorized, message: msgUnsupported},
		{name: "an OIDC issuer the pool does not list", key: federation.IssuerKey(f.issuer.URL + "/other"),
			token: func() string { return f.rsa.sign(t, claims(f.issuer.URL+"/other", oidcClient, "u")) },
			code:  apierr.NotAuthorized, message: msgUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			login, err := f.verifier.Verify(context.Background(), f.pool, c.key, c.token())
			if c.want == nil {
				wantAPIError(t, err, c.code, c.message)
				if login != nil {
					t.Errorf("a refused token gave a login: %+v", login)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if login.Provider != c.key || login.Kind != c.want.kind || login.Subject != c.want.subject || login.ClientID != c.want.clientID {
				t.Errorf("login = {%s %s %q %q}, want {%s %s %q %q}", login.Provider, login.Kind, login.Subject, login.ClientID,
					c.key, c.want.kind, c.want.subject, c.want.clientID)
			}
			for k, v := range c.want.claims {
				if !reflect.DeepEqual(login.Claims[k], v) {
					t.Errorf("claim %s = %#v, want %#v", k, login.Claims[k], v)
				}
			}
		})
	}
}

func wantAPIError(t *testing.T, err error, code apierr.Code, message string) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("got %T %v, want %s %q", err, err, code, message)
	}
	if ae.Code != code || ae.Message != message {
		t.Errorf("got %s %q\nwant %s %q", ae.Code, ae.Message, code, message)
	}
}

// TestStrictVerifyNoExpiry: an ID token without exp is refused (OpenID
// Connect makes exp required).
func TestStrictVerifyNoExpiry(t *testing.T) {
	f := newFixture(t)
	_, err := f.verifier.Verify(context.Background(), f.pool, f.oidcKey, f.rsa.sign(t, with(claims(f.oidcIss, oidcClient, "u"), "exp", nil)))
	if !apierr.Is(err, apierr.NotAuthorized) {
		t.Fatalf("got %v, want NotAuthorizedException", err)
	}
}

// TestStrictVerifyClock: the grace runs on the verifier's clock, not the
// wall clock.
func TestStrictVerifyClock(t *testing.T) {
	f := newFixture(t)
	token := f.rsa.sign(t, claims(f.oidcIss, oidcClient, "u")) // expires at now + 1h
	for _, c := range []struct {
		name  string
		clock time.Time
		ok    bool
	}{
		{name: "at issue", clock: now, ok: true},
		{name: "four minutes after expiry", clock: now.Add(time.Hour + 4*time.Minute), ok: true},
		{name: "five minutes and a second after expiry", clock: now.Add(time.Hour + 5*time.Minute + time.Second)},
		{name: "a day after expiry", clock: now.Add(25 * time.Hour)},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.clock = c.clock
			_, err := f.verifier.Verify(context.Background(), f.pool, f.oidcKey, token)
			if c.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !c.ok && !apierr.Is(err, apierr.NotAuthorized) {
				t.Errorf("got %v, want NotAuthorizedException", err)
			}
		})
	}
}

// TestStrictVerifyKeyRotation: a token signed with a key the issuer added
// to its JWKS after the verifier first fetched it is accepted (the key set
// is fetched again for an unknown kid), and discovery happens once.
func TestStrictVerifyKeyRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.verifier.Verify(ctx, f.pool, f.oidcKey, f.rsa.sign(t, claims(f.oidcIss, oidcClient, "u"))); err != nil {
		t.Fatal(err)
	}
	next := rsaKey(t, "rsa-2")
	f.keys.replace(jwks(t, f.rsa, f.ec, next))
	for _, key := range []string{f.oidcKey, f.userPoolKey} {
		iss, aud := f.oidcIss, oidcClient
		if key == f.userPoolKey {
			iss, aud = f.userPoolIss, poolClient1
		}
		if _, err := f.verifier.Verify(ctx, f.pool, key, next.sign(t, claims(iss, aud, "u"))); err != nil {
			t.Errorf("%s: token of the new key: %v", key, err)
		}
		if _, err := f.verifier.Verify(ctx, f.pool, key, f.rsa.sign(t, claims(iss, aud, "u"))); err != nil {
			t.Errorf("%s: token of the old key: %v", key, err)
		}
	}
	if n := f.issuer.fetches.Load(); n != 1 {
		t.Errorf("discovery fetched %d times, want once", n)
	}
}

// TestStrictVerifyConcurrent verifies tokens of several providers at once
// (run with -race).
func TestStrictVerifyConcurrent(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			for _, tc := range []struct{ key, token string }{
				{f.oidcKey, f.rsa.sign(t, claims(f.oidcIss, oidcClient, "u"))},
				{f.userPoolKey, f.ec.sign(t, claims(f.userPoolIss, poolClient1, "u"))},
				{googleKey, f.google.sign(t, claims(googleIss, googleApp, "g"))},
				{facebookKey, "EAAGfacebookaccesstoken"},
			} {
				if _, err := f.verifier.Verify(context.Background(), f.pool, tc.key, tc.token); err != nil {
					errs <- errors.New(tc.key + ": " + err.Error())
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestStrictVerifyUnreachableIssuer: an issuer whose keys cannot be found
// is a failure of the provider ("a dependent service ... is not
// responding", the model's ExternalServiceException), not of the token,
// whether discovery or the JWKS fetch fails.
func TestStrictVerifyUnreachableIssuer(t *testing.T) {
	f := newFixture(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	jwksDown := federation.NewStrict(map[string]federation.ProviderConfig{f.userPoolKey: {Issuer: f.userPoolIss, JWKSURL: deadURL + "/keys"}},
		func() time.Time { return now }, nil)
	for _, c := range []struct {
		name     string
		verifier *federation.Strict
		key      string
		token    string
	}{
		{name: "no discovery document", verifier: f.verifier, key: f.brokenKey, token: f.rsa.sign(t, claims(f.issuer.URL+"/broken", oidcClient, "u"))},
		{name: "jwks_url not answering", verifier: jwksDown, key: f.userPoolKey, token: f.rsa.sign(t, claims(f.userPoolIss, poolClient1, "u"))},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.verifier.Verify(context.Background(), f.pool, c.key, c.token)
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != apierr.ExternalService {
				t.Fatalf("got %v, want ExternalServiceException", err)
			}
			// The cause (addresses of the server's network) is logged, not sent.
			if want := "The keys of identity provider " + c.key + " could not be retrieved."; ae.Message != want {
				t.Errorf("message %q, want %q", ae.Message, want)
			}
		})
	}
}

func TestLoadProviders(t *testing.T) {
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "keys.json")
	writeFile(t, keysFile, jwks(t, rsaKey(t, "k1")))
	emptyFile := filepath.Join(dir, "empty.json")
	writeFile(t, emptyFile, []byte(`{"keys":[]}`))
	notJSON := filepath.Join(dir, "not.json")
	writeFile(t, notJSON, []byte(`keys`))
	missing := filepath.Join(dir, "missing.json")

	cases := []struct {
		name string
		doc  string
		want map[string]federation.ProviderConfig
		err  string
	}{
		{name: "every kind of provider", doc: `{"providers":{
			"login.example.com":{"client_ids":["a","b"]},
			"cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X":{"jwks_url":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X/.well-known/jwks.json"},
			"accounts.google.com":{"jwks_file":"` + keysFile + `"},
			"graph.facebook.com":{"tokens":{"tok":"user"}}}}`,
			want: map[string]federation.ProviderConfig{
				"login.example.com": {ClientIDs: []string{"a", "b"}},
				"cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X": {JWKSURL: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X/.well-known/jwks.json"},
				"accounts.google.com":                             {JWKSFile: keysFile},
				"graph.facebook.com":                              {Tokens: map[string]string{"tok": "user"}},
			}},
		{name: "no providers", doc: `{"providers":{}}`, want: map[string]federation.ProviderConfig{}},
		{name: "both a file and a URL", doc: `{"providers":{"p":{"jwks_file":"` + keysFile + `","jwks_url":"https://x/jwks"}}}`,
			err: "providers file FILE: p: give jwks_file or jwks_url, not both"},
		{name: "unknown member", doc: `{"providers":{"p":{"jwks":"x"}}}`,
			err: `providers file FILE: json: unknown field "jwks"`},
		{name: "not JSON", doc: `providers`,
			err: "providers file FILE: invalid character 'p' looking for beginning of value"},
		{name: "missing JWKS file", doc: `{"providers":{"p":{"jwks_file":"` + missing + `"}}}`,
			err: "providers file FILE: p: open " + missing + ": no such file or directory"},
		{name: "JWKS file without keys", doc: `{"providers":{"p":{"jwks_file":"` + emptyFile + `"}}}`,
			err: "providers file FILE: p: jwks file " + emptyFile + " holds no keys"},
		{name: "JWKS file that is not JSON", doc: `{"providers":{"p":{"jwks_file":"` + notJSON + `"}}}`,
			err: "providers file FILE: p: jwks file " + notJSON + ": invalid character 'k' looking for beginning of value"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "providers"+string(rune('a'+i))+".json")
			writeFile(t, path, []byte(c.doc))
			got, err := federation.LoadProviders(path)
			if c.err != "" {
				if want := strings.ReplaceAll(c.err, "FILE", path); err == nil || err.Error() != want {
					t.Fatalf("error = %v\nwant %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("providers = %+v\nwant %+v", got, c.want)
			}
		})
	}
	if _, err := federation.LoadProviders(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing providers file: %v", err)
	}
}

// TestStrictVerifyOIDCWithoutClientIDs: verify mode accepts no audience
// for an OIDC provider whose client ids the providers file does not name,
// even on a correctly signed token (trust mode, which knows nothing of the
// provider, accepts any).
func TestStrictVerifyOIDCWithoutClientIDs(t *testing.T) {
	f := newFixture(t)
	v := federation.NewStrict(map[string]federation.ProviderConfig{f.oidcKey: {Issuer: f.oidcIss}},
		func() time.Time { return now }, f.issuer.Client())
	_, err := v.Verify(context.Background(), f.pool, f.oidcKey, f.rsa.sign(t, claims(f.oidcIss, "some-other-apps-client", "u-1")))
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Message != msgUnsupported {
		t.Fatalf("err = %v, want NotAuthorizedException %q", err, msgUnsupported)
	}
}
