package console_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/memory"
	"github.com/idpool/idpool/internal/testclock"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// newServer builds a whole idpool server (memory store, fixed clock):
// the console is tested as the server mounts it. keys switch strict mode
// on ("AKID SECRET ACCOUNT" lines).
func newServer(t *testing.T, keys string) (http.Handler, *testclock.Clock) {
	t.Helper()
	c := testclock.New(t0, 0)
	o := server.Options{Store: memory.New(), Clock: c.Now, IssuerURL: "http://idpool.test"}
	if keys != "" {
		k, err := auth.ParseKeys(strings.NewReader(keys), "\n")
		if err != nil {
			t.Fatal(err)
		}
		o.Keys = k
	}
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.CloseStreams)
	return s.Handler(), c
}

// browser keeps the console's cookie and CSRF token, as the page does.
type browser struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
	csrf   string
	https  bool
}

func (b *browser) do(method, path, target, body string, withCSRF bool) *httptest.ResponseRecorder {
	b.t.Helper()
	scheme := "http"
	if b.https {
		scheme = "https"
	}
	r := httptest.NewRequest(method, scheme+"://idpool.test"+path, strings.NewReader(body))
	if b.cookie != nil {
		r.AddCookie(b.cookie)
	}
	if target != "" {
		r.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+target)
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	}
	if withCSRF {
		r.Header.Set("X-Idpool-Csrf", b.csrf)
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.Name == "idpool_console" {
			if c.MaxAge < 0 {
				b.cookie = nil
			} else {
				b.cookie = c
			}
		}
	}
	return w
}

// session loads GET /console/api/session into the browser.
func (b *browser) session() map[string]any {
	b.t.Helper()
	w := b.do("GET", "/console/api/session", "", "", false)
	if w.Code != http.StatusOK {
		b.t.Fatalf("session: %d %s", w.Code, w.Body)
	}
	v := decodeJSON(b.t, w)
	if s, _ := v["Csrf"].(string); s != "" {
		b.csrf = s
	}
	return v
}

// call runs an API operation through the console.
func (b *browser) call(op, body string) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.do("POST", "/console/api/aws", op, body, true)
}

func (b *browser) signIn(key, secret string) *httptest.ResponseRecorder {
	b.t.Helper()
	w := b.do("POST", "/console/api/signin", "", `{"AccessKeyId":"`+key+`","SecretAccessKey":"`+secret+`"}`, false)
	if w.Code == http.StatusOK {
		b.csrf = decodeJSON(b.t, w)["Csrf"].(string)
	}
	return w
}

func decodeJSON(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, w.Body)
	}
	return v
}

func errType(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	s, _ := decodeJSON(t, w)["__type"].(string)
	return s
}

func TestPagesCarrySecurityHeaders(t *testing.T) {
	h, _ := newServer(t, "")
	for _, path := range []string{"/console/", "/console/app.js", "/console/app.css", "/console/api/session"} {
		r := httptest.NewRequest("GET", "http://idpool.test"+path, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, w.Code)
		}
		csp := w.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP %q allows inline code", path, csp)
		}
		if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", path, got)
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("GET %s: the console's answers must not be readable cross-origin, got Access-Control-Allow-Origin %q", path, got)
		}
	}
	// The page loads no script or style from elsewhere, and has no inline
	// script for the CSP to block.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "http://idpool.test/console/", nil))
	page := w.Body.String()
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "<script>") || strings.Contains(page, "style=") {
		t.Errorf("the page refers outside or inlines code:\n%s", page)
	}
}

func TestPermissiveSessionCookie(t *testing.T) {
	for _, https := range []bool{false, true} {
		h, _ := newServer(t, "")
		b := &browser{t: t, h: h, https: https}
		v := b.session()
		if v["Mode"] != "permissive" || v["SignedIn"] != true || v["Account"] != "000000000000" {
			t.Fatalf("session %v", v)
		}
		c := b.cookie
		if c == nil {
			t.Fatal("no session cookie")
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console/" || c.Secure != https {
			t.Errorf("https=%v: cookie %+v: want HttpOnly, SameSite=Strict, Path /console/, Secure only under TLS", https, c)
		}
		// The same cookie keeps the same session.
		if again := b.session(); again["Csrf"] != v["Csrf"] {
			t.Error("a second visit got a new session")
		}
	}
}

func TestStateChangesNeedTheCSRFToken(t *testing.T) {
	h, _ := newServer(t, "")
	b := &browser{t: t, h: h}
	b.session()
	create := `{"IdentityPoolName":"csrf","AllowUnauthenticatedIdentities":true}`
	for name, r := range map[string]*httptest.ResponseRecorder{
		"no token":    b.do("POST", "/console/api/aws", "CreateIdentityPool", create, false),
		"wrong token": (&browser{t: t, h: h, cookie: b.cookie, csrf: b.csrf[:len(b.csrf)-1] + "x"}).do("POST", "/console/api/aws", "CreateIdentityPool", create, true),
		"rotate":      b.do("POST", "/console/api/keys/rotate", "", "{}", false),
		"unlink":      b.do("POST", "/console/api/unlink", "", `{"IdentityId":"us-east-1:x","LoginsToRemove":["a"]}`, false),
		"sign out":    b.do("POST", "/console/api/signout", "", "{}", false),
	} {
		if r.Code != http.StatusForbidden || errType(t, r) != "InvalidCsrfToken" {
			t.Errorf("%s: %d %s, want 403 InvalidCsrfToken", name, r.Code, r.Body)
		}
	}
	// Another site's page cannot post, even with the token.
	r := httptest.NewRequest("POST", "http://idpool.test/console/api/aws", strings.NewReader(create))
	r.AddCookie(b.cookie)
	r.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.CreateIdentityPool")
	r.Header.Set("X-Idpool-Csrf", b.csrf)
	r.Header.Set("Origin", "http://evil.test")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d %s", w.Code, w.Body)
	}
	if w := b.call("ListIdentityPools", `{"MaxResults":10}`); !strings.Contains(w.Body.String(), `"IdentityPools":[]`) {
		t.Fatalf("a refused request created a pool: %s", w.Body)
	}
	if w := b.call("CreateIdentityPool", create); w.Code != http.StatusOK {
		t.Fatalf("with the token: %d %s", w.Code, w.Body)
	}
	// Without a session cookie at all, nothing runs either.
	anon := &browser{t: t, h: h, csrf: b.csrf}
	if w := anon.call("ListIdentityPools", `{"MaxResults":10}`); w.Code == http.StatusOK || errType(t, w) != "SignInRequired" {
		t.Errorf("no cookie: %d %s", w.Code, w.Body)
	}
}

func TestAPIErrorsComeThroughAsTheAPISendsThem(t *testing.T) {
	h, _ := newServer(t, "")
	b := &browser{t: t, h: h}
	b.session()
	w := b.call("CreateIdentityPool", `{"IdentityPoolName":"bad name!","AllowUnauthenticatedIdentities":true}`)
	if w.Code != http.StatusBadRequest || errType(t, w) != "ValidationException" {
		t.Errorf("invalid name: %d %s", w.Code, w.Body)
	}
	w = b.call("DescribeIdentityPool", `{"IdentityPoolId":"us-east-1:00000000-0000-4000-8000-000000000000"}`)
	if w.Code != http.StatusBadRequest || errType(t, w) != "ResourceNotFoundException" {
		t.Errorf("unknown pool: %d %s", w.Code, w.Body)
	}
}

const strictKeys = "AKIDALICE alicesecret 111111111111\nAKIDBOB bobsecret 222222222222\n"

func TestStrictSignIn(t *testing.T) {
	h, _ := newServer(t, strictKeys)
	b := &browser{t: t, h: h}
	v := b.session()
	if v["Mode"] != "strict" || v["SignedIn"] != false || v["Csrf"] != nil || b.cookie != nil {
		t.Fatalf("strict mode gave a session without a sign-in: %v", v)
	}
	if w := b.call("ListIdentityPools", `{"MaxResults":10}`); errType(t, w) != "SignInRequired" {
		t.Errorf("API call without sign-in: %d %s", w.Code, w.Body)
	}
	for _, bad := range [][2]string{{"AKIDALICE", "wrong"}, {"AKIDALICE", "alicesecre"}, {"AKIDNOBODY", "alicesecret"}, {"AKIDALICE", ""}} {
		if w := b.signIn(bad[0], bad[1]); w.Code != http.StatusUnauthorized || b.cookie != nil {
			t.Errorf("sign-in %v: %d %s", bad, w.Code, w.Body)
		} else if strings.Contains(w.Body.String(), "alicesecret") {
			t.Errorf("the answer shows the secret: %s", w.Body)
		}
	}
	// A sign-in posted by another site is refused (login CSRF).
	r := httptest.NewRequest("POST", "http://idpool.test/console/api/signin", strings.NewReader(`{"AccessKeyId":"AKIDALICE","SecretAccessKey":"alicesecret"}`))
	r.Header.Set("Origin", "https://evil.test")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden || len(rec.Result().Cookies()) != 0 {
		t.Errorf("cross-origin sign-in: %d %s", rec.Code, rec.Body)
	}
	w := b.signIn("AKIDALICE", "alicesecret")
	if w.Code != http.StatusOK || b.cookie == nil {
		t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	v = decodeJSON(t, w)
	if v["AccessKeyId"] != "AKIDALICE" || v["Account"] != "111111111111" || strings.Contains(w.Body.String(), "alicesecret") {
		t.Errorf("session view %s", w.Body)
	}
	// A strict session cannot act for another account.
	if w := b.do("POST", "/console/api/account", "", `{"Account":"222222222222"}`, true); w.Code == http.StatusOK {
		t.Errorf("switched account in strict mode: %s", w.Body)
	}
	// Signing out ends the session on the server, not only the cookie.
	old := b.cookie
	if w := b.do("POST", "/console/api/signout", "", "{}", true); w.Code != http.StatusOK {
		t.Fatalf("sign out: %d %s", w.Code, w.Body)
	}
	replay := &browser{t: t, h: h, cookie: old, csrf: b.csrf}
	if w := replay.call("ListIdentityPools", `{"MaxResults":10}`); errType(t, w) != "SignInRequired" {
		t.Errorf("the old cookie still works after sign-out: %d %s", w.Code, w.Body)
	}
}

func TestStrictAccountLimitsWhatIsVisible(t *testing.T) {
	h, _ := newServer(t, strictKeys)
	alice, bob := &browser{t: t, h: h}, &browser{t: t, h: h}
	alice.signIn("AKIDALICE", "alicesecret")
	bob.signIn("AKIDBOB", "bobsecret")
	w := alice.call("CreateIdentityPool", `{"IdentityPoolName":"alices","AllowUnauthenticatedIdentities":true}`)
	if w.Code != http.StatusOK {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	poolID := decodeJSON(t, w)["IdentityPoolId"].(string)
	if w := bob.call("ListIdentityPools", `{"MaxResults":60}`); strings.Contains(w.Body.String(), poolID) {
		t.Errorf("bob lists alice's pool: %s", w.Body)
	}
	if w := bob.call("DescribeIdentityPool", `{"IdentityPoolId":"`+poolID+`"}`); errType(t, w) != "ResourceNotFoundException" {
		t.Errorf("bob describes alice's pool: %d %s", w.Code, w.Body)
	}
	if w := bob.call("DeleteIdentityPool", `{"IdentityPoolId":"`+poolID+`"}`); w.Code == http.StatusOK {
		t.Errorf("bob deleted alice's pool")
	}
	// Identities and activity follow the account too.
	w = alice.call("GetId", `{"IdentityPoolId":"`+poolID+`"}`)
	identityID := decodeJSON(t, w)["IdentityId"].(string)
	if w := bob.do("POST", "/console/api/identity", "", `{"IdentityId":"`+identityID+`"}`, true); errType(t, w) != "ResourceNotFoundException" {
		t.Errorf("bob opens alice's identity: %d %s", w.Code, w.Body)
	}
	if w := alice.do("POST", "/console/api/identity", "", `{"IdentityId":"`+identityID+`"}`, true); w.Code != http.StatusOK {
		t.Errorf("alice opens her identity: %d %s", w.Code, w.Body)
	}
	act := bob.do("POST", "/console/api/activity", "", "{}", true).Body.String()
	if strings.Contains(act, "CreateIdentityPool") || strings.Contains(act, "111111111111") {
		t.Errorf("bob sees alice's requests: %s", act)
	}
	if act := alice.do("POST", "/console/api/activity", "", "{}", true).Body.String(); !strings.Contains(act, "CreateIdentityPool") {
		t.Errorf("alice does not see her own requests: %s", act)
	}
}

func TestTryCredentialsExplainsAndHidesTheSecret(t *testing.T) {
	h, _ := newServer(t, "")
	b := &browser{t: t, h: h}
	b.session()
	w := b.call("CreateIdentityPool", `{"IdentityPoolName":"try","AllowUnauthenticatedIdentities":true}`)
	poolID := decodeJSON(t, w)["IdentityPoolId"].(string)
	rules := `{"IdentityPoolId":"` + poolID + `","Roles":{"authenticated":"arn:aws:iam::000000000000:role/User","unauthenticated":"arn:aws:iam::000000000000:role/Guest"},` +
		`"RoleMappings":{"accounts.google.com":{"Type":"Rules","AmbiguousRoleResolution":"AuthenticatedRole","RulesConfiguration":{"Rules":[` +
		`{"Claim":"hd","MatchType":"Equals","Value":"other.example","RoleARN":"arn:aws:iam::000000000000:role/Other"},` +
		`{"Claim":"hd","MatchType":"Equals","Value":"example.com","RoleARN":"arn:aws:iam::000000000000:role/Staff"}]}}}}`
	if w := b.call("UpdateIdentityPool", `{"IdentityPoolId":"`+poolID+`","IdentityPoolName":"try","AllowUnauthenticatedIdentities":true,"SupportedLoginProviders":{"accounts.google.com":"client"}}`); w.Code != http.StatusOK {
		t.Fatalf("update: %d %s", w.Code, w.Body)
	}
	if w := b.call("SetIdentityPoolRoles", rules); w.Code != http.StatusOK {
		t.Fatalf("roles: %d %s", w.Code, w.Body)
	}
	// A guest.
	id := decodeJSON(t, b.call("GetId", `{"IdentityPoolId":"`+poolID+`"}`))["IdentityId"].(string)
	w = b.call("GetCredentialsForIdentity", `{"IdentityId":"`+id+`"}`)
	v := decodeJSON(t, w)
	if w.Code != http.StatusOK || v["RoleArn"] != "arn:aws:iam::000000000000:role/Guest" || !strings.Contains(v["RoleDecision"].(string), "unauthenticated role") {
		t.Fatalf("guest credentials: %d %s", w.Code, w.Body)
	}
	who, _ := v["CallerIdentity"].(map[string]any)
	if who == nil || who["Arn"] != "arn:aws:sts::000000000000:assumed-role/Guest/CognitoIdentityCredentials" {
		t.Errorf("caller identity: %s", w.Body)
	}
	creds := v["Credentials"].(map[string]any)
	if _, ok := creds["SecretKey"]; ok {
		t.Errorf("the secret key reached the page: %s", w.Body)
	}
	// A login that the second rule maps (an unsigned token: trust mode).
	tok := unsignedJWT(`{"iss":"https://accounts.google.com","aud":"client","sub":"u1","hd":"example.com","exp":` + itoa(t0.Add(time.Hour).Unix()) + `}`)
	logins := `{"accounts.google.com":"` + tok + `"}`
	id = decodeJSON(t, b.call("GetId", `{"IdentityPoolId":"`+poolID+`","Logins":`+logins+`}`))["IdentityId"].(string)
	w = b.call("GetCredentialsForIdentity", `{"IdentityId":"`+id+`","Logins":`+logins+`}`)
	v = decodeJSON(t, w)
	if v["RoleArn"] != "arn:aws:iam::000000000000:role/Staff" || !strings.Contains(v["RoleDecision"].(string), `rule 2 (hd Equals "example.com")`) {
		t.Errorf("mapped login: %d %s", w.Code, w.Body)
	}
	// The login search finds the identity by the token's subject.
	w = b.do("POST", "/console/api/find-login", "", `{"IdentityPoolId":"`+poolID+`","Provider":"accounts.google.com","Subject":"u1"}`, true)
	if decodeJSON(t, w)["IdentityId"] != id {
		t.Errorf("find-login: %s", w.Body)
	}
	// The owner unlinks the login without its token: the identity is
	// then disabled, as UnlinkIdentity leaves it.
	if w := b.do("POST", "/console/api/unlink", "", `{"IdentityId":"`+id+`","LoginsToRemove":["accounts.google.com"]}`, true); w.Code != http.StatusOK {
		t.Fatalf("unlink: %d %s", w.Code, w.Body)
	}
	d := decodeJSON(t, b.do("POST", "/console/api/identity", "", `{"IdentityId":"`+id+`"}`, true))
	if d["Disabled"] != true || len(d["Logins"].([]any)) != 0 {
		t.Errorf("after unlink: %v", d)
	}
}

func TestInspectTokenVerifies(t *testing.T) {
	h, clk := newServer(t, "")
	b := &browser{t: t, h: h}
	b.session()
	poolID := decodeJSON(t, b.call("CreateIdentityPool", `{"IdentityPoolName":"tok","AllowUnauthenticatedIdentities":true}`))["IdentityPoolId"].(string)
	id := decodeJSON(t, b.call("GetId", `{"IdentityPoolId":"`+poolID+`"}`))["IdentityId"].(string)
	tok := decodeJSON(t, b.call("GetOpenIdToken", `{"IdentityId":"`+id+`"}`))["Token"].(string)
	inspect := func(token string) map[string]any {
		w := b.do("POST", "/console/api/inspect-token", "", `{"Token":"`+token+`"}`, true)
		if w.Code != http.StatusOK {
			t.Fatalf("inspect: %d %s", w.Code, w.Body)
		}
		return decodeJSON(t, w)
	}
	v := inspect(tok)
	claims := v["Claims"].(map[string]any)
	if v["Valid"] != true || claims["aud"] != poolID || claims["sub"] != id || v["Header"].(map[string]any)["alg"] != "RS512" {
		t.Errorf("a fresh token: %v", v)
	}
	// Flip one bit of the signature's first byte.
	parts := strings.Split(tok, ".")
	sig := []byte(parts[2])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	if v := inspect(parts[0] + "." + parts[1] + "." + string(sig)); v["Valid"] != false || v["Why"] != "bad signature" {
		t.Errorf("a tampered token: %v", v)
	}
	clk.Advance(2 * time.Hour)
	if v := inspect(tok); v["Valid"] != false || v["Why"] != "expired" {
		t.Errorf("an expired token: %v", v)
	}
}

func TestRotateFromTheConsole(t *testing.T) {
	h, _ := newServer(t, "")
	b := &browser{t: t, h: h}
	b.session()
	keys := func(path string) []any {
		w := b.do("POST", path, "", "{}", true)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return decodeJSON(t, w)["Keys"].([]any)
	}
	before := keys("/console/api/keys")
	if len(before) != 1 || before[0].(map[string]any)["State"] != "signing" {
		t.Fatalf("keys: %v", before)
	}
	after := keys("/console/api/keys/rotate")
	if len(after) != 2 {
		t.Fatalf("after rotation: %v", after)
	}
	old, fresh := after[0].(map[string]any), after[1].(map[string]any)
	// Publish first, sign later: the old key signs until the new one has
	// propagated, and has a retirement date.
	if old["State"] != "signing" || old["RetiresAt"] == nil || fresh["State"] != "published" {
		t.Errorf("after rotation: %v", after)
	}
}

func TestPermissiveAccountSwitch(t *testing.T) {
	h, _ := newServer(t, "")
	b := &browser{t: t, h: h}
	b.session()
	if w := b.do("POST", "/console/api/account", "", `{"Account":"12345"}`, true); errType(t, w) != "ValidationException" {
		t.Errorf("a bad account: %d %s", w.Code, w.Body)
	}
	if w := b.do("POST", "/console/api/account", "", `{"Account":"123456789012"}`, true); w.Code != http.StatusOK {
		t.Fatalf("switch: %d %s", w.Code, w.Body)
	}
	w := b.call("CreateIdentityPool", `{"IdentityPoolName":"other","AllowUnauthenticatedIdentities":false}`)
	poolID := decodeJSON(t, w)["IdentityPoolId"].(string)
	w = b.call("ListTagsForResource", `{"ResourceArn":"arn:aws:cognito-identity:us-east-1:123456789012:identitypool/`+poolID+`"}`)
	if w.Code != http.StatusOK {
		t.Errorf("the pool is not the new account's: %d %s", w.Code, w.Body)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func unsignedJWT(claims string) string {
	enc := func(s string) string {
		return strings.TrimRight(base64URL([]byte(s)), "=")
	}
	return enc(`{"alg":"RS256","kid":"k"}`) + "." + enc(claims) + ".c2ln"
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
