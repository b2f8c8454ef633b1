package config

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the configuration of `idpool serve`.
type Config struct {
	Listen         string // host:port to listen on
	DataDir        string // directory of the embedded database
	DefaultAccount string // account of unsigned requests and non-numeric access keys
	DefaultRegion  string // region of unsigned requests
	MaxPools       int    // identity pools per account and region
	LogLevel       slog.Level
	LogFormat      string // "text" or "json"
	// Issuer is the iss of issued tokens; "" means DefaultIssuer, the
	// server's own URL once it listens.
	Issuer string
	// SecretFile holds the server secrets; "" means IDPOOL_SECRET, else a
	// secret generated into the data directory.
	SecretFile string
	// Secret is IDPOOL_SECRET: base64 secrets separated by commas.
	Secret string
	// CredentialsLifetime is how long minted credentials last.
	CredentialsLifetime time.Duration
	// Auth is "permissive" (any or no signature) or "strict".
	Auth string
	// CredentialsFile holds the access keys of strict mode, one
	// "ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID" per line.
	CredentialsFile string
	// Credentials is IDPOOL_CREDENTIALS: "AKID:SECRET:ACCOUNT,..." triples.
	Credentials string
	// Logins is "trust" (tokens read, not verified) or "verify".
	Logins string
	// ProvidersFile configures how verify mode checks each provider (and
	// the OIDC client ids trust mode accepts).
	ProvidersFile string
	// RolesFile holds the IAM trust policies of roles (docs/trust.md).
	RolesFile string
	// RateLimits is "off", "aws", or Operation=rate entries.
	RateLimits string
	// Store is "sqlite" (the embedded database in DataDir) or a
	// postgres:// URL.
	Store string
	// StoreTimeout bounds each call to a PostgreSQL store.
	StoreTimeout time.Duration
	// StoreCacheTTL is how long a PostgreSQL replica serves identities
	// and login links from memory (0: never).
	StoreCacheTTL time.Duration
	// DebugListen, when set, serves Go's pprof profiles there (keep it on
	// loopback).
	DebugListen string
	// MetricsListen, when set, serves /metrics and the pprof profiles
	// there, apart from the API.
	MetricsListen string
	// AccessLog is "on" (a log line per request) or "off".
	AccessLog string
	// TLSCert and TLSKey, both set or both empty, are the PEM files of the
	// certificate HTTPS is served with; they were read as a pair by Load.
	TLSCert, TLSKey string
	// ConfigFile is the YAML file the settings were read from ("" for none).
	ConfigFile string
	// Seed is the seed file applied at start and after every reset ("" for
	// none).
	Seed string
	// AllowReset is "auto" (POST /_idpool/reset allowed in permissive
	// mode, refused in strict mode), "on" (allowed; in strict mode only
	// signed with a configured key) or "off" (refused).
	AllowReset string
	// Console is "on" (the web console at /console/: open in permissive
	// mode, behind a sign-in in strict mode) or "off".
	Console string
}

// Memory reports whether the store is the in-memory one, which keeps
// nothing on disk and nothing between runs.
func (c *Config) Memory() bool { return c.Store == "memory" }

// TLS says whether the server speaks HTTPS.
func (c *Config) TLS() bool { return c.TLSCert != "" }

// Defaults.
const (
	DefaultListen   = "127.0.0.1:4591"
	DefaultAccount  = "000000000000"
	DefaultRegion   = "us-east-1"
	DefaultMaxPools = 1000
)

// DefaultDataDir is where the database lives when neither --data-dir nor
// IDPOOL_DATA_DIR says: $XDG_DATA_HOME/idpool, else ~/.local/share/idpool,
// else ./idpool-data when there is no home directory.
func DefaultDataDir(getenv func(string) string) string {
	if x := getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "idpool")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "share", "idpool")
	}
	return "idpool-data"
}

// setting is one option: its long flag name (also its key in the config
// file), its environment variable and its default, all in one place so
// that the help text lists them together.
type setting struct {
	key, env, def, usage string
	dst                  *value
	show                 func(string) string // how messages print the value; nil: as it is
}

// raw holds every setting's text and origin before it is validated.
type raw struct {
	listen, dataDir, account, region, maxPools, logLevel, logFormat, issuer, secretFile, credLifetime value
	auth, credentialsFile, logins, providersFile, rolesFile, rateLimits, store, debugListen           value
	storeTimeout, storeCacheTTL, metricsListen, accessLog, tlsCert, tlsKey, seed, allowReset, console value
}

// settings is the table of serve's settings, in the order -h lists them.
func (r *raw) settings(getenv func(string) string) []setting {
	return []setting{
		{"listen", "IDPOOL_LISTEN", DefaultListen, "address to listen on (host:port; port 0 picks a free one)", &r.listen, nil},
		{"data-dir", "IDPOOL_DATA_DIR", DefaultDataDir(getenv), "directory that holds the database", &r.dataDir, nil},
		{"store", "IDPOOL_STORE", "sqlite", "sqlite (a database in --data-dir), memory (nothing on disk, nothing kept after exit; a server secret generated in memory) " +
			"or a postgres:// URL shared by several replicas (pgx's pool_max_conns etc. size its connection pool)", &r.store, redactURL},
		{"store-timeout", "IDPOOL_STORE_TIMEOUT", "5s", "with --store postgres://: how long one database call may take before the request fails (while the database cannot be reached)", &r.storeTimeout, nil},
		{"store-cache-ttl", "IDPOOL_STORE_CACHE_TTL", "250ms", "with --store postgres://: how long identities and login links are served from memory; writes that change them wait as long before they are acknowledged, which keeps every replica exact (0 turns the cache off)", &r.storeCacheTTL, nil},
		{"default-account", "IDPOOL_DEFAULT_ACCOUNT", DefaultAccount, "account of unsigned requests and of access keys that are not a 12-digit account id", &r.account, nil},
		{"default-region", "IDPOOL_DEFAULT_REGION", DefaultRegion, "region of unsigned requests", &r.region, nil},
		{"max-pools", "IDPOOL_MAX_POOLS", strconv.Itoa(DefaultMaxPools), "identity pools allowed per account and region", &r.maxPools, nil},
		{"log-level", "IDPOOL_LOG_LEVEL", "info", "debug, info, warn or error", &r.logLevel, nil},
		{"log-format", "IDPOOL_LOG_FORMAT", "text", "text or json", &r.logFormat, nil},
		{"access-log", "IDPOOL_ACCESS_LOG", "on", "on or off: log one line per request", &r.accessLog, nil},
		{"issuer", "IDPOOL_ISSUER", "", "issuer URL of the OpenID tokens (default: http://<listen address>, https:// with --tls-cert, with the port actually bound; " +
			"set it to the URL clients use when they are not on this machine)", &r.issuer, nil},
		{"tls-cert", "IDPOOL_TLS_CERT", "", "PEM certificate (chain) to serve HTTPS with, together with --tls-key; both files are read again on SIGHUP", &r.tlsCert, nil},
		{"tls-key", "IDPOOL_TLS_KEY", "", "PEM private key of --tls-cert", &r.tlsKey, nil},
		{"secret-file", "IDPOOL_SECRET_FILE", "", "file of base64 server secrets, one per line, the first in use " +
			"(default: env IDPOOL_SECRET, else <data-dir>/secret, generated on first start)", &r.secretFile, nil},
		{"credentials-lifetime", "IDPOOL_CREDENTIALS_LIFETIME", "1h", "lifetime of the credentials GetCredentialsForIdentity mints (15m to 12h)", &r.credLifetime, nil},
		{"auth", "IDPOOL_AUTH", "permissive", "permissive (accept any credentials) or strict (verify SigV4 against --credentials-file / IDPOOL_CREDENTIALS)", &r.auth, nil},
		{"credentials-file", "IDPOOL_CREDENTIALS_FILE", "", "strict mode's access keys, one 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID' per line " +
			"(or env IDPOOL_CREDENTIALS='AKID:SECRET:ACCOUNT,...')", &r.credentialsFile, nil},
		{"logins", "IDPOOL_LOGINS", "trust", "trust (read login tokens without verifying signatures) or verify", &r.logins, nil},
		{"providers-file", "IDPOOL_PROVIDERS_FILE", "", "JSON file configuring how verify mode checks each login provider, and the client ids of OIDC providers (see docs/strict-mode.md)", &r.providersFile, nil},
		{"roles-file", "IDPOOL_ROLES_FILE", "", "JSON file of IAM roles and their trust policies, which decide who may become them (see docs/trust.md)", &r.rolesFile, nil},
		{"seed", "IDPOOL_SEED", "", "YAML or JSON file of identity pools (and developer users) created or updated at start and after every reset; " +
			"idempotent: the same file again changes nothing (see README)", &r.seed, nil},
		{"allow-reset", "IDPOOL_ALLOW_RESET", "auto", "who may POST /_idpool/reset (delete every pool and identity, apply --seed again): " +
			"auto (anyone in permissive mode, nobody in strict mode), on (in strict mode: requests SigV4-signed with a configured key) or off", &r.allowReset, nil},
		{"console", "IDPOOL_CONSOLE", "on", "on or off: the web console at /console/ (open in permissive mode: keep such a server on loopback; " +
			"strict mode asks for an access key and secret of --credentials-file)", &r.console, nil},
		{"rate-limits", "IDPOOL_RATE_LIMITS", "off", "off, aws (AWS's published rates), or Operation=requests-per-second entries, comma-separated (e.g. aws,GetId=100)", &r.rateLimits, nil},
		{"metrics-listen", "IDPOOL_METRICS_LISTEN", "", "address serving /metrics and the /debug/pprof profiles apart from the API, whose own /metrics it then turns off (off when empty; keep it private)", &r.metricsListen, nil},
		{"debug-listen", "IDPOOL_DEBUG_LISTEN", "", "address serving /debug/pprof profiles (off when empty; keep it on loopback; --metrics-listen serves them too)", &r.debugListen, nil},
	}
}

// Check validates a setting against what only the caller knows: the rate
// limits name operations of the server, which config does not import.
// Load reports its error, after where the value came from, among the
// other problems.
type Check struct {
	Key   string // the setting's long flag name, e.g. "rate-limits"
	Valid func(string) error
}

// Load reads the serve command's settings: flags from args, then
// environment variables (IDPOOL_*), then the YAML file of --config (or
// IDPOOL_CONFIG), then the defaults, the first that sets a value winning.
// It reports every problem at once, each naming where the value came
// from; checks add the caller's own.
func Load(args []string, getenv func(string) string, stderr io.Writer, checks ...Check) (*Config, error) {
	var r raw
	table := r.settings(getenv)
	fs := flag.NewFlagSet("idpool serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFlag := fs.String("config", "", "YAML file of these settings, each keyed by its flag's name (e.g. default-region: eu-west-1); "+
		"flags and environment variables override it (env IDPOOL_CONFIG)")
	flagText := make([]string, len(table))
	for i, s := range table {
		fs.StringVar(&flagText[i], s.key, s.def, fmt.Sprintf("%s (env %s)", s.usage, s.env))
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	var errs []error
	configFile := value{key: "config", env: "IDPOOL_CONFIG"}
	if given["config"] {
		configFile.text, configFile.from = *configFlag, fromFlag
	} else if v := getenv(configFile.env); v != "" {
		configFile.text, configFile.from = v, fromEnv
	}
	var file map[string]fileValue
	if configFile.text != "" {
		known := make(map[string]bool, len(table))
		for _, s := range table {
			known[s.key] = true
		}
		var ferrs []error
		file, ferrs = readFile(configFile, known)
		errs = append(errs, ferrs...)
	}
	for i, s := range table {
		v := value{text: s.def, key: s.key, env: s.env, show: s.show}
		if given[s.key] {
			v.text, v.from = flagText[i], fromFlag
		} else if e := getenv(s.env); e != "" {
			v.text, v.from = e, fromEnv
		} else if fv, ok := file[s.key]; ok {
			v.text, v.from, v.file, v.line = fv.text, fromFile, configFile.text, fv.line
		}
		*s.dst = v
	}

	c, verrs := r.validate(getenv)
	c.ConfigFile = configFile.text
	errs = append(errs, verrs...)
	for _, ch := range checks {
		v, ok := lookup(table, ch.Key)
		if !ok {
			errs = append(errs, fmt.Errorf("config: check of unknown setting %q", ch.Key))
			continue
		}
		if err := ch.Valid(v.text); err != nil {
			errs = append(errs, v.errorf("%w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// lookup is the value of the setting named key.
func lookup(table []setting, key string) (value, bool) {
	for _, s := range table {
		if s.key == key {
			return *s.dst, true
		}
	}
	return value{}, false
}

// validate turns the settings' text into a Config and lists every
// problem. The Config is partly filled when there are problems.
func (r *raw) validate(getenv func(string) string) (*Config, []error) {
	var errs []error
	bad := func(v value, format string, a ...any) { errs = append(errs, v.errorf(format, a...)) }
	c := &Config{
		Listen: r.listen.text, DataDir: r.dataDir.text, DefaultAccount: r.account.text, DefaultRegion: r.region.text,
		LogFormat: r.logFormat.text, Issuer: strings.TrimSuffix(r.issuer.text, "/"), SecretFile: r.secretFile.text, Secret: getenv("IDPOOL_SECRET"),
		Auth: r.auth.text, CredentialsFile: r.credentialsFile.text, Credentials: getenv("IDPOOL_CREDENTIALS"),
		Logins: r.logins.text, ProvidersFile: r.providersFile.text, RolesFile: r.rolesFile.text, RateLimits: r.rateLimits.text,
		Store: r.store.text, DebugListen: r.debugListen.text, MetricsListen: r.metricsListen.text,
		TLSCert: r.tlsCert.text, TLSKey: r.tlsKey.text, Seed: r.seed.text,
	}
	if c.Issuer != "" {
		if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(r.issuer, "must be an http or https URL")
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad(r.listen, "%w", err)
	}
	if c.DataDir == "" {
		bad(r.dataDir, "must not be empty")
	}
	if !regexp.MustCompile(`^\d{12}$`).MatchString(c.DefaultAccount) {
		bad(r.account, "must be 12 digits")
	}
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`).MatchString(c.DefaultRegion) {
		bad(r.region, "must look like a region name, e.g. us-east-1")
	}
	if n, err := strconv.Atoi(r.maxPools.text); err != nil || n < 1 {
		bad(r.maxPools, "must be a positive integer")
	} else {
		c.MaxPools = n
	}
	if err := c.LogLevel.UnmarshalText([]byte(r.logLevel.text)); err != nil {
		bad(r.logLevel, "must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad(r.logFormat, "must be text or json")
	}
	switch r.accessLog.text {
	case "on", "true":
		c.AccessLog = "on"
	case "off", "false":
		c.AccessLog = "off"
	default:
		bad(r.accessLog, "must be on or off")
	}
	if d, err := time.ParseDuration(r.credLifetime.text); err != nil || d < 15*time.Minute || d > 12*time.Hour {
		bad(r.credLifetime, "must be a duration from 15m to 12h")
	} else {
		c.CredentialsLifetime = d
	}
	for _, v := range []value{r.debugListen, r.metricsListen} {
		if v.text != "" {
			if _, _, err := net.SplitHostPort(v.text); err != nil {
				bad(v, "%w", err)
			}
		}
	}
	if d, err := time.ParseDuration(r.storeTimeout.text); err != nil || d < 100*time.Millisecond || d > 5*time.Minute {
		bad(r.storeTimeout, "must be a duration from 100ms to 5m")
	} else {
		c.StoreTimeout = d
	}
	if d, err := time.ParseDuration(r.storeCacheTTL.text); err != nil || d < 0 || d > 10*time.Second {
		bad(r.storeCacheTTL, "must be a duration from 0 to 10s")
	} else {
		c.StoreCacheTTL = d
	}
	switch r.console.text {
	case "on", "true":
		c.Console = "on"
	case "off", "false":
		c.Console = "off"
	default:
		bad(r.console, "must be on or off")
	}
	switch r.allowReset.text {
	case "auto":
		c.AllowReset = "auto"
	case "on", "true":
		c.AllowReset = "on"
	case "off", "false":
		c.AllowReset = "off"
	default:
		bad(r.allowReset, "must be auto, on or off")
	}
	switch {
	case c.Store == "sqlite", c.Store == "memory":
	case strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://"):
		if c.SecretFile == "" && c.Secret == "" {
			bad(r.store, "needs the server secret that every replica shares: --secret-file FILE or env IDPOOL_SECRET (idpool secret prints a new one)")
		}
	default:
		bad(r.store, "must be sqlite, memory or a postgres:// URL")
	}
	switch c.Auth {
	case "permissive":
		if c.CredentialsFile != "" {
			bad(r.credentialsFile, "is only used with --auth strict")
		}
	case "strict":
		if c.CredentialsFile == "" && c.Credentials == "" {
			bad(r.auth, "needs access keys: --credentials-file FILE or env IDPOOL_CREDENTIALS")
		}
	default:
		bad(r.auth, "must be permissive or strict")
	}
	if c.Logins != "trust" && c.Logins != "verify" {
		bad(r.logins, "must be trust or verify")
	}
	switch {
	case c.TLSCert == "" && c.TLSKey == "":
	case c.TLSKey == "":
		bad(r.tlsCert, "needs --tls-key (env IDPOOL_TLS_KEY) too")
	case c.TLSCert == "":
		bad(r.tlsKey, "needs --tls-cert (env IDPOOL_TLS_CERT) too")
	default:
		// Read now, so that a wrong file refuses to start rather than
		// failing every handshake.
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			bad(r.tlsCert, "with %s: %w", r.tlsKey, err)
		}
	}
	// The files other settings name are read later, by the parts that use
	// them; whether they can be read is checked now, where it is known
	// which flag, variable or line named them.
	for _, v := range []value{r.seed, r.secretFile, r.credentialsFile, r.providersFile, r.rolesFile} {
		if v.text != "" {
			if err := readable(v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return c, errs
}

// Logger returns the logger the configuration asks for, writing to w.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// DefaultIssuer is the issuer URL when --issuer is not given: https with
// TLS, else http, the host of listen and the port of bound, the address
// actually listened on (they differ with port 0). A wildcard host (empty,
// 0.0.0.0, ::) becomes 127.0.0.1, which only this machine reaches; wildcard
// reports it so that the caller can warn.
func DefaultIssuer(listen string, bound net.Addr, tls bool) (issuer string, wildcard bool) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	if _, p, err := net.SplitHostPort(bound.String()); err == nil {
		port = p
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host, wildcard = "127.0.0.1", true
	}
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port), wildcard
}

// redactURL hides the password of a database URL in messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
