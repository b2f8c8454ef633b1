package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/store/storetest"
)

// TestDSN returns the database the tests use: IDPOOL_TEST_POSTGRES. Without
// it the tests skip, except under CI=true, where a missing database fails
// the run (scripts/test starts a throwaway server).
func testDSN(t *testing.T) string {
	dsn := os.Getenv("IDPOOL_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("IDPOOL_TEST_POSTGRES is not set: under CI=true the PostgreSQL tests must run")
		}
		t.Skip("IDPOOL_TEST_POSTGRES is not set; scripts/test starts a throwaway PostgreSQL and sets it")
	}
	return dsn
}

var schemaSeq atomic.Int64

// freshSchema creates an empty schema and returns a DSN whose search_path
// is that schema, so every test starts from an empty database.
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano(), schemaSeq.Add(1))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
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

func TestConformance(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshSchema(t, dsn), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestMigrationsTogether opens one database from several replicas at once:
// the migrations run once and every replica ends up usable.
func TestMigrationsTogether(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	errs := make(chan error, 4)
	stores := make(chan *postgres.Store, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			errs <- err
			stores <- s
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		s := <-stores
		if _, err := s.CountPools(context.Background(), "123456789012", "us-east-1"); err != nil {
			t.Error(err)
		}
		s.Close()
	}
}
