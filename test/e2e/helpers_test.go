package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
)

// Provider names and ARNs used across the tests.
const (
	userPool1   = "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz"
	userPool2   = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Other9"
	oidcIssuer  = "login.example.com"
	oidcIssuer2 = "auth.example.org/tenant-1"
	oidcARN     = "arn:aws:iam::111111111111:oidc-provider/" + oidcIssuer
	oidcARN2    = "arn:aws:iam::111111111111:oidc-provider/" + oidcIssuer2
	samlARN     = "arn:aws:iam::111111111111:saml-provider/Corp_IdP"
	authRole    = "arn:aws:iam::111111111111:role/Cognito_Auth_Role"
	unauthRole  = "arn:aws:iam::111111111111:role/Cognito_Unauth_Role"
	adminRole   = "arn:aws:iam::111111111111:role/Admins"
	readerRole  = "arn:aws:iam::111111111111:role/Readers"
)

// Pool is the comparable content of an IdentityPool as the SDK decodes it.
// Nil and empty maps and slices stay distinct, so a comparison also checks
// which members were sent.
type Pool struct {
	ID, Name                 string
	AllowUnauthenticated     bool
	AllowClassicFlow         *bool
	SupportedLoginProviders  map[string]string
	DeveloperProviderName    *string
	OpenIDConnectARNs        []string
	CognitoIdentityProviders []Provider
	SAMLARNs                 []string
	Tags                     map[string]string
}

// Provider is a comparable types.CognitoIdentityProvider.
type Provider struct {
	ProviderName, ClientID *string
	ServerSideTokenCheck   *bool
}

func providers(in []types.CognitoIdentityProvider) []Provider {
	if in == nil {
		return nil
	}
	out := make([]Provider, 0, len(in))
	for _, p := range in {
		out = append(out, Provider{p.ProviderName, p.ClientId, p.ServerSideTokenCheck})
	}
	return out
}

func fromCreate(o *cognitoidentity.CreateIdentityPoolOutput) Pool {
	return Pool{aws.ToString(o.IdentityPoolId), aws.ToString(o.IdentityPoolName), o.AllowUnauthenticatedIdentities,
		o.AllowClassicFlow, o.SupportedLoginProviders, o.DeveloperProviderName, o.OpenIdConnectProviderARNs,
		providers(o.CognitoIdentityProviders), o.SamlProviderARNs, o.IdentityPoolTags}
}

func fromDescribe(o *cognitoidentity.DescribeIdentityPoolOutput) Pool {
	return Pool{aws.ToString(o.IdentityPoolId), aws.ToString(o.IdentityPoolName), o.AllowUnauthenticatedIdentities,
		o.AllowClassicFlow, o.SupportedLoginProviders, o.DeveloperProviderName, o.OpenIdConnectProviderARNs,
		providers(o.CognitoIdentityProviders), o.SamlProviderARNs, o.IdentityPoolTags}
}

func fromUpdate(o *cognitoidentity.UpdateIdentityPoolOutput) Pool {
	return Pool{aws.ToString(o.IdentityPoolId), aws.ToString(o.IdentityPoolName), o.AllowUnauthenticatedIdentities,
		o.AllowClassicFlow, o.SupportedLoginProviders, o.DeveloperProviderName, o.OpenIdConnectProviderARNs,
		providers(o.CognitoIdentityProviders), o.SamlProviderARNs, o.IdentityPoolTags}
}

// wantEqual fails the test when got and want differ, showing both as JSON
// (with nil and empty distinguished by a Go-syntax fallback).
func wantEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if string(g) == string(w) {
		t.Errorf("%s differs (nil versus empty?):\n got %#v\nwant %#v", what, got, want)
		return
	}
	t.Errorf("%s differs:\n got %s\nwant %s", what, g, w)
}

func poolARN(region, account, id string) string {
	return fmt.Sprintf("arn:aws:cognito-identity:%s:%s:identitypool/%s", region, account, id)
}

func createPool(t testing.TB, c *cognitoidentity.Client, in *cognitoidentity.CreateIdentityPoolInput) *cognitoidentity.CreateIdentityPoolOutput {
	t.Helper()
	out, err := c.CreateIdentityPool(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateIdentityPool %q: %v", aws.ToString(in.IdentityPoolName), err)
	}
	return out
}

// newPool creates a minimal pool and returns its id.
func newPool(t testing.TB, c *cognitoidentity.Client, name string) string {
	t.Helper()
	return aws.ToString(createPool(t, c, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String(name)}).IdentityPoolId)
}

func describe(t testing.TB, c *cognitoidentity.Client, id string) Pool {
	t.Helper()
	out, err := c.DescribeIdentityPool(t.Context(), &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeIdentityPool %s: %v", id, err)
	}
	return fromDescribe(out)
}

func notFound(id string) string { return "IdentityPool '" + id + "' not found." }

// fullPoolInput is a pool with every member set, with all kinds of
// providers.
func fullPoolInput(name string) *cognitoidentity.CreateIdentityPoolInput {
	return &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String(name),
		AllowUnauthenticatedIdentities: true,
		AllowClassicFlow:               aws.Bool(true),
		SupportedLoginProviders: map[string]string{
			"graph.facebook.com":  "1234567890123456",
			"accounts.google.com": "123-abc.apps.googleusercontent.com",
			"www.amazon.com":      "amzn1.application-oa2-client.0123abcd",
			"api.twitter.com":     "consumerKey;consumerSecret",
			"appleid.apple.com":   "com.example.app",
		},
		DeveloperProviderName:     aws.String("login.example.app"),
		OpenIdConnectProviderARNs: []string{oidcARN, oidcARN2},
		CognitoIdentityProviders: []types.CognitoIdentityProvider{
			{ProviderName: aws.String(userPool1), ClientId: aws.String("client1"), ServerSideTokenCheck: aws.Bool(true)},
			{ProviderName: aws.String(userPool1), ClientId: aws.String("client2"), ServerSideTokenCheck: aws.Bool(false)},
			{ProviderName: aws.String(userPool2), ClientId: aws.String("client_3")},
		},
		SamlProviderARNs: []string{samlARN},
		IdentityPoolTags: map[string]string{"team": "identity", "empty": "", "cost center": "a/b:c=d+e-f@g.h_i"},
	}
}

// fullPoolWant is what DescribeIdentityPool returns for fullPoolInput: the
// same, with an unset ServerSideTokenCheck read back as false.
func fullPoolWant(id, name string) Pool {
	in := fullPoolInput(name)
	return Pool{
		ID: id, Name: name, AllowUnauthenticated: true, AllowClassicFlow: aws.Bool(true),
		SupportedLoginProviders:  in.SupportedLoginProviders,
		DeveloperProviderName:    aws.String("login.example.app"),
		OpenIDConnectARNs:        []string{oidcARN, oidcARN2},
		CognitoIdentityProviders: []Provider{{aws.String(userPool1), aws.String("client1"), aws.Bool(true)}, {aws.String(userPool1), aws.String("client2"), aws.Bool(false)}, {aws.String(userPool2), aws.String("client_3"), aws.Bool(false)}},
		SAMLARNs:                 []string{samlARN},
		Tags:                     in.IdentityPoolTags,
	}
}

// listAll pages through ListIdentityPools with the SDK paginator.
func listAll(t testing.TB, c *cognitoidentity.Client, pageSize int32) []types.IdentityPoolShortDescription {
	t.Helper()
	var all []types.IdentityPoolShortDescription
	p := cognitoidentity.NewListIdentityPoolsPaginator(c, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListIdentityPools: %v", err)
		}
		all = append(all, page.IdentityPools...)
	}
	return all
}

func ids(pools []types.IdentityPoolShortDescription) []string {
	out := []string{}
	for _, p := range pools {
		out = append(out, aws.ToString(p.IdentityPoolId))
	}
	return out
}

// validation is the text of a ValidationException with the given
// violations.
func validation(violations ...string) string {
	n := fmt.Sprintf("%d validation errors detected: ", len(violations))
	if len(violations) == 1 {
		n = "1 validation error detected: "
	}
	return n + strings.Join(violations, "; ")
}
