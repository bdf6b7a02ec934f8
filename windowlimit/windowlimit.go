// Package windowlimit counts events per key in fixed windows, in one
// replica's memory: cheap protection for endpoints that have no session to
// count against (a calendar feed, an unverified refresh). Limits that must
// hold across replicas live in the database instead.
package windowlimit

import (
	"maps"
	"sync"
	"time"
)

// Limiter allows each key a number of events per fixed window, in
// this replica's memory: cheap protection for endpoints that have no
// session to count against.
type Limiter struct {
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

// New returns a Limiter of n events per window for each key, at now.
func New(n int, window time.Duration, now func() time.Time) *Limiter {
	return &Limiter{n: n, window: window, counts: map[string]int{}, now: now}
}

// turn starts a new window when the current one has passed, and returns
// how long is left of it.
func (l *Limiter) turn() time.Duration {
	now := l.now()
	if now.Sub(l.start) >= l.window || now.Before(l.start) {
		clear(l.counts)
		l.start = now
	}
	return l.start.Add(l.window).Sub(now)
}

// Take counts an event of key and returns 0, or how long to wait when key
// Has used its events in this window.
func (l *Limiter) Take(key string) time.Duration {
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

// Blocked returns how long key must wait, without counting an event.
func (l *Limiter) Blocked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	left := l.turn()
	if l.counts[key] >= l.n {
		return left
	}
	return 0
}

// RecentSet remembers keys for a while, in this replica's memory, up to
// maxLimiterKeys of them.
type RecentSet struct {
	mu    sync.Mutex
	keep  time.Duration
	added map[string]time.Time
	now   func() time.Time
}

// NewRecentSet returns a RecentSet that remembers a key for keep.
func NewRecentSet(keep time.Duration, now func() time.Time) *RecentSet {
	return &RecentSet{keep: keep, added: map[string]time.Time{}, now: now}
}

// Add remembers key from now on; when the set is full of keys that are
// still fresh, it is not remembered.
func (s *RecentSet) Add(key string) {
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

// Has reports whether key was added less than keep ago.
func (s *RecentSet) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.added[key]
	return ok && s.now().Sub(at) < s.keep
}

// Remove forgets key.
func (s *RecentSet) Remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.added, key)
}
