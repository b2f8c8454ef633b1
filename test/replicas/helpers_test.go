package replicas

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/smithy-go"
	jose "github.com/go-jose/go-jose/v4"
)

// createPool creates a pool through replica i and returns its id.
func (c *cluster) createPool(t *testing.T, i int, in *cognitoidentity.CreateIdentityPoolInput) string {
	t.Helper()
	out, err := c.admin(i).CreateIdentityPool(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateIdentityPool: %v", err)
	}
	return aws.ToString(out.IdentityPoolId)
}

// setRoles sets a pool's default roles through replica i.
func (c *cluster) setRoles(t *testing.T, i int, pool string, roles map[string]string) {
	t.Helper()
	_, err := c.admin(i).SetIdentityPoolRoles(t.Context(), &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(pool), Roles: roles})
	if err != nil {
		t.Fatalf("SetIdentityPoolRoles: %v", err)
	}
}

// listIdentities pages through every identity of a pool on replica i.
func (c *cluster) listIdentities(t *testing.T, i int, pool string, hideDisabled bool) []types.IdentityDescription {
	t.Helper()
	var all []types.IdentityDescription
	var next *string
	for {
		out, err := c.admin(i).ListIdentities(t.Context(), &cognitoidentity.ListIdentitiesInput{
			IdentityPoolId: aws.String(pool), MaxResults: aws.Int32(60), NextToken: next, HideDisabled: hideDisabled,
		})
		if err != nil {
			t.Fatalf("ListIdentities on %s: %v", c.replicas[i].name, err)
		}
		all = append(all, out.Identities...)
		if out.NextToken == nil {
			return all
		}
		next = out.NextToken
	}
}

// byID maps identity descriptions by id, failing on a duplicate.
func byID(t *testing.T, where string, ids []types.IdentityDescription) map[string][]string {
	t.Helper()
	m := make(map[string][]string, len(ids))
	for _, d := range ids {
		id := aws.ToString(d.IdentityId)
		if _, dup := m[id]; dup {
			t.Errorf("%s lists identity %s twice", where, id)
		}
		m[id] = slices.Sorted(slices.Values(d.Logins))
	}
	return m
}

// kids returns the key ids of replica i's JWKS, in its order.
func (c *cluster) kids(t *testing.T, i int) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(c.get(t, i, "/.well-known/jwks.json"), &set); err != nil {
		t.Fatalf("JWKS of %s: %v", c.replicas[i].name, err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.KeyID)
	}
	return ids
}

// errorCode is the API error code of err, or its text if it is no API
// error (a transport failure).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

// errorTally counts errors by code, keeping the first of each.
type errorTally struct {
	mu    sync.Mutex
	count map[string]int
	first map[string]error
}

func (e *errorTally) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.count == nil {
		e.count, e.first = map[string]int{}, map[string]error{}
	}
	code := errorCode(err)
	if e.count[code] == 0 {
		e.first[code] = err
	}
	e.count[code]++
}

func (e *errorTally) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := ""
	for code, n := range e.count {
		s += fmt.Sprintf("\n  %d x %v", n, e.first[code])
	}
	return s
}

func (e *errorTally) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.count {
		n += c
	}
	return n
}

// hostRewriter sends every request for the issuer's host to one replica
// instead, counting the paths it served: a verifier that knows only the
// issuer URL, served by that replica.
type hostRewriter struct {
	host string
	base http.RoundTripper

	mu   sync.Mutex
	hits map[string]int
}

func (h *hostRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "idpool.test" {
		r = r.Clone(r.Context())
		r.URL.Host = h.host
		r.Host = h.host
		h.mu.Lock()
		if h.hits == nil {
			h.hits = map[string]int{}
		}
		h.hits[r.URL.Path]++
		h.mu.Unlock()
	}
	return h.base.RoundTrip(r)
}

func (h *hostRewriter) served(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}
