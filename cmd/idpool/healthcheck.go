package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idpool/idpool/internal/config"
)

// healthcheckTimeout bounds one probe. It is longer than the server's own
// bound on the store check behind /ready (2s), so a slow database shows as
// a 503 with its reason rather than as a timeout, and shorter than the
// image's HEALTHCHECK --timeout (5s), so the probe reports why it failed
// before the container runtime kills it.
const healthcheckTimeout = 3 * time.Second

// healthcheck is `idpool healthcheck [--url URL]`: it asks a running
// server whether it is ready (GET <url>/ready) and exits 0 on 200, else 1
// with one line on stderr that says why. It is the container image's
// HEALTHCHECK, which has no curl. It never returns 2, which Docker reserves.
//
// Without --url it probes the address the server listens on by default:
// IDPOOL_LISTEN (else 127.0.0.1:4591), with a wildcard host replaced by
// 127.0.0.1, as the default issuer URL is; over https when IDPOOL_TLS_CERT
// says the server serves TLS. A probe of a loopback address does not check
// the certificate: it asks this machine's own server whether it is ready,
// and the certificate names the public host, not 127.0.0.1.
func healthcheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("idpool healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "base URL of the server to probe (default: http://$IDPOOL_LISTEN, a wildcard host replaced by 127.0.0.1)")
	timeout := fs.Duration("timeout", healthcheckTimeout, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "idpool healthcheck: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 1
	}
	target, err := readyURL(*base, getenv("IDPOOL_LISTEN"), getenv("IDPOOL_TLS_CERT") != "")
	if err != nil {
		fmt.Fprintln(stderr, "idpool healthcheck:", err)
		return 1
	}
	status, err := probe(target, *timeout)
	if err != nil {
		fmt.Fprintln(stderr, "idpool healthcheck:", err)
		return 1
	}
	fmt.Fprintf(stdout, "ready (GET %s: %s)\n", target, status)
	return 0
}

// readyURL is the URL of the readiness endpoint: base + "/ready" when base
// is set, else derived from the listen address.
func readyURL(base, listen string, tls bool) (string, error) {
	if base == "" {
		if listen == "" {
			listen = config.DefaultListen
		}
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return "", fmt.Errorf("IDPOOL_LISTEN %q: %w", listen, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		scheme := "http://"
		if tls {
			scheme = "https://"
		}
		base = scheme + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url %q: must be an http or https URL", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ready"
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// probe sends one GET to target and returns its status line when it is 200.
// Any other answer is an error that carries the status and the start of
// the body, which for /ready lists the reasons the server is not ready.
func probe(target string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	// A client of its own: no proxy from the environment (the server is
	// probed directly), no kept connection, and a redirect is an answer,
	// not something to follow.
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if ip := net.ParseIP(req.URL.Hostname()); ip != nil && ip.IsLoopback() {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("GET %s: no answer within %s", target, timeout)
		}
		return "", err // "Get \"<url>\": dial tcp ...: connection refused"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("GET %s: %s", target, resp.Status)
		if detail := strings.Join(strings.Fields(string(body)), " "); detail != "" {
			msg += ": " + detail
		}
		return "", errors.New(msg)
	}
	return resp.Status, nil
}
