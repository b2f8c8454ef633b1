package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idpool/idpool/internal/store"
)

// ListSigningKeys lists under an advisory lock held until the transaction
// ends: rotations on several replicas run one after the other, each seeing
// the keys the previous one wrote.
func (t *tx) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	if err := t.advisoryLock(ctx, "signing keys"); err != nil {
		return nil, err
	}
	return t.reader().ListSigningKeys(ctx)
}

// ListSigningKeys implements store.Reader outside a transaction.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	ctx, cancel := s.within(ctx)
	defer cancel()
	return reader{s.pool}.ListSigningKeys(ctx)
}

func (r reader) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	rows, err := r.q.Query(ctx, `SELECT id, sealed, created_ns, retires_ns FROM signing_keys ORDER BY created_ns, id`)
	if err != nil {
		return nil, wrap("list signing keys", err)
	}
	defer rows.Close()
	var out []*store.SigningKey
	for rows.Next() {
		var (
			k       store.SigningKey
			created int64
			retires *int64
		)
		if err := rows.Scan(&k.ID, &k.Sealed, &created, &retires); err != nil {
			return nil, wrap("list signing keys", err)
		}
		k.CreatedAt = fromNanos(created)
		if retires != nil {
			at := fromNanos(*retires)
			k.RetiresAt = &at
		}
		out = append(out, &k)
	}
	return out, wrap2("list signing keys", rows.Err())
}

func (t *tx) InsertSigningKey(ctx context.Context, k *store.SigningKey) error {
	var retires *int64
	if k.RetiresAt != nil {
		n := nanos(*k.RetiresAt)
		retires = &n
	}
	_, err := t.q.Exec(ctx, `INSERT INTO signing_keys (id, sealed, created_ns, retires_ns) VALUES ($1, $2, $3, $4)`,
		k.ID, k.Sealed, nanos(k.CreatedAt), retires)
	return wrap2("insert signing key", err)
}

func (t *tx) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	tag, err := t.q.Exec(ctx, `UPDATE signing_keys SET retires_ns = $1 WHERE id = $2 AND retires_ns IS NULL`, nanos(at), id)
	if err != nil {
		return wrap("retire signing key", err)
	}
	if tag.RowsAffected() == 0 {
		var one int
		err := t.q.QueryRow(ctx, `SELECT 1 FROM signing_keys WHERE id = $1`, id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return wrap("retire signing key", err)
		}
		return store.ErrConflict
	}
	return nil
}

func (t *tx) DeleteSigningKey(ctx context.Context, id string) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM signing_keys WHERE id = $1`, id)
	if err != nil {
		return wrap("delete signing key", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
