package server

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/store"
)

// defaultUnitNoticePage is how many notices ListUnitNotices returns when
// the request leaves page_size at zero; validation caps it at 500.
const defaultUnitNoticePage = 100

var unitNoticeKinds = map[string]appointmentv1.UnitNoticeKind{
	store.StaffNoticePatientLate:  appointmentv1.UnitNoticeKind_UNIT_NOTICE_KIND_PATIENT_LATE,
	store.StaffNoticeConfirmed:    appointmentv1.UnitNoticeKind_UNIT_NOTICE_KIND_INVITATION_CONFIRMED,
	store.StaffNoticeDeclined:     appointmentv1.UnitNoticeKind_UNIT_NOTICE_KIND_INVITATION_DECLINED,
	store.StaffNoticeAskOtherTime: appointmentv1.UnitNoticeKind_UNIT_NOTICE_KIND_INVITATION_ASK_OTHER_TIME,
}

// ListUnitNotices lists what patients told the unit after the caller's
// cursor; each patient named is access-logged.
func (s *scheduleService) ListUnitNotices(ctx context.Context, req *appointmentv1.ListUnitNoticesRequest) (*appointmentv1.ListUnitNoticesResponse, error) {
	p, _ := access.FromContext(ctx)
	if err := withinUnit(p, req.UnitHsaId); err != nil {
		return nil, err
	}
	size := int(req.PageSize)
	if size == 0 {
		size = defaultUnitNoticePage
	}
	ns, err := s.store.StaffNoticeList(ctx, req.UnitHsaId, req.ClinicianHsaId, req.After, size)
	if err != nil {
		return nil, err
	}
	patients := make([]string, len(ns))
	for i, n := range ns {
		patients[i] = n.PatientID
	}
	if err := s.logPatients(ctx, p, patients, "read unit notices"); err != nil {
		return nil, err
	}
	res := &appointmentv1.ListUnitNoticesResponse{NextAfter: req.After}
	for _, n := range ns {
		res.Notices = append(res.Notices, &appointmentv1.UnitNotice{
			Id: n.ID, AppointmentId: n.AppointmentID, Kind: unitNoticeKinds[n.Kind],
			PatientName: strings.TrimSpace(n.PatientGivenName + " " + n.PatientSurname),
			StartTime:   timestamppb.New(n.StartsAt), Minutes: int32(n.Minutes), Message: n.Message,
			CreateTime: timestamppb.New(n.CreatedAt), Seq: n.Seq,
		})
		res.NextAfter = n.Seq
	}
	return res, nil
}
