package server_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"
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

// TestRefusedInvitationIsLogged invites a patient who has a vaccination
// booked elsewhere to another: the refusal tells the clinician about that
// booking, so it is in the patient's access log.
func TestRefusedInvitationIsLogged(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	const doctor = "SE2321000016-D110"
	patientID, patient := e.citizenBorn(t, "Vaccinated", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N111", otherUnit), otherUnit, apptv1.Service_SERVICE_VACCINATION,
		hourFromNow(96*time.Hour), 1, 10*time.Minute, 1)
	if _, err := e.booking(patient).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "vaccination-1"}); err != nil {
		t.Fatal(err)
	}
	at := hourFromNow(120 * time.Hour)
	_, err := e.schedule(e.clinicianAt(t, doctor, homeUnit)).InviteToAppointment(ctx, &apptv1.InviteToAppointmentRequest{
		UnitHsaId: homeUnit, PatientId: patientID, Service: apptv1.Service_SERVICE_VACCINATION,
		StartTime: timestamppb.New(at), EndTime: timestamppb.New(at.Add(10 * time.Minute)), IdempotencyKey: "vaccination-invite-1",
	})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("invitation to a second vaccination got %v, want FailedPrecondition", err)
	}
	if n := e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1 AND staff_hsa_id = $2`, patientID, doctor); n != 1 {
		t.Errorf("access log got %d entries for the refused invitation, want 1", n)
	}
}
