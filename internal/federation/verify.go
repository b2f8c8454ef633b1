package federation

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/tokens"
)

// ProviderConfig tells verify mode how to check the tokens of one Logins
// key. JWT providers (user pools, OIDC, Google, Apple) are checked against
// the issuer's keys: a JWKS file (offline), a JWKS URL, or by default the
// keys the issuer's discovery document names. Providers whose tokens idpool
// cannot verify offline (Facebook, Amazon and Twitter access tokens, SAML
// responses) need Tokens, a fixed token -> user table (for tests); without
// it their logins are refused.
type ProviderConfig struct {
	// Issuer is the exact iss of the provider's tokens and the base of
	// its discovery document; by default "https://" + the Logins key.
	// Set it for an issuer served over plain HTTP (a local user-pool
	// emulator, say).
	Issuer   string `json:"issuer,omitempty"`
	JWKSFile string `json:"jwks_file,omitempty"`
	JWKSURL  string `json:"jwks_url,omitempty"`
	// ClientIDs are the audiences accepted for an OIDC provider (what IAM
	// holds as the provider's client ids) or, overriding the pool's app
	// id, for Google and Apple. User pools use the pool's client ids.
	ClientIDs []string `json:"client_ids,omitempty"`
	// Tokens maps opaque tokens to the user they stand for.
	Tokens map[string]string `json:"tokens,omitempty"`
}

// ProvidersFile is the JSON document of --providers-file.
type ProvidersFile struct {
	Providers map[string]ProviderConfig `json:"providers"`
}

// LoadProviders reads a providers file.
func LoadProviders(path string) (map[string]ProviderConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f ProvidersFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("providers file %s: %w", path, err)
	}
	for key, pc := range f.Providers {
		if pc.JWKSFile != "" && pc.JWKSURL != "" {
			return nil, fmt.Errorf("providers file %s: %s: give jwks_file or jwks_url, not both", path, key)
		}
		if pc.JWKSFile != "" {
			if _, err := readJWKS(pc.JWKSFile); err != nil {
				return nil, fmt.Errorf("providers file %s: %s: %w", path, key, err)
			}
		}
	}
	return f.Providers, nil
}

// Strict verifies every login for real: signatures against the issuer's
// keys, the issuer against the Logins key, the audience against the pool's
// client ids, the expiry with five minutes of grace.
type Strict struct {
	providers map[string]ProviderConfig
	now       func() time.Time
	client    *http.Client
	log       *slog.Logger

	mu       sync.Mutex
	keySets  map[string]oidc.KeySet // by Logins key
	verified map[string]*oidc.IDTokenVerifier
}

// NewStrict returns a verify-mode Verifier. client fetches JWKS and
// discovery documents; nil means http.DefaultClient.
func NewStrict(providers map[string]ProviderConfig, clock func() time.Time, client *http.Client) *Strict {
	if clock == nil {
		clock = time.Now
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &Strict{providers: providers, now: clock, client: client, log: slog.New(slog.DiscardHandler),
		keySets: map[string]oidc.KeySet{}, verified: map[string]*oidc.IDTokenVerifier{}}
}

// WithLogger sets where the causes of provider failures are logged (they
// are not sent to callers); by default nowhere.
func (s *Strict) WithLogger(l *slog.Logger) *Strict {
	if l != nil {
		s.log = l
	}
	return s
}

// Texts of verify-mode refusals. Choice: AWS's texts for a bad signature
// and for an unverifiable opaque token are not known.
const (
	msgBadSignature = "Invalid login token. Couldn't verify signed token."
	msgOpaque       = "Invalid login token. The token could not be verified."
)

// Verify implements Verifier.
func (s *Strict) Verify(ctx context.Context, pool *store.Pool, key, token string) (*Login, error) {
	prov, ok := Lookup(pool, key)
	if !ok {
		return nil, Unsupported(key)
	}
	cfg := s.providers[key]
	login := &Login{Provider: key, Kind: prov.Kind}
	claims, isJWT := ParseJWT(token)
	switch {
	case prov.Kind == SAML || (prov.Kind == Public && !isJWT && !IDTokenProvider(key)):
		user, ok := cfg.Tokens[token]
		if !ok {
			return nil, notAuthorized(msgOpaque)
		}
		login.Subject, login.Verified = user, true
		if prov.Kind == SAML {
			if _, attrs := parseSAML(token); attrs != nil {
				login.Claims = attrs
			}
			if login.Claims == nil {
				login.Claims = map[string]any{}
			}
			login.Claims["sub"] = user
		} else {
			login.Claims = map[string]any{"sub": user, "aud": prov.AppID, "iss": key}
		}
		return login, nil
	case !isJWT:
		return nil, notAuthorized(msgNotOIDC)
	}
	iss, _ := claims["iss"].(string)
	if iss == "" {
		return nil, notAuthorized(msgNotOIDC)
	}
	// The issuer is the configured one (https://<key> by default), never
	// what the token claims: a token must not choose where its keys come
	// from, nor downgrade the fetch to plain HTTP.
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = "https://" + key
	}
	if iss != issuer || IssuerKey(iss) != key {
		return nil, notAuthorized(msgIssuer)
	}
	v, err := s.verifier(ctx, key, issuer, cfg)
	if err != nil {
		return nil, s.externalService(ctx, key, err)
	}
	fetch := &fetchFailure{}
	idt, err := v.Verify(context.WithValue(ctx, fetchKey{}, fetch), token)
	if err != nil {
		if fetch.err != nil {
			return nil, s.externalService(ctx, key, fetch.err)
		}
		return nil, notAuthorized(msgBadSignature)
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, notAuthorized(msgNotOIDC)
	}
	client, err := checkClaims(prov, cfg, key, claims, s.now(), false)
	if err != nil {
		return nil, err
	}
	if prov.Kind == UserPool {
		login.ClientID = client
	}
	login.Subject, login.Claims, login.Verified = claims["sub"].(string), claims, true
	return login, nil
}

// verifier returns the go-oidc verifier of a provider, building it (and
// fetching discovery, if needed) on first use.
func (s *Strict) verifier(ctx context.Context, key, iss string, cfg ProviderConfig) (*oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.verified[iss]; ok {
		return v, nil
	}
	ks, err := s.keySet(ctx, key, iss, cfg)
	if err != nil {
		return nil, err
	}
	v := oidc.NewVerifier(iss, &reportingKeySet{ks}, &oidc.Config{
		// The audience is checked against the pool's client ids after,
		// and exp/nbf with AWS's five minutes of skew (checkTimes).
		SkipClientIDCheck:    true,
		SkipExpiryCheck:      true,
		SupportedSigningAlgs: SigningAlgorithms,
	})
	s.verified[iss] = v
	return v, nil
}

func (s *Strict) keySet(ctx context.Context, key, iss string, cfg ProviderConfig) (oidc.KeySet, error) {
	switch {
	case cfg.JWKSFile != "":
		keys, err := readJWKS(cfg.JWKSFile)
		if err != nil {
			return nil, err
		}
		return &oidc.StaticKeySet{PublicKeys: keys}, nil
	case cfg.JWKSURL != "":
		return oidc.NewRemoteKeySet(oidc.ClientContext(context.WithoutCancel(ctx), s.client), cfg.JWKSURL), nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.client), iss)
	if err != nil {
		return nil, err
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return nil, fmt.Errorf("discovery document of %s names no jwks_uri", iss)
	}
	return oidc.NewRemoteKeySet(oidc.ClientContext(context.WithoutCancel(ctx), s.client), meta.JWKSURI), nil
}

// readJWKS reads the public keys of a JWKS file.
func readJWKS(path string) ([]crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("jwks file %s: %w", path, err)
	}
	var keys []crypto.PublicKey
	for _, k := range set.Keys {
		if k.IsPublic() {
			keys = append(keys, k.Key)
		} else {
			keys = append(keys, k.Public().Key)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks file %s holds no keys", path)
	}
	return keys, nil
}

// checkTimes applies AWS's five minutes of clock skew (tokens.ClockSkew)
// to exp (required) and nbf (optional).
func checkTimes(claims map[string]any, now time.Time) error {
	expiry, ok := tokens.ClaimTime(claims, "exp")
	if !ok {
		return notAuthorized("Invalid login token. Missing a required claim: exp")
	}
	if tokens.Expired(expiry, now) {
		return apierr.Errorf(apierr.NotAuthorized, expiredTemplate, expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if nbf, ok := tokens.ClaimTime(claims, "nbf"); ok && tokens.NotYetValid(nbf, now) {
		return notAuthorized("Invalid login token. Token is not valid yet.")
	}
	return nil
}

// externalService is the refusal of a login whose provider's keys could
// not be fetched. The cause (a resolver's or a proxy's address, say) is
// logged, not sent: a caller learns nothing of the server's network.
func (s *Strict) externalService(ctx context.Context, key string, err error) error {
	s.log.WarnContext(ctx, "the keys of a login provider could not be retrieved", "provider", key, "err", err)
	return apierr.Errorf(apierr.ExternalService, "The keys of identity provider %s could not be retrieved.", key)
}

// fetchFailure records, through the context of one verification, that the
// key set could not be fetched (go-oidc flattens that error into a
// signature failure), so that an outage at the provider is reported as
// ExternalServiceException, not as a bad token.
type fetchFailure struct{ err error }

type fetchKey struct{}

// reportingKeySet wraps a key set to record fetch failures.
type reportingKeySet struct{ oidc.KeySet }

func (r *reportingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := r.KeySet.VerifySignature(ctx, jwt)
	if err != nil && strings.HasPrefix(err.Error(), "fetching keys") {
		if f, ok := ctx.Value(fetchKey{}).(*fetchFailure); ok {
			f.err = err
		}
	}
	return payload, err
}
