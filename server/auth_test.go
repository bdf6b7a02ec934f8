package server_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/auth"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	patientv1 "github.com/nara-care/nara/gen/nara/patient/v1"
	"github.com/nara-care/nara/gen/nara/patient/v1/patientv1connect"
	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/internal/clocktest"
)

// BankID simulator test users; Anna is Lilla's guardian in the demo data.
const (
	anna   = "198507099805"
	lilla  = "202012129892"
	tolvan = "191212121212"
)

func device(id string) *authv1.Device {
	return &authv1.Device{Id: "device-" + id, Name: "Test phone", Platform: authv1.Platform_PLATFORM_IOS}
}

func mustNumber(t *testing.T, digits string) pnr.Number {
	t.Helper()
	n, err := pnr.ParseDigits(digits)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lastOrder is the newest order at the simulator: the one the test started.
func (e *env) lastOrder(t *testing.T) string {
	t.Helper()
	orders := e.sim.Orders()
	if len(orders) == 0 {
		t.Fatal("the simulator has no order")
	}
	return orders[len(orders)-1].OrderRef
}

// login logs the test user in with BankID on another device: the QR code
// is scanned and approved in the simulator, then the app polls.
func (e *env) login(t *testing.T, digits string) *authv1.Session {
	t.Helper()
	ctx := context.Background()
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	start, err := c.StartLogin(ctx, &authv1.StartLoginRequest{
		Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_OTHER_DEVICE, Device: device(digits),
	})
	if err != nil {
		t.Fatal(err)
	}
	n := mustNumber(t, digits)
	ref, err := e.sim.ScanQR(start.QrData, n)
	if err != nil {
		t.Fatalf("scan QR %q: %v", start.QrData, err)
	}
	if err := e.sim.Approve(ref, n); err != nil {
		t.Fatal(err)
	}
	res, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if err != nil {
		t.Fatal(err)
	}
	if res.Progress.State != authv1.LoginState_LOGIN_STATE_COMPLETE || res.Progress.Session == nil {
		t.Fatalf("login progress got %v, want complete with a session", res.Progress)
	}
	return res.Progress.Session
}

func (e *env) citizen(t *testing.T, digits string) connect.ClientOption {
	t.Helper()
	return bearer(e.login(t, digits).AccessToken)
}

func TestCitizenLoginOtherDevice(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	start, err := c.StartLogin(ctx, &authv1.StartLoginRequest{
		Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_OTHER_DEVICE,
		Device: device("a"), Language: authv1.Language_LANGUAGE_EN,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(start.QrData, "bankid.") || start.AutoStartToken != "" || start.PollIntervalSeconds != 2 {
		t.Fatalf("StartLogin got %v, want a QR code and no auto-start token", start)
	}
	if start.Progress.MessageId != "RFA1" || start.Progress.State != authv1.LoginState_LOGIN_STATE_PENDING {
		t.Errorf("initial progress got %v, want pending RFA1", start.Progress)
	}
	first, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret, Language: authv1.Language_LANGUAGE_SV})
	if err != nil {
		t.Fatal(err)
	}
	if first.Progress.HintCode != "outstandingTransaction" || first.Progress.QrData == "" {
		t.Errorf("first poll got %v, want outstandingTransaction with a QR code", first.Progress)
	}
	time.Sleep(1100 * time.Millisecond)
	second, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if err != nil {
		t.Fatal(err)
	}
	if second.Progress.QrData == first.Progress.QrData {
		t.Errorf("QR code did not change after a second: %q", second.Progress.QrData)
	}

	n := mustNumber(t, anna)
	ref, err := e.sim.ScanQR(second.Progress.QrData, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Approve(ref, n); err != nil {
		t.Fatal(err)
	}
	var done *authv1.LoginProgress
	clocktest.Eventually(t, 5*time.Second, "the approved login to complete", func() bool {
		res, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
		if err != nil {
			t.Fatal(err)
		}
		done = res.Progress
		return done.State == authv1.LoginState_LOGIN_STATE_COMPLETE
	})
	s := done.Session
	if s == nil || s.AccessToken == "" || s.RefreshToken == "" || s.Me.DisplayName != "Anna Provsson" {
		t.Fatalf("completed login got %v", s)
	}
	if len(s.Me.CanActFor) != 2 || s.Me.CanActFor[1].GivenName != "Lilla" || s.Me.CanActFor[1].PersonalNumberMasked != "20201212-****" {
		t.Errorf("Anna can act for %v, want herself and Lilla", s.Me.CanActFor)
	}
	if len(s.Me.Roles) != 2 || s.Me.Roles[1] != authv1.Role_ROLE_GUARDIAN {
		t.Errorf("Anna's roles got %v, want citizen and guardian", s.Me.Roles)
	}
	// The answer is given once more, for a device that lost it, then never.
	again, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if err != nil || again.Progress.Session == nil || again.Progress.Session.SessionId != s.SessionId {
		t.Fatalf("second poll after completion got %v, %v; want the same session again", again, err)
	}
	_, err = c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("poll after completion got %v, want FailedPrecondition", err)
	}

	sessions := authv1connect.NewSessionServiceClient(e.client, e.url, bearer(s.AccessToken))
	me, err := sessions.GetMe(ctx, &authv1.GetMeRequest{})
	if err != nil || me.Me.Subject != s.Me.Subject {
		t.Fatalf("GetMe got %v, %v", me, err)
	}
	for _, leak := range []string{anna, "198507099805", "850709-9805"} {
		if strings.Contains(e.logs.String(), leak) {
			t.Errorf("the log contains the personal number %s", leak)
		}
	}
}

func TestCitizenLoginSameDevice(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	start, err := c.StartLogin(context.Background(), &authv1.StartLoginRequest{
		Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_SAME_DEVICE,
		Device: device("b"), ReturnUrl: "https://app.nara.example/login",
	})
	if err != nil {
		t.Fatal(err)
	}
	if start.AutoStartToken == "" || start.QrData != "" {
		t.Errorf("same-device start got %v, want an auto-start token and no QR", start)
	}
	ref := e.lastOrder(t)
	if err := e.sim.Start(ref, mustNumber(t, tolvan)); err != nil {
		t.Fatal(err)
	}
	res, err := c.PollLogin(context.Background(), &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if err != nil {
		t.Fatal(err)
	}
	if res.Progress.HintCode != "started" && res.Progress.HintCode != "userSign" {
		t.Errorf("progress after the app started got %v", res.Progress)
	}
}

func TestWatchLoginStreams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for name, tr := range map[string]transport{"connect": e.protocols()["connect"], "grpc": e.protocols()["grpc"]} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := authv1connect.NewCitizenAuthServiceClient(tr.client, e.url, tr.opts...)
			start, err := c.StartLogin(ctx, &authv1.StartLoginRequest{
				Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_OTHER_DEVICE, Device: device("w" + name),
			})
			if err != nil {
				t.Fatal(err)
			}
			stream, err := c.WatchLogin(ctx, &authv1.WatchLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			var (
				messages int
				last     *authv1.LoginProgress
			)
			for stream.Receive() {
				messages++
				last = stream.Msg().Progress
				if messages == 2 {
					n := mustNumber(t, tolvan)
					ref, err := e.sim.ScanQR(last.QrData, n)
					if err != nil {
						t.Fatal(err)
					}
					if err := e.sim.Approve(ref, n); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if last == nil || last.State != authv1.LoginState_LOGIN_STATE_COMPLETE || last.Session == nil {
				t.Fatalf("stream ended with %v after %d messages, want complete", last, messages)
			}
		})
	}
}

func TestCitizenLoginFailures(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	tests := []struct {
		name    string
		act     func(ref string, start *authv1.StartLoginResponse) error
		hint    string
		message string
	}{
		{"user cancels", func(ref string, _ *authv1.StartLoginResponse) error { return e.sim.UserCancel(ref) }, "userCancel", "RFA6"},
		{"order expires", func(ref string, _ *authv1.StartLoginResponse) error { return e.sim.Expire(ref) }, "expiredTransaction", "RFA8"},
		{"certificate error", func(ref string, _ *authv1.StartLoginResponse) error {
			return e.sim.Fail(ref, bankid.HintCertificateErr)
		}, "certificateErr", "RFA16"},
		{"app cancels", func(_ string, start *authv1.StartLoginResponse) error {
			_, err := c.CancelLogin(ctx, &authv1.CancelLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
			return err
		}, "cancelled", "RFA3"},
	}
	for _, tt := range tests {
		start, err := c.StartLogin(ctx, &authv1.StartLoginRequest{
			Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_SAME_DEVICE, Device: device(tt.hint),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := tt.act(e.lastOrder(t), start); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		res, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		p := res.Progress
		if p.State != authv1.LoginState_LOGIN_STATE_FAILED || p.HintCode != tt.hint || p.MessageId != tt.message || p.Session != nil {
			t.Errorf("%s: progress got %v, want failed %s with %s", tt.name, p, tt.hint, tt.message)
		}
	}
	_, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: strings.Repeat("x", 32), LoginSecret: strings.Repeat("s", 32)})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("poll of an unknown login got %v, want NotFound", err)
	}
	_, err = c.StartLogin(ctx, &authv1.StartLoginRequest{Provider: authv1.Provider_PROVIDER_FREJA, Mode: authv1.StartMode_START_MODE_SAME_DEVICE, Device: device("f")})
	if connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Errorf("Freja login got %v, want Unimplemented", err)
	}
	_, err = c.StartLogin(ctx, &authv1.StartLoginRequest{Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_SAME_DEVICE, Device: &authv1.Device{Id: "x"}})
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("start with a bad device got %v, want InvalidArgument", err)
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{auth: auth.Config{Limits: auth.RateLimits{LoginStartsPerIPPerMinute: 3}}})
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	var err error
	for i := 0; i < 4 && err == nil; i++ {
		_, err = c.StartLogin(context.Background(), &authv1.StartLoginRequest{
			Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_SAME_DEVICE, Device: device("r"),
		})
	}
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("fourth login start in a minute got %v, want ResourceExhausted", err)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	first := e.login(t, tolvan)
	c := authv1connect.NewSessionServiceClient(e.client, e.url)
	second, err := c.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: first.RefreshToken, DeviceId: "device-" + tolvan})
	if err != nil {
		t.Fatal(err)
	}
	if second.Session.RefreshToken == first.RefreshToken || second.Session.SessionId != first.SessionId {
		t.Fatalf("refresh got %v, want a new refresh token for the same session", second.Session)
	}
	_, err = c.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: second.Session.RefreshToken, DeviceId: "device-other"})
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("refresh from another device got %v, want Unauthenticated", err)
	}
	// Replaying the spent token ends the session, including the new token.
	_, err = c.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: first.RefreshToken, DeviceId: "device-" + tolvan})
	if connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "already used") {
		t.Errorf("replayed refresh got %v, want Unauthenticated saying it was already used", err)
	}
	_, err = c.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: second.Session.RefreshToken, DeviceId: "device-" + tolvan})
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("refresh after reuse got %v, want Unauthenticated", err)
	}
	authed := authv1connect.NewSessionServiceClient(e.client, e.url, bearer(second.Session.AccessToken))
	if _, err := authed.GetMe(ctx, &authv1.GetMeRequest{}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("access token of a revoked session got %v, want Unauthenticated", err)
	}
}

func TestSessionsSignOut(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	a := e.login(t, tolvan)
	b := e.login(t, tolvan)
	c := authv1connect.NewSessionServiceClient(e.client, e.url, bearer(a.AccessToken))
	list, err := c.ListSessions(ctx, &authv1.ListSessionsRequest{})
	if err != nil || len(list.Sessions) != 2 {
		t.Fatalf("ListSessions got %v, %v; want 2", list, err)
	}
	if _, err := c.SignOut(ctx, &authv1.SignOutRequest{SessionId: b.SessionId}); err != nil {
		t.Fatal(err)
	}
	other := authv1connect.NewSessionServiceClient(e.client, e.url, bearer(b.AccessToken))
	if _, err := other.GetMe(ctx, &authv1.GetMeRequest{}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("signed-out session got %v, want Unauthenticated", err)
	}
	stranger := e.login(t, anna)
	_, err = authv1connect.NewSessionServiceClient(e.client, e.url, bearer(stranger.AccessToken)).
		SignOut(ctx, &authv1.SignOutRequest{SessionId: a.SessionId})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("signing out someone else's session got %v, want NotFound", err)
	}
	ended, err := c.SignOutEverywhere(ctx, &authv1.SignOutEverywhereRequest{})
	if err != nil || ended.SessionsEnded != 1 {
		t.Errorf("SignOutEverywhere got %v, %v; want 1 session ended", ended, err)
	}
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	good := e.login(t, tolvan)
	tests := map[string]string{
		"forged":    good.AccessToken[:len(good.AccessToken)-4] + "AAAA",
		"garbage":   "not-a-token",
		"other key": mustForeignToken(t),
	}
	for name, tok := range tests {
		c := authv1connect.NewSessionServiceClient(e.client, e.url, bearer(tok))
		_, err := c.GetMe(context.Background(), &authv1.GetMeRequest{})
		if connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Errorf("%s token got %v, want Unauthenticated", name, err)
		}
		// Public RPCs answer as if the bad token were not there.
		_, err = helpv1connect.NewHelpServiceClient(e.client, e.url, bearer(tok)).
			ListCategories(context.Background(), &helpv1.ListCategoriesRequest{Language: helpv1.Language_LANGUAGE_SV})
		if err != nil {
			t.Errorf("%s token on a public RPC got %v, want an answer", name, err)
		}
	}
	// NUL characters never reach the database.
	_, err := authv1connect.NewCitizenAuthServiceClient(e.client, e.url).
		PollLogin(context.Background(), &authv1.PollLoginRequest{LoginId: strings.Repeat("a", 20) + "\x00", LoginSecret: strings.Repeat("s", 32)})
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("login id with NUL got %v, want InvalidArgument", err)
	}
}

func TestClinicianAssignmentsAndAccessLog(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	now := time.Now()
	unit := access.Assignment{
		ID: "SE2321000016-MU01", Purpose: access.PurposeCare, CareUnitHSAID: "SE2321000016-1A01", CareUnitName: "Vårdcentral Södermalm",
		CareProviderHSAID: "SE2321000016-1000", ValidFrom: now.AddDate(-1, 0, 0), ValidTo: now.AddDate(1, 0, 0),
	}
	admin := unit
	admin.ID, admin.Purpose = "SE2321000016-MU02", "Administration"
	expired := unit
	expired.ID, expired.ValidTo = "SE2321000016-MU03", now.Add(-time.Hour)
	all := []access.Assignment{unit, admin, expired}

	tests := []struct {
		name       string
		assignment string
		want       connect.Code
		message    string
	}{
		{"valid assignment", unit.ID, 0, ""},
		{"no assignment", "", connect.CodePermissionDenied, "your role does not allow"},
		{"wrong purpose", admin.ID, connect.CodePermissionDenied, "Vård och behandling"},
		{"expired", expired.ID, connect.CodePermissionDenied, "not valid today"},
	}
	for _, tt := range tests {
		c := patientv1connect.NewPatientServiceClient(e.client, e.url, e.staff(t, "SE2321000016-D001", nil, all, tt.assignment))
		res, err := c.FindPatient(ctx, &patientv1.FindPatientRequest{PersonalNumber: "19850709-9805"})
		if tt.want == 0 {
			if err != nil || res.Patient.GivenName != "Anna" {
				t.Errorf("%s: FindPatient got %v, %v; want Anna", tt.name, res, err)
			}
			continue
		}
		if connect.CodeOf(err) != tt.want || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("%s: FindPatient got %v, want %v mentioning %q", tt.name, err, tt.want, tt.message)
		}
	}
	c := patientv1connect.NewPatientServiceClient(e.client, e.url, e.staff(t, "SE2321000016-D002", nil, all, unit.ID))
	if _, err := c.FindPatient(ctx, &patientv1.FindPatientRequest{PersonalNumber: "198507099806"}); connect.CodeOf(err) != connect.CodeInvalidArgument ||
		!strings.Contains(err.Error(), "check digit") || strings.Contains(err.Error(), "9806") {
		t.Errorf("FindPatient with a bad check digit got %v, want InvalidArgument without the number", err)
	}
	if _, err := c.FindPatient(ctx, &patientv1.FindPatientRequest{PersonalNumber: lilla}); err != nil {
		t.Fatal(err)
	}

	// Anna sees the clinician's read in her log, and Lilla's as her guardian.
	annaSession := e.login(t, anna)
	logs := authv1connect.NewAccessLogServiceClient(e.client, e.url, bearer(annaSession.AccessToken))
	own, err := logs.ListMyAccessLog(ctx, &authv1.ListMyAccessLogRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(own.Entries) != 1 || own.Entries[0].StaffHsaId != "SE2321000016-D001" || own.Entries[0].CareUnitName != "Vårdcentral Södermalm" {
		t.Errorf("Anna's access log got %v, want the one read by SE2321000016-D001", own.Entries)
	}
	child, err := logs.ListMyAccessLog(ctx, &authv1.ListMyAccessLogRequest{PatientId: annaSession.Me.CanActFor[1].Id})
	if err != nil || len(child.Entries) != 1 {
		t.Errorf("Lilla's access log for her guardian got %v, %v; want one entry", child, err)
	}
	tolvanLogs := authv1connect.NewAccessLogServiceClient(e.client, e.url, e.citizen(t, tolvan))
	_, err = tolvanLogs.ListMyAccessLog(ctx, &authv1.ListMyAccessLogRequest{PatientId: annaSession.Me.CanActFor[1].Id})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("a stranger reading Lilla's log got %v, want NotFound", err)
	}
	if _, err := c.FindPatient(ctx, &patientv1.FindPatientRequest{PersonalNumber: anna}); err != nil {
		t.Fatal(err)
	}
	page, err := logs.ListMyAccessLog(ctx, &authv1.ListMyAccessLogRequest{PageSize: 1})
	if err != nil || len(page.Entries) != 1 || page.NextPageToken == "" {
		t.Fatalf("first page got %v, %v", page, err)
	}
	rest, err := logs.ListMyAccessLog(ctx, &authv1.ListMyAccessLogRequest{PageSize: 1, PageToken: page.NextPageToken})
	if err != nil || len(rest.Entries) != 1 || rest.NextPageToken != "" || rest.Entries[0].StaffHsaId != "SE2321000016-D001" {
		t.Errorf("second page got %v, %v", rest, err)
	}
}

// TestBogusRefreshesLeaveTheDeviceAlone is the lock-out attack: someone
// elsewhere who knows a device id sends refreshes with made-up tokens for
// it. They count against the sender's address, which is soon refused, and
// never against the device, whose own refresh still works.
func TestBogusRefreshesLeaveTheDeviceAlone(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	victim := e.login(t, tolvan)
	attacker := authv1connect.NewSessionServiceClient(clientFrom("127.0.0.2"), e.url)
	for i := 1; i <= 130; i++ {
		bogus, _ := token.NewRefresh()
		_, err := attacker.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: bogus, DeviceId: "device-" + tolvan})
		want := connect.CodeUnauthenticated
		if i > 60 {
			want = connect.CodeResourceExhausted
		}
		if connect.CodeOf(err) != want {
			t.Fatalf("bogus refresh %d got %v, want %v", i, err, want)
		}
	}
	c := authv1connect.NewSessionServiceClient(e.client, e.url)
	if _, err := c.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: victim.RefreshToken, DeviceId: "device-" + tolvan}); err != nil {
		t.Errorf("the device's own refresh after the bogus ones got %v, want a new session", err)
	}
}

// TestRefreshesPerSessionAreLimited refuses a session refreshed more often
// than the limit, and the refused refresh does not spend its token.
func TestRefreshesPerSessionAreLimited(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{auth: auth.Config{Limits: auth.RateLimits{RefreshesPerDevicePerHour: 2}}})
	ctx := context.Background()
	tok := e.login(t, tolvan).RefreshToken
	c := authv1connect.NewSessionServiceClient(e.client, e.url)
	for i := 1; i <= 2; i++ {
		res, err := c.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: tok, DeviceId: "device-" + tolvan})
		if err != nil {
			t.Fatalf("refresh %d got %v", i, err)
		}
		tok = res.Session.RefreshToken
	}
	_, err := c.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: tok, DeviceId: "device-" + tolvan})
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("the third refresh in an hour got %v, want ResourceExhausted", err)
	}
	var unspent bool
	if err := e.store.Pool().QueryRow(ctx, `SELECT used_at IS NULL FROM refresh_token WHERE token_hash = $1`, token.HashRefresh(tok)).Scan(&unspent); err != nil || !unspent {
		t.Errorf("the refused refresh token: unspent %v, %v; want it still usable", unspent, err)
	}
}

// clientFrom returns an HTTP/1.1 client whose connections come from the
// loopback address ip, as a caller elsewhere on the network would.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}
