package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadCase runs Load with a config file holding file (none when file is
// nil), passed with --config unless the case names it itself. In args,
// env and the wanted messages, FILE stands for the file's path.
type loadCase struct {
	name string
	args []string
	env  map[string]string
	file *string
	// noConfigFlag leaves --config out (the case sets IDPOOL_CONFIG).
	noConfigFlag bool
}

func (tc loadCase) run(t *testing.T) (*Config, string, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "idpool.yaml")
	args := []string{"--data-dir", filepath.Join(dir, "data")}
	if tc.file != nil {
		if err := os.WriteFile(path, []byte(*tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
		if !tc.noConfigFlag {
			args = append(args, "--config", path)
		}
	}
	for _, a := range tc.args {
		args = append(args, strings.ReplaceAll(a, "FILE", path))
	}
	getenv := func(k string) string { return strings.ReplaceAll(tc.env[k], "FILE", path) }
	c, err := Load(args, getenv, io.Discard)
	return c, path, err
}

func text(s string) *string { return &s }

// TestPrecedence checks each pair of sources: flag over environment over
// file over default.
func TestPrecedence(t *testing.T) {
	tests := []struct {
		loadCase
		want string // --default-region
	}{
		{loadCase{name: "default"}, DefaultRegion},
		{loadCase{name: "file over default", file: text("default-region: eu-west-1\n")}, "eu-west-1"},
		{loadCase{name: "environment over default", env: map[string]string{"IDPOOL_DEFAULT_REGION": "eu-west-2"}}, "eu-west-2"},
		{loadCase{name: "flag over default", args: []string{"--default-region", "eu-west-3"}}, "eu-west-3"},
		{loadCase{name: "environment over file", file: text("default-region: eu-west-1\n"),
			env: map[string]string{"IDPOOL_DEFAULT_REGION": "eu-west-2"}}, "eu-west-2"},
		{loadCase{name: "flag over file", file: text("default-region: eu-west-1\n"),
			args: []string{"--default-region", "eu-west-3"}}, "eu-west-3"},
		{loadCase{name: "flag over environment", env: map[string]string{"IDPOOL_DEFAULT_REGION": "eu-west-2"},
			args: []string{"--default-region", "eu-west-3"}}, "eu-west-3"},
		{loadCase{name: "flag over environment over file", file: text("default-region: eu-west-1\n"),
			env: map[string]string{"IDPOOL_DEFAULT_REGION": "eu-west-2"}, args: []string{"--default-region", "eu-west-3"}}, "eu-west-3"},
		{loadCase{name: "an empty variable does not override the file", file: text("default-region: eu-west-1\n"),
			env: map[string]string{"IDPOOL_DEFAULT_REGION": ""}}, "eu-west-1"},
		{loadCase{name: "file named by IDPOOL_CONFIG", file: text("default-region: eu-west-1\n"),
			env: map[string]string{"IDPOOL_CONFIG": "FILE"}, noConfigFlag: true}, "eu-west-1"},
		{loadCase{name: "--config over IDPOOL_CONFIG", file: text("default-region: eu-west-1\n"),
			env: map[string]string{"IDPOOL_CONFIG": "/nonexistent/idpool.yaml"}}, "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := tt.run(t)
			if err != nil {
				t.Fatal(err)
			}
			if c.DefaultRegion != tt.want {
				t.Errorf("DefaultRegion = %q, want %q", c.DefaultRegion, tt.want)
			}
		})
	}
}

// TestFile checks what a config file may hold and how each mistake is
// reported (FILE is the file's path).
func TestFile(t *testing.T) {
	tests := []struct {
		loadCase
		errs  []string      // every message expected, in order; nil: Load succeeds
		check func(*Config) // when Load succeeds
	}{
		{
			loadCase: loadCase{name: "every kind of scalar", file: text(`# settings of idpool serve
listen: 0.0.0.0:4600
max-pools: 5
access-log: false
credentials-lifetime: "2h"
issuer: https://id.example.com/
`)},
			check: func(c *Config) {
				if c.Listen != "0.0.0.0:4600" || c.MaxPools != 5 || c.AccessLog != "off" || c.CredentialsLifetime != 2*time.Hour || c.Issuer != "https://id.example.com" {
					t.Errorf("config %+v", c)
				}
			},
		},
		{
			loadCase: loadCase{name: "empty file", file: text("")},
			check: func(c *Config) {
				if c.Listen != DefaultListen || c.MaxPools != DefaultMaxPools || c.AccessLog != "on" {
					t.Errorf("config %+v, want the defaults", c)
				}
			},
		},
		{loadCase: loadCase{name: "comments only", file: text("# nothing set yet\n\n")}, check: func(*Config) {}},
		{loadCase: loadCase{name: "null document", file: text("~\n")}, check: func(*Config) {}},
		{
			loadCase: loadCase{name: "anchor and alias", file: text("debug-listen: &a 127.0.0.1:6060\nmetrics-listen: *a\n")},
			check: func(c *Config) {
				if c.MetricsListen != "127.0.0.1:6060" {
					t.Errorf("MetricsListen = %q", c.MetricsListen)
				}
			},
		},
		{
			loadCase: loadCase{name: "file that does not exist", args: []string{"--config", "/nonexistent/idpool.yaml"}},
			errs:     []string{`--config "/nonexistent/idpool.yaml" (flag): no such file`},
		},
		{
			loadCase: loadCase{name: "file that does not exist, from the environment", env: map[string]string{"IDPOOL_CONFIG": "/nonexistent/idpool.yaml"}},
			errs:     []string{`IDPOOL_CONFIG "/nonexistent/idpool.yaml" (environment): no such file`},
		},
		{
			loadCase: loadCase{name: "unknown key", file: text("listen: 127.0.0.1:4591\n\ndefualt-region: eu-west-1\nfrobnicate: 1\n")},
			errs: []string{
				`config file FILE, line 3: unknown key "defualt-region" (did you mean "default-region"?)`,
				`config file FILE, line 4: unknown key "frobnicate"`,
			},
		},
		{
			loadCase: loadCase{name: "duplicate key", file: text("max-pools: 5\nlisten: 127.0.0.1:1\nmax-pools: 6\n")},
			errs:     []string{`config file FILE, line 3: key "max-pools" repeated (first set on line 1)`},
		},
		{
			loadCase: loadCase{name: "list and mapping for scalar settings", file: text("listen:\n  - a\n  - b\nissuer: {url: x}\n")},
			errs: []string{
				`config file FILE, line 2: key "listen" needs a single value (a string, number or boolean), not a list`,
				`config file FILE, line 4: key "issuer" needs a single value (a string, number or boolean), not a mapping`,
			},
		},
		{
			loadCase: loadCase{name: "key without a value", file: text("store-timeout:\n")},
			errs:     []string{`config file FILE, line 1: key "store-timeout" has no value`},
		},
		{
			loadCase: loadCase{name: "secrets stay in the environment", file: text("secret: c2VjcmV0\ncredentials: A:B:123456789012\nconfig: other.yaml\n")},
			errs: []string{
				`config file FILE, line 1: key "secret" cannot be set in a config file`,
				`config file FILE, line 2: key "credentials" cannot be set in a config file`,
				`config file FILE, line 3: key "config" cannot be set in a config file`,
			},
		},
		{
			loadCase: loadCase{name: "not a mapping", file: text("- listen: 127.0.0.1:1\n")},
			errs:     []string{`config file FILE, line 1: want a mapping of setting names to values`},
		},
		{
			loadCase: loadCase{name: "two documents", file: text("listen: 127.0.0.1:1\n---\nmax-pools: 2\n")},
			errs:     []string{`config file FILE, line 2: more than one YAML document`},
		},
		{
			loadCase: loadCase{name: "not YAML", file: text("listen: [\n")},
			errs:     []string{`config file FILE: yaml: line`},
		},
		{
			loadCase: loadCase{name: "bad values name the file and line", file: text("default-region: eu-west-1\nmax-pools: many\naccess-log: maybe\n")},
			errs: []string{
				`max-pools "many" (config file FILE, line 2): must be a positive integer`,
				`access-log "maybe" (config file FILE, line 3): must be on or off`,
			},
		},
		{
			loadCase: loadCase{name: "problems of the file and of other sources together", file: text("nope: 1\nmax-pools: 0\n"),
				env: map[string]string{"IDPOOL_LOG_FORMAT": "xml"}, args: []string{"--default-account", "x"}},
			errs: []string{
				`config file FILE, line 1: unknown key "nope"`,
				`--default-account "x" (flag): must be 12 digits`,
				`max-pools "0" (config file FILE, line 2): must be a positive integer`,
				`IDPOOL_LOG_FORMAT "xml" (environment): must be text or json`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, path, err := tt.run(t)
			if tt.errs == nil {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(c)
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want %q", tt.errs)
			}
			wantErrors(t, err, tt.errs, path)
		})
	}
}

// wantErrors checks that err's lines begin with want, in order, one each
// (FILE in want standing for path).
func wantErrors(t *testing.T, err error, want []string, path string) {
	t.Helper()
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d problems reported, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		w = strings.ReplaceAll(w, "FILE", path)
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d does not begin with\n\t%s\nall reported:\n%v", i+1, w, err)
		}
	}
}

// TestValues checks that a bad value names its source, whichever it is.
func TestValues(t *testing.T) {
	dir := t.TempDir()
	cert1, key1 := writeCert(t, dir, "one")
	cert2, _ := writeCert(t, dir, "two")
	seedFile := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seedFile, []byte("pools: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		errs []string
		ok   func(*Config) bool // when errs is nil
	}{
		{name: "flag", args: []string{"--max-pools", "x"}, errs: []string{`--max-pools "x" (flag): must be a positive integer`}},
		{name: "environment", env: map[string]string{"IDPOOL_MAX_POOLS": "x"}, errs: []string{`IDPOOL_MAX_POOLS "x" (environment): must be a positive integer`}},
		{name: "access log off", args: []string{"--access-log", "off"}, ok: func(c *Config) bool { return c.AccessLog == "off" }},
		{name: "access log on by default", ok: func(c *Config) bool { return c.AccessLog == "on" }},
		{name: "bad access log", env: map[string]string{"IDPOOL_ACCESS_LOG": "loud"}, errs: []string{`IDPOOL_ACCESS_LOG "loud" (environment): must be on or off`}},
		{name: "metrics listen", args: []string{"--metrics-listen", "127.0.0.1:9090"}, ok: func(c *Config) bool { return c.MetricsListen == "127.0.0.1:9090" }},
		{name: "bad metrics listen", args: []string{"--metrics-listen", "9090"}, errs: []string{`--metrics-listen "9090" (flag): address 9090: missing port in address`}},
		{name: "tls pair", args: []string{"--tls-cert", cert1, "--tls-key", key1}, ok: func(c *Config) bool { return c.TLS() && c.TLSCert == cert1 && c.TLSKey == key1 }},
		{name: "no tls by default", ok: func(c *Config) bool { return !c.TLS() }},
		{name: "tls cert without key", args: []string{"--tls-cert", cert1}, errs: []string{`--tls-cert "` + cert1 + `" (flag): needs --tls-key`}},
		{name: "tls key without cert", env: map[string]string{"IDPOOL_TLS_KEY": key1}, errs: []string{`IDPOOL_TLS_KEY "` + key1 + `" (environment): needs --tls-cert`}},
		{name: "tls files that are not a pair", args: []string{"--tls-cert", cert2, "--tls-key", key1},
			errs: []string{`--tls-cert "` + cert2 + `" (flag): with --tls-key "` + key1 + `" (flag): tls: private key does not match public key`}},
		{name: "tls files that do not exist", args: []string{"--tls-cert", "/nonexistent/cert.pem", "--tls-key", key1},
			errs: []string{`--tls-cert "/nonexistent/cert.pem" (flag): with --tls-key`}},
		{name: "store password hidden", args: []string{"--store", "mysql://u:hunter2@h/db"}, errs: []string{`--store "mysql://u:xxxxx@h/db" (flag): must be sqlite, memory or a postgres:// URL`}},
		{name: "memory store", args: []string{"--store", "memory"}, ok: func(c *Config) bool { return c.Memory() && c.Store == "memory" }},
		{name: "sqlite is not memory", ok: func(c *Config) bool { return !c.Memory() }},
		{name: "seed file", env: map[string]string{"IDPOOL_SEED": seedFile}, ok: func(c *Config) bool { return c.Seed == seedFile }},
		{name: "seed file that does not exist", env: map[string]string{"IDPOOL_SEED": "/nonexistent/seed.yaml"},
			errs: []string{`IDPOOL_SEED "/nonexistent/seed.yaml" (environment): no such file`}},
		{name: "roles file that is a directory", args: []string{"--roles-file", dir}, errs: []string{`--roles-file "` + dir + `" (flag): is a directory, not a file`}},
		{name: "providers file that does not exist", args: []string{"--providers-file", "/nonexistent/providers.json"},
			errs: []string{`--providers-file "/nonexistent/providers.json" (flag): no such file`}},
		{name: "secret file that does not exist", args: []string{"--secret-file", "/nonexistent/secret"},
			errs: []string{`--secret-file "/nonexistent/secret" (flag): no such file`}},
		{name: "credentials file that does not exist", args: []string{"--auth", "strict", "--credentials-file", "/nonexistent/keys"},
			errs: []string{`--credentials-file "/nonexistent/keys" (flag): no such file`}},
		{name: "reset auto by default", ok: func(c *Config) bool { return c.AllowReset == "auto" }},
		{name: "reset on", args: []string{"--allow-reset", "true"}, ok: func(c *Config) bool { return c.AllowReset == "on" }},
		{name: "reset off", env: map[string]string{"IDPOOL_ALLOW_RESET": "off"}, ok: func(c *Config) bool { return c.AllowReset == "off" }},
		{name: "bad reset", args: []string{"--allow-reset", "sometimes"}, errs: []string{`--allow-reset "sometimes" (flag): must be auto, on or off`}},
		{name: "strict mode without keys", args: []string{"--auth", "strict"}, errs: []string{`--auth "strict" (flag): needs access keys`}},
		{name: "IDPOOL_CREDENTIALS still works", args: []string{"--auth", "strict"}, env: map[string]string{"IDPOOL_CREDENTIALS": "AKID:SECRET:123456789012"},
			ok: func(c *Config) bool { return c.Credentials == "AKID:SECRET:123456789012" }},
		{name: "postgres without a secret", args: []string{"--store", "postgres://h/db"}, errs: []string{`--store "postgres://h/db" (flag): needs the server secret`}},
		{name: "IDPOOL_SECRET still works", args: []string{"--store", "postgres://h/db"}, env: map[string]string{"IDPOOL_SECRET": "c2VjcmV0"},
			ok: func(c *Config) bool { return c.Secret == "c2VjcmV0" }},
		{name: "issuer not given", ok: func(c *Config) bool { return c.Issuer == "" }},
		{name: "bad issuer", args: []string{"--issuer", "id.example.com"}, errs: []string{`--issuer "id.example.com" (flag): must be an http or https URL`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--data-dir", t.TempDir()}, tt.args...)
			c, err := Load(args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.errs == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !tt.ok(c) {
					t.Errorf("unexpected config %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want %q", tt.errs)
			}
			wantErrors(t, err, tt.errs, "")
		})
	}
}

// TestSecretsWithFile checks that the secrets that only the environment
// holds are read when a config file sets the rest.
func TestSecretsWithFile(t *testing.T) {
	c, _, err := loadCase{
		file: text("auth: strict\nstore: postgres://db.example.com/idpool\n"),
		env:  map[string]string{"IDPOOL_SECRET": "c2VjcmV0", "IDPOOL_CREDENTIALS": "AKID:SECRET:123456789012"},
	}.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.Secret != "c2VjcmV0" || c.Credentials != "AKID:SECRET:123456789012" || c.Auth != "strict" {
		t.Errorf("config %+v", c)
	}
}

// TestCheck checks that a caller's check is reported with the value's
// source, among the other problems.
func TestCheck(t *testing.T) {
	errBad := errors.New("unknown operation Nope")
	checks := []Check{{Key: "rate-limits", Valid: func(s string) error {
		if strings.Contains(s, "Nope") {
			return errBad
		}
		return nil
	}}}
	_, err := Load([]string{"--data-dir", t.TempDir(), "--max-pools", "0"}, func(k string) string {
		return map[string]string{"IDPOOL_RATE_LIMITS": "Nope=1"}[k]
	}, io.Discard, checks...)
	if !errors.Is(err, errBad) {
		t.Fatalf("error %v does not wrap the check's", err)
	}
	wantErrors(t, err, []string{`--max-pools "0" (flag)`, `IDPOOL_RATE_LIMITS "Nope=1" (environment): unknown operation Nope`}, "")

	if _, err := Load([]string{"--data-dir", t.TempDir()}, func(string) string { return "" }, io.Discard, checks...); err != nil {
		t.Errorf("default rate limits: %v", err)
	}
	if _, err := Load([]string{"--data-dir", t.TempDir()}, func(string) string { return "" }, io.Discard, Check{Key: "no-such", Valid: func(string) error { return nil }}); err == nil {
		t.Error("a check of an unknown setting was accepted")
	}
}

// TestHelp checks that -h lists every setting with its variable, and that
// the file takes every setting that -h lists.
func TestHelp(t *testing.T) {
	var out strings.Builder
	if _, err := Load([]string{"-h"}, func(string) string { return "" }, &out); err == nil {
		t.Fatal("-h did not return flag.ErrHelp")
	}
	var r raw
	var file strings.Builder
	for _, s := range r.settings(func(string) string { return "" }) {
		for _, want := range []string{"-" + s.key + " ", "(env " + s.env + ")"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("-h does not list %q", want)
			}
		}
		file.WriteString(s.key + ": \"" + s.def + "\"\n")
	}
	if !strings.Contains(out.String(), "-config ") || !strings.Contains(out.String(), "IDPOOL_CONFIG") {
		t.Error("-h does not list --config")
	}
	// A file that sets every setting to its default is accepted.
	if _, _, err := (loadCase{file: text(strings.ReplaceAll(file.String(), `data-dir: ""`, `data-dir: "x"`))}).run(t); err != nil {
		t.Errorf("a file of every setting: %v", err)
	}
}

func TestDefaultIssuer(t *testing.T) {
	tests := []struct {
		listen, bound string
		tls           bool
		want          string
		wildcard      bool
	}{
		{"127.0.0.1:4591", "127.0.0.1:4591", false, "http://127.0.0.1:4591", false},
		{"127.0.0.1:0", "127.0.0.1:38211", false, "http://127.0.0.1:38211", false},
		{"localhost:0", "127.0.0.1:38211", false, "http://localhost:38211", false},
		{"127.0.0.1:0", "127.0.0.1:38211", true, "https://127.0.0.1:38211", false},
		{"[::1]:0", "[::1]:38211", false, "http://[::1]:38211", false},
		{"0.0.0.0:4591", "[::]:4591", false, "http://127.0.0.1:4591", true},
		{":0", "[::]:38211", true, "https://127.0.0.1:38211", true},
		{"[::]:4591", "[::]:4591", false, "http://127.0.0.1:4591", true},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			bound, err := net.ResolveTCPAddr("tcp", tt.bound)
			if err != nil {
				t.Fatal(err)
			}
			got, wildcard := DefaultIssuer(tt.listen, bound, tt.tls)
			if got != tt.want || wildcard != tt.wildcard {
				t.Errorf("DefaultIssuer(%q, %s, %v) = %q, %v; want %q, %v", tt.listen, tt.bound, tt.tls, got, wildcard, tt.want, tt.wildcard)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"listen", "listen", 0}, {"lsiten", "listen", 1}, {"defualt-region", "default-region", 1},
		{"max-pool", "max-pools", 1}, {"region", "default-region", 8}, {"abc", "", 3},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir as <name>.pem and <name>-key.pem.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
