// Package postgres is the store backend for several idpool replicas sharing
// one PostgreSQL database (or a PostgreSQL-compatible one such as
// CockroachDB or YugabyteDB).
//
// Every Update runs at SERIALIZABLE isolation and is retried when the
// database reports a serialization failure or deadlock, so correctness
// never depends on locks or on the order of sequences: unique keys and
// compare-and-swap versions decide every race.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idpool/idpool/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL backend.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// migrationLock is the advisory lock key that serializes migrations of
// replicas starting together. Migrations are also idempotent (IF NOT
// EXISTS, a primary key on the version), so a database without advisory
// locks stays correct.
const migrationLock = 0x1d9001

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
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
	return &Store{pool: pool}, nil
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

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// maxAttempts bounds the retries of a transaction that keeps losing
// serialization races.
const maxAttempts = 20

// retryable reports whether a transaction failed only because it raced
// another one: serialization_failure or deadlock_detected.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// Update runs fn in a SERIALIZABLE transaction, retrying it (with a short
// random back-off) when it loses a race with another transaction.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(ptx pgx.Tx) error {
			return fn(&tx{q: ptx})
		})
		if !retryable(err) {
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

// CreateIdentity implements store.Store.
func (s *Store) CreateIdentity(ctx context.Context, id *store.Identity) error {
	return s.Update(ctx, func(tx store.Tx) error { return tx.InsertIdentity(ctx, id) })
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader implements store.Reader on any querier.
type reader struct{ q querier }

type tx struct{ q querier }

func (t *tx) reader() reader { return reader{t.q} }

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
func wrap(what string, err error) error {
	if c := constraint(err); c != nil {
		return c
	}
	if retryable(err) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
