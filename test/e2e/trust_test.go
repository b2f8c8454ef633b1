package e2e

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idpool/idpool/internal/trust"
)

// STS's refusal of a role whose trust policy does not accept the token.
const msgNotAuthorizedToAssume = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

// Roles of the trust tests, besides those of helpers_test.go.
const (
	taggedRole  = "arn:aws:iam::111111111111:role/TaggedSessions"
	foreignRole = "arn:aws:iam::222222222222:role/Admin"
)

// consolePolicy is a trust policy as the Cognito console writes it for an
// identity pool's role: the pool's tokens whose amr has amr may assume it,
// with the actions given (sts:AssumeRoleWithWebIdentity when none).
func consolePolicy(pool, amr string, actions ...string) map[string]any {
	if len(actions) == 0 {
		actions = []string{"sts:AssumeRoleWithWebIdentity"}
	}
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": "cognito-identity.amazonaws.com"},
			"Action":    actions,
			"Condition": map[string]any{
				"StringEquals":           map[string]any{"cognito-identity.amazonaws.com:aud": pool},
				"ForAnyValue:StringLike": map[string]any{"cognito-identity.amazonaws.com:amr": amr},
			},
		}},
	}
}

// rolesOf builds a roles file in IAM's shapes from role ARN -> policy and
// parses it as the server does.
func rolesOf(t testing.TB, policies map[string]any) *trust.Roles {
	t.Helper()
	var list []any
	for arn, doc := range policies {
		list = append(list, map[string]any{"Arn": arn, "AssumeRolePolicyDocument": doc})
	}
	r, err := trust.ParseRoles(mustJSON(t, map[string]any{"Roles": list}))
	if err != nil {
		t.Fatalf("roles file: %v", err)
	}
	return r
}

// logBuffer collects a server's log lines; it is safe for concurrent use.
type logBuffer struct{ SyncBuffer }

// lines returns the JSON log records written so far.
func (b *logBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// warnings are the WARN records that name role.
func (b *logBuffer) warnings(t testing.TB, role string) []map[string]any {
	var out []map[string]any
	for _, rec := range b.lines(t) {
		if rec["level"] == "WARN" && rec["role"] == role {
			out = append(out, rec)
		}
	}
	return out
}

// assume is STS AssumeRoleWithWebIdentity with an idpool token, unsigned.
func assume(t testing.TB, env *Env, role, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	t.Helper()
	return env.STSClient(aws.AnonymousCredentials{}).AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("trust-test"), WebIdentityToken: aws.String(token),
	})
}

// TestTrustPermissiveWarns: without a roles file, permissive mode lets any
// token become any role, as before, but says in the log when the role is
// not one the token's pool names for it; strict mode (test/strict) and AWS
// refuse those.
func TestTrustPermissiveWarns(t *testing.T) {
	var log logBuffer
	env := Start(t, Options{Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	w := worldIn(t, env, loginPoolInput("permissive-trust"))
	w.setRoles(t, defaultRoles, nil)
	guest := w.getID(t, nil)
	guestToken := aws.ToString(w.openID(t, guest, nil).Token)
	dev := aws.ToString(w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("warned")}).Token)

	for _, tc := range []struct {
		name, token, role string
		warned            bool
	}{
		{"guest as the unauthenticated role", guestToken, unauthRole, false},
		{"guest as the authenticated role", guestToken, authRole, true},
		{"guest as another account's role", guestToken, foreignRole, true},
		{"developer user as the authenticated role", dev, authRole, false},
		{"developer user as the unauthenticated role", dev, unauthRole, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(log.warnings(t, tc.role))
			out, err := assume(t, env, tc.role, tc.token)
			if err != nil {
				t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
			}
			if got := aws.ToString(out.AssumedRoleUser.Arn); got != assumedRole(tc.role, "trust-test") {
				t.Errorf("assumed %s", got)
			}
			got := log.warnings(t, tc.role)[before:]
			if tc.warned != (len(got) == 1) {
				t.Fatalf("warnings for %s: %v, want warned=%v", tc.role, got, tc.warned)
			}
			if tc.warned && (got[0]["pool"] != w.pool || got[0]["flow"] != "basic") {
				t.Errorf("warning %v does not name the pool and the flow", got[0])
			}
		})
	}
	for _, rec := range log.lines(t) {
		for _, v := range rec {
			if s, ok := v.(string); ok && (strings.Contains(s, guestToken) || strings.Contains(s, dev)) {
				t.Fatalf("a token reached the log: %v", rec)
			}
		}
	}
}

// trustWorld is a pool of account A whose roles a roles file governs: the
// server is started once to create the pool (its id is random), then
// again on the same database with the roles file, as an operator would.
func trustWorld(t *testing.T, policies func(pool string) map[string]any) (*world, *logBuffer) {
	t.Helper()
	first := Start(t, Options{})
	w := worldIn(t, first, loginPoolInput("governed"))
	w.setRoles(t, defaultRoles, nil)
	first.Close()
	log := &logBuffer{}
	env := Start(t, Options{DBPath: first.DBPath, Roles: rolesOf(t, policies(w.pool)), Logger: slog.New(slog.NewJSONHandler(log, nil))})
	return &world{env: env, admin: env.Client(AccountA, USEast1), app: env.PublicClient(USEast1), pool: w.pool}, log
}

// TestTrustRolesFileDecidesBothFlows: the roles file's policies decide the
// enhanced flow (GetCredentialsForIdentity) and the basic flow (STS
// AssumeRoleWithWebIdentity) alike, in permissive mode too.
func TestTrustRolesFileDecidesBothFlows(t *testing.T) {
	otherPool := "us-east-1:00000000-0000-4000-8000-000000000000"
	w, log := trustWorld(t, func(pool string) map[string]any {
		denyGuests := consolePolicy(pool, "*")
		denyGuests["Statement"] = append(denyGuests["Statement"].([]any), map[string]any{
			"Sid": "NoGuests", "Effect": "Deny", "Principal": map[string]any{"Federated": "cognito-identity.amazonaws.com"},
			"Action": "sts:*", "Condition": map[string]any{"ForAnyValue:StringLike": map[string]any{"cognito-identity.amazonaws.com:amr": "unauthenticated"}},
		})
		return map[string]any{
			unauthRole: consolePolicy(pool, "unauthenticated"),
			// The authenticated role trusts another pool only.
			authRole:   consolePolicy(otherPool, "authenticated"),
			adminRole:  denyGuests,
			taggedRole: consolePolicy(pool, "authenticated"),
			// IAM's string form of the document.
			readerRole: string(mustJSON(t, consolePolicy(pool, "authenticated", "sts:AssumeRoleWithWebIdentity", "sts:TagSession"))),
		}
	})
	env := w.env
	guest := w.getID(t, nil)
	guestToken := aws.ToString(w.openID(t, guest, nil).Token)
	dev := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("governed-user")})
	devTagged := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		Logins: devLogin("governed-user"), PrincipalTags: map[string]string{"dept": "eng"}})

	t.Run("enhanced flow: a guest becomes the unauthenticated role", func(t *testing.T) {
		out := w.credentials(t, guest, nil, "")
		if got := roleOf(t, env, out.Credentials); got != assumedRole(unauthRole, "CognitoIdentityCredentials") {
			t.Errorf("guest credentials are %s", got)
		}
	})
	t.Run("enhanced flow: the authenticated role trusts another pool", func(t *testing.T) {
		_, err := w.credentialsErr(t, aws.ToString(dev.IdentityId), map[string]string{cognitoKey: aws.ToString(dev.Token)}, "")
		APIError(t, err, "InvalidIdentityPoolConfigurationException", msgInvalidPoolConfig)
	})

	for _, tc := range []struct {
		name, token, role string
		allowed           bool
	}{
		{"guest as the unauthenticated role", guestToken, unauthRole, true},
		{"guest as the authenticated role (another pool's)", guestToken, authRole, false},
		{"developer user as the authenticated role (another pool's)", aws.ToString(dev.Token), authRole, false},
		{"developer user as the unauthenticated role", aws.ToString(dev.Token), unauthRole, false},
		{"explicit Deny beats Allow for a guest", guestToken, adminRole, false},
		{"Allow without a Deny for a developer user", aws.ToString(dev.Token), adminRole, true},
		{"untagged session without sts:TagSession", aws.ToString(dev.Token), taggedRole, true},
		{"tagged session without sts:TagSession", aws.ToString(devTagged.Token), taggedRole, false},
		{"tagged session with sts:TagSession (string form)", aws.ToString(devTagged.Token), readerRole, true},
		{"a role the file does not list (permissive: allowed)", guestToken, foreignRole, true},
	} {
		t.Run("basic flow: "+tc.name, func(t *testing.T) {
			out, err := assume(t, env, tc.role, tc.token)
			if !tc.allowed {
				STSError(t, err, "AccessDenied", msgNotAuthorizedToAssume, 403)
				return
			}
			if err != nil {
				t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
			}
			c := out.Credentials
			who, err := env.STSClient(static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))).
				GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity: %v", err)
			}
			if aws.ToString(who.Arn) != assumedRole(tc.role, "trust-test") {
				t.Errorf("caller %s", aws.ToString(who.Arn))
			}
		})
	}

	// The refusals are logged with their reason, for the operator.
	var refusals int
	for _, rec := range log.lines(t) {
		if rec["msg"] == "the role's trust policy refused the token" && rec["why"] != "" {
			refusals++
		}
	}
	if refusals != 6 {
		t.Errorf("%d refusals logged with a reason, want 6", refusals)
	}
}

// TestTrustRolesFileTagsInTheEnhancedFlow: credentials that carry
// principal tags need sts:TagSession in the enhanced flow too.
func TestTrustRolesFileTagsInTheEnhancedFlow(t *testing.T) {
	w, _ := trustWorld(t, func(pool string) map[string]any {
		return map[string]any{authRole: consolePolicy(pool, "authenticated")}
	})
	plain := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("plain")})
	if _, err := w.credentialsErr(t, aws.ToString(plain.IdentityId), map[string]string{cognitoKey: aws.ToString(plain.Token)}, ""); err != nil {
		t.Fatalf("untagged developer credentials: %v", err)
	}
	tagged := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		Logins: devLogin("tagged"), PrincipalTags: map[string]string{"dept": "eng"}})
	_, err := w.credentialsErr(t, aws.ToString(tagged.IdentityId), map[string]string{cognitoKey: aws.ToString(tagged.Token)}, "")
	APIError(t, err, "InvalidIdentityPoolConfigurationException", msgInvalidPoolConfig)
}

// TestTrustPolicyKeysOfTheEnhancedFlow: the policy sees, in the enhanced
// flow, the amr and sub of the token AWS would mint for the request: the
// identity's id, and the providers of the developer token and of the
// logins that came with it, each once.
func TestTrustPolicyKeysOfTheEnhancedFlow(t *testing.T) {
	w, _ := trustWorld(t, func(pool string) map[string]any {
		viaFacebook := consolePolicy(pool, "authenticated")
		cond := viaFacebook["Statement"].([]any)[0].(map[string]any)["Condition"].(map[string]any)
		// Facebook's qualified amr entry, and the developer provider's, each
		// present: both logins must reach the policy.
		cond["ForAnyValue:StringEquals"] = map[string]any{"cognito-identity.amazonaws.com:amr": fb + ":" + fbApp + ":fb-dana"}
		cond["ForAnyValue:StringLike"] = map[string]any{"cognito-identity.amazonaws.com:amr": []string{devProvider}}
		return map[string]any{authRole: viaFacebook}
	})
	dev := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("dana")})
	id := aws.ToString(dev.IdentityId)
	_, err := w.credentialsErr(t, id, map[string]string{cognitoKey: aws.ToString(dev.Token)}, "")
	APIError(t, err, "InvalidIdentityPoolConfigurationException", msgInvalidPoolConfig)
	out := w.credentials(t, id, map[string]string{cognitoKey: aws.ToString(dev.Token), fb: "fb-dana"}, "")
	if got := roleOf(t, w.env, out.Credentials); got != assumedRole(authRole, "CognitoIdentityCredentials") {
		t.Errorf("credentials of %s", got)
	}
}

// TestTrustPolicyOnSub: a policy that admits one identity (sub) admits it
// in both flows and no other identity of the pool.
func TestTrustPolicyOnSub(t *testing.T) {
	// The first server makes the identity whose id the policy names.
	first := Start(t, Options{})
	w := worldIn(t, first, loginPoolInput("by-sub"))
	w.setRoles(t, defaultRoles, nil)
	chosen := w.getID(t, nil)
	first.Close()
	policy := consolePolicy(w.pool, "unauthenticated")
	cond := policy["Statement"].([]any)[0].(map[string]any)["Condition"].(map[string]any)
	cond["StringEquals"].(map[string]any)["cognito-identity.amazonaws.com:sub"] = chosen
	env := Start(t, Options{DBPath: first.DBPath, Roles: rolesOf(t, map[string]any{unauthRole: policy})})
	w = &world{env: env, admin: env.Client(AccountA, USEast1), app: env.PublicClient(USEast1), pool: w.pool}
	other := w.getID(t, nil)

	w.credentials(t, chosen, nil, "")
	_, err := w.credentialsErr(t, other, nil, "")
	APIError(t, err, "InvalidIdentityPoolConfigurationException", msgInvalidPoolConfig)
	if _, err := assume(t, env, unauthRole, aws.ToString(w.openID(t, chosen, nil).Token)); err != nil {
		t.Errorf("the chosen identity's token: %v", err)
	}
	_, err = assume(t, env, unauthRole, aws.ToString(w.openID(t, other, nil).Token))
	STSError(t, err, "AccessDenied", msgNotAuthorizedToAssume, 403)
}

// TestSTSRefusesMalformedRoleARNs: a role ARN that is not one IAM could
// hold is refused before any policy is looked up, so that no spelling of
// an ARN gets around the policy of the role it names.
func TestSTSRefusesMalformedRoleARNs(t *testing.T) {
	w := newWorld(t, loginPoolInput("arns"))
	w.setRoles(t, defaultRoles, nil)
	token := aws.ToString(w.openID(t, w.getID(t, nil), nil).Token)
	for _, arn := range []string{"arn:aws:iam::111111111111:role/a b", "arn:aws:iam::111111111111:user/Admins", "arn:aws:s3::111111111111:role/x"} {
		_, err := assume(t, w.env, arn, token)
		STSError(t, err, "ValidationError", arn+" is invalid", 400)
	}
}

// TestSAMLOnlyInTheEnhancedFlow: GetOpenIdToken (the basic flow) refuses
// SAML logins, as AWS does; GetId and GetCredentialsForIdentity take them.
func TestSAMLOnlyInTheEnhancedFlow(t *testing.T) {
	w := newWorld(t, loginPoolInput("saml-basic"))
	w.setRoles(t, defaultRoles, nil)
	logins := map[string]string{samlARN: samlResponse("saml-carol")}
	id := w.getID(t, logins)
	const msg = "Basic (classic) flow is not supported with SAML, please use enhanced flow."
	APIError(t, w.openIDErr(t, id, logins), "InvalidParameterException", msg)
	// An assertion that could not even be read is refused for the flow
	// first.
	APIError(t, w.openIDErr(t, id, map[string]string{samlARN: "not-base64"}), "InvalidParameterException", msg)
	// A developer token is an OpenID token too.
	APIError(t, w.developerErr(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		Logins: map[string]string{devProvider: "saml-user", samlARN: samlResponse("saml-carol")}}), "InvalidParameterException", msg)
	w.credentials(t, id, logins, "")
}
