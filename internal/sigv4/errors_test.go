package sigv4_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/sigv4"
)

// TestRefusals pins the kind and text of every way Parse, CheckScope and
// CheckTime refuse a request.
func TestRefusals(t *testing.T) {
	const (
		cred  = "Credential=AKIDEXAMPLE/20261122/us-east-1/cognito-identity/aws4_request"
		rest  = "SignedHeaders=host;x-amz-date, Signature=" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		valid = "AWS4-HMAC-SHA256 " + cred + ", " + rest
		date  = "20261122T120000Z"
	)
	cases := []struct {
		name    string
		authz   string // Authorization header
		amzDate string // X-Amz-Date header
		query   string
		now     time.Time
		kind    sigv4.Kind
		message string
	}{
		{name: "no signature", kind: sigv4.Missing, message: "Missing Authentication Token"},
		{name: "query without SigV4 parameters", query: "Action=GetCallerIdentity", kind: sigv4.Missing, message: "Missing Authentication Token"},
		{name: "another scheme", authz: "Bearer abc", amzDate: date, kind: sigv4.Incomplete,
			message: "Authorization header requires 'AWS4-HMAC-SHA256' algorithm."},
		{name: "SigV2", authz: "AWS AKIDEXAMPLE:c2lnbmF0dXJl", amzDate: date, kind: sigv4.Incomplete,
			message: "Authorization header requires 'AWS4-HMAC-SHA256' algorithm."},
		{name: "algorithm alone", authz: "AWS4-HMAC-SHA256", amzDate: date, kind: sigv4.Incomplete,
			message: "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256"},
		{name: "no Credential", authz: "AWS4-HMAC-SHA256 " + rest, amzDate: date, kind: sigv4.Incomplete,
			message: "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 " + rest},
		{name: "no Signature", authz: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host", amzDate: date, kind: sigv4.Incomplete,
			message: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host"},
		{name: "no SignedHeaders", authz: "AWS4-HMAC-SHA256 " + cred + ", Signature=abc", amzDate: date, kind: sigv4.Incomplete,
			message: "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 " + cred + ", Signature=abc"},
		{name: "empty Signature", authz: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=", amzDate: date, kind: sigv4.Incomplete,
			message: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature="},
		{name: "credential of four parts", authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/aws4_request, " + rest, amzDate: date,
			kind: sigv4.Incomplete, message: "Credential should be scoped to a valid region. "},
		{name: "credential without key", authz: "AWS4-HMAC-SHA256 Credential=/20261122/us-east-1/cognito-identity/aws4_request, " + rest, amzDate: date,
			kind: sigv4.Incomplete, message: "Credential should be scoped to a valid region. "},
		{name: "credential without region", authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122//cognito-identity/aws4_request, " + rest, amzDate: date,
			kind: sigv4.Incomplete, message: "Credential should be scoped to a valid region. "},
		{name: "credential with a bad date", authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-22/us-east-1/cognito-identity/aws4_request, " + rest, amzDate: date,
			kind: sigv4.Incomplete, message: "Credential should be scoped to a valid date. "},
		{name: "credential with a bad terminator", authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/cognito-identity/aws5_request, " + rest, amzDate: date,
			kind: sigv4.Scope, message: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{name: "no request time", authz: valid, kind: sigv4.Incomplete,
			message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + valid},
		{name: "X-Amz-Date not ISO 8601 basic", authz: valid, amzDate: "2026-11-22T12:00:00Z", kind: sigv4.Incomplete,
			message: "Date must be in ISO-8601 'basic format'. Got '2026-11-22T12:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "another service", authz: strings.Replace(valid, "cognito-identity", "sts", 1), amzDate: date, kind: sigv4.Scope,
			message: "Credential should be scoped to correct service: 'cognito-identity'. "},
		{name: "scope of another day", authz: strings.Replace(valid, "20261122", "20261121", 1), amzDate: date, kind: sigv4.Scope,
			message: "Credential should be scoped to a valid date. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261121' != '20261122', from '20261122T120000Z'."},
		{name: "host not signed", authz: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, Signature=ab", amzDate: date, kind: sigv4.Incomplete,
			message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "host signed in upper case", authz: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, Signature=ab", amzDate: date, kind: sigv4.Incomplete,
			message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "five minutes late", authz: valid, amzDate: date, now: now.Add(sigv4.MaxSkew), kind: sigv4.Mismatch, message: mismatchText},
		{name: "expired", authz: valid, amzDate: date, now: now.Add(sigv4.MaxSkew + time.Second), kind: sigv4.Expired,
			message: "Signature expired: 20261122T120000Z is now earlier than 20261122T120001Z (20261122T120501Z - 5 min.)"},
		{name: "not yet current", authz: valid, amzDate: date, now: now.Add(-sigv4.MaxSkew - time.Second), kind: sigv4.Expired,
			message: "Signature not yet current: 20261122T120000Z is still later than 20261122T115959Z (20261122T115459Z + 5 min.)"},

		{name: "presigned without signature", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261122%2Fus-east-1%2Fcognito-identity%2Faws4_request&X-Amz-Date=20261122T120000Z&X-Amz-SignedHeaders=host",
			kind: sigv4.Incomplete, message: "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters."},
		{name: "presigned without algorithm", query: "X-Amz-Signature=ab",
			kind: sigv4.Incomplete, message: "AWS query-string parameters must include 'X-Amz-Algorithm'. Re-examine the query-string parameters."},
		{name: "presigned without credential", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab",
			kind: sigv4.Incomplete, message: "AWS query-string parameters must include 'X-Amz-Credential'. Re-examine the query-string parameters."},
		{name: "presigned without date", query: presigned("X-Amz-Date", ""),
			kind: sigv4.Incomplete, message: "AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."},
		{name: "presigned without signed headers", query: presigned("X-Amz-SignedHeaders", ""),
			kind: sigv4.Incomplete, message: "AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
		{name: "presigned with another algorithm", query: presigned("X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
			kind: sigv4.Incomplete, message: "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'"},
		{name: "presigned with a bad date", query: presigned("X-Amz-Date", "20261122"),
			kind: sigv4.Incomplete, message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""},
		{name: "presigned expiring after 0 s", query: presigned("X-Amz-Expires", "0"),
			kind: sigv4.Incomplete, message: "X-Amz-Expires must be between 1 and 604800 seconds"},
		{name: "presigned expiring after 7 days and 1 s", query: presigned("X-Amz-Expires", "604801"),
			kind: sigv4.Incomplete, message: "X-Amz-Expires must be between 1 and 604800 seconds"},
		{name: "presigned expiring after a word", query: presigned("X-Amz-Expires", "soon"),
			kind: sigv4.Incomplete, message: "X-Amz-Expires must be between 1 and 604800 seconds"},
		{name: "presigned for another service", query: strings.Replace(presigned("", ""), "cognito-identity", "sts", 1),
			kind: sigv4.Scope, message: "Credential should be scoped to correct service: 'cognito-identity'. "},
		{name: "presigned, not yet current", query: presigned("", ""), now: now.Add(-sigv4.MaxSkew - time.Second), kind: sigv4.Expired,
			message: "Signature not yet current: 20261122T120000Z is still later than 20261122T115959Z (20261122T115459Z + 5 min.)"},
		{name: "presigned, the last second", query: presigned("", ""), now: now.Add(60 * time.Second), kind: sigv4.Mismatch, message: mismatchText},
		{name: "presigned, without X-Amz-Expires: five minutes", query: presigned("X-Amz-Expires", ""), now: now.Add(sigv4.MaxSkew), kind: sigv4.Mismatch, message: mismatchText},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/?"+c.query, nil)
			if c.query == "" {
				r = httptest.NewRequest(http.MethodPost, "/", nil)
			}
			r.Host = "cognito-identity.us-east-1.amazonaws.com"
			if c.authz != "" {
				r.Header.Set("Authorization", c.authz)
			}
			if c.amzDate != "" {
				r.Header.Set("X-Amz-Date", c.amzDate)
			}
			at := now
			if !c.now.IsZero() {
				at = c.now
			}
			_, err := check(r, nil, "secret", "cognito-identity", at)
			wantErr(t, err, c.kind, c.message)
		})
	}
}

// presigned is the query of a presigned request (with a made-up
// signature, expiring after 60 s) with the parameter name set to value, or
// left out when value is empty.
func presigned(name, value string) string {
	params := [][2]string{
		{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
		{"X-Amz-Credential", "AKIDEXAMPLE%2F20261122%2Fus-east-1%2Fcognito-identity%2Faws4_request"},
		{"X-Amz-Date", "20261122T120000Z"},
		{"X-Amz-Expires", "60"},
		{"X-Amz-SignedHeaders", "host"},
		{"X-Amz-Signature", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	}
	var parts []string
	for _, p := range params {
		switch {
		case p[0] != name:
			parts = append(parts, p[0]+"="+p[1])
		case value != "":
			parts = append(parts, p[0]+"="+value)
		}
	}
	return strings.Join(parts, "&")
}

// TestPresignedExpiry checks X-Amz-Expires on AWS's own presigned example:
// valid until X-Amz-Date + X-Amz-Expires, refused one second later.
func TestPresignedExpiry(t *testing.T) {
	v := suiteVectors[len(suiteVectors)-1]
	r := v.request()
	for _, c := range []struct {
		name string
		at   time.Time
		kind sigv4.Kind
	}{
		{name: "signed", at: v.at},
		{name: "the last second", at: v.at.Add(24 * time.Hour)},
		{name: "one second after", at: v.at.Add(24*time.Hour + time.Second), kind: sigv4.Expired},
		{name: "five minutes before", at: v.at.Add(-sigv4.MaxSkew)},
		{name: "five minutes and a second before", at: v.at.Add(-sigv4.MaxSkew - time.Second), kind: sigv4.Expired},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := check(r, nil, v.secret, v.service, c.at)
			if c.kind == 0 && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if c.kind != 0 && !isKind(err, c.kind) {
				t.Fatalf("got %v, want kind %d", err, c.kind)
			}
		})
	}
}
