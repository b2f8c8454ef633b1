package store

import "encoding/json"

// poolConfig is the JSON document a backend stores for a pool's
// configuration. Its field names are part of the on-disk format: rename
// one only with a migration.
type poolConfig struct {
	Name                      string                     `json:"name"`
	AllowUnauthenticated      bool                       `json:"allowUnauthenticated"`
	AllowClassicFlow          *bool                      `json:"allowClassicFlow,omitempty"`
	SupportedLoginProviders   map[string]string          `json:"supportedLoginProviders,omitempty"`
	DeveloperProviderName     string                     `json:"developerProviderName,omitempty"`
	OpenIDConnectProviderARNs []string                   `json:"openIdConnectProviderArns,omitempty"`
	CognitoIdentityProviders  []CognitoProvider          `json:"cognitoIdentityProviders,omitempty"`
	SAMLProviderARNs          []string                   `json:"samlProviderArns,omitempty"`
	Tags                      map[string]string          `json:"tags,omitempty"`
	Roles                     map[string]string          `json:"roles,omitempty"`
	RoleMappings              map[string]RoleMapping     `json:"roleMappings,omitempty"`
	PrincipalTags             map[string]PrincipalTagMap `json:"principalTags,omitempty"`
}

// MarshalPoolConfig encodes the configuration part of a pool (everything but
// its keys, owner, times and version) for a backend to store.
func MarshalPoolConfig(p *Pool) ([]byte, error) {
	return json.Marshal(poolConfig{
		Name:                      p.Name,
		AllowUnauthenticated:      p.AllowUnauthenticated,
		AllowClassicFlow:          p.AllowClassicFlow,
		SupportedLoginProviders:   p.SupportedLoginProviders,
		DeveloperProviderName:     p.DeveloperProviderName,
		OpenIDConnectProviderARNs: p.OpenIDConnectProviderARNs,
		CognitoIdentityProviders:  p.CognitoIdentityProviders,
		SAMLProviderARNs:          p.SAMLProviderARNs,
		Tags:                      p.Tags,
		Roles:                     p.Roles,
		RoleMappings:              p.RoleMappings,
		PrincipalTags:             p.PrincipalTags,
	})
}

// UnmarshalPoolConfig decodes what MarshalPoolConfig produced into p.
func UnmarshalPoolConfig(data []byte, p *Pool) error {
	var c poolConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	p.Name = c.Name
	p.AllowUnauthenticated = c.AllowUnauthenticated
	p.AllowClassicFlow = c.AllowClassicFlow
	p.SupportedLoginProviders = c.SupportedLoginProviders
	p.DeveloperProviderName = c.DeveloperProviderName
	p.OpenIDConnectProviderARNs = c.OpenIDConnectProviderARNs
	p.CognitoIdentityProviders = c.CognitoIdentityProviders
	p.SAMLProviderARNs = c.SAMLProviderARNs
	p.Tags = c.Tags
	p.Roles = c.Roles
	p.RoleMappings = c.RoleMappings
	p.PrincipalTags = c.PrincipalTags
	return nil
}
