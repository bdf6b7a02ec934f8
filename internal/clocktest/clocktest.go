// Package clocktest is time for tests: a Clock that moves only when told,
// for code that takes a now func, and Eventually, for waiting on work that
// runs on the real clock (a listener, a worker) without a fixed sleep.
package clocktest

import (
	"sync"
	"testing"
	"time"
)

// A Clock is a time source that tests move by hand; it is safe for
// concurrent use, as the code under test reads it from its own goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New is a Clock that reads t until it is moved.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the Clock's time; pass c.Now where code takes a now func.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the Clock by d, backwards when d is negative.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the Clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Eventually polls cond until it holds, and fails the test naming what it
// waited for when timeout passes first. A wait for something to happen,
// never for something not to: for that, wait for a later thing that must
// come after it.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
