package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idpool/idpool/internal/store"
)

// Store returns st with the duration of every call observed in
// idpool_store_call_duration_seconds. Everything else is st's own: each
// call is passed on unchanged, its results and errors returned as they
// are, and the function given to Update runs on st's transaction itself.
// Close is passed on and not timed.
//
// Durations are read from the monotonic clock, not from an injected one:
// they measure real work, and reading a test's stepping clock would move
// the times that tests observe.
func (m *Metrics) Store(st store.Store) store.Store {
	method := func(name string) prometheus.Observer { return m.storeCalls.WithLabelValues(name) }
	return &timedStore{
		next:            st,
		getPool:         method("GetPool"),
		listPools:       method("ListPools"),
		countPools:      method("CountPools"),
		getIdentity:     method("GetIdentity"),
		listIdentities:  method("ListIdentities"),
		findLogin:       method("FindLogin"),
		listSigningKeys: method("ListSigningKeys"),
		update:          method("Update"),
		createIdentity:  method("CreateIdentity"),
		ping:            method("Ping"),
	}
}

// timedStore is the decorator Store returns.
type timedStore struct {
	next store.Store

	getPool, listPools, countPools                prometheus.Observer
	getIdentity, listIdentities, findLogin        prometheus.Observer
	listSigningKeys, update, createIdentity, ping prometheus.Observer
}

var _ store.Store = (*timedStore)(nil)

// since observes the time elapsed since start.
func since(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

func (s *timedStore) GetPool(ctx context.Context, id string) (*store.Pool, error) {
	defer since(s.getPool, time.Now())
	return s.next.GetPool(ctx, id)
}

func (s *timedStore) ListPools(ctx context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	defer since(s.listPools, time.Now())
	return s.next.ListPools(ctx, account, region, after, limit)
}

func (s *timedStore) CountPools(ctx context.Context, account, region string) (int, error) {
	defer since(s.countPools, time.Now())
	return s.next.CountPools(ctx, account, region)
}

func (s *timedStore) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	defer since(s.getIdentity, time.Now())
	return s.next.GetIdentity(ctx, id)
}

func (s *timedStore) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	defer since(s.listIdentities, time.Now())
	return s.next.ListIdentities(ctx, poolID, after, limit, hideDisabled)
}

func (s *timedStore) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	defer since(s.findLogin, time.Now())
	return s.next.FindLogin(ctx, poolID, provider, subject)
}

func (s *timedStore) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	defer since(s.listSigningKeys, time.Now())
	return s.next.ListSigningKeys(ctx)
}

func (s *timedStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	defer since(s.update, time.Now())
	return s.next.Update(ctx, fn)
}

func (s *timedStore) CreateIdentity(ctx context.Context, id *store.Identity) error {
	defer since(s.createIdentity, time.Now())
	return s.next.CreateIdentity(ctx, id)
}

func (s *timedStore) Ping(ctx context.Context) error {
	defer since(s.ping, time.Now())
	return s.next.Ping(ctx)
}

func (s *timedStore) Close() error { return s.next.Close() }
