package config

import (
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
	// Issuer is the iss of issued tokens; by default the server's own URL.
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
}

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

// setting is one option: its flag, its environment variable and its
// default, all in one place so the help text lists them together.
type setting struct {
	flag, env, def, usage string
	dst                   *string
}

// Load reads the serve command's flags from args, with environment
// variables (IDPOOL_*) as defaults for flags not given. It reports every
// invalid setting at once.
func Load(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	var raw struct {
		listen, dataDir, account, region, maxPools, logLevel, logFormat, issuer, secretFile, credLifetime                    string
		auth, credentialsFile, logins, providersFile, rolesFile, rateLimits, store, debugListen, storeTimeout, storeCacheTTL string
	}
	settings := []setting{
		{"listen", "IDPOOL_LISTEN", DefaultListen, "address to listen on (host:port)", &raw.listen},
		{"data-dir", "IDPOOL_DATA_DIR", DefaultDataDir(getenv), "directory that holds the database", &raw.dataDir},
		{"store", "IDPOOL_STORE", "sqlite", "sqlite (a database in --data-dir) or a postgres:// URL shared by several replicas (pgx's pool_max_conns etc. size its connection pool)", &raw.store},
		{"store-timeout", "IDPOOL_STORE_TIMEOUT", "5s", "with --store postgres://: how long one database call may take before the request fails (while the database cannot be reached)", &raw.storeTimeout},
		{"store-cache-ttl", "IDPOOL_STORE_CACHE_TTL", "250ms", "with --store postgres://: how long identities and login links are served from memory; writes that change them wait as long before they are acknowledged, which keeps every replica exact (0 turns the cache off)", &raw.storeCacheTTL},
		{"default-account", "IDPOOL_DEFAULT_ACCOUNT", DefaultAccount, "account of unsigned requests and of access keys that are not a 12-digit account id", &raw.account},
		{"default-region", "IDPOOL_DEFAULT_REGION", DefaultRegion, "region of unsigned requests", &raw.region},
		{"max-pools", "IDPOOL_MAX_POOLS", strconv.Itoa(DefaultMaxPools), "identity pools allowed per account and region", &raw.maxPools},
		{"log-level", "IDPOOL_LOG_LEVEL", "info", "debug, info, warn or error", &raw.logLevel},
		{"log-format", "IDPOOL_LOG_FORMAT", "text", "text or json", &raw.logFormat},
		{"issuer", "IDPOOL_ISSUER", "", "issuer URL of the OpenID tokens (default: http://<listen address>)", &raw.issuer},
		{"secret-file", "IDPOOL_SECRET_FILE", "", "file of base64 server secrets, one per line, the first in use " +
			"(default: env IDPOOL_SECRET, else <data-dir>/secret, generated on first start)", &raw.secretFile},
		{"credentials-lifetime", "IDPOOL_CREDENTIALS_LIFETIME", "1h", "lifetime of the credentials GetCredentialsForIdentity mints (15m to 12h)", &raw.credLifetime},
		{"auth", "IDPOOL_AUTH", "permissive", "permissive (accept any credentials) or strict (verify SigV4 against --credentials-file / IDPOOL_CREDENTIALS)", &raw.auth},
		{"credentials-file", "IDPOOL_CREDENTIALS_FILE", "", "strict mode's access keys, one 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID' per line " +
			"(or env IDPOOL_CREDENTIALS='AKID:SECRET:ACCOUNT,...')", &raw.credentialsFile},
		{"logins", "IDPOOL_LOGINS", "trust", "trust (read login tokens without verifying signatures) or verify", &raw.logins},
		{"providers-file", "IDPOOL_PROVIDERS_FILE", "", "JSON file configuring how verify mode checks each login provider, and the client ids of OIDC providers (see docs/strict-mode.md)", &raw.providersFile},
		{"roles-file", "IDPOOL_ROLES_FILE", "", "JSON file of IAM roles and their trust policies, which decide who may become them (see docs/trust.md)", &raw.rolesFile},
		{"debug-listen", "IDPOOL_DEBUG_LISTEN", "", "address serving /debug/pprof profiles (off when empty; keep it on loopback)", &raw.debugListen},
		{"rate-limits", "IDPOOL_RATE_LIMITS", "off", "off, aws (AWS's published rates), or Operation=requests-per-second entries, comma-separated (e.g. aws,GetId=100)", &raw.rateLimits},
	}
	fs := flag.NewFlagSet("idpool serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		fs.StringVar(s.dst, s.flag, def, fmt.Sprintf("%s (env %s)", s.usage, s.env))
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var errs []error

	c := &Config{
		Listen: raw.listen, DataDir: raw.dataDir, DefaultAccount: raw.account, DefaultRegion: raw.region,
		LogFormat: raw.logFormat, Issuer: strings.TrimSuffix(raw.issuer, "/"), SecretFile: raw.secretFile, Secret: getenv("IDPOOL_SECRET"),
	}
	if c.Issuer == "" {
		c.Issuer = defaultIssuer(c.Listen)
	} else if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("--issuer %q: must be an http or https URL", raw.issuer))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: %w", c.Listen, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if !regexp.MustCompile(`^\d{12}$`).MatchString(c.DefaultAccount) {
		errs = append(errs, fmt.Errorf("--default-account %q: must be 12 digits", c.DefaultAccount))
	}
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`).MatchString(c.DefaultRegion) {
		errs = append(errs, fmt.Errorf("--default-region %q: must look like a region name, e.g. us-east-1", c.DefaultRegion))
	}
	n, err := strconv.Atoi(raw.maxPools)
	if err != nil || n < 1 {
		errs = append(errs, fmt.Errorf("--max-pools %q: must be a positive integer", raw.maxPools))
	}
	c.MaxPools = n
	if err := c.LogLevel.UnmarshalText([]byte(raw.logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level %q: must be debug, info, warn or error", raw.logLevel))
	}
	if d, err := time.ParseDuration(raw.credLifetime); err != nil || d < 15*time.Minute || d > 12*time.Hour {
		errs = append(errs, fmt.Errorf("--credentials-lifetime %q: must be a duration from 15m to 12h", raw.credLifetime))
	} else {
		c.CredentialsLifetime = d
	}
	c.Auth, c.CredentialsFile, c.Credentials = raw.auth, raw.credentialsFile, getenv("IDPOOL_CREDENTIALS")
	c.Logins, c.ProvidersFile, c.RateLimits, c.Store, c.DebugListen = raw.logins, raw.providersFile, raw.rateLimits, raw.store, raw.debugListen
	c.RolesFile = raw.rolesFile
	if c.DebugListen != "" {
		if _, _, err := net.SplitHostPort(c.DebugListen); err != nil {
			errs = append(errs, fmt.Errorf("--debug-listen %q: %w", c.DebugListen, err))
		}
	}
	if d, err := time.ParseDuration(raw.storeTimeout); err != nil || d < 100*time.Millisecond || d > 5*time.Minute {
		errs = append(errs, fmt.Errorf("--store-timeout %q: must be a duration from 100ms to 5m", raw.storeTimeout))
	} else {
		c.StoreTimeout = d
	}
	if d, err := time.ParseDuration(raw.storeCacheTTL); err != nil || d < 0 || d > 10*time.Second {
		errs = append(errs, fmt.Errorf("--store-cache-ttl %q: must be a duration from 0 to 10s", raw.storeCacheTTL))
	} else {
		c.StoreCacheTTL = d
	}
	switch {
	case c.Store == "sqlite":
	case strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://"):
		if c.SecretFile == "" && c.Secret == "" {
			errs = append(errs, errors.New("--store postgres needs the server secret that every replica shares: --secret-file FILE or env IDPOOL_SECRET (idpool secret prints a new one)"))
		}
	default:
		errs = append(errs, fmt.Errorf("--store %q: must be sqlite or a postgres:// URL", redactURL(c.Store)))
	}
	switch c.Auth {
	case "permissive":
		if c.CredentialsFile != "" {
			errs = append(errs, errors.New("--credentials-file is only used with --auth strict"))
		}
	case "strict":
		if c.CredentialsFile == "" && c.Credentials == "" {
			errs = append(errs, errors.New("--auth strict needs access keys: --credentials-file FILE or env IDPOOL_CREDENTIALS"))
		}
	default:
		errs = append(errs, fmt.Errorf("--auth %q: must be permissive or strict", c.Auth))
	}
	if c.Logins != "trust" && c.Logins != "verify" {
		errs = append(errs, fmt.Errorf("--logins %q: must be trust or verify", c.Logins))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: must be text or json", c.LogFormat))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Logger returns the logger the configuration asks for, writing to w.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// defaultIssuer is the server's own URL: http://<listen address>, with a
// wildcard host replaced by 127.0.0.1.
func defaultIssuer(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// redactURL hides the password of a database URL in messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
