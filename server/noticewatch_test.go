package server_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
)

// TestWatchUnitNotices has a clinician watch the unit's notices: the stream
// sends what came before, then each late report as the patient sends it,
// through this replica or another one.
func TestWatchUnitNotices(t *testing.T) {
	t.Parallel()
	e := setup(t)
	otherURL := e.replica(t)
	ctx := context.Background()
	ids, citizens := e.citizens(t, 1)
	const doctorID = "SE2321000016-D002"
	doctor := e.clinicianAt(t, doctorID, homeUnit)
	appt := e.inviter(t, doctor)(ids[0], apptv1.Service_SERVICE_PHONE, hourFromNow(3*time.Hour), false)
	here := e.booking(citizens[0])
	there := appointmentv1connect.NewAppointmentServiceClient(e.client, otherURL, citizens[0])
	minutes := int32(0)
	reportLate := func(c appointmentv1connect.AppointmentServiceClient) {
		t.Helper()
		minutes += 5
		if _, err := c.ReportLate(ctx, &apptv1.ReportLateRequest{AppointmentId: appt.Id, Minutes: minutes}); err != nil {
			t.Fatal(err)
		}
	}
	logged := func() int {
		return e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1 AND action = 'read unit notices'`, ids[0])
	}
	reportLate(here)

	for _, name := range []string{"grpc", "connect-h2c"} {
		t.Run(name, func(t *testing.T) {
			tr := e.protocols()[name]
			c := appointmentv1connect.NewScheduleServiceClient(tr.client, e.url, append(tr.opts, doctor)...)
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			before := logged()
			stream, err := c.WatchUnitNotices(ctx, &apptv1.WatchUnitNoticesRequest{UnitHsaId: homeUnit})
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			got := make(chan *apptv1.WatchUnitNoticesResponse)
			go func() {
				defer close(got)
				for stream.Receive() {
					got <- stream.Msg()
				}
			}()
			next := func(what string, wantMinutes ...int32) {
				t.Helper()
				select {
				case res, ok := <-got:
					if !ok {
						t.Fatalf("%s: the stream ended: %v", what, stream.Err())
					}
					if len(res.Notices) != len(wantMinutes) {
						t.Fatalf("%s got %d notices, want %d: %v", what, len(res.Notices), len(wantMinutes), res.Notices)
					}
					for i, n := range res.Notices {
						if n.AppointmentId != appt.Id || n.Kind != apptv1.UnitNoticeKind_UNIT_NOTICE_KIND_PATIENT_LATE ||
							n.Minutes != wantMinutes[i] || n.PatientName != "Citizen0 Test" {
							t.Errorf("%s notice %d got %v, want %d minutes late", what, i, n, wantMinutes[i])
						}
					}
					if last := res.Notices[len(res.Notices)-1]; res.NextAfter != last.Seq {
						t.Errorf("%s got next_after %d, want %d (the last seq)", what, res.NextAfter, last.Seq)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: nothing within 5 s", what)
				}
			}
			var backlog []int32
			for m := int32(5); m <= minutes; m += 5 {
				backlog = append(backlog, m)
			}
			next("the backlog", backlog...)
			if logged() == before {
				t.Error("the backlog's read was not access-logged")
			}
			reportLate(here)
			next("a late report through this replica", minutes)
			reportLate(there)
			next("a late report through another replica", minutes)
		})
	}

	watch := func(c appointmentv1connect.ScheduleServiceClient, req *apptv1.WatchUnitNoticesRequest) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		stream, err := c.WatchUnitNotices(ctx, req)
		if err != nil {
			return err
		}
		defer stream.Close()
		for stream.Receive() {
		}
		return stream.Err()
	}
	watcher := appointmentv1connect.NewScheduleServiceClient(e.h2c, e.url, connect.WithGRPC(), doctor)
	bad := []struct {
		name string
		req  *apptv1.WatchUnitNoticesRequest
	}{
		{"no unit", &apptv1.WatchUnitNoticesRequest{}},
		{"bad unit id", &apptv1.WatchUnitNoticesRequest{UnitHsaId: "solna; drop"}},
		{"bad clinician id", &apptv1.WatchUnitNoticesRequest{UnitHsaId: homeUnit, ClinicianHsaId: "dr who"}},
		{"negative cursor", &apptv1.WatchUnitNoticesRequest{UnitHsaId: homeUnit, After: -1}},
	}
	for _, tt := range bad {
		if err := watch(watcher, tt.req); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("WatchUnitNotices(%s) got %v, want InvalidArgument", tt.name, err)
		}
	}
	before := logged()
	elsewhere := appointmentv1connect.NewScheduleServiceClient(e.h2c, e.url, connect.WithGRPC(), e.clinicianAt(t, doctorID, otherUnit))
	if err := watch(elsewhere, &apptv1.WatchUnitNoticesRequest{UnitHsaId: homeUnit}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("WatchUnitNotices from another unit's assignment got %v, want PermissionDenied", err)
	}
	if n := logged() - before; n != 0 {
		t.Errorf("a refused watch logged %d accesses, want none", n)
	}
}
