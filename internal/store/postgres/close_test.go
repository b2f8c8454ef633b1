package postgres_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/testpg"
)

// stallingProxy forwards TCP connections to the database named by a DSN
// until stall is called; from then on it forwards nothing, as a database
// that has frozen (a stopped process, a dead network path) answers
// nothing while its sockets stay open.
type stallingProxy struct {
	ln      net.Listener
	stalled chan struct{}
	once    sync.Once
	done    chan struct{} // closed when the test ends: lets held copies go
}

func startStallingProxy(t *testing.T, dsn string) (*stallingProxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	network, addr := "tcp", u.Host
	if h := q.Get("host"); strings.HasPrefix(h, "/") {
		port := q.Get("port")
		if port == "" {
			port = "5432"
		}
		network, addr = "unix", filepath.Join(h, ".s.PGSQL."+port)
	} else if h != "" {
		port := q.Get("port")
		if port == "" {
			port = "5432"
		}
		addr = net.JoinHostPort(h, port)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{ln: ln, stalled: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() {
		close(p.done)
		ln.Close()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial(network, addr)
			if err != nil {
				c.Close()
				continue
			}
			go p.copy(up, c)
			go p.copy(c, up)
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	q.Set("host", host)
	q.Set("port", port)
	u.Host, u.RawQuery = "", q.Encode()
	return p, u.String()
}

func (p *stallingProxy) copy(dst io.WriteCloser, src io.ReadCloser) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-p.stalled:
			<-p.done // hold what was read; forward nothing more
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stallingProxy) stall() { p.once.Do(func() { close(p.stalled) }) }

// openThroughProxy opens a store over a stalling proxy and makes one call
// through it while the database still answers.
func openThroughProxy(t *testing.T, timeout time.Duration) (*stallingProxy, *postgres.Store) {
	t.Helper()
	proxy, dsn := startStallingProxy(t, testpg.Schema(t, testpg.DSN(t)))
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CountPools(context.Background(), "123456789012", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	return proxy, s
}

// TestCloseBoundedWhenTheDatabaseStalls: after a call timed out on a
// stalled database, pgx waits 15 s for it to answer before the
// connection is closed; Close gives up after the store's timeout and says
// so.
func TestCloseBoundedWhenTheDatabaseStalls(t *testing.T) {
	proxy, s := openThroughProxy(t, 200*time.Millisecond)
	proxy.stall()
	// A call that times out leaves its connection to pgx to close, and
	// pgx asks the database to cancel the query: neither is answered.
	if _, err := s.CountPools(context.Background(), "123456789012", "us-east-1"); err == nil {
		t.Fatal("a call on a stalled database succeeded")
	}
	err := s.Close()
	if err == nil || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Fatalf("Close with the database stalled: %v, want an error saying it gave up after the store's timeout", err)
	}
}

// TestCloseAnswered: with the database answering, Close closes cleanly.
func TestCloseAnswered(t *testing.T) {
	_, s := openThroughProxy(t, 2*time.Second)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
