package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"time"
	_ "time/tzdata" // times in messages are in Europe/Stockholm on any host

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// stockholm is the zone of the times in messages for patients. The
// zone database is embedded, so it loads on any host.
var stockholm = func() *time.Location {
	l, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		panic(err)
	}
	return l
}()

// ErrSlotFull means every place of a slot is taken. It is apart from
// ErrPrecondition because the app offers other times for it.
var ErrSlotFull = errors.New("slot full")

// Appointment statuses, as FHIR Appointment.status spells them.
const (
	StatusProposed  = "proposed"
	StatusPending   = "pending"
	StatusBooked    = "booked"
	StatusArrived   = "arrived"
	StatusFulfilled = "fulfilled"
	StatusCancelled = "cancelled"
	StatusNoShow    = "noshow"
)

// CareService is something units offer for booking, with its rules.
type CareService struct {
	Code, NameSV, NameEN string
	// VisitForm is "physical", "video" or "phone".
	VisitForm string
	// CancelDeadline is how late before the start a citizen may cancel.
	CancelDeadline time.Duration
	// Exclusive allows one active booking per patient.
	Exclusive bool
	// MinInterval is the least time between two bookings' starts (doses).
	MinInterval time.Duration
	// LateCancel lets a patient cancel after CancelDeadline (until the
	// start); the appointment is then flagged as cancelled late.
	LateCancel bool
}

// Slot is a bookable time at a unit.
type Slot struct {
	ID             string
	CareUnitHSAID  string
	ServiceCode    string
	StartsAt       time.Time
	EndsAt         time.Time
	Capacity       int
	Booked         int
	InvitationOnly bool
	Blocked        bool
	CreatedBy      string
	// ResourceID is the clinician, room or lane; empty: the unit's shared
	// lane for the service.
	ResourceID string
	// OpensAt is when booking opens (zero: when published); booking closes
	// ClosesBefore the start.
	OpensAt      time.Time
	ClosesBefore time.Duration
	// MinAge is the age a patient must have reached on the day of the time
	// (Europe/Stockholm) to find and book it; 0: anyone.
	MinAge int
	// Unit and VisitForm are filled in by searches, with DistanceMeters from
	// the searched position when there was one.
	Unit           CareUnit
	VisitForm      string
	DistanceMeters int
	// Resource is filled in by ListSlots.
	Resource Resource
}

// Resource is who or what a slot is with.
type Resource struct {
	ID, CareUnitHSAID string
	// Kind is "clinician", "room", "video" or "lane".
	Kind, Name string
	// StaffHSAID and Profession are set for clinicians.
	StaffHSAID, Profession string
}

// Appointment is a patient's booking with what the app and the clinician
// show about it.
type Appointment struct {
	ID             string
	PatientID      string
	SlotID         string
	ServiceCode    string
	Status         string
	IdempotencyKey string
	CreatedBy      string
	Instructions   string
	LateCancel     bool
	// DelayMinutes is how late the clinician runs, PatientLateMinutes how
	// late the patient said they will be.
	DelayMinutes, PatientLateMinutes int
	// InvitationResponse is "", "confirm", "decline" or "ask_other_time".
	InvitationResponse, PatientMessage string
	CancelledByUnit                    bool
	CreatedAt                          time.Time
	UpdatedAt                          time.Time
	Version                            int64

	StartsAt, EndsAt time.Time
	Service          CareService
	Unit             CareUnit
	// ClinicianName and Profession are set for a slot with a clinician.
	ClinicianName, Profession string
	ClinicianHSAID            string
	PatientGivenName          string
	PatientSurname            string
}

// Answers to an invitation.
const (
	ResponseConfirm  = "confirm"
	ResponseDecline  = "decline"
	ResponseAskOther = "ask_other_time"
)

// ExpectedStart is the start with the clinician's delay.
func (a Appointment) ExpectedStart() time.Time {
	return a.StartsAt.Add(time.Duration(a.DelayMinutes) * time.Minute)
}

// Responds reports whether the patient can still answer the invitation:
// it is proposed (or they asked for another time) and has not started.
func (a Appointment) Responds(now time.Time) bool {
	return (a.Status == StatusProposed || a.Status == StatusPending) && now.Before(a.StartsAt)
}

// CanCancel reports whether the patient may cancel in the app at now: an
// active visit not yet arrived, before the deadline, or before the start
// where the service takes late cancellations.
func (a Appointment) CanCancel(now time.Time) bool {
	if !a.Active() || a.Status == StatusArrived {
		return false
	}
	return !now.After(a.CancelBy()) || (a.Service.LateCancel && now.Before(a.StartsAt))
}

// CancelBy is the last moment the patient may cancel (without being
// flagged late) or rebook in the app.
func (a Appointment) CancelBy() time.Time { return a.StartsAt.Add(-a.Service.CancelDeadline) }

// Active reports whether the appointment still holds its place.
func (a Appointment) Active() bool {
	switch a.Status {
	case StatusProposed, StatusPending, StatusBooked, StatusArrived:
		return true
	}
	return false
}

const appointmentSelect = `
	SELECT a.id, a.patient_id, a.slot_id, a.service_code, a.status, a.idempotency_key, a.created_by, a.instructions,
	       a.late_cancel, a.delay_minutes, a.patient_late_minutes, a.invitation_response, a.patient_message, a.cancelled_by_unit,
	       a.created_at, a.updated_at, a.version, s.starts_at, s.ends_at,
	       cs.code, cs.name_sv, cs.name_en, cs.visit_form, extract(epoch FROM cs.cancel_deadline)::bigint, cs.exclusive,
	       extract(epoch FROM cs.min_interval)::bigint, cs.late_cancel,
	       u.hsa_id, u.provider_hsa_id, u.name, u.street, u.postal_code, u.city, u.municipality, u.phone,
	       coalesce(r.name, ''), coalesce(r.profession, ''), coalesce(r.staff_hsa_id, ''), p.given_name, p.surname
	  FROM appointment a
	  JOIN slot s ON s.id = a.slot_id
	  JOIN care_service cs ON cs.code = a.service_code
	  JOIN care_unit u ON u.hsa_id = s.care_unit_hsa_id
	  JOIN person p ON p.id = a.patient_id
	  LEFT JOIN resource r ON r.id = s.resource_id`

func scanAppointment(row pgx.CollectableRow) (Appointment, error) {
	var (
		a                  Appointment
		deadline, interval int64
	)
	err := row.Scan(&a.ID, &a.PatientID, &a.SlotID, &a.ServiceCode, &a.Status, &a.IdempotencyKey, &a.CreatedBy, &a.Instructions,
		&a.LateCancel, &a.DelayMinutes, &a.PatientLateMinutes, &a.InvitationResponse, &a.PatientMessage, &a.CancelledByUnit,
		&a.CreatedAt, &a.UpdatedAt, &a.Version, &a.StartsAt, &a.EndsAt,
		&a.Service.Code, &a.Service.NameSV, &a.Service.NameEN, &a.Service.VisitForm, &deadline, &a.Service.Exclusive, &interval, &a.Service.LateCancel,
		&a.Unit.HSAID, &a.Unit.ProviderHSAID, &a.Unit.Name, &a.Unit.Street, &a.Unit.PostalCode, &a.Unit.City, &a.Unit.Municipality, &a.Unit.Phone,
		&a.ClinicianName, &a.Profession, &a.ClinicianHSAID, &a.PatientGivenName, &a.PatientSurname)
	a.Service.CancelDeadline = time.Duration(deadline) * time.Second
	a.Service.MinInterval = time.Duration(interval) * time.Second
	return a, err
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func appointmentOne(ctx context.Context, q querier, where string, args ...any) (Appointment, error) {
	rows, err := q.Query(ctx, appointmentSelect+" WHERE "+where, args...)
	if err != nil {
		return Appointment{}, interpretError(err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAppointment)
	return a, interpretError(err)
}

// constraintOf names the constraint err violated, or "".
func constraintOf(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

// oldEnough is the age rule of slots, true when the patient p may book the
// slot s: its min_age is 0, or p has turned min_age by the slot's start
// date in Stockholm (born 1961-06-01: 65 from 2026-06-01). Search, booking,
// rebooking and the refusal's reason all use it, so they never disagree.
const oldEnough = `(s.min_age = 0 OR p.birth_date <= (s.starts_at AT TIME ZONE 'Europe/Stockholm')::date - make_interval(years => s.min_age))`

// AppointmentAfter runs in the transaction that changes an appointment, with
// the appointment as it is after the change: the place to enqueue its
// reminders and notices, so they commit (or not) with it.
type AppointmentAfter func(ctx context.Context, tx *Tx, a Appointment) error

// CareServiceList returns every bookable service.
func (s *Store) CareServiceList(ctx context.Context) ([]CareService, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT code, name_sv, name_en, visit_form, extract(epoch FROM cancel_deadline)::bigint, exclusive,
		       extract(epoch FROM min_interval)::bigint, late_cancel
		  FROM care_service ORDER BY code`)
	if err != nil {
		return nil, interpretError(err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CareService, error) {
		var (
			c                  CareService
			deadline, interval int64
		)
		err := row.Scan(&c.Code, &c.NameSV, &c.NameEN, &c.VisitForm, &deadline, &c.Exclusive, &interval, &c.LateCancel)
		c.CancelDeadline, c.MinInterval = time.Duration(deadline)*time.Second, time.Duration(interval)*time.Second
		return c, err
	})
	return cs, interpretError(err)
}

// SlotsPublish stores new slots, all or none. Slots that overlap published
// ones of the same unit, service and lane are refused with ErrPrecondition;
// an unknown unit or service with ErrReference.
func (s *Store) SlotsPublish(ctx context.Context, slots []Slot) ([]Slot, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	var (
		units, services, by, resources []string
		starts, ends, opens            []*time.Time
		capacities, minAges            []int32
		invitation                     []bool
		closes                         []float64
	)
	for _, sl := range slots {
		units = append(units, sl.CareUnitHSAID)
		services = append(services, sl.ServiceCode)
		starts = append(starts, &sl.StartsAt)
		ends = append(ends, &sl.EndsAt)
		capacities = append(capacities, int32(sl.Capacity))
		minAges = append(minAges, int32(sl.MinAge))
		invitation = append(invitation, sl.InvitationOnly)
		by = append(by, sl.CreatedBy)
		resources = append(resources, sl.ResourceID)
		var open *time.Time
		if !sl.OpensAt.IsZero() {
			open = &sl.OpensAt
		}
		opens = append(opens, open)
		closes = append(closes, sl.ClosesBefore.Seconds())
	}
	rows, err := s.pool.Query(ctx, `
		WITH ins AS (
			INSERT INTO slot (care_unit_hsa_id, service_code, starts_at, ends_at, capacity, invitation_only, created_by,
			                  resource_id, opens_at, closes_before, min_age)
			SELECT u, sv, st, en, c, i, b, nullif(r, '')::uuid, o, make_interval(secs => cl), ma
			  FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::bool[], $7::text[],
			              $8::text[], $9::timestamptz[], $10::float8[], $11::int[]) AS t(u, sv, st, en, c, i, b, r, o, cl, ma)
			RETURNING *)
		SELECT `+slotColumns+`
		  FROM ins s LEFT JOIN resource r ON r.id = s.resource_id ORDER BY s.starts_at, s.id`,
		units, services, starts, ends, capacities, invitation, by, resources, opens, closes, minAges)
	if err != nil {
		return nil, slotError(err)
	}
	out, err := pgx.CollectRows(rows, scanSlotFull)
	if err != nil {
		return nil, slotError(err)
	}
	return out, nil
}

func slotError(err error) error {
	if constraintOf(err) == "slot_no_overlap" {
		return refuse("the times overlap slots already published for this unit and service")
	}
	return interpretError(err)
}

// SlotQuery is a citizen's search for free times.
type SlotQuery struct {
	ServiceCode string
	// UnitHSAID and Municipality narrow the search when set.
	UnitHSAID, Municipality string
	From, To                time.Time
	// Near, when set, orders by the unit's distance from it, nearest first;
	// MaxDistanceMeters (when above 0) leaves out units farther away, and
	// units whose position is unknown.
	Near              *Position
	MaxDistanceMeters int
	// PatientID, when set, leaves out the times that person is too young
	// for (Slot.MinAge) and those closer to another of their doses than the
	// service's minimum interval (CareService.MinInterval): booking would
	// refuse both. It is the caller or a child in their custody,
	// checked before; the birth date is read in the search's own statement.
	PatientID string
	// Now hides times already started or not yet open for booking.
	Now   time.Time
	Limit int
}

// Position is a WGS 84 point.
type Position struct{ Latitude, Longitude float64 }

// SlotSearch returns free, open slots by start time, or by distance and
// then start time when q.Near is set.
func (s *Store) SlotSearch(ctx context.Context, q SlotQuery) ([]Slot, error) {
	// Only the filters asked for are in the statement, so that each shape
	// gets a plan of its own that uses the right index, reused across calls.
	args := []any{q.ServiceCode, q.From, q.To, q.Now, q.Limit}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var join, where string
	if q.PatientID != "" {
		join = " JOIN person p ON p.id = " + arg(q.PatientID)
		where += " AND " + oldEnough + " AND NOT " + tooCloseToADose
	}
	if q.UnitHSAID != "" {
		where += " AND s.care_unit_hsa_id = " + arg(q.UnitHSAID)
	}
	if q.Municipality != "" {
		where += " AND u.municipality = " + arg(q.Municipality)
	}
	distance := "NULL::float8"
	order := "s.starts_at, u.name, s.id"
	if q.Near != nil {
		distance = "distance_meters(" + arg(q.Near.Latitude) + ", " + arg(q.Near.Longitude) + ", u.latitude, u.longitude)"
		order = distance + " NULLS LAST, " + order
		if q.MaxDistanceMeters > 0 {
			where += " AND " + distance + " <= " + arg(q.MaxDistanceMeters)
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT s.id, s.care_unit_hsa_id, s.service_code, s.starts_at, s.ends_at, s.capacity, s.booked,
		       s.invitation_only, s.blocked, s.created_by, s.min_age,
		       u.hsa_id, u.provider_hsa_id, u.name, u.street, u.postal_code, u.city, u.municipality, u.phone,
		       coalesce(u.latitude, 0), coalesce(u.longitude, 0), coalesce(round(`+distance+`)::int, 0), cs.visit_form
		  FROM slot s JOIN care_unit u ON u.hsa_id = s.care_unit_hsa_id JOIN care_service cs ON cs.code = s.service_code`+join+`
		 WHERE s.service_code = $1 AND NOT s.blocked AND NOT s.invitation_only AND s.booked < s.capacity
		   AND s.starts_at >= greatest($2::timestamptz, $4::timestamptz) AND s.starts_at < $3
		   AND s.starts_at - s.closes_before > $4
		   AND (s.opens_at IS NULL OR s.opens_at <= $4)`+where+`
		 ORDER BY `+order+`
		 LIMIT $5`, args...)
	if err != nil {
		return nil, interpretError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Slot, error) {
		var (
			sl Slot
			u  = &sl.Unit
		)
		err := row.Scan(&sl.ID, &sl.CareUnitHSAID, &sl.ServiceCode, &sl.StartsAt, &sl.EndsAt, &sl.Capacity, &sl.Booked,
			&sl.InvitationOnly, &sl.Blocked, &sl.CreatedBy, &sl.MinAge,
			&u.HSAID, &u.ProviderHSAID, &u.Name, &u.Street, &u.PostalCode, &u.City, &u.Municipality, &u.Phone,
			&u.Latitude, &u.Longitude, &sl.DistanceMeters, &sl.VisitForm)
		return sl, err
	})
	return out, interpretError(err)
}

// Booking is a citizen's request for a place in a slot.
type Booking struct {
	PatientID      string
	SlotID         string
	IdempotencyKey string
	// CreatedBy is "person:<id>" of whoever books (a guardian for a child).
	// It is the scope of the idempotency key: another caller's key is not
	// theirs to replay.
	CreatedBy string
	Now       time.Time
}

// key is b's idempotency key in its scope, with what was asked.
func (b Booking) key() idempotency {
	return idempotency{scope: b.CreatedBy, key: b.IdempotencyKey, patientID: b.PatientID,
		request: requestHash("book", b.PatientID, b.SlotID)}
}

// AppointmentBook books a place in a slot in one transaction: the slot's
// count is raised only while below capacity, the appointment inserted, and
// after run. A repeat of a request (the same caller, key, patient and slot)
// returns the appointment it made with created false; the caller's key used
// for another request is ErrPrecondition. The slot being full is
// ErrSlotFull; closed, past, for an older age group than the patient's, or
// another active booking of an exclusive service is ErrPrecondition with a
// message for the patient.
func (s *Store) AppointmentBook(ctx context.Context, b Booking, after AppointmentAfter) (a Appointment, created bool, err error) {
	// A retry is not looked up first: the first attempt is the common case,
	// and a retry fails on the key's unique index (or on the rules its first
	// booking now holds) and is answered from the key below.
	k := b.key()
	err = s.inTx(ctx, func(tx *Tx) error {
		var (
			service   string
			exclusive bool
			interval  int64
			starts    time.Time
		)
		err := tx.QueryRow(ctx, `
			UPDATE slot s SET booked = booked + 1, updated_at = now()
			  FROM care_service cs JOIN person p ON p.id = $3
			 WHERE s.id = $1 AND cs.code = s.service_code
			   AND s.booked < s.capacity AND NOT s.blocked AND NOT s.invitation_only
			   AND s.starts_at - s.closes_before > $2 AND (s.opens_at IS NULL OR s.opens_at <= $2)
			   AND `+oldEnough+`
			RETURNING s.service_code, cs.exclusive, extract(epoch FROM cs.min_interval)::bigint, s.starts_at`,
			b.SlotID, b.Now, b.PatientID).Scan(&service, &exclusive, &interval, &starts)
		if errors.Is(err, pgx.ErrNoRows) {
			return slotRefusal(ctx, tx, b.SlotID, b.PatientID, b.Now)
		} else if err != nil {
			return err
		}
		if interval > 0 {
			if err := checkInterval(ctx, tx, b.PatientID, service, "", starts, time.Duration(interval)*time.Second); err != nil {
				return err
			}
		}
		var id string
		err = tx.QueryRow(ctx, `
			INSERT INTO appointment (patient_id, slot_id, service_code, exclusive, status, idempotency_key, idempotency_scope,
			                         idempotency_request, created_by, instructions)
			SELECT $1, $2, code, exclusive, 'booked', $3, $4, $5, $6, instructions_sv FROM care_service WHERE code = $7
			RETURNING id`, b.PatientID, b.SlotID, k.key, k.scope, k.request, b.CreatedBy, service).Scan(&id)
		if err != nil {
			return err
		}
		a, err = appointmentOne(ctx, tx, "a.id = $1", id)
		if err != nil {
			return err
		}
		tx.appointmentsChanged(a)
		return after(ctx, tx, a)
	})
	if err != nil {
		// A retry fails on the key's unique index, or, racing the first
		// request (a double tap), on the rules the first booking now holds;
		// it answers with that booking. The key of another of the caller's
		// requests is refused as such.
		// A lookup that fails for an unreachable database answers
		// Unavailable: the refusal may be wrong, so the client asks again.
		if first, kerr := s.appointmentByKey(ctx, k); !errors.Is(kerr, ErrNotFound) {
			return first, false, kerr
		}
		if constraintOf(err) == "appointment_one_active_idx" {
			err = ErrOneActive
		}
		return Appointment{}, false, interpretError(err)
	}
	return a, true, nil
}

// ErrOneActive refuses a second active booking of an exclusive service. It
// is an ErrPrecondition that tells something of the patient, so staff who
// get it have read patient data.
var ErrOneActive = refuse("there is already an active booking of this service; cancel or rebook it instead")

// errKeyReused refuses a key its caller already used for another request.
var errKeyReused = refuse("idempotency key already used for another request; make a new key for each new request")

// idempotency is a request's idempotency key in its scope: who asked (and,
// for staff, for which unit), with a hash of what they asked for.
type idempotency struct {
	scope, key string
	// request is requestHash of the request; patientID matches replays of
	// appointments made before requests were hashed.
	request   []byte
	patientID string
}

// requestHash is a hash of a request's fields, each length-prefixed so
// that no two requests share one.
func requestHash(fields ...string) []byte {
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return h.Sum(nil)
}

// appointmentByKey returns the appointment k's scope made with k's key for
// the same request. None is ErrNotFound; one made for another request is
// errKeyReused. Another scope's appointment is never read.
func (s *Store) appointmentByKey(ctx context.Context, k idempotency) (Appointment, error) {
	var (
		id, patient string
		request     []byte
	)
	err := s.pool.QueryRow(ctx, `
		SELECT id, patient_id, idempotency_request FROM appointment WHERE idempotency_scope = $1 AND idempotency_key = $2`,
		k.scope, k.key).Scan(&id, &patient, &request)
	if err != nil {
		return Appointment{}, interpretError(err)
	}
	if (request == nil && patient != k.patientID) || (request != nil && !bytes.Equal(request, k.request)) {
		return Appointment{}, errKeyReused
	}
	return appointmentOne(ctx, s.pool, "a.id = $1", id)
}

// tooCloseToADose is checkInterval's rule for a search: true when the
// patient p has an appointment of slot s's service closer to it than the
// service's minimum interval, so booking s would be refused.
const tooCloseToADose = `EXISTS (SELECT 1 FROM appointment da JOIN slot ds ON ds.id = da.slot_id
		 WHERE da.patient_id = p.id AND da.service_code = s.service_code
		   AND da.status IN ('proposed', 'pending', 'booked', 'arrived', 'fulfilled')
		   AND ds.starts_at > s.starts_at - cs.min_interval AND ds.starts_at < s.starts_at + cs.min_interval)`

// checkInterval refuses a booking starting at starts closer than interval to
// another of the patient's bookings of the service (except except).
func checkInterval(ctx context.Context, tx pgx.Tx, patientID, service, except string, starts time.Time, interval time.Duration) error {
	var near bool
	err := tx.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM appointment a JOIN slot s ON s.id = a.slot_id
		 WHERE a.patient_id = $1 AND a.service_code = $2 AND a.id::text <> $3
		   AND a.status IN ('proposed', 'pending', 'booked', 'arrived', 'fulfilled')
		   AND s.starts_at > $4::timestamptz - make_interval(secs => $5) AND s.starts_at < $4::timestamptz + make_interval(secs => $5))`,
		patientID, service, except, starts, interval.Seconds()).Scan(&near)
	if err != nil {
		return err
	}
	if near {
		return refuse("the doses must be at least %d days apart; choose a later time", int(interval.Hours()/24))
	}
	return nil
}

// slotRefusal says why a slot could not take patientID's booking. It runs
// only after the booking's UPDATE took nothing, so the success path pays
// for none of it.
func slotRefusal(ctx context.Context, tx pgx.Tx, slotID, patientID string, now time.Time) error {
	var (
		sl              Slot
		opensAt         *time.Time
		closes          int64
		known, eligible bool
	)
	err := tx.QueryRow(ctx, `
		SELECT s.capacity, s.booked, s.blocked, s.invitation_only, s.starts_at, s.opens_at,
		       extract(epoch FROM s.closes_before)::bigint, s.min_age, p.id IS NOT NULL, coalesce(`+oldEnough+`, false)
		  FROM slot s LEFT JOIN person p ON p.id = $2 WHERE s.id = $1`, slotID, patientID).
		Scan(&sl.Capacity, &sl.Booked, &sl.Blocked, &sl.InvitationOnly, &sl.StartsAt, &opensAt, &closes, &sl.MinAge, &known, &eligible)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	case !known:
		return fmt.Errorf("%w: no such patient", ErrReference)
	case sl.Blocked:
		return refuse("this time is closed for booking; choose another time")
	case sl.InvitationOnly:
		return refuse("this time can only be booked by invitation from the care unit")
	case !sl.StartsAt.After(now):
		return refuse("this time has already passed; choose another time")
	case !eligible:
		return refuse("this time is for people aged %d or older; choose another time", sl.MinAge)
	case opensAt != nil && opensAt.After(now):
		return refuse("booking of this time opens %s", opensAt.In(stockholm).Format("2006-01-02 15:04"))
	case !sl.StartsAt.Add(-time.Duration(closes) * time.Second).After(now):
		return refuse("booking of this time has closed; call the unit or choose another time")
	}
	return ErrSlotFull
}

// AppointmentGet returns one appointment of one of patientIDs, or
// ErrNotFound, also when it exists but is someone else's.
func (s *Store) AppointmentGet(ctx context.Context, id string, patientIDs []string) (Appointment, error) {
	return appointmentOne(ctx, s.pool, "a.id = $1 AND a.patient_id = ANY($2)", id, patientIDs)
}

// AppointmentChange is a cancellation or a rebooking.
type AppointmentChange struct {
	ID string
	// PatientIDs are whose appointments the caller may change; another's is
	// ErrNotFound.
	PatientIDs []string
	// NewSlotID is the slot to move to; empty cancels.
	NewSlotID string
	Now       time.Time
}

// AppointmentCancel cancels an appointment and frees its place in one
// transaction, then runs after. Cancelling a cancelled appointment returns it
// unchanged; a finished one, or one past its cancel deadline, is
// ErrPrecondition with a message for the patient, unless the service takes
// late cancellations: then it is cancelled and flagged late until the start.
func (s *Store) AppointmentCancel(ctx context.Context, c AppointmentChange, after AppointmentAfter) (Appointment, error) {
	var a Appointment
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		a, err = lockAppointment(ctx, tx, c)
		if err != nil || a.Status == StatusCancelled {
			return err
		}
		late := a.Service.LateCancel && c.Now.After(a.CancelBy()) && c.Now.Before(a.StartsAt)
		if err := mayChange(a, c.Now, "cancelled"); err != nil && !late {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE appointment SET status = 'cancelled', late_cancel = $2, updated_at = now(), version = version + 1 WHERE id = $1`,
			a.ID, late); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE slot SET booked = booked - 1, updated_at = now() WHERE id = $1`, a.SlotID); err != nil {
			return err
		}
		a, err = appointmentOne(ctx, tx, "a.id = $1", a.ID)
		if err != nil {
			return err
		}
		tx.appointmentsChanged(a)
		return after(ctx, tx, a)
	})
	return a, interpretError(err)
}

// AppointmentRebook moves an appointment to another slot of the same service
// in one transaction: the new place is taken before the old one is freed, so
// the patient never ends up with neither. Moving to the slot it is in
// returns it unchanged.
func (s *Store) AppointmentRebook(ctx context.Context, c AppointmentChange, after AppointmentAfter) (Appointment, error) {
	var a Appointment
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		a, err = lockAppointment(ctx, tx, c)
		if err != nil || a.SlotID == c.NewSlotID {
			return err
		}
		if err := mayChange(a, c.Now, "rebooked"); err != nil {
			return err
		}
		var starts time.Time
		err = tx.QueryRow(ctx, `
			UPDATE slot s SET booked = s.booked + 1, updated_at = now()
			  FROM person p
			 WHERE s.id = $1 AND s.service_code = $2 AND p.id = $4
			   AND s.booked < s.capacity AND NOT s.blocked AND NOT s.invitation_only
			   AND s.starts_at - s.closes_before > $3 AND (s.opens_at IS NULL OR s.opens_at <= $3)
			   AND `+oldEnough+`
			RETURNING s.starts_at`, c.NewSlotID, a.ServiceCode, c.Now, a.PatientID).Scan(&starts)
		if errors.Is(err, pgx.ErrNoRows) {
			var service string
			if err := tx.QueryRow(ctx, `SELECT service_code FROM slot WHERE id = $1`, c.NewSlotID).Scan(&service); err == nil && service != a.ServiceCode {
				return refuse("the new time is for another service; book it separately")
			}
			return slotRefusal(ctx, tx, c.NewSlotID, a.PatientID, c.Now)
		} else if err != nil {
			return err
		}
		if a.Service.MinInterval > 0 {
			if err := checkInterval(ctx, tx, a.PatientID, a.ServiceCode, a.ID, starts, a.Service.MinInterval); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE slot SET booked = booked - 1, updated_at = now() WHERE id = $1`, a.SlotID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE appointment SET slot_id = $2, status = CASE WHEN status = 'proposed' THEN 'booked' ELSE status END,
			       updated_at = now(), version = version + 1
			 WHERE id = $1`, a.ID, c.NewSlotID); err != nil {
			return err
		}
		a, err = appointmentOne(ctx, tx, "a.id = $1", a.ID)
		if err != nil {
			return err
		}
		tx.appointmentsChanged(a)
		return after(ctx, tx, a)
	})
	return a, interpretError(err)
}

func lockAppointment(ctx context.Context, tx pgx.Tx, c AppointmentChange) (Appointment, error) {
	return appointmentOne(ctx, tx, "a.id = $1 AND a.patient_id = ANY($2) FOR UPDATE OF a", c.ID, c.PatientIDs)
}

// mayChange says why the patient may not cancel or rebook a in the app now.
func mayChange(a Appointment, now time.Time, verb string) error {
	if !a.Active() || a.Status == StatusArrived {
		return refuse("this visit has already taken place or ended and cannot be %s", verb)
	}
	if now.After(a.CancelBy()) {
		hours := int(a.Service.CancelDeadline.Hours())
		return refuse("the visit can be %s in the app until %d hours before it starts; call %s on %s", verb, hours, a.Unit.Name, a.Unit.Phone)
	}
	return nil
}

// CitizenList is a citizen's appointment list as read at one moment.
type CitizenList struct {
	// Person is whose list it is.
	Person       string
	Appointments []Appointment
	// Children are the citizen's children whose appointments the list may
	// hold (those born after the bornAfter it was read with), oldest first,
	// and OldestChildBorn when the first was born, as the read compared it:
	// the list holds as long as bornAfter stays before it.
	Children        []string
	OldestChildBorn time.Time
	// AsOf is the database's clock before the read.
	AsOf time.Time
}

// AppointmentListForCitizen returns the appointments of personID and of
// their children born after bornAfter — only patientID's when it is set —
// changed after since (all when zero), by start time, cancelled ones
// included so an offline copy can drop them. One round trip, with
// statements whose plans are reused.
func (s *Store) AppointmentListForCitizen(ctx context.Context, personID string, bornAfter time.Time, patientID string, since time.Time) (CitizenList, error) {
	var (
		l     = CitizenList{Person: personID}
		only  *string
		after *time.Time
	)
	if patientID != "" {
		only = &patientID
	}
	if !since.IsZero() {
		after = &since
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT statement_timestamp()`).QueryRow(func(row pgx.Row) error { return row.Scan(&l.AsOf) })
	b.Queue(`
		SELECT g.child_id, c.birth_date::timestamptz FROM guardianship g JOIN person c ON c.id = g.child_id
		 WHERE g.guardian_id = $1 AND c.birth_date > $2 ORDER BY c.birth_date, g.child_id`, personID, bornAfter).
		Query(func(rows pgx.Rows) error {
			var (
				child string
				born  time.Time
			)
			_, err := pgx.ForEachRow(rows, []any{&child, &born}, func() error {
				if len(l.Children) == 0 {
					l.OldestChildBorn = born
				}
				l.Children = append(l.Children, child)
				return nil
			})
			return err
		})
	b.Queue(appointmentSelect+`
		 WHERE a.patient_id IN (SELECT $1::uuid UNION ALL
		         SELECT g.child_id FROM guardianship g JOIN person c ON c.id = g.child_id
		          WHERE g.guardian_id = $1 AND c.birth_date > $2)
		   AND ($3::uuid IS NULL OR a.patient_id = $3)
		   AND a.updated_at > coalesce($4::timestamptz, '-infinity')
		 ORDER BY s.starts_at, a.id`, personID, bornAfter, only, after).Query(func(rows pgx.Rows) error {
		var err error
		l.Appointments, err = pgx.CollectRows(rows, scanAppointment)
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return CitizenList{}, interpretError(err)
	}
	return l, nil
}

// AppointmentListByUnit returns a unit's appointments that start in
// [from, to), of one clinician or all (clinicianHSAID ""), cancelled ones
// left out, by start time.
func (s *Store) AppointmentListByUnit(ctx context.Context, unitHSAID, clinicianHSAID string, from, to time.Time) ([]Appointment, error) {
	rows, err := s.pool.Query(ctx, appointmentSelect+`
		 WHERE s.care_unit_hsa_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3 AND a.status <> 'cancelled'
		   AND ($4 = '' OR r.staff_hsa_id = $4)
		 ORDER BY s.starts_at, a.id`, unitHSAID, from, to, clinicianHSAID)
	if err != nil {
		return nil, interpretError(err)
	}
	as, err := pgx.CollectRows(rows, scanAppointment)
	return as, interpretError(err)
}

// Invitation is a clinician's booking of a patient at a time of their own.
type Invitation struct {
	PatientID, UnitHSAID, ServiceCode string
	StaffHSAID, StaffName, Profession string
	StartsAt, EndsAt                  time.Time
	// Proposed asks the patient to confirm; otherwise the time is booked.
	Proposed       bool
	Instructions   string
	IdempotencyKey string
}

// key is inv's idempotency key in its scope, the clinician at the unit,
// with what was asked.
func (inv Invitation) key() idempotency {
	return idempotency{
		scope: "staff:" + inv.StaffHSAID + "@" + inv.UnitHSAID, key: inv.IdempotencyKey, patientID: inv.PatientID,
		request: requestHash("invite", inv.PatientID, inv.ServiceCode, inv.StartsAt.UTC().Format(time.RFC3339Nano),
			inv.EndsAt.UTC().Format(time.RFC3339Nano), strconv.FormatBool(inv.Proposed), inv.Instructions, inv.Profession),
	}
}

// invitationByKey is appointmentByKey for inv, while the appointment is at
// inv's unit: a patient may have rebooked it elsewhere since, and where is
// not the inviting unit's to read.
func (s *Store) invitationByKey(ctx context.Context, inv Invitation, k idempotency) (Appointment, error) {
	a, err := s.appointmentByKey(ctx, k)
	if err == nil && a.Unit.HSAID != inv.UnitHSAID {
		return Appointment{}, refuse("the appointment made with this idempotency key has been rebooked to another unit; make a new key for a new invitation")
	}
	return a, err
}

// AppointmentInvite creates, in one transaction, the clinician's slot (a
// time of theirs that no other of their slots overlaps), the patient's
// appointment in it, and runs after. A repeat of a request (the same
// clinician at the same unit, key, patient, time and text) returns the
// appointment it made with created false; the key used for another of the
// clinician's requests at the unit is ErrPrecondition.
func (s *Store) AppointmentInvite(ctx context.Context, inv Invitation, after AppointmentAfter) (a Appointment, created bool, err error) {
	// Looked up first: a retry would otherwise be refused for overlapping
	// the clinician's time it booked.
	k := inv.key()
	if a, err := s.invitationByKey(ctx, inv, k); !errors.Is(err, ErrNotFound) {
		return a, false, err
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		var resource string
		err := upsertClinician(ctx, tx, inv.UnitHSAID, inv.StaffHSAID, inv.StaffName, inv.Profession).Scan(&resource)
		if err != nil {
			return err
		}
		var slot string
		err = tx.QueryRow(ctx, `
			INSERT INTO slot (care_unit_hsa_id, service_code, resource_id, starts_at, ends_at, capacity, booked, invitation_only, created_by)
			VALUES ($1, $2, $3, $4, $5, 1, 1, true, $6) RETURNING id`,
			inv.UnitHSAID, inv.ServiceCode, resource, inv.StartsAt, inv.EndsAt, "staff:"+inv.StaffHSAID).Scan(&slot)
		if err != nil {
			return err
		}
		status := StatusBooked
		if inv.Proposed {
			status = StatusProposed
		}
		var id string
		err = tx.QueryRow(ctx, `
			INSERT INTO appointment (patient_id, slot_id, service_code, exclusive, status, idempotency_key, idempotency_scope,
			                         idempotency_request, created_by, instructions)
			SELECT $1, $2, code, exclusive, $3, $4, $5, $6, $7, CASE WHEN $8 = '' THEN instructions_sv ELSE $8 END
			  FROM care_service WHERE code = $9
			RETURNING id`, inv.PatientID, slot, status, k.key, k.scope, k.request, "staff:"+inv.StaffHSAID, inv.Instructions,
			inv.ServiceCode).Scan(&id)
		if err != nil {
			return err
		}
		a, err = appointmentOne(ctx, tx, "a.id = $1", id)
		if err != nil {
			return err
		}
		tx.appointmentsChanged(a)
		return after(ctx, tx, a)
	})
	if err != nil {
		// A concurrent repeat fails on the time its first request took, or
		// on the key's unique index; it answers as the first did.
		if first, kerr := s.invitationByKey(ctx, inv, k); !errors.Is(kerr, ErrNotFound) {
			return first, false, kerr
		}
	}
	switch constraintOf(err) {
	case "appointment_one_active_idx":
		return Appointment{}, false, ErrOneActive
	case "slot_no_overlap":
		return Appointment{}, false, refuse("you already have another time booked that overlaps this one")
	}
	if err != nil {
		return Appointment{}, false, interpretError(err)
	}
	return a, true, nil
}

// GuardiansOf returns who acts for childID: the guardians, if the child was
// born after bornAfter (under the guardian age limit); otherwise none.
func (s *Store) GuardiansOf(ctx context.Context, childID string, bornAfter time.Time) ([]string, error) {
	return guardiansOf(ctx, s.pool, childID, bornAfter)
}

// GuardiansOf is Store.GuardiansOf read in the transaction.
func (t *Tx) GuardiansOf(ctx context.Context, childID string, bornAfter time.Time) ([]string, error) {
	return guardiansOf(ctx, t, childID, bornAfter)
}

func guardiansOf(ctx context.Context, q querier, childID string, bornAfter time.Time) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT g.guardian_id FROM guardianship g JOIN person c ON c.id = g.child_id
		 WHERE g.child_id = $1 AND c.birth_date > $2 ORDER BY g.guardian_id`, childID, bornAfter)
	if err != nil {
		return nil, interpretError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, interpretError(err)
}
