package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"github.com/idpool/idpool/test/e2e"
)

// TestRun drives the command line in-process, for every command that
// returns without serving.
func TestRun(t *testing.T) {
	noEnv := func(string) string { return "" }
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		stdout   *regexp.Regexp // nil: must be empty
		stderr   []string       // substrings that must all appear
		noStderr bool
	}{
		{name: "no command", args: nil, code: 2, stderr: []string{"usage: idpool <command>", "serve", "healthcheck", "version"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: []string{`idpool: unknown command "frobnicate"`, "usage: idpool"}},
		{name: "version", args: []string{"version"}, code: 0, stdout: regexp.MustCompile(`^idpool \S+( .+)? go1\.\S+\n$`), noStderr: true},
		{name: "--version", args: []string{"--version"}, code: 0, stdout: regexp.MustCompile(`^idpool \S+( .+)? go1\.\S+\n$`), noStderr: true},
		{name: "help", args: []string{"help"}, code: 0, stdout: regexp.MustCompile(`(?s)^usage: idpool <command>.*serve.*healthcheck.*version`), noStderr: true},
		{name: "serve -h", args: []string{"serve", "-h"}, code: 0, stderr: []string{"-listen", "-data-dir", "-max-pools", "IDPOOL_MAX_POOLS", "-config",
			"-metrics-listen", "IDPOOL_METRICS_LISTEN", "-access-log", "IDPOOL_ACCESS_LOG", "-tls-cert", "IDPOOL_TLS_CERT", "-tls-key", "IDPOOL_TLS_KEY"}},
		{name: "keys list -h", args: []string{"keys", "list", "-h"}, code: 0, stderr: []string{"-config", "-data-dir"}},
		{
			name:   "every invalid flag is reported at once",
			args:   []string{"serve", "--max-pools", "0", "--default-account", "x"},
			code:   1,
			stderr: []string{`--max-pools "0" (flag): must be a positive integer`, `--default-account "x" (flag): must be 12 digits`},
		},
		{
			name: "invalid settings from the environment",
			args: []string{"serve"},
			env:  map[string]string{"IDPOOL_MAX_POOLS": "many", "IDPOOL_LOG_FORMAT": "xml", "IDPOOL_LISTEN": "nohostport", "IDPOOL_DEFAULT_REGION": "Mars"},
			code: 1,
			stderr: []string{`IDPOOL_MAX_POOLS "many" (environment)`, `IDPOOL_LOG_FORMAT "xml" (environment)`,
				`IDPOOL_LISTEN "nohostport" (environment)`, `IDPOOL_DEFAULT_REGION "Mars" (environment)`},
		},
		{
			name:   "config file that does not exist",
			args:   []string{"serve", "--config", "/nonexistent/idpool.yaml"},
			code:   1,
			stderr: []string{`idpool: --config "/nonexistent/idpool.yaml" (flag): no such file`},
		},
		{name: "unknown flag", args: []string{"serve", "--no-such-flag"}, code: 1, stderr: []string{"flag provided but not defined: -no-such-flag"}},
		{name: "stray argument", args: []string{"serve", "--data-dir", t.TempDir(), "extra"}, code: 1, stderr: []string{"idpool: unexpected arguments: extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := noEnv
			if tt.env != nil {
				getenv = func(k string) string { return tt.env[k] }
			}
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, getenv, &stdout, &stderr); code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if tt.stdout == nil && stdout.Len() > 0 {
				t.Errorf("unexpected stdout %q", stdout.String())
			}
			if tt.stdout != nil && !tt.stdout.MatchString(stdout.String()) {
				t.Errorf("stdout %q does not match %s", stdout.String(), tt.stdout)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr does not mention %q:\n%s", s, stderr.String())
				}
			}
			if tt.noStderr && stderr.Len() > 0 {
				t.Errorf("unexpected stderr %q", stderr.String())
			}
		})
	}
}

// buildBinary compiles idpool into a temporary directory.
func buildBinary(t *testing.T, version string) string {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		gotool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "idpool")
	cmd := exec.Command(gotool, "build", "-o", bin, "-ldflags", "-X main.version="+version, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// process is a running `idpool serve`.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stderr *e2e.SyncBuffer
	done   chan struct{}
	err    error // set when done is closed
}

// listeningLine is the last start-up line `idpool serve` logs: once it
// has reached the test, every line before it has too (the server writes
// them before it answers, and the pipe from its stderr keeps their order).
var listeningLine = regexp.MustCompile(`msg="idpool listening" addr=(\S+)`)

// startServe starts `idpool serve` on a free port and waits until /health
// answers. A test that reads its start-up lines waits for listeningLine
// too (it is not logged under --log-level warn).
func startServe(t *testing.T, bin, dataDir string, extra ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	p := start(t, bin, append([]string{"serve", "--listen", addr, "--data-dir", dataDir}, extra...)...)
	p.addr = addr
	p.waitHealthy(t, http.DefaultClient, "http")
	return p
}

// startOnPortZero starts `idpool serve --listen 127.0.0.1:0`, reads the
// address it bound from its log and waits until /health answers client
// (over scheme: http or https).
func startOnPortZero(t *testing.T, bin string, client *http.Client, scheme string, extra ...string) *process {
	t.Helper()
	p := start(t, bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, extra...)...)
	p.waitLog(t, listeningLine)
	p.addr = listeningLine.FindStringSubmatch(p.stderr.String())[1]
	p.waitHealthy(t, client, scheme)
	return p
}

// start starts the binary with args and no IDPOOL_* variables, and kills
// it when the test ends if it still runs.
func start(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{stderr: &e2e.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no IDPOOL_* from the caller
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

// waitLog polls the process's log until re matches it.
func (p *process) waitLog(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !re.MatchString(p.stderr.String()) {
		select {
		case <-p.done:
			t.Fatalf("idpool exited before logging %s: %v\n%s", re, p.err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("idpool did not log %s within 15s:\n%s", re, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitHealthy polls GET /health until it answers 200.
func (p *process) waitHealthy(t *testing.T, client *http.Client, scheme string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(scheme + "://" + p.addr + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if string(body) != `{"status":"ok"}` {
					t.Errorf("/health body %q", body)
				}
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("idpool serve exited before it was healthy: %v\n%s", p.err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("idpool serve not healthy after 15s: %v\n%s", err, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("idpool serve did not exit within %v\n%s", limit, p.stderr)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("wait: %v", p.err)
	}
	return 0
}

// waitClosed polls until the process no longer accepts connections.
func (p *process) waitClosed(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("idpool serve still accepts connections 10s after SIGTERM\n%s", p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func client(addr string) *cognitoidentity.Client {
	return e2e.NewCognito("http://"+addr, nil, credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""))
}

// TestBinary builds idpool and runs it as users do: it serves, stops
// cleanly on SIGTERM (finishing a request in flight) and finds its data
// again when started on the same data directory.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t, "v1.2.3-e2e")

	t.Run("version", func(t *testing.T) {
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^idpool v1\.2\.3-e2e( .+)? go1\.\S+\n$`).Match(out) {
			t.Errorf("idpool version printed %q", out)
		}
	})
	t.Run("version from the checkout", func(t *testing.T) { testVersionFromCheckout(t) })
	t.Run("issuer takes the port bound", func(t *testing.T) { testIssuerPortZero(t, bin) })
	t.Run("tls certificate reloaded on SIGHUP", func(t *testing.T) { testTLSReload(t, bin) })
	t.Run("metrics on their own address", func(t *testing.T) { testMetricsListen(t, bin) })
	t.Run("unknown command exits 2", func(t *testing.T) {
		err := exec.Command(bin, "nope").Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("idpool nope: %v, want exit status 2", err)
		}
	})
	t.Run("invalid flags exit 1 naming every problem", func(t *testing.T) {
		cmd := exec.Command(bin, "serve", "--max-pools", "0", "--default-account", "x", "--data-dir", t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("exit: %v, want exit status 1", err)
		}
		for _, want := range []string{"--max-pools", "--default-account"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr does not mention %s:\n%s", want, stderr.String())
			}
		}
	})

	t.Run("serve, stop, serve again", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		ctx := t.Context()
		const account = "123456789012" // --default-account, which non-numeric keys act for
		srv := startServe(t, bin, dataDir, "--default-account", account, "--max-pools", "5")
		// /health may answer before the copy of the log reaches stderr.
		srv.waitLog(t, listeningLine)

		c := client(srv.addr)
		in := &cognitoidentity.CreateIdentityPoolInput{
			IdentityPoolName:               aws.String("binary pool"),
			AllowUnauthenticatedIdentities: true,
			AllowClassicFlow:               aws.Bool(false),
			DeveloperProviderName:          aws.String("login.binary"),
			CognitoIdentityProviders: []types.CognitoIdentityProvider{{
				ProviderName: aws.String("cognito-idp.us-east-1.amazonaws.com/us-east-1_Bin"), ClientId: aws.String("client"), ServerSideTokenCheck: aws.Bool(true),
			}},
			IdentityPoolTags: map[string]string{"made": "by the binary test"},
		}
		created, err := c.CreateIdentityPool(ctx, in)
		if err != nil {
			t.Fatalf("CreateIdentityPool: %v\n%s", err, srv.stderr)
		}
		id := aws.ToString(created.IdentityPoolId)
		before, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}

		// A request in flight: the handler is running and waiting for the
		// body. "Expect: 100-continue" makes the server say when the
		// handler starts reading it.
		body := `{"IdentityPoolName":"in flight","AllowUnauthenticatedIdentities":false}`
		conn, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.1\r\n"+
			"X-Amz-Target: AWSCognitoIdentityService.CreateIdentityPool\r\nContent-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
			srv.addr, len(body))
		rd := bufio.NewReader(conn)
		cont, err := http.ReadResponse(rd, nil)
		if err != nil || cont.StatusCode != http.StatusContinue {
			t.Fatalf("waiting for 100 Continue: %v %v", cont, err)
		}

		if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// Once the listener is closed the server is shutting down; the
		// request in flight must still be answered.
		srv.waitClosed(t)
		if _, err := io.WriteString(conn, body); err != nil {
			t.Fatalf("finishing the request in flight: %v", err)
		}
		resp, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatalf("response to the request in flight: %v\n%s", err, srv.stderr)
		}
		respBody, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(respBody), `"IdentityPoolName":"in flight"`) {
			t.Fatalf("request in flight answered %d %s", resp.StatusCode, respBody)
		}
		inFlightID := regexp.MustCompile(`"IdentityPoolId":"([^"]+)"`).FindStringSubmatch(string(respBody))

		if code := srv.wait(t, 10*time.Second); code != 0 {
			t.Errorf("exit code after SIGTERM %d, want 0\n%s", code, srv.stderr)
		}
		if !strings.Contains(srv.stderr.String(), "idpool stopped") {
			t.Errorf("no log line saying the server stopped:\n%s", srv.stderr)
		}

		// Same data directory, new process, new port.
		again := startServe(t, bin, dataDir, "--default-account", account, "--max-pools", "5")
		c = client(again.addr)
		after, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeIdentityPool after the restart: %v", err)
		}
		for _, cmp := range []struct {
			what      string
			got, want any
		}{
			{"name", aws.ToString(after.IdentityPoolName), aws.ToString(before.IdentityPoolName)},
			{"AllowUnauthenticatedIdentities", after.AllowUnauthenticatedIdentities, true},
			{"AllowClassicFlow", fmt.Sprint(after.AllowClassicFlow != nil && !*after.AllowClassicFlow), "true"},
			{"DeveloperProviderName", aws.ToString(after.DeveloperProviderName), "login.binary"},
			{"user pool providers", len(after.CognitoIdentityProviders), 1},
			{"tags", fmt.Sprint(after.IdentityPoolTags), fmt.Sprint(in.IdentityPoolTags)},
		} {
			if cmp.got != cmp.want {
				t.Errorf("%s after the restart = %v, want %v", cmp.what, cmp.got, cmp.want)
			}
		}
		if p := after.CognitoIdentityProviders; len(p) == 1 && (aws.ToString(p[0].ClientId) != "client" || !aws.ToBool(p[0].ServerSideTokenCheck)) {
			t.Errorf("user pool provider after the restart = %+v", p[0])
		}
		list, err := c.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range list.IdentityPools {
			names = append(names, aws.ToString(p.IdentityPoolName))
		}
		if strings.Join(names, ",") != "binary pool,in flight" {
			t.Errorf("pools after the restart: %v, want [binary pool in flight]", names)
		}
		if inFlightID != nil && len(list.IdentityPools) == 2 && aws.ToString(list.IdentityPools[1].IdentityPoolId) != inFlightID[1] {
			t.Errorf("in-flight pool listed as %s, created as %s", aws.ToString(list.IdentityPools[1].IdentityPoolId), inFlightID[1])
		}

		if err := again.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := again.wait(t, 10*time.Second); code != 0 {
			t.Errorf("exit code after SIGTERM %d, want 0\n%s", code, again.stderr)
		}
	})

	// Enough guests for the WAL to pass walRestartFrames (8,192 frames, at
	// about 1.7 a guest) and start over at least once, with checkpoints
	// running beside the writer, while other workers link new developer
	// users and merge pairs of them; then SIGKILL with writes of every
	// kind in flight. After a restart every acknowledged write is there:
	// each guest, each developer user on its identity, each merged user
	// on the identity it was merged into.
	t.Run("SIGKILL loses no acknowledged write", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		ctx := t.Context()
		srv := startServe(t, bin, dataDir, "--log-level", "warn")
		c := client(srv.addr)
		const provider = "login.crash"
		pool, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
			IdentityPoolName: aws.String("crash"), AllowUnauthenticatedIdentities: true,
			DeveloperProviderName: aws.String(provider),
		})
		if err != nil {
			t.Fatal(err)
		}
		const wantGuests, guestWorkers, devWorkers, mergeWorkers = 12000, 24, 4, 4
		var (
			mu      sync.Mutex
			guests  []string
			devs    = map[string]string{} // developer user → identity, as acknowledged
			merges  = map[string]string{} // source user → destination identity, acknowledged
			tried   = map[string]string{} // source user → destination identity, sent
			kill    sync.Once
			wg      sync.WaitGroup
			userSeq atomic.Int64
		)
		// newUser links a new developer user; "" once the server is gone.
		newUser := func() string {
			user := fmt.Sprintf("user-%d", userSeq.Add(1))
			out, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
				IdentityPoolId: pool.IdentityPoolId, Logins: map[string]string{provider: user}})
			if err != nil {
				return ""
			}
			mu.Lock()
			devs[user] = *out.IdentityId
			mu.Unlock()
			return user
		}
		for range guestWorkers {
			wg.Go(func() {
				for {
					out, err := c.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: pool.IdentityPoolId})
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					guests = append(guests, *out.IdentityId)
					n := len(guests)
					mu.Unlock()
					if n >= wantGuests {
						kill.Do(func() { srv.cmd.Process.Kill() })
					}
				}
			})
		}
		for range devWorkers {
			wg.Go(func() {
				for newUser() != "" {
				}
			})
		}
		for range mergeWorkers {
			wg.Go(func() {
				for {
					src, dst := newUser(), newUser()
					if src == "" || dst == "" {
						return
					}
					mu.Lock()
					dstID := devs[dst]
					tried[src] = dstID
					mu.Unlock()
					out, err := c.MergeDeveloperIdentities(ctx, &cognitoidentity.MergeDeveloperIdentitiesInput{
						IdentityPoolId: pool.IdentityPoolId, DeveloperProviderName: aws.String(provider),
						SourceUserIdentifier: aws.String(src), DestinationUserIdentifier: aws.String(dst)})
					if err != nil {
						return
					}
					if aws.ToString(out.IdentityId) != dstID {
						t.Errorf("merging %s into %s answered %s, want %s", src, dst, aws.ToString(out.IdentityId), dstID)
					}
					mu.Lock()
					merges[src] = dstID
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		<-srv.done

		again := startServe(t, bin, dataDir, "--log-level", "warn")
		c = client(again.addr)
		mu.Lock()
		defer mu.Unlock()
		if len(guests) < wantGuests || len(devs) < 50 || len(merges) < 10 {
			t.Fatalf("only %d guests, %d developer users and %d merges acknowledged before the server stopped:\n%s",
				len(guests), len(devs), len(merges), srv.stderr)
		}
		var lost []string
		for _, id := range guests {
			if _, err := c.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)}); err != nil {
				lost = append(lost, "guest "+id+": "+err.Error())
			}
		}
		for user, id := range devs {
			// A merged user is on its destination's identity; a user whose
			// merge was sent but not answered may be on either.
			want := []string{id}
			if dst, ok := merges[user]; ok {
				want = []string{dst}
			} else if dst, ok := tried[user]; ok {
				want = append(want, dst)
			}
			out, err := c.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{
				IdentityPoolId: pool.IdentityPoolId, DeveloperUserIdentifier: aws.String(user)})
			switch {
			case err != nil:
				lost = append(lost, "developer user "+user+": "+err.Error())
			case !slices.Contains(want, aws.ToString(out.IdentityId)):
				lost = append(lost, fmt.Sprintf("developer user %s is on %s, want one of %v", user, aws.ToString(out.IdentityId), want))
			}
		}
		if len(lost) > 0 {
			t.Fatalf("%d acknowledged writes lost after SIGKILL (of %d guests, %d developer users, %d merges), e.g. %s",
				len(lost), len(guests), len(devs), len(merges), lost[0])
		}
		t.Logf("after SIGKILL: %d guests, %d developer users, %d merges, all there", len(guests), len(devs), len(merges))
	})
}

// TestNothingCreated checks that commands refuse before they create
// anything: keys list reads only, and serve and keys rotate validate the
// rate limits before they open the data directory.
func TestNothingCreated(t *testing.T) {
	noEnv := func(string) string { return "" }
	tests := []struct {
		name   string
		args   []string // DIR stands for the data directory
		mkdir  bool     // whether the data directory exists beforehand
		stderr []string
	}{
		{
			name:   "keys list, no data directory",
			args:   []string{"keys", "list", "--data-dir", "DIR"},
			stderr: []string{"idpool: no database at DIR/idpool.db: nothing to list"},
		},
		{
			name:   "keys list, empty data directory",
			args:   []string{"keys", "list", "--data-dir", "DIR"},
			mkdir:  true,
			stderr: []string{"idpool: no database at DIR/idpool.db"},
		},
		{
			name: "serve, unknown operation in --rate-limits",
			args: []string{"serve", "--data-dir", "DIR", "--rate-limits", "aws,GetIdd=5"},
			stderr: []string{`idpool: --rate-limits "aws,GetIdd=5" (flag): rate limit "GetIdd=5": unknown operation GetIdd; the operations are `,
				"GetCredentialsForIdentity, GetId, GetIdentityPoolRoles"},
		},
		{
			name:   "keys rotate, bad rate",
			args:   []string{"keys", "rotate", "--data-dir", "DIR", "--rate-limits", "GetId=fast"},
			stderr: []string{`idpool: --rate-limits "GetId=fast" (flag): rate limit "GetId=fast": the rate must be a positive number`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if tt.mkdir {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			var args []string
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "DIR", dir))
			}
			var stdout, stderr bytes.Buffer
			if code := run(args, noEnv, &stdout, &stderr); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			for _, want := range tt.stderr {
				if want = strings.ReplaceAll(want, "DIR", dir); !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
				}
			}
			entries, err := os.ReadDir(dir)
			switch {
			case !tt.mkdir && !errors.Is(err, os.ErrNotExist):
				t.Errorf("data directory created (%v)", err)
			case tt.mkdir && len(entries) > 0:
				t.Errorf("data directory holds %v", entries)
			}
		})
	}
}

// TestKeysList lists the keys that keys rotate made.
func TestKeysList(t *testing.T) {
	noEnv := func(string) string { return "" }
	dir := filepath.Join(t.TempDir(), "data")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"keys", "rotate", "--data-dir", dir}, noEnv, &stdout, &stderr); code != 0 {
		t.Fatalf("keys rotate: exit code %d\n%s", code, stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"keys", "list", "--data-dir", dir}, noEnv, &stdout, &stderr); code != 0 {
		t.Fatalf("keys list: exit code %d\n%s", code, stderr.String())
	}
	// The first key, made when the ring was loaded, retires; the new one
	// is active.
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "\tretires ") || !strings.HasSuffix(lines[1], "\tactive") {
		t.Errorf("keys list printed\n%s", stdout.String())
	}
}

// testIssuerPortZero starts serve on port 0 and checks that the discovery
// document names the port the server bound.
func testIssuerPortZero(t *testing.T, bin string) {
	p := startOnPortZero(t, bin, http.DefaultClient, "http", "--data-dir", filepath.Join(t.TempDir(), "data"))
	if strings.HasSuffix(p.addr, ":0") {
		t.Fatalf("log names %s, not the port bound", p.addr)
	}
	doc := discovery(t, http.DefaultClient, "http://"+p.addr)
	if want := "http://" + p.addr; doc.Issuer != want || !strings.HasPrefix(doc.JWKSURI, want+"/") {
		t.Errorf("issuer %q, jwks_uri %q; want both at %s", doc.Issuer, doc.JWKSURI, want)
	}
	if strings.Contains(p.stderr.String(), "level=WARN") {
		t.Errorf("warning on a loopback address:\n%s", p.stderr)
	}
}

// discoveryDoc is the part of the OpenID discovery document tested here.
type discoveryDoc struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

func discovery(t *testing.T, client *http.Client, base string) discoveryDoc {
	t.Helper()
	resp, err := client.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc discoveryDoc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery document: %d %v", resp.StatusCode, err)
	}
	return doc
}

// testVersionFromCheckout builds with the checkout's VCS information and
// checks that idpool version prints it.
func testVersionFromCheckout(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		gotool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git to stamp the build with")
	}
	bin := filepath.Join(t.TempDir(), "idpool")
	if out, err := exec.Command(gotool, "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Skipf("go build -buildvcs=true (not in a git checkout?): %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^idpool v\S+ commit [0-9a-f]{12}( \(dirty\))? built \d{4}-\d\d-\d\dT\S+Z go1\.\S+\n$`)
	if !re.Match(out) {
		t.Errorf("idpool version printed %q, want it to match %s", out, re)
	}
}

// testMetricsListen serves the metrics and profiles on --metrics-listen,
// and checks that the API then keeps /metrics to itself.
func testMetricsListen(t *testing.T, bin string) {
	p := startOnPortZero(t, bin, http.DefaultClient, "http",
		"--data-dir", filepath.Join(t.TempDir(), "data"), "--metrics-listen", "127.0.0.1:0")
	m := regexp.MustCompile(`msg="metrics and debug endpoints listening" addr=(\S+)`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no log line names the metrics address:\n%s", p.stderr)
	}
	for _, tt := range []struct {
		url    string
		served bool
	}{
		{"http://" + m[1] + "/metrics", true},
		{"http://" + m[1] + "/debug/pprof/", true},
		{"http://" + p.addr + "/metrics", false},
	} {
		resp, err := http.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if (resp.StatusCode == http.StatusOK) != tt.served {
			t.Errorf("GET %s: %s, want it served: %v", tt.url, resp.Status, tt.served)
		}
	}
}

// TestKeysInit makes the first key once: a second run changes nothing.
func TestKeysInit(t *testing.T) {
	noEnv := func(string) string { return "" }
	dir := filepath.Join(t.TempDir(), "data")
	var first, second, stderr bytes.Buffer
	if code := run([]string{"keys", "init", "--data-dir", dir}, noEnv, &first, &stderr); code != 0 {
		t.Fatalf("keys init: exit code %d\n%s", code, stderr.String())
	}
	if code := run([]string{"keys", "init", "--data-dir", dir}, noEnv, &second, &stderr); code != 0 {
		t.Fatalf("keys init again: exit code %d\n%s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(first.String()), "\n")
	if len(lines) != 1 || !strings.HasSuffix(lines[0], "\tactive") || second.String() != first.String() {
		t.Errorf("keys init printed\n%s\nthen\n%s", first.String(), second.String())
	}
}
