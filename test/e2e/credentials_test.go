package e2e

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idpool/idpool/internal/server"
	idpsts "github.com/idpool/idpool/internal/sts"
	"github.com/idpool/idpool/internal/tokens"
)

// Roles chosen by role-mapping rules. RuleNotEqual lives in another
// account: the session's account is the role's.
const (
	roleEquals     = "arn:aws:iam::111111111111:role/RuleEquals"
	roleContains   = "arn:aws:iam::111111111111:role/RuleContains"
	roleStartsWith = "arn:aws:iam::111111111111:role/RuleStartsWith"
	roleNotEqual   = "arn:aws:iam::333333333333:role/rules/RuleNotEqual"
)

const msgInvalidPoolConfig = "Invalid identity pool configuration. Check assigned IAM roles for this pool."

var (
	accessKeyPattern = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)
	defaultRoles     = map[string]string{"authenticated": authRole, "unauthenticated": unauthRole}
)

// assumedRole is the principal of credentials minted for role.
func assumedRole(role, session string) string {
	account := strings.Split(role, ":")[4]
	return "arn:aws:sts::" + account + ":assumed-role/" + role[strings.LastIndex(role, "/")+1:] + "/" + session
}

func (w *world) setRoles(t testing.TB, roles map[string]string, mappings map[string]types.RoleMapping) {
	t.Helper()
	if _, err := w.admin.SetIdentityPoolRoles(t.Context(), &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: aws.String(w.pool), Roles: roles, RoleMappings: mappings,
	}); err != nil {
		t.Fatalf("SetIdentityPoolRoles: %v", err)
	}
}

func (w *world) credentials(t testing.TB, id string, logins map[string]string, customRole string) *cognitoidentity.GetCredentialsForIdentityOutput {
	t.Helper()
	out, err := w.credentialsErr(t, id, logins, customRole)
	if err != nil {
		t.Fatalf("GetCredentialsForIdentity %s %v: %v", id, keys(logins), err)
	}
	return out
}

func (w *world) credentialsErr(t testing.TB, id string, logins map[string]string, customRole string) (*cognitoidentity.GetCredentialsForIdentityOutput, error) {
	t.Helper()
	in := &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(id), Logins: logins}
	if customRole != "" {
		in.CustomRoleArn = aws.String(customRole)
	}
	return w.app.GetCredentialsForIdentity(t.Context(), in)
}

// caller asks the server's STS who the credentials are.
func caller(t testing.TB, env *Env, c *types.Credentials) *sts.GetCallerIdentityOutput {
	t.Helper()
	client := env.STSClient(credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken)))
	out, err := client.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return out
}

// roleOf is the principal ARN of credentials, as STS reports it.
func roleOf(t testing.TB, env *Env, c *types.Credentials) string {
	t.Helper()
	return aws.ToString(caller(t, env, c).Arn)
}

// session opens a session token. The harness's servers have no secret of
// their own: they seal with server.InsecureDevelopmentSecret, which is
// public, so a test can read what the session carries (its principal
// tags), as the server's STS does.
func session(t testing.TB, token string) *idpsts.Session {
	t.Helper()
	m, err := idpsts.NewMinter([][]byte{server.InsecureDevelopmentSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Open(token)
	if err != nil {
		t.Fatalf("open session token: %v", err)
	}
	return s
}

// checkCredentials checks the form of minted credentials and their
// lifetime of one hour from the server's now.
func checkCredentials(t testing.TB, env *Env, c *types.Credentials) {
	t.Helper()
	if c == nil {
		t.Fatal("no Credentials")
	}
	if !accessKeyPattern.MatchString(aws.ToString(c.AccessKeyId)) {
		t.Errorf("AccessKeyId %q does not match %s", aws.ToString(c.AccessKeyId), accessKeyPattern)
	}
	if n := len(aws.ToString(c.SecretKey)); n != 40 {
		t.Errorf("SecretKey has %d characters, want 40", n)
	}
	if aws.ToString(c.SessionToken) == "" {
		t.Errorf("no SessionToken")
	}
	if c.Expiration == nil {
		t.Fatalf("no Expiration")
	}
	if d := c.Expiration.Sub(env.Clock.Peek().Add(time.Hour)); math.Abs(d.Seconds()) > 2 {
		t.Errorf("Expiration %v is %v away from the server's now + 1h", c.Expiration, d)
	}
}

func TestGetCredentialsForIdentity(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("credentials"))
	w.setRoles(t, defaultRoles, nil)

	t.Run("guest gets the unauthenticated role", func(t *testing.T) {
		guest := w.getID(t, nil)
		out := w.credentials(t, guest, nil, "")
		if aws.ToString(out.IdentityId) != guest {
			t.Errorf("IdentityId %s, want %s", aws.ToString(out.IdentityId), guest)
		}
		checkCredentials(t, env, out.Credentials)
		who := caller(t, env, out.Credentials)
		if got, want := aws.ToString(who.Arn), assumedRole(unauthRole, "CognitoIdentityCredentials"); got != want {
			t.Errorf("caller %s, want %s", got, want)
		}
		if aws.ToString(who.Account) != AccountA || !regexp.MustCompile(`^AROA[A-Z2-7]{17}:CognitoIdentityCredentials$`).MatchString(aws.ToString(who.UserId)) {
			t.Errorf("caller account %s user id %s", aws.ToString(who.Account), aws.ToString(who.UserId))
		}
		s := session(t, aws.ToString(out.Credentials.SessionToken))
		if s.IdentityID != guest || s.PoolID != w.pool || s.RoleARN != unauthRole || s.PrincipalTags != nil {
			t.Errorf("session %+v", s)
		}
		// Every call mints new credentials.
		again := w.credentials(t, guest, nil, "")
		if aws.ToString(again.Credentials.AccessKeyId) == aws.ToString(out.Credentials.AccessKeyId) {
			t.Errorf("two calls minted the same access key")
		}
	})

	t.Run("login without a mapping gets the authenticated role", func(t *testing.T) {
		id := w.getID(t, map[string]string{fb: "cred-alice"})
		out := w.credentials(t, id, map[string]string{fb: "cred-alice"}, "")
		checkCredentials(t, env, out.Credentials)
		if got, want := roleOf(t, env, out.Credentials), assumedRole(authRole, "CognitoIdentityCredentials"); got != want {
			t.Errorf("caller %s, want %s", got, want)
		}
	})

	t.Run("guest signs in through GetCredentialsForIdentity", func(t *testing.T) {
		guest := w.getID(t, nil)
		out := w.credentials(t, guest, map[string]string{amazon: "cred-bob"}, "")
		if aws.ToString(out.IdentityId) != guest {
			t.Errorf("IdentityId %s, want the guest %s", aws.ToString(out.IdentityId), guest)
		}
		wantEqual(t, "logins", w.linked(t, guest), []string{amazon})
		if got, want := roleOf(t, env, out.Credentials), assumedRole(authRole, "CognitoIdentityCredentials"); got != want {
			t.Errorf("caller %s, want %s", got, want)
		}
	})

	t.Run("role of another account", func(t *testing.T) {
		w.setRoles(t, map[string]string{"authenticated": authRole, "unauthenticated": roleNotEqual}, nil)
		defer w.setRoles(t, defaultRoles, nil)
		out := w.credentials(t, w.getID(t, nil), nil, "")
		who := caller(t, env, out.Credentials)
		if aws.ToString(who.Account) != "333333333333" || aws.ToString(who.Arn) != "arn:aws:sts::333333333333:assumed-role/RuleNotEqual/CognitoIdentityCredentials" {
			t.Errorf("caller %s in %s", aws.ToString(who.Arn), aws.ToString(who.Account))
		}
	})

	noRoles := worldIn(t, env, loginPoolInput("no-roles"))
	authOnly := worldIn(t, env, loginPoolInput("auth-only"))
	authOnly.setRoles(t, map[string]string{"authenticated": authRole}, nil)
	unauthOnly := worldIn(t, env, loginPoolInput("unauth-only"))
	unauthOnly.setRoles(t, map[string]string{"unauthenticated": unauthRole}, nil)
	user := w.getID(t, map[string]string{fb: "cred-carol"})
	merged := w.getID(t, map[string]string{amazon: "cred-merged"})
	w.getID(t, map[string]string{fb: "cred-carol", amazon: "cred-merged"})
	missing := "us-east-1:00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct {
		name      string
		w         *world
		id        func() string
		logins    map[string]string
		code, msg string
	}{
		{"guest of a pool without roles", noRoles, func() string { return noRoles.getID(t, nil) }, nil, "InvalidIdentityPoolConfigurationException", msgInvalidPoolConfig},
		{"user of a pool without roles", noRoles, func() string { return noRoles.getID(t, map[string]string{fb: "x"}) }, map[string]string{fb: "x"}, "InvalidIdentityPoolConfigurationException", msgInvalidPoolConfig},
		{"guest of a pool with only the authenticated role", authOnly, func() string { return authOnly.getID(t, nil) }, nil, "InvalidIdentityPoolConfigurationException", msgInvalidPoolConfig},
		{"user of a pool with only the unauthenticated role", unauthOnly, func() string { return unauthOnly.getID(t, map[string]string{fb: "x"}) }, map[string]string{fb: "x"}, "InvalidIdentityPoolConfigurationException", msgInvalidPoolConfig},
		{"authenticated identity without logins", w, func() string { return user }, nil, "NotAuthorizedException", msgLoginsMismatch},
		{"authenticated identity with a login of nobody", w, func() string { return user }, map[string]string{google: googleToken("cred-nobody")}, "NotAuthorizedException", msgLoginsMismatch},
		{"invalid token", w, func() string { return user }, map[string]string{fb: "cred-carol", oidcIssuer: "junk"}, "NotAuthorizedException", msgNotOIDC},
		{"developer provider key", w, func() string { return user }, map[string]string{devProvider: "cred-carol"}, "NotAuthorizedException", msgUnsupported},
		{"unknown identity", w, func() string { return missing }, nil, "ResourceNotFoundException", identityNotFound(missing)},
		{"merged-away identity", w, func() string { return merged }, map[string]string{amazon: "cred-merged"}, "NotAuthorizedException", forbidden(merged)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.w.credentialsErr(t, tc.id(), tc.logins, "")
			APIError(t, err, tc.code, tc.msg)
		})
	}
}

// TestGetCredentialsDeveloperFlow passes the backend's token as the
// cognito-identity.amazonaws.com login (the enhanced developer flow).
func TestGetCredentialsDeveloperFlow(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("developer-flow"))
	// A mapping for the developer provider's users would not apply:
	// developer identities always get the authenticated role.
	w.setRoles(t, defaultRoles, map[string]types.RoleMapping{
		fb: {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny, RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
			{Claim: aws.String("sub"), MatchType: types.MappingRuleMatchTypeEquals, Value: aws.String("nobody"), RoleARN: aws.String(adminRole)},
		}}},
	})
	other := worldIn(t, env, loginPoolInput("other"))

	dev := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		Logins: devLogin("flow-user"), PrincipalTags: map[string]string{"dept": "eng", "level": "3"},
	})
	id, token := aws.ToString(dev.IdentityId), aws.ToString(dev.Token)

	t.Run("developer token", func(t *testing.T) {
		out := w.credentials(t, id, map[string]string{cognitoKey: token}, "")
		if aws.ToString(out.IdentityId) != id {
			t.Errorf("IdentityId %s, want %s", aws.ToString(out.IdentityId), id)
		}
		checkCredentials(t, env, out.Credentials)
		if got, want := roleOf(t, env, out.Credentials), assumedRole(authRole, "CognitoIdentityCredentials"); got != want {
			t.Errorf("caller %s, want %s", got, want)
		}
		wantEqual(t, "session tags", session(t, aws.ToString(out.Credentials.SessionToken)).PrincipalTags, map[string]string{"dept": "eng", "level": "3"})
	})
	t.Run("developer token and a new public login", func(t *testing.T) {
		out := w.credentials(t, id, map[string]string{cognitoKey: token, fb: "flow-fb"}, "")
		if aws.ToString(out.IdentityId) != id {
			t.Errorf("IdentityId %s, want %s", aws.ToString(out.IdentityId), id)
		}
		wantEqual(t, "logins", w.linked(t, id), []string{fb, devProvider})
	})
	t.Run("guest's own token", func(t *testing.T) {
		guest := w.getID(t, nil)
		tok := aws.ToString(w.openID(t, guest, nil).Token)
		out := w.credentials(t, guest, map[string]string{cognitoKey: tok}, "")
		if got, want := roleOf(t, env, out.Credentials), assumedRole(unauthRole, "CognitoIdentityCredentials"); got != want {
			t.Errorf("caller %s, want %s", got, want)
		}
	})

	otherUser := w.devID(t, "flow-other", nil)
	foreign := other.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("flow-user")})
	parts := strings.Split(token, ".")
	tampered := payload(t, token)
	tampered["amr"] = []string{"authenticated", "admin"}
	forged := signRS512(t, "us-east-11", map[string]any{"sub": id, "aud": w.pool, "amr": []string{"authenticated"}, "iss": env.Issuer,
		"exp": env.Clock.Peek().Add(time.Hour).Unix(), "iat": env.Clock.Peek().Unix()})
	const msgCouldNotVerify = "Invalid login token. Couldn't verify signed token."
	for _, tc := range []struct {
		name      string
		id, token string
		code, msg string
	}{
		{"token of another identity", otherUser, token, "NotAuthorizedException", msgLoginsMismatch},
		{"token of another pool", aws.ToString(foreign.IdentityId), token, "NotAuthorizedException", msgUnsupported},
		{"token of the other pool for this identity", id, aws.ToString(foreign.Token), "NotAuthorizedException", msgUnsupported},
		{"tampered payload", id, parts[0] + "." + b64.EncodeToString(mustJSON(t, tampered)) + "." + parts[2], "NotAuthorizedException", msgCouldNotVerify},
		{"tampered signature", id, parts[0] + "." + parts[1] + "." + flip(parts[2]), "NotAuthorizedException", msgCouldNotVerify},
		{"signed with another key", id, forged, "NotAuthorizedException", msgCouldNotVerify},
		{"not a token", id, "garbage", "NotAuthorizedException", msgCouldNotVerify},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.credentialsErr(t, tc.id, map[string]string{cognitoKey: tc.token}, "")
			APIError(t, err, tc.code, tc.msg)
		})
	}

	t.Run("expired token", func(t *testing.T) {
		short := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("flow-user"), TokenDuration: aws.Int64(60)})
		exp := time.Unix(int64(payload(t, aws.ToString(short.Token))["exp"].(float64)), 0)
		// Valid until the last second of AWS's five minutes of clock skew
		// past exp.
		env.Clock.Set(exp.Add(tokens.ClockSkew - time.Second))
		if _, err := w.credentialsErr(t, id, map[string]string{cognitoKey: aws.ToString(short.Token)}, ""); err != nil {
			t.Fatalf("GetCredentialsForIdentity a second before the end of the grace: %v", err)
		}
		now := exp.Add(tokens.ClockSkew)
		env.Clock.Set(now)
		_, err := w.credentialsErr(t, id, map[string]string{cognitoKey: aws.ToString(short.Token)}, "")
		APIError(t, err, "NotAuthorizedException", expired(exp, now))
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGetCredentialsRoleMappings resolves roles through Token and Rules
// mappings (docs/behaviour.md §7).
func TestGetCredentialsRoleMappings(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("mappings"))
	rule := func(claim string, match types.MappingRuleMatchType, value, role string) types.MappingRule {
		return types.MappingRule{Claim: aws.String(claim), MatchType: match, Value: aws.String(value), RoleARN: aws.String(role)}
	}
	w.setRoles(t, defaultRoles, map[string]types.RoleMapping{
		userPool1 + ":client1": {Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole},
		userPool1 + ":client2": {Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny},
		userPool2 + ":client_3": {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny, RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
			rule("email", types.MappingRuleMatchTypeStartsWith, "ops@", roleStartsWith),
			rule("custom:tier", types.MappingRuleMatchTypeEquals, "gold", roleEquals),
			rule("cognito:groups", types.MappingRuleMatchTypeContains, "admin", roleContains),
		}}},
		oidcIssuer: {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole, RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
			rule("dept", types.MappingRuleMatchTypeNotEqual, "sales", roleNotEqual),
		}}},
		fb: {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole, RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
			rule("sub", types.MappingRuleMatchTypeEquals, "fb-vip", roleEquals),
		}}},
	})
	up1 := func(client, sub string, claims map[string]any) map[string]string {
		return map[string]string{userPool1: userPoolToken(userPool1, client, sub, claims)}
	}
	up2 := func(sub string, claims map[string]any) map[string]string {
		return map[string]string{userPool2: userPoolToken(userPool2, "client_3", sub, claims)}
	}
	oidc := func(sub string, claims map[string]any) map[string]string {
		return map[string]string{oidcIssuer: oidcToken(sub, claims)}
	}
	denied := func(key string) string {
		return "The ambiguous role mapping rules for: " + key + " denied this request."
	}
	notOffered := func(role string) string {
		return "CustomRoleArn '" + role + "' is not one of the roles granted to this user by the identity provider."
	}
	both := []any{adminRole, readerRole}

	tests := []struct {
		name       string
		logins     map[string]string
		customRole string
		role       string // the role of the credentials, or
		code, msg  string // the refusal
	}{
		{name: "Token: cognito:preferred_role", logins: up1("client1", "t1", map[string]any{"cognito:preferred_role": adminRole, "cognito:roles": both}), role: adminRole},
		{name: "Token: CustomRoleArn among cognito:roles", logins: up1("client1", "t2", map[string]any{"cognito:roles": both}), customRole: readerRole, role: readerRole},
		{name: "Token: CustomRoleArn over cognito:preferred_role", logins: up1("client1", "t3", map[string]any{"cognito:preferred_role": adminRole, "cognito:roles": both}), customRole: readerRole, role: readerRole},
		{name: "Token: comma-separated cognito:roles", logins: up1("client1", "t4", map[string]any{"cognito:roles": adminRole + "," + readerRole}), customRole: readerRole, role: readerRole},
		{name: "Token: CustomRoleArn not among cognito:roles", logins: up1("client1", "t5", map[string]any{"cognito:roles": []any{adminRole}}), customRole: readerRole, code: "NotAuthorizedException", msg: notOffered(readerRole)},
		{name: "Token: only cognito:roles is ambiguous, AuthenticatedRole", logins: up1("client1", "t6", map[string]any{"cognito:roles": both}), role: authRole},
		{name: "Token: no role claims is ambiguous, AuthenticatedRole", logins: up1("client1", "t7", nil), role: authRole},
		{name: "Token: ambiguous, Deny", logins: up1("client2", "t8", map[string]any{"cognito:roles": both}), code: "NotAuthorizedException", msg: denied(userPool1 + ":client2")},
		{name: "Token: the mapping of the token's client", logins: up1("client2", "t9", map[string]any{"cognito:preferred_role": adminRole}), role: adminRole},
		{name: "Rules: StartsWith", logins: up2("r1", map[string]any{"email": "ops@example.com"}), role: roleStartsWith},
		{name: "Rules: Equals", logins: up2("r2", map[string]any{"custom:tier": "gold"}), role: roleEquals},
		{name: "Rules: Equals is exact", logins: up2("r3", map[string]any{"custom:tier": "golden"}), code: "NotAuthorizedException", msg: denied(userPool2 + ":client_3")},
		{name: "Rules: Contains in an array claim", logins: up2("r4", map[string]any{"cognito:groups": []any{"users", "team-admins"}}), role: roleContains},
		{name: "Rules: StartsWith is a prefix", logins: up2("r5", map[string]any{"email": "devops@example.com"}), code: "NotAuthorizedException", msg: denied(userPool2 + ":client_3")},
		{name: "Rules: the first matching rule wins", logins: up2("r6", map[string]any{"email": "ops@example.com", "custom:tier": "gold", "cognito:groups": []any{"admin"}}), role: roleStartsWith},
		{name: "Rules: CustomRoleArn among the matching rules", logins: up2("r7", map[string]any{"email": "ops@example.com", "custom:tier": "gold"}), customRole: roleEquals, role: roleEquals},
		{name: "Rules: CustomRoleArn of a rule that does not match", logins: up2("r8", map[string]any{"email": "ops@example.com"}), customRole: roleContains, code: "NotAuthorizedException", msg: notOffered(roleContains)},
		{name: "Rules: no rule matches, Deny", logins: up2("r9", nil), code: "NotAuthorizedException", msg: denied(userPool2 + ":client_3")},
		{name: "Rules: NotEqual on a different value", logins: oidc("n1", map[string]any{"dept": "eng"}), role: roleNotEqual},
		{name: "Rules: NotEqual on the value, AuthenticatedRole", logins: oidc("n2", map[string]any{"dept": "sales"}), role: authRole},
		{name: "Rules: NotEqual skips an absent claim", logins: oidc("n3", nil), role: authRole},
		{name: "Rules: Facebook's sub", logins: map[string]string{fb: "fb-vip"}, role: roleEquals},
		{name: "Rules: Facebook, no match, AuthenticatedRole", logins: map[string]string{fb: "fb-regular"}, role: authRole},
		{name: "no mapping for the provider", logins: map[string]string{amazon: "amzn-user"}, role: authRole},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := w.getID(t, tc.logins)
			out, err := w.credentialsErr(t, id, tc.logins, tc.customRole)
			if tc.code != "" {
				APIError(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("GetCredentialsForIdentity: %v", err)
			}
			if got, want := roleOf(t, env, out.Credentials), assumedRole(tc.role, "CognitoIdentityCredentials"); got != want {
				t.Errorf("caller %s, want %s", got, want)
			}
		})
	}
}

// TestGetCredentialsPrincipalTags maps token claims to session tags with
// SetPrincipalTagAttributeMap.
func TestGetCredentialsPrincipalTags(t *testing.T) {
	w := newWorld(t, loginPoolInput("tags"))
	w.setRoles(t, defaultRoles, nil)
	if _, err := w.admin.SetPrincipalTagAttributeMap(t.Context(), &cognitoidentity.SetPrincipalTagAttributeMapInput{
		IdentityPoolId: aws.String(w.pool), IdentityProviderName: aws.String(userPool1), UseDefaults: aws.Bool(false),
		PrincipalTags: map[string]string{"dept": "custom:dept", "mail": "email"},
	}); err != nil {
		t.Fatalf("SetPrincipalTagAttributeMap: %v", err)
	}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		want   map[string]string
	}{
		{"every claim present", map[string]any{"custom:dept": "eng", "email": "a@example.com"}, map[string]string{"dept": "eng", "mail": "a@example.com"}},
		{"a claim absent", map[string]any{"email": "b@example.com"}, map[string]string{"mail": "b@example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logins := map[string]string{userPool1: userPoolToken(userPool1, "client1", "tag-"+tc.name, tc.claims)}
			out := w.credentials(t, w.getID(t, logins), logins, "")
			wantEqual(t, "session tags", session(t, aws.ToString(out.Credentials.SessionToken)).PrincipalTags, tc.want)
		})
	}
	t.Run("provider without a tag map", func(t *testing.T) {
		logins := map[string]string{fb: "tagless"}
		out := w.credentials(t, w.getID(t, logins), logins, "")
		if tags := session(t, aws.ToString(out.Credentials.SessionToken)).PrincipalTags; tags != nil {
			t.Errorf("session tags %v, want none", tags)
		}
	})
}

// samlResponse is a base64 SAML response for nameID offering roles (each
// paired with the pool's SAML provider).
func samlResponse(nameID string, roles ...string) string {
	var attr string
	if len(roles) > 0 {
		attr = `<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">`
		for _, r := range roles {
			attr += `<saml:AttributeValue>` + r + `,` + samlARN + `</saml:AttributeValue>`
		}
		attr += `</saml:Attribute></saml:AttributeStatement>`
	}
	xml := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
		`<saml:Assertion><saml:Subject><saml:NameID>` + nameID + `</saml:NameID></saml:Subject>` + attr + `</saml:Assertion></samlp:Response>`
	return base64.StdEncoding.EncodeToString([]byte(xml))
}

// TestGetCredentialsSAML takes the user from the assertion's NameID and,
// without a role mapping, the role from its Role attribute.
func TestGetCredentialsSAML(t *testing.T) {
	w := newWorld(t, loginPoolInput("saml"))
	w.setRoles(t, defaultRoles, nil)

	id := w.getID(t, map[string]string{samlARN: samlResponse("saml-alice")})
	if again := w.getID(t, map[string]string{samlARN: samlResponse("saml-alice", adminRole)}); again != id {
		t.Errorf("another assertion for the same NameID found %s, want %s", again, id)
	}
	if other := w.getID(t, map[string]string{samlARN: samlResponse("saml-bob")}); other == id {
		t.Errorf("another NameID found %s", id)
	}
	wantEqual(t, "logins", w.linked(t, id), []string{samlARN})

	for _, tc := range []struct {
		name       string
		roles      []string
		customRole string
		role       string
		msg        string
	}{
		{"one role offered", []string{adminRole}, "", adminRole, ""},
		{"CustomRoleArn among the roles offered", []string{adminRole, readerRole}, readerRole, readerRole, ""},
		{"several roles without CustomRoleArn", []string{adminRole, readerRole}, "", authRole, ""},
		{"no Role attribute", nil, "", authRole, ""},
		{"CustomRoleArn not offered", []string{adminRole}, readerRole, "", "CustomRoleArn '" + readerRole + "' is not one of the roles granted to this user by the identity provider."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := w.credentialsErr(t, id, map[string]string{samlARN: samlResponse("saml-alice", tc.roles...)}, tc.customRole)
			if tc.msg != "" {
				APIError(t, err, "NotAuthorizedException", tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("GetCredentialsForIdentity: %v", err)
			}
			if got, want := roleOf(t, w.env, out.Credentials), assumedRole(tc.role, "CognitoIdentityCredentials"); got != want {
				t.Errorf("caller %s, want %s", got, want)
			}
		})
	}
}

// TestGetCredentialsMerge signs a guest in, through
// GetCredentialsForIdentity, with a login of another identity: the
// credentials are the other identity's, the guest is disabled.
func TestGetCredentialsMerge(t *testing.T) {
	w := newWorld(t, loginPoolInput("credentials-merge"))
	w.setRoles(t, defaultRoles, nil)
	owner := w.getID(t, map[string]string{fb: "merge-owner"})
	guest := w.getID(t, nil)
	out := w.credentials(t, guest, map[string]string{fb: "merge-owner"}, "")
	if aws.ToString(out.IdentityId) != owner {
		t.Errorf("IdentityId %s, want the login's identity %s", aws.ToString(out.IdentityId), owner)
	}
	if s := session(t, aws.ToString(out.Credentials.SessionToken)); s.IdentityID != owner {
		t.Errorf("session of identity %s, want %s", s.IdentityID, owner)
	}
	_, err := w.credentialsErr(t, guest, nil, "")
	APIError(t, err, "NotAuthorizedException", forbidden(guest))
}
