package cognito

import (
	"context"
	"sync"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// poolCache keeps recently read pools for the public operations (GetId,
// GetOpenIdToken, GetCredentialsForIdentity, UnlinkIdentity), which read
// their pool on every call while pools change rarely. A change made through
// this server drops the entry at once; a change made through another
// replica is seen within poolCacheTTL. The developer operations read the
// store (so an administrator reads what they just wrote on any replica),
// unless the store is private to this server (readPool).
type poolCache struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cachedPool
	// gen counts forgetAll calls: a read that started before one is not
	// cached, so that a pool deleted by a reset is not put back by a
	// request that read it just before.
	gen uint64
}

type cachedPool struct {
	pool    *store.Pool
	fetched time.Time
}

// poolCacheTTL bounds how stale a public operation's view of a pool changed
// on another replica can be.
const poolCacheTTL = time.Second

// maxCachedPools bounds the cache's memory; past it the cache starts over.
const maxCachedPools = 10000

func newPoolCache(now func() time.Time) *poolCache {
	return &poolCache{now: now, m: map[string]cachedPool{}}
}

// get returns the pool, from the cache when fresh. Callers must not modify
// the returned pool.
func (c *poolCache) get(ctx context.Context, r store.Reader, id string) (*store.Pool, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < poolCacheTTL && !now.Before(e.fetched) {
		return e.pool, nil
	}
	p, err := r.GetPool(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedPools {
		clear(c.m)
	}
	if c.gen == gen {
		c.m[id] = cachedPool{pool: p, fetched: now}
	}
	c.mu.Unlock()
	return p, nil
}

// forget drops a pool after this server changed or deleted it.
func (c *poolCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// forgetAll drops every pool, after this server deleted them all.
func (c *poolCache) forgetAll() {
	c.mu.Lock()
	clear(c.m)
	c.gen++
	c.mu.Unlock()
}
