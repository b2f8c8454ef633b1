package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/idpool/idpool/internal/sigv4"
)

// FuzzParse feeds arbitrary Authorization headers, query strings and
// request times to the whole verification: nothing may panic, and every
// refusal is a *sigv4.Error of a known kind with a text.
func FuzzParse(f *testing.F) {
	good := signed(f, []byte(`{}`), "", testCreds, now, nil)
	f.Add(good.Header.Get("Authorization"), "", good.Header.Get("X-Amz-Date"), "")
	f.Add("", presigned("", ""), "", "")
	f.Add("", presigned("X-Amz-Expires", "604800"), "", "")
	f.Add("", "X-Amz-Credential=a%2Fb", "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=, Signature=zz", "", "20261122T120000Z", "")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261122/r/cognito-identity/aws4_request, SignedHeaders=host, Signature=00", "", "", "Sun, 22 Nov 2026 12:00:00 GMT")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261122/r/cognito-identity/aws4_request, SignedHeaders=host;date, Signature=00", "", "20261122T120000.123456Z", "Sun, 06 Nov 1994 08:49:37 GMT")
	f.Add("AWS4-HMAC-SHA256 ,,,=,==,Credential==//////", "X-Amz-Algorithm=&X-Amz-Signature=%zz", "0", "0")
	f.Add("AWS4-HMAC-SHA256  Credential=\x00/\xff/é/ሴ/aws4_request,SignedHeaders=host;;;, Signature=0", "a=%&b=;c", "99999999T999999Z", "Mon, 02 Jan 0001 00:00:00 GMT")
	f.Fuzz(func(t *testing.T, authz, rawQuery, amzDate, date string) {
		r := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Path: "/", RawQuery: rawQuery},
			Header: http.Header{},
			Host:   "cognito-identity.us-east-1.amazonaws.com",
		}
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if amzDate != "" {
			r.Header.Set("X-Amz-Date", amzDate)
		}
		if date != "" {
			r.Header.Set("Date", date)
		}
		a, err := sigv4.Parse(r)
		if err != nil {
			knownError(t, "Parse", err)
			return
		}
		if a == nil {
			t.Fatal("Parse returned neither an Auth nor an error")
		}
		knownError(t, "CheckScope", a.CheckScope("cognito-identity", "sts"))
		knownError(t, "CheckTime", a.CheckTime(now))
		knownError(t, "Verify", a.Verify(r, []byte(rawQuery), "secret"))
	})
}

func knownError(t *testing.T, step string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *sigv4.Error
	if !errors.As(err, &se) {
		t.Fatalf("%s: error %T %v is not a *sigv4.Error", step, err, err)
	}
	if se.Kind < sigv4.Missing || se.Kind > sigv4.Scope || se.Message == "" {
		t.Fatalf("%s: error of kind %d with text %q", step, se.Kind, se.Message)
	}
}

// FuzzVerify signs random bodies (and a random signed header value) with
// the SDK, in the header and the presigned form: the request must verify,
// and with one byte of the body changed it must not.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"MaxResults":10}`), "value", uint(3), byte(1), false)
	f.Add([]byte{}, "", uint(0), byte(0), true)
	f.Add([]byte("\x00\xff\xfe binary"), "  a   b  ", uint(100), byte(0x80), true)
	f.Add(bytes.Repeat([]byte("x"), 5000), "é字", uint(4999), byte(0xff), false)
	f.Fuzz(func(t *testing.T, body []byte, value string, at uint, xor byte, presign bool) {
		value = comparableValue(value)
		req, err := http.NewRequest(http.MethodPost, "http://cognito-identity.us-east-1.amazonaws.com/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.GetId")
		req.Header.Set("X-Custom", value)
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		signer := v4.NewSigner()
		var r *http.Request
		if presign {
			u, hdr, err := signer.PresignHTTP(context.Background(), testCreds, req, hash, "cognito-identity", "us-east-1", now)
			if err != nil {
				t.Fatal(err)
			}
			sent, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			sent.Header = hdr
			sent.Host = hdr.Get("Host")
			sent.Header.Del("Host")
			r = toServer(sent, body)
		} else {
			if err := signer.SignHTTP(context.Background(), testCreds, req, hash, "cognito-identity", "us-east-1", now); err != nil {
				t.Fatal(err)
			}
			r = toServer(req, body)
		}
		if _, err := check(r, body, testCreds.SecretAccessKey, "cognito-identity", now); err != nil {
			t.Fatalf("an SDK-signed request (presigned %v, X-Custom %q) does not verify: %v", presign, value, err)
		}
		if len(body) == 0 || xor == 0 {
			return
		}
		changed := bytes.Clone(body)
		changed[at%uint(len(body))] ^= xor
		if _, err := check(r, changed, testCreds.SecretAccessKey, "cognito-identity", now); !isKind(err, sigv4.Mismatch) {
			t.Fatalf("a changed body: got %v, want Mismatch", err)
		}
	})
}

// comparableValue makes a header value one that both the SDK and the
// server canonicalise alike: valid UTF-8 without control characters, and
// no white space but ASCII spaces (see
// TestHeaderWhitespaceIsCollapsedLikeBotocore for the rest).
func comparableValue(v string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || (c != ' ' && unicode.IsSpace(c)) {
			return 'x'
		}
		return c
	}, strings.ToValidUTF8(v, "x"))
}
