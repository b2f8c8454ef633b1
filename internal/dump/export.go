package dump

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// Page sizes of Export's reads: what it holds in memory at a time.
const (
	poolPage     = 100
	identityPage = 1000
)

// Export writes the store's contents to w as a stream (see the package
// comment), stamped with exported: every signing key, then each pool
// followed by its identities, then the trailer. It reads page by page,
// so its memory does not grow with the store.
//
// Export reads outside any transaction: records created or deleted while
// it runs may or may not be in the stream, and an identity that moves
// during the export could miss a login. Export a store nothing writes to
// (a stopped server, or a backup of a live SQLite database) for a copy of
// one moment.
func Export(ctx context.Context, r store.Reader, w io.Writer, exported time.Time) (Counts, error) {
	var n Counts
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Header{Format: Format, Version: Version, Exported: utc(exported)}); err != nil {
		return n, err
	}
	keys, err := r.ListSigningKeys(ctx)
	if err != nil {
		return n, fmt.Errorf("dump: listing signing keys: %w", err)
	}
	for _, k := range keys {
		if err := enc.Encode(keyToRecord(k)); err != nil {
			return n, err
		}
		n.Keys++
	}
	var after *store.PoolCursor
	for {
		pools, err := r.ListPools(ctx, "", "", after, poolPage)
		if err != nil {
			return n, fmt.Errorf("dump: listing pools: %w", err)
		}
		for _, p := range pools {
			if err := enc.Encode(poolToRecord(p)); err != nil {
				return n, err
			}
			n.Pools++
			if err := exportIdentities(ctx, r, enc, p.ID, &n); err != nil {
				return n, err
			}
		}
		if len(pools) < poolPage {
			break
		}
		last := pools[len(pools)-1]
		after = &store.PoolCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if err := enc.Encode(endRecord{Type: typeEnd, Counts: n}); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// exportIdentities writes every identity of one pool, disabled ones too.
func exportIdentities(ctx context.Context, r store.Reader, enc *json.Encoder, poolID string, n *Counts) error {
	var after *store.IdentityCursor
	for {
		ids, err := r.ListIdentities(ctx, poolID, after, identityPage, false)
		if err != nil {
			return fmt.Errorf("dump: listing the identities of pool %s: %w", poolID, err)
		}
		for _, id := range ids {
			if err := enc.Encode(identityToRecord(id)); err != nil {
				return err
			}
			n.Identities++
			n.Logins += len(id.Logins)
		}
		if len(ids) < identityPage {
			return nil
		}
		last := ids[len(ids)-1]
		after = &store.IdentityCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
}
