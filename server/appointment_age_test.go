package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
)

// TestAgeGroupTimes publishes vaccination times for age groups, as units did
// when the pandemic's vaccination opened by age: each patient finds only the
// times they are old enough for, a guardian finds their child's, and booking
// or rebooking into a time for an older group is refused with a message
// that names the age.
func TestAgeGroupTimes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	nurse := e.schedule(e.clinicianAt(t, "SE2321000016-N020", homeUnit))
	start := hourFromNow(72 * time.Hour)
	publish := func(from time.Time, minAge int32) []*apptv1.Slot {
		t.Helper()
		res, err := nurse.PublishSlots(ctx, &apptv1.PublishSlotsRequest{
			UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_VACCINATION, StartTime: timestamppb.New(from),
			EndTime: timestamppb.New(from.Add(30 * time.Minute)), SlotDuration: durationpb.New(10 * time.Minute), Capacity: 2, MinAge: minAge,
		})
		if err != nil {
			t.Fatalf("PublishSlots(min_age %d): %v", minAge, err)
		}
		for _, sl := range res.Slots {
			if sl.MinAge != minAge {
				t.Fatalf("published slot got min_age %d, want %d", sl.MinAge, minAge)
			}
		}
		return res.Slots
	}
	senior := publish(start, 65)
	open := publish(start.Add(time.Hour), 0)
	publish(start.Add(2*time.Hour), 6)
	school := publish(start.Add(3*time.Hour), 12)

	if _, err := nurse.PublishSlots(ctx, &apptv1.PublishSlotsRequest{
		UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_VACCINATION, StartTime: timestamppb.New(start.Add(5 * time.Hour)),
		EndTime: timestamppb.New(start.Add(6 * time.Hour)), SlotDuration: durationpb.New(10 * time.Minute), Capacity: 1, MinAge: 121,
	}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("PublishSlots with min_age 121 got %v, want InvalidArgument", err)
	}
	// Recurring publication keeps the age group on every repeat.
	loc := stockholm(t)
	weekly, err := nurse.PublishSlots(ctx, &apptv1.PublishSlotsRequest{
		UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_VACCINATION, StartTime: timestamppb.New(nextMonday(loc, 3)),
		EndTime: timestamppb.New(nextMonday(loc, 3).Add(20 * time.Minute)), SlotDuration: durationpb.New(10 * time.Minute),
		Capacity: 1, MinAge: 65, RepeatWeeks: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(weekly.Slots) < 4 || slices.ContainsFunc(weekly.Slots, func(sl *apptv1.Slot) bool { return sl.MinAge != 65 }) {
		t.Errorf("recurring 65+ publication got %v, want at least 4 slots, all 65+", weekly.Slots)
	}

	ids, opts := e.citizens(t, 2) // born 1980: 46 in 2026
	young, guardian := e.booking(opts[0]), e.booking(opts[1])
	now := time.Now()
	_, seventy := e.citizenBorn(t, "Seventy", time.Date(now.Year()-70, 1, 1, 0, 0, 0, 0, time.UTC))
	old := e.booking(seventy)
	child, err := e.store.PersonUpsert(ctx, []byte("hash-age-test-child"), []byte("sealed"), "Barn", "Test", now.AddDate(-8, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.GuardianshipAdd(ctx, ids[1], child.ID); err != nil {
		t.Fatal(err)
	}

	// ages searches as c for patient (empty: c) and returns the age groups
	// of the times found.
	ages := func(c appointmentv1connect.AppointmentServiceClient, patient string) ([]int32, error) {
		t.Helper()
		res, err := c.SearchSlots(ctx, &apptv1.SearchSlotsRequest{
			Service: apptv1.Service_SERVICE_VACCINATION, UnitHsaId: homeUnit, PatientId: patient,
			StartTime: timestamppb.New(start.Add(-time.Minute)), EndTime: timestamppb.New(start.Add(4 * time.Hour)),
		})
		if err != nil {
			return nil, err
		}
		var out []int32
		for _, sl := range res.Slots {
			if !slices.Contains(out, sl.MinAge) {
				out = append(out, sl.MinAge)
			}
		}
		return out, nil
	}
	for _, c := range []struct {
		name    string
		client  appointmentv1connect.AppointmentServiceClient
		patient string
		want    []int32
	}{
		{"a 46-year-old", young, "", []int32{0, 6, 12}},
		{"a 46-year-old naming themself", young, ids[0], []int32{0, 6, 12}},
		{"a 70-year-old", old, "", []int32{65, 0, 6, 12}},
		{"a guardian for their 8-year-old", guardian, child.ID, []int32{0, 6}},
	} {
		got, err := ages(c.client, c.patient)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("SearchSlots by %s got age groups %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := ages(old, child.ID); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("SearchSlots for another's child got %v, want NotFound", err)
	}
	if _, err := ages(young, ids[1]); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("SearchSlots for another adult got %v, want NotFound", err)
	}

	// Booking a time of an older group by its id is refused with the age.
	refusedFor := func(err error, age string) bool {
		return connect.CodeOf(err) == connect.CodeFailedPrecondition && strings.Contains(err.Error(), "aged "+age+" or older")
	}
	if _, err := young.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: senior[0].Id, IdempotencyKey: "age-young-senior"}); !refusedFor(err, "65") {
		t.Errorf("BookSlot of a 65+ time by a 46-year-old got %v, want FailedPrecondition naming the age", err)
	}
	if _, err := guardian.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: school[0].Id, PatientId: child.ID, IdempotencyKey: "age-child-school"}); !refusedFor(err, "12") {
		t.Errorf("BookSlot of a 12+ time for an 8-year-old got %v, want FailedPrecondition naming the age", err)
	}
	if n := e.count(t, `SELECT coalesce(sum(booked), 0) FROM slot WHERE id = ANY($1)`, []string{senior[0].Id, school[0].Id}); n != 0 {
		t.Errorf("refused bookings took %d places, want 0", n)
	}
	booked, err := old.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: senior[0].Id, IdempotencyKey: "age-old-senior"})
	if err != nil {
		t.Fatalf("BookSlot of a 65+ time by a 70-year-old: %v", err)
	}
	if booked.Appointment.Status != apptv1.Status_STATUS_BOOKED {
		t.Errorf("70-year-old's booking got %v, want booked", booked.Appointment)
	}

	// Rebooking into an older group's time is refused and keeps the old time.
	mine, err := young.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: open[0].Id, IdempotencyKey: "age-young-open"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := young.RebookAppointment(ctx, &apptv1.RebookAppointmentRequest{AppointmentId: mine.Appointment.Id, SlotId: senior[1].Id}); !refusedFor(err, "65") {
		t.Errorf("RebookAppointment into a 65+ time by a 46-year-old got %v, want FailedPrecondition naming the age", err)
	}
	if n := e.count(t, `SELECT count(*) FROM appointment WHERE id = $1 AND slot_id = $2 AND status = 'booked'`, mine.Appointment.Id, open[0].Id); n != 1 {
		t.Errorf("refused rebooking moved the appointment")
	}
	if n := e.count(t, `SELECT booked FROM slot WHERE id = $1`, senior[1].Id); n != 0 {
		t.Errorf("refused rebooking took %d places of the 65+ time, want 0", n)
	}
	if _, err := old.RebookAppointment(ctx, &apptv1.RebookAppointmentRequest{AppointmentId: booked.Appointment.Id, SlotId: senior[1].Id}); err != nil {
		t.Errorf("RebookAppointment within 65+ times by a 70-year-old: %v", err)
	}

	// The unit sees the age group of its times.
	listed, err := nurse.ListSlots(ctx, &apptv1.ListSlotsRequest{
		UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_VACCINATION,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(30 * time.Minute)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed.Slots) != 3 || listed.Slots[0].MinAge != 65 {
		t.Errorf("ListSlots got %v, want the three 65+ times", listed.Slots)
	}
}

// TestAgeGroupTimeMoved refuses to move a time for an age group to a day
// before a booked patient reaches the age, and moves it later.
func TestAgeGroupTimeMoved(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	nurse := e.schedule(e.clinicianAt(t, "SE2321000016-N020", homeUnit))
	start := hourFromNow(10 * 24 * time.Hour)
	res, err := nurse.PublishSlots(ctx, &apptv1.PublishSlotsRequest{
		UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_VACCINATION, StartTime: timestamppb.New(start),
		EndTime: timestamppb.New(start.Add(10 * time.Minute)), SlotDuration: durationpb.New(10 * time.Minute), Capacity: 1, MinAge: 65,
	})
	if err != nil {
		t.Fatal(err)
	}
	slot := res.Slots[0]
	// 65 five days before the time.
	_, justOld := e.citizenBorn(t, "Justold", start.In(stockholm(t)).AddDate(-65, 0, -5))
	if _, err := e.booking(justOld).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slot.Id, IdempotencyKey: "age-move-1"}); err != nil {
		t.Fatal(err)
	}
	_, err = nurse.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: homeUnit, SlotId: slot.Id, NewStartTime: timestamppb.New(start.Add(-7 * 24 * time.Hour))})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "younger than the time's age group (65)") {
		t.Errorf("moving the time before the patient turns 65 got %v, want FailedPrecondition naming the age group", err)
	}
	moved, err := nurse.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: homeUnit, SlotId: slot.Id, NewStartTime: timestamppb.New(start.Add(-3 * 24 * time.Hour))})
	if err != nil || moved.Notified != 1 {
		t.Errorf("moving the time to after the birthday got %v, %v; want it moved and the patient told", moved, err)
	}
}
