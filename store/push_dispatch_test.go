package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// TestPushNoticesClaimLease claims a due notice, finds it held until the
// lease runs out, then claims it again as another process would after a
// crash, with the device already answered left out.
func TestPushNoticesClaimLease(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	st := store.New(pool, store.Options{})
	ctx := context.Background()
	p, err := st.PersonUpsert(ctx, []byte("hash-claim"), []byte("sealed"), "Anna", "Provsson", time.Date(1985, 7, 9, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var devs []store.PushDevice
	for _, inst := range []string{"inst-claim-1", "inst-claim-2"} {
		d, err := st.PushDeviceRegister(ctx, store.PushDevice{PersonID: p.ID, InstallationID: inst, Token: "tok-" + inst, Platform: "android"})
		if err != nil {
			t.Fatal(err)
		}
		devs = append(devs, d)
	}
	now := time.Now()
	var ids []int64
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		ids, err = store.PushNoticesInsertTx(ctx, tx, []store.PushNotice{
			{PersonID: p.ID, Kind: "message", DueAt: now.Add(-time.Second)},
			{PersonID: p.ID, Kind: "message", DueAt: now.Add(time.Hour)}, // not due
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const lease = 15 * time.Second

	got, err := st.PushNoticesClaim(ctx, nil, 10, now, lease)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Notice.ID != ids[0] || got[0].Notice.Claims != 1 || len(got[0].Devices) != 2 {
		t.Fatalf("first claim = %+v, want notice %d, claim 1, 2 devices", got, ids[0])
	}
	if again, err := st.PushNoticesClaim(ctx, nil, 10, now.Add(lease-time.Second), lease); err != nil || len(again) != 0 {
		t.Fatalf("claim within the lease = %d notices, %v; want none", len(again), err)
	}
	// One device answered before the claimant died.
	if err := st.PushSettle(ctx, store.PushSettlement{Deliveries: []store.PushDelivery{{NoticeID: ids[0], DeviceID: devs[0].ID, Detail: "m/1"}}}); err != nil {
		t.Fatal(err)
	}
	got, err = st.PushNoticesClaim(ctx, nil, 10, now.Add(lease+time.Second), lease)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Notice.Claims != 2 || len(got[0].Devices) != 1 || got[0].Devices[0].ID != devs[1].ID {
		t.Fatalf("claim after the lease = %+v, want claim 2 with only device %d", got, devs[1].ID)
	}
	// Only the ids asked for are claimed.
	if some, err := st.PushNoticesClaim(ctx, []int64{ids[1]}, 10, now.Add(2*time.Hour), lease); err != nil || len(some) != 1 || some[0].Notice.ID != ids[1] {
		t.Fatalf("claim of ids[1] = %+v, %v; want only it", some, err)
	}
	// Later moves the next claim; Finished ends it.
	if err := st.PushSettle(ctx, store.PushSettlement{
		Finished: []store.PushFinish{{NoticeID: ids[0], State: "sent"}},
		Later:    []store.PushLater{{NoticeID: ids[1], At: now.Add(3 * time.Hour)}},
	}); err != nil {
		t.Fatal(err)
	}
	if left, err := st.PushNoticesClaim(ctx, nil, 10, now.Add(150*time.Minute), lease); err != nil || len(left) != 0 {
		t.Fatalf("claim after settling = %+v, %v; want none", left, err)
	}
	ns, err := st.PushInboxList(ctx, p.ID, 0, 10, false, now.Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	states := map[int64]string{}
	for _, n := range ns {
		states[n.ID] = n.State
	}
	if states[ids[0]] != "sent" || states[ids[1]] != "pending" {
		t.Errorf("states = %v, want %d sent and %d pending", states, ids[0], ids[1])
	}
}

// TestPushNoticesClaimSkipsLocked checks that two claimants at once never
// get the same notice.
func TestPushNoticesClaimSkipsLocked(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	st := store.New(pool, store.Options{})
	ctx := context.Background()
	p, err := st.PersonUpsert(ctx, []byte("hash-skip"), []byte("sealed"), "Bo", "Provsson", time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ns := make([]store.PushNotice, 200)
	for i := range ns {
		ns[i] = store.PushNotice{PersonID: p.ID, Kind: "offer", DueAt: now.Add(-time.Minute)}
	}
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := store.PushNoticesInsertTx(ctx, tx, ns)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	results := make(chan []store.PushTarget, 4)
	for range 4 {
		go func() {
			got, err := st.PushNoticesClaim(ctx, nil, 60, now, time.Minute)
			if err != nil {
				t.Error(err)
			}
			results <- got
		}()
	}
	seen := map[int64]bool{}
	for range 4 {
		for _, tg := range <-results {
			if seen[tg.Notice.ID] {
				t.Errorf("notice %d claimed twice", tg.Notice.ID)
			}
			seen[tg.Notice.ID] = true
		}
	}
	if len(seen) != 200 {
		t.Errorf("%d notices claimed, want all 200", len(seen))
	}
}
