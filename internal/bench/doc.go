// Package bench is the load generator behind cmd/idpool-bench: keep-alive
// workers that drive the Cognito Identity API (awsJson1_1) of a target on
// this machine, either closed-loop at a fixed concurrency or open-loop at a
// fixed arrival rate, and report throughput and latency per scenario.
//
// What must stay true for the figures to mean anything:
//
//   - Every response is checked: a status other than 200, a transport error
//     or a body without the expected shape (the linked identity's id, a
//     JWS token, credentials, a page of 60) is an error, counted and
//     reported, and fails the run. A fast server that answers wrongly does
//     not get a good figure.
//   - In the open model (a fixed rate) latency runs from the time a request
//     was scheduled to be sent, not from when a worker got round to it, so
//     a server that stalls is charged for the requests that queued behind
//     the stall (no coordinated omission). Requests still due when the time
//     is up are counted as backlog, never sent late or forgotten.
//   - Client-side SigV4 signing (aws-sdk-go-v2's signer, body hashed per
//     request as an SDK does) happens in the worker, is timed separately
//     and reported; it is outside the closed-model latency and inside the
//     open-model one, as any client-side delay is. The optional sign cache
//     only reuses headers that signing afresh would reproduce byte for byte.
//   - Only loopback targets are accepted: this is a tool for measuring a
//     server on the same machine, never for loading someone else's.
//   - The generator shares the machine with the target; its own CPU, the
//     target's (from /proc) and everything else's are reported for every
//     phase, so a figure taken while other work ran says so.
//
// Scenarios set themselves up through the API (a pool with roles, guests,
// a Facebook-style provider and a developer provider, then seeded
// identities), so they measure any implementation of the API, idpool or
// moto alike; what moto cannot do is skipped with the reason.
//
// # Ceilings and ratios
//
// Each scenario is compared with the ceiling that bounds it, measured in
// the same run on the same machine:
//
//   - awsjson: a minimal awsJson server (CeilingHandler, in a separate
//     process) answering a fixed GetId, driven by the same generator at
//     the same concurrency with unsigned requests. It bounds the
//     operations whose work is a read or a write: getid-guest,
//     getid-existing and credentials. Credentials are not RSA-signed: the
//     session token is sealed with AES-GCM, which runs about a thousand
//     times faster than an RS512 signature (sign-rate measures both), so
//     what bounds GetCredentialsForIdentity is the request pipeline and
//     its two reads, as for the other non-signing operations.
//   - awsjson-signed: the same with SigV4-signed requests, for the signed
//     operations that sign no token and answer little (describe-pool,
//     lookup-developer): the generator's signing cost is in both.
//   - awsjson-signed-page: the same server driven with signed
//     ListIdentities calls (MaxResults 60), answering a fixed page of 60
//     identities, as large as idpool's first page of the bench's
//     bulk-seeded pools (about 9 KB, against GetId's 60 bytes), for
//     list-identities: writing, sending, reading and checking the page
//     is in both.
//   - rs512: the machine's RSA-2048 PKCS #1 v1.5 SHA-512 signing rate on
//     all cores, for getopenidtoken and developer-token, which sign one
//     token per call. It is a loose bound: the server never has all cores
//     to itself, since the generator runs beside it.
//   - mix: the weighted harmonic mean of its parts' bounds, 1/Σ(wᵢ/boundᵢ):
//     each request of a part costs 1/boundᵢ of the machine.
//
// A bound is the best the machine was seen to do (the best whole second of
// a ceiling phase, the best round of signing), and the ratio is the
// scenario's average throughput over it: on a shared machine a bound
// measured in a busy moment would otherwise overstate ratios. Ceilings are
// always closed-model; in the open model a ratio is the share of the
// machine's capacity the asked-for rate used.
package bench
