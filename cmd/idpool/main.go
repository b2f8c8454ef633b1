// Command idpool is a server that speaks the Amazon Cognito Identity
// (identity pools) API.
//
//	idpool serve [flags]        run the server (idpool serve -h lists the flags)
//	idpool keys init [flags]    create the first signing key if there is none
//	idpool keys rotate [flags]  rotate the token signing keys (same flags as serve)
//	idpool keys list [flags]    list the signing keys
//	idpool healthcheck [flags]  ask a running server whether it is ready
//	idpool export [flags]       write the store's keys, pools and identities to stdout
//	idpool import [flags]       read what export wrote into a store
//	idpool backup FILE [flags]  copy the SQLite database while a server serves
//	idpool reset [flags]        delete every pool and identity of a stopped server's store, apply --seed again
//	idpool version              print the version, commit and build time
//
// Every setting of serve is a flag, an IDPOOL_* environment variable and a
// key of the YAML file named by --config, in that order of precedence.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/idpool/idpool/internal/auth"
	"github.com/idpool/idpool/internal/config"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/logsink"
	"github.com/idpool/idpool/internal/ratelimit"
	"github.com/idpool/idpool/internal/seal"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/store/sqlite"
	"github.com/idpool/idpool/internal/tokens"
	"github.com/idpool/idpool/internal/trust"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `usage: idpool <command> [flags]

commands:
  serve         run the Cognito Identity server (idpool serve -h for its flags)
  keys init     create the first token signing key if there is none (takes the flags of serve)
  keys rotate   rotate the token signing keys (takes the flags of serve, --config included)
  keys list     list the token signing keys (takes the flags of serve; creates nothing)
  healthcheck   ask a running server whether it is ready (exit 0 when it is; --url URL)
  export        write every signing key, pool and identity of the store to stdout, as JSON lines
  import        read what export wrote into a store (--merge into one that holds pools)
  backup FILE   copy the SQLite database to FILE while a server goes on serving
  reset         delete every pool and identity of a stopped server's store and apply --seed again
                (takes the flags of serve, and --force; a running server: POST /_idpool/reset)
  secret        print a new random server secret (for IDPOOL_SECRET or --secret-file)
  version       print the version, commit, build time and Go version
`

// run is main without the exit, so that the only os.Exit stays in main.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		if err := serve(args[1:], getenv, stderr); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintln(stderr, "idpool:", err)
			return 1
		}
		return 0
	case "keys":
		if err := keys(args[1:], getenv, stdout, stderr); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintln(stderr, "idpool:", err)
			return 1
		}
		return 0
	case "healthcheck":
		return healthcheck(args[1:], getenv, stdout, stderr)
	case "export":
		return exportCmd(args[1:], getenv, stdout, stderr)
	case "import":
		return importCmd(args[1:], getenv, os.Stdin, stdout, stderr)
	case "backup":
		return backupCmd(args[1:], getenv, stdout, stderr)
	case "reset":
		if err := resetCmd(args[1:], getenv, stdout, stderr); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintln(stderr, "idpool:", err)
			return 1
		}
		return 0
	case "secret":
		secret, err := seal.NewSecret()
		if err != nil {
			fmt.Fprintln(stderr, "idpool:", err)
			return 1
		}
		fmt.Fprintln(stdout, secret)
		return 0
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionLine(version, readBuildInfo()))
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "idpool: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// loadConfig is config.Load with the checks only this command can make:
// the rate limits name operations that the server package knows. Every
// command that takes the flags of serve uses it, so that a mistake is
// reported before anything is opened or created.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*config.Config, error) {
	return config.Load(args, getenv, stderr, config.Check{Key: "rate-limits", Valid: checkRateLimits})
}

// checkRateLimits validates --rate-limits, listing the operations when an
// entry names one that does not exist.
func checkRateLimits(spec string) error {
	ops := server.Operations()
	if _, err := ratelimit.ParseSpec(spec, ops); err != nil {
		known := make(map[string]bool, len(ops))
		for _, op := range ops {
			known[op] = true
		}
		for _, part := range strings.Split(spec, ",") {
			if op, _, ok := strings.Cut(strings.TrimSpace(part), "="); ok && !known[op] {
				sorted := slices.Sorted(slices.Values(ops))
				return fmt.Errorf("%w; the operations are %s", err, strings.Join(sorted, ", "))
			}
		}
		return err
	}
	return nil
}

func serve(args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Log lines are written in groups by one goroutine (package
	// logsink); Close, deferred first, runs last and writes what is left.
	lines := logsink.New(stderr)
	defer lines.Close()
	log := cfg.Logger(lines)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The seed file is checked before anything is opened: a bad one
	// refuses to start without touching the data.
	sd, err := loadSeed(cfg)
	if err != nil {
		return err
	}

	rates, err := ratelimit.ParseSpec(cfg.RateLimits, server.Operations())
	if err != nil {
		return err // checked by loadConfig already
	}
	keys, err := strictKeys(cfg)
	if err != nil {
		return err
	}
	verifier, err := loginVerifier(cfg, log)
	if err != nil {
		return err
	}
	var roles *trust.Roles
	if cfg.RolesFile != "" {
		if roles, err = trust.LoadRoles(cfg.RolesFile); err != nil {
			return err
		}
	}
	var certs *certificate
	if cfg.TLS() {
		if certs, err = loadCertificate(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			return err
		}
	}
	// Listen before the issuer is known: with port 0 the default issuer
	// takes the port the system picked, so that tokens and the discovery
	// document point at this server.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	issuer := cfg.Issuer
	if issuer == "" {
		var wildcard bool
		issuer, wildcard = config.DefaultIssuer(cfg.Listen, ln.Addr(), cfg.TLS())
		if wildcard {
			log.Warn("listening on every interface without --issuer: tokens will carry iss="+issuer+
				", which clients on other machines cannot reach; set --issuer to the URL clients use",
				"listen", cfg.Listen, "issuer", issuer)
		}
	}
	// The files above are read, and the address bound, before the store
	// is opened, so that a mistake refuses to start without touching the
	// data.
	st, secrets, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(server.Options{
		Store:          st,
		Logger:         log,
		DefaultAccount: cfg.DefaultAccount,
		DefaultRegion:  cfg.DefaultRegion,
		MaxPools:       cfg.MaxPools,
		IssuerURL:      issuer,
		Secrets:        secrets,

		CredentialsLifetime: cfg.CredentialsLifetime,
		Keys:                keys,
		Verifier:            verifier,
		RateLimits:          rates,
		StoreIsPrivate:      cfg.Store == "sqlite" || cfg.Memory(),
		Roles:               roles,
		AccessLog:           cfg.AccessLog == "on",
		MetricsOffAPI:       cfg.MetricsListen != "",
		Seed:                sd,
		Reset:               resetPolicy(cfg),
		ConsoleOff:          cfg.Console == "off",
	})
	if err != nil {
		return err
	}
	metricsMux := debugMux()
	metricsMux.Handle("GET /metrics", srv.MetricsHandler())
	for _, side := range []struct {
		flag, addr, what string
		mux              *http.ServeMux
	}{
		{"debug-listen", cfg.DebugListen, "debug endpoints listening", debugMux()},
		{"metrics-listen", cfg.MetricsListen, "metrics and debug endpoints listening", metricsMux},
	} {
		if side.addr == "" {
			continue
		}
		sl, err := net.Listen("tcp", side.addr)
		if err != nil {
			return fmt.Errorf("--%s: %w", side.flag, err)
		}
		defer sl.Close()
		go http.Serve(sl, side.mux)
		log.Info(side.what, "addr", sl.Addr().String())
	}
	if cfg.Console == "on" && cfg.Auth != "strict" && !isLoopback(ln.Addr()) {
		log.Warn("the web console is open to anyone who reaches "+ln.Addr().String()+" in permissive mode, and can change and delete "+
			"every pool: listen on loopback, use --auth strict (the console then asks for a key), or --console off",
			"console", "/console/")
	}
	if cfg.Auth == "strict" && cfg.Logins != "verify" {
		log.Warn("--auth strict with --logins trust: login tokens are read without their signatures, so anyone can write one that " +
			"signs in as any user of a pool's providers and gets its authenticated role; use --logins verify for a real service (docs/trust.md)")
	}
	if certs != nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go certs.reloadOn(ctx, hup)
		ln = tls.NewListener(ln, certs.tlsConfig())
	}
	attrs := []any{"addr", ln.Addr().String(), "tls", cfg.TLS(), "store", storeName(cfg), "issuer", issuer,
		"auth", cfg.Auth, "logins", cfg.Logins, "trusted_roles", roles.Len(), "rate_limits", cfg.RateLimits,
		"seeded_pools", sd.Len(), "reset", cfg.AllowReset, "console", cfg.Console, "version", buildVersion(version, readBuildInfo())}
	if cfg.ConfigFile != "" {
		attrs = append(attrs, "config", cfg.ConfigFile)
	}
	log.Info("idpool listening", attrs...)
	// The start-up lines (the seed's, this one) are out before the first
	// answer: whoever waits for /health then finds them.
	lines.Flush()
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("idpool stopped: in-flight requests finished, closing the database")
	return st.Close()
}

// open opens the store (the embedded database in the data directory, the
// memory store, or PostgreSQL) and reads the server secrets.
func open(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, [][]byte, error) {
	if cfg.Memory() {
		// Nothing on disk: no data directory, and a secret that lives as
		// long as the data it seals, unless one is given.
		secrets, err := memorySecrets(cfg, log)
		if err != nil {
			return nil, nil, err
		}
		return memory.New(), secrets, nil
	}
	if cfg.Store == "sqlite" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("data directory: %w", err)
		}
	}
	secrets, err := loadSecrets(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	var st store.Store
	if cfg.Store == "sqlite" {
		st, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "idpool.db"))
	} else {
		st, err = postgres.Open(ctx, cfg.Store, postgres.Options{Timeout: cfg.StoreTimeout, CacheTTL: cfg.StoreCacheTTL})
	}
	if err != nil {
		return nil, nil, err
	}
	return st, secrets, nil
}

// loadSecrets reads the server secrets from --secret-file, else from
// IDPOOL_SECRET, else from <data-dir>/secret, which is generated (mode
// 0600) on first start. Replicas sharing a database must share the secret.
func loadSecrets(cfg *config.Config, log *slog.Logger) ([][]byte, error) {
	switch {
	case cfg.SecretFile != "":
		text, err := os.ReadFile(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("secret file: %w", err)
		}
		s, err := seal.ParseSecrets(string(text))
		if err != nil {
			return nil, fmt.Errorf("secret file %s: %w", cfg.SecretFile, err)
		}
		return s, nil
	case cfg.Secret != "":
		s, err := seal.ParseSecrets(cfg.Secret)
		if err != nil {
			return nil, fmt.Errorf("IDPOOL_SECRET: %w", err)
		}
		return s, nil
	}
	path := filepath.Join(cfg.DataDir, "secret")
	text, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		secret, err := seal.NewSecret()
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = fmt.Fprintln(f, secret)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("writing a new server secret: %w", err)
		}
		if err == nil {
			log.Info("generated a server secret", "path", path)
		}
		text, err = os.ReadFile(path)
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	s, err := seal.ParseSecrets(string(text))
	if err != nil {
		return nil, fmt.Errorf("secret file %s: %w", path, err)
	}
	return s, nil
}

// keys runs `idpool keys init|rotate|list` against the database directly; the
// servers sharing it pick the change up within a refresh interval.
func keys(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "list" && args[0] != "init") {
		return errors.New("usage: idpool keys init|rotate|list [flags of serve]")
	}
	cfg, err := loadConfig(args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.Memory() {
		return errors.New("--store memory keeps no keys between runs: idpool keys has nothing to work on")
	}
	log := cfg.Logger(stderr)
	ctx := context.Background()
	if args[0] == "list" {
		return listKeys(ctx, cfg, stdout)
	}
	st, secrets, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	ring, err := tokens.NewKeyRing(tokens.KeyRingOptions{Store: st, Secrets: secrets, KIDPrefix: cfg.DefaultRegion, Logger: log})
	if err != nil {
		return err
	}
	if err := ring.Load(ctx); err != nil {
		return err
	}
	if args[0] == "init" {
		// Load made the first key if there was none: what a deployment job
		// runs once, before the replicas start, to set up a database.
		return listKeys(ctx, cfg, stdout)
	}
	id, err := ring.Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new signing key %s: published now, signing in %s; the previous key signs until then and stays published for %s\n",
		id, tokens.Propagation, tokens.MaxTokenLifetime)
	return nil
}

// listKeys prints the signing keys as stored. It only reads: it needs no
// secret (nothing is unsealed), and refuses a data directory without a
// database rather than creating one, a secret and a first key.
func listKeys(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	st, err := openExisting(ctx, cfg, "list")
	if err != nil {
		return err
	}
	defer st.Close()
	stored, err := st.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range stored {
		state := "active"
		if k.RetiresAt != nil {
			state = "retires " + k.RetiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%s\tcreated %s\t%s\n", k.ID, k.CreatedAt.Format(time.RFC3339), state)
	}
	return st.Close()
}

// strictKeys reads the access keys of strict mode; nil in permissive mode.
func strictKeys(cfg *config.Config) (auth.Keys, error) {
	if cfg.Auth != "strict" {
		return nil, nil
	}
	if cfg.CredentialsFile != "" {
		f, err := os.Open(cfg.CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("credentials file: %w", err)
		}
		defer f.Close()
		keys, err := auth.ParseKeys(f, "\n")
		if err != nil {
			return nil, fmt.Errorf("credentials file %s: %w", cfg.CredentialsFile, err)
		}
		return keys, nil
	}
	keys, err := auth.ParseKeys(strings.NewReader(cfg.Credentials), ",")
	if err != nil {
		return nil, fmt.Errorf("IDPOOL_CREDENTIALS: %w", err)
	}
	return keys, nil
}

// loginVerifier is the login checker of --logins: trust mode reads tokens
// without their signatures (the providers file then only names OIDC
// client ids), verify mode checks them against their issuers' keys.
func loginVerifier(cfg *config.Config, log *slog.Logger) (federation.Verifier, error) {
	var providers map[string]federation.ProviderConfig
	if cfg.ProvidersFile != "" {
		var err error
		if providers, err = federation.LoadProviders(cfg.ProvidersFile); err != nil {
			return nil, err
		}
	}
	if cfg.Logins != "verify" {
		return federation.Trust{Providers: providers}, nil
	}
	return federation.NewStrict(providers, nil, &http.Client{Timeout: 10 * time.Second}).WithLogger(log), nil
}

// openExisting opens a store that must exist already, creating nothing (no
// secret, no database, no signing key): a data directory without a
// database is refused, naming what there is nothing to do (verb).
func openExisting(ctx context.Context, cfg *config.Config, verb string) (store.Store, error) {
	if cfg.Store != "sqlite" {
		return postgres.Open(ctx, cfg.Store, postgres.Options{Timeout: cfg.StoreTimeout, CacheTTL: cfg.StoreCacheTTL})
	}
	path := filepath.Join(cfg.DataDir, "idpool.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s: nothing to %s (is --data-dir %s the one idpool serve uses?)", path, verb, cfg.DataDir)
	} else if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return sqlite.Open(ctx, path)
}

func storeName(cfg *config.Config) string {
	switch {
	case cfg.Store == "sqlite":
		return "sqlite:" + filepath.Join(cfg.DataDir, "idpool.db")
	case cfg.Memory():
		return "memory"
	}
	return "postgres"
}

// memorySecrets are the server secrets of --store memory: those given, or
// one generated for this run (the tokens and session tokens it seals die
// with the data anyway).
func memorySecrets(cfg *config.Config, log *slog.Logger) ([][]byte, error) {
	if cfg.SecretFile != "" || cfg.Secret != "" {
		return loadSecrets(cfg, log)
	}
	secret, err := seal.NewSecret()
	if err != nil {
		return nil, err
	}
	return seal.ParseSecrets(secret)
}

// debugMux serves Go's profiles (on their own listeners, never the API's).
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
