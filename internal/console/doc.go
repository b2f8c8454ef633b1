// Package console serves idpool's web console at /console/: a small
// single-page application (embedded HTML, CSS and JavaScript, no CDN, no
// inline script) and the JSON endpoints it calls.
//
// The console implements no business rule. Every operation on pools and
// identities goes through the same awsjson pipeline and cognito.Service as
// the API (POST /console/api/aws takes the API's own requests), with the
// caller taken from the console session instead of a SigV4 signature; the
// few things the API has no operation for (an identity's disabled state
// and users, a search by login, an owner's unlink, the keys, a token's
// verification, the role decision of Try it) are methods of
// cognito.Service, tokens.KeyRing and tokens.Issuer that apply the same
// ownership rules.
//
// Sessions: in permissive mode a session is handed out on first visit and
// may act for any account; in strict mode the console needs a sign-in with
// an access key and secret of the configured credentials, and the
// session acts for that key's account only. The session cookie is
// HttpOnly, SameSite=Strict and Secure under TLS; every POST carries the
// session's CSRF token in the X-Idpool-Csrf header, compared in constant
// time. Pages are sent with a Content-Security-Policy that allows only the
// console's own scripts and styles.
package console
