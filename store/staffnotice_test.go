package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// TestStaffNoticesCommitWithTheChange finds a notice for each answer and
// late report that changed the appointment, none for a change that failed or
// changed nothing, and the list read on from its cursor.
func TestStaffNoticesCommitWithTheChange(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	const unit, doctor = "SE2321000016-9A01", "SE2321000016-D901"
	if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: "SE2321000016-9000", Name: "Region", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.CareUnitUpsert(ctx, store.CareUnit{HSAID: unit, ProviderHSAID: "SE2321000016-9000", Name: "Vårdcentral Test"}); err != nil {
		t.Fatal(err)
	}
	p, err := st.PersonUpsert(ctx, []byte("hash-notice"), []byte("sealed"), "Anna", "Provsson", time.Date(1985, 7, 9, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	none := func(context.Context, *store.Tx, store.Appointment) error { return nil }
	start := time.Now().Add(2 * time.Hour).Truncate(time.Minute)
	a, _, err := st.AppointmentInvite(ctx, store.Invitation{
		PatientID: p.ID, UnitHSAID: unit, ServiceCode: "video_visit", StaffHSAID: doctor, StaffName: "Dr Test",
		StartsAt: start, EndsAt: start.Add(20 * time.Minute), Proposed: true, IdempotencyKey: "notice-invite",
	}, none)
	if err != nil {
		t.Fatal(err)
	}
	list := func(clinician string, after int64) []store.StaffNotice {
		t.Helper()
		ns, err := st.StaffNoticeList(ctx, unit, clinician, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	const msg = "Hellre på eftermiddagen."
	ask := store.InvitationAnswer{ID: a.ID, PatientIDs: []string{p.ID}, Response: store.ResponseAskOther, Message: msg, Now: time.Now()}

	// A respond whose work after the change fails leaves neither the answer nor a notice.
	failed := errors.New("push queue down")
	if _, err := st.AppointmentRespond(ctx, ask, func(context.Context, *store.Tx, store.Appointment) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("AppointmentRespond with a failing after got %v, want %v", err, failed)
	}
	if ns := list("", 0); len(ns) != 0 {
		t.Fatalf("notices after a failed respond got %+v, want none", ns)
	}
	// Asked for another time, twice: one notice.
	for range 2 {
		if _, err := st.AppointmentRespond(ctx, ask, none); err != nil {
			t.Fatal(err)
		}
	}
	// Late, twice with the same minutes, then a change that fails: one notice more.
	late := store.LateReport{ID: a.ID, PatientIDs: []string{p.ID}, Minutes: 10, Now: time.Now()}
	for range 2 {
		if _, err := st.AppointmentReportLate(ctx, late); err != nil {
			t.Fatal(err)
		}
	}
	tooEarly := late
	tooEarly.Minutes, tooEarly.Now = 15, start.Add(-25*time.Hour)
	if _, err := st.AppointmentReportLate(ctx, tooEarly); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("reporting late a day ahead got %v, want ErrPrecondition", err)
	}

	ns := list("", 0)
	if len(ns) != 2 {
		t.Fatalf("notices got %+v, want two", ns)
	}
	asked, reported := ns[0], ns[1]
	if asked.Kind != store.StaffNoticeAskOtherTime || asked.Message != msg || asked.AppointmentID != a.ID || asked.StaffHSAID != doctor ||
		asked.PatientID != p.ID || asked.PatientGivenName != "Anna" || asked.PatientSurname != "Provsson" || !asked.StartsAt.Equal(start) {
		t.Errorf("first notice got %+v, want Anna asking for another time", asked)
	}
	if reported.Kind != store.StaffNoticePatientLate || reported.Minutes != 10 || reported.Seq <= asked.Seq {
		t.Errorf("second notice got %+v, want 10 minutes late after the first", reported)
	}
	if rest := list("", asked.Seq); len(rest) != 1 || rest[0].ID != reported.ID {
		t.Errorf("notices after the first got %+v, want only the late report", rest)
	}
	if mine, others := list(doctor, 0), list("SE2321000016-D902", 0); len(mine) != 2 || len(others) != 0 {
		t.Errorf("notices by clinician got %d for the doctor and %d for another, want 2 and 0", len(mine), len(others))
	}
	// Asking again with another message tells the unit again.
	again := ask
	again.Message = "Eller en annan dag."
	if _, err := st.AppointmentRespond(ctx, again, none); err != nil {
		t.Fatal(err)
	}
	if ns := list("", 0); len(ns) != 3 || ns[2].Message != again.Message {
		t.Errorf("after asking again got %+v, want a third notice with the new message", ns)
	}
}
