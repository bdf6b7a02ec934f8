package changefeed_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/changefeed"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Run(m)) }

// recorder is a Follower that keeps what it was told.
type recorder struct {
	mu   sync.Mutex
	live bool
	keys []string
	told chan struct{}
}

func newRecorder() *recorder { return &recorder{told: make(chan struct{}, 100)} }

func (r *recorder) Follow(live bool) {
	r.mu.Lock()
	r.live = live
	r.mu.Unlock()
	r.tell()
}

func (r *recorder) Changed(key string) {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	r.tell()
}

func (r *recorder) tell() {
	select {
	case r.told <- struct{}{}:
	default:
	}
}

func (r *recorder) has(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.keys {
		if k == key {
			return true
		}
	}
	return false
}

func (r *recorder) isLive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live
}

// waitFor waits until cond holds, re-checking whenever r is told something
// and at least every 50 ms.
func (r *recorder) waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(within)
	for !cond() {
		select {
		case <-r.told:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: not within %v", what, within)
		}
	}
}

// replica is one server's share of the feed: a store and its hub.
type replica struct {
	store *store.Store
	hub   *changefeed.Hub
	rec   *recorder
}

// source lets a test drop a replica's wake-ups, as a lost notification.
type source struct {
	*store.Store
	deaf bool
}

func (s source) FeedListen(ctx context.Context, ready func(), wake func(uint64)) error {
	if s.deaf {
		wake = func(uint64) {}
	}
	return s.Store.FeedListen(ctx, ready, wake)
}

func startReplica(t *testing.T, pool *pgxpool.Pool, cfg changefeed.Config, deaf bool) *replica {
	t.Helper()
	hub := changefeed.New(cfg, slog.New(slog.DiscardHandler))
	r := &replica{store: store.New(pool, store.Options{Committed: hub.Committed}), hub: hub, rec: newRecorder()}
	hub.Follow("test", r.rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = hub.Run(ctx, source{Store: r.store, deaf: deaf}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	r.rec.waitFor(t, "listening", 10*time.Second, r.rec.isLive)
	return r
}

func (r *replica) change(t *testing.T, key string) {
	t.Helper()
	if err := r.store.InTx(context.Background(), func(tx *store.Tx) error {
		tx.Changed("test", key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestChangesReachEveryReplica(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	a := startReplica(t, pool, changefeed.Config{}, false)
	b := startReplica(t, pool, changefeed.Config{}, false)

	a.change(t, "k1")
	// The replica that made the change has it before the commit returns.
	if !a.rec.has("k1") {
		t.Fatal("the replica that committed k1 was not told before the commit returned")
	}
	b.rec.waitFor(t, "k1 on the other replica", 5*time.Second, func() bool { return b.rec.has("k1") })
}

func TestALostWakeUpLosesNothing(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	a := startReplica(t, pool, changefeed.Config{}, false)
	// b never hears a wake-up: it reads the feed only at its polls.
	b := startReplica(t, pool, changefeed.Config{PollEvery: 200 * time.Millisecond}, true)

	a.change(t, "unheard")
	b.rec.waitFor(t, "a change whose wake-up was lost", 5*time.Second, func() bool { return b.rec.has("unheard") })
}

func TestAChangeWhileTheListenerIsDownIsRead(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	a := startReplica(t, pool, changefeed.Config{}, false)
	b := startReplica(t, pool, changefeed.Config{}, false)

	// Kill b's listening connection (a and b share a database, so both
	// listeners go; a's own change reaches a directly).
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		 WHERE datname = current_database() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	a.change(t, "while-down")
	b.rec.waitFor(t, "the change made while the listener was down", 10*time.Second, func() bool { return b.rec.has("while-down") })
}

// TestALateCommitIsNotPassedOver: a transaction that began first and
// commits last is still read, though a later one was read before it.
func TestALateCommitIsNotPassedOver(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	a := startReplica(t, pool, changefeed.Config{}, false)
	b := startReplica(t, pool, changefeed.Config{PollEvery: 100 * time.Millisecond}, false)

	ctx := context.Background()
	began, release := make(chan struct{}), make(chan struct{})
	committed := make(chan error, 1)
	go func() {
		committed <- a.store.InTx(ctx, func(tx *store.Tx) error {
			// Take a transaction id now, before the other change's.
			if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
				return err
			}
			close(began)
			<-release
			tx.Changed("test", "early-late")
			return nil
		})
	}()
	<-began
	a.change(t, "later")
	// Give b polls to read past "later" if it would; it must not, while
	// the older transaction runs.
	time.Sleep(300 * time.Millisecond)
	close(release)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	b.rec.waitFor(t, "both changes", 5*time.Second, func() bool { return b.rec.has("later") && b.rec.has("early-late") })
}

func TestNextWakesOnItsKey(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	a := startReplica(t, pool, changefeed.Config{}, false)
	b := startReplica(t, pool, changefeed.Config{}, false)

	other := b.hub.Next("test", "other")
	mine := b.hub.Next("test", "mine")
	a.change(t, "mine")
	select {
	case <-mine:
	case <-time.After(5 * time.Second):
		t.Fatal("a waiter on mine was not woken by its change")
	}
	select {
	case <-other:
		t.Fatal("a waiter on other was woken by a change of mine")
	default:
	}
}

func TestPruneKeepsRecentRows(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	a := startReplica(t, pool, changefeed.Config{}, false)
	a.change(t, "old")
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `UPDATE change_feed SET created_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	a.change(t, "new")
	n, err := a.hub.Prune(ctx, a.store)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("Prune deleted %d rows, want 1 (the one two hours old)", n)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM change_feed WHERE key = 'new'`).Scan(&left); err != nil || left != 1 {
		t.Errorf("the recent row: %d left (%v), want 1", left, err)
	}
}
