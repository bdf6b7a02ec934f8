package appointment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/ical"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// syncMargin is how far before the read a sync_time lies, so that a booking
// committed by a transaction that began before the read is not missed.
const syncMargin = time.Minute

var services = map[appointmentv1.Service]string{
	appointmentv1.Service_SERVICE_VACCINATION:    "vaccination",
	appointmentv1.Service_SERVICE_COVID_TEST:     "covid_test",
	appointmentv1.Service_SERVICE_VIDEO_VISIT:    "video_visit",
	appointmentv1.Service_SERVICE_PHYSICAL_VISIT: "physical_visit",
	appointmentv1.Service_SERVICE_PHONE:          "phone",
}

func serviceOf(code string) appointmentv1.Service {
	for s, c := range services {
		if c == code {
			return s
		}
	}
	return appointmentv1.Service_SERVICE_UNSPECIFIED
}

var visitForms = map[string]appointmentv1.VisitForm{
	"physical": appointmentv1.VisitForm_VISIT_FORM_PHYSICAL,
	"video":    appointmentv1.VisitForm_VISIT_FORM_VIDEO,
	"phone":    appointmentv1.VisitForm_VISIT_FORM_PHONE,
}

var statuses = map[string]appointmentv1.Status{
	store.StatusProposed:  appointmentv1.Status_STATUS_PROPOSED,
	store.StatusPending:   appointmentv1.Status_STATUS_PENDING,
	store.StatusBooked:    appointmentv1.Status_STATUS_BOOKED,
	store.StatusArrived:   appointmentv1.Status_STATUS_ARRIVED,
	store.StatusFulfilled: appointmentv1.Status_STATUS_FULFILLED,
	store.StatusCancelled: appointmentv1.Status_STATUS_CANCELLED,
	store.StatusNoShow:    appointmentv1.Status_STATUS_NOSHOW,
}

func unitToProto(u store.CareUnit) *appointmentv1.CareUnit {
	return &appointmentv1.CareUnit{
		HsaId: u.HSAID, Name: u.Name, Street: u.Street, PostalCode: u.PostalCode, City: u.City,
		Municipality: u.Municipality, Phone: u.Phone, Latitude: u.Latitude, Longitude: u.Longitude,
	}
}

func appointmentToProto(a store.Appointment, now time.Time) *appointmentv1.Appointment {
	changeable := a.Active() && a.Status != store.StatusArrived && !now.After(a.CancelBy())
	out := &appointmentv1.Appointment{
		Id: a.ID, PatientId: a.PatientID, PatientName: strings.TrimSpace(a.PatientGivenName + " " + a.PatientSurname),
		Service: serviceOf(a.ServiceCode), VisitForm: visitForms[a.Service.VisitForm], Status: statuses[a.Status],
		StartTime: rpc.Timestamp(a.StartsAt), EndTime: rpc.Timestamp(a.EndsAt), Unit: unitToProto(a.Unit),
		ClinicianName: a.ClinicianName, Profession: a.Profession, Instructions: a.Instructions,
		CancelDeadline: rpc.Timestamp(a.CancelBy()), CanCancel: a.CanCancel(now), CanRebook: changeable,
		UpdateTime: rpc.Timestamp(a.UpdatedAt), Version: a.Version,
		DelayMinutes: int32(a.DelayMinutes), ExpectedStartTime: rpc.Timestamp(a.ExpectedStart()),
		PatientLateMinutes: int32(a.PatientLateMinutes), InvitationResponse: invitationResponses[a.InvitationResponse],
		PatientMessage: a.PatientMessage, CancelledByUnit: a.CancelledByUnit, LateCancel: a.LateCancel,
		CanRespond: a.Responds(now),
	}
	if a.Service.VisitForm == "video" {
		out.JoinOpenTime = rpc.Timestamp(a.ExpectedStart().Add(-videoJoinBefore))
	}
	return out
}

// videoJoinBefore is how long before the expected start a video visit's
// waiting room opens in the app.
const videoJoinBefore = 10 * time.Minute

var invitationResponses = map[string]appointmentv1.InvitationResponse{
	"":                     appointmentv1.InvitationResponse_INVITATION_RESPONSE_UNSPECIFIED,
	store.ResponseConfirm:  appointmentv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM,
	store.ResponseDecline:  appointmentv1.InvitationResponse_INVITATION_RESPONSE_DECLINE,
	store.ResponseAskOther: appointmentv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME,
}

// reminders schedules a's reminders for the patient and, for a child, the
// guardians, in tx.
func reminders(ctx context.Context, tx *store.Tx, n *notify.Service, a store.Appointment, to []string) error {
	_, err := n.ScheduleReminders(ctx, tx, notify.Reminders{
		ReasonID: a.ID, PersonIDs: to, Patient: a.PatientID, At: a.StartsAt, Video: a.Service.VisitForm == "video", Link: "/appointments/" + a.ID,
	})
	return err
}

// guardianReader reads guardians: the store, or inside a transaction the
// transaction itself.
type guardianReader interface {
	GuardiansOf(ctx context.Context, childID string, bornAfter time.Time) ([]string, error)
}

// recipients are who hears about patientID's visits: the patient and,
// while a child, the guardians.
func recipients(ctx context.Context, db guardianReader, custody *rpc.Custody, patientID string) ([]string, error) {
	guardians, err := db.GuardiansOf(ctx, patientID, custody.ChildrenBornAfter())
	if err != nil {
		return nil, err
	}
	return append([]string{patientID}, guardians...), nil
}

// slotError names the slot a booking did not find; toConnect answers the
// store's other refusals (a full slot among them).
func slotError(err error, slotID string) error {
	if errors.Is(err, store.ErrNotFound) {
		return rpc.FailWith(err, connect.CodeNotFound, "there is no time %q", slotID)
	}
	return err
}

// appointmentService is the citizen's booking.
type appointmentService struct {
	store   *store.Store
	custody *rpc.Custody
	notify  *notify.Service
	now     func() time.Time
	zone    *time.Location
	feeds   *calendarFeeds
	lists   *listCache
}

// patients are whose appointments the citizen p may see and change: their
// own and their children's under the guardian age limit.
func (s *appointmentService) patients(ctx context.Context, p access.Principal) ([]string, error) {
	return s.custody.PatientsOf(ctx, p.PersonID)
}

func (s *appointmentService) SearchSlots(ctx context.Context, req *appointmentv1.SearchSlotsRequest) (*appointmentv1.SearchSlotsResponse, error) {
	limit := int(req.PageSize)
	if limit == 0 {
		limit = 100
	}
	q := store.SlotQuery{
		ServiceCode: services[req.Service], UnitHSAID: req.UnitHsaId, Municipality: req.Municipality,
		From: req.StartTime.AsTime(), To: req.EndTime.AsTime(), Now: s.now(), Limit: limit,
		MaxDistanceMeters: int(req.MaxDistanceMeters),
	}
	q.Near = position(req.Near)
	if req.Near == nil && req.MaxDistanceMeters > 0 {
		return nil, rpc.Fail(connect.CodeInvalidArgument, "max_distance_meters: set near too, the position to measure from")
	}
	// The search shows only the times the patient may book: old enough, and
	// far enough from their other doses of the service. Their
	// birth date is read in the search's own statement: the caller's own
	// search, the common case, costs no round trip more.
	p, _ := access.FromContext(ctx)
	q.PatientID = req.PatientId
	if q.PatientID == "" {
		q.PatientID = p.PersonID
	}
	slots, err := s.store.SlotSearch(ctx, q)
	if err != nil {
		return nil, err
	}
	res := &appointmentv1.SearchSlotsResponse{}
	for _, sl := range slots {
		res.Slots = append(res.Slots, slotToProto(sl, sl.VisitForm))
	}
	return res, nil
}

func slotToProto(sl store.Slot, form string) *appointmentv1.Slot {
	out := &appointmentv1.Slot{
		Id: sl.ID, Service: serviceOf(sl.ServiceCode), VisitForm: visitForms[form],
		StartTime: rpc.Timestamp(sl.StartsAt), EndTime: rpc.Timestamp(sl.EndsAt),
		FreePlaces: int32(sl.Capacity - sl.Booked), DistanceMeters: int32(sl.DistanceMeters), MinAge: int32(sl.MinAge),
	}
	if sl.Unit.HSAID != "" {
		out.Unit = unitToProto(sl.Unit)
	}
	return out
}

func (s *appointmentService) BookSlot(ctx context.Context, req *appointmentv1.BookSlotRequest) (*appointmentv1.BookSlotResponse, error) {
	p, _ := access.FromContext(ctx)
	patient := req.PatientId
	if patient == "" {
		patient = p.PersonID
	}
	to, err := recipients(ctx, s.store, s.custody, patient)
	if err != nil {
		return nil, err
	}
	a, _, err := s.store.AppointmentBook(ctx, store.Booking{
		PatientID: patient, SlotID: req.SlotId, IdempotencyKey: req.IdempotencyKey, CreatedBy: "person:" + p.PersonID, Now: s.now(),
	}, func(ctx context.Context, tx *store.Tx, a store.Appointment) error {
		return reminders(ctx, tx, s.notify, a, to)
	})
	if err != nil {
		return nil, slotError(err, req.SlotId)
	}
	return &appointmentv1.BookSlotResponse{Appointment: appointmentToProto(a, s.now())}, nil
}

func (s *appointmentService) CancelAppointment(ctx context.Context, req *appointmentv1.CancelAppointmentRequest) (*appointmentv1.CancelAppointmentResponse, error) {
	p, _ := access.FromContext(ctx)
	patients, err := s.patients(ctx, p)
	if err != nil {
		return nil, err
	}
	a, err := s.store.AppointmentCancel(ctx, store.AppointmentChange{ID: req.AppointmentId, PatientIDs: patients, Now: s.now()},
		func(ctx context.Context, tx *store.Tx, a store.Appointment) error {
			return s.notify.CancelReminders(ctx, tx, a.ID)
		})
	if err != nil {
		return nil, rpc.NotFoundAs(err, "you have no appointment %q", req.AppointmentId)
	}
	return &appointmentv1.CancelAppointmentResponse{Appointment: appointmentToProto(a, s.now())}, nil
}

func (s *appointmentService) RebookAppointment(ctx context.Context, req *appointmentv1.RebookAppointmentRequest) (*appointmentv1.RebookAppointmentResponse, error) {
	p, _ := access.FromContext(ctx)
	patients, err := s.patients(ctx, p)
	if err != nil {
		return nil, err
	}
	a, err := s.store.AppointmentRebook(ctx, store.AppointmentChange{ID: req.AppointmentId, PatientIDs: patients, NewSlotID: req.SlotId, Now: s.now()},
		func(ctx context.Context, tx *store.Tx, a store.Appointment) error {
			if err := s.notify.CancelReminders(ctx, tx, a.ID); err != nil {
				return err
			}
			to, err := recipients(ctx, tx, s.custody, a.PatientID)
			if err != nil {
				return err
			}
			return reminders(ctx, tx, s.notify, a, to)
		})
	switch {
	case errors.Is(err, store.ErrSlotFull):
		return nil, slotError(err, req.SlotId)
	case err != nil:
		// The appointment is locked first, so NotFound is about it.
		return nil, rpc.NotFoundAs(err, "you have no appointment %q, or there is no time %q", req.AppointmentId, req.SlotId)
	}
	return &appointmentv1.RebookAppointmentResponse{Appointment: appointmentToProto(a, s.now())}, nil
}

func (s *appointmentService) ListAppointments(ctx context.Context, req *appointmentv1.ListAppointmentsRequest) (*appointmentv1.ListAppointmentsResponse, error) {
	p, _ := access.FromContext(ctx)
	var since time.Time
	if req.UpdatedSince != nil {
		since = req.UpdatedSince.AsTime()
	}
	return s.lists.answer(ctx, p.PersonID, s.custody.ChildrenBornAfter(), req.PatientId, since, s.now())
}

// listResponse shows l at now: patientID's appointments only when set,
// those changed after since.
func listResponse(l store.CitizenList, now time.Time, patientID string, since time.Time) *appointmentv1.ListAppointmentsResponse {
	res := &appointmentv1.ListAppointmentsResponse{SyncTime: rpc.Timestamp(l.AsOf.Add(-syncMargin))}
	for _, a := range l.Appointments {
		if (patientID == "" || a.PatientID == patientID) && a.UpdatedAt.After(since) {
			res.Appointments = append(res.Appointments, appointmentToProto(a, now))
		}
	}
	return res
}

func (s *appointmentService) GetAppointmentCalendar(ctx context.Context, req *appointmentv1.GetAppointmentCalendarRequest) (*appointmentv1.GetAppointmentCalendarResponse, error) {
	p, _ := access.FromContext(ctx)
	patients, err := s.patients(ctx, p)
	if err != nil {
		return nil, err
	}
	a, err := s.store.AppointmentGet(ctx, req.AppointmentId, patients)
	if err != nil {
		return nil, rpc.NotFoundAs(err, "you have no appointment %q", req.AppointmentId)
	}
	text, err := ical.Render(calendarEvent(a))
	if err != nil {
		return nil, err
	}
	return &appointmentv1.GetAppointmentCalendarResponse{Ical: text, ContentType: "text/calendar; charset=utf-8"}, nil
}

// calendarEvent is what a calendar shows of a: time, place and what to
// bring, in Swedish; never who the patient is beyond the first name.
func calendarEvent(a store.Appointment) ical.Event {
	e := ical.Event{
		UID: a.ID + "@nara", Sequence: a.Version - 1, Stamp: a.UpdatedAt, Start: a.StartsAt, End: a.EndsAt,
		Summary: a.Service.NameSV + ", " + a.Unit.Name, URL: "nara://appointments/" + a.ID, Alarm: time.Hour,
	}
	if a.PatientGivenName != "" {
		e.Summary += " (" + a.PatientGivenName + ")"
	}
	switch a.Service.VisitForm {
	case "video":
		e.Location = "Video i appen Nära"
		e.Alarm = 10 * time.Minute
	case "phone":
		e.Location = "Telefon: vi ringer dig"
	default:
		e.Location = strings.Join(nonEmpty(a.Unit.Street, strings.TrimSpace(a.Unit.PostalCode+" "+a.Unit.City)), ", ")
	}
	var desc []string
	if a.ClinicianName != "" {
		desc = append(desc, strings.TrimSpace(a.ClinicianName+", "+a.Profession))
	}
	desc = append(desc, a.Instructions)
	if a.Service.CancelDeadline > 0 {
		desc = append(desc, fmt.Sprintf("Avboka eller boka om i appen senast %d timmar före besöket.", int(a.Service.CancelDeadline.Hours())))
	}
	if a.Unit.Phone != "" {
		desc = append(desc, a.Unit.Name+": "+a.Unit.Phone)
	}
	e.Description = strings.Join(nonEmpty(desc...), "\n")
	switch a.Status {
	case store.StatusCancelled, store.StatusNoShow:
		e.Status = ical.StatusCancelled
	case store.StatusProposed, store.StatusPending:
		e.Status = ical.StatusTentative
	default:
		e.Status = ical.StatusConfirmed
	}
	return e
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
