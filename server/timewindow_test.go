package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
)

// TestTimesOutsideTheWindowAreRefused: a time before 2000, or further ahead
// than a schedule may reach (two years for what is booked, three for what
// is read), is InvalidArgument naming the field, and nothing changes: the
// booked slot keeps its time, its patient's list still answers, no notice
// goes out and nothing new is published.
func TestTimesOutsideTheWindowAreRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	clinician := e.clinicianAt(t, "SE2321000016-N020", homeUnit)
	sched := e.schedule(clinician)
	start := hourFromNow(72 * time.Hour)
	slots := e.publish(t, clinician, homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT, start, 2, 30*time.Minute, 1)
	ids, opts := e.citizens(t, 1)
	citizen := e.booking(opts[0])
	booked, err := citizen.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "window-key-1"})
	if err != nil {
		t.Fatal(err)
	}

	type call struct {
		name, field string
		do          func(at time.Time) error
	}
	ts := timestamppb.New
	writes := []call{
		{"MoveSlot", "new_start_time", func(at time.Time) error {
			_, err := sched.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: homeUnit, SlotId: slots[0].Id, NewStartTime: ts(at)})
			return err
		}},
		{"PublishSlots", "start_time", func(at time.Time) error {
			_, err := sched.PublishSlots(ctx, &apptv1.PublishSlotsRequest{
				UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHYSICAL_VISIT, StartTime: ts(at), EndTime: ts(at.Add(5 * time.Minute)),
				SlotDuration: durationpb.New(5 * time.Minute), Capacity: 1,
			})
			return err
		}},
		{"PublishSlots", "booking_open_time", func(at time.Time) error {
			_, err := sched.PublishSlots(ctx, &apptv1.PublishSlotsRequest{
				UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHYSICAL_VISIT, StartTime: ts(start.Add(24 * time.Hour)),
				EndTime: ts(start.Add(25 * time.Hour)), SlotDuration: durationpb.New(30 * time.Minute), Capacity: 1, BookingOpenTime: ts(at),
			})
			return err
		}},
		{"InviteToAppointment", "start_time", func(at time.Time) error {
			_, err := sched.InviteToAppointment(ctx, &apptv1.InviteToAppointmentRequest{
				UnitHsaId: homeUnit, PatientId: ids[0], Service: apptv1.Service_SERVICE_PHYSICAL_VISIT,
				StartTime: ts(at), EndTime: ts(at.Add(5 * time.Minute)), IdempotencyKey: "window-invite-1",
			})
			return err
		}},
		{"UpdateSlots", "open_time", func(at time.Time) error {
			_, err := sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{
				UnitHsaId: homeUnit, SlotIds: []string{slots[0].Id}, BookingWindow: &apptv1.BookingWindow{OpenTime: ts(at)},
			})
			return err
		}},
	}
	reads := []call{
		{"ListSlots", "start_time", func(at time.Time) error {
			_, err := sched.ListSlots(ctx, &apptv1.ListSlotsRequest{UnitHsaId: homeUnit, StartTime: ts(at), EndTime: ts(at.Add(5 * time.Minute))})
			return err
		}},
		{"SearchSlots", "start_time", func(at time.Time) error {
			_, err := citizen.SearchSlots(ctx, &apptv1.SearchSlotsRequest{
				Service: apptv1.Service_SERVICE_PHYSICAL_VISIT, StartTime: ts(at), EndTime: ts(at.Add(5 * time.Minute)),
			})
			return err
		}},
		{"ListAppointments", "updated_since", func(at time.Time) error {
			_, err := citizen.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{UpdatedSince: ts(at)})
			return err
		}},
	}
	refused := func(c call, at time.Time) {
		t.Helper()
		err := c.do(at)
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s(%s = %s) got %v, want InvalidArgument naming %s", c.name, c.field, at.Format(time.RFC3339), err, c.field)
		}
	}
	farFuture := time.Date(9999, 12, 31, 23, 50, 0, 0, time.UTC)
	before2000 := time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{farFuture, before2000} {
		for _, c := range append(writes, reads...) {
			refused(c, at)
		}
	}
	// Past the two years of a schedule, but within the three years a read
	// may look ahead.
	for _, c := range writes {
		refused(c, time.Now().Add(2*365*24*time.Hour+24*time.Hour))
	}

	list, err := sched.ListSlots(ctx, &apptv1.ListSlotsRequest{UnitHsaId: homeUnit, StartTime: ts(start.Add(-time.Hour)), EndTime: ts(start.Add(2 * time.Hour))})
	if err != nil || len(list.Slots) != 2 || !list.Slots[0].StartTime.AsTime().Equal(start) || list.Slots[0].Booked != 1 ||
		list.Slots[0].BookingOpenTime != nil {
		t.Errorf("the unit's slots after the refused calls got %v, %v; want both unchanged, the first booked at %s", list, err, start)
	}
	mine, err := citizen.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil || len(mine.Appointments) != 1 || !mine.Appointments[0].StartTime.AsTime().Equal(start) ||
		mine.Appointments[0].Version != booked.Appointment.Version {
		t.Errorf("the patient's appointments after the refused calls got %v, %v; want the one booking unchanged", mine, err)
	}
	if n := e.count(t, `SELECT count(*) FROM slot WHERE care_unit_hsa_id = $1`, homeUnit); n != 2 {
		t.Errorf("the unit has %d slots after the refused calls, want 2", n)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE person_id = $1 AND kind <> 'reminder'`, ids[0]); n != 0 {
		t.Errorf("the patient got %d notices from the refused calls, want 0", n)
	}

	// Inside the window a move is fine.
	to := hourFromNow(700 * 24 * time.Hour)
	if moved, err := sched.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: homeUnit, SlotId: slots[1].Id, NewStartTime: ts(to)}); err != nil || !moved.Slot.StartTime.AsTime().Equal(to) {
		t.Errorf("MoveSlot 700 days ahead got %v, %v", moved, err)
	}
}

// TestFarFutureRowIsAnswered: a slot the database kept from before its time
// window, at 9999-12-31T23:50Z so that it ends in the year 10000, does not
// turn its patient's whole list into an error.
func TestFarFutureRowIsAnswered(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	clinician := e.clinicianAt(t, "SE2321000016-N021", homeUnit)
	slots := e.publish(t, clinician, homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT, hourFromNow(72*time.Hour), 2, 30*time.Minute, 1)
	_, opts := e.citizens(t, 1)
	citizen := e.booking(opts[0])
	for i, sl := range slots {
		if _, err := citizen.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: sl.Id, IdempotencyKey: "far-row-key-" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	pool := e.store.Pool()
	if _, err := pool.Exec(ctx, `ALTER TABLE slot DROP CONSTRAINT IF EXISTS slot_time_window`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE slot SET starts_at = '9999-12-31 23:50:00+00', ends_at = '10000-01-01 00:20:00+00' WHERE id = $1`, slots[0].Id); err != nil {
		t.Fatal(err)
	}

	list, err := citizen.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil || len(list.Appointments) != 2 {
		t.Fatalf("ListAppointments with a far-future row got %v, %v; want both appointments", list, err)
	}
	for _, a := range list.Appointments {
		for name, ts := range map[string]*timestamppb.Timestamp{"start_time": a.StartTime, "end_time": a.EndTime, "cancel_deadline": a.CancelDeadline, "expected_start_time": a.ExpectedStartTime} {
			if err := ts.CheckValid(); err != nil {
				t.Errorf("appointment %s %s: %v", a.Id, name, err)
			}
		}
	}
	if far := list.Appointments[len(list.Appointments)-1]; far.StartTime.AsTime().Year() != 9999 {
		t.Errorf("the far appointment starts %s, want in 9999 as kept", far.StartTime.AsTime())
	}
}
