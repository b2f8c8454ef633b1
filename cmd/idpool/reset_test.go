package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// TestResetCommand drives idpool reset on data directories: one without a
// database, one that looks in use, and one it resets.
func TestResetCommand(t *testing.T) {
	noEnv := func(string) string { return "" }
	reset := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"reset"}, args...), noEnv, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	t.Run("no database", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		code, _, stderr := reset("--data-dir", dir)
		if code != 1 || !strings.Contains(stderr, "idpool: no database at "+filepath.Join(dir, "idpool.db")+": nothing to reset") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("data directory created (%v)", err)
		}
	})

	t.Run("a database in use, then --force", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if code, _, stderr := reset("--data-dir", dir); code != 1 || stderr == "" {
			t.Fatalf("exit %d", code)
		}
		seedDB(t, dir)
		// What a killed server leaves behind.
		wal := filepath.Join(dir, "idpool.db-wal")
		if err := os.WriteFile(wal, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := reset("--data-dir", dir)
		if code != 1 || !strings.Contains(stderr, "a server seems to be running on "+dir+" ("+wal+" exists)") || !strings.Contains(stderr, "--force") {
			t.Errorf("in use: exit %d\n%s", code, stderr)
		}
		if n := countPools(t, dir); n != 2 {
			t.Errorf("%d pools after a refused reset, want 2", n)
		}
		code, stdout, stderr := reset("--force", "--data-dir", dir)
		if code != 0 || stdout != "reset: 2 pools deleted, 0 pools seeded\n" {
			t.Errorf("--force: exit %d, stdout %q\n%s", code, stdout, stderr)
		}
		if n := countPools(t, dir); n != 0 {
			t.Errorf("%d pools after the reset, want 0", n)
		}
	})

	t.Run("keys and secret stay, nothing else is written", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		seedDB(t, dir)
		keys := signingKeys(t, dir)
		secret, err := os.ReadFile(filepath.Join(dir, "secret"))
		if err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := reset("--data-dir", dir, "--seed", exampleSeed)
		if code != 0 || stdout != "reset: 2 pools deleted, 1 pools seeded\n" {
			t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
		}
		if after := signingKeys(t, dir); !reflect.DeepEqual(after, keys) {
			t.Errorf("signing keys changed")
		}
		if after, _ := os.ReadFile(filepath.Join(dir, "secret")); !bytes.Equal(after, secret) {
			t.Errorf("secret changed")
		}
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !reflect.DeepEqual(names, []string{"idpool.db", "secret"}) {
			t.Errorf("data directory holds %v", names)
		}
	})

	t.Run("help", func(t *testing.T) {
		code, _, stderr := reset("-h")
		if code != 0 || !strings.Contains(stderr, "-seed") || !strings.Contains(stderr, "-allow-reset") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
	})
}

// seedDB makes a data directory with a database that holds two pools and
// a signing key, as a server leaves it.
func seedDB(t *testing.T, dir string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"keys", "init", "--data-dir", dir}, func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("keys init: %s", stderr.String())
	}
	withStore(t, dir, func(st store.Store) {
		for _, id := range []string{"us-east-1:aaaaaaaa-0000-4000-8000-000000000001", "eu-west-1:aaaaaaaa-0000-4000-8000-000000000002"} {
			region, _, _ := strings.Cut(id, ":")
			err := st.Update(context.Background(), func(tx store.Tx) error {
				return tx.InsertPool(context.Background(), &store.Pool{ID: id, Account: "000000000000", Region: region, Name: "p"})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

func withStore(t *testing.T, dir string, fn func(store.Store)) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	fn(st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func countPools(t *testing.T, dir string) int {
	t.Helper()
	var n int
	withStore(t, dir, func(st store.Store) {
		ps, err := st.ListPools(context.Background(), "", "", nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		n = len(ps)
	})
	return n
}

func signingKeys(t *testing.T, dir string) []*store.SigningKey {
	t.Helper()
	var keys []*store.SigningKey
	withStore(t, dir, func(st store.Store) {
		var err error
		if keys, err = st.ListSigningKeys(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	return keys
}
