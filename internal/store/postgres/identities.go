package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/readcache"
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

// GetIdentity implements store.Reader outside a transaction, in a batch
// with concurrent calls (getIdentities).
func (s *Store) GetIdentity(ctx context.Context, id string) (*store.Identity, error) {
	if s.cache != nil {
		if ident, ok := s.cache.Identity(id); ok {
			return ident, nil
		}
	}
	return s.gets.do(ctx, id)
}

// ListIdentities implements store.Reader outside a transaction.
func (s *Store) ListIdentities(ctx context.Context, poolID string, after *store.IdentityCursor, limit int, hideDisabled bool) ([]*store.Identity, error) {
	ctx, cancel := s.within(ctx)
	defer cancel()
	return reader{s.pool}.ListIdentities(ctx, poolID, after, limit, hideDisabled)
}

// FindLogin implements store.Reader outside a transaction, in a batch with
// concurrent calls (findLogins).
func (s *Store) FindLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	k := readcache.LoginKey{Pool: poolID, Provider: provider, Subject: subject}
	if s.cache != nil {
		if id, ok := s.cache.Link(k); ok {
			return id, nil
		}
	}
	return s.finds.do(ctx, k)
}

// mark notes the cache's generation and time before a batch's query.
func (s *Store) mark() readcache.Mark {
	if s.cache == nil {
		return readcache.Mark{}
	}
	return s.cache.Mark()
}

// findLogins finds the holders of a batch of logins with one statement.
// Each key is looked up by the primary key (a LATERAL subquery, so that
// the plan stays an index lookup per key whatever the batch's size).
func (s *Store) findLogins(ctx context.Context, keys []readcache.LoginKey, vals []string, errs []error) {
	pools, providers, subjects := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		pools[i], providers[i], subjects[i] = k.Pool, k.Provider, k.Subject
	}
	m := s.mark()
	rows, err := s.pool.Query(ctx, `SELECT k.i, l.identity_id
		FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k(pool_id, provider, subject, i)
		CROSS JOIN LATERAL (SELECT identity_id FROM logins
			WHERE pool_id = k.pool_id AND provider = k.provider AND subject = k.subject) l`,
		pools, providers, subjects)
	if err != nil {
		fail(errs, wrap("find login", err))
		return
	}
	defer rows.Close()
	fail(errs, store.ErrNotFound)
	for rows.Next() {
		var i int
		var id string
		if err := rows.Scan(&i, &id); err != nil {
			fail(errs, wrap("find login", err))
			return
		}
		vals[i-1], errs[i-1] = id, nil
	}
	if err := rows.Err(); err != nil {
		fail(errs, wrap("find login", err))
		return
	}
	if s.cache != nil {
		for i, k := range keys {
			if errs[i] == nil {
				s.cache.PutLink(m, k, vals[i])
			}
		}
	}
}

// getIdentities reads a batch of identities with their logins, in one
// statement (the logins from the covering index on identity_id).
func (s *Store) getIdentities(ctx context.Context, ids []string, vals []*store.Identity, errs []error) {
	m := s.mark()
	rows, err := s.pool.Query(ctx, `SELECT k.i, i.id, i.pool_id, i.created_ns, i.updated_ns, i.disabled, l.pool_id, l.provider, l.subject
		FROM unnest($1::text[]) WITH ORDINALITY AS k(id, i)
		CROSS JOIN LATERAL (SELECT `+identityColumns+` FROM identities WHERE id = k.id) i
		LEFT JOIN LATERAL (SELECT pool_id, provider, subject FROM logins WHERE identity_id = i.id) l ON true
		ORDER BY k.i, l.provider, l.subject`, ids)
	if err != nil {
		fail(errs, wrap("get identity", err))
		return
	}
	defer rows.Close()
	fail(errs, store.ErrNotFound)
	for rows.Next() {
		var (
			i                          int
			id                         store.Identity
			created, updated           int64
			lPool, lProvider, lSubject *string
		)
		if err := rows.Scan(&i, &id.ID, &id.PoolID, &created, &updated, &id.Disabled, &lPool, &lProvider, &lSubject); err != nil {
			fail(errs, wrap("get identity", err))
			return
		}
		cur := vals[i-1]
		if cur == nil {
			id.CreatedAt, id.UpdatedAt = fromNanos(created), fromNanos(updated)
			cur = &id
			vals[i-1], errs[i-1] = cur, nil
		}
		if lProvider != nil {
			cur.Logins = append(cur.Logins, store.Login{PoolID: *lPool, Provider: *lProvider, Subject: *lSubject, IdentityID: cur.ID})
		}
	}
	if err := rows.Err(); err != nil {
		fail(errs, wrap("get identity", err))
		clear(vals)
		return
	}
	if s.cache != nil {
		for i, v := range vals {
			if errs[i] == nil {
				s.cache.PutIdentity(m, v)
			}
		}
	}
}

// insertGuests inserts a batch of guests (identities without logins) with
// one statement, which commits them with one WAL flush. If it fails for
// one of them (its pool was deleted, say), each is inserted alone, so that
// every call gets its own outcome.
func (s *Store) insertGuests(ctx context.Context, guests []*store.Identity, _ []struct{}, errs []error) {
	if len(guests) > 1 {
		n := len(guests)
		ids, pools := make([]string, n), make([]string, n)
		created, updated := make([]int64, n), make([]int64, n)
		disabled := make([]bool, n)
		for i, g := range guests {
			ids[i], pools[i], created[i], updated[i], disabled[i] = g.ID, g.PoolID, nanos(g.CreatedAt), nanos(g.UpdatedAt), g.Disabled
		}
		_, err := s.pool.Exec(ctx, `INSERT INTO identities (`+identityColumns+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::boolean[])`,
			ids, pools, created, updated, disabled)
		if err == nil {
			return
		}
		if constraint(err) == nil {
			fail(errs, wrap("insert identities", err))
			return
		}
	}
	for i, g := range guests {
		_, err := s.pool.Exec(ctx, `INSERT INTO identities (`+identityColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			g.ID, g.PoolID, nanos(g.CreatedAt), nanos(g.UpdatedAt), g.Disabled)
		if err != nil {
			errs[i] = wrap("insert identity", err)
		}
	}
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
	if t.inserted == nil {
		t.inserted = map[string]bool{}
	}
	t.inserted[id.ID] = true
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
	t.changesIdentities = true
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
	t.changesIdentities = true
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
	// A login linked to an identity inserted in this transaction changes
	// nothing anybody read; one linked to an existing identity does.
	t.changesIdentities = t.changesIdentities || !t.inserted[l.IdentityID]
	_, err := t.q.Exec(ctx, `INSERT INTO logins (pool_id, provider, subject, identity_id) VALUES ($1, $2, $3, $4)`,
		l.PoolID, l.Provider, l.Subject, l.IdentityID)
	if err != nil {
		return wrap("link login", err)
	}
	return nil
}

func (t *tx) RelinkLogin(ctx context.Context, l store.Login) error {
	t.changesIdentities = true
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
	t.changesIdentities = true
	tag, err := t.q.Exec(ctx, `DELETE FROM logins WHERE pool_id = $1 AND provider = $2 AND subject = $3`, poolID, provider, subject)
	if err != nil {
		return wrap("unlink login", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
