package replicas

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/idpool/idpool/test/e2e"
)

// TestCachesStayExact: replicas serve identities and login links from
// memory (--store-cache-ttl), yet a change acknowledged by one replica is
// what every other replica answers right after: here, a login unlinked on
// A after B and C looked it up (and cached it).
func TestCachesStayExact(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	pool := c.createPool(t, 0, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("cache_exact"), AllowUnauthenticatedIdentities: true,
		SupportedLoginProviders: map[string]string{facebook: "app"},
	})
	ctx := t.Context()
	for i := range 5 {
		logins := map[string]string{facebook: fmt.Sprintf("cached-user-%d", i)}
		first, err := c.public(0).GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: logins})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(first.IdentityId)
		for r := 1; r < replicaCount; r++ {
			// Twice: the second is served from the replica's memory.
			for range 2 {
				out, err := c.public(r).GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: logins})
				if err != nil {
					t.Fatalf("GetId on %s: %v", c.replicas[r].name, err)
				}
				if got := aws.ToString(out.IdentityId); got != id {
					t.Fatalf("GetId on %s = %s, want %s", c.replicas[r].name, got, id)
				}
				if _, err := c.public(r).GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(id), Logins: logins}); err != nil {
					t.Fatalf("GetOpenIdToken on %s: %v", c.replicas[r].name, err)
				}
			}
		}
		if _, err := c.public(0).UnlinkIdentity(ctx, &cognitoidentity.UnlinkIdentityInput{
			IdentityId: aws.String(id), Logins: logins, LoginsToRemove: []string{facebook}}); err != nil {
			t.Fatalf("UnlinkIdentity: %v", err)
		}
		// The identity lost its only login: it is disabled, everywhere, at once.
		_, err = c.public(2).GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(id)})
		e2e.APIError(t, err, "NotAuthorizedException", "Access to Identity '"+id+"' is forbidden.")
		// The login is free again: it gets a new identity, everywhere.
		again, err := c.public(1).GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: logins})
		if err != nil {
			t.Fatalf("GetId on %s after the unlink: %v", c.replicas[1].name, err)
		}
		if aws.ToString(again.IdentityId) == id {
			t.Fatalf("GetId on %s after the unlink returned the unlinked identity %s; want a new one", c.replicas[1].name, id)
		}
	}
}
