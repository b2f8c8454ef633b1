package replicas

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/idpool/idpool/internal/tokens"
	"github.com/idpool/idpool/test/e2e"
)

// Every test runs in parallel with the others: each has its own database
// and replicas, and the key rotation test spends most of its time waiting
// for the replicas' periodic refresh, which the others overlap. It comes
// first so that it is among the first to start.

// TestKeyRotationReachesEveryReplica rotates the signing keys with `idpool
// keys rotate` against the database of a deployment that has been running
// for a while, and shows every replica publishing the new key without a
// restart: one at once, because it met a token naming the key, the others
// by their periodic refresh, within tokens.RefreshInterval. Each keeps
// signing with the previous key once it knows the new one.
//
// The test asserts on publication (the JWKS), not on signing with the new
// key: a new key is published for tokens.Propagation (60 s) before any
// replica signs with it, so that no verifier caching the JWKS meets an
// unknown key, and waiting for that would make the test a minute longer.
// The first key is aged (clusterOptions.keyAge) so that it is the one
// that signs through the whole test, as in a deployment rotating its
// keys after running for a while; TestEarlyRotationKeepsSigningKey covers
// a rotation right after the first key.
func TestKeyRotationReachesEveryReplica(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{keyAge: 10 * time.Minute})
	first := c.sameKeys(t)
	if len(first) != 1 {
		t.Fatalf("replicas publish keys %v before any rotation, want one", first)
	}
	guest := c.guest(t)

	newKID, rotated := c.rotate(t)
	want := append(slices.Clone(first), newKID)
	c.meetKey(t, 0, newKID, guest)
	t.Logf("%s publishes %s %v after the rotation (met a token naming it)", c.replicas[0].name, newKID, time.Since(rotated).Round(time.Millisecond))
	if kid := c.signingKey(t, 0, guest); kid != first[0] {
		t.Errorf("%s signs with %s %v after the rotation, want %s until the new key has been published for %s",
			c.replicas[0].name, kid, time.Since(rotated).Round(time.Millisecond), first[0], tokens.Propagation)
	}

	// The others are sent nothing that names the key: only their periodic
	// refresh can bring it. Serving the JWKS does not refresh the keys.
	pending := map[int]bool{}
	for i := 1; i < replicaCount; i++ {
		pending[i] = true
	}
	limit := tokens.RefreshInterval + 10*time.Second
	for len(pending) > 0 {
		for _, i := range slices.Sorted(maps.Keys(pending)) {
			if !slices.Contains(c.kids(t, i), newKID) {
				continue
			}
			delete(pending, i)
			since := time.Since(rotated)
			t.Logf("%s publishes %s %v after the rotation (periodic refresh)", c.replicas[i].name, newKID, since.Round(time.Millisecond))
			if kid := c.signingKey(t, i, guest); kid != first[0] && since < tokens.Propagation {
				t.Errorf("%s signs with %s %v after the rotation, want %s until the new key has been published for %s",
					c.replicas[i].name, kid, since.Round(time.Millisecond), first[0], tokens.Propagation)
			}
		}
		if len(pending) == 0 {
			break
		}
		if time.Since(rotated) > limit {
			for i := range pending {
				t.Errorf("%s still publishes %v %s after the rotation; replicas refresh every %s",
					c.replicas[i].name, c.kids(t, i), limit, tokens.RefreshInterval)
			}
			t.FailNow()
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Every replica now publishes the same set: the previous key (it
	// signs until the new one has been published for Propagation, and
	// verifies its tokens long after) and the new one.
	if got := c.sameKeys(t); !slices.Equal(got, want) {
		t.Errorf("replicas publish %v after the rotation, want %v", got, want)
	}
}

// TestEarlyRotationKeepsSigningKey rotates the keys of a deployment whose
// first key is seconds old. The new key must not sign before it has been
// published for tokens.Propagation, however young the previous key is:
// verifiers (and replicas) that fetched the JWKS before the rotation do
// not know it yet.
func TestEarlyRotationKeepsSigningKey(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	// Replicas that started together on an empty database made one first
	// key between them.
	first := c.sameKeys(t)
	if len(first) != 1 {
		t.Fatalf("replicas publish keys %v before any rotation, want one", first)
	}
	guest := c.guest(t)
	newKID, rotated := c.rotate(t)
	c.meetKey(t, 0, newKID, guest)
	if kid := c.signingKey(t, 0, guest); kid != first[0] {
		t.Errorf("%s signs with %s, published %v ago, while %s and %s publish only %v; want %s to sign until %s has been published for %s",
			c.replicas[0].name, kid, time.Since(rotated).Round(time.Millisecond), c.replicas[1].name, c.replicas[2].name, c.kids(t, 1),
			first[0], newKID, tokens.Propagation)
	}
}

// sameKeys returns the key ids every replica publishes, failing the test if
// two replicas publish different sets.
func (c *cluster) sameKeys(t *testing.T) []string {
	t.Helper()
	kids := c.kids(t, 0)
	for i := 1; i < replicaCount; i++ {
		if got := c.kids(t, i); !slices.Equal(got, kids) {
			t.Fatalf("%s publishes keys %v, %s publishes %v", c.replicas[i].name, got, c.replicas[0].name, kids)
		}
	}
	return kids
}

// guest makes a pool that admits guests and a guest identity in it.
func (c *cluster) guest(t *testing.T) string {
	t.Helper()
	pool := c.createPool(t, 0, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("rotation"), AllowUnauthenticatedIdentities: true,
	})
	out, err := c.public(0).GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
	if err != nil {
		t.Fatalf("GetId: %v", err)
	}
	return aws.ToString(out.IdentityId)
}

// rotate runs `idpool keys rotate` against the cluster's database and
// returns the new key's id and when it was made.
func (c *cluster) rotate(t *testing.T) (string, time.Time) {
	t.Helper()
	before := slices.Clone(c.kids(t, 0))
	at := time.Now()
	out := c.output(t, "keys", "rotate", "--store", c.dsn, "--issuer", issuer)
	m := regexp.MustCompile(`new signing key (\S+):`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("idpool keys rotate printed %q, want the new key's id", out)
	}
	if slices.Contains(before, m[1]) {
		t.Fatalf("rotation reused key id %s", m[1])
	}
	return m[1], at
}

// meetKey shows replica i a token naming key kid (its signature is
// garbage, so it is refused), which makes the replica re-read the keys at
// once, and waits until it publishes the key. A replica re-reads at most
// once a second, so one that loaded its keys less than a second ago needs
// a second token.
func (c *cluster) meetKey(t *testing.T, i int, kid, identity string) {
	t.Helper()
	forged := forgedToken(kid)
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(c.kids(t, i), kid) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still publishes %v after meeting tokens of key %s", c.replicas[i].name, c.kids(t, i), kid)
		}
		_, err := c.public(i).GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{
			IdentityId: aws.String(identity), Logins: map[string]string{cognitoProvider: forged},
		})
		e2e.APIError(t, err, "NotAuthorizedException", "Invalid login token. Couldn't verify signed token.")
		time.Sleep(100 * time.Millisecond)
	}
}

// signingKey returns the kid of a token replica i issues now (for a guest,
// by GetOpenIdToken).
func (c *cluster) signingKey(t *testing.T, i int, guest string) string {
	t.Helper()
	out, err := c.public(i).GetOpenIdToken(t.Context(), &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(guest)})
	if err != nil {
		t.Fatalf("GetOpenIdToken on %s: %v", c.replicas[i].name, err)
	}
	return kidOf(t, aws.ToString(out.Token))
}

// forgedToken is a JWS that names key kid and carries a signature no key
// made.
func forgedToken(kid string) string {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"kid":"` + kid + `","typ":"JWS","alg":"RS512"}`))
	payload := enc([]byte(`{"sub":"nobody"}`))
	return header + "." + payload + "." + enc(make([]byte, 256))
}

// kidOf returns the kid of a compact JWS.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		t.Fatalf("token %q: %v", token, err)
	}
	return jws.Signatures[0].Header.KeyID
}

// TestConcurrentGetIdOneIdentity sends 200 concurrent GetId calls for one
// new login, round-robin over the replicas: exactly one identity is made,
// and every call gets it.
func TestConcurrentGetIdOneIdentity(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	pool := c.createPool(t, 0, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("getid_race"), AllowUnauthenticatedIdentities: false,
		SupportedLoginProviders: map[string]string{facebook: "app"},
	})
	logins := map[string]string{facebook: "same-token"}

	const n = 200
	ids := make([]string, n)
	var errs errorTally
	clients := make([]*cognitoidentity.Client, replicaCount)
	for i := range clients {
		clients[i] = c.public(i)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out, err := clients[i%replicaCount].GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: logins})
			if err != nil {
				errs.add(fmt.Errorf("GetId %d on %s: %w", i, c.replicas[i%replicaCount].name, err))
				return
			}
			ids[i] = aws.ToString(out.IdentityId)
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent GetId calls over %d replicas took %v", n, replicaCount, time.Since(began).Round(time.Millisecond))
	if errs.total() > 0 {
		t.Errorf("%d of %d concurrent GetId calls failed:%s", errs.total(), n, errs.String())
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == "" }))))
	if len(distinct) != 1 {
		t.Fatalf("concurrent GetId calls for one login returned %d identities: %v", len(distinct), distinct)
	}
	id := distinct[0]
	for i := range replicaCount {
		got := byID(t, c.replicas[i].name, c.listIdentities(t, i, pool, false))
		if want := map[string][]string{id: {facebook}}; !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("ListIdentities on %s = %v, want %v", c.replicas[i].name, got, want)
		}
		again, err := c.public(i).GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: logins})
		if err != nil || aws.ToString(again.IdentityId) != id {
			t.Errorf("GetId afterwards on %s = %v, %v; want %s", c.replicas[i].name, again, err, id)
		}
	}
}

// TestTokenAcrossReplicas has replica A issue a developer token, verifies
// it with replica B's published keys (its JWKS, and OpenID discovery of
// the shared issuer answered by B), and has replica C accept it as the
// cognito-identity.amazonaws.com login; its credentials then pass STS on A.
// Each replica takes each part once.
func TestTokenAcrossReplicas(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	pool := c.createPool(t, 0, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("tokens"), AllowUnauthenticatedIdentities: false, DeveloperProviderName: aws.String(developer),
	})
	const role = "arn:aws:iam::" + account + ":role/ReplicasAuth"
	c.setRoles(t, 1, pool, map[string]string{"authenticated": role})

	for rot := range replicaCount {
		a, b, cc := rot, (rot+1)%replicaCount, (rot+2)%replicaCount
		name := fmt.Sprintf("issued by %s, verified by %s, accepted by %s", c.replicas[a].name, c.replicas[b].name, c.replicas[cc].name)
		t.Run(name, func(t *testing.T) {
			user := fmt.Sprintf("user-%d", rot)
			out, err := c.admin(a).GetOpenIdTokenForDeveloperIdentity(t.Context(), &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
				IdentityPoolId: aws.String(pool), Logins: map[string]string{developer: user},
			})
			if err != nil {
				t.Fatalf("GetOpenIdTokenForDeveloperIdentity on %s: %v", c.replicas[a].name, err)
			}
			id, tok := aws.ToString(out.IdentityId), aws.ToString(out.Token)

			// B's JWKS, fetched from B.
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(c.get(t, b, "/.well-known/jwks.json"), &set); err != nil {
				t.Fatalf("JWKS of %s: %v", c.replicas[b].name, err)
			}
			jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS512})
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			keys := set.Key(jws.Signatures[0].Header.KeyID)
			if len(keys) != 1 {
				t.Fatalf("%s's JWKS has %d keys with the token's kid %q", c.replicas[b].name, len(keys), jws.Signatures[0].Header.KeyID)
			}
			payload, err := jws.Verify(keys[0])
			if err != nil {
				t.Fatalf("token of %s does not verify with %s's JWKS: %v", c.replicas[a].name, c.replicas[b].name, err)
			}
			var claims struct{ Sub, Aud, Iss string }
			if err := json.Unmarshal(payload, &claims); err != nil {
				t.Fatal(err)
			}
			if claims.Sub != id || claims.Aud != pool || claims.Iss != issuer {
				t.Errorf("claims sub %q aud %q iss %q, want %q %q %q", claims.Sub, claims.Aud, claims.Iss, id, pool, issuer)
			}

			// A verifier that knows only the issuer URL, whose requests
			// for it B answers: discovery, then the jwks_uri it names.
			rw := &hostRewriter{host: hostOf(t, c.replicas[b].url), base: c.http.Transport}
			ctx := oidc.ClientContext(t.Context(), &http.Client{Transport: rw, Timeout: 10 * time.Second})
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatalf("discovery of %s from %s: %v", issuer, c.replicas[b].name, err)
			}
			idt, err := provider.Verifier(&oidc.Config{ClientID: pool, SupportedSigningAlgs: []string{oidc.RS512}}).Verify(ctx, tok)
			if err != nil {
				t.Fatalf("go-oidc with %s's discovery: %v", c.replicas[b].name, err)
			}
			if idt.Subject != id {
				t.Errorf("go-oidc subject %q, want %q", idt.Subject, id)
			}
			if rw.served("/.well-known/openid-configuration") == 0 || rw.served("/.well-known/jwks_uri") == 0 {
				t.Errorf("%s did not serve both discovery and the JWKS: %v", c.replicas[b].name, rw.hits)
			}

			// C takes it as the login of the enhanced developer flow.
			creds, err := c.public(cc).GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{
				IdentityId: aws.String(id), Logins: map[string]string{cognitoProvider: tok},
			})
			if err != nil {
				t.Fatalf("GetCredentialsForIdentity on %s with the token of %s: %v", c.replicas[cc].name, c.replicas[a].name, err)
			}
			if aws.ToString(creds.IdentityId) != id {
				t.Errorf("credentials for %s, want %s", aws.ToString(creds.IdentityId), id)
			}
			who := callerIdentity(t, c, a, creds.Credentials)
			if want := "arn:aws:sts::" + account + ":assumed-role/ReplicasAuth/CognitoIdentityCredentials"; aws.ToString(who.Arn) != want {
				t.Errorf("credentials of %s are %s on %s, want %s", c.replicas[cc].name, aws.ToString(who.Arn), c.replicas[a].name, want)
			}

			// B's STS takes it as a web identity token too.
			web, err := c.sts(b, aws.AnonymousCredentials{}).AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(role), RoleSessionName: aws.String("replicas"), WebIdentityToken: aws.String(tok),
			})
			if err != nil {
				t.Fatalf("AssumeRoleWithWebIdentity on %s: %v", c.replicas[b].name, err)
			}
			if aws.ToString(web.SubjectFromWebIdentityToken) != id || aws.ToString(web.Provider) != "idpool.test" {
				t.Errorf("AssumeRoleWithWebIdentity subject %q provider %q, want %q idpool.test",
					aws.ToString(web.SubjectFromWebIdentityToken), aws.ToString(web.Provider), id)
			}
		})
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// callerIdentity calls GetCallerIdentity on replica i signed with creds.
func callerIdentity(t *testing.T, c *cluster, i int, creds *types.Credentials) *sts.GetCallerIdentityOutput {
	t.Helper()
	out, err := c.sts(i, staticCreds(creds)).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity on %s: %v", c.replicas[i].name, err)
	}
	return out
}

func staticCreds(c *types.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken))
}

// TestCredentialsAcrossReplicas mints credentials on each replica, a
// guest's and a Facebook user's, and checks them with GetCallerIdentity on
// each other replica: any replica verifies a session another minted,
// without a lookup, and still refuses a tampered secret.
func TestCredentialsAcrossReplicas(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	pool := c.createPool(t, 0, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("credentials"), AllowUnauthenticatedIdentities: true,
		SupportedLoginProviders: map[string]string{facebook: "app"},
	})
	c.setRoles(t, 0, pool, map[string]string{
		"unauthenticated": "arn:aws:iam::" + account + ":role/ReplicasGuest",
		"authenticated":   "arn:aws:iam::222222222222:role/ReplicasUser",
	})
	for m := range replicaCount {
		for _, tc := range []struct {
			kind         string
			logins       map[string]string
			arn, account string
		}{
			{"guest", nil, "arn:aws:sts::" + account + ":assumed-role/ReplicasGuest/CognitoIdentityCredentials", account},
			{"user", map[string]string{facebook: fmt.Sprintf("fb-user-%d", m)}, "arn:aws:sts::222222222222:assumed-role/ReplicasUser/CognitoIdentityCredentials", "222222222222"},
		} {
			t.Run(tc.kind+" minted by "+c.replicas[m].name, func(t *testing.T) {
				id, err := c.public(m).GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: tc.logins})
				if err != nil {
					t.Fatalf("GetId: %v", err)
				}
				out, err := c.public(m).GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: tc.logins})
				if err != nil {
					t.Fatalf("GetCredentialsForIdentity on %s: %v", c.replicas[m].name, err)
				}
				creds := out.Credentials
				for o := range replicaCount {
					if o == m {
						continue
					}
					who := callerIdentity(t, c, o, creds)
					if aws.ToString(who.Arn) != tc.arn || aws.ToString(who.Account) != tc.account {
						t.Errorf("GetCallerIdentity on %s: %s in %s, want %s in %s", c.replicas[o].name, aws.ToString(who.Arn), aws.ToString(who.Account), tc.arn, tc.account)
					}
					tampered := credentials.NewStaticCredentialsProvider(aws.ToString(creds.AccessKeyId), tamper(aws.ToString(creds.SecretKey)), aws.ToString(creds.SessionToken))
					_, err := c.sts(o, tampered).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
					e2e.STSError(t, err, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", http.StatusForbidden)
				}
			})
		}
	}
}

// tamper changes the first character of s.
func tamper(s string) string {
	if s[0] == 'x' {
		return "y" + s[1:]
	}
	return "x" + s[1:]
}

// TestConcurrentMergeLinkUnlink makes 30 developer users and 10 guests on
// rotating replicas, then, all at once and spread over the replicas,
// merges 14 users into a fifteenth, links a new Facebook login to each
// guest and unlinks 8 other users. Afterwards every replica reports
// exactly the expected logins: each one is counted.
func TestConcurrentMergeLinkUnlink(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	pool := c.createPool(t, 0, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("merge_link_unlink"), AllowUnauthenticatedIdentities: true,
		SupportedLoginProviders: map[string]string{facebook: "app"}, DeveloperProviderName: aws.String(developer),
	})

	// The plan. u00 is the destination; u01..u14 merge into it (u01 brings
	// a Facebook login along); u15..u22 are unlinked; u23..u29 stay as
	// they are. Fewer than 20 logins end on the destination (the limit).
	const users, guests = 30, 10
	user := func(k int) string { return fmt.Sprintf("u%02d", k) }
	const dst, firstSource, firstUnlinked, firstKept = 0, 1, 15, 23
	userFacebook := map[int]string{1: "fb-u01"}
	guestFacebook := func(k int) string { return fmt.Sprintf("fb-g%02d", k) }

	userID := make([]string, users)
	guestID := make([]string, guests)
	var setup errorTally
	var wg sync.WaitGroup
	for k := range users {
		wg.Go(func() {
			logins := map[string]string{developer: user(k)}
			if fb, ok := userFacebook[k]; ok {
				logins[facebook] = fb
			}
			out, err := c.admin(k).GetOpenIdTokenForDeveloperIdentity(t.Context(), &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
				IdentityPoolId: aws.String(pool), Logins: logins,
			})
			if err != nil {
				setup.add(fmt.Errorf("GetOpenIdTokenForDeveloperIdentity %s: %w", user(k), err))
				return
			}
			userID[k] = aws.ToString(out.IdentityId)
		})
	}
	for k := range guests {
		wg.Go(func() {
			out, err := c.public(k).GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
			if err != nil {
				setup.add(fmt.Errorf("GetId guest %d: %w", k, err))
				return
			}
			guestID[k] = aws.ToString(out.IdentityId)
		})
	}
	wg.Wait()
	if setup.total() > 0 {
		t.Fatalf("setup failed:%s", setup.String())
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(userID)))); n != users {
		t.Fatalf("%d developer users got %d identities", users, n)
	}

	// The burst.
	var burst errorTally
	start := make(chan struct{})
	op := 0
	next := func() int { op++; return op }
	for k := firstSource; k < firstUnlinked; k++ {
		r := next()
		wg.Go(func() {
			<-start
			out, err := c.admin(r).MergeDeveloperIdentities(t.Context(), &cognitoidentity.MergeDeveloperIdentitiesInput{
				IdentityPoolId: aws.String(pool), DeveloperProviderName: aws.String(developer),
				SourceUserIdentifier: aws.String(user(k)), DestinationUserIdentifier: aws.String(user(dst)),
			})
			switch {
			case err != nil:
				burst.add(fmt.Errorf("merge %s on %s: %w", user(k), c.replicas[r%replicaCount].name, err))
			case aws.ToString(out.IdentityId) != userID[dst]:
				burst.add(fmt.Errorf("merge %s returned %s, want %s", user(k), aws.ToString(out.IdentityId), userID[dst]))
			}
		})
	}
	for k := range guests {
		r := next()
		wg.Go(func() {
			<-start
			out, err := c.public(r).GetOpenIdToken(t.Context(), &cognitoidentity.GetOpenIdTokenInput{
				IdentityId: aws.String(guestID[k]), Logins: map[string]string{facebook: guestFacebook(k)},
			})
			switch {
			case err != nil:
				burst.add(fmt.Errorf("link %s to guest %d on %s: %w", guestFacebook(k), k, c.replicas[r%replicaCount].name, err))
			case aws.ToString(out.IdentityId) != guestID[k]:
				burst.add(fmt.Errorf("link %s to guest %s returned %s", guestFacebook(k), guestID[k], aws.ToString(out.IdentityId)))
			}
		})
	}
	for k := firstUnlinked; k < firstKept; k++ {
		r := next()
		wg.Go(func() {
			<-start
			_, err := c.admin(r).UnlinkDeveloperIdentity(t.Context(), &cognitoidentity.UnlinkDeveloperIdentityInput{
				IdentityPoolId: aws.String(pool), IdentityId: aws.String(userID[k]),
				DeveloperProviderName: aws.String(developer), DeveloperUserIdentifier: aws.String(user(k)),
			})
			if err != nil {
				burst.add(fmt.Errorf("unlink %s on %s: %w", user(k), c.replicas[r%replicaCount].name, err))
			}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent merges, links and unlinks took %v", op, time.Since(began).Round(time.Millisecond))
	if burst.total() > 0 {
		t.Errorf("%d of %d concurrent operations failed:%s", burst.total(), op, burst.String())
	}

	// The expected end state: who owns each login, which identities are
	// enabled and with which providers.
	devOwner := map[string]string{}  // developer user -> identity
	fbOwner := map[string]string{}   // Facebook subject -> identity
	enabled := map[string][]string{} // identity -> sorted providers
	devUsers := map[string][]string{}
	for k := range users {
		switch {
		case k < firstUnlinked:
			devOwner[user(k)] = userID[dst]
		case k >= firstKept:
			devOwner[user(k)] = userID[k]
			enabled[userID[k]] = []string{developer}
		}
		if fb, ok := userFacebook[k]; ok {
			fbOwner[fb] = userID[dst]
		}
	}
	enabled[userID[dst]] = []string{facebook, developer}
	for k := range guests {
		fbOwner[guestFacebook(k)] = guestID[k]
		enabled[guestID[k]] = []string{facebook}
	}
	for u, id := range devOwner {
		devUsers[id] = append(devUsers[id], u)
	}
	every := map[string][]string{}
	for _, id := range append(slices.Clone(userID), guestID...) {
		every[id] = nil
	}
	maps.Copy(every, enabled)
	if n := len(devOwner) + len(fbOwner); n != 33 {
		t.Fatalf("the plan has %d logins, want 33", n)
	}

	for i := range replicaCount {
		name := c.replicas[i].name
		if got := byID(t, name, c.listIdentities(t, i, pool, true)); !maps.EqualFunc(got, enabled, slices.Equal) {
			t.Errorf("enabled identities on %s:\n got %v\nwant %v", name, got, enabled)
		}
		if got := byID(t, name, c.listIdentities(t, i, pool, false)); !maps.EqualFunc(got, every, slices.Equal) {
			t.Errorf("all identities on %s:\n got %v\nwant %v", name, got, every)
		}
		counted := 0
		for id, want := range devUsers {
			out, err := c.admin(i).LookupDeveloperIdentity(t.Context(), &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(pool), IdentityId: aws.String(id)})
			if err != nil {
				t.Errorf("LookupDeveloperIdentity %s on %s: %v", id, name, err)
				continue
			}
			slices.Sort(want)
			if got := slices.Sorted(slices.Values(out.DeveloperUserIdentifierList)); !slices.Equal(got, want) {
				t.Errorf("developer users of %s on %s = %v, want %v", id, name, got, want)
			}
			counted += len(out.DeveloperUserIdentifierList)
		}
		for u, id := range devOwner {
			out, err := c.admin(i).LookupDeveloperIdentity(t.Context(), &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(pool), DeveloperUserIdentifier: aws.String(u)})
			if err != nil || aws.ToString(out.IdentityId) != id {
				t.Errorf("LookupDeveloperIdentity %s on %s = %v, %v; want %s", u, name, out, err, id)
			}
		}
		for fb, id := range fbOwner {
			out, err := c.public(i).GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{facebook: fb}})
			if err != nil || aws.ToString(out.IdentityId) != id {
				t.Errorf("GetId %s on %s = %v, %v; want %s", fb, name, out, err, id)
				continue
			}
			counted++
		}
		for k := firstUnlinked; k < firstKept; k++ {
			_, err := c.admin(i).LookupDeveloperIdentity(t.Context(), &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(pool), DeveloperUserIdentifier: aws.String(user(k))})
			e2e.APIError(t, err, "ResourceNotFoundException", "Developer user identifier '"+user(k)+"' not found.")
		}
		d, err := c.admin(i).DescribeIdentity(t.Context(), &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(userID[dst])})
		if err != nil {
			t.Fatalf("DescribeIdentity on %s: %v", name, err)
		}
		if got := slices.Sorted(slices.Values(d.Logins)); !slices.Equal(got, enabled[userID[dst]]) {
			t.Errorf("DescribeIdentity of the destination on %s: logins %v, want %v", name, got, enabled[userID[dst]])
		}
		if counted != 33 {
			t.Errorf("%s shows %d logins, want 33", name, counted)
		}
	}
}

// TestKilledReplicaLosesNoWrite streams guest GetId calls at replica A from
// many goroutines and kills A (SIGKILL) while they run. Every identity A
// acknowledged with a 200 is then on replica B; requests that failed may
// or may not have left an identity behind.
func TestKilledReplicaLosesNoWrite(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	pool := c.createPool(t, 1, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("kill"), AllowUnauthenticatedIdentities: true,
	})
	const workers, killAfter = 32, 150
	a := c.replicas[0]
	client := c.public(0)

	var (
		mu       sync.Mutex
		acked    []string
		killedAt time.Time
		cut      int // requests begun before the kill that then failed
		early    errorTally
		ackedAll atomic.Int64
	)
	kill := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				begun := time.Now()
				out, err := client.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
				if err == nil {
					mu.Lock()
					acked = append(acked, aws.ToString(out.IdentityId))
					mu.Unlock()
					if ackedAll.Add(1) == killAfter {
						once.Do(func() { close(kill) })
					}
					continue
				}
				mu.Lock()
				switch {
				case killedAt.IsZero():
					early.add(err)
				case begun.Before(killedAt):
					cut++
				}
				mu.Unlock()
				return
			}
		})
	}
	select {
	case <-kill:
	case <-time.After(30 * time.Second):
		t.Fatalf("only %d GetId calls succeeded in 30 s", ackedAll.Load())
	}
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	a.kill()
	wg.Wait()
	<-a.exited
	if early.total() > 0 {
		t.Fatalf("GetId failed before the kill:%s", early.String())
	}
	t.Logf("%s acknowledged %d identities; %d requests begun before the kill failed", a.name, len(acked), cut)
	if cut == 0 {
		t.Errorf("no request was cut by the kill: the test did not kill %s mid-request", a.name)
	}

	// Every acknowledged identity is listed by B and described by B and C.
	listed := byID(t, c.replicas[1].name, c.listIdentities(t, 1, pool, false))
	var missing []string
	for _, id := range acked {
		if _, ok := listed[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged identities are not listed by %s after %s was killed: %v",
			len(missing), len(acked), c.replicas[1].name, a.name, missing)
	}
	t.Logf("%s lists %d identities: %d acknowledged, %d from requests cut by the kill", c.replicas[1].name, len(listed), len(acked), len(listed)-len(acked))
	var described errorTally
	ids := make(chan string)
	for w := range 8 {
		wg.Go(func() {
			admin := c.admin(1 + w%2)
			for id := range ids {
				out, err := admin.DescribeIdentity(t.Context(), &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)})
				if err == nil && aws.ToString(out.IdentityId) != id {
					err = fmt.Errorf("DescribeIdentity %s returned %s", id, aws.ToString(out.IdentityId))
				}
				if err != nil {
					described.add(fmt.Errorf("DescribeIdentity %s: %w", id, err))
				}
			}
		})
	}
	for _, id := range acked {
		ids <- id
	}
	close(ids)
	wg.Wait()
	if described.total() > 0 {
		t.Errorf("%d acknowledged identities are not described after the kill:%s", described.total(), described.String())
	}
}
