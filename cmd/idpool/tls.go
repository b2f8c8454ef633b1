package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// certificate is the certificate HTTPS is served with, read from
// --tls-cert and --tls-key at start and again on every SIGHUP, so that a
// renewed certificate is taken up without a restart. Handshakes read the
// current one; a reload that fails keeps it.
type certificate struct {
	certFile, keyFile string
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the pair of files once; the server must not start
// without a certificate.
func loadCertificate(certFile, keyFile string, log *slog.Logger) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again and, when they hold a valid pair, serves
// it from the next handshake on.
func (c *certificate) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cur.Store(&pair)
	return nil
}

// reloadOn reloads the certificate on each value from hup (SIGHUP) until
// ctx is done.
func (c *certificate) reloadOn(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			c.reloadAndLog()
		}
	}
}

// reloadAndLog reloads the certificate and logs what it now serves, or
// why it kept the previous one.
func (c *certificate) reloadAndLog() {
	if err := c.reload(); err != nil {
		c.log.Error("reloading the TLS certificate failed; still serving the previous one", "err", err)
		return
	}
	attrs := []any{"cert", c.certFile}
	if leaf := c.cur.Load().Leaf; leaf != nil {
		attrs = append(attrs, "subject", leaf.Subject.String(), "serial", leaf.SerialNumber.String(),
			"not_after", leaf.NotAfter.Format(time.RFC3339))
	}
	c.log.Info("reloaded the TLS certificate", attrs...)
}

// tlsConfig serves the current certificate. It offers HTTP/1.1 only: the
// server's middleware and the in-flight shutdown are written and tested
// for it, and the AWS SDKs speak it to Cognito Identity.
func (c *certificate) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}
