// Package dump writes a store's contents as a versioned stream, and reads
// such a stream into any store: the format of `idpool export` and
// `idpool import`, for moving from one backend to another (SQLite to
// PostgreSQL) and for copies that outlive a schema.
//
// The stream is JSON lines, one record per line, in this order:
//
//	{"format":"idpool-export","version":1,"exported":"2026-01-02T03:04:05Z"}
//	{"type":"key","id":"us-east-11","sealed":"<base64>","created":"...","retires":"..."}
//	{"type":"pool","id":"us-east-1:...","account":"111111111111","region":"us-east-1","name":"...",...}
//	{"type":"identity","id":"us-east-1:...","pool":"us-east-1:...","created":"...","updated":"...","logins":[...]}
//	{"type":"end","keys":1,"pools":1,"identities":1,"logins":0}
//
// The header comes first; then every signing key; then each pool followed
// by all of its identities; then the trailer, whose counts must match what
// came before it (a stream cut short has no trailer, or the wrong counts).
// The keys come before any pool so that an import checks that they open
// with its server secret before it writes anything. Times are RFC 3339 in
// UTC with nanoseconds; fields that are empty (no logins, not disabled, a
// key not retired) are left out. A pool's nested settings (role mappings,
// Cognito providers, principal tags) are spelled as the API spells them.
//
// Signing keys stay sealed with the server secret of the store they come
// from: an export holds no private key in the clear, and an import needs
// that secret, or re-seals the keys from it to its own (Options.OldSecrets).
//
// Neither side holds a whole store in memory: Export pages through the
// pools and each pool's identities, and Import reads line by line and
// writes in transactions of Options.BatchSize records.
//
// A pool's Version, the compare-and-swap token of concurrent updates, is
// not part of the format: an imported pool starts again at version 1.
package dump
