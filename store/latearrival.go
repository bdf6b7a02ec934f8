package store

import (
	"context"
	"time"
)

// LateReportFrom is how long before the start a patient may say they will
// be late: a report days ahead would only be stale on the day.
const LateReportFrom = 24 * time.Hour

// LateReport is a patient's (or guardian's) word that they will be late.
type LateReport struct {
	ID string
	// PatientIDs are whose appointments the caller may report for; another's
	// is ErrNotFound.
	PatientIDs []string
	// Minutes is how late; zero takes an earlier report back.
	Minutes int
	Now     time.Time
}

// AppointmentReportLate records how late the patient will be, for the unit's
// schedule and, in the same transaction, as a staff notice, on a visit that
// has not been cancelled or ended and that starts within LateReportFrom or
// is under way (by its expected start). Reporting the minutes already
// recorded returns the appointment unchanged, with no notice. Anything else
// is ErrPrecondition with a message for the patient.
func (s *Store) AppointmentReportLate(ctx context.Context, r LateReport) (Appointment, error) {
	var a Appointment
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		a, err = lockAppointment(ctx, tx, AppointmentChange{ID: r.ID, PatientIDs: r.PatientIDs})
		if err != nil {
			return err
		}
		if err := mayReportLate(a, r.Now); err != nil || a.PatientLateMinutes == r.Minutes {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE appointment SET patient_late_minutes = $2, updated_at = now(), version = version + 1
			 WHERE id = $1`, a.ID, r.Minutes); err != nil {
			return err
		}
		a, err = appointmentOne(ctx, tx, "a.id = $1", a.ID)
		if err != nil {
			return err
		}
		tx.appointmentsChanged(a)
		return staffNoticeInsert(ctx, tx, a, StaffNoticePatientLate, r.Minutes, "")
	})
	return a, interpretError(err)
}

// mayReportLate says why the patient cannot report being late to a now.
func mayReportLate(a Appointment, now time.Time) error {
	switch a.Status {
	case StatusCancelled:
		return refuse("this time has been cancelled")
	case StatusArrived:
		return refuse("you are already registered as arrived for this visit")
	case StatusFulfilled, StatusNoShow:
		return refuse("this visit has already ended")
	}
	if opens := a.StartsAt.Add(-LateReportFrom); now.Before(opens) {
		return refuse("you can say you will be late from %d hours before the visit, that is from %s", int(LateReportFrom.Hours()), opens.In(stockholm).Format("2006-01-02 15:04"))
	}
	if !now.Before(a.ExpectedStart().Add(a.EndsAt.Sub(a.StartsAt))) {
		return refuse("the time of this visit has passed; contact %s on %s", a.Unit.Name, a.Unit.Phone)
	}
	return nil
}
