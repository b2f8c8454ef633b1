package cognito

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/store"
)

// The methods of this file serve the web console: what an operator may see
// and do that the API has no operation for. They apply the same ownership
// rules as the signed operations (the caller's account, and region when it
// names one) and the same store transactions.

// IdentityDetail is an identity as the console shows it: with its disabled
// state and the user each login names, which DescribeIdentity leaves out.
type IdentityDetail struct {
	IdentityId       string
	IdentityPoolId   string
	CreationDate     time.Time
	LastModifiedDate time.Time
	Disabled         bool
	Logins           []LoginDetail
}

// LoginDetail is one login of an identity. Developer says the provider is
// the pool's developer provider: Subject is then a developer user.
type LoginDetail struct {
	Provider  string
	Subject   string
	Developer bool
}

// IdentityDetail returns an identity of one of the caller's pools.
func (s *Service) IdentityDetail(ctx context.Context, identityID string) (*IdentityDetail, error) {
	ident, p, err := s.ownedIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	d := &IdentityDetail{
		IdentityId: ident.ID, IdentityPoolId: p.ID,
		CreationDate: ident.CreatedAt, LastModifiedDate: ident.UpdatedAt,
		Disabled: ident.Disabled, Logins: []LoginDetail{},
	}
	for _, l := range ident.Logins {
		d.Logins = append(d.Logins, LoginDetail{Provider: l.Provider, Subject: l.Subject,
			Developer: p.DeveloperProviderName != "" && l.Provider == p.DeveloperProviderName})
	}
	return d, nil
}

// FindIdentityByLogin returns the id of the identity of one of the
// caller's pools that a login (provider and the provider's user id) is
// linked to.
func (s *Service) FindIdentityByLogin(ctx context.Context, poolID, provider, subject string) (string, error) {
	p, err := s.readPool(ctx, poolID)
	if err != nil {
		return "", err
	}
	id, err := s.store.FindLogin(ctx, p.ID, provider, subject)
	if errors.Is(err, store.ErrNotFound) {
		return "", apierr.Errorf(apierr.ResourceNotFound, "No identity of pool %s is linked to %s user '%s'.", p.ID, provider, subject)
	}
	return id, err
}

// UnlinkLogins removes logins of the given providers from an identity of
// one of the caller's pools, as its owner: no login token is needed, as
// UnlinkIdentity needs one. The developer provider is refused here as it is
// there (UnlinkDeveloperIdentity unlinks developer users). Removing the
// last login disables the identity, as UnlinkIdentity does.
func (s *Service) UnlinkLogins(ctx context.Context, identityID string, providers []string) error {
	ident, p, err := s.ownedIdentity(ctx, identityID)
	if err != nil {
		return err
	}
	if p.DeveloperProviderName != "" && slices.Contains(providers, p.DeveloperProviderName) {
		return apierr.Errorf(apierr.InvalidParameter, "%s is the developer provider of this identity pool; unlink developer users with UnlinkDeveloperIdentity.", p.DeveloperProviderName)
	}
	return s.unlinkLogins(ctx, p, ident.ID, providers, func(*store.Identity) error { return nil })
}
