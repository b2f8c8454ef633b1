package memory

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// identity is the stored form of a store.Identity. Committed identities are
// changed only while the write lock is held; a transaction changes a
// private copy (tx.touch).
type identity struct {
	id       string
	pool     string // shares its bytes with the pool's id
	created  int64  // Unix nanoseconds: the listing order, as the other backends keep it
	updated  int64
	disabled bool
	logins   []loginKey // sorted by compareLogins
}

// loginKey is the primary key of a login: one user of one provider in one
// pool. The identity that holds it is the value of the logins maps.
type loginKey struct {
	pool, provider, subject string
}

// compareLogins orders logins by provider, then subject (the order
// Identity.Logins documents), then pool.
func compareLogins(a, b loginKey) int {
	if c := strings.Compare(a.provider, b.provider); c != 0 {
		return c
	}
	if c := strings.Compare(a.subject, b.subject); c != 0 {
		return c
	}
	return strings.Compare(a.pool, b.pool)
}

// addLogin inserts k into the sorted list.
func addLogin(list []loginKey, k loginKey) []loginKey {
	i, _ := slices.BinarySearchFunc(list, k, compareLogins)
	return slices.Insert(list, i, k)
}

// removeLogin removes k from the sorted list, if it is there.
func removeLogin(list []loginKey, k loginKey) []loginKey {
	if i, ok := slices.BinarySearchFunc(list, k, compareLogins); ok {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		return nil
	}
	return list
}

// hasLogin reports whether the sorted list holds k.
func hasLogin(list []loginKey, k loginKey) bool {
	_, ok := slices.BinarySearchFunc(list, k, compareLogins)
	return ok
}

// cmpPosition compares r's place in its pool's listing order, creation
// time then id, with the place (ns, id).
func cmpPosition(r *identity, ns int64, id string) int {
	if c := cmp.Compare(r.created, ns); c != 0 {
		return c
	}
	return strings.Compare(r.id, id)
}

// samePlace reports whether two versions of one identity sit at the same
// place of the same pool's listing (an update, rather than a delete and a
// new insert).
func samePlace(a, b *identity) bool {
	return a.pool == b.pool && a.created == b.created
}

// export returns a new store.Identity of r, for a caller to keep.
func (r *identity) export() *store.Identity {
	out := &store.Identity{
		ID:        r.id,
		PoolID:    r.pool,
		CreatedAt: fromNanos(r.created),
		UpdatedAt: fromNanos(r.updated),
		Disabled:  r.disabled,
	}
	if len(r.logins) > 0 {
		out.Logins = make([]store.Login, len(r.logins))
		for i, k := range r.logins {
			out.Logins[i] = store.Login{PoolID: k.pool, Provider: k.provider, Subject: k.subject, IdentityID: r.id}
		}
	}
	return out
}

// clone returns a private copy of r for a transaction to change.
func (r *identity) clone() *identity {
	c := *r
	c.logins = slices.Clone(r.logins)
	return &c
}

// Times are kept as the other backends keep them: Unix nanoseconds, read
// back in UTC (which also drops a monotonic clock reading).
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func normalTime(t time.Time) time.Time { return fromNanos(nanos(t)) }

// canonicalPool returns the stored form of p: its configuration passed
// through the codec the database backends store it with, so that it reads
// back exactly as theirs does (an empty map or list of the configuration
// comes back nil), and its times normalised. The result is never handed
// out; readers get clonePool of it.
func canonicalPool(p *store.Pool) (*store.Pool, error) {
	config, err := store.MarshalPoolConfig(p)
	if err != nil {
		return nil, fmt.Errorf("memory: pool %s: %w", p.ID, err)
	}
	c := &store.Pool{
		ID:        p.ID,
		Account:   p.Account,
		Region:    p.Region,
		CreatedAt: normalTime(p.CreatedAt),
		UpdatedAt: normalTime(p.UpdatedAt),
		Version:   p.Version,
	}
	if err := store.UnmarshalPoolConfig(config, c); err != nil {
		return nil, fmt.Errorf("memory: pool %s: %w", p.ID, err)
	}
	return c, nil
}

// clonePool returns a deep copy of p: nothing in it shares memory with p,
// and nil stays nil while empty stays empty. A new field of a reference
// type in store.Pool must be copied here (TestClonePoolCopiesEveryField
// fails until it is).
func clonePool(p *store.Pool) *store.Pool {
	c := *p
	c.AllowClassicFlow = cloneBool(p.AllowClassicFlow)
	c.SupportedLoginProviders = maps.Clone(p.SupportedLoginProviders)
	c.OpenIDConnectProviderARNs = slices.Clone(p.OpenIDConnectProviderARNs)
	c.CognitoIdentityProviders = slices.Clone(p.CognitoIdentityProviders)
	for i := range c.CognitoIdentityProviders {
		c.CognitoIdentityProviders[i].ServerSideTokenCheck = cloneBool(p.CognitoIdentityProviders[i].ServerSideTokenCheck)
	}
	c.SAMLProviderARNs = slices.Clone(p.SAMLProviderARNs)
	c.Tags = maps.Clone(p.Tags)
	c.Roles = maps.Clone(p.Roles)
	if p.RoleMappings != nil {
		c.RoleMappings = make(map[string]store.RoleMapping, len(p.RoleMappings))
		for k, m := range p.RoleMappings {
			if m.RulesConfiguration != nil {
				rc := *m.RulesConfiguration
				rc.Rules = slices.Clone(rc.Rules)
				m.RulesConfiguration = &rc
			}
			c.RoleMappings[k] = m
		}
	}
	if p.PrincipalTags != nil {
		c.PrincipalTags = make(map[string]store.PrincipalTagMap, len(p.PrincipalTags))
		for k, m := range p.PrincipalTags {
			m.UseDefaults = cloneBool(m.UseDefaults)
			m.PrincipalTags = maps.Clone(m.PrincipalTags)
			c.PrincipalTags[k] = m
		}
	}
	return &c
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// comparePools orders pools by creation time, then id.
func comparePools(a, b *store.Pool) int {
	if c := cmp.Compare(nanos(a.CreatedAt), nanos(b.CreatedAt)); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// canonicalKey returns the stored form of a signing key, sharing nothing
// with k.
func canonicalKey(k *store.SigningKey) *store.SigningKey {
	return cloneKey(&store.SigningKey{ID: k.ID, Sealed: k.Sealed, CreatedAt: normalTime(k.CreatedAt), RetiresAt: k.RetiresAt})
}

// cloneKey returns a deep copy of k, with its times normalised.
func cloneKey(k *store.SigningKey) *store.SigningKey {
	c := &store.SigningKey{ID: k.ID, Sealed: slices.Clone(k.Sealed), CreatedAt: k.CreatedAt}
	if k.RetiresAt != nil {
		at := normalTime(*k.RetiresAt)
		c.RetiresAt = &at
	}
	return c
}

// compareKeys orders signing keys by creation time, then id.
func compareKeys(a, b *store.SigningKey) int {
	if c := cmp.Compare(nanos(a.CreatedAt), nanos(b.CreatedAt)); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
