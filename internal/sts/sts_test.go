package sts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	secretA = bytes.Repeat([]byte{3}, 32)
	secretB = bytes.Repeat([]byte{4}, 32)
	t0      = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
)

// seq is a deterministic source of bytes for keys and nonces.
type seq struct{ n byte }

func (s *seq) Read(p []byte) (int, error) {
	for i := range p {
		s.n++
		p[i] = s.n
	}
	return len(p), nil
}

func minter(t *testing.T, secrets ...[]byte) *Minter {
	t.Helper()
	m, err := NewMinter(secrets, &seq{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func session(now time.Time) Session {
	return Session{
		RoleARN: "arn:aws:iam::123456789012:role/app/Guest", SessionName: CognitoSessionName,
		IdentityID: "us-east-1:0a0a0a0a-1111-4222-8333-444444444444", PoolID: "us-east-1:0b0b0b0b-1111-4222-8333-444444444444",
		Account: "123456789012", PrincipalTags: map[string]string{"team": "web"},
		Issued: now, Expiration: now.Add(DefaultLifetime),
	}
}

func TestMintAndOpen(t *testing.T) {
	m := minter(t, secretA)
	c, err := m.Mint(session(t0))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(c.AccessKeyID) {
		t.Errorf("access key id %q", c.AccessKeyID)
	}
	if len(c.SecretAccessKey) != 40 || c.SessionToken == "" || !c.Expiration.Equal(t0.Add(DefaultLifetime)) {
		t.Errorf("credentials %+v", c)
	}
	if strings.Contains(c.SessionToken, c.SecretAccessKey) || strings.Contains(c.SessionToken, "Guest") {
		t.Error("the session token shows what it seals")
	}
	s, err := m.Open(c.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	want := session(t0)
	if s.AccessKeyID != c.AccessKeyID || s.SecretAccessKey != c.SecretAccessKey || s.RoleARN != want.RoleARN ||
		s.IdentityID != want.IdentityID || s.PoolID != want.PoolID || s.Account != want.Account ||
		s.PrincipalTags["team"] != "web" || !s.Expiration.Equal(want.Expiration) || !s.Issued.Equal(t0) {
		t.Errorf("opened session %+v", s)
	}
	if got := s.AssumedRoleARN(); got != "arn:aws:sts::123456789012:assumed-role/Guest/CognitoIdentityCredentials" {
		t.Errorf("AssumedRoleARN = %s", got)
	}
	// Two mints give two key pairs.
	c2, _ := m.Mint(session(t0))
	if c2.AccessKeyID == c.AccessKeyID || c2.SecretAccessKey == c.SecretAccessKey {
		t.Error("two mints gave the same keys")
	}
}

func TestOpenRefuses(t *testing.T) {
	m := minter(t, secretA)
	c, err := m.Mint(session(t0))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(c.SessionToken)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)/2] ^= 0x01
	for name, tok := range map[string]string{
		"empty":          "",
		"not base64":     "@@@@",
		"truncated":      base64.StdEncoding.EncodeToString(raw[:len(raw)-1]),
		"a bit flipped":  base64.StdEncoding.EncodeToString(flipped),
		"a byte removed": base64.StdEncoding.EncodeToString(append(bytes.Clone(raw[:12]), raw[13:]...)),
	} {
		if _, err := m.Open(tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Open = %v, want ErrInvalidToken", name, err)
		}
	}
	if _, err := minter(t, secretB).Open(c.SessionToken); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a server with another secret opened the token: %v", err)
	}
	// A secret rotation: the old secret still opens, second in line.
	if _, err := minter(t, secretB, secretA).Open(c.SessionToken); err != nil {
		t.Errorf("after a secret rotation: %v", err)
	}
}

func TestRoleHelpers(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:role/Guest":        "Guest",
		"arn:aws:iam::123456789012:role/path/to/Auth": "Auth",
		"not-an-arn": "not-an-arn",
	} {
		if got := RoleName(arn); got != want {
			t.Errorf("RoleName(%s) = %s, want %s", arn, got, want)
		}
	}
	if RoleAccount("arn:aws:iam::123456789012:role/Guest") != "123456789012" || RoleAccount("arn:aws:iam::role/Guest") != "" {
		t.Error("RoleAccount")
	}
	id := RoleID("arn:aws:iam::123456789012:role/Guest")
	if !regexp.MustCompile(`^AROA[A-Z2-7]{17}$`).MatchString(id) || id != RoleID("arn:aws:iam::123456789012:role/Guest") ||
		id == RoleID("arn:aws:iam::123456789012:role/Other") {
		t.Errorf("RoleID %s: not stable, unique and well formed", id)
	}
}

// callerIdentity signs GetCallerIdentity with creds at the clock's time,
// as an SDK does, and serves it.
func callerIdentity(t *testing.T, h *Handler, now time.Time, creds aws.Credentials) (int, string) {
	t.Helper()
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	r := httptest.NewRequest(http.MethodPost, "https://sts.example/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "sts", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	r.Body = io.NopCloser(strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// TestSessionExpiry: session credentials work until their expiration and
// are refused from that instant on, even correctly signed.
func TestSessionExpiry(t *testing.T) {
	now := t0
	m := minter(t, secretA)
	h := New(Options{Minter: m, Clock: func() time.Time { return now }})
	c, err := m.Mint(session(t0))
	if err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}

	now = c.Expiration.Add(-time.Second)
	code, body := callerIdentity(t, h, now, creds)
	if code != http.StatusOK || !strings.Contains(body, "<Arn>arn:aws:sts::123456789012:assumed-role/Guest/CognitoIdentityCredentials</Arn>") {
		t.Fatalf("a second before expiry: %d %s", code, body)
	}
	now = c.Expiration
	if code, body := callerIdentity(t, h, now, creds); code != http.StatusBadRequest || !strings.Contains(body, "<Code>ExpiredToken</Code>") {
		t.Errorf("at expiry: %d %s", code, body)
	}

	// Tampered and foreign tokens are refused as invalid.
	raw, _ := base64.StdEncoding.DecodeString(c.SessionToken)
	raw[len(raw)-1] ^= 0x01
	now = t0
	bad := creds
	bad.SessionToken = base64.StdEncoding.EncodeToString(raw)
	if code, body := callerIdentity(t, h, now, bad); code != http.StatusForbidden || !strings.Contains(body, "<Code>InvalidClientTokenId</Code>") {
		t.Errorf("tampered token: %d %s", code, body)
	}
	other, _ := minter(t, secretB).Mint(session(t0))
	bad.SessionToken = other.SessionToken
	if code, body := callerIdentity(t, h, now, bad); code != http.StatusForbidden || !strings.Contains(body, "<Code>InvalidClientTokenId</Code>") {
		t.Errorf("another server's token: %d %s", code, body)
	}
	// The token and secret of one session under another session's key id.
	c2, err := m.Mint(session(t0))
	if err != nil || c2.AccessKeyID == c.AccessKeyID {
		t.Fatalf("a second mint: %v, key id %s", err, c2.AccessKeyID)
	}
	swapped := creds
	swapped.AccessKeyID = c2.AccessKeyID
	if code, body := callerIdentity(t, h, now, swapped); code != http.StatusForbidden || !strings.Contains(body, "<Code>InvalidClientTokenId</Code>") {
		t.Errorf("another key id with the token: %d %s", code, body)
	}
	// The right token with the wrong secret.
	wrong := creds
	wrong.SecretAccessKey = c.SecretAccessKey[:39] + "x"
	if c.SecretAccessKey[39] == 'x' {
		wrong.SecretAccessKey = c.SecretAccessKey[:39] + "y"
	}
	if code, body := callerIdentity(t, h, now, wrong); code != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("wrong secret: %d %s", code, body)
	}
}
