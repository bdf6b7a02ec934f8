package server

import (
	"sync"
	"time"
)

// windowLimiter allows each key a number of events per fixed window, in
// this replica's memory: cheap protection for endpoints that have no
// session to count against.
type windowLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	start  time.Time
	counts map[string]int
	now    func() time.Time
}

// maxLimiterKeys bounds a limiter's memory within one window; keys beyond
// it are refused until the window turns.
const maxLimiterKeys = 100_000

func newWindowLimiter(n int, window time.Duration, now func() time.Time) *windowLimiter {
	return &windowLimiter{n: n, window: window, counts: map[string]int{}, now: now}
}

// turn starts a new window when the current one has passed, and returns
// how long is left of it.
func (l *windowLimiter) turn() time.Duration {
	now := l.now()
	if now.Sub(l.start) >= l.window || now.Before(l.start) {
		clear(l.counts)
		l.start = now
	}
	return l.start.Add(l.window).Sub(now)
}

// take counts an event of key and returns 0, or how long to wait when key
// has used its events in this window.
func (l *windowLimiter) take(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	left := l.turn()
	c, ok := l.counts[key]
	if c >= l.n || (!ok && len(l.counts) >= maxLimiterKeys) {
		return left
	}
	l.counts[key] = c + 1
	return 0
}

// blocked returns how long key must wait, without counting an event.
func (l *windowLimiter) blocked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	left := l.turn()
	if l.counts[key] >= l.n {
		return left
	}
	return 0
}
