package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idpool/idpool/internal/store"
)

// GetPool reads the pool and locks its row until the transaction ends
// (FOR NO KEY UPDATE, which leaves inserts of the pool's identities, whose
// foreign keys take KEY SHARE, free to run beside it).
func (t *tx) GetPool(ctx context.Context, id string) (*store.Pool, error) {
	p, err := scanPool(t.q.QueryRow(ctx, `SELECT `+poolColumns+` FROM pools WHERE id = $1 FOR NO KEY UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, wrap("get pool", err)
	}
	return p, nil
}

func (t *tx) ListPools(ctx context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	return t.reader().ListPools(ctx, account, region, after, limit)
}

// CountPools counts under an advisory lock of the account and region, held
// until the transaction ends, so that concurrent creations cannot both
// pass the quota.
func (t *tx) CountPools(ctx context.Context, account, region string) (int, error) {
	if err := t.advisoryLock(ctx, "pools", account, region); err != nil {
		return 0, err
	}
	return t.reader().CountPools(ctx, account, region)
}

// GetPool implements store.Reader outside a transaction.
func (s *Store) GetPool(ctx context.Context, id string) (*store.Pool, error) {
	ctx, cancel := s.within(ctx)
	defer cancel()
	return reader{s.pool}.GetPool(ctx, id)
}

// ListPools implements store.Reader outside a transaction.
func (s *Store) ListPools(ctx context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	ctx, cancel := s.within(ctx)
	defer cancel()
	return reader{s.pool}.ListPools(ctx, account, region, after, limit)
}

// CountPools implements store.Reader outside a transaction.
func (s *Store) CountPools(ctx context.Context, account, region string) (int, error) {
	ctx, cancel := s.within(ctx)
	defer cancel()
	return reader{s.pool}.CountPools(ctx, account, region)
}

const poolColumns = `id, account, region, created_ns, updated_ns, version, config`

func scanPool(row pgx.Row) (*store.Pool, error) {
	var (
		p                store.Pool
		created, updated int64
		config           string
	)
	if err := row.Scan(&p.ID, &p.Account, &p.Region, &created, &updated, &p.Version, &config); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromNanos(created), fromNanos(updated)
	if err := store.UnmarshalPoolConfig([]byte(config), &p); err != nil {
		return nil, fmt.Errorf("pool %s: corrupt configuration: %w", p.ID, err)
	}
	return &p, nil
}

func (r reader) GetPool(ctx context.Context, id string) (*store.Pool, error) {
	p, err := scanPool(r.q.QueryRow(ctx, `SELECT `+poolColumns+` FROM pools WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, wrap("get pool", err)
	}
	return p, nil
}

func (r reader) ListPools(ctx context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	where := []string{"TRUE"}
	var args []any
	if account != "" {
		args = append(args, account)
		where = append(where, "account = $"+strconv.Itoa(len(args)))
	}
	if region != "" {
		args = append(args, region)
		where = append(where, "region = $"+strconv.Itoa(len(args)))
	}
	if after != nil {
		args = append(args, nanos(after.CreatedAt), after.ID)
		where = append(where, fmt.Sprintf("(created_ns, id) > ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, limit)
	rows, err := r.q.Query(ctx, `SELECT `+poolColumns+` FROM pools WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_ns, id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, wrap("list pools", err)
	}
	defer rows.Close()
	var out []*store.Pool
	for rows.Next() {
		p, err := scanPool(rows)
		if err != nil {
			return nil, wrap("list pools", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list pools", err)
	}
	return out, nil
}

func (r reader) CountPools(ctx context.Context, account, region string) (int, error) {
	var n int
	if err := r.q.QueryRow(ctx, `SELECT count(*) FROM pools WHERE account = $1 AND region = $2`, account, region).Scan(&n); err != nil {
		return 0, wrap("count pools", err)
	}
	return n, nil
}

func (t *tx) InsertPool(ctx context.Context, p *store.Pool) error {
	config, err := store.MarshalPoolConfig(p)
	if err != nil {
		return err
	}
	tag, err := t.q.Exec(ctx, `INSERT INTO pools (`+poolColumns+`) VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (id) DO NOTHING`,
		p.ID, p.Account, p.Region, nanos(p.CreatedAt), nanos(p.UpdatedAt), string(config))
	if err != nil {
		return wrap("insert pool", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrExists
	}
	p.Version = 1
	return nil
}

func (t *tx) UpdatePool(ctx context.Context, p *store.Pool) error {
	config, err := store.MarshalPoolConfig(p)
	if err != nil {
		return err
	}
	tag, err := t.q.Exec(ctx, `UPDATE pools SET updated_ns = $1, version = version + 1, config = $2 WHERE id = $3 AND version = $4`,
		nanos(p.UpdatedAt), string(config), p.ID, p.Version)
	if err != nil {
		return wrap("update pool", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := t.reader().GetPool(ctx, p.ID); err != nil {
			return err
		}
		return store.ErrConflict
	}
	// Only once committed: a transaction run again must compare with the
	// version it was given.
	next := p.Version + 1
	t.afterCommit(func() { p.Version = next })
	return nil
}

func (t *tx) DeletePool(ctx context.Context, id string) error {
	t.changesIdentities = true // its identities go with it
	tag, err := t.q.Exec(ctx, `DELETE FROM pools WHERE id = $1`, id)
	if err != nil {
		return wrap("delete pool", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
