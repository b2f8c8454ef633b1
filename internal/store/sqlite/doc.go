// Package sqlite is the embedded store backend: one database file in the
// data directory, in WAL mode with full synchronous commits, opened through
// the pure-Go modernc.org/sqlite driver (no cgo).
//
// SQLite allows one writer at a time: all writes go through a single
// connection, so Store.Update transactions are serialized, while reads use a
// separate pool of read-only connections.
package sqlite
