package federation_test

import (
	"context"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/federation"
)

// TestSubjectIsTheSubClaim: a JWT login's subject is its sub claim, so
// that two tokens of one user (issued at different times, so different
// strings) find one identity, and two users find two. Setting the subject
// to the whole token would give every fresh token a new identity. Checked
// in both modes: trust (no signature check) and strict.
func TestSubjectIsTheSubClaim(t *testing.T) {
	f := newFixture(t)
	trust := federation.Trust{Now: func() time.Time { return now }, Providers: map[string]federation.ProviderConfig{f.oidcKey: {ClientIDs: []string{oidcClient}}}}
	rs := `{"alg":"RS256","kid":"k"}`
	// Two tokens of user-1 that differ in iat and jti, one of user-2.
	first := func(iss, aud string) map[string]any { return with(claims(iss, aud, "user-1"), "jti", "a") }
	second := func(iss, aud string) map[string]any {
		return with(claims(iss, aud, "user-1"), "jti", "b", "iat", now.Add(-time.Minute).Unix())
	}
	other := func(iss, aud string) map[string]any { return claims(iss, aud, "user-2") }

	for _, tc := range []struct {
		name   string
		key    string
		verify func(key, token string) (*federation.Login, error)
		token  func(c map[string]any) string
		iss    string
		aud    string
	}{
		{"trust: user pool", f.userPoolKey, func(k, tok string) (*federation.Login, error) {
			return trust.Verify(context.Background(), f.pool, k, tok)
		},
			func(c map[string]any) string { return unsigned(t, rs, c) }, "https://" + f.userPoolKey, poolClient1},
		{"trust: OIDC", f.oidcKey, func(k, tok string) (*federation.Login, error) {
			return trust.Verify(context.Background(), f.pool, k, tok)
		},
			func(c map[string]any) string { return unsigned(t, rs, c) }, f.oidcIss, oidcClient},
		{"strict: user pool", f.userPoolKey, func(k, tok string) (*federation.Login, error) {
			return f.verifier.Verify(context.Background(), f.pool, k, tok)
		},
			func(c map[string]any) string { return f.rsa.sign(t, c) }, f.userPoolIss, poolClient1},
		{"strict: OIDC", f.oidcKey, func(k, tok string) (*federation.Login, error) {
			return f.verifier.Verify(context.Background(), f.pool, k, tok)
		},
			func(c map[string]any) string { return f.ec.sign(t, c) }, f.oidcIss, oidcClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t1, t2, t3 := tc.token(first(tc.iss, tc.aud)), tc.token(second(tc.iss, tc.aud)), tc.token(other(tc.iss, tc.aud))
			if t1 == t2 {
				t.Fatal("the two tokens of one user are the same string: the test proves nothing")
			}
			var subjects []string
			for _, tok := range []string{t1, t2, t3} {
				l, err := tc.verify(tc.key, tok)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				subjects = append(subjects, l.Subject)
			}
			if subjects[0] != "user-1" || subjects[1] != "user-1" || subjects[2] != "user-2" {
				t.Errorf("subjects of user-1, user-1 again, user-2: %q", subjects)
			}
		})
	}

	// An opaque access token (Facebook in trust mode) has no claims: the
	// token itself stands for the user, as AWS treats it.
	l, err := trust.Verify(context.Background(), f.pool, facebookKey, "EAAGopaque")
	if err != nil || l.Subject != "EAAGopaque" {
		t.Errorf("opaque token: %+v, %v", l, err)
	}
}
