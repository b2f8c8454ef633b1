// Package seal encrypts small secrets at rest and in tokens with AES-256-GCM
// under keys derived from the server secret.
//
// A Box holds one or more secrets: the first seals, every one opens, so the
// server secret can be rotated by putting the new one first and keeping the
// old one until nothing sealed with it remains. Each Box derives its keys
// for one purpose (HKDF info), so a value sealed for one use never opens
// for another.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MinSecretBytes is the shortest server secret accepted.
const MinSecretBytes = 32

// ErrOpen is returned when a sealed value does not open with any key: it
// was tampered with, sealed for another purpose, or under a secret this
// server does not hold.
var ErrOpen = errors.New("seal: cannot open sealed value")

// Box seals and opens values for one purpose.
type Box struct {
	aeads []cipher.AEAD
	rand  io.Reader
}

// New returns a Box for purpose from one or more secrets (the first one
// seals). rnd supplies nonces; nil means crypto/rand.
func New(secrets [][]byte, purpose string, rnd io.Reader) (*Box, error) {
	if len(secrets) == 0 {
		return nil, errors.New("seal: no secret")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	b := &Box{rand: rnd}
	for i, s := range secrets {
		if len(s) < MinSecretBytes {
			return nil, fmt.Errorf("seal: secret %d is %d bytes, want at least %d", i+1, len(s), MinSecretBytes)
		}
		key, err := hkdf.Key(sha256.New, s, nil, "idpool/"+purpose, 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		b.aeads = append(b.aeads, aead)
	}
	return b, nil
}

// Seal encrypts plaintext, binding it to aad (which Open must repeat).
func (b *Box) Seal(plaintext, aad []byte) ([]byte, error) {
	a := b.aeads[0]
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	if _, err := io.ReadFull(b.rand, out); err != nil {
		return nil, err
	}
	return a.Seal(out, out, plaintext, aad), nil
}

// Open decrypts what Seal produced with any of the Box's secrets.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	for _, a := range b.aeads {
		if len(sealed) < a.NonceSize()+a.Overhead() {
			return nil, ErrOpen
		}
		if pt, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], aad); err == nil {
			return pt, nil
		}
	}
	return nil, ErrOpen
}

// ParseSecrets reads server secrets written as base64 (standard or URL
// alphabet, padded or not), separated by commas or newlines.
func ParseSecrets(text string) ([][]byte, error) {
	var out [][]byte
	for _, field := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		field = strings.TrimSpace(field)
		if field == "" || strings.HasPrefix(field, "#") {
			continue
		}
		var (
			raw []byte
			err error
		)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if raw, err = enc.DecodeString(field); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("seal: secret %d is not base64", len(out)+1)
		}
		if len(raw) < MinSecretBytes {
			return nil, fmt.Errorf("seal: secret %d is %d bytes, want at least %d", len(out)+1, len(raw), MinSecretBytes)
		}
		out = append(out, raw)
	}
	if len(out) == 0 {
		return nil, errors.New("seal: no secret given")
	}
	return out, nil
}

// NewSecret returns a fresh random secret, base64-encoded.
func NewSecret() (string, error) {
	b := make([]byte, MinSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
