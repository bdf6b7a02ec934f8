package auth

import (
	"context"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// accessLogService shows citizens who has accessed their data.
type accessLogService struct {
	store *store.Store
}

const defaultAccessLogPage = 50

func (s *accessLogService) ListMyAccessLog(ctx context.Context, req *authv1.ListMyAccessLogRequest) (*authv1.ListMyAccessLogResponse, error) {
	p, _ := access.FromContext(ctx)
	patient := req.PatientId
	if patient == "" {
		patient = p.PersonID
	}
	var before int64
	if req.PageToken != "" {
		var err error
		before, err = strconv.ParseInt(req.PageToken, 10, 64)
		if err != nil || before <= 0 {
			return nil, rpc.Fail(connect.CodeInvalidArgument, "page_token: not a token from a previous response")
		}
	}
	size := int(req.PageSize)
	if size == 0 {
		size = defaultAccessLogPage
	}
	entries, err := s.store.AccessLogList(ctx, patient, before, size+1)
	if err != nil {
		return nil, err
	}
	res := &authv1.ListMyAccessLogResponse{}
	if len(entries) > size {
		entries = entries[:size]
		res.NextPageToken = strconv.FormatInt(entries[size-1].ID, 10)
	}
	for _, e := range entries {
		res.Entries = append(res.Entries, &authv1.AccessLogEntry{
			At: timestamppb.New(e.At), StaffHsaId: e.StaffHSAID, StaffName: e.StaffName,
			CareUnitHsaId: e.CareUnitHSAID, CareUnitName: e.CareUnitName, AssignmentId: e.AssignmentID, Action: e.Action,
		})
	}
	return res, nil
}
