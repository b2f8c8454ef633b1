package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/idpool/idpool/idpooltest"
	"github.com/idpool/idpool/test/e2e"
)

const (
	guestRole = "arn:aws:iam::000000000000:role/BrowserGuest"
	authRole  = "arn:aws:iam::000000000000:role/BrowserUser"
	fbRole    = "arn:aws:iam::000000000000:role/FacebookFans"
)

// seeded pools make the lists look like a server in use.
const seedYAML = `
pools:
  - IdentityPoolId: us-east-1:0c0c0c0c-1111-4222-8333-444444444444
    IdentityPoolName: mobile-app
    AllowUnauthenticatedIdentities: true
    Roles:
      unauthenticated: arn:aws:iam::000000000000:role/Guest
  - IdentityPoolId: eu-west-1:0d0d0d0d-1111-4222-8333-444444444444
    IdentityPoolName: partner-portal
    AllowUnauthenticatedIdentities: false
    DeveloperProviderName: login.partner.example
    DeveloperUsers:
      - IdentityId: eu-west-1:0e0e0e0e-1111-4222-8333-444444444444
        DeveloperUserIdentifier: carol
`

// TestConsole walks through the console in permissive mode as a person
// does: create a pool, see it listed, get a guest, a token and
// credentials, get a developer token, open identities, rotate the signing
// key, watch the activity, delete the pool.
func TestConsole(t *testing.T) {
	srv := idpooltest.New(t, idpooltest.WithSeedYAML([]byte(seedYAML)))
	b := NewTab(t, srv.URL)

	b.Open("#/pools", "pools")
	if n := b.Count("#pool-list tr[data-pool-id]"); n != 2 {
		t.Fatalf("the pool list shows %d pools, want the 2 seeded ones", n)
	}

	// Create a pool with the form.
	b.Click("#new-pool")
	b.Ready("pool-form")
	b.Type("#f-name", "browser pool")
	b.Click("#f-allow-unauth")
	b.Click("#f-classic") // GetOpenIdToken for a guest is the basic flow
	b.Type("#f-developer", "login.browser.example")
	b.Type("#f-providers", "graph.facebook.com=1234567890")
	b.Type("#f-role-auth", authRole)
	b.Type("#f-role-unauth", guestRole)
	b.Click("#add-mapping")
	b.Type("#mappings fieldset.mapping .m-key", "graph.facebook.com")
	b.Select("#mappings fieldset.mapping .m-type", "Rules")
	b.Click("#mappings fieldset.mapping .add-rule")
	b.Type("#mappings .rule .r-claim", "sub")
	b.Type("#mappings .rule .r-value", "fan")
	b.Type("#mappings .rule .r-role", fbRole)
	b.Type("#f-principal-tags", "graph.facebook.com default")
	b.Type("#f-tags", "team=web\nstage=test")
	b.Accessible("pool-form")
	b.Shot("pool-form")
	b.Click("#save-pool")
	b.Ready("pool")
	b.NoError("creating the pool")
	poolID := b.Text("#pool-id")
	if got := b.Text("#pool-name"); got != "browser pool" {
		t.Errorf("pool page name = %q", got)
	}

	// What the form saved is what the API answers.
	api := e2e.NewCognito(srv.URL, nil, credentials.NewStaticCredentialsProvider("AKIDBROWSERTEST", "secret-key", ""),
		e2e.InRegion(strings.SplitN(poolID, ":", 2)[0]))
	ctx := context.Background()
	pool, err := api.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatalf("DescribeIdentityPool %s: %v", poolID, err)
	}
	if !pool.AllowUnauthenticatedIdentities || !aws.ToBool(pool.AllowClassicFlow) || aws.ToString(pool.DeveloperProviderName) != "login.browser.example" ||
		pool.SupportedLoginProviders["graph.facebook.com"] != "1234567890" || pool.IdentityPoolTags["team"] != "web" {
		t.Errorf("the pool the form created: %+v", pool)
	}
	roles, err := api.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatal(err)
	}
	rm := roles.RoleMappings["graph.facebook.com"]
	if roles.Roles["authenticated"] != authRole || rm.RulesConfiguration == nil || len(rm.RulesConfiguration.Rules) != 1 ||
		aws.ToString(rm.RulesConfiguration.Rules[0].RoleARN) != fbRole {
		t.Errorf("the roles the form set: %+v, mapping %+v", roles.Roles, rm)
	}

	// It is listed.
	b.Click(`a[data-nav="pools"]`)
	b.Until("the new pool in the list", fmt.Sprintf(`document.querySelector('#pool-list tr[data-pool-id=%q] a.pool-link')?.textContent === "browser pool"`, poolID))
	b.Accessible("pools")
	b.Shot("pools")

	// Try it: a guest, its token decoded and verified, its credentials.
	b.Click(fmt.Sprintf(`#pool-list tr[data-pool-id=%q] a.pool-link`, poolID))
	b.Ready("pool")
	b.Click("#try-pool")
	b.Ready("try")
	b.Click("#try-guest")
	b.Until("a guest identity", `document.querySelector("#try-identity a") !== null`)
	b.NoError("GetId")
	guest := b.Text("#try-identity")
	if !strings.HasPrefix(guest, strings.SplitN(poolID, ":", 2)[0]+":") {
		t.Fatalf("guest identity = %q", guest)
	}
	b.Click("#try-token")
	b.Until("the decoded token", `!document.querySelector("#token-view").hidden`)
	b.NoError("GetOpenIdToken")
	if v := b.Text("#token-verify"); !strings.HasPrefix(v, "valid") {
		t.Errorf("token verification says %q", v)
	}
	if h := b.Text("#token-header"); !strings.Contains(h, `"alg": "RS512"`) || !strings.Contains(h, `"kid"`) {
		t.Errorf("token header shown:\n%s", h)
	}
	if c := b.Text("#token-claims"); !strings.Contains(c, `"sub": "`+guest+`"`) || !strings.Contains(c, `"aud": "`+poolID+`"`) || !strings.Contains(c, "unauthenticated") {
		t.Errorf("token claims shown:\n%s", c)
	}
	b.Click("#try-credentials")
	b.Until("the credentials", `!document.querySelector("#creds-view").hidden`)
	b.NoError("GetCredentialsForIdentity")
	if got := b.Text("#role-arn"); got != guestRole {
		t.Errorf("guest role = %q, want %q", got, guestRole)
	}
	if got := b.Text("#caller-arn"); got != "arn:aws:sts::000000000000:assumed-role/BrowserGuest/CognitoIdentityCredentials" {
		t.Errorf("STS GetCallerIdentity shown = %q", got)
	}
	if got := b.Text("#role-decision"); !strings.Contains(strings.ToLower(got), "unauthenticated") {
		t.Errorf("role decision for a guest = %q", got)
	}
	if got := b.Text("#creds-access-key"); !strings.HasPrefix(got, "ASIA") {
		t.Errorf("access key id shown = %q", got)
	}

	// A developer user: its token, then its credentials (the token is its
	// login), which take the authenticated role.
	b.Type("#dev-user", "alice")
	b.Click("#try-dev-token")
	b.Until("the developer token", `document.querySelector("#token-claims")?.textContent.includes('"authenticated"')`)
	b.NoError("GetOpenIdTokenForDeveloperIdentity")
	devID := b.Text("#try-identity")
	if devID == guest {
		t.Fatalf("the developer user got the guest's identity %s", devID)
	}
	if c := b.Text("#token-claims"); !strings.Contains(c, "login.browser.example") {
		t.Errorf("developer token claims:\n%s", c)
	}
	b.Click("#try-credentials")
	b.Until("the developer user's credentials", fmt.Sprintf(`document.querySelector("#role-arn")?.textContent === %q`, authRole))
	b.NoError("GetCredentialsForIdentity with the developer token")
	if got := b.Text("#role-decision"); got == "" {
		t.Error("no role decision shown for the developer user")
	}

	// A Facebook login (an opaque token is its own user id in permissive
	// mode): the role comes from rule 1 of the mapping the form made.
	b.Type("#try-logins", "graph.facebook.com=fan")
	b.Click("#try-credentials")
	b.Until("the Facebook user's credentials", fmt.Sprintf(`document.querySelector("#role-arn")?.textContent === %q`, fbRole))
	b.NoError("GetCredentialsForIdentity with a Facebook login")
	if got := b.Text("#role-decision"); !strings.Contains(got, `rule 1 (sub Equals "fan") matched`) {
		t.Errorf("role decision for the Facebook fan = %q", got)
	}
	if got := b.Text("#caller-arn"); got != "arn:aws:sts::000000000000:assumed-role/FacebookFans/CognitoIdentityCredentials" {
		t.Errorf("STS GetCallerIdentity for the Facebook fan = %q", got)
	}
	b.Accessible("try")
	b.Shot("try")
	b.Type("#dev-user", "bob") // a second developer user, merged below
	b.Click("#try-dev-token")
	b.Until("bob's token", `document.querySelector("#token-claims")?.textContent.includes(":bob")`)
	b.NoError("GetOpenIdTokenForDeveloperIdentity for bob")

	// Open an identity from the pool's list.
	b.Click("main p a") // "Drive pool <name>": back to the pool
	b.Ready("pool")
	b.Until("the four identities listed", `document.querySelectorAll("#identity-list tr[data-identity-id]").length === 4`)
	b.Accessible("pool")
	b.Shot("pool")
	b.Click(fmt.Sprintf(`#identity-list tr[data-identity-id=%q] a.identity-link`, guest))
	b.Ready("identity")
	if got := b.Text("#identity-id"); got != guest {
		t.Errorf("identity page shows %q, want %q", got, guest)
	}
	if got := b.Text("#identity-disabled"); got != "no" {
		t.Errorf("disabled = %q", got)
	}
	if b.Text("#identity-created") == "" {
		t.Error("no creation date shown")
	}

	// Find the developer user's identity by search.
	b.Click("main p a") // back to the pool
	b.Ready("pool")
	b.Select("#search-kind", "developer")
	b.Type("#search-value", "alice")
	b.Click("#search-go")
	b.Until("the developer user's identity", fmt.Sprintf(`document.body.dataset.ready === "identity" && document.querySelector("#identity-id").textContent === %q`, devID))
	if n := b.Count(`#identity-logins li[data-provider="login.browser.example"]`); n != 1 {
		t.Errorf("the identity page lists %d logins of login.browser.example, want 1", n)
	}
	b.Accessible("identity")
	b.Shot("identity")

	// Merge bob into alice's identity, then unlink bob again.
	b.Type("#merge-source", "bob")
	b.Click("#merge-go")
	b.Until("bob merged", `document.body.dataset.ready === "identity" && document.querySelectorAll('#identity-logins li[data-provider="login.browser.example"]').length === 2`)
	b.NoError("merging bob")
	if got := b.Text("#identity-id"); got != devID {
		t.Errorf("after the merge the page shows %s, want alice's identity %s", got, devID)
	}
	b.Click(`#identity-logins li[data-provider="login.browser.example"]:nth-child(2) button.unlink`)
	b.Click("#confirm-yes")
	b.Until("bob unlinked", `document.body.dataset.ready === "identity" && document.querySelectorAll("#identity-logins li").length === 1`)
	b.NoError("unlinking bob")
	alice, err := api.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(poolID), IdentityId: aws.String(devID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(alice.DeveloperUserIdentifierList) != 1 {
		t.Errorf("developer users of alice's identity after merge and unlink: %v", alice.DeveloperUserIdentifierList)
	}

	// Find the Facebook user by login, and delete that identity.
	b.Click("main p a")
	b.Ready("pool")
	b.Select("#search-kind", "login")
	b.Type("#search-provider", "graph.facebook.com")
	b.Type("#search-value", "fan")
	b.Click("#search-go")
	b.Until("the Facebook user's identity", `document.body.dataset.ready === "identity" && document.querySelectorAll('#identity-logins li[data-provider="graph.facebook.com"]').length === 1`)
	fanID := b.Text("#identity-id")
	b.Click("#delete-identity")
	b.Click("#confirm-yes")
	b.Ready("pool")
	b.NoError("deleting an identity")
	b.Until("the deleted identity gone from the list", fmt.Sprintf(`document.querySelectorAll("#identity-list tr[data-identity-id]").length > 0 && !document.querySelector('#identity-list tr[data-identity-id=%q]')`, fanID))

	// Rotate the signing key: a new key is published, the current one
	// keeps signing.
	b.Click(`a[data-nav="keys"]`)
	b.Ready("keys")
	before := b.Count("#key-list tr[data-kid]")
	signing := Eval[string](b, "signing kid", `[...document.querySelectorAll("#key-list tr[data-kid]")].find((r) => r.querySelector(".state").textContent === "signing")?.dataset.kid || ""`)
	if before < 1 || signing == "" {
		t.Fatalf("key list: %d keys, signing %q", before, signing)
	}
	b.Click("#rotate-key")
	b.Click("#confirm-yes")
	b.Until("a new key", fmt.Sprintf(`document.body.dataset.ready === "keys" && document.querySelectorAll("#key-list tr[data-kid]").length === %d`, before+1))
	b.NoError("rotating the key")
	states := Eval[map[string]string](b, "key states", `Object.fromEntries([...document.querySelectorAll("#key-list tr[data-kid]")].map((r) => [r.dataset.kid, r.querySelector(".state").textContent]))`)
	if states[signing] != "signing" {
		t.Errorf("after the rotation the old key is %q, want still signing (states %v)", states[signing], states)
	}
	published := 0
	for kid, s := range states {
		if kid != signing && s == "published" {
			published++
		}
	}
	if published != 1 {
		t.Errorf("after the rotation: %v, want one new published key", states)
	}
	if jwks := b.Text("#jwks"); len(states) > 0 && !strings.Contains(jwks, signing) {
		t.Errorf("the JWKS shown lacks the signing key %s", signing)
	}
	b.Accessible("keys")
	b.Shot("keys")

	// Activity: a failing request made elsewhere shows up live, as an error.
	b.Click(`a[data-nav="activity"]`)
	b.Ready("activity")
	b.Until("the live stream", `document.querySelector("#live").textContent === "live"`)
	if _, err := api.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String("us-east-1:99999999-9999-4999-8999-999999999999")}); err == nil {
		t.Fatal("DescribeIdentityPool of a missing pool succeeded")
	}
	b.Until("the failed request in the log", `[...document.querySelectorAll("#activity-log tr.error")].some((r) => r.textContent.includes("DescribeIdentityPool") && r.textContent.includes("ResourceNotFoundException"))`)
	b.Until("the rate chart drawn", `document.querySelectorAll("#chart-rate rect.bar").length > 0 && document.querySelector("#chart-latency path.avg") !== null`)
	b.Accessible("activity")
	b.Shot("activity")

	// Delete the pool, with a confirmation.
	b.Click(`a[data-nav="pools"]`)
	b.Ready("pools")
	b.Click(fmt.Sprintf(`#pool-list tr[data-pool-id=%q] a.pool-link`, poolID))
	b.Ready("pool")
	b.Click("#delete-pool")
	b.Click("#confirm-no")
	if b.Text("#pool-id") != poolID {
		t.Fatal("cancelling the deletion left the pool page")
	}
	b.Click("#delete-pool")
	b.Click("#confirm-yes")
	b.Ready("pools")
	b.NoError("deleting the pool")
	if n := b.Count(fmt.Sprintf(`#pool-list tr[data-pool-id=%q]`, poolID)); n != 0 {
		t.Error("the deleted pool is still listed")
	}
	if _, err := api.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(poolID)}); err == nil {
		t.Error("the API still has the deleted pool")
	}
	b.Check()
}

// TestConsoleStrict: in strict mode the console needs a sign-in with a
// configured key, shows only that key's account, and refuses a state
// change that lacks the CSRF token.
func TestConsoleStrict(t *testing.T) {
	const (
		keyID   = "AKIDCONSOLEBROWSER01"
		secret  = "console-browser-secret-1"
		account = "123456789012"
	)
	other := idpooltest.Key{AccessKeyID: "AKIDCONSOLEBROWSER02", SecretAccessKey: "console-browser-secret-2", AccountID: "210987654321"}
	srv := idpooltest.New(t, idpooltest.WithStrict(idpooltest.Key{AccessKeyID: keyID, SecretAccessKey: secret, AccountID: account}, other))
	client := func(k, s string) *cognitoidentity.Client {
		return e2e.NewCognito(srv.URL, nil, credentials.NewStaticCredentialsProvider(k, s, ""))
	}
	ctx := context.Background()
	mine, err := client(keyID, secret).CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("mine"), AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := client(other.AccessKeyID, other.SecretAccessKey).CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("theirs"), AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatal(err)
	}

	b := NewTab(t, srv.URL)
	b.Open("#/pools", "signin") // any page asks for a sign-in first
	b.Accessible("signin")
	b.Shot("signin")

	// Without a session the API refuses.
	status := Eval[int](b, "call without a session", `fetch("/console/api/aws", {method: "POST",
	  headers: {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityService.ListIdentityPools"},
	  body: '{"MaxResults": 10}'}).then((r) => r.status)`)
	if status < 400 {
		t.Errorf("an API call without a session got HTTP %d", status)
	}

	// A wrong secret is refused, and says so.
	b.Type("#signin-key", keyID)
	b.Type("#signin-secret", secret+"x")
	b.Click("#signin-go")
	b.Until("the sign-in error", `document.querySelector("#signin-error").textContent !== ""`)
	if got := Eval[string](b, "ready", `document.body.dataset.ready`); got != "signin" {
		t.Fatalf("a wrong secret led to page %q", got)
	}

	b.Type("#signin-secret", secret)
	b.Click("#signin-go")
	b.Ready("pools")
	if who := b.Text("#whoami"); !strings.Contains(who, keyID) || !strings.Contains(who, account) {
		t.Errorf("whoami = %q", who)
	}
	if n := b.Count(fmt.Sprintf(`#pool-list tr[data-pool-id=%q]`, aws.ToString(mine.IdentityPoolId))); n != 1 {
		t.Error("the signed-in account's pool is not listed")
	}
	if n := b.Count(fmt.Sprintf(`#pool-list tr[data-pool-id=%q]`, aws.ToString(theirs.IdentityPoolId))); n != 0 {
		t.Error("another account's pool is listed")
	}
	if Eval[bool](b, "cookie", `document.cookie.includes("idpool_console")`) {
		t.Error("the session cookie is readable from JavaScript (not HttpOnly)")
	}
	if Eval[bool](b, "secret in page", fmt.Sprintf(`document.documentElement.outerHTML.includes(%q)`, secret)) {
		t.Error("the secret access key is in the page")
	}

	// A state change without the CSRF token is refused; with it, the same
	// request works, so the token is what made the difference.
	create := func(name, csrf string) string {
		headers := `{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityService.CreateIdentityPool"}`
		if csrf != "" {
			headers = fmt.Sprintf(`{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityService.CreateIdentityPool", "X-Idpool-Csrf": %q}`, csrf)
		}
		return Eval[string](b, "CreateIdentityPool through the console", fmt.Sprintf(`fetch("/console/api/aws", {method: "POST", credentials: "same-origin",
		  headers: %s, body: JSON.stringify({IdentityPoolName: %q, AllowUnauthenticatedIdentities: true})})
		  .then(async (r) => r.status + " " + await r.text())`, headers, name))
	}
	if got := create("forged", ""); !strings.HasPrefix(got, "403 ") || !strings.Contains(got, "InvalidCsrfToken") {
		t.Errorf("CreateIdentityPool without the CSRF token: %s", got)
	}
	if got := create("forged", "not-the-token"); !strings.HasPrefix(got, "403 ") || !strings.Contains(got, "InvalidCsrfToken") {
		t.Errorf("CreateIdentityPool with a wrong CSRF token: %s", got)
	}
	token := Eval[string](b, "csrf token", `fetch("/console/api/session").then((r) => r.json()).then((s) => s.Csrf)`)
	if got := create("with-token", token); !strings.HasPrefix(got, "200 ") {
		t.Errorf("CreateIdentityPool with the CSRF token: %s", got)
	}
	list, err := client(keyID, secret).ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range list.IdentityPools {
		names[aws.ToString(p.IdentityPoolName)] = true
	}
	if names["forged"] || !names["with-token"] {
		t.Errorf("pools of the account after the CSRF checks: %v", names)
	}

	// Signing out ends the session.
	b.Click("#signout")
	b.Ready("signin")
	status = Eval[int](b, "call after signing out", fmt.Sprintf(`fetch("/console/api/aws", {method: "POST",
	  headers: {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityService.ListIdentityPools", "X-Idpool-Csrf": %q},
	  body: '{"MaxResults": 10}'}).then((r) => r.status)`, token))
	if status < 400 {
		t.Errorf("an API call after signing out got HTTP %d", status)
	}
	b.Check()
}

// TestConsoleIdentityPagesAndEdit: the identity list pages through a pool
// 20 at a time, hides disabled identities on request, and the pool form
// edits what is there.
func TestConsoleIdentityPagesAndEdit(t *testing.T) {
	const poolID = "us-east-1:0f0f0f0f-1111-4222-8333-444444444444"
	srv := idpooltest.New(t, idpooltest.WithSeedYAML([]byte(`
pools:
  - IdentityPoolId: `+poolID+`
    IdentityPoolName: paged
    AllowUnauthenticatedIdentities: true
    SupportedLoginProviders:
      graph.facebook.com: "1234"
    IdentityPoolTags:
      team: web
      stage: test
`)))
	ctx := context.Background()
	app := e2e.NewCognito(srv.URL, nil, aws.AnonymousCredentials{})
	for range 24 {
		if _, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolID)}); err != nil {
			t.Fatal(err)
		}
	}
	// Unlinking an identity's last login disables it.
	fb := map[string]string{"graph.facebook.com": "leaver"}
	gone, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolID), Logins: fb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.UnlinkIdentity(ctx, &cognitoidentity.UnlinkIdentityInput{IdentityId: gone.IdentityId, Logins: fb, LoginsToRemove: []string{"graph.facebook.com"}}); err != nil {
		t.Fatal(err)
	}
	disabled := aws.ToString(gone.IdentityId)

	b := NewTab(t, srv.URL)
	b.Open("#/pools/"+poolID, "pool")
	rows := `document.querySelectorAll("#identity-list tr[data-identity-id]").length`
	// listed waits for the table to show page n (hiding disabled ones or
	// not), its answer in, with want rows.
	listed := func(what string, n int, hide bool, want int) {
		b.Until(what, fmt.Sprintf(`(() => { const t = document.querySelector("#identity-list");
			return t.getAttribute("aria-busy") === "false" && t.dataset.page === "%d" && t.dataset.hideDisabled === "%t" && %s === %d; })()`, n, hide, rows, want))
	}
	ids := func() []string {
		return Eval[[]string](b, "identity ids", `[...document.querySelectorAll("#identity-list tr[data-identity-id]")].map((r) => r.dataset.identityId)`)
	}
	listed("a first page of 20", 1, false, 20)
	seen := map[string]bool{}
	for _, id := range ids() {
		seen[id] = true
	}
	b.Click("#next-page")
	listed("a second page of 5", 2, false, 5)
	for _, id := range ids() {
		seen[id] = true
	}
	if len(seen) != 25 || !seen[disabled] {
		t.Errorf("two pages showed %d distinct identities (disabled one among them: %v), want 25", len(seen), seen[disabled])
	}
	if Eval[bool](b, "next hidden", `!document.querySelector("#next-page").hidden`) {
		t.Error("the last page offers a next page")
	}
	b.Click("#prev-page")
	listed("the first page again", 1, false, 20)

	b.Click("#hide-disabled")
	listed("a first page of 20 without disabled identities", 1, true, 20)
	b.Click("#next-page")
	listed("a second page of 4 without the disabled identity", 2, true, 4)
	for _, id := range ids() {
		if id == disabled {
			t.Error("HideDisabled still lists the disabled identity")
		}
	}

	b.Open("#/identities/"+disabled, "identity")
	if got := b.Text("#identity-disabled"); got != "yes" {
		t.Errorf("the disabled identity's page says disabled = %q", got)
	}

	// Edit: the form shows what is there, and saves what changed.
	b.Open("#/pools/"+poolID, "pool")
	b.Click("#edit-pool")
	b.Ready("pool-form")
	if got := Eval[string](b, "name", `document.querySelector("#f-name").value`); got != "paged" {
		t.Errorf("edit form name = %q", got)
	}
	if got := Eval[string](b, "providers", `document.querySelector("#f-providers").value`); got != "graph.facebook.com=1234" {
		t.Errorf("edit form providers = %q", got)
	}
	b.Type("#f-name", "renamed")
	b.Type("#f-tags", "team=mobile")
	b.Click("#save-pool")
	b.Until("the renamed pool", `document.body.dataset.ready === "pool" && document.querySelector("#pool-name").textContent === "renamed"`)
	b.NoError("saving the pool")
	api := e2e.NewCognito(srv.URL, nil, credentials.NewStaticCredentialsProvider("AKIDBROWSERTEST", "secret-key", ""))
	pool, err := api.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(pool.IdentityPoolName) != "renamed" || len(pool.IdentityPoolTags) != 1 || pool.IdentityPoolTags["team"] != "mobile" ||
		pool.SupportedLoginProviders["graph.facebook.com"] != "1234" || !pool.AllowUnauthenticatedIdentities {
		t.Errorf("the pool after the edit: name %q, tags %v, providers %v, guests %v", aws.ToString(pool.IdentityPoolName),
			pool.IdentityPoolTags, pool.SupportedLoginProviders, pool.AllowUnauthenticatedIdentities)
	}
	b.Check()
}
