package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Bound names the ceiling that bounds a scenario.
type Bound string

// Bounds.
const (
	// BoundAWSJSON is the minimal awsJson server driven with unsigned
	// requests: what HTTP, JSON and the generator allow at best.
	BoundAWSJSON Bound = "awsjson"
	// BoundAWSJSONSigned is the same server driven with SigV4-signed
	// requests: the generator's signing cost is in it, as it is in the
	// signed scenarios.
	BoundAWSJSONSigned Bound = "awsjson-signed"
	// BoundAWSJSONPage is the same server driven with signed
	// ListIdentities calls of MaxResults 60, answering a fixed
	// ListIdentities page of 60 identities, the size of the
	// list-identities scenario's answers in the bench's bulk-seeded pools
	// (about 9 KB; see ceilingPage): writing, sending, reading and
	// checking such a page is in it, as it is in that scenario.
	BoundAWSJSONPage Bound = "awsjson-signed-page"
	// BoundSigning is the machine's RS512 signing rate with every core:
	// one RSA-2048 signature per issued OpenID token.
	BoundSigning Bound = "rs512"
	// BoundMix is the weighted harmonic mean of the bounds of a mix's
	// parts: the rate at which each request of the mix costs its part's
	// share of the machine.
	BoundMix Bound = "mix"
)

// Pool configuration every scenario's pool gets.
const (
	FacebookProvider  = "graph.facebook.com"
	DeveloperProvider = "login.idpool.bench"
	UnauthRoleARN     = "arn:aws:iam::000000000000:role/idpool-bench-unauth"
	AuthRoleARN       = "arn:aws:iam::000000000000:role/idpool-bench-auth"
	listPage          = 60
)

// Env is what a scenario's setup works with.
type Env struct {
	Client *Client
	// Moto says the target is moto, whose answers differ from AWS's in
	// ways the checks allow for (random ids where AWS returns the linked
	// one, every identity where AWS returns a page).
	Moto bool
	// K is how many identities of each kind a scenario seeds.
	K int
	// Merges is how many pairs of developer users the merge scenario
	// seeds: each pair is merged once.
	Merges int
	// PoolID, when set, is an existing pool every scenario uses instead of
	// creating its own (a pool bulk-seeded for a scale test). It must have
	// the configuration CreatePool gives.
	PoolID string
	// Prefix makes names and users of this run unique.
	Prefix string
	// Keep leaves the scenarios' pools in place.
	Keep bool
	Log  io.Writer
}

func (e *Env) logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format, args...)
	}
}

// Fixture is a scenario ready to run.
type Fixture struct {
	Workload *Workload
	PoolID   string
	Notes    []string
	// NoWarmup skips the warm-up: a workload that is used up (each merge
	// pair merges once) keeps all of it for the measurement.
	NoWarmup bool
	cleanup  func(context.Context) error
}

// Cleanup removes what setup created (unless the Env said Keep).
func (f *Fixture) Cleanup(ctx context.Context) error {
	if f.cleanup == nil {
		return nil
	}
	return f.cleanup(ctx)
}

// Scenario is one named workload and how to set it up.
type Scenario struct {
	Name  string
	Doc   string
	Bound Bound
	// MotoSkip, when not empty, is why moto cannot run the scenario.
	MotoSkip string
	// Parts are a mix's scenarios and weights (percent).
	Parts []Part
	Setup func(ctx context.Context, env *Env) (*Fixture, error)
}

// Part is one share of a mix.
type Part struct {
	Scenario string
	Weight   int
}

// mixParts is the mix scenario: what a mobile app's traffic might look
// like, dominated by returning users signing in (GetId with their logins)
// and fetching credentials, with some new guests, some token refreshes of
// the basic and the developer flow, and an admin reading the pool.
func mixParts() []Part {
	return []Part{
		{"getid-existing", 30},
		{"getid-guest", 20},
		{"credentials", 20},
		{"getopenidtoken", 10},
		{"developer-token", 10},
		{"describe-pool", 10},
	}
}

// Scenarios returns every scenario, in report order.
func Scenarios() []*Scenario {
	return []*Scenario{
		{Name: "getid-guest", Bound: BoundAWSJSON, Setup: setupGetIDGuest,
			Doc: "GetId without logins: a new guest identity, one durable write, per call"},
		{Name: "getid-existing", Bound: BoundAWSJSON, Setup: setupGetIDExisting,
			Doc:      "GetId with the Logins of one of K already-linked Facebook-style users: a read",
			MotoSkip: "moto ignores Logins (every GetId creates a new identity), so it would measure getid-guest"},
		{Name: "getopenidtoken", Bound: BoundSigning, Setup: setupOpenIDToken,
			Doc: "GetOpenIdToken for one of K guests: a read and an RS512 signature"},
		{Name: "developer-token", Bound: BoundSigning, Setup: setupDeveloperToken,
			Doc: "GetOpenIdTokenForDeveloperIdentity (signed) for one of K linked developer users: a read and an RS512 signature"},
		{Name: "developer-new", Bound: BoundSigning, Setup: setupDeveloperNew,
			Doc: "GetOpenIdTokenForDeveloperIdentity (signed) for a new developer user every call: a durable write (identity and login) and an RS512 signature"},
		{Name: "merge", Bound: BoundAWSJSONSigned, Setup: setupMerge,
			Doc:      "MergeDeveloperIdentities (signed) of one of -merges seeded pairs of developer users, each pair once: a durable write (a login moved, two identities updated); the phase ends early when the pairs run out",
			MotoSkip: "moto does not implement MergeDeveloperIdentities"},
		{Name: "credentials", Bound: BoundAWSJSON, Setup: setupCredentials,
			Doc: "GetCredentialsForIdentity for one of K guests: reads, the unauthenticated role, an AES-GCM-sealed session token"},
		{Name: "describe-pool", Bound: BoundAWSJSONSigned, Setup: setupDescribePool,
			Doc: "DescribeIdentityPool (signed)"},
		{Name: "list-identities", Bound: BoundAWSJSONPage, Setup: setupListIdentities,
			Doc: "ListIdentities (signed), first page of MaxResults 60"},
		{Name: "lookup-developer", Bound: BoundAWSJSONSigned, Setup: setupLookupDeveloper,
			Doc:      "LookupDeveloperIdentity (signed) by DeveloperUserIdentifier of one of K developer users",
			MotoSkip: "moto does not implement LookupDeveloperIdentity"},
		{Name: "mix", Bound: BoundMix, Parts: mixParts(), Setup: setupMix,
			Doc:      "30% getid-existing, 20% getid-guest, 20% credentials, 10% getopenidtoken, 10% developer-token, 10% describe-pool",
			MotoSkip: "a third of the mix is getid-existing, which moto cannot do"},
	}
}

// Select returns the scenarios named in a comma-separated list ("all" for
// every one).
func Select(names string) ([]*Scenario, error) {
	all := Scenarios()
	if names == "" || names == "all" {
		return all, nil
	}
	var out []*Scenario
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(all, func(s *Scenario) bool { return s.Name == n })
		if i < 0 {
			var known []string
			for _, s := range all {
				known = append(known, s.Name)
			}
			return nil, fmt.Errorf("unknown scenario %q (known: %s, all)", n, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// Find returns the scenario with the name, or nil.
func Find(name string) *Scenario {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// pool returns the pool a scenario works in: a new one configured like
// every scenario's, or the Env's.
func (e *Env) pool(ctx context.Context, name string) (string, func(context.Context) error, error) {
	if e.PoolID != "" {
		var p struct {
			IdentityPoolId                 string
			AllowUnauthenticatedIdentities bool
			SupportedLoginProviders        map[string]string
			DeveloperProviderName          string
		}
		if err := e.Client.Call(ctx, "DescribeIdentityPool", map[string]any{"IdentityPoolId": e.PoolID}, true, &p); err != nil {
			return "", nil, err
		}
		if !p.AllowUnauthenticatedIdentities || p.SupportedLoginProviders[FacebookProvider] == "" || p.DeveloperProviderName != DeveloperProvider {
			return "", nil, fmt.Errorf("pool %s must allow guests, support %s and have the developer provider %s", e.PoolID, FacebookProvider, DeveloperProvider)
		}
		return e.PoolID, nil, nil
	}
	var p struct{ IdentityPoolId string }
	in := map[string]any{
		"IdentityPoolName":               "idpool_bench_" + strings.ReplaceAll(name, "-", "_") + "_" + e.Prefix,
		"AllowUnauthenticatedIdentities": true,
		"SupportedLoginProviders":        map[string]string{FacebookProvider: "app"},
		"DeveloperProviderName":          DeveloperProvider,
	}
	if err := e.Client.Call(ctx, "CreateIdentityPool", in, true, &p); err != nil {
		return "", nil, err
	}
	if p.IdentityPoolId == "" {
		return "", nil, errors.New("CreateIdentityPool returned no IdentityPoolId")
	}
	if !e.Moto { // moto does not implement SetIdentityPoolRoles
		roles := map[string]any{"IdentityPoolId": p.IdentityPoolId,
			"Roles": map[string]string{"unauthenticated": UnauthRoleARN, "authenticated": AuthRoleARN}}
		if err := e.Client.Call(ctx, "SetIdentityPoolRoles", roles, true, nil); err != nil {
			return "", nil, err
		}
	}
	cleanup := func(ctx context.Context) error {
		if e.Keep {
			return nil
		}
		return e.Client.Call(ctx, "DeleteIdentityPool", map[string]any{"IdentityPoolId": p.IdentityPoolId}, true, nil)
	}
	return p.IdentityPoolId, cleanup, nil
}

// seedWorkers is how many calls seeding makes at once.
const seedWorkers = 8

// parallel calls fn(i) for i in [0, n) on a few goroutines and returns the
// first error.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(n, seedWorkers) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// user is a seeded user: the login that names it and its identity.
type user struct {
	login string // Facebook token or developer user identifier; "" for guests
	id    string
}

func (e *Env) seedGuests(ctx context.Context, pool string, k int) ([]user, error) {
	out := make([]user, k)
	err := parallel(ctx, k, func(ctx context.Context, i int) error {
		var r struct{ IdentityId string }
		if err := e.Client.Call(ctx, "GetId", map[string]any{"IdentityPoolId": pool}, false, &r); err != nil {
			return err
		}
		out[i] = user{id: r.IdentityId}
		return nil
	})
	return out, err
}

func (e *Env) seedFacebook(ctx context.Context, pool string, k int) ([]user, error) {
	out := make([]user, k)
	err := parallel(ctx, k, func(ctx context.Context, i int) error {
		token := fmt.Sprintf("EAAB%sbench%07d", e.Prefix, i) // an opaque access token, as Facebook's are
		var r struct{ IdentityId string }
		in := map[string]any{"IdentityPoolId": pool, "Logins": map[string]string{FacebookProvider: token}}
		if err := e.Client.Call(ctx, "GetId", in, false, &r); err != nil {
			return err
		}
		out[i] = user{login: token, id: r.IdentityId}
		return nil
	})
	return out, err
}

func (e *Env) seedDevelopers(ctx context.Context, pool string, k int) ([]user, error) {
	out := make([]user, k)
	err := parallel(ctx, k, func(ctx context.Context, i int) error {
		name := fmt.Sprintf("bench-%s-user-%07d", e.Prefix, i)
		var r struct{ IdentityId string }
		in := map[string]any{"IdentityPoolId": pool, "Logins": map[string]string{DeveloperProvider: name}}
		if err := e.Client.Call(ctx, "GetOpenIdTokenForDeveloperIdentity", in, true, &r); err != nil {
			return err
		}
		out[i] = user{login: name, id: r.IdentityId}
		return nil
	})
	return out, err
}

// pick returns a workload that sends one of the requests at random.
func pick(kind string, reqs []*Request) *Workload {
	return &Workload{Kinds: []string{kind}, Next: func(rng *rand.Rand) *Request { return reqs[rng.IntN(len(reqs))] }}
}

// decode unmarshals a response body for a check.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	return nil
}

func wantEqual(field, got, want string) error {
	if got != want {
		return fmt.Errorf("%s is %q, want %q", field, got, want)
	}
	return nil
}

func wantSet(field, v string) error {
	if v == "" {
		return fmt.Errorf("%s is missing", field)
	}
	return nil
}

// isJWS reports whether s looks like a compact JWS: three base64url parts.
func isJWS(s string) bool {
	return strings.Count(s, ".") == 2 && !strings.Contains(s, "..")
}

func getIDGuestRequest(pool string) *Request {
	return NewRequest("GetId", map[string]any{"IdentityPoolId": pool}, false, func(b []byte) error {
		var r struct{ IdentityId string }
		if err := decode(b, &r); err != nil {
			return err
		}
		if !strings.Contains(r.IdentityId, ":") {
			return fmt.Errorf("IdentityId %q is not <region>:<id>", r.IdentityId)
		}
		return nil
	})
}

func getIDExistingRequests(pool string, users []user) []*Request {
	var reqs []*Request
	for _, u := range users {
		in := map[string]any{"IdentityPoolId": pool, "Logins": map[string]string{FacebookProvider: u.login}}
		reqs = append(reqs, NewRequest("GetId", in, false, func(b []byte) error {
			var r struct{ IdentityId string }
			if err := decode(b, &r); err != nil {
				return err
			}
			return wantEqual("IdentityId", r.IdentityId, u.id)
		}))
	}
	return reqs
}

func openIDTokenRequests(users []user, exact bool) []*Request {
	var reqs []*Request
	for _, u := range users {
		reqs = append(reqs, NewRequest("GetOpenIdToken", map[string]any{"IdentityId": u.id}, false, func(b []byte) error {
			var r struct{ IdentityId, Token string }
			if err := decode(b, &r); err != nil {
				return err
			}
			if err := wantEqual("IdentityId", r.IdentityId, u.id); err != nil {
				return err
			}
			if exact && !isJWS(r.Token) {
				return fmt.Errorf("Token %q is not a JWS", truncate(r.Token, 40))
			}
			return wantSet("Token", r.Token)
		}))
	}
	return reqs
}

func developerTokenRequests(pool string, users []user, exact bool) []*Request {
	var reqs []*Request
	for _, u := range users {
		reqs = append(reqs, developerTokenRequest(pool, u, exact))
	}
	return reqs
}

// developerTokenRequest asks for a token of developer user u.login; the
// answer must name u.id, unless that is "" (a user not seen before).
func developerTokenRequest(pool string, u user, exact bool) *Request {
	in := map[string]any{"IdentityPoolId": pool, "Logins": map[string]string{DeveloperProvider: u.login}}
	return NewRequest("GetOpenIdTokenForDeveloperIdentity", in, true, func(b []byte) error {
		var r struct{ IdentityId, Token string }
		if err := decode(b, &r); err != nil {
			return err
		}
		if exact { // moto answers a random id
			if u.id != "" {
				if err := wantEqual("IdentityId", r.IdentityId, u.id); err != nil {
					return err
				}
			}
			if !isJWS(r.Token) {
				return fmt.Errorf("Token %q is not a JWS", truncate(r.Token, 40))
			}
		}
		if err := wantSet("IdentityId", r.IdentityId); err != nil {
			return err
		}
		return wantSet("Token", r.Token)
	})
}

func credentialsRequests(users []user) []*Request {
	var reqs []*Request
	for _, u := range users {
		reqs = append(reqs, NewRequest("GetCredentialsForIdentity", map[string]any{"IdentityId": u.id}, false, func(b []byte) error {
			var r struct {
				IdentityId  string
				Credentials *struct {
					AccessKeyId, SecretKey, SessionToken string
					Expiration                           json.Number
				}
			}
			if err := decode(b, &r); err != nil {
				return err
			}
			if err := wantEqual("IdentityId", r.IdentityId, u.id); err != nil {
				return err
			}
			c := r.Credentials
			if c == nil {
				return errors.New("Credentials is missing")
			}
			for _, f := range []struct{ name, v string }{
				{"AccessKeyId", c.AccessKeyId}, {"SecretKey", c.SecretKey},
				{"SessionToken", c.SessionToken}, {"Expiration", c.Expiration.String()},
			} {
				if err := wantSet("Credentials."+f.name, f.v); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	return reqs
}

func describePoolRequest(pool string) *Request {
	return NewRequest("DescribeIdentityPool", map[string]any{"IdentityPoolId": pool}, true, func(b []byte) error {
		var r struct {
			IdentityPoolId, IdentityPoolName string
			AllowUnauthenticatedIdentities   bool
		}
		if err := decode(b, &r); err != nil {
			return err
		}
		if err := wantEqual("IdentityPoolId", r.IdentityPoolId, pool); err != nil {
			return err
		}
		if !r.AllowUnauthenticatedIdentities {
			return errors.New("AllowUnauthenticatedIdentities is not true")
		}
		return wantSet("IdentityPoolName", r.IdentityPoolName)
	})
}

// listIdentitiesRequest checks for a page of exactly want identities, or
// of 1 to 60 when want is 0 (a pool of unknown size). Moto ignores
// MaxResults and returns every identity, so its checks accept any
// non-empty page.
func listIdentitiesRequest(pool string, want int, moto bool) *Request {
	in := map[string]any{"IdentityPoolId": pool, "MaxResults": listPage}
	return NewRequest("ListIdentities", in, true, func(b []byte) error {
		var r struct {
			IdentityPoolId string
			Identities     []struct{ IdentityId string }
		}
		if err := decode(b, &r); err != nil {
			return err
		}
		if err := wantEqual("IdentityPoolId", r.IdentityPoolId, pool); err != nil {
			return err
		}
		n := len(r.Identities)
		switch {
		case moto:
			if n == 0 {
				return errors.New("no Identities")
			}
		case want > 0 && n != want:
			return fmt.Errorf("%d Identities, want %d", n, want)
		case n < 1 || n > listPage:
			return fmt.Errorf("%d Identities, want 1 to %d", n, listPage)
		}
		for _, id := range r.Identities {
			if id.IdentityId == "" {
				return errors.New("an identity without IdentityId")
			}
		}
		return nil
	})
}

func lookupDeveloperRequests(pool string, users []user) []*Request {
	var reqs []*Request
	for _, u := range users {
		in := map[string]any{"IdentityPoolId": pool, "DeveloperUserIdentifier": u.login}
		reqs = append(reqs, NewRequest("LookupDeveloperIdentity", in, true, func(b []byte) error {
			var r struct {
				IdentityId                  string
				DeveloperUserIdentifierList []string
			}
			if err := decode(b, &r); err != nil {
				return err
			}
			if err := wantEqual("IdentityId", r.IdentityId, u.id); err != nil {
				return err
			}
			if !slices.Contains(r.DeveloperUserIdentifierList, u.login) {
				return fmt.Errorf("DeveloperUserIdentifierList %q lacks %q", r.DeveloperUserIdentifierList, u.login)
			}
			return nil
		}))
	}
	return reqs
}

// fixture is the common shape of a single-pool setup: make the pool, run
// fill, and clean the pool up if fill fails.
func (e *Env) fixture(ctx context.Context, name string, fill func(pool string, f *Fixture) error) (*Fixture, error) {
	pool, cleanup, err := e.pool(ctx, name)
	if err != nil {
		return nil, err
	}
	f := &Fixture{PoolID: pool, cleanup: cleanup}
	if err := fill(pool, f); err != nil {
		if cerr := f.Cleanup(context.WithoutCancel(ctx)); cerr != nil {
			e.logf("cleaning up after a failed setup: %v\n", cerr)
		}
		return nil, err
	}
	return f, nil
}

func setupGetIDGuest(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "getid-guest", func(pool string, f *Fixture) error {
		r := getIDGuestRequest(pool)
		f.Workload = pick("GetId", []*Request{r})
		return nil
	})
}

func setupGetIDExisting(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "getid-existing", func(pool string, f *Fixture) error {
		users, err := e.seedFacebook(ctx, pool, e.K)
		if err != nil {
			return err
		}
		f.Workload = pick("GetId", getIDExistingRequests(pool, users))
		return nil
	})
}

func setupOpenIDToken(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "getopenidtoken", func(pool string, f *Fixture) error {
		users, err := e.seedGuests(ctx, pool, e.K)
		if err != nil {
			return err
		}
		f.Workload = pick("GetOpenIdToken", openIDTokenRequests(users, !e.Moto))
		return nil
	})
}

func setupDeveloperToken(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "developer-token", func(pool string, f *Fixture) error {
		users, err := e.seedDevelopers(ctx, pool, e.K)
		if err != nil {
			return err
		}
		f.Workload = pick("GetOpenIdTokenForDeveloperIdentity", developerTokenRequests(pool, users, !e.Moto))
		return nil
	})
}

func setupCredentials(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "credentials", func(pool string, f *Fixture) error {
		users, err := e.seedGuests(ctx, pool, e.K)
		if err != nil {
			return err
		}
		f.Workload = pick("GetCredentialsForIdentity", credentialsRequests(users))
		return nil
	})
}

func setupDescribePool(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "describe-pool", func(pool string, f *Fixture) error {
		f.Workload = pick("DescribeIdentityPool", []*Request{describePoolRequest(pool)})
		return nil
	})
}

func setupListIdentities(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "list-identities", func(pool string, f *Fixture) error {
		k := e.K
		if e.Moto {
			// Moto returns the whole pool whatever MaxResults says: seed
			// one page, so that both servers answer 60 identities.
			k = listPage
			f.Notes = append(f.Notes, "moto ignores MaxResults: its pool holds exactly 60 identities so the page sizes match")
		}
		if _, err := e.seedGuests(ctx, pool, k); err != nil {
			return err
		}
		want := min(k, listPage)
		if e.PoolID != "" && k < listPage {
			want = 0 // a shared pool of unknown size
		}
		f.Workload = pick("ListIdentities", []*Request{listIdentitiesRequest(pool, want, e.Moto)})
		return nil
	})
}

func setupLookupDeveloper(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "lookup-developer", func(pool string, f *Fixture) error {
		users, err := e.seedDevelopers(ctx, pool, e.K)
		if err != nil {
			return err
		}
		f.Workload = pick("LookupDeveloperIdentity", lookupDeveloperRequests(pool, users))
		return nil
	})
}

// setupMix seeds every kind of user into one pool and sends the parts of
// mixParts with their weights.
func setupMix(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "mix", func(pool string, f *Fixture) error {
		fb, err := e.seedFacebook(ctx, pool, e.K)
		if err != nil {
			return err
		}
		guests, err := e.seedGuests(ctx, pool, e.K)
		if err != nil {
			return err
		}
		devs, err := e.seedDevelopers(ctx, pool, e.K)
		if err != nil {
			return err
		}
		parts := map[string][]*Request{
			"getid-existing":  getIDExistingRequests(pool, fb),
			"getid-guest":     {getIDGuestRequest(pool)},
			"credentials":     credentialsRequests(guests),
			"getopenidtoken":  openIDTokenRequests(guests, !e.Moto),
			"developer-token": developerTokenRequests(pool, devs, !e.Moto),
			"describe-pool":   {describePoolRequest(pool)},
		}
		var (
			kinds []string
			reqs  [][]*Request
			cum   []int // cumulative weights
			total int
		)
		for i, p := range mixParts() {
			rs := parts[p.Scenario]
			if rs == nil {
				return fmt.Errorf("mix part %q has no requests", p.Scenario)
			}
			for _, r := range rs {
				r.Kind = i
			}
			kinds = append(kinds, p.Scenario)
			reqs = append(reqs, rs)
			total += p.Weight
			cum = append(cum, total)
		}
		f.Workload = &Workload{Kinds: kinds, Next: func(rng *rand.Rand) *Request {
			x := rng.IntN(total)
			i, _ := slices.BinarySearch(cum, x+1)
			rs := reqs[i]
			return rs[rng.IntN(len(rs))]
		}}
		return nil
	})
}

// setupDeveloperNew names a developer user never seen before in every
// call, so that each one links a new identity.
func setupDeveloperNew(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "developer-new", func(pool string, f *Fixture) error {
		var n atomic.Int64
		f.Workload = &Workload{Kinds: []string{"GetOpenIdTokenForDeveloperIdentity"}, Next: func(*rand.Rand) *Request {
			return developerTokenRequest(pool, user{login: fmt.Sprintf("bench-%s-new-%d", e.Prefix, n.Add(1))}, !e.Moto)
		}}
		return nil
	})
}

// setupMerge seeds e.Merges pairs of developer users, each with its own
// identity, and merges every pair once, the first user into the second:
// the answer must name the second user's identity. A merge of a pair
// already merged changes nothing, so the workload is used up with the
// pairs (warm-up included) and the phase ends there.
func setupMerge(ctx context.Context, e *Env) (*Fixture, error) {
	return e.fixture(ctx, "merge", func(pool string, f *Fixture) error {
		if e.Merges <= 0 {
			return errors.New("merge needs -merges > 0 pairs")
		}
		users, err := e.seedDevelopers(ctx, pool, 2*e.Merges)
		if err != nil {
			return err
		}
		var n atomic.Int64
		f.Workload = &Workload{Kinds: []string{"MergeDeveloperIdentities"}, Next: func(*rand.Rand) *Request {
			i := int(n.Add(1) - 1)
			if i >= e.Merges {
				return nil
			}
			src, dst := users[2*i], users[2*i+1]
			in := map[string]any{"IdentityPoolId": pool, "DeveloperProviderName": DeveloperProvider,
				"SourceUserIdentifier": src.login, "DestinationUserIdentifier": dst.login}
			return NewRequest("MergeDeveloperIdentities", in, true, func(b []byte) error {
				var r struct{ IdentityId string }
				if err := decode(b, &r); err != nil {
					return err
				}
				return wantEqual("IdentityId", r.IdentityId, dst.id)
			})
		}}
		f.NoWarmup = true
		f.Notes = append(f.Notes, fmt.Sprintf("merge: %d pairs, each merged once, no warm-up; the phase ends when they run out", e.Merges))
		return nil
	})
}
