package strict

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/idpool/idpool/internal/ratelimit"
	"github.com/idpool/idpool/test/e2e"
)

const (
	authRole     = "arn:aws:iam::111111111111:role/Strict_Auth_Role"
	unauthRole   = "arn:aws:iam::111111111111:role/Strict_Unauth_Role"
	developer    = "login.strict.dev"
	mismatchText = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	invalidToken = "The security token included in the request is invalid."
	expiredToken = "The security token included in the request is expired"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// amzTime formats a time as X-Amz-Date does.
func amzTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// newPool creates a pool with guests allowed, a developer provider, the
// test issuer (when there is one) and Facebook, and sets its roles.
func (e *env) newPool(t testing.TB, c *cognitoidentity.Client, name string) string {
	t.Helper()
	in := &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String(name),
		AllowUnauthenticatedIdentities: true,
		DeveloperProviderName:          aws.String(developer),
		SupportedLoginProviders:        map[string]string{"graph.facebook.com": facebookApp},
	}
	if e.oidc != nil {
		in.OpenIdConnectProviderARNs = []string{e.oidc.arn}
	}
	out, err := c.CreateIdentityPool(t.Context(), in)
	must(t, err)
	_, err = c.SetIdentityPoolRoles(t.Context(), &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: out.IdentityPoolId,
		Roles:          map[string]string{"authenticated": authRole, "unauthenticated": unauthRole},
	})
	must(t, err)
	return aws.ToString(out.IdentityPoolId)
}

// claimsOf decodes the payload of a JWT without checking it.
func claimsOf(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var c map[string]any
	must(t, json.Unmarshal(payload, &c))
	return c
}

// TestWholeAPIWithAConfiguredKey runs every operation the way a backend
// and an app use them against a strict server: developer operations signed
// with a configured key, public ones unsigned with a verified OIDC login,
// STS with the long-term key and with the credentials idpool minted.
func TestWholeAPIWithAConfiguredKey(t *testing.T) {
	e := start(t, options{})
	ctx := t.Context()
	a, pub := e.clientA(), e.public()

	created, err := a.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String("strict_pool"),
		AllowUnauthenticatedIdentities: true,
		DeveloperProviderName:          aws.String(developer),
		OpenIdConnectProviderARNs:      []string{e.oidc.arn},
		SupportedLoginProviders:        map[string]string{"graph.facebook.com": facebookApp},
		IdentityPoolTags:               map[string]string{"team": "strict"},
	})
	must(t, err)
	pool := aws.ToString(created.IdentityPoolId)
	if !strings.HasPrefix(pool, region+":") {
		t.Errorf("pool id %s is not in %s", pool, region)
	}
	arn := "arn:aws:cognito-identity:" + region + ":" + accountA + ":identitypool/" + pool

	desc, err := a.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: &pool})
	must(t, err)
	if aws.ToString(desc.IdentityPoolName) != "strict_pool" || !slices.Equal(desc.OpenIdConnectProviderARNs, []string{e.oidc.arn}) {
		t.Errorf("described %+v", desc)
	}
	_, err = a.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
		IdentityPoolId: &pool, IdentityPoolName: aws.String("strict_pool_2"), AllowUnauthenticatedIdentities: true,
		DeveloperProviderName: aws.String(developer), OpenIdConnectProviderARNs: []string{e.oidc.arn},
		SupportedLoginProviders: map[string]string{"graph.facebook.com": facebookApp},
	})
	must(t, err)
	list, err := a.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	must(t, err)
	if len(list.IdentityPools) != 1 || aws.ToString(list.IdentityPools[0].IdentityPoolName) != "strict_pool_2" {
		t.Errorf("listed %+v", list.IdentityPools)
	}
	_, err = a.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{"stage": "test"}})
	must(t, err)
	_, err = a.UntagResource(ctx, &cognitoidentity.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"team"}})
	must(t, err)
	tags, err := a.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: &arn})
	must(t, err)
	if len(tags.Tags) != 1 || tags.Tags["stage"] != "test" {
		t.Errorf("tags %v", tags.Tags)
	}
	_, err = a.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: &pool,
		Roles: map[string]string{"authenticated": authRole, "unauthenticated": unauthRole}})
	must(t, err)
	roles, err := a.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: &pool})
	must(t, err)
	if roles.Roles["authenticated"] != authRole {
		t.Errorf("roles %v", roles.Roles)
	}
	_, err = a.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{
		IdentityPoolId: &pool, IdentityProviderName: aws.String(e.oidc.key), PrincipalTags: map[string]string{"mail": "email"}})
	must(t, err)
	ptags, err := a.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: &pool, IdentityProviderName: aws.String(e.oidc.key)})
	must(t, err)
	if ptags.PrincipalTags["mail"] != "email" {
		t.Errorf("principal tags %v", ptags.PrincipalTags)
	}

	// An app: unsigned calls with a login the server verifies against the
	// issuer's keys (found through its discovery document).
	logins := map[string]string{e.oidc.key: e.oidc.token("alice")}
	id, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool, Logins: logins})
	must(t, err)
	identity := aws.ToString(id.IdentityId)
	again, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool, Logins: map[string]string{e.oidc.key: e.oidc.token("alice")}})
	must(t, err)
	if aws.ToString(again.IdentityId) != identity {
		t.Errorf("the same user got identities %s and %s", identity, aws.ToString(again.IdentityId))
	}
	oid, err := pub.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: &identity, Logins: logins})
	must(t, err)
	if c := claimsOf(t, aws.ToString(oid.Token)); c["sub"] != identity || c["aud"] != pool || c["iss"] != e.URL {
		t.Errorf("OpenID token claims %v", c)
	}
	creds, err := pub.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: &identity, Logins: logins})
	must(t, err)
	minted := creds.Credentials
	if !strings.HasPrefix(aws.ToString(minted.AccessKeyId), "ASIA") || aws.ToString(minted.SessionToken) == "" {
		t.Errorf("credentials %+v", minted)
	}
	fb, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool, Logins: map[string]string{"graph.facebook.com": facebookToken}})
	must(t, err)
	guest, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
	must(t, err)
	guestCreds, err := pub.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: guest.IdentityId})
	must(t, err)

	// A backend: developer identities, signed.
	dev, err := a.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &pool, Logins: map[string]string{developer: "dev-user-1"}})
	must(t, err)
	lookup, err := a.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{
		IdentityPoolId: &pool, DeveloperUserIdentifier: aws.String("dev-user-1"), MaxResults: aws.Int32(10)})
	must(t, err)
	if aws.ToString(lookup.IdentityId) != aws.ToString(dev.IdentityId) {
		t.Errorf("lookup found %s, want %s", aws.ToString(lookup.IdentityId), aws.ToString(dev.IdentityId))
	}
	_, err = pub.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{
		IdentityId: dev.IdentityId, Logins: map[string]string{"cognito-identity.amazonaws.com": aws.ToString(dev.Token)}})
	must(t, err)
	_, err = a.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &pool, Logins: map[string]string{developer: "dev-user-2"}})
	must(t, err)
	merged, err := a.MergeDeveloperIdentities(ctx, &cognitoidentity.MergeDeveloperIdentitiesInput{IdentityPoolId: &pool,
		DeveloperProviderName: aws.String(developer), SourceUserIdentifier: aws.String("dev-user-2"), DestinationUserIdentifier: aws.String("dev-user-1")})
	must(t, err)
	if aws.ToString(merged.IdentityId) != aws.ToString(dev.IdentityId) {
		t.Errorf("merged into %s, want %s", aws.ToString(merged.IdentityId), aws.ToString(dev.IdentityId))
	}
	_, err = a.UnlinkDeveloperIdentity(ctx, &cognitoidentity.UnlinkDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: dev.IdentityId,
		DeveloperProviderName: aws.String(developer), DeveloperUserIdentifier: aws.String("dev-user-2")})
	must(t, err)
	described, err := a.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: &identity})
	must(t, err)
	if !slices.Equal(described.Logins, []string{e.oidc.key}) {
		t.Errorf("identity logins %v, want [%s]", described.Logins, e.oidc.key)
	}
	idents, err := a.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: &pool, MaxResults: aws.Int32(60)})
	must(t, err)
	var listed []string
	for _, i := range idents.Identities {
		listed = append(listed, aws.ToString(i.IdentityId))
	}
	for _, want := range []string{identity, aws.ToString(fb.IdentityId), aws.ToString(guest.IdentityId), aws.ToString(dev.IdentityId)} {
		if !slices.Contains(listed, want) {
			t.Errorf("identity %s not listed in %v", want, listed)
		}
	}
	_, err = pub.UnlinkIdentity(ctx, &cognitoidentity.UnlinkIdentityInput{IdentityId: fb.IdentityId,
		Logins: map[string]string{"graph.facebook.com": facebookToken}, LoginsToRemove: []string{"graph.facebook.com"}})
	must(t, err)
	deleted, err := a.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{aws.ToString(guest.IdentityId)}})
	must(t, err)
	if len(deleted.UnprocessedIdentityIds) != 0 {
		t.Errorf("unprocessed %+v", deleted.UnprocessedIdentityIds)
	}

	// STS knows the configured key and the minted credentials.
	who, err := e.STSClient(static(keyA, secretA, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err)
	if aws.ToString(who.Account) != accountA || aws.ToString(who.Arn) != "arn:aws:iam::111111111111:root" || aws.ToString(who.UserId) != accountA {
		t.Errorf("caller of key A: %s %s %s", aws.ToString(who.Account), aws.ToString(who.Arn), aws.ToString(who.UserId))
	}
	for _, c := range []struct {
		creds *types.Credentials
		arn   string
	}{
		{minted, "arn:aws:sts::111111111111:assumed-role/Strict_Auth_Role/CognitoIdentityCredentials"},
		{guestCreds.Credentials, "arn:aws:sts::111111111111:assumed-role/Strict_Unauth_Role/CognitoIdentityCredentials"},
	} {
		session := static(aws.ToString(c.creds.AccessKeyId), aws.ToString(c.creds.SecretKey), aws.ToString(c.creds.SessionToken))
		who, err := e.STSClient(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		must(t, err)
		if aws.ToString(who.Account) != accountA || aws.ToString(who.Arn) != c.arn {
			t.Errorf("caller of minted credentials: %s %s, want %s", aws.ToString(who.Account), aws.ToString(who.Arn), c.arn)
		}
		// Valid credentials, but an end user's: idpool grants them no
		// developer operation.
		_, err = e.Cognito(session).ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(10)})
		e2e.APIError(t, err, "AccessDeniedException", "User: "+c.arn+" is not authorized to perform: cognito-identity:ListIdentityPools on resource: arn:aws:cognito-identity:us-east-1:111111111111:identitypool/")
		_, err = e.Cognito(session).DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: &pool})
		e2e.APIError(t, err, "AccessDeniedException", "User: "+c.arn+" is not authorized to perform: cognito-identity:DeleteIdentityPool on resource: arn:aws:cognito-identity:us-east-1:111111111111:identitypool/"+pool)
		// The public operations take them (their signature is ignored).
		_, err = e.Cognito(session).GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
		must(t, err)
	}

	_, err = a.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: &pool})
	must(t, err)
	_, err = a.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: &pool})
	e2e.APIError(t, err, "ResourceNotFoundException", "IdentityPool '"+pool+"' not found.")
}

// TestSignatureRefusals sends developer operations that strict mode must
// refuse, through the SDK where it can produce the fault and by hand where
// it cannot.
func TestSignatureRefusals(t *testing.T) {
	e := start(t, options{})
	list := func(c *cognitoidentity.Client) error {
		_, err := c.ListIdentityPools(t.Context(), &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(10)})
		return err
	}
	at := e.Clock.Peek() // requests below read the clock a few times: well within a second

	sdk := []struct {
		name    string
		client  *cognitoidentity.Client
		code    string
		message string
	}{
		{name: "configured key", client: e.clientA()},
		{name: "configured key, another region", client: e.Cognito(static(keyA, secretA, ""), e2e.InRegion("eu-west-1"))},
		{name: "configured key, signed 4 minutes ago", client: e.Cognito(static(keyA, secretA, ""), e.Skewed(-4*time.Minute))},
		{name: "configured key, signed 4 minutes ahead", client: e.Cognito(static(keyA, secretA, ""), e.Skewed(4*time.Minute))},
		{name: "unsigned", client: e.public(), code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"},
		{name: "wrong secret", client: e.Cognito(static(keyA, secretB, "")), code: "InvalidSignatureException", message: mismatchText},
		{name: "unknown key", client: e.Cognito(static("AKIASTRICTUNKNOWN000", secretA, "")), code: "UnrecognizedClientException", message: invalidToken},
		{name: "configured key with a session token", client: e.Cognito(static(keyA, secretA, "c2Vzc2lvbg==")), code: "UnrecognizedClientException", message: invalidToken},
		{name: "temporary key without its token", client: e.Cognito(static("ASIASTRICTUNKNOWN000", secretA, "")), code: "UnrecognizedClientException", message: invalidToken},
		{name: "signed 6 minutes ago", client: e.Cognito(static(keyA, secretA, ""), e.Skewed(-6*time.Minute)), code: "InvalidSignatureException",
			message: "Signature expired: " + amzTime(at.Add(-6*time.Minute)) + " is now earlier than " + amzTime(at.Add(-5*time.Minute)) + " (" + amzTime(at) + " - 5 min.)"},
		{name: "signed 6 minutes ahead", client: e.Cognito(static(keyA, secretA, ""), e.Skewed(6*time.Minute)), code: "InvalidSignatureException",
			message: "Signature not yet current: " + amzTime(at.Add(6*time.Minute)) + " is still later than " + amzTime(at.Add(5*time.Minute)) + " (" + amzTime(at) + " + 5 min.)"},
	}
	for _, c := range sdk {
		t.Run("sdk/"+c.name, func(t *testing.T) {
			err := list(c.client)
			if c.code == "" {
				must(t, err)
				return
			}
			e2e.APIError(t, err, c.code, c.message)
		})
	}

	credsA := &aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secretA}
	var mangled string
	raw := []struct {
		name    string
		req     e2e.RawRequest
		code    string
		message func() string
	}{
		{name: "presigned URL", req: e2e.RawRequest{Creds: credsA, Presign: true}},
		{name: "Authorization without Signature", req: e2e.RawRequest{Creds: credsA, Edit: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			mangled = h[:strings.Index(h, ", Signature=")]
			r.Header.Set("Authorization", mangled)
		}}, code: "IncompleteSignatureException", message: func() string {
			return "Authorization header requires 'Signature' parameter. Authorization=" + mangled
		}},
		{name: "Authorization of garbage", req: e2e.RawRequest{Edit: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage")
		}}, code: "IncompleteSignatureException", message: func() string {
			return "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 garbage"
		}},
		{name: "another scheme", req: e2e.RawRequest{Edit: func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }},
			code: "IncompleteSignatureException", message: func() string { return "Authorization header requires 'AWS4-HMAC-SHA256' algorithm." }},
		{name: "no X-Amz-Date", req: e2e.RawRequest{Creds: credsA, Edit: func(r *http.Request) {
			mangled = r.Header.Get("Authorization")
			r.Header.Del("X-Amz-Date")
		}}, code: "IncompleteSignatureException", message: func() string {
			return "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + mangled
		}},
		{name: "scoped to sts", req: e2e.RawRequest{Creds: credsA, Service: "sts"},
			code: "InvalidSignatureException", message: func() string { return "Credential should be scoped to correct service: 'cognito-identity'. " }},
		{name: "body changed after signing", req: e2e.RawRequest{Creds: credsA, Edit: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"MaxResults":20}`))
		}}, code: "InvalidSignatureException", message: func() string { return mismatchText }},
		{name: "operation changed after signing", req: e2e.RawRequest{Creds: credsA, Edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.DeleteIdentityPool")
		}}, code: "InvalidSignatureException", message: func() string { return mismatchText }},
		{name: "signature of another request", req: e2e.RawRequest{Creds: credsA, Edit: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", h[:len(h)-64]+strings.Repeat("0", 64))
		}}, code: "InvalidSignatureException", message: func() string { return mismatchText }},
	}
	for _, c := range raw {
		t.Run("raw/"+c.name, func(t *testing.T) {
			c.req.Op = "ListIdentityPools"
			c.req.Body = `{"MaxResults":10}`
			got := e.Raw(t, c.req)
			if c.code == "" {
				if got.Status != http.StatusOK {
					t.Fatalf("status %d %s %q", got.Status, got.Code, got.Message)
				}
				if _, ok := got.Body["IdentityPools"]; !ok {
					t.Errorf("body %v", got.Body)
				}
				return
			}
			e2e.WantRawError(t, got, c.code, c.message())
		})
	}
}

// TestSessionCredentialsExpire: credentials idpool minted work only with
// their own access key id, and stop working when they expire, for Cognito
// and for STS.
func TestSessionCredentialsExpire(t *testing.T) {
	e := start(t, options{})
	ctx := t.Context()
	pool := e.newPool(t, e.clientA(), "expiry")
	guest, err := e.public().GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
	must(t, err)
	out, err := e.public().GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: guest.IdentityId})
	must(t, err)
	c := out.Credentials
	if want := e.Clock.Peek().Add(time.Hour); c.Expiration.Sub(want).Abs() > time.Second {
		t.Errorf("credentials expire at %s, want an hour from now (%s)", c.Expiration, want)
	}
	session := static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken))
	arn := "arn:aws:sts::111111111111:assumed-role/Strict_Unauth_Role/CognitoIdentityCredentials"
	_, err = e.Cognito(session).ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1)})
	e2e.APIError(t, err, "AccessDeniedException", "User: "+arn+" is not authorized to perform: cognito-identity:ListIdentityPools on resource: arn:aws:cognito-identity:us-east-1:111111111111:identitypool/")
	_, err = e.Cognito(static(aws.ToString(c.AccessKeyId), secretA, aws.ToString(c.SessionToken))).ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1)})
	e2e.APIError(t, err, "InvalidSignatureException", mismatchText)

	// A session token belongs to its own access key id: signed with the
	// token's secret under the access key id of other credentials, the
	// request is refused as an unknown token, by Cognito and by STS.
	other, err := e.public().GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: guest.IdentityId})
	must(t, err)
	if aws.ToString(other.Credentials.AccessKeyId) == aws.ToString(c.AccessKeyId) {
		t.Fatal("two credentials with one access key id")
	}
	swapped := static(aws.ToString(other.Credentials.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken))
	_, err = e.Cognito(swapped).ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1)})
	e2e.APIError(t, err, "UnrecognizedClientException", invalidToken)
	_, err = e.STSClient(swapped).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	e2e.STSError(t, err, "InvalidClientTokenId", invalidToken, http.StatusForbidden)

	e.Clock.Advance(time.Hour)
	_, err = e.Cognito(session).ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1)})
	e2e.APIError(t, err, "ExpiredTokenException", expiredToken)
	_, err = e.STSClient(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	e2e.STSError(t, err, "ExpiredToken", expiredToken, http.StatusBadRequest)
}

// TestAccountsSeeOnlyTheirPools: keys of two accounts share one server.
func TestAccountsSeeOnlyTheirPools(t *testing.T) {
	e := start(t, options{})
	ctx := t.Context()
	a, b := e.clientA(), e.clientB()
	poolA := e.newPool(t, a, "pool_of_a")
	poolB := e.newPool(t, b, "pool_of_b")
	for _, c := range []struct {
		name   string
		client *cognitoidentity.Client
		own    string
	}{{"A", a, poolA}, {"B", b, poolB}} {
		list, err := c.client.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
		must(t, err)
		if len(list.IdentityPools) != 1 || aws.ToString(list.IdentityPools[0].IdentityPoolId) != c.own {
			t.Errorf("account %s lists %+v, want only %s", c.name, list.IdentityPools, c.own)
		}
	}
	notFound := "IdentityPool '" + poolA + "' not found."
	_, err := b.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: &poolA})
	e2e.APIError(t, err, "ResourceNotFoundException", notFound)
	_, err = b.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: &poolA})
	e2e.APIError(t, err, "ResourceNotFoundException", notFound)
	_, err = b.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &poolA, Logins: map[string]string{developer: "intruder"}})
	e2e.APIError(t, err, "ResourceNotFoundException", notFound)
	_, err = b.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: &poolA})
	e2e.APIError(t, err, "ResourceNotFoundException", notFound)
	if _, err := a.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: &poolA}); err != nil {
		t.Errorf("account A lost its pool: %v", err)
	}
	whoB, err := e.STSClient(static(keyB, secretB, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err)
	if aws.ToString(whoB.Account) != accountB {
		t.Errorf("key B acts for %s, want %s", aws.ToString(whoB.Account), accountB)
	}
}

// TestPublicOperationsStayUnsigned: an app's calls need no signature, and
// whatever signature they carry is not checked.
func TestPublicOperationsStayUnsigned(t *testing.T) {
	e := start(t, options{})
	ctx := t.Context()
	pool := e.newPool(t, e.clientA(), "public_ops")
	pub := e.public()
	guest, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
	must(t, err)
	_, err = pub.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: guest.IdentityId})
	must(t, err)
	_, err = pub.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: guest.IdentityId})
	must(t, err)
	logins := map[string]string{e.oidc.key: e.oidc.token("bob")}
	user, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool, Logins: logins})
	must(t, err)
	_, err = pub.UnlinkIdentity(ctx, &cognitoidentity.UnlinkIdentityInput{IdentityId: user.IdentityId, Logins: logins, LoginsToRemove: []string{e.oidc.key}})
	must(t, err)

	body := `{"IdentityPoolId":"` + pool + `"}`
	for _, c := range []struct {
		name string
		req  e2e.RawRequest
	}{
		{name: "unsigned", req: e2e.RawRequest{}},
		{name: "configured key", req: e2e.RawRequest{Creds: &aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secretA}}},
		{name: "wrong secret", req: e2e.RawRequest{Creds: &aws.Credentials{AccessKeyID: keyA, SecretAccessKey: "wrong secret"}}},
		{name: "unknown key", req: e2e.RawRequest{Creds: &aws.Credentials{AccessKeyID: "AKIASTRICTUNKNOWN000", SecretAccessKey: "x"}}},
		{name: "forged session", req: e2e.RawRequest{Creds: &aws.Credentials{AccessKeyID: "ASIASTRICTUNKNOWN000", SecretAccessKey: "x", SessionToken: "Zm9yZ2Vk"}}},
		{name: "scoped to sts", req: e2e.RawRequest{Creds: &aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secretA}, Service: "sts"}},
		{name: "stale", req: e2e.RawRequest{Creds: &aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secretA}, Edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", "20000101T000000Z")
		}}},
		{name: "garbage Authorization", req: e2e.RawRequest{Edit: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage") }}},
	} {
		t.Run("GetId/"+c.name, func(t *testing.T) {
			c.req.Op, c.req.Body = "GetId", body
			got := e.Raw(t, c.req)
			if got.Status != http.StatusOK || !strings.HasPrefix(got.Body["IdentityId"].(string), region+":") {
				t.Errorf("got %d %v", got.Status, got.Body)
			}
		})
	}
}

// TestBadLoginTokens: verify mode refuses login tokens end to end, with
// AWS's texts.
func TestBadLoginTokens(t *testing.T) {
	e := start(t, options{})
	ctx := t.Context()
	pool := e.newPool(t, e.clientA(), "logins")
	pub := e.public()
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	now := e.Clock.Peek()
	const (
		unsupported  = "Token is not from a supported provider of this identity pool."
		badSignature = "Invalid login token. Couldn't verify signed token."
	)
	k := e.oidc.key
	cases := []struct {
		name    string
		logins  map[string]string
		code    string
		message string
	}{
		{name: "RS256 token", logins: map[string]string{k: e.oidc.token("carol")}},
		{name: "ES256 token", logins: map[string]string{k: e.oidc.sign(jose.ES256, e.oidc.ec, "ec-1",
			map[string]any{"iss": e.oidc.iss, "sub": "carol-es", "aud": oidcClient, "exp": now.Add(time.Hour).Unix()})}},
		{name: "expired within the five minutes of grace", logins: map[string]string{k: e.oidc.token("dave", "exp", now.Add(-4*time.Minute).Unix())}},
		{name: "Facebook token of the tokens map", logins: map[string]string{"graph.facebook.com": facebookToken}},
		{name: "expired beyond the grace", logins: map[string]string{k: e.oidc.token("dave", "exp", now.Add(-6*time.Minute).Unix())},
			code:    "NotAuthorizedException",
			message: "Invalid login token. Token expired: " + now.Add(-6*time.Minute).Format(time.RFC3339) + " >= " + now.Format(time.RFC3339)},
		{name: "issuer mismatch", logins: map[string]string{k: e.oidc.token("eve", "iss", "https://evil.example/oidc")},
			code: "NotAuthorizedException", message: "Invalid login token. Issuer doesn't match providerName"},
		{name: "no aud", logins: map[string]string{k: e.oidc.token("eve", "aud", nil)},
			code: "NotAuthorizedException", message: "Invalid login token. Missing a required claim: aud"},
		{name: "another client", logins: map[string]string{k: e.oidc.token("eve", "aud", "other-client")},
			code: "NotAuthorizedException", message: unsupported},
		{name: "signed by another key", logins: map[string]string{k: e.oidc.sign(jose.RS256, stranger, "rsa-1",
			map[string]any{"iss": e.oidc.iss, "sub": "eve", "aud": oidcClient, "exp": now.Add(time.Hour).Unix()})},
			code: "NotAuthorizedException", message: badSignature},
		{name: "alg none", logins: map[string]string{k: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
			base64.RawURLEncoding.EncodeToString(jsonObject("iss", e.oidc.iss, "sub", "eve", "aud", oidcClient, "exp", now.Add(time.Hour).Unix())) + "."},
			code: "NotAuthorizedException", message: badSignature},
		{name: "not a JWT", logins: map[string]string{k: "not-a-jwt"},
			code: "NotAuthorizedException", message: "Invalid login token. Not a valid OpenId Connect identity token."},
		{name: "provider not on the pool", logins: map[string]string{"login.other.example": e.oidc.token("eve")},
			code: "NotAuthorizedException", message: unsupported},
		{name: "no provider at all", logins: map[string]string{"Facebook": facebookToken},
			code: "NotAuthorizedException", message: "Invalid login token. Not a valid OpenId Connect identity token."},
		{name: "Facebook token unknown to the tokens map", logins: map[string]string{"graph.facebook.com": "EAAGunknown"},
			code: "NotAuthorizedException", message: "Invalid login token. The token could not be verified."},
		{name: "a good and a bad token", logins: map[string]string{k: e.oidc.token("carol"), "graph.facebook.com": "EAAGunknown"},
			code: "NotAuthorizedException", message: "Invalid login token. The token could not be verified."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool, Logins: c.logins})
			if c.code == "" {
				must(t, err)
				if !strings.HasPrefix(aws.ToString(out.IdentityId), region+":") {
					t.Errorf("identity %q", aws.ToString(out.IdentityId))
				}
				return
			}
			e2e.APIError(t, err, c.code, c.message)
		})
	}
}

// jsonObject marshals key-value pairs as a JSON object.
func jsonObject(kv ...any) []byte {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return b
}

// TestGetCallerIdentity: STS checks signatures against the same keys.
func TestGetCallerIdentity(t *testing.T) {
	e := start(t, options{})
	ctx := t.Context()
	at := e.Clock.Peek()
	cases := []struct {
		name    string
		client  *sts.Client
		account string
		code    string
		message string
	}{
		{name: "key A", client: e.STSClient(static(keyA, secretA, "")), account: accountA},
		{name: "key B", client: e.STSClient(static(keyB, secretB, "")), account: accountB},
		{name: "unsigned", client: e.STSClient(aws.AnonymousCredentials{}), code: "MissingAuthenticationToken", message: "Request is missing Authentication Token"},
		{name: "unknown key", client: e.STSClient(static("AKIASTRICTUNKNOWN000", secretA, "")), code: "InvalidClientTokenId", message: invalidToken},
		{name: "wrong secret", client: e.STSClient(static(keyA, secretB, "")), code: "SignatureDoesNotMatch", message: mismatchText},
		{name: "forged session", client: e.STSClient(static("ASIASTRICTUNKNOWN000", secretA, "Zm9yZ2Vk")), code: "InvalidClientTokenId", message: invalidToken},
		{name: "stale", client: e.STSClient(static(keyA, secretA, ""), -10*time.Minute),
			code:    "SignatureDoesNotMatch",
			message: "Signature expired: " + amzTime(at.Add(-10*time.Minute)) + " is now earlier than " + amzTime(at.Add(-5*time.Minute)) + " (" + amzTime(at) + " - 5 min.)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if c.code == "" {
				must(t, err)
				if aws.ToString(out.Account) != c.account || aws.ToString(out.Arn) != "arn:aws:iam::"+c.account+":root" {
					t.Errorf("caller %s %s", aws.ToString(out.Account), aws.ToString(out.Arn))
				}
				return
			}
			e2e.STSError(t, err, c.code, c.message, http.StatusForbidden)
		})
	}
}

// TestRateLimits: the "aws" profile throttles GetId at 25 requests per
// second, developer operations per account, and leaves operations without
// a published rate alone. Time stands still in the bubble, so exactly the
// burst goes through.
func TestRateLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := start(t, options{rateLimits: ratelimit.AWSProfile, inProcess: true})
		ctx := t.Context()
		a, b, pub := e.clientA(), e.clientB(), e.public()
		pool := e.newPool(t, a, "throttled")
		poolB := e.newPool(t, b, "throttled_b")
		for i := range 25 {
			if _, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool}); err != nil {
				t.Fatalf("GetId %d of 25: %v", i+1, err)
			}
		}
		_, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
		e2e.APIError(t, err, "TooManyRequestsException", "Rate exceeded")
		_, err = pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &poolB})
		e2e.APIError(t, err, "TooManyRequestsException", "Rate exceeded")

		<-time.After(time.Second)
		for i := range 25 {
			if _, err := pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool}); err != nil {
				t.Fatalf("a second later, GetId %d of 25: %v", i+1, err)
			}
		}
		_, err = pub.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool})
		e2e.APIError(t, err, "TooManyRequestsException", "Rate exceeded")

		arnA := "arn:aws:cognito-identity:" + region + ":" + accountA + ":identitypool/" + pool
		arnB := "arn:aws:cognito-identity:" + region + ":" + accountB + ":identitypool/" + poolB
		for i := range 10 {
			if _, err := a.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: &arnA}); err != nil {
				t.Fatalf("ListTagsForResource %d of 10: %v", i+1, err)
			}
		}
		_, err = a.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: &arnA})
		e2e.APIError(t, err, "TooManyRequestsException", "Rate exceeded")
		if _, err := b.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: &arnB}); err != nil {
			t.Errorf("account B is throttled by account A's calls: %v", err)
		}
		for i := range 50 {
			if _, err := a.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1)}); err != nil {
				t.Fatalf("ListIdentityPools %d (no published rate): %v", i+1, err)
			}
		}
		// A refused signature spends nothing.
		bad := e.Cognito(static(keyA, secretB, ""))
		for range 20 {
			_, err := bad.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: &arnB})
			e2e.APIError(t, err, "InvalidSignatureException", mismatchText)
		}
		if _, err := b.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: &arnB}); err != nil {
			t.Errorf("account B throttled by refused requests: %v", err)
		}
	})
}

// TestRateLimitsHoldAcrossCredentialScopes: an account's quota on a pool
// does not grow with the region its requests are signed for. Strict mode
// accepts any region in the credential scope, and one that is not a region
// name (here "Scope.1") reaches pools of every region; each such region must
// not get a bucket of its own.
func TestRateLimitsHoldAcrossCredentialScopes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := start(t, options{rateLimits: map[string]float64{"ListTagsForResource": 10}, inProcess: true})
		ctx := t.Context()
		a := e.clientA()
		pool := e.newPool(t, a, "scoped")
		arn := "arn:aws:cognito-identity:" + region + ":" + accountA + ":identitypool/" + pool
		for range 10 {
			_, err := a.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: &arn})
			must(t, err)
		}
		allowed := 0
		for i := range 20 {
			// A region the SDK accepts (a host label) but that is no
			// region name.
			c := e.Cognito(static(keyA, secretA, ""), e2e.InRegion("Scope."+strconv.Itoa(i)))
			if _, err := c.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: &arn}); err == nil {
				allowed++
			}
		}
		if allowed > 0 {
			t.Errorf("after the account's 10 calls in the second, %d more calls signed for made-up regions were served", allowed)
		}
	})
}
