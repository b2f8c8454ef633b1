package server

import (
	"context"
	"net/http"

	"github.com/idpool/idpool/internal/awsjson"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/metrics"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/reqinfo"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/postgres"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// stsOperations are the operation names the STS handler records.
var stsOperations = []string{"sts:AssumeRoleWithWebIdentity", "sts:GetCallerIdentity"}

// exchange is what the server learns about one request while serving it,
// for its metrics and its access log line. The middleware makes one per
// request; the pipeline's hooks fill it in on the request's goroutine, and
// the middleware reads it once the handler has returned.
type exchange struct {
	statusRecorder
	outcome reqinfo.Outcome
	// account is the account the request acts for: the caller's, as the
	// authenticator established it, or, for an unsigned request, the one
	// the handler says the request acted for (a public operation acts for
	// its pool's owner).
	account string
	signed  bool
}

type exchangeKey struct{}

// exchangeOf returns the exchange of the request ctx belongs to, or nil.
func exchangeOf(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// authenticator passes on to the pipeline's authenticator and remembers
// the caller it established, for the access log.
type authenticator struct{ next awsjson.Authenticator }

func (a authenticator) Authenticate(r *http.Request, body []byte, op *model.Operation) (caller.Info, error) {
	info, err := a.next.Authenticate(r, body, op)
	if err == nil {
		if ex := exchangeOf(r.Context()); ex != nil {
			ex.account, ex.signed = info.Account, info.Signed
		}
	}
	return info, err
}

// limiter passes on to the rate limiter and counts its refusals.
type limiter struct {
	next    awsjson.Limiter
	metrics *metrics.Metrics
}

func (l limiter) Allow(ctx context.Context, op string, c caller.Info) error {
	err := l.next.Allow(ctx, op, c)
	if err != nil {
		l.metrics.Operation(op).Limited()
	}
	return err
}

// observer is what the Cognito service and the STS handler tell about
// requests: it goes to the request's exchange and to the metrics.
type observer struct{ metrics *metrics.Metrics }

var _ cognito.Observer = observer{}

// ActsFor sets the account of an unsigned request; a signed request's
// stays the signer's.
func (o observer) ActsFor(ctx context.Context, account string) {
	if ex := exchangeOf(ctx); ex != nil && !ex.signed {
		ex.account = account
	}
}

func (o observer) TokenIssued(_ context.Context, kind string) { o.metrics.TokenIssued(kind) }

func (o observer) CredentialsIssued(_ context.Context, flow string) {
	o.metrics.CredentialsIssued(flow)
}

// observeBackend connects the store's own statistics to the metrics: the
// group commits and checkpoints of SQLite, the connection pool of
// PostgreSQL. Only the server knows which backend runs; any other store
// (a test's wrapper, say) is observed through the decorator alone.
func observeBackend(st store.Store, m *metrics.Metrics) error {
	switch b := st.(type) {
	case *sqlite.Store:
		b.SetObserver(m.SQLite())
	case *postgres.Store:
		return m.WatchConnPool(func() metrics.ConnPoolStats {
			s := b.PoolStats()
			return metrics.ConnPoolStats{
				Acquired:         s.AcquiredConns,
				Idle:             s.IdleConns,
				Total:            s.TotalConns,
				Max:              s.MaxConns,
				Acquires:         s.AcquireCount,
				AcquireDuration:  s.AcquireDuration,
				EmptyAcquires:    s.EmptyAcquireCount,
				CanceledAcquires: s.CanceledAcquireCount,
			}
		})
	}
	return nil
}
