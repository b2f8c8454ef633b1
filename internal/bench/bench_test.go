package bench

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 100_000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d > 0.008 || d < -0.008 {
			t.Errorf("q%.2f = %s, want %s within 0.8%%", c.q, got, c.want)
		}
	}
	if h.Max() != 100*time.Millisecond || h.Count() != 100_000 {
		t.Errorf("max %s, count %d", h.Max(), h.Count())
	}
	o := NewHistogram()
	o.Record(time.Hour)
	h.Merge(o)
	if h.Max() != time.Hour || h.Quantile(1) != time.Hour {
		t.Errorf("after merging an hour: max %s, q1 %s", h.Max(), h.Quantile(1))
	}
}

func TestBuckets(t *testing.T) {
	for range 10_000 {
		v := rand.Int64N(maxTracked)
		i := bucketOf(v)
		mid := bucketMid(i)
		if d := float64(mid-v) / float64(max(v, 1)); i >= numBuckets || d > 0.008 || d < -0.008 {
			t.Fatalf("%d: bucket %d of %d, middle %d", v, i, numBuckets, mid)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:4591/", true},
		{"http://127.9.9.9/", true},
		{"http://[::1]:80/", true},
		{"http://localhost:1/", true},
		{"http://LOCALHOST/", true},
		{"http://10.0.0.1/", false},
		{"http://example.com/", false},
		{"http://localhost.example.com/", false},
		{"http://[::2]/", false},
		{"https://127.0.0.1/", false},
		{"127.0.0.1:80", false},
	} {
		if err := CheckLoopback(c.url); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.url, err)
		}
	}
}

// TestSignCacheIsExact proves the sign cache honest: a reused signature is
// byte-identical to signing afresh in the same second.
func TestSignCacheIsExact(t *testing.T) {
	ctx := context.Background()
	r := NewRequest("DescribeIdentityPool", map[string]any{"IdentityPoolId": "us-east-1:x"}, true, nil)
	now := time.Unix(1_800_000_000, 0)
	newReq := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", nil)
		req.Header = http.Header{"Content-Type": {contentType}, "X-Amz-Target": {targetPfx + r.Op}}
		return req
	}
	fresh := NewClient("http://127.0.0.1:1/", 1, "AKIDEXAMPLE", "secret")
	want := newReq()
	if err := fresh.sign(ctx, want, r, &callState{}, now.Add(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	cached := NewClient("http://127.0.0.1:1/", 1, "AKIDEXAMPLE", "secret")
	cached.SignCache = true
	var st callState
	if err := cached.sign(ctx, newReq(), r, &st, now); err != nil {
		t.Fatal(err)
	}
	got := newReq()
	if err := cached.sign(ctx, got, r, &st, now.Add(900*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Authorization", "X-Amz-Date"} {
		if got.Header.Get(h) != want.Header.Get(h) || want.Header.Get(h) == "" {
			t.Errorf("%s: cached %q, fresh %q", h, got.Header.Get(h), want.Header.Get(h))
		}
	}
	next := newReq()
	if err := cached.sign(ctx, next, r, &st, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if next.Header.Get("Authorization") == want.Header.Get("Authorization") {
		t.Error("a signature was reused in the next second")
	}
}
