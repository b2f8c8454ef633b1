package tokens

import (
	"math"
	"time"
)

// ClockSkew is the grace AWS's token consumers allow: a token is accepted
// until ClockSkew after its exp, and from ClockSkew before its nbf. It
// applies alike to the providers' tokens a login carries and to idpool's
// own OpenID tokens, whether GetCredentialsForIdentity or STS reads them
// (docs/behaviour.md).
const ClockSkew = 5 * time.Minute

// Expired reports whether a token that expires at exp is past its grace at
// now.
func Expired(exp, now time.Time) bool { return !now.Before(exp.Add(ClockSkew)) }

// NotYetValid reports whether a token valid from nbf is still too early at
// now, grace included.
func NotYetValid(nbf, now time.Time) bool { return now.Add(ClockSkew).Before(nbf) }

// maxClaimSeconds bounds a NumericDate claim: about 285 million years, far
// past any real date, and exactly representable as a float64.
const maxClaimSeconds = 1 << 53

// ClaimTime is the NumericDate claim name (exp, nbf) of a token's decoded
// claims as a time; ok is false when the claim is absent or not a number.
func ClaimTime(claims map[string]any, name string) (t time.Time, ok bool) {
	sec, ok := claims[name].(float64)
	if !ok {
		return time.Time{}, false
	}
	return secondsTime(sec), true
}

// secondsTime is a NumericDate (seconds since 1970, as encoding/json
// decodes a number into an interface) as a time. A value beyond any real
// date is held at a bound instead of overflowing int64, which would wrap a
// far-future expiry around into the past.
func secondsTime(sec float64) time.Time {
	switch {
	case math.IsNaN(sec):
		sec = 0
	case sec > maxClaimSeconds:
		sec = maxClaimSeconds
	case sec < -maxClaimSeconds:
		sec = -maxClaimSeconds
	}
	return time.Unix(int64(sec), 0)
}
