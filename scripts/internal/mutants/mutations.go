package main

// mutations are the hand-written bugs scripts/mutants checks the tests
// catch. The first four survived every test once (issue 16); the others
// are the mistakes most likely in each area. Keep Old exact and unique in
// its file; a refactoring that moves the code makes a mutation stale,
// and it is then rewritten for the new code, not dropped.
var mutations = []Mutation{
	// --- the four that once survived ---
	{
		Name:     "sqlite: synchronous lowered from FULL to NORMAL",
		File:     "internal/store/sqlite/sqlite.go",
		Old:      `q.Add("_pragma", "synchronous(FULL)")`,
		New:      `q.Add("_pragma", "synchronous(NORMAL)")`,
		Packages: []string{"./internal/store/sqlite"},
	},
	{
		Name: "sqlite: a failed COMMIT reported as success",
		File: "internal/store/sqlite/sqlite.go",
		Old: `	if err != nil {
		s.failAll(batch, fmt.Errorf("sqlite: commit: %w", err))
		return
	}`,
		New: `	if err != nil {
		return
	}`,
		Packages: []string{"./internal/store/sqlite"},
	},
	{
		Name:     "tokens: the issuer check removed from Verify",
		File:     "internal/tokens/issuer.go",
		Old:      `if wc.Iss != i.url {`,
		New:      `if false && wc.Iss != i.url {`,
		Packages: []string{"./internal/tokens"},
	},
	{
		Name:     "tokens: retired keys leave the JWKS at retirement, not after the longest token lifetime",
		File:     "internal/tokens/keyring.go",
		Old:      `return k.retiresAt != nil && now.After(k.retiresAt.Add(MaxTokenLifetime))`,
		New:      `return k.retiresAt != nil && now.After(*k.retiresAt)`,
		Packages: []string{"./internal/tokens"},
	},

	// --- storage ---
	{
		Name:     "sqlite: journal_mode DELETE instead of WAL",
		File:     "internal/store/sqlite/sqlite.go",
		Old:      `q.Add("_pragma", "journal_mode(WAL)")`,
		New:      `q.Add("_pragma", "journal_mode(DELETE)")`,
		Packages: []string{"./internal/store/sqlite"},
		Run:      "TestDurabilitySettings",
	},
	{
		Name: "sqlite: guests inserted one by one after a full disk (each commits on its own)",
		File: "internal/store/sqlite/sqlite.go",
		Old: `func statementOnly(err error) bool {
	if`,
		New: `func statementOnly(err error) bool {
	return true
	if`,
		Packages: []string{"./internal/store/sqlite"},
	},
	{
		Name:     "sqlite: the identity page cursor repeats the last row",
		File:     "internal/store/sqlite/identities.go",
		Old:      `where = append(where, "(created_ns, id) > (?, ?)")`,
		New:      `where = append(where, "(created_ns, id) >= (?, ?)")`,
		Packages: []string{"./internal/store/sqlite"},
		Run:      "TestConformance",
	},
	{
		Name:     "config: a missing file setting found only when it is opened, without its source",
		File:     "internal/config/config.go",
		Old:      `if err := readable(v); err != nil {`,
		New:      `if err := readable(v); false && err != nil {`,
		Packages: []string{"./internal/config"},
	},
	{
		Name:     "postgres: Close waits for a stalled database as long as pgx does",
		File:     "internal/store/postgres/postgres.go",
		Old:      `case <-time.After(s.timeout):`,
		New:      `case <-time.After(time.Hour):`,
		Packages: []string{"./internal/store/postgres"},
	},
	{
		Name:     "postgres: the identity page cursor repeats the last row",
		File:     "internal/store/postgres/identities.go",
		Old:      `where = append(where, "(created_ns, id) > ($2, $3)")`,
		New:      `where = append(where, "(created_ns, id) >= ($2, $3)")`,
		Packages: []string{"./internal/store/postgres"},
		Run:      "TestConformance",
		Postgres: true,
	},

	// --- pagination ---
	{
		Name:     "ListIdentities reads MaxResults rows, not one more: never a NextToken",
		File:     "internal/cognito/identities.go",
		Old:      `ids, err := s.store.ListIdentities(ctx, p.ID, after, limit+1, in.HideDisabled)`,
		New:      `ids, err := s.store.ListIdentities(ctx, p.ID, after, limit, in.HideDisabled)`,
		Packages: []string{"./test/e2e"},
	},

	{
		Name:     "postgres: a write that changed links acknowledged before the replicas' caches expire",
		File:     "internal/store/postgres/postgres.go",
		Old:      `time.Sleep(s.cache.TTL())`,
		New:      `_ = s.cache.TTL()`,
		Packages: []string{"./test/replicas"},
		Run:      "TestCachesStayExact",
		Postgres: true,
	},
	{
		Name: "postgres: a taken login reported as a failure, not as taken",
		File: "internal/store/postgres/postgres.go",
		Old: `		case "23505":
			return store.ErrExists`,
		New: `		case "23505-":
			return store.ErrExists`,
		Packages: []string{"./internal/store/postgres", "./test/replicas"},
		Run:      "TestConformance|TestConcurrentGetIdOneIdentity",
		Postgres: true,
	},

	// --- roles ---
	{
		Name:     "roles: a Contains rule matches only a prefix",
		File:     "internal/cognito/roles.go",
		Old:      `if strings.Contains(s, r.Value) {`,
		New:      `if strings.HasPrefix(s, r.Value) {`,
		Packages: []string{"./internal/cognito", "./test/e2e"},
	},
	{
		Name:     "roles: AmbiguousRoleResolution Deny ignored",
		File:     "internal/cognito/roles.go",
		Old:      `if m.AmbiguousRoleResolution == "Deny" {`,
		New:      `if m.AmbiguousRoleResolution == "deny" {`,
		Packages: []string{"./internal/cognito", "./test/e2e"},
	},
	{
		Name: "roles: a NotEqual rule matches an absent claim",
		File: "internal/cognito/roles.go",
		Old: `	if !ok || v == nil {
		return false
	}
	values := claimStrings(v)`,
		New: `	if !ok || v == nil {
		return r.MatchType == "NotEqual"
	}
	values := claimStrings(v)`,
		Packages: []string{"./internal/cognito", "./test/e2e"},
	},

	// --- who may act on what ---
	{
		Name: "identities: a disabled identity still gets tokens and credentials",
		File: "internal/cognito/identities.go",
		Old: `	if ident.Disabled {
		return nil, nil, forbidden(id)
	}
	return ident, p, nil`,
		New:      `	return ident, p, nil`,
		Packages: []string{"./internal/cognito", "./test/e2e"},
	},
	{
		Name:     "identities: an identity with logins gets guest credentials without them",
		File:     "internal/cognito/credentials.go",
		Old:      "func (s *Service) guestRole(p *store.Pool, ident *store.Identity) (string, error) {\n\tif len(ident.Logins) > 0 {",
		New:      "func (s *Service) guestRole(p *store.Pool, ident *store.Identity) (string, error) {\n\tif false && len(ident.Logins) > 0 {",
		Packages: []string{"./internal/cognito", "./test/e2e"},
	},
	{
		Name: "accounts: another account's pools served",
		File: "internal/cognito/service.go",
		Old: `	if p.Account != c.Account {
		return false
	}`,
		New:      ``,
		Packages: []string{"./internal/cognito", "./test/e2e", "./test/strict"},
	},
	{
		Name:     "accounts: a pool served in another region",
		File:     "internal/cognito/service.go",
		Old:      `return c.Region == "" || !regionPattern.MatchString(c.Region) || c.Region == p.Region`,
		New:      `return true`,
		Packages: []string{"./internal/cognito", "./test/e2e"},
	},
	{
		Name: "sqlite: the read cache kept across a commit that changed links",
		File: "internal/store/sqlite/sqlite.go",
		Old: `	if changes {
		// Even when COMMIT reports an error: what it did is not known.
		s.cache.Invalidate()`,
		New: `	if false && changes {
		// Even when COMMIT reports an error: what it did is not known.
		s.cache.Invalidate()`,
		Packages: []string{"./internal/store/sqlite"},
	},

	// --- SigV4 ---
	{
		Name:     "sigv4: the signature compared case-insensitively",
		File:     "internal/sigv4/sigv4.go",
		Old:      `return hmac.Equal([]byte(want), []byte(a.Signature))`,
		New:      `return strings.EqualFold(want, a.Signature)`,
		Packages: []string{"./internal/sigv4"},
	},
	{
		Name:     "sigv4: requests up to 15 minutes old accepted",
		File:     "internal/sigv4/sigv4.go",
		Old:      `if a.Time.Before(now.Add(-MaxSkew)) {`,
		New:      `if a.Time.Before(now.Add(-3 * MaxSkew)) {`,
		Packages: []string{"./internal/sigv4"},
	},
	{
		Name:     "sigv4: a wrong x-amz-content-sha256 accepted",
		File:     "internal/sigv4/sigv4.go",
		Old:      `case !hmac.Equal([]byte(strings.ToLower(declared)), []byte(bodyHash)):`,
		New:      `case false:`,
		Packages: []string{"./internal/sigv4"},
	},

	// --- strict mode, end to end: only test/strict drives these paths ---
	{
		Name:     "strict: a signature scoped to another service accepted",
		File:     "internal/auth/strict.go",
		Old:      `if err := a.CheckScope("cognito-identity"); err != nil {`,
		New:      `if err := a.CheckScope("cognito-identity"); false && err != nil {`,
		Packages: []string{"./test/strict"},
	},
	{
		Name:     "strict: a session token accepted with another access key id",
		File:     "internal/sts/credentials.go",
		Old:      `if err != nil || s.AccessKeyID != accessKeyID {`,
		New:      `if err != nil {`,
		Packages: []string{"./test/strict"},
	},
	{
		Name:     "strict: expired temporary credentials accepted",
		File:     "internal/sts/credentials.go",
		Old:      `if !now.Before(s.Expiration) {`,
		New:      `if false && !now.Before(s.Expiration) {`,
		Packages: []string{"./test/strict"},
	},
	{
		Name:     "strict: an expired session worded as an unknown token",
		File:     "internal/auth/strict.go",
		Old:      `case errors.Is(err, sts.ErrExpiredSession):`,
		New:      `case false:`,
		Packages: []string{"./test/strict"},
	},

	// --- logins, the console and role trust: what strict mode checks ---
	{
		Name:     "logins: a token issued to another client accepted",
		File:     "internal/federation/federation.go",
		Old:      `if !(anyClient && unlisted) && !slices.Contains(allowed, aud) {`,
		New:      `if false && !(anyClient && unlisted) && !slices.Contains(allowed, aud) {`,
		Packages: []string{"./internal/federation", "./test/strict"},
	},
	{
		Name:     "logins: an expired token accepted",
		File:     "internal/federation/verify.go",
		Old:      `if tokens.Expired(expiry, now) {`,
		New:      `if false && tokens.Expired(expiry, now) {`,
		Packages: []string{"./internal/federation", "./test/strict"},
	},
	{
		Name:     "tokens: no clock-skew grace past exp",
		File:     "internal/tokens/times.go",
		Old:      `return !now.Before(exp.Add(ClockSkew))`,
		New:      `return !now.Before(exp)`,
		Packages: []string{"./internal/tokens", "./test/e2e"},
	},
	{
		Name:     "tokens: a far-future exp wraps around into the past",
		File:     "internal/tokens/times.go",
		Old:      `case sec > maxClaimSeconds:`,
		New:      `case false:`,
		Packages: []string{"./internal/tokens", "./test/e2e"},
	},
	{
		Name:     "sigv4: a path signed in normalized form refused",
		File:     "internal/sigv4/sigv4.go",
		Old:      `if norm := normalizedURI(r.URL); norm != canonicalURI(r.URL) && a.matchesEither(withURI(canonical, norm), secret) {`,
		New:      `if norm := normalizedURI(r.URL); false && norm != canonicalURI(r.URL) && a.matchesEither(withURI(canonical, norm), secret) {`,
		Packages: []string{"./internal/sigv4"},
	},
	{
		Name:     "sigv4: '..' left unresolved in the normalized path",
		File:     "internal/sigv4/sigv4.go",
		Old:      `		case "..":`,
		New:      `		case "..x":`,
		Packages: []string{"./internal/sigv4"},
	},
	{
		Name:     "sigv4: a signature over / accepted on any path",
		File:     "internal/sigv4/sigv4.go",
		Old:      `norm != canonicalURI(r.URL) && a.matchesEither(withURI(canonical, norm), secret) {`,
		New:      `norm != canonicalURI(r.URL) && a.matchesEither(withURI(canonical, norm), secret) || a.matchesEither(withURI(canonical, "/"), secret) {`,
		Packages: []string{"./internal/sigv4"},
	},
	{
		Name:     "server: a POST on a path in unclean form redirected",
		File:     "internal/server/server.go",
		Old:      `if _, pattern := mux.Handler(r); pattern == "/" {`,
		New:      `if _, pattern := mux.Handler(r); false && pattern == "/" {`,
		Packages: []string{"./internal/server"},
	},
	{
		Name:     "server: a POST on an unclean path of another endpoint sent to the API",
		File:     "internal/server/server.go",
		Old:      `if _, pattern := mux.Handler(r); pattern == "/" {`,
		New:      `if _, pattern := mux.Handler(r); pattern != "" {`,
		Packages: []string{"./internal/server"},
	},
	{
		Name:     "server: any requested method echoed in a preflight",
		File:     "internal/server/middleware.go",
		Old:      `if m := r.Header.Get("Access-Control-Request-Method"); isToken(m) {`,
		New:      `if m := r.Header.Get("Access-Control-Request-Method"); m != "" {`,
		Packages: []string{"./internal/server"},
	},
	{
		Name:     "console: a POST without the session's CSRF token accepted",
		File:     "internal/console/session.go",
		Old:      `if subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) != 1 {`,
		New:      `if false && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) != 1 {`,
		Packages: []string{"./internal/console", "./test/browser"},
	},
	{
		Name: "console: a POST from another site accepted",
		File: "internal/console/session.go",
		Old: `		if !sameOrigin(r) {
			c.crossOrigin(w, r)
			return
		}
		ss := c.sessions.get(cookieValue(r))`,
		New:      `		ss := c.sessions.get(cookieValue(r))`,
		Packages: []string{"./internal/console", "./test/browser"},
	},
	{
		Name:     "console: a strict sign-in with a wrong secret accepted",
		File:     "internal/console/session.go",
		Old:      `if subtle.ConstantTimeCompare([]byte(secret), []byte(in.SecretAccessKey)) != 1 || !ok {`,
		New:      `if secret == "" || !ok {`,
		Packages: []string{"./internal/console", "./test/browser"},
	},
	{
		Name: "trust: an explicit Deny of a trust policy ignored",
		File: "internal/trust/eval.go",
		Old: `		case ExplicitDeny:
			return false, fmt.Sprintf("%s denies %s explicitly", by.label(), a)`,
		New: `		case ExplicitDeny:
			_ = by`,
		Packages: []string{"./internal/trust", "./test/strict", "./test/e2e"},
	},
	{
		Name: "trust: sts:TagSession not required of a tagged session",
		File: "internal/trust/eval.go",
		Old: `	if w.Tagged {
		actions = append(actions, ActionTagSession)
	}`,
		New:      ``,
		Packages: []string{"./internal/trust", "./test/strict", "./test/e2e"},
	},

	// --- limits and the reset endpoint ---
	{
		Name: "rate limits: one bucket for all accounts",
		File: "internal/ratelimit/ratelimit.go",
		Old: `	if c.Signed {
		k.account = c.Account
	}`,
		New:      ``,
		Packages: []string{"./internal/ratelimit", "./test/strict"},
	},
	{
		Name: "reset: an unsigned reset accepted in strict mode with --allow-reset on",
		File: "internal/server/reset.go",
		Old: `	_, err := s.strict.Authenticate(r, body, resetOperation)
	return err`,
		New: `	_ = body
	return nil`,
		Packages: []string{"./internal/server"},
	},
	{
		Name:     "reset: allowed in strict mode without --allow-reset on",
		File:     "internal/server/reset.go",
		Old:      `	case s.resetPolicy != ResetOn:`,
		New:      `	case false:`,
		Packages: []string{"./internal/server"},
	},

	// --- tokens ---
	{
		Name:     "tokens: expired tokens verify",
		File:     "internal/tokens/issuer.go",
		Old:      `if Expired(exp, now) {`,
		New:      `if false && Expired(exp, now) {`,
		Packages: []string{"./internal/tokens"},
	},
	{
		Name:     "tokens: any algorithm accepted",
		File:     "internal/tokens/issuer.go",
		Old:      `if h.Alg != "RS512" {`,
		New:      `if false && h.Alg != "RS512" {`,
		Packages: []string{"./internal/tokens"},
	},
	{
		Name:     "tokens: a new key signs as soon as it is published",
		File:     "internal/tokens/keyring.go",
		Old:      `if !k.created.Add(Propagation).After(now) {`,
		New:      `if true {`,
		Packages: []string{"./internal/tokens"},
	},
	{
		Name:     "tokens: a rotation deletes retired keys whose tokens are still valid",
		File:     "internal/tokens/keyring.go",
		Old:      `case now.After(sk.RetiresAt.Add(MaxTokenLifetime)):`,
		New:      `case now.After(*sk.RetiresAt):`,
		Packages: []string{"./internal/tokens"},
	},
	{
		Name:     "tokens: no refresh on an unknown kid",
		File:     "internal/tokens/issuer.go",
		Old:      `if k == nil && i.ring.refreshIfStale(ctx) {`,
		New:      `if k == nil && false {`,
		Packages: []string{"./internal/tokens"},
	},
	{
		Name:     "tokens: a retired key verifies nothing once it stops signing",
		File:     "internal/tokens/issuer.go",
		Old:      `if k == nil || (k.retiresAt != nil && now.After(k.retiresAt.Add(MaxTokenLifetime))) {`,
		New:      `if k == nil || (k.retiresAt != nil && now.After(*k.retiresAt)) {`,
		Packages: []string{"./internal/tokens"},
	},

	// --- STS and sealing ---
	{
		Name:     "sts: expired session credentials accepted",
		File:     "internal/sts/credentials.go",
		Old:      `if !now.Before(s.Expiration) {`,
		New:      `if false && !now.Before(s.Expiration) {`,
		Packages: []string{"./internal/sts"},
	},
	{
		Name:     "sts: session tokens opened without checking the access key they belong to",
		File:     "internal/sts/credentials.go",
		Old:      `if err != nil || s.AccessKeyID != accessKeyID {`,
		New:      `if err != nil {`,
		Packages: []string{"./internal/sts"},
	},
	{
		Name:     "sts: an expired session worded as an invalid token",
		File:     "internal/sts/sts.go",
		Old:      `case errors.Is(err, ErrExpiredSession):`,
		New:      `case false:`,
		Packages: []string{"./internal/sts"},
	},
	{
		Name:     "seal: the purpose left out of the key",
		File:     "internal/seal/seal.go",
		Old:      `key, err := hkdf.Key(sha256.New, s, nil, "idpool/"+purpose, 32)`,
		New:      `key, err := hkdf.Key(sha256.New, s, nil, "idpool/", 32)`,
		Packages: []string{"./internal/seal"},
	},

	// --- logins and validation ---
	{
		Name:     "federation: the login subject is the whole token (trust mode)",
		File:     "internal/federation/federation.go",
		Old:      `login.Subject, login.Claims = claims["sub"].(string), claims`,
		New:      `login.Subject, login.Claims = token, claims`,
		Packages: []string{"./internal/federation"},
		Run:      "TestSubjectIsTheSubClaim",
	},
	{
		Name:     "federation: the login subject is the whole token (strict mode)",
		File:     "internal/federation/verify.go",
		Old:      `login.Subject, login.Claims, login.Verified = claims["sub"].(string), claims, true`,
		New:      `login.Subject, login.Claims, login.Verified = token, claims, true`,
		Packages: []string{"./internal/federation"},
		Run:      "TestSubjectIsTheSubClaim",
	},
	{
		Name:     "validation: string length counted in bytes, not characters",
		File:     "internal/model/validate.go",
		Old:      `l := int64(utf8.RuneCountInString(val))`,
		New:      `l := int64(len(val))`,
		Packages: []string{"./internal/model", "./test/e2e"},
	},
	{
		Name:     "validation: maximum lengths off by one",
		File:     "internal/model/validate.go",
		Old:      `if s.Max != nil && l > *s.Max {`,
		New:      `if s.Max != nil && l > *s.Max+1 {`,
		Packages: []string{"./internal/model", "./test/e2e"},
	},
}
