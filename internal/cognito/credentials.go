package cognito

import (
	"context"
	"slices"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/sts"
	"github.com/idpool/idpool/internal/tokens"
	"github.com/idpool/idpool/internal/trust"
)

// GetCredentialsForIdentity returns temporary credentials for an identity
// (the enhanced flow): the role comes from the pool's roles and role
// mappings, the credentials are minted by idpool and verifiable by its STS
// endpoint.
func (s *Service) GetCredentialsForIdentity(ctx context.Context, in *GetCredentialsForIdentityInput) (*GetCredentialsForIdentityResponse, error) {
	ident, p, err := s.publicIdentity(ctx, in.IdentityId)
	if err != nil {
		return nil, err
	}
	var (
		role       string
		tags       map[string]string
		identityID = ident.ID
		// methods is the amr of the token AWS would present to STS for
		// these credentials, and named the roles the pool names for it.
		methods []string
		named   []string
		why     string
	)
	devToken, hasCognito := in.Logins[cognitoProvider]
	switch {
	case len(in.Logins) == 0:
		if role, err = s.guestRole(p, ident); err != nil {
			return nil, err
		}
		why = "the pool's unauthenticated role: a guest identity (no logins)"
		methods = amr(p, nil)
		named = namedRoles(p, methods, nil)
	case hasCognito:
		// The enhanced developer flow: the backend's token, issued by
		// GetOpenIdTokenForDeveloperIdentity, stands for the identity.
		claims, err := s.verifyCognitoToken(ctx, p, ident, devToken)
		if err != nil {
			return nil, err
		}
		others := make(map[string]string, len(in.Logins))
		for k, v := range in.Logins {
			if k != cognitoProvider {
				others[k] = v
			}
		}
		public, err := s.verifyLogins(ctx, p, others)
		if err != nil {
			return nil, err
		}
		if len(public) > 0 {
			survivor, err := s.resolve(ctx, resolution{pool: p, named: ident.ID, logins: public, proven: true})
			if err != nil {
				return nil, err
			}
			identityID = survivor.ID
		}
		why = "the pool's default authenticated role: role mappings do not apply to developer identities"
		if slices.Contains(claims.AMR, "unauthenticated") {
			if role, err = s.guestRole(p, ident); err != nil {
				return nil, err
			}
			why = "the pool's unauthenticated role: the developer token is a guest's"
		} else if role, err = defaultRole(p, "authenticated"); err != nil {
			// Developer identities always get the default authenticated
			// role; role mappings do not apply to them.
			return nil, err
		}
		tags = claims.PrincipalTags
		methods = withLogins(p, claims.AMR, public)
		named = namedRoles(p, methods, public)
	default:
		public, err := s.verifyLogins(ctx, p, in.Logins)
		if err != nil {
			return nil, err
		}
		survivor, err := s.resolve(ctx, resolution{pool: p, named: ident.ID, logins: public})
		if err != nil {
			return nil, err
		}
		identityID = survivor.ID
		if role, why, err = chooseRole(p, public, in.CustomRoleArn); err != nil {
			return nil, err
		}
		// The tags the OpenID token for these logins carries (one rule for
		// both flows), so that a trust policy sees the same session.
		tags = tagsOfLogins(p, public)
		methods = amr(p, public)
		named = namedRoles(p, methods, public)
	}
	w := trust.WebIdentity{Audience: p.ID, Subject: identityID, AMR: methods, Tagged: len(tags) > 0}
	if d, ok := ctx.Value(decisionKey{}).(*RoleDecision); ok {
		d.RoleARN, d.Why = role, why
	}
	if !s.mayAssume(ctx, enhancedFlow, role, w, p.Account, named) {
		// AWS asks STS for the role, and STS refuses a role whose trust
		// policy does not accept the pool's token.
		return nil, invalidPoolConfig()
	}

	now := s.now()
	account := sts.RoleAccount(role)
	if account == "" {
		account = p.Account
	}
	creds, err := s.minter.Mint(sts.Session{
		RoleARN:       role,
		SessionName:   sts.CognitoSessionName,
		IdentityID:    identityID,
		PoolID:        p.ID,
		Account:       account,
		PrincipalTags: tags,
		Issued:        now,
		Expiration:    now.Add(s.credentialsLifetime),
	})
	if err != nil {
		return nil, err
	}
	s.credentialsIssued(ctx, sts.FlowEnhanced)
	exp := Timestamp(creds.Expiration)
	return &GetCredentialsForIdentityResponse{
		IdentityId: identityID,
		Credentials: &Credentials{
			AccessKeyId:  creds.AccessKeyID,
			SecretKey:    creds.SecretAccessKey,
			SessionToken: creds.SessionToken,
			Expiration:   &exp,
		},
	}, nil
}

// guestRole is the role of a request without logins: allowed only for an
// identity without logins, in a pool that admits guests.
func (s *Service) guestRole(p *store.Pool, ident *store.Identity) (string, error) {
	if len(ident.Logins) > 0 {
		return "", loginsMismatch()
	}
	if !p.AllowUnauthenticated {
		return "", apierr.New(apierr.NotAuthorized, msgUnauthenticated)
	}
	return defaultRole(p, "unauthenticated")
}

// withLogins is the amr of a developer token once the request's public
// logins are added, as the token AWS mints for the credentials would list
// them: each provider and its qualified user once. A guest token stays a
// guest's: its credentials are the unauthenticated role's.
func withLogins(p *store.Pool, methods []string, public []*federation.Login) []string {
	if len(public) == 0 || isGuest(methods) {
		return methods
	}
	out := slices.Clone(methods)
	for _, m := range amr(p, public)[1:] {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// verifyCognitoToken checks a token idpool issued, passed back as the
// cognito-identity.amazonaws.com login: signed by this server's keys,
// unexpired, for this pool and this identity.
func (s *Service) verifyCognitoToken(ctx context.Context, p *store.Pool, ident *store.Identity, token string) (*tokens.Claims, error) {
	c, err := s.issuer.Verify(ctx, token)
	if err != nil {
		if raw, ok := federation.ParseJWT(token); ok {
			if exp, ok := tokens.ClaimTime(raw, "exp"); ok && tokens.Expired(exp, s.now()) {
				return nil, apierr.Errorf(apierr.NotAuthorized, "Invalid login token. Token expired: %s >= %s",
					exp.UTC().Format(time.RFC3339), s.now().UTC().Format(time.RFC3339))
			}
		}
		// Choice: one text for every other defect (bad signature, unknown
		// key, another issuer, not a JWS).
		return nil, apierr.New(apierr.NotAuthorized, "Invalid login token. Couldn't verify signed token.")
	}
	if c.Audience != p.ID {
		return nil, apierr.New(apierr.NotAuthorized, "Token is not from a supported provider of this identity pool.")
	}
	if c.Subject != ident.ID {
		return nil, loginsMismatch()
	}
	return c, nil
}

// RoleDecision is the role GetCredentialsForIdentity chose and, in a
// sentence, why: the rule of a role mapping, a token's claim, a default
// role. The console shows it.
type RoleDecision struct {
	RoleARN string
	Why     string
}

type decisionKey struct{}

// WithRoleDecision returns a context in which GetCredentialsForIdentity
// fills d in once it has chosen a role (before the role's trust policy is
// checked, so a refused role is explained too).
func WithRoleDecision(ctx context.Context, d *RoleDecision) context.Context {
	return context.WithValue(ctx, decisionKey{}, d)
}
