package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// segment returns the decoded part i (0 header, 1 payload) of a compact
// JWS.
func segment(t testing.TB, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3: %q", len(parts), token)
	}
	raw, err := b64.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("token part %d is not base64url without padding: %v", i, err)
	}
	return raw
}

// payload returns a token's claims, unverified.
func payload(t testing.TB, token string) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(segment(t, token, 1), &c); err != nil {
		t.Fatalf("token payload: %v", err)
	}
	return c
}

func (w *world) developerToken(t testing.TB, in *cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput) *cognitoidentity.GetOpenIdTokenForDeveloperIdentityOutput {
	t.Helper()
	if in.IdentityPoolId == nil {
		in.IdentityPoolId = aws.String(w.pool)
	}
	out, err := w.admin.GetOpenIdTokenForDeveloperIdentity(t.Context(), in)
	if err != nil {
		t.Fatalf("GetOpenIdTokenForDeveloperIdentity %v: %v", keys(in.Logins), err)
	}
	return out
}

func httpGet(t testing.TB, env *Env, path string) []byte {
	t.Helper()
	resp, err := env.HTTPClient().Get(env.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v", path, resp.StatusCode, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	return body
}

// TestTokensVerify verifies idpool's tokens the ways a consumer would:
// with go-oidc through the discovery document, and with go-jose against
// the JWKS.
func TestTokensVerify(t *testing.T) {
	w := newWorld(t, loginPoolInput("tokens"))
	env := w.env
	ctx := t.Context()

	var disc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(httpGet(t, env, "/.well-known/openid-configuration"), &disc); err != nil {
		t.Fatalf("discovery document: %v", err)
	}
	if disc.Issuer != env.Issuer || disc.JWKSURI != env.Issuer+"/.well-known/jwks_uri" {
		t.Errorf("discovery issuer %q jwks_uri %q, want %q and %q", disc.Issuer, disc.JWKSURI, env.Issuer, env.Issuer+"/.well-known/jwks_uri")
	}
	wantEqual(t, "signing algorithms", disc.Algs, []string{"RS512"})

	jwksRaw := httpGet(t, env, "/.well-known/jwks.json")
	if other := httpGet(t, env, "/.well-known/jwks_uri"); string(other) != string(jwksRaw) {
		t.Errorf("jwks_uri and jwks.json differ:\n%s\n%s", other, jwksRaw)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwksRaw, &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var rawSet struct {
		Keys []map[string]any `json:"keys"`
	}
	json.Unmarshal(jwksRaw, &rawSet)
	if len(set.Keys) != 1 || len(rawSet.Keys) != 1 {
		t.Fatalf("JWKS of a new server has %d keys, want 1: %s", len(set.Keys), jwksRaw)
	}
	for _, k := range rawSet.Keys {
		if k["kty"] != "RSA" || k["alg"] != "RS512" || k["use"] != "sig" || k["kid"] != "us-east-11" || k["e"] != "AQAB" || k["d"] != nil {
			t.Errorf("JWKS entry %v, want kty RSA, alg RS512, use sig, kid us-east-11, e AQAB, no private part", k)
		}
	}

	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, env.HTTPClient()), env.Issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	verifier := func(clientID string) *oidc.IDTokenVerifier {
		return provider.VerifierContext(oidc.ClientContext(ctx, env.HTTPClient()), &oidc.Config{
			ClientID: clientID, SupportedSigningAlgs: []string{"RS512"}, Now: env.Clock.Peek,
		})
	}

	guest := w.getID(t, nil)
	user := w.getID(t, map[string]string{userPool1: userPoolToken(userPool1, "client1", "up-sub-1", nil)})
	dev := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		Logins: map[string]string{devProvider: "dev-user-1"}, PrincipalTags: map[string]string{"k": "v"},
	})
	devID := aws.ToString(dev.IdentityId)
	tokens := []struct {
		name, token, sub string
		amr              []any
		lifetime         int64
	}{
		{"guest", aws.ToString(w.openID(t, guest, nil).Token), guest, []any{"unauthenticated"}, 600},
		{"user pool", aws.ToString(w.openID(t, user, map[string]string{userPool1: userPoolToken(userPool1, "client1", "up-sub-1", nil)}).Token), user,
			[]any{"authenticated", userPool1, userPool1 + ":CognitoSignIn:up-sub-1"}, 600},
		{"developer", aws.ToString(dev.Token), devID, []any{"authenticated", devProvider, devProvider + ":" + w.pool + ":dev-user-1"}, 900},
	}
	for _, tc := range tokens {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(segment(t, tc.token, 0)); got != `{"kid":"us-east-11","typ":"JWS","alg":"RS512"}` {
				t.Errorf("header %s, want {\"kid\":\"us-east-11\",\"typ\":\"JWS\",\"alg\":\"RS512\"}", got)
			}

			idt, err := verifier(w.pool).Verify(ctx, tc.token)
			if err != nil {
				t.Fatalf("go-oidc: %v", err)
			}
			if idt.Subject != tc.sub || idt.Issuer != env.Issuer || len(idt.Audience) != 1 || idt.Audience[0] != w.pool {
				t.Errorf("go-oidc: sub %q iss %q aud %v", idt.Subject, idt.Issuer, idt.Audience)
			}
			if life := idt.Expiry.Sub(idt.IssuedAt); life != time.Duration(tc.lifetime)*time.Second {
				t.Errorf("lifetime %v, want %ds", life, tc.lifetime)
			}
			var extra struct {
				AMR     []any  `json:"amr"`
				PoolARN string `json:"https://cognito-identity.amazonaws.com/identity-pool-arn"`
			}
			if err := idt.Claims(&extra); err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "amr", extra.AMR, tc.amr)
			if want := poolARN(USEast1, AccountA, w.pool); extra.PoolARN != want {
				t.Errorf("pool ARN claim %q, want %q", extra.PoolARN, want)
			}

			// Another audience is refused.
			if _, err := verifier("us-east-1:00000000-0000-4000-8000-000000000000").Verify(ctx, tc.token); err == nil {
				t.Errorf("go-oidc accepted the token for another pool")
			}

			// go-jose, with the key the JWKS names.
			parsed, err := jwt.ParseSigned(tc.token, []jose.SignatureAlgorithm{jose.RS512})
			if err != nil {
				t.Fatalf("go-jose parse: %v", err)
			}
			h := parsed.Headers[0]
			if h.KeyID != "us-east-11" || h.Algorithm != "RS512" || h.ExtraHeaders["typ"] != "JWS" {
				t.Errorf("go-jose header kid %q alg %q typ %v", h.KeyID, h.Algorithm, h.ExtraHeaders["typ"])
			}
			found := set.Key(h.KeyID)
			if len(found) != 1 {
				t.Fatalf("JWKS has %d keys with kid %q", len(found), h.KeyID)
			}
			var std jwt.Claims
			if err := parsed.Claims(found[0].Key, &std); err != nil {
				t.Fatalf("go-jose signature: %v", err)
			}
			if err := std.ValidateWithLeeway(jwt.Expected{Issuer: env.Issuer, Subject: tc.sub, AnyAudience: jwt.Audience{w.pool}, Time: env.Clock.Peek()}, 0); err != nil {
				t.Errorf("go-jose claims: %v", err)
			}

			// A tampered token is refused.
			parts := strings.Split(tc.token, ".")
			forged := payload(t, tc.token)
			forged["sub"] = "us-east-1:00000000-0000-4000-8000-000000000000"
			fp, _ := json.Marshal(forged)
			for name, bad := range map[string]string{
				"payload":   parts[0] + "." + b64.EncodeToString(fp) + "." + parts[2],
				"signature": parts[0] + "." + parts[1] + "." + flip(parts[2]),
				"algorithm": b64.EncodeToString([]byte(`{"kid":"us-east-11","typ":"JWS","alg":"none"}`)) + "." + parts[1] + ".",
			} {
				if _, err := verifier(w.pool).Verify(ctx, bad); err == nil {
					t.Errorf("go-oidc accepted a token with a tampered %s", name)
				}
			}
		})
	}

	t.Run("token of another key", func(t *testing.T) {
		forged := signRS512(t, "us-east-11", map[string]any{
			"sub": guest, "aud": w.pool, "amr": []string{"authenticated"}, "iss": env.Issuer,
			"exp": env.Clock.Peek().Add(time.Minute).Unix(), "iat": env.Clock.Peek().Unix(),
		})
		if _, err := verifier(w.pool).Verify(ctx, forged); err == nil {
			t.Errorf("go-oidc accepted a token signed with another key")
		}
	})
	t.Run("expired token", func(t *testing.T) {
		tok := aws.ToString(w.openID(t, guest, nil).Token)
		late := &oidc.Config{ClientID: w.pool, SupportedSigningAlgs: []string{"RS512"}, Now: func() time.Time { return env.Clock.Peek().Add(601 * time.Second) }}
		if _, err := provider.VerifierContext(oidc.ClientContext(ctx, env.HTTPClient()), late).Verify(ctx, tok); err == nil {
			t.Errorf("go-oidc accepted a GetOpenIdToken token after 601 s")
		}
	})
}

// flip changes the first character of a base64url string.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// signRS512 signs claims with a throwaway key, in idpool's header form.
func signRS512(t testing.TB, kid string, claims map[string]any) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS512, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWS"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestTokenClaimOrder checks the payload byte for byte: the claims in the
// order AWS writes them, principal tags as arrays.
func TestTokenClaimOrder(t *testing.T) {
	w := newWorld(t, loginPoolInput("order"))
	out := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		Logins:        map[string]string{devProvider: "order-user"},
		PrincipalTags: map[string]string{"k": "v", "dept": "eng"},
		TokenDuration: aws.Int64(300),
	})
	id, tok := aws.ToString(out.IdentityId), aws.ToString(out.Token)
	c := payload(t, tok)
	iat := int64(c["iat"].(float64))
	want := fmt.Sprintf(`{"sub":%q,"aud":%q,"amr":["authenticated",%q,%q],"iss":%q,`+
		`"https://cognito-identity.amazonaws.com/identity-pool-arn":%q,`+
		`"https://aws.amazon.com/tags":{"principal_tags":{"dept":["eng"],"k":["v"]}},"exp":%d,"iat":%d}`,
		id, w.pool, devProvider, devProvider+":"+w.pool+":order-user", w.env.Issuer, poolARN(USEast1, AccountA, w.pool), iat+300, iat)
	if got := string(segment(t, tok, 1)); got != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
	if d := time.Unix(iat, 0).Sub(Epoch); d < 0 || d > time.Minute {
		t.Errorf("iat %d is not the server clock's time", iat)
	}

	// Without tags, the claim is left out.
	guest := w.getID(t, nil)
	g := aws.ToString(w.openID(t, guest, nil).Token)
	gc := payload(t, g)
	giat := int64(gc["iat"].(float64))
	want = fmt.Sprintf(`{"sub":%q,"aud":%q,"amr":["unauthenticated"],"iss":%q,"https://cognito-identity.amazonaws.com/identity-pool-arn":%q,"exp":%d,"iat":%d}`,
		guest, w.pool, w.env.Issuer, poolARN(USEast1, AccountA, w.pool), giat+600, giat)
	if got := string(segment(t, g, 1)); got != want {
		t.Errorf("guest payload\n got %s\nwant %s", got, want)
	}
}
