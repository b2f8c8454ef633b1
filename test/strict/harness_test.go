// Package strict drives an idpool server in strict mode (SigV4 verified
// against configured keys, login tokens verified against their issuers'
// keys, AWS's rate limits) with the real aws-sdk-go-v2 clients and, where
// no SDK call can produce the fault, with raw HTTP requests signed by the
// SDK's signer.
package strict

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/testclock"
	"github.com/idpool/idpool/internal/trust"
	"github.com/idpool/idpool/test/e2e"
)

// The accounts, keys and regions of the tests.
const (
	accountA = "111111111111"
	accountB = "222222222222"
	keyA     = "AKIASTRICTAAAAAAAAAA"
	secretA  = "strict/secret+A/0123456789abcdefghijklmnop"
	keyB     = "AKIASTRICTBBBBBBBBBB"
	secretB  = "strict/secret+B/0123456789abcdefghijklmnop"
	region   = "us-east-1"
)

// epoch is the server clock's first reading.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// env is one strict-mode server, started by the end-to-end harness, with
// the OpenID issuer its logins come from.
type env struct {
	*e2e.Env
	oidc *issuer
}

// options configures start.
type options struct {
	// rateLimits are the server's rates; nil limits nothing.
	rateLimits map[string]float64
	// inProcess serves requests by calling the handler directly, without
	// a listener (for testing/synctest bubbles, where time stands still
	// while nothing is waiting).
	inProcess bool
	// roles are the trust policies of a roles file (nil: none).
	roles *trust.Roles
	// trustLogins reads login tokens without verifying their signatures
	// (--logins trust), beside strict SigV4.
	trustLogins bool
}

// oidcClient is the client id the pools trust for the test issuer, and
// facebookToken the one opaque token verify mode knows.
const (
	oidcClient    = "strict-client"
	facebookApp   = "fb-app-1"
	facebookToken = "EAAGstrictfacebooktoken"
	facebookUser  = "10150000000000042"
)

// start runs a strict server: keys A and B, login verification against
// the test issuer (OIDC by discovery; not in process) and the tokens map
// for Facebook.
func start(t testing.TB, o options) *env {
	t.Helper()
	c := testclock.New(epoch, time.Millisecond)
	providers := map[string]federation.ProviderConfig{
		"graph.facebook.com": {Tokens: map[string]string{facebookToken: facebookUser}},
	}
	// In process there is no issuer: its servers would block a synctest
	// bubble (goroutines waiting on the network are not durably blocked).
	var oidc *issuer
	oidcHTTP := http.DefaultClient
	if !o.inProcess {
		oidc = newIssuer(t, c)
		providers[oidc.key] = federation.ProviderConfig{Issuer: oidc.iss, ClientIDs: []string{oidcClient}}
		oidcHTTP = oidc.client
	}
	var verifier federation.Verifier = federation.NewStrict(providers, c.Now, oidcHTTP)
	if o.trustLogins {
		verifier = federation.Trust{Now: c.Now, Providers: providers}
	}
	srv := e2e.Start(t, e2e.Options{
		Clock: c,
		Keys: auth.Keys{
			keyA: {AccessKeyID: keyA, SecretAccessKey: secretA, Account: accountA},
			keyB: {AccessKeyID: keyB, SecretAccessKey: secretB, Account: accountB},
		},
		Secrets:    [][]byte{[]byte("strict-mode test secret, at least 32 bytes")},
		Verifier:   verifier,
		RateLimits: o.rateLimits,
		Roles:      o.roles,
		InProcess:  o.inProcess,
	})
	return &env{Env: srv, oidc: oidc}
}

func static(key, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, token)
}

// clientA and clientB act for accounts A and B; public signs nothing.
func (e *env) clientA() *cognitoidentity.Client { return e.Cognito(static(keyA, secretA, "")) }
func (e *env) clientB() *cognitoidentity.Client { return e.Cognito(static(keyB, secretB, "")) }
func (e *env) public() *cognitoidentity.Client  { return e.Cognito(aws.AnonymousCredentials{}) }

// issuer is an OpenID Connect provider: its discovery document is served
// by one server and names a JWKS served by another.
type issuer struct {
	t       testing.TB
	clock   *testclock.Clock
	iss     string // the iss of its tokens
	key     string // its Logins key: iss without the scheme
	arn     string // its IAM OIDC provider ARN in account A
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	client  *http.Client
	servers []*httptest.Server
}

func newIssuer(t testing.TB, c *testclock.Clock) *issuer {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	i := &issuer{t: t, clock: c, rsa: rk, ec: ek}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: rk.Public(), KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
		{Key: ek.Public(), KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	discovery := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oidc/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": i.iss, "jwks_uri": jwks.URL + "/jwks.json"})
	}))
	i.servers = []*httptest.Server{jwks, discovery}
	i.client = discovery.Client()
	i.iss = discovery.URL + "/oidc"
	i.key = federation.IssuerKey(i.iss)
	i.arn = "arn:aws:iam::" + accountA + ":oidc-provider/" + i.key
	t.Cleanup(func() {
		for _, s := range i.servers {
			s.Close()
		}
	})
	return i
}

// token returns an RS256 ID token of the issuer for sub, valid for an hour
// from the server's clock, with changes applied to its claims (a nil value
// removes a claim).
func (i *issuer) token(sub string, changes ...any) string {
	now := i.clock.Peek()
	claims := map[string]any{"iss": i.iss, "sub": sub, "aud": oidcClient, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email": sub + "@example.com"}
	for n := 0; n+1 < len(changes); n += 2 {
		if changes[n+1] == nil {
			delete(claims, changes[n].(string))
		} else {
			claims[changes[n].(string)] = changes[n+1]
		}
	}
	return i.sign(jose.RS256, i.rsa, "rsa-1", claims)
}

func (i *issuer) sign(alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	i.t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		i.t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		i.t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		i.t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		i.t.Fatal(err)
	}
	return out
}
