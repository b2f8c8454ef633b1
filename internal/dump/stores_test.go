package dump_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/store/sqlite"
	"github.com/idpool/idpool/internal/testpg"
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

// openPostgres opens a store in a schema of its own, dropped when the test
// ends: every test starts from an empty database.
func openPostgres(t *testing.T, dsn string) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), testpg.Schema(t, dsn), postgres.Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
