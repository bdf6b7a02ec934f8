package server_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/store"
)

// The tests publish at Solna, where the demo data publishes nothing, so
// their times never meet the demo's.
const (
	homeUnit  = "SE2321000016-1A02" // Vårdcentral Solna
	otherUnit = "SE2321000016-1A01" // Vårdcentral Södermalm
)

// clinicianAt authenticates as a clinician acting within a care assignment
// at unit.
func (e *env) clinicianAt(t *testing.T, hsaID, unit string) connect.ClientOption {
	t.Helper()
	now := time.Now()
	a := access.Assignment{
		ID: "MU-" + hsaID + "-" + unit, Purpose: access.PurposeCare, CareUnitHSAID: unit, CareUnitName: "Unit " + unit,
		CareProviderHSAID: "SE2321000016-1000", ValidFrom: now.AddDate(-1, 0, 0), ValidTo: now.AddDate(1, 0, 0),
	}
	return e.staff(t, hsaID, nil, []access.Assignment{a}, a.ID)
}

// citizens creates n people born 1980 directly in the store, each with a
// session of their own, and returns an option that authenticates as each:
// logging hundreds in through BankID would only slow the test.
func (e *env) citizens(t *testing.T, n int) (ids []string, opts []connect.ClientOption) {
	t.Helper()
	for i := range n {
		id, opt := e.citizenBorn(t, fmt.Sprintf("Citizen%d", i), time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))
		ids = append(ids, id)
		opts = append(opts, opt)
	}
	return ids, opts
}

// citizenBorn creates one person born on born directly in the store, with
// a session of their own, and returns their id and an option that
// authenticates as them.
func (e *env) citizenBorn(t *testing.T, name string, born time.Time) (string, connect.ClientOption) {
	t.Helper()
	ctx := context.Background()
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	p, err := e.store.PersonUpsert(ctx, h, []byte("sealed"), name, "Test", born)
	if err != nil {
		t.Fatal(err)
	}
	_, hash := token.NewRefresh()
	sess, err := e.store.CitizenSessionCreate(ctx, p.ID, store.Session{
		DeviceID: "test-device-" + name, Platform: "web", ExpiresAt: time.Now().Add(time.Hour),
	}, hash)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.signer.Issue(token.Claims{
		SessionID: sess.ID, Subject: p.ID, Kind: token.KindCitizen, Name: p.GivenName, Roles: []string{string(access.RoleCitizen)},
	}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID, bearer(tok)
}

// hourFromNow is a whole hour at least d from now, so slot times are tidy.
func hourFromNow(d time.Duration) time.Time {
	return time.Now().Add(d).Truncate(time.Hour).Add(time.Hour)
}

func (e *env) publish(t *testing.T, clinician connect.ClientOption, unit string, svc apptv1.Service, start time.Time, n int, dur time.Duration, capacity int32) []*apptv1.Slot {
	t.Helper()
	res, err := appointmentv1connect.NewScheduleServiceClient(e.client, e.url, clinician).PublishSlots(context.Background(), &apptv1.PublishSlotsRequest{
		UnitHsaId: unit, Service: svc, StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Duration(n) * dur)),
		SlotDuration: durationpb.New(dur), Capacity: capacity,
	})
	if err != nil {
		t.Fatalf("PublishSlots: %v", err)
	}
	if len(res.Slots) != n {
		t.Fatalf("PublishSlots got %d slots, want %d", len(res.Slots), n)
	}
	return res.Slots
}

func (e *env) booking(opts ...connect.ClientOption) appointmentv1connect.AppointmentServiceClient {
	return appointmentv1connect.NewAppointmentServiceClient(e.client, e.url, opts...)
}

// count runs a counting query for the test's checks.
func (e *env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.store.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBookingRush races 240 bookings by 120 citizens, each trying two slots
// of one service at once and retrying one, for 30 places: no slot may take
// more than its capacity and no citizen may hold two bookings.
func TestBookingRush(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N001", homeUnit), homeUnit, apptv1.Service_SERVICE_VACCINATION,
		hourFromNow(48*time.Hour), 10, 10*time.Minute, 3)
	ids, opts := e.citizens(t, 120)

	type result struct {
		citizen int
		id      string
		code    connect.Code
		err     error
	}
	results := make(chan result, 3*len(ids))
	var wg sync.WaitGroup
	for i := range ids {
		c := e.booking(opts[i])
		key := fmt.Sprintf("rush-%d-a", i)
		for j, k := range []string{key, fmt.Sprintf("rush-%d-b", i), key} {
			wg.Go(func() {
				slot := slots[(i+j*3)%len(slots)].Id
				if j == 2 {
					slot = slots[i%len(slots)].Id // the retry of the first
				}
				res, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slot, IdempotencyKey: k})
				r := result{citizen: i, code: connect.CodeOf(err), err: err}
				if err == nil {
					r.id = res.Appointment.Id
				}
				results <- r
			})
		}
	}
	wg.Wait()
	close(results)

	held := map[int]map[string]bool{}
	for r := range results {
		switch {
		case r.err == nil:
			if held[r.citizen] == nil {
				held[r.citizen] = map[string]bool{}
			}
			held[r.citizen][r.id] = true
		case r.code == connect.CodeResourceExhausted || r.code == connect.CodeFailedPrecondition:
		default:
			t.Errorf("citizen %d: BookSlot got %v, want success, ResourceExhausted or FailedPrecondition", r.citizen, r.err)
		}
	}
	booked := 0
	for c, as := range held {
		if len(as) != 1 {
			t.Errorf("citizen %d holds %d appointments, want 1", c, len(as))
		}
		booked += len(as)
	}
	if over := e.count(t, `SELECT count(*) FROM slot WHERE booked > capacity`); over != 0 {
		t.Errorf("%d slots overbooked", over)
	}
	if bad := e.count(t, `
		SELECT count(*) FROM slot s
		 WHERE booked <> (SELECT count(*) FROM appointment a WHERE a.slot_id = s.id AND a.status = 'booked')`); bad != 0 {
		t.Errorf("%d slots whose count differs from their appointments", bad)
	}
	if double := e.count(t, `
		SELECT count(*) FROM (SELECT patient_id FROM appointment WHERE status = 'booked'
		 GROUP BY patient_id, service_code HAVING count(*) > 1) d`); double != 0 {
		t.Errorf("%d citizens hold two bookings of one service", double)
	}
	rows := e.count(t, `SELECT count(*) FROM appointment`)
	if rows != booked || booked == 0 || booked > 30 {
		t.Errorf("%d appointments stored and %d answered, want equal and 1..30", rows, booked)
	}
	t.Logf("%d of 30 places booked by %d citizens", booked, len(ids))
}

func TestBookIdempotentAndForChild(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N001", homeUnit), homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT,
		hourFromNow(72*time.Hour), 3, 20*time.Minute, 1)
	annaSession := e.login(t, anna)
	lillaID := annaSession.Me.CanActFor[1].Id

	// The slot has one place: the first protocol books it; the others
	// must be told it is full, never booked twice.
	var firstID string
	for name, tr := range e.protocols() {
		t.Run(name, func(t *testing.T) {
			c := appointmentv1connect.NewAppointmentServiceClient(tr.client, e.url, append(tr.opts, bearer(annaSession.AccessToken))...)
			key := "same-key-" + name
			first, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: key})
			if firstID != "" {
				if connect.CodeOf(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "fully booked") {
					t.Errorf("BookSlot of a full slot got %v, want ResourceExhausted with a message", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("BookSlot: %v", err)
			}
			firstID = first.Appointment.Id
			again, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: key})
			if err != nil || again.Appointment.Id != first.Appointment.Id || again.Appointment.Version != first.Appointment.Version {
				t.Errorf("retried BookSlot got %v, %v; want the first answer %v", again, err, first.Appointment.Id)
			}
			a := first.Appointment
			if a.Status != apptv1.Status_STATUS_BOOKED || a.VisitForm != apptv1.VisitForm_VISIT_FORM_PHYSICAL ||
				a.Unit.Name != "Vårdcentral Solna" || a.Unit.Street == "" || !a.CanCancel || a.Instructions == "" ||
				!a.CancelDeadline.AsTime().Equal(a.StartTime.AsTime().Add(-24*time.Hour)) {
				t.Errorf("booked appointment got %v", a)
			}
		})
	}
	if n := e.count(t, `SELECT booked FROM slot WHERE id = $1`, slots[0].Id); n != 1 {
		t.Errorf("slot booked count got %d, want 1", n)
	}

	// A guardian books for the child; both get the reminders (24 h, 1 h).
	anna := e.booking(bearer(annaSession.AccessToken))
	res, err := anna.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[1].Id, PatientId: lillaID, IdempotencyKey: "for-lilla-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Appointment.PatientId != lillaID || res.Appointment.PatientName != "Lilla Barnsson" {
		t.Errorf("booking for Lilla got %v", res.Appointment)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'reminder' AND state = 'pending'`, res.Appointment.Id); n != 4 {
		t.Errorf("reminders for Lilla's visit got %d, want 4 (two each for Lilla and Anna)", n)
	}
	// The notice table is the push queue: the reminders are enqueued with the
	// booking, due at their times, with no River job each to drain.
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'reminder' AND state = 'pending' AND next_at = due_at`, res.Appointment.Id); n != 4 {
		t.Errorf("reminders queued with the booking got %d, want 4", n)
	}
	// Anna's copies say it is her child's visit.
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'reminder' AND person_id <> $2 AND params->>'child' = 'true'`, res.Appointment.Id, lillaID); n != 2 {
		t.Errorf("guardian's reminders worded for a child got %d, want 2", n)
	}

	// Someone else cannot book for Lilla, nor see or touch Anna's booking.
	tolvan := e.booking(e.citizen(t, tolvan))
	_, err = tolvan.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[2].Id, PatientId: lillaID, IdempotencyKey: "not-my-child"})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("booking for another's child got %v, want NotFound", err)
	}
	if _, err := tolvan.CancelAppointment(ctx, &apptv1.CancelAppointmentRequest{AppointmentId: res.Appointment.Id}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("cancelling another's appointment got %v, want NotFound", err)
	}
	if _, err := tolvan.GetAppointmentCalendar(ctx, &apptv1.GetAppointmentCalendarRequest{AppointmentId: res.Appointment.Id}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("calendar of another's appointment got %v, want NotFound", err)
	}
	if _, err := tolvan.RebookAppointment(ctx, &apptv1.RebookAppointmentRequest{AppointmentId: res.Appointment.Id, SlotId: slots[2].Id}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("rebooking another's appointment got %v, want NotFound", err)
	}
	list, err := tolvan.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil || len(list.Appointments) != 0 {
		t.Errorf("Tolvan's list got %v, %v; want empty", list, err)
	}

	// The calendar entry: Stockholm time with its zone, no personal number.
	cal, err := anna.GetAppointmentCalendar(ctx, &apptv1.GetAppointmentCalendarRequest{AppointmentId: res.Appointment.Id})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"BEGIN:VTIMEZONE\r\n", "TZID:Europe/Stockholm", "DTSTART;TZID=Europe/Stockholm:", "STATUS:CONFIRMED", "Solnavägen 3", "UID:" + res.Appointment.Id} {
		if !strings.Contains(cal.Ical, want) {
			t.Errorf("calendar lacks %q:\n%s", want, cal.Ical)
		}
	}
	for _, number := range []string{"20201212", "9892", "19850709"} {
		if strings.Contains(cal.Ical, number) {
			t.Errorf("calendar contains %q of a personal number", number)
		}
	}
}

func TestCancelRebookAndSync(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	nurse := e.clinicianAt(t, "SE2321000016-N001", homeUnit)
	slots := e.publish(t, nurse, homeUnit, apptv1.Service_SERVICE_VIDEO_VISIT, hourFromNow(72*time.Hour), 3, 20*time.Minute, 1)
	soon := e.publish(t, nurse, homeUnit, apptv1.Service_SERVICE_VACCINATION, hourFromNow(time.Hour), 1, 10*time.Minute, 5)
	c := e.booking(e.citizen(t, anna))

	booked, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "video-visit-1"})
	if err != nil {
		t.Fatal(err)
	}
	id := booked.Appointment.Id
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND state = 'pending'`, id); n != 3 {
		t.Errorf("video visit reminders got %d, want 3 (24 h, 1 h, 10 min)", n)
	}
	all, err := c.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil || len(all.Appointments) != 1 {
		t.Fatalf("ListAppointments got %v, %v; want one", all, err)
	}

	// Rebook: the new slot is held and the old one freed in one step.
	moved, err := c.RebookAppointment(ctx, &apptv1.RebookAppointmentRequest{AppointmentId: id, SlotId: slots[1].Id})
	if err != nil {
		t.Fatal(err)
	}
	if moved.Appointment.Id != id || !moved.Appointment.StartTime.AsTime().Equal(slots[1].StartTime.AsTime()) || moved.Appointment.Version != 2 {
		t.Errorf("rebooked appointment got %v", moved.Appointment)
	}
	if got := e.count(t, `SELECT booked FROM slot WHERE id = $1`, slots[0].Id)*10 + e.count(t, `SELECT booked FROM slot WHERE id = $1`, slots[1].Id); got != 1 {
		t.Errorf("slot counts after rebooking got old*10+new = %d, want 1", got)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND state = 'pending'`, id); n != 3 {
		t.Errorf("pending reminders after rebooking got %d, want 3 (the old ones cancelled)", n)
	}
	if _, err := c.RebookAppointment(ctx, &apptv1.RebookAppointmentRequest{AppointmentId: id, SlotId: soon[0].Id}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("rebooking to another service got %v, want FailedPrecondition", err)
	}

	// Incremental sync: nothing changed since, then the cancellation.
	cancelled, err := c.CancelAppointment(ctx, &apptv1.CancelAppointmentRequest{AppointmentId: id})
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.Appointment.Status != apptv1.Status_STATUS_CANCELLED || cancelled.Appointment.CanCancel {
		t.Errorf("cancelled appointment got %v", cancelled.Appointment)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND state = 'pending'`, id); n != 0 {
		t.Errorf("pending reminders after cancelling got %d, want 0", n)
	}
	if again, err := c.CancelAppointment(ctx, &apptv1.CancelAppointmentRequest{AppointmentId: id}); err != nil || again.Appointment.Version != cancelled.Appointment.Version {
		t.Errorf("cancelling twice got %v, %v; want the same answer", again, err)
	}
	if n := e.count(t, `SELECT booked FROM slot WHERE id = $1`, slots[1].Id); n != 0 {
		t.Errorf("slot count after cancelling got %d, want 0", n)
	}
	changed, err := c.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{UpdatedSince: all.SyncTime})
	if err != nil || len(changed.Appointments) != 1 || changed.Appointments[0].Status != apptv1.Status_STATUS_CANCELLED {
		t.Errorf("ListAppointments since the first sync got %v, %v; want the cancelled one", changed, err)
	}
	later, err := c.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{UpdatedSince: timestamppb.New(time.Now().Add(time.Minute))})
	if err != nil || len(later.Appointments) != 0 {
		t.Errorf("ListAppointments with nothing changed got %v, %v; want none", later, err)
	}

	// Within the cancel deadline (24 h for vaccination) the app says whom to call.
	late, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: soon[0].Id, IdempotencyKey: "vacc-soon"})
	if err != nil {
		t.Fatal(err)
	}
	if late.Appointment.CanCancel {
		t.Errorf("appointment within its deadline says it can be cancelled")
	}
	_, err = c.CancelAppointment(ctx, &apptv1.CancelAppointmentRequest{AppointmentId: late.Appointment.Id})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "24 hours") || !strings.Contains(err.Error(), "08-123 460 00") {
		t.Errorf("cancelling after the deadline got %v, want FailedPrecondition naming the deadline and the phone", err)
	}
	// One active booking per dose.
	more := e.publish(t, nurse, homeUnit, apptv1.Service_SERVICE_VACCINATION, hourFromNow(30*24*time.Hour), 1, 10*time.Minute, 5)
	_, err = c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: more[0].Id, IdempotencyKey: "vacc-second"})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "already an active booking") {
		t.Errorf("a second active vaccination got %v, want FailedPrecondition", err)
	}
}

func TestPublishBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	nurse := e.clinicianAt(t, "SE2321000016-N001", homeUnit)
	schedule := appointmentv1connect.NewScheduleServiceClient(e.client, e.url, nurse)
	start := hourFromNow(24 * time.Hour)
	e.publish(t, nurse, homeUnit, apptv1.Service_SERVICE_COVID_TEST, start, 4, 15*time.Minute, 2)
	req := func(edit func(r *apptv1.PublishSlotsRequest)) *apptv1.PublishSlotsRequest {
		r := &apptv1.PublishSlotsRequest{
			UnitHsaId: homeUnit, Service: apptv1.Service_SERVICE_PHONE, StartTime: timestamppb.New(start),
			EndTime: timestamppb.New(start.Add(time.Hour)), SlotDuration: durationpb.New(15 * time.Minute), Capacity: 1,
		}
		edit(r)
		return r
	}
	tests := []struct {
		name string
		req  *apptv1.PublishSlotsRequest
		want connect.Code
	}{
		{"in the past", req(func(r *apptv1.PublishSlotsRequest) {
			r.StartTime, r.EndTime = timestamppb.New(time.Now().Add(-2*time.Hour)), timestamppb.New(time.Now().Add(-time.Hour))
		}), connect.CodeInvalidArgument},
		{"end before start", req(func(r *apptv1.PublishSlotsRequest) { r.EndTime = timestamppb.New(start.Add(-time.Hour)) }), connect.CodeInvalidArgument},
		{"capacity 0", req(func(r *apptv1.PublishSlotsRequest) { r.Capacity = 0 }), connect.CodeInvalidArgument},
		{"unknown service", req(func(r *apptv1.PublishSlotsRequest) { r.Service = 99 }), connect.CodeInvalidArgument},
		{"no service", req(func(r *apptv1.PublishSlotsRequest) { r.Service = 0 }), connect.CodeInvalidArgument},
		{"duration longer than the period", req(func(r *apptv1.PublishSlotsRequest) { r.SlotDuration = durationpb.New(2 * time.Hour) }), connect.CodeInvalidArgument},
		{"too many slots", req(func(r *apptv1.PublishSlotsRequest) {
			r.EndTime, r.SlotDuration = timestamppb.New(start.Add(60*24*time.Hour)), durationpb.New(5*time.Minute)
		}), connect.CodeInvalidArgument},
		{"overlapping", req(func(r *apptv1.PublishSlotsRequest) {
			r.Service, r.StartTime = apptv1.Service_SERVICE_COVID_TEST, timestamppb.New(start.Add(20*time.Minute))
		}), connect.CodeFailedPrecondition},
		{"another unit", req(func(r *apptv1.PublishSlotsRequest) { r.UnitHsaId = otherUnit }), connect.CodePermissionDenied},
	}
	for _, tt := range tests {
		if _, err := schedule.PublishSlots(ctx, tt.req); connect.CodeOf(err) != tt.want {
			t.Errorf("PublishSlots(%s) got %v, want %v", tt.name, err, tt.want)
		}
	}
	// A citizen may not publish; a clinician may not book.
	if _, err := appointmentv1connect.NewScheduleServiceClient(e.client, e.url, e.citizen(t, tolvan)).PublishSlots(ctx, req(func(*apptv1.PublishSlotsRequest) {})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("PublishSlots by a citizen got %v, want PermissionDenied", err)
	}
	if _, err := e.booking(nurse).ListAppointments(ctx, &apptv1.ListAppointmentsRequest{}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("ListAppointments by a clinician got %v, want PermissionDenied", err)
	}

	// Search: validated ranges, only free times, filtered by municipality.
	c := e.booking(e.citizen(t, tolvan))
	search := func(from, to time.Time, municipality string) (*apptv1.SearchSlotsResponse, error) {
		return c.SearchSlots(ctx, &apptv1.SearchSlotsRequest{
			Service: apptv1.Service_SERVICE_COVID_TEST, Municipality: municipality,
			StartTime: timestamppb.New(from), EndTime: timestamppb.New(to),
		})
	}
	if _, err := search(start, start.Add(-time.Hour), ""); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("search ending before it starts got %v, want InvalidArgument", err)
	}
	if _, err := search(start, start.AddDate(0, 0, 63), ""); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("search over 63 days got %v, want InvalidArgument", err)
	}
	found, err := search(time.Now(), start.AddDate(0, 0, 1), "Solna")
	if err != nil || len(found.Slots) != 4 || found.Slots[0].FreePlaces != 2 || found.Slots[0].Unit.HsaId != homeUnit {
		t.Fatalf("search got %v, %v; want the 4 published slots", found, err)
	}
	if other, err := search(time.Now(), start.AddDate(0, 0, 1), "Täby"); err != nil || len(other.Slots) != 0 {
		t.Errorf("search in Täby got %v, %v; want none", other, err)
	}
	// Full: two citizens take both places, a third is told it is full.
	_, opts := e.citizens(t, 3)
	for i, o := range opts {
		_, err := e.booking(o).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: found.Slots[0].Id, IdempotencyKey: "full-test"})
		if want := connect.Code(0); i == 2 {
			want = connect.CodeResourceExhausted
			if connect.CodeOf(err) != want {
				t.Errorf("booking a full slot got %v, want ResourceExhausted", err)
			}
		} else if err != nil {
			t.Errorf("booking place %d: %v", i+1, err)
		}
	}
	if again, err := search(time.Now(), start.AddDate(0, 0, 1), "Solna"); err != nil || len(again.Slots) != 3 {
		t.Errorf("search after filling a slot got %v, %v; want 3 slots", again, err)
	}
	if _, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: "00000000-0000-4000-8000-000000000000", IdempotencyKey: "no-such-slot"}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("booking an unknown slot got %v, want NotFound", err)
	}
	if _, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: "not-a-uuid", IdempotencyKey: "bad-slot-id"}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("booking with a malformed slot id got %v, want InvalidArgument", err)
	}
}

func TestInviteAndUnitSchedule(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	annaSession := e.login(t, anna)
	annaID := annaSession.Me.Subject
	doctor := e.clinicianAt(t, "SE2321000016-D001", homeUnit)
	schedule := appointmentv1connect.NewScheduleServiceClient(e.client, e.url, doctor)
	loc, _ := time.LoadLocation("Europe/Stockholm")
	day := time.Now().In(loc).AddDate(0, 0, 2)
	start := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, loc)
	invite := &apptv1.InviteToAppointmentRequest{
		UnitHsaId: homeUnit, PatientId: annaID, Service: apptv1.Service_SERVICE_VIDEO_VISIT,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(20 * time.Minute)),
		ConfirmRequired: true, Profession: "Läkare", Instructions: "Ha dina blodtrycksvärden till hands.", IdempotencyKey: "invite-anna-1",
	}
	res, err := schedule.InviteToAppointment(ctx, invite)
	if err != nil {
		t.Fatal(err)
	}
	a := res.Appointment
	if a.Status != apptv1.Status_STATUS_PROPOSED || a.VisitForm != apptv1.VisitForm_VISIT_FORM_VIDEO || a.Profession != "Läkare" ||
		a.ClinicianName != "Test SE2321000016-D001" || a.Instructions != invite.Instructions {
		t.Errorf("invitation got %v", a)
	}
	// One call: the appointment, the offer notice and the reminders.
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'offer'`, a.Id); n != 1 {
		t.Errorf("offer notices got %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'reminder'`, a.Id); n != 3 {
		t.Errorf("reminders got %d, want 3", n)
	}
	if again, err := schedule.InviteToAppointment(ctx, invite); err != nil || again.Appointment.Id != a.Id {
		t.Errorf("retried invitation got %v, %v; want the first", again, err)
	}
	// The clinician's own times never overlap.
	overlap := &apptv1.InviteToAppointmentRequest{
		UnitHsaId: homeUnit, PatientId: annaID, Service: apptv1.Service_SERVICE_PHONE,
		StartTime: timestamppb.New(start.Add(10 * time.Minute)), EndTime: timestamppb.New(start.Add(30 * time.Minute)), IdempotencyKey: "invite-anna-2",
	}
	if _, err := schedule.InviteToAppointment(ctx, overlap); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("overlapping invitation got %v, want FailedPrecondition", err)
	}
	other := appointmentv1connect.NewScheduleServiceClient(e.client, e.url, e.clinicianAt(t, "SE2321000016-D001", otherUnit))
	if _, err := other.InviteToAppointment(ctx, invite); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("invitation at another unit got %v, want PermissionDenied", err)
	}
	if _, err := other.ListUnitSchedule(ctx, &apptv1.ListUnitScheduleRequest{UnitHsaId: homeUnit}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("schedule of another unit got %v, want PermissionDenied", err)
	}

	// Anna sees it; the unit's schedule shows her, and the read is logged.
	mine, err := e.booking(bearer(annaSession.AccessToken)).ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil || len(mine.Appointments) != 1 || mine.Appointments[0].Id != a.Id {
		t.Errorf("Anna's list got %v, %v; want the invitation", mine, err)
	}
	before := e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1`, annaID)
	day2, err := schedule.ListUnitSchedule(ctx, &apptv1.ListUnitScheduleRequest{UnitHsaId: homeUnit, Date: start.Format(time.DateOnly)})
	if err != nil || len(day2.Appointments) != 1 || day2.Appointments[0].PatientName != "Anna Provsson" || day2.Appointments[0].Status != apptv1.Status_STATUS_PROPOSED {
		t.Errorf("unit schedule got %v, %v; want Anna's visit", day2, err)
	}
	if after := e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1 AND action = 'read unit schedule'`, annaID); after != 1 || before < 1 {
		t.Errorf("access log got %d schedule reads (and %d entries before), want 1 (and the invitation)", after, before)
	}
	today, err := schedule.ListUnitSchedule(ctx, &apptv1.ListUnitScheduleRequest{UnitHsaId: homeUnit})
	if err != nil || len(today.Appointments) != 0 {
		t.Errorf("today's schedule got %v, %v; want empty", today, err)
	}
}
