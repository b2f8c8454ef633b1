package dump_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// backend opens fresh, empty stores of one kind.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

// backends are the stores an import and an export must work with. The
// PostgreSQL one needs IDPOOL_TEST_POSTGRES: without it it is left out,
// except under CI=true, where that fails the test.
func backends(t *testing.T) []backend {
	out := []backend{{"sqlite", openSQLite}, {"memory", openMemory}}
	dsn := os.Getenv("IDPOOL_TEST_POSTGRES")
	switch {
	case dsn != "":
		out = append(out, backend{"postgres", func(t *testing.T) store.Store { return openPostgres(t, dsn) }})
	case os.Getenv("CI") == "true":
		t.Fatal("IDPOOL_TEST_POSTGRES is not set: under CI=true the PostgreSQL tests must run")
	default:
		t.Log("IDPOOL_TEST_POSTGRES is not set: PostgreSQL left out (scripts/test sets it)")
	}
	return out
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openMemory(t *testing.T) store.Store {
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	return s
}

var schemaSeq atomic.Int64

// openPostgres opens a store in a schema of its own, dropped when the test
// ends: every test starts from an empty database.
func openPostgres(t *testing.T, dsn string) store.Store {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("dump%d_%d", time.Now().UnixNano(), schemaSeq.Add(1))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(ctx, u.String(), postgres.Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if c, err := pgx.Connect(context.Background(), dsn); err == nil {
			c.Exec(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
			c.Close(context.Background())
		}
	})
	return s
}
