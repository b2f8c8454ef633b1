// Package store defines idpool's durable records, the Store interface every
// backend implements, and the sentinel errors they return.
//
// The interface is written once; package storetest is its specification in
// code and every backend runs it. The package imports nothing internal and
// never speaks wire errors: the service maps ErrNotFound, ErrExists and
// ErrConflict to the API's exceptions.
//
// Concurrent writes are compare-and-swap: pools carry a Version that
// UpdatePool checks, and every write runs inside Store.Update, a serializable
// transaction, so several server replicas over one database stay correct.
package store
