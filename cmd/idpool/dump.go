package main

// idpool export, import and backup: moving a store's contents between
// backends, and copying a live SQLite database.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/idpool/idpool/internal/config"
	"github.com/idpool/idpool/internal/dump"
	"github.com/idpool/idpool/internal/seal"
	"github.com/idpool/idpool/internal/store/sqlite"
)

const (
	exportUsage = `usage: idpool export [flags of serve] > FILE

Writes every signing key (still sealed), pool and identity of the store
(--data-dir, or --store postgres://...) to stdout, as JSON lines. It only
reads: it needs no secret and creates nothing.
`
	importUsage = `usage: idpool import [--merge] [--reseal OLD_SECRET_FILE] [flags of serve] < FILE

Reads what idpool export wrote into the store (--data-dir, or --store
postgres://...), which must hold no identity pool unless --merge is given.
Stop the servers of the target store first, and start them afterwards.

  --merge                    import into a store that holds pools: records already there,
                             the same, are skipped; one that differs stops the import
  --reseal OLD_SECRET_FILE   the server secret(s) of the exporting server: the signing keys
                             are sealed again with this server's secret (--secret-file,
                             IDPOOL_SECRET or <data-dir>/secret, generated if none)
`
	backupUsage = `usage: idpool backup FILE [--data-dir DIR | --config FILE]

Copies the SQLite database of the data directory to FILE, which must not
exist, consistently while a server goes on serving. The copy's signing keys
are sealed with the server secret (<data-dir>/secret, --secret-file or
IDPOOL_SECRET): keep that secret too.
`
)

// cmdArgs are a command's arguments taken apart: its own flags, its
// positional arguments, and the flags of serve left for loadConfig.
type cmdArgs struct {
	serve      []string
	own        map[string]string
	positional []string
	help       bool
}

// splitArgs takes the command's own flags (bools take no value, values
// take one) and its positional arguments out of args, wherever they are.
// Every flag of serve takes a value, so a flag of serve written without
// "=" takes the next argument with it.
func splitArgs(args, bools, values []string) (cmdArgs, error) {
	a := cmdArgs{own: map[string]string{}}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			a.positional = append(a.positional, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			a.positional = append(a.positional, arg)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		switch {
		case name == "h" || name == "help":
			a.help = true
			a.serve = append(a.serve, arg)
		case slices.Contains(bools, name):
			if !hasValue {
				value = "true"
			}
			if _, err := strconv.ParseBool(value); err != nil {
				return a, fmt.Errorf("--%s=%s: not true or false", name, value)
			}
			a.own[name] = value
		case slices.Contains(values, name):
			if !hasValue {
				if i+1 == len(args) {
					return a, fmt.Errorf("--%s needs a value", name)
				}
				i++
				value = args[i]
			}
			a.own[name] = value
		default:
			a.serve = append(a.serve, arg)
			if !hasValue && i+1 < len(args) {
				i++
				a.serve = append(a.serve, args[i])
			}
		}
	}
	return a, nil
}

// report ends a command: 0 for nil and for -h, else 1 with the error.
func report(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "idpool:", err)
	return 1
}

// signalContext is cancelled by Ctrl-C or SIGTERM: an import then rolls
// back its current transaction, a backup removes its partial copy.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// exportCmd runs `idpool export`.
func exportCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a, err := splitArgs(args, nil, nil)
	if err != nil {
		fmt.Fprint(stderr, exportUsage)
		return report(err, stderr)
	}
	if a.help {
		fmt.Fprint(stderr, exportUsage)
	}
	if len(a.positional) > 0 {
		return report(fmt.Errorf("unexpected arguments: %s (the export goes to stdout)", strings.Join(a.positional, " ")), stderr)
	}
	cfg, err := loadConfig(a.serve, getenv, stderr)
	if err != nil {
		return report(err, stderr)
	}
	if cfg.Memory() {
		return report(errors.New("--store memory keeps nothing between runs: there is nothing to export"), stderr)
	}
	ctx, stop := signalContext()
	defer stop()
	st, err := openExisting(ctx, cfg, "export")
	if err != nil {
		return report(err, stderr)
	}
	defer st.Close()
	start := time.Now()
	n, err := dump.Export(ctx, st, stdout, start)
	if err != nil {
		return report(fmt.Errorf("export: %w", err), stderr)
	}
	if err := st.Close(); err != nil {
		return report(err, stderr)
	}
	fmt.Fprintf(stderr, "idpool: exported %v from %s in %s\n", n, storeName(cfg), time.Since(start).Round(time.Millisecond))
	return 0
}

// importCmd runs `idpool import`.
func importCmd(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	a, err := splitArgs(args, []string{"merge"}, []string{"reseal"})
	if err != nil {
		fmt.Fprint(stderr, importUsage)
		return report(err, stderr)
	}
	if a.help {
		fmt.Fprint(stderr, importUsage)
	}
	if len(a.positional) > 0 {
		return report(fmt.Errorf("unexpected arguments: %s (the export is read from stdin)", strings.Join(a.positional, " ")), stderr)
	}
	cfg, err := loadConfig(a.serve, getenv, stderr)
	if err != nil {
		return report(err, stderr)
	}
	if cfg.Memory() {
		return report(errors.New("--store memory lives as long as its process: an import into it would end with this command"), stderr)
	}
	merge, _ := strconv.ParseBool(a.own["merge"])
	ctx, stop := signalContext()
	defer stop()
	return report(importInto(ctx, cfg, stdin, merge, a.own["reseal"], stdout, stderr), stderr)
}

// importInto checks the header and the signing keys of the stream before
// it opens (or creates) anything, then imports.
func importInto(ctx context.Context, cfg *config.Config, stdin io.Reader, merge bool, resealFile string, stdout, stderr io.Writer) error {
	log := cfg.Logger(stderr)
	var old [][]byte
	if resealFile != "" {
		text, err := os.ReadFile(resealFile)
		if err != nil {
			return fmt.Errorf("--reseal: %w", err)
		}
		if old, err = seal.ParseSecrets(string(text)); err != nil {
			return fmt.Errorf("--reseal %s: %w", resealFile, err)
		}
	}
	rd, err := dump.NewReader(bufio.NewReaderSize(stdin, 1<<20))
	if err != nil {
		return err
	}
	keys, err := rd.Keys()
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		target, known, err := existingSecrets(cfg, log)
		if err != nil {
			return err
		}
		switch {
		case known:
			_, err = dump.PrepareKeys(keys, target, old, nil)
		case old != nil:
			// The target's secret will be generated: the keys must
			// open with the old one.
			_, err = dump.PrepareKeys(keys, old, nil, nil)
		default:
			return fmt.Errorf("this server has no secret yet (no --secret-file, no IDPOOL_SECRET, no %s) to open the imported signing keys with: "+
				"give it the secret of the server the export came from, or name a file holding that secret with --reseal to seal the keys under a new one",
				filepath.Join(cfg.DataDir, "secret"))
		}
		if err != nil {
			return keySecretHint(err, old != nil)
		}
	}
	st, secrets, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	res, err := dump.Import(ctx, st, rd, dump.Options{Merge: merge, Secrets: secrets, OldSecrets: old})
	if err != nil {
		switch {
		case errors.Is(err, dump.ErrNotEmpty):
			err = fmt.Errorf("%w (--merge adds the records that are not there yet)", err)
		case errors.Is(err, dump.ErrKeySecret):
			err = keySecretHint(err, old != nil)
		}
		if res.Line > 0 {
			err = fmt.Errorf("%w\nthe target holds what lines 1-%d brought (%v imported, %v already there); nothing after line %d was written. "+
				"Once the cause is fixed, import the whole export again with --merge: what is there already is skipped", err, res.Line, res.Imported, res.Skipped, res.Line)
		}
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %v into %s in %s", res.Imported, storeName(cfg), time.Since(start).Round(time.Millisecond))
	if merge {
		fmt.Fprintf(stdout, "; already there: %v", res.Skipped)
	}
	fmt.Fprintln(stdout)
	if len(res.ReplacedKeys) > 0 {
		fmt.Fprintf(stdout, "replaced the store's own signing keys (%s) with the imported ones\n", strings.Join(res.ReplacedKeys, ", "))
	}
	return nil
}

// keySecretHint explains a key that does not open.
func keySecretHint(err error, resealing bool) error {
	if !errors.Is(err, dump.ErrKeySecret) {
		return err
	}
	if resealing {
		return fmt.Errorf("%w, nor with the --reseal secret: give --reseal the secret of the server the export came from", err)
	}
	return fmt.Errorf("%w: import with the secret of the server the export came from (--secret-file, IDPOOL_SECRET or <data-dir>/secret), "+
		"or name a file holding it with --reseal to seal the keys again under this server's secret", err)
}

// existingSecrets returns the target's server secrets as serve would read
// them, without generating one: known is false when none is configured and
// the data directory holds none yet.
func existingSecrets(cfg *config.Config, log *slog.Logger) (secrets [][]byte, known bool, err error) {
	if cfg.SecretFile == "" && cfg.Secret == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "secret")); errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
	}
	secrets, err = loadSecrets(cfg, log)
	return secrets, err == nil, err
}

// backupCmd runs `idpool backup FILE`.
func backupCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a, err := splitArgs(args, nil, nil)
	if err != nil {
		fmt.Fprint(stderr, backupUsage)
		return report(err, stderr)
	}
	if a.help {
		fmt.Fprint(stderr, backupUsage)
	} else if len(a.positional) != 1 {
		fmt.Fprint(stderr, backupUsage)
		return 2
	}
	cfg, err := loadConfig(a.serve, getenv, stderr)
	if err != nil {
		return report(err, stderr)
	}
	dest := a.positional[0]
	if cfg.Memory() {
		return report(errors.New("--store memory keeps nothing on disk: there is nothing to back up"), stderr)
	}
	if cfg.Store != "sqlite" {
		return report(errors.New("idpool backup copies the embedded SQLite database, and --store is PostgreSQL: back PostgreSQL up with its own tools "+
			"(pg_dump --format=custom, or continuous archiving), or take a portable copy with idpool export"), stderr)
	}
	path := filepath.Join(cfg.DataDir, "idpool.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return report(fmt.Errorf("no database at %s: nothing to back up (is --data-dir %s the one idpool serve uses?)", path, cfg.DataDir), stderr)
	}
	ctx, stop := signalContext()
	defer stop()
	start := time.Now()
	if err := sqlite.Backup(ctx, path, dest); err != nil {
		if errors.Is(err, sqlite.ErrBackupExists) {
			err = fmt.Errorf("%s exists: a backup never replaces a file; name a new one", dest)
		}
		return report(err, stderr)
	}
	size := int64(0)
	if fi, err := os.Stat(dest); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes) in %s\n", path, dest, size, time.Since(start).Round(time.Millisecond))
	return 0
}
