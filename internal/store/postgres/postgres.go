// Package postgres is the store backend for several idpool replicas sharing
// one PostgreSQL database.
//
// Every Update runs at READ COMMITTED isolation, and what makes it as safe
// as a serializable transaction is a rule of this package: inside a
// transaction, every read locks what it read (see tx below). Writers of
// different pools therefore touch disjoint rows and never conflict, which
// SERIALIZABLE's predicate locks on shared index pages did not guarantee.
// The argument, read by read:
//
//   - GetPool locks the pool's row (FOR NO KEY UPDATE): a read-modify-write
//     of a pool holds the row until it commits, so another one waits and
//     then reads the new version. UpdatePool is a compare-and-swap on the
//     version in any case (READ COMMITTED re-checks the WHERE clause on the
//     newest row after waiting), so a change computed from an old read
//     fails with ErrConflict rather than overwrite.
//   - GetIdentity locks the identity's row before reading its logins, and
//     FindLogin locks the row of the identity that holds the login (then
//     reads the login again, until the holder stays the same). Every change
//     to a login (link, relink, unlink, delete) is made by a transaction
//     that holds the identity that loses or gains it, so the logins of a
//     locked identity cannot change under the transaction that locked it.
//   - Logins nobody holds yet are guarded by the logins table's primary
//     key: two transactions linking one new login cannot both commit (the
//     second gets a unique violation, ErrExists, and the service resolves
//     again).
//   - CountPools takes a transaction-scoped advisory lock of the account
//     and region, so the pool quota holds for pools created concurrently;
//     ListSigningKeys takes one for the signing keys, so rotations run one
//     after the other.
//
// Lock waits are short (one request's transaction). Two transactions can
// still deadlock (two merges of the same identities in opposite
// directions); PostgreSQL then aborts one, and Update runs it again.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/readcache"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL backend.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	// cache holds identities and login links read outside transactions,
	// for a time to live (nil: no cache; see readcache for why it is
	// exact across replicas).
	cache *readcache.Cache

	// The hot calls of the public operations, batched (batch.go).
	finds  *batcher[readcache.LoginKey, string]
	gets   *batcher[string, *store.Identity]
	guests *batcher[*store.Identity, struct{}]
}

var _ store.Store = (*Store)(nil)

// migrationLock is the advisory lock key that serializes migrations of
// replicas starting together. Migrations are also idempotent (IF NOT
// EXISTS, a primary key on the version), so a database without advisory
// locks stays correct.
const migrationLock = 0x1d9001

// DefaultTimeout bounds each store call (a transaction with its retries,
// or one read) when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// maxBatch bounds the calls of one batched statement.
const maxBatch = 256

// Options configures a Store.
type Options struct {
	// Timeout bounds every store call, so that a request fails within it
	// while the database cannot be reached, instead of hanging;
	// DefaultTimeout if zero.
	Timeout time.Duration
	// CacheTTL is how long identities and login links read outside a
	// transaction are served from memory (0: not at all). A write that may
	// change them is acknowledged only once CacheTTL has passed since it
	// committed, which keeps every replica's cache exact.
	CacheTTL time.Duration
}

// DefaultCacheTTL is the CacheTTL idpool serve uses unless told otherwise.
const DefaultCacheTTL = 250 * time.Millisecond

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; pgx's pool_max_conns and friends size the connection pool) and
// brings its schema up to date.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// Every statement is prepared once per connection (pgx's statement
	// cache). PostgreSQL would still plan the first executions of each, and
	// keep planning those whose plans it cannot cost well (the batched
	// lookups over arrays), at several times the cost of executing them;
	// the generic plans of idpool's statements are the index lookups
	// wanted anyway.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	s := &Store{pool: pool, timeout: o.Timeout}
	if o.CacheTTL > 0 {
		s.cache = readcache.New(o.CacheTTL, nil)
	}
	// Batches of each kind run on a quarter of the connections (one on
	// pgx's default pool of four): a batch that waits for the one running
	// before it grows, and fewer, larger batches cost the database less
	// per call. The three kinds together leave transactions a connection.
	running := max(1, int(cfg.MaxConns)/4)
	s.finds = &batcher[readcache.LoginKey, string]{run: s.findLogins, bound: s.bound, maxRunning: running, maxBatch: maxBatch}
	s.gets = &batcher[string, *store.Identity]{run: s.getIdentities, bound: s.bound, maxRunning: running, maxBatch: maxBatch}
	s.guests = &batcher[*store.Identity, struct{}]{run: s.insertGuests, bound: s.bound, maxRunning: running, maxBatch: maxBatch}
	return s, nil
}

// bound is a context for work that serves several callers: the store's
// timeout, and nobody's cancellation.
func (s *Store) bound() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// within bounds a caller's context by the store's timeout.
func (s *Store) within(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Ping reports whether the database answers a query within the store's
// timeout (or ctx's, if sooner).
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.within(ctx)
	defer cancel()
	var one int
	return wrap2("ping", s.pool.QueryRow(ctx, `SELECT 1`).Scan(&one))
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_ns BIGINT  NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	steps, err := store.ReadMigrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	for _, m := range steps {
		v, body, base := m.Version, m.SQL, m.Name
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, v).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.Exec(ctx, body); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_ns) VALUES ($1, $2)`, v, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", base, err)
		}
	}
	return nil
}

// PoolStats are the connection pool's statistics at one moment, for
// metrics: gauges of the connections now, and counters since Open.
type PoolStats struct {
	AcquiredConns int32 // lent out to calls now
	IdleConns     int32 // open and waiting
	TotalConns    int32 // open, or being opened
	MaxConns      int32 // the most the pool opens

	AcquireCount         int64         // successful acquires
	AcquireDuration      time.Duration // time successful acquires waited, together
	EmptyAcquireCount    int64         // acquires that found no idle connection and waited
	CanceledAcquireCount int64         // acquires given up by their caller
}

// PoolStats returns the connection pool's statistics now. It is cheap (the
// pool keeps them) and safe to call at any time, also after Close.
func (s *Store) PoolStats() PoolStats {
	st := s.pool.Stat()
	return PoolStats{
		AcquiredConns:        st.AcquiredConns(),
		IdleConns:            st.IdleConns(),
		TotalConns:           st.TotalConns(),
		MaxConns:             st.MaxConns(),
		AcquireCount:         st.AcquireCount(),
		AcquireDuration:      st.AcquireDuration(),
		EmptyAcquireCount:    st.EmptyAcquireCount(),
		CanceledAcquireCount: st.CanceledAcquireCount(),
	}
}

// Close closes the connection pool.
//
// pgx waits up to 15 seconds for the database to answer each
// connection's goodbye, and a database that has stalled never answers:
// a server stopping would hang that long. Close waits at most the store's
// timeout, then leaves the connections to end with the process; every
// acknowledged write is committed already.
func (s *Store) Close() error {
	done := make(chan struct{})
	go func() {
		s.pool.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(s.timeout):
		return fmt.Errorf("postgres: the database did not answer within %s while its connections closed; leaving them", s.timeout)
	}
}

// maxAttempts bounds the retries of a transaction that keeps losing
// races: deadlocks, or a login that kept moving while FindLogin locked its
// holder.
const maxAttempts = 20

// retryable reports whether a transaction failed only because it raced
// another one: serialization_failure, deadlock_detected, or errRace.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, errRace) || (errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01"))
}

// errRace is a transaction's own verdict that it lost a race and must run
// again from the start.
var errRace = errors.New("postgres: lost a race with another transaction")

// Update runs fn in a READ COMMITTED transaction whose reads lock what they
// read (see the package comment), running it again (after a short random
// back-off) when it loses a race. fn may therefore run more than once:
// nothing the transaction sets on records passed to it, such as the new
// version of an updated pool, takes effect before the commit.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	ctx, cancel := s.within(ctx)
	defer cancel()
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		t := &tx{}
		err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx) error {
			t.q = ptx
			return fn(t)
		})
		if err == nil {
			for _, f := range t.committed {
				f()
			}
			s.settle(t)
			return nil
		}
		if !retryable(err) {
			var pe *pgconn.PgError
			if err != nil && !errors.As(err, &pe) && !errors.Is(err, store.ErrUnavailable) && ctx.Err() != nil {
				// The transaction's own timeout ran out (BEGIN or COMMIT
				// waited for a database that does not answer).
				return fmt.Errorf("%w: postgres: %w", store.ErrUnavailable, err)
			}
			return err
		}
		backoff := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
	return fmt.Errorf("postgres: transaction kept conflicting after %d attempts: %w", maxAttempts, err)
}

// CreateIdentity implements store.Store: the guests of concurrent calls are
// inserted by one statement (insertGuests).
func (s *Store) CreateIdentity(ctx context.Context, id *store.Identity) error {
	if len(id.Logins) > 0 {
		return s.Update(ctx, func(tx store.Tx) error { return tx.InsertIdentity(ctx, id) })
	}
	_, err := s.guests.do(ctx, id)
	return err
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader implements store.Reader on any querier.
type reader struct{ q querier }

// settle runs after a transaction committed and before it is
// acknowledged. If it may have changed identities or login links, it waits
// out the cache's time to live, by which time every replica's entry read
// before the commit has expired (readcache explains why that keeps every
// cache exact).
func (s *Store) settle(t *tx) {
	if !t.changesIdentities || s.cache == nil {
		return
	}
	// Entries this replica read before the commit expire by then too.
	time.Sleep(s.cache.TTL())
}

// tx is a transaction of Update. Its reads lock (the package comment says
// why); committed are the changes to the caller's records that take effect
// once it commits.
type tx struct {
	q         querier
	committed []func()
	// changesIdentities says the transaction changed an identity or login
	// link that a reader may have cached: anything but inserting new
	// identities with their logins.
	changesIdentities bool
	inserted          map[string]bool // identities this transaction inserted
}

func (t *tx) reader() reader { return reader{t.q} }

// afterCommit defers a change to a caller's record until the commit.
func (t *tx) afterCommit(f func()) { t.committed = append(t.committed, f) }

// advisoryLock takes a transaction-scoped advisory lock named by the
// strings (hashed to PostgreSQL's 64-bit key space).
func (t *tx) advisoryLock(ctx context.Context, name ...string) error {
	_, err := t.q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, strings.Join(name, "|"))
	return wrap2("advisory lock", err)
}

// constraint maps a constraint violation to a store sentinel: a taken key
// to ErrExists, a missing parent row to ErrNotFound.
func constraint(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return store.ErrExists
		case "23503":
			return store.ErrNotFound
		}
	}
	return nil
}

// wrap returns a store sentinel for a constraint violation, a retryable
// error unchanged (Update must see it), and anything else with context.
//
// An error that is not PostgreSQL's answer to a statement (the connection
// could not be made, broke, or the store's timeout ran out), or that is
// one of its connection-exception or operator-intervention answers (the
// server is shutting down), is store.ErrUnavailable.
func wrap(what string, err error) error {
	if c := constraint(err); c != nil {
		return c
	}
	if retryable(err) {
		return err
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57") {
		return fmt.Errorf("%w: postgres: %s: %w", store.ErrUnavailable, what, err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
