package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kinds of staff notice: what a patient told the unit.
const (
	StaffNoticePatientLate  = "patient_late"
	StaffNoticeConfirmed    = "invitation_confirmed"
	StaffNoticeDeclined     = "invitation_declined"
	StaffNoticeAskOtherTime = "invitation_ask_other_time"
)

// answerNotice is the notice each answer to an invitation gives the unit.
var answerNotice = map[string]string{
	ResponseConfirm:  StaffNoticeConfirmed,
	ResponseDecline:  StaffNoticeDeclined,
	ResponseAskOther: StaffNoticeAskOtherTime,
}

// StaffNotice is something a patient (or guardian) told the unit about an
// appointment, as the unit's tablet lists it.
type StaffNotice struct {
	ID            string
	AppointmentID string
	// Seq orders a unit's notices; it is the cursor to read on from.
	Seq int64
	// Kind is one of the StaffNotice kinds.
	Kind string
	// StaffHSAID is the clinician whose time it is; empty for a room's or
	// lane's, which are the whole unit's.
	StaffHSAID string
	// Minutes is how late the patient will be (zero: no longer late).
	Minutes int
	// Message is what the patient wrote with an answer.
	Message   string
	CreatedAt time.Time
	// StartsAt is the appointment's start as it is now.
	StartsAt                                    time.Time
	PatientID, PatientGivenName, PatientSurname string
}

// staffNoticeInsert tells a's unit in tx what its patient said. Writers of
// one unit's notices take turns until they commit, so that the unit's seqs
// commit in order and a reader's cursor never passes one still to come.
func staffNoticeInsert(ctx context.Context, tx pgx.Tx, a Appointment, kind string, minutes int, message string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('staff_notice'), hashtext($1))`, a.Unit.HSAID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO staff_notice (care_unit_hsa_id, staff_hsa_id, appointment_id, kind, minutes, message)
		VALUES ($1, nullif($2, ''), $3, $4, $5, $6)`,
		a.Unit.HSAID, a.ClinicianHSAID, a.ID, kind, minutes, message)
	return err
}

// StaffNoticeList returns up to limit of a unit's notices after the cursor
// afterSeq, oldest first: all of them, or only those for clinicianHSAID's
// times when it is set.
func (s *Store) StaffNoticeList(ctx context.Context, unitHSAID, clinicianHSAID string, afterSeq int64, limit int) ([]StaffNotice, error) {
	// Each filter is a statement of its own, so each gets the plan of its index.
	args := []any{unitHSAID, afterSeq, limit}
	where := "n.care_unit_hsa_id = $1 AND n.seq > $2"
	if clinicianHSAID != "" {
		args = append(args, clinicianHSAID)
		where += " AND n.staff_hsa_id = $4"
	}
	rows, err := s.pool.Query(ctx, `
		SELECT n.id, n.appointment_id, n.seq, n.kind, coalesce(n.staff_hsa_id, ''), n.minutes, n.message, n.created_at,
		       s.starts_at, a.patient_id, p.given_name, p.surname
		  FROM staff_notice n
		  JOIN appointment a ON a.id = n.appointment_id
		  JOIN slot s ON s.id = a.slot_id
		  JOIN person p ON p.id = a.patient_id
		 WHERE `+where+`
		 ORDER BY n.seq
		 LIMIT $3`, args...)
	if err != nil {
		return nil, interpretError(err)
	}
	ns, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StaffNotice, error) {
		var n StaffNotice
		err := row.Scan(&n.ID, &n.AppointmentID, &n.Seq, &n.Kind, &n.StaffHSAID, &n.Minutes, &n.Message, &n.CreatedAt,
			&n.StartsAt, &n.PatientID, &n.PatientGivenName, &n.PatientSurname)
		return n, err
	})
	return ns, interpretError(err)
}
