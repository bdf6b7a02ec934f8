package appointment

import (
	"context"

	"github.com/nara-care/nara/access"
	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// invitationAnswers maps a validated answer; validation has refused
// INVITATION_RESPONSE_UNSPECIFIED and unknown values.
var invitationAnswers = map[appointmentv1.InvitationResponse]string{
	appointmentv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM:        store.ResponseConfirm,
	appointmentv1.InvitationResponse_INVITATION_RESPONSE_DECLINE:        store.ResponseDecline,
	appointmentv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME: store.ResponseAskOther,
}

// RespondToInvitation records the patient's answer to an invitation; the
// unit sees it, and any message, on the appointment in its schedule and as
// a notice (ListUnitNotices).
func (s *appointmentService) RespondToInvitation(ctx context.Context, req *appointmentv1.RespondToInvitationRequest) (*appointmentv1.RespondToInvitationResponse, error) {
	p, _ := access.FromContext(ctx)
	patients, err := s.patients(ctx, p)
	if err != nil {
		return nil, err
	}
	a, err := s.store.AppointmentRespond(ctx, store.InvitationAnswer{
		ID: req.AppointmentId, PatientIDs: patients, Response: invitationAnswers[req.Response], Message: req.Message, Now: s.now(),
	}, func(ctx context.Context, tx *store.Tx, a store.Appointment) error {
		// Declined or waiting for another time: no reminders of this one.
		// Confirmed: reminders anew, as asking for another time had
		// cancelled them.
		if err := s.notify.CancelReminders(ctx, tx, a.ID); err != nil || a.Status != store.StatusBooked {
			return err
		}
		to, err := recipients(ctx, tx, s.custody, a.PatientID)
		if err != nil {
			return err
		}
		return reminders(ctx, tx, s.notify, a, to)
	})
	if err != nil {
		return nil, rpc.NotFoundAs(err, "you have no appointment %q", req.AppointmentId)
	}
	return &appointmentv1.RespondToInvitationResponse{Appointment: appointmentToProto(a, s.now())}, nil
}
