package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/idpool/idpool/internal/store"
)

// ErrClosed is returned by every call after Close.
var ErrClosed = errors.New("memory: store is closed")

// Store is the in-memory backend. The zero value is not usable; call New.
type Store struct {
	// writer holds one token, taken by the one Update (or CreateIdentity,
	// or Close) running: writes are serialized, and a transaction reads
	// the committed state without locking since nobody else changes it.
	writer chan struct{}

	// mu guards st and closed against the writer's apply: readers outside
	// a transaction hold it for reading while they copy records out.
	mu     sync.RWMutex
	st     state
	closed bool
}

// state is the committed state.
type state struct {
	pools  map[string]*store.Pool // canonical records (canonicalPool)
	idents map[string]*identity
	byPool map[string]*index // a pool's identities in listing order; absent when it has none
	logins map[loginKey]string
	keys   map[string]*store.SigningKey
}

var _ store.Store = (*Store)(nil)

// New returns a new, empty store.
func New() *Store {
	return &Store{
		writer: make(chan struct{}, 1),
		st: state{
			pools:  map[string]*store.Pool{},
			idents: map[string]*identity{},
			byPool: map[string]*index{},
			logins: map[loginKey]string{},
			keys:   map[string]*store.SigningKey{},
		},
	}
}

// addIdentity adds a new identity to the committed state (its logins are
// added by the caller).
func (st *state) addIdentity(r *identity) {
	st.idents[r.id] = r
	x := st.byPool[r.pool]
	if x == nil {
		x = &index{}
		st.byPool[r.pool] = x
	}
	x.insert(r)
}

// removeIdentity removes an identity and the logins it holds from the
// committed state.
func (st *state) removeIdentity(r *identity) {
	delete(st.idents, r.id)
	if x := st.byPool[r.pool]; x != nil {
		x.remove(r)
		if x.n == 0 {
			delete(st.byPool, r.pool)
		}
	}
	st.unlinkAll(r)
}

// dropIdentities removes every identity of a pool, and their logins, from
// the committed state.
func (st *state) dropIdentities(pool string) {
	x := st.byPool[pool]
	if x == nil {
		return
	}
	for r := range x.ascend(nil) {
		delete(st.idents, r.id)
		st.unlinkAll(r)
	}
	delete(st.byPool, pool)
}

func (st *state) unlinkAll(r *identity) {
	for _, k := range r.logins {
		if st.logins[k] == r.id {
			delete(st.logins, k)
		}
	}
}

// acquire takes the writer token, or gives up when ctx ends first.
func (s *Store) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) release() { <-s.writer }

// Update implements store.Store. fn runs exactly once, after every Update
// that came before it has committed; its changes become visible to
// readers all at once when it returns nil, and are dropped when it
// returns an error or panics. Waiting for the writer token ends with
// ctx.
//
// fn may read through the Store itself (it sees the committed state, not
// the transaction's changes), but must not call Update or CreateIdentity:
// they would wait for the token fn's Update holds.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	// closed changes only while the token is held: no lock needed.
	if s.closed {
		return ErrClosed
	}
	t := &tx{st: &s.st}
	if err := fn(t); err != nil {
		return err
	}
	s.mu.Lock()
	t.apply()
	s.mu.Unlock()
	for _, f := range t.committed {
		f()
	}
	return nil
}

// CreateIdentity implements store.Store: an Update that only inserts the
// identity (memory has no commit cost worth batching).
func (s *Store) CreateIdentity(ctx context.Context, id *store.Identity) error {
	return s.Update(ctx, func(tx store.Tx) error { return tx.InsertIdentity(ctx, id) })
}

// Ping implements store.Store: nil until the store is closed.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: memory: %w", store.ErrUnavailable, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, ErrClosed)
	}
	return nil
}

// Close implements store.Store: it waits for the running Update and the
// reads in flight, then drops the state; every later call gets ErrClosed
// (Ping: ErrUnavailable). It is safe to call more than once.
func (s *Store) Close() error {
	s.writer <- struct{}{}
	defer s.release()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.st = state{}
	return nil
}

// read runs f on the committed state under the read lock.
func read[T any](s *Store, ctx context.Context, f func(t *tx) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return zero, ErrClosed
	}
	return f(&tx{st: &s.st})
}

// GetPool implements store.Reader outside a transaction.
func (s *Store) GetPool(ctx context.Context, id string) (*store.Pool, error) {
	return read(s, ctx, func(t *tx) (*store.Pool, error) { return t.GetPool(ctx, id) })
}

// ListPools implements store.Reader outside a transaction.
func (s *Store) ListPools(ctx context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	return read(s, ctx, func(t *tx) ([]*store.Pool, error) { return t.ListPools(ctx, account, region, after, limit) })
}

// CountPools implements store.Reader outside a transaction.
func (s *Store) CountPools(ctx context.Context, account, region string) (int, error) {
	return read(s, ctx, func(t *tx) (int, error) { return t.CountPools(ctx, account, region) })
}

// GetIdentity implements store.Reader outside a transaction.
func (s *Store) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	return read(s, ctx, func(t *tx) (*store.Identity, error) { return t.GetIdentity(ctx, id) })
}

// ListIdentities implements store.Reader outside a transaction.
func (s *Store) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	return read(s, ctx, func(t *tx) ([]*store.Identity, error) {
		return t.ListIdentities(ctx, poolID, after, limit, hideDisabled)
	})
}

// FindLogin implements store.Reader outside a transaction.
func (s *Store) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	return read(s, ctx, func(t *tx) (string, error) { return t.FindLogin(ctx, poolID, provider, subject) })
}

// ListSigningKeys implements store.Reader outside a transaction.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	return read(s, ctx, func(t *tx) ([]*store.SigningKey, error) { return t.ListSigningKeys(ctx) })
}
