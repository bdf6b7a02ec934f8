package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// TestSlotTimesStayInTheWindow: the database keeps no slot time outside
// 2000–2099, whatever the caller passes, so nothing it keeps can fail to
// be answered later. A refused write changes nothing.
func TestSlotTimesStayInTheWindow(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	const unit = "SE2321000016-9A03"
	if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: "SE2321000016-9000", Name: "Region", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.CareUnitUpsert(ctx, store.CareUnit{HSAID: unit, ProviderHSAID: "SE2321000016-9000", Name: "Vårdcentralen Test"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	slot := func(at time.Time) store.Slot {
		return store.Slot{CareUnitHSAID: unit, ServiceCode: "physical_visit", StartsAt: at, EndsAt: at.Add(30 * time.Minute), Capacity: 1, CreatedBy: "test"}
	}
	slots, err := st.SlotsPublish(ctx, []store.Slot{slot(start)})
	if err != nil {
		t.Fatal(err)
	}

	farFuture := time.Date(9999, 12, 31, 23, 50, 0, 0, time.UTC)
	before2000 := time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC)
	// The last: it starts in 2099 but ends in 2100.
	for _, at := range []time.Time{farFuture, before2000, time.Date(2099, 12, 31, 23, 50, 0, 0, time.UTC)} {
		if _, err := st.SlotsPublish(ctx, []store.Slot{slot(at)}); !errors.Is(err, store.ErrTimeOutOfRange) {
			t.Errorf("SlotsPublish(%s) got %v, want ErrTimeOutOfRange", at, err)
		}
		none := func(context.Context, *store.Tx, []store.Appointment) error { return nil }
		if _, _, err := st.SlotMove(ctx, unit, slots[0].ID, at, none); !errors.Is(err, store.ErrTimeOutOfRange) {
			t.Errorf("SlotMove(%s) got %v, want ErrTimeOutOfRange", at, err)
		}
	}
	for _, at := range []time.Time{farFuture, before2000} {
		opens := slot(start.Add(24 * time.Hour))
		opens.OpensAt = at
		if _, err := st.SlotsPublish(ctx, []store.Slot{opens}); !errors.Is(err, store.ErrTimeOutOfRange) {
			t.Errorf("SlotsPublish(opens at %s) got %v, want ErrTimeOutOfRange", at, err)
		}
	}
	kept, err := st.SlotList(ctx, unit, "", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || !kept[0].StartsAt.Equal(start) {
		t.Errorf("slots after the refused writes got %+v, want only the one at %s", kept, start)
	}
}
