package notify

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nara-care/nara/push/pushtest"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// TestSendTwiceSendsOnce claims and sends one notice twice, as after a crash
// between recording its delivery and finishing it: the second claim finds
// the (notice, device) delivery recorded and sends nothing.
func TestSendTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	st := store.New(pool, store.Options{})
	fake, sender := pushtest.FCM(t)
	s, err := New(Config{PollInterval: 20 * time.Millisecond}, Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st, Sender: sender})
	if err != nil {
		t.Fatal(err)
	}
	person := pushtest.Person(t, st)
	dev := pushtest.Device(t, st, person, "android")
	var ids []int64
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		ids, err = store.PushNoticesInsertTx(ctx, tx, []store.PushNotice{{PersonID: person, Kind: "message", DueAt: s.now()}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.d.start(ctx)
	defer s.d.stopAndWait()
	// Put the notice back to pending and due after the first run, as if the
	// worker died before finishing it.
	for i := range 2 {
		deadline := time.Now().Add(10 * time.Second)
		for state := ""; state != "sent"; {
			if time.Now().After(deadline) {
				t.Fatalf("run %d: notice still %q after 10 s", i, state)
			}
			time.Sleep(20 * time.Millisecond)
			if err := pool.QueryRow(ctx, `SELECT state FROM push_notice WHERE id = $1`, ids[0]).Scan(&state); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := pool.Exec(ctx, `UPDATE push_notice SET state = 'pending', next_at = now() - interval '1 s' WHERE id = $1`, ids[0]); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.CountFor(dev.Token); got != 1 {
		t.Errorf("CountFor = %d after two runs, want 1", got)
	}
}
