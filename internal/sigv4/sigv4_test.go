package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/idpool/idpool/internal/sigv4"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// serverSide turns a client request into what an http.Server hands a
// handler (Host moved to r.Host, body read).
func serverSide(t *testing.T, req *http.Request, body []byte) *http.Request {
	t.Helper()
	sr := httptest.NewRequest(req.Method, req.URL.String(), bytes.NewReader(body))
	sr.Header = req.Header.Clone()
	sr.Host = req.URL.Host
	return sr
}

func sign(t *testing.T, body []byte, creds aws.Credentials, service, region string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:4591/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.ListIdentityPools")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestVerifiesSDKSignature(t *testing.T) {
	body := []byte(`{"MaxResults":10}`)
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "tok"}
	r := serverSide(t, sign(t, body, creds, "cognito-identity", "eu-west-1", now), body)
	a, err := sigv4.Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKeyID != "AKIDEXAMPLE" || a.Region != "eu-west-1" || a.Service != "cognito-identity" || a.SecurityToken != "tok" {
		t.Errorf("parsed %+v", a)
	}
	if err := a.CheckScope("cognito-identity"); err != nil {
		t.Error(err)
	}
	if err := a.CheckTime(now.Add(4 * time.Minute)); err != nil {
		t.Error(err)
	}
	if err := a.Verify(r, body, "secret"); err != nil {
		t.Errorf("Verify(right secret): %v", err)
	}
	var se *sigv4.Error
	if err := a.Verify(r, body, "wrong"); !errors.As(err, &se) || se.Kind != sigv4.Mismatch {
		t.Errorf("Verify(wrong secret) = %v, want Mismatch", err)
	}
	if err := a.Verify(r, []byte(`{"MaxResults":11}`), "secret"); !errors.As(err, &se) || se.Kind != sigv4.Mismatch {
		t.Errorf("Verify(changed body) = %v, want Mismatch", err)
	}
	if err := a.CheckTime(now.Add(6 * time.Minute)); !errors.As(err, &se) || se.Kind != sigv4.Expired {
		t.Errorf("CheckTime(+6m) = %v, want Expired", err)
	}
	if err := a.CheckScope("sts"); !errors.As(err, &se) || se.Kind != sigv4.Scope {
		t.Errorf("CheckScope(sts) = %v, want Scope", err)
	}
}
