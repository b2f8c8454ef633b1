package metrics

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Other is the label value of anything outside a label's fixed set: an
// operation the model does not know, a token kind or credential flow the
// server did not name, an error type that does not look like an error
// code.
const Other = "other"

// Outcomes of a request, the values of the outcome label.
const (
	OutcomeOK          = "ok"
	OutcomeClientError = "client_error"
	OutcomeServerError = "server_error"
)

// Histogram buckets, in seconds (writes: in writes per commit).
var (
	requestBuckets    = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	storeBuckets      = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	batchBuckets      = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}
	checkpointBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

// Options fixes the label values a Metrics counts under.
type Options struct {
	// Operations are the operation names requests are counted by; any
	// other name is counted as Other.
	Operations []string
	// TokenKinds are the kinds of OpenID tokens counted apart ("openid",
	// "developer"); any other kind is counted as Other.
	TokenKinds []string
	// CredentialFlows are the flows credentials are counted by
	// ("enhanced", "basic"); any other flow is counted as Other.
	CredentialFlows []string
	// Clock reads the time at which the signing key's age is computed;
	// nil means time.Now.
	Clock func() time.Time
}

// Metrics is one registry and the collectors registered in it. It is safe
// for concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
	now     func() time.Time

	// ops and other are read-only after New.
	ops   map[string]*Operation
	other *Operation

	tokens      counterSet
	credentials counterSet

	storeCalls *prometheus.HistogramVec
	sqlite     *SQLiteObserver
}

// New returns a Metrics with its own registry, holding the Go runtime and
// process collectors and idpool's own metrics, with the series of every
// named operation, token kind and credential flow already created.
func New(o Options) *Metrics {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg, now: o.Clock, ops: make(map[string]*Operation, len(o.Operations))}

	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idpool_requests_total",
		Help: "API requests served, by operation, outcome (ok, client_error, server_error) and error type (the wire error code, empty when ok).",
	}, []string{"operation", "outcome", "error_type"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "idpool_request_duration_seconds",
		Help:    "Time from a request's arrival to its answer, by operation.",
		Buckets: requestBuckets,
	}, []string{"operation"})
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idpool_rate_limited_requests_total",
		Help: "Requests refused by the rate limits (TooManyRequestsException), by operation.",
	}, []string{"operation"})
	tokens := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idpool_tokens_issued_total",
		Help: "OpenID tokens signed, by kind (openid: GetOpenIdToken; developer: GetOpenIdTokenForDeveloperIdentity).",
	}, []string{"kind"})
	credentials := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idpool_credentials_issued_total",
		Help: "Temporary credentials minted, by flow (enhanced: GetCredentialsForIdentity; basic: STS AssumeRoleWithWebIdentity).",
	}, []string{"flow"})
	m.storeCalls = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "idpool_store_call_duration_seconds",
		Help:    "Duration of the calls the server makes to its store, by store method (Update includes the transaction's work and its commit).",
		Buckets: storeBuckets,
	}, []string{"method"})
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "idpool_sqlite_commit_batch_writes",
		Help:    "Writes (updates and guest identities) carried by each SQLite group commit.",
		Buckets: batchBuckets,
	})
	commit := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "idpool_sqlite_commit_duration_seconds",
		Help:    "Duration of each SQLite group commit's COMMIT: writing its WAL frames and waiting for the disk to flush them.",
		Buckets: storeBuckets,
	})
	checkpoint := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "idpool_sqlite_checkpoint_duration_seconds",
		Help:    "Duration of each SQLite WAL checkpoint.",
		Buckets: checkpointBuckets,
	})
	m.sqlite = &SQLiteObserver{batch: batch, commit: commit, checkpoint: checkpoint}

	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		requests, duration, limited, tokens, credentials, m.storeCalls, batch, commit, checkpoint,
	)
	for _, name := range slices.Concat(o.Operations, []string{Other}) {
		if _, dup := m.ops[name]; dup {
			continue
		}
		m.ops[name] = &Operation{
			requests: requests,
			name:     name,
			ok:       requests.WithLabelValues(name, OutcomeOK, ""),
			duration: duration.WithLabelValues(name),
			limited:  limited.WithLabelValues(name),
			errors:   map[errorKey]prometheus.Counter{},
		}
	}
	m.other = m.ops[Other]
	m.tokens = newCounterSet(tokens, o.TokenKinds)
	m.credentials = newCounterSet(credentials, o.CredentialFlows)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// Handler serves the registry in Prometheus' exposition formats. Every
// call returns the same handler.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Operation returns the series of the named operation, or those of Other
// when the name is not one of Options.Operations. It does not allocate.
func (m *Metrics) Operation(name string) *Operation {
	if o, ok := m.ops[name]; ok {
		return o
	}
	return m.other
}

// TokenIssued counts one OpenID token of the given kind.
func (m *Metrics) TokenIssued(kind string) { m.tokens.get(kind).Inc() }

// CredentialsIssued counts one set of credentials minted in the given
// flow.
func (m *Metrics) CredentialsIssued(flow string) { m.credentials.get(flow).Inc() }

// Operation is the series of one operation, looked up once. Its methods
// are safe for concurrent use.
type Operation struct {
	name     string
	requests *prometheus.CounterVec
	ok       prometheus.Counter
	duration prometheus.Observer
	limited  prometheus.Counter

	// errors holds the error series met so far: they are created on first
	// use, so that only errors that happen are exposed.
	mu     sync.RWMutex
	errors map[errorKey]prometheus.Counter
}

type errorKey struct{ outcome, errorType string }

// Name is the operation's label value.
func (o *Operation) Name() string { return o.name }

// Observe counts one answered request: its HTTP status, the wire error
// code it carried ("" for none) and how long it took.
func (o *Operation) Observe(status int, errorType string, d time.Duration) {
	o.duration.Observe(d.Seconds())
	outcome := Outcome(status, errorType)
	if outcome == OutcomeOK {
		o.ok.Inc()
		return
	}
	o.errorCounter(errorKey{outcome, sanitizeErrorType(errorType)}).Inc()
}

// Limited counts one request the rate limits refused.
func (o *Operation) Limited() { o.limited.Inc() }

func (o *Operation) errorCounter(k errorKey) prometheus.Counter {
	o.mu.RLock()
	c, ok := o.errors[k]
	o.mu.RUnlock()
	if ok {
		return c
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if c, ok := o.errors[k]; ok {
		return c
	}
	c = o.requests.WithLabelValues(o.name, k.outcome, k.errorType)
	o.errors[k] = c
	return c
}

// Outcome classifies an answer: a 5xx status is a server error, any other
// status of 400 or more, or any error code, a client error; the rest is
// ok.
func Outcome(status int, errorType string) string {
	switch {
	case status >= 500:
		return OutcomeServerError
	case status >= 400 || errorType != "":
		return OutcomeClientError
	default:
		return OutcomeOK
	}
}

// maxErrorType bounds an error type label value; wire error codes are
// far shorter.
const maxErrorType = 64

// sanitizeErrorType returns the error type as a label value: a wire error
// code (letters, digits and . : _ -, at most maxErrorType bytes) stays as
// it is, anything else becomes Other. Every code idpool sends is a
// constant of the code, so this only guards the label against a future
// mistake that would let request text into it.
func sanitizeErrorType(s string) string {
	if len(s) > maxErrorType {
		return Other
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == ':', c == '_', c == '-':
		default:
			return Other
		}
	}
	return s
}

// counterSet is a labelled counter whose children for a fixed set of
// values, and Other, are created once.
type counterSet map[string]prometheus.Counter

func newCounterSet(vec *prometheus.CounterVec, values []string) counterSet {
	s := counterSet{}
	for _, v := range slices.Concat(values, []string{Other}) {
		s[v] = vec.WithLabelValues(v)
	}
	return s
}

func (s counterSet) get(v string) prometheus.Counter {
	if c, ok := s[v]; ok {
		return c
	}
	return s[Other]
}
