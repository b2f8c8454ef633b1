package tokens

import (
	"math"
	"testing"
	"time"
)

func TestSecondsTime(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		sec     float64
		expired bool
	}{
		{"an hour ago", float64(now.Add(-time.Hour).Unix()), true},
		{"within the grace", float64(now.Add(-ClockSkew + time.Second).Unix()), false},
		{"at the end of the grace", float64(now.Add(-ClockSkew).Unix()), true},
		{"in an hour", float64(now.Add(time.Hour).Unix()), false},
		{"past int64 seconds", 1e19, false},
		{"the largest float", math.MaxFloat64, false},
		{"infinity", math.Inf(1), false},
		{"far before 1970", -1e19, true},
		{"not a number", math.NaN(), true},
	} {
		if got := Expired(secondsTime(tc.sec), now); got != tc.expired {
			t.Errorf("%s (%g): expired %v, want %v", tc.name, tc.sec, got, tc.expired)
		}
	}
	if got := secondsTime(1e19); !got.After(now.AddDate(1000, 0, 0)) {
		t.Errorf("secondsTime(1e19) = %v, want far in the future", got)
	}
	if _, ok := ClaimTime(map[string]any{"exp": "soon"}, "exp"); ok {
		t.Errorf("a string exp read as a time")
	}
	if got, ok := ClaimTime(map[string]any{"exp": 1e19}, "exp"); !ok || !got.After(now) {
		t.Errorf("ClaimTime of exp 1e19 = %v, %v", got, ok)
	}
}

func TestNotYetValid(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	if NotYetValid(now.Add(ClockSkew), now) {
		t.Errorf("an nbf five minutes ahead is within the grace")
	}
	if !NotYetValid(now.Add(ClockSkew+time.Second), now) {
		t.Errorf("an nbf five minutes and a second ahead is too early")
	}
}
