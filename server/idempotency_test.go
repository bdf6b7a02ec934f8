package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
)

// TestInvitationKeysAreTheCallers replays, as a clinician at another unit,
// the idempotency keys that unit A and the patient used. Each replay by
// another caller books anew at the caller's unit and shows nothing of the
// first appointment; only the same clinician at the same unit gets the same
// appointment back, for the same request only, and every answer with
// patient data is in the patient's access log.
func TestInvitationKeysAreTheCallers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	patientID, patient := e.citizenBorn(t, "Keyholder", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))
	const (
		doctorA  = "SE2321000016-D101"
		doctorB  = "SE2321000016-D102"
		unitA    = otherUnit
		unitB    = homeUnit
		secret   = "Privat: provsvar från mottagning A, ta med remissen."
		message  = "Jag kan bara på fredagar."
		sharedAB = "unit-a-invite-1"
		ownKey   = "my-first-booking"
	)
	atA := e.schedule(e.clinicianAt(t, doctorA, unitA))
	atB := e.schedule(e.clinicianAt(t, doctorB, unitB))
	// The same clinician as at A, acting in an assignment at B.
	doctorAAtB := e.schedule(e.clinicianAt(t, doctorA, unitB))
	day := stockholmDay(t, 4)
	invitation := func(unit, key string, at time.Time) *apptv1.InviteToAppointmentRequest {
		return &apptv1.InviteToAppointmentRequest{
			UnitHsaId: unit, PatientId: patientID, Service: apptv1.Service_SERVICE_PHYSICAL_VISIT,
			StartTime: timestamppb.New(at), EndTime: timestamppb.New(at.Add(30 * time.Minute)),
			Instructions: "Välkommen till mottagningen.", ConfirmRequired: true, IdempotencyKey: key,
		}
	}
	logged := func(staff string) int {
		return e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1 AND staff_hsa_id = $2`, patientID, staff)
	}
	appointments := func() int {
		return e.count(t, `SELECT count(*) FROM appointment WHERE patient_id = $1`, patientID)
	}

	// The patient's own booking, and unit A's invitation with its private
	// instructions, answered with a message.
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N101", unitB), unitB, apptv1.Service_SERVICE_PHYSICAL_VISIT, day.Add(14*time.Hour), 1, 20*time.Minute, 1)
	own, err := e.booking(patient).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: ownKey})
	if err != nil {
		t.Fatal(err)
	}
	reqA := invitation(unitA, sharedAB, day.Add(9*time.Hour))
	reqA.Instructions = secret
	first, err := atA.InviteToAppointment(ctx, reqA)
	if err != nil {
		t.Fatal(err)
	}
	a := first.Appointment
	if _, err := e.booking(patient).RespondToInvitation(ctx, &apptv1.RespondToInvitationRequest{
		AppointmentId: a.Id, Response: apptv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME, Message: message,
	}); err != nil {
		t.Fatal(err)
	}
	if n := logged(doctorA); n != 1 {
		t.Errorf("access log got %d entries for unit A's invitation, want 1", n)
	}

	// Unit B replays both keys: each books anew at B.
	for _, c := range []struct {
		name   string
		client func() *apptv1.InviteToAppointmentResponse
		staff  string
		hidden *apptv1.Appointment
	}{
		{"unit B with unit A's key", func() *apptv1.InviteToAppointmentResponse {
			res, err := atB.InviteToAppointment(ctx, invitation(unitB, sharedAB, day.Add(10*time.Hour)))
			if err != nil {
				t.Fatalf("InviteToAppointment: %v", err)
			}
			return res
		}, doctorB, a},
		{"unit B with the patient's own key", func() *apptv1.InviteToAppointmentResponse {
			res, err := atB.InviteToAppointment(ctx, invitation(unitB, ownKey, day.Add(11*time.Hour)))
			if err != nil {
				t.Fatalf("InviteToAppointment: %v", err)
			}
			return res
		}, doctorB, own.Appointment},
		{"unit A's clinician at unit B with unit A's key", func() *apptv1.InviteToAppointmentResponse {
			res, err := doctorAAtB.InviteToAppointment(ctx, invitation(unitB, sharedAB, day.Add(12*time.Hour)))
			if err != nil {
				t.Fatalf("InviteToAppointment: %v", err)
			}
			return res
		}, doctorA, a},
	} {
		before, count := logged(c.staff), appointments()
		got := c.client().Appointment
		if got.Id == c.hidden.Id || got.Unit.GetHsaId() != unitB || got.Instructions == secret || got.PatientMessage != "" ||
			got.InvitationResponse != apptv1.InvitationResponse_INVITATION_RESPONSE_UNSPECIFIED {
			t.Errorf("%s: got %v; want a new appointment at unit B, nothing of %s", c.name, got, c.hidden.Id)
		}
		if n := appointments(); n != count+1 {
			t.Errorf("%s: the patient has %d appointments, want %d", c.name, n, count+1)
		}
		if n := logged(c.staff); n != before+1 {
			t.Errorf("%s: access log got %d entries, want %d", c.name, n, before+1)
		}
	}

	// The same clinician at the same unit with the same request gets the
	// same appointment back; the read is logged again.
	before, count := logged(doctorB), appointments()
	firstB, err := atB.InviteToAppointment(ctx, invitation(unitB, sharedAB, day.Add(10*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	again, err := atB.InviteToAppointment(ctx, invitation(unitB, sharedAB, day.Add(10*time.Hour)))
	if err != nil || again.Appointment.Id != firstB.Appointment.Id || firstB.Appointment.Unit.GetHsaId() != unitB {
		t.Errorf("replay got %v, %v; want %v again", again, err, firstB)
	}
	if n := logged(doctorB); n != before+2 {
		t.Errorf("access log got %d entries after two replays, want %d", n, before+2)
	}
	var action string
	if err := e.store.Pool().QueryRow(ctx, `SELECT action FROM access_log WHERE patient_id = $1 AND staff_hsa_id = $2 ORDER BY id DESC LIMIT 1`,
		patientID, doctorB).Scan(&action); err != nil || action != "repeat invitation" {
		t.Errorf("replay's access log action got %q, %v; want %q", action, err, "repeat invitation")
	}

	// The same key for another request of the same clinician and unit is
	// refused, and changes nothing.
	other := invitation(unitB, sharedAB, day.Add(13*time.Hour))
	_, err = atB.InviteToAppointment(ctx, other)
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "idempotency key already used for another request") {
		t.Errorf("another request with a used key got %v, want FailedPrecondition", err)
	}
	other.StartTime, other.EndTime = timestamppb.New(day.Add(10*time.Hour)), timestamppb.New(day.Add(10*time.Hour+30*time.Minute))
	other.Instructions = "Andra instruktioner."
	if _, err := atB.InviteToAppointment(ctx, other); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("other instructions with a used key got %v, want FailedPrecondition", err)
	}
	if n := appointments(); n != count {
		t.Errorf("the patient has %d appointments after the refusals, want %d", n, count)
	}
}

// TestBookingKeysAreTheCallers has two guardians and the child book with
// one idempotency key: each booking is the caller's own, and none of them
// reads another's through the key.
func TestBookingKeysAreTheCallers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	childID, child := e.citizenBorn(t, "Child", time.Now().AddDate(-8, 0, 0))
	var guardians [2]struct {
		id  string
		opt connect.ClientOption
	}
	for i, name := range []string{"Mother", "Father"} {
		id, opt := e.citizenBorn(t, name, time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC))
		if err := e.store.GuardianshipAdd(ctx, id, childID); err != nil {
			t.Fatal(err)
		}
		guardians[i].id, guardians[i].opt = id, opt
	}
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N102", homeUnit), homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT,
		hourFromNow(72*time.Hour), 4, 20*time.Minute, 1)
	const key = "family-key-1"
	book := func(who connect.ClientOption, slot int, patient string) (*apptv1.Appointment, error) {
		res, err := e.booking(who).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[slot].Id, PatientId: patient, IdempotencyKey: key})
		return res.GetAppointment(), err
	}

	first, err := book(guardians[0].opt, 0, childID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := book(guardians[1].opt, 1, childID)
	if err != nil || second.Id == first.Id || second.StartTime.AsTime() != slots[1].StartTime.AsTime() {
		t.Errorf("the other guardian's booking got %v, %v; want a new booking of slot 1", second, err)
	}
	own, err := book(child, 2, "")
	if err != nil || own.Id == first.Id || own.Id == second.GetId() {
		t.Errorf("the child's own booking got %v, %v; want a new booking of slot 2", own, err)
	}
	again, err := book(guardians[0].opt, 0, childID)
	if err != nil || again.Id != first.Id {
		t.Errorf("the first guardian's replay got %v, %v; want %s", again, err, first.Id)
	}
	// The first guardian's key, for their own booking: another request.
	if _, err := book(guardians[0].opt, 3, ""); connect.CodeOf(err) != connect.CodeFailedPrecondition ||
		!strings.Contains(err.Error(), "idempotency key already used for another request") {
		t.Errorf("the same key for another patient got %v, want FailedPrecondition", err)
	}
	if n := e.count(t, `SELECT count(*) FROM appointment WHERE idempotency_key = $1`, key); n != 3 {
		t.Errorf("bookings with the key got %d, want 3", n)
	}
	if n := e.count(t, `SELECT booked FROM slot WHERE id = $1`, slots[3].Id); n != 0 {
		t.Errorf("the refused slot has %d booked, want 0", n)
	}
}
