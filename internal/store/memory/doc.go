// Package memory is a store backend that keeps everything in the process's
// memory and touches no disk: for --store memory and for tests that start
// a server in-process. Its state is gone when the process ends.
//
// It behaves as the SQLite and PostgreSQL backends do, and runs the same
// conformance suite (package storetest): the same sentinel errors, the same
// orders and keyset cursors, times kept to the nanosecond and read back in
// UTC, and pool configurations passed through the JSON codec the database
// backends store them with, so that they read back alike (an empty Tags
// map, say, reads back as nil).
//
// Concurrency: one writer at a time. Store.Update holds the writer token
// while its function runs against a transaction that records its changes
// beside the committed state (changed records are private copies; deleted
// ones are tombstones) and reads its own writes through them. When the
// function returns nil the changes are applied all at once under the write
// lock of the committed state; otherwise they are dropped and nothing has
// changed. Readers outside a transaction take the read lock, so they never
// wait for a transaction's function, only for the short apply; they may
// also be called from inside an Update's function.
//
// Records go in and come out as copies: a caller may change what it gave
// the store, or got from it, without changing what is stored.
package memory
