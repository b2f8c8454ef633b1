package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/idpool/idpool/internal/store"
)

// constraint maps a constraint violation to a store sentinel: a taken key
// to ErrExists, a missing parent row to ErrNotFound.
func constraint(err error) error {
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return store.ErrExists
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return store.ErrNotFound
		}
	}
	return nil
}

func (t *tx) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	return reader{t.q}.GetIdentity(ctx, id)
}

func (t *tx) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	return reader{t.q}.ListIdentities(ctx, poolID, after, limit, hideDisabled)
}

func (t *tx) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	return reader{t.q}.FindLogin(ctx, poolID, provider, subject)
}

// ListIdentities implements store.Reader outside a transaction.
func (s *Store) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	return reader{s.rq}.ListIdentities(ctx, poolID, after, limit, hideDisabled)
}

const identityColumns = `id, pool_id, created_ns, updated_ns, disabled`

func scanIdentity(sc interface{ Scan(...any) error }) (*store.Identity, error) {
	var (
		id               store.Identity
		created, updated int64
	)
	if err := sc.Scan(&id.ID, &id.PoolID, &created, &updated, &id.Disabled); err != nil {
		return nil, err
	}
	id.CreatedAt = time.Unix(0, created).UTC()
	id.UpdatedAt = time.Unix(0, updated).UTC()
	return &id, nil
}

func (r reader) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	ident, err := scanIdentity(r.q.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get identity: %w", err)
	}
	if err := r.loadLogins(ctx, ident); err != nil {
		return nil, err
	}
	return ident, nil
}

// loadLogins fills in the logins of one identity, in provider, subject
// order (ListIdentities joins them into its page instead).
func (r reader) loadLogins(ctx context.Context, ident *store.Identity) error {
	rows, err := r.q.QueryContext(ctx, `SELECT pool_id, provider, subject FROM logins
		WHERE identity_id = ? ORDER BY provider, subject`, ident.ID)
	if err != nil {
		return fmt.Errorf("sqlite: load logins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l := store.Login{IdentityID: ident.ID}
		if err := rows.Scan(&l.PoolID, &l.Provider, &l.Subject); err != nil {
			return fmt.Errorf("sqlite: load logins: %w", err)
		}
		ident.Logins = append(ident.Logins, l)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load logins: %w", err)
	}
	return nil
}

// ListIdentities reads a page of identities and their logins with one
// query: the page (from the covering index identities_by_pool) joined with
// each identity's logins (from the covering index logins_by_identity,
// already in provider, subject order). Loading the logins with a second
// query over an IN list of the page's ids cost twice as much as the page.
func (r reader) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	var (
		where = []string{"pool_id = ?"}
		args  = []any{poolID}
	)
	if after != nil {
		where = append(where, "(created_ns, id) > (?, ?)")
		args = append(args, after.CreatedAt.UnixNano(), after.ID)
	}
	if hideDisabled {
		where = append(where, "disabled = 0")
	}
	args = append(args, limit)
	rows, err := r.q.QueryContext(ctx, `SELECT p.id, p.pool_id, p.created_ns, p.updated_ns, p.disabled, l.provider, l.subject
		FROM (SELECT `+identityColumns+` FROM identities WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_ns, id LIMIT ?) AS p
		LEFT JOIN logins AS l ON l.identity_id = p.id
		ORDER BY p.created_ns, p.id, l.provider, l.subject`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list identities: %w", err)
	}
	defer rows.Close()
	var out []*store.Identity
	for rows.Next() {
		var (
			id                store.Identity
			created, updated  int64
			provider, subject sql.NullString
		)
		if err := rows.Scan(&id.ID, &id.PoolID, &created, &updated, &id.Disabled, &provider, &subject); err != nil {
			return nil, fmt.Errorf("sqlite: list identities: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ID != id.ID {
			id.CreatedAt = time.Unix(0, created).UTC()
			id.UpdatedAt = time.Unix(0, updated).UTC()
			out = append(out, &id)
		}
		if provider.Valid {
			last := out[len(out)-1]
			last.Logins = append(last.Logins, store.Login{PoolID: last.PoolID, Provider: provider.String, Subject: subject.String, IdentityID: last.ID})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list identities: %w", err)
	}
	return out, nil
}

func (r reader) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	var id string
	err := r.q.QueryRowContext(ctx, `SELECT identity_id FROM logins WHERE pool_id = ? AND provider = ? AND subject = ?`,
		poolID, provider, subject).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: find login: %w", err)
	}
	return id, nil
}

func (t *tx) InsertIdentity(ctx context.Context, id *store.Identity) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO identities (`+identityColumns+`) VALUES (?, ?, ?, ?, ?)`,
		id.ID, id.PoolID, id.CreatedAt.UnixNano(), id.UpdatedAt.UnixNano(), id.Disabled)
	if err != nil {
		if c := constraint(err); c != nil {
			return c
		}
		return fmt.Errorf("sqlite: insert identity: %w", err)
	}
	for _, l := range id.Logins {
		l.IdentityID = id.ID
		if err := t.LinkLogin(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) UpdateIdentity(ctx context.Context, id *store.Identity) error {
	res, err := t.q.ExecContext(ctx, `UPDATE identities SET disabled = ?, updated_ns = ? WHERE id = ?`,
		id.Disabled, id.UpdatedAt.UnixNano(), id.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update identity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) DeleteIdentity(ctx context.Context, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM identities WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete identity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) LinkLogin(ctx context.Context, l store.Login) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO logins (pool_id, provider, subject, identity_id) VALUES (?, ?, ?, ?)`,
		l.PoolID, l.Provider, l.Subject, l.IdentityID)
	if err != nil {
		if c := constraint(err); c != nil {
			return c
		}
		return fmt.Errorf("sqlite: link login: %w", err)
	}
	return nil
}

func (t *tx) RelinkLogin(ctx context.Context, l store.Login) error {
	res, err := t.q.ExecContext(ctx, `UPDATE logins SET identity_id = ? WHERE pool_id = ? AND provider = ? AND subject = ?`,
		l.IdentityID, l.PoolID, l.Provider, l.Subject)
	if err != nil {
		if c := constraint(err); c != nil {
			return c
		}
		return fmt.Errorf("sqlite: relink login: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) UnlinkLogin(ctx context.Context, poolID, provider, subject string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM logins WHERE pool_id = ? AND provider = ? AND subject = ?`, poolID, provider, subject)
	if err != nil {
		return fmt.Errorf("sqlite: unlink login: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
