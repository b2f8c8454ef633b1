package console

import (
	"testing"
	"time"
)

func TestActivityKeepsRecentRequestsAndSeries(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	a := NewActivity(func() time.Time { return now })
	sub := a.subscribe("111111111111")
	defer a.unsubscribe(sub)
	const n = recentEntries + 100 // more than kept, and each account more than a subscriber buffers
	for i := range n {
		acct := "111111111111"
		if i%2 == 1 {
			acct = "222222222222"
		}
		status := 200
		if i%5 == 0 {
			status = 400
		}
		a.Record(Entry{Time: now.Add(-time.Duration(i%3) * time.Second), Account: acct, Operation: "GetId", Status: status, DurationMs: float64(i % 7)})
	}
	all, secs := a.Snapshot("")
	if len(all) != recentEntries {
		t.Fatalf("kept %d entries, want %d", len(all), recentEntries)
	}
	if len(secs) != seriesSeconds || secs[len(secs)-1].Unix != now.Unix() {
		t.Fatalf("series: %d seconds ending at %d", len(secs), secs[len(secs)-1].Unix)
	}
	total, errs := 0, 0
	for _, s := range secs {
		total += s.Count
		errs += s.Errors
	}
	if total != n || errs != (n)/5 {
		t.Errorf("series counts %d requests, %d errors", total, errs)
	}
	mine, mySecs := a.Snapshot("111111111111")
	for _, e := range mine {
		if e.Account != "111111111111" {
			t.Fatalf("another account's entry: %+v", e)
		}
	}
	my := 0
	for _, s := range mySecs {
		my += s.Count
	}
	if my != n/2 {
		t.Errorf("account series counts %d", my)
	}
	// The subscriber got its account's entries up to its buffer, and
	// counts what it missed.
	if len(sub.ch) != subscriberBuffer || a.takeDropped(sub) != (n)/2-subscriberBuffer {
		t.Errorf("subscriber: %d buffered", len(sub.ch))
	}
	for range subscriberBuffer {
		if e := <-sub.ch; e.Account != "111111111111" {
			t.Fatalf("streamed another account's entry: %+v", e)
		}
	}
}
