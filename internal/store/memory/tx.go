package memory

import (
	"context"
	"slices"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// tx is a transaction of Update: the changes it has made so far, over the
// committed state it was started on. Its reads look at its own changes
// first, then at the committed state. The committed state does not change
// while a transaction runs (only the one writer applies changes).
//
// A tx with no changes (all maps nil) reads the committed state as it is:
// the Store's own reads use one, under the read lock.
//
// The maps hold only private records, never committed ones, so that a
// transaction that is dropped leaves no trace.
type tx struct {
	st *state

	pools map[string]*store.Pool // canonical; nil value: deleted
	// dropped are the pools deleted by the transaction: none of their
	// committed identities (and so of their committed logins) are visible
	// to it any more, even if it created the pool again.
	dropped map[string]bool
	idents  map[string]*identity // nil value: deleted
	logins  map[loginKey]string  // the holder's id; "": unlinked
	keys    map[string]*store.SigningKey

	// committed are the changes to the caller's records (a pool's new
	// version) that take effect once the transaction commits.
	committed []func()
}

var _ store.Tx = (*tx)(nil)

// pool returns the canonical pool the transaction sees, or nil.
func (t *tx) pool(id string) *store.Pool {
	if p, ok := t.pools[id]; ok {
		return p
	}
	return t.st.pools[id]
}

// identity returns the identity the transaction sees, or nil. A committed
// identity is hidden by the transaction's own version or tombstone, and by
// the deletion of its pool.
func (t *tx) identity(id string) *identity {
	if r, ok := t.idents[id]; ok {
		return r
	}
	r := t.st.idents[id]
	if r == nil || t.dropped[r.pool] {
		return nil
	}
	return r
}

// holder returns the id of the identity that holds the login in the
// transaction's view, or "". A committed link counts only while the
// identity it names, as the transaction sees it, still lists the login:
// that hides the logins of identities gone with their pool, even when an
// identity of the same id was created again.
func (t *tx) holder(k loginKey) string {
	if id, ok := t.logins[k]; ok {
		return id
	}
	id := t.st.logins[k]
	if id == "" {
		return ""
	}
	if r := t.identity(id); r == nil || !hasLogin(r.logins, k) {
		return ""
	}
	return id
}

// key returns the signing key the transaction sees, or nil.
func (t *tx) key(id string) *store.SigningKey {
	if k, ok := t.keys[id]; ok {
		return k
	}
	return t.st.keys[id]
}

// touch returns the transaction's private version of a visible identity,
// copying the committed one on first write.
func (t *tx) touch(r *identity) *identity {
	if o, ok := t.idents[r.id]; ok && o != nil {
		return o
	}
	c := r.clone()
	t.setIdentity(c.id, c)
	return c
}

func (t *tx) setIdentity(id string, r *identity) {
	if t.idents == nil {
		t.idents = map[string]*identity{}
	}
	t.idents[id] = r
}

func (t *tx) setLogin(k loginKey, holder string) {
	if t.logins == nil {
		t.logins = map[loginKey]string{}
	}
	t.logins[k] = holder
}

// inPlace reports whether the transaction's version r of an identity sits
// where the committed one does (so that listing the committed index finds
// it).
func (t *tx) inPlace(r *identity) bool {
	old := t.st.idents[r.id]
	return old != nil && !t.dropped[old.pool] && samePlace(old, r)
}

// GetPool implements store.Reader.
func (t *tx) GetPool(_ context.Context, id string) (*store.Pool, error) {
	p := t.pool(id)
	if p == nil {
		return nil, store.ErrNotFound
	}
	return clonePool(p), nil
}

// ListPools implements store.Reader. Pools are few: it filters and sorts
// them all.
func (t *tx) ListPools(_ context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	if limit <= 0 {
		return nil, nil
	}
	var afterPool *store.Pool
	if after != nil {
		afterPool = &store.Pool{ID: after.ID, CreatedAt: after.CreatedAt}
	}
	var match []*store.Pool
	t.eachPool(func(p *store.Pool) {
		if (account == "" || p.Account == account) && (region == "" || p.Region == region) &&
			(afterPool == nil || comparePools(p, afterPool) > 0) {
			match = append(match, p)
		}
	})
	slices.SortFunc(match, comparePools)
	out := make([]*store.Pool, 0, min(limit, len(match)))
	for _, p := range match[:min(limit, len(match))] {
		out = append(out, clonePool(p))
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// eachPool calls f with every pool the transaction sees, in no order.
func (t *tx) eachPool(f func(p *store.Pool)) {
	for id, p := range t.st.pools {
		if _, ok := t.pools[id]; !ok {
			f(p)
		}
	}
	for _, p := range t.pools {
		if p != nil {
			f(p)
		}
	}
}

// CountPools implements store.Reader.
func (t *tx) CountPools(_ context.Context, account, region string) (int, error) {
	n := 0
	t.eachPool(func(p *store.Pool) {
		if p.Account == account && p.Region == region {
			n++
		}
	})
	return n, nil
}

// GetIdentity implements store.Reader.
func (t *tx) GetIdentity(_ context.Context, id string) (*store.Identity, error) {
	r := t.identity(id)
	if r == nil {
		return nil, store.ErrNotFound
	}
	return r.export(), nil
}

// ListIdentities implements store.Reader: it walks the pool's committed
// index from the cursor, merged with the identities of the pool that the
// transaction created or moved (few, sorted here), and stops at limit.
func (t *tx) ListIdentities(_ context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	if limit <= 0 {
		return nil, nil
	}
	var afterNS int64
	var afterID string
	if after != nil {
		afterNS, afterID = nanos(after.CreatedAt), after.ID
	}
	var pending []*identity
	for _, r := range t.idents {
		if r == nil || r.pool != poolID || (after != nil && cmpPosition(r, afterNS, afterID) <= 0) || t.inPlace(r) {
			continue
		}
		pending = append(pending, r)
	}
	slices.SortFunc(pending, func(a, b *identity) int { return cmpPosition(a, b.created, b.id) })

	var out []*store.Identity
	// emit adds r to the page; it reports whether the page wants more.
	emit := func(r *identity) bool {
		if !hideDisabled || !r.disabled {
			out = append(out, r.export())
		}
		return len(out) < limit
	}
	if x := t.st.byPool[poolID]; x != nil && !t.dropped[poolID] {
		for r := range x.ascend(after) {
			if o, ok := t.idents[r.id]; ok {
				if o == nil || !samePlace(o, r) {
					continue // deleted, or listed from pending
				}
				r = o
			}
			for len(pending) > 0 && cmpPosition(pending[0], r.created, r.id) < 0 {
				if !emit(pending[0]) {
					return out, nil
				}
				pending = pending[1:]
			}
			if !emit(r) {
				return out, nil
			}
		}
	}
	for _, r := range pending {
		if !emit(r) {
			break
		}
	}
	return out, nil
}

// FindLogin implements store.Reader.
func (t *tx) FindLogin(_ context.Context, poolID, provider, subject string) (string, error) {
	if id := t.holder(loginKey{poolID, provider, subject}); id != "" {
		return id, nil
	}
	return "", store.ErrNotFound
}

// ListSigningKeys implements store.Reader.
func (t *tx) ListSigningKeys(context.Context) ([]*store.SigningKey, error) {
	var out []*store.SigningKey
	for id, k := range t.st.keys {
		if _, ok := t.keys[id]; !ok {
			out = append(out, cloneKey(k))
		}
	}
	for _, k := range t.keys {
		if k != nil {
			out = append(out, cloneKey(k))
		}
	}
	slices.SortFunc(out, compareKeys)
	return out, nil
}

// InsertPool implements store.Tx.
func (t *tx) InsertPool(_ context.Context, p *store.Pool) error {
	if t.pool(p.ID) != nil {
		return store.ErrExists
	}
	c, err := canonicalPool(p)
	if err != nil {
		return err
	}
	c.Version = 1
	if t.pools == nil {
		t.pools = map[string]*store.Pool{}
	}
	t.pools[c.ID] = c
	p.Version = 1
	return nil
}

// UpdatePool implements store.Tx. As in the database backends it replaces
// the configuration and UpdatedAt; the id, owner, region and CreatedAt
// stay those stored.
func (t *tx) UpdatePool(_ context.Context, p *store.Pool) error {
	cur := t.pool(p.ID)
	if cur == nil {
		return store.ErrNotFound
	}
	if cur.Version != p.Version {
		return store.ErrConflict
	}
	c, err := canonicalPool(p)
	if err != nil {
		return err
	}
	c.ID, c.Account, c.Region, c.CreatedAt = cur.ID, cur.Account, cur.Region, cur.CreatedAt
	c.Version = cur.Version + 1
	if t.pools == nil {
		t.pools = map[string]*store.Pool{}
	}
	t.pools[c.ID] = c
	// Only once committed: a caller that retries must still hold the
	// version it read.
	next := c.Version
	t.committed = append(t.committed, func() { p.Version = next })
	return nil
}

// DeletePool implements store.Tx: the pool's identities and their logins
// go with it.
func (t *tx) DeletePool(_ context.Context, id string) error {
	if t.pool(id) == nil {
		return store.ErrNotFound
	}
	if t.pools == nil {
		t.pools = map[string]*store.Pool{}
	}
	t.pools[id] = nil
	if t.dropped == nil {
		t.dropped = map[string]bool{}
	}
	t.dropped[id] = true
	// The committed identities are hidden by dropped; those the
	// transaction itself wrote are deleted one by one.
	for iid, r := range t.idents {
		if r != nil && r.pool == id {
			for _, k := range r.logins {
				t.setLogin(k, "")
			}
			t.idents[iid] = nil
		}
	}
	return nil
}

// InsertIdentity implements store.Tx. It checks everything before it
// changes anything, so a failed insert leaves the transaction as it was.
func (t *tx) InsertIdentity(_ context.Context, in *store.Identity) error {
	if t.identity(in.ID) != nil {
		return store.ErrExists
	}
	p := t.pool(in.PoolID)
	if p == nil {
		return store.ErrNotFound
	}
	r := &identity{
		id:       in.ID,
		pool:     p.ID,
		created:  nanos(in.CreatedAt),
		updated:  nanos(in.UpdatedAt),
		disabled: in.Disabled,
	}
	for _, l := range in.Logins {
		k := loginKey{l.PoolID, l.Provider, l.Subject}
		if t.holder(k) != "" || hasLogin(r.logins, k) {
			return store.ErrExists
		}
		r.logins = addLogin(r.logins, k)
	}
	t.setIdentity(r.id, r)
	for _, k := range r.logins {
		t.setLogin(k, r.id)
	}
	return nil
}

// UpdateIdentity implements store.Tx: Disabled and UpdatedAt only.
func (t *tx) UpdateIdentity(_ context.Context, in *store.Identity) error {
	r := t.identity(in.ID)
	if r == nil {
		return store.ErrNotFound
	}
	c := t.touch(r)
	c.disabled = in.Disabled
	c.updated = nanos(in.UpdatedAt)
	return nil
}

// DeleteIdentity implements store.Tx.
func (t *tx) DeleteIdentity(_ context.Context, id string) error {
	r := t.identity(id)
	if r == nil {
		return store.ErrNotFound
	}
	for _, k := range r.logins {
		t.setLogin(k, "")
	}
	t.setIdentity(id, nil)
	return nil
}

// LinkLogin implements store.Tx. As in the database backends, the login's
// pool is not checked against the identity's.
func (t *tx) LinkLogin(_ context.Context, l store.Login) error {
	k := loginKey{l.PoolID, l.Provider, l.Subject}
	if t.holder(k) != "" {
		return store.ErrExists
	}
	r := t.identity(l.IdentityID)
	if r == nil {
		return store.ErrNotFound
	}
	c := t.touch(r)
	c.logins = addLogin(c.logins, k)
	t.setLogin(k, c.id)
	return nil
}

// RelinkLogin implements store.Tx.
func (t *tx) RelinkLogin(_ context.Context, l store.Login) error {
	k := loginKey{l.PoolID, l.Provider, l.Subject}
	from := t.holder(k)
	if from == "" {
		return store.ErrNotFound
	}
	to := t.identity(l.IdentityID)
	if to == nil {
		return store.ErrNotFound
	}
	if from == to.id {
		return nil
	}
	old := t.touch(t.identity(from))
	old.logins = removeLogin(old.logins, k)
	c := t.touch(to)
	c.logins = addLogin(c.logins, k)
	t.setLogin(k, c.id)
	return nil
}

// UnlinkLogin implements store.Tx.
func (t *tx) UnlinkLogin(_ context.Context, poolID, provider, subject string) error {
	k := loginKey{poolID, provider, subject}
	from := t.holder(k)
	if from == "" {
		return store.ErrNotFound
	}
	c := t.touch(t.identity(from))
	c.logins = removeLogin(c.logins, k)
	t.setLogin(k, "")
	return nil
}

func (t *tx) setKey(id string, k *store.SigningKey) {
	if t.keys == nil {
		t.keys = map[string]*store.SigningKey{}
	}
	t.keys[id] = k
}

// InsertSigningKey implements store.Tx.
func (t *tx) InsertSigningKey(_ context.Context, k *store.SigningKey) error {
	if t.key(k.ID) != nil {
		return store.ErrExists
	}
	t.setKey(k.ID, canonicalKey(k))
	return nil
}

// RetireSigningKey implements store.Tx: a compare-and-swap on RetiresAt
// being unset.
func (t *tx) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	k := t.key(id)
	if k == nil {
		return store.ErrNotFound
	}
	if k.RetiresAt != nil {
		return store.ErrConflict
	}
	t.setKey(id, canonicalKey(&store.SigningKey{ID: k.ID, Sealed: k.Sealed, CreatedAt: k.CreatedAt, RetiresAt: &at}))
	return nil
}

// DeleteSigningKey implements store.Tx.
func (t *tx) DeleteSigningKey(_ context.Context, id string) error {
	if t.key(id) == nil {
		return store.ErrNotFound
	}
	t.setKey(id, nil)
	return nil
}

// apply makes the transaction's changes the committed state. The caller
// holds the write lock.
func (t *tx) apply() {
	st := t.st
	for id := range t.dropped {
		st.dropIdentities(id)
	}
	for id, p := range t.pools {
		if p == nil {
			delete(st.pools, id)
		} else {
			st.pools[id] = p
		}
	}
	for id, r := range t.idents {
		old := st.idents[id]
		switch {
		case r == nil:
			if old != nil {
				st.removeIdentity(old)
			}
		case old != nil && samePlace(old, r):
			// In place: the pool's index holds old.
			*old = *r
		default:
			if old != nil {
				st.removeIdentity(old)
			}
			st.addIdentity(r)
		}
	}
	// After the identities: a login that moved to a re-created identity
	// was removed with the old one above.
	for k, id := range t.logins {
		if id == "" {
			delete(st.logins, k)
		} else {
			st.logins[k] = id
		}
	}
	for id, k := range t.keys {
		if k == nil {
			delete(st.keys, id)
		} else {
			st.keys[id] = k
		}
	}
}
