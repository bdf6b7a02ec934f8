package server

import (
	"maps"
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

// recentSet remembers keys for a while, in this replica's memory, up to
// maxLimiterKeys of them.
type recentSet struct {
	mu    sync.Mutex
	keep  time.Duration
	added map[string]time.Time
	now   func() time.Time
}

func newRecentSet(keep time.Duration, now func() time.Time) *recentSet {
	return &recentSet{keep: keep, added: map[string]time.Time{}, now: now}
}

// add remembers key from now on; when the set is full of keys that are
// still fresh, it is not remembered.
func (s *recentSet) add(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if _, ok := s.added[key]; !ok && len(s.added) >= maxLimiterKeys {
		maps.DeleteFunc(s.added, func(_ string, at time.Time) bool { return now.Sub(at) >= s.keep })
		if len(s.added) >= maxLimiterKeys {
			return
		}
	}
	s.added[key] = now
}

// has reports whether key was added less than keep ago.
func (s *recentSet) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.added[key]
	return ok && s.now().Sub(at) < s.keep
}

// remove forgets key.
func (s *recentSet) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.added, key)
}
