package cognito

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/store"
)

// Limits of logins (docs/behaviour.md §8).
const (
	maxLoginsPerIdentity = 20
	// cognitoProvider is the Logins key of idpool's own tokens.
	cognitoProvider = "cognito-identity.amazonaws.com"
)

// AWS's refusal texts (docs/behaviour.md §11).
const (
	msgUnauthenticated = "Unauthenticated access is not supported for this identity pool."
	msgLoginsMismatch  = "Logins don't match. Please include at least one valid login for this identity or identity pool."
	msgCognitoToken    = "Invalid login token. Can't pass in a Cognito token."
	msgDeveloperName   = "This identity pool does not support the specified developer provider"
)

func identityNotFound(id string) error {
	return apierr.Errorf(apierr.ResourceNotFound, "Identity '%s' not found.", id)
}

func forbidden(id string) error {
	return apierr.Errorf(apierr.NotAuthorized, "Access to Identity '%s' is forbidden.", id)
}

func loginsMismatch() error { return apierr.New(apierr.NotAuthorized, msgLoginsMismatch) }

// verifyLogins checks every Logins entry of a public-provider request and
// returns the logins sorted by provider. Any invalid entry fails the whole
// request (docs/behaviour.md §3.2). idpool's own tokens and the developer
// provider cannot be used here: only the developer's backend asserts
// developer users, through GetOpenIdTokenForDeveloperIdentity.
func (s *Service) verifyLogins(ctx context.Context, p *store.Pool, logins map[string]string) ([]*federation.Login, error) {
	keys := make([]string, 0, len(logins))
	for k := range logins {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*federation.Login, 0, len(keys))
	for _, key := range keys {
		switch {
		case key == cognitoProvider:
			return nil, apierr.New(apierr.NotAuthorized, msgCognitoToken)
		case p.DeveloperProviderName != "" && key == p.DeveloperProviderName:
			// Choice: a developer provider name used as a public login is
			// treated as a provider the pool does not support for it.
			return nil, federation.Unsupported(key)
		}
		l, err := s.verifier.Verify(ctx, p, key, logins[key])
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// resolution is one request's view of which identity its logins belong to.
type resolution struct {
	pool *store.Pool
	// named is the identity the request names ("" when it names none).
	named string
	// logins are the verified logins of the request, developer login
	// included.
	logins []*federation.Login
	// developer is the developer login of a developer request.
	developer *federation.Login
	// create makes a new identity when no login is linked yet and no
	// identity is named.
	create bool
	// proven says the request already proved it owns the named identity
	// (with a token idpool issued for it).
	proven bool
	// tooMany is the error code of "more than 20 logins": each operation
	// answers with an error its model defines (GetId has
	// LimitExceededException; the others do not, and get
	// ResourceConflictException, as MergeDeveloperIdentities does).
	tooMany apierr.Code
}

// resolve finds or makes the identity a request's logins stand for, in one
// transaction: it checks the named identity (exists, in the pool, enabled,
// and proven by one of its logins), links logins seen for the first time,
// and merges identities when the logins belong to several of them. It
// returns the surviving identity with its logins.
//
// Two requests that race to link the same new login cannot both succeed
// (the store's login key is unique); the loser sees ErrExists and runs the
// resolution again, now finding the login linked.
//
// What the committed transaction changed is audited once it returns.
func (s *Service) resolve(ctx context.Context, r resolution) (*store.Identity, error) {
	var (
		out    *store.Identity
		err    error
		events []event
	)
	for attempt := 0; attempt < 5; attempt++ {
		err = s.store.Update(ctx, func(tx store.Tx) error {
			// The function may run more than once: start over each time.
			events = events[:0]
			var err error
			out, err = s.resolveTx(ctx, tx, r, &events)
			return err
		})
		if !errors.Is(err, store.ErrExists) {
			break
		}
	}
	if errors.Is(err, store.ErrExists) {
		return nil, apierr.New(apierr.ConcurrentModification, "The identity was modified by another request at the same time. Retry the request.")
	}
	if err != nil {
		return nil, err
	}
	s.auditAll(ctx, events)
	return out, nil
}

// loginProviders are the providers of logins, in order, each once.
func loginProviders(ls []store.Login) []string {
	var out []string
	for _, l := range ls {
		if !slices.Contains(out, l.Provider) {
			out = append(out, l.Provider)
		}
	}
	return out
}

type loginRef struct{ provider, subject string }

func refOf(l store.Login) loginRef { return loginRef{l.Provider, l.Subject} }

// resolveTx is resolve's transaction; it adds to events the changes it
// makes.
func (s *Service) resolveTx(ctx context.Context, tx store.Tx, r resolution, events *[]event) (*store.Identity, error) {
	now := s.now()
	involved := map[string]*store.Identity{}
	var named *store.Identity
	if r.named != "" {
		id, err := tx.GetIdentity(ctx, r.named)
		if errors.Is(err, store.ErrNotFound) || (err == nil && id.PoolID != r.pool.ID) {
			return nil, identityNotFound(r.named)
		}
		if err != nil {
			return nil, err
		}
		if id.Disabled {
			return nil, forbidden(id.ID)
		}
		named = id
		involved[id.ID] = id
	}

	owner := map[loginRef]string{}
	for _, l := range r.logins {
		ownerID, err := tx.FindLogin(ctx, r.pool.ID, l.Provider, l.Subject)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		owner[loginRef{l.Provider, l.Subject}] = ownerID
		if involved[ownerID] == nil {
			id, err := tx.GetIdentity(ctx, ownerID)
			if err != nil {
				return nil, err
			}
			involved[ownerID] = id
		}
	}

	if named != nil {
		if r.developer != nil {
			if o := owner[loginRef{r.developer.Provider, r.developer.Subject}]; o != "" && o != named.ID {
				return nil, apierr.Errorf(apierr.DeveloperUserAlreadyRegistered,
					"The developer user identifier '%s' is already registered with identity '%s'.", r.developer.Subject, o)
			}
		}
		if len(named.Logins) > 0 && !r.proven && !s.proven(named, r, owner) {
			return nil, loginsMismatch()
		}
	}

	if len(involved) == 0 {
		if !r.create {
			return nil, loginsMismatch()
		}
		id, err := s.newIdentityID(r.pool.Region)
		if err != nil {
			return nil, err
		}
		ident := &store.Identity{ID: id, PoolID: r.pool.ID, CreatedAt: now, UpdatedAt: now}
		for _, l := range r.logins {
			ident.Logins = append(ident.Logins, store.Login{PoolID: r.pool.ID, Provider: l.Provider, Subject: l.Subject, IdentityID: id})
		}
		if err := s.checkLogins(r.pool, ident.Logins, r.tooMany); err != nil {
			return nil, err
		}
		if err := tx.InsertIdentity(ctx, ident); err != nil {
			return nil, err
		}
		sortLogins(ident.Logins)
		*events = append(*events, event{action: auditIdentityCreate, account: r.pool.Account, pool: r.pool.ID, identity: ident.ID,
			providers: loginProviders(ident.Logins)})
		return ident, nil
	}

	survivor := pickSurvivor(involved)
	combined := slices.Clone(survivor.Logins)
	var moved []store.Login
	var losers []*store.Identity
	for _, id := range involved {
		if id.ID == survivor.ID {
			continue
		}
		losers = append(losers, id)
		for _, l := range id.Logins {
			l.IdentityID = survivor.ID
			moved = append(moved, l)
		}
	}
	combined = append(combined, moved...)
	var fresh []store.Login
	for _, l := range r.logins {
		if owner[loginRef{l.Provider, l.Subject}] == "" {
			fresh = append(fresh, store.Login{PoolID: r.pool.ID, Provider: l.Provider, Subject: l.Subject, IdentityID: survivor.ID})
		}
	}
	combined = append(combined, fresh...)
	if err := s.checkLogins(r.pool, combined, r.tooMany); err != nil {
		return nil, err
	}
	if len(moved) == 0 && len(fresh) == 0 && len(losers) == 0 {
		return survivor, nil
	}
	for _, l := range moved {
		if err := tx.RelinkLogin(ctx, l); err != nil {
			return nil, err
		}
	}
	for _, l := range fresh {
		if err := tx.LinkLogin(ctx, l); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(losers, func(a, b *store.Identity) int { return strings.Compare(a.ID, b.ID) })
	for _, id := range losers {
		id.Disabled, id.UpdatedAt, id.Logins = true, now, nil
		if err := tx.UpdateIdentity(ctx, id); err != nil {
			return nil, err
		}
	}
	survivor.UpdatedAt = now
	if err := tx.UpdateIdentity(ctx, survivor); err != nil {
		return nil, err
	}
	if len(losers) > 0 {
		merged := make([]string, len(losers))
		for i, id := range losers {
			merged[i] = id.ID
		}
		*events = append(*events, event{action: auditIdentityMerge, account: r.pool.Account, pool: r.pool.ID, identity: survivor.ID,
			merged: merged, providers: loginProviders(moved)})
	}
	if len(fresh) > 0 {
		*events = append(*events, event{action: auditIdentityLink, account: r.pool.Account, pool: r.pool.ID, identity: survivor.ID,
			providers: loginProviders(fresh)})
	}
	survivor.Logins = combined
	sortLogins(survivor.Logins)
	return survivor, nil
}

// proven reports whether a request proves it owns the named identity: one
// of its logins is already linked to it. A developer request also proves
// an identity that holds a user of the pool's developer provider: the
// signed call is the developer's own assertion.
func (s *Service) proven(named *store.Identity, r resolution, owner map[loginRef]string) bool {
	for _, l := range r.logins {
		if owner[loginRef{l.Provider, l.Subject}] == named.ID {
			return true
		}
	}
	if r.developer != nil {
		for _, l := range named.Logins {
			if l.Provider == r.developer.Provider {
				return true
			}
		}
	}
	return false
}

// pickSurvivor chooses which of several identities a merge keeps.
// Choice (AWS does not document it): an identity that already has logins
// wins over a guest (a guest signing in with a known login joins the
// existing identity, as the SDKs' "identity changed" flow expects), then
// the oldest, then the smallest id.
func pickSurvivor(ids map[string]*store.Identity) *store.Identity {
	var best *store.Identity
	for _, id := range ids {
		if best == nil || better(id, best) {
			best = id
		}
	}
	return best
}

func better(a, b *store.Identity) bool {
	if (len(a.Logins) > 0) != (len(b.Logins) > 0) {
		return len(a.Logins) > 0
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// checkLogins enforces the rules of an identity's logins: at most one user
// per provider (the developer provider excepted: merges may give an
// identity several developer users) and at most 20 logins (refused with
// tooMany, ResourceConflictException if empty).
func (s *Service) checkLogins(p *store.Pool, logins []store.Login, tooMany apierr.Code) error {
	seen := map[string]string{}
	for _, l := range logins {
		if l.Provider == p.DeveloperProviderName {
			continue
		}
		if prev, ok := seen[l.Provider]; ok && prev != l.Subject {
			// Choice: AWS's text for this conflict is not known.
			return apierr.Errorf(apierr.ResourceConflict, "The identity already has a different login of %s; an identity can have only one login per provider.", l.Provider)
		}
		seen[l.Provider] = l.Subject
	}
	if len(logins) > maxLoginsPerIdentity {
		if tooMany == "" {
			tooMany = apierr.ResourceConflict
		}
		return apierr.Errorf(tooMany, "An identity can have at most %d linked logins.", maxLoginsPerIdentity)
	}
	return nil
}

func sortLogins(ls []store.Login) {
	slices.SortFunc(ls, func(a, b store.Login) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.Subject, b.Subject)
	})
}
