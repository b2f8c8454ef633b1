package dump

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/idpool/idpool/internal/seal"
	"github.com/idpool/idpool/internal/store"
)

// DefaultBatchSize is how many pools and identities one transaction of
// Import writes when Options.BatchSize is 0.
const DefaultBatchSize = 1000

// Errors of Import, tested with errors.Is.
var (
	// ErrNotEmpty means the target store holds identity pools, and the
	// import was not a merge.
	ErrNotEmpty = errors.New("dump: the target store is not empty")
	// ErrConflict means, in a merge, that a record of the stream exists in
	// the target with other contents (or a login of it belongs to another
	// identity there).
	ErrConflict = errors.New("dump: conflicts with the target store")
)

// Options configures Import.
type Options struct {
	// Merge imports into a store that already holds records: a record
	// whose id is there already with the same contents is skipped (so an
	// import that stopped half-way can be run again to finish), one with
	// other contents stops the import with ErrConflict. Without Merge, a
	// store holding any identity pool is refused with ErrNotEmpty.
	Merge bool
	// BatchSize is the number of pools and identities written per
	// transaction; DefaultBatchSize if 0.
	BatchSize int
	// Secrets are the target server's secrets: the stream's signing keys
	// must open with them, or with OldSecrets.
	Secrets [][]byte
	// OldSecrets, when set, are the secrets of the server the stream came
	// from: keys sealed with them are sealed again with Secrets[0].
	OldSecrets [][]byte
	// Rand supplies the nonces of re-sealed keys; nil is crypto/rand.
	Rand io.Reader
}

// Result is what an import did, also when it stopped early.
type Result struct {
	// Imported are the records written (committed) to the target.
	Imported Counts
	// Skipped are the records of a merge already in the target, the same.
	Skipped Counts
	// Line is the last line of the stream whose records are committed (0
	// when nothing is).
	Line int
	// ReplacedKeys are the ids of the target's own signing keys that the
	// stream's keys replaced (an import into an empty store).
	ReplacedKeys []string
}

// Import reads the stream of r (NewReader has read its header) into st.
//
// Nothing is written before the stream's signing keys have been checked
// against the target's secret and the first batch of records has been
// read and checked. The first transaction checks that the store is empty
// (unless o.Merge), installs the keys and writes that batch; then each
// further transaction writes o.BatchSize records. The last batch is
// written only once the trailer has confirmed that the stream is whole.
//
// The signing keys: without Merge the stream's keys replace any the
// target holds (a new server makes its first key when it starts, and a
// store without pools has signed no token anyone can use), so that tokens
// signed before the move verify after it and the same key signs on. A
// stream without keys leaves the target's keys alone. With Merge, a key
// the target lacks is added; one it has with the same private key is
// skipped (taking the stream's retirement if the target's copy has none);
// one it has with another private key is ErrConflict, before anything is
// written: tokens of one of the two could no longer be verified.
//
// When Import fails after it began writing, Result says what is committed
// and up to which line; rerunning the complete stream with Merge then
// skips that part and writes the rest.
func Import(ctx context.Context, st store.Store, r *Reader, o Options) (Result, error) {
	var res Result
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	streamKeys, err := r.Keys()
	if err != nil {
		return res, err
	}
	keys, err := PrepareKeys(streamKeys, o.Secrets, o.OldSecrets, o.Rand)
	if err != nil {
		return res, err
	}
	var box *seal.Box
	if o.Merge && len(keys) > 0 {
		if box, err = seal.New(o.Secrets, keyPurpose, o.Rand); err != nil {
			return res, err
		}
	}
	im := &importer{ctx: ctx, merge: o.Merge, keys: keys, box: box}
	batch := make([]*record, 0, o.BatchSize)
	first := true
	flush := func() error {
		var (
			done     Counts
			skipped  Counts
			replaced []string
		)
		err := st.Update(ctx, func(tx store.Tx) error {
			// fn may run again: start over each time.
			done, skipped, replaced = Counts{}, Counts{}, nil
			if first {
				var err error
				if replaced, err = im.begin(tx, &done, &skipped); err != nil {
					return err
				}
			}
			for _, rec := range batch {
				if err := im.apply(tx, rec, &done, &skipped); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		res.Imported.add(done)
		res.Skipped.add(skipped)
		res.ReplacedKeys = append(res.ReplacedKeys, replaced...)
		if len(batch) > 0 {
			res.Line = batch[len(batch)-1].line
		}
		first = false
		batch = batch[:0]
		return nil
	}
	for {
		rec, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		batch = append(batch, rec)
		if len(batch) == o.BatchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if len(batch) > 0 || first {
		if err := flush(); err != nil {
			return res, err
		}
	}
	res.Line = r.Line()
	return res, nil
}

// importer writes the records of one import.
type importer struct {
	ctx   context.Context
	merge bool
	keys  []*store.SigningKey // sealed with the target's secret
	box   *seal.Box           // opens the target's keys (merge only)
}

// begin runs in the first transaction: it checks that the target is empty
// (unless merging) and installs the signing keys. It returns the ids of
// the target's keys it replaced.
func (im *importer) begin(tx store.Tx, done, skipped *Counts) ([]string, error) {
	ctx := im.ctx
	if !im.merge {
		pools, err := tx.ListPools(ctx, "", "", nil, 1)
		if err != nil {
			return nil, err
		}
		if len(pools) > 0 {
			return nil, fmt.Errorf("%w: it holds identity pools (%s among them); import into an empty store, or merge into this one", ErrNotEmpty, pools[0].ID)
		}
	}
	if len(im.keys) == 0 {
		return nil, nil
	}
	existing, err := tx.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var replaced []string
	if !im.merge {
		for _, k := range existing {
			if err := tx.DeleteSigningKey(ctx, k.ID); err != nil {
				return nil, err
			}
			replaced = append(replaced, k.ID)
		}
		existing = nil
	}
	have := make(map[string]*store.SigningKey, len(existing))
	for _, k := range existing {
		have[k.ID] = k
	}
	for _, k := range im.keys {
		e, ok := have[k.ID]
		if !ok {
			if err := tx.InsertSigningKey(ctx, k); err != nil {
				return nil, fmt.Errorf("dump: signing key %s: %w", k.ID, err)
			}
			done.Keys++
			continue
		}
		same, err := sameKey(im.box, e, k)
		if err != nil {
			return nil, err
		}
		if !same {
			return nil, fmt.Errorf("%w: signing key %s exists in the target with another private key; "+
				"merging would leave the tokens of one of the two unverifiable", ErrConflict, k.ID)
		}
		if k.RetiresAt != nil && e.RetiresAt == nil {
			// Rotated at the source since an earlier import.
			if err := tx.RetireSigningKey(ctx, k.ID, *k.RetiresAt); err != nil {
				return nil, fmt.Errorf("dump: signing key %s: %w", k.ID, err)
			}
		}
		skipped.Keys++
	}
	return replaced, nil
}

// apply writes one pool or identity.
func (im *importer) apply(tx store.Tx, rec *record, done, skipped *Counts) error {
	ctx := im.ctx
	lineErr := func(err error) error { return &LineError{Line: rec.line, Err: err} }
	if p := rec.pool; p != nil {
		if im.merge {
			have, err := tx.GetPool(ctx, p.ID)
			if err == nil {
				if !samePool(have, p) {
					return lineErr(fmt.Errorf("%w: pool %s exists in the target with another configuration", ErrConflict, p.ID))
				}
				skipped.Pools++
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return lineErr(fmt.Errorf("pool %s: %w", p.ID, err))
			}
		}
		c := *p
		if err := tx.InsertPool(ctx, &c); err != nil {
			if errors.Is(err, store.ErrExists) {
				err = fmt.Errorf("%w: pool %s is in the target already (twice in the stream?)", ErrConflict, p.ID)
			}
			return lineErr(err)
		}
		done.Pools++
		return nil
	}
	id := rec.identity
	if im.merge {
		have, err := tx.GetIdentity(ctx, id.ID)
		if err == nil {
			if !sameIdentity(have, id) {
				return lineErr(fmt.Errorf("%w: identity %s exists in the target with other contents", ErrConflict, id.ID))
			}
			skipped.Identities++
			skipped.Logins += len(id.Logins)
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return lineErr(fmt.Errorf("identity %s: %w", id.ID, err))
		}
		for _, l := range id.Logins {
			holder, err := tx.FindLogin(ctx, l.PoolID, l.Provider, l.Subject)
			if err == nil {
				return lineErr(fmt.Errorf("%w: the login %s of identity %s is linked to identity %s in the target", ErrConflict, l.Provider, id.ID, holder))
			}
			if !errors.Is(err, store.ErrNotFound) {
				return lineErr(fmt.Errorf("identity %s: %w", id.ID, err))
			}
		}
	}
	if err := tx.InsertIdentity(ctx, id); err != nil {
		switch {
		case errors.Is(err, store.ErrExists):
			err = fmt.Errorf("%w: identity %s, or one of its logins, is in the target already", ErrConflict, id.ID)
		case errors.Is(err, store.ErrNotFound):
			err = fmt.Errorf("identity %s: its pool %s is not in the target", id.ID, id.PoolID)
		}
		return lineErr(err)
	}
	done.Identities++
	done.Logins += len(id.Logins)
	return nil
}

// samePool compares two pools as the format sees them: every field but
// the version, times as instants.
func samePool(a, b *store.Pool) bool {
	return sameJSON(poolToRecord(a), poolToRecord(b))
}

// sameIdentity compares two identities as the format sees them.
func sameIdentity(a, b *store.Identity) bool {
	return sameJSON(identityToRecord(a), identityToRecord(b))
}

func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
