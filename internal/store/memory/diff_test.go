package memory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/memory"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// TestSameAsSQLite runs the same random transactions (committed and rolled
// back, reading their own writes) against the memory store and the SQLite
// backend, over a small space of ids so that they collide often, and
// compares every result and, after every transaction, everything stored.
// The conformance suite says what must hold; this finds where the two
// differ in what it leaves open.
func TestSameAsSQLite(t *testing.T) {
	seeds, updates := 12, 60
	if testing.Short() {
		seeds = 3
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ctx := context.Background()
			lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "idpool.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer lite.Close()
			mem := memory.New()
			defer mem.Close()
			stores := []store.Store{mem, lite}
			for u := range updates {
				// Both stores get the same program: a generator seeded alike.
				var transcripts [2]string
				for i, s := range stores {
					g := &gen{rng: rand.New(rand.NewPCG(uint64(seed), uint64(u)))}
					transcripts[i] = g.run(ctx, s)
				}
				if transcripts[0] != transcripts[1] {
					t.Fatalf("update %d differs:\n%s", u, diffLines(transcripts[0], transcripts[1]))
				}
				if a, b := fullDump(t, mem), fullDump(t, lite); a != b {
					t.Fatalf("stored state differs after update %d:\n%s", u, diffLines(a, b))
				}
			}
		})
	}
}

const (
	genPools      = 3
	genIdentities = 10
	genKeys       = 3
)

var (
	genProviders = []string{"graph.facebook.com", "login.dev"}
	genSubjects  = []string{"s0", "s1", "s2", "s3"}
)

// gen draws one store call at a time from its generator and runs it,
// writing what came back to the transcript.
type gen struct {
	rng *rand.Rand
	out strings.Builder
}

func (g *gen) pick(n int) int { return g.rng.IntN(n) }

func (g *gen) note(what string, v any, err error) {
	j, _ := json.Marshal(v)
	fmt.Fprintf(&g.out, "%s -> %s %s\n", what, j, errClass(err))
}

// run runs one Update (or a guest CreateIdentity) of random calls.
func (g *gen) run(ctx context.Context, s store.Store) string {
	if g.pick(6) == 0 {
		id := g.identity()
		id.Logins = nil
		g.note("CreateIdentity "+id.ID, nil, s.CreateIdentity(ctx, id))
		return g.out.String()
	}
	rollback := g.pick(4) == 0
	errRollback := errors.New("rolled back")
	calls := 1 + g.pick(8)
	if g.pick(5) == 0 {
		// Long ones delete, re-create and refill pools within themselves.
		calls = 10 + g.pick(30)
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		for range calls {
			if err := g.call(ctx, tx); err != nil {
				return err
			}
		}
		if rollback {
			return errRollback
		}
		return nil
	})
	g.note("Update", nil, err)
	return g.out.String()
}

func (g *gen) poolID() string { return poolID(g.pick(genPools)) }

func (g *gen) identityID() string { return identityID(g.pick(genIdentities)) }

func (g *gen) login() store.Login {
	return store.Login{PoolID: g.poolID(), Provider: genProviders[g.pick(len(genProviders))],
		Subject: genSubjects[g.pick(len(genSubjects))], IdentityID: g.identityID()}
}

// instant draws from a few instants, so that creation times tie.
func (g *gen) instant() time.Time { return base.Add(time.Duration(g.pick(4)) * time.Millisecond) }

func (g *gen) pool() *store.Pool {
	n := g.pick(genPools)
	p := newPool(n)
	p.Account = []string{"111111111111", "222222222222"}[g.pick(2)]
	p.Region = []string{"us-east-1", "eu-west-1"}[g.pick(2)]
	p.CreatedAt, p.UpdatedAt = g.instant(), g.instant()
	// Empty and nil configuration parts read back alike in every backend.
	switch g.pick(3) {
	case 0:
		p.Tags = nil
	case 1:
		p.Tags = map[string]string{}
	}
	if g.pick(2) == 0 {
		p.RoleMappings["cip"].RulesConfiguration.Rules = []store.MappingRule{}
	}
	if g.pick(2) == 0 {
		no := false
		p.AllowClassicFlow = &no
	}
	return p
}

func (g *gen) identity() *store.Identity {
	id := &store.Identity{ID: g.identityID(), PoolID: g.poolID(), CreatedAt: g.instant(), UpdatedAt: g.instant(), Disabled: g.pick(4) == 0}
	for range g.pick(3) {
		l := g.login()
		l.PoolID = id.PoolID
		id.Logins = append(id.Logins, l)
	}
	return id
}

// call runs one random call in tx; an error it returns ends the
// transaction (an InsertIdentity that failed half-way leaves different
// partial changes in different backends, which only a caller that ignores
// the error could see).
func (g *gen) call(ctx context.Context, tx store.Tx) error {
	switch g.pick(19) {
	case 0:
		p := g.pool()
		err := tx.InsertPool(ctx, p)
		// The caller's Version after a failed insert is left open (SQLite
		// sets it anyway, PostgreSQL and memory do not).
		if err != nil {
			p.Version = 0
		}
		g.note("InsertPool "+p.ID, p.Version, err)
	case 1:
		p := g.pool()
		if cur, err := tx.GetPool(ctx, p.ID); err == nil && g.pick(4) != 0 {
			p.Version = cur.Version
		} else {
			p.Version = int64(1 + g.pick(3))
		}
		err := tx.UpdatePool(ctx, p)
		g.note("UpdatePool "+p.ID, p.Version, err)
	case 2:
		id := g.poolID()
		g.note("DeletePool "+id, nil, tx.DeletePool(ctx, id))
	case 3, 4:
		id := g.identity()
		err := tx.InsertIdentity(ctx, id)
		g.note("InsertIdentity "+id.ID, id, err)
		if err != nil {
			return err
		}
	case 5:
		id := &store.Identity{ID: g.identityID(), Disabled: g.pick(2) == 0, UpdatedAt: g.instant()}
		g.note("UpdateIdentity "+id.ID, nil, tx.UpdateIdentity(ctx, id))
	case 6:
		id := g.identityID()
		g.note("DeleteIdentity "+id, nil, tx.DeleteIdentity(ctx, id))
	case 7:
		l := g.login()
		g.note("LinkLogin", l, tx.LinkLogin(ctx, l))
	case 8:
		l := g.login()
		g.note("RelinkLogin", l, tx.RelinkLogin(ctx, l))
	case 9:
		l := g.login()
		g.note("UnlinkLogin", l, tx.UnlinkLogin(ctx, l.PoolID, l.Provider, l.Subject))
	case 10:
		k := &store.SigningKey{ID: fmt.Sprint("k", g.pick(genKeys)), Sealed: []byte{byte(g.pick(256))}, CreatedAt: g.instant()}
		g.note("InsertSigningKey "+k.ID, nil, tx.InsertSigningKey(ctx, k))
	case 11:
		id := fmt.Sprint("k", g.pick(genKeys))
		g.note("RetireSigningKey "+id, nil, tx.RetireSigningKey(ctx, id, g.instant()))
	case 12:
		id := fmt.Sprint("k", g.pick(genKeys))
		g.note("DeleteSigningKey "+id, nil, tx.DeleteSigningKey(ctx, id))
	default:
		g.read(ctx, tx)
	}
	return nil
}

// read runs one random read.
func (g *gen) read(ctx context.Context, r store.Reader) {
	switch g.pick(7) {
	case 0:
		id := g.poolID()
		p, err := r.GetPool(ctx, id)
		g.note("GetPool "+id, p, err)
	case 1:
		account := []string{"", "111111111111", "222222222222"}[g.pick(3)]
		region := []string{"", "us-east-1", "eu-west-1"}[g.pick(3)]
		var after *store.PoolCursor
		if g.pick(2) == 0 {
			after = &store.PoolCursor{CreatedAt: g.instant(), ID: g.poolID()}
		}
		limit := 1 + g.pick(4)
		ps, err := r.ListPools(ctx, account, region, after, limit)
		g.note(fmt.Sprintf("ListPools %q %q %v %d", account, region, after, limit), ps, err)
	case 2:
		account := []string{"111111111111", "222222222222"}[g.pick(2)]
		region := []string{"us-east-1", "eu-west-1"}[g.pick(2)]
		n, err := r.CountPools(ctx, account, region)
		g.note("CountPools "+account+" "+region, n, err)
	case 3:
		id := g.identityID()
		ident, err := r.GetIdentity(ctx, id)
		g.note("GetIdentity "+id, ident, err)
	case 4:
		pool := g.poolID()
		var after *store.IdentityCursor
		if g.pick(2) == 0 {
			after = &store.IdentityCursor{CreatedAt: g.instant(), ID: g.identityID()}
		}
		limit, hide := 1+g.pick(5), g.pick(2) == 0
		ids, err := r.ListIdentities(ctx, pool, after, limit, hide)
		g.note(fmt.Sprintf("ListIdentities %s %v %d %v", pool, after, limit, hide), listed(ids), err)
	case 5:
		l := g.login()
		id, err := r.FindLogin(ctx, l.PoolID, l.Provider, l.Subject)
		g.note("FindLogin", id, err)
	case 6:
		keys, err := r.ListSigningKeys(ctx)
		g.note("ListSigningKeys", keys, err)
	}
}

// listed hides the pools of the logins in a ListIdentities page: SQLite
// lists a login with its identity's pool instead of its own (its
// GetIdentity, and PostgreSQL, give the login's own, as memory does). The
// two differ only for a login linked to an identity of another pool, which
// the service never does.
func listed(ids []*store.Identity) []*store.Identity {
	out := make([]*store.Identity, len(ids))
	for i, id := range ids {
		c := *id
		c.Logins = nil
		for _, l := range id.Logins {
			l.PoolID = ""
			c.Logins = append(c.Logins, l)
		}
		out[i] = &c
	}
	return out
}

// fullDump reads everything in the generator's id space.
func fullDump(t *testing.T, r store.Reader) string {
	t.Helper()
	var pools, idents []string
	for n := range genPools {
		pools = append(pools, poolID(n))
	}
	for n := range genIdentities {
		idents = append(idents, identityID(n))
	}
	out := dump(t, r, pools, idents)
	g := &gen{}
	for _, pool := range pools {
		for _, provider := range genProviders {
			for _, subject := range genSubjects {
				id, err := r.FindLogin(context.Background(), pool, provider, subject)
				g.note("FindLogin "+pool+" "+provider+" "+subject, id, err)
			}
		}
	}
	return out + g.out.String()
}

// diffLines shows the first differing line of two transcripts with some
// context.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			from := max(0, i-8)
			return fmt.Sprintf("context:\n  %s\nmemory: %s\nsqlite: %s", strings.Join(al[from:i], "\n  "), x, y)
		}
	}
	return "(no difference)"
}
