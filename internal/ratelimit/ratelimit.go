// Package ratelimit throttles operations per account, the way AWS applies
// its per-operation request-rate quotas, answering TooManyRequestsException
// "Rate exceeded".
//
// Limits are per replica: N replicas behind a load balancer admit up to N
// times the configured rate in total (docs/scaling.md).
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/time/rate"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
)

// AWSProfile holds AWS's published default rates, in requests per second
// (docs/behaviour.md §10). Operations AWS publishes no rate for are not limited.
var AWSProfile = map[string]float64{
	"GetId":                              25,
	"GetOpenIdToken":                     200,
	"GetCredentialsForIdentity":          200,
	"GetOpenIdTokenForDeveloperIdentity": 200,
	"ListTagsForResource":                10,
	"TagResource":                        5,
	"UntagResource":                      5,
}

// Limiter applies per-operation rates. The zero value limits nothing.
type Limiter struct {
	rates map[string]float64

	mu      sync.Mutex
	buckets map[bucketKey]*rate.Limiter
}

type bucketKey struct{ op, account string }

// New returns a Limiter with the given rates (operation -> requests per
// second; the burst equals one second of requests).
func New(rates map[string]float64) *Limiter {
	return &Limiter{rates: rates, buckets: map[bucketKey]*rate.Limiter{}}
}

// maxBuckets bounds the limiter's memory: beyond it, idle buckets are
// dropped (they refill to full anyway).
const maxBuckets = 100000

// Allow implements awsjson.Limiter. Signed calls are counted per account
// (AWS counts per account and region; idpool sums an account's regions, so
// that naming many regions cannot multiply a quota); public calls, which
// carry no account, per operation.
func (l *Limiter) Allow(_ context.Context, op string, c caller.Info) error {
	if l == nil {
		return nil
	}
	r, ok := l.rates[op]
	if !ok {
		return nil
	}
	k := bucketKey{op: op}
	if c.Signed {
		k.account = c.Account
	}
	l.mu.Lock()
	b, ok := l.buckets[k]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			clear(l.buckets)
		}
		burst := int(r)
		if burst < 1 {
			burst = 1
		}
		b = rate.NewLimiter(rate.Limit(r), burst)
		l.buckets[k] = b
	}
	l.mu.Unlock()
	if !b.Allow() {
		return apierr.New(apierr.TooManyRequests, "Rate exceeded")
	}
	return nil
}

// ParseSpec reads a rate-limit setting: "off", "aws" (AWSProfile), or a
// comma-separated list of Operation=rate entries, optionally after "aws,"
// to override the profile ("aws,GetId=100").
func ParseSpec(spec string, operations []string) (map[string]float64, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "off" {
		return nil, nil
	}
	out := map[string]float64{}
	known := map[string]bool{}
	for _, op := range operations {
		known[op] = true
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "aws" {
			for op, r := range AWSProfile {
				out[op] = r
			}
			continue
		}
		op, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("rate limit %q: want off, aws, or Operation=requests-per-second", part)
		}
		if !known[op] {
			return nil, fmt.Errorf("rate limit %q: unknown operation %s", part, op)
		}
		r, err := strconv.ParseFloat(val, 64)
		if err != nil || !(r > 0) || math.IsInf(r, 0) || r > 1e6 {
			return nil, fmt.Errorf("rate limit %q: the rate must be a positive number of requests per second, at most 1000000", part)
		}
		out[op] = r
	}
	return out, nil
}
