package e2e

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
)

var poolIDPattern = regexp.MustCompile(`^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCreateDescribeRoundTrip(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)

	tests := []struct {
		name string
		in   *cognitoidentity.CreateIdentityPoolInput
		want Pool // ID is filled in from the create output
	}{
		{
			name: "minimal",
			in:   &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("minimal")},
			want: Pool{Name: "minimal", Tags: map[string]string{}},
		},
		{
			name: "every member",
			in:   fullPoolInput("Full pool_1 +=,.@-"),
			want: fullPoolWant("", "Full pool_1 +=,.@-"),
		},
		{
			name: "classic flow unset",
			in:   &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("classic-unset"), AllowUnauthenticatedIdentities: true},
			want: Pool{Name: "classic-unset", AllowUnauthenticated: true, Tags: map[string]string{}},
		},
		{
			name: "classic flow true",
			in:   &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("classic-true"), AllowClassicFlow: aws.Bool(true)},
			want: Pool{Name: "classic-true", AllowClassicFlow: aws.Bool(true), Tags: map[string]string{}},
		},
		{
			name: "classic flow false",
			in:   &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("classic-false"), AllowClassicFlow: aws.Bool(false)},
			want: Pool{Name: "classic-false", AllowClassicFlow: aws.Bool(false), Tags: map[string]string{}},
		},
		{
			name: "user pool provider without ServerSideTokenCheck reads back false",
			in: &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("userpool"), CognitoIdentityProviders: []types.CognitoIdentityProvider{
				{ProviderName: aws.String(userPool1), ClientId: aws.String("abc")},
			}},
			want: Pool{Name: "userpool", CognitoIdentityProviders: []Provider{{aws.String(userPool1), aws.String("abc"), aws.Bool(false)}}, Tags: map[string]string{}},
		},
		{
			name: "OIDC and SAML only",
			in: &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("federated"),
				OpenIdConnectProviderARNs: []string{oidcARN2}, SamlProviderARNs: []string{samlARN, "arn:aws-cn:iam::222222222222:saml-provider/Other"}},
			want: Pool{Name: "federated", OpenIDConnectARNs: []string{oidcARN2}, SAMLARNs: []string{samlARN, "arn:aws-cn:iam::222222222222:saml-provider/Other"}, Tags: map[string]string{}},
		},
		{
			name: "empty lists and maps are not echoed",
			in: &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("empties"),
				SupportedLoginProviders: map[string]string{}, OpenIdConnectProviderARNs: []string{},
				CognitoIdentityProviders: []types.CognitoIdentityProvider{}, SamlProviderARNs: []string{}, IdentityPoolTags: map[string]string{}},
			want: Pool{Name: "empties", Tags: map[string]string{}},
		},
		{
			name: "name of 128 characters",
			in:   &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String(strings.Repeat("n", 128))},
			want: Pool{Name: strings.Repeat("n", 128), Tags: map[string]string{}},
		},
		{
			// The pattern's \s is Java's: it includes the vertical tab.
			name: "name with whitespace of every kind",
			in:   &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("a b\tc\nd\ve\ff\rg")},
			want: Pool{Name: "a b\tc\nd\ve\ff\rg", Tags: map[string]string{}},
		},
		{
			name: "50 tags",
			in:   &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("tags50"), IdentityPoolTags: nTags("k", 50)},
			want: Pool{Name: "tags50", Tags: nTags("k", 50)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := createPool(t, c, tt.in)
			id := aws.ToString(out.IdentityPoolId)
			if !poolIDPattern.MatchString(id) {
				t.Errorf("IdentityPoolId %q is not us-east-1:<lower-case uuid v4>", id)
			}
			tt.want.ID = id
			wantEqual(t, "CreateIdentityPool output", fromCreate(out), tt.want)
			wantEqual(t, "DescribeIdentityPool output", describe(t, c, id), tt.want)
		})
	}
}

func nTags(prefix string, n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[prefix+string(rune('A'+i/26))+string(rune('a'+i%26))] = "v"
	}
	return m
}

// TestDescribeWire checks the JSON a minimal pool is described with: unset
// members are left out, IdentityPoolTags is always there.
func TestDescribeWire(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	id := newPool(t, c, "wire")
	var raw []byte
	if _, err := c.DescribeIdentityPool(t.Context(), &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)}, CaptureResponseBody(&raw)); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("response %q: %v", raw, err)
	}
	want := map[string]any{
		"IdentityPoolId":                 id,
		"IdentityPoolName":               "wire",
		"AllowUnauthenticatedIdentities": false,
		"IdentityPoolTags":               map[string]any{},
	}
	wantEqual(t, "DescribeIdentityPool body", got, want)
}

func TestUpdateIdentityPool(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()

	update := func(t *testing.T, in *cognitoidentity.UpdateIdentityPoolInput) Pool {
		t.Helper()
		out, err := c.UpdateIdentityPool(ctx, in)
		if err != nil {
			t.Fatalf("UpdateIdentityPool: %v", err)
		}
		got := fromUpdate(out)
		wantEqual(t, "UpdateIdentityPool output versus DescribeIdentityPool", got, describe(t, c, aws.ToString(in.IdentityPoolId)))
		return got
	}

	t.Run("full replacement resets what is left out", func(t *testing.T) {
		id := aws.ToString(createPool(t, c, fullPoolInput("full")).IdentityPoolId)
		got := update(t, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("renamed")})
		want := Pool{
			ID: id, Name: "renamed",
			// The developer provider cannot be unset, and tags are only
			// replaced when IdentityPoolTags is sent.
			DeveloperProviderName: aws.String("login.example.app"),
			Tags:                  fullPoolInput("").IdentityPoolTags,
		}
		wantEqual(t, "pool after a bare update", got, want)
	})

	t.Run("every member set by update", func(t *testing.T) {
		id := newPool(t, c, "bare")
		full := fullPoolInput("now full")
		got := update(t, &cognitoidentity.UpdateIdentityPoolInput{
			IdentityPoolId: aws.String(id), IdentityPoolName: full.IdentityPoolName,
			AllowUnauthenticatedIdentities: full.AllowUnauthenticatedIdentities, AllowClassicFlow: full.AllowClassicFlow,
			SupportedLoginProviders: full.SupportedLoginProviders, DeveloperProviderName: full.DeveloperProviderName,
			OpenIdConnectProviderARNs: full.OpenIdConnectProviderARNs, CognitoIdentityProviders: full.CognitoIdentityProviders,
			SamlProviderARNs: full.SamlProviderARNs, IdentityPoolTags: full.IdentityPoolTags,
		})
		wantEqual(t, "pool", got, fullPoolWant(id, "now full"))
	})

	t.Run("AllowClassicFlow tri-state", func(t *testing.T) {
		id := newPool(t, c, "classic")
		for _, step := range []struct {
			name string
			set  *bool
		}{{"true", aws.Bool(true)}, {"unset", nil}, {"false", aws.Bool(false)}, {"true again", aws.Bool(true)}, {"false again", aws.Bool(false)}, {"unset again", nil}} {
			got := update(t, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("classic"), AllowClassicFlow: step.set})
			wantEqual(t, "AllowClassicFlow after setting "+step.name, got.AllowClassicFlow, step.set)
		}
	})

	t.Run("AllowUnauthenticatedIdentities both ways", func(t *testing.T) {
		id := newPool(t, c, "guests")
		for _, allow := range []bool{true, false, true} {
			got := update(t, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("guests"), AllowUnauthenticatedIdentities: allow})
			if got.AllowUnauthenticated != allow {
				t.Errorf("AllowUnauthenticatedIdentities = %v, want %v", got.AllowUnauthenticated, allow)
			}
		}
	})

	t.Run("DeveloperProviderName is immutable once set", func(t *testing.T) {
		id := newPool(t, c, "dev")
		base := func(dev *string) *cognitoidentity.UpdateIdentityPoolInput {
			return &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("dev"), DeveloperProviderName: dev}
		}
		if got := update(t, base(nil)); got.DeveloperProviderName != nil {
			t.Fatalf("DeveloperProviderName = %q before it was set", *got.DeveloperProviderName)
		}
		// A pool without one may get one by update.
		if got := update(t, base(aws.String("login.dev_1-x"))); aws.ToString(got.DeveloperProviderName) != "login.dev_1-x" {
			t.Fatalf("DeveloperProviderName = %v, want login.dev_1-x", got.DeveloperProviderName)
		}
		// The same value again is fine; leaving it out keeps it.
		if got := update(t, base(aws.String("login.dev_1-x"))); aws.ToString(got.DeveloperProviderName) != "login.dev_1-x" {
			t.Fatalf("DeveloperProviderName = %v after resending it", got.DeveloperProviderName)
		}
		if got := update(t, base(nil)); aws.ToString(got.DeveloperProviderName) != "login.dev_1-x" {
			t.Fatalf("DeveloperProviderName = %v after an update without it, want it kept", got.DeveloperProviderName)
		}
		_, err := c.UpdateIdentityPool(ctx, base(aws.String("login.other")))
		APIError(t, err, "InvalidParameterException", "The developer provider name of an identity pool cannot be changed once it is set (it is login.dev_1-x).")
		if got := describe(t, c, id); aws.ToString(got.DeveloperProviderName) != "login.dev_1-x" {
			t.Errorf("DeveloperProviderName = %v after a refused change", got.DeveloperProviderName)
		}
	})

	t.Run("a refused update changes nothing", func(t *testing.T) {
		id := aws.ToString(createPool(t, c, fullPoolInput("keep")).IdentityPoolId)
		_, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
			IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("changed"),
			CognitoIdentityProviders: []types.CognitoIdentityProvider{{ProviderName: aws.String(userPool1)}},
		})
		APIError(t, err, "InvalidParameterException", "Invalid Cognito Identity Provider")
		wantEqual(t, "pool after a refused update", describe(t, c, id), fullPoolWant(id, "keep"))
	})

	t.Run("tags replaced only when IdentityPoolTags is given", func(t *testing.T) {
		id := aws.ToString(createPool(t, c, &cognitoidentity.CreateIdentityPoolInput{
			IdentityPoolName: aws.String("tagged"), IdentityPoolTags: map[string]string{"a": "1", "b": "2"},
		}).IdentityPoolId)
		steps := []struct {
			name string
			tags map[string]string
			want map[string]string
		}{
			{"omitted keeps them", nil, map[string]string{"a": "1", "b": "2"}},
			{"given replaces them", map[string]string{"b": "20", "c": "3"}, map[string]string{"b": "20", "c": "3"}},
			{"omitted again keeps them", nil, map[string]string{"b": "20", "c": "3"}},
			{"empty clears them", map[string]string{}, map[string]string{}},
			{"given on an untagged pool", map[string]string{"d": ""}, map[string]string{"d": ""}},
		}
		for _, s := range steps {
			got := update(t, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("tagged"), IdentityPoolTags: s.tags})
			wantEqual(t, "tags when "+s.name, got.Tags, s.want)
			lt, err := c.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: aws.String(poolARN(USEast1, AccountA, id))})
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "ListTagsForResource when "+s.name, lt.Tags, s.want)
		}
	})

	t.Run("removing a provider drops its role mapping", func(t *testing.T) {
		id := aws.ToString(createPool(t, c, &cognitoidentity.CreateIdentityPoolInput{
			IdentityPoolName:        aws.String("mapped"),
			SupportedLoginProviders: map[string]string{"graph.facebook.com": "123"},
			SamlProviderARNs:        []string{samlARN},
		}).IdentityPoolId)
		mapping := types.RoleMapping{Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny}
		if _, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
			IdentityPoolId: aws.String(id), Roles: map[string]string{"authenticated": authRole},
			RoleMappings: map[string]types.RoleMapping{"graph.facebook.com": mapping, samlARN: mapping},
		}); err != nil {
			t.Fatal(err)
		}
		update(t, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("mapped"), SamlProviderARNs: []string{samlARN}})
		roles, err := c.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "role mappings", roles.RoleMappings, map[string]types.RoleMapping{samlARN: mapping})
		wantEqual(t, "roles", roles.Roles, map[string]string{"authenticated": authRole})
	})
}

func TestDeleteIdentityPool(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	keep := newPool(t, c, "keep")
	gone := aws.ToString(createPool(t, c, fullPoolInput("gone")).IdentityPoolId)

	if _, err := c.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(gone)}); err != nil {
		t.Fatalf("DeleteIdentityPool: %v", err)
	}
	for _, call := range poolCalls(ctx, c, gone, poolARN(USEast1, AccountA, gone)) {
		t.Run(call.name, func(t *testing.T) {
			APIError(t, call.call(), "ResourceNotFoundException", notFound(gone))
		})
	}
	if got := ids(listAll(t, c, 60)); !slices.Equal(got, []string{keep}) {
		t.Errorf("pools listed after the delete = %v, want only %s", got, keep)
	}
	if got := describe(t, c, keep); got.Name != "keep" {
		t.Errorf("the other pool was changed: %+v", got)
	}
}

// TestDuplicateNames: pool names need not be unique.
func TestDuplicateNames(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	first := newPool(t, c, "same")
	second := newPool(t, c, "same")
	if first == second {
		t.Fatalf("two pools got the same id %s", first)
	}
	wantEqual(t, "listing", listAll(t, c, 60), []types.IdentityPoolShortDescription{
		{IdentityPoolId: aws.String(first), IdentityPoolName: aws.String("same")},
		{IdentityPoolId: aws.String(second), IdentityPoolName: aws.String("same")},
	})
}

// TestUnknownAndNullMembers: members the model does not know are ignored and
// null members count as absent.
func TestUnknownAndNullMembers(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	body := `{"IdentityPoolName":"raw","AllowUnauthenticatedIdentities":true,"Unknown":{"a":[1,2,{"b":null}]},` +
		`"AllowClassicFlow":null,"DeveloperProviderName":null,"IdentityPoolTags":null,"SamlProviderARNs":null}`
	out, err := c.CreateIdentityPool(t.Context(), &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("ignored")}, WithRawBody(body))
	if err != nil {
		t.Fatalf("CreateIdentityPool: %v", err)
	}
	id := aws.ToString(out.IdentityPoolId)
	want := Pool{ID: id, Name: "raw", AllowUnauthenticated: true, Tags: map[string]string{}}
	wantEqual(t, "created pool", fromCreate(out), want)
	wantEqual(t, "described pool", describe(t, c, id), want)
}
