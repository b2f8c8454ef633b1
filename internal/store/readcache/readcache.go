// Package readcache keeps the identities and login links that a store's
// reads outside a transaction found, so that the hot public calls (GetId of
// a known login, the credentials and token calls, LookupDeveloperIdentity)
// can skip the database. Both backends use it; what makes it exact differs:
//
//   - Generations, for the writes of this process. Every write that may
//     change an identity or a link advances a generation after its commit
//     and before it is acknowledged. An entry is kept with the generation
//     read before the query that found it, and is used only while the
//     generation is unchanged: a value read before a commit is never
//     served after that commit is acknowledged. That is the whole story for
//     the embedded SQLite store, whose process is the database's only
//     writer (TTL 0: entries never expire).
//   - A time to live and a commit wait, for stores that several processes
//     write (PostgreSQL replicas). An entry is used for at most TTL after
//     the moment its query was sent, and a replica acknowledges a write
//     that may change identities or links only once TTL has passed since
//     its commit returned. An entry that any replica, this one included,
//     read before the commit took effect had its query sent before then,
//     so it has expired when the write is acknowledged; an entry read
//     after is fresh. (Durations are measured with each process's
//     monotonic clock; clocks that run at the same rate are all this
//     needs.) The price is the wait: such writes (a login linked to an
//     existing identity, merges, unlinks, deletions) take TTL longer.
//
// Guest inserts only add identities nobody has looked up, and absences are
// never cached, so they change nothing here.
package readcache

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// Cache is safe for concurrent use.
type Cache struct {
	ttl time.Duration
	now func() time.Time

	gen    atomic.Uint64
	mu     sync.RWMutex
	logins map[LoginKey]link
	idents map[string]identity
}

// LoginKey names one login.
type LoginKey struct{ Pool, Provider, Subject string }

type link struct {
	identityID string
	mark       Mark
}

type identity struct {
	ident *store.Identity // never changed once cached; callers get copies
	mark  Mark
}

// Mark is what a read notes before its query: the generation and the time.
type Mark struct {
	gen uint64
	at  time.Time
}

// MaxEntries bounds each map: a full map is emptied and refilled (about
// 200 bytes an entry, so 64k entries are some 13 MiB).
const MaxEntries = 1 << 16

// New returns a cache whose entries live ttl (0: until a generation
// changes). now is the clock (nil: time.Now, whose readings carry the
// monotonic clock).
func New(ttl time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{ttl: ttl, now: now, logins: map[LoginKey]link{}, idents: map[string]identity{}}
}

// TTL is how long entries live (0: until invalidated).
func (c *Cache) TTL() time.Duration { return c.ttl }

// Mark must be taken before the query whose results are put.
func (c *Cache) Mark() Mark {
	m := Mark{gen: c.gen.Load()}
	if c.ttl > 0 {
		m.at = c.now()
	}
	return m
}

// Invalidate makes every entry cached so far unusable. A writer calls it
// after a commit that may have changed identities or links, before the
// commit is acknowledged.
func (c *Cache) Invalidate() { c.gen.Add(1) }

// Generation is the current generation (for tests).
func (c *Cache) Generation() uint64 { return c.gen.Load() }

// usable reports whether an entry of mark m may be served now.
func (c *Cache) usable(m Mark) bool {
	if m.gen != c.gen.Load() {
		return false
	}
	return c.ttl == 0 || c.now().Sub(m.at) < c.ttl
}

// Link returns the identity a login is linked to, if cached.
func (c *Cache) Link(k LoginKey) (string, bool) {
	c.mu.RLock()
	e, ok := c.logins[k]
	c.mu.RUnlock()
	if !ok || !c.usable(e.mark) {
		return "", false
	}
	return e.identityID, true
}

// PutLink caches a login's identity, read by a query that began at m.
func (c *Cache) PutLink(m Mark, k LoginKey, identityID string) {
	c.mu.Lock()
	c.putLink(m, k, identityID)
	c.mu.Unlock()
}

func (c *Cache) putLink(m Mark, k LoginKey, identityID string) {
	if len(c.logins) >= MaxEntries {
		clear(c.logins)
	}
	c.logins[k] = link{identityID, m}
}

// Identity returns a copy of a cached identity.
func (c *Cache) Identity(id string) (*store.Identity, bool) {
	c.mu.RLock()
	e, ok := c.idents[id]
	c.mu.RUnlock()
	if !ok || !c.usable(e.mark) {
		return nil, false
	}
	return clone(e.ident), true
}

// PutIdentity caches an identity, and the links of its logins, read by a
// query that began at m.
func (c *Cache) PutIdentity(m Mark, ident *store.Identity) {
	ident = clone(ident)
	c.mu.Lock()
	if len(c.idents) >= MaxEntries {
		clear(c.idents)
	}
	c.idents[ident.ID] = identity{ident, m}
	for _, l := range ident.Logins {
		c.putLink(m, LoginKey{l.PoolID, l.Provider, l.Subject}, ident.ID)
	}
	c.mu.Unlock()
}

func clone(id *store.Identity) *store.Identity {
	c := *id
	c.Logins = slices.Clone(id.Logins)
	return &c
}
