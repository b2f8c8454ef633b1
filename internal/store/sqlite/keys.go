package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/idpool/idpool/internal/store"
)

func (t *tx) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	return reader{t.q}.ListSigningKeys(ctx)
}

// ListSigningKeys implements store.Reader outside a transaction.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	return reader{s.rq}.ListSigningKeys(ctx)
}

func (r reader) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, sealed, created_ns, retires_ns FROM signing_keys ORDER BY created_ns, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
	}
	defer rows.Close()
	var out []*store.SigningKey
	for rows.Next() {
		var (
			k       store.SigningKey
			created int64
			retires sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Sealed, &created, &retires); err != nil {
			return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
		}
		k.CreatedAt = time.Unix(0, created).UTC()
		if retires.Valid {
			at := time.Unix(0, retires.Int64).UTC()
			k.RetiresAt = &at
		}
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
	}
	return out, nil
}

func (t *tx) InsertSigningKey(ctx context.Context, k *store.SigningKey) error {
	var retires any
	if k.RetiresAt != nil {
		retires = k.RetiresAt.UnixNano()
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO signing_keys (id, sealed, created_ns, retires_ns) VALUES (?, ?, ?, ?)`,
		k.ID, k.Sealed, k.CreatedAt.UnixNano(), retires)
	if err != nil {
		if c := constraint(err); c != nil {
			return c
		}
		return fmt.Errorf("sqlite: insert signing key: %w", err)
	}
	return nil
}

func (t *tx) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE signing_keys SET retires_ns = ? WHERE id = ? AND retires_ns IS NULL`, at.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("sqlite: retire signing key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := t.q.QueryRowContext(ctx, `SELECT 1 FROM signing_keys WHERE id = ?`, id).Scan(&one); err == sql.ErrNoRows {
			return store.ErrNotFound
		}
		return store.ErrConflict
	}
	return nil
}

func (t *tx) DeleteSigningKey(ctx context.Context, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete signing key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
