package sqlite

import (
	"context"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/readcache"
)

// The reads outside a transaction of identities and login links go through
// an exact cache (internal/store/readcache). It needs no time to live: this
// process is SQLite's only writer (two servers on one data directory are
// not supported), and every write transaction other than guest inserts
// advances the cache's generation after its commit and before it is
// acknowledged. The generation is one for the whole store: any
// acknowledged link, unlink, merge, deletion or pool change empties the
// cache in effect. That is coarse, and right for the read-heavy steady
// state the cache is for.

// GetIdentity implements store.Reader outside a transaction.
func (s *Store) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	if ident, ok := s.cache.Identity(id); ok {
		return ident, nil
	}
	m := s.cache.Mark()
	ident, err := reader{s.rq}.GetIdentity(ctx, id)
	if err == nil {
		s.cache.PutIdentity(m, ident)
	}
	return ident, err
}

// FindLogin implements store.Reader outside a transaction.
func (s *Store) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	k := readcache.LoginKey{Pool: poolID, Provider: provider, Subject: subject}
	if id, ok := s.cache.Link(k); ok {
		return id, nil
	}
	m := s.cache.Mark()
	id, err := reader{s.rq}.FindLogin(ctx, poolID, provider, subject)
	if err == nil {
		s.cache.PutLink(m, k, id)
	}
	return id, err
}
