package bankid_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/bankid/bankidsim"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/internal/clocktest"
)

type env struct {
	clock  *clocktest.Clock
	sim    *bankidsim.Simulator
	srv    *bankidsim.Server
	client *bankid.Client
}

// setup starts a simulator over real mutual TLS and a client configured from
// PEM files, the way production reads BANKID_CA_FILE and friends.
func setup(t testing.TB) *env {
	t.Helper()
	clk := clocktest.New(time.Date(2025, 6, 15, 9, 0, 0, 0, time.UTC))
	sim, err := bankidsim.New(bankidsim.Config{Now: clk.Now, StartTimeout: bankid.StartTimeout})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bankidsim.Start(sim, bankidsim.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	files, err := srv.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := bankid.LoadConfig(srv.URL(), files.CA, files.ClientCert, files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	client, err := bankid.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return &env{clock: clk, sim: sim, srv: srv, client: client}
}

// tolvan is Skatteverket's example person, the simulator's first test user.
func tolvan() pnr.Number {
	n, _ := pnr.ParseDigits("191212121212")
	return n
}

func (e *env) auth(t *testing.T, req bankid.AuthRequest) *bankid.OrderResponse {
	t.Helper()
	if req.EndUserIP == "" {
		req.EndUserIP = "192.0.2.10"
	}
	resp, err := e.client.Auth(context.Background(), req)
	if err != nil {
		t.Fatalf("Auth error %v", err)
	}
	if resp.OrderRef == "" || resp.AutoStartToken == "" || resp.QRStartToken == "" || resp.QRStartSecret == "" {
		t.Fatalf("Auth got %+v, want every token", resp)
	}
	return resp
}

// expect collects ref and checks status and hint.
func (e *env) expect(t *testing.T, ref string, status bankid.Status, hint bankid.HintCode) *bankid.CollectResponse {
	t.Helper()
	got, err := e.client.Collect(context.Background(), ref)
	if err != nil {
		t.Fatalf("Collect(%s) error %v, want %s/%s", ref, err, status, hint)
	}
	if got.OrderRef != ref || got.Status != status || got.HintCode != hint {
		t.Fatalf("Collect(%s) got %s/%s, want %s/%s", ref, got.Status, got.HintCode, status, hint)
	}
	return got
}

func TestAuthFlow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	order := e.auth(t, bankid.AuthRequest{UserVisibleData: []byte("Logga in på Nära"), ReturnRisk: true})

	got := e.expect(t, order.OrderRef, bankid.StatusPending, bankid.HintOutstandingTransaction)
	if m := bankid.UserMessage(got.Status, got.HintCode, true); m.Key != bankid.RFA1 {
		t.Errorf("UserMessage(outstandingTransaction, QR) got %q, want %q", m.Key, bankid.RFA1)
	}
	if err := e.sim.Start(order.OrderRef, tolvan()); err != nil {
		t.Fatal(err)
	}
	e.expect(t, order.OrderRef, bankid.StatusPending, bankid.HintStarted)
	if err := e.sim.SetHint(order.OrderRef, bankid.HintUserSign); err != nil {
		t.Fatal(err)
	}
	got = e.expect(t, order.OrderRef, bankid.StatusPending, bankid.HintUserSign)
	if m := bankid.UserMessage(got.Status, got.HintCode, true); m.Key != bankid.RFA9 {
		t.Errorf("UserMessage(userSign) got %q, want %q", m.Key, bankid.RFA9)
	}
	// The user takes a while; the order outlives the 30 s start limit once started.
	e.clock.Advance(time.Minute)
	if err := e.sim.Approve(order.OrderRef, tolvan()); err != nil {
		t.Fatal(err)
	}
	got = e.expect(t, order.OrderRef, bankid.StatusComplete, "")
	cd := got.CompletionData
	if cd == nil {
		t.Fatal("Collect(complete) got no completion data")
	}
	if cd.User.PersonalNumber != tolvan() || cd.User.Name != "Tolvan Tolvansson" || cd.User.GivenName != "Tolvan" || cd.User.Surname != "Tolvansson" {
		t.Errorf("completion user got %+v, want Tolvan Tolvansson", cd.User)
	}
	if cd.Device.IPAddress != "192.0.2.10" || cd.Device.UHI == "" || cd.Signature == "" || cd.OCSPResponse == "" || cd.BankIDIssueDate == "" || cd.Risk != bankid.RiskLow {
		t.Errorf("completion data got %+v", cd)
	}
	if m := bankid.UserMessage(got.Status, got.HintCode, true); m.Key != "" {
		t.Errorf("UserMessage(complete) got %q, want none", m.Key)
	}
	// A complete order can be collected again within the window, not after.
	e.clock.Advance(bankid.CompletedCollectWindow + time.Second)
	if _, err := e.client.Collect(context.Background(), order.OrderRef); !errors.Is(err, bankid.ErrInvalidParameters) {
		t.Errorf("Collect(after window) error %v, want %v", err, bankid.ErrInvalidParameters)
	}
}

func TestSignAndPhoneAuth(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	signed, err := e.client.Sign(ctx, bankid.SignRequest{EndUserIP: "192.0.2.11", UserVisibleData: []byte("Jag samtycker till journalåtkomst"),
		Requirement: &bankid.Requirement{MRTD: true}})
	if err != nil {
		t.Fatal(err)
	}
	orders := e.sim.Orders()
	if len(orders) != 1 || orders[0].Kind != "sign" || orders[0].UserVisibleData != "Jag samtycker till journalåtkomst" {
		t.Errorf("sim.Orders() got %+v, want the decoded sign text", orders)
	}
	anna, _ := pnr.ParseDigits("198507099805")
	if err := e.sim.SetHint(signed.OrderRef, bankid.HintUserMrtd); err != nil {
		t.Fatal(err)
	}
	e.expect(t, signed.OrderRef, bankid.StatusPending, bankid.HintUserMrtd)
	if err := e.sim.Approve(signed.OrderRef, anna); err != nil {
		t.Fatal(err)
	}
	if cd := e.expect(t, signed.OrderRef, bankid.StatusComplete, "").CompletionData; cd.User.PersonalNumber != anna || cd.StepUp == nil || !cd.StepUp.MRTD {
		t.Errorf("sign completion got %+v", cd)
	}
	if _, err := e.client.Sign(ctx, bankid.SignRequest{EndUserIP: "192.0.2.11"}); err == nil {
		t.Errorf("Sign without UserVisibleData error nil, want an error")
	}

	phone, err := e.client.PhoneAuth(ctx, bankid.PhoneAuthRequest{PersonalNumber: tolvan(), CallInitiator: bankid.CallInitiatorRP})
	if err != nil {
		t.Fatal(err)
	}
	if phone.OrderRef == "" || phone.QRStartSecret != "" || phone.AutoStartToken != "" {
		t.Errorf("PhoneAuth got %+v, want only an orderRef", phone)
	}
	e.expect(t, phone.OrderRef, bankid.StatusPending, bankid.HintOutstandingTransaction)
	if err := e.sim.Approve(phone.OrderRef, anna); !errors.Is(err, bankidsim.ErrWrongUser) {
		t.Errorf("sim.Approve(phone order, someone else) error %v, want %v", err, bankidsim.ErrWrongUser)
	}
	if err := e.sim.Start(phone.OrderRef, tolvan()); err != nil {
		t.Fatal(err)
	}
	e.expect(t, phone.OrderRef, bankid.StatusPending, bankid.HintUserCallConfirm)
	if err := e.sim.Fail(phone.OrderRef, bankid.HintUserDeclinedCall); err != nil {
		t.Fatal(err)
	}
	e.expect(t, phone.OrderRef, bankid.StatusFailed, bankid.HintUserDeclinedCall)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	order := e.auth(t, bankid.AuthRequest{})
	if err := e.client.Cancel(ctx, order.OrderRef); err != nil {
		t.Fatalf("Cancel error %v", err)
	}
	_, err := e.client.Collect(ctx, order.OrderRef)
	var be *bankid.Error
	if !errors.As(err, &be) || be.HTTPStatus != http.StatusBadRequest || be.ErrorCode != bankid.CodeInvalidParameters || be.Details != "No such order" {
		t.Errorf("Collect(cancelled) error %v, want 400 invalidParameters No such order", err)
	}
	if err := e.client.Cancel(ctx, order.OrderRef); !errors.Is(err, bankid.ErrInvalidParameters) {
		t.Errorf("Cancel twice error %v, want %v", err, bankid.ErrInvalidParameters)
	}
	if _, err := e.client.Collect(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, bankid.ErrInvalidParameters) {
		t.Errorf("Collect(unknown) error %v, want %v", err, bankid.ErrInvalidParameters)
	}
}

func TestOrderLifetime(t *testing.T) {
	t.Parallel()
	e := setup(t)

	expired := e.auth(t, bankid.AuthRequest{})
	if err := e.sim.Expire(expired.OrderRef); err != nil {
		t.Fatal(err)
	}
	got := e.expect(t, expired.OrderRef, bankid.StatusFailed, bankid.HintExpiredTransaction)
	if m := bankid.UserMessage(got.Status, got.HintCode, true); m.Key != bankid.RFA8 {
		t.Errorf("UserMessage(expiredTransaction) got %q, want %q", m.Key, bankid.RFA8)
	}

	notScanned := e.auth(t, bankid.AuthRequest{})
	started := e.auth(t, bankid.AuthRequest{})
	if err := e.sim.Start(started.OrderRef, tolvan()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(bankid.StartTimeout - time.Second)
	e.expect(t, notScanned.OrderRef, bankid.StatusPending, bankid.HintOutstandingTransaction)
	e.clock.Advance(time.Second)
	got = e.expect(t, notScanned.OrderRef, bankid.StatusFailed, bankid.HintStartFailed)
	if m := bankid.UserMessage(got.Status, got.HintCode, true); m.Key != bankid.RFA17B {
		t.Errorf("UserMessage(startFailed, QR) got %q, want %q", m.Key, bankid.RFA17B)
	}
	e.expect(t, started.OrderRef, bankid.StatusPending, bankid.HintStarted)
	e.clock.Advance(bankid.OrderTimeout - bankid.StartTimeout)
	e.expect(t, started.OrderRef, bankid.StatusFailed, bankid.HintExpiredTransaction)

	// Failed orders stay collectable for FailedCollectWindow after failing.
	e.clock.Advance(bankid.FailedCollectWindow - time.Second)
	e.expect(t, started.OrderRef, bankid.StatusFailed, bankid.HintExpiredTransaction)
	e.clock.Advance(2 * time.Second)
	if _, err := e.client.Collect(context.Background(), started.OrderRef); !errors.Is(err, bankid.ErrInvalidParameters) {
		t.Errorf("Collect(after failed window) error %v, want %v", err, bankid.ErrInvalidParameters)
	}
}

func TestFailureHints(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		hint bankid.HintCode
		want bankid.MessageKey
	}{
		{bankid.HintCertificateErr, bankid.RFA16},
		{bankid.HintUserCancel, bankid.RFA6},
		{bankid.HintCancelled, bankid.RFA3},
		{bankid.HintStartFailed, bankid.RFA17B},
		{bankid.HintExpiredTransaction, bankid.RFA8},
		{bankid.HintUserDeclinedCall, bankid.RFA6},
		{bankid.HintNotSupportedByUserApp, bankid.RFA22},
		{bankid.HintTransactionRiskBlocked, bankid.RFA22},
		{"aCodeFromTheFuture", bankid.RFA22},
	}
	for _, tt := range tests {
		order := e.auth(t, bankid.AuthRequest{})
		if err := e.sim.Fail(order.OrderRef, tt.hint); err != nil {
			t.Fatalf("sim.Fail(%q) error %v", tt.hint, err)
		}
		got := e.expect(t, order.OrderRef, bankid.StatusFailed, tt.hint)
		if m := bankid.UserMessage(got.Status, got.HintCode, true); m.Key != tt.want {
			t.Errorf("UserMessage(failed, %q) got %q, want %q", tt.hint, m.Key, tt.want)
		}
		if err := e.sim.Approve(order.OrderRef, tolvan()); !errors.Is(err, bankidsim.ErrNotPending) {
			t.Errorf("sim.Approve(failed order) error %v, want %v", err, bankidsim.ErrNotPending)
		}
	}

	order := e.auth(t, bankid.AuthRequest{})
	if err := e.sim.UserCancel(order.OrderRef); err != nil {
		t.Fatal(err)
	}
	e.expect(t, order.OrderRef, bankid.StatusFailed, bankid.HintUserCancel)

	unknown := e.auth(t, bankid.AuthRequest{})
	if err := e.sim.SetHint(unknown.OrderRef, "aPendingCodeFromTheFuture"); err != nil {
		t.Fatal(err)
	}
	got := e.expect(t, unknown.OrderRef, bankid.StatusPending, "aPendingCodeFromTheFuture")
	if m := bankid.UserMessage(got.Status, got.HintCode, false); m.Key != bankid.RFA21 {
		t.Errorf("UserMessage(unknown pending) got %q, want %q", m.Key, bankid.RFA21)
	}
	if err := e.sim.SetHint(unknown.OrderRef, bankid.HintUserCancel); !errors.Is(err, bankidsim.ErrInvalidHint) {
		t.Errorf("sim.SetHint(failure code) error %v, want %v", err, bankidsim.ErrInvalidHint)
	}
	if err := e.sim.Fail(unknown.OrderRef, bankid.HintUserSign); !errors.Is(err, bankidsim.ErrInvalidHint) {
		t.Errorf("sim.Fail(pending code) error %v, want %v", err, bankidsim.ErrInvalidHint)
	}
}

func TestAlreadyInProgress(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	req := bankid.AuthRequest{EndUserIP: "192.0.2.12", Requirement: &bankid.Requirement{PersonalNumber: tolvan()}}
	first := e.auth(t, req)

	_, err := e.client.Auth(ctx, req)
	var be *bankid.Error
	if !errors.Is(err, bankid.ErrAlreadyInProgress) || !errors.As(err, &be) || be.HTTPStatus != http.StatusBadRequest {
		t.Fatalf("second Auth error %v, want 400 alreadyInProgress", err)
	}
	if m := bankid.UserMessageForError(err); m.Key != bankid.RFA4 {
		t.Errorf("UserMessageForError(alreadyInProgress) got %q, want %q", m.Key, bankid.RFA4)
	}
	e.expect(t, first.OrderRef, bankid.StatusFailed, bankid.HintCancelled)

	// With the first order gone, a new one can start; the user's app picking
	// up an order cancels their other pending one, as BankID's does.
	third := e.auth(t, req)
	other := e.auth(t, bankid.AuthRequest{})
	if err := e.sim.Start(third.OrderRef, tolvan()); err != nil {
		t.Fatal(err)
	}
	anna, _ := pnr.ParseDigits("198507099805")
	if err := e.sim.Approve(third.OrderRef, anna); !errors.Is(err, bankidsim.ErrWrongUser) {
		t.Errorf("sim.Approve(bound to Tolvan, as Anna) error %v, want %v", err, bankidsim.ErrWrongUser)
	}
	if err := e.sim.Start(other.OrderRef, tolvan()); err != nil {
		t.Fatal(err)
	}
	e.expect(t, third.OrderRef, bankid.StatusFailed, bankid.HintCancelled)
	e.expect(t, other.OrderRef, bankid.StatusPending, bankid.HintStarted)
}

func TestQRCodeEndToEnd(t *testing.T) {
	t.Parallel()
	e := setup(t)
	order := e.auth(t, bankid.AuthRequest{})
	shown := e.clock.Now() // when Nära received the order
	e.clock.Advance(3*time.Second + 400*time.Millisecond)

	stale := bankid.QRCode(order.QRStartToken, order.QRStartSecret, 0)
	forged := bankid.QRCode(order.QRStartToken, "not-the-secret", 3*time.Second)
	future := bankid.QRCode(order.QRStartToken, order.QRStartSecret, 9*time.Second)
	for name, code := range map[string]string{"forged": forged, "future": future, "garbage": "bankid.x.y.z", "empty": ""} {
		if _, err := e.sim.ScanQR(code, tolvan()); !errors.Is(err, bankidsim.ErrInvalidQRCode) {
			t.Errorf("sim.ScanQR(%s) error %v, want %v", name, err, bankidsim.ErrInvalidQRCode)
		}
	}

	current := bankid.QRCode(order.QRStartToken, order.QRStartSecret, e.clock.Now().Sub(shown))
	if !strings.HasPrefix(current, "bankid."+order.QRStartToken+".3.") {
		t.Fatalf("QRCode after 3.4 s got %q, want the .3. frame", current)
	}
	ref, err := e.sim.ScanQR(current, tolvan())
	if err != nil || ref != order.OrderRef {
		t.Fatalf("sim.ScanQR(current) got %q, %v, want %q", ref, err, order.OrderRef)
	}
	e.expect(t, order.OrderRef, bankid.StatusPending, bankid.HintStarted)
	if _, err := e.sim.ScanQR(current, tolvan()); !errors.Is(err, bankidsim.ErrInvalidQRCode) {
		t.Errorf("sim.ScanQR(again) error %v, want %v", err, bankidsim.ErrInvalidQRCode)
	}

	late := e.auth(t, bankid.AuthRequest{})
	e.clock.Advance(bankidsim.DefaultQRMaxAge + 2*time.Second)
	if _, err := e.sim.ScanQR(stale, tolvan()); !errors.Is(err, bankidsim.ErrInvalidQRCode) {
		t.Errorf("sim.ScanQR(stale frame of another order) error %v, want %v", err, bankidsim.ErrInvalidQRCode)
	}
	if _, err := e.sim.ScanQR(bankid.QRCode(late.QRStartToken, late.QRStartSecret, 0), tolvan()); !errors.Is(err, bankidsim.ErrInvalidQRCode) {
		t.Errorf("sim.ScanQR(too old) error %v, want %v", err, bankidsim.ErrInvalidQRCode)
	}
}

func TestBadClientCertificateIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)

	// A client certificate from another simulator's CA.
	otherSim, err := bankidsim.New(bankidsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := bankidsim.Start(otherSim, bankidsim.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	cfg, err := bankid.ConfigFromPEM(e.srv.URL(), e.srv.CACertPEM(), other.ClientCertPEM(), other.ClientKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := bankid.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Close()
	if _, err := rogue.Auth(context.Background(), bankid.AuthRequest{EndUserIP: "192.0.2.1"}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Auth with a foreign client certificate error %v, want a TLS certificate error", err)
	}

	// No client certificate at all.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.srv.CACertPEM())
	bare := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	resp, err := bare.Post(e.srv.URL()+"/auth", "application/json", strings.NewReader(`{"endUserIp":"192.0.2.1"}`))
	if err == nil {
		resp.Body.Close()
		t.Errorf("POST without a client certificate got HTTP %d, want a TLS error", resp.StatusCode)
	}

	// The server's certificate is not trusted without the simulator's CA.
	wrongCA, err := bankid.ConfigFromPEM(e.srv.URL(), other.CACertPEM(), e.srv.ClientCertPEM(), e.srv.ClientKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	distrustful, err := bankid.New(wrongCA)
	if err != nil {
		t.Fatal(err)
	}
	defer distrustful.Close()
	if _, err := distrustful.Auth(context.Background(), bankid.AuthRequest{EndUserIP: "192.0.2.1"}); err == nil {
		t.Errorf("Auth trusting the wrong CA error nil, want a certificate error")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	e := setup(t)
	good, err := e.srv.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*bankid.Config)
	}{
		{"http", func(c *bankid.Config) { c.BaseURL = strings.Replace(c.BaseURL, "https", "http", 1) }},
		{"wrong version", func(c *bankid.Config) { c.BaseURL = strings.Replace(c.BaseURL, "v6.0", "v5.1", 1) }},
		{"no CA", func(c *bankid.Config) { c.RootCAs = nil }},
		{"no certificate", func(c *bankid.Config) { c.Certificate = tls.Certificate{} }},
	}
	for _, tt := range tests {
		cfg := good
		tt.mutate(&cfg)
		if _, err := bankid.New(cfg); err == nil {
			t.Errorf("New(%s) error nil, want an error", tt.name)
		}
	}
	withSlash := good
	withSlash.BaseURL += "/"
	if c, err := bankid.New(withSlash); err != nil {
		t.Errorf("New(trailing slash) error %v, want nil", err)
	} else {
		c.Close()
	}
	if _, err := bankid.LoadConfig(e.srv.URL(), "/nonexistent/ca.pem", "x", "y"); err == nil {
		t.Errorf("LoadConfig(missing files) error nil, want an error")
	}
	if _, err := bankid.ConfigFromPEM(e.srv.URL(), []byte("junk"), e.srv.ClientCertPEM(), e.srv.ClientKeyPEM()); err == nil {
		t.Errorf("ConfigFromPEM(junk CA) error nil, want an error")
	}
}
