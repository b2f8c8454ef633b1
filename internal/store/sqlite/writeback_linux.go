package sqlite

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing the file's dirty pages
// to disk without waiting for them (sync_file_range with WRITE only: no
// durability promise, which only fsync gives). Pages checkpoints copy then
// trickle out after each round instead of piling up for one large fsync
// that stalls the commits beside it.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
