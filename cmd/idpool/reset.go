package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/idpool/idpool/internal/config"
	"github.com/idpool/idpool/internal/seed"
	"github.com/idpool/idpool/internal/server"
)

// resetCmd runs `idpool reset [--force] [flags of serve]`: it deletes every
// pool and identity of the store a stopped server used and applies --seed
// again, with the code POST /_idpool/reset runs (server.ResetStore).
// Signing keys stay; it needs no server secret and creates nothing.
//
// A server running on the same SQLite database would keep serving what
// its caches hold, so a data directory that looks in use (SQLite's -wal or
// -shm file is there while a connection is open) is refused unless --force
// says the server that left it is gone. PostgreSQL replicas that are
// running see the reset within their cache lifetimes (about a second).
func resetCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	args, force := cutForce(args)
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.Memory() {
		return errors.New("--store memory keeps nothing between runs: there is nothing to reset here; POST /_idpool/reset to the running server instead")
	}
	sd, err := loadSeed(cfg)
	if err != nil {
		return err
	}
	if cfg.Store == "sqlite" && !force {
		if err := notInUse(cfg.DataDir); err != nil {
			return err
		}
	}
	ctx := context.Background()
	st, err := openExisting(ctx, cfg, "reset")
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := server.ResetStore(ctx, server.Options{
		Store:          st,
		Logger:         cfg.Logger(stderr),
		DefaultAccount: cfg.DefaultAccount,
		DefaultRegion:  cfg.DefaultRegion,
		MaxPools:       cfg.MaxPools,
		Seed:           sd,
	})
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reset: %d pools deleted, %d pools seeded\n", res.Deleted, res.Pools)
	return nil
}

// cutForce removes --force (or -force, --force=true) from args; the other
// flags are serve's.
func cutForce(args []string) ([]string, bool) {
	out := make([]string, 0, len(args))
	force := false
	for _, a := range args {
		switch a {
		case "--force", "-force", "--force=true", "-force=true":
			force = true
		case "--force=false", "-force=false":
		default:
			out = append(out, a)
		}
	}
	return out, force
}

// notInUse refuses a data directory whose database some process has
// open: SQLite keeps idpool.db-wal and idpool.db-shm while a connection
// is open and removes them when the last one closes cleanly.
func notInUse(dataDir string) error {
	for _, suffix := range []string{"-wal", "-shm"} {
		path := filepath.Join(dataDir, "idpool.db"+suffix)
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("a server seems to be running on %s (%s exists): stop it first, or POST /_idpool/reset to it; "+
				"if none is running (it was killed), run idpool reset --force", dataDir, path)
		}
	}
	return nil
}

// loadSeed reads and checks the seed file of --seed (nil when none).
func loadSeed(cfg *config.Config) (*seed.Seed, error) {
	if cfg.Seed == "" {
		return nil, nil
	}
	return seed.Load(cfg.Seed)
}

// resetPolicy is the reset policy of --allow-reset.
func resetPolicy(cfg *config.Config) server.ResetPolicy {
	switch cfg.AllowReset {
	case "on":
		return server.ResetOn
	case "off":
		return server.ResetOff
	}
	return server.ResetAuto
}
