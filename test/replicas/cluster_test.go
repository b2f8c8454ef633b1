package replicas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/jackc/pgx/v5"

	"github.com/idpool/idpool/internal/testpg"
	"github.com/idpool/idpool/test/e2e"
)

// What every replica of a cluster shares, and what the tests act as.
const (
	// issuer is the --issuer of every replica: the URL a load balancer in
	// front of them would have. Nothing listens there; a token's iss is
	// this whichever replica signed it.
	issuer = "http://idpool.test"
	// account is the 12-digit access key id the admin clients sign with,
	// so that every replica puts their pools in this one account.
	account = "111111111111"
	region  = "us-east-1"

	facebook        = "graph.facebook.com"
	cognitoProvider = "cognito-identity.amazonaws.com"
	developer       = "login.replicas.test"

	replicaCount = 3
	// startTimeout bounds how long a cluster may take to answer /health.
	startTimeout = 30 * time.Second
	// stopTimeout bounds a replica's graceful stop before it is killed.
	stopTimeout = 10 * time.Second
	// maxConns is each replica's PostgreSQL connection pool size (pgx's
	// pool_max_conns). It is pgx's own default on a machine of up to four
	// CPUs; fixing it keeps the connection count of parallel tests (three
	// replicas each) under PostgreSQL's default max_connections of 100 on
	// bigger machines too.
	maxConns = 4
)

// build is the idpool binary, built once for the whole package.
var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// binary returns the path of cmd/idpool, building it on first use.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "idpool-replicas-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "idpool")
		// go test puts its own toolchain first in PATH.
		args := []string{"build", "-o", build.bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "github.com/idpool/idpool/cmd/idpool")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/idpool: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

var dbSeq atomic.Int64

// newDatabase creates an empty database on the server of admin and returns
// its postgres:// URL, and that URL with the replicas' pool size (for
// idpool; pgx.Connect would send pool_max_conns to the server). The
// database is dropped when the test ends (after its replicas have stopped).
func newDatabase(t *testing.T, admin string) (plain, replicas string) {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("IDPOOL_TEST_POSTGRES must be a postgres:// URL (idpool serve --store takes no other form)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to IDPOOL_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("idpool_replicas_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), dbSeq.Add(1))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("create database %s (the tests need CREATEDB on IDPOOL_TEST_POSTGRES): %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	plain = u.String()
	q := u.Query()
	q.Set("pool_max_conns", fmt.Sprint(maxConns))
	u.RawQuery = q.Encode()
	return plain, u.String()
}

// cluster is replicaCount idpool processes sharing one database, secret
// and issuer.
type cluster struct {
	t   *testing.T
	bin string
	// dsn is the database as the replicas are given it (--store); db is
	// the same database for pgx.Connect.
	dsn      string
	db       string
	env      []string
	args     []string // extra flags of idpool serve
	replicas []*replica
	http     *http.Client
}

// replica is one idpool serve process.
type replica struct {
	name string
	url  string
	cmd  *exec.Cmd
	// log is the process's stdout and stderr.
	log *e2e.SyncBuffer
	// exited is closed when the process has exited; err is then Wait's.
	exited chan struct{}
	err    error
	// killed is set when the test killed the process on purpose.
	killed atomic.Bool
}

// clusterOptions configures startCluster.
type clusterOptions struct {
	// keyAge, when set, makes the database look as if the deployment had
	// been running that long: the first signing key is created (by `idpool
	// keys init`) before the replicas start, and its creation time moved
	// keyAge into the past. Zero leaves the replicas, starting together on
	// an empty database, to create it.
	keyAge time.Duration
	// admin is the database server to create the cluster's database on;
	// IDPOOL_TEST_POSTGRES when empty.
	admin string
	// args are extra flags of every replica's idpool serve.
	args []string
}

// startCluster creates a database and starts replicaCount replicas on it
// (together, as a deployment would), and waits until each answers /health.
// Everything is stopped and dropped when the test ends; each replica's
// output is logged if the test failed.
func startCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	admin := o.admin
	if admin == "" {
		admin = testpg.DSN(t)
	}
	bin := binary(t)
	db, dsn := newDatabase(t, admin)
	c := &cluster{t: t, bin: bin, dsn: dsn, db: db, args: o.args}
	c.env = hermeticEnv()
	secret := strings.TrimSpace(c.output(t, "secret"))
	c.env = append(c.env, "IDPOOL_SECRET="+secret)
	if o.keyAge > 0 {
		c.output(t, "keys", "init", "--store", c.dsn, "--issuer", issuer)
		c.exec(t, "UPDATE signing_keys SET created_ns = created_ns - $1", o.keyAge.Nanoseconds())
	}

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	c.http = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)

	t.Cleanup(func() {
		for _, r := range c.replicas {
			if r != nil && strings.Contains(r.log.String(), "WARNING: DATA RACE") {
				t.Errorf("%s reported a data race", r.name)
			}
		}
		if !t.Failed() {
			return
		}
		for _, r := range c.replicas {
			if r != nil { // one that did not start has its output in the error
				t.Logf("output of %s (%s):\n%s", r.name, r.url, r.log.String())
			}
		}
	})
	c.replicas = make([]*replica, replicaCount)
	var wg sync.WaitGroup
	errs := make([]error, replicaCount)
	for i := range replicaCount {
		wg.Go(func() { c.replicas[i], errs[i] = c.startReplica(fmt.Sprintf("replica-%c", 'A'+i)) })
	}
	wg.Wait()
	t.Cleanup(c.stop)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return c
}

// hermeticEnv is the test's environment without any IDPOOL_ setting, so
// that a developer's shell cannot change what the replicas do.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IDPOOL_") {
			env = append(env, kv)
		}
	}
	return env
}

// exec runs one SQL statement on the cluster's database, and fails the
// test unless it changed a row.
func (c *cluster) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.db)
	if err != nil {
		t.Fatalf("connect to the cluster's database: %v", err)
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, sql, args...)
	if err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("%s: %v (%d rows)", sql, err, tag.RowsAffected())
	}
}

// output runs an idpool command other than serve with the cluster's
// environment and returns its standard output.
func (c *cluster) output(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("idpool %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// startReplica starts one replica on a port the kernel picks (it reads
// the port from the replica's start-up line) and waits for /health. A port
// chosen beforehand could be taken by another test's server before the
// replica bound it, and that server would then answer for it.
func (c *cluster) startReplica(name string) (*replica, error) {
	r, err := c.spawn(name)
	if err != nil {
		return nil, err
	}
	if err := c.waitListening(r); err != nil {
		r.stop()
		return nil, err
	}
	if err := c.waitHealthy(r); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

func (c *cluster) spawn(name string) (*replica, error) {
	r := &replica{name: name, log: &e2e.SyncBuffer{}, exited: make(chan struct{})}
	// Start-up and audit lines only: the access log would hold a line per
	// request of the load tests.
	r.cmd = exec.Command(c.bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--store", c.dsn, "--issuer", issuer, "--access-log", "off"}, c.args...)...)
	r.cmd.Env = c.env
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	return r, nil
}

// listeningLine is the replica's start-up line that names the address it
// bound.
var listeningLine = regexp.MustCompile(`msg="idpool listening" addr=(\S+)`)

// waitListening waits for the replica's start-up line and takes its URL
// from it.
func (c *cluster) waitListening(r *replica) error {
	return r.waitUntil("logged its address", func() bool {
		m := listeningLine.FindStringSubmatch(r.log.String())
		if m != nil {
			r.url = "http://" + m[1]
		}
		return m != nil
	})
}

// waitHealthy polls the replica's /health until it answers 200.
func (c *cluster) waitHealthy(r *replica) error {
	probe := &http.Client{Timeout: time.Second}
	return r.waitUntil("answered /health", func() bool {
		resp, err := probe.Get(r.url + "/health")
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitUntil polls done every 20 ms until it holds, the replica exits, or
// startTimeout passes; what says what was awaited.
func (r *replica) waitUntil(what string, done func() bool) error {
	deadline := time.Now().Add(startTimeout)
	for !done() {
		select {
		case <-r.exited:
			return fmt.Errorf("%s exited before it %s: %v\n%s", r.name, what, r.err, r.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s had not %s after %s\n%s", r.name, what, startTimeout, r.log.String())
		}
	}
	return nil
}

// stop stops every replica; one that exited on its own (not killed by the
// test) fails the test.
func (c *cluster) stop() {
	for _, r := range c.replicas {
		if r == nil {
			continue
		}
		select {
		case <-r.exited:
			if !r.killed.Load() {
				c.t.Errorf("%s exited during the test: %v", r.name, r.err)
			}
			continue
		default:
		}
		if err := r.stop(); err != nil {
			c.t.Errorf("%s: %v", r.name, err)
		}
	}
}

// stop asks the process to finish (SIGTERM), and kills it if it has not
// within stopTimeout.
func (r *replica) stop() error {
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
		if r.err != nil && !r.killed.Load() {
			return fmt.Errorf("stopped with %v", r.err)
		}
		return nil
	case <-time.After(stopTimeout):
	}
	r.kill()
	<-r.exited
	return fmt.Errorf("did not stop within %s of SIGTERM; killed", stopTimeout)
}

// kill sends SIGKILL: the process gets no chance to finish anything.
func (r *replica) kill() {
	r.killed.Store(true)
	r.cmd.Process.Kill()
}

// admin is a Cognito client of replica i that signs as the test account,
// and never retries: every error reaches the test.
func (c *cluster) admin(i int) *cognitoidentity.Client {
	return c.cognito(i, credentials.NewStaticCredentialsProvider(account, "secret-key-"+account, ""))
}

// public is an unsigned Cognito client of replica i, as an app calls
// GetId, GetOpenIdToken and GetCredentialsForIdentity; it never retries.
func (c *cluster) public(i int) *cognitoidentity.Client {
	return c.cognito(i, aws.AnonymousCredentials{})
}

func (c *cluster) cognito(i int, creds aws.CredentialsProvider) *cognitoidentity.Client {
	return e2e.NewCognito(c.replicas[i%replicaCount].url, c.http, creds)
}

// sts is an STS client of replica i signing with creds; it never retries.
func (c *cluster) sts(i int, creds aws.CredentialsProvider) *sts.Client {
	return e2e.NewSTS(c.replicas[i%replicaCount].url, c.http, creds)
}

// get fetches path from replica i and returns the body of a 200 response.
func (c *cluster) get(t *testing.T, i int, path string) []byte {
	t.Helper()
	resp, err := c.http.Get(c.replicas[i].url + path)
	if err != nil {
		t.Fatalf("GET %s from %s: %v", path, c.replicas[i].name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s from %s: %d %v\n%s", path, c.replicas[i].name, resp.StatusCode, err, body)
	}
	return body
}
