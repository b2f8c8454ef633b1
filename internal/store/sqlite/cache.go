package sqlite

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/idpool/idpool/internal/store"
)

// readCache remembers the identities and login links that reads outside a
// transaction found, so that GetId for a known login, the credentials and
// token calls and LookupDeveloperIdentity skip SQLite (whose query, through
// database/sql and the pure-Go driver, cost a quarter of such a call).
//
// It is exact, never stale: this process is SQLite's only writer (two
// servers on one data directory are not supported), and every write
// transaction other than guest inserts advances a generation after its
// commit and before it is acknowledged. An entry is kept with the
// generation read before the query that found it and is used only while
// the generation is unchanged, so a value read before a commit can never
// be served after that commit is acknowledged. Guest inserts only add
// identities nobody has looked up, and absences are never cached, so they
// leave the cache valid.
//
// The generation is one for the whole store: any acknowledged link,
// unlink, merge, deletion or pool change empties the cache in effect.
// That is coarse, and right for the read-heavy steady state the cache is
// for; PostgreSQL, shared by replicas, has no such cache.
type readCache struct {
	gen    atomic.Uint64
	mu     sync.RWMutex
	logins map[loginKey]cachedLink
	idents map[string]cachedIdentity
}

type loginKey struct{ pool, provider, subject string }

type cachedLink struct {
	identityID string
	gen        uint64
}

type cachedIdentity struct {
	ident *store.Identity // never changed once cached; callers get copies
	gen   uint64
}

// maxCachedEntries bounds each map: a full map is emptied and refilled
// (about 200 bytes an entry, so 64k entries are some 13 MiB).
const maxCachedEntries = 1 << 16

func newReadCache() *readCache {
	return &readCache{logins: map[loginKey]cachedLink{}, idents: map[string]cachedIdentity{}}
}

// invalidate makes every entry cached so far unusable. The writer calls it
// after a commit that may have changed identities or links, before it
// acknowledges the commit.
func (c *readCache) invalidate() { c.gen.Add(1) }

func (c *readCache) link(k loginKey, gen uint64) (string, bool) {
	c.mu.RLock()
	e, ok := c.logins[k]
	c.mu.RUnlock()
	return e.identityID, ok && e.gen == gen
}

func (c *readCache) putLink(k loginKey, identityID string, gen uint64) {
	c.mu.Lock()
	if len(c.logins) >= maxCachedEntries {
		clear(c.logins)
	}
	c.logins[k] = cachedLink{identityID, gen}
	c.mu.Unlock()
}

func (c *readCache) identity(id string, gen uint64) (*store.Identity, bool) {
	c.mu.RLock()
	e, ok := c.idents[id]
	c.mu.RUnlock()
	if !ok || e.gen != gen {
		return nil, false
	}
	return cloneIdentity(e.ident), true
}

func (c *readCache) putIdentity(ident *store.Identity, gen uint64) {
	ident = cloneIdentity(ident)
	c.mu.Lock()
	if len(c.idents) >= maxCachedEntries {
		clear(c.idents)
	}
	c.idents[ident.ID] = cachedIdentity{ident, gen}
	c.mu.Unlock()
}

func cloneIdentity(id *store.Identity) *store.Identity {
	c := *id
	c.Logins = slices.Clone(id.Logins)
	return &c
}

// GetIdentity implements store.Reader outside a transaction.
func (s *Store) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	gen := s.cache.gen.Load()
	if ident, ok := s.cache.identity(id, gen); ok {
		return ident, nil
	}
	ident, err := reader{s.rq}.GetIdentity(ctx, id)
	if err == nil {
		s.cache.putIdentity(ident, gen)
	}
	return ident, err
}

// FindLogin implements store.Reader outside a transaction.
func (s *Store) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	k := loginKey{poolID, provider, subject}
	gen := s.cache.gen.Load()
	if id, ok := s.cache.link(k, gen); ok {
		return id, nil
	}
	id, err := reader{s.rq}.FindLogin(ctx, poolID, provider, subject)
	if err == nil {
		s.cache.putLink(k, id, gen)
	}
	return id, err
}
