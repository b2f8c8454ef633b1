package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/readcache"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the embedded SQLite backend.
//
// Writes are group-committed: SQLite has one writer, and a durable commit
// costs an fsync, so one goroutine takes every Update waiting at that
// moment and runs them in one transaction, each inside its own savepoint
// (a failing one is rolled back alone), then commits once. Every caller's
// Update returns only after that commit is on disk.
type Store struct {
	w     *sql.DB       // the one writing connection...
	wc    *sql.Conn     // ...held by the writer goroutine for the store's lifetime
	r     *sql.DB       // a pool of read-only connections (WAL lets them run beside the writer)
	ws    *stmtCache    // statements prepared on wc
	rq    cachedQuerier // reads outside a transaction, on r
	cache *readcache.Cache

	writes  chan *write
	stop    chan struct{}
	stopped chan struct{}

	ck        *sql.DB       // the checkpointer's connection
	ckWake    chan struct{} // a commit happened since the last checkpoint
	ckStopped chan struct{}
	dbFile    *os.File    // the database file, for syncDB
	walTail   atomic.Bool // the checkpointer asks the writer to copy the WAL's tail
	closeMu   sync.Mutex
	closed    bool

	obs atomic.Pointer[Observer] // nil: nobody observes

	// faults, set only by tests, fails the write path at a faultPoint:
	// an error it returns is taken as SQLite's answer there. Unset, it
	// costs one nil check per transaction.
	faults func(faultPoint) error
}

// faultPoint names a step of a group commit where a test can inject what
// a failing disk makes SQLite answer.
type faultPoint int

const (
	faultBegin  faultPoint = iota // BEGIN IMMEDIATE
	faultCommit                   // COMMIT: the WAL write and its fsync
)

// fault is the error injected at p, if any.
func (s *Store) fault(p faultPoint) error {
	if s.faults == nil {
		return nil
	}
	return s.faults(p)
}

// connections lists the store's database handles by role, each of which
// must carry the durability settings of dsn: the tests check every one.
func (s *Store) connections() map[string]*sql.DB {
	return map[string]*sql.DB{"writer": s.w, "reader": s.r, "checkpointer": s.ck}
}

// Observer is told about the store's group commits and checkpoints, for
// metrics. Its methods run on the writer's and the checkpointer's
// goroutines, between their steps: they must return quickly, and must not
// call the store.
type Observer interface {
	// GroupCommitted is told how many writes (Updates and guest
	// identities) one group commit carried, whatever became of each.
	GroupCommitted(writes int)
	// Committed is told how long the COMMIT of one group commit took
	// (writing its WAL frames and waiting for the disk to flush them),
	// whether or not it succeeded, before its writers are answered.
	Committed(d time.Duration)
	// Checkpointed is told how long one WAL checkpoint took.
	Checkpointed(d time.Duration)
}

// SetObserver makes o the store's observer; nil removes it. It may be
// called at any time. Without an observer the store reads no clock for it
// and calls nothing: one atomic load per commit and per checkpoint.
func (s *Store) SetObserver(o Observer) {
	if o == nil {
		s.obs.Store(nil)
		return
	}
	s.obs.Store(&o)
}

// observer returns the store's observer, or nil.
func (s *Store) observer() Observer {
	if p := s.obs.Load(); p != nil {
		return *p
	}
	return nil
}

// write is one Update waiting for the writer.
type write struct {
	ctx   context.Context
	fn    func(tx store.Tx) error
	guest *store.Identity // set instead of fn by CreateIdentity
	err   error
	// committed are fn's changes to its caller's records, applied once the
	// batch commits.
	committed []func()
	done      chan struct{}
}

// maxBatch bounds how many Updates share one commit.
const maxBatch = 256

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		// FULL: a commit is on disk before Update returns, so nothing
		// acknowledged is lost even when the machine loses power.
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(ON)")
		// A 32 MiB page cache per connection keeps the upper levels of the
		// B-trees of a big pool in memory (the default is 2 MiB). No
		// mmap: it showed no gain and would count the whole database in
		// the process's resident memory.
		q.Add("_pragma", "cache_size(-32768)")
		// Savepoint and statement journals in memory: otherwise every
		// group commit creates and unlinks a temporary file.
		q.Add("_pragma", "temp_store(MEMORY)")
		// When the WAL starts over, its file is cut back to 64 MiB.
		q.Add("_pragma", "journal_size_limit(67108864)")
		for _, p := range extra {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}
	// The writer never checkpoints on its own (see checkpointer).
	// The writer's page cache is 8 MiB: at the end of every transaction
	// SQLite walks its page cache's hash table (pcache1TruncateUnsafe),
	// which took 12 % of the CPU of guest writes at 1M identities with
	// 32 MiB; with 8 MiB guest writes ran 5 % faster there and no slower
	// at 200,000.
	w, err := sql.Open("sqlite", dsn("wal_autocheckpoint(0)", "cache_size(-8192)"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)*2))
	r.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)*2))
	ck, err := sql.Open("sqlite", dsn("wal_autocheckpoint(0)"))
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	wc, err := w.Conn(ctx)
	if err != nil {
		ck.Close()
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Read-only is enough for fsync, which flushes the file whatever
	// descriptor it is called on.
	dbFile, err := os.Open(path)
	if err != nil {
		wc.Close()
		ck.Close()
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{w: w, dbFile: dbFile, wc: wc, r: r, ws: newStmtCache(wc), rq: cachedQuerier{newStmtCache(r), r}, cache: readcache.New(0, nil),
		writes: make(chan *write, maxBatch), stop: make(chan struct{}), stopped: make(chan struct{}),
		ck: ck, ckWake: make(chan struct{}, 1), ckStopped: make(chan struct{})}
	go s.writer()
	if startCheckpointer {
		go s.checkpointer()
	} else {
		close(s.ckStopped)
	}
	return s, nil
}

// migrate applies, in order and one transaction each, the embedded
// migrations the database has not seen yet.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_ns INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	steps, err := store.ReadMigrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, m := range steps {
		if err := applyMigration(ctx, db, m.Version, m.SQL); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, version int, body string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?)`, version, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("sqlite: store is closed")

// Close waits for the queued writes, stops the writer and closes both
// connection pools. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.closeMu.Unlock()
	<-s.stopped
	<-s.ckStopped
	s.ws.close()
	s.rq.c.close()
	return errors.Join(s.wc.Close(), s.r.Close(), s.w.Close(), s.ck.Close(), s.dbFile.Close())
}

// Update runs fn inside the next group commit and returns once that
// commit is durable. fn runs exactly once, in a serial order with every
// other Update (SQLite has one writer), so it sees all writes committed
// before it.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.enqueue(&write{ctx: ctx, fn: fn, done: make(chan struct{})})
}

// CreateIdentity stores a guest identity in the next group commit. The
// guests of one batch are inserted with one multi-row statement: the
// single-writer cost of a guest is its share of one statement, not a
// statement and a savepoint of its own.
func (s *Store) CreateIdentity(ctx context.Context, id *store.Identity) error {
	return s.enqueue(&write{ctx: ctx, guest: id, done: make(chan struct{})})
}

// enqueue hands a write to the writer and waits for its commit.
func (s *Store) enqueue(w *write) error {
	ctx := w.ctx
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return ErrClosed
	}
	// Sending under closeMu keeps Close from stopping the writer while a
	// write is being queued; the writer drains the queue before it stops.
	select {
	case s.writes <- w:
		s.closeMu.Unlock()
	case <-ctx.Done():
		s.closeMu.Unlock()
		return ctx.Err()
	}
	<-w.done
	return w.err
}

// writer runs queued Updates in batches until the store is closed.
func (s *Store) writer() {
	defer close(s.stopped)
	batch := make([]*write, 0, maxBatch)
	for {
		var first *write
		select {
		case first = <-s.writes:
		case <-s.stop:
			// Drain what was queued before Close.
			for {
				select {
				case w := <-s.writes:
					s.observeBatch(1)
					s.commit([]*write{w})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case w := <-s.writes:
				batch = append(batch, w)
			default:
				break fill
			}
		}
		s.observeBatch(len(batch))
		s.commit(batch)
		// commit woke the batch's writers: their goroutines wait on this
		// goroutine's processor, behind it. Let them run before the next
		// batch, so that their answers go out now, not after the next
		// commit's statements (or after the runtime takes the processor
		// back during its fsync), and the requests that follow them join
		// the next batch instead of waiting for one more. Measured with
		// getid-guest at 32 in flight on 2 cores: about 10 % more guests
		// a second and 8 % less CPU per guest; no change at 128.
		runtime.Gosched()
		if s.walTail.Load() {
			// Between two batches no commit can come in: a checkpoint
			// here copies the WAL's tail and leaves it fully copied.
			s.walTail.Store(false)
			s.observedCheckpoint(s.wc)
		}
	}
}

// observeBatch tells the observer, if any, the size of a group commit about
// to run: before its writers are answered, so that whoever saw a write
// acknowledged sees its commit counted.
func (s *Store) observeBatch(writes int) {
	if o := s.observer(); o != nil {
		o.GroupCommitted(writes)
	}
}

// Checkpoints copy the committed pages of the WAL into the database file.
// SQLite runs them by default inside the commit that crosses 1,000 WAL
// pages, on the writer's path: every few dozen group commits the writer
// stopped to read and write a thousand pages (two system calls each) and
// fsync the database, which took a large share of its time and made the
// tail latency of writes. Here the writer never checkpoints by itself
// (wal_autocheckpoint=0); a goroutine with its own connection does, beside
// it, on the other core.
//
// A checkpoint beside the writer cannot leave the WAL empty while commits
// keep arriving, and SQLite starts the WAL file over only at a write
// transaction that finds it fully copied. So once the WAL is longer than
// walRestartFrames, the checkpointer checkpoints again and again, each
// round copying what was committed during the previous one, until a round
// copies fewer than walTailFrames; then the writer copies that small tail
// itself between two batches, and its next commit starts the WAL over.
const (
	checkpointPause = 25 * time.Millisecond
	walTailFrames   = 128
	maxTailRounds   = 8
)

// Variables for the tests, which drive checkpoints by hand.
var (
	walRestartFrames  int64 = 8192
	startCheckpointer       = true
)

// checkpointer runs a passive checkpoint after commits, at most one per
// checkpointPause, until the store is closed.
func (s *Store) checkpointer() {
	defer close(s.ckStopped)
	pause := time.NewTimer(0)
	for {
		select {
		case <-s.ckWake:
		case <-s.stopped:
			s.observedCheckpoint(s.ck)
			return
		}
		s.checkpointRound()
		pause.Reset(checkpointPause)
		select {
		case <-pause.C:
		case <-s.stopped:
			s.observedCheckpoint(s.ck)
			return
		}
	}
}

// checkpointRound checkpoints once and, if the WAL has grown past
// walRestartFrames, again until little is left, and asks the writer to
// copy the rest.
func (s *Store) checkpointRound() {
	frames, copied, ok := s.observedCheckpoint(s.ck)
	if !ok || frames <= walRestartFrames {
		startWriteback(s.dbFile)
		return
	}
	s.syncDB()
	for range maxTailRounds {
		_, now, ok := s.observedCheckpoint(s.ck)
		s.syncDB()
		if !ok {
			break
		}
		round := now - copied
		copied = now
		if round < walTailFrames {
			break
		}
	}
	s.walTail.Store(true)
}

// syncDB flushes the pages checkpoints wrote to the database file. SQLite
// fsyncs the database only after a checkpoint that reaches the end of the
// WAL, which one running beside the writer almost never does: without
// this, the pages of every round would wait in the kernel for the
// writer's tail checkpoint, whose fsync then took tens of milliseconds
// while every write waited. An error is left for SQLite's own sync before
// the WAL starts over to find and report.
func (s *Store) syncDB() { _ = s.dbFile.Sync() }

// observedCheckpoint runs checkpoint on q and tells the observer, if any,
// how long it took.
func (s *Store) observedCheckpoint(q querier) (frames, copied int64, ok bool) {
	o := s.observer()
	if o == nil {
		return checkpoint(q)
	}
	start := time.Now()
	frames, copied, ok = checkpoint(q)
	o.Checkpointed(time.Since(start))
	return frames, copied, ok
}

// observedCommit runs COMMIT (or the fault a test injected there) and
// tells the observer, if any, how long it took.
func (s *Store) observedCommit(ctx context.Context, q querier) error {
	o := s.observer()
	var start time.Time
	if o != nil {
		start = time.Now()
	}
	err := s.fault(faultCommit)
	if err == nil {
		_, err = q.ExecContext(ctx, "COMMIT")
	}
	if o != nil {
		o.Committed(time.Since(start))
	}
	return err
}

// checkpoint runs a passive checkpoint (it never waits for readers or the
// writer). frames is the length of the WAL, copied how much of it is in
// the database file; ok is false when the other side was checkpointing
// or the checkpoint failed (the frames then stay in the WAL, where
// readers find them, for the next checkpoint to copy).
func checkpoint(q querier) (frames, copied int64, ok bool) {
	var busy int64
	err := q.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, copied, err == nil && busy == 0
}

// commit runs a batch in one transaction and reports to every caller.
//
// The transaction is driven with plain BEGIN/COMMIT statements on the
// writer's connection rather than a database/sql Tx: a Tx would prepare
// every cached statement again on each use (Tx.Stmt cannot reuse a
// statement prepared on a Conn), and parsing SQL cost more than running it.
func (s *Store) commit(batch []*write) {
	defer func() {
		for _, w := range batch {
			close(w.done)
		}
	}()
	ctx := context.Background()
	q := cachedQuerier{c: s.ws, db: s.wc}
	err := s.fault(faultBegin)
	if err == nil {
		_, err = q.ExecContext(ctx, "BEGIN IMMEDIATE")
	}
	if err != nil {
		for _, w := range batch {
			w.err = fmt.Errorf("sqlite: begin: %w", err)
		}
		return
	}
	committed := false
	defer func() {
		if !committed {
			// Ends the transaction whatever happened; an error only says
			// that SQLite had already rolled it back.
			_, _ = q.ExecContext(ctx, "ROLLBACK")
		}
	}()
	t := &tx{q: q}
	applied := 0
	// Anything but a guest insert may change what the read cache holds.
	changes := false
	var guests []*write
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			continue
		}
		if w.guest != nil {
			guests = append(guests, w)
			continue
		}
		t.committed = nil
		if len(batch) == 1 {
			// Alone in the batch: no savepoint needed, a failure rolls
			// back the whole transaction.
			if w.err = w.fn(t); w.err != nil {
				return
			}
			w.committed = t.committed
			applied++
			changes = true
			continue
		}
		if _, err := q.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			w.err = fmt.Errorf("sqlite: savepoint: %w", err)
			continue
		}
		if w.err = w.fn(t); w.err != nil {
			if _, err := q.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				// The transaction can no longer be trusted (SQLite rolls
				// it back whole on a full disk or an I/O error): fail the
				// batch, with the error that ended it.
				s.failAll(batch, fmt.Errorf("sqlite: transaction ended by %w (rollback to savepoint: %v)", w.err, err))
				return
			}
		}
		if _, err := q.ExecContext(ctx, "RELEASE w"); err != nil {
			s.failAll(batch, fmt.Errorf("sqlite: release savepoint: %w", err))
			return
		}
		if w.err == nil {
			applied++
			changes = true
			w.committed = t.committed
		}
	}
	inserted, err := s.insertGuests(ctx, t, guests)
	if err != nil {
		// The transaction may be gone: nothing of the batch commits.
		s.failAll(batch, fmt.Errorf("sqlite: insert guests: %w", err))
		return
	}
	applied += inserted
	if applied == 0 {
		return
	}
	err = s.observedCommit(ctx, q)
	if changes {
		// Even when COMMIT reports an error: what it did is not known.
		s.cache.Invalidate()
	}
	if err != nil {
		s.failAll(batch, fmt.Errorf("sqlite: commit: %w", err))
		return
	}
	committed = true
	for _, w := range batch {
		if w.err == nil {
			for _, f := range w.committed {
				f()
			}
		}
	}
	select {
	case s.ckWake <- struct{}{}:
	default:
	}
}

// guestChunks are the row counts of the multi-row guest inserts: a batch
// is cut into chunks of these sizes so that each statement text is one of
// a few, prepared once and cached. Powers of two cut any batch into at
// most one statement per size (a batch of 31 is 16+8+4+2+1: five
// statements; with 64, 16 and 4 alone it was seven), which saved about
// 8 % of the store's CPU per guest (BenchmarkCreateGuest).
var guestChunks = [...]int{64, 32, 16, 8, 4, 2}

// guestInsertSQL holds the statement text of each chunk size.
var guestInsertSQL = func() map[int]string {
	m := map[int]string{}
	for _, n := range guestChunks {
		m[n] = `INSERT INTO identities (` + identityColumns + `) VALUES (?, ?, ?, ?, ?)` +
			strings.Repeat(", (?, ?, ?, ?, ?)", n-1)
	}
	return m
}()

// insertGuests inserts the guest identities of a batch, a chunk of rows
// per statement; if a chunk breaks a constraint (a taken id, a pool
// deleted in the same batch), each of its rows is inserted alone so that
// only the faulty ones fail. It returns how many were inserted.
//
// Any other failure (a full disk, an I/O error) may have made SQLite roll
// back the whole transaction, after which every further statement would
// commit on its own: insertGuests then stops and returns the error, and
// the batch must fail as a whole.
func (s *Store) insertGuests(ctx context.Context, t *tx, guests []*write) (int, error) {
	n := 0
	args := make([]any, 0, 5*guestChunks[0])
	for len(guests) > 0 {
		size := 1
		for _, c := range guestChunks {
			if len(guests) >= c {
				size = c
				break
			}
		}
		chunk := guests[:size]
		guests = guests[size:]
		if size > 1 {
			args = args[:0]
			for _, w := range chunk {
				g := w.guest
				args = append(args, g.ID, g.PoolID, g.CreatedAt.UnixNano(), g.UpdatedAt.UnixNano(), g.Disabled)
			}
			_, err := t.q.ExecContext(ctx, guestInsertSQL[size], args...)
			if err == nil {
				n += size
				continue
			}
			if !statementOnly(err) {
				return n, err
			}
		}
		for _, w := range chunk {
			w.err = t.InsertIdentity(w.ctx, w.guest)
			switch {
			case w.err == nil:
				n++
			case !statementOnly(w.err):
				return n, w.err
			}
		}
	}
	return n, nil
}

// statementOnly reports whether SQLite undid only the failed statement,
// leaving the transaction open: a constraint violation (which the tx's
// methods report as store.ErrExists or store.ErrNotFound).
func statementOnly(err error) bool {
	if errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrNotFound) {
		return true
	}
	var se *msqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// failAll reports err to every write of the batch that had succeeded:
// their changes were not committed.
func (s *Store) failAll(batch []*write, err error) {
	for _, w := range batch {
		if w.err == nil {
			w.err = err
		}
	}
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader implements store.Reader on any querier.
type reader struct{ q querier }

// tx is the transaction of a group commit. committed collects, for the
// write whose function is running, the changes to its caller's records
// that take effect only if the group commits.
type tx struct {
	q         querier
	committed []func()
}

func (t *tx) GetPool(ctx context.Context, id string) (*store.Pool, error) {
	return reader{t.q}.GetPool(ctx, id)
}

func (t *tx) ListPools(ctx context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	return reader{t.q}.ListPools(ctx, account, region, after, limit)
}

func (t *tx) CountPools(ctx context.Context, account, region string) (int, error) {
	return reader{t.q}.CountPools(ctx, account, region)
}

// Ping implements store.Store: a read on the read connections.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("%w: sqlite: %w", store.ErrUnavailable, err)
	}
	return nil
}

// GetPool implements store.Reader outside a transaction.
func (s *Store) GetPool(ctx context.Context, id string) (*store.Pool, error) {
	return reader{s.rq}.GetPool(ctx, id)
}

// ListPools implements store.Reader outside a transaction.
func (s *Store) ListPools(ctx context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	return reader{s.rq}.ListPools(ctx, account, region, after, limit)
}

// CountPools implements store.Reader outside a transaction.
func (s *Store) CountPools(ctx context.Context, account, region string) (int, error) {
	return reader{s.rq}.CountPools(ctx, account, region)
}

const poolColumns = `id, account, region, created_ns, updated_ns, version, config`

func scanPool(sc interface{ Scan(...any) error }) (*store.Pool, error) {
	var (
		p                store.Pool
		created, updated int64
		config           []byte
	)
	if err := sc.Scan(&p.ID, &p.Account, &p.Region, &created, &updated, &p.Version, &config); err != nil {
		return nil, err
	}
	p.CreatedAt = time.Unix(0, created).UTC()
	p.UpdatedAt = time.Unix(0, updated).UTC()
	if err := store.UnmarshalPoolConfig(config, &p); err != nil {
		return nil, fmt.Errorf("sqlite: pool %s: corrupt configuration: %w", p.ID, err)
	}
	return &p, nil
}

func (r reader) GetPool(ctx context.Context, id string) (*store.Pool, error) {
	p, err := scanPool(r.q.QueryRowContext(ctx, `SELECT `+poolColumns+` FROM pools WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get pool: %w", err)
	}
	return p, nil
}

func (r reader) ListPools(ctx context.Context, account, region string, after *store.PoolCursor, limit int) ([]*store.Pool, error) {
	var (
		where = []string{"1"}
		args  []any
	)
	if account != "" {
		where = append(where, "account = ?")
		args = append(args, account)
	}
	if region != "" {
		where = append(where, "region = ?")
		args = append(args, region)
	}
	if after != nil {
		where = append(where, "(created_ns, id) > (?, ?)")
		args = append(args, after.CreatedAt.UnixNano(), after.ID)
	}
	args = append(args, limit)
	rows, err := r.q.QueryContext(ctx, `SELECT `+poolColumns+` FROM pools WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_ns, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list pools: %w", err)
	}
	defer rows.Close()
	var out []*store.Pool
	for rows.Next() {
		p, err := scanPool(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list pools: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list pools: %w", err)
	}
	return out, nil
}

func (r reader) CountPools(ctx context.Context, account, region string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM pools WHERE account = ? AND region = ?`, account, region).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count pools: %w", err)
	}
	return n, nil
}

func (t *tx) InsertPool(ctx context.Context, p *store.Pool) error {
	config, err := store.MarshalPoolConfig(p)
	if err != nil {
		return err
	}
	p.Version = 1
	res, err := t.q.ExecContext(ctx, `INSERT INTO pools (`+poolColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		p.ID, p.Account, p.Region, p.CreatedAt.UnixNano(), p.UpdatedAt.UnixNano(), p.Version, config)
	if err != nil {
		return fmt.Errorf("sqlite: insert pool: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrExists
	}
	return nil
}

func (t *tx) UpdatePool(ctx context.Context, p *store.Pool) error {
	config, err := store.MarshalPoolConfig(p)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE pools SET updated_ns = ?, version = version + 1, config = ?
		WHERE id = ? AND version = ?`, p.UpdatedAt.UnixNano(), config, p.ID, p.Version)
	if err != nil {
		return fmt.Errorf("sqlite: update pool: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := (reader{t.q}).GetPool(ctx, p.ID); err != nil {
			return err
		}
		return store.ErrConflict
	}
	next := p.Version + 1
	t.committed = append(t.committed, func() { p.Version = next })
	return nil
}

func (t *tx) DeletePool(ctx context.Context, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM pools WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete pool: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
