package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/seed"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
)

const (
	seededPool = "us-east-1:11111111-2222-4333-8444-555555555555"
	seedText   = `
pools:
  - IdentityPoolId: ` + seededPool + `
    IdentityPoolName: seeded
    AllowUnauthenticatedIdentities: true
    DeveloperProviderName: login.seeded
    Roles:
      unauthenticated: arn:aws:iam::000000000000:role/Guest
`
	resetKey    = "AKIDRESETTEST"
	resetSecret = "reset-test-secret"
)

var resetKeys = auth.Keys{resetKey: {AccessKeyID: resetKey, SecretAccessKey: resetSecret, Account: "123456789012"}}

func parseSeed(t *testing.T, text string) *seed.Seed {
	t.Helper()
	sd, err := seed.Parse("seed.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

// resetEnv is a server on the memory store.
type resetEnv struct {
	st  store.Store
	srv *server.Server
	log *syncBuffer
}

func newResetEnv(t *testing.T, o server.Options) *resetEnv {
	t.Helper()
	e := &resetEnv{st: memory.New(), log: &syncBuffer{}}
	t.Cleanup(func() { e.st.Close() })
	o.Store = e.st
	o.Secrets = [][]byte{testSecret}
	o.Logger = slog.New(slog.NewJSONHandler(e.log, nil))
	o.StoreIsPrivate = true
	srv, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	return e
}

// call serves one API request.
func (e *resetEnv) call(t *testing.T, op, body string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+op)
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, r)
	return rec.Code, rec.Body.String()
}

// reset sends POST /_idpool/reset, signed with key and secret unless key
// is "".
func (e *resetEnv) reset(t *testing.T, key, secret string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://idpool.test"+server.ResetPath, nil)
	if key != "" {
		sum := sha256.Sum256(nil)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
			r, hex.EncodeToString(sum[:]), "cognito-identity", "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, r)
	return rec.Code, rec.Body.String()
}

func (e *resetEnv) pools(t *testing.T) []string {
	t.Helper()
	ps, err := e.st.ListPools(context.Background(), "", "", nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestSeedAppliedByNew(t *testing.T) {
	e := newResetEnv(t, server.Options{Seed: parseSeed(t, seedText)})
	status, body := e.call(t, "DescribeIdentityPool", `{"IdentityPoolId":"`+seededPool+`"}`)
	if status != http.StatusOK || !strings.Contains(body, `"IdentityPoolName":"seeded"`) {
		t.Fatalf("DescribeIdentityPool: %d %s", status, body)
	}
	if n := len(e.log.records(t, "audit")); n != 1 {
		t.Errorf("%d audit lines for the seeded pool, want 1", n)
	}
	if recs := e.log.records(t, "seed applied"); len(recs) != 1 || recs[0]["created"] != float64(1) {
		t.Errorf("seed applied: %v", recs)
	}

	// A second server on the same store, with the same seed: nothing
	// changes, no audit line.
	log := &syncBuffer{}
	_, err := server.New(server.Options{Store: e.st, Secrets: [][]byte{testSecret}, Seed: parseSeed(t, seedText),
		Logger: slog.New(slog.NewJSONHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(log.records(t, "audit")); n != 0 {
		t.Errorf("the same seed again logged %d audit lines", n)
	}

	// A seed the store refuses (the developer provider cannot change)
	// refuses to build the server, naming the pool and the member.
	changed := strings.Replace(seedText, "login.seeded", "login.other", 1)
	_, err = server.New(server.Options{Store: e.st, Secrets: [][]byte{testSecret}, Seed: parseSeed(t, changed)})
	want := "seed file seed.yaml: pool 1 (" + seededPool + "): DeveloperProviderName: The developer provider name of an identity pool cannot be changed once it is set (it is login.seeded). (line 6)"
	if err == nil || err.Error() != want {
		t.Errorf("server.New with a refused seed:\n got  %v\n want %s", err, want)
	}
}

func TestResetEndpoint(t *testing.T) {
	e := newResetEnv(t, server.Options{Seed: parseSeed(t, seedText)})
	if status, body := e.call(t, "CreateIdentityPool", `{"IdentityPoolName":"extra","AllowUnauthenticatedIdentities":true}`); status != http.StatusOK {
		t.Fatalf("CreateIdentityPool: %d %s", status, body)
	}
	status, body := e.call(t, "GetId", `{"IdentityPoolId":"`+seededPool+`"}`)
	if status != http.StatusOK {
		t.Fatalf("GetId: %d %s", status, body)
	}
	var id struct{ IdentityId string }
	json.Unmarshal([]byte(body), &id)

	status, body = e.reset(t, "", "")
	if status != http.StatusOK || body != `{"reset":true,"pools":1,"deleted":2}` {
		t.Fatalf("reset: %d %s", status, body)
	}
	if got := e.pools(t); len(got) != 1 || got[0] != seededPool {
		t.Errorf("pools after the reset: %v", got)
	}
	if status, body := e.call(t, "DescribeIdentity", `{"IdentityId":"`+id.IdentityId+`"}`); status != http.StatusBadRequest ||
		!strings.Contains(body, "ResourceNotFoundException") {
		t.Errorf("the guest after the reset: %d %s", status, body)
	}
	// Only POST resets.
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, server.ResetPath, nil))
	if rec.Code == http.StatusOK {
		t.Errorf("GET %s answered 200", server.ResetPath)
	}
}

// TestResetPolicy checks who may reset, in each mode.
func TestResetPolicy(t *testing.T) {
	tests := []struct {
		name        string
		keys        auth.Keys
		policy      server.ResetPolicy
		key, secret string
		status      int
		errorType   string
	}{
		{name: "permissive, auto", status: 200},
		{name: "permissive, on", policy: server.ResetOn, status: 200},
		{name: "permissive, off", policy: server.ResetOff, status: 403, errorType: "AccessDeniedException"},
		{name: "strict, auto, signed", keys: resetKeys, key: resetKey, secret: resetSecret, status: 403, errorType: "AccessDeniedException"},
		{name: "strict, on, unsigned", keys: resetKeys, policy: server.ResetOn, status: 403, errorType: "MissingAuthenticationTokenException"},
		{name: "strict, on, unknown key", keys: resetKeys, policy: server.ResetOn, key: "AKIDNOBODY", secret: resetSecret, status: 403, errorType: "UnrecognizedClientException"},
		{name: "strict, on, wrong secret", keys: resetKeys, policy: server.ResetOn, key: resetKey, secret: "not-the-secret", status: 403, errorType: "InvalidSignatureException"},
		{name: "strict, on, signed", keys: resetKeys, policy: server.ResetOn, key: resetKey, secret: resetSecret, status: 200},
		{name: "strict, off, signed", keys: resetKeys, policy: server.ResetOff, key: resetKey, secret: resetSecret, status: 403, errorType: "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newResetEnv(t, server.Options{Keys: tt.keys, Reset: tt.policy, Seed: parseSeed(t, seedText)})
			status, body := e.reset(t, tt.key, tt.secret)
			if status != tt.status {
				t.Fatalf("reset: %d %s, want %d", status, body, tt.status)
			}
			if tt.status == http.StatusOK {
				return
			}
			var msg struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Type != tt.errorType || msg.Message == "" {
				t.Errorf("refusal body %s, want __type %s", body, tt.errorType)
			}
			// Refused: the seeded pool is still there, untouched.
			if got := e.pools(t); len(got) != 1 {
				t.Errorf("pools after a refused reset: %v", got)
			}
			if n := len(e.log.records(t, "reset refused")); n != 1 {
				t.Errorf("%d log lines for the refusal", n)
			}
		})
	}
}

// TestResetStore checks the reset of a store no server serves, as idpool
// reset runs it.
func TestResetStore(t *testing.T) {
	e := newResetEnv(t, server.Options{Seed: parseSeed(t, seedText)})
	if status, body := e.call(t, "CreateIdentityPool", `{"IdentityPoolName":"extra","AllowUnauthenticatedIdentities":true}`); status != http.StatusOK {
		t.Fatalf("CreateIdentityPool: %d %s", status, body)
	}
	keys, _ := e.st.ListSigningKeys(context.Background())
	res, err := server.ResetStore(context.Background(), server.Options{Store: e.st, Seed: parseSeed(t, seedText)})
	if err != nil || res.Deleted != 2 || res.Pools != 1 {
		t.Fatalf("ResetStore: %+v, %v", res, err)
	}
	if got := e.pools(t); len(got) != 1 || got[0] != seededPool {
		t.Errorf("pools after ResetStore: %v", got)
	}
	if after, _ := e.st.ListSigningKeys(context.Background()); len(after) != len(keys) {
		t.Errorf("signing keys: %d, were %d", len(after), len(keys))
	}
	if _, err := server.ResetStore(context.Background(), server.Options{}); err == nil {
		t.Error("ResetStore without a store succeeded")
	}
}

// TestResetBodyLimit checks that a reset request with a huge body is
// refused before anything is deleted.
func TestResetBodyLimit(t *testing.T) {
	e := newResetEnv(t, server.Options{Seed: parseSeed(t, seedText)})
	r := httptest.NewRequest(http.MethodPost, server.ResetPath, io.NopCloser(bytes.NewReader(make([]byte, 1<<20))))
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("reset with a 1 MiB body: %d %s", rec.Code, rec.Body)
	}
}
