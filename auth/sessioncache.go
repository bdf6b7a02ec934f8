package auth

import (
	"context"
	"sync"
	"time"

	"github.com/nara-care/nara/store"
)

// sessionCache keeps recently used sessions in memory, so that an
// authenticated request needs no database read for its session. It is
// trusted only while this replica listens for session changes: every
// update or delete of a session row, on any replica, drops it from every
// cache at once (store.TopicSession), and the replica that makes a
// change drops it before it answers. While the listener is down, every
// request reads the database.
type sessionCache struct {
	mu   sync.Mutex
	live bool
	// gen grows with every drop, so that a read that raced a change is not
	// cached afterwards.
	gen uint64
	m   map[string]cachedSession
	ttl time.Duration
	max int
	now func() time.Time
}

type cachedSession struct {
	sess store.Session
	at   time.Time
}

func newSessionCache(now func() time.Time) *sessionCache {
	return &sessionCache{m: map[string]cachedSession{}, ttl: 5 * time.Minute, max: 200_000, now: now}
}

// session returns the session id, from memory when the cache may be
// trusted, or from st.
func (c *sessionCache) session(ctx context.Context, st *store.Store, id string) (store.Session, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	live, gen := c.live, c.gen
	c.mu.Unlock()
	if live && ok && c.now().Sub(e.at) < c.ttl {
		return e.sess, nil
	}
	sess, err := st.SessionGet(ctx, id)
	if err != nil || !live {
		return sess, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live && c.gen == gen {
		if len(c.m) >= c.max {
			clear(c.m)
		}
		c.m[id] = cachedSession{sess: sess, at: c.now()}
	}
	return sess, nil
}

func (c *sessionCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, id)
}

// dropAll empties the cache, for changes to sessions not known by id.
func (c *sessionCache) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// Follow turns the cache on (listening from now on) or off, empty either
// way.
func (c *sessionCache) Follow(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	clear(c.m)
}

// Changed applies a change announced on store.TopicSession.
func (c *sessionCache) Changed(sessionID string) { c.drop(sessionID) }
