package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/sts"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const (
	accountA  = "111111111111"
	accountB  = "222222222222"
	keyA      = "AKIAEXAMPLEAAAAAAAAA"
	secretA   = "secret-of-account-a-0123456789"
	keyB      = "AKIAEXAMPLEBBBBBBBBB"
	secretB   = "secret-of-account-b-0123456789"
	authRole  = "arn:aws:iam::111111111111:role/Cognito_Auth_Role"
	region    = "eu-west-1"
	signedOp  = "ListIdentityPools"
	publicOp  = "GetId"
	mismatch  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	invalidTk = "The security token included in the request is invalid."
)

var serverSecret = []byte("a server secret of at least 32 bytes, for tests")

func keys() auth.Keys {
	return auth.Keys{
		keyA: {AccessKeyID: keyA, SecretAccessKey: secretA, Account: accountA},
		keyB: {AccessKeyID: keyB, SecretAccessKey: secretB, Account: accountB},
	}
}

func newMinter(t *testing.T, secret []byte) *sts.Minter {
	t.Helper()
	m, err := sts.NewMinter([][]byte{secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func operations(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Load()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// request is a Cognito Identity call as a handler receives it.
type request struct {
	op      string
	body    string
	creds   *aws.Credentials // nil: unsigned
	service string           // "cognito-identity" if empty
	at      time.Time        // signing time; now if zero
	presign bool
	// edit changes the request after signing.
	edit func(r *http.Request)
	// sentBody replaces the body after signing.
	sentBody *string
}

func (q request) build(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	body := []byte(q.body)
	if q.body == "" {
		body = []byte(`{}`)
	}
	req, err := http.NewRequest(http.MethodPost, "http://cognito-identity."+region+".amazonaws.com/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+q.op)
	if q.creds != nil {
		service := q.service
		if service == "" {
			service = "cognito-identity"
		}
		at := q.at
		if at.IsZero() {
			at = now
		}
		sum := sha256.Sum256(body)
		signer := v4.NewSigner()
		if q.presign {
			u, hdr, err := signer.PresignHTTP(context.Background(), *q.creds, req, hex.EncodeToString(sum[:]), service, region, at)
			if err != nil {
				t.Fatal(err)
			}
			if req, err = http.NewRequest(http.MethodPost, u, bytes.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			req.Header = hdr
		} else if err := signer.SignHTTP(context.Background(), *q.creds, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
			t.Fatal(err)
		}
	}
	if q.sentBody != nil {
		body = []byte(*q.sentBody)
	}
	r := httptest.NewRequest(req.Method, req.URL.RequestURI(), bytes.NewReader(body))
	r.Header = req.Header.Clone()
	r.Header.Del("Host")
	r.Host = req.URL.Host
	if q.edit != nil {
		q.edit(r)
	}
	return r, body
}

func creds(key, secret, token string) *aws.Credentials {
	return &aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token}
}

func ptr[T any](v T) *T { return &v }

// mint returns credentials idpool minted for an identity of account A,
// expiring an hour after now.
func mint(t *testing.T, m *sts.Minter) sts.Credentials {
	t.Helper()
	c, err := m.Mint(sts.Session{RoleARN: authRole, SessionName: sts.CognitoSessionName, IdentityID: "eu-west-1:0c1d2e3f-0000-4000-8000-000000000001",
		PoolID: "eu-west-1:0c1d2e3f-0000-4000-8000-000000000000", Account: accountA, Issued: now, Expiration: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStrictAuthenticate(t *testing.T) {
	m := operations(t)
	minter := newMinter(t, serverSecret)
	session := mint(t, minter)
	other := mint(t, minter)
	foreign := mint(t, newMinter(t, []byte("another server's secret, also 32 bytes long")))

	cases := []struct {
		name    string
		req     request
		now     time.Time // the server's clock; now if zero
		noMint  bool      // a Strict without a Minter
		want    caller.Info
		code    apierr.Code
		message string
	}{
		{name: "long-term key of account A", req: request{op: signedOp, creds: creds(keyA, secretA, "")},
			want: caller.Info{AccessKeyID: keyA, Account: accountA, Region: region, Signed: true}},
		{name: "long-term key of account B", req: request{op: "CreateIdentityPool", creds: creds(keyB, secretB, "")},
			want: caller.Info{AccessKeyID: keyB, Account: accountB, Region: region, Signed: true}},
		{name: "presigned URL", req: request{op: signedOp, creds: creds(keyA, secretA, ""), presign: true},
			want: caller.Info{AccessKeyID: keyA, Account: accountA, Region: region, Signed: true}},
		{name: "signed 4m59s ago", req: request{op: signedOp, creds: creds(keyA, secretA, ""), at: now.Add(-sigv4MaxSkew + time.Second)},
			want: caller.Info{AccessKeyID: keyA, Account: accountA, Region: region, Signed: true}},

		{name: "unsigned", req: request{op: signedOp},
			code: apierr.MissingAuthenticationToken, message: "Missing Authentication Token"},
		{name: "unsigned with an empty Authorization", req: request{op: signedOp, edit: func(r *http.Request) { r.Header.Set("Authorization", "") }},
			code: apierr.MissingAuthenticationToken, message: "Missing Authentication Token"},
		{name: "wrong secret", req: request{op: signedOp, creds: creds(keyA, secretB, "")},
			code: apierr.InvalidSignature, message: mismatch},
		{name: "body changed after signing", req: request{op: signedOp, body: `{"MaxResults":10}`, creds: creds(keyA, secretA, ""), sentBody: ptr(`{"MaxResults":60}`)},
			code: apierr.InvalidSignature, message: mismatch},
		{name: "unknown access key", req: request{op: signedOp, creds: creds("AKIAUNKNOWNUNKNOWNXX", secretA, "")},
			code: apierr.UnrecognizedClient, message: invalidTk},
		{name: "another scheme", req: request{op: signedOp, edit: func(r *http.Request) {
			r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
		}}, code: apierr.IncompleteSignature, message: "Authorization header requires 'AWS4-HMAC-SHA256' algorithm."},
		{name: "Authorization without Signature", req: request{op: signedOp, creds: creds(keyA, secretA, ""), edit: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", h[:strings.Index(h, ", Signature=")])
		}}, code: apierr.IncompleteSignature,
			message: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEAAAAAAAAA/20261122/eu-west-1/cognito-identity/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target"},
		{name: "Authorization without SignedHeaders", req: request{op: signedOp, edit: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEAAAAAAAAA/20261122/eu-west-1/cognito-identity/aws4_request, Signature=00")
			r.Header.Set("X-Amz-Date", "20261122T120000Z")
		}}, code: apierr.IncompleteSignature,
			message: "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEAAAAAAAAA/20261122/eu-west-1/cognito-identity/aws4_request, Signature=00"},
		{name: "no X-Amz-Date", req: request{op: signedOp, edit: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEAAAAAAAAA/20261122/eu-west-1/cognito-identity/aws4_request, SignedHeaders=host, Signature=00")
		}}, code: apierr.IncompleteSignature,
			message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEAAAAAAAAA/20261122/eu-west-1/cognito-identity/aws4_request, SignedHeaders=host, Signature=00"},
		{name: "credential scoped to sts", req: request{op: signedOp, creds: creds(keyA, secretA, ""), service: "sts"},
			code: apierr.InvalidSignature, message: "Credential should be scoped to correct service: 'cognito-identity'. "},
		{name: "credential with a bad terminator", req: request{op: signedOp, creds: creds(keyA, secretA, ""), edit: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "aws4_request", "aws4_reqest", 1))
		}}, code: apierr.InvalidSignature, message: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'."},
		{name: "signed 5m01s ago", req: request{op: signedOp, creds: creds(keyA, secretA, ""), at: now.Add(-sigv4MaxSkew - time.Second)},
			code: apierr.InvalidSignature, message: "Signature expired: 20261122T115459Z is now earlier than 20261122T115500Z (20261122T120000Z - 5 min.)"},
		{name: "signed 5m01s ahead", req: request{op: signedOp, creds: creds(keyA, secretA, ""), at: now.Add(sigv4MaxSkew + time.Second)},
			code: apierr.InvalidSignature, message: "Signature not yet current: 20261122T120501Z is still later than 20261122T120500Z (20261122T120000Z + 5 min.)"},
		{name: "stale signature of an unknown key", req: request{op: signedOp, creds: creds("AKIAUNKNOWNUNKNOWNXX", secretA, ""), at: now.Add(-time.Hour)},
			code: apierr.InvalidSignature, message: "Signature expired: 20261122T110000Z is now earlier than 20261122T115500Z (20261122T120000Z - 5 min.)"},

		{name: "temporary key without session token", req: request{op: signedOp, creds: creds(session.AccessKeyID, session.SecretAccessKey, "")},
			code: apierr.UnrecognizedClient, message: invalidTk},
		{name: "long-term key with a session token", req: request{op: signedOp, creds: creds(keyA, secretA, session.SessionToken)},
			code: apierr.UnrecognizedClient, message: invalidTk},
		{name: "forged session token", req: request{op: signedOp, creds: creds(session.AccessKeyID, session.SecretAccessKey, "Zm9yZ2Vk")},
			code: apierr.UnrecognizedClient, message: invalidTk},
		{name: "session token of other credentials", req: request{op: signedOp, creds: creds(session.AccessKeyID, session.SecretAccessKey, other.SessionToken)},
			code: apierr.UnrecognizedClient, message: invalidTk},
		{name: "session token of another server", req: request{op: signedOp, creds: creds(foreign.AccessKeyID, foreign.SecretAccessKey, foreign.SessionToken)},
			code: apierr.UnrecognizedClient, message: invalidTk},
		{name: "session without a minter", noMint: true, req: request{op: signedOp, creds: creds(session.AccessKeyID, session.SecretAccessKey, session.SessionToken)},
			code: apierr.UnrecognizedClient, message: invalidTk},
		{name: "minted session, wrong secret", req: request{op: signedOp, creds: creds(session.AccessKeyID, secretA, session.SessionToken)},
			code: apierr.InvalidSignature, message: mismatch},
		{name: "minted session, expired", now: now.Add(time.Hour), req: request{op: signedOp, creds: creds(session.AccessKeyID, session.SecretAccessKey, session.SessionToken), at: now.Add(time.Hour)},
			code: apierr.ExpiredToken, message: "The security token included in the request is expired"},
		{name: "minted session, valid: denied", req: request{op: signedOp, creds: creds(session.AccessKeyID, session.SecretAccessKey, session.SessionToken)},
			code: apierr.AccessDenied, message: "User: arn:aws:sts::111111111111:assumed-role/Cognito_Auth_Role/CognitoIdentityCredentials is not authorized to perform: cognito-identity:ListIdentityPools on resource: arn:aws:cognito-identity:eu-west-1:111111111111:identitypool/"},
		{name: "minted session, presigned: denied", req: request{op: "DescribeIdentityPool", presign: true, creds: creds(session.AccessKeyID, session.SecretAccessKey, session.SessionToken)},
			code: apierr.AccessDenied, message: "User: arn:aws:sts::111111111111:assumed-role/Cognito_Auth_Role/CognitoIdentityCredentials is not authorized to perform: cognito-identity:DescribeIdentityPool on resource: arn:aws:cognito-identity:eu-west-1:111111111111:identitypool/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := now
			if !c.now.IsZero() {
				clock = c.now
			}
			s := auth.Strict{Keys: keys(), Minter: minter, Now: func() time.Time { return clock }}
			if c.noMint {
				s.Minter = nil
			}
			r, body := c.req.build(t)
			got, err := s.Authenticate(r, body, m.Operations[c.req.op])
			if c.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got != c.want {
					t.Errorf("caller = %+v, want %+v", got, c.want)
				}
				return
			}
			wantAPIError(t, err, c.code, c.message)
			if got != (caller.Info{}) {
				t.Errorf("a refused request has a caller: %+v", got)
			}
		})
	}
}

// sigv4MaxSkew is sigv4.MaxSkew, which this package's tests need only as a
// number.
const sigv4MaxSkew = 5 * time.Minute

func wantAPIError(t *testing.T, err error, code apierr.Code, message string) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("got %T %v, want %s %q", err, err, code, message)
	}
	if ae.Code != code || ae.Message != message {
		t.Errorf("got %s %q\nwant %s %q", ae.Code, ae.Message, code, message)
	}
}

// TestStrictPublicOperations: the four public operations are never
// refused for their signature, whatever it is, and the caller they give is
// not a signed one.
func TestStrictPublicOperations(t *testing.T) {
	m := operations(t)
	var public []string
	for name, op := range m.Operations {
		if !op.Signed {
			public = append(public, name)
		}
	}
	slices.Sort(public)
	if want := []string{"GetCredentialsForIdentity", "GetId", "GetOpenIdToken", "UnlinkIdentity"}; !slices.Equal(public, want) {
		t.Fatalf("unsigned operations %v, want %v", public, want)
	}
	minter := newMinter(t, serverSecret)
	session := mint(t, minter)
	s := auth.Strict{Keys: keys(), Minter: minter, Now: func() time.Time { return now }}
	scoped := caller.Info{AccessKeyID: keyA, Region: region}
	cases := []struct {
		name string
		req  request
		want caller.Info
	}{
		{name: "unsigned", req: request{}},
		{name: "signed with a configured key", req: request{creds: creds(keyA, secretA, "")}, want: scoped},
		{name: "signed with a wrong secret", req: request{creds: creds(keyA, "wrong secret", "")}, want: scoped},
		{name: "signed with an unknown key", req: request{creds: creds("AKIAUNKNOWNUNKNOWNXX", "x", "")},
			want: caller.Info{AccessKeyID: "AKIAUNKNOWNUNKNOWNXX", Region: region}},
		{name: "signed an hour ago", req: request{creds: creds(keyA, secretA, ""), at: now.Add(-time.Hour)}, want: scoped},
		{name: "signed for sts", req: request{creds: creds(keyA, secretA, ""), service: "sts"}, want: scoped},
		{name: "minted session", req: request{creds: creds(session.AccessKeyID, session.SecretAccessKey, session.SessionToken)},
			want: caller.Info{AccessKeyID: session.AccessKeyID, Region: region}},
		{name: "forged session", req: request{creds: creds(session.AccessKeyID, session.SecretAccessKey, "Zm9yZ2Vk")},
			want: caller.Info{AccessKeyID: session.AccessKeyID, Region: region}},
		{name: "mangled Authorization", req: request{edit: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage") }}},
		{name: "another scheme", req: request{edit: func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }}},
		{name: "body changed after signing", req: request{creds: creds(keyA, secretA, ""), sentBody: ptr(`{"IdentityPoolId":"x"}`)}, want: scoped},
	}
	for _, op := range public {
		for _, c := range cases {
			t.Run(op+"/"+c.name, func(t *testing.T) {
				c.req.op = op
				r, body := c.req.build(t)
				got, err := s.Authenticate(r, body, m.Operations[op])
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got != c.want {
					t.Errorf("caller = %+v, want %+v", got, c.want)
				}
			})
		}
	}
}

// TestStrictSignedOperations: every other operation needs a signature.
func TestStrictSignedOperations(t *testing.T) {
	m := operations(t)
	s := auth.Strict{Keys: keys(), Minter: newMinter(t, serverSecret), Now: func() time.Time { return now }}
	n := 0
	for name, op := range m.Operations {
		if !op.Signed {
			continue
		}
		n++
		r, body := request{op: name}.build(t)
		_, err := s.Authenticate(r, body, op)
		wantAPIError(t, err, apierr.MissingAuthenticationToken, "Missing Authentication Token")
		r, body = request{op: name, creds: creds(keyB, secretB, "")}.build(t)
		if got, err := s.Authenticate(r, body, op); err != nil || got.Account != accountB {
			t.Errorf("%s signed by account B: %+v, %v", name, got, err)
		}
	}
	if n != 19 {
		t.Errorf("%d signed operations, want 19", n)
	}
}

func TestParseKeys(t *testing.T) {
	a := auth.Key{AccessKeyID: "AKIAEXAMPLE1", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Account: accountA}
	b := auth.Key{AccessKeyID: "local_key-2", SecretAccessKey: "secret-b-12", Account: accountB}
	cases := []struct {
		name  string
		input string
		sep   string
		want  auth.Keys
		err   string
	}{
		{name: "file: one key", sep: "\n", input: "AKIAEXAMPLE1 wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY 111111111111\n",
			want: auth.Keys{a.AccessKeyID: a}},
		{name: "file: comments, blank lines, tabs, CRLF, no final newline", sep: "\n",
			input: "# strict mode keys\r\n\r\n  AKIAEXAMPLE1\twJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY   111111111111  \r\n   # another\nlocal_key-2 secret-b-12 222222222222",
			want:  auth.Keys{a.AccessKeyID: a, b.AccessKeyID: b}},
		{name: "file: colon-separated line", sep: "\n", input: "local_key-2:secret-b-12:222222222222\n",
			want: auth.Keys{b.AccessKeyID: b}},
		{name: "env: two keys", sep: ",", input: "AKIAEXAMPLE1:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY:111111111111,local_key-2:secret-b-12:222222222222",
			want: auth.Keys{a.AccessKeyID: a, b.AccessKeyID: b}},
		{name: "env: spaces and empty entries", sep: ",", input: " AKIAEXAMPLE1:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY:111111111111 ,, local_key-2:secret-b-12:222222222222 ,",
			want: auth.Keys{a.AccessKeyID: a, b.AccessKeyID: b}},
		{name: "env: space-separated entry", sep: ",", input: "local_key-2 secret-b-12 222222222222",
			want: auth.Keys{b.AccessKeyID: b}},
		{name: "shortest key id and secret", sep: ",", input: "abc:12345678:111111111111",
			want: auth.Keys{"abc": {AccessKeyID: "abc", SecretAccessKey: "12345678", Account: accountA}}},

		{name: "empty", sep: "\n", input: "", err: "no access keys given"},
		{name: "only comments", sep: "\n", input: "# none\n\n   \n", err: "no access keys given"},
		{name: "env: only commas", sep: ",", input: ",,", err: "no access keys given"},
		{name: "two fields", sep: "\n", input: "AKIAEXAMPLE1 secretsecret\n", err: "entry 1: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID"},
		{name: "four fields", sep: "\n", input: "AKIAEXAMPLE1 secretsecret 111111111111 extra\n", err: "entry 1: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID"},
		{name: "env: two colon fields", sep: ",", input: "AKIAEXAMPLE1:secretsecret", err: "entry 1: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID"},
		{name: "key id with a bad character", sep: "\n", input: "AKIA!EXAMPLE secretsecret 111111111111", err: `entry 1: access key id "AKIA!EXAMPLE" is not valid`},
		{name: "key id too short", sep: "\n", input: "AK secretsecret 111111111111", err: `entry 1: access key id "AK" is not valid`},
		{name: "key id too long", sep: "\n", input: strings.Repeat("K", 129) + " secretsecret 111111111111",
			err: `entry 1: access key id "` + strings.Repeat("K", 129) + `" is not valid`},
		{name: "temporary key id", sep: "\n", input: "ASIAEXAMPLE1 secretsecret 111111111111",
			err: `entry 1: access key id "ASIAEXAMPLE1": ASIA keys are temporary credentials idpool mints`},
		{name: "short secret", sep: "\n", input: "AKIAEXAMPLE1 1234567 111111111111", err: "entry 1: the secret of AKIAEXAMPLE1 is shorter than 8 characters"},
		{name: "account of 11 digits", sep: "\n", input: "AKIAEXAMPLE1 secretsecret 11111111111", err: `entry 1: account "11111111111" of AKIAEXAMPLE1 is not 12 digits`},
		{name: "account with letters", sep: "\n", input: "AKIAEXAMPLE1 secretsecret 11111111111a", err: `entry 1: account "11111111111a" of AKIAEXAMPLE1 is not 12 digits`},
		{name: "account of non-ASCII digits", sep: "\n", input: "AKIAEXAMPLE1 secretsecret ١١١١١١١١١١١١", err: `entry 1: account "١١١١١١١١١١١١" of AKIAEXAMPLE1 is not 12 digits`},
		{name: "listed twice", sep: "\n", input: "AKIAEXAMPLE1 secretsecret 111111111111\nAKIAEXAMPLE1 othersecret 222222222222",
			err: "entry 2: access key id AKIAEXAMPLE1 is listed twice"},
		{name: "every bad entry, numbered by line", sep: "\n",
			input: "# keys\nAKIAEXAMPLE1 secretsecret 111111111111\n\nASIAEXAMPLE2 secretsecret 111111111111\nAKIAEXAMPLE3 short 111111111111\nAKIAEXAMPLE1 secretsecret 111111111111\nbroken\n",
			err: "entry 4: access key id \"ASIAEXAMPLE2\": ASIA keys are temporary credentials idpool mints\n" +
				"entry 5: the secret of AKIAEXAMPLE3 is shorter than 8 characters\n" +
				"entry 6: access key id AKIAEXAMPLE1 is listed twice\n" +
				"entry 7: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID"},
		{name: "env: every bad entry, numbered by entry", sep: ",",
			input: "AKIAEXAMPLE1:secretsecret:111111111111,x:y:z,,AKIAEXAMPLE4:secretsecret:1",
			err:   "entry 2: access key id \"x\" is not valid\nentry 4: account \"1\" of AKIAEXAMPLE4 is not 12 digits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := auth.ParseKeys(strings.NewReader(c.input), c.sep)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error = %v\nwant %s", err, c.err)
				}
				if got != nil {
					t.Errorf("keys %v returned with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("keys = %v, want %v", got, c.want)
			}
			for id, k := range c.want {
				if got[id] != k {
					t.Errorf("key %s = %+v, want %+v", id, got[id], k)
				}
				secret, account, ok := got.Lookup(id)
				if !ok || secret != k.SecretAccessKey || account != k.Account {
					t.Errorf("Lookup(%s) = %q, %q, %v", id, secret, account, ok)
				}
			}
			if _, _, ok := got.Lookup("AKIANOTTHERE"); ok {
				t.Error("Lookup of an unknown key succeeded")
			}
		})
	}
}

func TestParseKeysReadError(t *testing.T) {
	broken := errors.New("disk on fire")
	_, err := auth.ParseKeys(iotest.ErrReader(broken), "\n")
	if !errors.Is(err, broken) {
		t.Errorf("error = %v, want one wrapping %v", err, broken)
	}
}
