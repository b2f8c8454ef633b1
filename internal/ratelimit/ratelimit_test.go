package ratelimit_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/ratelimit"
)

var operations = []string{"GetId", "GetOpenIdToken", "GetCredentialsForIdentity", "GetOpenIdTokenForDeveloperIdentity",
	"ListTagsForResource", "TagResource", "UntagResource", "ListIdentityPools", "DescribeIdentityPool"}

func TestParseSpec(t *testing.T) {
	aws := maps.Clone(ratelimit.AWSProfile)
	override := maps.Clone(ratelimit.AWSProfile)
	override["GetId"] = 100
	override["ListIdentityPools"] = 2.5
	cases := []struct {
		name string
		spec string
		want map[string]float64
		err  string
	}{
		{name: "empty", spec: "", want: nil},
		{name: "off", spec: "off", want: nil},
		{name: "off with spaces", spec: "  off\t", want: nil},
		{name: "aws", spec: "aws", want: aws},
		{name: "aws with overrides", spec: "aws, GetId=100 ,ListIdentityPools=2.5", want: override},
		{name: "own rates only", spec: "GetId=1,DescribeIdentityPool=0.5", want: map[string]float64{"GetId": 1, "DescribeIdentityPool": 0.5}},
		{name: "the last of two rates wins", spec: "GetId=1,GetId=3", want: map[string]float64{"GetId": 3}},
		{name: "aws after a rate replaces it", spec: "GetId=100,aws", want: aws},
		{name: "scientific notation", spec: "GetId=1e3", want: map[string]float64{"GetId": 1000}},

		{name: "bare operation", spec: "GetId", err: `rate limit "GetId": want off, aws, or Operation=requests-per-second`},
		{name: "off in a list", spec: "aws,off", err: `rate limit "off": want off, aws, or Operation=requests-per-second`},
		{name: "AWS in capitals", spec: "AWS", err: `rate limit "AWS": want off, aws, or Operation=requests-per-second`},
		{name: "unknown operation", spec: "aws,GetID=5", err: `rate limit "GetID=5": unknown operation GetID`},
		{name: "space before =", spec: "GetId =5", err: `rate limit "GetId =5": unknown operation GetId `},
		{name: "zero", spec: "GetId=0", err: `rate limit "GetId=0": the rate must be a positive number of requests per second, at most 1000000`},
		{name: "negative", spec: "GetId=-1", err: `rate limit "GetId=-1": the rate must be a positive number of requests per second, at most 1000000`},
		{name: "empty rate", spec: "GetId=", err: `rate limit "GetId=": the rate must be a positive number of requests per second, at most 1000000`},
		{name: "word", spec: "GetId=fast", err: `rate limit "GetId=fast": the rate must be a positive number of requests per second, at most 1000000`},
		{name: "NaN", spec: "GetId=NaN", err: `rate limit "GetId=NaN": the rate must be a positive number of requests per second, at most 1000000`},
		{name: "trailing comma", spec: "aws,", err: `rate limit "": want off, aws, or Operation=requests-per-second`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ratelimit.ParseSpec(c.spec, operations)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("ParseSpec(%q) error = %v, want %s (rates %v)", c.spec, err, c.err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("ParseSpec(%q) = %v, want %v", c.spec, got, c.want)
			}
		})
	}
	if ratelimit.AWSProfile["GetId"] != 25 {
		t.Errorf("ParseSpec changed AWSProfile: %v", ratelimit.AWSProfile)
	}
}

func TestAWSProfile(t *testing.T) {
	want := map[string]float64{"GetId": 25, "GetOpenIdToken": 200, "GetCredentialsForIdentity": 200,
		"GetOpenIdTokenForDeveloperIdentity": 200, "ListTagsForResource": 10, "TagResource": 5, "UntagResource": 5}
	if !reflect.DeepEqual(ratelimit.AWSProfile, want) {
		t.Errorf("AWSProfile = %v, want docs/behaviour.md §10's %v", ratelimit.AWSProfile, want)
	}
}

var (
	public    = caller.Info{}
	publicKey = caller.Info{AccessKeyID: "AKIAEXAMPLE", Region: "us-east-1"} // a signature on a public call, unchecked
	aUSEast   = caller.Info{AccessKeyID: "AKIAA", Account: "111111111111", Region: "us-east-1", Signed: true}
	aEUWest   = caller.Info{AccessKeyID: "AKIAA", Account: "111111111111", Region: "eu-west-1", Signed: true}
	aOtherKey = caller.Info{AccessKeyID: "AKIAA2", Account: "111111111111", Region: "us-east-1", Signed: true}
	bUSEast   = caller.Info{AccessKeyID: "AKIAB", Account: "222222222222", Region: "us-east-1", Signed: true}
)

// drain calls Allow until it refuses (at most limit+1 times) and returns
// how many calls it allowed; the refusal must be TooManyRequestsException
// "Rate exceeded".
func drain(t *testing.T, l *ratelimit.Limiter, op string, c caller.Info, limit int) int {
	t.Helper()
	for i := range limit + 1 {
		err := l.Allow(context.Background(), op, c)
		if err == nil {
			continue
		}
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Code != apierr.TooManyRequests || ae.Message != "Rate exceeded" {
			t.Fatalf("call %d: %v, want TooManyRequestsException \"Rate exceeded\"", i+1, err)
		}
		return i
	}
	return limit + 1
}

// Inside a synctest bubble time stands still unless the test waits, so
// the buckets refill only when the test says so.

func TestBurstExhaustion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.AWSProfile)
		for _, c := range []struct {
			op    string
			burst int
		}{{"GetId", 25}, {"GetOpenIdToken", 200}, {"GetCredentialsForIdentity", 200}, {"GetOpenIdTokenForDeveloperIdentity", 200},
			{"ListTagsForResource", 10}, {"TagResource", 5}, {"UntagResource", 5}} {
			if n := drain(t, l, c.op, aUSEast, c.burst); n != c.burst {
				t.Errorf("%s: %d calls allowed in the first instant, want %d", c.op, n, c.burst)
			}
		}
	})
}

func TestRefill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(map[string]float64{"GetId": 25, "DescribeIdentityPool": 0.5})
		drain(t, l, "GetId", public, 25)
		<-time.After(40 * time.Millisecond) // one token at 25/s
		if n := drain(t, l, "GetId", public, 25); n != 1 {
			t.Errorf("40 ms later %d calls allowed, want 1", n)
		}
		<-time.After(time.Second)
		if n := drain(t, l, "GetId", public, 25); n != 25 {
			t.Errorf("a second later %d calls allowed, want 25 (the burst, not more)", n)
		}
		<-time.After(time.Hour)
		if n := drain(t, l, "GetId", public, 25); n != 25 {
			t.Errorf("an hour later %d calls allowed, want the burst of 25", n)
		}

		// A rate below one per second still allows one call.
		if n := drain(t, l, "DescribeIdentityPool", aUSEast, 1); n != 1 {
			t.Errorf("0.5/s: %d calls allowed, want 1", n)
		}
		<-time.After(time.Second)
		if n := drain(t, l, "DescribeIdentityPool", aUSEast, 1); n != 0 {
			t.Errorf("0.5/s, a second later: %d calls allowed, want 0", n)
		}
		<-time.After(time.Second)
		if n := drain(t, l, "DescribeIdentityPool", aUSEast, 1); n != 1 {
			t.Errorf("0.5/s, two seconds later: %d calls allowed, want 1", n)
		}
	})
}

func TestBuckets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(map[string]float64{"ListTagsForResource": 10, "GetId": 3, "GetOpenIdToken": 2})
		const op = "ListTagsForResource"
		if n := drain(t, l, op, aUSEast, 10); n != 10 {
			t.Fatalf("account A in us-east-1: %d allowed, want 10", n)
		}
		for _, c := range []struct {
			name string
			who  caller.Info
			want int
		}{
			{name: "account A, another key: the same account", who: aOtherKey, want: 0},
			// An account's regions share its bucket: naming more regions
			// cannot multiply a quota.
			{name: "account A in eu-west-1", who: aEUWest, want: 0},
			{name: "account B in us-east-1", who: bUSEast, want: 10},
			{name: "unsigned", who: public, want: 10},
		} {
			if n := drain(t, l, op, c.who, 10); n != c.want {
				t.Errorf("%s: %d allowed, want %d", c.name, n, c.want)
			}
		}

		// Public calls share one bucket per operation, whatever signature
		// they carry.
		if n := drain(t, l, "GetId", public, 3); n != 3 {
			t.Errorf("GetId: %d allowed, want 3", n)
		}
		if n := drain(t, l, "GetId", publicKey, 3); n != 0 {
			t.Errorf("GetId with an unchecked signature after the bucket ran dry: %d allowed, want 0", n)
		}
		if n := drain(t, l, "GetOpenIdToken", public, 2); n != 2 {
			t.Errorf("GetOpenIdToken after GetId ran dry: %d allowed, want 2", n)
		}
		if n := drain(t, l, "GetId", aUSEast, 3); n != 3 {
			t.Errorf("GetId signed by account A: %d allowed, want 3 (its own bucket)", n)
		}
	})
}

func TestUnlimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var none *ratelimit.Limiter
		if err := none.Allow(context.Background(), "GetId", public); err != nil {
			t.Errorf("nil limiter: %v", err)
		}
		l := ratelimit.New(map[string]float64{"GetId": 1})
		for i := range 1000 {
			if err := l.Allow(context.Background(), "ListIdentityPools", aUSEast); err != nil {
				t.Fatalf("call %d of an operation without a rate: %v", i+1, err)
			}
		}
		empty := ratelimit.New(nil)
		for range 100 {
			if err := empty.Allow(context.Background(), "GetId", public); err != nil {
				t.Fatalf("limiter without rates: %v", err)
			}
		}
	})
}
