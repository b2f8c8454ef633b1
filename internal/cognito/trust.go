package cognito

import (
	"context"
	"errors"
	"slices"

	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/sts"
	"github.com/idpool/idpool/internal/tokens"
	"github.com/idpool/idpool/internal/trust"
)

// Who may become which role (docs/trust.md). Both flows ask mayAssume, the
// one implementation of the rule:
//
//   - a role the roles file lists: its trust policy decides, in every auth
//     mode;
//   - any other role, in strict mode: the implicit policy, under which a
//     token may become only a role of its pool's account that its own pool
//     names for it (namedRoles);
//   - any other role, in permissive mode: allowed, with a warning in the
//     log when the pool does not name it, so that a trust mistake shows up
//     before AWS refuses it.

// Flows, as the log names them.
const (
	enhancedFlow = sts.FlowEnhanced
	basicFlow    = sts.FlowBasic
)

// mayAssume reports whether the holder of a token described by w may
// become roleARN. named are the roles the token's pool names for it, and
// account the pool's owner: the implicit policy admits only that
// account's roles, since a pool's owner can name any ARN but speaks only
// for its own account (another account's role needs its trust policy in
// the roles file, as it needs one in IAM).
func (s *Service) mayAssume(ctx context.Context, flow, roleARN string, w trust.WebIdentity, account string, named []string) bool {
	if policy, listed := s.roles.Policy(roleARN); listed {
		ok, why := policy.AllowsWebIdentity(w)
		if !ok {
			s.log.InfoContext(ctx, "the role's trust policy refused the token", "flow", flow, "role", roleARN,
				"pool", w.Audience, "identity", w.Subject, "why", why)
		}
		return ok
	}
	if slices.Contains(named, roleARN) && sts.RoleAccount(roleARN) == account {
		return true
	}
	if s.strictTrust {
		s.log.InfoContext(ctx, "role refused: the roles file does not list it and the token's pool does not name it for this token",
			"flow", flow, "role", roleARN, "pool", w.Audience, "identity", w.Subject, "guest", isGuest(w.AMR),
			"named", slices.Contains(named, roleARN))
		return false
	}
	s.log.WarnContext(ctx, "role assumed that the token's pool does not name for it: strict mode refuses this, and so does AWS unless the role's trust policy allows it",
		"flow", flow, "role", roleARN, "pool", w.Audience, "identity", w.Subject, "guest", isGuest(w.AMR))
	return true
}

func isGuest(amr []string) bool { return slices.Contains(amr, "unauthenticated") }

// namedRoles are the roles a pool names for a token with these
// authentication methods: a guest's only the unauthenticated role; an
// authenticated token's the authenticated role, every role a role
// mapping's rules can choose, and the roles its verified logins grant
// (a user pool token's cognito:roles and cognito:preferred_role, a SAML
// assertion's role attribute). The claims of logins that trust mode read
// without a signature grant nothing: anyone could have written them.
func namedRoles(p *store.Pool, amr []string, logins []*federation.Login) []string {
	if isGuest(amr) {
		if r := p.Roles["unauthenticated"]; r != "" {
			return []string{r}
		}
		return nil
	}
	var out []string
	if r := p.Roles["authenticated"]; r != "" {
		out = append(out, r)
	}
	for _, m := range p.RoleMappings {
		if m.RulesConfiguration == nil {
			continue
		}
		for _, r := range m.RulesConfiguration.Rules {
			out = append(out, r.RoleARN)
		}
	}
	for _, l := range logins {
		switch {
		case !l.Verified:
		case l.Kind == federation.UserPool:
			out = append(out, claimStrings(l.Claims["cognito:roles"])...)
			out = append(out, claimStrings(l.Claims["cognito:preferred_role"])...)
		case l.Kind == federation.SAML:
			out = append(out, samlRoles(l)...)
		}
	}
	return out
}

// AuthorizeWebIdentity decides whether the holder of a token idpool issued
// (claims, already verified) may become roleARN through STS
// AssumeRoleWithWebIdentity: the basic flow. It is mayAssume with the
// roles the token's pool names for it; a deleted pool names none.
func (s *Service) AuthorizeWebIdentity(ctx context.Context, roleARN string, c *tokens.Claims) (bool, error) {
	w := trust.WebIdentity{Audience: c.Audience, Subject: c.Subject, AMR: c.AMR, Tagged: len(c.PrincipalTags) > 0}
	var named []string
	var account string
	p, err := s.pools.get(ctx, s.store, c.Audience)
	switch {
	case err == nil:
		named, account = namedRoles(p, c.AMR, nil), p.Account
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	return s.mayAssume(ctx, basicFlow, roleARN, w, account, named), nil
}
