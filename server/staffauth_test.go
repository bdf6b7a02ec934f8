package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/auth"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	patientv1 "github.com/nara-care/nara/gen/nara/patient/v1"
	"github.com/nara-care/nara/gen/nara/patient/v1/patientv1connect"
	"github.com/nara-care/nara/identity/oidcdev"
)

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// staffLogin logs a test staff member in through the local identity
// provider as a browser would, up to the redirect back with the code.
func (e *env) staffLogin(t *testing.T, hsaID string) *authv1.Session {
	t.Helper()
	ctx := context.Background()
	c := authv1connect.NewClinicianAuthServiceClient(e.client, e.url)
	dev := &authv1.Device{Id: "tablet-" + hsaID, Name: "Mottagningens surfplatta", Platform: authv1.Platform_PLATFORM_ANDROID}
	start, err := c.StartStaffLogin(ctx, &authv1.StartStaffLoginRequest{Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	res, err := noRedirect.Get(start.AuthorizationUrl + "&login_hint=" + url.QueryEscape(hsaID))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if loc.Query().Get("state") != start.State {
		t.Fatalf("state came back as %q, want %q", loc.Query().Get("state"), start.State)
	}
	// The default landing page shows how to finish.
	page, err := e.client.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), "CompleteStaffLogin") {
		t.Errorf("callback page got %d: %s", page.StatusCode, body)
	}
	done, err := c.CompleteStaffLogin(ctx, &authv1.CompleteStaffLoginRequest{State: start.State, Code: loc.Query().Get("code"), Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	return done.Session
}

func TestStaffLoginAndAssignment(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()

	doctor := e.staffLogin(t, oidcdev.HSAIDDoctor)
	if doctor.Me.Subject != oidcdev.HSAIDDoctor || len(doctor.Me.Assignments) != 2 || doctor.Me.Roles[0] != authv1.Role_ROLE_CLINICIAN {
		t.Fatalf("doctor's session got %v", doctor.Me)
	}
	// Without an assignment, patient data is out of reach.
	_, err := patientv1connect.NewPatientServiceClient(e.client, e.url, bearer(doctor.AccessToken)).
		FindPatient(ctx, &patientv1.FindPatientRequest{PersonalNumber: "191212121212"})
	if connect.CodeOf(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), "medarbetaruppdrag") {
		t.Errorf("FindPatient without an assignment got %v, want PermissionDenied naming the care assignment", err)
	}
	c := authv1connect.NewClinicianAuthServiceClient(e.client, e.url, bearer(doctor.AccessToken))
	picked, err := c.SelectAssignment(ctx, &authv1.SelectAssignmentRequest{AssignmentId: doctor.Me.Assignments[0].Id})
	if err != nil {
		t.Fatal(err)
	}
	if picked.Session.Me.SelectedAssignmentId != doctor.Me.Assignments[0].Id {
		t.Errorf("selected assignment got %q", picked.Session.Me.SelectedAssignmentId)
	}
	found, err := patientv1connect.NewPatientServiceClient(e.client, e.url, bearer(picked.Session.AccessToken)).
		FindPatient(ctx, &patientv1.FindPatientRequest{PersonalNumber: "191212121212"})
	if err != nil || found.Patient.BirthDate != "1912-12-12" {
		t.Fatalf("FindPatient within the assignment got %v, %v", found, err)
	}
	_, err = c.SelectAssignment(ctx, &authv1.SelectAssignmentRequest{AssignmentId: "SE2321000016-NOPE"})
	if connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("selecting an assignment not in the login got %v, want PermissionDenied", err)
	}
	// The refresh keeps the selected assignment.
	refreshed, err := authv1connect.NewSessionServiceClient(e.client, e.url).RefreshSession(ctx,
		&authv1.RefreshSessionRequest{RefreshToken: doctor.RefreshToken, DeviceId: "tablet-" + oidcdev.HSAIDDoctor})
	if err != nil || refreshed.Session.Me.SelectedAssignmentId != doctor.Me.Assignments[0].Id {
		t.Fatalf("refresh of a staff session got %v, %v", refreshed, err)
	}

	tests := []struct {
		hsaID   string
		message string
	}{
		{oidcdev.HSAIDDoctorExpired, "not valid today"},
		{oidcdev.HSAIDDoctorAdminOnly, "Vård och behandling"},
	}
	for _, tt := range tests {
		s := e.staffLogin(t, tt.hsaID)
		if len(s.Me.Assignments) == 0 || s.Me.Assignments[0].Usable || !strings.Contains(s.Me.Assignments[0].UnusableReason, tt.message) {
			t.Errorf("%s: assignments got %v, want one unusable because %q", tt.hsaID, s.Me.Assignments, tt.message)
			continue
		}
		_, err := authv1connect.NewClinicianAuthServiceClient(e.client, e.url, bearer(s.AccessToken)).
			SelectAssignment(ctx, &authv1.SelectAssignmentRequest{AssignmentId: s.Me.Assignments[0].Id})
		if connect.CodeOf(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("%s: SelectAssignment got %v, want PermissionDenied saying %q", tt.hsaID, err, tt.message)
		}
	}
	none := e.staffLogin(t, oidcdev.HSAIDDoctorNoAssign)
	if len(none.Me.Assignments) != 0 || len(none.Me.Roles) != 0 {
		t.Errorf("doctor without assignments got %v, want no assignments and no clinician role", none.Me)
	}
}

func TestStaffLoginRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := authv1connect.NewClinicianAuthServiceClient(e.client, e.url)
	dev := &authv1.Device{Id: "tablet-refusals", Platform: authv1.Platform_PLATFORM_WEB}
	start, err := c.StartStaffLogin(ctx, &authv1.StartStaffLoginRequest{Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteStaffLogin(ctx, &authv1.CompleteStaffLoginRequest{State: strings.Repeat("s", 32), Code: "x", Device: dev})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("unknown state got %v, want FailedPrecondition", err)
	}
	_, err = c.CompleteStaffLogin(ctx, &authv1.CompleteStaffLoginRequest{State: start.State, Code: "forged-code", Device: dev})
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("forged code got %v, want Unauthenticated", err)
	}
	// The state was used up by the failed attempt.
	_, err = c.CompleteStaffLogin(ctx, &authv1.CompleteStaffLoginRequest{State: start.State, Code: "forged-code", Device: dev})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("reused state got %v, want FailedPrecondition", err)
	}
}

func TestStaffRolesEditHelp(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	req := &helpv1.ListAllArticlesRequest{Language: helpv1.Language_LANGUAGE_SV}
	tests := []struct {
		hsaID string
		want  connect.Code
	}{
		{oidcdev.HSAIDSupportFirstLine, connect.CodePermissionDenied},
		{oidcdev.HSAIDNurse, connect.CodePermissionDenied},
		{oidcdev.HSAIDSupportSecondLine, 0},
		{oidcdev.HSAIDRegionAdmin, 0},
	}
	for _, tt := range tests {
		s := e.staffLogin(t, tt.hsaID)
		_, err := helpv1connect.NewHelpAdminServiceClient(e.client, e.url, bearer(s.AccessToken)).ListAllArticles(ctx, req)
		if (tt.want == 0 && err != nil) || (tt.want != 0 && connect.CodeOf(err) != tt.want) {
			t.Errorf("%s: ListAllArticles got %v, want code %v", tt.hsaID, err, tt.want)
		}
	}
}

// TestStaffLoginStartsAreLimited refuses an address more staff login
// starts in a minute than the limit, as citizens' starts are.
func TestStaffLoginStartsAreLimited(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{auth: auth.Config{Limits: auth.RateLimits{LoginStartsPerIPPerMinute: 3}}})
	c := authv1connect.NewClinicianAuthServiceClient(e.client, e.url)
	dev := &authv1.Device{Id: "tablet-limit", Name: "Surfplatta", Platform: authv1.Platform_PLATFORM_WEB}
	for i := 1; i <= 4; i++ {
		_, err := c.StartStaffLogin(context.Background(), &authv1.StartStaffLoginRequest{Device: dev})
		if i <= 3 && err != nil {
			t.Fatalf("staff login start %d got %v", i, err)
		}
		if i == 4 && connect.CodeOf(err) != connect.CodeResourceExhausted {
			t.Errorf("staff login start %d in a minute got %v, want ResourceExhausted", i, err)
		}
	}
	// Citizens' starts from the same address are counted apart.
	_, err := authv1connect.NewCitizenAuthServiceClient(e.client, e.url).StartLogin(context.Background(), &authv1.StartLoginRequest{
		Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_SAME_DEVICE, Device: device("staff-limit"),
	})
	if err != nil {
		t.Errorf("a citizen login start after the staff starts got %v", err)
	}
}
