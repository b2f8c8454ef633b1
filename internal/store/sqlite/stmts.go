package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements, one per query text: SQLite parses
// and plans a statement on every Exec otherwise, which costs more than
// running the small statements idpool issues.
type stmtCache struct {
	prep preparer
	mu   sync.Mutex
	m    map[string]*sql.Stmt
}

// preparer is *sql.DB or *sql.Conn.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// maxCachedStmts bounds the cache; the queries are fixed texts (the
// guests' multi-row insert comes in four row counts). Past the bound a
// query runs unprepared (database/sql prepares and closes it), so nothing
// leaks.
const maxCachedStmts = 256

func newStmtCache(prep preparer) *stmtCache {
	return &stmtCache{prep: prep, m: map[string]*sql.Stmt{}}
}

// get returns the cached statement of query, preparing it on first use;
// nil when the cache is full or the statement does not prepare (the
// caller then runs the query unprepared, which reports the error).
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := c.prep.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}

// cachedQuerier runs queries through cached statements, else directly on
// its fallback (the read pool, or the writer's connection).
//
// Every query runs under a context that cannot be cancelled: idpool's
// statements take microseconds, and with a cancellable context both
// database/sql and the driver start a goroutine per query to watch it,
// which costs more than the query. A write still honours its caller's
// context before it runs (see Store.commit).
type cachedQuerier struct {
	c  *stmtCache
	db querier
}

func (q cachedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := q.c.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.db.ExecContext(ctx, query, args...)
}

func (q cachedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if st := q.c.get(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.db.QueryContext(ctx, query, args...)
}

func (q cachedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := q.c.get(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.db.QueryRowContext(ctx, query, args...)
}
