package e2e

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go"
)

// TestRegionIsolation checks that the region of the signature decides
// where a pool is created and which pools a caller sees.
func TestRegionIsolation(t *testing.T) {
	env := Start(t, Options{})
	us := env.Client(AccountA, USEast1)
	eu := env.Client(AccountA, EUWest1)
	ctx := t.Context()
	poolUS := aws.ToString(createPool(t, us, fullPoolInput("in us-east-1")).IdentityPoolId)
	poolEU := aws.ToString(createPool(t, eu, fullPoolInput("in eu-west-1")).IdentityPoolId)
	if !regexp.MustCompile(`^eu-west-1:[0-9a-f-]{36}$`).MatchString(poolEU) {
		t.Errorf("pool created by a client signing for eu-west-1 has id %q, want eu-west-1:<uuid>", poolEU)
	}
	if !poolIDPattern.MatchString(poolUS) {
		t.Errorf("pool created by a client signing for us-east-1 has id %q", poolUS)
	}

	for _, tc := range []struct {
		name          string
		client        *cognitoidentity.Client
		own, other    string
		otherARN      string
		ownDescribed  Pool
		ownARN        string
		ownListedOnly []string
	}{
		{"eu-west-1 client", eu, poolEU, poolUS, poolARN(USEast1, AccountA, poolUS), fullPoolWant(poolEU, "in eu-west-1"), poolARN(EUWest1, AccountA, poolEU), []string{poolEU}},
		{"us-east-1 client", us, poolUS, poolEU, poolARN(EUWest1, AccountA, poolEU), fullPoolWant(poolUS, "in us-east-1"), poolARN(USEast1, AccountA, poolUS), []string{poolUS}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(listAll(t, tc.client, 60)); !slices.Equal(got, tc.ownListedOnly) {
				t.Errorf("ListIdentityPools = %v, want %v", got, tc.ownListedOnly)
			}
			wantEqual(t, "own pool", describe(t, tc.client, tc.own), tc.ownDescribed)
			wantEqual(t, "own pool's tags", listTags(t, tc.client, tc.ownARN), tc.ownDescribed.Tags)
			for _, call := range poolCalls(ctx, tc.client, tc.other, tc.otherARN) {
				t.Run("other region's pool/"+call.name, func(t *testing.T) {
					APIError(t, call.call(), "ResourceNotFoundException", notFound(tc.other))
				})
			}
		})
	}
	wantEqual(t, "us-east-1 pool after refused calls", describe(t, us, poolUS), fullPoolWant(poolUS, "in us-east-1"))
}

func TestPoolQuota(t *testing.T) {
	env := Start(t, Options{MaxPools: 3})
	a := env.Client(AccountA, USEast1)
	aEU := env.Client(AccountA, EUWest1)
	b := env.Client(AccountB, USEast1)
	ctx := t.Context()
	create := func(c *cognitoidentity.Client, name string) error {
		_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String(name)})
		return err
	}
	const full = "The maximum number of identity pools (3) for this account in us-east-1 has been reached."

	first := newPool(t, a, "a1")
	newPool(t, a, "a2")
	newPool(t, a, "a3")
	APIError(t, create(a, "a4"), "LimitExceededException", full)
	// The quota is per account and region.
	for name, c := range map[string]*cognitoidentity.Client{"other region": aEU, "other account": b} {
		if err := create(c, name); err != nil {
			t.Errorf("CreateIdentityPool in the %s: %v", name, err)
		}
	}
	if n := len(listAll(t, a, 60)); n != 3 {
		t.Errorf("account A has %d pools in us-east-1, want 3", n)
	}
	// Deleting a pool frees its place.
	if _, err := a.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(first)}); err != nil {
		t.Fatal(err)
	}
	if err := create(a, "a4"); err != nil {
		t.Fatalf("CreateIdentityPool after a delete: %v", err)
	}
	APIError(t, create(a, "a5"), "LimitExceededException", full)
}

// TestPoolQuotaConcurrent creates pools in parallel: exactly the quota
// succeeds.
func TestPoolQuotaConcurrent(t *testing.T) {
	env := Start(t, Options{MaxPools: 3})
	c := env.Client(AccountB, USEast1)
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = c.CreateIdentityPool(t.Context(), &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String(fmt.Sprintf("p%d", i))})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		APIError(t, err, "LimitExceededException", "The maximum number of identity pools (3) for this account in us-east-1 has been reached.")
	}
	if ok != 3 {
		t.Errorf("%d of %d parallel creates succeeded, want 3", ok, n)
	}
	if got := len(listAll(t, c, 60)); got != 3 {
		t.Errorf("%d pools exist, want 3", got)
	}
}

// TestConcurrentChanges runs tag changes and full updates of one pool in
// parallel: tag changes always succeed and are never lost; an update either
// succeeds or reports ConcurrentModificationException.
func TestConcurrentChanges(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	id := newPool(t, c, "busy")
	arn := aws.String(poolARN(USEast1, AccountA, id))
	const n = 10
	tagErrs := make([]error, n)
	updErrs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, tagErrs[i] = c.TagResource(t.Context(), &cognitoidentity.TagResourceInput{ResourceArn: arn, Tags: map[string]string{fmt.Sprintf("k%d", i): "v"}})
		})
		wg.Go(func() {
			_, updErrs[i] = c.UpdateIdentityPool(t.Context(), &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String(fmt.Sprintf("writer %d", i))})
		})
	}
	wg.Wait()
	want := map[string]string{}
	var names []string
	for i := range n {
		if tagErrs[i] != nil {
			t.Errorf("TagResource %d: %v", i, tagErrs[i])
		}
		want[fmt.Sprintf("k%d", i)] = "v"
		if updErrs[i] == nil {
			names = append(names, fmt.Sprintf("writer %d", i))
			continue
		}
		var ae smithy.APIError
		if errors.As(updErrs[i], &ae) && ae.ErrorCode() == "ConcurrentModificationException" {
			APIError(t, updErrs[i], "ConcurrentModificationException", "The identity pool was modified by another request at the same time. Retry the request.")
			continue
		}
		t.Errorf("UpdateIdentityPool %d: %v", i, updErrs[i])
	}
	// Every update may lose its race against a tag change; then the pool
	// keeps its name. Otherwise the last successful update's name stays.
	got := describe(t, c, id)
	wantEqual(t, "tags after parallel changes", got.Tags, want)
	switch {
	case len(names) == 0 && got.Name != "busy":
		t.Errorf("pool name %q, but no update succeeded", got.Name)
	case len(names) > 0 && !slices.Contains(names, got.Name):
		t.Errorf("pool name %q is not that of a successful update %v", got.Name, names)
	}
}
