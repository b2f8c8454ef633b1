package bench

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// SignRate is how fast this machine signs OpenID tokens: RS512 (RSA-2048,
// PKCS #1 v1.5, SHA-512), on one core and on all of them. Each figure is
// the best of several rounds (the machine's capability, which other work
// on it can only lower); the medians say how steady it was. The AES-GCM
// rate is for comparison: it is what sealing a credentials session token
// costs.
type SignRate struct {
	Label          string  `json:"label,omitempty"` // when it was measured: "start" or "end" of a run
	PerCore        float64 `json:"rs512_per_core_per_s"`
	AllCores       float64 `json:"rs512_all_cores_per_s"`
	PerCoreMedian  float64 `json:"rs512_per_core_median_per_s"`
	AllCoresMedian float64 `json:"rs512_all_cores_median_per_s"`
	Cores          int     `json:"cores"`
	// SealAllCores is AES-256-GCM seals of a 512-byte session, with all
	// cores: GetCredentialsForIdentity's cryptographic cost.
	SealAllCores float64 `json:"aes_gcm_seal_all_cores_per_s"`
}

// Bound is the all-cores signing rate the machine is capable of: the
// measured one, or the one-core rate times the cores when that is higher.
// RSA signing shares nothing between cores and scales linearly on an idle
// machine; on a shared one, other work takes a core from an all-cores
// measurement far more often than from a one-core one.
func (sr *SignRate) Bound() float64 {
	return max(sr.AllCores, sr.PerCore*float64(sr.Cores))
}

// signRounds is how many rounds each configuration's time is split into.
const signRounds = 5

// MeasureSignRate signs for d on one goroutine, then for d on GOMAXPROCS
// goroutines, each in signRounds rounds.
func MeasureSignRate(ctx context.Context, d time.Duration) (*SignRate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	// A typical token's signing input (header and claims, base64url) is
	// about 700 bytes: the server hashes it, then signs.
	jwsInput := make([]byte, 700)
	sign := func() error {
		digest := sha512.Sum512(jwsInput)
		_, err := rsa.SignPKCS1v15(nil, key, crypto.SHA512, digest[:])
		return err
	}
	cores := runtime.GOMAXPROCS(0)
	sr := &SignRate{Cores: cores}
	if sr.PerCore, sr.PerCoreMedian, err = rounds(ctx, d, 1, sign); err != nil {
		return nil, err
	}
	if sr.AllCores, sr.AllCoresMedian, err = rounds(ctx, d, cores, sign); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	session := make([]byte, 512)
	sr.SealAllCores, _, err = rounds(ctx, d/4, cores, func() error {
		nonce := make([]byte, gcm.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		gcm.Seal(nil, nonce, session, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sr, nil
}

// rounds runs fn on n goroutines for d, in signRounds rounds, and returns
// the best and the median round's calls per second.
func rounds(ctx context.Context, d time.Duration, n int, fn func() error) (best, median float64, err error) {
	var rates []float64
	for range signRounds {
		r, err := rate(ctx, d/signRounds, n, fn)
		if err != nil {
			return 0, 0, err
		}
		rates = append(rates, r)
	}
	slices.Sort(rates)
	return rates[len(rates)-1], rates[len(rates)/2], nil
}

// rate runs fn on n goroutines for d and returns calls per second.
func rate(ctx context.Context, d time.Duration, n int, fn func() error) (float64, error) {
	var (
		count atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	start := time.Now()
	stop := start.Add(d)
	for range n {
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				if err := fn(); err != nil {
					once.Do(func() { first = err })
					return
				}
				count.Add(1)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return float64(count.Load()) / time.Since(start).Seconds(), ctx.Err()
}
