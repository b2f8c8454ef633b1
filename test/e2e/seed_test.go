package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idpool/idpool/idpooltest"
	"github.com/idpool/idpool/internal/testclock"
)

const (
	seededID   = "us-east-1:5eed5eed-1111-4222-8333-444444444444"
	seededUser = "us-east-1:5eed5eed-aaaa-4bbb-8ccc-dddddddddddd"
)

// seededPool is a pool with a user pool provider whose role comes from a
// rule, a developer provider and a developer user with a fixed identity.
func seededPool() idpooltest.Pool {
	return idpooltest.Pool{
		IdentityPoolId:                 seededID,
		AccountId:                      AccountA,
		IdentityPoolName:               "seeded",
		AllowUnauthenticatedIdentities: true,
		DeveloperProviderName:          devProvider,
		CognitoIdentityProviders:       []idpooltest.CognitoIdentityProvider{{ProviderName: userPool1, ClientId: "client1"}},
		Roles:                          defaultRoles,
		RoleMappings: map[string]idpooltest.RoleMapping{
			userPool1 + ":client1": {Type: "Rules", AmbiguousRoleResolution: "AuthenticatedRole", RulesConfiguration: &idpooltest.RulesConfiguration{
				Rules: []idpooltest.MappingRule{{Claim: "custom:tier", MatchType: "Equals", Value: "gold", RoleARN: roleEquals}},
			}},
		},
		DeveloperUsers: []idpooltest.DeveloperUser{{IdentityId: seededUser, DeveloperUserIdentifier: "alice"}},
	}
}

// TestSeededPoolWithTheSDK drives a seeded pool with the SDK as an app and
// its backend would: the seeded role mapping decides roles, the seeded
// developer user has its fixed identity, and a reset undoes what the
// calls changed.
func TestSeededPoolWithTheSDK(t *testing.T) {
	clock := testclock.New(Epoch, time.Millisecond)
	srv := idpooltest.New(t, idpooltest.WithClock(clock.Now), idpooltest.WithSeed(idpooltest.Seed{Pools: []idpooltest.Pool{seededPool()}}))
	app := NewCognito(srv.URL, nil, aws.AnonymousCredentials{})
	admin := NewCognito(srv.URL, nil, credentials.NewStaticCredentialsProvider(AccountA, "any-secret", ""))
	roleOf := func(t *testing.T, logins map[string]string) string {
		t.Helper()
		id, err := app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(seededID), Logins: logins})
		if err != nil {
			t.Fatalf("GetId: %v", err)
		}
		out, err := app.GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: logins})
		if err != nil {
			t.Fatalf("GetCredentialsForIdentity: %v", err)
		}
		c := out.Credentials
		who, err := NewSTS(srv.URL, nil,
			credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken)),
			func(o *sts.Options) { o.HTTPSignerV4 = clockSigner{signer: v4.NewSigner(), clock: clock} },
		).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		return aws.ToString(who.Arn)
	}
	gold := map[string]string{userPool1: userPoolToken(userPool1, "client1", "gold-user", map[string]any{"custom:tier": "gold"})}
	plain := map[string]string{userPool1: userPoolToken(userPool1, "client1", "plain-user", nil)}

	t.Run("the seeded rule decides", func(t *testing.T) {
		if got, want := roleOf(t, gold), assumedRole(roleEquals, "CognitoIdentityCredentials"); got != want {
			t.Errorf("gold user: %s, want %s", got, want)
		}
		if got, want := roleOf(t, plain), assumedRole(authRole, "CognitoIdentityCredentials"); got != want {
			t.Errorf("plain user: %s, want %s", got, want)
		}
		if got, want := roleOf(t, nil), assumedRole(unauthRole, "CognitoIdentityCredentials"); got != want {
			t.Errorf("guest: %s, want %s", got, want)
		}
	})

	t.Run("the seeded developer user", func(t *testing.T) {
		out, err := admin.GetOpenIdTokenForDeveloperIdentity(t.Context(), &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
			IdentityPoolId: aws.String(seededID), Logins: devLogin("alice"),
		})
		if err != nil || aws.ToString(out.IdentityId) != seededUser {
			t.Fatalf("alice: %+v, %v", out, err)
		}
		creds, err := app.GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{
			IdentityId: out.IdentityId, Logins: map[string]string{cognitoKey: aws.ToString(out.Token)},
		})
		if err != nil || creds.Credentials == nil {
			t.Errorf("alice's credentials: %v", err)
		}
	})

	t.Run("reset undoes the calls", func(t *testing.T) {
		if _, err := admin.SetIdentityPoolRoles(t.Context(), &cognitoidentity.SetIdentityPoolRolesInput{
			IdentityPoolId: aws.String(seededID), Roles: map[string]string{"authenticated": adminRole},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.GetOpenIdTokenForDeveloperIdentity(t.Context(), &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
			IdentityPoolId: aws.String(seededID), Logins: devLogin("bob"),
		}); err != nil {
			t.Fatal(err)
		}
		srv.Reset()
		roles, err := admin.GetIdentityPoolRoles(t.Context(), &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(seededID)})
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "roles after the reset", roles.Roles, defaultRoles)
		m := roles.RoleMappings[userPool1+":client1"]
		if m.Type != types.RoleMappingTypeRules || len(m.RulesConfiguration.Rules) != 1 || aws.ToString(m.RulesConfiguration.Rules[0].RoleARN) != roleEquals {
			t.Errorf("role mapping after the reset: %+v", m)
		}
		ids, err := admin.ListIdentities(t.Context(), &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(seededID), MaxResults: aws.Int32(60)})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids.Identities) != 1 || aws.ToString(ids.Identities[0].IdentityId) != seededUser {
			t.Errorf("identities after the reset: %d, want only the seeded one", len(ids.Identities))
		}
	})
}
