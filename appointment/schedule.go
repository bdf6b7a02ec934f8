package appointment

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/changefeed"
	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/holiday"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// maxPublishedSlots bounds one PublishSlots call, repeats included.
const maxPublishedSlots = 2000

// maxListedSlots bounds one ListSlots answer.
const maxListedSlots = 2000

// scheduleService is the care unit's side of booking. Every call acts
// within the unit of the clinician's selected care assignment, as the
// rules table's unitRule makes sure before the handler runs.
type scheduleService struct {
	store   *store.Store
	custody *rpc.Custody
	notify  *notify.Service
	now     func() time.Time
	zone    *time.Location
	// hub wakes WatchUnitNotices streams when their unit hears news.
	hub *changefeed.Hub
}

var resourceKinds = map[string]appointmentv1.ResourceKind{
	"clinician": appointmentv1.ResourceKind_RESOURCE_KIND_CLINICIAN,
	"room":      appointmentv1.ResourceKind_RESOURCE_KIND_ROOM,
	"video":     appointmentv1.ResourceKind_RESOURCE_KIND_VIDEO,
	"lane":      appointmentv1.ResourceKind_RESOURCE_KIND_LANE,
}

func resourceToProto(r store.Resource) *appointmentv1.Resource {
	return &appointmentv1.Resource{
		Id: r.ID, Kind: resourceKinds[r.Kind], Name: r.Name, StaffHsaId: r.StaffHSAID, Profession: r.Profession,
	}
}

// unitSlotToProto is a slot as the unit's staff see it: with its capacity,
// state, booking window and resource.
func unitSlotToProto(sl store.Slot, forms map[string]string) *appointmentv1.Slot {
	out := slotToProto(sl, forms[sl.ServiceCode])
	out.Capacity, out.Booked = int32(sl.Capacity), int32(sl.Booked)
	out.Blocked, out.InvitationOnly = sl.Blocked, sl.InvitationOnly
	if !sl.OpensAt.IsZero() {
		out.BookingOpenTime = rpc.Timestamp(sl.OpensAt)
	}
	out.BookingCloseTime = rpc.Timestamp(sl.StartsAt.Add(-sl.ClosesBefore))
	if sl.ResourceID != "" {
		out.Resource = resourceToProto(sl.Resource)
	}
	return out
}

// visitFormsByService maps service codes to their visit forms.
func visitFormsByService(ctx context.Context, st *store.Store) (map[string]string, error) {
	cs, err := st.CareServiceList(ctx)
	if err != nil {
		return nil, err
	}
	forms := map[string]string{}
	for _, c := range cs {
		forms[c.Code] = c.VisitForm
	}
	return forms, nil
}

func (s *scheduleService) PublishSlots(ctx context.Context, req *appointmentv1.PublishSlotsRequest) (*appointmentv1.PublishSlotsResponse, error) {
	p, _ := access.FromContext(ctx)
	start, end, dur := req.StartTime.AsTime(), req.EndTime.AsTime(), req.SlotDuration.AsDuration()
	if !start.After(s.now()) {
		return nil, rpc.Fail(connect.CodeInvalidArgument, "start_time: slots cannot be published in the past")
	}
	resource, err := s.publishResource(ctx, p, req)
	if err != nil {
		return nil, err
	}
	windows := [][2]time.Time{{start, end}}
	if req.RepeatWeeks > 0 || len(req.RepeatWeekdays) > 0 {
		if windows, err = repeats(start, end, req.RepeatWeekdays, int(req.RepeatWeeks), s.zone); err != nil {
			return nil, err
		}
	}
	var opens time.Time
	if req.BookingOpenTime != nil {
		opens = req.BookingOpenTime.AsTime()
	}
	var slots []store.Slot
	for _, w := range windows {
		for t := w[0]; !t.Add(dur).After(w[1]); t = t.Add(dur) {
			if len(slots) == maxPublishedSlots {
				return nil, rpc.Fail(connect.CodeInvalidArgument, "at most %d slots can be published at once; publish a shorter period", maxPublishedSlots)
			}
			slots = append(slots, store.Slot{
				CareUnitHSAID: req.UnitHsaId, ServiceCode: services[req.Service], StartsAt: t, EndsAt: t.Add(dur),
				Capacity: int(req.Capacity), InvitationOnly: req.InvitationOnly, CreatedBy: "staff:" + p.HSAID,
				ResourceID: resource, OpensAt: opens, ClosesBefore: req.BookingCloseBefore.AsDuration(), MinAge: int(req.MinAge),
			})
		}
	}
	if len(slots) == 0 {
		return nil, rpc.Fail(connect.CodeInvalidArgument, "slot_duration: no slot of that length fits between start_time and end_time")
	}
	out, err := s.store.SlotsPublish(ctx, slots)
	if errors.Is(err, store.ErrReference) {
		return nil, rpc.FailWith(err, connect.CodeNotFound, "unit %q is not registered for booking", req.UnitHsaId)
	} else if err != nil {
		return nil, err
	}
	forms, err := visitFormsByService(ctx, s.store)
	if err != nil {
		return nil, err
	}
	res := &appointmentv1.PublishSlotsResponse{}
	for _, sl := range out {
		res.Slots = append(res.Slots, unitSlotToProto(sl, forms))
	}
	return res, nil
}

// publishResource is the resource the new slots are in: the caller's own
// as a clinician (for_me), a room, video room or lane of the unit, or none.
func (s *scheduleService) publishResource(ctx context.Context, p access.Principal, req *appointmentv1.PublishSlotsRequest) (string, error) {
	switch {
	case req.ForMe && req.ResourceId != "":
		return "", rpc.Fail(connect.CodeInvalidArgument, "resource_id: set resource_id or for_me, not both")
	case req.ForMe:
		return s.store.ResourceForStaff(ctx, req.UnitHsaId, p.HSAID, p.DisplayName, "")
	case req.ResourceId != "":
		r, err := s.store.ResourceGet(ctx, req.UnitHsaId, req.ResourceId)
		if err != nil {
			return "", rpc.NotFoundAs(err, "resource_id: unit %q has no resource %q", req.UnitHsaId, req.ResourceId)
		}
		return r.ID, nil
	}
	return "", nil
}

// repeats are the windows of a recurring publication: the wall-clock times
// of [start, end) in zone, on the weekdays (start's own when none) of weeks
// weeks from start's day. Public holidays are left out; units open on them
// publish those days by themselves.
func repeats(start, end time.Time, weekdays []appointmentv1.Weekday, weeks int, zone *time.Location) ([][2]time.Time, error) {
	s, e := start.In(zone), end.In(zone)
	if s.YearDay() != e.YearDay() || s.Year() != e.Year() {
		return nil, rpc.Fail(connect.CodeInvalidArgument, "end_time: with repeats, start_time and end_time must be on the same day (Europe/Stockholm)")
	}
	if weeks == 0 {
		weeks = 1
	}
	days := map[time.Weekday]bool{}
	for _, w := range weekdays {
		days[time.Weekday(int(w)%7)] = true
	}
	if len(days) == 0 {
		days[s.Weekday()] = true
	}
	var out [][2]time.Time
	for d := range weeks * 7 {
		day := time.Date(s.Year(), s.Month(), s.Day()+d, 0, 0, 0, 0, zone)
		if !days[day.Weekday()] {
			continue
		}
		if h, ok := holiday.On(day); ok && h.Official {
			continue
		}
		from := time.Date(day.Year(), day.Month(), day.Day(), s.Hour(), s.Minute(), s.Second(), 0, zone)
		to := time.Date(day.Year(), day.Month(), day.Day(), e.Hour(), e.Minute(), e.Second(), 0, zone)
		if from.Before(start) {
			continue
		}
		out = append(out, [2]time.Time{from, to})
	}
	return out, nil
}

func (s *scheduleService) ListResources(ctx context.Context, req *appointmentv1.ListResourcesRequest) (*appointmentv1.ListResourcesResponse, error) {
	rs, err := s.store.ResourceList(ctx, req.UnitHsaId)
	if err != nil {
		return nil, err
	}
	res := &appointmentv1.ListResourcesResponse{}
	for _, r := range rs {
		res.Resources = append(res.Resources, resourceToProto(r))
	}
	return res, nil
}

func (s *scheduleService) CreateResource(ctx context.Context, req *appointmentv1.CreateResourceRequest) (*appointmentv1.CreateResourceResponse, error) {
	var kind string
	for k, v := range resourceKinds {
		if v == req.Kind {
			kind = k
		}
	}
	r, err := s.store.ResourceCreate(ctx, store.Resource{CareUnitHSAID: req.UnitHsaId, Kind: kind, Name: req.Name})
	if errors.Is(err, store.ErrReference) {
		return nil, rpc.FailWith(err, connect.CodeNotFound, "unit %q is not registered for booking", req.UnitHsaId)
	} else if err != nil {
		return nil, err
	}
	return &appointmentv1.CreateResourceResponse{Resource: resourceToProto(r)}, nil
}

func (s *scheduleService) ListSlots(ctx context.Context, req *appointmentv1.ListSlotsRequest) (*appointmentv1.ListSlotsResponse, error) {
	slots, err := s.store.SlotList(ctx, req.UnitHsaId, services[req.Service], req.StartTime.AsTime(), req.EndTime.AsTime(), maxListedSlots)
	if err != nil {
		return nil, err
	}
	forms, err := visitFormsByService(ctx, s.store)
	if err != nil {
		return nil, err
	}
	res := &appointmentv1.ListSlotsResponse{}
	for _, sl := range slots {
		res.Slots = append(res.Slots, unitSlotToProto(sl, forms))
	}
	return res, nil
}

func (s *scheduleService) UpdateSlots(ctx context.Context, req *appointmentv1.UpdateSlotsRequest) (*appointmentv1.UpdateSlotsResponse, error) {
	p, _ := access.FromContext(ctx)
	if req.CancelBooked && !req.Block {
		return nil, rpc.Fail(connect.CodeInvalidArgument, "cancel_booked: only blocking cancels booked appointments")
	}
	c := store.SlotChange{UnitHSAID: req.UnitHsaId, IDs: req.SlotIds, Block: req.Block, CancelBooked: req.CancelBooked, Unblock: req.Unblock}
	if w := req.BookingWindow; w != nil {
		c.Window = &store.BookingWindow{ClosesBefore: w.CloseBefore.AsDuration()}
		if w.OpenTime != nil {
			c.Window.OpensAt = w.OpenTime.AsTime()
		}
	}
	slots, cancelled, err := s.store.SlotsChange(ctx, c, func(ctx context.Context, tx *store.Tx, cancelled []store.Appointment) error {
		for _, a := range cancelled {
			if err := s.tell(ctx, tx, a, notify.KindCancelled); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, rpc.NotFoundAs(err, "slot_ids: not every slot is one of unit %q's", req.UnitHsaId)
	}
	if err := s.logEach(ctx, p, cancelled, "cancel appointment by blocking its time"); err != nil {
		return nil, err
	}
	forms, err := visitFormsByService(ctx, s.store)
	if err != nil {
		return nil, err
	}
	res := &appointmentv1.UpdateSlotsResponse{Cancelled: int32(len(cancelled))}
	for _, sl := range slots {
		res.Slots = append(res.Slots, unitSlotToProto(sl, forms))
	}
	return res, nil
}

// tell tells a's patient (and guardians) in tx that the unit changed a:
// moved it (its reminders follow the new time) or cancelled it (they are
// dropped).
func (s *scheduleService) tell(ctx context.Context, tx *store.Tx, a store.Appointment, kind notify.Kind) error {
	if err := s.notify.CancelReminders(ctx, tx, a.ID); err != nil {
		return err
	}
	to, err := recipients(ctx, tx, s.custody, a.PatientID)
	if err != nil {
		return err
	}
	if kind == notify.KindMoved {
		if err := reminders(ctx, tx, s.notify, a, to); err != nil {
			return err
		}
	}
	return s.notify.Notify(ctx, tx, notify.Notice{
		Kind: kind, PersonIDs: to, Patient: a.PatientID, ReasonID: a.ID, Link: "/appointments/" + a.ID, RefID: a.ID, At: a.StartsAt,
	})
}

func (s *scheduleService) MoveSlot(ctx context.Context, req *appointmentv1.MoveSlotRequest) (*appointmentv1.MoveSlotResponse, error) {
	p, _ := access.FromContext(ctx)
	if !req.NewStartTime.AsTime().After(s.now()) {
		return nil, rpc.Fail(connect.CodeInvalidArgument, "new_start_time: a slot cannot be moved into the past")
	}
	sl, moved, err := s.store.SlotMove(ctx, req.UnitHsaId, req.SlotId, req.NewStartTime.AsTime(),
		func(ctx context.Context, tx *store.Tx, moved []store.Appointment) error {
			for _, a := range moved {
				if err := s.tell(ctx, tx, a, notify.KindMoved); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return nil, rpc.NotFoundAs(err, "unit %q has no slot %q", req.UnitHsaId, req.SlotId)
	}
	if err := s.logEach(ctx, p, moved, "move appointment"); err != nil {
		return nil, err
	}
	forms, err := visitFormsByService(ctx, s.store)
	if err != nil {
		return nil, err
	}
	return &appointmentv1.MoveSlotResponse{Slot: unitSlotToProto(sl, forms), Notified: int32(len(moved))}, nil
}

func (s *scheduleService) ReportDelay(ctx context.Context, req *appointmentv1.ReportDelayRequest) (*appointmentv1.ReportDelayResponse, error) {
	p, _ := access.FromContext(ctx)
	as, err := s.store.AppointmentsDelay(ctx, req.UnitHsaId, req.AppointmentIds, int(req.Minutes),
		func(ctx context.Context, tx *store.Tx, as []store.Appointment) error {
			for _, a := range as {
				to, err := recipients(ctx, tx, s.custody, a.PatientID)
				if err != nil {
					return err
				}
				err = s.notify.Notify(ctx, tx, notify.Notice{
					Kind: notify.KindDelay, PersonIDs: to, Patient: a.PatientID, ReasonID: a.ID, Link: "/appointments/" + a.ID, RefID: a.ID, At: a.ExpectedStart(),
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return nil, rpc.NotFoundAs(err, "appointment_ids: not every appointment is at unit %q", req.UnitHsaId)
	}
	res := &appointmentv1.ReportDelayResponse{}
	if err := s.logEach(ctx, p, as, "report delay"); err != nil {
		return nil, err
	}
	now := s.now()
	for _, a := range as {
		res.Appointments = append(res.Appointments, appointmentToProto(a, now))
	}
	return res, nil
}

// logEach writes one access-log entry per patient of as.
func (s *scheduleService) logEach(ctx context.Context, p access.Principal, as []store.Appointment, action string) error {
	patients := make([]string, len(as))
	for i, a := range as {
		patients[i] = a.PatientID
	}
	return s.logPatients(ctx, p, patients, action)
}

// logPatients writes one access-log entry per patient, however often one
// appears in patientIDs.
func (s *scheduleService) logPatients(ctx context.Context, p access.Principal, patientIDs []string, action string) error {
	logged := map[string]bool{}
	for _, id := range patientIDs {
		if logged[id] {
			continue
		}
		if err := rpc.LogAccess(ctx, s.store, p, id, action); err != nil {
			return err
		}
		logged[id] = true
	}
	return nil
}

var arrivals = map[appointmentv1.Arrival]string{
	appointmentv1.Arrival_ARRIVAL_ARRIVED:   store.StatusArrived,
	appointmentv1.Arrival_ARRIVAL_FULFILLED: store.StatusFulfilled,
	appointmentv1.Arrival_ARRIVAL_NOSHOW:    store.StatusNoShow,
}

func (s *scheduleService) SetArrival(ctx context.Context, req *appointmentv1.SetArrivalRequest) (*appointmentv1.SetArrivalResponse, error) {
	p, _ := access.FromContext(ctx)
	a, _, err := s.store.AppointmentSetArrival(ctx, req.UnitHsaId, req.AppointmentId, arrivals[req.Arrival], s.now(),
		func(ctx context.Context, tx *store.Tx, a store.Appointment) error {
			// Once the patient is here, or the visit is over, reminders are noise.
			return s.notify.CancelReminders(ctx, tx, a.ID)
		})
	if err != nil {
		return nil, rpc.NotFoundAs(err, "unit %q has no appointment %q", req.UnitHsaId, req.AppointmentId)
	}
	if err := rpc.LogAccess(ctx, s.store, p, a.PatientID, "set arrival"); err != nil {
		return nil, err
	}
	return &appointmentv1.SetArrivalResponse{Appointment: appointmentToProto(a, s.now())}, nil
}

func (s *scheduleService) InviteToAppointment(ctx context.Context, req *appointmentv1.InviteToAppointmentRequest) (*appointmentv1.InviteToAppointmentResponse, error) {
	p, _ := access.FromContext(ctx)
	if !req.StartTime.AsTime().After(s.now()) {
		return nil, rpc.Fail(connect.CodeInvalidArgument, "start_time: an invitation cannot be in the past")
	}
	if _, err := s.store.PersonGet(ctx, req.PatientId); err != nil {
		return nil, rpc.NotFoundAs(err, "there is no patient %q; find them by personal number first", req.PatientId)
	}
	to, err := recipients(ctx, s.store, s.custody, req.PatientId)
	if err != nil {
		return nil, err
	}
	a, created, err := s.store.AppointmentInvite(ctx, store.Invitation{
		PatientID: req.PatientId, UnitHSAID: req.UnitHsaId, ServiceCode: services[req.Service],
		StaffHSAID: p.HSAID, StaffName: p.DisplayName, Profession: req.Profession,
		StartsAt: req.StartTime.AsTime(), EndsAt: req.EndTime.AsTime(), Proposed: req.ConfirmRequired,
		Instructions: req.Instructions, IdempotencyKey: req.IdempotencyKey,
	}, func(ctx context.Context, tx *store.Tx, a store.Appointment) error {
		if err := reminders(ctx, tx, s.notify, a, to); err != nil {
			return err
		}
		return s.notify.Notify(ctx, tx, notify.Notice{
			Kind: notify.KindOffer, PersonIDs: to, Patient: a.PatientID, ReasonID: a.ID, Link: "/appointments/" + a.ID, RefID: a.ID, At: a.StartsAt,
		})
	})
	switch {
	case errors.Is(err, store.ErrReference):
		return nil, rpc.FailWith(err, connect.CodeNotFound, "unit %q is not registered for booking", req.UnitHsaId)
	case errors.Is(err, store.ErrOneActive):
		// The refusal says the patient has an active booking elsewhere.
		if err := rpc.LogAccess(ctx, s.store, p, req.PatientId, "invite to appointment, refused for an active booking"); err != nil {
			return nil, err
		}
		return nil, err
	case err != nil:
		return nil, err
	}
	// A repeat reads the appointment as it is now, the patient's answer
	// included: logged as well.
	action := "invite to appointment"
	if !created {
		action = "repeat invitation"
	}
	if err := rpc.LogAccess(ctx, s.store, p, a.PatientID, action); err != nil {
		return nil, err
	}
	return &appointmentv1.InviteToAppointmentResponse{Appointment: appointmentToProto(a, s.now())}, nil
}

func (s *scheduleService) ListUnitSchedule(ctx context.Context, req *appointmentv1.ListUnitScheduleRequest) (*appointmentv1.ListUnitScheduleResponse, error) {
	p, _ := access.FromContext(ctx)
	day := s.now().In(s.zone)
	if req.Date != "" {
		d, err := time.ParseInLocation(time.DateOnly, req.Date, s.zone)
		if err != nil {
			return nil, rpc.FailWith(err, connect.CodeInvalidArgument, "date: %q is not a date", req.Date)
		}
		day = d
	}
	from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, s.zone)
	as, err := s.store.AppointmentListByUnit(ctx, req.UnitHsaId, req.ClinicianHsaId, from, from.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	if err := s.logEach(ctx, p, as, "read unit schedule"); err != nil {
		return nil, err
	}
	res := &appointmentv1.ListUnitScheduleResponse{}
	now := s.now()
	for _, a := range as {
		res.Appointments = append(res.Appointments, appointmentToProto(a, now))
	}
	return res, nil
}
