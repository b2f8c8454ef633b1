package strict

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idpool/idpool/internal/trust"
	"github.com/idpool/idpool/test/e2e"
)

// Roles of the trust tests.
const (
	ruleRole    = "arn:aws:iam::111111111111:role/Strict_Rule_Role"
	tokenRole   = "arn:aws:iam::111111111111:role/Strict_Group_Role"
	foreignRole = "arn:aws:iam::222222222222:role/Admin"
	// groupClient is the app client of the test issuer playing a user pool.
	groupClient = "strict_group_client"
	// notAuthorized is STS's refusal of a role the token may not become.
	notAuthorized = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
	// invalidConfig is the enhanced flow's refusal of the same.
	invalidConfig = "Invalid identity pool configuration. Check assigned IAM roles for this pool."
)

// tokens are idpool OpenID tokens of one pool: a guest's, a developer
// user's and an OIDC user's.
type tokens struct{ guest, developer, oidc string }

// poolTokens gets a token of each kind for pool.
func (e *env) poolTokens(t *testing.T, pool string) tokens {
	t.Helper()
	ctx := t.Context()
	a, pub := e.clientA(), e.public()
	guest, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
	must(t, err)
	gt, err := pub.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: guest.IdentityId})
	must(t, err)
	dev, err := a.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &pool, Logins: map[string]string{developer: "trusted-dev"}})
	must(t, err)
	login := map[string]string{e.oidc.key: e.oidc.token("oidc-user")}
	user, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool, Logins: login})
	must(t, err)
	ut, err := pub.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: user.IdentityId, Logins: login})
	must(t, err)
	return tokens{guest: aws.ToString(gt.Token), developer: aws.ToString(dev.Token), oidc: aws.ToString(ut.Token)}
}

// assume is STS AssumeRoleWithWebIdentity, unsigned as apps call it.
func (e *env) assume(t *testing.T, role, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	t.Helper()
	return e.STSClient(aws.AnonymousCredentials{}).AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("strict-trust"), WebIdentityToken: aws.String(token)})
}

// TestImplicitTrustPolicy: in strict mode, without a roles file, a token
// may become only a role its own pool names for it; a guest token only the
// unauthenticated role.
func TestImplicitTrustPolicy(t *testing.T) {
	e := start(t, options{})
	ctx := t.Context()
	a := e.clientA()
	pool := e.newPool(t, a, "implicit")
	_, err := a.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: &pool,
		Roles:          map[string]string{"authenticated": authRole, "unauthenticated": unauthRole},
		RoleMappings: map[string]types.RoleMapping{e.oidc.key: {
			Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole,
			RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
				{Claim: aws.String("email"), MatchType: types.MappingRuleMatchTypeContains, Value: aws.String("admin"), RoleARN: aws.String(ruleRole)},
			}},
		}},
	})
	must(t, err)
	tok := e.poolTokens(t, pool)

	for _, tc := range []struct {
		name, token, role string
		allowed           bool
	}{
		{"guest as the unauthenticated role", tok.guest, unauthRole, true},
		{"guest as the authenticated role", tok.guest, authRole, false},
		{"guest as a rule's role", tok.guest, ruleRole, false},
		{"guest as another account's admin", tok.guest, foreignRole, false},
		{"developer user as the authenticated role", tok.developer, authRole, true},
		{"developer user as a rule's role", tok.developer, ruleRole, true},
		{"developer user as the unauthenticated role", tok.developer, unauthRole, false},
		{"developer user as another account's admin", tok.developer, foreignRole, false},
		{"OIDC user as the authenticated role", tok.oidc, authRole, true},
		{"OIDC user as another account's admin", tok.oidc, foreignRole, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.assume(t, tc.role, tc.token)
			if !tc.allowed {
				e2e.STSError(t, err, "AccessDenied", notAuthorized, http.StatusForbidden)
				return
			}
			must(t, err)
			c := out.Credentials
			who, err := e.STSClient(static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))).
				GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			must(t, err)
			if aws.ToString(who.Account) != accountA {
				t.Errorf("caller account %s", aws.ToString(who.Account))
			}
		})
	}

	t.Run("enhanced flow: a guest gets the unauthenticated role", func(t *testing.T) {
		guest, err := e.public().GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
		must(t, err)
		_, err = e.public().GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: guest.IdentityId})
		must(t, err)
	})

	t.Run("a deleted pool names no role", func(t *testing.T) {
		_, err := a.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: &pool})
		must(t, err)
		_, err = e.assume(t, unauthRole, tok.guest)
		e2e.STSError(t, err, "AccessDenied", notAuthorized, http.StatusForbidden)
	})
}

// TestImplicitPolicyStaysInTheAccount: a pool's owner can name any ARN as
// a role of its pool, but the implicit policy admits only roles of the
// pool's own account; another account's role needs its trust policy in
// the roles file, as in IAM.
func TestImplicitPolicyStaysInTheAccount(t *testing.T) {
	e := start(t, options{})
	ctx := t.Context()
	a := e.clientA()
	pool := e.newPool(t, a, "foreign_roles")
	_, err := a.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: &pool, Roles: map[string]string{"authenticated": foreignRole, "unauthenticated": foreignRole}})
	must(t, err)
	tok := e.poolTokens(t, pool)
	for name, token := range map[string]string{"guest": tok.guest, "developer user": tok.developer} {
		t.Run(name, func(t *testing.T) {
			_, err := e.assume(t, foreignRole, token)
			e2e.STSError(t, err, "AccessDenied", notAuthorized, http.StatusForbidden)
		})
	}
	guest, err := e.public().GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
	must(t, err)
	_, err = e.public().GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: guest.IdentityId})
	e2e.APIError(t, err, "InvalidIdentityPoolConfigurationException", invalidConfig)
}

// TestRolesFileInStrictMode: a role the roles file lists is decided by its
// policy, even one the pool does not name; other roles stay under the
// implicit policy.
func TestRolesFileInStrictMode(t *testing.T) {
	// The policy admits any pool's authenticated tokens in us-east-1: the
	// pool ids are not known before the server starts.
	roles, err := trust.ParseRoles([]byte(`{"Roles": [{"Arn": "` + foreignRole + `", "AssumeRolePolicyDocument": {
		"Version": "2012-10-17",
		"Statement": {"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
			"Action": "sts:AssumeRoleWithWebIdentity",
			"Condition": {"StringLike": {"cognito-identity.amazonaws.com:aud": "us-east-1:*"},
				"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}}}}]}`))
	must(t, err)
	e := start(t, options{roles: roles})
	tok := e.poolTokens(t, e.newPool(t, e.clientA(), "listed"))
	_, err = e.assume(t, foreignRole, tok.developer)
	must(t, err)
	_, err = e.assume(t, foreignRole, tok.guest)
	e2e.STSError(t, err, "AccessDenied", notAuthorized, http.StatusForbidden)
	_, err = e.assume(t, ruleRole, tok.developer)
	e2e.STSError(t, err, "AccessDenied", notAuthorized, http.StatusForbidden)
}

// TestTokenRolesNeedAVerifiedToken: a Token role mapping hands out the role
// a user pool token names (cognito:preferred_role) when the token was
// verified; in strict mode with --logins trust anyone could have written
// that claim, so the implicit policy refuses the role.
func TestTokenRolesNeedAVerifiedToken(t *testing.T) {
	for _, tc := range []struct {
		name        string
		trustLogins bool
	}{
		{"verified token", false},
		{"unverified token", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, options{trustLogins: tc.trustLogins})
			ctx := t.Context()
			a, pub := e.clientA(), e.public()
			// The test issuer plays a user pool with one app client.
			created, err := a.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
				IdentityPoolName: aws.String("groups"),
				CognitoIdentityProviders: []types.CognitoIdentityProvider{
					{ProviderName: aws.String(e.oidc.key), ClientId: aws.String(groupClient)}},
			})
			must(t, err)
			pool := created.IdentityPoolId
			_, err = a.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
				IdentityPoolId: pool,
				Roles:          map[string]string{"authenticated": authRole},
				RoleMappings: map[string]types.RoleMapping{e.oidc.key + ":" + groupClient: {
					Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole}},
			})
			must(t, err)
			login := map[string]string{e.oidc.key: e.oidc.token("grouped", "aud", groupClient, "cognito:preferred_role", tokenRole, "cognito:roles", []string{tokenRole})}
			id, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: pool, Logins: login})
			must(t, err)
			out, err := pub.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: login})
			if tc.trustLogins {
				e2e.APIError(t, err, "InvalidIdentityPoolConfigurationException", invalidConfig)
				return
			}
			must(t, err)
			c := out.Credentials
			who, err := e.STSClient(static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken))).
				GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			must(t, err)
			if want := "arn:aws:sts::111111111111:assumed-role/Strict_Group_Role/CognitoIdentityCredentials"; aws.ToString(who.Arn) != want {
				t.Errorf("caller %s, want %s", aws.ToString(who.Arn), want)
			}
		})
	}
}
