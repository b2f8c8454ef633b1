package sts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/idpool/idpool/internal/seal"
)

// DefaultLifetime is how long credentials minted for an identity last,
// as AWS's web-identity credentials obtained through Cognito do.
const DefaultLifetime = time.Hour

// CognitoSessionName is the role session name of credentials that
// GetCredentialsForIdentity mints.
const CognitoSessionName = "CognitoIdentityCredentials"

// Session is everything temporary credentials stand for. It travels inside
// the session token, sealed with the server secret, so that any replica can
// check a request signed with the credentials without a database lookup.
type Session struct {
	AccessKeyID     string            `json:"ak"`
	SecretAccessKey string            `json:"sk"`
	RoleARN         string            `json:"role"`
	SessionName     string            `json:"name"`
	IdentityID      string            `json:"sub,omitempty"`
	PoolID          string            `json:"aud,omitempty"`
	Account         string            `json:"acct"`
	PrincipalTags   map[string]string `json:"tags,omitempty"`
	Issued          time.Time         `json:"iat"`
	Expiration      time.Time         `json:"exp"`
}

// Credentials are temporary AWS credentials as the APIs return them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// Minter mints temporary credentials and opens their session tokens.
type Minter struct {
	box  *seal.Box
	rand io.Reader
}

// sessionAAD binds sealed sessions to their use.
var sessionAAD = []byte("idpool session token v1")

// NewMinter returns a Minter sealing with the server secrets (the first
// one seals). rnd supplies keys and nonces; nil means crypto/rand.
func NewMinter(secrets [][]byte, rnd io.Reader) (*Minter, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	box, err := seal.New(secrets, "session-tokens", rnd)
	if err != nil {
		return nil, err
	}
	return &Minter{box: box, rand: rnd}, nil
}

var keyAlphabet = base32.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").WithPadding(base32.NoPadding)

// Mint creates credentials for the session: an access key id "ASIA" and 16
// characters, a 40-character secret, and the sealed session as the token.
func (m *Minter) Mint(s Session) (Credentials, error) {
	raw := make([]byte, 10+30)
	if _, err := io.ReadFull(m.rand, raw); err != nil {
		return Credentials{}, err
	}
	s.AccessKeyID = "ASIA" + keyAlphabet.EncodeToString(raw[:10])
	s.SecretAccessKey = base64.StdEncoding.EncodeToString(raw[10:])
	plain, err := json.Marshal(s)
	if err != nil {
		return Credentials{}, err
	}
	sealed, err := m.box.Seal(plain, sessionAAD)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{
		AccessKeyID:     s.AccessKeyID,
		SecretAccessKey: s.SecretAccessKey,
		SessionToken:    base64.StdEncoding.EncodeToString(sealed),
		Expiration:      s.Expiration,
	}, nil
}

// ErrInvalidToken means a session token was not minted by a server holding
// this secret, or was altered.
var ErrInvalidToken = errors.New("sts: invalid session token")

// ErrExpiredSession means a session token's credentials have expired.
var ErrExpiredSession = errors.New("sts: session expired")

// OpenFor returns the session of a request made with temporary
// credentials: the token must be one a server holding this secret minted,
// for the access key id the request was signed under, and unexpired at
// now. It is the one rule for both APIs (Cognito's strict mode and STS);
// each words the refusal its own way: ErrInvalidToken for a token that is
// not this key id's, ErrExpiredSession for one past its expiration. The
// caller then checks the signature with the session's secret.
func (m *Minter) OpenFor(token, accessKeyID string, now time.Time) (*Session, error) {
	s, err := m.Open(token)
	if err != nil || s.AccessKeyID != accessKeyID {
		return nil, ErrInvalidToken
	}
	if !now.Before(s.Expiration) {
		return nil, ErrExpiredSession
	}
	return s, nil
}

// Open returns the session a token stands for. It does not check expiry
// or the access key id (OpenFor does).
func (m *Minter) Open(token string) (*Session, error) {
	sealed, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, ErrInvalidToken
	}
	plain, err := m.box.Open(sealed, sessionAAD)
	if err != nil {
		return nil, ErrInvalidToken
	}
	var s Session
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, ErrInvalidToken
	}
	return &s, nil
}

// RoleName is the last path segment of a role ARN
// (arn:aws:iam::123456789012:role/path/Name -> Name).
func RoleName(roleARN string) string {
	_, res, _ := strings.Cut(roleARN, ":role/")
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		res = res[i+1:]
	}
	if res == "" {
		return roleARN
	}
	return res
}

// RoleAccount is the account of a role ARN, or "" if the ARN names none.
func RoleAccount(roleARN string) string {
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) == 6 && len(parts[4]) == 12 {
		return parts[4]
	}
	return ""
}

// RoleID is a stable unique id for a role, in the form IAM gives role ids
// ("AROA" and 17 characters).
func RoleID(roleARN string) string {
	sum := sha256.Sum256([]byte(roleARN))
	return "AROA" + keyAlphabet.EncodeToString(sum[:])[:17]
}

// AssumedRoleARN is the principal of a session:
// arn:aws:sts::<account>:assumed-role/<role name>/<session name>.
func (s *Session) AssumedRoleARN() string {
	return "arn:aws:sts::" + s.Account + ":assumed-role/" + RoleName(s.RoleARN) + "/" + s.SessionName
}
