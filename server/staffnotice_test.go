package server_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
)

// TestListUnitNotices has patients report late and answer invitations, then
// the unit's clinicians read it all in order, read on from the cursor, read
// one clinician's alone, and find each read in the patients' access log.
func TestListUnitNotices(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ids, citizens := e.citizens(t, 2)
	patient, other := e.booking(citizens[0]), e.booking(citizens[1])
	const doctorID, nurseID = "SE2321000016-D001", "SE2321000016-N001"
	doctor, nurse := e.clinicianAt(t, doctorID, homeUnit), e.clinicianAt(t, nurseID, homeUnit)
	day := stockholmDay(t, 3)
	byDoctor, byNurse := e.inviter(t, doctor), e.inviter(t, nurse)

	// The first patient will be 10 minutes late today (said twice), asks for
	// another time for an invitation, then confirms it after all.
	today := byDoctor(ids[0], apptv1.Service_SERVICE_PHONE, hourFromNow(2*time.Hour), false)
	for range 2 {
		if _, err := patient.ReportLate(ctx, &apptv1.ReportLateRequest{AppointmentId: today.Id, Minutes: 10}); err != nil {
			t.Fatal(err)
		}
	}
	invited := byDoctor(ids[0], apptv1.Service_SERVICE_VIDEO_VISIT, day.Add(9*time.Hour), true)
	const msg = "Hellre en eftermiddag."
	for _, answer := range []*apptv1.RespondToInvitationRequest{
		{AppointmentId: invited.Id, Response: apptv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME, Message: msg},
		{AppointmentId: invited.Id, Response: apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM},
	} {
		if _, err := patient.RespondToInvitation(ctx, answer); err != nil {
			t.Fatal(err)
		}
	}
	// The other patient declines the nurse's invitation.
	declined := byNurse(ids[1], apptv1.Service_SERVICE_PHYSICAL_VISIT, day.Add(10*time.Hour), true)
	if _, err := other.RespondToInvitation(ctx, &apptv1.RespondToInvitationRequest{
		AppointmentId: declined.Id, Response: apptv1.InvitationResponse_INVITATION_RESPONSE_DECLINE,
	}); err != nil {
		t.Fatal(err)
	}

	type want struct {
		appointment *apptv1.Appointment
		kind        apptv1.UnitNoticeKind
		minutes     int32
		message     string
		patient     string
	}
	all := []want{
		{today, apptv1.UnitNoticeKind_UNIT_NOTICE_KIND_PATIENT_LATE, 10, "", "Citizen0 Test"},
		{invited, apptv1.UnitNoticeKind_UNIT_NOTICE_KIND_INVITATION_ASK_OTHER_TIME, 0, msg, "Citizen0 Test"},
		{invited, apptv1.UnitNoticeKind_UNIT_NOTICE_KIND_INVITATION_CONFIRMED, 0, "", "Citizen0 Test"},
		{declined, apptv1.UnitNoticeKind_UNIT_NOTICE_KIND_INVITATION_DECLINED, 0, "", "Citizen1 Test"},
	}
	check := func(name string, res *apptv1.ListUnitNoticesResponse, wants []want) {
		t.Helper()
		if len(res.Notices) != len(wants) {
			t.Fatalf("%s got %d notices, want %d: %v", name, len(res.Notices), len(wants), res.Notices)
		}
		var last int64
		for i, n := range res.Notices {
			w := wants[i]
			if n.AppointmentId != w.appointment.Id || n.Kind != w.kind || n.Minutes != w.minutes || n.Message != w.message ||
				n.PatientName != w.patient || !n.StartTime.AsTime().Equal(w.appointment.StartTime.AsTime()) ||
				n.Id == "" || n.CreateTime == nil || n.Seq <= last {
				t.Errorf("%s notice %d got %v, want %v %s for %s", name, i, n, w.kind, w.appointment.Id, w.patient)
			}
			last = n.Seq
		}
		if res.NextAfter != last {
			t.Errorf("%s got next_after %d, want %d (the last seq)", name, res.NextAfter, last)
		}
	}
	logged := func() int {
		return e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = ANY($1) AND action = 'read unit notices'`, ids)
	}

	// Every protocol reads the whole unit's, and each read logs each
	// patient once; a read on from the cursor finds nothing new, logs nothing.
	var next int64
	for name, tr := range e.protocols() {
		c := appointmentv1connect.NewScheduleServiceClient(tr.client, e.url, append(tr.opts, doctor)...)
		before := logged()
		res, err := c.ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit})
		if err != nil {
			t.Fatalf("ListUnitNotices over %s: %v", name, err)
		}
		check("ListUnitNotices over "+name, res, all)
		if n := logged() - before; n != 2 {
			t.Errorf("ListUnitNotices over %s logged %d reads, want 2 (one per patient)", name, n)
		}
		next = res.NextAfter
		before = logged()
		again, err := c.ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, After: next})
		if err != nil || len(again.Notices) != 0 || again.NextAfter != next {
			t.Errorf("ListUnitNotices after %d over %s got %v, %v; want nothing new and the same cursor", next, name, again, err)
		}
		if n := logged() - before; n != 0 {
			t.Errorf("an empty ListUnitNotices over %s logged %d reads, want none", name, n)
		}
	}

	sched := e.schedule(nurse)
	// Page by page from the cursor.
	var paged []*apptv1.UnitNotice
	for after := int64(0); ; {
		res, err := sched.ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, After: after, PageSize: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Notices) == 0 {
			break
		}
		paged = append(paged, res.Notices...)
		after = res.NextAfter
	}
	check("ListUnitNotices in pages of 3", &apptv1.ListUnitNoticesResponse{Notices: paged, NextAfter: next}, all)

	// One clinician's: the doctor's three, the nurse's one.
	mine, err := sched.ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, ClinicianHsaId: nurseID})
	if err != nil {
		t.Fatal(err)
	}
	check("ListUnitNotices of the nurse", mine, all[3:])
	first, err := sched.ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	check("ListUnitNotices of one", first, all[:1])
	theirs, err := sched.ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, ClinicianHsaId: doctorID, After: first.NextAfter})
	if err != nil {
		t.Fatal(err)
	}
	check("ListUnitNotices of the doctor after the first", theirs, all[1:3])

	// Only the unit's clinicians, and only in its assignment, may read them.
	before := logged()
	if _, err := e.schedule(e.clinicianAt(t, doctorID, otherUnit)).ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("ListUnitNotices from another unit's assignment got %v, want PermissionDenied", err)
	}
	if _, err := e.schedule(citizens[0]).ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("ListUnitNotices by a citizen got %v, want PermissionDenied", err)
	}
	if _, err := e.schedule().ListUnitNotices(ctx, &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("ListUnitNotices without a session got %v, want Unauthenticated", err)
	}
	if n := logged() - before; n != 0 {
		t.Errorf("refused reads logged %d accesses, want none", n)
	}

	bad := []struct {
		name string
		req  *apptv1.ListUnitNoticesRequest
	}{
		{"no unit", &apptv1.ListUnitNoticesRequest{}},
		{"bad unit id", &apptv1.ListUnitNoticesRequest{UnitHsaId: "solna; drop"}},
		{"bad clinician id", &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, ClinicianHsaId: "dr who"}},
		{"negative cursor", &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, After: -1}},
		{"page of 501", &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, PageSize: 501}},
		{"negative page", &apptv1.ListUnitNoticesRequest{UnitHsaId: homeUnit, PageSize: -1}},
	}
	for _, tt := range bad {
		if _, err := sched.ListUnitNotices(ctx, tt.req); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("ListUnitNotices(%s) got %v, want InvalidArgument", tt.name, err)
		}
	}
}
