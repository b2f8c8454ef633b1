package replicas

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/jackc/pgx/v5"
)

// writes is what one writer's calls left behind on its pool.
type writes struct {
	mu sync.Mutex
	// names and roles are the values of acknowledged UpdateIdentityPool
	// and SetIdentityPoolRoles calls; tags and users those of TagResource
	// and GetOpenIdTokenForDeveloperIdentity.
	names, roles []string
	tags         map[string]string
	users        map[string]string // developer user -> identity id
	// changes counts acknowledged calls that change the pool's record.
	changes int
}

// writer makes rounds of four calls on one pool through the replicas in
// turn: UpdateIdentityPool, SetIdentityPoolRoles, TagResource and
// GetOpenIdTokenForDeveloperIdentity, each with values of its own.
func (c *cluster) writer(ctx context.Context, w, rounds int, pool string, got *writes, errs *errorTally) {
	for r := range rounds {
		i := (w + r) % replicaCount
		admin := c.admin(i)
		name := fmt.Sprintf("w%d_r%d", w, r)
		_, err := admin.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
			IdentityPoolId: aws.String(pool), IdentityPoolName: aws.String(name),
			AllowUnauthenticatedIdentities: true, DeveloperProviderName: aws.String(developer),
		})
		record(got, errs, err, func() { got.names = append(got.names, name); got.changes++ })

		role := fmt.Sprintf("arn:aws:iam::%s:role/W%d_R%d", account, w, r)
		_, err = admin.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
			IdentityPoolId: aws.String(pool), Roles: map[string]string{"authenticated": role},
		})
		record(got, errs, err, func() { got.roles = append(got.roles, role); got.changes++ })

		// One tag per writer (a pool holds at most 50), its value the round:
		// the last acknowledged value must be the one the pool holds.
		key, value := fmt.Sprintf("w%d", w), fmt.Sprint(r)
		_, err = admin.TagResource(ctx, &cognitoidentity.TagResourceInput{
			ResourceArn: aws.String(poolARN(pool)), Tags: map[string]string{key: value},
		})
		record(got, errs, err, func() { got.tags[key] = value; got.changes++ })

		user := fmt.Sprintf("user-w%d-r%d", w, r)
		out, err := admin.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
			IdentityPoolId: aws.String(pool), Logins: map[string]string{developer: user},
		})
		record(got, errs, err, func() { got.users[user] = aws.ToString(out.IdentityId) })
	}
}

func record(got *writes, errs *errorTally, err error, ok func()) {
	if err != nil {
		errs.add(err)
		return
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	ok()
}

func poolARN(pool string) string {
	return "arn:aws:cognito-identity:" + region + ":" + account + ":identitypool/" + pool
}

// contentionPool creates a pool for the contention writers.
func (c *cluster) contentionPool(t *testing.T, name string) string {
	return c.createPool(t, 0, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String(name), AllowUnauthenticatedIdentities: true, DeveloperProviderName: aws.String(developer),
	})
}

// TestContention: writers of different pools never get in each other's
// way; writers of one pool get ConcurrentModificationException where the
// API models it (UpdateIdentityPool, SetIdentityPoolRoles) and nothing
// else; and what was acknowledged is what the database holds.
func TestContention(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	const rounds = 12

	t.Run("16 writers on their own pools", func(t *testing.T) {
		const writers = 16
		pools := make([]string, writers)
		got := make([]*writes, writers)
		for w := range writers {
			pools[w] = c.contentionPool(t, fmt.Sprintf("own_%d", w))
			got[w] = &writes{tags: map[string]string{}, users: map[string]string{}}
		}
		var errs errorTally
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() { c.writer(t.Context(), w, rounds, pools[w], got[w], &errs) })
		}
		wg.Wait()
		if errs.total() > 0 {
			t.Errorf("%d of %d calls failed:%s", errs.total(), writers*rounds*4, errs.String())
		}
		for w := range writers {
			c.checkPool(t, pools[w], got[w])
			if len(got[w].names) != rounds || got[w].names[rounds-1] != fmt.Sprintf("w%d_r%d", w, rounds-1) {
				t.Errorf("pool %d: acknowledged names %v", w, got[w].names)
			}
		}
	})

	t.Run("8 writers on one pool", func(t *testing.T) {
		const writers = 8
		pool := c.contentionPool(t, "shared")
		got := &writes{tags: map[string]string{}, users: map[string]string{}}
		var errs errorTally
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() { c.writer(t.Context(), w, rounds, pool, got, &errs) })
		}
		wg.Wait()
		errs.mu.Lock()
		for code := range errs.count {
			if code != "ConcurrentModificationException" {
				t.Errorf("%d x %v", errs.count[code], errs.first[code])
			}
		}
		errs.mu.Unlock()
		t.Logf("%d of %d UpdateIdentityPool and SetIdentityPoolRoles calls lost a race", errs.total(), writers*rounds*2)
		if len(got.tags) != writers || len(got.users) != writers*rounds {
			t.Errorf("%d tags and %d developer users acknowledged, want %d and %d", len(got.tags), len(got.users), writers, writers*rounds)
		}
		c.checkPool(t, pool, got)
	})
}

// checkPool compares what every replica and the database hold of a pool
// with what the writers were told.
func (c *cluster) checkPool(t *testing.T, pool string, got *writes) {
	t.Helper()
	ctx := t.Context()
	for i := range replicaCount {
		admin := c.admin(i)
		d, err := admin.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
		if err != nil {
			t.Fatalf("DescribeIdentityPool on %s: %v", c.replicas[i].name, err)
		}
		if name := aws.ToString(d.IdentityPoolName); len(got.names) > 0 && !slices.Contains(got.names, name) {
			t.Errorf("%s: pool %s is named %q, which no acknowledged update wrote", c.replicas[i].name, pool, name)
		}
		for k, v := range got.tags {
			if d.IdentityPoolTags[k] != v {
				t.Errorf("%s: acknowledged tag %s=%s is %q", c.replicas[i].name, k, v, d.IdentityPoolTags[k])
			}
		}
		roles, err := admin.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(pool)})
		if err != nil {
			t.Fatalf("GetIdentityPoolRoles: %v", err)
		}
		if r := roles.Roles["authenticated"]; len(got.roles) > 0 && !slices.Contains(got.roles, r) {
			t.Errorf("%s: authenticated role %q was not acknowledged", c.replicas[i].name, r)
		}
		ids := byID(t, c.replicas[i].name, c.listIdentities(t, i, pool, false))
		if len(ids) != len(got.users) {
			t.Errorf("%s: %d identities, %d developer users acknowledged", c.replicas[i].name, len(ids), len(got.users))
		}
	}
	for user, id := range got.users {
		out, err := c.admin(0).LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{
			IdentityPoolId: aws.String(pool), DeveloperUserIdentifier: aws.String(user), MaxResults: aws.Int32(10)})
		if err != nil || aws.ToString(out.IdentityId) != id {
			t.Errorf("LookupDeveloperIdentity %s = %v, %v; want %s", user, out, err, id)
		}
	}
	// Every acknowledged change, and no other, moved the pool's version.
	if v := c.poolVersion(t, pool); v != int64(1+got.changes) {
		t.Errorf("pool version %d after %d acknowledged changes, want %d", v, got.changes, 1+got.changes)
	}
}

// poolVersion reads a pool's compare-and-swap version from the database.
func (c *cluster) poolVersion(t *testing.T, pool string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int64
	if err := conn.QueryRow(ctx, `SELECT version FROM pools WHERE id = $1`, pool).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
