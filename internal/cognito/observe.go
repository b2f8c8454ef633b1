package cognito

import (
	"context"
	"log/slog"

	"github.com/idpool/idpool/internal/reqinfo"
	"github.com/idpool/idpool/internal/sts"
)

// Kinds of the OpenID tokens the service signs, as metrics name them.
const (
	// TokenOpenID is a token of GetOpenIdToken.
	TokenOpenID = "openid"
	// TokenDeveloper is a token of GetOpenIdTokenForDeveloperIdentity.
	TokenDeveloper = "developer"
)

// Observer is told what the service did, for the access log and the
// metrics: the account a public request acts for (its pool's), and every
// token and set of credentials issued. Its methods run on the request's
// goroutine; they must be quick and safe for concurrent use.
type Observer interface {
	sts.Observer
	// TokenIssued is told of every OpenID token signed, with its kind
	// (TokenOpenID, TokenDeveloper).
	TokenIssued(ctx context.Context, kind string)
}

func (s *Service) actsFor(ctx context.Context, account string) {
	if s.obs != nil {
		s.obs.ActsFor(ctx, account)
	}
}

func (s *Service) tokenIssued(ctx context.Context, kind string) {
	if s.obs != nil {
		s.obs.TokenIssued(ctx, kind)
	}
}

func (s *Service) credentialsIssued(ctx context.Context, flow string) {
	if s.obs != nil {
		s.obs.CredentialsIssued(ctx, flow)
	}
}

// Audit actions: every change of state the service makes is logged once
// it is committed, as one info line with the message "audit".
const (
	auditPoolCreate      = "pool.create"
	auditPoolUpdate      = "pool.update"
	auditPoolDelete      = "pool.delete"
	auditPoolSetRoles    = "pool.set_roles"
	auditPoolSetTagMap   = "pool.set_principal_tag_map"
	auditPoolTag         = "pool.tag"
	auditPoolUntag       = "pool.untag"
	auditIdentityCreate  = "identity.create"
	auditIdentityLink    = "identity.link"
	auditIdentityMerge   = "identity.merge"
	auditIdentityUnlink  = "identity.unlink"
	auditIdentityDelete  = "identity.delete"
	auditDeveloperMerge  = "developer_user.merge"
	auditDeveloperUnlink = "developer_user.unlink"
)

// event is one change of state, as its audit line tells it. It holds ids
// and provider names only: never tokens, Logins values, provider user ids
// or developer user identifiers. A developer user identifier is often an
// e-mail address or a small number, which a hash would not hide (anyone
// can hash every candidate), so it is left out altogether; the identity
// id it is linked to says which identity changed.
type event struct {
	action    string
	account   string // the pool's owner
	pool      string
	identity  string
	merged    []string // identities merged into identity (now disabled)
	providers []string // providers of the logins linked, moved or unlinked
	provider  string   // the one provider of a developer operation
	guest     bool     // a new identity without logins
	disabled  bool     // the change left identity disabled
	via       string   // "seed" or "reset" for changes that no API call made
}

// audit logs an event at info level. Guests that GetId creates are
// logged too: they are state changes like any other, and a line costs
// little next to the commit it follows; an operator who does not want
// them filters on guest=true.
func (s *Service) audit(ctx context.Context, e event) {
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs, slog.String("action", e.action), slog.String("account", e.account))
	if id := reqinfo.RequestID(ctx); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if e.pool != "" {
		attrs = append(attrs, slog.String("pool_id", e.pool))
	}
	if e.identity != "" {
		attrs = append(attrs, slog.String("identity_id", e.identity))
	}
	if len(e.merged) > 0 {
		attrs = append(attrs, slog.Any("merged_identity_ids", e.merged))
	}
	if len(e.providers) > 0 {
		attrs = append(attrs, slog.Any("providers", e.providers))
	}
	if e.provider != "" {
		attrs = append(attrs, slog.String("provider", e.provider))
	}
	if e.guest {
		attrs = append(attrs, slog.Bool("guest", true))
	}
	if e.disabled {
		attrs = append(attrs, slog.Bool("disabled", true))
	}
	if e.via != "" {
		attrs = append(attrs, slog.String("via", e.via))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
}

// auditAll logs the events of a committed change, in order.
func (s *Service) auditAll(ctx context.Context, events []event) {
	for _, e := range events {
		s.audit(ctx, e)
	}
}
