package appointment

import (
	"context"

	"github.com/nara-care/nara/access"
	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// ReportLate records how late the patient will be; the unit sees it in its
// schedule (ListUnitSchedule) and as a notice (ListUnitNotices), the app on
// the appointment.
func (s *appointmentService) ReportLate(ctx context.Context, req *appointmentv1.ReportLateRequest) (*appointmentv1.ReportLateResponse, error) {
	p, _ := access.FromContext(ctx)
	patients, err := s.patients(ctx, p)
	if err != nil {
		return nil, err
	}
	a, err := s.store.AppointmentReportLate(ctx, store.LateReport{
		ID: req.AppointmentId, PatientIDs: patients, Minutes: int(req.Minutes), Now: s.now(),
	})
	if err != nil {
		return nil, rpc.NotFoundAs(err, "you have no appointment %q", req.AppointmentId)
	}
	return &appointmentv1.ReportLateResponse{Appointment: appointmentToProto(a, s.now())}, nil
}
