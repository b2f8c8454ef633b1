package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// SeedOptions configures BulkSeed.
type SeedOptions struct {
	// DataDir is idpool's data directory; the database is DataDir/idpool.db.
	// The server should not be running: SQLite has one writer, and the
	// server would wait behind every batch.
	DataDir string
	// PoolID is the pool to fill. Empty creates a pool configured like
	// the scenarios' pools (guests, Facebook, the bench's developer
	// provider, both roles) in Account and us-east-1.
	PoolID  string
	Account string // owner of a created pool; "000000000000" if empty
	N       int    // identities to write
	// Batch is identities per transaction; 10,000 if 0.
	Batch int
	// DeveloperPercent and FacebookPercent of the identities are linked
	// to a developer user ("bulk-<tag>-dev-<i>" of the pool's developer
	// provider) or a Facebook user ("bulk-<tag>-fb-<i>"); the rest are
	// guests.
	DeveloperPercent, FacebookPercent int
	// Tag makes the users of this seeding unique; a random one if empty.
	Tag string
	Log io.Writer
}

// SeedResult is what BulkSeed did.
type SeedResult struct {
	PoolID     string        `json:"pool_id"`
	Tag        string        `json:"tag"`
	Identities int           `json:"identities"`
	Guests     int           `json:"guests"`
	Developers int           `json:"developers"`
	Facebook   int           `json:"facebook"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	DBBytes    int64         `json:"db_bytes"`
}

// Rate is identities written per second.
func (r *SeedResult) Rate() float64 { return float64(r.Identities) / r.Elapsed.Seconds() }

// BulkSeed writes identities straight into idpool's SQLite database,
// batch by batch, far faster than the API can: for scale tests with a
// million identities.
func BulkSeed(ctx context.Context, o SeedOptions) (*SeedResult, error) {
	if o.N < 0 || o.DeveloperPercent < 0 || o.FacebookPercent < 0 || o.DeveloperPercent+o.FacebookPercent > 100 {
		return nil, errors.New("seed: N and the percentages must not be negative, and the percentages must add up to 100 at most")
	}
	if o.Batch <= 0 {
		o.Batch = 10_000
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Tag == "" {
		o.Tag = randomTag()
	}
	st, err := sqlite.Open(ctx, filepath.Join(o.DataDir, "idpool.db"))
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()

	start := time.Now()
	var pool *store.Pool
	if o.PoolID == "" {
		pool = &store.Pool{
			ID:                      Region + ":" + uuid.NewString(),
			Account:                 o.Account,
			Region:                  Region,
			Name:                    "idpool_bench_bulk_" + o.Tag,
			AllowUnauthenticated:    true,
			SupportedLoginProviders: map[string]string{FacebookProvider: "app"},
			DeveloperProviderName:   DeveloperProvider,
			Roles:                   map[string]string{"unauthenticated": UnauthRoleARN, "authenticated": AuthRoleARN},
			CreatedAt:               start.UTC(),
			UpdatedAt:               start.UTC(),
		}
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, pool) }); err != nil {
			return nil, fmt.Errorf("seed: creating the pool: %w", err)
		}
	} else if pool, err = st.GetPool(ctx, o.PoolID); err != nil {
		return nil, fmt.Errorf("seed: pool %s: %w", o.PoolID, err)
	}
	if o.DeveloperPercent > 0 && pool.DeveloperProviderName == "" {
		return nil, fmt.Errorf("seed: pool %s has no developer provider", pool.ID)
	}
	res := &SeedResult{PoolID: pool.ID, Tag: o.Tag, Identities: o.N}
	// Creation times are in the past, one microsecond apart, so the
	// listing order is the seeding order and new identities come after.
	base := start.Add(-time.Duration(o.N+1) * time.Microsecond).UTC()
	batch := make([]*store.Identity, 0, o.Batch)
	for lo := 0; lo < o.N; lo += o.Batch {
		batch = batch[:0]
		for i := lo; i < min(lo+o.Batch, o.N); i++ {
			at := base.Add(time.Duration(i) * time.Microsecond)
			idID, err := cognito.IdentityID(Region, at, rand.Reader)
			if err != nil {
				return nil, err
			}
			id := &store.Identity{ID: idID, PoolID: pool.ID, CreatedAt: at, UpdatedAt: at}
			switch p := i % 100; {
			case p < o.DeveloperPercent:
				id.Logins = []store.Login{{PoolID: pool.ID, Provider: pool.DeveloperProviderName, Subject: fmt.Sprintf("bulk-%s-dev-%09d", o.Tag, i)}}
				res.Developers++
			case p < o.DeveloperPercent+o.FacebookPercent:
				id.Logins = []store.Login{{PoolID: pool.ID, Provider: FacebookProvider, Subject: fmt.Sprintf("bulk-%s-fb-%09d", o.Tag, i)}}
				res.Facebook++
			default:
				res.Guests++
			}
			batch = append(batch, id)
		}
		err := st.Update(ctx, func(tx store.Tx) error {
			for _, id := range batch {
				if err := tx.InsertIdentity(ctx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("seed: batch at %d: %w", lo, err)
		}
		if o.Log != nil && (lo/o.Batch)%10 == 9 {
			done := min(lo+o.Batch, o.N)
			fmt.Fprintf(o.Log, "seeded %d/%d identities (%.0f/s)\n", done, o.N, float64(done)/time.Since(start).Seconds())
		}
	}
	closed = true
	if err := st.Close(); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	res.DBBytes, _ = DirSize(o.DataDir)
	return res, nil
}

func randomTag() string { return uuid.NewString()[:8] }
