package tokens

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
	"github.com/idpool/idpool/internal/testclock"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const issuerURL = "https://issuer.example"

var secret = bytes.Repeat([]byte{7}, 32)

// newRing loads a key ring over st (a new memory store when nil).
func newRing(t *testing.T, st store.Store, c *testclock.Clock) *KeyRing {
	t.Helper()
	if st == nil {
		st = memory.New()
		t.Cleanup(func() { st.Close() })
	}
	r, err := NewKeyRing(KeyRingOptions{Store: st, Secrets: [][]byte{secret}, Clock: c.Now, KIDPrefix: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func claimsAt(now time.Time, life time.Duration) Claims {
	return Claims{
		Subject: "us-east-1:0a0a0a0a-1111-4222-8333-444444444444", Audience: "us-east-1:0b0b0b0b-1111-4222-8333-444444444444",
		AMR: []string{"authenticated", "login.example"}, PoolARN: "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/us-east-1:0b0b0b0b-1111-4222-8333-444444444444",
		PrincipalTags: map[string]string{"team": "web"}, IssuedAt: now, Expiry: now.Add(life),
	}
}

func sign(t *testing.T, iss *Issuer, c Claims) string {
	t.Helper()
	tok, err := iss.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	hb, err := b64.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// forge signs header and payload (raw JSON) with k, as RS512 does, but
// with whatever header the test wants.
func forge(t *testing.T, k *key, headerJSON, payloadJSON string, hash crypto.Hash) string {
	t.Helper()
	input := b64.EncodeToString([]byte(headerJSON)) + "." + b64.EncodeToString([]byte(payloadJSON))
	var digest []byte
	switch hash {
	case crypto.SHA512:
		d := sha512.Sum512([]byte(input))
		digest = d[:]
	case crypto.SHA256:
		d := sha256.Sum256([]byte(input))
		digest = d[:]
	}
	sig, err := rsa.SignPKCS1v15(nil, k.priv, hash, digest)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

func mustVerify(t *testing.T, iss *Issuer, token, when string) *Claims {
	t.Helper()
	c, err := iss.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("%s: Verify: %v", when, err)
	}
	return c
}

func mustRefuse(t *testing.T, iss *Issuer, token, when, why string) {
	t.Helper()
	_, err := iss.Verify(context.Background(), token)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("%s: Verify = %v, want ErrInvalid", when, err)
	}
	if !strings.Contains(err.Error(), why) {
		t.Errorf("%s: refused for %q, want a reason containing %q", when, err, why)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	c := testclock.New(t0, 0)
	iss := NewIssuer(issuerURL+"/", newRing(t, nil, c), c.Now)
	if iss.URL() != issuerURL {
		t.Errorf("URL() = %q: the trailing slash stays", iss.URL())
	}
	want := claimsAt(t0, 15*time.Minute)
	got := mustVerify(t, iss, sign(t, iss, want), "a fresh token")
	want.Issuer = issuerURL
	if got.Subject != want.Subject || got.Audience != want.Audience || !slices.Equal(got.AMR, want.AMR) ||
		got.PoolARN != want.PoolARN || got.Issuer != want.Issuer || got.PrincipalTags["team"] != "web" ||
		!got.IssuedAt.Equal(want.IssuedAt) || !got.Expiry.Equal(want.Expiry) {
		t.Errorf("claims after a round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestVerifyRefuses(t *testing.T) {
	c := testclock.New(t0, 0)
	ring := newRing(t, nil, c)
	iss := NewIssuer(issuerURL, ring, c.Now)
	k := ring.signer(t0)
	good := sign(t, iss, claimsAt(t0, time.Hour))
	parts := strings.Split(good, ".")
	payload, _ := b64.DecodeString(parts[1])
	hdr := `{"kid":"` + k.id + `","typ":"JWS","alg":"RS512"}`

	// Another issuer's token, signed with the very same key: only the iss
	// claim tells them apart.
	other := NewIssuer("https://other.example", ring, c.Now)
	mustRefuse(t, iss, sign(t, other, claimsAt(t0, time.Hour)), "another issuer", "issuer")

	for _, tc := range []struct{ name, token, why string }{
		{"empty", "", "not a compact JWS"},
		{"two parts", parts[0] + "." + parts[1], "not a compact JWS"},
		{"four parts", good + ".x", "not a compact JWS"},
		{"header not base64", "!!." + parts[1] + "." + parts[2], "header"},
		{"header not JSON", b64.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2], "header"},
		{"alg none", b64.EncodeToString([]byte(`{"kid":"`+k.id+`","typ":"JWS","alg":"none"}`)) + "." + parts[1] + ".", "algorithm"},
		// Signed for real with the ring's key, under another algorithm's
		// name: refused for the name alone.
		{"alg RS256", forge(t, k, `{"kid":"`+k.id+`","typ":"JWS","alg":"RS256"}`, string(payload), crypto.SHA256), "algorithm"},
		{"alg RS256 over an RS512 signature", forge(t, k, `{"kid":"`+k.id+`","typ":"JWS","alg":"RS256"}`, string(payload), crypto.SHA512), "algorithm"},
		{"unknown kid", forge(t, k, `{"kid":"us-east-199","typ":"JWS","alg":"RS512"}`, string(payload), crypto.SHA512), "unknown key"},
		{"tampered payload", parts[0] + "." + b64.EncodeToString(bytes.Replace(payload, []byte(`"web"`), []byte(`"ops"`), 1)) + "." + parts[2], "signature"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flipFirst(parts[2]), "signature"},
		{"signature not base64", parts[0] + "." + parts[1] + ".!!", "signature"},
		{"payload not JSON", forge(t, k, hdr, "not json", crypto.SHA512), "payload"},
	} {
		t.Run(tc.name, func(t *testing.T) { mustRefuse(t, iss, tc.token, tc.name, tc.why) })
	}
	// The forged RS512 token with the real header and payload is the
	// control: forge itself makes valid tokens.
	mustVerify(t, iss, forge(t, k, hdr, string(payload), crypto.SHA512), "a token forged with the right header")
}

// flipFirst changes the first character of a base64url text to another
// character of the alphabet: the decoded bytes always differ.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestExpiry(t *testing.T) {
	c := testclock.New(t0, 0)
	iss := NewIssuer(issuerURL, newRing(t, nil, c), c.Now)
	tok := sign(t, iss, claimsAt(t0, 15*time.Minute))
	// AWS's consumers allow five minutes of clock skew past exp.
	c.Set(t0.Add(15*time.Minute + ClockSkew - time.Second))
	mustVerify(t, iss, tok, "a second before the end of the grace")
	c.Set(t0.Add(15*time.Minute + ClockSkew))
	mustRefuse(t, iss, tok, "at the end of the grace", "expired")
	c.Set(t0.Add(48 * time.Hour))
	mustRefuse(t, iss, tok, "two days later", "expired")
}

func jwksKids(t *testing.T, r *KeyRing) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.D != "" {
			t.Errorf("the JWKS carries the private part of %s", k.Kid)
		}
		kids = append(kids, k.Kid)
	}
	return kids
}

func states(r *KeyRing, now time.Time) map[string]string {
	out := map[string]string{}
	for _, k := range r.Keys(now) {
		out[k.ID] = k.State
	}
	return out
}

// TestRotation follows one rotation through its life: the new key is
// published first and signs only after Propagation; the old key stops
// signing then, stays in the JWKS and keeps verifying its tokens for
// MaxTokenLifetime, and is dropped after that, then deleted at the next
// rotation.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	c := testclock.New(t0, 0)
	ring := newRing(t, nil, c)
	iss := NewIssuer(issuerURL, ring, c.Now)
	const key1, key2 = "us-east-11", "us-east-12"
	if got := jwksKids(t, ring); !slices.Equal(got, []string{key1}) {
		t.Fatalf("first JWKS: %v", got)
	}

	rotatedAt := t0.Add(time.Hour)
	c.Set(rotatedAt)
	newID, err := ring.Rotate(ctx)
	if err != nil || newID != key2 {
		t.Fatalf("Rotate = %q, %v", newID, err)
	}
	// Published first...
	if got := jwksKids(t, ring); !slices.Equal(got, []string{key1, key2}) {
		t.Errorf("JWKS right after the rotation: %v", got)
	}
	if got := states(ring, c.Now()); got[key1] != "signing" || got[key2] != "published" {
		t.Errorf("states right after the rotation: %v", got)
	}
	// ...and signing later.
	c.Set(rotatedAt.Add(Propagation - time.Second))
	old := claimsAt(c.Now(), 24*time.Hour) // the longest lifetime a token has
	lastOld := sign(t, iss, old)
	if kid := kidOf(t, lastOld); kid != key1 {
		t.Errorf("a second before Propagation the token is signed by %s, want %s", kid, key1)
	}
	if id, _, _ := ring.SigningKey(c.Now()); id != key1 {
		t.Errorf("SigningKey a second before Propagation: %s", id)
	}
	// A token the old key signed with no practical expiry, to see exactly
	// when the key stops verifying.
	forever := sign(t, iss, claimsAt(c.Now(), 10*365*24*time.Hour))

	c.Set(rotatedAt.Add(Propagation))
	if kid := kidOf(t, sign(t, iss, claimsAt(c.Now(), time.Hour))); kid != key2 {
		t.Errorf("after Propagation the token is signed by %s, want %s", kid, key2)
	}
	if got := states(ring, c.Now()); got[key1] != "published" || got[key2] != "signing" {
		t.Errorf("states after Propagation: %v", got)
	}
	retiredAt := rotatedAt.Add(Propagation)

	// The retired key keeps verifying what it signed, until the last of
	// those tokens expires.
	c.Set(old.Expiry.Add(-time.Second))
	if err := ring.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, iss, lastOld, "the old key's last day-long token, a second before it expires")
	if got := jwksKids(t, ring); !slices.Contains(got, key1) {
		t.Errorf("the retired key left the JWKS before its tokens expired: %v", got)
	}

	dropAt := retiredAt.Add(MaxTokenLifetime)
	c.Set(dropAt)
	if err := ring.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, iss, forever, "at the end of MaxTokenLifetime after retirement")
	if got := jwksKids(t, ring); !slices.Equal(got, []string{key1, key2}) {
		t.Errorf("JWKS at the end of MaxTokenLifetime: %v", got)
	}

	c.Set(dropAt.Add(time.Second))
	if err := ring.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, iss, forever, "after MaxTokenLifetime", "unknown key")
	if got := jwksKids(t, ring); !slices.Equal(got, []string{key2}) {
		t.Errorf("JWKS after MaxTokenLifetime: %v", got)
	}
	if got := states(ring, c.Now()); got[key1] != "dropped" || got[key2] != "signing" {
		t.Errorf("states after MaxTokenLifetime: %v", got)
	}

	// The next rotation deletes what no token can need.
	if _, err := ring.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ring.KeyIDs(); !slices.Equal(got, []string{key2, "us-east-13"}) {
		t.Errorf("keys after the second rotation: %v", got)
	}
}

// TestRotationRightAfterStart: a rotation before the first key has been
// published for Propagation leaves the first key signing until the new
// one may.
func TestRotationRightAfterStart(t *testing.T) {
	c := testclock.New(t0, 0)
	ring := newRing(t, nil, c)
	if _, err := ring.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !ring.CanSign(t0) {
		t.Fatal("no key may sign right after a rotation")
	}
	if id, _, _ := ring.SigningKey(t0); id != "us-east-11" {
		t.Errorf("signing right after the rotation: %s", id)
	}
}

// TestRefreshOnUnknownKid: two replicas share a store; one rotates, and
// the other verifies a token of the new key before its periodic refresh,
// by reloading when it meets an unknown kid.
func TestRefreshOnUnknownKid(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	c := testclock.New(t0, 0)
	a, b := newRing(t, st, c), newRing(t, st, c)
	issA, issB := NewIssuer(issuerURL, a, c.Now), NewIssuer(issuerURL, b, c.Now)
	if !slices.Equal(a.KeyIDs(), b.KeyIDs()) {
		t.Fatalf("two replicas loaded different keys: %v and %v", a.KeyIDs(), b.KeyIDs())
	}
	mustVerify(t, issB, sign(t, issA, claimsAt(t0, time.Hour)), "the shared first key")

	c.Advance(time.Minute)
	if _, err := a.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	c.Advance(Propagation)
	tok := sign(t, issA, claimsAt(c.Now(), time.Hour))
	if kid := kidOf(t, tok); kid != "us-east-12" {
		t.Fatalf("replica A signs with %s", kid)
	}
	if slices.Contains(b.KeyIDs(), "us-east-12") {
		t.Fatal("replica B knows the new key already: the test proves nothing")
	}
	mustVerify(t, issB, tok, "replica B, the new key unknown to it")
	if !slices.Contains(b.KeyIDs(), "us-east-12") {
		t.Error("replica B did not load the new key")
	}
	// A kid nobody has is still refused after the reload.
	c.Advance(2 * time.Second)
	mustRefuse(t, issB, forge(t, a.signer(c.Now()), `{"kid":"us-east-19","typ":"JWS","alg":"RS512"}`, `{"iss":"`+issuerURL+`"}`, crypto.SHA512), "a kid nobody has", "unknown key")
}

// TestKeysSurviveARestart: the keys are sealed in the store; a new ring
// over it (a restart) verifies the old tokens, and a ring with another
// secret refuses to load them.
func TestKeysSurviveARestart(t *testing.T) {
	st := memory.New()
	defer st.Close()
	c := testclock.New(t0, 0)
	tok := sign(t, NewIssuer(issuerURL, newRing(t, st, c), c.Now), claimsAt(t0, time.Hour))
	mustVerify(t, NewIssuer(issuerURL, newRing(t, st, c), c.Now), tok, "after a restart")

	other, err := NewKeyRing(KeyRingOptions{Store: st, Secrets: [][]byte{bytes.Repeat([]byte{8}, 32)}, Clock: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Load(context.Background()); err == nil {
		t.Error("a ring with another secret loaded the sealed keys")
	}
}

// TestQuickRotationsKeepNeededKeys: rotating again while a retired key's
// tokens are still valid must not delete that key.
func TestQuickRotationsKeepNeededKeys(t *testing.T) {
	ctx := context.Background()
	c := testclock.New(t0, 0)
	ring := newRing(t, nil, c)
	iss := NewIssuer(issuerURL, ring, c.Now)
	tok := sign(t, iss, claimsAt(t0, 24*time.Hour)) // signed by key 1
	if _, err := ring.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	c.Advance(Propagation + time.Hour) // key 1 retired an hour ago
	if _, err := ring.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ring.KeyIDs(); !slices.Equal(got, []string{"us-east-11", "us-east-12", "us-east-13"}) {
		t.Errorf("keys after two quick rotations: %v", got)
	}
	mustVerify(t, iss, tok, "key 1's token after two rotations")
}
