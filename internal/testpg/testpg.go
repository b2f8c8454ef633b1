// Package testpg gives tests the PostgreSQL database of the test command
// (IDPOOL_TEST_POSTGRES, a throwaway server scripts/test starts) and an
// empty schema of their own in it. Only tests import it.
package testpg

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSN returns IDPOOL_TEST_POSTGRES. Without it the test skips, except
// under CI=true, where a missing database fails it: the PostgreSQL tests
// must run there.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("IDPOOL_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("IDPOOL_TEST_POSTGRES is not set: under CI=true the PostgreSQL tests must run")
		}
		t.Skip("IDPOOL_TEST_POSTGRES is not set; scripts/test starts a throwaway PostgreSQL and sets it")
	}
	return dsn
}

var seq atomic.Int64

// Schema creates an empty schema in the database of dsn, dropped when the
// test ends, and returns dsn with its search_path set to that schema: every
// test starts from an empty database.
func Schema(t testing.TB, dsn string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano(), seq.Add(1))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), dsn); err == nil {
			c.Exec(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
