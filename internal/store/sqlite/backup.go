package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrBackupExists is returned by Backup when its destination exists: a
// backup never overwrites a file.
var ErrBackupExists = errors.New("sqlite: backup destination exists")

// Backup writes a consistent copy of the database at dbPath to dest, a
// file that must not exist yet, while servers may go on reading and
// writing the database.
//
// It runs VACUUM INTO on a read-only connection of its own: one read
// transaction, which in WAL mode sees the database as of its start while
// writers carry on beside it (they only keep the WAL from being
// checkpointed past that point meanwhile). The copy is written to a
// temporary file next to dest, flushed to disk, checked (quick_check),
// and only then linked to dest, so that dest is either a whole, checked
// copy or absent. The copy is compact (no free pages, no WAL) and opens
// with Open like any database. Backup never creates dbPath.
func Backup(ctx context.Context, dbPath, dest string) error {
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("%w: %s", ErrBackupExists, dest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// VACUUM INTO writes into an empty file as into a new one: the
	// temporary file keeps the mode CreateTemp gives it (0600), since the
	// copy holds what the database holds.
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	// Once linked to dest, the temporary name is only a second link.
	defer os.Remove(tmpName)
	if err := vacuumInto(ctx, dbPath, tmpName); err != nil {
		return err
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := quickCheck(ctx, tmpName); err != nil {
		return err
	}
	// A hard link fails if dest appeared meanwhile, where a rename would
	// replace it.
	if err := os.Link(tmpName, dest); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrBackupExists, dest)
		}
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(filepath.Dir(dest)); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

// vacuumInto copies the database at path into the empty file dest.
func vacuumInto(ctx context.Context, path, dest string) error {
	// mode=ro: the backup cannot write to the database, nor create it.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("sqlite: backup: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("sqlite: backup of %s: %w", path, err)
	}
	return db.Close()
}

// quickCheck runs PRAGMA quick_check on the copy at path, which nothing
// else has open (immutable: no locks, no WAL index).
func quickCheck(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return fmt.Errorf("sqlite: backup: check: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return fmt.Errorf("sqlite: backup: check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("sqlite: backup: the copy fails its check: %s", res)
	}
	return db.Close()
}

// syncFile flushes a file, or a directory's entries, to disk: SQLite does
// not sync what VACUUM INTO writes.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
