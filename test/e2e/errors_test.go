package e2e

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
)

const (
	idPattern   = `[\w-]+:[0-9a-f-]+`
	namePattern = `[\w\s+=,.@-]+`
)

// TestValidation sends requests that break the model's constraints; the
// server answers ValidationException with AWS's message grammar.
func TestValidation(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	longID := "us-east-1:" + strings.Repeat("a", 46)
	long := strings.Repeat("n", 129)

	tests := []struct {
		name    string
		call    func() error
		message string
	}{
		{"pool id without region", func() error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String("6eaf0258-e8c5-467f-90de-6e212326e6d3")})
			return err
		}, validation("Value '6eaf0258-e8c5-467f-90de-6e212326e6d3' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: " + idPattern)},
		{"pool id with upper-case hex", func() error {
			_, err := c.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String("us-east-1:ABCDEF00-0000-4000-8000-000000000000")})
			return err
		}, validation("Value 'us-east-1:ABCDEF00-0000-4000-8000-000000000000' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: " + idPattern)},
		{"user pool id as pool id", func() error {
			_, err := c.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String("us-east-1_AbC123xyz")})
			return err
		}, validation("Value 'us-east-1_AbC123xyz' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: " + idPattern)},
		{"pool id too long", func() error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(longID)})
			return err
		}, validation("Value '" + longID + "' at 'identityPoolId' failed to satisfy constraint: Member must have length less than or equal to 55")},
		{"empty pool id", func() error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String("")})
			return err
		}, validation(
			"Value '' at 'identityPoolId' failed to satisfy constraint: Member must have length greater than or equal to 1",
			"Value '' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: "+idPattern)},
		{"MaxResults 0", func() error {
			_, err := c.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(0)})
			return err
		}, validation("Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")},
		{"MaxResults 61", func() error {
			_, err := c.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(61)})
			return err
		}, validation("Value '61' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60")},
		{"NextToken with a space", func() error {
			_, err := c.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1), NextToken: aws.String("a b")})
			return err
		}, validation(`Value 'a b' at 'nextToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [\S]+`)},
		{"name too long", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String(long)})
			return err
		}, validation("Value '" + long + "' at 'identityPoolName' failed to satisfy constraint: Member must have length less than or equal to 128")},
		{"name with a forbidden character", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("my pool!")})
			return err
		}, validation("Value 'my pool!' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + namePattern)},
		{"name too long and with a forbidden character", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String(long + "!")})
			return err
		}, validation(
			"Value '"+long+"!' at 'identityPoolName' failed to satisfy constraint: Member must have length less than or equal to 128",
			"Value '"+long+"!' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: "+namePattern)},
		{"update: bad id and bad name", func() error {
			_, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String("bad"), IdentityPoolName: aws.String("bad/name")})
			return err
		}, validation(
			"Value 'bad' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: "+idPattern,
			"Value 'bad/name' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: "+namePattern)},
		{"developer provider name with a space", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"), DeveloperProviderName: aws.String("login example")})
			return err
		}, validation(`Value 'login example' at 'developerProviderName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w._-]+`)},
		{"user pool client id with a dash", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"),
				CognitoIdentityProviders: []types.CognitoIdentityProvider{{ProviderName: aws.String(userPool1), ClientId: aws.String("client-1")}}})
			return err
		}, validation(`Value 'client-1' at 'cognitoIdentityProviders.1.member.clientId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w_]+`)},
		{"OIDC ARN too short", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"), OpenIdConnectProviderARNs: []string{oidcARN, "arn:aws:iam::1:x"}})
			return err
		}, validation("Value '[" + oidcARN + ", arn:aws:iam::1:x]' at 'openIdConnectProviderARNs' failed to satisfy constraint: " +
			"Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 20]")},
		{"login provider id with a space", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"), SupportedLoginProviders: map[string]string{"graph.facebook.com": "app id"}})
			return err
		}, validation("Value '{graph.facebook.com=app id}' at 'supportedLoginProviders' failed to satisfy constraint: Map value must satisfy constraint: " +
			`[Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\w.;_/-]+]`)},
		{"missing IdentityPoolName", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{}, WithoutClientValidation)
			return err
		}, validation("Value null at 'identityPoolName' failed to satisfy constraint: Member must not be null")},
		{"missing AllowUnauthenticatedIdentities", func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p")}, WithRawBody(`{"IdentityPoolName":"p"}`))
			return err
		}, validation("Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null")},
		{"missing IdentityPoolId", func() error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{}, WithoutClientValidation)
			return err
		}, validation("Value null at 'identityPoolId' failed to satisfy constraint: Member must not be null")},
		{"null IdentityPoolId", func() error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String("x")}, WithRawBody(`{"IdentityPoolId":null}`))
			return err
		}, validation("Value null at 'identityPoolId' failed to satisfy constraint: Member must not be null")},
		{"missing MaxResults", func() error {
			_, err := c.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{}, WithoutClientValidation)
			return err
		}, validation("Value null at 'maxResults' failed to satisfy constraint: Member must not be null")},
		{"update: missing id and name", func() error {
			_, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{}, WithoutClientValidation)
			return err
		}, validation(
			"Value null at 'identityPoolId' failed to satisfy constraint: Member must not be null",
			"Value null at 'identityPoolName' failed to satisfy constraint: Member must not be null")},
		{"missing Roles", func() error {
			_, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String("us-east-1:0")}, WithoutClientValidation)
			return err
		}, validation("Value null at 'roles' failed to satisfy constraint: Member must not be null")},
		{"missing ResourceArn and Tags", func() error {
			_, err := c.TagResource(ctx, &cognitoidentity.TagResourceInput{}, WithoutClientValidation)
			return err
		}, validation(
			"Value null at 'resourceArn' failed to satisfy constraint: Member must not be null",
			"Value null at 'tags' failed to satisfy constraint: Member must not be null")},
		{"missing TagKeys", func() error {
			_, err := c.UntagResource(ctx, &cognitoidentity.UntagResourceInput{ResourceArn: aws.String(poolARN(USEast1, AccountA, "us-east-1:0"))}, WithoutClientValidation)
			return err
		}, validation("Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")},
		{"missing IdentityProviderName", func() error {
			_, err := c.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String("us-east-1:0")}, WithoutClientValidation)
			return err
		}, validation("Value null at 'identityProviderName' failed to satisfy constraint: Member must not be null")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			APIError(t, tt.call(), "ValidationException", tt.message)
		})
	}
	// Nothing was created by the refused calls.
	if got := listAll(t, c, 60); len(got) != 0 {
		t.Errorf("refused calls created pools: %v", ids(got))
	}
}

// TestSerialization sends bodies whose JSON types do not match the model.
func TestSerialization(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	describe := func(body string) func() error {
		return func() error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String("us-east-1:0")}, WithRawBody(body))
			return err
		}
	}
	create := func(body string) func() error {
		return func() error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p")}, WithRawBody(body))
			return err
		}
	}
	list := func(body string) func() error {
		return func() error {
			_, err := c.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1)}, WithRawBody(body))
			return err
		}
	}
	tests := []struct {
		name    string
		call    func() error
		message string
	}{
		{"list for a string", describe(`{"IdentityPoolId":["us-east-1:0"]}`), "Start of list found where not expected"},
		{"object for a string", describe(`{"IdentityPoolId":{"a":"b"}}`), "Start of structure or map found where not expected"},
		{"number for a string", describe(`{"IdentityPoolId":12}`), "NUMBER_VALUE can not be converted to a String"},
		{"body is a list", describe(`[]`), "Start of list found where not expected"},
		{"string for a boolean", create(`{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":"true"}`), "STRING_VALUE can not be converted to an Boolean"},
		{"string for a map", create(`{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":false,"IdentityPoolTags":"a=b"}`), "Expected map or null"},
		{"string for a list", create(`{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":false,"SamlProviderARNs":"arn"}`), "Expected list or null"},
		{"string for an integer", list(`{"MaxResults":"10"}`), "STRING_VALUE can not be converted to an Integer"},
		{"fraction for an integer", list(`{"MaxResults":1.5}`), "NUMBER_VALUE can not be converted to an Integer"},
		{"integer out of range", list(`{"MaxResults":4294967296}`), "NUMBER_VALUE can not be converted to an Integer"},
		{"empty body", list(``), "Request body is empty; expected a JSON object"},
		{"truncated JSON", list(`{"MaxResults":`), "Unexpected end of input; the request body is not valid JSON"},
		{"trailing content", list(`{"MaxResults":1} {}`), "Unexpected content after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			APIError(t, tt.call(), "SerializationException", tt.message)
		})
	}
	if got := listAll(t, c, 60); len(got) != 0 {
		t.Errorf("refused calls created pools: %v", ids(got))
	}
}

// TestBusinessRules covers the InvalidParameterException and
// LimitExceededException rules of CreateIdentityPool and
// UpdateIdentityPool that the model cannot express.
func TestBusinessRules(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	existing := newPool(t, c, "existing")

	var fiftyOne []types.CognitoIdentityProvider
	for i := range 51 {
		fiftyOne = append(fiftyOne, types.CognitoIdentityProvider{ProviderName: aws.String(userPool1), ClientId: aws.String(fmt.Sprintf("client%d", i))})
	}
	const supported = "graph.facebook.com, accounts.google.com, www.amazon.com, api.twitter.com, www.digits.com, appleid.apple.com"
	tests := []struct {
		name          string
		in            cognitoidentity.CreateIdentityPoolInput
		code, message string
	}{
		{"user pool provider without ClientId", cognitoidentity.CreateIdentityPoolInput{
			CognitoIdentityProviders: []types.CognitoIdentityProvider{{ProviderName: aws.String(userPool1)}}},
			"InvalidParameterException", "Invalid Cognito Identity Provider"},
		{"user pool provider without ProviderName", cognitoidentity.CreateIdentityPoolInput{
			CognitoIdentityProviders: []types.CognitoIdentityProvider{{ProviderName: aws.String(userPool1), ClientId: aws.String("ok")}, {ClientId: aws.String("abc")}}},
			"InvalidParameterException", "Invalid Cognito Identity Provider"},
		{"empty user pool provider", cognitoidentity.CreateIdentityPoolInput{
			CognitoIdentityProviders: []types.CognitoIdentityProvider{{ServerSideTokenCheck: aws.Bool(true)}}},
			"InvalidParameterException", "Invalid Cognito Identity Provider"},
		{"51 user pool providers", cognitoidentity.CreateIdentityPoolInput{CognitoIdentityProviders: fiftyOne},
			"LimitExceededException", "An identity pool can have at most 50 Cognito user pool providers."},
		{"unknown login provider", cognitoidentity.CreateIdentityPoolInput{SupportedLoginProviders: map[string]string{"Facebook": "123"}},
			"InvalidParameterException", "Facebook is not a supported login provider. Supported login providers are " + supported + "."},
		{"user pool as a login provider", cognitoidentity.CreateIdentityPoolInput{SupportedLoginProviders: map[string]string{userPool1: "client1"}},
			"InvalidParameterException", userPool1 + " is not a supported login provider. Supported login providers are " + supported + "."},
		{"role ARN as OIDC provider", cognitoidentity.CreateIdentityPoolInput{OpenIdConnectProviderARNs: []string{authRole}},
			"InvalidParameterException", "Invalid OpenIdConnectProviderARN: " + authRole + ". Expected arn:aws:iam::<account>:oidc-provider/<issuer>."},
		{"SAML ARN as OIDC provider", cognitoidentity.CreateIdentityPoolInput{OpenIdConnectProviderARNs: []string{oidcARN, samlARN}},
			"InvalidParameterException", "Invalid OpenIdConnectProviderARN: " + samlARN + ". Expected arn:aws:iam::<account>:oidc-provider/<issuer>."},
		{"OIDC ARN as SAML provider", cognitoidentity.CreateIdentityPoolInput{SamlProviderARNs: []string{oidcARN}},
			"InvalidParameterException", "Invalid SamlProviderARN: " + oidcARN + ". Expected arn:aws:iam::<account>:saml-provider/<name>."},
		{"SAML ARN with a short account", cognitoidentity.CreateIdentityPoolInput{SamlProviderARNs: []string{"arn:aws:iam::1234:saml-provider/Corp"}},
			"InvalidParameterException", "Invalid SamlProviderARN: arn:aws:iam::1234:saml-provider/Corp. Expected arn:aws:iam::<account>:saml-provider/<name>."},
	}
	for _, tt := range tests {
		t.Run("create: "+tt.name, func(t *testing.T) {
			in := tt.in
			in.IdentityPoolName = aws.String("refused")
			_, err := c.CreateIdentityPool(ctx, &in)
			APIError(t, err, tt.code, tt.message)
		})
		t.Run("update: "+tt.name, func(t *testing.T) {
			in := tt.in
			_, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
				IdentityPoolId: aws.String(existing), IdentityPoolName: aws.String("refused"),
				SupportedLoginProviders: in.SupportedLoginProviders, OpenIdConnectProviderARNs: in.OpenIdConnectProviderARNs,
				CognitoIdentityProviders: in.CognitoIdentityProviders, SamlProviderARNs: in.SamlProviderARNs,
			})
			APIError(t, err, tt.code, tt.message)
		})
	}
	if got := ids(listAll(t, c, 60)); !slices.Equal(got, []string{existing}) {
		t.Errorf("pools after refused creates = %v, want only %s", got, existing)
	}
	wantEqual(t, "pool after refused updates", describe(t, c, existing), Pool{ID: existing, Name: "existing", Tags: map[string]string{}})

	t.Run("50 user pool providers are allowed", func(t *testing.T) {
		out := createPool(t, c, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("fifty"), CognitoIdentityProviders: fiftyOne[:50]})
		if n := len(out.CognitoIdentityProviders); n != 50 {
			t.Errorf("pool has %d user pool providers, want 50", n)
		}
	})

	t.Run("unknown pool", func(t *testing.T) {
		missing := "us-east-1:00000000-0000-4000-8000-000000000000"
		_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(missing)})
		APIError(t, err, "ResourceNotFoundException", notFound(missing))
		// A well-formed id of a region nobody uses.
		other := "xx-nowhere-9:12345678-0000-4000-8000-000000000000"
		_, err = c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(other)})
		APIError(t, err, "ResourceNotFoundException", notFound(other))
	})
}

// TestAccountIsolation checks that pools of one account cannot be seen or
// touched by another.
func TestAccountIsolation(t *testing.T) {
	env := Start(t, Options{})
	a := env.Client(AccountA, USEast1)
	b := env.Client(AccountB, USEast1)
	anon := env.Client("AKIAIOSFODNN7EXAMPLE", USEast1) // account 000000000000
	ctx := t.Context()
	poolA := aws.ToString(createPool(t, a, fullPoolInput("pool of A")).IdentityPoolId)
	poolB := newPool(t, b, "pool of B")
	poolAnon := newPool(t, anon, "pool of the default account")

	type owned struct{ name, id, account string }
	pools := []owned{{"pool of A", poolA, AccountA}, {"pool of B", poolB, AccountB}, {"pool of the default account", poolAnon, "000000000000"}}
	for _, tc := range []struct {
		name   string
		client *cognitoidentity.Client
		own    string
	}{
		{"account A", a, poolA},
		{"account B", b, poolB},
		{"default account", anon, poolAnon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(listAll(t, tc.client, 60)); !slices.Equal(got, []string{tc.own}) {
				t.Errorf("ListIdentityPools = %v, want only %s", got, tc.own)
			}
			for _, other := range pools {
				if other.id == tc.own {
					continue
				}
				for _, call := range poolCalls(ctx, tc.client, other.id, poolARN(USEast1, other.account, other.id)) {
					t.Run(other.name+"/"+call.name, func(t *testing.T) {
						APIError(t, call.call(), "ResourceNotFoundException", notFound(other.id))
					})
				}
			}
		})
	}
	// None of the refused calls changed anything.
	wantEqual(t, "pool of A", describe(t, a, poolA), fullPoolWant(poolA, "pool of A"))
	wantEqual(t, "pool of B", describe(t, b, poolB), Pool{ID: poolB, Name: "pool of B", Tags: map[string]string{}})
}

type namedCall struct {
	name string
	call func() error
}

// poolCalls are calls of every pool operation on one pool, each of which
// would change or reveal it if it were allowed; the delete comes last.
func poolCalls(ctx context.Context, c *cognitoidentity.Client, id, arn string) []namedCall {
	return []namedCall{
		{"DescribeIdentityPool", func() error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
			return err
		}},
		{"UpdateIdentityPool", func() error {
			_, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("hijacked")})
			return err
		}},
		{"GetIdentityPoolRoles", func() error {
			_, err := c.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(id)})
			return err
		}},
		{"SetIdentityPoolRoles", func() error {
			_, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(id), Roles: map[string]string{"authenticated": adminRole}})
			return err
		}},
		{"GetPrincipalTagAttributeMap", func() error {
			_, err := c.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(id), IdentityProviderName: aws.String(userPool1)})
			return err
		}},
		{"SetPrincipalTagAttributeMap", func() error {
			_, err := c.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(id), IdentityProviderName: aws.String(userPool1), UseDefaults: aws.Bool(true)})
			return err
		}},
		{"ListTagsForResource", func() error {
			_, err := c.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			return err
		}},
		{"TagResource", func() error {
			_, err := c.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"owner": "intruder"}})
			return err
		}},
		{"UntagResource", func() error {
			_, err := c.UntagResource(ctx, &cognitoidentity.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}})
			return err
		}},
		{"DeleteIdentityPool", func() error {
			_, err := c.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(id)})
			return err
		}},
	}
}

// TestBodyLimit: a body over the server's limit is refused before it is
// parsed.
func TestBodyLimit(t *testing.T) {
	env := Start(t, Options{MaxBodyBytes: 256})
	c := env.Client(AccountA, USEast1)
	// Just under the limit works.
	if _, err := c.CreateIdentityPool(t.Context(), &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String(strings.Repeat("n", 100))}); err != nil {
		t.Fatalf("CreateIdentityPool with a small body: %v", err)
	}
	_, err := c.CreateIdentityPool(t.Context(), &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("big"), IdentityPoolTags: nTags("key", 20)})
	APIError(t, err, "SerializationException", "The request body is larger than the limit of 256 bytes.")
	if n := len(listAll(t, c, 60)); n != 1 {
		t.Errorf("%d pools exist, want 1", n)
	}
}

// TestReadiness: /ready answers 200 while the store answers and 503, with
// the reason, once it does not; /health (liveness) answers 200 either way.
func TestReadiness(t *testing.T) {
	env := Start(t, Options{})
	get := func(path string) (int, string) {
		resp, err := env.HTTPClient().Get(env.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get("/ready"); status != 200 || body != `{"status":"ready"}` {
		t.Errorf("/ready = %d %s", status, body)
	}
	if err := env.store.Close(); err != nil {
		t.Fatal(err)
	}
	if status, body := get("/ready"); status != 503 || !strings.Contains(body, `"problems":["store: unavailable: sqlite: `) {
		t.Errorf("/ready with the store closed = %d %s", status, body)
	}
	if status, _ := get("/health"); status != 200 {
		t.Errorf("/health with the store closed = %d", status)
	}
}
