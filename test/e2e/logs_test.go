package e2e

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
)

// records are the JSON log records with the given message.
func (b *logBuffer) records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range b.lines(t) {
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// noSecrets fails the test if any log line holds one of the secrets.
func (b *logBuffer) noSecrets(t testing.TB, secrets ...string) {
	t.Helper()
	text := b.String()
	for _, s := range secrets {
		if s == "" {
			t.Fatal("an empty secret to look for")
		}
		if strings.Contains(text, s) {
			t.Errorf("the log holds %.40q", s)
		}
	}
}

// plainRequest sends a request without an SDK and returns the response's
// request id.
func plainRequest(t testing.TB, env *Env, method, path string, header map[string]string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, env.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := env.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
	}
	return resp.Header.Get("x-amzn-RequestId")
}

// TestAccessLog: with the access log on, every request (health checks and
// CORS preflights too) logs one line with its facts, and no line holds a
// token, a login, a secret key or a session token.
func TestAccessLog(t *testing.T) {
	var log logBuffer
	env := Start(t, Options{Logger: slog.New(slog.NewJSONHandler(&log, nil)), AccessLog: true})
	w := worldIn(t, env, loginPoolInput("access-log"))
	w.setRoles(t, map[string]string{"authenticated": authRole, "unauthenticated": unauthRole}, nil)

	healthID := plainRequest(t, env, http.MethodGet, "/health", nil)
	preflightID := plainRequest(t, env, http.MethodOptions, "/", map[string]string{
		"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
	})
	login := googleToken("g-access-log-user")
	logins := map[string]string{google: login}
	id := w.getID(t, logins)
	openID := aws.ToString(w.openID(t, id, logins).Token)
	creds := w.credentials(t, id, logins, "").Credentials
	caller(t, env, creds)
	missing := "us-east-1:00000000-0000-4000-8000-000000000000"
	_, err := w.admin.DescribeIdentityPool(t.Context(), &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(missing)})
	APIError(t, err, "ResourceNotFoundException", notFound(missing))

	lines := log.records(t, "request")
	if len(lines) != 9 {
		t.Fatalf("%d access log lines, want 9 (one per request): %v", len(lines), lines)
	}
	ids := map[string]bool{}
	for _, rec := range lines {
		for _, field := range []string{"request_id", "method", "path", "client", "account", "operation", "error_type"} {
			if _, ok := rec[field].(string); !ok {
				t.Errorf("line %v: %s is not a string", rec, field)
			}
		}
		for _, field := range []string{"status", "duration_ms"} {
			if _, ok := rec[field].(float64); !ok {
				t.Errorf("line %v: %s is not a number", rec, field)
			}
		}
		if rec["level"] != "INFO" || rec["client"] != "127.0.0.1" {
			t.Errorf("line %v: want level INFO, client 127.0.0.1", rec)
		}
		ids[rec["request_id"].(string)] = true
	}
	if len(ids) != len(lines) {
		t.Errorf("request ids repeat: %v", ids)
	}

	byOp := func(method, path, op string) map[string]any {
		t.Helper()
		for _, rec := range lines {
			if rec["method"] == method && rec["path"] == path && rec["operation"] == op {
				return rec
			}
		}
		t.Fatalf("no line for %s %s %q", method, path, op)
		return nil
	}
	for _, tc := range []struct {
		name, method, path, op string
		account                string
		status                 float64
		errorType, requestID   string
	}{
		{"health check", "GET", "/health", "", "", 200, "", healthID},
		{"preflight", "OPTIONS", "/", "", "", 200, "", preflightID},
		{"signed call", "POST", "/", "CreateIdentityPool", AccountA, 200, "", ""},
		// Unsigned: the account the call acted for, the pool's owner.
		{"public call", "POST", "/", "GetId", AccountA, 200, "", ""},
		{"credentials", "POST", "/", "GetCredentialsForIdentity", AccountA, 200, "", ""},
		// Signed with the minted credentials: the role's account.
		{"STS call", "POST", "/", "sts:GetCallerIdentity", "111111111111", 200, "", ""},
		{"error", "POST", "/", "DescribeIdentityPool", AccountA, 400, "ResourceNotFoundException", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := byOp(tc.method, tc.path, tc.op)
			if rec["account"] != tc.account || rec["status"] != tc.status || rec["error_type"] != tc.errorType {
				t.Errorf("line %v: want account %q, status %v, error_type %q", rec, tc.account, tc.status, tc.errorType)
			}
			if tc.requestID != "" && rec["request_id"] != tc.requestID {
				t.Errorf("line %v: request_id is not the x-amzn-RequestId sent, %s", rec, tc.requestID)
			}
		})
	}

	log.noSecrets(t, login, openID, "g-access-log-user", aws.ToString(creds.SecretKey), aws.ToString(creds.SessionToken))
}

// TestAccessLogText: the text handler writes the same fields.
func TestAccessLogText(t *testing.T) {
	var buf logBuffer
	env := Start(t, Options{Logger: slog.New(slog.NewTextHandler(&buf, nil)), AccessLog: true})
	plainRequest(t, env, http.MethodGet, "/health", nil)
	line := buf.String()
	for _, want := range []string{"msg=request", "method=GET", "path=/health", "client=127.0.0.1", "status=200", "duration_ms=", "request_id=", "account=", "operation=", "error_type="} {
		if !strings.Contains(line, want) {
			t.Errorf("access log line %q lacks %q", line, want)
		}
	}
}

// TestAccessLogOff: without AccessLog no request is logged.
func TestAccessLogOff(t *testing.T) {
	var log logBuffer
	env := Start(t, Options{Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	plainRequest(t, env, http.MethodGet, "/health", nil)
	newPool(t, env.Client(AccountA, USEast1), "quiet")
	if lines := log.records(t, "request"); len(lines) != 0 {
		t.Errorf("access log lines although it is off: %v", lines)
	}
}

// TestAuditLog: every change of state logs one audit line, once it is
// committed, with the ids it touched and nothing secret.
func TestAuditLog(t *testing.T) {
	var log logBuffer
	env := Start(t, Options{Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	ctx := t.Context()
	admin := env.Client(AccountA, USEast1)
	app := env.PublicClient(USEast1)
	in := loginPoolInput("audit")
	pool := aws.ToString(createPool(t, admin, in).IdentityPoolId)
	if _, err := admin.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
		IdentityPoolId: aws.String(pool), IdentityPoolName: aws.String("audit-renamed"),
		AllowUnauthenticatedIdentities: true, SupportedLoginProviders: in.SupportedLoginProviders,
		DeveloperProviderName: in.DeveloperProviderName,
	}); err != nil {
		t.Fatalf("UpdateIdentityPool: %v", err)
	}
	getID := func(logins map[string]string) string {
		t.Helper()
		out, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: logins})
		if err != nil {
			t.Fatalf("GetId %v: %v", keys(logins), err)
		}
		return aws.ToString(out.IdentityId)
	}
	guest := getID(nil)
	login := googleToken("g-audit-user")
	user := getID(map[string]string{google: login})
	// A refused change logs nothing.
	if _, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{"api.twitter.com": "a;b"}}); err == nil {
		t.Fatal("GetId with an unsupported provider succeeded")
	}
	if got := getID(map[string]string{google: login, fb: "fb-audit-user"}); got != user {
		t.Fatalf("linking GetId = %s, want %s", got, user)
	}
	if _, err := app.UnlinkIdentity(ctx, &cognitoidentity.UnlinkIdentityInput{
		IdentityId: aws.String(user), Logins: map[string]string{google: login}, LoginsToRemove: []string{fb},
	}); err != nil {
		t.Fatalf("UnlinkIdentity: %v", err)
	}
	if _, err := admin.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(pool)}); err != nil {
		t.Fatalf("DeleteIdentityPool: %v", err)
	}

	type line struct {
		action, identity, providers string
		guest                       bool
	}
	want := []line{
		{action: "pool.create"},
		{action: "pool.update"},
		{action: "identity.create", identity: guest, guest: true},
		{action: "identity.create", identity: user, providers: google},
		{action: "identity.link", identity: user, providers: fb},
		{action: "identity.unlink", identity: user, providers: fb},
		{action: "pool.delete"},
	}
	var got []line
	for _, rec := range log.records(t, "audit") {
		if rec["level"] != "INFO" || rec["account"] != AccountA || rec["pool_id"] != pool {
			t.Errorf("audit line %v: want level INFO, account %s, pool_id %s", rec, AccountA, pool)
		}
		if id, _ := rec["request_id"].(string); id == "" {
			t.Errorf("audit line %v has no request_id", rec)
		}
		var providers []string
		if ps, ok := rec["providers"].([]any); ok {
			for _, p := range ps {
				providers = append(providers, p.(string))
			}
		}
		identity, _ := rec["identity_id"].(string)
		g, _ := rec["guest"].(bool)
		got = append(got, line{action: rec["action"].(string), identity: identity, providers: strings.Join(providers, ","), guest: g})
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit lines:\n got %+v\nwant %+v", got, want)
	}
	log.noSecrets(t, login, "g-audit-user", "fb-audit-user")
}

// TestAuditLogDeveloper: developer users merged and unlinked are audited
// by identity, without the developer user identifiers.
func TestAuditLogDeveloper(t *testing.T) {
	var log logBuffer
	env := Start(t, Options{Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	w := worldIn(t, env, loginPoolInput("audit-dev"))
	src := w.devID(t, "dev-audit-source", nil)
	dst := w.devID(t, "dev-audit-destination", nil)
	if got, err := w.merge(t, "dev-audit-source", "dev-audit-destination"); err != nil || got != dst {
		t.Fatalf("merge = %s, %v; want %s", got, err, dst)
	}
	if err := w.unlinkDev(t, dst, "dev-audit-source"); err != nil {
		t.Fatalf("unlink: %v", err)
	}
	var actions []string
	for _, rec := range log.records(t, "audit") {
		actions = append(actions, rec["action"].(string))
		switch rec["action"] {
		case "developer_user.merge":
			if rec["identity_id"] != dst || !slices.Equal(rec["merged_identity_ids"].([]any), []any{src}) || rec["provider"] != devProvider {
				t.Errorf("merge line %v: want identity %s, merged [%s], provider %s", rec, dst, src, devProvider)
			}
		case "developer_user.unlink":
			if rec["identity_id"] != dst || rec["provider"] != devProvider {
				t.Errorf("unlink line %v: want identity %s, provider %s", rec, dst, devProvider)
			}
		}
	}
	want := []string{"pool.create", "identity.create", "identity.create", "developer_user.merge", "developer_user.unlink"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}
	log.noSecrets(t, "dev-audit-source", "dev-audit-destination")
}
