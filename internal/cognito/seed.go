package cognito

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/store"
)

// Seeding creates or updates pools whose ids are chosen in advance (seed
// files, test stacks), and a reset empties the store. Neither is an
// operation of the API, but both go through the rules the operations
// apply: a seeded pool is one that CreateIdentityPool, SetIdentityPoolRoles
// and SetPrincipalTagAttributeMap would accept, and its developer users
// are linked as GetOpenIdTokenForDeveloperIdentity links them.

// SeededPool is one identity pool as a seed describes it: its id and owner,
// the members of CreateIdentityPool, what SetIdentityPoolRoles and
// SetPrincipalTagAttributeMap set, and developer users with fixed identity
// ids. The pool's configuration is exactly what it says: members left out
// are unset (except DeveloperProviderName, which cannot be unset once set).
type SeededPool struct {
	// IdentityPoolId is "<region>:<uuid>"; the region is the pool's.
	IdentityPoolId string
	// AccountId is the 12-digit owner account.
	AccountId string
	PoolSettings
	Roles          map[string]string
	RoleMappings   map[string]RoleMapping
	PrincipalTags  map[string]PrincipalTagSetting // provider name -> map
	DeveloperUsers []SeededDeveloperUser
}

// PrincipalTagSetting is one provider's principal-tag map, as
// SetPrincipalTagAttributeMap takes it.
type PrincipalTagSetting struct {
	UseDefaults   *bool
	PrincipalTags map[string]string
}

// SeededDeveloperUser is a user of the pool's developer provider linked to
// an identity whose id is fixed.
type SeededDeveloperUser struct {
	IdentityId              string
	DeveloperUserIdentifier string
}

// SeedError is why a seed was refused: the pool (its index in the list
// given), the member of the pool, and for a list member the item's index
// or for a map member the key.
type SeedError struct {
	Pool   int
	Member string
	Item   int    // index in a list member (DeveloperUsers); -1 for none
	Key    string // key of a map member (PrincipalTags); "" for none
	Err    error
}

func (e *SeedError) Error() string {
	return fmt.Sprintf("pool %d: %s: %v", e.Pool+1, e.Where(), e.Err)
}

// Unwrap returns the rule's error, an *apierr.Error for the API's rules.
func (e *SeedError) Unwrap() error { return e.Err }

// Where names the member, the item or key included: "IdentityPoolName",
// "DeveloperUsers item 2", "PrincipalTags login.example.com".
func (e *SeedError) Where() string {
	switch {
	case e.Item >= 0:
		return fmt.Sprintf("%s item %d", e.Member, e.Item+1)
	case e.Key != "":
		return e.Member + " " + e.Key
	}
	return e.Member
}

// SeedResult counts what applying a seed changed.
type SeedResult struct {
	Created, Updated, Unchanged int // pools
	// Linked counts developer users newly linked to their identities
	// (identities created or given one more login).
	Linked int
}

// Changed reports whether the seed changed anything.
func (r SeedResult) Changed() bool { return r.Created+r.Updated+r.Linked > 0 }

var (
	// idPattern is the form of the ids the service makes (docs/behaviour.md
	// §1): a region, a colon and a UUID in lower case. Seeded ids must have
	// it too: clients take the region from them.
	idPattern        = regexp.MustCompile(`^([a-z0-9][a-z0-9-]{0,39}):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
)

func seedFail(pool int, member string, err error) *SeedError {
	return &SeedError{Pool: pool, Member: member, Item: -1, Err: err}
}

// CheckSeed applies the service's rules that need no store to the pools
// of a seed (the model's rules are the caller's: the seed's members are
// checked as requests are). An empty AccountId passes (the caller fills
// in its default account before Seed). It returns a *SeedError for the
// first problem.
func CheckSeed(pools []SeededPool) error {
	seenPools := map[string]int{}
	identityPool := map[string]int{} // identity id -> pool index
	for i := range pools {
		sp := &pools[i]
		m := idPattern.FindStringSubmatch(sp.IdentityPoolId)
		if m == nil {
			return seedFail(i, "IdentityPoolId", apierr.Errorf(apierr.InvalidParameter,
				"%q is not an identity pool id: want <region>:<uuid> in lower case, e.g. us-east-1:11111111-2222-4333-8444-555555555555.", sp.IdentityPoolId))
		}
		region := m[1]
		if j, dup := seenPools[sp.IdentityPoolId]; dup {
			return seedFail(i, "IdentityPoolId", fmt.Errorf("pool %d has the same IdentityPoolId", j+1))
		}
		seenPools[sp.IdentityPoolId] = i
		if sp.AccountId != "" && !accountIDPattern.MatchString(sp.AccountId) {
			return seedFail(i, "AccountId", apierr.Errorf(apierr.InvalidParameter, "%q is not an account id: want 12 digits.", sp.AccountId))
		}
		// CreateIdentityPool's rules, one member at a time so that the
		// error names the member.
		cfg := configOf(&IdentityPool{PoolSettings: sp.PoolSettings})
		for _, part := range []struct {
			member string
			cfg    poolConfig
		}{
			{"SupportedLoginProviders", poolConfig{loginProviders: cfg.loginProviders}},
			{"CognitoIdentityProviders", poolConfig{userPoolProviders: cfg.userPoolProviders}},
			{"OpenIdConnectProviderARNs", poolConfig{oidcProviders: cfg.oidcProviders}},
			{"SamlProviderARNs", poolConfig{samlProviders: cfg.samlProviders}},
			{"IdentityPoolTags", poolConfig{tags: cfg.tags}},
		} {
			if err := part.cfg.check(); err != nil {
				return seedFail(i, part.member, err)
			}
		}
		p := desiredPool(sp)
		// SetIdentityPoolRoles' rules.
		if err := checkRoleMappings(sp.RoleMappings); err != nil {
			return seedFail(i, "RoleMappings", err)
		}
		if err := checkMappingKeys(p, sp.RoleMappings); err != nil {
			return seedFail(i, "RoleMappings", err)
		}
		// SetPrincipalTagAttributeMap's rules.
		for _, provider := range slices.Sorted(maps.Keys(sp.PrincipalTags)) {
			err := checkPrincipalTagSize(sp.PrincipalTags[provider].PrincipalTags)
			if err == nil {
				err = checkTagProvider(p, provider)
			}
			if err != nil {
				return &SeedError{Pool: i, Member: "PrincipalTags", Item: -1, Key: provider, Err: err}
			}
		}
		// The developer users: the rules of linking them.
		users := map[string]int{}
		logins := map[string]int{}
		for k, u := range sp.DeveloperUsers {
			fail := func(err error) error { return &SeedError{Pool: i, Member: "DeveloperUsers", Item: k, Err: err} }
			switch {
			case p.DeveloperProviderName == "":
				return fail(apierr.New(apierr.InvalidParameter, "Developer users need the pool's DeveloperProviderName."))
			case u.IdentityId == "":
				return fail(apierr.New(apierr.InvalidParameter, "IdentityId is required."))
			case u.DeveloperUserIdentifier == "":
				return fail(apierr.New(apierr.InvalidParameter, "DeveloperUserIdentifier is required."))
			}
			if im := idPattern.FindStringSubmatch(u.IdentityId); im == nil || im[1] != region {
				return fail(apierr.Errorf(apierr.InvalidParameter,
					"%q is not an identity id of this pool: want %s:<uuid> in lower case (the pool's region).", u.IdentityId, region))
			}
			if j, dup := users[u.DeveloperUserIdentifier]; dup {
				return fail(fmt.Errorf("developer user %q is listed twice (items %d and %d)", u.DeveloperUserIdentifier, j+1, k+1))
			}
			users[u.DeveloperUserIdentifier] = k
			if j, other := identityPool[u.IdentityId]; other && j != i {
				return fail(fmt.Errorf("identity %s is listed in pool %d too; an identity belongs to one pool", u.IdentityId, j+1))
			}
			if logins[u.IdentityId]++; logins[u.IdentityId] > maxLoginsPerIdentity {
				return fail(apierr.Errorf(apierr.ResourceConflict, "An identity can have at most %d linked logins.", maxLoginsPerIdentity))
			}
		}
		for id := range logins {
			identityPool[id] = i
		}
	}
	return nil
}

// desiredPool is the stored form of a seeded pool's configuration (no
// times, no version).
func desiredPool(sp *SeededPool) *store.Pool {
	region, _, _ := strings.Cut(sp.IdentityPoolId, ":")
	p := &store.Pool{ID: sp.IdentityPoolId, Account: sp.AccountId, Region: region}
	cfg := configOf(&IdentityPool{PoolSettings: sp.PoolSettings})
	cfg.apply(p)
	setRoles(p, sp.Roles, sp.RoleMappings)
	for provider, t := range sp.PrincipalTags {
		if p.PrincipalTags == nil {
			p.PrincipalTags = map[string]store.PrincipalTagMap{}
		}
		p.PrincipalTags[provider] = store.PrincipalTagMap{UseDefaults: t.UseDefaults, PrincipalTags: nilIfEmpty(t.PrincipalTags)}
	}
	return p
}

// sameConfig reports whether two pools have the same configuration. It
// compares them as the backends store them, where an empty map or list and
// none are the same.
func sameConfig(a, b *store.Pool) (bool, error) {
	ja, err := store.MarshalPoolConfig(a)
	if err != nil {
		return false, err
	}
	jb, err := store.MarshalPoolConfig(b)
	if err != nil {
		return false, err
	}
	return string(ja) == string(jb), nil
}

// copyConfig sets dst's configuration to src's.
func copyConfig(dst, src *store.Pool) {
	dst.Name = src.Name
	dst.AllowUnauthenticated = src.AllowUnauthenticated
	dst.AllowClassicFlow = src.AllowClassicFlow
	dst.SupportedLoginProviders = src.SupportedLoginProviders
	dst.DeveloperProviderName = src.DeveloperProviderName
	dst.OpenIDConnectProviderARNs = src.OpenIDConnectProviderARNs
	dst.CognitoIdentityProviders = src.CognitoIdentityProviders
	dst.SAMLProviderARNs = src.SAMLProviderARNs
	dst.Tags = src.Tags
	dst.Roles = src.Roles
	dst.RoleMappings = src.RoleMappings
	dst.PrincipalTags = src.PrincipalTags
}

// seedAttempts bounds how often Seed runs its transaction again after
// losing a race with another server seeding the same store.
const seedAttempts = 5

// Seed creates the pools that do not exist yet and brings the others to
// the configuration given, links the developer users to their identities
// (creating the identities), and leaves everything else alone: pools the
// seed does not list, and identities and logins it does not name. It does
// it all in one transaction, so a refused seed changes nothing, and a seed
// applied again changes nothing either: no pool's version moves, no audit
// line is logged. What it changes is logged as the operations log it, with
// via=seed.
//
// Beyond CheckSeed, it refuses what the store decides: a pool that exists
// in another account, a DeveloperProviderName that differs from the one
// stored (it cannot change), an identity of another pool, a developer user
// linked to another identity, the quota of pools per account and region.
func (s *Service) Seed(ctx context.Context, pools []SeededPool) (SeedResult, error) {
	if err := CheckSeed(pools); err != nil {
		return SeedResult{}, err
	}
	for i := range pools {
		if pools[i].AccountId == "" {
			return SeedResult{}, seedFail(i, "AccountId", apierr.New(apierr.InvalidParameter, "The owner account is required."))
		}
	}
	var (
		res    SeedResult
		events []event
		err    error
	)
	for attempt := 0; attempt < seedAttempts; attempt++ {
		err = s.store.Update(ctx, func(tx store.Tx) error {
			// The function may run more than once: start over each time.
			res, events = SeedResult{}, events[:0]
			for i := range pools {
				if err := s.seedPool(ctx, tx, i, &pools[i], &res, &events); err != nil {
					return err
				}
			}
			return nil
		})
		// Another server seeding the same database at once (replicas
		// starting together) makes the loser's insert or update fail;
		// the next attempt finds what the winner wrote.
		if !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	for i := range pools {
		s.pools.forget(pools[i].IdentityPoolId)
	}
	if err != nil {
		return SeedResult{}, err
	}
	s.auditAll(ctx, events)
	return res, nil
}

// seedPool is Seed's work on pool i inside the transaction.
func (s *Service) seedPool(ctx context.Context, tx store.Tx, i int, sp *SeededPool, res *SeedResult, events *[]event) error {
	now := s.now()
	want := desiredPool(sp)
	cur, err := tx.GetPool(ctx, want.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		n, err := tx.CountPools(ctx, want.Account, want.Region)
		if err != nil {
			return err
		}
		if n >= s.maxPools {
			return seedFail(i, "IdentityPoolId", apierr.Errorf(apierr.LimitExceeded,
				"The maximum number of identity pools (%d) for this account in %s has been reached.", s.maxPools, want.Region))
		}
		want.CreatedAt, want.UpdatedAt = now, now
		if err := tx.InsertPool(ctx, want); err != nil {
			return err
		}
		cur = want
		res.Created++
		*events = append(*events, event{action: auditPoolCreate, account: want.Account, pool: want.ID, via: "seed"})
	case err != nil:
		return err
	default:
		if cur.Account != want.Account {
			return seedFail(i, "AccountId", apierr.Errorf(apierr.InvalidParameter,
				"The identity pool exists in account %s; reset the store to create it in %s.", cur.Account, want.Account))
		}
		if cur.DeveloperProviderName != "" {
			switch want.DeveloperProviderName {
			case "":
				// It cannot be unset (UpdateIdentityPool keeps it too).
				want.DeveloperProviderName = cur.DeveloperProviderName
			case cur.DeveloperProviderName:
			default:
				return seedFail(i, "DeveloperProviderName", apierr.Errorf(apierr.InvalidParameter,
					"The developer provider name of an identity pool cannot be changed once it is set (it is %s).", cur.DeveloperProviderName))
			}
		}
		same, err := sameConfig(cur, want)
		if err != nil {
			return err
		}
		if same {
			res.Unchanged++
			break
		}
		copyConfig(cur, want)
		cur.UpdatedAt = now
		if err := tx.UpdatePool(ctx, cur); err != nil {
			return err
		}
		res.Updated++
		*events = append(*events, event{action: auditPoolUpdate, account: cur.Account, pool: cur.ID, via: "seed"})
	}
	for k, u := range sp.DeveloperUsers {
		fail := func(err error) error { return &SeedError{Pool: i, Member: "DeveloperUsers", Item: k, Err: err} }
		login := store.Login{PoolID: cur.ID, Provider: cur.DeveloperProviderName, Subject: u.DeveloperUserIdentifier, IdentityID: u.IdentityId}
		owner, err := tx.FindLogin(ctx, cur.ID, login.Provider, login.Subject)
		if err == nil {
			if owner == u.IdentityId {
				continue
			}
			return fail(apierr.Errorf(apierr.DeveloperUserAlreadyRegistered,
				"The developer user identifier '%s' is already registered with identity '%s'.", u.DeveloperUserIdentifier, owner))
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		ident, err := tx.GetIdentity(ctx, u.IdentityId)
		if errors.Is(err, store.ErrNotFound) {
			ident = &store.Identity{ID: u.IdentityId, PoolID: cur.ID, CreatedAt: now, UpdatedAt: now, Logins: []store.Login{login}}
			if err := tx.InsertIdentity(ctx, ident); err != nil {
				return err
			}
			res.Linked++
			*events = append(*events, event{action: auditIdentityCreate, account: cur.Account, pool: cur.ID, identity: ident.ID,
				providers: []string{login.Provider}, via: "seed"})
			continue
		}
		if err != nil {
			return err
		}
		if ident.PoolID != cur.ID {
			return fail(apierr.Errorf(apierr.ResourceConflict, "Identity '%s' belongs to another identity pool (%s).", ident.ID, ident.PoolID))
		}
		if ident.Disabled {
			return fail(forbidden(ident.ID))
		}
		if err := s.checkLogins(cur, append(slices.Clone(ident.Logins), login), ""); err != nil {
			return fail(err)
		}
		if err := tx.LinkLogin(ctx, login); err != nil {
			return err
		}
		ident.UpdatedAt = now
		if err := tx.UpdateIdentity(ctx, ident); err != nil {
			return err
		}
		res.Linked++
		*events = append(*events, event{action: auditIdentityLink, account: cur.Account, pool: cur.ID, identity: ident.ID,
			providers: []string{login.Provider}, via: "seed"})
	}
	return nil
}

// resetBatch is how many pools one transaction of DeleteAllPools deletes.
const resetBatch = 100

// DeleteAllPools deletes every pool of every account, and with them every
// identity and login (what a reset does before it seeds again); signing
// keys stay. It returns how many pools it deleted. The pool cache is
// emptied, so that no deleted pool is served from it afterwards.
func (s *Service) DeleteAllPools(ctx context.Context) (int, error) {
	total := 0
	for {
		var deleted []*store.Pool
		err := s.store.Update(ctx, func(tx store.Tx) error {
			deleted = nil
			page, err := tx.ListPools(ctx, "", "", nil, resetBatch)
			if err != nil {
				return err
			}
			for _, p := range page {
				if err := tx.DeletePool(ctx, p.ID); err != nil {
					return err
				}
			}
			deleted = page
			return nil
		})
		s.pools.forgetAll()
		if err != nil {
			return total, err
		}
		for _, p := range deleted {
			s.audit(ctx, event{action: auditPoolDelete, account: p.Account, pool: p.ID, via: "reset"})
		}
		total += len(deleted)
		if len(deleted) < resetBatch {
			return total, nil
		}
	}
}
