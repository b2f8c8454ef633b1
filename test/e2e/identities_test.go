package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"github.com/idpool/idpool/internal/store"
)

// Providers of the identity tests' pools, besides those of helpers_test.go.
const (
	devProvider  = "login.example.app"
	fbApp        = "1234567890123456"
	googleClient = "123-abc.apps.googleusercontent.com"
	amazonApp    = "amzn1.application-oa2-client.0123abcd"
	cognitoKey   = "cognito-identity.amazonaws.com"
	fb           = "graph.facebook.com"
	google       = "accounts.google.com"
	amazon       = "www.amazon.com"
)

// AWS's refusal texts (docs/behaviour.md §11).
const (
	msgUnauthenticated = "Unauthenticated access is not supported for this identity pool."
	msgLoginsMismatch  = "Logins don't match. Please include at least one valid login for this identity or identity pool."
	msgUnsupported     = "Token is not from a supported provider of this identity pool."
	msgNotOIDC         = "Invalid login token. Not a valid OpenId Connect identity token."
	msgCognitoToken    = "Invalid login token. Can't pass in a Cognito token."
	msgMissingAud      = "Invalid login token. Missing a required claim: aud"
	msgIssuer          = "Invalid login token. Issuer doesn't match providerName"
	msgClassicFlow     = "Basic (classic) flow is not enabled, please use enhanced flow."
	msgDeveloperName   = "This identity pool does not support the specified developer provider"
	msgBadNextToken    = "The NextToken is not valid. Use the NextToken returned by the previous call."
	// msgLoginLimit is idpool's text (AWS's is not known).
	msgLoginLimit = "An identity can have at most 20 linked logins."
)

func forbidden(id string) string        { return "Access to Identity '" + id + "' is forbidden." }
func identityNotFound(id string) string { return "Identity '" + id + "' not found." }

// expired is the text of a refused expired login token (the wording after
// "Token expired" is idpool's: AWS's is not known, docs/behaviour.md §3.2).
func expired(exp, now time.Time) string {
	return fmt.Sprintf("Invalid login token. Token expired: %s >= %s", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
}

// conflictOf is idpool's text for a second user of one provider on one
// identity (AWS's is not known).
func conflictOf(provider string) string {
	return "The identity already has a different login of " + provider + "; an identity can have only one login per provider."
}

// identityIDPattern: a UUIDv7, time-ordered (docs/decisions.md, docs/storage.md).
var identityIDPattern = regexp.MustCompile(`^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// loginPoolInput is a pool with guests allowed and a provider of every
// kind.
func loginPoolInput(name string) *cognitoidentity.CreateIdentityPoolInput {
	return &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String(name),
		AllowUnauthenticatedIdentities: true,
		SupportedLoginProviders:        map[string]string{fb: fbApp, google: googleClient, amazon: amazonApp},
		DeveloperProviderName:          aws.String(devProvider),
		OpenIdConnectProviderARNs:      []string{oidcARN},
		CognitoIdentityProviders: []types.CognitoIdentityProvider{
			{ProviderName: aws.String(userPool1), ClientId: aws.String("client1")},
			{ProviderName: aws.String(userPool1), ClientId: aws.String("client2")},
			{ProviderName: aws.String(userPool2), ClientId: aws.String("client_3")},
		},
		SamlProviderARNs: []string{samlARN},
	}
}

// world is a server with one pool of account A, an administrator's
// (signed) client and an app's (unsigned) client.
type world struct {
	env   *Env
	admin *cognitoidentity.Client
	app   *cognitoidentity.Client
	pool  string
}

func newWorld(t testing.TB, in *cognitoidentity.CreateIdentityPoolInput) *world {
	t.Helper()
	env := Start(t, Options{})
	return worldIn(t, env, in)
}

// worldIn creates the pool in an existing server.
func worldIn(t testing.TB, env *Env, in *cognitoidentity.CreateIdentityPoolInput) *world {
	t.Helper()
	admin := env.Client(AccountA, USEast1)
	pool := aws.ToString(createPool(t, admin, in).IdentityPoolId)
	return &world{env: env, admin: admin, app: env.PublicClient(USEast1), pool: pool}
}

func (w *world) getID(t testing.TB, logins map[string]string) string {
	t.Helper()
	out, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: logins})
	if err != nil {
		t.Fatalf("GetId %v: %v", keys(logins), err)
	}
	id := aws.ToString(out.IdentityId)
	if !identityIDPattern.MatchString(id) {
		t.Fatalf("GetId returned identity id %q, not <region>:<lower-case uuid v7>", id)
	}
	return id
}

func (w *world) openID(t testing.TB, id string, logins map[string]string) *cognitoidentity.GetOpenIdTokenOutput {
	t.Helper()
	out, err := w.app.GetOpenIdToken(t.Context(), &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(id), Logins: logins})
	if err != nil {
		t.Fatalf("GetOpenIdToken %s %v: %v", id, keys(logins), err)
	}
	return out
}

func (w *world) openIDErr(t testing.TB, id string, logins map[string]string) error {
	t.Helper()
	_, err := w.app.GetOpenIdToken(t.Context(), &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(id), Logins: logins})
	return err
}

func (w *world) describeIdentity(t testing.TB, id string) *cognitoidentity.DescribeIdentityOutput {
	t.Helper()
	out, err := w.admin.DescribeIdentity(t.Context(), &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeIdentity %s: %v", id, err)
	}
	return out
}

// linked returns the provider names DescribeIdentity lists for id.
func (w *world) linked(t testing.TB, id string) []string {
	t.Helper()
	return w.describeIdentity(t, id).Logins
}

// listIdentities pages through the pool's identities, pageSize at a time.
func (w *world) listIdentities(t testing.TB, pageSize int32, hideDisabled bool) []string {
	t.Helper()
	var out []string
	var next *string
	for {
		page, err := w.admin.ListIdentities(t.Context(), &cognitoidentity.ListIdentitiesInput{
			IdentityPoolId: aws.String(w.pool), MaxResults: aws.Int32(pageSize), NextToken: next, HideDisabled: hideDisabled,
		})
		if err != nil {
			t.Fatalf("ListIdentities: %v", err)
		}
		if int32(len(page.Identities)) > pageSize {
			t.Fatalf("ListIdentities returned %d identities for MaxResults %d", len(page.Identities), pageSize)
		}
		for _, d := range page.Identities {
			out = append(out, aws.ToString(d.IdentityId))
		}
		if page.NextToken == nil {
			return out
		}
		next = page.NextToken
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Fake login tokens. In trust mode idpool reads JWTs without checking
// their signatures, so the signature part is junk.

var b64 = base64.RawURLEncoding

func fakeJWT(claims map[string]any) string {
	p, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	return b64.EncodeToString([]byte(`{"alg":"RS256","kid":"test-key","typ":"JWT"}`)) + "." + b64.EncodeToString(p) + "." + b64.EncodeToString([]byte("not a signature"))
}

// tokenExpiry is the exp of the fake tokens: a day after the clocks start.
var tokenExpiry = Epoch.Add(24 * time.Hour)

func with(base, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// userPoolToken is an ID token of the user pool provider for sub, issued
// to client; extra claims are added (a nil value removes a claim).
func userPoolToken(provider, client, sub string, extra map[string]any) string {
	return fakeJWT(with(map[string]any{
		"sub": sub, "aud": client, "iss": "https://" + provider, "token_use": "id",
		"iat": Epoch.Unix(), "exp": tokenExpiry.Unix(),
	}, extra))
}

func googleToken(sub string) string {
	return fakeJWT(map[string]any{"sub": sub, "aud": googleClient, "iss": "https://accounts.google.com", "iat": Epoch.Unix(), "exp": tokenExpiry.Unix()})
}

func oidcToken(sub string, extra map[string]any) string {
	return fakeJWT(with(map[string]any{"sub": sub, "aud": "web-app", "iss": "https://" + oidcIssuer, "iat": Epoch.Unix(), "exp": tokenExpiry.Unix()}, extra))
}

func TestGetIdGuests(t *testing.T) {
	w := newWorld(t, loginPoolInput("guests"))
	// The service never reuses guests: every call makes a new identity.
	seen := map[string]bool{}
	for range 3 {
		id := w.getID(t, nil)
		if seen[id] {
			t.Fatalf("GetId returned guest %s twice", id)
		}
		seen[id] = true
		if got := w.linked(t, id); got != nil {
			t.Errorf("guest %s has logins %v", id, got)
		}
	}
	// An empty Logins map is a guest request too.
	if id := w.getID(t, map[string]string{}); seen[id] {
		t.Errorf("GetId with empty Logins reused guest %s", id)
	}
	// AccountId, when given, must be the pool's owner.
	out, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), AccountId: aws.String(AccountA)})
	if err != nil || seen[aws.ToString(out.IdentityId)] {
		t.Fatalf("GetId with the owner's AccountId: %v", err)
	}
	if got := len(w.listIdentities(t, 60, false)); got != 5 {
		t.Errorf("pool has %d identities after 5 guest GetId calls, want 5", got)
	}
}

// TestGetIdRefusals checks every refusal of GetId with its exact type and
// text.
func TestGetIdRefusals(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("refusals"))
	noGuests := loginPoolInput("no-guests")
	noGuests.AllowUnauthenticatedIdentities = false
	closed := worldIn(t, env, noGuests)
	missing := "us-east-1:00000000-0000-4000-8000-000000000000"

	// The clock stands on a whole second, so that the texts of expired
	// tokens are known; the requests below move it by milliseconds.
	now := env.Clock.Peek().Truncate(time.Second).Add(time.Second)
	env.Clock.Set(now)
	atGrace := now.Add(-5 * time.Minute)

	elevenLogins := `{"IdentityPoolId":"` + w.pool + `","Logins":{`
	var shown []string
	for i := 1; i <= 11; i++ {
		if i > 1 {
			elevenLogins += ","
		}
		elevenLogins += fmt.Sprintf(`"p%02d":"t%d"`, i, i)
		shown = append(shown, fmt.Sprintf("p%02d=t%d", i, i))
	}
	elevenLogins += `}}`

	tests := []struct {
		name      string
		pool      string
		accountID string
		logins    map[string]string
		opts      []func(*cognitoidentity.Options)
		code, msg string
	}{
		{name: "guest on a pool without guest access", pool: closed.pool, code: "NotAuthorizedException", msg: msgUnauthenticated},
		{name: "unknown pool", pool: missing, code: "ResourceNotFoundException", msg: notFound(missing)},
		{name: "AccountId of another account", pool: w.pool, accountID: AccountB, code: "ResourceNotFoundException", msg: notFound(w.pool)},
		{name: "provider not configured on the pool", pool: w.pool, logins: map[string]string{"api.twitter.com": "key;secret"}, code: "NotAuthorizedException", msg: msgUnsupported},
		{name: "user pool not configured on the pool", pool: w.pool, logins: map[string]string{"cognito-idp.us-east-1.amazonaws.com/us-east-1_Nope": userPoolToken("cognito-idp.us-east-1.amazonaws.com/us-east-1_Nope", "client1", "u", nil)}, code: "NotAuthorizedException", msg: msgUnsupported},
		{name: "key that is no provider at all", pool: w.pool, logins: map[string]string{"Facebook": "EAAB-token"}, code: "NotAuthorizedException", msg: msgNotOIDC},
		{name: "idpool's own token", pool: w.pool, logins: map[string]string{cognitoKey: "eyJ.x.y"}, code: "NotAuthorizedException", msg: msgCognitoToken},
		{name: "idpool's own token next to a valid login", pool: w.pool, logins: map[string]string{cognitoKey: "eyJ.x.y", fb: "fb-user"}, code: "NotAuthorizedException", msg: msgCognitoToken},
		{name: "developer provider as a public login", pool: w.pool, logins: map[string]string{devProvider: "dev-user"}, code: "NotAuthorizedException", msg: msgUnsupported},
		{name: "user pool token for another app client", pool: w.pool, logins: map[string]string{userPool1: userPoolToken(userPool1, "client_3", "u1", nil)}, code: "NotAuthorizedException", msg: msgUnsupported},
		{name: "user pool token without aud (an access token)", pool: w.pool, logins: map[string]string{userPool1: userPoolToken(userPool1, "", "u1", map[string]any{"aud": nil, "token_use": "access", "client_id": "client1"})}, code: "NotAuthorizedException", msg: msgMissingAud},
		{name: "user pool token of another user pool", pool: w.pool, logins: map[string]string{userPool1: userPoolToken(userPool2, "client1", "u1", nil)}, code: "NotAuthorizedException", msg: msgIssuer},
		{name: "OIDC token of another issuer", pool: w.pool, logins: map[string]string{oidcIssuer: oidcToken("o1", map[string]any{"iss": "https://evil.example.com"})}, code: "NotAuthorizedException", msg: msgIssuer},
		{name: "Google token under the Facebook key", pool: w.pool, logins: map[string]string{fb: googleToken("g1")}, code: "NotAuthorizedException", msg: msgIssuer},
		{name: "user pool token whose azp is another client", pool: w.pool, logins: map[string]string{userPool1: userPoolToken(userPool1, "client1", "u1", map[string]any{"azp": "client_3"})}, code: "NotAuthorizedException", msg: msgUnsupported},
		{name: "token without sub", pool: w.pool, logins: map[string]string{userPool1: userPoolToken(userPool1, "client1", "", map[string]any{"sub": nil})}, code: "NotAuthorizedException", msg: "Invalid login token. Missing a required claim: sub"},
		{name: "user pool token that is not a JWT", pool: w.pool, logins: map[string]string{userPool1: "opaque"}, code: "NotAuthorizedException", msg: msgNotOIDC},
		{name: "token expired beyond the 5 minutes of grace", pool: w.pool, logins: map[string]string{userPool1: userPoolToken(userPool1, "client1", "u1", map[string]any{"exp": atGrace.Unix()})}, code: "NotAuthorizedException", msg: expired(atGrace, now)},
		{name: "an invalid token fails the whole request", pool: w.pool, logins: map[string]string{fb: "fb-user", oidcIssuer: oidcToken("o1", map[string]any{"exp": now.Add(-time.Hour).Unix()})}, code: "NotAuthorizedException", msg: expired(now.Add(-time.Hour), now)},
		{name: "more than 10 logins", pool: w.pool, logins: map[string]string{"x": "y"}, opts: []func(*cognitoidentity.Options){WithRawBody(elevenLogins)}, code: "ValidationException",
			msg: validation("Value '{" + strings.Join(shown, ", ") + "}' at 'logins' failed to satisfy constraint: Member must have length less than or equal to 10")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(tc.pool), Logins: tc.logins}
			if tc.accountID != "" {
				in.AccountId = aws.String(tc.accountID)
			}
			_, err := w.app.GetId(t.Context(), in, tc.opts...)
			APIError(t, err, tc.code, tc.msg)
		})
	}
	// Nothing was created by the refused requests.
	if got := w.listIdentities(t, 60, false); len(got) != 0 {
		t.Errorf("refused GetId calls left identities %v", got)
	}
	// azp, when present, names the client instead of aud.
	w.getID(t, map[string]string{userPool1: userPoolToken(userPool1, "client_3", "u-azp", map[string]any{"azp": "client2"})})
	// A token 5 minutes minus a second past its exp is still accepted.
	w.getID(t, map[string]string{userPool1: userPoolToken(userPool1, "client1", "u-grace", map[string]any{"exp": atGrace.Add(time.Second).Unix()})})
	// An exp past any real date is far in the future, not wrapped around
	// into the past.
	w.getID(t, map[string]string{userPool1: userPoolToken(userPool1, "client1", "u-far", map[string]any{"exp": 1e19})})
}

// TestGetIdOpaqueIDToken sends an opaque string where Google and Apple
// send ID tokens. Only Facebook, Amazon and Twitter use opaque access
// tokens; Google and Apple logins are JWTs and go through the JWT checks
// (docs/behaviour.md §3.1, §3.2), so a string that is not one is refused.
func TestGetIdOpaqueIDToken(t *testing.T) {
	in := loginPoolInput("opaque")
	in.SupportedLoginProviders["appleid.apple.com"] = "com.example.app"
	w := newWorld(t, in)
	for _, provider := range []string{google, "appleid.apple.com"} {
		t.Run(provider, func(t *testing.T) {
			_, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: map[string]string{provider: "ya29.opaque-access-token"}})
			APIError(t, err, "NotAuthorizedException", msgNotOIDC)
		})
	}
}

// TestGetIdLinking covers the identity of logins: the same login always
// finds the same identity, several logins link, logins of two identities
// merge them.
func TestGetIdLinking(t *testing.T) {
	w := newWorld(t, loginPoolInput("linking"))

	x := w.getID(t, map[string]string{fb: "alice"})
	created := w.describeIdentity(t, x)
	wantEqual(t, "logins of a new identity", created.Logins, []string{fb})
	if x2 := w.getID(t, map[string]string{fb: "alice"}); x2 != x {
		t.Fatalf("same login gave %s then %s", x, x2)
	}
	if other := w.getID(t, map[string]string{fb: "bob"}); other == x {
		t.Fatalf("another user of the provider got identity %s", x)
	}

	t.Run("several logins link to one identity", func(t *testing.T) {
		if got := w.getID(t, map[string]string{fb: "alice", google: googleToken("g-alice")}); got != x {
			t.Fatalf("GetId with a linked and a new login = %s, want %s", got, x)
		}
		for _, step := range []struct {
			name   string
			logins map[string]string
		}{
			{"by the new login alone", map[string]string{google: googleToken("g-alice")}},
			{"by a user pool login linked with the others", map[string]string{google: googleToken("g-alice"), userPool1: userPoolToken(userPool1, "client2", "up-alice", nil)}},
			{"by that user pool login with another client", map[string]string{userPool1: userPoolToken(userPool1, "client1", "up-alice", nil)}},
		} {
			if got := w.getID(t, step.logins); got != x {
				t.Errorf("GetId %s = %s, want %s", step.name, got, x)
			}
		}
		d := w.describeIdentity(t, x)
		wantEqual(t, "linked providers", d.Logins, []string{google, userPool1, fb})
		if !d.CreationDate.Equal(*created.CreationDate) {
			t.Errorf("CreationDate moved from %v to %v", created.CreationDate, d.CreationDate)
		}
		if !d.LastModifiedDate.After(*created.LastModifiedDate) {
			t.Errorf("LastModifiedDate %v not after %v although logins were linked", d.LastModifiedDate, created.LastModifiedDate)
		}
	})

	t.Run("logins of two identities merge them", func(t *testing.T) {
		older := w.getID(t, map[string]string{amazon: "amzn-carol"})
		younger := w.getID(t, map[string]string{oidcIssuer: oidcToken("oidc-carol", nil)})
		got := w.getID(t, map[string]string{amazon: "amzn-carol", oidcIssuer: oidcToken("oidc-carol", nil)})
		if got != older {
			t.Fatalf("merge kept %s, want the older identity %s (younger %s)", got, older, younger)
		}
		wantEqual(t, "logins of the survivor", w.linked(t, older), []string{oidcIssuer, amazon})
		if got := w.getID(t, map[string]string{oidcIssuer: oidcToken("oidc-carol", nil)}); got != older {
			t.Errorf("the loser's login now finds %s, want %s", got, older)
		}
		APIError(t, w.openIDErr(t, younger, nil), "NotAuthorizedException", forbidden(younger))
		APIError(t, w.openIDErr(t, younger, map[string]string{oidcIssuer: oidcToken("oidc-carol", nil)}), "NotAuthorizedException", forbidden(younger))
		_, err := w.app.GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(younger)})
		APIError(t, err, "NotAuthorizedException", forbidden(younger))
		// The loser stays describable, without logins.
		if l := w.linked(t, younger); l != nil {
			t.Errorf("disabled identity still lists logins %v", l)
		}
		if slices.Contains(w.listIdentities(t, 60, true), younger) {
			t.Errorf("HideDisabled listed the merged-away identity %s", younger)
		}
		if !slices.Contains(w.listIdentities(t, 60, false), younger) {
			t.Errorf("the merged-away identity %s is not listed without HideDisabled", younger)
		}
	})

	t.Run("two users of one provider cannot share an identity", func(t *testing.T) {
		dave := w.getID(t, map[string]string{fb: "dave"})
		erin := w.getID(t, map[string]string{google: googleToken("g-erin"), fb: "erin"})
		_, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: map[string]string{fb: "dave", google: googleToken("g-erin")}})
		APIError(t, err, "ResourceConflictException", conflictOf(fb))
		// Nothing changed.
		wantEqual(t, "dave's logins", w.linked(t, dave), []string{fb})
		wantEqual(t, "erin's logins", w.linked(t, erin), []string{google, fb})
	})
}

// TestGetIdLoginLimit links logins one request at a time up to the limit
// of 20 per identity.
func TestGetIdLoginLimit(t *testing.T) {
	in := loginPoolInput("limit")
	in.CognitoIdentityProviders = nil
	provider := func(i int) string { return fmt.Sprintf("cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool%02d", i) }
	for i := range 25 {
		in.CognitoIdentityProviders = append(in.CognitoIdentityProviders, types.CognitoIdentityProvider{ProviderName: aws.String(provider(i)), ClientId: aws.String("client1")})
	}
	w := newWorld(t, in)
	logins := func(from, to int) map[string]string {
		m := map[string]string{}
		for i := from; i < to; i++ {
			m[provider(i)] = userPoolToken(provider(i), "client1", "user", nil)
		}
		return m
	}
	id := w.getID(t, logins(0, 10))
	if got := w.getID(t, logins(9, 19)); got != id {
		t.Fatalf("second batch went to %s, want %s", got, id)
	}
	if got := w.getID(t, logins(18, 20)); got != id {
		t.Fatalf("20th login went to %s, want %s", got, id)
	}
	if n := len(w.linked(t, id)); n != 20 {
		t.Fatalf("identity has %d logins, want 20", n)
	}
	_, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: logins(19, 21)})
	APIError(t, err, "LimitExceededException", msgLoginLimit)
	// GetOpenIdToken and GetCredentialsForIdentity link too, but their
	// models have no LimitExceededException: the refusal must be one of
	// their modeled errors, ResourceConflictException (as for
	// MergeDeveloperIdentities, its model's documentation).
	t.Run("GetOpenIdToken", func(t *testing.T) {
		APIError(t, w.openIDErr(t, id, logins(19, 21)), "ResourceConflictException", msgLoginLimit)
	})
	t.Run("GetCredentialsForIdentity", func(t *testing.T) {
		_, err := w.app.GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(id), Logins: logins(19, 21)})
		APIError(t, err, "ResourceConflictException", msgLoginLimit)
	})
	if n := len(w.linked(t, id)); n != 20 {
		t.Errorf("identity has %d logins after the refused link, want 20", n)
	}
	// The refused login is still free.
	if got := w.getID(t, logins(20, 21)); got == id {
		t.Errorf("the refused login was linked to %s", id)
	}
}

func TestDescribeIdentity(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("describe"))
	guest := w.getID(t, nil)
	missing := "us-east-1:00000000-0000-4000-8000-000000000000"

	var body []byte
	out, err := w.admin.DescribeIdentity(t.Context(), &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(guest)}, CaptureResponseBody(&body))
	if err != nil {
		t.Fatalf("DescribeIdentity: %v", err)
	}
	if aws.ToString(out.IdentityId) != guest || out.Logins != nil || out.CreationDate == nil || out.LastModifiedDate == nil {
		t.Errorf("DescribeIdentity of a guest = %+v", out)
	}
	if !out.CreationDate.Equal(*out.LastModifiedDate) {
		t.Errorf("a new guest has CreationDate %v and LastModifiedDate %v", out.CreationDate, out.LastModifiedDate)
	}
	if d := out.CreationDate.Sub(Epoch); d < 0 || d > time.Minute {
		t.Errorf("CreationDate %v is not the server clock's time (%v)", out.CreationDate, Epoch)
	}
	if strings.Contains(string(body), `"Logins"`) {
		t.Errorf("a guest's description carries Logins: %s", body)
	}

	tests := []struct {
		name   string
		client *cognitoidentity.Client
		id     string
	}{
		{"unknown identity", w.admin, missing},
		{"identity of another account's pool", env.Client(AccountB, USEast1), guest},
		{"identity of a pool in another region", env.Client(AccountA, EUWest1), guest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.DescribeIdentity(t.Context(), &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(tc.id)})
			APIError(t, err, "ResourceNotFoundException", identityNotFound(tc.id))
		})
	}
}

func TestListIdentities(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("list"))
	other := worldIn(t, env, loginPoolInput("other"))
	other.getID(t, nil)

	var all []string
	for range 4 {
		all = append(all, w.getID(t, nil))
	}
	a := w.getID(t, map[string]string{fb: "a"})
	b := w.getID(t, map[string]string{amazon: "b"})
	all = append(all, a, b)
	w.getID(t, map[string]string{fb: "a", amazon: "b"}) // b is merged into a
	enabled := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return id == b })

	t.Run("every identity in creation order", func(t *testing.T) {
		wantEqual(t, "all identities", w.listIdentities(t, 60, false), all)
	})
	t.Run("HideDisabled", func(t *testing.T) {
		wantEqual(t, "enabled identities", w.listIdentities(t, 60, true), enabled)
	})
	for _, size := range []int32{1, 2, 5} {
		t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
			wantEqual(t, "all identities", w.listIdentities(t, size, false), all)
			wantEqual(t, "enabled identities", w.listIdentities(t, size, true), enabled)
		})
	}
	t.Run("descriptions", func(t *testing.T) {
		out, err := w.admin.ListIdentities(t.Context(), &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(w.pool), MaxResults: aws.Int32(60)})
		if err != nil {
			t.Fatalf("ListIdentities: %v", err)
		}
		if aws.ToString(out.IdentityPoolId) != w.pool || out.NextToken != nil {
			t.Errorf("ListIdentities IdentityPoolId %q NextToken %v", aws.ToString(out.IdentityPoolId), out.NextToken)
		}
		for _, d := range out.Identities {
			want := w.describeIdentity(t, aws.ToString(d.IdentityId))
			wantEqual(t, "listed "+aws.ToString(d.IdentityId), d.Logins, want.Logins)
			if !d.CreationDate.Equal(*want.CreationDate) || !d.LastModifiedDate.Equal(*want.LastModifiedDate) {
				t.Errorf("listed dates of %s differ from DescribeIdentity", aws.ToString(d.IdentityId))
			}
		}
	})
	t.Run("identities created between pages", func(t *testing.T) {
		var got, added []string
		var next *string
		for {
			page, err := w.admin.ListIdentities(t.Context(), &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(w.pool), MaxResults: aws.Int32(2), NextToken: next})
			if err != nil {
				t.Fatalf("ListIdentities: %v", err)
			}
			for _, d := range page.Identities {
				got = append(got, aws.ToString(d.IdentityId))
			}
			if page.NextToken == nil {
				break
			}
			next = page.NextToken
			if len(added) < 3 {
				added = append(added, w.getID(t, nil))
			}
		}
		wantEqual(t, "identities seen while paging", got, append(slices.Clone(all), added...))
	})
	t.Run("empty pool", func(t *testing.T) {
		empty := worldIn(t, env, loginPoolInput("empty"))
		var body []byte
		out, err := empty.admin.ListIdentities(t.Context(), &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(empty.pool), MaxResults: aws.Int32(10)}, CaptureResponseBody(&body))
		if err != nil {
			t.Fatalf("ListIdentities: %v", err)
		}
		if len(out.Identities) != 0 || out.NextToken != nil {
			t.Errorf("empty pool listed %+v", out)
		}
		if want := `{"Identities":[],"IdentityPoolId":"` + empty.pool + `"}`; !jsonEqual(body, want) {
			t.Errorf("body %s, want %s", body, want)
		}
	})

	refusals := []struct {
		name      string
		client    *cognitoidentity.Client
		pool      string
		token     string
		code, msg string
	}{
		{"token that is not base64", w.admin, w.pool, "!!!", "InvalidParameterException", msgBadNextToken},
		{"token without a cursor", w.admin, w.pool, b64.EncodeToString([]byte("nope")), "InvalidParameterException", msgBadNextToken},
		{"pool of another account", env.Client(AccountB, USEast1), w.pool, "", "ResourceNotFoundException", notFound(w.pool)},
		{"pool in another region", env.Client(AccountA, EUWest1), w.pool, "", "ResourceNotFoundException", notFound(w.pool)},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			in := &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(tc.pool), MaxResults: aws.Int32(2)}
			if tc.token != "" {
				in.NextToken = aws.String(tc.token)
			}
			_, err := tc.client.ListIdentities(t.Context(), in)
			APIError(t, err, tc.code, tc.msg)
		})
	}
}

func jsonEqual(got []byte, want string) bool {
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

func TestDeleteIdentities(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("delete"))
	wb := &world{env: env, admin: env.Client(AccountB, USEast1), app: w.app}
	wb.pool = aws.ToString(createPool(t, wb.admin, loginPoolInput("b")).IdentityPoolId)

	alice := w.getID(t, map[string]string{fb: "alice"})
	guest := w.getID(t, nil)
	keep := w.getID(t, nil)
	theirs := wb.getID(t, nil)
	unknown := "us-east-1:00000000-0000-4000-8000-000000000000"

	var body []byte
	out, err := w.admin.DeleteIdentities(t.Context(), &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{alice, unknown, theirs, guest, alice}}, CaptureResponseBody(&body))
	if err != nil {
		t.Fatalf("DeleteIdentities: %v", err)
	}
	wantEqual(t, "UnprocessedIdentityIds", out.UnprocessedIdentityIds, []types.UnprocessedIdentityId{{IdentityId: aws.String(theirs), ErrorCode: types.ErrorCodeAccessDenied}})

	for _, id := range []string{alice, guest} {
		_, err := w.admin.DescribeIdentity(t.Context(), &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)})
		APIError(t, err, "ResourceNotFoundException", identityNotFound(id))
		APIError(t, w.openIDErr(t, id, nil), "ResourceNotFoundException", identityNotFound(id))
		_, err = w.app.GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(id)})
		APIError(t, err, "ResourceNotFoundException", identityNotFound(id))
	}
	wantEqual(t, "identities left", w.listIdentities(t, 60, false), []string{keep})
	wb.describeIdentity(t, theirs)

	// The deleted identity's login is free again: it makes a new identity.
	if again := w.getID(t, map[string]string{fb: "alice"}); again == alice {
		t.Errorf("the login of a deleted identity found it again")
	}

	// On full success the list is present and empty.
	out, err = w.admin.DeleteIdentities(t.Context(), &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{keep}}, CaptureResponseBody(&body))
	if err != nil {
		t.Fatalf("DeleteIdentities: %v", err)
	}
	if !jsonEqual(body, `{"UnprocessedIdentityIds":[]}`) {
		t.Errorf("DeleteIdentities body %s, want {\"UnprocessedIdentityIds\":[]}", body)
	}
}

func TestUnlinkIdentity(t *testing.T) {
	w := newWorld(t, loginPoolInput("unlink"))
	ctx := t.Context()
	x := w.getID(t, map[string]string{fb: "alice", google: googleToken("g-alice"), amazon: "amzn-alice"})
	unlink := func(id string, logins map[string]string, remove ...string) error {
		_, err := w.app.UnlinkIdentity(ctx, &cognitoidentity.UnlinkIdentityInput{IdentityId: aws.String(id), Logins: logins, LoginsToRemove: remove})
		return err
	}

	refusals := []struct {
		name      string
		id        string
		logins    map[string]string
		remove    []string
		code, msg string
	}{
		{"no proof", x, map[string]string{}, []string{fb}, "NotAuthorizedException", msgLoginsMismatch},
		{"a login of nobody", x, map[string]string{oidcIssuer: oidcToken("stranger", nil)}, []string{fb}, "NotAuthorizedException", msgLoginsMismatch},
		{"another user of a linked provider", x, map[string]string{fb: "mallory"}, []string{fb}, "NotAuthorizedException", msgLoginsMismatch},
		{"an invalid token next to a valid one", x, map[string]string{fb: "alice", oidcIssuer: "not-a-jwt"}, []string{fb}, "NotAuthorizedException", msgNotOIDC},
		{"an unsupported provider", x, map[string]string{"api.twitter.com": "a;b"}, []string{fb}, "NotAuthorizedException", msgUnsupported},
		{"unknown identity", "us-east-1:00000000-0000-4000-8000-000000000000", map[string]string{fb: "alice"}, []string{fb}, "ResourceNotFoundException", identityNotFound("us-east-1:00000000-0000-4000-8000-000000000000")},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			APIError(t, unlink(tc.id, tc.logins, tc.remove...), tc.code, tc.msg)
			wantEqual(t, "logins after a refused unlink", w.linked(t, x), []string{google, fb, amazon})
		})
	}

	t.Run("unlink with proof", func(t *testing.T) {
		if err := unlink(x, map[string]string{google: googleToken("g-alice")}, fb); err != nil {
			t.Fatalf("UnlinkIdentity: %v", err)
		}
		wantEqual(t, "logins", w.linked(t, x), []string{google, amazon})
		// The unlinked login is new the next time it is seen.
		if again := w.getID(t, map[string]string{fb: "alice"}); again == x {
			t.Errorf("the unlinked login still finds %s", x)
		}
		// Proof with the login being removed works too.
		if err := unlink(x, map[string]string{amazon: "amzn-alice"}, amazon); err != nil {
			t.Fatalf("UnlinkIdentity: %v", err)
		}
		wantEqual(t, "logins", w.linked(t, x), []string{google})
	})
	t.Run("unlinking the last login disables the identity", func(t *testing.T) {
		if err := unlink(x, map[string]string{google: googleToken("g-alice")}, google); err != nil {
			t.Fatalf("UnlinkIdentity: %v", err)
		}
		APIError(t, w.openIDErr(t, x, map[string]string{google: googleToken("g-alice")}), "NotAuthorizedException", forbidden(x))
		APIError(t, w.openIDErr(t, x, nil), "NotAuthorizedException", forbidden(x))
		if slices.Contains(w.listIdentities(t, 60, true), x) {
			t.Errorf("HideDisabled lists the identity whose last login was unlinked")
		}
		if again := w.getID(t, map[string]string{google: googleToken("g-alice")}); again == x {
			t.Errorf("the last unlinked login still finds %s", x)
		}
		APIError(t, unlink(x, map[string]string{google: googleToken("g-alice")}, google), "NotAuthorizedException", forbidden(x))
	})
}

// TestDeletedPool: the identities of a deleted pool are gone with it.
func TestDeletedPool(t *testing.T) {
	w := newWorld(t, loginPoolInput("doomed"))
	guest := w.getID(t, nil)
	user := w.getID(t, map[string]string{fb: "doomed-user"})
	if _, err := w.admin.DeleteIdentityPool(t.Context(), &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(w.pool)}); err != nil {
		t.Fatalf("DeleteIdentityPool: %v", err)
	}
	for _, id := range []string{guest, user} {
		_, err := w.admin.DescribeIdentity(t.Context(), &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)})
		APIError(t, err, "ResourceNotFoundException", identityNotFound(id))
		APIError(t, w.openIDErr(t, id, nil), "ResourceNotFoundException", identityNotFound(id))
		_, err = w.app.GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(id)})
		APIError(t, err, "ResourceNotFoundException", identityNotFound(id))
	}
	_, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: map[string]string{fb: "doomed-user"}})
	APIError(t, err, "ResourceNotFoundException", notFound(w.pool))
	_, err = w.admin.ListIdentities(t.Context(), &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(w.pool), MaxResults: aws.Int32(1)})
	APIError(t, err, "ResourceNotFoundException", notFound(w.pool))
}

// TestGetOpenIdToken covers the basic flow's token call: the classic-flow
// switch, guests, proof of ownership, and guests signing in.
func TestGetOpenIdToken(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("openid"))

	t.Run("AllowClassicFlow", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			allow *bool
			ok    bool
		}{
			{"unset", nil, true},
			{"true", aws.Bool(true), true},
			{"false", aws.Bool(false), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := loginPoolInput("classic")
				in.AllowClassicFlow = tc.allow
				cw := worldIn(t, env, in)
				guest := cw.getID(t, nil)
				user := cw.getID(t, map[string]string{fb: "classic-user"})
				for _, c := range []struct {
					id     string
					logins map[string]string
				}{{guest, nil}, {user, map[string]string{fb: "classic-user"}}} {
					err := cw.openIDErr(t, c.id, c.logins)
					if tc.ok {
						if err != nil {
							t.Errorf("GetOpenIdToken: %v", err)
						}
						continue
					}
					APIError(t, err, "InvalidParameterException", msgClassicFlow)
				}
			})
		}
	})

	t.Run("guest", func(t *testing.T) {
		guest := w.getID(t, nil)
		out := w.openID(t, guest, nil)
		if aws.ToString(out.IdentityId) != guest {
			t.Errorf("IdentityId = %s, want %s", aws.ToString(out.IdentityId), guest)
		}
		c := payload(t, aws.ToString(out.Token))
		wantEqual(t, "amr", c["amr"], []any{"unauthenticated"})
		if c["sub"] != guest || c["aud"] != w.pool {
			t.Errorf("sub %v aud %v, want %s %s", c["sub"], c["aud"], guest, w.pool)
		}
		if life := c["exp"].(float64) - c["iat"].(float64); life != 600 {
			t.Errorf("token lifetime %v s, want 600", life)
		}
	})

	t.Run("authenticated identity without logins", func(t *testing.T) {
		id := w.getID(t, map[string]string{fb: "frank"})
		APIError(t, w.openIDErr(t, id, nil), "NotAuthorizedException", msgLoginsMismatch)
		APIError(t, w.openIDErr(t, id, map[string]string{amazon: "someone-else"}), "NotAuthorizedException", msgLoginsMismatch)
		if out := w.openID(t, id, map[string]string{fb: "frank"}); aws.ToString(out.IdentityId) != id {
			t.Errorf("GetOpenIdToken with the identity's login returned %s", aws.ToString(out.IdentityId))
		}
		// The refused login was not linked.
		wantEqual(t, "logins", w.linked(t, id), []string{fb})
	})

	t.Run("guest signs in with a new login", func(t *testing.T) {
		guest := w.getID(t, nil)
		out := w.openID(t, guest, map[string]string{fb: "grace"})
		if aws.ToString(out.IdentityId) != guest {
			t.Fatalf("IdentityId = %s, want the guest %s", aws.ToString(out.IdentityId), guest)
		}
		wantEqual(t, "amr", payload(t, aws.ToString(out.Token))["amr"], []any{"authenticated", fb, fb + ":" + fbApp + ":grace"})
		wantEqual(t, "logins", w.linked(t, guest), []string{fb})
		if id := w.getID(t, map[string]string{fb: "grace"}); id != guest {
			t.Errorf("GetId with the login = %s, want %s", id, guest)
		}
		// Now authenticated: a call without logins is refused.
		APIError(t, w.openIDErr(t, guest, nil), "NotAuthorizedException", msgLoginsMismatch)
	})

	t.Run("guest signs in with a login of another identity", func(t *testing.T) {
		owner := w.getID(t, map[string]string{fb: "heidi"})
		guest := w.getID(t, nil)
		out := w.openID(t, guest, map[string]string{fb: "heidi"})
		if aws.ToString(out.IdentityId) != owner {
			t.Fatalf("IdentityId = %s, want the login's identity %s", aws.ToString(out.IdentityId), owner)
		}
		if sub := payload(t, aws.ToString(out.Token))["sub"]; sub != owner {
			t.Errorf("token sub %v, want %s", sub, owner)
		}
		APIError(t, w.openIDErr(t, guest, nil), "NotAuthorizedException", forbidden(guest))
	})

	t.Run("guest of a pool that no longer admits guests", func(t *testing.T) {
		cw := worldIn(t, env, loginPoolInput("closing"))
		guest := cw.getID(t, nil)
		upd := loginPoolInput("closing")
		if _, err := cw.admin.UpdateIdentityPool(t.Context(), &cognitoidentity.UpdateIdentityPoolInput{
			IdentityPoolId: aws.String(cw.pool), IdentityPoolName: upd.IdentityPoolName, AllowUnauthenticatedIdentities: false,
			SupportedLoginProviders: upd.SupportedLoginProviders, DeveloperProviderName: upd.DeveloperProviderName,
		}); err != nil {
			t.Fatalf("UpdateIdentityPool: %v", err)
		}
		APIError(t, cw.openIDErr(t, guest, nil), "NotAuthorizedException", msgUnauthenticated)
		_, err := cw.app.GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(guest)})
		APIError(t, err, "NotAuthorizedException", msgUnauthenticated)
		// Signing in still works.
		if out := cw.openID(t, guest, map[string]string{fb: "ivan"}); aws.ToString(out.IdentityId) != guest {
			t.Errorf("IdentityId = %s, want %s", aws.ToString(out.IdentityId), guest)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		id := w.getID(t, map[string]string{fb: "judy"})
		missing := "us-east-1:00000000-0000-4000-8000-000000000000"
		for _, tc := range []struct {
			name      string
			id        string
			logins    map[string]string
			code, msg string
		}{
			{"unknown identity", missing, nil, "ResourceNotFoundException", identityNotFound(missing)},
			{"idpool's own token", id, map[string]string{cognitoKey: "a.b.c"}, "NotAuthorizedException", msgCognitoToken},
			{"developer provider", id, map[string]string{devProvider: "judy"}, "NotAuthorizedException", msgUnsupported},
			{"unsupported provider", id, map[string]string{"www.digits.com": "judy"}, "NotAuthorizedException", msgUnsupported},
			{"invalid token next to the identity's login", id, map[string]string{fb: "judy", userPool1: userPoolToken(userPool1, "nope", "j", nil)}, "NotAuthorizedException", msgUnsupported},
		} {
			t.Run(tc.name, func(t *testing.T) {
				APIError(t, w.openIDErr(t, tc.id, tc.logins), tc.code, tc.msg)
			})
		}
	})
}

// TestConcurrentGetId races 100 first sign-ins of one login: exactly one
// identity comes out of it.
func TestConcurrentGetId(t *testing.T) {
	w := newWorld(t, loginPoolInput("race"))
	const n = 100
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: map[string]string{fb: "racer"}})
			errs[i] = err
			if err == nil {
				ids[i] = aws.ToString(out.IdentityId)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("GetId %d: %v", i, err)
		}
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(distinct) != 1 || distinct[0] == "" {
		t.Fatalf("100 concurrent GetId calls for one login returned %d identities: %v", len(distinct), distinct)
	}
	wantEqual(t, "identities of the pool", w.listIdentities(t, 60, false), distinct)
}

// TestConcurrentLinksAndMerges links and merges concurrently: no login is
// lost and every merged identity ends disabled.
func TestConcurrentLinksAndMerges(t *testing.T) {
	in := loginPoolInput("race-merge")
	in.CognitoIdentityProviders = nil
	provider := func(i int) string { return fmt.Sprintf("cognito-idp.us-east-1.amazonaws.com/us-east-1_Race%02d", i) }
	const n = 18
	for i := range n {
		in.CognitoIdentityProviders = append(in.CognitoIdentityProviders, types.CognitoIdentityProvider{ProviderName: aws.String(provider(i)), ClientId: aws.String("client1")})
	}
	w := newWorld(t, in)
	login := func(i int) map[string]string {
		return map[string]string{provider(i): userPoolToken(provider(i), "client1", fmt.Sprintf("user-%d", i), nil)}
	}
	hub := w.getID(t, map[string]string{fb: "hub"})
	// Half of the providers already have identities of their own (to be
	// merged), the other half are new (to be linked).
	var merged []string
	for i := 0; i < n; i += 2 {
		merged = append(merged, w.getID(t, login(i)))
	}

	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			logins := login(i)
			logins[fb] = "hub"
			out, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: logins})
			errs[i] = err
			if err == nil {
				got[i] = aws.ToString(out.IdentityId)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("GetId %d: %v", i, err)
		} else if got[i] != hub {
			t.Errorf("GetId %d returned %s, want the hub %s", i, got[i], hub)
		}
	}
	want := []string{fb}
	for i := range n {
		want = append(want, provider(i))
	}
	slices.Sort(want)
	wantEqual(t, "logins of the hub", w.linked(t, hub), want)
	for i := range n {
		if id := w.getID(t, login(i)); id != hub {
			t.Errorf("login %d finds %s, want the hub", i, id)
		}
	}
	for _, id := range merged {
		APIError(t, w.openIDErr(t, id, nil), "NotAuthorizedException", forbidden(id))
	}
	wantEqual(t, "enabled identities", w.listIdentities(t, 60, true), []string{hub})
}

// TestIdentityIDsAreTimeOrdered: an identity id is a UUIDv7 whose first 48
// bits are the creation time in milliseconds, so that new identities are
// appended to the store's indexes (docs/storage.md); the other 74 bits
// are random.
func TestIdentityIDsAreTimeOrdered(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("ordered"))
	var ids []string
	for range 3 {
		before := env.Clock.Peek()
		id := w.getID(t, nil)
		after := env.Clock.Peek()
		hexTime := strings.ReplaceAll(strings.TrimPrefix(id, "us-east-1:"), "-", "")[:12]
		ms, err := strconv.ParseInt(hexTime, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if at := time.UnixMilli(ms); at.Before(before.Truncate(time.Millisecond)) || at.After(after) {
			t.Errorf("id %s carries the time %s, want between %s and %s", id, at, before, after)
		}
		ids = append(ids, id)
		env.Clock.Advance(time.Second)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids made one after another do not sort in that order: %v", ids)
	}
}

// TestRandomIDsFromBeforeKeepWorking: a database written before identity
// ids were time-ordered holds random (UUIDv4) ids. Nothing migrates them:
// they keep answering beside the new ids, and list with them in creation
// order.
func TestRandomIDsFromBeforeKeepWorking(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("upgraded"))
	ctx := t.Context()
	const (
		oldUser  = "us-east-1:3f2b6c1e-9a4d-4e8f-b1c2-0d9e8f7a6b5c"
		oldGuest = "us-east-1:ffffffff-0000-4000-8000-000000000001" // sorts after any id made today
	)
	at := env.Clock.Now()
	if err := env.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertIdentity(ctx, &store.Identity{ID: oldUser, PoolID: w.pool, CreatedAt: at, UpdatedAt: at,
			Logins: []store.Login{{PoolID: w.pool, Provider: fb, Subject: "from-before", IdentityID: oldUser}}}); err != nil {
			return err
		}
		return tx.InsertIdentity(ctx, &store.Identity{ID: oldGuest, PoolID: w.pool, CreatedAt: at.Add(time.Millisecond), UpdatedAt: at})
	}); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Second)

	got, err := w.app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: map[string]string{fb: "from-before"}})
	if err != nil || aws.ToString(got.IdentityId) != oldUser {
		t.Fatalf("GetId of the login linked before: %v, %v; want %s", got, err, oldUser)
	}
	for _, id := range []string{oldUser, oldGuest} {
		logins := map[string]string(nil)
		if id == oldUser {
			logins = map[string]string{fb: "from-before"}
		}
		tok, err := w.app.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(id), Logins: logins})
		if err != nil || aws.ToString(tok.IdentityId) != id || aws.ToString(tok.Token) == "" {
			t.Errorf("GetOpenIdToken for %s: %v, %v", id, tok, err)
		}
	}
	newGuest := w.getID(t, nil) // a UUIDv7 id

	list, err := w.admin.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(w.pool), MaxResults: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, id := range list.Identities {
		ids = append(ids, aws.ToString(id.IdentityId))
	}
	if want := []string{oldUser, oldGuest, newGuest}; !slices.Equal(ids, want) {
		t.Errorf("ListIdentities = %v, want %v (creation order)", ids, want)
	}
}
