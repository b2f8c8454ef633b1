package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
)

func rules(n int) *types.RulesConfigurationType {
	rc := &types.RulesConfigurationType{}
	for i := range n {
		rc.Rules = append(rc.Rules, types.MappingRule{
			Claim: aws.String("custom:dept"), MatchType: types.MappingRuleMatchTypeEquals,
			Value: aws.String(fmt.Sprintf("dept-%d", i)), RoleARN: aws.String(readerRole),
		})
	}
	return rc
}

func getRoles(t testing.TB, c *cognitoidentity.Client, id string) *cognitoidentity.GetIdentityPoolRolesOutput {
	t.Helper()
	out, err := c.GetIdentityPoolRoles(t.Context(), &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetIdentityPoolRoles: %v", err)
	}
	if aws.ToString(out.IdentityPoolId) != id {
		t.Errorf("GetIdentityPoolRoles IdentityPoolId = %q, want %q", aws.ToString(out.IdentityPoolId), id)
	}
	return out
}

func TestIdentityPoolRoles(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	id := aws.ToString(createPool(t, c, fullPoolInput("roles")).IdentityPoolId)

	// A new pool has no roles: Roles is {} and RoleMappings is left out.
	fresh := getRoles(t, c, id)
	wantEqual(t, "roles of a new pool", fresh.Roles, map[string]string{})
	wantEqual(t, "role mappings of a new pool", fresh.RoleMappings, map[string]types.RoleMapping(nil))

	every := map[string]types.RoleMapping{
		// Keys of every kind of configured provider.
		"graph.facebook.com": {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole, RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
			{Claim: aws.String("sub"), MatchType: types.MappingRuleMatchTypeNotEqual, Value: aws.String("123"), RoleARN: aws.String(readerRole)},
		}}},
		userPool1 + ":client1": {Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny},
		userPool2 + ":client_3": {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny, RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
			{Claim: aws.String("cognito:groups"), MatchType: types.MappingRuleMatchTypeContains, Value: aws.String("admins"), RoleARN: aws.String(adminRole)},
			{Claim: aws.String("email"), MatchType: types.MappingRuleMatchTypeStartsWith, Value: aws.String("ops@"), RoleARN: aws.String(readerRole)},
			{Claim: aws.String("custom:tier"), MatchType: types.MappingRuleMatchTypeEquals, Value: aws.String("gold"), RoleARN: aws.String(adminRole)},
		}}},
		oidcIssuer:  {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole, RulesConfiguration: rules(25)},
		oidcIssuer2: {Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole},
		samlARN:     {Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny},
	}
	steps := []struct {
		name     string
		roles    map[string]string
		mappings map[string]types.RoleMapping
		// wantRoles is what GetIdentityPoolRoles returns for roles.
		wantRoles map[string]string
	}{
		{"both roles and a mapping for every provider kind", map[string]string{"authenticated": authRole, "unauthenticated": unauthRole}, every, map[string]string{"authenticated": authRole, "unauthenticated": unauthRole}},
		{"mappings left out are cleared", map[string]string{"authenticated": adminRole}, nil, map[string]string{"authenticated": adminRole}},
		{"one mapping replaces all", map[string]string{"unauthenticated": unauthRole}, map[string]types.RoleMapping{samlARN: every[samlARN]}, map[string]string{"unauthenticated": unauthRole}},
		{"empty roles clear the roles", map[string]string{}, nil, map[string]string{}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if _, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(id), Roles: s.roles, RoleMappings: s.mappings}); err != nil {
				t.Fatalf("SetIdentityPoolRoles: %v", err)
			}
			got := getRoles(t, c, id)
			wantEqual(t, "Roles", got.Roles, s.wantRoles)
			wantEqual(t, "RoleMappings", got.RoleMappings, s.mappings)
		})
	}
	// Roles are not part of the pool description, and setting them leaves
	// the pool's configuration alone.
	wantEqual(t, "pool after role changes", describe(t, c, id), fullPoolWant(id, "roles"))
}

func TestIdentityPoolRolesErrors(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	id := aws.ToString(createPool(t, c, fullPoolInput("roles")).IdentityPoolId)
	bare := newPool(t, c, "bare")
	// A valid configuration that every refused call below must leave as is.
	initial := map[string]types.RoleMapping{samlARN: {Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny}}
	if _, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(id), Roles: map[string]string{"authenticated": authRole}, RoleMappings: initial}); err != nil {
		t.Fatal(err)
	}
	token := types.RoleMapping{Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole}
	missing := "us-east-1:00000000-0000-4000-8000-000000000000"

	tests := []struct {
		name     string
		pool     string
		roles    map[string]string
		mappings map[string]types.RoleMapping
		code     string
		message  string
	}{
		{
			name: "unknown public provider", pool: id,
			mappings: map[string]types.RoleMapping{"www.digits.com": token},
			code:     "InvalidParameterException", message: "www.digits.com is not a valid RoleMapping ProviderName or is not a configured provider.",
		},
		{
			name: "user pool without its client id", pool: id,
			mappings: map[string]types.RoleMapping{userPool1: token},
			code:     "InvalidParameterException", message: userPool1 + " is not a valid RoleMapping ProviderName or is not a configured provider.",
		},
		{
			name: "user pool with a client id it does not have", pool: id,
			mappings: map[string]types.RoleMapping{userPool2 + ":client1": token},
			code:     "InvalidParameterException", message: userPool2 + ":client1 is not a valid RoleMapping ProviderName or is not a configured provider.",
		},
		{
			name: "OIDC provider ARN instead of its issuer", pool: id,
			mappings: map[string]types.RoleMapping{oidcARN: token},
			code:     "InvalidParameterException", message: oidcARN + " is not a valid RoleMapping ProviderName or is not a configured provider.",
		},
		{
			name: "developer provider", pool: id,
			mappings: map[string]types.RoleMapping{"login.example.app": token},
			code:     "InvalidParameterException", message: "login.example.app is not a valid RoleMapping ProviderName or is not a configured provider.",
		},
		{
			name: "pool without providers", pool: bare,
			mappings: map[string]types.RoleMapping{"graph.facebook.com": token},
			code:     "InvalidParameterException", message: "graph.facebook.com is not a valid RoleMapping ProviderName or is not a configured provider.",
		},
		{
			name: "Rules without RulesConfiguration", pool: id,
			mappings: map[string]types.RoleMapping{"graph.facebook.com": {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny}},
			code:     "InvalidParameterException", message: "RulesConfiguration is required for the role mapping of graph.facebook.com, whose Type is Rules.",
		},
		{
			// More than 25 rules is InvalidParameterException (docs/behaviour.md §10).
			// SetIdentityPoolRoles does not model LimitExceededException,
			// so an SDK could not even decode that as a typed error.
			name: "26 rules", pool: id,
			mappings: map[string]types.RoleMapping{oidcIssuer: {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny, RulesConfiguration: rules(26)}},
			code:     "InvalidParameterException", message: "The role mapping of " + oidcIssuer + " has 26 rules; at most 25 rules are allowed per identity provider.",
		},
		{
			name: "missing AmbiguousRoleResolution", pool: id,
			mappings: map[string]types.RoleMapping{samlARN: {Type: types.RoleMappingTypeToken}},
			code:     "InvalidParameterException", message: "AmbiguousRoleResolution is required for the role mapping of " + samlARN + ".",
		},
		{
			name: "unknown pool", pool: missing,
			roles: map[string]string{"authenticated": authRole},
			code:  "ResourceNotFoundException", message: notFound(missing),
		},
		{
			name: "role key other than (un)authenticated", pool: id,
			roles: map[string]string{"admin": adminRole},
			code:  "ValidationException",
			message: validation("Value '{admin=" + adminRole + "}' at 'roles' failed to satisfy constraint: Map keys must satisfy constraint: " +
				"[Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (un)?authenticated]"),
		},
		{
			name: "role ARN too short", pool: id,
			roles: map[string]string{"authenticated": "arn:aws:iam::1:r"},
			code:  "ValidationException",
			message: validation("Value '{authenticated=arn:aws:iam::1:r}' at 'roles' failed to satisfy constraint: Map value must satisfy constraint: " +
				"[Member must have length less than or equal to 2048, Member must have length greater than or equal to 20]"),
		},
		{
			name: "unknown mapping type and resolution", pool: id,
			mappings: map[string]types.RoleMapping{"graph.facebook.com": {Type: "Groups", AmbiguousRoleResolution: "Allow"}},
			code:     "ValidationException",
			message: validation(
				"Value 'Groups' at 'roleMappings.graph.facebook.com.member.type' failed to satisfy constraint: Member must satisfy enum value set: [Token, Rules]",
				"Value 'Allow' at 'roleMappings.graph.facebook.com.member.ambiguousRoleResolution' failed to satisfy constraint: Member must satisfy enum value set: [AuthenticatedRole, Deny]"),
		},
		{
			name: "bad rule", pool: id,
			mappings: map[string]types.RoleMapping{"graph.facebook.com": {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny,
				RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{{Claim: aws.String("sub"), MatchType: "Regex", Value: aws.String(strings.Repeat("v", 129)), RoleARN: aws.String(readerRole)}}}}},
			code: "ValidationException",
			message: validation(
				"Value 'Regex' at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules.1.member.matchType' failed to satisfy constraint: Member must satisfy enum value set: [Equals, Contains, StartsWith, NotEqual]",
				"Value '"+strings.Repeat("v", 129)+"' at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 128"),
		},
		{
			name: "empty rules list", pool: id,
			mappings: map[string]types.RoleMapping{"graph.facebook.com": {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny, RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{}}}},
			code:     "ValidationException",
			message:  validation("Value '[]' at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules' failed to satisfy constraint: Member must have length greater than or equal to 1"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roles := tt.roles
			if roles == nil {
				roles = map[string]string{"authenticated": adminRole}
			}
			_, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(tt.pool), Roles: roles, RoleMappings: tt.mappings})
			APIError(t, err, tt.code, tt.message)
			got := getRoles(t, c, id)
			wantEqual(t, "roles after a refused call", got.Roles, map[string]string{"authenticated": authRole})
			wantEqual(t, "mappings after a refused call", got.RoleMappings, initial)
		})
	}
}

func TestPrincipalTagAttributeMap(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	id := aws.ToString(createPool(t, c, fullPoolInput("principal tags")).IdentityPoolId)

	type view struct {
		Pool, Provider string
		UseDefaults    *bool
		Tags           map[string]string
	}
	get := func(t *testing.T, provider string) view {
		t.Helper()
		out, err := c.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(id), IdentityProviderName: aws.String(provider)})
		if err != nil {
			t.Fatalf("GetPrincipalTagAttributeMap %s: %v", provider, err)
		}
		return view{aws.ToString(out.IdentityPoolId), aws.ToString(out.IdentityProviderName), out.UseDefaults, out.PrincipalTags}
	}

	// A provider never configured reads as UseDefaults false and no tags.
	wantEqual(t, "unconfigured provider", get(t, userPool1), view{id, userPool1, aws.Bool(false), nil})

	steps := []struct {
		name        string
		provider    string
		useDefaults *bool
		tags        map[string]string
		want        view
	}{
		{"user pool, defaults and tags", userPool1, aws.Bool(true), map[string]string{"username": "sub", "client": "aud"},
			view{id, userPool1, aws.Bool(true), map[string]string{"username": "sub", "client": "aud"}}},
		{"user pool, replaced", userPool1, aws.Bool(false), map[string]string{"dept": "custom:dept"},
			view{id, userPool1, aws.Bool(false), map[string]string{"dept": "custom:dept"}}},
		{"user pool, UseDefaults left out reads false", userPool1, nil, nil,
			view{id, userPool1, aws.Bool(false), nil}},
		{"public provider", "graph.facebook.com", aws.Bool(true), nil,
			view{id, "graph.facebook.com", aws.Bool(true), nil}},
		{"OIDC issuer", oidcIssuer2, nil, map[string]string{"tenant": "tid"},
			view{id, oidcIssuer2, aws.Bool(false), map[string]string{"tenant": "tid"}}},
		{"SAML provider", samlARN, aws.Bool(false), map[string]string{"role": "https://aws.amazon.com/SAML/Attributes/Role"},
			view{id, samlARN, aws.Bool(false), map[string]string{"role": "https://aws.amazon.com/SAML/Attributes/Role"}}},
		{"attribute names of exactly 460 bytes", oidcIssuer, aws.Bool(false), map[string]string{"a": strings.Repeat("x", 230), "b": strings.Repeat("y", 230)},
			view{id, oidcIssuer, aws.Bool(false), map[string]string{"a": strings.Repeat("x", 230), "b": strings.Repeat("y", 230)}}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, err := c.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{
				IdentityPoolId: aws.String(id), IdentityProviderName: aws.String(s.provider), UseDefaults: s.useDefaults, PrincipalTags: s.tags,
			})
			if err != nil {
				t.Fatalf("SetPrincipalTagAttributeMap: %v", err)
			}
			wantEqual(t, "SetPrincipalTagAttributeMap output", view{aws.ToString(out.IdentityPoolId), aws.ToString(out.IdentityProviderName), out.UseDefaults, out.PrincipalTags}, s.want)
			wantEqual(t, "GetPrincipalTagAttributeMap output", get(t, s.provider), s.want)
		})
	}
	// Each provider keeps its own setting.
	wantEqual(t, "public provider afterwards", get(t, "graph.facebook.com"), view{id, "graph.facebook.com", aws.Bool(true), nil})
	wantEqual(t, "OIDC issuer afterwards", get(t, oidcIssuer2), view{id, oidcIssuer2, aws.Bool(false), map[string]string{"tenant": "tid"}})

	errs := []struct {
		name, provider string
		tags           map[string]string
		code, message  string
	}{
		{"provider not configured", "accounts.example.net", nil, "InvalidParameterException", "accounts.example.net is not a configured provider of this identity pool."},
		{"user pool name with client id", userPool1 + ":client1", nil, "InvalidParameterException", userPool1 + ":client1 is not a configured provider of this identity pool."},
		{"attribute names over 460 bytes", oidcIssuer, map[string]string{"a": strings.Repeat("x", 230), "b": strings.Repeat("y", 231)},
			"InvalidParameterException", "The attribute names of the principal tags together must not exceed 460 bytes."},
		{"provider name too long", strings.Repeat("p", 129), nil, "ValidationException",
			validation("Value '" + strings.Repeat("p", 129) + "' at 'identityProviderName' failed to satisfy constraint: Member must have length less than or equal to 128")},
		{"attribute name too long", oidcIssuer, map[string]string{"a": strings.Repeat("x", 257)}, "ValidationException",
			validation("Value '{a=" + strings.Repeat("x", 257) + "}' at 'principalTags' failed to satisfy constraint: Map value must satisfy constraint: " +
				"[Member must have length less than or equal to 256, Member must have length greater than or equal to 1]")},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			_, err := c.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{
				IdentityPoolId: aws.String(id), IdentityProviderName: aws.String(e.provider), UseDefaults: aws.Bool(true), PrincipalTags: e.tags,
			})
			APIError(t, err, e.code, e.message)
		})
	}
	wantEqual(t, "OIDC issuer after refused changes", get(t, oidcIssuer),
		view{id, oidcIssuer, aws.Bool(false), map[string]string{"a": strings.Repeat("x", 230), "b": strings.Repeat("y", 230)}})
}
