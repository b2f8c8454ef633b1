package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"github.com/idpool/idpool/internal/testclock"
)

// TestRestart stops the server and closes its store, then serves the same
// database file with a new server: everything is still there.
func TestRestart(t *testing.T) {
	clock := testclock.New(Epoch, time.Millisecond)
	first := Start(t, Options{MaxPools: 3, Clock: clock})
	a := first.Client(AccountA, USEast1)
	eu := first.Client(AccountB, EUWest1)
	ctx := t.Context()

	full := aws.ToString(createPool(t, a, fullPoolInput("full")).IdentityPoolId)
	classicFalse := aws.ToString(createPool(t, a, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("classic off"), AllowClassicFlow: aws.Bool(false), AllowUnauthenticatedIdentities: true,
	}).IdentityPoolId)
	updated := newPool(t, a, "before update")
	if _, err := a.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
		IdentityPoolId: aws.String(updated), IdentityPoolName: aws.String("after update"),
		DeveloperProviderName: aws.String("login.later"), SamlProviderARNs: []string{samlARN},
	}); err != nil {
		t.Fatal(err)
	}
	other := newPool(t, eu, "other account and region")

	roles := map[string]string{"authenticated": authRole, "unauthenticated": unauthRole}
	mappings := map[string]types.RoleMapping{
		userPool1 + ":client1": {Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny},
		oidcIssuer:             {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole, RulesConfiguration: rules(3)},
	}
	if _, err := a.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(full), Roles: roles, RoleMappings: mappings}); err != nil {
		t.Fatal(err)
	}
	principalTags := map[string]string{"username": "sub", "client": "aud"}
	if _, err := a.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{
		IdentityPoolId: aws.String(full), IdentityProviderName: aws.String(userPool1), UseDefaults: aws.Bool(true), PrincipalTags: principalTags,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: aws.String(poolARN(USEast1, AccountA, classicFalse)), Tags: map[string]string{"added": "later"}}); err != nil {
		t.Fatal(err)
	}
	wantFull := fullPoolWant(full, "full")
	wantClassic := Pool{ID: classicFalse, Name: "classic off", AllowUnauthenticated: true, AllowClassicFlow: aws.Bool(false), Tags: map[string]string{"added": "later"}}
	wantUpdated := Pool{ID: updated, Name: "after update", DeveloperProviderName: aws.String("login.later"), SAMLARNs: []string{samlARN}, Tags: map[string]string{}}
	listedBefore := ids(listAll(t, a, 2))

	first.Close()
	// The old server is gone.
	if _, err := a.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(full)}); err == nil {
		t.Fatal("the first server still answers after Close")
	}

	second := Start(t, Options{DBPath: first.DBPath, MaxPools: 3, Clock: clock})
	a = second.Client(AccountA, USEast1)
	eu = second.Client(AccountB, EUWest1)

	wantEqual(t, "full pool", describe(t, a, full), wantFull)
	wantEqual(t, "pool with classic flow off", describe(t, a, classicFalse), wantClassic)
	wantEqual(t, "updated pool", describe(t, a, updated), wantUpdated)
	wantEqual(t, "pool of the other account", describe(t, eu, other), Pool{ID: other, Name: "other account and region", Tags: map[string]string{}})

	gotRoles := getRoles(t, a, full)
	wantEqual(t, "roles", gotRoles.Roles, roles)
	wantEqual(t, "role mappings", gotRoles.RoleMappings, mappings)
	ptm, err := a.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(full), IdentityProviderName: aws.String(userPool1)})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "principal tag map", []any{ptm.UseDefaults, ptm.PrincipalTags}, []any{aws.Bool(true), principalTags})
	wantEqual(t, "tags", listTags(t, a, poolARN(USEast1, AccountA, classicFalse)), map[string]string{"added": "later"})

	listedAfter := ids(listAll(t, a, 2))
	if !slices.Equal(listedAfter, listedBefore) || !slices.Equal(listedAfter, []string{full, classicFalse, updated}) {
		t.Errorf("pools listed after the restart %v, before %v", listedAfter, listedBefore)
	}
	// The stored pools still count against the quota.
	_, err = a.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("fourth")})
	APIError(t, err, "LimitExceededException", "The maximum number of identity pools (3) for this account in us-east-1 has been reached.")
	// And the restored pools can still be changed.
	deletePool(t, a, updated)
	if _, err := a.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("fourth")}); err != nil {
		t.Errorf("CreateIdentityPool after freeing a place: %v", err)
	}
}
