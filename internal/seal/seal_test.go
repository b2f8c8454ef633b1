package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

var (
	secretA = bytes.Repeat([]byte{1}, MinSecretBytes)
	secretB = bytes.Repeat([]byte{2}, MinSecretBytes)
)

// counter is a deterministic nonce source: every byte read is the next
// value of a counter.
type counter struct{ n byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		c.n++
		p[i] = c.n
	}
	return len(p), nil
}

func box(t *testing.T, purpose string, secrets ...[]byte) *Box {
	t.Helper()
	b, err := New(secrets, purpose, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	b := box(t, "test", secretA)
	for _, n := range []int{0, 1, 31, 32, 1000} {
		pt := bytes.Repeat([]byte{'x'}, n)
		sealed, err := b.Seal(pt, []byte("aad"))
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && bytes.Contains(sealed, pt) {
			t.Errorf("%d bytes: the plaintext shows in the sealed value", n)
		}
		got, err := b.Open(sealed, []byte("aad"))
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("%d bytes: Open = %q, %v", n, got, err)
		}
	}
	// Two seals of one value differ (a fresh nonce each time).
	s1, _ := b.Seal([]byte("v"), nil)
	s2, _ := b.Seal([]byte("v"), nil)
	if bytes.Equal(s1, s2) {
		t.Error("sealing twice gave the same bytes")
	}
}

func TestRefusals(t *testing.T) {
	b := box(t, "test", secretA)
	sealed, err := b.Seal([]byte("the signing key"), []byte("key-1"))
	if err != nil {
		t.Fatal(err)
	}
	refuse := func(name string, bx *Box, v, aad []byte) {
		t.Helper()
		if got, err := bx.Open(v, aad); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open = %q, %v; want ErrOpen", name, got, err)
		}
	}
	refuse("another secret", box(t, "test", secretB), sealed, []byte("key-1"))
	refuse("another purpose", box(t, "other", secretA), sealed, []byte("key-1"))
	refuse("another aad", b, sealed, []byte("key-2"))
	refuse("no aad", b, sealed, nil)
	for n := range len(sealed) {
		refuse("truncated", b, sealed[:n], []byte("key-1"))
	}
	for i := range sealed {
		v := bytes.Clone(sealed)
		v[i] ^= 0x01
		refuse("a bit flipped", b, v, []byte("key-1"))
	}
	refuse("a byte appended", b, append(bytes.Clone(sealed), 0), []byte("key-1"))
}

// TestSecretRotation: the first secret seals, every secret opens.
func TestSecretRotation(t *testing.T) {
	old := box(t, "test", secretA)
	sealedOld, _ := old.Seal([]byte("v1"), nil)
	both := box(t, "test", secretB, secretA)
	if got, err := both.Open(sealedOld, nil); err != nil || string(got) != "v1" {
		t.Errorf("the old secret, second in line, does not open: %q %v", got, err)
	}
	sealedNew, _ := both.Seal([]byte("v2"), nil)
	if _, err := old.Open(sealedNew, nil); !errors.Is(err, ErrOpen) {
		t.Error("a value sealed after the rotation opens with the old secret alone: the first secret did not seal it")
	}
	if got, err := box(t, "test", secretB).Open(sealedNew, nil); err != nil || string(got) != "v2" {
		t.Errorf("the new secret alone: %q %v", got, err)
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New(nil, "p", nil); err == nil {
		t.Error("New without a secret")
	}
	if _, err := New([][]byte{secretA[:MinSecretBytes-1]}, "p", nil); err == nil {
		t.Error("New with a short secret")
	}
}

func TestParseSecrets(t *testing.T) {
	a, b := base64.StdEncoding.EncodeToString(secretA), base64.RawURLEncoding.EncodeToString(secretB)
	got, err := ParseSecrets("# comment\n" + a + "\r\n, " + b + "\n")
	if err != nil || len(got) != 2 || !bytes.Equal(got[0], secretA) || !bytes.Equal(got[1], secretB) {
		t.Fatalf("ParseSecrets = %v, %v", got, err)
	}
	for _, bad := range []string{"", "\n\n", "not base64!", base64.StdEncoding.EncodeToString(secretA[:16])} {
		if _, err := ParseSecrets(bad); err == nil {
			t.Errorf("ParseSecrets(%q) accepted", bad)
		}
	}
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseSecrets(s); err != nil || len(got[0]) != MinSecretBytes {
		t.Errorf("NewSecret %q does not parse: %v", s, err)
	}
	if strings.TrimSpace(s) != s {
		t.Errorf("NewSecret has spaces: %q", s)
	}
}
