// Package changefeed delivers the change feed to what this replica keeps in
// memory or holds open: caches that drop what changed, and streams that
// wait for the next change of a key (a unit's notices, a support case, a
// waiting room).
//
// Every change is a row of the store's change feed, written in the
// change's own transaction. One Hub per replica reads the feed from where
// it was whenever a notification wakes it, and at least every second, so a
// lost notification, a reconnect or a crash between commit and wake-up
// delays a change but never loses it. Changes this replica commits are
// delivered at once, before its answer, and wake the other replicas.
package changefeed

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nara-care/nara/store"
)

// A Follower is a cache (or a set of waiting streams) kept in step with
// one topic of the feed.
type Follower interface {
	// Follow turns it on (true: every change is delivered from now on) or
	// off (changes may be missed until it is turned on again); either way
	// it forgets what it held.
	Follow(live bool)
	// Changed applies one change of its topic.
	Changed(key string)
}

// Source is the change feed as the store keeps it.
type Source interface {
	FeedStart(ctx context.Context) (store.FeedPosition, error)
	FeedRead(ctx context.Context, from store.FeedPosition, limit int) ([]store.Change, store.FeedPosition, bool, error)
	FeedListen(ctx context.Context, ready func(), wake func(tx uint64)) error
	FeedWake(ctx context.Context, tx uint64) error
	FeedPrune(ctx context.Context, before time.Time) (int64, error)
}

// Config sets how a Hub reads the feed.
type Config struct {
	// PollEvery is how often the feed is read without a wake-up, the
	// bound on how late a change is whose notification was lost. Default
	// 1 s.
	PollEvery time.Duration
	// RetryEvery is how soon the feed is read again when a transaction
	// another replica woke it for had not yet ended for this reader.
	// Default 10 ms.
	RetryEvery time.Duration
	// WakeEvery is how often this replica's commits wake the others, in one
	// notification for all of them. Default 5 ms.
	WakeEvery time.Duration
	// Keep is how long the feed keeps its rows; Prune deletes older ones.
	// Default 1 h.
	Keep time.Duration
}

func (c *Config) setDefaults() {
	if c.PollEvery <= 0 {
		c.PollEvery = time.Second
	}
	if c.RetryEvery <= 0 {
		c.RetryEvery = 10 * time.Millisecond
	}
	if c.WakeEvery <= 0 {
		c.WakeEvery = 5 * time.Millisecond
	}
	if c.Keep <= 0 {
		c.Keep = time.Hour
	}
}

// readLimit is how many changes one read of the feed returns at most.
const readLimit = 2000

// Hub is this replica's one reader of the change feed. It is safe for
// concurrent use.
type Hub struct {
	cfg    Config
	logger *slog.Logger

	mu        sync.Mutex
	live      bool
	followers map[string][]Follower
	// waiting holds, per topic and key, the channel closed at that key's
	// next change.
	waiting map[string]map[string]chan struct{}
	// wakeTx is the newest transaction this replica committed changes in
	// and has not yet woken the others for; heardTx the newest another
	// replica woke this one for.
	wakeTx, heardTx uint64

	wakeOthers chan struct{}
	read       chan struct{}
}

// New returns a Hub; it follows the feed once Run runs.
func New(cfg Config, logger *slog.Logger) *Hub {
	cfg.setDefaults()
	return &Hub{
		cfg: cfg, logger: logger,
		followers:  map[string][]Follower{},
		waiting:    map[string]map[string]chan struct{}{},
		wakeOthers: make(chan struct{}, 1),
		read:       make(chan struct{}, 1),
	}
}

// Follow makes f follow topic. Call it while wiring, before Run.
func (h *Hub) Follow(topic string, f Follower) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.followers[topic] = append(h.followers[topic], f)
}

// Live tells whether changes are being delivered: while it is false a
// follower may miss changes.
func (h *Hub) Live() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.live
}

// Next returns a channel that is closed at the next change of key in
// topic, or when delivery starts or stops (then a waiter reads on its own
// and takes Next again). Take it before reading what it guards, so that a
// change made during the read is not missed.
func (h *Hub) Next(topic, key string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys, ok := h.waiting[topic]
	if !ok {
		keys = map[string]chan struct{}{}
		h.waiting[topic] = keys
	}
	ch, ok := keys[key]
	if !ok {
		ch = make(chan struct{})
		keys[key] = ch
	}
	return ch
}

// Committed delivers the changes of a transaction this replica just
// committed, before the change is answered, and wakes the other replicas
// soon after. It is the store's Options.Committed.
func (h *Hub) Committed(changes []store.Change, tx uint64) {
	h.deliver(changes)
	h.mu.Lock()
	h.wakeTx = max(h.wakeTx, tx)
	h.mu.Unlock()
	select {
	case h.wakeOthers <- struct{}{}:
	default:
	}
}

func (h *Hub) deliver(changes []store.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range changes {
		// Followers only drop what they hold; none calls back into h.
		for _, f := range h.followers[c.Topic] {
			f.Changed(c.Key)
		}
		if keys := h.waiting[c.Topic]; keys != nil {
			if ch, ok := keys[c.Key]; ok {
				close(ch)
				delete(keys, c.Key)
			}
		}
	}
}

// setLive turns every follower on or off and wakes every waiter.
func (h *Hub) setLive(live bool) {
	h.mu.Lock()
	h.live = live
	var all []Follower
	for _, fs := range h.followers {
		all = append(all, fs...)
	}
	h.mu.Unlock()
	// Outside the lock: turning a follower on may read the database.
	for _, f := range all {
		f.Follow(live)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, keys := range h.waiting {
		for _, ch := range keys {
			close(ch)
		}
	}
	clear(h.waiting)
}

// Run follows the feed until ctx is done: one connection listens for
// wake-ups, the feed is read from where this replica was, and this
// replica's commits wake the others. While it cannot listen, followers are
// off; when it listens again they are turned on and the feed is read on
// from where the last listener was.
func (h *Hub) Run(ctx context.Context, src Source) error {
	go h.wakeLoop(ctx, src)
	var pos *store.FeedPosition
	for {
		err := h.follow(ctx, src, &pos)
		h.setLive(false)
		if ctx.Err() != nil {
			return nil //nolint:nilerr // the listener ends with ctx; that is a clean stop
		}
		h.logger.Warn("change feed listener stopped; caches are off until it is back", slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// follow listens and reads until the listener fails or ctx is done. It
// reads from *pos, the position an earlier listener reached (nil: the
// first listener starts at the feed's present), and keeps it there.
func (h *Hub) follow(ctx context.Context, src Source, pos **store.FeedPosition) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan struct{})
	listenErr := make(chan error, 1)
	go func() {
		listenErr <- src.FeedListen(ctx, func() { close(listening) }, func(tx uint64) {
			h.mu.Lock()
			h.heardTx = max(h.heardTx, tx)
			h.mu.Unlock()
			h.wakeReader()
		})
	}()
	select {
	case err := <-listenErr:
		return err
	case <-listening:
	}
	// Listening now: every change from here on is either read below or
	// woken for after this position is taken. A listener that comes back
	// reads on from where the last one was, so what changed meanwhile is
	// delivered too.
	if *pos == nil {
		start, err := src.FeedStart(ctx)
		if err != nil {
			return err
		}
		*pos = &start
	}
	h.setLive(true)
	poll := time.NewTicker(h.cfg.PollEvery)
	defer poll.Stop()
	var retry <-chan time.Time
	for {
		select {
		case err := <-listenErr:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-h.read:
		case <-poll.C:
		case <-retry:
		}
		retry = nil
		for {
			changes, next, more, err := src.FeedRead(ctx, **pos, readLimit)
			if err != nil {
				// A read that failed is tried again at the next wake-up or
				// poll; the position has not moved, so nothing is lost.
				if ctx.Err() == nil {
					h.logger.Warn("could not read the change feed", slog.String("error", err.Error()))
				}
				break
			}
			**pos = next
			h.deliver(changes)
			if !more {
				break
			}
		}
		h.mu.Lock()
		pending := (*pos).Before(h.heardTx)
		h.mu.Unlock()
		if pending {
			// Woken for a transaction that had not yet ended for this
			// reader (an older one was still running): look again soon.
			retry = time.After(h.cfg.RetryEvery)
		}
	}
}

func (h *Hub) wakeReader() {
	select {
	case h.read <- struct{}{}:
	default:
	}
}

// wakeLoop wakes the other replicas for this replica's commits, at most
// every WakeEvery, until ctx is done.
func (h *Hub) wakeLoop(ctx context.Context, src Source) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wakeOthers:
		}
		h.mu.Lock()
		tx := h.wakeTx
		h.mu.Unlock()
		if err := src.FeedWake(ctx, tx); err != nil && ctx.Err() == nil {
			// The others read the change at their next poll.
			h.logger.Warn("could not wake the other replicas", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(h.cfg.WakeEvery):
		}
	}
}

// Prune deletes the feed's rows older than Config.Keep; a periodic job runs
// it.
func (h *Hub) Prune(ctx context.Context, src Source) (int64, error) {
	return src.FeedPrune(ctx, time.Now().Add(-h.cfg.Keep))
}
