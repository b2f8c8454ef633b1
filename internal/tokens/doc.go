// Package tokens issues and verifies idpool's OpenID Connect tokens and
// publishes the keys that verify them.
//
// Tokens look like AWS's (docs/behaviour.md §5): a compact JWS signed RS512 with
// header {"kid","typ":"JWS","alg":"RS512"} and the claims sub, aud, amr,
// iss, the identity-pool-arn claim, principal tags, exp and iat.
//
// The RSA keys live in the store, sealed with the server secret, so every
// replica over one database signs with the same keys. Rotation is
// compare-and-swap in the store: a new key is published Propagation before
// it signs, and a retired key stays in the JWKS until every token it signed
// has expired.
package tokens
