package bench

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// WriterStats are the group commits of an idpool target's SQLite writer
// over a measured phase, read from the target's /metrics before and after
// it: how many commits, the writes they carried, and the time their
// COMMITs took (writing the WAL and waiting for the disk's flush). They
// show how much of the single writer's time the disk takes.
type WriterStats struct {
	Commits       int64   `json:"commits"`
	Writes        float64 `json:"writes"`
	CommitSeconds float64 `json:"commit_seconds"`
}

// The families of idpool's metrics that WriterStats reads.
const (
	batchFamily  = "idpool_sqlite_commit_batch_writes"
	commitFamily = "idpool_sqlite_commit_duration_seconds"
)

// readWriter scrapes the target's /metrics; ok is false when it has no
// SQLite writer to report (another store, another server, several URLs).
func (c *Client) readWriter(ctx context.Context) (st WriterStats, ok bool) {
	if len(c.urls) > 1 {
		return st, false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.url, "/")+"/metrics", nil)
	if err != nil {
		return st, false
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return st, false
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return st, false
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return st, false
	}
	batch, commit := families[batchFamily], families[commitFamily]
	if batch == nil || commit == nil || len(batch.GetMetric()) != 1 || len(commit.GetMetric()) != 1 {
		return st, false
	}
	b, cm := batch.GetMetric()[0].GetHistogram(), commit.GetMetric()[0].GetHistogram()
	return WriterStats{
		Commits:       int64(cm.GetSampleCount()),
		Writes:        b.GetSampleSum(),
		CommitSeconds: cm.GetSampleSum(),
	}, true
}

// writerDelta is what happened between two scrapes.
func writerDelta(before, after WriterStats) *WriterStats {
	return &WriterStats{
		Commits:       after.Commits - before.Commits,
		Writes:        after.Writes - before.Writes,
		CommitSeconds: after.CommitSeconds - before.CommitSeconds,
	}
}
