// Command idpool is a server that speaks the Amazon Cognito Identity
// (identity pools) API.
//
//	idpool serve [flags]   run the server (idpool serve -h lists the flags)
//	idpool version         print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/idpool/idpool/internal/config"
	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `usage: idpool <command> [flags]

commands:
  serve     run the Cognito Identity server (idpool serve -h for its flags)
  version   print the version
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
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "idpool", versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "idpool: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func serve(args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	dbPath := filepath.Join(cfg.DataDir, "idpool.db")
	st, err := sqlite.Open(ctx, dbPath)
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
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	log.Info("idpool listening", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "version", versionString())
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("idpool stopped: in-flight requests finished, closing the database")
	return st.Close()
}
