// Package storetest is the conformance suite of the store.Store contract.
// Every backend's tests call Run with a constructor of fresh, empty stores;
// what passes here is what the service may rely on.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// NewStore returns a new, empty store; the suite closes it.
type NewStore func(t *testing.T) store.Store

// Run runs the whole suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []namedTest{
		{"PoolRoundTrip", testPoolRoundTrip},
		{"PoolInsertDuplicate", testPoolInsertDuplicate},
		{"PoolUpdateCompareAndSwap", testPoolUpdateCAS},
		{"PoolUpdateMissing", testPoolUpdateMissing},
		{"PoolDelete", testPoolDelete},
		{"PoolListOrderAndOwner", testPoolList},
		{"PoolListStableWhileChanging", testPoolListStable},
		{"UpdateRollsBackOnError", testUpdateRollback},
		{"UpdatePoolVersionOnCommitOnly", testUpdatePoolVersionOnCommit},
		{"Ping", testPing},
		{"ConcurrentCompareAndSwap", testConcurrentCAS},
		{"ConcurrentQuota", testConcurrentQuota},
	}
	tests = append(tests, identityTests()...)
	tests = append(tests, keyTests()...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

type namedTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// base is a fixed instant: the suite never reads the wall clock.
var base = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newPool(n int, account, region string) *store.Pool {
	classic := false
	check := true
	return &store.Pool{
		ID:                      fmt.Sprintf("%s:00000000-0000-4000-8000-%012d", region, n),
		Account:                 account,
		Region:                  region,
		Name:                    fmt.Sprintf("pool %d", n),
		AllowUnauthenticated:    n%2 == 0,
		AllowClassicFlow:        &classic,
		SupportedLoginProviders: map[string]string{"graph.facebook.com": "123"},
		DeveloperProviderName:   "login.example.dev",
		OpenIDConnectProviderARNs: []string{
			"arn:aws:iam::123456789012:oidc-provider/issuer.example.com",
		},
		CognitoIdentityProviders: []store.CognitoProvider{{
			ProviderName: "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc", ClientID: "client1", ServerSideTokenCheck: &check,
		}},
		SAMLProviderARNs: []string{"arn:aws:iam::123456789012:saml-provider/corp"},
		Tags:             map[string]string{"team": "a", "empty": ""},
		Roles:            map[string]string{"authenticated": "arn:aws:iam::123456789012:role/auth"},
		RoleMappings: map[string]store.RoleMapping{
			"graph.facebook.com": {Type: "Rules", AmbiguousRoleResolution: "Deny", RulesConfiguration: &store.RulesConfiguration{
				Rules: []store.MappingRule{{Claim: "sub", MatchType: "Equals", Value: "x", RoleARN: "arn:aws:iam::123456789012:role/r"}},
			}},
		},
		PrincipalTags: map[string]store.PrincipalTagMap{
			"graph.facebook.com": {PrincipalTags: map[string]string{"user": "sub"}},
		},
		CreatedAt: base.Add(time.Duration(n) * time.Second),
		UpdatedAt: base.Add(time.Duration(n) * time.Second),
	}
}

func insert(t *testing.T, s store.Store, p *store.Pool) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertPool(context.Background(), p) }); err != nil {
		t.Fatalf("InsertPool(%s): %v", p.ID, err)
	}
}

func mustGet(t *testing.T, s store.Reader, id string) *store.Pool {
	t.Helper()
	p, err := s.GetPool(context.Background(), id)
	if err != nil {
		t.Fatalf("GetPool(%s): %v", id, err)
	}
	return p
}

func testPoolRoundTrip(t *testing.T, s store.Store) {
	want := newPool(1, "123456789012", "us-east-1")
	insert(t, s, want)
	if want.Version != 1 {
		t.Errorf("Version after insert = %d, want 1", want.Version)
	}
	got := mustGet(t, s, want.ID)
	assertPoolEqual(t, got, want)
	// Reads inside a transaction see the same record.
	err := s.Update(context.Background(), func(tx store.Tx) error {
		inTx, err := tx.GetPool(context.Background(), want.ID)
		if err != nil {
			return err
		}
		assertPoolEqual(t, inTx, want)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPool(context.Background(), "us-east-1:00000000-0000-4000-8000-999999999999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetPool(missing) error = %v, want ErrNotFound", err)
	}
}

func testPoolInsertDuplicate(t *testing.T, s store.Store) {
	p := newPool(1, "123456789012", "us-east-1")
	insert(t, s, p)
	dup := newPool(1, "123456789012", "us-east-1")
	dup.Name = "other"
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertPool(context.Background(), dup) })
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("second InsertPool error = %v, want ErrExists", err)
	}
	if got := mustGet(t, s, p.ID); got.Name != p.Name {
		t.Errorf("duplicate insert changed the pool: name %q", got.Name)
	}
}

func testPoolUpdateCAS(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := newPool(1, "123456789012", "us-east-1")
	insert(t, s, p)

	stale := mustGet(t, s, p.ID)
	fresh := mustGet(t, s, p.ID)
	fresh.Name = "renamed"
	fresh.Tags = nil
	fresh.UpdatedAt = base.Add(time.Hour)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdatePool(ctx, fresh) }); err != nil {
		t.Fatalf("UpdatePool: %v", err)
	}
	if fresh.Version != 2 {
		t.Errorf("Version after update = %d, want 2", fresh.Version)
	}
	stale.Name = "lost update"
	err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdatePool(ctx, stale) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale UpdatePool error = %v, want ErrConflict", err)
	}
	got := mustGet(t, s, p.ID)
	if got.Name != "renamed" || got.Version != 2 || len(got.Tags) != 0 {
		t.Errorf("after updates: name %q version %d tags %v; want renamed, 2, none", got.Name, got.Version, got.Tags)
	}
	if !got.UpdatedAt.Equal(base.Add(time.Hour)) || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("times: created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
}

func testPoolUpdateMissing(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := newPool(1, "123456789012", "us-east-1")
	p.Version = 1
	err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdatePool(ctx, p) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdatePool(missing) error = %v, want ErrNotFound", err)
	}
}

func testPoolDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := newPool(1, "123456789012", "us-east-1")
	insert(t, s, p)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.DeletePool(ctx, p.ID) }); err != nil {
		t.Fatalf("DeletePool: %v", err)
	}
	if _, err := s.GetPool(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetPool after delete error = %v, want ErrNotFound", err)
	}
	err := s.Update(ctx, func(tx store.Tx) error { return tx.DeletePool(ctx, p.ID) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeletePool error = %v, want ErrNotFound", err)
	}
}

func ids(ps []*store.Pool) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func testPoolList(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Inserted out of creation order, across two accounts and two regions.
	for _, n := range []int{5, 1, 4, 2, 3} {
		insert(t, s, newPool(n, "111111111111", "us-east-1"))
	}
	insert(t, s, newPool(6, "111111111111", "eu-west-1"))
	insert(t, s, newPool(7, "222222222222", "us-east-1"))

	all, err := s.ListPools(ctx, "111111111111", "us-east-1", nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{newPool(1, "", "us-east-1").ID, newPool(2, "", "us-east-1").ID, newPool(3, "", "us-east-1").ID,
		newPool(4, "", "us-east-1").ID, newPool(5, "", "us-east-1").ID}
	if got := ids(all); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListPools = %v, want %v", got, want)
	}
	page, err := s.ListPools(ctx, "111111111111", "us-east-1", &store.PoolCursor{CreatedAt: all[1].CreatedAt, ID: all[1].ID}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page); fmt.Sprint(got) != fmt.Sprint(want[2:4]) {
		t.Errorf("ListPools after 2nd, limit 2 = %v, want %v", got, want[2:4])
	}
	anyRegion, err := s.ListPools(ctx, "111111111111", "", nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(anyRegion) != 6 {
		t.Errorf("ListPools(all regions) returned %d pools, want 6", len(anyRegion))
	}
	everyone, err := s.ListPools(ctx, "", "", nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(everyone) != 7 {
		t.Errorf("ListPools(every account) returned %d pools, want 7", len(everyone))
	}
	if p, err := s.ListPools(ctx, "", "", &store.PoolCursor{CreatedAt: everyone[5].CreatedAt, ID: everyone[5].ID}, 100); err != nil || len(p) != 1 {
		t.Errorf("ListPools(every account) after the 6th = %d pools, %v; want 1", len(p), err)
	}
	if n, err := s.CountPools(ctx, "111111111111", "us-east-1"); err != nil || n != 5 {
		t.Errorf("CountPools = %d, %v; want 5", n, err)
	}
	if n, err := s.CountPools(ctx, "333333333333", "us-east-1"); err != nil || n != 0 {
		t.Errorf("CountPools(other account) = %d, %v; want 0", n, err)
	}
}

// testPoolListStable pages through pools while others are created and
// deleted between pages: every pool that exists for the whole listing is
// seen exactly once.
func testPoolListStable(t *testing.T, s store.Store) {
	ctx := context.Background()
	const account, region = "111111111111", "us-east-1"
	for n := 1; n <= 20; n++ {
		insert(t, s, newPool(n*10, account, region))
	}
	stable := map[string]bool{}
	for n := 1; n <= 20; n++ {
		if n%3 != 0 {
			stable[newPool(n*10, account, region).ID] = true
		}
	}
	seen := map[string]int{}
	var cursor *store.PoolCursor
	for step := 0; ; step++ {
		page, err := s.ListPools(ctx, account, region, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			seen[p.ID]++
		}
		if len(page) < 3 {
			break
		}
		last := page[len(page)-1]
		cursor = &store.PoolCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		// Between pages: delete one of the unstable pools, create new ones
		// before and after the cursor.
		del := newPool((step*3+3)*10, account, region).ID
		_ = s.Update(ctx, func(tx store.Tx) error { return tx.DeletePool(ctx, del) })
		insert(t, s, newPool(1000+step, account, region))
		insert(t, s, newPool(step*10+5, account, region))
	}
	for id := range stable {
		if seen[id] != 1 {
			t.Errorf("pool %s seen %d times, want exactly once", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("pool %s repeated %d times", id, n)
		}
	}
}

func testUpdateRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	p := newPool(1, "123456789012", "us-east-1")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertPool(ctx, p); err != nil {
			return err
		}
		if _, err := tx.GetPool(ctx, p.ID); err != nil {
			return fmt.Errorf("own write not visible inside the transaction: %w", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update error = %v, want the function's error", err)
	}
	if _, err := s.GetPool(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rolled-back insert is visible: %v", err)
	}
}

// testUpdatePoolVersionOnCommit: a pool's new version reaches the record
// given to UpdatePool only if its transaction commits, so that a
// transaction function run again (or a failed one's caller) still holds
// the version it read.
func testUpdatePoolVersionOnCommit(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := newPool(1, "123456789012", "us-east-1")
	insert(t, s, p)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.UpdatePool(ctx, p); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	if p.Version != 1 {
		t.Fatalf("a rolled-back UpdatePool left Version %d, want 1", p.Version)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdatePool(ctx, p) }); err != nil {
		t.Fatalf("UpdatePool with the version read: %v", err)
	}
	if p.Version != 2 {
		t.Errorf("Version %d after a committed UpdatePool, want 2", p.Version)
	}
}

// testPing: an open store answers.
func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// testConcurrentCAS has many writers race to update one pool through
// read-then-compare-and-swap: every successful swap is kept, and exactly
// the writers that succeeded are reflected in the version.
func testConcurrentCAS(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := newPool(1, "123456789012", "us-east-1")
	p.Tags = map[string]string{}
	insert(t, s, p)
	const writers = 16
	var wins atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempt := 0; attempt < 100; attempt++ {
				cur, err := s.GetPool(ctx, p.ID)
				if err != nil {
					t.Error(err)
					return
				}
				if cur.Tags == nil {
					cur.Tags = map[string]string{}
				}
				cur.Tags[fmt.Sprintf("w%d", w)] = "x"
				err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdatePool(ctx, cur) })
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				wins.Add(1)
				return
			}
			t.Errorf("writer %d never won", w)
		}()
	}
	wg.Wait()
	got := mustGet(t, s, p.ID)
	if got.Version != 1+wins.Load() {
		t.Errorf("version %d after %d successful swaps, want %d", got.Version, wins.Load(), 1+wins.Load())
	}
	if len(got.Tags) != writers {
		t.Errorf("%d tags survived, want %d (a successful swap was lost): %v", len(got.Tags), writers, got.Tags)
	}
}

// testConcurrentQuota checks a count-then-insert quota inside Update under
// concurrency: the limit is never exceeded.
func testConcurrentQuota(t *testing.T, s store.Store) {
	ctx := context.Background()
	const limit, attempts = 5, 24
	errQuota := errors.New("quota")
	var wg sync.WaitGroup
	var created atomic.Int64
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(ctx, func(tx store.Tx) error {
				n, err := tx.CountPools(ctx, "123456789012", "us-east-1")
				if err != nil {
					return err
				}
				if n >= limit {
					return errQuota
				}
				return tx.InsertPool(ctx, newPool(100+i, "123456789012", "us-east-1"))
			})
			switch {
			case err == nil:
				created.Add(1)
			case errors.Is(err, errQuota):
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n, err := s.CountPools(ctx, "123456789012", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if n != limit || created.Load() != limit {
		t.Errorf("%d pools stored, %d creations acknowledged; want exactly %d", n, created.Load(), limit)
	}
}
