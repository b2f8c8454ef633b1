package cognito

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/tokens"
)

// Token lifetimes (docs/behaviour.md §5).
const (
	openIDTokenLifetime       = 10 * time.Minute
	defaultDeveloperTokenSecs = 900
)

// publicPool returns the pool of a public (unsigned) request: any caller
// may name any pool, the logins are the authority.
func (s *Service) publicPool(ctx context.Context, id string) (*store.Pool, error) {
	p, err := s.pools.get(ctx, s.store, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, poolNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	s.actsFor(ctx, p.Account)
	return p, nil
}

// publicIdentity returns an identity named by a public request and its
// pool. A disabled identity is forbidden.
func (s *Service) publicIdentity(ctx context.Context, id string) (*store.Identity, *store.Pool, error) {
	ident, err := s.store.GetIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, identityNotFound(id)
	}
	if err != nil {
		return nil, nil, err
	}
	p, err := s.pools.get(ctx, s.store, ident.PoolID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, identityNotFound(id)
	}
	if err != nil {
		return nil, nil, err
	}
	s.actsFor(ctx, p.Account)
	if ident.Disabled {
		return nil, nil, forbidden(id)
	}
	return ident, p, nil
}

// ownedIdentity returns an identity for a signed request: it must belong to
// a pool the caller owns.
func (s *Service) ownedIdentity(ctx context.Context, id string) (*store.Identity, *store.Pool, error) {
	ident, err := s.store.GetIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, identityNotFound(id)
	}
	if err != nil {
		return nil, nil, err
	}
	p, err := s.store.GetPool(ctx, ident.PoolID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.owns(caller.From(ctx), p)) {
		return nil, nil, identityNotFound(id)
	}
	if err != nil {
		return nil, nil, err
	}
	return ident, p, nil
}

func poolARN(p *store.Pool) string {
	return "arn:aws:cognito-identity:" + p.Region + ":" + p.Account + ":identitypool/" + p.ID
}

// amr lists the authentication methods of a token: "unauthenticated" for a
// guest, else "authenticated" followed by, for each login used, the
// provider and a provider-qualified user. Choice: the qualified form is
// "<provider>:<app id>:<user>" as observed for developer logins
// ("<provider>:<pool id>:<user>") and user pools
// ("<provider>:CognitoSignIn:<sub>"); providers without an app id use
// "<provider>:<user>".
func amr(p *store.Pool, logins []*federation.Login) []string {
	if len(logins) == 0 {
		return []string{"unauthenticated"}
	}
	out := []string{"authenticated"}
	for _, l := range logins {
		var qualified string
		switch {
		case l.Provider == p.DeveloperProviderName:
			qualified = l.Provider + ":" + p.ID + ":" + l.Subject
		case l.Kind == federation.UserPool:
			qualified = l.Provider + ":CognitoSignIn:" + l.Subject
		case l.Kind == federation.Public && p.SupportedLoginProviders[l.Provider] != "":
			qualified = l.Provider + ":" + p.SupportedLoginProviders[l.Provider] + ":" + l.Subject
		default:
			qualified = l.Provider + ":" + l.Subject
		}
		out = append(out, l.Provider, qualified)
	}
	return out
}

// token signs an OpenID token for an identity.
func (s *Service) token(p *store.Pool, identityID string, logins []*federation.Login, lifetime time.Duration, tags map[string]string) (string, error) {
	now := s.now()
	return s.issuer.Sign(tokens.Claims{
		Subject:       identityID,
		Audience:      p.ID,
		AMR:           amr(p, logins),
		PoolARN:       poolARN(p),
		PrincipalTags: tags,
		IssuedAt:      now,
		Expiry:        now.Add(lifetime),
	})
}

// GetId returns the identity of the request's logins, creating, linking
// and merging as needed; without logins it creates a new guest identity.
func (s *Service) GetId(ctx context.Context, in *GetIdInput) (*GetIdResponse, error) {
	p, err := s.publicPool(ctx, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	if in.AccountId != "" && in.AccountId != p.Account {
		// Choice: a pool named with another account does not exist for
		// the caller.
		return nil, poolNotFound(in.IdentityPoolId)
	}
	if len(in.Logins) == 0 {
		if !p.AllowUnauthenticated {
			return nil, apierr.New(apierr.NotAuthorized, msgUnauthenticated)
		}
		id, err := s.newGuest(ctx, p)
		if err != nil {
			return nil, err
		}
		return &GetIdResponse{IdentityId: id}, nil
	}
	logins, err := s.verifyLogins(ctx, p, in.Logins)
	if err != nil {
		return nil, err
	}
	if id, ok := s.linkedToOne(ctx, p, logins); ok {
		return &GetIdResponse{IdentityId: id}, nil
	}
	ident, err := s.resolve(ctx, resolution{pool: p, logins: logins, create: true, tooMany: apierr.LimitExceeded})
	if err != nil {
		return nil, err
	}
	return &GetIdResponse{IdentityId: ident.ID}, nil
}

// newGuest stores a new unauthenticated identity. The service never reuses
// guests: every call makes one, clients cache the id.
func (s *Service) newGuest(ctx context.Context, p *store.Pool) (string, error) {
	id, err := s.newIdentityID(p.Region)
	if err != nil {
		return "", err
	}
	now := s.now()
	ident := &store.Identity{ID: id, PoolID: p.ID, CreatedAt: now, UpdatedAt: now}
	err = s.store.CreateIdentity(ctx, ident)
	if errors.Is(err, store.ErrNotFound) {
		return "", poolNotFound(p.ID)
	}
	if err != nil {
		return "", err
	}
	s.audit(ctx, event{action: auditIdentityCreate, account: p.Account, pool: p.ID, identity: id, guest: true})
	return id, nil
}

// linkedToOne is the read-only fast path of the common case: every login is
// already linked, all to the same identity, so nothing needs writing.
func (s *Service) linkedToOne(ctx context.Context, p *store.Pool, logins []*federation.Login) (string, bool) {
	var id string
	for _, l := range logins {
		owner, err := s.store.FindLogin(ctx, p.ID, l.Provider, l.Subject)
		if err != nil || (id != "" && owner != id) {
			return "", false
		}
		id = owner
	}
	return id, id != ""
}

// GetOpenIdToken returns an OpenID token for an identity (the basic flow).
func (s *Service) GetOpenIdToken(ctx context.Context, in *GetOpenIdTokenInput) (*GetOpenIdTokenResponse, error) {
	ident, p, err := s.publicIdentity(ctx, in.IdentityId)
	if err != nil {
		return nil, err
	}
	if p.AllowClassicFlow != nil && !*p.AllowClassicFlow {
		return nil, apierr.New(apierr.InvalidParameter, "Basic (classic) flow is not enabled, please use enhanced flow.")
	}
	if len(in.Logins) == 0 {
		if len(ident.Logins) > 0 {
			return nil, loginsMismatch()
		}
		if !p.AllowUnauthenticated {
			return nil, apierr.New(apierr.NotAuthorized, msgUnauthenticated)
		}
		tok, err := s.token(p, ident.ID, nil, openIDTokenLifetime, nil)
		if err != nil {
			return nil, err
		}
		s.tokenIssued(ctx, TokenOpenID)
		return &GetOpenIdTokenResponse{IdentityId: ident.ID, Token: tok}, nil
	}
	if err := refuseSAML(p, in.Logins); err != nil {
		return nil, err
	}
	logins, err := s.verifyLogins(ctx, p, in.Logins)
	if err != nil {
		return nil, err
	}
	survivor, err := s.resolve(ctx, resolution{pool: p, named: ident.ID, logins: logins})
	if err != nil {
		return nil, err
	}
	tok, err := s.token(p, survivor.ID, logins, openIDTokenLifetime, tagsOfLogins(p, logins))
	if err != nil {
		return nil, err
	}
	s.tokenIssued(ctx, TokenOpenID)
	return &GetOpenIdTokenResponse{IdentityId: survivor.ID, Token: tok}, nil
}

// refuseSAML refuses SAML logins in the calls that issue OpenID tokens
// (the basic flow), before anything is verified: AWS takes SAML only in
// the enhanced flow.
func refuseSAML(p *store.Pool, logins map[string]string) error {
	for key := range logins {
		if prov, ok := federation.Lookup(p, key); ok && prov.Kind == federation.SAML {
			return apierr.New(apierr.InvalidParameter, "Basic (classic) flow is not supported with SAML, please use enhanced flow.")
		}
	}
	return nil
}

// tagsOfLogins are the principal tags a token for these logins carries:
// those of the first login (in provider order) whose provider has an
// attributes-for-access-control setting (docs/behaviour.md §9).
func tagsOfLogins(p *store.Pool, logins []*federation.Login) map[string]string {
	for _, l := range logins {
		if _, ok := p.PrincipalTags[l.Provider]; ok {
			return principalTags(p, l)
		}
	}
	return nil
}

// GetOpenIdTokenForDeveloperIdentity registers or finds the identity of a
// developer user and returns a token for it.
func (s *Service) GetOpenIdTokenForDeveloperIdentity(ctx context.Context, in *GetOpenIdTokenForDeveloperIdentityInput) (*GetOpenIdTokenForDeveloperIdentityResponse, error) {
	p, err := s.readPool(ctx, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	devName := p.DeveloperProviderName
	user, ok := in.Logins[devName]
	if devName == "" || !ok {
		// Choice: AWS's error type is not known; NotAuthorizedException.
		return nil, apierr.New(apierr.NotAuthorized, msgDeveloperName)
	}
	others := make(map[string]string, len(in.Logins)-1)
	for k, v := range in.Logins {
		if k != devName {
			others[k] = v
		}
	}
	if err := refuseSAML(p, others); err != nil {
		return nil, err
	}
	public, err := s.verifyLogins(ctx, p, others)
	if err != nil {
		return nil, err
	}
	dev := &federation.Login{Provider: devName, Subject: user}
	logins := append([]*federation.Login{dev}, public...)

	var identityID string
	if in.IdentityId == "" {
		identityID, _ = s.linkedToOne(ctx, p, logins)
	}
	if identityID == "" {
		ident, err := s.resolve(ctx, resolution{pool: p, named: in.IdentityId, logins: logins, developer: dev, create: true})
		if err != nil {
			return nil, err
		}
		identityID = ident.ID
	}
	lifetime := int64(defaultDeveloperTokenSecs)
	if in.TokenDuration != nil {
		lifetime = *in.TokenDuration
	}
	tok, err := s.token(p, identityID, logins, time.Duration(lifetime)*time.Second, in.PrincipalTags)
	if err != nil {
		return nil, err
	}
	s.tokenIssued(ctx, TokenDeveloper)
	return &GetOpenIdTokenForDeveloperIdentityResponse{IdentityId: identityID, Token: tok}, nil
}

func describe(id *store.Identity) IdentityDescription {
	created, modified := Timestamp(id.CreatedAt), Timestamp(id.UpdatedAt)
	d := IdentityDescription{IdentityId: id.ID, CreationDate: &created, LastModifiedDate: &modified}
	for _, l := range id.Logins {
		if !slices.Contains(d.Logins, l.Provider) {
			d.Logins = append(d.Logins, l.Provider)
		}
	}
	return d
}

// DescribeIdentity returns an identity's linked providers and dates.
// Choice: a guest identity has no Logins member; a disabled identity stays
// describable.
func (s *Service) DescribeIdentity(ctx context.Context, in *DescribeIdentityInput) (*IdentityDescription, error) {
	ident, _, err := s.ownedIdentity(ctx, in.IdentityId)
	if err != nil {
		return nil, err
	}
	d := describe(ident)
	return &d, nil
}

// ListIdentities pages through a pool's identities in creation order.
func (s *Service) ListIdentities(ctx context.Context, in *ListIdentitiesInput) (*ListIdentitiesResponse, error) {
	p, err := s.readPool(ctx, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	var after *store.IdentityCursor
	if in.NextToken != "" {
		at, id, err := decodeCursor(in.NextToken)
		if err != nil {
			return nil, err
		}
		after = &store.IdentityCursor{CreatedAt: at, ID: id}
	}
	limit := int(in.MaxResults)
	ids, err := s.store.ListIdentities(ctx, p.ID, after, limit+1, in.HideDisabled)
	if err != nil {
		return nil, err
	}
	out := &ListIdentitiesResponse{IdentityPoolId: p.ID, Identities: []IdentityDescription{}}
	if len(ids) > limit {
		ids = ids[:limit]
		last := ids[limit-1]
		out.NextToken = encodeCursor(last.CreatedAt, last.ID)
	}
	for _, id := range ids {
		out.Identities = append(out.Identities, describe(id))
	}
	return out, nil
}

// DeleteIdentities deletes up to 60 identities of the caller's pools.
// Choice: an unknown id counts as already deleted (no entry); an identity
// of another account's pool is reported as AccessDenied.
func (s *Service) DeleteIdentities(ctx context.Context, in *DeleteIdentitiesInput) (*DeleteIdentitiesResponse, error) {
	out := &DeleteIdentitiesResponse{UnprocessedIdentityIds: []UnprocessedIdentityId{}}
	c := caller.From(ctx)
	seen := map[string]bool{}
	for _, id := range in.IdentityIdsToDelete {
		if seen[id] {
			continue
		}
		seen[id] = true
		var poolID string
		err := s.store.Update(ctx, func(tx store.Tx) error {
			ident, err := tx.GetIdentity(ctx, id)
			if err != nil {
				return err
			}
			p, err := tx.GetPool(ctx, ident.PoolID)
			if err != nil {
				return err
			}
			if p.Account != c.Account {
				return errAccessDenied
			}
			poolID = p.ID
			return tx.DeleteIdentity(ctx, id)
		})
		switch {
		case err == nil:
			s.audit(ctx, event{action: auditIdentityDelete, account: c.Account, pool: poolID, identity: id})
		case errors.Is(err, store.ErrNotFound):
		case errors.Is(err, errAccessDenied):
			out.UnprocessedIdentityIds = append(out.UnprocessedIdentityIds, UnprocessedIdentityId{IdentityId: id, ErrorCode: "AccessDenied"})
		default:
			s.log.ErrorContext(ctx, "deleting an identity failed", "identity_id", id, "err", err)
			out.UnprocessedIdentityIds = append(out.UnprocessedIdentityIds, UnprocessedIdentityId{IdentityId: id, ErrorCode: "InternalServerError"})
		}
	}
	return out, nil
}

var errAccessDenied = errors.New("identity belongs to another account")

// UnlinkIdentity removes federated logins from an identity whose ownership
// the request proves. Removing the last login disables the identity.
// Choice: a provider in LoginsToRemove that is not linked is ignored.
func (s *Service) UnlinkIdentity(ctx context.Context, in *UnlinkIdentityInput) (*Empty, error) {
	ident, p, err := s.publicIdentity(ctx, in.IdentityId)
	if err != nil {
		return nil, err
	}
	for _, provider := range in.LoginsToRemove {
		if provider == p.DeveloperProviderName && provider != "" {
			return nil, apierr.Errorf(apierr.InvalidParameter, "%s is the developer provider of this identity pool; unlink developer users with UnlinkDeveloperIdentity.", provider)
		}
	}
	logins, err := s.verifyLogins(ctx, p, in.Logins)
	if err != nil {
		return nil, err
	}
	err = s.unlinkLogins(ctx, p, ident.ID, in.LoginsToRemove, func(cur *store.Identity) error {
		linked := map[loginRef]bool{}
		for _, l := range cur.Logins {
			linked[refOf(l)] = true
		}
		for _, l := range logins {
			if linked[loginRef{l.Provider, l.Subject}] {
				return nil
			}
		}
		return loginsMismatch()
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// unlinkLogins removes an identity's logins of the given providers, once
// proof accepts the identity as it stands in the transaction; removing
// the last login disables the identity. A provider that is not linked is
// ignored. UnlinkIdentity and the console's UnlinkLogins share it.
func (s *Service) unlinkLogins(ctx context.Context, p *store.Pool, identityID string, providers []string, proof func(cur *store.Identity) error) error {
	var (
		removed  []string // providers unlinked
		disabled bool
	)
	err := s.store.Update(ctx, func(tx store.Tx) error {
		// The function may run more than once: start over each time.
		removed, disabled = nil, false
		cur, err := tx.GetIdentity(ctx, identityID)
		if errors.Is(err, store.ErrNotFound) {
			return identityNotFound(identityID)
		}
		if err != nil {
			return err
		}
		if cur.Disabled {
			return forbidden(cur.ID)
		}
		if err := proof(cur); err != nil {
			return err
		}
		remaining := len(cur.Logins)
		for _, l := range cur.Logins {
			if slices.Contains(providers, l.Provider) {
				if err := tx.UnlinkLogin(ctx, p.ID, l.Provider, l.Subject); err != nil {
					return err
				}
				removed = append(removed, l.Provider)
				remaining--
			}
		}
		if remaining == len(cur.Logins) {
			return nil
		}
		cur.UpdatedAt = s.now()
		cur.Disabled = remaining == 0
		disabled = cur.Disabled
		return tx.UpdateIdentity(ctx, cur)
	})
	if err != nil {
		return err
	}
	if len(removed) > 0 {
		s.audit(ctx, event{action: auditIdentityUnlink, account: p.Account, pool: p.ID, identity: identityID, providers: removed, disabled: disabled})
	}
	return nil
}

// developerPool returns the caller's pool for a developer operation naming
// a developer provider, which must be the pool's.
func (s *Service) developerPool(ctx context.Context, poolID, provider string) (*store.Pool, error) {
	p, err := s.readPool(ctx, poolID)
	if err != nil {
		return nil, err
	}
	if p.DeveloperProviderName == "" || p.DeveloperProviderName != provider {
		return nil, apierr.New(apierr.NotAuthorized, msgDeveloperName)
	}
	return p, nil
}

// developerUsers are the developer user identifiers linked to an identity.
func developerUsers(p *store.Pool, id *store.Identity) []string {
	var users []string
	for _, l := range id.Logins {
		if p.DeveloperProviderName != "" && l.Provider == p.DeveloperProviderName {
			users = append(users, l.Subject)
		}
	}
	return users
}

func developerUserNotFound(user string) error {
	// Choice: AWS's text for an unknown developer user is not known.
	return apierr.Errorf(apierr.ResourceNotFound, "Developer user identifier '%s' not found.", user)
}

// LookupDeveloperIdentity finds the identity of a developer user, or the
// developer users of an identity, or checks that the two belong together.
func (s *Service) LookupDeveloperIdentity(ctx context.Context, in *LookupDeveloperIdentityInput) (*LookupDeveloperIdentityResponse, error) {
	if in.IdentityId == "" && in.DeveloperUserIdentifier == "" {
		return nil, apierr.New(apierr.InvalidParameter, "Either IdentityId or DeveloperUserIdentifier must be specified.")
	}
	p, err := s.readPool(ctx, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	identityID := in.IdentityId
	if in.DeveloperUserIdentifier != "" {
		owner := ""
		if p.DeveloperProviderName != "" {
			owner, err = s.store.FindLogin(ctx, p.ID, p.DeveloperProviderName, in.DeveloperUserIdentifier)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		switch {
		case owner == "":
			return nil, developerUserNotFound(in.DeveloperUserIdentifier)
		case identityID != "" && identityID != owner:
			return nil, apierr.Errorf(apierr.ResourceConflict, "Developer user identifier '%s' is not linked to identity '%s'.", in.DeveloperUserIdentifier, identityID)
		}
		identityID = owner
	}
	ident, err := s.store.GetIdentity(ctx, identityID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ident.PoolID != p.ID) {
		return nil, identityNotFound(identityID)
	}
	if err != nil {
		return nil, err
	}
	users := developerUsers(p, ident)
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || len(raw) == 0 {
			return nil, invalidToken()
		}
		after := string(raw)
		users = slices.DeleteFunc(users, func(u string) bool { return u <= after })
	}
	out := &LookupDeveloperIdentityResponse{IdentityId: ident.ID, DeveloperUserIdentifierList: users}
	if in.MaxResults != nil && len(users) > int(*in.MaxResults) {
		out.DeveloperUserIdentifierList = users[:*in.MaxResults]
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(users[*in.MaxResults-1]))
	}
	return out, nil
}

// MergeDeveloperIdentities moves the source developer user, and every login
// of its identity, to the destination user's identity; the source identity
// is disabled.
func (s *Service) MergeDeveloperIdentities(ctx context.Context, in *MergeDeveloperIdentitiesInput) (*MergeDeveloperIdentitiesResponse, error) {
	p, err := s.developerPool(ctx, in.IdentityPoolId, in.DeveloperProviderName)
	if err != nil {
		return nil, err
	}
	var destID, mergedID string
	err = s.store.Update(ctx, func(tx store.Tx) error {
		mergedID = "" // the function may run more than once
		find := func(user string) (*store.Identity, error) {
			id, err := tx.FindLogin(ctx, p.ID, p.DeveloperProviderName, user)
			if errors.Is(err, store.ErrNotFound) {
				return nil, developerUserNotFound(user)
			}
			if err != nil {
				return nil, err
			}
			return tx.GetIdentity(ctx, id)
		}
		src, err := find(in.SourceUserIdentifier)
		if err != nil {
			return err
		}
		dst, err := find(in.DestinationUserIdentifier)
		if err != nil {
			return err
		}
		destID = dst.ID
		if src.ID == dst.ID {
			return nil
		}
		combined := append(slices.Clone(dst.Logins), src.Logins...)
		// Choice: ResourceConflictException for both
		// refusals of a developer merge.
		if len(combined) > maxLoginsPerIdentity {
			return apierr.Errorf(apierr.ResourceConflict, "The merged identity would have more than %d linked logins.", maxLoginsPerIdentity)
		}
		if err := s.checkLogins(p, combined, apierr.ResourceConflict); err != nil {
			return err
		}
		now := s.now()
		for _, l := range src.Logins {
			l.IdentityID = dst.ID
			if err := tx.RelinkLogin(ctx, l); err != nil {
				return err
			}
		}
		src.Disabled, src.UpdatedAt = true, now
		if err := tx.UpdateIdentity(ctx, src); err != nil {
			return err
		}
		dst.UpdatedAt = now
		mergedID = src.ID
		return tx.UpdateIdentity(ctx, dst)
	})
	if err != nil {
		return nil, err
	}
	if mergedID != "" {
		s.audit(ctx, event{action: auditDeveloperMerge, account: p.Account, pool: p.ID, identity: destID,
			merged: []string{mergedID}, provider: p.DeveloperProviderName})
	}
	return &MergeDeveloperIdentitiesResponse{IdentityId: destID}, nil
}

// UnlinkDeveloperIdentity unlinks a developer user from an identity; the
// user is new the next time it is seen. An identity left without logins
// is disabled.
func (s *Service) UnlinkDeveloperIdentity(ctx context.Context, in *UnlinkDeveloperIdentityInput) (*Empty, error) {
	p, err := s.developerPool(ctx, in.IdentityPoolId, in.DeveloperProviderName)
	if err != nil {
		return nil, err
	}
	var disabled bool
	err = s.store.Update(ctx, func(tx store.Tx) error {
		ident, err := tx.GetIdentity(ctx, in.IdentityId)
		if errors.Is(err, store.ErrNotFound) || (err == nil && ident.PoolID != p.ID) {
			return identityNotFound(in.IdentityId)
		}
		if err != nil {
			return err
		}
		owner, err := tx.FindLogin(ctx, p.ID, p.DeveloperProviderName, in.DeveloperUserIdentifier)
		if errors.Is(err, store.ErrNotFound) || (err == nil && owner != ident.ID) {
			// Choice: ResourceConflictException.
			return apierr.Errorf(apierr.ResourceConflict, "Developer user identifier '%s' is not linked to identity '%s'.", in.DeveloperUserIdentifier, in.IdentityId)
		}
		if err != nil {
			return err
		}
		if err := tx.UnlinkLogin(ctx, p.ID, p.DeveloperProviderName, in.DeveloperUserIdentifier); err != nil {
			return err
		}
		ident.UpdatedAt = s.now()
		ident.Disabled = len(ident.Logins) == 1
		disabled = ident.Disabled
		return tx.UpdateIdentity(ctx, ident)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, event{action: auditDeveloperUnlink, account: p.Account, pool: p.ID, identity: in.IdentityId,
		provider: p.DeveloperProviderName, disabled: disabled})
	return &Empty{}, nil
}
