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

// Reader holds the queries that can run inside or outside a transaction.
type Reader interface {
	// GetPool returns the pool with the given id, or ErrNotFound.
	GetPool(ctx context.Context, id string) (*Pool, error)
	// ListPools returns up to limit pools of the account, in region (all
	// regions when region is ""), ordered by creation time then id,
	// starting after the cursor (from the beginning when after is nil).
	ListPools(ctx context.Context, account, region string, after *PoolCursor, limit int) ([]*Pool, error)
	// CountPools returns how many pools the account has in the region.
	CountPools(ctx context.Context, account, region string) (int, error)
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
	// Close releases the store. In-flight calls finish first.
	Close() error
}
