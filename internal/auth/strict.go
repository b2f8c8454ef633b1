package auth

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/sigv4"
	"github.com/idpool/idpool/internal/sts"
)

// Key is a long-term access key that strict mode accepts.
type Key struct {
	AccessKeyID     string
	SecretAccessKey string
	Account         string
}

// Keys maps access key ids to keys.
type Keys map[string]Key

var (
	accessKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{3,128}$`)
	accountPattern   = regexp.MustCompile(`^\d{12}$`)
)

// ParseKeys reads keys written one per line (as --credentials-file holds
// them) as "ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID", or, when colons
// separate the fields, as IDPOOL_CREDENTIALS holds them:
// "AKID:SECRET:ACCOUNT,AKID2:SECRET2:ACCOUNT2". Blank lines and lines
// starting with # are ignored. Every bad entry is reported.
func ParseKeys(r io.Reader, sep string) (Keys, error) {
	keys := Keys{}
	var errs []error
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		for _, entry := range strings.Split(sc.Text(), sep) {
			n++
			entry = strings.TrimSpace(entry)
			if entry == "" || strings.HasPrefix(entry, "#") {
				continue
			}
			// Whitespace separates the fields of a file line (a secret may
			// hold ':'); colons those of IDPOOL_CREDENTIALS entries.
			fields := strings.Fields(entry)
			if len(fields) == 1 {
				fields = strings.Split(entry, ":")
			}
			if len(fields) != 3 {
				errs = append(errs, fmt.Errorf("entry %d: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID", n))
				continue
			}
			k := Key{AccessKeyID: fields[0], SecretAccessKey: fields[1], Account: fields[2]}
			switch {
			case !accessKeyPattern.MatchString(k.AccessKeyID):
				errs = append(errs, fmt.Errorf("entry %d: access key id %q is not valid", n, k.AccessKeyID))
			case strings.HasPrefix(k.AccessKeyID, "ASIA"):
				errs = append(errs, fmt.Errorf("entry %d: access key id %q: ASIA keys are temporary credentials idpool mints", n, k.AccessKeyID))
			case len(k.SecretAccessKey) < 8:
				errs = append(errs, fmt.Errorf("entry %d: the secret of %s is shorter than 8 characters", n, k.AccessKeyID))
			case !accountPattern.MatchString(k.Account):
				errs = append(errs, fmt.Errorf("entry %d: account %q of %s is not 12 digits", n, k.Account, k.AccessKeyID))
			case keys[k.AccessKeyID] != Key{}:
				errs = append(errs, fmt.Errorf("entry %d: access key id %s is listed twice", n, k.AccessKeyID))
			default:
				keys[k.AccessKeyID] = k
			}
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(keys) == 0 {
		return nil, errors.New("no access keys given")
	}
	return keys, nil
}

// Lookup is the sts.LongTermKeys view of the keys.
func (k Keys) Lookup(accessKeyID string) (secret, account string, ok bool) {
	key, ok := k[accessKeyID]
	return key.SecretAccessKey, key.Account, ok
}

// Strict verifies the SigV4 signature of every developer operation against
// the configured keys. The four public operations stay unsigned: their
// authority is the login tokens in the body, and a signature on them is
// neither required nor checked (older SDKs sign them).
type Strict struct {
	Keys   Keys
	Minter *sts.Minter // opens session tokens
	Now    func() time.Time
}

// AWS's texts for authentication failures (docs/strict-mode.md).
const (
	msgUnrecognized = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
)

// Authenticate implements awsjson.Authenticator.
func (s Strict) Authenticate(r *http.Request, body []byte, op *model.Operation) (caller.Info, error) {
	if !op.Signed {
		info := caller.Info{}
		if key, region, ok := CredentialScope(r); ok && sigv4.ValidRegion(region) {
			info.AccessKeyID, info.Region = key, region
		}
		return info, nil
	}
	a, err := sigv4.Parse(r)
	if err != nil {
		return caller.Info{}, cognitoSigError(err)
	}
	if err := a.CheckScope("cognito-identity"); err != nil {
		return caller.Info{}, cognitoSigError(err)
	}
	if !sigv4.ValidRegion(a.Region) {
		return caller.Info{}, apierr.New(apierr.IncompleteSignature, "Credential should be scoped to a valid region. ")
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if err := a.CheckTime(now); err != nil {
		return caller.Info{}, cognitoSigError(err)
	}
	if a.SecurityToken != "" || strings.HasPrefix(a.AccessKeyID, "ASIA") {
		return caller.Info{}, s.session(r, body, a, op, now)
	}
	key, ok := s.Keys[a.AccessKeyID]
	if !ok {
		return caller.Info{}, apierr.New(apierr.UnrecognizedClient, msgUnrecognized)
	}
	if err := a.Verify(r, body, key.SecretAccessKey); err != nil {
		return caller.Info{}, cognitoSigError(err)
	}
	return caller.Info{AccessKeyID: a.AccessKeyID, Account: key.Account, Region: a.Region, Signed: true}, nil
}

// session checks a request signed with temporary credentials idpool
// minted. They are end-user credentials of an identity pool role, and
// idpool evaluates no IAM policies, so even valid ones are denied the
// developer operations, as AWS denies them to roles without those
// permissions.
func (s Strict) session(r *http.Request, body []byte, a *sigv4.Auth, op *model.Operation, now time.Time) error {
	if a.SecurityToken == "" || s.Minter == nil {
		return apierr.New(apierr.UnrecognizedClient, msgUnrecognized)
	}
	sess, err := s.Minter.OpenFor(a.SecurityToken, a.AccessKeyID, now)
	switch {
	case errors.Is(err, sts.ErrExpiredSession):
		return apierr.New(apierr.ExpiredToken, msgExpiredToken)
	case err != nil:
		return apierr.New(apierr.UnrecognizedClient, msgUnrecognized)
	}
	if err := a.Verify(r, body, sess.SecretAccessKey); err != nil {
		return cognitoSigError(err)
	}
	return apierr.Errorf(apierr.AccessDenied, "User: %s is not authorized to perform: cognito-identity:%s on resource: %s",
		sess.AssumedRoleARN(), op.Name, resourceARN(body, a.Region, sess.Account))
}

// cognitoSigError maps a SigV4 failure to the Cognito Identity error.
func cognitoSigError(err error) error {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Kind {
	case sigv4.Missing:
		return apierr.New(apierr.MissingAuthenticationToken, "Missing Authentication Token")
	case sigv4.Incomplete:
		return apierr.New(apierr.IncompleteSignature, se.Message)
	default:
		return apierr.New(apierr.InvalidSignature, se.Message)
	}
}

// resourceARN is the resource an operation acts on, for AccessDenied
// texts: the pool the body names, else the account's pools.
func resourceARN(body []byte, region, account string) string {
	var in struct{ IdentityPoolId string }
	_ = json.Unmarshal(body, &in)
	return "arn:aws:cognito-identity:" + region + ":" + account + ":identitypool/" + in.IdentityPoolId
}
