// Package replicas runs several idpool processes over one PostgreSQL
// database, as docs/scaling.md deploys them, and drives them with the real
// aws-sdk-go-v2 clients: the end-to-end proof that replicas sharing a
// database agree on identities, keys and credentials, and that a replica
// killed mid-request loses nothing it acknowledged.
//
// The tests build cmd/idpool once, create a fresh database per test and
// start three replicas on it. They need IDPOOL_TEST_POSTGRES, a postgres://
// URL of a server on which they may create databases; without it they
// skip, except under CI=true, where they fail.
package replicas
