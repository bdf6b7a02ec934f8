package store

import (
	"context"
	"fmt"
	"time"
)

// InvitationAnswer is a patient's (or guardian's) answer to an invitation.
type InvitationAnswer struct {
	ID string
	// PatientIDs are whose appointments the caller may answer for; another's
	// is ErrNotFound.
	PatientIDs []string
	// Response is ResponseConfirm, ResponseDecline or ResponseAskOther.
	Response string
	// Message is shown to the unit, such as which times suit better.
	Message string
	Now     time.Time
}

// answerStatus is the status each answer leaves the appointment in.
var answerStatus = map[string]string{
	ResponseConfirm:  StatusBooked,
	ResponseDecline:  StatusCancelled,
	ResponseAskOther: StatusPending,
}

// AppointmentRespond records the answer to a proposed (or pending)
// appointment, and a staff notice of it, in one transaction, then runs
// after: a confirmed time is booked, a declined one cancelled and its place
// freed, and asking for another time leaves it pending with the message for
// the unit. Giving the same answer with the same message again returns the
// appointment unchanged, without a notice or running after. An appointment
// that is not awaiting an answer is ErrPrecondition with a message for the
// patient.
func (s *Store) AppointmentRespond(ctx context.Context, r InvitationAnswer, after AppointmentAfter) (Appointment, error) {
	status, ok := answerStatus[r.Response]
	if !ok {
		return Appointment{}, fmt.Errorf("store: unknown invitation response %q", r.Response)
	}
	var a Appointment
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		a, err = lockAppointment(ctx, tx, AppointmentChange{ID: r.ID, PatientIDs: r.PatientIDs})
		if err != nil {
			return err
		}
		if a.InvitationResponse == r.Response && a.Status == status && a.PatientMessage == r.Message {
			return nil
		}
		if err := mayRespond(a, r.Now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE appointment SET status = $2, invitation_response = $3, patient_message = $4,
			       updated_at = now(), version = version + 1
			 WHERE id = $1`, a.ID, status, r.Response, r.Message); err != nil {
			return err
		}
		if status == StatusCancelled {
			if _, err := tx.Exec(ctx, `UPDATE slot SET booked = booked - 1, updated_at = now() WHERE id = $1`, a.SlotID); err != nil {
				return err
			}
		}
		a, err = appointmentOne(ctx, tx, "a.id = $1", a.ID)
		if err != nil {
			return err
		}
		if err := staffNoticeInsert(ctx, tx, a, answerNotice[r.Response], 0, r.Message); err != nil {
			return err
		}
		tx.appointmentsChanged(a)
		return after(ctx, tx, a)
	})
	return a, interpretError(err)
}

// mayRespond says why a's invitation cannot be answered now.
func mayRespond(a Appointment, now time.Time) error {
	switch {
	case a.Responds(now):
		return nil
	case a.Status == StatusBooked && a.InvitationResponse == ResponseConfirm:
		return refuse("you have already confirmed this time; to change it, cancel or rebook it")
	case a.Status == StatusBooked:
		return refuse("this time is already booked and needs no answer; to change it, cancel or rebook it")
	case a.Status == StatusCancelled:
		return refuse("this time has been cancelled; book a new time or contact %s", a.Unit.Name)
	case a.Status == StatusProposed || a.Status == StatusPending:
		// The time has come.
		return refuse("the time of this invitation has passed; contact %s on %s", a.Unit.Name, a.Unit.Phone)
	}
	return refuse("this visit has already taken place or ended")
}
