package idpooltest

// Seed is a seed written in Go: the identity pools a server starts with.
// It is the seed file format (idpool serve --seed) as types: members left
// empty are left out of the pool, except AllowUnauthenticatedIdentities,
// which CreateIdentityPool requires.
type Seed struct {
	Pools []Pool `json:"pools"`
}

// Pool is one seeded identity pool. Its members are named as the API names
// them: those of CreateIdentityPool, IdentityPoolId and the owner's
// AccountId, Roles and RoleMappings as SetIdentityPoolRoles takes them,
// PrincipalTags per provider as SetPrincipalTagAttributeMap takes them, and
// developer users whose identities have fixed ids.
type Pool struct {
	// IdentityPoolId is "<region>:<uuid>" (lower case); the region is the
	// pool's.
	IdentityPoolId string `json:"IdentityPoolId"`
	// AccountId is the 12-digit owner; the server's default account when
	// empty.
	AccountId string `json:"AccountId,omitempty"`

	IdentityPoolName               string                    `json:"IdentityPoolName"`
	AllowUnauthenticatedIdentities bool                      `json:"AllowUnauthenticatedIdentities"`
	AllowClassicFlow               *bool                     `json:"AllowClassicFlow,omitempty"`
	SupportedLoginProviders        map[string]string         `json:"SupportedLoginProviders,omitempty"`
	DeveloperProviderName          string                    `json:"DeveloperProviderName,omitempty"`
	OpenIdConnectProviderARNs      []string                  `json:"OpenIdConnectProviderARNs,omitempty"`
	CognitoIdentityProviders       []CognitoIdentityProvider `json:"CognitoIdentityProviders,omitempty"`
	SamlProviderARNs               []string                  `json:"SamlProviderARNs,omitempty"`
	IdentityPoolTags               map[string]string         `json:"IdentityPoolTags,omitempty"`

	// Roles maps "authenticated" and "unauthenticated" to role ARNs.
	Roles        map[string]string      `json:"Roles,omitempty"`
	RoleMappings map[string]RoleMapping `json:"RoleMappings,omitempty"`
	// PrincipalTags maps a provider name to its attribute map.
	PrincipalTags  map[string]PrincipalTagMap `json:"PrincipalTags,omitempty"`
	DeveloperUsers []DeveloperUser            `json:"DeveloperUsers,omitempty"`
}

// CognitoIdentityProvider is a user pool app client a pool trusts.
type CognitoIdentityProvider struct {
	ProviderName         string `json:"ProviderName"`
	ClientId             string `json:"ClientId"`
	ServerSideTokenCheck *bool  `json:"ServerSideTokenCheck,omitempty"`
}

// RoleMapping chooses the roles of one provider's users.
type RoleMapping struct {
	Type                    string              `json:"Type"` // Token or Rules
	AmbiguousRoleResolution string              `json:"AmbiguousRoleResolution,omitempty"`
	RulesConfiguration      *RulesConfiguration `json:"RulesConfiguration,omitempty"`
}

// RulesConfiguration holds the rules of a Rules role mapping, in order.
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

// PrincipalTagMap is one provider's attributes for access control.
type PrincipalTagMap struct {
	UseDefaults   *bool             `json:"UseDefaults,omitempty"`
	PrincipalTags map[string]string `json:"PrincipalTags,omitempty"`
}

// DeveloperUser is a user of the pool's developer provider, linked to an
// identity whose id is fixed ("<pool's region>:<uuid>").
type DeveloperUser struct {
	IdentityId              string `json:"IdentityId"`
	DeveloperUserIdentifier string `json:"DeveloperUserIdentifier"`
}
