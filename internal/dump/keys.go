package dump

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/idpool/idpool/internal/seal"
	"github.com/idpool/idpool/internal/store"
)

// keyPurpose is the purpose the token signer seals its keys for
// (internal/tokens' KeyRing); the key id is the additional data. The
// tests seal keys with a real KeyRing and open them here, so the two
// cannot drift apart unnoticed.
const keyPurpose = "signing-keys"

// ErrKeySecret means a signing key of the stream opens with none of the
// secrets it was checked with.
var ErrKeySecret = errors.New("dump: signing key does not open with the server secret")

// PrepareKeys readies a stream's signing keys for a store whose server
// secrets are secrets (the first one seals). Without old, every key must
// open with secrets, and is returned as it is. With old (the secrets of
// the server the stream came from), a key that opens with old is sealed
// again with secrets[0]; one that opens with secrets already is kept. A
// key that opens with neither, or does not hold an RSA private key, is an
// error naming it. rnd supplies the nonces of new seals; nil is
// crypto/rand.
func PrepareKeys(keys []*store.SigningKey, secrets, old [][]byte, rnd io.Reader) ([]*store.SigningKey, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if len(secrets) == 0 {
		return nil, errors.New("dump: no server secret to open the signing keys with")
	}
	box, err := seal.New(secrets, keyPurpose, rnd)
	if err != nil {
		return nil, err
	}
	var oldBox *seal.Box
	if len(old) > 0 {
		if oldBox, err = seal.New(old, keyPurpose, rnd); err != nil {
			return nil, err
		}
	}
	out := make([]*store.SigningKey, 0, len(keys))
	for _, k := range keys {
		aad := []byte(k.ID)
		der, err := box.Open(k.Sealed, aad)
		sealed := k.Sealed
		if err != nil && oldBox != nil {
			if der, err = oldBox.Open(k.Sealed, aad); err == nil {
				if sealed, err = box.Seal(der, aad); err != nil {
					return nil, err
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: key %s", ErrKeySecret, k.ID)
		}
		if err := checkRSA(der); err != nil {
			return nil, fmt.Errorf("dump: signing key %s: %w", k.ID, err)
		}
		c := *k
		c.Sealed = sealed
		out = append(out, &c)
	}
	return out, nil
}

// checkRSA checks that der is what the token signer can use.
func checkRSA(der []byte) error {
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return err
	}
	if _, ok := priv.(*rsa.PrivateKey); !ok {
		return errors.New("not an RSA key")
	}
	return nil
}

// sameKey reports whether two sealed keys with the same id hold the same
// private key (their seals differ by nonce even then).
func sameKey(box *seal.Box, a, b *store.SigningKey) (bool, error) {
	da, err := box.Open(a.Sealed, []byte(a.ID))
	if err != nil {
		return false, fmt.Errorf("%w: key %s", ErrKeySecret, a.ID)
	}
	db, err := box.Open(b.Sealed, []byte(b.ID))
	if err != nil {
		return false, fmt.Errorf("%w: key %s", ErrKeySecret, b.ID)
	}
	return bytes.Equal(da, db), nil
}
