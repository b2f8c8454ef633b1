package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends return them (wrapped or bare) and callers test
// with errors.Is; the service maps them to wire errors.
var (
	// ErrNotFound means the record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists means a record with the same key already exists.
	ErrExists = errors.New("store: already exists")
	// ErrConflict means a compare-and-swap failed: the record changed
	// since it was read.
	ErrConflict = errors.New("store: concurrent modification")
	// ErrUnavailable means the database could not be reached, or did not
	// answer in time: the call may or may not have taken effect.
	ErrUnavailable = errors.New("store: unavailable")
)

// Pool is an identity pool with all of its configuration.
type Pool struct {
	ID      string // "<region>:<uuid>"
	Account string // 12-digit owner account
	Region  string

	Name                      string
	AllowUnauthenticated      bool
	AllowClassicFlow          *bool // nil = never set (which allows the classic flow)
	SupportedLoginProviders   map[string]string
	DeveloperProviderName     string
	OpenIDConnectProviderARNs []string
	CognitoIdentityProviders  []CognitoProvider
	SAMLProviderARNs          []string
	Tags                      map[string]string

	Roles         map[string]string          // "authenticated" / "unauthenticated" -> role ARN
	RoleMappings  map[string]RoleMapping     // provider key -> mapping
	PrincipalTags map[string]PrincipalTagMap // provider name -> attribute map

	CreatedAt time.Time
	UpdatedAt time.Time
	// Version increases by one with every successful UpdatePool; it is
	// the compare-and-swap token.
	Version int64
}

// CognitoProvider is one user-pool app client trusted by a pool.
type CognitoProvider struct {
	ProviderName         string `json:"ProviderName"`
	ClientID             string `json:"ClientId"`
	ServerSideTokenCheck *bool  `json:"ServerSideTokenCheck,omitempty"`
}

// RoleMapping chooses roles for the users of one provider.
type RoleMapping struct {
	Type                    string              `json:"Type"`
	AmbiguousRoleResolution string              `json:"AmbiguousRoleResolution,omitempty"`
	RulesConfiguration      *RulesConfiguration `json:"RulesConfiguration,omitempty"`
}

// RulesConfiguration holds the ordered rules of a Rules role mapping.
type RulesConfiguration struct {
	Rules []MappingRule `json:"Rules"`
}

// MappingRule is one rule of a Rules role mapping.
type MappingRule struct {
	Claim     string `json:"Claim"`
	MatchType string `json:"MatchType"`
	Value     string `json:"Value"`
	RoleARN   string `json:"RoleARN"`
}

// PrincipalTagMap is the attributes-for-access-control setting of one
// provider of a pool.
type PrincipalTagMap struct {
	UseDefaults   *bool             `json:"UseDefaults,omitempty"`
	PrincipalTags map[string]string `json:"PrincipalTags,omitempty"`
}

// PoolCursor is a position in the listing order of pools: creation time,
// then id. Keyset pagination on it neither skips nor repeats a pool that
// exists for the whole listing, whatever is created or deleted meanwhile.
type PoolCursor struct {
	CreatedAt time.Time
	ID        string
}

// Identity is one identity of a pool with the logins linked to it.
type Identity struct {
	ID        string // "<region>:<uuid>"
	PoolID    string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Disabled identities answer "forbidden"; they hold no logins.
	Disabled bool
	// Logins are sorted by provider, then subject.
	Logins []Login
}

// Login links one user of a provider to an identity. For a developer
// provider, Subject is the developer user identifier.
type Login struct {
	PoolID     string
	Provider   string // the Logins key, e.g. graph.facebook.com
	Subject    string // the provider's user id
	IdentityID string
}

// IdentityCursor is a position in the listing order of a pool's
// identities: creation time, then id.
type IdentityCursor struct {
	CreatedAt time.Time
	ID        string
}

// SigningKey is one key of the OpenID token signer.
type SigningKey struct {
	ID        string // the JWS kid
	Sealed    []byte // the private key (PKCS #8 DER), sealed with the server secret
	CreatedAt time.Time
	// RetiresAt is when the key stops signing; nil while it has not been
	// rotated out. A retired key stays published until the tokens it
	// signed have expired.
	RetiresAt *time.Time
}

// Reader holds the queries that can run inside or outside a transaction.
type Reader interface {
	// GetPool returns the pool with the given id, or ErrNotFound.
	GetPool(ctx context.Context, id string) (*Pool, error)
	// ListPools returns up to limit pools of the account, in region (all
	// regions when region is ""), ordered by creation time then id,
	// starting after the cursor (from the beginning when after is nil).
	// An account of "" lists every account's pools (export, reset; the API
	// always names the caller's account).
	ListPools(ctx context.Context, account, region string, after *PoolCursor, limit int) ([]*Pool, error)
	// CountPools returns how many pools the account has in the region.
	CountPools(ctx context.Context, account, region string) (int, error)

	// GetIdentity returns the identity with its logins, or ErrNotFound.
	GetIdentity(ctx context.Context, id string) (*Identity, error)
	// ListIdentities returns up to limit identities of the pool, with their
	// logins, ordered by creation time then id, starting after the cursor;
	// hideDisabled leaves disabled identities out.
	ListIdentities(ctx context.Context, poolID string, after *IdentityCursor, limit int, hideDisabled bool) ([]*Identity, error)
	// FindLogin returns the id of the identity a login is linked to, or
	// ErrNotFound.
	FindLogin(ctx context.Context, poolID, provider, subject string) (string, error)

	// ListSigningKeys returns every signing key, oldest first.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
}

// Tx is a read-write transaction. Its writes become visible to others, all
// at once, when the function given to Store.Update returns nil.
type Tx interface {
	Reader
	// InsertPool stores a new pool with Version 1. ErrExists if the id is
	// taken.
	InsertPool(ctx context.Context, p *Pool) error
	// UpdatePool replaces the pool's stored record if its stored Version is
	// still p.Version, and then sets p.Version to the new version.
	// ErrConflict if the version moved on, ErrNotFound if the pool is gone.
	UpdatePool(ctx context.Context, p *Pool) error
	// DeletePool removes the pool and everything under it. ErrNotFound if
	// there is no such pool.
	DeletePool(ctx context.Context, id string) error

	// InsertIdentity stores a new identity and its logins. ErrExists if
	// the id or any of the logins is taken; ErrNotFound if the pool is
	// gone.
	InsertIdentity(ctx context.Context, id *Identity) error
	// UpdateIdentity stores the identity's Disabled flag and UpdatedAt
	// (not its logins). ErrNotFound if it is gone.
	UpdateIdentity(ctx context.Context, id *Identity) error
	// DeleteIdentity removes the identity and its logins. ErrNotFound if it
	// is gone.
	DeleteIdentity(ctx context.Context, id string) error
	// LinkLogin links a login that is not linked yet. ErrExists if it is
	// linked (to any identity); ErrNotFound if the identity is gone.
	LinkLogin(ctx context.Context, l Login) error
	// RelinkLogin moves a linked login to l.IdentityID. ErrNotFound if the
	// login is not linked or the identity is gone.
	RelinkLogin(ctx context.Context, l Login) error
	// UnlinkLogin removes a login. ErrNotFound if it is not linked.
	UnlinkLogin(ctx context.Context, poolID, provider, subject string) error

	// InsertSigningKey stores a new key. ErrExists if the id is taken.
	InsertSigningKey(ctx context.Context, k *SigningKey) error
	// RetireSigningKey sets the key's RetiresAt if it has none yet.
	// ErrConflict if it was already retired, ErrNotFound if it is gone.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	// DeleteSigningKey removes a key. ErrNotFound if it is gone.
	DeleteSigningKey(ctx context.Context, id string) error
}

// Store is the durable state of idpool. Every method is safe for concurrent
// use, also by several processes sharing one database.
type Store interface {
	Reader
	// Update runs fn in a serializable read-write transaction and commits
	// it if fn returns nil. When Update returns nil the writes are durable.
	// fn may be called more than once (a backend retries transactions that
	// lost a serialization race), so it must not have effects outside tx.
	// An error returned by fn is returned unchanged.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// CreateIdentity stores a new identity without logins (a guest) and
	// returns once it is durable, like an Update that only calls
	// InsertIdentity; backends may batch many of them into one statement.
	// ErrExists if the id is taken, ErrNotFound if the pool is gone.
	CreateIdentity(ctx context.Context, id *Identity) error
	// Ping reports whether the store answers a read (nil), or why not;
	// readiness checks ask it.
	Ping(ctx context.Context) error
	// Close releases the store. In-flight calls finish first.
	Close() error
}
