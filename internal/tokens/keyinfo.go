package tokens

import "time"

// KeyInfo describes a signing key for people (the console): no key
// material, only what the JWKS and the rotation schedule say.
type KeyInfo struct {
	ID      string
	Created time.Time
	// RetiresAt is when the key stops signing; nil while it is current.
	RetiresAt *time.Time
	// DropsAt is when it leaves the JWKS: MaxTokenLifetime after it
	// retires; nil while it is current.
	DropsAt *time.Time
	// State is "signing" (the key that signs now), "published" (in the
	// JWKS, not signing: a new key waiting out Propagation, or a retired
	// one kept for the tokens it signed) or "dropped" (loaded but no
	// longer in the JWKS, deleted at the next rotation).
	State string
}

// Keys describes the loaded keys at now, oldest first.
func (r *KeyRing) Keys(now time.Time) []KeyInfo {
	signing := r.signer(now)
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]KeyInfo, 0, len(r.keys))
	for _, k := range r.keys {
		ki := KeyInfo{ID: k.id, Created: k.created, State: "published"}
		if k.retiresAt != nil {
			at, drop := *k.retiresAt, k.retiresAt.Add(MaxTokenLifetime)
			ki.RetiresAt, ki.DropsAt = &at, &drop
			if now.After(drop) {
				ki.State = "dropped"
			}
		}
		if k == signing {
			ki.State = "signing"
		}
		out = append(out, ki)
	}
	return out
}
