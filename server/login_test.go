package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/auth"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/bankid/bankidsim"
	"github.com/nara-care/nara/internal/clocktest"
	"github.com/nara-care/nara/server"
)

// startOtherDevice starts a login for another device and returns its start.
func startOtherDevice(t *testing.T, c authv1connect.CitizenAuthServiceClient, id string, lang authv1.Language) *authv1.StartLoginResponse {
	t.Helper()
	start, err := c.StartLogin(context.Background(), &authv1.StartLoginRequest{
		Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_OTHER_DEVICE, Device: device(id), Language: lang,
	})
	if err != nil {
		t.Fatal(err)
	}
	return start
}

// approveQR scans the login's QR code as digits and approves it.
func (e *env) approveQR(t *testing.T, start *authv1.StartLoginResponse, digits string) {
	t.Helper()
	n := mustNumber(t, digits)
	ref, err := e.sim.ScanQR(start.QrData, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Approve(ref, n); err != nil {
		t.Fatal(err)
	}
}

func (e *env) simOrder(t *testing.T, ref string) bankidsim.Order {
	t.Helper()
	for _, o := range e.sim.Orders() {
		if o.OrderRef == ref {
			return o
		}
	}
	t.Fatalf("the simulator has no order %s", ref)
	return bankidsim.Order{}
}

func TestLoginBoundToStartingDevice(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	start := startOtherDevice(t, c, "bound", authv1.Language_LANGUAGE_SV)
	if len(start.LoginSecret) < 32 || start.LoginSecret == start.LoginId {
		t.Fatalf("StartLogin secret got %q, want 32 or more characters of its own", start.LoginSecret)
	}
	var secretHash []byte
	if err := e.store.Pool().QueryRow(ctx, `SELECT secret_hash FROM login_order WHERE id = $1`, start.LoginId).Scan(&secretHash); err != nil {
		t.Fatal(err)
	}
	if len(secretHash) != 32 || strings.Contains(string(secretHash), start.LoginSecret) {
		t.Errorf("stored secret got %x, want only a SHA-256", secretHash)
	}
	e.approveQR(t, start, tolvan)

	// Someone who learned the login id but not the secret.
	stranger := strings.Repeat("S", 32)
	_, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: stranger})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("poll with another secret got %v, want NotFound", err)
	}
	stream, err := c.WatchLogin(ctx, &authv1.WatchLoginRequest{LoginId: start.LoginId, LoginSecret: stranger})
	if err != nil {
		t.Fatal(err)
	}
	for stream.Receive() {
		t.Errorf("watch with another secret received %v", stream.Msg())
	}
	if connect.CodeOf(stream.Err()) != connect.CodeNotFound {
		t.Errorf("watch with another secret got %v, want NotFound", stream.Err())
	}
	stream.Close()
	if _, err := c.CancelLogin(ctx, &authv1.CancelLoginRequest{LoginId: start.LoginId, LoginSecret: stranger}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("cancel with another secret got %v, want NotFound", err)
	}
	// An app build from before the secret existed is told to update.
	_, err = c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId})
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "update the app") {
		t.Errorf("poll without a secret got %v, want InvalidArgument asking to update the app", err)
	}
	_, err = c.CancelLogin(ctx, &authv1.CancelLoginRequest{LoginId: start.LoginId})
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "update the app") {
		t.Errorf("cancel without a secret got %v, want InvalidArgument asking to update the app", err)
	}

	// The starter gets the session; the stranger's tries changed nothing.
	first, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if err != nil || first.Progress.Session == nil {
		t.Fatalf("the starter's poll got %v, %v; want a session", first, err)
	}
	// The answer was lost: the starter asks again and gets the same
	// session with a new refresh token, which works; the lost one is spent.
	again, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if err != nil || again.Progress.Session == nil {
		t.Fatalf("the starter's second poll got %v, %v; want the session again", again, err)
	}
	if again.Progress.Session.SessionId != first.Progress.Session.SessionId || again.Progress.Session.RefreshToken == first.Progress.Session.RefreshToken {
		t.Errorf("replayed session got %v, want session %s with a new refresh token", again.Progress.Session, first.Progress.Session.SessionId)
	}
	_, err = c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("third poll got %v, want FailedPrecondition", err)
	}
	sessions := authv1connect.NewSessionServiceClient(e.client, e.url, bearer(again.Progress.Session.AccessToken))
	list, err := sessions.ListSessions(ctx, &authv1.ListSessionsRequest{})
	if err != nil || len(list.Sessions) != 1 {
		t.Errorf("sessions after a replayed login got %v, %v; want one", list, err)
	}
	refreshed, err := sessions.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: again.Progress.Session.RefreshToken, DeviceId: "device-bound"})
	if err != nil || refreshed.Session.SessionId != first.Progress.Session.SessionId {
		t.Errorf("refresh with the replayed token got %v, %v", refreshed, err)
	}
	var count int
	if err := e.store.Pool().QueryRow(ctx, `SELECT count(*) FROM refresh_token WHERE token_hash IS NOT NULL AND used_at IS NULL AND session_id = $1`,
		first.Progress.Session.SessionId).Scan(&count); err != nil || count != 1 {
		t.Errorf("unspent refresh tokens got %d, %v; want 1", count, err)
	}
}

func TestLoginReplayOnlyShortlyAfter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	start := startOtherDevice(t, c, "late", authv1.Language_LANGUAGE_SV)
	e.approveQR(t, start, tolvan)
	if _, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Pool().Exec(ctx, `UPDATE login_order SET finished_at = now() - interval '61 seconds' WHERE id = $1`, start.LoginId); err != nil {
		t.Fatal(err)
	}
	_, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("poll 61 s after completion got %v, want FailedPrecondition", err)
	}
}

// A stream that breaks before the completed answer arrives: the next
// WatchLogin answers it once more.
func TestWatchLoginAnswersAgainAfterADroppedStream(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := authv1connect.NewCitizenAuthServiceClient(e.h2c, e.url, connect.WithGRPC())
	start := startOtherDevice(t, c, "drop", authv1.Language_LANGUAGE_SV)
	e.approveQR(t, start, tolvan)
	dropCtx, drop := context.WithCancel(ctx)
	stream, err := c.WatchLogin(dropCtx, &authv1.WatchLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if err != nil {
		t.Fatal(err)
	}
	// The first message may already carry the session; the app never reads it.
	drop()
	stream.Close()
	clocktest.Eventually(t, 5*time.Second, "the dropped login to be settled", func() bool {
		var status string
		if err := e.store.Pool().QueryRow(ctx, `SELECT status FROM login_order WHERE id = $1`, start.LoginId).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status == "pending" {
			// The dropped stream ended before collecting: complete it now.
			if _, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret}); err != nil {
				t.Fatal(err)
			}
			return false
		}
		return status == "consumed"
	})
	again, err := c.WatchLogin(ctx, &authv1.WatchLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	var last *authv1.LoginProgress
	for again.Receive() {
		last = again.Msg().Progress
	}
	if again.Err() != nil || last == nil || last.State != authv1.LoginState_LOGIN_STATE_COMPLETE || last.Session == nil {
		t.Errorf("watch after a dropped stream got %v, %v; want the completed login", last, again.Err())
	}
}

func TestBankIDFinalAnswerIsNeverCollectedAgain(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	start := startOtherDevice(t, c, "badpnr", authv1.Language_LANGUAGE_EN)
	n := mustNumber(t, tolvan)
	ref, err := e.sim.ScanQR(start.QrData, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.ApproveWithBadNumber(ref, n); err != nil {
		t.Fatal(err)
	}
	poll := func() *authv1.LoginProgress {
		t.Helper()
		res, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret, Language: authv1.Language_LANGUAGE_EN})
		if err != nil {
			t.Fatalf("poll after an unreadable answer got %v, want the failed login", err)
		}
		return res.Progress
	}
	p := poll()
	if p.State != authv1.LoginState_LOGIN_STATE_FAILED || p.MessageId != "RFA22" || p.Session != nil || p.Message == "" {
		t.Errorf("progress after an unreadable complete answer got %v, want failed with RFA22", p)
	}
	time.Sleep(bankid.CollectInterval + 100*time.Millisecond) // a collect would be due again
	if p := poll(); p.State != authv1.LoginState_LOGIN_STATE_FAILED {
		t.Errorf("second poll got %v, want failed", p)
	}
	if got := e.simOrder(t, ref).Collects; got != 1 {
		t.Errorf("the simulator saw %d collects of the finished order, want 1", got)
	}
	if !strings.Contains(e.logs.String(), "final answer cannot be read") {
		t.Errorf("no warning logged for the unreadable answer")
	}
	if strings.Contains(e.logs.String(), tolvan[:11]) {
		t.Errorf("the log contains the personal number")
	}
}

func TestBankIDVisibleData(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ setting, want string }{
		{"", "Logga in i Nära"},
		{"Logga in i *Region Exempel*", "Logga in i *Region Exempel*"},
	} {
		e := setupWith(t, options{auth: auth.Config{BankIDVisibleText: tt.setting}})
		startOtherDevice(t, authv1connect.NewCitizenAuthServiceClient(e.client, e.url), "uvd", authv1.Language_LANGUAGE_SV)
		if got := e.simOrder(t, e.lastOrder(t)).UserVisibleData; got != tt.want {
			t.Errorf("BankIDVisibleText %q: the BankID app shows %q, want %q", tt.setting, got, tt.want)
		}
	}
	e := setup(t)
	cfg := auth.Config{BankIDVisibleText: strings.Repeat("å", 600)}
	if _, err := auth.New(cfg, auth.Deps{
		Logger: e.deps.Logger, Store: e.store, Hub: e.parts.hub, BankID: e.parts.bank, StaffProvider: e.parts.idp,
		Protector: e.protector, TokenKey: testKey,
	}); err == nil || !strings.Contains(err.Error(), "BankID") {
		t.Errorf("a visible text over BankID's limit got %v, want an error", err)
	}
}

func TestBankIDFailuresInTheAppsLanguage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := authv1connect.NewCitizenAuthServiceClient(e.client, e.url)
	for _, tt := range []struct {
		lang authv1.Language
		want string
	}{
		{authv1.Language_LANGUAGE_SV, "Något gick fel. Försök igen."},
		{authv1.Language_LANGUAGE_UNSPECIFIED, "Något gick fel. Försök igen."},
		{authv1.Language_LANGUAGE_EN, "Something went wrong. Please try again."},
	} {
		e.sim.FailNext(bankid.CodeMaintenance, 1)
		_, err := c.StartLogin(ctx, &authv1.StartLoginRequest{
			Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_SAME_DEVICE, Device: device("lang"), Language: tt.lang,
		})
		var ce *connect.Error
		if !errors.As(err, &ce) || ce.Code() != connect.CodeUnavailable || ce.Message() != tt.want {
			t.Errorf("%v: StartLogin during BankID maintenance got %v, want Unavailable %q", tt.lang, err, tt.want)
		}
	}
	start := startOtherDevice(t, c, "lang2", authv1.Language_LANGUAGE_EN)
	e.sim.FailNext(bankid.CodeInternalError, 1)
	_, err := c.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: start.LoginId, LoginSecret: start.LoginSecret, Language: authv1.Language_LANGUAGE_SV})
	if connect.CodeOf(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), "Något gick fel") {
		t.Errorf("poll while BankID fails got %v, want Unavailable in Swedish", err)
	}
	var warned int
	for _, line := range strings.Split(e.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == "WARN" && rec["msg"] == "bankid: call failed" {
			if rec["error_code"] != "maintenance" && rec["error_code"] != "internalError" {
				t.Errorf("warning without BankID's error code: %s", line)
			}
			warned++
		}
	}
	if warned != 4 {
		t.Errorf("got %d warnings for BankID failures, want 4", warned)
	}
}

// forwarding adds headers to every request, as a load balancer would.
type forwarding struct {
	header http.Header
	next   http.RoundTripper
}

func (f forwarding) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range f.header {
		r.Header[k] = v
	}
	return f.next.RoundTrip(r)
}

func behind(e *env, header http.Header) authv1connect.CitizenAuthServiceClient {
	return authv1connect.NewCitizenAuthServiceClient(&http.Client{Transport: forwarding{header, e.client.Transport}}, e.url)
}

func TestClientAddressBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	trusted, err := server.ParseTrustedProxies("127.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	e := setupWith(t, options{cfg: server.Config{TrustedProxies: trusted}, auth: auth.Config{Limits: auth.RateLimits{LoginStartsPerIPPerMinute: 2}}})
	ctx := context.Background()
	start := func(c authv1connect.CitizenAuthServiceClient) error {
		_, err := c.StartLogin(ctx, &authv1.StartLoginRequest{
			Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_SAME_DEVICE, Device: device("proxy"),
		})
		return err
	}
	a := behind(e, http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.7"}})
	if err := start(a); err != nil {
		t.Fatal(err)
	}
	if got := e.simOrder(t, e.lastOrder(t)).EndUserIP; got != "203.0.113.7" {
		t.Errorf("endUserIp behind a trusted proxy got %s, want 203.0.113.7", got)
	}
	// Each citizen has a bucket of their own, not the balancer's.
	if err := start(a); err != nil {
		t.Fatal(err)
	}
	if err := start(a); connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("third start from 203.0.113.7 got %v, want ResourceExhausted", err)
	}
	b := behind(e, http.Header{"Forwarded": {`for="[2001:db8::7]:4711";proto=https`}})
	if err := start(b); err != nil {
		t.Errorf("start from another citizen got %v, want an order", err)
	}
	if got := e.simOrder(t, e.lastOrder(t)).EndUserIP; got != "2001:db8::7" {
		t.Errorf("endUserIp from Forwarded got %s, want 2001:db8::7", got)
	}

	// Without trusted proxies the same header is a client's claim: ignored.
	plain := setup(t)
	if err := start(behind(plain, http.Header{"X-Forwarded-For": {"203.0.113.7"}})); err != nil {
		t.Fatal(err)
	}
	if got := plain.simOrder(t, plain.lastOrder(t)).EndUserIP; got != "127.0.0.1" {
		t.Errorf("endUserIp with a spoofed header and no trusted proxy got %s, want the TCP peer 127.0.0.1", got)
	}
}
