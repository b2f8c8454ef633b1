package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCert is a self-signed certificate for 127.0.0.1 and its key, PEM.
type testCert struct {
	name            string
	cert            *x509.Certificate
	certPEM, keyPEM []byte
}

func newTestCert(t *testing.T, name string, serial int64) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		name: name, cert: cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// write replaces the files with the certificate, each by a rename, so
// that a reader sees the old file or the new one, never half of one.
func (c testCert) write(t *testing.T, certFile, keyFile string) {
	t.Helper()
	for _, f := range []struct {
		path string
		data []byte
	}{{keyFile, c.keyPEM}, {certFile, c.certPEM}} {
		tmp := f.path + ".new"
		if err := os.WriteFile(tmp, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			t.Fatal(err)
		}
	}
}

// trusting is an HTTPS client that trusts c alone and opens a new
// connection for every request.
func (c testCert) trusting() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(c.cert)
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true},
	}
}

// served is the certificate a new connection to addr is shown.
func served(addr string) (*x509.Certificate, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// TestCertificateReload reloads in-process (what SIGHUP does): a good pair
// replaces the certificate from the next handshake on, a bad one keeps it.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	one, two := newTestCert(t, "one", 1), newTestCert(t, "two", 2)
	one.write(t, certFile, keyFile)
	var logs bytes.Buffer
	c, err := loadCertificate(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	current := func() string {
		cert, err := c.tlsConfig().GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return cert.Leaf.Subject.CommonName
	}
	steps := []struct {
		name    string
		prepare func()
		want    string
		log     string
	}{
		{"new pair", func() { two.write(t, certFile, keyFile) }, "two", "reloaded the TLS certificate"},
		{"broken certificate file", func() { os.WriteFile(certFile, []byte("not PEM"), 0o600) }, "two", "reloading the TLS certificate failed; still serving the previous one"},
		{"key of another certificate", func() { one.write(t, certFile, keyFile); os.WriteFile(keyFile, two.keyPEM, 0o600) }, "two", "private key does not match public key"},
		{"pair again", func() { one.write(t, certFile, keyFile) }, "one", "reloaded the TLS certificate"},
	}
	if current() != "one" {
		t.Fatalf("serving %s at start, want one", current())
	}
	for _, s := range steps {
		logs.Reset()
		s.prepare()
		c.reloadAndLog()
		if got := current(); got != s.want {
			t.Errorf("%s: serving %s, want %s", s.name, got, s.want)
		}
		if !strings.Contains(logs.String(), s.log) {
			t.Errorf("%s: log %q does not say %q", s.name, logs.String(), s.log)
		}
	}
	if _, err := loadCertificate(filepath.Join(dir, "none.pem"), keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("loadCertificate accepted a file that does not exist")
	}
}

// testTLSReload serves HTTPS from the binary, replaces the certificate's
// files, sends SIGHUP and waits for new connections to see the new one;
// a broken file then keeps it.
func testTLSReload(t *testing.T, bin string) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	one, two := newTestCert(t, "one", 1), newTestCert(t, "two", 2)
	one.write(t, certFile, keyFile)

	p := startOnPortZero(t, bin, one.trusting(), "https",
		"--data-dir", filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	doc := discovery(t, one.trusting(), "https://"+p.addr)
	if want := "https://" + p.addr; doc.Issuer != want || !strings.HasPrefix(doc.JWKSURI, want+"/") {
		t.Errorf("issuer %q, jwks_uri %q; want both at %s", doc.Issuer, doc.JWKSURI, want)
	}

	two.write(t, certFile, keyFile)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitServed(t, p, "two")
	resp, err := two.trusting().Get("https://" + p.addr + "/health")
	if err != nil {
		t.Fatalf("GET /health trusting the new certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /health: %s", resp.Status)
	}

	if err := os.WriteFile(certFile, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, regexp.MustCompile(`level=ERROR msg="reloading the TLS certificate failed; still serving the previous one"`))
	waitServed(t, p, "two")
	select {
	case <-p.done:
		t.Fatalf("idpool exited after SIGHUP: %v\n%s", p.err, p.stderr)
	default:
	}
}

// waitServed polls new connections until they are shown the certificate
// named name.
func waitServed(t *testing.T, p *process, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cert, err := served(p.addr)
		if err == nil && cert.Subject.CommonName == name {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections not shown certificate %s within 10s (last: %v, %v)\n%s", name, cert, err, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
