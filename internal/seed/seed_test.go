package seed_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/seed"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/store/sqlite"
	"github.com/idpool/idpool/internal/testpg"
)

const (
	poolID    = "us-east-1:11111111-2222-4333-8444-555555555555"
	otherPool = "eu-west-1:22222222-2222-4333-8444-555555555555"
	aliceID   = "us-east-1:aaaaaaaa-1111-4222-8333-444444444444"
	bobID     = "us-east-1:bbbbbbbb-1111-4222-8333-444444444444"
	account   = "000000000000"
)

// full uses every member a pool may have.
const full = `
pools:
  - IdentityPoolId: ` + poolID + `
    IdentityPoolName: seeded
    AllowUnauthenticatedIdentities: true
    AllowClassicFlow: false
    DeveloperProviderName: login.seeded
    SupportedLoginProviders:
      accounts.google.com: app-id.apps.googleusercontent.com
    OpenIdConnectProviderARNs: [arn:aws:iam::000000000000:oidc-provider/login.example.com]
    CognitoIdentityProviders:
      - ProviderName: cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz
        ClientId: client1
        ServerSideTokenCheck: true
    SamlProviderARNs: [arn:aws:iam::000000000000:saml-provider/Corp]
    IdentityPoolTags: {team: core}
    Roles:
      unauthenticated: arn:aws:iam::000000000000:role/Guest
      authenticated: arn:aws:iam::000000000000:role/User
    RoleMappings:
      login.example.com:
        Type: Rules
        AmbiguousRoleResolution: AuthenticatedRole
        RulesConfiguration:
          Rules:
            - {Claim: group, MatchType: Equals, Value: admins, RoleARN: "arn:aws:iam::000000000000:role/Admin"}
    PrincipalTags:
      login.example.com:
        UseDefaults: false
        PrincipalTags: {team: custom:team}
    DeveloperUsers:
      - {IdentityId: ` + aliceID + `, DeveloperUserIdentifier: alice}
      - {IdentityId: ` + aliceID + `, DeveloperUserIdentifier: alice@example.com}
      - {IdentityId: ` + bobID + `, DeveloperUserIdentifier: bob}
  - IdentityPoolId: ` + otherPool + `
    AccountId: "123456789012"
    IdentityPoolName: other
    AllowUnauthenticatedIdentities: false
`

// backend is a store the tests run against.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

var backends = []backend{
	{"memory", func(t *testing.T) store.Store { return memory.New() }},
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpool.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
	{"postgres", func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), testpg.Schema(t, testpg.DSN(t)), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

// env is a service over a store, with its log.
type env struct {
	st  store.Store
	svc *cognito.Service
	log *bytes.Buffer
	now time.Time
}

func newEnv(t *testing.T, b backend) *env {
	t.Helper()
	st := b.open(t)
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, log: &bytes.Buffer{}, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	e.svc = cognito.New(cognito.Config{
		Store:  st,
		Clock:  func() time.Time { e.now = e.now.Add(time.Millisecond); return e.now },
		Logger: slog.New(slog.NewTextHandler(e.log, nil)),
	})
	return e
}

func mustParse(t *testing.T, text string) *seed.Seed {
	t.Helper()
	sd, err := seed.Parse("seed.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

func (e *env) apply(t *testing.T, sd *seed.Seed) cognito.SeedResult {
	t.Helper()
	res, err := sd.Apply(context.Background(), e.svc, account)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *env) pool(t *testing.T, id string) *store.Pool {
	t.Helper()
	p, err := e.st.GetPool(context.Background(), id)
	if err != nil {
		t.Fatalf("pool %s: %v", id, err)
	}
	return p
}

func (e *env) audits() int { return strings.Count(e.log.String(), "msg=audit") }

// as is a context of a signed call by the account, as the developer
// operations get it.
func as(acct string) context.Context {
	return caller.With(context.Background(), caller.Info{Account: acct, Signed: true})
}

func TestApplyIsIdempotent(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			sd := mustParse(t, full)
			res := e.apply(t, sd)
			if want := (cognito.SeedResult{Created: 2, Linked: 3}); res != want {
				t.Errorf("first apply: %+v, want %+v", res, want)
			}
			first := e.pool(t, poolID)
			other := e.pool(t, otherPool)
			if other.Account != "123456789012" || other.Region != "eu-west-1" || first.Account != account || first.Region != "us-east-1" {
				t.Errorf("owners: %s %s, %s %s", first.Account, first.Region, other.Account, other.Region)
			}
			audits := e.audits()
			if audits == 0 {
				t.Error("the first apply logged no audit line")
			}

			// The same seed again, and again parsed from the same text:
			// nothing changes.
			for i := 0; i < 2; i++ {
				res = e.apply(t, mustParse(t, full))
				if want := (cognito.SeedResult{Unchanged: 2}); res != want {
					t.Errorf("apply again: %+v, want %+v", res, want)
				}
			}
			if again := e.pool(t, poolID); !reflect.DeepEqual(again, first) {
				t.Errorf("pool changed by applying the same seed:\n%+v\n%+v", again, first)
			}
			if n := e.audits(); n != audits {
				t.Errorf("applying the same seed logged %d more audit lines:\n%s", n-audits, e.log)
			}

			// The developer users are where the seed put them.
			for user, want := range map[string]string{"alice": aliceID, "alice@example.com": aliceID, "bob": bobID} {
				out, err := e.svc.LookupDeveloperIdentity(as(account), &cognito.LookupDeveloperIdentityInput{
					IdentityPoolId: poolID, DeveloperUserIdentifier: user,
				})
				if err != nil || out.IdentityId != want {
					t.Errorf("LookupDeveloperIdentity %s = %+v, %v; want %s", user, out, err, want)
				}
			}
			out, err := e.svc.LookupDeveloperIdentity(as(account), &cognito.LookupDeveloperIdentityInput{IdentityPoolId: poolID, IdentityId: aliceID})
			if err != nil || !reflect.DeepEqual(out.DeveloperUserIdentifierList, []string{"alice", "alice@example.com"}) {
				t.Errorf("alice's users: %+v, %v", out, err)
			}

			// What the API reads back is what the seed says.
			roles, err := e.svc.GetIdentityPoolRoles(as(account), &cognito.GetIdentityPoolRolesInput{IdentityPoolId: poolID})
			if err != nil || roles.Roles["unauthenticated"] != "arn:aws:iam::000000000000:role/Guest" ||
				roles.RoleMappings["login.example.com"].RulesConfiguration.Rules[0].RoleARN != "arn:aws:iam::000000000000:role/Admin" {
				t.Errorf("roles: %+v, %v", roles, err)
			}
			tags, err := e.svc.GetPrincipalTagAttributeMap(as(account), &cognito.GetPrincipalTagAttributeMapInput{
				IdentityPoolId: poolID, IdentityProviderName: "login.example.com",
			})
			if err != nil || *tags.UseDefaults || tags.PrincipalTags["team"] != "custom:team" {
				t.Errorf("principal tags: %+v, %v", tags, err)
			}
			desc, err := e.svc.DescribeIdentityPool(as(account), &cognito.DescribeIdentityPoolInput{IdentityPoolId: poolID})
			if err != nil || desc.IdentityPoolName != "seeded" || !desc.AllowUnauthenticatedIdentities || *desc.AllowClassicFlow ||
				desc.DeveloperProviderName != "login.seeded" || desc.IdentityPoolTags["team"] != "core" ||
				!*desc.CognitoIdentityProviders[0].ServerSideTokenCheck {
				t.Errorf("pool: %+v, %v", desc, err)
			}
		})
	}
}

func TestChangedSeedUpdates(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			e.apply(t, mustParse(t, full))
			before := e.pool(t, poolID)
			other := e.pool(t, otherPool)
			ctx := context.Background()
			// A pool the seed does not list, and an identity it does not
			// name: left alone.
			created, err := e.svc.CreateIdentityPool(caller.With(ctx, caller.Info{Account: account}), &cognito.CreateIdentityPoolInput{
				PoolSettings: cognito.PoolSettings{IdentityPoolName: "runtime"},
			})
			if err != nil {
				t.Fatal(err)
			}
			guest, err := e.svc.GetId(ctx, &cognito.GetIdInput{IdentityPoolId: poolID})
			if err != nil {
				t.Fatal(err)
			}

			changed := strings.Replace(full, "IdentityPoolName: seeded", "IdentityPoolName: renamed", 1)
			changed = strings.Replace(changed, "IdentityPoolTags: {team: core}", "", 1)
			changed = strings.Replace(changed, "      - {IdentityId: "+bobID+", DeveloperUserIdentifier: bob}",
				"      - {IdentityId: "+bobID+", DeveloperUserIdentifier: bob}\n      - {IdentityId: "+bobID+", DeveloperUserIdentifier: robert}", 1)
			audits := e.audits()
			res := e.apply(t, mustParse(t, changed))
			if want := (cognito.SeedResult{Updated: 1, Unchanged: 1, Linked: 1}); res != want {
				t.Errorf("changed seed: %+v, want %+v", res, want)
			}
			after := e.pool(t, poolID)
			if after.Name != "renamed" || after.Tags != nil || after.Version != before.Version+1 || !after.CreatedAt.Equal(before.CreatedAt) {
				t.Errorf("after the change: name %q, tags %v, version %d (was %d)", after.Name, after.Tags, after.Version, before.Version)
			}
			if o := e.pool(t, otherPool); o.Version != other.Version {
				t.Errorf("the unchanged pool moved from version %d to %d", other.Version, o.Version)
			}
			if n := e.audits(); n != audits+2 {
				t.Errorf("%d audit lines for one pool update and one link, want 2:\n%s", n-audits, e.log)
			}
			if _, err := e.st.GetPool(ctx, created.IdentityPoolId); err != nil {
				t.Errorf("the pool the seed does not list: %v", err)
			}
			if _, err := e.st.GetIdentity(ctx, guest.IdentityId); err != nil {
				t.Errorf("the identity the seed does not name: %v", err)
			}
			out, err := e.svc.LookupDeveloperIdentity(as(account), &cognito.LookupDeveloperIdentityInput{IdentityPoolId: poolID, DeveloperUserIdentifier: "robert"})
			if err != nil || out.IdentityId != bobID {
				t.Errorf("robert: %+v, %v", out, err)
			}
		})
	}
}

// TestStoreRules checks the refusals that depend on what is stored.
func TestStoreRules(t *testing.T) {
	pool := func(extra string) string {
		return "pools:\n  - IdentityPoolId: " + poolID + "\n    IdentityPoolName: p\n    AllowUnauthenticatedIdentities: false\n" + extra
	}
	tests := []struct {
		name        string
		first, then string
		want        string
	}{
		{
			name:  "developer provider cannot change",
			first: pool("    DeveloperProviderName: login.one\n"),
			then:  pool("    DeveloperProviderName: login.two\n"),
			want:  "seed file seed.yaml: pool 1 (" + poolID + "): DeveloperProviderName: The developer provider name of an identity pool cannot be changed once it is set (it is login.one). (line 5)",
		},
		{
			name:  "developer user moved to another identity",
			first: pool("    DeveloperProviderName: login.one\n    DeveloperUsers: [{IdentityId: " + aliceID + ", DeveloperUserIdentifier: alice}]\n"),
			then:  pool("    DeveloperProviderName: login.one\n    DeveloperUsers:\n      - {IdentityId: " + bobID + ", DeveloperUserIdentifier: alice}\n"),
			want:  "seed file seed.yaml: pool 1 (" + poolID + "): DeveloperUsers item 1: The developer user identifier 'alice' is already registered with identity '" + aliceID + "'. (line 7)",
		},
		{
			name:  "pool moved to another account",
			first: pool(""),
			then:  pool("    AccountId: \"123456789012\"\n"),
			want:  "seed file seed.yaml: pool 1 (" + poolID + "): AccountId: The identity pool exists in account 000000000000; reset the store to create it in 123456789012. (line 5)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, backends[0])
			e.apply(t, mustParse(t, tt.first))
			before := e.pool(t, poolID)
			_, err := mustParse(t, tt.then).Apply(context.Background(), e.svc, account)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
			if after := e.pool(t, poolID); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused seed changed the pool")
			}
		})
	}
}

// TestParseErrors checks that a seed the API would refuse is refused,
// naming the pool, the member and the line.
func TestParseErrors(t *testing.T) {
	head := "pools:\n  - IdentityPoolId: " + poolID + "\n"
	valid := "    IdentityPoolName: ok\n    AllowUnauthenticatedIdentities: true\n"
	pool1 := "seed file seed.yaml: pool 1 (" + poolID + "): "
	tests := []struct {
		name string
		text string
		want []string // each line of the error, in order
	}{
		{
			name: "bad pool id",
			text: "pools:\n  - IdentityPoolId: us-east-1:NOT-A-UUID\n" + valid,
			want: []string{"seed file seed.yaml: pool 1 (us-east-1:NOT-A-UUID): IdentityPoolId: 1 validation error detected: Value 'us-east-1:NOT-A-UUID' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+ (line 2)"},
		},
		{
			name: "pool id that is not region:uuid",
			text: "pools:\n  - IdentityPoolId: us-east-1:1234\n" + valid,
			want: []string{"seed file seed.yaml: pool 1 (us-east-1:1234): IdentityPoolId: \"us-east-1:1234\" is not an identity pool id: want <region>:<uuid> in lower case, e.g. us-east-1:11111111-2222-4333-8444-555555555555. (line 2)"},
		},
		{
			name: "missing pool id",
			text: "pools:\n  - IdentityPoolName: ok\n    AllowUnauthenticatedIdentities: true\n",
			want: []string{"seed file seed.yaml: pool 1 (no IdentityPoolId): IdentityPoolId: required: a seeded pool names its id (line 2)"},
		},
		{
			name: "bad name pattern",
			text: head + "    IdentityPoolName: 'no!'\n    AllowUnauthenticatedIdentities: true\n",
			want: []string{pool1 + "IdentityPoolName: 1 validation error detected: Value 'no!' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+ (line 3)"},
		},
		{
			name: "missing required member",
			text: head + "    IdentityPoolName: ok\n",
			want: []string{pool1 + "AllowUnauthenticatedIdentities: 1 validation error detected: Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null (line 2)"},
		},
		{
			name: "wrong type",
			text: head + "    IdentityPoolName: ok\n    AllowUnauthenticatedIdentities: 'yes'\n",
			want: []string{pool1 + "AllowUnauthenticatedIdentities: STRING_VALUE can not be converted to an Boolean (line 4)"},
		},
		{
			name: "unknown member",
			text: head + valid + "    identityPoolTags: {a: b}\n",
			want: []string{pool1 + "identityPoolTags: unknown member (did you mean IdentityPoolTags?); a pool's members are IdentityPoolId, AccountId, IdentityPoolName, AllowUnauthenticatedIdentities, AllowClassicFlow, SupportedLoginProviders, DeveloperProviderName, OpenIdConnectProviderARNs, CognitoIdentityProviders, SamlProviderARNs, IdentityPoolTags, Roles, RoleMappings, PrincipalTags, DeveloperUsers (line 5)"},
		},
		{
			name: "unknown nested member",
			text: head + valid + "    CognitoIdentityProviders:\n      - {ProviderName: cognito-idp.us-east-1.amazonaws.com/us-east-1_X, ClientID: c}\n",
			want: []string{pool1 + "CognitoIdentityProviders: unknown member ClientID (did you mean ClientId?); the members are ProviderName, ClientId, ServerSideTokenCheck (line 6)"},
		},
		{
			name: "bad role ARN",
			text: head + valid + "    Roles:\n      unauthenticated: Guest\n",
			want: []string{pool1 + "Roles: 1 validation error detected: Value '{unauthenticated=Guest}' at 'roles' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 20] (line 6)"},
		},
		{
			name: "bad role kind",
			text: head + valid + "    Roles:\n      admin: arn:aws:iam::000000000000:role/Admin\n",
			want: []string{pool1 + "Roles: 1 validation error detected: Value '{admin=arn:aws:iam::000000000000:role/Admin}' at 'roles' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (un)?authenticated] (line 6)"},
		},
		{
			name: "duplicate pool ids",
			text: head + valid + head[len("pools:\n"):] + valid,
			want: []string{pool1[:len(pool1)-len("pool 1 ("+poolID+"): ")] + "pool 2 (" + poolID + "): IdentityPoolId: pool 1 has the same IdentityPoolId (line 5)"},
		},
		{
			name: "service rule: unsupported login provider",
			text: head + valid + "    SupportedLoginProviders: {login.nowhere.example: x}\n",
			want: []string{pool1 + "SupportedLoginProviders: login.nowhere.example is not a supported login provider. Supported login providers are graph.facebook.com, accounts.google.com, www.amazon.com, api.twitter.com, www.digits.com, appleid.apple.com. (line 5)"},
		},
		{
			name: "service rule: role mapping of a provider the pool lacks",
			text: head + valid + "    RoleMappings: {login.example.com: {Type: Token, AmbiguousRoleResolution: Deny}}\n",
			want: []string{pool1 + "RoleMappings: login.example.com is not a valid RoleMapping ProviderName or is not a configured provider. (line 5)"},
		},
		{
			name: "principal tags of a provider the pool lacks",
			text: head + valid + "    PrincipalTags:\n      login.example.com: {UseDefaults: true}\n",
			want: []string{pool1 + "PrincipalTags login.example.com: login.example.com is not a configured provider of this identity pool. (line 6)"},
		},
		{
			name: "developer users without a developer provider",
			text: head + valid + "    DeveloperUsers:\n      - {IdentityId: " + aliceID + ", DeveloperUserIdentifier: alice}\n",
			want: []string{pool1 + "DeveloperUsers item 1: Developer users need the pool's DeveloperProviderName. (line 6)"},
		},
		{
			name: "developer user in another region",
			text: head + valid + "    DeveloperProviderName: login.x\n    DeveloperUsers:\n      - {IdentityId: eu-west-1:aaaaaaaa-1111-4222-8333-444444444444, DeveloperUserIdentifier: alice}\n",
			want: []string{pool1 + "DeveloperUsers item 1: \"eu-west-1:aaaaaaaa-1111-4222-8333-444444444444\" is not an identity id of this pool: want us-east-1:<uuid> in lower case (the pool's region). (line 7)"},
		},
		{
			name: "developer user listed twice",
			text: head + valid + "    DeveloperProviderName: login.x\n    DeveloperUsers:\n      - {IdentityId: " + aliceID + ", DeveloperUserIdentifier: alice}\n      - {IdentityId: " + bobID + ", DeveloperUserIdentifier: alice}\n",
			want: []string{pool1 + "DeveloperUsers item 2: developer user \"alice\" is listed twice (items 1 and 2) (line 8)"},
		},
		{
			name: "developer user missing a member",
			text: head + valid + "    DeveloperProviderName: login.x\n    DeveloperUsers:\n      - {IdentityId: " + aliceID + "}\n",
			want: []string{pool1 + "DeveloperUsers: item 1: DeveloperUserIdentifier is required (line 7)"},
		},
		{
			name: "bad account",
			text: head + valid + "    AccountId: '12345'\n",
			want: []string{pool1 + "AccountId: \"12345\" is not an account id: want 12 digits. (line 5)"},
		},
		{
			name: "every problem of the model at once",
			text: head + "    IdentityPoolName: 'no!'\n    AllowUnauthenticatedIdentities: 1\n  - IdentityPoolName: x\n",
			want: []string{
				pool1 + "IdentityPoolName: 1 validation error detected: Value 'no!' at 'identityPoolName'",
				pool1 + "AllowUnauthenticatedIdentities: NUMBER_VALUE can not be converted to a Boolean (line 4)",
				"seed file seed.yaml: pool 2 (no IdentityPoolId): IdentityPoolId: required: a seeded pool names its id (line 5)",
				"seed file seed.yaml: pool 2 (no IdentityPoolId): AllowUnauthenticatedIdentities: 1 validation error detected: Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null (line 5)",
			},
		},
		{name: "not a mapping", text: "- a\n", want: []string{"seed file seed.yaml, line 1: want a mapping with the key pools, a list of identity pools"}},
		{name: "unknown top-level key", text: "Pools: []\n", want: []string{`seed file seed.yaml, line 1: unknown key "Pools" (did you mean "pools"?); a seed file has one key, pools`}},
		{name: "repeated member", text: head + valid + "    IdentityPoolName: again\n", want: []string{pool1 + "IdentityPoolName: repeated (first on line 3) (line 5)"}},
		{name: "not YAML", text: "pools: [\n", want: []string{"seed file seed.yaml: yaml: line 1: did not find expected node content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := seed.Parse("seed.yaml", []byte(tt.text))
			if err == nil {
				t.Fatalf("parsed, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d:\ngot  %s\nwant %s", i+1, lines[i], w)
				}
			}
		})
	}
}

// TestServiceErrorsAreAPIErrors checks that a refusal by an API rule can be
// told apart from a mistake in the file's structure.
func TestServiceErrorsAreAPIErrors(t *testing.T) {
	_, err := seed.Parse("s.yaml", []byte("pools:\n  - IdentityPoolId: "+poolID+"\n    IdentityPoolName: 'no!'\n    AllowUnauthenticatedIdentities: true\n"))
	var ae *apierr.Error
	var se *seed.Error
	if !errors.As(err, &se) || !errors.As(err, &ae) || ae.Code != apierr.Validation || se.Member != "IdentityPoolName" || se.Line != 3 {
		t.Errorf("error %v: seed.Error %+v, apierr %+v", err, se, ae)
	}
}

func TestEmptySeeds(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "pools:\n", "pools: []\n", "~\n"} {
		sd, err := seed.Parse("seed.yaml", []byte(text))
		if err != nil || sd.Len() != 0 {
			t.Errorf("%q: %v pools, %v", text, sd.Len(), err)
		}
	}
	var none *seed.Seed
	e := newEnv(t, backends[0])
	if res, err := none.Apply(context.Background(), e.svc, account); err != nil || res.Changed() {
		t.Errorf("nil seed: %+v, %v", res, err)
	}
}

func TestJSONSeed(t *testing.T) {
	sd := mustParse(t, `{"pools": [{"IdentityPoolId": "`+poolID+`", "IdentityPoolName": "json", "AllowUnauthenticatedIdentities": false,
		"IdentityPoolTags": {"n": "1"}}]}`)
	e := newEnv(t, backends[0])
	e.apply(t, sd)
	if p := e.pool(t, poolID); p.Name != "json" || p.Tags["n"] != "1" {
		t.Errorf("pool %+v", p)
	}
}

func TestReset(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			sd := mustParse(t, full)
			e.apply(t, sd)
			ctx := context.Background()
			for i := 0; i < 3; i++ {
				if _, err := e.svc.CreateIdentityPool(caller.With(ctx, caller.Info{Account: "333333333333"}), &cognito.CreateIdentityPoolInput{
					PoolSettings: cognito.PoolSettings{IdentityPoolName: "extra"},
				}); err != nil {
					t.Fatal(err)
				}
			}
			guest, err := e.svc.GetId(ctx, &cognito.GetIdInput{IdentityPoolId: poolID})
			if err != nil {
				t.Fatal(err)
			}
			keys, _ := e.st.ListSigningKeys(ctx)
			res, err := seed.Reset(ctx, e.svc, sd, account)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deleted != 5 || res.Pools != 2 || res.Seed.Created != 2 || res.Seed.Linked != 3 {
				t.Errorf("reset: %+v", res)
			}
			left, err := e.st.ListPools(ctx, "", "", nil, 100)
			if err != nil || len(left) != 2 {
				t.Errorf("%d pools after the reset, want the 2 seeded: %v", len(left), err)
			}
			if _, err := e.st.GetIdentity(ctx, guest.IdentityId); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("guest after the reset: %v", err)
			}
			if after, _ := e.st.ListSigningKeys(ctx); !reflect.DeepEqual(after, keys) {
				t.Errorf("signing keys changed")
			}
			// A reset without a seed empties the store.
			res, err = seed.Reset(ctx, e.svc, nil, account)
			if err != nil || res.Deleted != 2 || res.Pools != 0 {
				t.Errorf("reset without a seed: %+v, %v", res, err)
			}
		})
	}
}

// TestResetForgetsCachedPools checks that the public operations, which read
// pools through the service's cache, do not find a deleted pool.
func TestResetForgetsCachedPools(t *testing.T) {
	e := newEnv(t, backends[0])
	ctx := context.Background()
	e.apply(t, mustParse(t, full))
	if _, err := e.svc.GetId(ctx, &cognito.GetIdInput{IdentityPoolId: poolID}); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Reset(ctx, e.svc, nil, account); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.GetId(ctx, &cognito.GetIdInput{IdentityPoolId: poolID})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.ResourceNotFound {
		t.Errorf("GetId on a pool the reset deleted: %v", err)
	}
}

func TestLoad(t *testing.T) {
	if _, err := seed.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.HasPrefix(err.Error(), "seed file: open ") {
		t.Errorf("missing file: %v", err)
	}
	sd, err := seed.Load(filepath.Join("..", "..", "examples", "seed.yaml"))
	if err != nil || sd.Len() != 1 {
		t.Fatalf("examples/seed.yaml: %v", err)
	}
}

// TestREADME checks the seed examples of the README: the first is
// examples/seed.yaml as it is, the second adds members to its pool, and
// both pass.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Test stacks: seed, reset, memory store, Go helper\n")
	if !ok {
		t.Fatal("README has no section on test stacks")
	}
	var blocks []string
	for rest := section; ; {
		_, after, found := strings.Cut(rest, "```yaml\n")
		if !found {
			break
		}
		block, tail, _ := strings.Cut(after, "```\n")
		blocks, rest = append(blocks, block), tail
	}
	if len(blocks) < 2 {
		t.Fatalf("%d yaml blocks in the section, want 2", len(blocks))
	}
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "seed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if blocks[0] != string(example) {
		t.Errorf("the README's seed differs from examples/seed.yaml:\n%s", blocks[0])
	}
	sd := mustParse(t, blocks[0]+blocks[1])
	e := newEnv(t, backends[0])
	if res := e.apply(t, sd); res.Created != 1 || res.Linked != 1 {
		t.Errorf("README seed: %+v", res)
	}
}

// TestSeedTogether applies one seed from several services over one store
// at once, as replicas starting together do: every one succeeds, the pools
// are created once.
func TestSeedTogether(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			first := newEnv(t, b)
			st := first.st
			sd := mustParse(t, full)
			const n = 4
			results := make([]cognito.SeedResult, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				svc := cognito.New(cognito.Config{Store: st})
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = sd.Apply(context.Background(), svc, account)
				}()
			}
			wg.Wait()
			created := 0
			for i := range n {
				if errs[i] != nil {
					t.Errorf("service %d: %v", i, errs[i])
				}
				created += results[i].Created
			}
			if created != 2 {
				t.Errorf("%d pools created in all, want 2: %+v", created, results)
			}
		})
	}
}
