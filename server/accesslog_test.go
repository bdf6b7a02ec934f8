package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
)

// TestUnitChangesToBookingsAreLogged blocks one booked time (cancelling its
// booking) and moves another: each patient whose appointment the unit
// changed finds it in their access log.
func TestUnitChangesToBookingsAreLogged(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	const nurse = "SE2321000016-N110"
	sched := e.schedule(e.clinicianAt(t, nurse, homeUnit))
	slots := e.publish(t, e.clinicianAt(t, nurse, homeUnit), homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT,
		hourFromNow(72*time.Hour), 2, 30*time.Minute, 1)
	ids, opts := e.citizens(t, 2)
	for i := range 2 {
		if _, err := e.booking(opts[i]).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[i].Id, IdempotencyKey: "logged-change-1"}); err != nil {
			t.Fatal(err)
		}
	}
	logged := func(patient, action string) int {
		return e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1 AND staff_hsa_id = $2 AND action = $3`, patient, nurse, action)
	}

	if _, err := sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{UnitHsaId: homeUnit, SlotIds: []string{slots[0].Id}, Block: true, CancelBooked: true}); err != nil {
		t.Fatal(err)
	}
	if n := logged(ids[0], "cancel appointment by blocking its time"); n != 1 {
		t.Errorf("access log got %d cancellations by blocking, want 1", n)
	}
	to := slots[1].StartTime.AsTime().Add(24 * time.Hour)
	if _, err := sched.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: homeUnit, SlotId: slots[1].Id, NewStartTime: timestamppb.New(to)}); err != nil {
		t.Fatal(err)
	}
	if n := logged(ids[1], "move appointment"); n != 1 {
		t.Errorf("access log got %d moves, want 1", n)
	}
}
