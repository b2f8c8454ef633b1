package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idpool/idpool/internal/store"
)

// GetIdentity locks the identity's row (until the transaction ends), then
// reads it with its logins: no other transaction can change those logins
// before this one ends.
func (t *tx) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	if err := t.lockIdentity(ctx, id); err != nil {
		return nil, err
	}
	return t.reader().GetIdentity(ctx, id)
}

// lockIdentity locks an identity's row; ErrNotFound if there is none.
func (t *tx) lockIdentity(ctx context.Context, id string) error {
	var one int
	err := t.q.QueryRow(ctx, `SELECT 1 FROM identities WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return wrap2("lock identity", err)
}

func (t *tx) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	return t.reader().ListIdentities(ctx, poolID, after, limit, hideDisabled)
}

// FindLogin returns the login's holder with the holder's row locked: the
// login then stays with it until the transaction ends (a login only moves
// or goes away in a transaction that holds its holder). A login that moves
// between the read and the lock is read again.
func (t *tx) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	r := t.reader()
	owner, err := r.FindLogin(ctx, poolID, provider, subject)
	for range 5 {
		if err != nil {
			return "", err
		}
		if err := t.lockIdentity(ctx, owner); err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		again, err2 := r.FindLogin(ctx, poolID, provider, subject)
		if err2 == nil && again == owner {
			return owner, nil
		}
		owner, err = again, err2
	}
	return "", errRace
}

// GetIdentity implements store.Reader outside a transaction.
func (s *Store) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	return reader{s.pool}.GetIdentity(ctx, id)
}

// ListIdentities implements store.Reader outside a transaction.
func (s *Store) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	return reader{s.pool}.ListIdentities(ctx, poolID, after, limit, hideDisabled)
}

// FindLogin implements store.Reader outside a transaction.
func (s *Store) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	return reader{s.pool}.FindLogin(ctx, poolID, provider, subject)
}

const identityColumns = `id, pool_id, created_ns, updated_ns, disabled`

func scanIdentity(row pgx.Row) (*store.Identity, error) {
	var (
		id               store.Identity
		created, updated int64
	)
	if err := row.Scan(&id.ID, &id.PoolID, &created, &updated, &id.Disabled); err != nil {
		return nil, err
	}
	id.CreatedAt, id.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &id, nil
}

func (r reader) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	ident, err := scanIdentity(r.q.QueryRow(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, wrap("get identity", err)
	}
	if err := r.loadLogins(ctx, []*store.Identity{ident}); err != nil {
		return nil, err
	}
	return ident, nil
}

// loadLogins fills in the logins of the given identities with one query.
func (r reader) loadLogins(ctx context.Context, ids []*store.Identity) error {
	if len(ids) == 0 {
		return nil
	}
	byID := make(map[string]*store.Identity, len(ids))
	keys := make([]string, len(ids))
	for i, id := range ids {
		byID[id.ID] = id
		keys[i] = id.ID
	}
	rows, err := r.q.Query(ctx, `SELECT pool_id, provider, subject, identity_id FROM logins
		WHERE identity_id = ANY($1) ORDER BY identity_id, provider, subject`, keys)
	if err != nil {
		return wrap("load logins", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l store.Login
		if err := rows.Scan(&l.PoolID, &l.Provider, &l.Subject, &l.IdentityID); err != nil {
			return wrap("load logins", err)
		}
		id := byID[l.IdentityID]
		id.Logins = append(id.Logins, l)
	}
	return wrap2("load logins", rows.Err())
}

func wrap2(what string, err error) error {
	if err == nil {
		return nil
	}
	return wrap(what, err)
}

func (r reader) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	where := []string{"pool_id = $1"}
	args := []any{poolID}
	if after != nil {
		args = append(args, nanos(after.CreatedAt), after.ID)
		where = append(where, "(created_ns, id) > ($2, $3)")
	}
	if hideDisabled {
		where = append(where, "NOT disabled")
	}
	args = append(args, limit)
	rows, err := r.q.Query(ctx, `SELECT `+identityColumns+` FROM identities WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY created_ns, id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, wrap("list identities", err)
	}
	var out []*store.Identity
	for rows.Next() {
		id, err := scanIdentity(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("list identities", err)
		}
		out = append(out, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("list identities", err)
	}
	if err := r.loadLogins(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (r reader) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	var id string
	err := r.q.QueryRow(ctx, `SELECT identity_id FROM logins WHERE pool_id = $1 AND provider = $2 AND subject = $3`,
		poolID, provider, subject).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", wrap("find login", err)
	}
	return id, nil
}

func (t *tx) InsertIdentity(ctx context.Context, id *store.Identity) error {
	_, err := t.q.Exec(ctx, `INSERT INTO identities (`+identityColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		id.ID, id.PoolID, nanos(id.CreatedAt), nanos(id.UpdatedAt), id.Disabled)
	if err != nil {
		return wrap("insert identity", err)
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
	tag, err := t.q.Exec(ctx, `UPDATE identities SET disabled = $1, updated_ns = $2 WHERE id = $3`, id.Disabled, nanos(id.UpdatedAt), id.ID)
	if err != nil {
		return wrap("update identity", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) DeleteIdentity(ctx context.Context, id string) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM identities WHERE id = $1`, id)
	if err != nil {
		return wrap("delete identity", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) LinkLogin(ctx context.Context, l store.Login) error {
	_, err := t.q.Exec(ctx, `INSERT INTO logins (pool_id, provider, subject, identity_id) VALUES ($1, $2, $3, $4)`,
		l.PoolID, l.Provider, l.Subject, l.IdentityID)
	if err != nil {
		return wrap("link login", err)
	}
	return nil
}

func (t *tx) RelinkLogin(ctx context.Context, l store.Login) error {
	tag, err := t.q.Exec(ctx, `UPDATE logins SET identity_id = $1 WHERE pool_id = $2 AND provider = $3 AND subject = $4`,
		l.IdentityID, l.PoolID, l.Provider, l.Subject)
	if err != nil {
		return wrap("relink login", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) UnlinkLogin(ctx context.Context, poolID, provider, subject string) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM logins WHERE pool_id = $1 AND provider = $2 AND subject = $3`, poolID, provider, subject)
	if err != nil {
		return wrap("unlink login", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
