package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/model"
)

// errorFlag is a slog handler that remembers whether anything was logged at
// error level: the server logs panics and internal errors there.
type errorFlag struct {
	slog.Handler
	last atomic.Value // string
}

func (e *errorFlag) Enabled(context.Context, slog.Level) bool { return true }

func (e *errorFlag) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.String())
			return true
		})
		e.last.Store(b.String())
	}
	return nil
}

func (e *errorFlag) WithAttrs([]slog.Attr) slog.Handler { return e }
func (e *errorFlag) WithGroup(string) slog.Handler      { return e }

// FuzzAPI sends arbitrary bodies to a model operation through the real
// handler (middleware, pipeline, operations, SQLite). Whatever the body,
// the answer is never a 500 or a panic, and it always follows the
// protocol's invariants (see checkInvariants): a JSON body, __type and
// X-Amzn-ErrorType agreeing on errors, a request id, CORS headers.
//
//	go test -run x -fuzz FuzzAPI -fuzztime 60s -fuzzminimizetime 5s ./internal/server/
//
// (A short -fuzzminimizetime keeps the workers fuzzing: minimizing each new
// input for the default 60 s shows up as minutes of "0/sec".)
//
// The seed corpus is every request of the golden files plus a few more,
// aimed at a pool and identities created before fuzzing starts.
func FuzzAPI(f *testing.F) {
	m, err := model.Load()
	if err != nil {
		f.Fatal(err)
	}
	ops := m.OperationNames()
	index := map[string]uint8{}
	for i, name := range ops {
		index[name] = uint8(i)
	}

	// The server under test logs through logged, which the fuzz function reads.
	logged := &errorFlag{}
	h := newTestServer(f, func() time.Time { return wireClock }, 7, slog.New(logged)).Handler()

	// A pool with every kind of provider, roles and identities for the
	// seeds to aim at.
	vars := map[string]string{}
	for _, setup := range []struct{ op, body string }{
		{"CreateIdentityPool", `{"IdentityPoolName":"fuzz","AllowUnauthenticatedIdentities":true,"AllowClassicFlow":true,"SupportedLoginProviders":{"graph.facebook.com":"7346241598935555"},"DeveloperProviderName":"login.example.app","OpenIdConnectProviderARNs":["arn:aws:iam::000000000000:oidc-provider/oidc.example.com"],"CognitoIdentityProviders":[{"ProviderName":"cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE","ClientId":"appclient1"}],"SamlProviderARNs":["arn:aws:iam::000000000000:saml-provider/corp"]}`},
		{"SetIdentityPoolRoles", `{"IdentityPoolId":"{{IdentityPoolId}}","Roles":{"authenticated":"arn:aws:iam::000000000000:role/Auth","unauthenticated":"arn:aws:iam::000000000000:role/Unauth"},"RoleMappings":{"graph.facebook.com":{"Type":"Rules","AmbiguousRoleResolution":"AuthenticatedRole","RulesConfiguration":{"Rules":[{"Claim":"sub","MatchType":"StartsWith","Value":"admin","RoleARN":"arn:aws:iam::000000000000:role/Admin"}]}}}}`},
		{"GetId", `{"IdentityPoolId":"{{IdentityPoolId}}","Logins":{"graph.facebook.com":"fbtoken"}}`},
	} {
		body, err := expand(setup.body, vars)
		if err != nil {
			f.Fatal(err)
		}
		rec := serve(h, setup.op, []byte(body))
		if rec.Code != http.StatusOK {
			f.Fatalf("setup %s: %d %s", setup.op, rec.Code, rec.Body)
		}
		capture(vars, "", rec.Body.Bytes())
	}

	// Seeds: every request of the golden files that names a model
	// operation, with its placeholders pointed at the setup's pool.
	files, _ := filepath.Glob(filepath.Join("testdata", "wire", "*.txt"))
	targetRE := regexp.MustCompile(`(?mi)^X-Amz-Target:\s*AWSCognitoIdentityService\.(\w+)\s*$`)
	labelled := regexp.MustCompile(`\{\{\s*[\w-]+\.(\w+)\s*\}\}`)
	seedVars := map[string]string{"NextToken": "MTc5NTM0MzQwMDAwMDAwMDAwMHx4"}
	for k, v := range vars {
		seedVars[k] = v
	}
	seeds := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		wf, err := parseWireFile(string(raw))
		if err != nil {
			f.Fatal(err)
		}
		for _, ex := range wf.exchanges {
			sub := targetRE.FindStringSubmatch(ex.request)
			if sub == nil {
				continue
			}
			op, ok := index[sub[1]]
			if !ok {
				continue
			}
			_, body, _ := strings.Cut(ex.request, "\n\n")
			body, err := expand(labelled.ReplaceAllString(body, "{{$1}}"), seedVars)
			if err != nil || len(body) > 64<<10 {
				continue
			}
			f.Add(op, []byte(body))
			seeds++
		}
	}
	if seeds < 50 {
		f.Fatalf("only %d seeds from the golden files", seeds)
	}
	for _, s := range []struct{ op, body string }{
		{"ListIdentityPools", `{"MaxResults":60}`},
		{"ListIdentities", `{"IdentityPoolId":"` + vars["IdentityPoolId"] + `","MaxResults":60,"HideDisabled":true}`},
		{"GetCredentialsForIdentity", `{"IdentityId":"` + vars["IdentityId"] + `","Logins":{"graph.facebook.com":"fbtoken"}}`},
		{"GetOpenIdToken", `{"IdentityId":"` + vars["IdentityId"] + `","Logins":{"graph.facebook.com":"fbtoken"}}`},
		{"UnlinkIdentity", `{"IdentityId":"` + vars["IdentityId"] + `","Logins":{"graph.facebook.com":"fbtoken"},"LoginsToRemove":["graph.facebook.com"]}`},
		{"GetId", `{"IdentityPoolId":"` + vars["IdentityPoolId"] + `","Logins":{"oidc.example.com":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSIsImlzcyI6Imh0dHBzOi8vb2lkYy5leGFtcGxlLmNvbSJ9.c2ln"}}`},
		{"GetId", `{"IdentityPoolId":"` + vars["IdentityPoolId"] + `","Logins":{"arn:aws:iam::000000000000:saml-provider/corp":"PFJlc3BvbnNlPjxOYW1lSUQ+dTE8L05hbWVJRD48L1Jlc3BvbnNlPg=="}}`},
		{"DeleteIdentities", `{"IdentityIdsToDelete":["` + vars["IdentityId"] + `"]}`},
		{"UpdateIdentityPool", `{"IdentityPoolId":"` + vars["IdentityPoolId"] + `","IdentityPoolName":"fuzz","AllowUnauthenticatedIdentities":false,"IdentityPoolTags":{}}`},
	} {
		f.Add(index[s.op], []byte(s.body))
	}

	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		name := ops[int(op)%len(ops)]
		logged.last.Store("")
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				panic("the handler hangs on " + name + " " + string(body))
			}
		}()
		rec := serve(h, name, body)
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+name)
		checkInvariants(t, name+" "+truncate(body), req, rec.Result(), rec.Body.Bytes())
		if msg := logged.last.Load().(string); msg != "" {
			t.Errorf("%s %s: the server logged an error: %s", name, truncate(body), msg)
		}
	})
}

func serve(h http.Handler, op string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+op)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
