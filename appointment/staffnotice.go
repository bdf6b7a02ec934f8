package appointment

import (
	"context"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// defaultUnitNoticePage is how many notices ListUnitNotices returns when
// the request leaves page_size at zero; validation caps it at 500. A
// WatchUnitNotices stream sends its backlog in pages of this size too.
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
	size := int(req.PageSize)
	if size == 0 {
		size = defaultUnitNoticePage
	}
	notices, next, err := s.unitNotices(ctx, p, req.UnitHsaId, req.ClinicianHsaId, req.After, size)
	if err != nil {
		return nil, err
	}
	return &appointmentv1.ListUnitNoticesResponse{Notices: notices, NextAfter: next}, nil
}

// unitNotices reads up to limit of a unit's notices after the cursor
// after (one clinician's only, when clinician is set), access-logs each
// patient named for p, and returns them with the cursor to read on from.
func (s *scheduleService) unitNotices(ctx context.Context, p access.Principal, unit, clinician string, after int64, limit int) ([]*appointmentv1.UnitNotice, int64, error) {
	ns, err := s.store.StaffNoticeList(ctx, unit, clinician, after, limit)
	if err != nil {
		return nil, 0, err
	}
	patients := make([]string, len(ns))
	for i, n := range ns {
		patients[i] = n.PatientID
	}
	if err := s.logPatients(ctx, p, patients, "read unit notices"); err != nil {
		return nil, 0, err
	}
	notices := make([]*appointmentv1.UnitNotice, 0, len(ns))
	for _, n := range ns {
		notices = append(notices, &appointmentv1.UnitNotice{
			Id: n.ID, AppointmentId: n.AppointmentID, Kind: unitNoticeKinds[n.Kind],
			PatientName: strings.TrimSpace(n.PatientGivenName + " " + n.PatientSurname),
			StartTime:   rpc.Timestamp(n.StartsAt), Minutes: int32(n.Minutes), Message: n.Message,
			CreateTime: rpc.Timestamp(n.CreatedAt), Seq: n.Seq,
		})
		after = n.Seq
	}
	return notices, after, nil
}

const (
	// noticeWatchLife bounds a WatchUnitNotices stream, well within an
	// access token's life; the app reconnects with next_after.
	noticeWatchLife = 10 * time.Minute
	// noticeWatchPoll is the longest a stream waits before reading again
	// on its own, in case an announcement was missed.
	noticeWatchPoll = 15 * time.Second
)

// WatchUnitNotices sends what patients told the unit after the caller's
// cursor, then each new notice as soon as it is announced (the change feed).
// Like ListUnitNotices, each read that names patients is access-logged.
func (s *scheduleService) WatchUnitNotices(ctx context.Context, req *appointmentv1.WatchUnitNoticesRequest, stream *connect.ServerStream[appointmentv1.WatchUnitNoticesResponse]) error {
	p, _ := access.FromContext(ctx)
	ctx, cancel := context.WithTimeout(ctx, noticeWatchLife)
	defer cancel()
	// The care assignment's end stops the stream, as it would refuse a
	// new request.
	var ends <-chan time.Time
	if to := p.Assignment.ValidTo; !to.IsZero() {
		t := time.NewTimer(to.Sub(s.now()))
		defer t.Stop()
		ends = t.C
	}
	poll := time.NewTimer(noticeWatchPoll)
	defer poll.Stop()
	after, first := req.After, true
	for {
		news := s.hub.Next(store.TopicUnitNotice, req.UnitHsaId)
		for {
			notices, next, err := s.unitNotices(ctx, p, req.UnitHsaId, req.ClinicianHsaId, after, defaultUnitNoticePage)
			if ctx.Err() != nil {
				return nil //nolint:nilerr // the stream's life or the caller ended it mid-read
			} else if err != nil {
				return err
			}
			// The first response comes at once, empty when nothing is new,
			// so that the app knows it is caught up.
			if len(notices) > 0 || first {
				if err := stream.Send(&appointmentv1.WatchUnitNoticesResponse{Notices: notices, NextAfter: next}); err != nil {
					return err
				}
			}
			first, after = false, next
			if len(notices) < defaultUnitNoticePage {
				break
			}
		}
		poll.Reset(noticeWatchPoll)
		select {
		case <-ctx.Done():
			return nil
		case <-ends:
			return connect.NewError(connect.CodePermissionDenied, access.ErrAssignmentExpired)
		case <-news:
		case <-poll.C:
		}
	}
}
