package tokens

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Claim names beyond the registered ones (docs/behaviour.md §5).
const (
	PoolARNClaim = "https://cognito-identity.amazonaws.com/identity-pool-arn"
	TagsClaim    = "https://aws.amazon.com/tags"
)

// Claims are the contents of an OpenID token issued for an identity.
type Claims struct {
	Subject  string   // the identity id
	Audience string   // the identity pool id
	AMR      []string // "unauthenticated", or "authenticated" and the logins used
	PoolARN  string   // the identity pool's ARN
	// PrincipalTags become session tags when STS assumes a role with the
	// token; the claim carries each value as a one-element array.
	PrincipalTags map[string]string
	IssuedAt      time.Time
	Expiry        time.Time
	Issuer        string // set by Sign; read by Verify
}

// wireClaims is the JSON payload, with members in the order AWS writes
// them.
type wireClaims struct {
	Sub     string    `json:"sub"`
	Aud     string    `json:"aud"`
	AMR     []string  `json:"amr"`
	Iss     string    `json:"iss"`
	PoolARN string    `json:"https://cognito-identity.amazonaws.com/identity-pool-arn,omitempty"`
	Tags    *wireTags `json:"https://aws.amazon.com/tags,omitempty"`
	Exp     int64     `json:"exp"`
	Iat     int64     `json:"iat"`
}

type wireTags struct {
	PrincipalTags map[string][]string `json:"principal_tags"`
}

type header struct {
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	Alg string `json:"alg"`
}

// Issuer signs and verifies the OpenID tokens of idpool, and serves the
// discovery document and JWKS that let anyone else verify them.
type Issuer struct {
	url  string
	ring *KeyRing
	now  func() time.Time
}

// NewIssuer returns an Issuer whose tokens carry iss = url (no trailing
// slash) and are signed with the ring's keys.
func NewIssuer(url string, ring *KeyRing, clock func() time.Time) *Issuer {
	if clock == nil {
		clock = time.Now
	}
	return &Issuer{url: strings.TrimSuffix(url, "/"), ring: ring, now: clock}
}

// URL is the issuer URL, the iss of every token.
func (i *Issuer) URL() string { return i.url }

var b64 = base64.RawURLEncoding

// Sign issues a compact JWS (RS512, typ JWS) for the claims.
func (i *Issuer) Sign(c Claims) (string, error) {
	k := i.ring.signer(i.now())
	if k == nil {
		return "", errors.New("tokens: no signing key loaded")
	}
	wc := wireClaims{
		Sub: c.Subject, Aud: c.Audience, AMR: c.AMR, Iss: i.url, PoolARN: c.PoolARN,
		Exp: c.Expiry.Unix(), Iat: c.IssuedAt.Unix(),
	}
	if len(c.PrincipalTags) > 0 {
		wc.Tags = &wireTags{PrincipalTags: make(map[string][]string, len(c.PrincipalTags))}
		for tag, v := range c.PrincipalTags {
			wc.Tags.PrincipalTags[tag] = []string{v}
		}
	}
	h, err := json.Marshal(header{Kid: k.id, Typ: "JWS", Alg: "RS512"})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(wc)
	if err != nil {
		return "", err
	}
	signingInput := make([]byte, 0, b64.EncodedLen(len(h))+1+b64.EncodedLen(len(p))+1+b64.EncodedLen(k.priv.Size()))
	signingInput = b64.AppendEncode(signingInput, h)
	signingInput = append(signingInput, '.')
	signingInput = b64.AppendEncode(signingInput, p)
	digest := sha512.Sum512(signingInput)
	// PKCS #1 v1.5 signatures are deterministic: no randomness needed.
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA512, digest[:])
	if err != nil {
		return "", err
	}
	out := append(signingInput, '.')
	out = b64.AppendEncode(out, sig)
	return string(out), nil
}

// ErrInvalid is returned by Verify for any token that is not a valid,
// unexpired token of this issuer. The wrapped text says why, for logs.
var ErrInvalid = errors.New("tokens: invalid token")

func invalid(why string) error { return errors.Join(ErrInvalid, errors.New(why)) }

// Verify checks a token's signature against the published keys, its
// algorithm, issuer and expiry, and returns its claims.
func (i *Issuer) Verify(ctx context.Context, token string) (*Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalid("not a compact JWS")
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, invalid("bad header encoding")
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, invalid("bad header")
	}
	if h.Alg != "RS512" {
		return nil, invalid("algorithm " + h.Alg + " is not RS512")
	}
	k := i.ring.lookup(h.Kid)
	if k == nil && i.ring.refreshIfStale(ctx) {
		k = i.ring.lookup(h.Kid)
	}
	now := i.now()
	if k == nil || (k.retiresAt != nil && now.After(k.retiresAt.Add(MaxTokenLifetime))) {
		return nil, invalid("unknown key " + h.Kid)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, invalid("bad signature encoding")
	}
	digest := sha512.Sum512([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&k.priv.PublicKey, crypto.SHA512, digest[:], sig); err != nil {
		return nil, invalid("bad signature")
	}
	pb, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, invalid("bad payload encoding")
	}
	var wc wireClaims
	if err := json.Unmarshal(pb, &wc); err != nil {
		return nil, invalid("bad payload")
	}
	if wc.Iss != i.url {
		return nil, invalid("issuer " + wc.Iss + " is not " + i.url)
	}
	exp := time.Unix(wc.Exp, 0)
	if Expired(exp, now) {
		return nil, invalid("expired")
	}
	c := &Claims{
		Subject: wc.Sub, Audience: wc.Aud, AMR: wc.AMR, PoolARN: wc.PoolARN, Issuer: wc.Iss,
		IssuedAt: time.Unix(wc.Iat, 0), Expiry: exp,
	}
	if wc.Tags != nil {
		c.PrincipalTags = map[string]string{}
		for tag, vs := range wc.Tags.PrincipalTags {
			if len(vs) > 0 {
				c.PrincipalTags[tag] = vs[0]
			}
		}
	}
	return c, nil
}

// buildJWKS renders keys as a JSON Web Key Set.
func buildJWKS(keys []*key) ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.id, Algorithm: "RS512", Use: "sig"})
	}
	return json.Marshal(set)
}

// discovery is the OpenID Provider metadata idpool publishes.
type discovery struct {
	Issuer          string   `json:"issuer"`
	JWKSURI         string   `json:"jwks_uri"`
	ResponseTypes   []string `json:"response_types_supported"`
	SubjectTypes    []string `json:"subject_types_supported"`
	SigningAlgs     []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported []string `json:"claims_supported"`
	ScopesSupported []string `json:"scopes_supported"`
}

// Mount adds the discovery document and the JWKS to mux:
// /.well-known/openid-configuration, /.well-known/jwks_uri (the path AWS
// uses) and /.well-known/jwks.json.
func (i *Issuer) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks_uri", i.serveJWKS)
	mux.HandleFunc("GET /.well-known/jwks.json", i.serveJWKS)
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	body, _ := json.Marshal(discovery{
		Issuer:          i.url,
		JWKSURI:         i.url + "/.well-known/jwks_uri",
		ResponseTypes:   []string{"id_token"},
		SubjectTypes:    []string{"public"},
		SigningAlgs:     []string{"RS512"},
		ClaimsSupported: []string{"sub", "aud", "amr", "iss", "exp", "iat", PoolARNClaim, TagsClaim},
		ScopesSupported: []string{"openid"},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(body)
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	// Verifiers may cache the set for a refresh interval: a new key is
	// published for Propagation (two intervals) before it signs.
	w.Header().Set("Cache-Control", "public, max-age=30")
	w.Write(i.ring.JWKS())
}
