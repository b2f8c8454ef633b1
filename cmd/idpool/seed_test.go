package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idpool/idpool/test/e2e"
)

// The README's seed example, as examples/seed.yaml holds it.
const (
	exampleSeed = "../../examples/seed.yaml"
	examplePool = "us-east-1:11111111-2222-4333-8444-555555555555"
)

// startWith starts the binary with args in dir with exactly the
// environment env (plus PATH), and kills it when the test ends if it still
// runs.
func startWith(t *testing.T, bin, dir string, env []string, args ...string) *process {
	t.Helper()
	p := &process{stderr: &e2e.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM and checks that the server exits 0.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM %d, want 0\n%s", code, p.stderr)
	}
}

// guestRole gets a guest identity of the pool and its credentials, and
// returns the ARN STS says they are.
func guestRole(t *testing.T, addr, pool string) string {
	t.Helper()
	ctx := context.Background()
	app := e2e.NewCognito("http://"+addr, nil, aws.AnonymousCredentials{})
	id, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
	if err != nil {
		t.Fatalf("GetId: %v", err)
	}
	out, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId})
	if err != nil {
		t.Fatalf("GetCredentialsForIdentity: %v", err)
	}
	c := out.Credentials
	who, err := e2e.NewSTS("http://"+addr, nil,
		credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken)),
	).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return aws.ToString(who.Arn)
}

// postReset sends POST /_idpool/reset, signed with key and secret unless
// key is "".
func postReset(t *testing.T, addr, key, secret string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/_idpool/reset", nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
			req, hex.EncodeToString(sum[:]), "cognito-identity", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestSeedBinary runs the README's seed example through the binary: the
// seeded pool answers GetId at its fixed id and gives guests the Guest
// role; the same seed at the next start changes nothing; a reset over
// HTTP, and idpool reset on the stopped data directory, bring it back.
func TestSeedBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t, "v0.0.0-seed")
	seedFile, err := filepath.Abs(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "data")

	srv := startServe(t, bin, dataDir, "--seed", seedFile)
	srv.waitLog(t, listeningLine) // every start-up line is in srv.stderr
	if arn := guestRole(t, srv.addr, examplePool); arn != "arn:aws:sts::000000000000:assumed-role/Guest/CognitoIdentityCredentials" {
		t.Errorf("the seeded pool's guest is %s", arn)
	}
	if !strings.Contains(srv.stderr.String(), "msg=audit action=pool.create account=000000000000 pool_id="+examplePool+" via=seed") {
		t.Errorf("no audit line for the seeded pool:\n%s", srv.stderr)
	}
	// A pool the seed does not list, for the reset to delete.
	c := client(srv.addr)
	if _, err := c.CreateIdentityPool(context.Background(), &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("extra"), AllowUnauthenticatedIdentities: true,
	}); err != nil {
		t.Fatal(err)
	}
	srv.stop(t)

	// The same seed again: nothing changes, nothing is audited.
	again := startServe(t, bin, dataDir, "--seed", seedFile)
	again.waitLog(t, listeningLine)
	if log := again.stderr.String(); strings.Contains(log, "msg=audit") || !strings.Contains(log, "created=0 updated=0 unchanged=1") {
		t.Errorf("second start with the same seed:\n%s", log)
	}
	status, body := postReset(t, again.addr, "", "")
	if status != http.StatusOK || body != `{"reset":true,"pools":1,"deleted":2}` {
		t.Errorf("POST /_idpool/reset: %d %s", status, body)
	}
	if arn := guestRole(t, again.addr, examplePool); !strings.HasSuffix(arn, ":assumed-role/Guest/CognitoIdentityCredentials") {
		t.Errorf("after the reset, the guest is %s", arn)
	}
	// idpool reset refuses while the server runs...
	var stdout, stderr bytes.Buffer
	noEnv := func(string) string { return "" }
	if code := run([]string{"reset", "--data-dir", dataDir, "--seed", seedFile}, noEnv, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "a server seems to be running on "+dataDir) {
		t.Errorf("idpool reset on a running server's data: exit %d\n%s", code, stderr.String())
	}
	again.stop(t)
	// ...and resets once it is stopped.
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"reset", "--data-dir", dataDir, "--seed", seedFile}, noEnv, &stdout, &stderr); code != 0 ||
		stdout.String() != "reset: 1 pools deleted, 1 pools seeded\n" {
		t.Errorf("idpool reset: exit %d, stdout %q\n%s", code, stdout.String(), stderr.String())
	}
	third := startServe(t, bin, dataDir, "--seed", seedFile)
	if arn := guestRole(t, third.addr, examplePool); !strings.HasSuffix(arn, ":assumed-role/Guest/CognitoIdentityCredentials") {
		t.Errorf("after idpool reset, the guest is %s", arn)
	}
	third.stop(t)
}

// TestSeedRefusedBeforeAnythingIsCreated checks that a bad seed refuses to
// start, naming the pool and the member, before the data directory is
// made.
func TestSeedRefusedBeforeAnythingIsCreated(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "seed.yaml")
	text := "pools:\n  - IdentityPoolId: " + examplePool + "\n    IdentityPoolName: 'not ok!'\n    AllowUnauthenticatedIdentities: true\n"
	if err := os.WriteFile(bad, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	for _, args := range [][]string{
		{"serve", "--data-dir", dataDir, "--seed", bad},
		{"reset", "--data-dir", dataDir, "--seed", bad},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, func(string) string { return "" }, &stdout, &stderr)
		want := "idpool: seed file " + bad + ": pool 1 (" + examplePool + "): IdentityPoolName: 1 validation error detected: " +
			"Value 'not ok!' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+ (line 3)\n"
		if code != 1 || stderr.String() != want {
			t.Errorf("%s: exit %d\n got  %s\n want %s", args[0], code, stderr.String(), want)
		}
		if _, err := os.Stat(dataDir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s created the data directory (%v)", args[0], err)
		}
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", "--data-dir", dataDir}, func(k string) string {
		if k == "IDPOOL_SEED" {
			return filepath.Join(dir, "missing.yaml")
		}
		return ""
	}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "idpool: IDPOOL_SEED \""+filepath.Join(dir, "missing.yaml")+"\" (environment): no such file") {
		t.Errorf("IDPOOL_SEED naming no file: exit %d\n%s", code, stderr.String())
	}
}

// TestMemoryStoreBinary runs serve --store memory with a home and a data
// home that do not exist, drives it, and checks that nothing was written
// anywhere.
func TestMemoryStoreBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t, "v0.0.0-memory")
	root := t.TempDir()
	work := filepath.Join(root, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	seedFile, err := filepath.Abs(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + filepath.Join(root, "home"), "XDG_DATA_HOME=" + filepath.Join(root, "xdg")}
	p := startWith(t, bin, work, env, "serve", "--store", "memory", "--listen", "127.0.0.1:0", "--seed", seedFile)
	p.waitLog(t, listeningLine)
	p.addr = listeningLine.FindStringSubmatch(p.stderr.String())[1]
	p.waitHealthy(t, http.DefaultClient, "http")
	if !strings.Contains(p.stderr.String(), "store=memory") {
		t.Errorf("the start line does not name the memory store:\n%s", p.stderr)
	}
	if strings.Contains(p.stderr.String(), "secret") {
		t.Errorf("the memory store logged something about a secret:\n%s", p.stderr)
	}

	ctx := context.Background()
	c := client(p.addr)
	pool, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("mem"), AllowUnauthenticatedIdentities: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: pool.IdentityPoolId,
		Roles:          map[string]string{"unauthenticated": "arn:aws:iam::000000000000:role/MemGuest"},
	}); err != nil {
		t.Fatal(err)
	}
	if arn := guestRole(t, p.addr, aws.ToString(pool.IdentityPoolId)); !strings.HasSuffix(arn, ":assumed-role/MemGuest/CognitoIdentityCredentials") {
		t.Errorf("guest of the new pool: %s", arn)
	}
	if arn := guestRole(t, p.addr, examplePool); !strings.HasSuffix(arn, ":assumed-role/Guest/CognitoIdentityCredentials") {
		t.Errorf("guest of the seeded pool: %s", arn)
	}
	if status, body := postReset(t, p.addr, "", ""); status != http.StatusOK || body != `{"reset":true,"pools":1,"deleted":2}` {
		t.Errorf("reset: %d %s", status, body)
	}
	p.stop(t)

	var made []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if path != root && path != work {
			made = append(made, path)
		}
		return nil
	})
	if len(made) > 0 {
		t.Errorf("--store memory wrote %v", made)
	}

	// The commands that work on stored data have nothing to work on.
	for _, args := range [][]string{{"reset", "--store", "memory"}, {"keys", "rotate", "--store", "memory"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, func(string) string { return "" }, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "--store memory keeps") {
			t.Errorf("idpool %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
		}
	}
}

// TestResetStrictBinary checks --allow-reset in strict mode: refused by
// default; with on, refused unsigned and done when signed with a
// configured key.
func TestResetStrictBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t, "v0.0.0-strict")
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("AKIDSTRICTRESET strict-reset-secret 000000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	strict := []string{"--auth", "strict", "--credentials-file", creds, "--store", "memory"}

	off := startServe(t, bin, filepath.Join(dir, "a"), strict...)
	status, body := postReset(t, off.addr, "AKIDSTRICTRESET", "strict-reset-secret")
	if status != http.StatusForbidden || !strings.Contains(body, `"__type":"AccessDeniedException"`) || !strings.Contains(body, "--allow-reset on") {
		t.Errorf("strict, signed, without --allow-reset: %d %s", status, body)
	}
	off.stop(t)

	on := startServe(t, bin, filepath.Join(dir, "b"), append(strict, "--allow-reset", "on")...)
	if status, body := postReset(t, on.addr, "", ""); status != http.StatusForbidden || !strings.Contains(body, "MissingAuthenticationTokenException") {
		t.Errorf("strict, --allow-reset on, unsigned: %d %s", status, body)
	}
	if status, body := postReset(t, on.addr, "AKIDSTRICTRESET", "wrong-secret-here"); status != http.StatusForbidden || !strings.Contains(body, "InvalidSignatureException") {
		t.Errorf("strict, --allow-reset on, wrong secret: %d %s", status, body)
	}
	if status, body := postReset(t, on.addr, "AKIDSTRICTRESET", "strict-reset-secret"); status != http.StatusOK || body != `{"reset":true,"pools":0,"deleted":0}` {
		t.Errorf("strict, --allow-reset on, signed: %d %s", status, body)
	}
	on.stop(t)
}
