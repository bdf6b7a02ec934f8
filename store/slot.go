package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ResourceList returns a unit's clinicians, rooms, video rooms and lanes.
func (s *Store) ResourceList(ctx context.Context, unitHSAID string) ([]Resource, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, care_unit_hsa_id, kind, name, coalesce(staff_hsa_id, ''), profession
		  FROM resource WHERE care_unit_hsa_id = $1 ORDER BY kind, name, id`, unitHSAID)
	if err != nil {
		return nil, interpretError(err)
	}
	rs, err := pgx.CollectRows(rows, scanResource)
	return rs, interpretError(err)
}

func scanResource(row pgx.CollectableRow) (Resource, error) {
	var r Resource
	err := row.Scan(&r.ID, &r.CareUnitHSAID, &r.Kind, &r.Name, &r.StaffHSAID, &r.Profession)
	return r, err
}

// ResourceGet returns a resource of the unit, or ErrNotFound.
func (s *Store) ResourceGet(ctx context.Context, unitHSAID, id string) (Resource, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, care_unit_hsa_id, kind, name, coalesce(staff_hsa_id, ''), profession
		  FROM resource WHERE care_unit_hsa_id = $1 AND id = $2`, unitHSAID, id)
	if err != nil {
		return Resource{}, interpretError(err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanResource)
	return r, interpretError(err)
}

// ResourceCreate adds a room, video room or lane to a unit. An unknown unit
// is ErrReference.
func (s *Store) ResourceCreate(ctx context.Context, r Resource) (Resource, error) {
	rows, err := s.pool.Query(ctx, `
		INSERT INTO resource (care_unit_hsa_id, kind, name) VALUES ($1, $2, $3)
		RETURNING id, care_unit_hsa_id, kind, name, coalesce(staff_hsa_id, ''), profession`,
		r.CareUnitHSAID, r.Kind, r.Name)
	if err != nil {
		return Resource{}, interpretError(err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanResource)
	return out, interpretError(err)
}

// ResourceForStaff returns the clinician's resource at the unit, made or
// renamed as needed. An empty profession keeps the one recorded.
func (s *Store) ResourceForStaff(ctx context.Context, unitHSAID, staffHSAID, name, profession string) (string, error) {
	var id string
	err := upsertClinician(ctx, s.pool, unitHSAID, staffHSAID, name, profession).Scan(&id)
	return id, interpretError(err)
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func upsertClinician(ctx context.Context, q rowQuerier, unitHSAID, staffHSAID, name, profession string) pgx.Row {
	return q.QueryRow(ctx, `
		INSERT INTO resource (care_unit_hsa_id, kind, name, staff_hsa_id, profession)
		VALUES ($1, 'clinician', $2, $3, $4)
		ON CONFLICT (care_unit_hsa_id, staff_hsa_id) DO UPDATE SET name = $2,
			profession = CASE WHEN $4 = '' THEN resource.profession ELSE $4 END
		RETURNING id`, unitHSAID, name, staffHSAID, profession)
}

const slotColumns = `
	s.id, s.care_unit_hsa_id, s.service_code, s.starts_at, s.ends_at, s.capacity, s.booked, s.invitation_only,
	s.blocked, s.created_by, coalesce(s.resource_id::text, ''), s.opens_at, extract(epoch FROM s.closes_before)::bigint, s.min_age,
	coalesce(r.kind, ''), coalesce(r.name, ''), coalesce(r.staff_hsa_id, ''), coalesce(r.profession, '')`

func scanSlotFull(row pgx.CollectableRow) (Slot, error) {
	var (
		sl     Slot
		opens  *time.Time
		closes int64
	)
	err := row.Scan(&sl.ID, &sl.CareUnitHSAID, &sl.ServiceCode, &sl.StartsAt, &sl.EndsAt, &sl.Capacity, &sl.Booked,
		&sl.InvitationOnly, &sl.Blocked, &sl.CreatedBy, &sl.ResourceID, &opens, &closes, &sl.MinAge,
		&sl.Resource.Kind, &sl.Resource.Name, &sl.Resource.StaffHSAID, &sl.Resource.Profession)
	if opens != nil {
		sl.OpensAt = *opens
	}
	sl.ClosesBefore = time.Duration(closes) * time.Second
	sl.Resource.ID, sl.Resource.CareUnitHSAID = sl.ResourceID, sl.CareUnitHSAID
	return sl, err
}

// SlotList returns a unit's slots starting in [from, to), of one service
// or all (service ""), by start time, at most limit.
func (s *Store) SlotList(ctx context.Context, unitHSAID, service string, from, to time.Time, limit int) ([]Slot, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+slotColumns+`
		  FROM slot s LEFT JOIN resource r ON r.id = s.resource_id
		 WHERE s.care_unit_hsa_id = $1 AND ($2 = '' OR s.service_code = $2) AND s.starts_at >= $3 AND s.starts_at < $4
		 ORDER BY s.starts_at, s.id LIMIT $5`, unitHSAID, service, from, to, limit)
	if err != nil {
		return nil, interpretError(err)
	}
	out, err := pgx.CollectRows(rows, scanSlotFull)
	return out, interpretError(err)
}

// lockSlots locks the unit's slots ids, all or ErrNotFound.
func lockSlots(ctx context.Context, tx pgx.Tx, unitHSAID string, ids []string) ([]Slot, error) {
	rows, err := tx.Query(ctx, `SELECT `+slotColumns+`
		  FROM slot s LEFT JOIN resource r ON r.id = s.resource_id
		 WHERE s.care_unit_hsa_id = $1 AND s.id = ANY($2)
		 ORDER BY s.id FOR UPDATE OF s`, unitHSAID, ids)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, scanSlotFull)
	if err != nil {
		return nil, err
	}
	if len(out) != len(ids) {
		return nil, fmt.Errorf("%w: %d of the %d slots are not the unit's", ErrNotFound, len(ids)-len(out), len(ids))
	}
	return out, nil
}

func reloadSlots(ctx context.Context, tx pgx.Tx, ids []string) ([]Slot, error) {
	rows, err := tx.Query(ctx, `SELECT `+slotColumns+`
		  FROM slot s LEFT JOIN resource r ON r.id = s.resource_id
		 WHERE s.id = ANY($1) ORDER BY s.starts_at, s.id`, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanSlotFull)
}

// SlotChange is a unit's change to some of its slots: exactly one of Block,
// Unblock or Window.
type SlotChange struct {
	UnitHSAID string
	IDs       []string
	Block     bool
	// CancelBooked lets Block cancel the active appointments in the slots.
	CancelBooked bool
	Unblock      bool
	Window       *BookingWindow
}

// BookingWindow is when citizens may book: from OpensAt (zero: now) until
// ClosesBefore the start.
type BookingWindow struct {
	OpensAt      time.Time
	ClosesBefore time.Duration
}

// SlotsChange applies c in one transaction. Blocking slots with active
// appointments is ErrPrecondition unless c.CancelBooked; then they are
// cancelled by the unit, and after runs with them (to tell the patients and
// drop their reminders) in the same transaction. Slots not the unit's are
// ErrNotFound.
func (s *Store) SlotsChange(ctx context.Context, c SlotChange, after func(ctx context.Context, tx *Tx, cancelled []Appointment) error) (slots []Slot, cancelled []Appointment, err error) {
	err = s.inTx(ctx, func(tx *Tx) error {
		locked, err := lockSlots(ctx, tx, c.UnitHSAID, c.IDs)
		if err != nil {
			return err
		}
		switch {
		case c.Block:
			booked := 0
			for _, sl := range locked {
				booked += sl.Booked
			}
			if booked > 0 && !c.CancelBooked {
				return refuse("%d booked appointments are in these times; move the times, or block with cancel_booked to cancel them and tell the patients", booked)
			}
			cancelled, err = cancelInSlots(ctx, tx, c.IDs)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE slot SET blocked = true, updated_at = now() WHERE id = ANY($1)`, c.IDs); err != nil {
				return err
			}
		case c.Unblock:
			if _, err := tx.Exec(ctx, `UPDATE slot SET blocked = false, updated_at = now() WHERE id = ANY($1)`, c.IDs); err != nil {
				return err
			}
		case c.Window != nil:
			var opens *time.Time
			if !c.Window.OpensAt.IsZero() {
				opens = &c.Window.OpensAt
			}
			if _, err := tx.Exec(ctx, `
				UPDATE slot SET opens_at = $2, closes_before = make_interval(secs => $3), updated_at = now() WHERE id = ANY($1)`,
				c.IDs, opens, c.Window.ClosesBefore.Seconds()); err != nil {
				return err
			}
		default:
			return errors.New("store: SlotsChange without a change")
		}
		if slots, err = reloadSlots(ctx, tx, c.IDs); err != nil {
			return err
		}
		if len(cancelled) > 0 {
			tx.appointmentsChanged(cancelled...)
			return after(ctx, tx, cancelled)
		}
		return nil
	})
	return slots, cancelled, interpretError(err)
}

// cancelInSlots cancels the active, not yet arrived appointments in the
// slots on the unit's behalf and frees their places.
func cancelInSlots(ctx context.Context, tx pgx.Tx, slotIDs []string) ([]Appointment, error) {
	rows, err := tx.Query(ctx, `
		UPDATE appointment SET status = 'cancelled', cancelled_by_unit = true, updated_at = now(), version = version + 1
		 WHERE slot_id = ANY($1) AND status IN ('proposed', 'pending', 'booked')
		RETURNING id`, slotIDs)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `
		UPDATE slot s SET booked = s.booked - c.n, updated_at = now()
		  FROM (SELECT slot_id, count(*)::int AS n FROM appointment WHERE id = ANY($1) GROUP BY slot_id) c
		 WHERE s.id = c.slot_id`, ids); err != nil {
		return nil, err
	}
	return appointmentsByID(ctx, tx, ids)
}

func appointmentsByID(ctx context.Context, tx pgx.Tx, ids []string) ([]Appointment, error) {
	rows, err := tx.Query(ctx, appointmentSelect+` WHERE a.id = ANY($1) ORDER BY s.starts_at, a.id`, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanAppointment)
}

// SlotMove moves one of the unit's slots to start at starts, keeping its
// length, in one transaction; its active appointments get a new version and
// after runs with them. A time that overlaps another slot of the same lane
// or clinician, or that would come before a booked patient is old enough
// for the slot's age group, is ErrPrecondition.
func (s *Store) SlotMove(ctx context.Context, unitHSAID, id string, starts time.Time, after func(ctx context.Context, tx *Tx, moved []Appointment) error) (slot Slot, moved []Appointment, err error) {
	err = s.inTx(ctx, func(tx *Tx) error {
		locked, err := lockSlots(ctx, tx, unitHSAID, []string{id})
		if err != nil {
			return err
		}
		if locked[0].StartsAt.Equal(starts) {
			slot = locked[0]
			return nil
		}
		if _, err := tx.Exec(ctx, `
			UPDATE slot SET starts_at = $2, ends_at = $2::timestamptz + (ends_at - starts_at), updated_at = now() WHERE id = $1`,
			id, starts); err != nil {
			return err
		}
		// A time for an age group moved earlier may come before a booked
		// patient reaches the age.
		var young int
		if err := tx.QueryRow(ctx, `
			SELECT count(*) FROM slot s JOIN appointment a ON a.slot_id = s.id JOIN person p ON p.id = a.patient_id
			 WHERE s.id = $1 AND a.status IN ('proposed', 'pending', 'booked') AND NOT `+oldEnough, id).Scan(&young); err != nil {
			return err
		}
		if young > 0 {
			return refuse("%d booked patients would be younger than the time's age group (%d) on the new day; cancel their times or choose another day", young, locked[0].MinAge)
		}
		rows, err := tx.Query(ctx, `
			UPDATE appointment SET updated_at = now(), version = version + 1, delay_minutes = 0
			 WHERE slot_id = $1 AND status IN ('proposed', 'pending', 'booked')
			RETURNING id`, id)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if moved, err = appointmentsByID(ctx, tx, ids); err != nil {
			return err
		}
		reloaded, err := reloadSlots(ctx, tx, []string{id})
		if err != nil {
			return err
		}
		slot = reloaded[0]
		if len(moved) > 0 {
			tx.appointmentsChanged(moved...)
			return after(ctx, tx, moved)
		}
		return nil
	})
	if constraintOf(err) == "slot_no_overlap" {
		return Slot{}, nil, refuse("the new time overlaps another slot of the same lane or clinician")
	}
	return slot, moved, interpretError(err)
}

// AppointmentsDelay sets how many minutes late the unit runs for some of its
// appointments, in one transaction, and runs after with them. Appointments
// not at the unit are ErrNotFound; finished or cancelled ones
// ErrPrecondition.
func (s *Store) AppointmentsDelay(ctx context.Context, unitHSAID string, ids []string, minutes int, after func(ctx context.Context, tx *Tx, as []Appointment) error) ([]Appointment, error) {
	var as []Appointment
	err := s.inTx(ctx, func(tx *Tx) error {
		locked, err := lockUnitAppointments(ctx, tx, unitHSAID, ids)
		if err != nil {
			return err
		}
		for _, a := range locked {
			if a.Status != StatusBooked && a.Status != StatusArrived {
				return refuse("the appointment at %s is %s; only booked visits can run late",
					a.StartsAt.In(stockholm).Format("15:04"), a.Status)
			}
		}
		if _, err := tx.Exec(ctx, `
			UPDATE appointment SET delay_minutes = $2, updated_at = now(), version = version + 1
			 WHERE id = ANY($1) AND delay_minutes <> $2`, ids, minutes); err != nil {
			return err
		}
		if as, err = appointmentsByID(ctx, tx, ids); err != nil {
			return err
		}
		tx.appointmentsChanged(as...)
		return after(ctx, tx, as)
	})
	return as, interpretError(err)
}

// lockUnitAppointments locks the appointments ids at the unit, all or
// ErrNotFound.
func lockUnitAppointments(ctx context.Context, tx pgx.Tx, unitHSAID string, ids []string) ([]Appointment, error) {
	rows, err := tx.Query(ctx, appointmentSelect+`
		 WHERE a.id = ANY($1) AND s.care_unit_hsa_id = $2 ORDER BY a.id FOR UPDATE OF a`, ids, unitHSAID)
	if err != nil {
		return nil, err
	}
	as, err := pgx.CollectRows(rows, scanAppointment)
	if err != nil {
		return nil, err
	}
	if len(as) != len(ids) {
		return nil, fmt.Errorf("%w: %d of the appointments are not at this unit", ErrNotFound, len(ids)-len(as))
	}
	return as, nil
}

// arrivalEarliest is how long before the start a patient can be checked in.
const arrivalEarliest = 2 * time.Hour

// AppointmentSetArrival records what happened at the unit's appointment:
// "arrived", "fulfilled" or "noshow", in one transaction with after. Setting
// the state it has returns it unchanged with changed false.
func (s *Store) AppointmentSetArrival(ctx context.Context, unitHSAID, id, status string, now time.Time, after AppointmentAfter) (a Appointment, changed bool, err error) {
	err = s.inTx(ctx, func(tx *Tx) error {
		locked, err := lockUnitAppointments(ctx, tx, unitHSAID, []string{id})
		if err != nil {
			return err
		}
		a = locked[0]
		if a.Status == status {
			return nil
		}
		if err := mayArrive(a, status, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE appointment SET status = $2, updated_at = now(), version = version + 1 WHERE id = $1`, id, status); err != nil {
			return err
		}
		if a, err = appointmentOne(ctx, tx, "a.id = $1", id); err != nil {
			return err
		}
		changed = true
		tx.appointmentsChanged(a)
		return after(ctx, tx, a)
	})
	return a, changed, interpretError(err)
}

// mayArrive says why a cannot move to status now.
func mayArrive(a Appointment, status string, now time.Time) error {
	at := a.StartsAt.In(stockholm).Format("2006-01-02 15:04")
	switch {
	case a.Status != StatusBooked && a.Status != StatusArrived:
		return refuse("the appointment at %s is %s; only a booked visit can be checked in or closed", at, a.Status)
	case status == StatusArrived && now.Before(a.StartsAt.Add(-arrivalEarliest)):
		return refuse("the appointment at %s cannot be checked in more than %d hours before it starts", at, int(arrivalEarliest.Hours()))
	case status == StatusArrived && a.Status == StatusArrived:
		return nil
	case status == StatusNoShow && a.Status == StatusArrived:
		return refuse("the patient has arrived; mark the visit fulfilled instead")
	case (status == StatusNoShow || status == StatusFulfilled) && now.Before(a.StartsAt):
		return refuse("the appointment at %s has not started yet", at)
	}
	return nil
}
