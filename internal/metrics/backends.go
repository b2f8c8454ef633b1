package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SQLiteObserver observes the embedded SQLite store's group commits and
// checkpoints. It has the methods of sqlite.Observer, so the server hands
// it to the store (this package knows no backend).
type SQLiteObserver struct {
	batch, commit, checkpoint prometheus.Observer
}

// SQLite returns the observer of the SQLite store's internal work.
func (m *Metrics) SQLite() *SQLiteObserver { return m.sqlite }

// GroupCommitted observes the number of writes one group commit carried.
func (o *SQLiteObserver) GroupCommitted(writes int) { o.batch.Observe(float64(writes)) }

// Committed observes the duration of one group commit's COMMIT.
func (o *SQLiteObserver) Committed(d time.Duration) { o.commit.Observe(d.Seconds()) }

// Checkpointed observes the duration of one WAL checkpoint.
func (o *SQLiteObserver) Checkpointed(d time.Duration) { o.checkpoint.Observe(d.Seconds()) }

// ConnPoolStats are the statistics of a database connection pool at one
// moment: gauges of the connections now, and counters since the pool
// opened.
type ConnPoolStats struct {
	Acquired int32 // connections lent out now
	Idle     int32 // connections open and waiting
	Total    int32 // every open connection, and those being opened
	Max      int32 // the most the pool will open

	Acquires         int64         // successful acquires
	AcquireDuration  time.Duration // total time successful acquires waited
	EmptyAcquires    int64         // acquires that had to wait for a connection
	CanceledAcquires int64         // acquires given up by their caller
}

// WatchConnPool exposes a connection pool's statistics, read by stats at
// every scrape (the pool keeps them; nothing is copied in between). It may
// be called once per Metrics.
func (m *Metrics) WatchConnPool(stats func() ConnPoolStats) error {
	return m.reg.Register(newConnPoolCollector(stats))
}

type connPoolCollector struct {
	stats func() ConnPoolStats

	acquired, idle, total, max                                *prometheus.Desc
	acquires, acquireSeconds, emptyAcquires, canceledAcquires *prometheus.Desc
}

func newConnPoolCollector(stats func() ConnPoolStats) *connPoolCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("idpool_postgres_pool_"+name, help, nil, nil)
	}
	return &connPoolCollector{
		stats:            stats,
		acquired:         desc("acquired_connections", "PostgreSQL connections lent out to calls now."),
		idle:             desc("idle_connections", "PostgreSQL connections open and idle now."),
		total:            desc("connections", "PostgreSQL connections open now, or being opened."),
		max:              desc("max_connections", "The most PostgreSQL connections the pool opens."),
		acquires:         desc("acquires_total", "Connections acquired from the pool."),
		acquireSeconds:   desc("acquire_wait_seconds_total", "Time spent acquiring connections from the pool, all acquires together."),
		emptyAcquires:    desc("empty_acquires_total", "Acquires that found no idle connection and had to wait."),
		canceledAcquires: desc("canceled_acquires_total", "Acquires given up by their caller before a connection was free."),
	}
}

func (c *connPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquires, c.acquireSeconds, c.emptyAcquires, c.canceledAcquires} {
		ch <- d
	}
}

func (c *connPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.Acquired))
	gauge(c.idle, float64(s.Idle))
	gauge(c.total, float64(s.Total))
	gauge(c.max, float64(s.Max))
	counter(c.acquires, float64(s.Acquires))
	counter(c.acquireSeconds, s.AcquireDuration.Seconds())
	counter(c.emptyAcquires, float64(s.EmptyAcquires))
	counter(c.canceledAcquires, float64(s.CanceledAcquires))
}

// WatchSigningKey exposes idpool_signing_key_age_seconds: the age, at
// every scrape, of the key that signs tokens then. created returns that
// key's creation time, or false when no key may sign (the gauge is then
// absent from the scrape). It may be called once per Metrics.
func (m *Metrics) WatchSigningKey(created func(now time.Time) (time.Time, bool)) error {
	return m.reg.Register(&keyAgeCollector{
		now:     m.now,
		created: created,
		desc: prometheus.NewDesc("idpool_signing_key_age_seconds",
			"Age of the signing key that signs OpenID tokens now.", nil, nil),
	})
}

type keyAgeCollector struct {
	now     func() time.Time
	created func(time.Time) (time.Time, bool)
	desc    *prometheus.Desc
}

func (c *keyAgeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *keyAgeCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	created, ok := c.created(now)
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, now.Sub(created).Seconds())
}
