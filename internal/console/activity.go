package console

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Entry is one answered API request, as the activity page shows it. It
// holds no secret: no body, header, token or login.
type Entry struct {
	Time       time.Time
	RequestId  string
	Account    string
	Operation  string
	Status     int
	ErrorType  string  `json:",omitempty"`
	DurationMs float64 // milliseconds
}

// Second is the requests of one second, for the charts.
type Second struct {
	Unix   int64
	Count  int
	Errors int
	// SumMs and MaxMs are the total and the largest duration.
	SumMs float64
	MaxMs float64
}

const (
	// recentEntries are kept for a page that opens.
	recentEntries = 500
	// seriesSeconds is the span of the charts.
	seriesSeconds = 300
	// maxAccounts bounds the accounts whose series are kept (a
	// permissive server acts for any account a client names).
	maxAccounts = 1000
	// subscriberBuffer is how many entries a slow page may fall behind
	// before entries are dropped for it (it is told how many).
	subscriberBuffer = 256
)

// Activity keeps the recent requests and a per-second series of them,
// for all accounts together and for each account, and streams new ones
// to subscribers. Record is called once per request and takes one short
// lock.
type Activity struct {
	now func() time.Time

	mu      sync.Mutex
	ring    []Entry // recentEntries, oldest overwritten first
	next    int
	filled  bool
	all     *series
	account map[string]*series
	subs    map[*subscriber]struct{}
}

type subscriber struct {
	account string // "" sees every account
	ch      chan Entry
	dropped int
}

// series is a ring of seconds.
type series struct{ sec [seriesSeconds]Second }

func (s *series) add(e Entry) {
	u := e.Time.Unix()
	b := &s.sec[u%seriesSeconds]
	if b.Unix != u {
		*b = Second{Unix: u}
	}
	b.Count++
	if e.Status >= 400 {
		b.Errors++
	}
	b.SumMs += e.DurationMs
	b.MaxMs = max(b.MaxMs, e.DurationMs)
}

// last returns the seconds up to now (excluded), oldest first, with the
// empty ones filled in.
func (s *series) last(now time.Time) []Second {
	end := now.Unix()
	out := make([]Second, 0, seriesSeconds)
	for u := end - seriesSeconds + 1; u <= end; u++ {
		b := Second{Unix: u}
		if s != nil && s.sec[u%seriesSeconds].Unix == u {
			b = s.sec[u%seriesSeconds]
		}
		out = append(out, b)
	}
	return out
}

// NewActivity returns an empty Activity.
func NewActivity(now func() time.Time) *Activity {
	if now == nil {
		now = time.Now
	}
	return &Activity{now: now, ring: make([]Entry, recentEntries), all: &series{},
		account: map[string]*series{}, subs: map[*subscriber]struct{}{}}
}

// Record adds an answered request.
func (a *Activity) Record(e Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ring[a.next] = e
	a.next = (a.next + 1) % len(a.ring)
	a.filled = a.filled || a.next == 0
	a.all.add(e)
	if e.Account != "" {
		s := a.account[e.Account]
		if s == nil && len(a.account) < maxAccounts {
			s = &series{}
			a.account[e.Account] = s
		}
		if s != nil {
			s.add(e)
		}
	}
	for sub := range a.subs {
		if sub.account != "" && sub.account != e.Account {
			continue
		}
		select {
		case sub.ch <- e:
		default:
			sub.dropped++
		}
	}
}

// Snapshot returns the recent requests of an account ("" for all), newest
// first, and its series.
func (a *Activity) Snapshot(account string) ([]Entry, []Second) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Entry
	n := a.next
	if a.filled {
		n = len(a.ring)
	}
	for i := 1; i <= n; i++ {
		e := a.ring[(a.next-i+len(a.ring))%len(a.ring)]
		if account == "" || e.Account == account {
			out = append(out, e)
		}
	}
	s := a.all
	if account != "" {
		s = a.account[account]
	}
	return out, s.last(a.now())
}

func (a *Activity) subscribe(account string) *subscriber {
	sub := &subscriber{account: account, ch: make(chan Entry, subscriberBuffer)}
	a.mu.Lock()
	a.subs[sub] = struct{}{}
	a.mu.Unlock()
	return sub
}

func (a *Activity) unsubscribe(sub *subscriber) {
	a.mu.Lock()
	delete(a.subs, sub)
	a.mu.Unlock()
}

// takeDropped returns and clears how many entries sub missed.
func (a *Activity) takeDropped(sub *subscriber) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := sub.dropped
	sub.dropped = 0
	return n
}

// visibleAccount is the account whose activity a session may see: its own
// in strict mode, every account in permissive mode.
func (c *Console) visibleAccount(ss *session) string {
	if c.strict() {
		return ss.account
	}
	return ""
}

// activity serves POST /console/api/activity: the recent requests and the
// series.
func (c *Console) activity(w http.ResponseWriter, r *http.Request) {
	entries, secs := c.o.Activity.Snapshot(c.visibleAccount(sessionOf(r.Context())))
	if entries == nil {
		entries = []Entry{}
	}
	reply(w, map[string]any{"Entries": entries, "Seconds": secs})
}

// streamLifetime ends a stream now and then; EventSource reconnects, and
// no stream outlives a session for long.
const streamLifetime = 5 * time.Minute

// stream serves GET /console/api/activity/stream: server-sent events, a
// "request" event per answered request and a "second" event per second
// with the series' last complete second.
func (c *Console) stream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	account := c.visibleAccount(sessionOf(r.Context()))
	sub := c.o.Activity.subscribe(account)
	defer c.o.Activity.unsubscribe(sub)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.NewTimer(streamLifetime)
	defer end.Stop()
	send := func(event string, v any) bool {
		b, _ := json.Marshal(v)
		if _, err := w.Write([]byte("event: " + event + "\ndata: " + string(b) + "\n\n")); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.closed:
			return
		case <-end.C:
			return
		case e := <-sub.ch:
			if !send("request", e) {
				return
			}
		case <-tick.C:
			_, secs := c.o.Activity.Snapshot(account)
			last := secs[len(secs)-2] // the last complete second
			if n := c.o.Activity.takeDropped(sub); n > 0 {
				if !send("dropped", map[string]int{"Count": n}) {
					return
				}
			}
			if !send("second", last) {
				return
			}
		}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
