package federation_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/tokens"
)

// TestTrustVerify checks that trust mode applies every check but the
// signature: the algorithm, iss, exp, sub, and aud against the client ids
// configured for the provider.
func TestTrustVerify(t *testing.T) {
	f := newFixture(t)
	v := federation.Trust{
		Now:       func() time.Time { return now },
		Providers: map[string]federation.ProviderConfig{f.oidcKey: {ClientIDs: []string{oidcClient}}},
	}
	rs := `{"alg":"RS256","kid":"k"}`
	userPool := func(extra ...any) string {
		return unsigned(t, rs, with(claims("https://"+f.userPoolKey, poolClient1, "user-1"), extra...))
	}
	expired := now.Add(-tokens.ClockSkew - time.Second)
	cases := []struct {
		name     string
		key      string
		token    string
		message  string // the NotAuthorizedException text; "" for success
		subject  string
		clientID string
	}{
		{name: "user pool: valid", key: f.userPoolKey, token: userPool(), subject: "user-1", clientID: poolClient1},
		{name: "user pool: http issuer of a local emulator", key: f.userPoolKey,
			token: unsigned(t, rs, claims("http://"+f.userPoolKey, poolClient2, "user-2")), subject: "user-2", clientID: poolClient2},
		{name: "user pool: azp decides over aud", key: f.userPoolKey, token: userPool("aud", "someone-else", "azp", poolClient2),
			subject: "user-1", clientID: poolClient2},
		{name: "user pool: another app client", key: f.userPoolKey, token: userPool("aud", "userpoolclient9"), message: msgUnsupported},
		{name: "user pool: no aud (an access token)", key: f.userPoolKey, token: userPool("aud", nil), message: msgMissingAud},
		{name: "user pool: no iss", key: f.userPoolKey, token: userPool("iss", nil), message: msgNotOIDC},
		{name: "user pool: empty iss", key: f.userPoolKey, token: userPool("iss", ""), message: msgNotOIDC},
		{name: "user pool: another pool's iss", key: f.userPoolKey,
			token: userPool("iss", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"), message: msgIssuer},
		{name: "user pool: no exp", key: f.userPoolKey, token: userPool("exp", nil), message: "Invalid login token. Missing a required claim: exp"},
		{name: "user pool: expired past the grace", key: f.userPoolKey, token: userPool("exp", expired.Unix()),
			message: "Invalid login token. Token expired: " + expired.Format(time.RFC3339) + " >= " + now.Format(time.RFC3339)},
		{name: "user pool: expired within the grace", key: f.userPoolKey, token: userPool("exp", now.Add(-time.Minute).Unix()),
			subject: "user-1", clientID: poolClient1},
		{name: "user pool: not valid yet", key: f.userPoolKey, token: userPool("nbf", now.Add(time.Hour).Unix()),
			message: "Invalid login token. Token is not valid yet."},
		{name: "user pool: no sub", key: f.userPoolKey, token: userPool("sub", nil), message: msgMissingSub},
		{name: "user pool: alg none", key: f.userPoolKey,
			token: unsigned(t, `{"alg":"none"}`, claims("https://"+f.userPoolKey, poolClient1, "user-1")), message: msgNotOIDC},
		{name: "user pool: HS256", key: f.userPoolKey, token: hs256(t, []byte("an HMAC key of at least 32 bytes, really"), claims("https://"+f.userPoolKey, poolClient1, "user-1")),
			message: msgNotOIDC},
		{name: "user pool: EdDSA", key: f.userPoolKey,
			token: unsigned(t, `{"alg":"EdDSA"}`, claims("https://"+f.userPoolKey, poolClient1, "user-1")), message: msgNotOIDC},
		{name: "user pool: ES512", key: f.userPoolKey,
			token: unsigned(t, `{"alg":"ES512"}`, claims("https://"+f.userPoolKey, poolClient1, "user-1")), subject: "user-1", clientID: poolClient1},
		{name: "user pool: PS384", key: f.userPoolKey,
			token: unsigned(t, `{"alg":"PS384"}`, claims("https://"+f.userPoolKey, poolClient1, "user-1")), subject: "user-1", clientID: poolClient1},
		{name: "user pool: unreadable header", key: f.userPoolKey,
			token: "%%%." + strings.SplitN(userPool(), ".", 2)[1], message: msgNotOIDC},
		{name: "user pool: not a JWT", key: f.userPoolKey, token: "opaque-token", message: msgNotOIDC},

		{name: "oidc: a configured client id", key: f.oidcKey, token: unsigned(t, rs, claims(f.oidcIss, oidcClient, "o-1")), subject: "o-1"},
		{name: "oidc: another client id", key: f.oidcKey, token: unsigned(t, rs, claims(f.oidcIss, "intruder", "o-1")), message: msgUnsupported},
		{name: "oidc: no aud", key: f.oidcKey, token: unsigned(t, rs, claims(f.oidcIss, "", "o-1")), message: msgMissingAud},
		{name: "oidc: without configured client ids any aud", key: f.brokenKey,
			token: unsigned(t, rs, claims("https://"+f.brokenKey, "anything", "o-2")), subject: "o-2"},

		{name: "google: the pool's app id", key: googleKey, token: unsigned(t, rs, claims(googleIss, googleApp, "g-1")), subject: "g-1"},
		{name: "google: iss without a scheme", key: googleKey, token: unsigned(t, rs, claims("accounts.google.com", googleApp, "g-1")), subject: "g-1"},
		{name: "google: another app", key: googleKey, token: unsigned(t, rs, claims(googleIss, "other.apps.googleusercontent.com", "g-1")),
			message: msgUnsupported},
		{name: "google: not a JWT", key: googleKey, token: "ya29.opaque", message: msgNotOIDC},
		{name: "apple: no exp", key: appleKey, token: unsigned(t, rs, with(claims(appleIss, "ignored.in.favour.of.client_ids", "a-1"), "exp", nil)),
			message: "Invalid login token. Missing a required claim: exp"},
		{name: "facebook: a JWT is checked like any other", key: facebookKey,
			token: unsigned(t, rs, claims("https://www.facebook.com", "fb-app-1", "f-1")), message: msgIssuer},
		{name: "facebook: an opaque access token stands for the user", key: facebookKey, token: "EAAGanything", subject: "EAAGanything"},
		{name: "saml: the assertion's NameID", key: f.samlARN, token: f.samlToken, subject: "alice@corp.example"},
		{name: "not a provider of the pool", key: "login.unknown.example", token: userPool(), message: msgUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), f.pool, tc.key, tc.token)
			if tc.message != "" {
				var ae *apierr.Error
				if !errors.As(err, &ae) || ae.Code != apierr.NotAuthorized || ae.Message != tc.message {
					t.Fatalf("err = %v, want NotAuthorizedException %q", err, tc.message)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got.Subject != tc.subject || got.ClientID != tc.clientID || got.Provider != tc.key {
				t.Errorf("login = %+v, want subject %q client %q", got, tc.subject, tc.clientID)
			}
			if got.Verified {
				t.Error("trust mode marked a login as verified")
			}
		})
	}
}
