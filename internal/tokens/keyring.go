package tokens

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/reqinfo"
	"github.com/idpool/idpool/internal/seal"
	"github.com/idpool/idpool/internal/store"
)

// Timing of key rotation.
const (
	// RefreshInterval is how often a replica re-reads the keys, so that a
	// rotation made elsewhere reaches it.
	RefreshInterval = 30 * time.Second
	// Propagation is how long a new key is published before it signs:
	// long enough for every replica, and every verifier caching the JWKS
	// for a refresh interval, to know it. The previous key signs meanwhile.
	Propagation = 2 * RefreshInterval
	// MaxTokenLifetime is the longest lifetime of a token (a developer
	// token of TokenDuration 86400) plus the clock skew verifiers allow; a
	// retired key stays published that long after it stops signing.
	MaxTokenLifetime = 24*time.Hour + ClockSkew
	// rsaBits is the size of the RSA keys.
	rsaBits = 2048
)

// key is a signing key ready to use.
type key struct {
	id        string
	priv      *rsa.PrivateKey
	created   time.Time
	retiresAt *time.Time
}

// KeyRing holds the signing keys, kept in the store sealed with the server
// secret so that every replica sharing the database shares them.
type KeyRing struct {
	store     store.Store
	box       *seal.Box
	now       func() time.Time
	rand      io.Reader
	kidPrefix string
	log       *slog.Logger

	mu       sync.RWMutex
	keys     []*key // oldest first
	loadedAt time.Time
	jwks     []byte

	refreshMu sync.Mutex // one reload at a time
}

// KeyRingOptions configures a KeyRing.
type KeyRingOptions struct {
	Store store.Store
	// Secrets seal the private keys; the first one seals new keys.
	Secrets [][]byte
	Clock   func() time.Time
	Rand    io.Reader // for key generation and sealing; nil is crypto/rand
	// KIDPrefix starts every key id, which then ends in the key's
	// number, the way AWS names keys ("us-east-11" is key 1 of us-east-1).
	KIDPrefix string
	Logger    *slog.Logger
}

// NewKeyRing returns a KeyRing; call Load before use.
func NewKeyRing(o KeyRingOptions) (*KeyRing, error) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.KIDPrefix == "" {
		o.KIDPrefix = "idpool"
	}
	box, err := seal.New(o.Secrets, "signing-keys", o.Rand)
	if err != nil {
		return nil, err
	}
	return &KeyRing{store: o.Store, box: box, now: o.Clock, rand: o.Rand, kidPrefix: o.KIDPrefix, log: o.Logger}, nil
}

// Load reads the keys from the store, creating the first key when there is
// none (replicas starting together agree on one: the key id is the primary
// key, so only one insert of key 1 can succeed).
func (r *KeyRing) Load(ctx context.Context) error {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		stored, err := r.store.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		if len(stored) == 0 {
			err := r.store.Update(ctx, func(tx store.Tx) error { return r.insertKey(ctx, tx, 1) })
			if err != nil && !errors.Is(err, store.ErrExists) {
				return err
			}
			continue
		}
		return r.install(stored)
	}
	return errors.New("tokens: could not create the first signing key")
}

// install parses stored keys into the ring and rebuilds the JWKS.
func (r *KeyRing) install(stored []*store.SigningKey) error {
	r.mu.RLock()
	known := map[string]*key{}
	for _, k := range r.keys {
		known[k.id] = k
	}
	r.mu.RUnlock()
	keys := make([]*key, 0, len(stored))
	for _, sk := range stored {
		if k, ok := known[sk.ID]; ok {
			keys = append(keys, &key{id: k.id, priv: k.priv, created: sk.CreatedAt, retiresAt: sk.RetiresAt})
			continue
		}
		der, err := r.box.Open(sk.Sealed, []byte(sk.ID))
		if err != nil {
			return fmt.Errorf("tokens: signing key %s does not open with the server secret (was the secret changed?): %w", sk.ID, err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return fmt.Errorf("tokens: signing key %s: %w", sk.ID, err)
		}
		rk, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return fmt.Errorf("tokens: signing key %s is not an RSA key", sk.ID)
		}
		rk.Precompute()
		keys = append(keys, &key{id: sk.ID, priv: rk, created: sk.CreatedAt, retiresAt: sk.RetiresAt})
	}
	now := r.now()
	jwks, err := buildJWKS(published(keys, now))
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.keys, r.jwks, r.loadedAt = keys, jwks, now
	r.mu.Unlock()
	return nil
}

// insertKey generates, seals and stores key number n.
func (r *KeyRing) insertKey(ctx context.Context, tx store.Tx, n int) error {
	priv, err := rsa.GenerateKey(r.rand, rsaBits)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	id := r.kidPrefix + strconv.Itoa(n)
	sealed, err := r.box.Seal(der, []byte(id))
	if err != nil {
		return err
	}
	return tx.InsertSigningKey(ctx, &store.SigningKey{ID: id, Sealed: sealed, CreatedAt: r.now()})
}

// number is the key number at the end of an id, 0 if none.
func (r *KeyRing) number(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, r.kidPrefix))
	return n
}

// Rotate adds a new key and retires the current ones: they keep signing
// for Propagation, until the new key is known everywhere, and stay
// published for MaxTokenLifetime after that. Keys no token can need any
// more are deleted. It returns the new key's id.
func (r *KeyRing) Rotate(ctx context.Context) (string, error) {
	var (
		newID            string
		retired, deleted []string
	)
	err := r.store.Update(ctx, func(tx store.Tx) error {
		// The function may run more than once: start over each time.
		retired, deleted = nil, nil
		stored, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		now := r.now()
		next := 1
		for _, sk := range stored {
			next = max(next, r.number(sk.ID)+1)
			switch {
			case sk.RetiresAt == nil:
				if err := tx.RetireSigningKey(ctx, sk.ID, now.Add(Propagation)); err != nil {
					return err
				}
				retired = append(retired, sk.ID)
			case now.After(sk.RetiresAt.Add(MaxTokenLifetime)):
				if err := tx.DeleteSigningKey(ctx, sk.ID); err != nil {
					return err
				}
				deleted = append(deleted, sk.ID)
			}
		}
		newID = r.kidPrefix + strconv.Itoa(next)
		return r.insertKey(ctx, tx, next)
	})
	if err != nil {
		return "", err
	}
	// The audit line of the rotation: key ids only (public, they are in
	// the JWKS), never key material. Signing keys belong to the server;
	// the account is who rotated them (a console session's), "" from the
	// command line, which has no request id either.
	attrs := []slog.Attr{
		slog.String("action", "signing_key.rotate"),
		slog.String("account", caller.From(ctx).Account),
	}
	if id := reqinfo.RequestID(ctx); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	attrs = append(attrs,
		slog.String("key_id", newID),
		slog.Any("retired_key_ids", retired),
		slog.Any("deleted_key_ids", deleted),
	)
	r.log.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
	return newID, r.Refresh(ctx)
}

// Refresh re-reads the keys from the store.
func (r *KeyRing) Refresh(ctx context.Context) error {
	stored, err := r.store.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		return r.Load(ctx)
	}
	return r.install(stored)
}

// Run refreshes the keys every RefreshInterval until ctx is done.
func (r *KeyRing) Run(ctx context.Context) {
	t := time.NewTicker(RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("refreshing signing keys failed; keeping the ones loaded", "err", err)
			}
		}
	}
}

// signer picks the key that signs at now: the newest key that has been
// published for Propagation and is not retired yet. When no unretired key
// is that old (the very first key, or a rotation right after it), the
// oldest unretired key signs: it is the one published longest.
// CanSign reports whether a signing key is loaded that may sign now.
func (r *KeyRing) CanSign(now time.Time) bool { return r.signer(now) != nil }

func (r *KeyRing) signer(now time.Time) *key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var best, oldest *key
	for _, k := range r.keys {
		if k.retiresAt != nil && !now.Before(*k.retiresAt) {
			continue
		}
		if oldest == nil {
			oldest = k
		}
		if !k.created.Add(Propagation).After(now) {
			best = k
		}
	}
	if best != nil {
		return best
	}
	return oldest
}

// SigningKey returns the id and creation time of the key that signs at
// now (the gauge of its age is computed from them); ok is false when no
// loaded key may sign.
func (r *KeyRing) SigningKey(now time.Time) (id string, created time.Time, ok bool) {
	k := r.signer(now)
	if k == nil {
		return "", time.Time{}, false
	}
	return k.id, k.created, true
}

// lookup returns the published key with the given id.
func (r *KeyRing) lookup(id string) *key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// refreshIfStale reloads the keys when a token names a key this replica
// does not know (another replica rotated), at most once a second.
func (r *KeyRing) refreshIfStale(ctx context.Context) bool {
	r.mu.RLock()
	stale := r.now().Sub(r.loadedAt) > time.Second
	r.mu.RUnlock()
	if !stale {
		return false
	}
	return r.Refresh(ctx) == nil
}

// published are the keys a verifier may need: not retired, or retired for
// less than the longest token lifetime.
func published(keys []*key, now time.Time) []*key {
	return slices.DeleteFunc(slices.Clone(keys), func(k *key) bool {
		return k.retiresAt != nil && now.After(k.retiresAt.Add(MaxTokenLifetime))
	})
}

// JWKS returns the JSON Web Key Set of the published keys.
func (r *KeyRing) JWKS() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.jwks
}

// KeyIDs lists the ids of the keys in the ring, oldest first.
func (r *KeyRing) KeyIDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}
