package cognito

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/store"
)

// Limits of the pool configuration (docs/behaviour.md §10).
const (
	maxTags              = 50
	maxUserPoolProviders = 50
	maxRulesPerProvider  = 25
	// maxPrincipalTagAttributeBytes bounds the attribute names of one
	// provider's principal-tag map together (the console's limit).
	maxPrincipalTagAttributeBytes = 460
)

// publicProviders are the keys SupportedLoginProviders accepts.
var publicProviders = []string{
	"graph.facebook.com", "accounts.google.com", "www.amazon.com",
	"api.twitter.com", "www.digits.com", "appleid.apple.com",
}

var (
	oidcARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/(.+)$`)
	samlARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:saml-provider/[\w+=,.@-]+$`)
	// tagText is what AWS allows in tag keys and values.
	tagText = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// poolConfig is the part of a pool that CreateIdentityPool and
// UpdateIdentityPool set.
type poolConfig struct {
	name                 string
	allowUnauthenticated bool
	allowClassicFlow     *bool
	loginProviders       map[string]string
	developerProvider    string
	oidcProviders        []string
	userPoolProviders    []CognitoIdentityProvider
	samlProviders        []string
	tags                 map[string]string
}

// configOf reads the configuration members of a pool (the input of
// UpdateIdentityPool, or of CreateIdentityPool).
func configOf(in *IdentityPool) poolConfig {
	return poolConfig{
		name:                 in.IdentityPoolName,
		allowUnauthenticated: in.AllowUnauthenticatedIdentities,
		allowClassicFlow:     in.AllowClassicFlow,
		loginProviders:       in.SupportedLoginProviders,
		developerProvider:    in.DeveloperProviderName,
		oidcProviders:        in.OpenIdConnectProviderARNs,
		userPoolProviders:    in.CognitoIdentityProviders,
		samlProviders:        in.SamlProviderARNs,
		tags:                 in.IdentityPoolTags,
	}
}

// check applies the business rules the model cannot express.
func (c *poolConfig) check() error {
	for key := range c.loginProviders {
		if !slices.Contains(publicProviders, key) {
			// Choice: AWS's text for an unknown key is not known; this one
			// names the key and the accepted ones.
			return apierr.Errorf(apierr.InvalidParameter, "%s is not a supported login provider. Supported login providers are %s.",
				key, strings.Join(publicProviders, ", "))
		}
	}
	if len(c.userPoolProviders) > maxUserPoolProviders {
		return apierr.Errorf(apierr.LimitExceeded, "An identity pool can have at most %d Cognito user pool providers.", maxUserPoolProviders)
	}
	for _, up := range c.userPoolProviders {
		if up.ProviderName == "" || up.ClientId == "" {
			return apierr.New(apierr.InvalidParameter, "Invalid Cognito Identity Provider")
		}
	}
	for _, arn := range c.oidcProviders {
		if !oidcARN.MatchString(arn) {
			return apierr.Errorf(apierr.InvalidParameter, "Invalid OpenIdConnectProviderARN: %s. Expected arn:aws:iam::<account>:oidc-provider/<issuer>.", arn)
		}
	}
	for _, arn := range c.samlProviders {
		if !samlARN.MatchString(arn) {
			return apierr.Errorf(apierr.InvalidParameter, "Invalid SamlProviderARN: %s. Expected arn:aws:iam::<account>:saml-provider/<name>.", arn)
		}
	}
	if c.tags != nil {
		return checkTags(c.tags, nil, apierr.LimitExceeded)
	}
	return nil
}

// checkTags checks tags to be added to a pool that already has existing.
// Too many tags is tooMany: LimitExceededException where the operation
// models it (Create/UpdateIdentityPool), InvalidParameterException for
// TagResource, whose model does not.
func checkTags(add, existing map[string]string, tooMany apierr.Code) error {
	for k, v := range add {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return apierr.Errorf(apierr.InvalidParameter, "Tag key '%s' uses the reserved prefix 'aws:'.", k)
		}
		if !tagText.MatchString(k) {
			return apierr.Errorf(apierr.InvalidParameter, "Tag key '%s' contains characters that are not allowed. Use letters, numbers, spaces and _ . : / = + - @.", k)
		}
		if !tagText.MatchString(v) {
			return apierr.Errorf(apierr.InvalidParameter, "Tag value '%s' contains characters that are not allowed. Use letters, numbers, spaces and _ . : / = + - @.", v)
		}
	}
	n := len(existing)
	for k := range add {
		if _, ok := existing[k]; !ok {
			n++
		}
	}
	if n > maxTags {
		return apierr.Errorf(tooMany, "An identity pool can have at most %d tags.", maxTags)
	}
	return nil
}

func (c *poolConfig) apply(p *store.Pool) {
	p.Name = c.name
	p.AllowUnauthenticated = c.allowUnauthenticated
	p.AllowClassicFlow = c.allowClassicFlow
	p.SupportedLoginProviders = nilIfEmpty(c.loginProviders)
	p.OpenIDConnectProviderARNs = nilIfEmptySlice(c.oidcProviders)
	p.SAMLProviderARNs = nilIfEmptySlice(c.samlProviders)
	p.CognitoIdentityProviders = nil
	for _, up := range c.userPoolProviders {
		p.CognitoIdentityProviders = append(p.CognitoIdentityProviders, store.CognitoProvider{
			ProviderName: up.ProviderName, ClientID: up.ClientId, ServerSideTokenCheck: up.ServerSideTokenCheck,
		})
	}
	if c.developerProvider != "" {
		p.DeveloperProviderName = c.developerProvider
	}
	if c.tags != nil {
		p.Tags = nilIfEmpty(c.tags)
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nilIfEmptySlice(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func poolOutput(p *store.Pool) *IdentityPool {
	out := &IdentityPool{IdentityPoolId: p.ID, PoolSettings: PoolSettings{
		IdentityPoolName:               p.Name,
		AllowUnauthenticatedIdentities: p.AllowUnauthenticated,
		AllowClassicFlow:               p.AllowClassicFlow,
		SupportedLoginProviders:        p.SupportedLoginProviders,
		DeveloperProviderName:          p.DeveloperProviderName,
		OpenIdConnectProviderARNs:      p.OpenIDConnectProviderARNs,
		SamlProviderARNs:               p.SAMLProviderARNs,
		IdentityPoolTags:               p.Tags,
	}}
	if out.IdentityPoolTags == nil {
		out.IdentityPoolTags = map[string]string{}
	}
	for _, up := range p.CognitoIdentityProviders {
		// Choice: an unset ServerSideTokenCheck reads back as false, as in
		// AWS's CLI examples.
		check := up.ServerSideTokenCheck
		if check == nil {
			check = new(bool)
		}
		out.CognitoIdentityProviders = append(out.CognitoIdentityProviders, CognitoIdentityProvider{
			ProviderName: up.ProviderName, ClientId: up.ClientID, ServerSideTokenCheck: check,
		})
	}
	return out
}

// CreateIdentityPool creates a pool in the caller's account and region.
func (s *Service) CreateIdentityPool(ctx context.Context, in *CreateIdentityPoolInput) (*IdentityPool, error) {
	cfg := configOf(&IdentityPool{PoolSettings: in.PoolSettings})
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c := caller.From(ctx)
	region := s.region(c)
	id, err := s.newID(region)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p := &store.Pool{ID: id, Account: c.Account, Region: region, CreatedAt: now, UpdatedAt: now}
	cfg.apply(p)
	err = s.store.Update(ctx, func(tx store.Tx) error {
		n, err := tx.CountPools(ctx, p.Account, p.Region)
		if err != nil {
			return err
		}
		if n >= s.maxPools {
			return apierr.Errorf(apierr.LimitExceeded, "The maximum number of identity pools (%d) for this account in %s has been reached.", s.maxPools, region)
		}
		return tx.InsertPool(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, event{action: auditPoolCreate, account: p.Account, pool: p.ID})
	return poolOutput(p), nil
}

// DescribeIdentityPool returns a pool's configuration.
func (s *Service) DescribeIdentityPool(ctx context.Context, in *DescribeIdentityPoolInput) (*IdentityPool, error) {
	p, err := s.readPool(ctx, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	return poolOutput(p), nil
}

func concurrentModification() error {
	return apierr.New(apierr.ConcurrentModification, "The identity pool was modified by another request at the same time. Retry the request.")
}

// casPool reads a pool, lets change edit it, and stores it if nobody else
// changed it meanwhile; a lost race is ConcurrentModificationException, as
// for two UpdateIdentityPool calls racing at AWS.
func (s *Service) casPool(ctx context.Context, id string, change func(p *store.Pool) error) (*store.Pool, error) {
	p, err := s.ownedPool(ctx, s.store, id)
	if err != nil {
		return nil, err
	}
	if err := change(p); err != nil {
		return nil, err
	}
	p.UpdatedAt = s.now()
	err = s.store.Update(ctx, func(tx store.Tx) error { return tx.UpdatePool(ctx, p) })
	s.pools.forget(id)
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, concurrentModification()
	case errors.Is(err, store.ErrNotFound):
		return nil, poolNotFound(id)
	case err != nil:
		return nil, err
	}
	return p, nil
}

// editPool changes the pool that find returns inside one transaction;
// unlike casPool it never fails for a concurrent change (used for tags and
// principal-tag maps, where merging with other changes is safe).
func (s *Service) editPool(ctx context.Context, find func(store.Reader) (*store.Pool, error), change func(p *store.Pool) error) (*store.Pool, error) {
	var out *store.Pool
	err := s.store.Update(ctx, func(tx store.Tx) error {
		p, err := find(tx)
		if err != nil {
			return err
		}
		if err := change(p); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		if err := tx.UpdatePool(ctx, p); err != nil {
			return err
		}
		out = p
		return nil
	})
	if out != nil {
		s.pools.forget(out.ID)
	}
	if errors.Is(err, store.ErrConflict) {
		// Only a backend without serializable transactions gets here.
		return nil, concurrentModification()
	}
	return out, err
}

// UpdateIdentityPool replaces a pool's configuration.
func (s *Service) UpdateIdentityPool(ctx context.Context, in *IdentityPool) (*IdentityPool, error) {
	cfg := configOf(in)
	if err := cfg.check(); err != nil {
		return nil, err
	}
	p, err := s.casPool(ctx, in.IdentityPoolId, func(p *store.Pool) error {
		if p.DeveloperProviderName != "" && cfg.developerProvider != "" && cfg.developerProvider != p.DeveloperProviderName {
			// Choice: AWS documents the rule but not its text.
			return apierr.Errorf(apierr.InvalidParameter, "The developer provider name of an identity pool cannot be changed once it is set (it is %s).", p.DeveloperProviderName)
		}
		// Full replacement: what the request leaves out is reset. An
		// omitted DeveloperProviderName keeps the stored one (it cannot be
		// unset), and omitted IdentityPoolTags leave the tags alone.
		cfg.apply(p)
		// Choice: role mappings of providers the update removed are
		// dropped, so that the stored mappings always name configured
		// providers (SetIdentityPoolRoles' rule).
		keys := mappingKeys(p)
		for k := range p.RoleMappings {
			if !keys[k] {
				delete(p.RoleMappings, k)
			}
		}
		if len(p.RoleMappings) == 0 {
			p.RoleMappings = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, event{action: auditPoolUpdate, account: p.Account, pool: p.ID})
	return poolOutput(p), nil
}

// DeleteIdentityPool removes a pool and everything under it.
func (s *Service) DeleteIdentityPool(ctx context.Context, in *DeleteIdentityPoolInput) (*Empty, error) {
	p, err := s.ownedPool(ctx, s.store, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error { return tx.DeletePool(ctx, in.IdentityPoolId) })
	s.pools.forget(in.IdentityPoolId)
	if errors.Is(err, store.ErrNotFound) {
		return nil, poolNotFound(in.IdentityPoolId)
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, event{action: auditPoolDelete, account: p.Account, pool: p.ID})
	return &Empty{}, nil
}

// Pagination tokens are opaque to clients: base64url of "<unix nanos>|<id>",
// the keyset position after the last item of the page.

func encodeCursor(createdAt time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(createdAt.UnixNano(), 10) + "|" + id))
}

func invalidToken() error {
	// Choice: AWS's text for a bad token is not known.
	return apierr.New(apierr.InvalidParameter, "The NextToken is not valid. Use the NextToken returned by the previous call.")
}

func decodeCursor(tok string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return time.Time{}, "", invalidToken()
	}
	ns, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", invalidToken()
	}
	return time.Unix(0, n), id, nil
}

// ListIdentityPools pages through the caller's pools in creation order.
func (s *Service) ListIdentityPools(ctx context.Context, in *ListIdentityPoolsInput) (*ListIdentityPoolsResponse, error) {
	var after *store.PoolCursor
	if in.NextToken != "" {
		at, id, err := decodeCursor(in.NextToken)
		if err != nil {
			return nil, err
		}
		after = &store.PoolCursor{CreatedAt: at, ID: id}
	}
	c := caller.From(ctx)
	region := ""
	if c.Region != "" {
		region = s.region(c)
	}
	limit := int(in.MaxResults)
	pools, err := s.store.ListPools(ctx, c.Account, region, after, limit+1)
	if err != nil {
		return nil, err
	}
	out := &ListIdentityPoolsResponse{IdentityPools: []IdentityPoolShortDescription{}}
	if len(pools) > limit {
		pools = pools[:limit]
		last := pools[limit-1]
		out.NextToken = encodeCursor(last.CreatedAt, last.ID)
	}
	for _, p := range pools {
		out.IdentityPools = append(out.IdentityPools, IdentityPoolShortDescription{IdentityPoolId: p.ID, IdentityPoolName: p.Name})
	}
	return out, nil
}

// mappingKeys are the names a RoleMappings key may take for a pool: public
// provider domains, "<user pool provider>:<client id>", OIDC issuers as
// written in Logins (the ARN's part after oidc-provider/), and SAML ARNs.
func mappingKeys(p *store.Pool) map[string]bool {
	keys := map[string]bool{}
	for k := range p.SupportedLoginProviders {
		keys[k] = true
	}
	for _, up := range p.CognitoIdentityProviders {
		keys[up.ProviderName+":"+up.ClientID] = true
	}
	for _, arn := range p.OpenIDConnectProviderARNs {
		if m := oidcARN.FindStringSubmatch(arn); m != nil {
			keys[m[1]] = true
		}
	}
	for _, arn := range p.SAMLProviderARNs {
		keys[arn] = true
	}
	return keys
}

// providerNames are the provider names of a pool as they appear as Logins
// keys: public providers, user pool providers, OIDC issuers, SAML ARNs.
func providerNames(p *store.Pool) map[string]bool {
	names := map[string]bool{}
	for k := range p.SupportedLoginProviders {
		names[k] = true
	}
	for _, up := range p.CognitoIdentityProviders {
		names[up.ProviderName] = true
	}
	for _, arn := range p.OpenIDConnectProviderARNs {
		if m := oidcARN.FindStringSubmatch(arn); m != nil {
			names[m[1]] = true
		}
	}
	for _, arn := range p.SAMLProviderARNs {
		names[arn] = true
	}
	return names
}

// checkRoleMappings applies SetIdentityPoolRoles' rules that need no pool.
func checkRoleMappings(mappings map[string]RoleMapping) error {
	for key, m := range mappings {
		if m.Type == "Rules" && m.RulesConfiguration == nil {
			return apierr.Errorf(apierr.InvalidParameter, "RulesConfiguration is required for the role mapping of %s, whose Type is Rules.", key)
		}
		if m.AmbiguousRoleResolution == "" {
			return apierr.Errorf(apierr.InvalidParameter, "AmbiguousRoleResolution is required for the role mapping of %s.", key)
		}
		if m.RulesConfiguration != nil && len(m.RulesConfiguration.Rules) > maxRulesPerProvider {
			// SetIdentityPoolRoles does not model LimitExceededException, so
			// SDKs could not type it; InvalidParameterException instead.
			return apierr.Errorf(apierr.InvalidParameter, "The role mapping of %s has %d rules; at most %d rules are allowed per identity provider.",
				key, len(m.RulesConfiguration.Rules), maxRulesPerProvider)
		}
	}
	return nil
}

// checkMappingKeys checks that every role mapping names a provider the
// pool is configured with.
func checkMappingKeys(p *store.Pool, mappings map[string]RoleMapping) error {
	keys := mappingKeys(p)
	for _, key := range slices.Sorted(maps.Keys(mappings)) {
		if !keys[key] {
			return apierr.Errorf(apierr.InvalidParameter, "%s is not a valid RoleMapping ProviderName or is not a configured provider.", key)
		}
	}
	return nil
}

// setRoles stores default roles and role mappings in p, replacing what it
// had.
func setRoles(p *store.Pool, roles map[string]string, mappings map[string]RoleMapping) {
	p.Roles = nilIfEmpty(roles)
	p.RoleMappings = nil
	for key, m := range mappings {
		if p.RoleMappings == nil {
			p.RoleMappings = map[string]store.RoleMapping{}
		}
		sm := store.RoleMapping{Type: m.Type, AmbiguousRoleResolution: m.AmbiguousRoleResolution}
		if m.RulesConfiguration != nil {
			sm.RulesConfiguration = &store.RulesConfiguration{}
			for _, r := range m.RulesConfiguration.Rules {
				sm.RulesConfiguration.Rules = append(sm.RulesConfiguration.Rules, store.MappingRule(r))
			}
		}
		p.RoleMappings[key] = sm
	}
}

// SetIdentityPoolRoles replaces a pool's default roles and role mappings.
func (s *Service) SetIdentityPoolRoles(ctx context.Context, in *SetIdentityPoolRolesInput) (*Empty, error) {
	if err := checkRoleMappings(in.RoleMappings); err != nil {
		return nil, err
	}
	p, err := s.casPool(ctx, in.IdentityPoolId, func(p *store.Pool) error {
		if err := checkMappingKeys(p, in.RoleMappings); err != nil {
			return err
		}
		setRoles(p, in.Roles, in.RoleMappings)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, event{action: auditPoolSetRoles, account: p.Account, pool: p.ID})
	return &Empty{}, nil
}

// GetIdentityPoolRoles returns what SetIdentityPoolRoles stored.
func (s *Service) GetIdentityPoolRoles(ctx context.Context, in *GetIdentityPoolRolesInput) (*GetIdentityPoolRolesResponse, error) {
	p, err := s.readPool(ctx, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	// Choice: Roles is sent as {} for a pool without roles.
	out := &GetIdentityPoolRolesResponse{IdentityPoolId: p.ID, Roles: p.Roles}
	if out.Roles == nil {
		out.Roles = map[string]string{}
	}
	for key, m := range p.RoleMappings {
		if out.RoleMappings == nil {
			out.RoleMappings = map[string]RoleMapping{}
		}
		rm := RoleMapping{Type: m.Type, AmbiguousRoleResolution: m.AmbiguousRoleResolution}
		if m.RulesConfiguration != nil {
			rm.RulesConfiguration = &RulesConfigurationType{Rules: []MappingRule{}}
			for _, r := range m.RulesConfiguration.Rules {
				rm.RulesConfiguration.Rules = append(rm.RulesConfiguration.Rules, MappingRule(r))
			}
		}
		out.RoleMappings[key] = rm
	}
	return out, nil
}

// checkPrincipalTagSize bounds the attribute names of one provider's
// principal-tag map together.
func checkPrincipalTagSize(tags map[string]string) error {
	size := 0
	for _, attr := range tags {
		size += len(attr)
	}
	if size > maxPrincipalTagAttributeBytes {
		return apierr.Errorf(apierr.InvalidParameter, "The attribute names of the principal tags together must not exceed %d bytes.", maxPrincipalTagAttributeBytes)
	}
	return nil
}

// checkTagProvider checks that a principal-tag map names a provider the
// pool is configured with.
func checkTagProvider(p *store.Pool, provider string) error {
	if !providerNames(p)[provider] {
		// Choice: AWS's text for this refusal is not known.
		return apierr.Errorf(apierr.InvalidParameter, "%s is not a configured provider of this identity pool.", provider)
	}
	return nil
}

// SetPrincipalTagAttributeMap stores one provider's principal-tag mapping.
func (s *Service) SetPrincipalTagAttributeMap(ctx context.Context, in *SetPrincipalTagAttributeMapInput) (*SetPrincipalTagAttributeMapResponse, error) {
	if err := checkPrincipalTagSize(in.PrincipalTags); err != nil {
		return nil, err
	}
	find := func(r store.Reader) (*store.Pool, error) { return s.ownedPool(ctx, r, in.IdentityPoolId) }
	p, err := s.editPool(ctx, find, func(p *store.Pool) error {
		if err := checkTagProvider(p, in.IdentityProviderName); err != nil {
			return err
		}
		if p.PrincipalTags == nil {
			p.PrincipalTags = map[string]store.PrincipalTagMap{}
		}
		p.PrincipalTags[in.IdentityProviderName] = store.PrincipalTagMap{UseDefaults: in.UseDefaults, PrincipalTags: nilIfEmpty(in.PrincipalTags)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, event{action: auditPoolSetTagMap, account: p.Account, pool: p.ID, provider: in.IdentityProviderName})
	return principalTagOutput(p, in.IdentityProviderName), nil
}

func principalTagOutput(p *store.Pool, provider string) *GetPrincipalTagAttributeMapResponse {
	m := p.PrincipalTags[provider]
	useDefaults := m.UseDefaults
	if useDefaults == nil {
		useDefaults = new(bool)
	}
	return &GetPrincipalTagAttributeMapResponse{
		IdentityPoolId:       p.ID,
		IdentityProviderName: provider,
		UseDefaults:          useDefaults,
		PrincipalTags:        m.PrincipalTags,
	}
}

// GetPrincipalTagAttributeMap returns one provider's principal-tag mapping;
// a provider never configured reads as UseDefaults false and no tags.
func (s *Service) GetPrincipalTagAttributeMap(ctx context.Context, in *GetPrincipalTagAttributeMapInput) (*GetPrincipalTagAttributeMapResponse, error) {
	p, err := s.readPool(ctx, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	return principalTagOutput(p, in.IdentityProviderName), nil
}

// poolFromARN finds the pool named by an identity pool ARN
// arn:<partition>:cognito-identity:<region>:<account>:identitypool/<pool id>.
func poolFromARN(arn string) (id, region, account string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "cognito-identity" {
		return "", "", "", badARN(arn)
	}
	id, ok := strings.CutPrefix(parts[5], "identitypool/")
	if !ok || id == "" {
		return "", "", "", badARN(arn)
	}
	return id, parts[3], parts[4], nil
}

func badARN(arn string) error {
	return apierr.Errorf(apierr.InvalidParameter, "'%s' is not a valid identity pool ARN. Expected arn:aws:cognito-identity:<region>:<account>:identitypool/<identity pool id>.", arn)
}

// taggedPool checks that an ARN names a pool of the caller; its region and
// account must be the pool's.
func (s *Service) taggedPool(ctx context.Context, r store.Reader, arn string) (*store.Pool, error) {
	id, region, account, err := poolFromARN(arn)
	if err != nil {
		return nil, err
	}
	p, err := s.ownedPool(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if p.Region != region || p.Account != account {
		return nil, poolNotFound(id)
	}
	return p, nil
}

// TagResource adds or overwrites tags of a pool.
func (s *Service) TagResource(ctx context.Context, in *TagResourceInput) (*Empty, error) {
	find := func(r store.Reader) (*store.Pool, error) { return s.taggedPool(ctx, r, in.ResourceArn) }
	p, err := s.editPool(ctx, find, func(p *store.Pool) error {
		if err := checkTags(in.Tags, p.Tags, apierr.InvalidParameter); err != nil {
			return err
		}
		if p.Tags == nil {
			p.Tags = map[string]string{}
		}
		maps.Copy(p.Tags, in.Tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, event{action: auditPoolTag, account: p.Account, pool: p.ID})
	return &Empty{}, nil
}

// UntagResource removes tags from a pool; absent keys are ignored.
func (s *Service) UntagResource(ctx context.Context, in *UntagResourceInput) (*Empty, error) {
	find := func(r store.Reader) (*store.Pool, error) { return s.taggedPool(ctx, r, in.ResourceArn) }
	p, err := s.editPool(ctx, find, func(p *store.Pool) error {
		for _, k := range in.TagKeys {
			delete(p.Tags, k)
		}
		p.Tags = nilIfEmpty(p.Tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, event{action: auditPoolUntag, account: p.Account, pool: p.ID})
	return &Empty{}, nil
}

// ListTagsForResource returns all tags of a pool ({} when none).
func (s *Service) ListTagsForResource(ctx context.Context, in *ListTagsForResourceInput) (*ListTagsForResourceResponse, error) {
	p, err := s.taggedPool(ctx, s.store, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags := p.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return &ListTagsForResourceResponse{Tags: tags}, nil
}
