package e2e

import (
	"encoding/base64"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"github.com/idpool/idpool/internal/testclock"
)

// createN creates n pools named prefix0, prefix1, … in order and returns
// their ids.
func createN(t testing.TB, c *cognitoidentity.Client, prefix string, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		out = append(out, newPool(t, c, fmt.Sprintf("%s%d", prefix, i)))
	}
	return out
}

func deletePool(t testing.TB, c *cognitoidentity.Client, id string) {
	t.Helper()
	if _, err := c.DeleteIdentityPool(t.Context(), &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteIdentityPool %s: %v", id, err)
	}
}

func listPage(t testing.TB, c *cognitoidentity.Client, max int32, token *string) *cognitoidentity.ListIdentityPoolsOutput {
	t.Helper()
	out, err := c.ListIdentityPools(t.Context(), &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(max), NextToken: token})
	if err != nil {
		t.Fatalf("ListIdentityPools: %v", err)
	}
	return out
}

func TestListIdentityPools(t *testing.T) {
	env := Start(t, Options{})
	a := env.Client(AccountA, USEast1)
	// Pools of another account and another region must never show up.
	createN(t, env.Client(AccountB, USEast1), "other-account", 3)
	createN(t, env.Client(AccountA, EUWest1), "other-region", 3)

	t.Run("no pools", func(t *testing.T) {
		out := listPage(t, a, 60, nil)
		if out.IdentityPools == nil || len(out.IdentityPools) != 0 {
			t.Errorf("IdentityPools = %#v, want present and empty", out.IdentityPools)
		}
		if out.NextToken != nil {
			t.Errorf("NextToken = %q on the only page", *out.NextToken)
		}
	})

	created := createN(t, a, "pool", 7)
	var want []types.IdentityPoolShortDescription
	for i, id := range created {
		want = append(want, types.IdentityPoolShortDescription{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String(fmt.Sprintf("pool%d", i))})
	}

	for _, size := range []int32{1, 2, 3, 6, 7, 8, 60} {
		t.Run(fmt.Sprintf("paginator, page size %d", size), func(t *testing.T) {
			p := cognitoidentity.NewListIdentityPoolsPaginator(a, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(size)})
			var got []types.IdentityPoolShortDescription
			pages := 0
			for p.HasMorePages() {
				page, err := p.NextPage(t.Context())
				if err != nil {
					t.Fatalf("page %d: %v", pages+1, err)
				}
				pages++
				if len(page.IdentityPools) > int(size) {
					t.Errorf("page %d has %d pools, more than MaxResults %d", pages, len(page.IdentityPools), size)
				}
				if page.NextToken != nil && len(page.IdentityPools) != int(size) {
					t.Errorf("page %d has %d pools and a NextToken; only the last page may be short", pages, len(page.IdentityPools))
				}
				got = append(got, page.IdentityPools...)
			}
			// Pools come in creation order, names included.
			wantEqual(t, "listed pools", got, want)
			if wantPages := (len(created) + int(size) - 1) / int(size); pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}

	t.Run("invalid NextToken", func(t *testing.T) {
		b64 := base64.RawURLEncoding.EncodeToString
		for _, tc := range []struct{ name, token string }{
			{"not base64", "garbage!!"},
			{"padded base64", base64.URLEncoding.EncodeToString([]byte("123|" + created[0]))},
			{"no separator", b64([]byte("1234567890"))},
			{"time not a number", b64([]byte("yesterday|" + created[0]))},
			{"no id", b64([]byte("1234567890|"))},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := a.ListIdentityPools(t.Context(), &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(5), NextToken: aws.String(tc.token)})
				APIError(t, err, "InvalidParameterException", "The NextToken is not valid. Use the NextToken returned by the previous call.")
			})
		}
	})
}

// checkListing checks what a listing that ran while pools were created and
// deleted returned: no pool twice, every pool that existed throughout
// exactly once, no pool that was deleted before the listing could reach it.
func checkListing(t *testing.T, listed, throughout, deletedEarly []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range listed {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("pool %s listed twice", id)
		}
	}
	for _, id := range throughout {
		if seen[id] == 0 {
			t.Errorf("pool %s existed throughout the listing but was skipped", id)
		}
	}
	for _, id := range deletedEarly {
		if seen[id] > 0 {
			t.Errorf("pool %s was listed after it was deleted", id)
		}
	}
}

func TestListIdentityPoolsWhileChanging(t *testing.T) {
	t.Run("manual paging", func(t *testing.T) {
		env := Start(t, Options{})
		c := env.Client(AccountA, USEast1)
		p := createN(t, c, "p", 10)
		var listed []string

		page := listPage(t, c, 4, nil)
		listed = append(listed, ids(page.IdentityPools)...)
		if !slices.Equal(listed, p[:4]) {
			t.Fatalf("first page %v, want %v", listed, p[:4])
		}
		// Delete the page's last pool (the position the token points
		// at), a pool already listed and one not reached yet; add one.
		deletePool(t, c, p[3])
		deletePool(t, c, p[1])
		deletePool(t, c, p[6])
		added1 := newPool(t, c, "added1")

		page = listPage(t, c, 4, page.NextToken)
		listed = append(listed, ids(page.IdentityPools)...)
		deletePool(t, c, p[4])
		added2 := newPool(t, c, "added2")
		for page.NextToken != nil {
			page = listPage(t, c, 4, page.NextToken)
			listed = append(listed, ids(page.IdentityPools)...)
		}
		checkListing(t, listed, []string{p[0], p[2], p[5], p[7], p[8], p[9]}, []string{p[6]})
		// The listing follows creation order, so pools added during it
		// come at the end.
		wantEqual(t, "listing", listed, []string{p[0], p[1], p[2], p[3], p[4], p[5], p[7], p[8], p[9], added1, added2})
	})

	t.Run("SDK paginator", func(t *testing.T) {
		env := Start(t, Options{})
		c := env.Client(AccountA, USEast1)
		p := createN(t, c, "p", 9)
		pg := cognitoidentity.NewListIdentityPoolsPaginator(c, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(2)})
		var listed, deleted, deletedEarly []string
		round := 0
		for pg.HasMorePages() {
			page, err := pg.NextPage(t.Context())
			if err != nil {
				t.Fatalf("page %d: %v", round+1, err)
			}
			listed = append(listed, ids(page.IdentityPools)...)
			// After each of the first pages: delete the last pool listed
			// (where the token points), delete a pool from the end that
			// was not reached yet, and add a pool.
			if n := len(page.IdentityPools); n > 0 && round < 3 {
				cursor := aws.ToString(page.IdentityPools[n-1].IdentityPoolId)
				deletePool(t, c, cursor)
				last := p[len(p)-1-round]
				deletePool(t, c, last)
				deleted = append(deleted, cursor, last)
				deletedEarly = append(deletedEarly, last)
				newPool(t, c, fmt.Sprintf("added%d", round))
			}
			round++
			if round > 20 {
				t.Fatal("the listing does not end")
			}
		}
		var throughout []string
		for _, id := range p {
			if !slices.Contains(deleted, id) {
				throughout = append(throughout, id)
			}
		}
		checkListing(t, listed, throughout, deletedEarly)
		if len(throughout) != 3 {
			t.Errorf("test setup: %d pools existed throughout, want 3", len(throughout))
		}
	})
	t.Run("fixed clock", func(t *testing.T) {
		// Every pool has the same creation time: the order falls back to
		// the id, and paging must still neither skip nor repeat.
		env := Start(t, Options{Clock: testclock.New(Epoch, 0)})
		c := env.Client(AccountA, USEast1)
		p := createN(t, c, "p", 12)
		var listed, deleted []string
		page := listPage(t, c, 5, nil)
		listed = append(listed, ids(page.IdentityPools)...)
		for _, id := range []string{listed[len(listed)-1], listed[0]} {
			deletePool(t, c, id)
			deleted = append(deleted, id)
		}
		createN(t, c, "added", 3)
		for page.NextToken != nil {
			page = listPage(t, c, 5, page.NextToken)
			listed = append(listed, ids(page.IdentityPools)...)
		}
		var throughout []string
		for _, id := range p {
			if !slices.Contains(deleted, id) {
				throughout = append(throughout, id)
			}
		}
		checkListing(t, listed, throughout, nil)
		sorted := slices.Sorted(slices.Values(listed[:5]))
		if !slices.Equal(listed[:5], sorted) {
			t.Errorf("first page %v is not in id order", listed[:5])
		}
	})
}
