package notify

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/push/pushtest"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// TestSendTwiceSendsOnce runs one job's work twice, as after a crash between
// sending and completing the job: the second run finds the delivery recorded.
func TestSendTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	st := store.New(pool)
	fake, sender := pushtest.FCM(t)
	s, err := New(Config{}, Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Pool: pool, Store: st, Sender: sender})
	if err != nil {
		t.Fatal(err)
	}
	person := pushtest.Person(t, st)
	dev := pushtest.Device(t, st, person, "android")
	var ids []int64
	ctx := context.Background()
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		ids, err = store.PushNoticesInsertTx(ctx, tx, []store.PushNotice{{PersonID: person, Kind: "message", DueAt: s.now()}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Put the notice back to pending after the first run, as if the worker
	// died before finishing it.
	for range 2 {
		if err := s.send(ctx, ids); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE push_notice SET state = 'pending' WHERE id = $1`, ids[0]); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.CountFor(dev.Token); got != 1 {
		t.Errorf("CountFor = %d after two runs, want 1", got)
	}
}
