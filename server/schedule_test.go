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
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	"github.com/nara-care/nara/holiday"
)

func (e *env) schedule(opts ...connect.ClientOption) appointmentv1connect.ScheduleServiceClient {
	return appointmentv1connect.NewScheduleServiceClient(e.client, e.url, opts...)
}

func stockholm(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// nextMonday is 08:00 Stockholm time on the Monday at least weeks weeks on.
func nextMonday(loc *time.Location, weeks int) time.Time {
	d := time.Now().In(loc).AddDate(0, 0, 7*weeks)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, loc)
}

func TestResourcesAndRecurringSlots(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	loc := stockholm(t)
	sched := e.schedule(e.clinicianAt(t, "SE2321000016-N010", homeUnit))

	room, err := sched.CreateResource(ctx, &apptv1.CreateResourceRequest{UnitHsaId: homeUnit, Kind: apptv1.ResourceKind_RESOURCE_KIND_ROOM, Name: "Rum 3"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sched.CreateResource(ctx, &apptv1.CreateResourceRequest{UnitHsaId: homeUnit, Kind: apptv1.ResourceKind_RESOURCE_KIND_CLINICIAN, Name: "Dr X"}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("CreateResource(clinician) got %v, want InvalidArgument", err)
	}
	if _, err := e.schedule(e.clinicianAt(t, "SE2321000016-N010", otherUnit)).CreateResource(ctx, &apptv1.CreateResourceRequest{UnitHsaId: homeUnit, Kind: apptv1.ResourceKind_RESOURCE_KIND_ROOM, Name: "Rum 4"}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("CreateResource at another unit got %v, want PermissionDenied", err)
	}

	// Mondays and Wednesdays, 08:00–10:00, for three weeks: DST-proof wall
	// clock times, public holidays left out.
	start := nextMonday(loc, 2)
	req := &apptv1.PublishSlotsRequest{
		UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHYSICAL_VISIT,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(2 * time.Hour)),
		SlotDuration: durationpb.New(30 * time.Minute), Capacity: 1, ResourceId: room.Resource.Id,
		RepeatWeekdays: []apptv1.Weekday{apptv1.Weekday_WEEKDAY_MONDAY, apptv1.Weekday_WEEKDAY_WEDNESDAY}, RepeatWeeks: 3,
	}
	want := 0
	for d := range 21 {
		day := start.AddDate(0, 0, d)
		if h, ok := holiday.On(day); (day.Weekday() == time.Monday || day.Weekday() == time.Wednesday) && !(ok && h.Official) {
			want += 4
		}
	}
	res, err := sched.PublishSlots(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Slots) != want {
		t.Errorf("recurring publish got %d slots, want %d", len(res.Slots), want)
	}
	for _, sl := range res.Slots {
		at := sl.StartTime.AsTime().In(loc)
		if at.Hour() < 8 || at.Hour() >= 10 || (at.Weekday() != time.Monday && at.Weekday() != time.Wednesday) {
			t.Errorf("slot at %v, want Monday or Wednesday 08–10", at)
		}
		if sl.Resource.GetName() != "Rum 3" || sl.Capacity != 1 || sl.Booked != 0 {
			t.Errorf("slot got resource %v capacity %d booked %d", sl.Resource, sl.Capacity, sl.Booked)
		}
	}
	// The same rule again overlaps itself: refused, nothing written.
	if _, err := sched.PublishSlots(ctx, req); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("overlapping rule got %v, want FailedPrecondition", err)
	}
	listed, err := sched.ListSlots(ctx, &apptv1.ListSlotsRequest{
		UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHYSICAL_VISIT,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.AddDate(0, 0, 21)),
	})
	if err != nil || len(listed.Slots) != want {
		t.Errorf("ListSlots got %d slots, %v; want %d", len(listed.GetSlots()), err, want)
	}

	// Slots of the clinician's own are theirs as a resource.
	mine := &apptv1.PublishSlotsRequest{
		UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_VIDEO_VISIT, ForMe: true,
		StartTime: timestamppb.New(start.Add(-time.Hour)), EndTime: timestamppb.New(start),
		SlotDuration: durationpb.New(20 * time.Minute), Capacity: 1,
	}
	own, err := sched.PublishSlots(ctx, mine)
	if err != nil || len(own.Slots) != 3 || own.Slots[0].Resource.GetStaffHsaId() != "SE2321000016-N010" ||
		own.Slots[0].Resource.GetKind() != apptv1.ResourceKind_RESOURCE_KIND_CLINICIAN {
		t.Errorf("PublishSlots(for_me) got %v, %v", own, err)
	}
	rs, err := sched.ListResources(ctx, &apptv1.ListResourcesRequest{UnitHsaId: homeUnit})
	if err != nil || len(rs.Resources) != 2 {
		t.Errorf("ListResources got %v, %v; want the clinician and the room", rs, err)
	}

	bad := []struct {
		name string
		req  *apptv1.PublishSlotsRequest
		code connect.Code
	}{
		{"resource and for_me", &apptv1.PublishSlotsRequest{
			UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHONE, ForMe: true, ResourceId: room.Resource.Id,
			StartTime: timestamppb.New(start.AddDate(0, 1, 0)), EndTime: timestamppb.New(start.AddDate(0, 1, 0).Add(time.Hour)),
			SlotDuration: durationpb.New(30 * time.Minute), Capacity: 1,
		}, connect.CodeInvalidArgument},
		{"unknown resource", &apptv1.PublishSlotsRequest{
			UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHONE, ResourceId: "9a0e4a53-5d0b-4b8e-8d7c-3f5f6b1f0d11",
			StartTime: timestamppb.New(start.AddDate(0, 1, 0)), EndTime: timestamppb.New(start.AddDate(0, 1, 0).Add(time.Hour)),
			SlotDuration: durationpb.New(30 * time.Minute), Capacity: 1,
		}, connect.CodeNotFound},
		{"repeat across days", &apptv1.PublishSlotsRequest{
			UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHONE, RepeatWeeks: 2,
			StartTime: timestamppb.New(start.AddDate(0, 1, 0)), EndTime: timestamppb.New(start.AddDate(0, 1, 1)),
			SlotDuration: durationpb.New(30 * time.Minute), Capacity: 1,
		}, connect.CodeInvalidArgument},
		{"weekday unspecified", &apptv1.PublishSlotsRequest{
			UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHONE, RepeatWeeks: 2, RepeatWeekdays: []apptv1.Weekday{0},
			StartTime: timestamppb.New(start.AddDate(0, 1, 0)), EndTime: timestamppb.New(start.AddDate(0, 1, 0).Add(time.Hour)),
			SlotDuration: durationpb.New(30 * time.Minute), Capacity: 1,
		}, connect.CodeInvalidArgument},
		{"too many repeats", &apptv1.PublishSlotsRequest{
			UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHONE, RepeatWeeks: 26,
			RepeatWeekdays: []apptv1.Weekday{1, 2, 3, 4, 5, 6, 7},
			StartTime:      timestamppb.New(start.AddDate(0, 1, 0)), EndTime: timestamppb.New(start.AddDate(0, 1, 0).Add(10 * time.Hour)),
			SlotDuration: durationpb.New(5 * time.Minute), Capacity: 1,
		}, connect.CodeInvalidArgument},
	}
	for _, tt := range bad {
		if _, err := sched.PublishSlots(ctx, tt.req); connect.CodeOf(err) != tt.code {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.code)
		}
	}
}

func TestBookingWindow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	sched := e.schedule(e.clinicianAt(t, "SE2321000016-N011", homeUnit))
	start := hourFromNow(20 * 24 * time.Hour)
	res, err := sched.PublishSlots(ctx, &apptv1.PublishSlotsRequest{
		UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_COVID_TEST,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour)),
		SlotDuration: durationpb.New(15 * time.Minute), Capacity: 5,
		BookingOpenTime: timestamppb.New(time.Now().Add(24 * time.Hour)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, opts := e.citizens(t, 1)
	_ = ids
	citizen := e.booking(opts[0])
	search := &apptv1.SearchSlotsRequest{
		Service: apptv1.Service_SERVICE_COVID_TEST, UnitHsaId: homeUnit,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour)),
	}
	if found, err := citizen.SearchSlots(ctx, search); err != nil || len(found.Slots) != 0 {
		t.Errorf("search before booking opens got %v, %v; want none", found, err)
	}
	slot := res.Slots[0].Id
	if _, err := citizen.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slot, IdempotencyKey: "window-1"}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("booking before it opens got %v, want FailedPrecondition", err)
	}

	// Open now, close 31 days before: closed again.
	var all []string
	for _, s := range res.Slots {
		all = append(all, s.Id)
	}
	upd, err := sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{UnitHsaId: homeUnit, SlotIds: all,
		BookingWindow: &apptv1.BookingWindow{CloseBefore: durationpb.New(31 * 24 * time.Hour)}})
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("close_before above 30 days got %v, %v; want InvalidArgument", upd, err)
	}
	if _, err := sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{UnitHsaId: homeUnit, SlotIds: all,
		BookingWindow: &apptv1.BookingWindow{CloseBefore: durationpb.New(30 * 24 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := citizen.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slot, IdempotencyKey: "window-2"}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("booking after it closed got %v, want FailedPrecondition", err)
	}
	upd, err = sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{UnitHsaId: homeUnit, SlotIds: all, BookingWindow: &apptv1.BookingWindow{CloseBefore: durationpb.New(2 * time.Hour)}})
	if err != nil || upd.Slots[0].BookingOpenTime != nil || !upd.Slots[0].BookingCloseTime.AsTime().Equal(start.Add(-2*time.Hour)) {
		t.Fatalf("UpdateSlots(window) got %v, %v", upd, err)
	}
	if found, err := citizen.SearchSlots(ctx, search); err != nil || len(found.Slots) != 4 {
		t.Errorf("search once open got %v, %v; want 4 slots", found, err)
	}
	if _, err := citizen.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slot, IdempotencyKey: "window-3"}); err != nil {
		t.Errorf("booking once open got %v", err)
	}

	for name, req := range map[string]*apptv1.UpdateSlotsRequest{
		"no change":              {UnitHsaId: homeUnit, SlotIds: all},
		"two changes":            {UnitHsaId: homeUnit, SlotIds: all, Block: true, Unblock: true},
		"cancel_booked no block": {UnitHsaId: homeUnit, SlotIds: all, Unblock: true, CancelBooked: true},
		"no slots":               {UnitHsaId: homeUnit, Block: true},
	} {
		if _, err := sched.UpdateSlots(ctx, req); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("UpdateSlots(%s) got %v, want InvalidArgument", name, err)
		}
	}
	if _, err := sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{UnitHsaId: homeUnit, SlotIds: []string{"9a0e4a53-5d0b-4b8e-8d7c-3f5f6b1f0d11"}, Block: true}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("UpdateSlots(unknown slot) got %v, want NotFound", err)
	}
}

func TestBlockAndMoveTellPatients(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	sched := e.schedule(e.clinicianAt(t, "SE2321000016-N012", homeUnit))
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N012", homeUnit), homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT,
		hourFromNow(72*time.Hour), 3, 30*time.Minute, 2)
	ids, opts := e.citizens(t, 2)
	first, err := e.booking(opts[0]).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "block-key-1"})
	if err != nil {
		t.Fatal(err)
	}

	// Blocking a booked time must say what happens to the patient.
	if _, err := sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{UnitHsaId: homeUnit, SlotIds: []string{slots[0].Id}, Block: true}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("blocking a booked slot got %v, want FailedPrecondition", err)
	}
	blocked, err := sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{UnitHsaId: homeUnit, SlotIds: []string{slots[0].Id}, Block: true, CancelBooked: true})
	if err != nil || blocked.Cancelled != 1 || !blocked.Slots[0].Blocked || blocked.Slots[0].Booked != 0 {
		t.Fatalf("UpdateSlots(block, cancel_booked) got %v, %v", blocked, err)
	}
	list, err := e.booking(opts[0]).ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil || len(list.Appointments) != 1 || list.Appointments[0].Status != apptv1.Status_STATUS_CANCELLED || !list.Appointments[0].CancelledByUnit {
		t.Errorf("patient's list after blocking got %v, %v; want cancelled by the unit", list, err)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'cancelled' AND person_id = $2`, first.Appointment.Id, ids[0]); n != 1 {
		t.Errorf("cancelled notices got %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'reminder' AND state = 'pending'`, first.Appointment.Id); n != 0 {
		t.Errorf("pending reminders after cancelling got %d, want 0", n)
	}
	if _, err := e.booking(opts[1]).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "block-key-2"}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("booking a blocked slot got %v, want FailedPrecondition", err)
	}
	if _, err := sched.UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{UnitHsaId: homeUnit, SlotIds: []string{slots[0].Id}, Unblock: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.booking(opts[1]).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "block-key-3"}); err != nil {
		t.Errorf("booking an unblocked slot got %v", err)
	}

	// Moving a booked slot moves the visit, tells the patient and moves the
	// reminders.
	second, err := e.booking(opts[0]).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[2].Id, IdempotencyKey: "move-key-1"})
	if err != nil {
		t.Fatal(err)
	}
	to := slots[2].StartTime.AsTime().Add(24 * time.Hour)
	moved, err := sched.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: homeUnit, SlotId: slots[2].Id, NewStartTime: timestamppb.New(to)})
	if err != nil || moved.Notified != 1 || !moved.Slot.StartTime.AsTime().Equal(to) || !moved.Slot.EndTime.AsTime().Equal(to.Add(30*time.Minute)) {
		t.Fatalf("MoveSlot got %v, %v", moved, err)
	}
	list, err = e.booking(opts[0]).ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list.Appointments {
		if a.Id == second.Appointment.Id && (!a.StartTime.AsTime().Equal(to) || a.Version != second.Appointment.Version+1) {
			t.Errorf("moved appointment got start %v version %d", a.StartTime.AsTime(), a.Version)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'moved'`, second.Appointment.Id); n != 1 {
		t.Errorf("moved notices got %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'reminder' AND state = 'pending' AND due_at = $2::timestamptz - interval '1 hour'`, second.Appointment.Id, to); n != 1 {
		t.Errorf("pending 1-hour reminders at the new time got %d, want 1", n)
	}
	// Onto a time of the same lane: refused.
	if _, err := sched.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: homeUnit, SlotId: slots[2].Id, NewStartTime: slots[1].StartTime}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("move onto another slot got %v, want FailedPrecondition", err)
	}
	if _, err := sched.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: homeUnit, SlotId: slots[2].Id, NewStartTime: timestamppb.New(time.Now().Add(-time.Hour))}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("move into the past got %v, want InvalidArgument", err)
	}
	other := e.schedule(e.clinicianAt(t, "SE2321000016-N012", otherUnit))
	if _, err := other.MoveSlot(ctx, &apptv1.MoveSlotRequest{UnitHsaId: otherUnit, SlotId: slots[2].Id, NewStartTime: timestamppb.New(to.Add(time.Hour))}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("moving another unit's slot got %v, want NotFound", err)
	}
}

func TestDelayArrivalAndClinicianSchedule(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	loc := stockholm(t)
	doctor := e.schedule(e.clinicianAt(t, "SE2321000016-D020", homeUnit))
	nurse := e.schedule(e.clinicianAt(t, "SE2321000016-N020", homeUnit))
	ids, opts := e.citizens(t, 2)
	day := time.Now().In(loc).AddDate(0, 0, 3)
	start := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, loc)
	invite := func(c appointmentv1connect.ScheduleServiceClient, patient, key string, at time.Time) *apptv1.Appointment {
		t.Helper()
		res, err := c.InviteToAppointment(ctx, &apptv1.InviteToAppointmentRequest{
			UnitHsaId: homeUnit, PatientId: patient, Service: apptv1.Service_SERVICE_PHYSICAL_VISIT,
			StartTime: timestamppb.New(at), EndTime: timestamppb.New(at.Add(30 * time.Minute)), IdempotencyKey: key,
		})
		if err != nil {
			t.Fatal(err)
		}
		return res.Appointment
	}
	a := invite(doctor, ids[0], "delay-doc-1", start)
	invite(nurse, ids[1], "delay-nurse-1", start)

	// One clinician's day, and the whole unit's.
	mine, err := doctor.ListUnitSchedule(ctx, &apptv1.ListUnitScheduleRequest{UnitHsaId: homeUnit, Date: start.Format(time.DateOnly), ClinicianHsaId: "SE2321000016-D020"})
	if err != nil || len(mine.Appointments) != 1 || mine.Appointments[0].Id != a.Id {
		t.Errorf("clinician's schedule got %v, %v; want only the doctor's visit", mine, err)
	}
	unit, err := doctor.ListUnitSchedule(ctx, &apptv1.ListUnitScheduleRequest{UnitHsaId: homeUnit, Date: start.Format(time.DateOnly)})
	if err != nil || len(unit.Appointments) != 2 {
		t.Errorf("unit schedule got %v, %v; want both visits", unit, err)
	}

	// The doctor runs 15 minutes late: the patient sees it and is told.
	delayed, err := doctor.ReportDelay(ctx, &apptv1.ReportDelayRequest{UnitHsaId: homeUnit, AppointmentIds: []string{a.Id}, Minutes: 15})
	if err != nil || len(delayed.Appointments) != 1 || delayed.Appointments[0].DelayMinutes != 15 ||
		!delayed.Appointments[0].ExpectedStartTime.AsTime().Equal(start.Add(15*time.Minute)) {
		t.Fatalf("ReportDelay got %v, %v", delayed, err)
	}
	list, err := e.booking(opts[0]).ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil || list.Appointments[0].DelayMinutes != 15 {
		t.Errorf("patient's list got %v, %v; want the delay", list, err)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'delay' AND person_id = $2`, a.Id, ids[0]); n != 1 {
		t.Errorf("delay notices got %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1 AND action = 'report delay'`, ids[0]); n != 1 {
		t.Errorf("access log got %d delay entries, want 1", n)
	}
	if _, err := doctor.ReportDelay(ctx, &apptv1.ReportDelayRequest{UnitHsaId: homeUnit, AppointmentIds: []string{a.Id, "9a0e4a53-5d0b-4b8e-8d7c-3f5f6b1f0d11"}, Minutes: 5}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("delay with an unknown appointment got %v, want NotFound", err)
	}
	if _, err := doctor.ReportDelay(ctx, &apptv1.ReportDelayRequest{UnitHsaId: homeUnit, AppointmentIds: []string{a.Id}, Minutes: 241}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("delay of 241 minutes got %v, want InvalidArgument", err)
	}

	// Arrival: not days ahead; then when the time has come.
	arrive := &apptv1.SetArrivalRequest{UnitHsaId: homeUnit, AppointmentId: a.Id, Arrival: apptv1.Arrival_ARRIVAL_ARRIVED}
	if _, err := doctor.SetArrival(ctx, arrive); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("arrival days ahead got %v, want FailedPrecondition", err)
	}
	if _, err := e.store.Pool().Exec(ctx, `UPDATE slot SET starts_at = now() + interval '10 minutes', ends_at = now() + interval '40 minutes'
		WHERE id = (SELECT slot_id FROM appointment WHERE id = $1)`, a.Id); err != nil {
		t.Fatal(err)
	}
	arrived, err := doctor.SetArrival(ctx, arrive)
	if err != nil || arrived.Appointment.Status != apptv1.Status_STATUS_ARRIVED {
		t.Fatalf("SetArrival(arrived) got %v, %v", arrived, err)
	}
	if again, err := doctor.SetArrival(ctx, arrive); err != nil || again.Appointment.Version != arrived.Appointment.Version {
		t.Errorf("repeated arrival got %v, %v; want it unchanged", again, err)
	}
	if _, err := doctor.SetArrival(ctx, &apptv1.SetArrivalRequest{UnitHsaId: homeUnit, AppointmentId: a.Id, Arrival: apptv1.Arrival_ARRIVAL_NOSHOW}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("no-show after arrival got %v, want FailedPrecondition", err)
	}
	if _, err := doctor.SetArrival(ctx, &apptv1.SetArrivalRequest{UnitHsaId: homeUnit, AppointmentId: a.Id, Arrival: apptv1.Arrival_ARRIVAL_FULFILLED}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("fulfilled before the start got %v, want FailedPrecondition", err)
	}
	if _, err := e.store.Pool().Exec(ctx, `UPDATE slot SET starts_at = now() - interval '30 minutes', ends_at = now()
		WHERE id = (SELECT slot_id FROM appointment WHERE id = $1)`, a.Id); err != nil {
		t.Fatal(err)
	}
	done, err := doctor.SetArrival(ctx, &apptv1.SetArrivalRequest{UnitHsaId: homeUnit, AppointmentId: a.Id, Arrival: apptv1.Arrival_ARRIVAL_FULFILLED})
	if err != nil || done.Appointment.Status != apptv1.Status_STATUS_FULFILLED || done.Appointment.CanCancel {
		t.Errorf("SetArrival(fulfilled) got %v, %v", done, err)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'reminder' AND state = 'pending'`, a.Id); n != 0 {
		t.Errorf("pending reminders after the visit got %d, want 0", n)
	}
	if _, err := e.schedule(e.clinicianAt(t, "SE2321000016-D020", otherUnit)).SetArrival(ctx, &apptv1.SetArrivalRequest{UnitHsaId: otherUnit, AppointmentId: a.Id, Arrival: apptv1.Arrival_ARRIVAL_NOSHOW}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("arrival at another unit got %v, want NotFound", err)
	}
}

func TestSearchNearest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	start := hourFromNow(40 * 24 * time.Hour)
	e.publish(t, e.clinicianAt(t, "SE2321000016-N013", homeUnit), homeUnit, apptv1.Service_SERVICE_VACCINATION, start, 2, 10*time.Minute, 5)
	e.publish(t, e.clinicianAt(t, "SE2321000016-N013", otherUnit), otherUnit, apptv1.Service_SERVICE_VACCINATION, start, 2, 10*time.Minute, 5)
	_, opts := e.citizens(t, 1)
	c := e.booking(opts[0])
	req := &apptv1.SearchSlotsRequest{
		Service: apptv1.Service_SERVICE_VACCINATION, StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour)),
		Near: &apptv1.Position{Latitude: 59.3610, Longitude: 18.0010}, // a street away from Vårdcentral Solna
	}
	res, err := c.SearchSlots(ctx, req)
	if err != nil || len(res.Slots) != 4 {
		t.Fatalf("SearchSlots(near) got %v, %v", res, err)
	}
	if res.Slots[0].Unit.HsaId != homeUnit || res.Slots[0].DistanceMeters < 100 || res.Slots[0].DistanceMeters > 200 || res.Slots[3].Unit.HsaId != otherUnit {
		t.Errorf("nearest first got %s at %d m first, %s last", res.Slots[0].Unit.HsaId, res.Slots[0].DistanceMeters, res.Slots[3].Unit.HsaId)
	}
	req.MaxDistanceMeters = 2000
	if res, err := c.SearchSlots(ctx, req); err != nil || len(res.Slots) != 2 || res.Slots[1].Unit.HsaId != homeUnit {
		t.Errorf("SearchSlots(within 2 km) got %v, %v; want Solna only", res, err)
	}
	req.Near = nil
	if _, err := c.SearchSlots(ctx, req); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("max distance without a position got %v, want InvalidArgument", err)
	}
	req.Near = &apptv1.Position{Latitude: 91, Longitude: 18}
	if _, err := c.SearchSlots(ctx, req); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("latitude 91 got %v, want InvalidArgument", err)
	}
}

func TestLateCancellation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	// A visit at the clinic in about two hours: past its 24-hour deadline.
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N014", homeUnit), homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT,
		hourFromNow(time.Hour), 1, 30*time.Minute, 1)
	_, opts := e.citizens(t, 1)
	c := e.booking(opts[0])
	booked, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "late-cancel-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !booked.Appointment.CanCancel || booked.Appointment.CanRebook {
		t.Errorf("within the deadline got can_cancel %v can_rebook %v, want a late cancel but no rebooking",
			booked.Appointment.CanCancel, booked.Appointment.CanRebook)
	}
	if _, err := c.RebookAppointment(ctx, &apptv1.RebookAppointmentRequest{AppointmentId: booked.Appointment.Id, SlotId: slots[0].Id}); err != nil {
		t.Errorf("rebooking to the same time got %v, want it unchanged", err)
	}
	res, err := c.CancelAppointment(ctx, &apptv1.CancelAppointmentRequest{AppointmentId: booked.Appointment.Id})
	if err != nil || res.Appointment.Status != apptv1.Status_STATUS_CANCELLED || !res.Appointment.LateCancel {
		t.Fatalf("late cancel got %v, %v; want cancelled and flagged late", res, err)
	}
	if n := e.count(t, `SELECT booked FROM slot WHERE id = $1`, slots[0].Id); n != 0 {
		t.Errorf("slot booked after the late cancel got %d, want 0", n)
	}
}

func TestListCareUnits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.publish(t, e.clinicianAt(t, "SE2321000016-N015", homeUnit), homeUnit, apptv1.Service_SERVICE_PHONE, hourFromNow(40*24*time.Hour), 1, 10*time.Minute, 1)
	c := e.booking() // readable before login
	all, err := c.ListCareUnits(ctx, &apptv1.ListCareUnitsRequest{})
	if err != nil || len(all.Units) != 5 {
		t.Fatalf("ListCareUnits got %v, %v; want the demo's 5 units", all, err)
	}
	for _, u := range all.Units {
		switch u.Unit.HsaId {
		case "SE2321000016-1A03":
			if len(u.OpeningHours) != 3 || u.OpeningHours[0].Opens == "" || !u.PublicProvider || u.NextChangeTime == nil {
				t.Errorf("Kista got hours %v public %v next change %v", u.OpeningHours, u.PublicProvider, u.NextChangeTime)
			}
		case "SE5566778899-2B01":
			if u.PublicProvider || u.ProviderName == "" {
				t.Errorf("Täby got public %v provider %q, want a private provider", u.PublicProvider, u.ProviderName)
			}
		case "SE2321000016-1A04":
			if len(u.OpeningHours) != 3 || u.OpeningHours[0].Opens != "07:00" || u.OpeningHours[0].Closes != "22:00" {
				t.Errorf("digital unit got hours %v", u.OpeningHours)
			}
		}
	}
	phone, err := c.ListCareUnits(ctx, &apptv1.ListCareUnitsRequest{Service: apptv1.Service_SERVICE_PHONE, Municipality: "Solna"})
	if err != nil || len(phone.Units) != 1 || phone.Units[0].Unit.HsaId != homeUnit || len(phone.Units[0].Services) == 0 {
		t.Errorf("units in Solna with phone times got %v, %v; want Solna", phone, err)
	}
	near, err := c.ListCareUnits(ctx, &apptv1.ListCareUnitsRequest{Near: &apptv1.Position{Latitude: 59.3125, Longitude: 18.0736}, MaxDistanceMeters: 10000})
	if err != nil || len(near.Units) == 0 || near.Units[0].Unit.HsaId != otherUnit || near.Units[0].DistanceMeters != 0 {
		t.Errorf("units near Södermalm got %v, %v; want Södermalm first", near, err)
	}
	if _, err := c.ListCareUnits(ctx, &apptv1.ListCareUnitsRequest{MaxDistanceMeters: 1000}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("max distance without a position got %v, want InvalidArgument", err)
	}
}

func TestPositionAndEnumEdges(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := e.booking()
	// A coordinate near zero must not break the distance arithmetic.
	if _, err := c.ListCareUnits(ctx, &apptv1.ListCareUnitsRequest{Near: &apptv1.Position{Latitude: 59.3, Longitude: -1.1e-308}}); err != nil {
		t.Errorf("ListCareUnits near a tiny longitude got %v", err)
	}
	// An enum name the server does not know is refused; a field it does not
	// know (from a newer app) is ignored.
	post := func(body string) int {
		t.Helper()
		res, err := e.client.Post(e.url+"/nara.appointment.v1.AppointmentService/ListCareUnits", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	if code := post(`{"service":"SERVICE_VACINATION"}`); code != 400 {
		t.Errorf("unknown enum name got HTTP %d, want 400", code)
	}
	if code := post(`{"service":"SERVICE_VACCINATION","fieldFromTheFuture":1}`); code != 200 {
		t.Errorf("unknown field got HTTP %d, want 200", code)
	}
}
