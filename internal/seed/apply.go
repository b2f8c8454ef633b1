package seed

import (
	"context"

	"github.com/idpool/idpool/internal/cognito"
)

// Apply brings the store to what the seed says, through the service
// (cognito.Service.Seed: one transaction, idempotent). Pools that name no
// AccountId belong to defaultAccount. A nil seed applies nothing. An error
// from the service's rules names the file, the pool, the member and its
// line.
func (s *Seed) Apply(ctx context.Context, svc *cognito.Service, defaultAccount string) (cognito.SeedResult, error) {
	if s.Len() == 0 {
		return cognito.SeedResult{}, nil
	}
	in := make([]cognito.SeededPool, len(s.pools))
	for i, p := range s.pools {
		in[i] = p.in
		if in[i].AccountId == "" {
			in[i].AccountId = defaultAccount
		}
	}
	res, err := svc.Seed(ctx, in)
	if err != nil {
		return cognito.SeedResult{}, s.explain(err)
	}
	return res, nil
}

// ResetResult is what a reset did.
type ResetResult struct {
	// Deleted is the number of pools deleted.
	Deleted int
	// Pools is the number of pools the seed lists, all there now.
	Pools int
	// Seed is what applying the seed again changed.
	Seed cognito.SeedResult
}

// Reset deletes every pool of every account with its identities, then
// applies the seed again (s may be nil: nothing is seeded); signing keys
// stay. It is the one implementation of a reset: POST /_idpool/reset on a
// running server and `idpool reset` on a stopped one both call it.
//
// It is not one transaction: a request served meanwhile may see some
// pools gone and the seeded ones not back yet, and a pool created
// meanwhile may survive.
func Reset(ctx context.Context, svc *cognito.Service, s *Seed, defaultAccount string) (ResetResult, error) {
	n, err := svc.DeleteAllPools(ctx)
	if err != nil {
		return ResetResult{Deleted: n}, err
	}
	res, err := s.Apply(ctx, svc, defaultAccount)
	if err != nil {
		return ResetResult{Deleted: n}, err
	}
	return ResetResult{Deleted: n, Pools: s.Len(), Seed: res}, nil
}
