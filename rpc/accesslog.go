package rpc

import (
	"context"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/store"
)

// LogAccess records in patientID's access log that staff p read their
// data. Every read of patient data by staff calls it (Patientdatalagen),
// whatever part of the product it is in.
func LogAccess(ctx context.Context, st *store.Store, p access.Principal, patientID, action string) error {
	e := store.AccessLogEntry{
		StaffHSAID: p.HSAID, StaffName: p.DisplayName, PatientID: patientID, Action: action, ClientIP: ClientIP(ctx),
	}
	if p.Assignment != nil {
		e.AssignmentID, e.CareUnitHSAID, e.CareUnitName = p.Assignment.ID, p.Assignment.CareUnitHSAID, p.Assignment.CareUnitName
	}
	if info, ok := connect.CallInfoForHandlerContext(ctx); ok {
		e.Procedure = info.Spec().Procedure
	}
	return st.AccessLogAppend(ctx, e)
}
