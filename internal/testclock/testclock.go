// Package testclock is the one deterministic clock the tests inject into
// servers, stores and token issuers: time moves only when a reading or the
// test moves it.
package testclock

import (
	"sync"
	"time"
)

// Clock returns its current time on every reading and then advances it by
// Step, so that things created one after another get strictly increasing
// times (a Step of 0 keeps it still). It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	Step time.Duration
}

// New returns a clock at start that advances by step per reading.
func New(start time.Time, step time.Duration) *Clock {
	return &Clock{now: start, Step: step}
}

// Now returns the clock's time and advances it by Step.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.Step)
	return t
}

// Peek returns the clock's time without advancing it.
func (c *Clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d: the way a test lets time pass.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
