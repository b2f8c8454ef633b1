package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go"
	"github.com/go-jose/go-jose/v4"

	"github.com/idpool/idpool/internal/bench"
	"github.com/idpool/idpool/internal/seal"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/store/sqlite"
	"github.com/idpool/idpool/internal/testpg"
	"github.com/idpool/idpool/test/e2e"
)

// liveServer is an in-process idpool server on a store.
type liveServer struct {
	http  *httptest.Server
	srv   *server.Server
	admin *cognitoidentity.Client // signs as account 111111111111
}

func startServer(t *testing.T, st store.Store, secrets [][]byte) *liveServer {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	srv, err := server.New(server.Options{Store: st, Secrets: secrets, IssuerURL: "http://" + hs.Listener.Addr().String(), StoreIsPrivate: true})
	if err != nil {
		hs.Close()
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return &liveServer{http: hs, srv: srv, admin: e2e.NewCognito(hs.URL, hs.Client(), credentials.NewStaticCredentialsProvider("111111111111", "secret", ""))}
}

// verify checks a token's signature against the server's JWKS and returns
// its subject and key id.
func (s *liveServer) verify(t *testing.T, token string) (sub, kid string) {
	t.Helper()
	resp, err := s.http.Client().Get(s.http.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		t.Fatal(err)
	}
	kid = jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("the JWKS publishes %d keys with the token's kid %s", len(keys), kid)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("token signed by %s does not verify against the JWKS: %v", kid, err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Sub, kid
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}

func noEnv(string) string { return "" }

// cmd runs one of the dump commands in-process, failing the test unless
// it exits 0; it returns its stdout.
func cmd(t *testing.T, name string, args []string, stdin []byte) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var code int
	switch name {
	case "export":
		code = exportCmd(args, noEnv, &stdout, &stderr)
	case "import":
		code = importCmd(args, noEnv, bytes.NewReader(stdin), &stdout, &stderr)
	case "backup":
		code = backupCmd(args, noEnv, &stdout, &stderr)
	}
	if code != 0 {
		t.Fatalf("idpool %s %v: exit code %d\n%s", name, args, code, stderr.String())
	}
	return stdout.Bytes()
}

// body is a stream without its header line, which holds the export time.
func body(stream []byte) string {
	_, rest, _ := strings.Cut(string(stream), "\n")
	return rest
}

func writeSecret(t *testing.T, path string) [][]byte {
	t.Helper()
	text, err := seal.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets, err := seal.ParseSecrets(text)
	if err != nil {
		t.Fatal(err)
	}
	return secrets
}

// TestExportImportThroughServers moves a server's data from SQLite to
// PostgreSQL and back with the commands, and checks through the API of a
// server on each copy that nothing was lost: tokens signed before the
// move verify against the new server's JWKS, developer users are found,
// identities keep their dates, a merged-away identity stays forbidden;
// and the last copy exports byte for byte what the first did.
func TestExportImportThroughServers(t *testing.T) {
	dsn := testpg.DSN(t)
	ctx := t.Context()
	srcDir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(srcDir, 0o700); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	secrets := writeSecret(t, secretFile)

	// The source: a server on SQLite, used through the SDK.
	st, err := sqlite.Open(ctx, filepath.Join(srcDir, "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	src := startServer(t, st, secrets)
	pool, err := src.admin.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String("moving"),
		AllowUnauthenticatedIdentities: true,
		DeveloperProviderName:          aws.String("login.example.dev"),
		SupportedLoginProviders:        map[string]string{"graph.facebook.com": "fb-app"},
		IdentityPoolTags:               map[string]string{"team": "identity"},
	})
	if err != nil {
		t.Fatal(err)
	}
	poolID := aws.ToString(pool.IdentityPoolId)
	guest, err := src.admin.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: pool.IdentityPoolId})
	if err != nil {
		t.Fatal(err)
	}
	guestToken, err := src.admin.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: guest.IdentityId})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := src.admin.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: pool.IdentityPoolId, Logins: map[string]string{"graph.facebook.com": "facebook-1"}})
	if err != nil {
		t.Fatal(err)
	}
	dev := map[string]string{}
	var devToken string
	for _, user := range []string{"alice", "bob", "carol"} {
		out, err := src.admin.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
			IdentityPoolId: pool.IdentityPoolId, Logins: map[string]string{"login.example.dev": user}})
		if err != nil {
			t.Fatal(err)
		}
		dev[user] = aws.ToString(out.IdentityId)
		if user == "alice" {
			devToken = aws.ToString(out.Token)
		}
	}
	// bob joins alice: bob's identity is disabled.
	if _, err := src.admin.MergeDeveloperIdentities(ctx, &cognitoidentity.MergeDeveloperIdentitiesInput{
		IdentityPoolId: pool.IdentityPoolId, DeveloperProviderName: aws.String("login.example.dev"),
		SourceUserIdentifier: aws.String("bob"), DestinationUserIdentifier: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	// A rotation: the key that signed the tokens retires but stays published.
	if _, err := src.srv.KeyRing().Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	ids := []string{aws.ToString(guest.IdentityId), aws.ToString(fb.IdentityId), dev["alice"], dev["bob"], dev["carol"]}
	described := map[string]*cognitoidentity.DescribeIdentityOutput{}
	for _, id := range ids {
		out, err := src.admin.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		described[id] = out
	}
	_, err = src.admin.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(dev["bob"])})
	forbidden := apiCode(err)
	if forbidden != "NotAuthorizedException" {
		t.Fatalf("bob's merged-away identity on the source: %v", err)
	}
	src.http.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// SQLite -> PostgreSQL, with the same secret.
	first := cmd(t, "export", []string{"--data-dir", srcDir}, nil)
	pg := testpg.Schema(t, dsn)
	out := cmd(t, "import", []string{"--store", pg, "--secret-file", secretFile}, first)
	if !strings.Contains(string(out), "imported 2 signing keys, 1 pools, 5 identities (4 logins)") {
		t.Errorf("import printed %q", out)
	}
	pst, err := postgres.Open(ctx, pg, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	moved := startServer(t, pst, secrets)
	checkMoved := func(t *testing.T, s *liveServer) {
		t.Helper()
		for token, want := range map[string]string{aws.ToString(guestToken.Token): aws.ToString(guest.IdentityId), devToken: dev["alice"]} {
			if sub, _ := s.verify(t, token); sub != want {
				t.Errorf("token of %s carries sub %s", want, sub)
			}
		}
		for user, want := range map[string]string{"alice": dev["alice"], "bob": dev["alice"], "carol": dev["carol"]} {
			got, err := s.admin.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{
				IdentityPoolId: aws.String(poolID), DeveloperUserIdentifier: aws.String(user)})
			if err != nil || aws.ToString(got.IdentityId) != want {
				t.Errorf("LookupDeveloperIdentity(%s) = %v, %v; want %s", user, got, err, want)
			}
		}
		for _, id := range ids {
			got, err := s.admin.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			want := described[id]
			if !got.CreationDate.Equal(*want.CreationDate) || !got.LastModifiedDate.Equal(*want.LastModifiedDate) || fmt.Sprint(got.Logins) != fmt.Sprint(want.Logins) {
				t.Errorf("DescribeIdentity(%s) = %v %v %v, before the move %v %v %v", id,
					got.CreationDate, got.LastModifiedDate, got.Logins, want.CreationDate, want.LastModifiedDate, want.Logins)
			}
		}
		_, err := s.admin.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(dev["bob"])})
		if code := apiCode(err); code != forbidden {
			t.Errorf("bob's merged-away identity after the move: %v, want %s", err, forbidden)
		}
		// The moved server signs with the moved keys.
		fresh, err := s.admin.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: guest.IdentityId})
		if err != nil {
			t.Fatal(err)
		}
		if _, kid := s.verify(t, aws.ToString(fresh.Token)); !strings.HasPrefix(kid, "us-east-1") {
			t.Errorf("a new token is signed by %s", kid)
		}
	}
	checkMoved(t, moved)
	moved.http.Close()

	// PostgreSQL -> a new SQLite data directory: the same stream again.
	second := cmd(t, "export", []string{"--store", pg, "--secret-file", secretFile}, nil)
	back := filepath.Join(t.TempDir(), "back")
	cmd(t, "import", []string{"--data-dir", back, "--secret-file", secretFile}, second)
	third := cmd(t, "export", []string{"--data-dir", back}, nil)
	if body(second) != body(first) || body(third) != body(first) {
		t.Errorf("the exports differ:\n%s\n%s\n%s", first, second, third)
	}

	// To a server with a secret of its own: the keys are re-sealed.
	resealed := filepath.Join(t.TempDir(), "resealed")
	cmd(t, "import", []string{"--data-dir", resealed, "--reseal", secretFile}, first)
	text, err := os.ReadFile(filepath.Join(resealed, "secret"))
	if err != nil {
		t.Fatalf("no secret generated for the target: %v", err)
	}
	own, err := seal.ParseSecrets(string(text))
	if err != nil {
		t.Fatal(err)
	}
	rst, err := sqlite.Open(ctx, filepath.Join(resealed, "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer rst.Close()
	checkMoved(t, startServer(t, rst, own))
}

// TestDumpCommandsRefuse: every refusal says why, and creates nothing.
func TestDumpCommandsRefuse(t *testing.T) {
	// A stream with keys, from a data directory that keys init set up.
	srcDir := filepath.Join(t.TempDir(), "src")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"keys", "init", "--data-dir", srcDir}, noEnv, &stdout, &stderr); code != 0 {
		t.Fatalf("keys init: %d\n%s", code, stderr.String())
	}
	stream := cmd(t, "export", []string{"--data-dir", srcDir}, nil)
	otherSecret := filepath.Join(t.TempDir(), "other")
	writeSecret(t, otherSecret)
	existing := filepath.Join(t.TempDir(), "existing.db")
	if err := os.WriteFile(existing, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		cmd    string
		args   []string // DIR stands for a data directory that does not exist
		stdin  string
		code   int
		stderr []string
	}{
		{"export -h", "export", []string{"-h"}, "", 0, []string{"usage: idpool export", "-data-dir"}},
		{"import -h", "import", []string{"--help"}, "", 0, []string{"usage: idpool import", "--merge", "--reseal", "-store"}},
		{"backup -h", "backup", []string{"-h"}, "", 0, []string{"usage: idpool backup FILE", "-data-dir"}},
		{"export without a database", "export", []string{"--data-dir", "DIR"}, "", 1, []string{"idpool: no database at DIR/idpool.db: nothing to export"}},
		{"export of the memory store", "export", []string{"--store", "memory"}, "", 1, []string{"nothing to export"}},
		{"export with an argument", "export", []string{"--data-dir", "DIR", "out.jsonl"}, "", 1, []string{"unexpected arguments: out.jsonl"}},
		{"import of no export", "import", []string{"--data-dir", "DIR"}, "hello\n", 1, []string{"idpool: line 1: not an idpool export"}},
		{"import of nothing", "import", []string{"--data-dir", "DIR"}, "", 1, []string{"empty input"}},
		{"import without a secret", "import", []string{"--data-dir", "DIR"}, string(stream), 1,
			[]string{"this server has no secret yet", "--reseal"}},
		{"import with another secret", "import", []string{"--data-dir", "DIR", "--secret-file", otherSecret}, string(stream), 1,
			[]string{"signing key does not open with the server secret: key us-east-11: import with the secret of the server the export came from", "--reseal"}},
		{"import re-sealing from another secret", "import", []string{"--data-dir", "DIR", "--reseal", otherSecret}, string(stream), 1,
			[]string{"nor with the --reseal secret"}},
		{"import with a missing --reseal file", "import", []string{"--data-dir", "DIR", "--reseal", "/nonexistent/secret"}, string(stream), 1, []string{"--reseal: open /nonexistent/secret"}},
		{"import into the memory store", "import", []string{"--store", "memory"}, string(stream), 1, []string{"--store memory lives as long as its process"}},
		{"import with --reseal and no file", "import", []string{"--data-dir", "DIR", "--reseal"}, string(stream), 1, []string{"--reseal needs a value"}},
		{"backup without a file", "backup", []string{"--data-dir", "DIR"}, "", 2, []string{"usage: idpool backup FILE"}},
		{"backup of PostgreSQL", "backup", []string{"x.db", "--store", "postgres://localhost/idpool", "--secret-file", otherSecret}, "", 1, []string{"pg_dump", "idpool export"}},
		{"backup without a database", "backup", []string{"--data-dir", "DIR", "x.db"}, "", 1, []string{"no database at DIR/idpool.db: nothing to back up"}},
		{"backup onto a file", "backup", []string{"--data-dir", srcDir, existing}, "", 1, []string{existing + " exists: a backup never replaces a file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			var args []string
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "DIR", dir))
			}
			var stdout, stderr bytes.Buffer
			var code int
			switch tt.cmd {
			case "export":
				code = exportCmd(args, noEnv, &stdout, &stderr)
			case "import":
				code = importCmd(args, noEnv, strings.NewReader(tt.stdin), &stdout, &stderr)
			case "backup":
				code = backupCmd(args, noEnv, &stdout, &stderr)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			for _, want := range tt.stderr {
				if want = strings.ReplaceAll(want, "DIR", dir); !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
				}
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("data directory created (%v)", err)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep" {
		t.Errorf("backup changed an existing file: %q", b)
	}
}

// TestImportMergeCommand: a second import into the same store is refused
// unless --merge, which then skips what is there.
func TestImportMergeCommand(t *testing.T) {
	srcDir := filepath.Join(t.TempDir(), "src")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"keys", "init", "--data-dir", srcDir}, noEnv, &stdout, &stderr); code != 0 {
		t.Fatalf("keys init: %d\n%s", code, stderr.String())
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(srcDir, "idpool.db"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := &store.Pool{ID: "us-east-1:00000000-0000-4000-8000-000000000001", Account: "111111111111", Region: "us-east-1", Name: "p", CreatedAt: at, UpdatedAt: at}
	if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.InsertPool(context.Background(), p) }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	stream := cmd(t, "export", []string{"--data-dir", srcDir}, nil)
	secret := filepath.Join(srcDir, "secret")
	dst := filepath.Join(t.TempDir(), "dst")
	cmd(t, "import", []string{"--data-dir", dst, "--secret-file", secret}, stream)

	stderr.Reset()
	if code := importCmd([]string{"--data-dir", dst, "--secret-file", secret}, noEnv, bytes.NewReader(stream), &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "the target store is not empty: it holds identity pools ("+p.ID+" among them)") ||
		!strings.Contains(stderr.String(), "--merge") {
		t.Errorf("a second import: exit code %d\n%s", code, stderr.String())
	}
	out := cmd(t, "import", []string{"--data-dir", dst, "--secret-file", secret, "--merge"}, stream)
	if want := "imported 0 signing keys, 0 pools, 0 identities (0 logins) into sqlite:" + filepath.Join(dst, "idpool.db"); !strings.HasPrefix(string(out), want) ||
		!strings.Contains(string(out), "already there: 1 signing keys, 1 pools") {
		t.Errorf("merge printed %q", out)
	}
}

// TestBackupCommand backs up a data directory and restores the copy into
// another one: the restored store exports what the original does.
func TestBackupCommand(t *testing.T) {
	srcDir := filepath.Join(t.TempDir(), "src")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"keys", "init", "--data-dir", srcDir}, noEnv, &stdout, &stderr); code != 0 {
		t.Fatalf("keys init: %d\n%s", code, stderr.String())
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if err := os.Mkdir(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(restored, "idpool.db")
	out := cmd(t, "backup", []string{dest, "--data-dir", srcDir}, nil)
	if !strings.HasPrefix(string(out), "backed up "+filepath.Join(srcDir, "idpool.db")+" to "+dest) {
		t.Errorf("backup printed %q", out)
	}
	if a, b := cmd(t, "export", []string{"--data-dir", srcDir}, nil), cmd(t, "export", []string{"--data-dir", restored}, nil); body(a) != body(b) {
		t.Errorf("the restored copy exports\n%s\nthe original\n%s", b, a)
	}
	var stderr2 bytes.Buffer
	if code := backupCmd([]string{"--data-dir", srcDir, dest}, noEnv, io.Discard, &stderr2); code != 1 {
		t.Errorf("a second backup onto the same file: exit code %d", code)
	}
}

// TestExportImportScale measures export and import of a pool of many
// identities with the built binary, each command a child process whose
// peak resident memory the kernel reports (getrusage of the child). It
// runs only when IDPOOL_DUMP_SCALE lists the sizes, e.g.
// IDPOOL_DUMP_SCALE=10000,100000; with IDPOOL_TEST_POSTGRES set it moves
// each size into PostgreSQL and exports it from there too. The figures of
// docs/operations.md come from it.
func TestExportImportScale(t *testing.T) {
	sizes := os.Getenv("IDPOOL_DUMP_SCALE")
	if sizes == "" {
		t.Skip("IDPOOL_DUMP_SCALE is not set (e.g. 10000,100000)")
	}
	bin := buildBinary(t, "scale")
	dsn := os.Getenv("IDPOOL_TEST_POSTGRES")
	for _, field := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			t.Fatal(err)
		}
		src := filepath.Join(t.TempDir(), "src")
		var stdout, stderr bytes.Buffer
		if code := run([]string{"keys", "init", "--data-dir", src}, noEnv, &stdout, &stderr); code != 0 {
			t.Fatalf("keys init: %s", stderr.String())
		}
		seeded, err := bench.BulkSeed(t.Context(), bench.SeedOptions{DataDir: src, N: n, DeveloperPercent: 30, FacebookPercent: 30})
		if err != nil {
			t.Fatal(err)
		}
		secret := filepath.Join(src, "secret")
		file := filepath.Join(t.TempDir(), "export.jsonl")
		measure := func(what string, stdin, stdout string, args ...string) {
			t.Helper()
			elapsed, peak := peakRSS(t, bin, stdin, stdout, args...)
			t.Logf("%d identities: %-22s %6.2fs  peak RSS %5.1f MiB  (%.0f identities/s)", n, what, elapsed.Seconds(), float64(peak)/(1<<20), float64(n)/elapsed.Seconds())
		}
		measure("export from SQLite", "", file, "export", "--data-dir", src)
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d identities (%d developer users, %d Facebook): export file %d bytes (%.0f bytes per identity)",
			n, seeded.Developers, seeded.Facebook, fi.Size(), float64(fi.Size())/float64(n))
		dst := filepath.Join(t.TempDir(), "dst")
		measure("import into SQLite", file, "", "import", "--data-dir", dst, "--secret-file", secret)
		if dsn != "" {
			pg := testpg.Schema(t, dsn)
			measure("import into PostgreSQL", file, "", "import", "--store", pg, "--secret-file", secret)
			again := filepath.Join(t.TempDir(), "again.jsonl")
			measure("export from PostgreSQL", "", again, "export", "--store", pg, "--secret-file", secret)
			a, _ := os.ReadFile(file)
			b, _ := os.ReadFile(again)
			if body(a) != body(b) {
				t.Errorf("%d identities: the export from PostgreSQL differs from the one from SQLite", n)
			}
		}
	}
}

// peakRSS runs bin with args as a child process and returns how long it
// took and its peak resident memory in bytes. The child's rusage cannot
// tell: Go starts children with vfork, so the kernel counts the parent's
// memory as the child's until exec. GNU time forks from a small process;
// without it, the child's VmHWM is read from /proc until it exits.
func peakRSS(t *testing.T, bin, stdin, stdout string, args ...string) (time.Duration, int64) {
	t.Helper()
	var c *exec.Cmd
	timeFile := filepath.Join(t.TempDir(), "time")
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err == nil {
		c = exec.Command(gnuTime, append([]string{"-o", timeFile, "-f", "%M", bin}, args...)...)
	} else {
		c = exec.Command(bin, args...)
	}
	c.Env = []string{"PATH=" + os.Getenv("PATH")}
	var errOut bytes.Buffer
	c.Stderr = &errOut
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		c.Stdin = f
	}
	if stdout != "" {
		f, err := os.Create(stdout)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		c.Stdout = f
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var hwm int64
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%v: %v\n%s", args, err, errOut.String())
			}
			waiting = false
		case <-time.After(5 * time.Millisecond):
			if gnuTime == "" {
				hwm = max(hwm, vmHWM(c.Process.Pid))
			}
		}
	}
	elapsed := time.Since(start)
	if gnuTime != "" {
		text, err := os.ReadFile(timeFile)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(string(text)), 10, 64)
		if err != nil {
			t.Fatalf("GNU time wrote %q", text)
		}
		hwm = kb << 10
	}
	return elapsed, hwm
}

// vmHWM reads a process's peak resident memory from /proc; 0 if it is gone.
func vmHWM(pid int) int64 {
	text, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(text), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
