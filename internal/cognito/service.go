package cognito

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/sts"
	"github.com/idpool/idpool/internal/tokens"
	"github.com/idpool/idpool/internal/trust"
)

// Config holds the Service's dependencies and settings.
type Config struct {
	Store store.Store
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Rand is the source of ids; nil means crypto/rand. It must be safe
	// for concurrent use.
	Rand io.Reader
	// DefaultRegion is the region of pools created by unsigned requests.
	DefaultRegion string
	// MaxPools is the number of pools an account may have in one region.
	MaxPools int
	Logger   *slog.Logger
	// Verifier checks login tokens; nil means federation.Trust.
	Verifier federation.Verifier
	// Issuer signs idpool's OpenID tokens.
	Issuer *tokens.Issuer
	// Minter mints temporary credentials.
	Minter *sts.Minter
	// CredentialsLifetime is how long minted credentials last;
	// sts.DefaultLifetime if 0.
	CredentialsLifetime time.Duration
	// Roles are the trust policies of the roles file (nil: none). They
	// decide who may become the roles they list, in every auth mode.
	Roles *trust.Roles
	// StrictTrust applies the implicit trust policy to roles the roles
	// file does not list: a token may become only a role its pool names
	// for it. Without it such roles are allowed, with a warning when the
	// pool does not name them. Strict mode sets it.
	StrictTrust bool
	// StoreIsPrivate says no other server writes to the store (the
	// embedded SQLite database): every change then goes through this
	// Service, and the developer operations' reads of a pool can be
	// served from its cache too, which stays exact.
	StoreIsPrivate bool
	// Observer is told what requests did, for the access log and the
	// metrics; nil observes nothing.
	Observer Observer
}

// Service implements the Cognito Identity operations.
type Service struct {
	store         store.Store
	now           func() time.Time
	rand          io.Reader
	defaultRegion string
	maxPools      int
	log           *slog.Logger
	verifier      federation.Verifier
	issuer        *tokens.Issuer
	minter        *sts.Minter
	pools         *poolCache
	roles         *trust.Roles
	strictTrust   bool
	obs           Observer

	credentialsLifetime time.Duration
	privateStore        bool
}

// DefaultMaxPools is AWS's quota of identity pools per account and region.
const DefaultMaxPools = 1000

// New returns a Service.
func New(c Config) *Service {
	s := &Service{
		store:         c.Store,
		now:           c.Clock,
		rand:          c.Rand,
		defaultRegion: c.DefaultRegion,
		maxPools:      c.MaxPools,
		log:           c.Logger,
		verifier:      c.Verifier,
		issuer:        c.Issuer,
		minter:        c.Minter,
		roles:         c.Roles,
		strictTrust:   c.StrictTrust,
		obs:           c.Observer,

		credentialsLifetime: c.CredentialsLifetime,
		privateStore:        c.StoreIsPrivate,
	}
	if s.credentialsLifetime <= 0 {
		s.credentialsLifetime = sts.DefaultLifetime
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.defaultRegion == "" {
		s.defaultRegion = "us-east-1"
	}
	if s.maxPools <= 0 {
		s.maxPools = DefaultMaxPools
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.pools = newPoolCache(s.now)
	if s.verifier == nil {
		s.verifier = federation.Trust{Now: s.now}
	}
	return s
}

// newID returns "<region>:<lower-case uuid v4>", the form of pool ids
// (AWS's identity ids have it too).
func (s *Service) newID(region string) (string, error) {
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return "", err
	}
	return region + ":" + u.String(), nil
}

// newIdentityID returns a new identity id made at the service's now (see
// IdentityID).
func (s *Service) newIdentityID(region string) (string, error) {
	return IdentityID(region, s.now(), s.rand)
}

// IdentityID returns "<region>:<lower-case uuid v7>": 48 bits of at in
// milliseconds, then 74 bits read from random. Choice: AWS's identity ids
// are random (v4); time-ordered ones are appended to the store's id index
// instead of rewriting a random page of it, which cut the CPU of a durable
// guest write 2.8-4× (docs/storage.md). 74 random bits keep an id
// unguessable, which matters: a guest's id is all it takes to get its
// credentials. Not uuid.NewV7: it reads the wall clock, not the caller's,
// and spends 12 of the random bits on a counter. The bulk seeding of the
// benchmark makes its ids here too, so that a seeded store is laid out as
// one the server filled.
func IdentityID(region string, at time.Time, random io.Reader) (string, error) {
	var u uuid.UUID
	if _, err := io.ReadFull(random, u[6:]); err != nil {
		return "", err
	}
	ms := uint64(at.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return region + ":" + u.String(), nil
}

var regionPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// region is where a caller's new resources live: the region of its
// signature's credential scope, or the default region for unsigned calls
// (and for scopes naming no plausible region, which would not make a valid
// pool id).
func (s *Service) region(c caller.Info) string {
	if c.Region != "" && regionPattern.MatchString(c.Region) {
		return c.Region
	}
	return s.defaultRegion
}

func poolNotFound(id string) error {
	return apierr.Errorf(apierr.ResourceNotFound, "IdentityPool '%s' not found.", id)
}

// ownedPool returns a pool that the caller may manage: it exists, belongs
// to the caller's account and, for a signed call, lives in the signature's
// region. Any other pool does not exist as far as the caller can tell.
func (s *Service) ownedPool(ctx context.Context, r store.Reader, id string) (*store.Pool, error) {
	p, err := r.GetPool(ctx, id)
	return s.owned(ctx, id, p, err)
}

// owned maps a pool read to what the caller may see of it.
func (s *Service) owned(ctx context.Context, id string, p *store.Pool, err error) (*store.Pool, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, poolNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if !s.owns(caller.From(ctx), p) {
		return nil, poolNotFound(id)
	}
	return p, nil
}

// readPool is ownedPool for operations that only read the pool: from the
// pool cache when the store is private to this server (the cache is then
// exact: every change goes through this Service and drops its entry),
// else from the store. The result must not be modified.
func (s *Service) readPool(ctx context.Context, id string) (*store.Pool, error) {
	if !s.privateStore {
		return s.ownedPool(ctx, s.store, id)
	}
	p, err := s.pools.get(ctx, s.store, id)
	return s.owned(ctx, id, p, err)
}

func (s *Service) owns(c caller.Info, p *store.Pool) bool {
	if p.Account != c.Account {
		return false
	}
	return c.Region == "" || !regionPattern.MatchString(c.Region) || c.Region == p.Region
}
