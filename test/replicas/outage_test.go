package replicas

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
)

// privatePostgres is a PostgreSQL server of one test's own, which the
// test may stop and start: the shared IDPOOL_TEST_POSTGRES serves other
// tests meanwhile.
type privatePostgres struct {
	bin  string // the server binaries' directory
	dir  string // socket directory; data in dir/data, log in dir/log
	dsn  string
	root bool // running as root: the tools run as the postgres user
}

// startPrivatePostgres initializes and starts a server that listens only
// on a Unix socket in a new directory. It is stopped and removed when the
// test ends. Without the server binaries the test skips, except under
// CI=true.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.Sort(bins)
	var bin string
	if len(bins) > 0 {
		bin = filepath.Dir(bins[len(bins)-1])
	} else if p, err := exec.LookPath("initdb"); err == nil {
		bin = filepath.Dir(p)
	} else {
		if os.Getenv("CI") == "true" {
			t.Fatal("no PostgreSQL server binaries (initdb, pg_ctl): under CI=true the outage test must run")
		}
		t.Skip("no PostgreSQL server binaries (initdb, pg_ctl)")
	}
	// Under /tmp: the postgres user must reach it, and a socket path must
	// stay short.
	dir, err := os.MkdirTemp("/tmp", "idpool-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &privatePostgres{bin: bin, dir: dir, root: os.Geteuid() == 0}
	if p.root {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown postgres %s: %v\n%s", dir, err, out)
		}
	}
	t.Cleanup(func() {
		p.run(t, "pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "stop")
		os.RemoveAll(dir)
	})
	if out, err := p.cmd("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start(t)
	p.dsn = "postgres:///postgres?host=" + dir + "&user=postgres&sslmode=disable"
	return p
}

// cmd is one of the server's tools, run as the postgres user when the test
// runs as root (initdb and the server refuse root).
func (p *privatePostgres) cmd(tool string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, tool)
	if p.root {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// run runs a tool and returns whether it succeeded (its output goes to
// the test log if not).
func (p *privatePostgres) run(t *testing.T, tool string, args ...string) bool {
	out, err := p.cmd(tool, args...).CombinedOutput()
	if err != nil {
		t.Logf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return err == nil
}

// start starts the server and waits until it accepts connections.
func (p *privatePostgres) start(t *testing.T) {
	t.Helper()
	if !p.run(t, "pg_ctl", "-D", filepath.Join(p.dir, "data"), "-w", "-t", "60", "-l", filepath.Join(p.dir, "log"),
		"-o", "-c listen_addresses='' -k "+p.dir+" -c fsync=off", "start") {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		t.Fatalf("pg_ctl start failed; server log:\n%s", log)
	}
}

// stop shuts the server down, as an operator's restart does (open
// connections are closed by the server).
func (p *privatePostgres) stop(t *testing.T) {
	t.Helper()
	if !p.run(t, "pg_ctl", "-D", filepath.Join(p.dir, "data"), "-w", "-m", "fast", "stop") {
		t.Fatal("pg_ctl stop failed")
	}
}

// readiness is what GET /ready answered.
type readiness struct {
	status   int
	problems []string
}

func (c *cluster) ready(i int) readiness {
	probe := &http.Client{Timeout: 5 * time.Second}
	resp, err := probe.Get(c.replicas[i].url + "/ready")
	if err != nil {
		return readiness{problems: []string{err.Error()}}
	}
	defer resp.Body.Close()
	var body struct {
		Status   string   `json:"status"`
		Problems []string `json:"problems"`
	}
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, &body)
	return readiness{status: resp.StatusCode, problems: body.Problems}
}

// waitReady polls every replica's /ready until each answers want, or the
// deadline passes.
func (c *cluster) waitReady(t *testing.T, want int, within time.Duration) readiness {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var last readiness
		all := true
		for i := range c.replicas {
			if last = c.ready(i); last.status != want {
				all = false
				break
			}
		}
		if all {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("a replica's /ready did not answer %d within %s: last %d %v", want, within, last.status, last.problems)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// load is a stream of guest GetId calls from several workers over the
// replicas: what an app's users keep doing while the database restarts.
type load struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	ok    atomic.Int64
	slow  atomic.Int64 // calls that took longer than the bound
	errs  errorTally
	mu    sync.Mutex
	acked []string // identities GetId acknowledged
}

func (c *cluster) startLoad(t *testing.T, pool string, workers int, bound time.Duration) *load {
	l := &load{stop: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() {
			client := c.public(w)
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				began := time.Now()
				out, err := client.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
				if time.Since(began) > bound {
					l.slow.Add(1)
				}
				if err != nil {
					l.errs.add(err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				l.ok.Add(1)
				l.mu.Lock()
				l.acked = append(l.acked, aws.ToString(out.IdentityId))
				l.mu.Unlock()
			}
		})
	}
	return l
}

func (l *load) end() {
	close(l.stop)
	l.wg.Wait()
}

// TestDatabaseOutage restarts the database under load: while it is down,
// requests fail fast (within the store timeout) with InternalErrorException,
// /ready answers 503 and says why, and a log line names the database;
// once it is back, every replica becomes ready and serves again without a
// restart, and no acknowledged identity is lost.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	pg := startPrivatePostgres(t)
	const timeout = time.Second
	c := startCluster(t, clusterOptions{admin: pg.dsn, args: []string{"--store-timeout", timeout.String()}})
	pool := c.createPool(t, 0, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("outage"), AllowUnauthenticatedIdentities: true,
	})
	c.waitReady(t, http.StatusOK, 10*time.Second)

	// A call may wait for the store at most the timeout, plus the time the
	// machine takes to run it; never more than a few seconds.
	bound := 3 * timeout
	l := c.startLoad(t, pool, 8, bound)
	waitFor(t, "calls before the outage", func() bool { return l.ok.Load() >= 50 })

	pg.stop(t)
	down := c.waitReady(t, http.StatusServiceUnavailable, 10*time.Second)
	if len(down.problems) == 0 || !strings.HasPrefix(down.problems[0], "store: unavailable: postgres: ping:") {
		t.Errorf("/ready while the database is down says %q, want the store's reason", down.problems)
	}
	t.Logf("/ready while down: %q", down.problems)
	failedBefore := l.errs.total()
	waitFor(t, "failures during the outage", func() bool { return l.errs.total() >= failedBefore+20 })
	okDuring := l.ok.Load()

	pg.start(t)
	c.waitReady(t, http.StatusOK, 30*time.Second)
	waitFor(t, "calls after the outage", func() bool { return l.ok.Load() >= okDuring+50 })
	l.end()

	l.errs.mu.Lock()
	for code, n := range l.errs.count {
		if code != "InternalErrorException" {
			t.Errorf("%d calls failed with %v; want only InternalErrorException", n, l.errs.first[code])
		}
	}
	l.errs.mu.Unlock()
	if n := l.slow.Load(); n > 0 {
		t.Errorf("%d calls took longer than %s", n, bound)
	}
	t.Logf("%d calls succeeded, %d failed during the outage", l.ok.Load(), l.errs.total())
	for _, line := range strings.Split(c.replicas[0].log.String(), "\n") {
		if strings.Contains(line, "unavailable") {
			t.Logf("log: %s", line)
			break
		}
	}
	for _, r := range c.replicas {
		if !strings.Contains(r.log.String(), "store: unavailable: postgres:") {
			t.Errorf("%s logged no line naming the unavailable database", r.name)
		}
	}
	// Nothing acknowledged was lost.
	var missing []string
	for _, id := range l.acked {
		if _, err := c.admin(0).DescribeIdentity(t.Context(), &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)}); err != nil {
			missing = append(missing, fmt.Sprintf("%s: %v", id, err))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged identities are missing: %s", len(missing), len(l.acked), strings.Join(missing[:min(3, len(missing))], "; "))
	}
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(errors.New("timed out waiting for " + what))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
