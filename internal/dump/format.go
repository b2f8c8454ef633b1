package dump

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// Format and Version name the stream in its header line. A reader refuses
// any other format, and any version it does not know.
const (
	Format  = "idpool-export"
	Version = 1
)

// The type of each record line after the header.
const (
	typeKey      = "key"
	typePool     = "pool"
	typeIdentity = "identity"
	typeEnd      = "end"
)

// Header is the first line of a stream.
type Header struct {
	Format   string    `json:"format"`
	Version  int       `json:"version"`
	Exported time.Time `json:"exported"`
}

// Counts are the records of a stream (or of one part of an import).
type Counts struct {
	Keys       int `json:"keys"`
	Pools      int `json:"pools"`
	Identities int `json:"identities"`
	Logins     int `json:"logins"`
}

func (c Counts) String() string {
	return fmt.Sprintf("%d signing keys, %d pools, %d identities (%d logins)", c.Keys, c.Pools, c.Identities, c.Logins)
}

func (c *Counts) add(o Counts) {
	c.Keys += o.Keys
	c.Pools += o.Pools
	c.Identities += o.Identities
	c.Logins += o.Logins
}

// The field names below are the format: version 1 is what they spell.
// They are this package's own types, not the store's, so that a change
// to the store's records or their on-disk encoding cannot change the
// format unnoticed.

// keyRecord is a signing key, still sealed.
type keyRecord struct {
	Type    string     `json:"type"`
	ID      string     `json:"id"`
	Sealed  []byte     `json:"sealed"` // base64, as encoding/json writes []byte
	Created time.Time  `json:"created"`
	Retires *time.Time `json:"retires,omitempty"`
}

// poolRecord is an identity pool with its whole configuration.
type poolRecord struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Account string `json:"account"`
	Region  string `json:"region"`

	Name                      string                     `json:"name"`
	AllowUnauthenticated      bool                       `json:"allowUnauthenticated"`
	AllowClassicFlow          *bool                      `json:"allowClassicFlow,omitempty"`
	SupportedLoginProviders   map[string]string          `json:"supportedLoginProviders,omitempty"`
	DeveloperProviderName     string                     `json:"developerProviderName,omitempty"`
	OpenIDConnectProviderARNs []string                   `json:"openIdConnectProviderArns,omitempty"`
	CognitoIdentityProviders  []cognitoProvider          `json:"cognitoIdentityProviders,omitempty"`
	SAMLProviderARNs          []string                   `json:"samlProviderArns,omitempty"`
	Tags                      map[string]string          `json:"tags,omitempty"`
	Roles                     map[string]string          `json:"roles,omitempty"`
	RoleMappings              map[string]roleMapping     `json:"roleMappings,omitempty"`
	PrincipalTags             map[string]principalTagMap `json:"principalTags,omitempty"`

	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

type cognitoProvider struct {
	ProviderName         string `json:"ProviderName"`
	ClientID             string `json:"ClientId"`
	ServerSideTokenCheck *bool  `json:"ServerSideTokenCheck,omitempty"`
}

type roleMapping struct {
	Type                    string              `json:"Type"`
	AmbiguousRoleResolution string              `json:"AmbiguousRoleResolution,omitempty"`
	RulesConfiguration      *rulesConfiguration `json:"RulesConfiguration,omitempty"`
}

type rulesConfiguration struct {
	Rules []mappingRule `json:"Rules"`
}

type mappingRule struct {
	Claim     string `json:"Claim"`
	MatchType string `json:"MatchType"`
	Value     string `json:"Value"`
	RoleARN   string `json:"RoleARN"`
}

type principalTagMap struct {
	UseDefaults   *bool             `json:"UseDefaults,omitempty"`
	PrincipalTags map[string]string `json:"PrincipalTags,omitempty"`
}

// identityRecord is an identity with its logins; a developer user is a
// login of the pool's developer provider.
type identityRecord struct {
	Type     string        `json:"type"`
	ID       string        `json:"id"`
	Pool     string        `json:"pool"`
	Created  time.Time     `json:"created"`
	Updated  time.Time     `json:"updated"`
	Disabled bool          `json:"disabled,omitempty"`
	Logins   []loginRecord `json:"logins,omitempty"`
}

type loginRecord struct {
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
}

// endRecord is the trailer: what the stream holds.
type endRecord struct {
	Type string `json:"type"`
	Counts
}

// utc is t in UTC, so that the text of a time does not depend on the
// location a backend returns it in.
func utc(t time.Time) time.Time { return t.UTC() }

func keyToRecord(k *store.SigningKey) *keyRecord {
	r := &keyRecord{Type: typeKey, ID: k.ID, Sealed: k.Sealed, Created: utc(k.CreatedAt)}
	if k.RetiresAt != nil {
		at := utc(*k.RetiresAt)
		r.Retires = &at
	}
	return r
}

func (r *keyRecord) key() *store.SigningKey {
	k := &store.SigningKey{ID: r.ID, Sealed: r.Sealed, CreatedAt: utc(r.Created)}
	if r.Retires != nil {
		at := utc(*r.Retires)
		k.RetiresAt = &at
	}
	return k
}

func poolToRecord(p *store.Pool) *poolRecord {
	r := &poolRecord{
		Type: typePool, ID: p.ID, Account: p.Account, Region: p.Region,
		Name:                      p.Name,
		AllowUnauthenticated:      p.AllowUnauthenticated,
		AllowClassicFlow:          p.AllowClassicFlow,
		SupportedLoginProviders:   p.SupportedLoginProviders,
		DeveloperProviderName:     p.DeveloperProviderName,
		OpenIDConnectProviderARNs: p.OpenIDConnectProviderARNs,
		SAMLProviderARNs:          p.SAMLProviderARNs,
		Tags:                      p.Tags,
		Roles:                     p.Roles,
		Created:                   utc(p.CreatedAt),
		Updated:                   utc(p.UpdatedAt),
	}
	for _, c := range p.CognitoIdentityProviders {
		r.CognitoIdentityProviders = append(r.CognitoIdentityProviders, cognitoProvider(c))
	}
	if p.RoleMappings != nil {
		r.RoleMappings = make(map[string]roleMapping, len(p.RoleMappings))
		for k, m := range p.RoleMappings {
			rm := roleMapping{Type: m.Type, AmbiguousRoleResolution: m.AmbiguousRoleResolution}
			if m.RulesConfiguration != nil {
				rm.RulesConfiguration = &rulesConfiguration{Rules: []mappingRule{}}
				for _, rule := range m.RulesConfiguration.Rules {
					rm.RulesConfiguration.Rules = append(rm.RulesConfiguration.Rules, mappingRule(rule))
				}
			}
			r.RoleMappings[k] = rm
		}
	}
	if p.PrincipalTags != nil {
		r.PrincipalTags = make(map[string]principalTagMap, len(p.PrincipalTags))
		for k, m := range p.PrincipalTags {
			r.PrincipalTags[k] = principalTagMap(m)
		}
	}
	return r
}

func (r *poolRecord) pool() *store.Pool {
	p := &store.Pool{
		ID: r.ID, Account: r.Account, Region: r.Region,
		Name:                      r.Name,
		AllowUnauthenticated:      r.AllowUnauthenticated,
		AllowClassicFlow:          r.AllowClassicFlow,
		SupportedLoginProviders:   r.SupportedLoginProviders,
		DeveloperProviderName:     r.DeveloperProviderName,
		OpenIDConnectProviderARNs: r.OpenIDConnectProviderARNs,
		SAMLProviderARNs:          r.SAMLProviderARNs,
		Tags:                      r.Tags,
		Roles:                     r.Roles,
		CreatedAt:                 utc(r.Created),
		UpdatedAt:                 utc(r.Updated),
	}
	for _, c := range r.CognitoIdentityProviders {
		p.CognitoIdentityProviders = append(p.CognitoIdentityProviders, store.CognitoProvider(c))
	}
	if r.RoleMappings != nil {
		p.RoleMappings = make(map[string]store.RoleMapping, len(r.RoleMappings))
		for k, m := range r.RoleMappings {
			sm := store.RoleMapping{Type: m.Type, AmbiguousRoleResolution: m.AmbiguousRoleResolution}
			if m.RulesConfiguration != nil {
				sm.RulesConfiguration = &store.RulesConfiguration{Rules: []store.MappingRule{}}
				for _, rule := range m.RulesConfiguration.Rules {
					sm.RulesConfiguration.Rules = append(sm.RulesConfiguration.Rules, store.MappingRule(rule))
				}
			}
			p.RoleMappings[k] = sm
		}
	}
	if r.PrincipalTags != nil {
		p.PrincipalTags = make(map[string]store.PrincipalTagMap, len(r.PrincipalTags))
		for k, m := range r.PrincipalTags {
			p.PrincipalTags[k] = store.PrincipalTagMap(m)
		}
	}
	return p
}

func identityToRecord(id *store.Identity) *identityRecord {
	r := &identityRecord{Type: typeIdentity, ID: id.ID, Pool: id.PoolID, Created: utc(id.CreatedAt), Updated: utc(id.UpdatedAt), Disabled: id.Disabled}
	for _, l := range id.Logins {
		r.Logins = append(r.Logins, loginRecord{Provider: l.Provider, Subject: l.Subject})
	}
	// The store's order; sorted here too so that two records of the same
	// identity compare equal however they were made.
	slices.SortFunc(r.Logins, func(a, b loginRecord) int {
		return cmp.Or(strings.Compare(a.Provider, b.Provider), strings.Compare(a.Subject, b.Subject))
	})
	return r
}

func (r *identityRecord) identity() *store.Identity {
	id := &store.Identity{ID: r.ID, PoolID: r.Pool, CreatedAt: utc(r.Created), UpdatedAt: utc(r.Updated), Disabled: r.Disabled}
	for _, l := range r.Logins {
		id.Logins = append(id.Logins, store.Login{PoolID: r.Pool, Provider: l.Provider, Subject: l.Subject, IdentityID: r.ID})
	}
	return id
}
