package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/appointment"
	"github.com/nara-care/nara/auth"
	"github.com/nara-care/nara/changefeed"
	"github.com/nara-care/nara/demo"
	"github.com/nara-care/nara/help"
	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/bankid/bankidsim"
	"github.com/nara-care/nara/identity/oidc"
	"github.com/nara-care/nara/identity/oidcdev"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/internal/clocktest"
	"github.com/nara-care/nara/patient"
	pushdevice "github.com/nara-care/nara/push/device"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/server"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
	"github.com/nara-care/nara/support"
)

// testKey signs the test servers' access tokens.
var testKey = []byte(strings.Repeat("nara-test-key-", 4))

type env struct {
	url   string
	store *store.Store
	// client speaks HTTP/1.1 (Connect, gRPC-Web); h2c speaks HTTP/2 without
	// TLS (gRPC, streaming).
	client, h2c *http.Client
	logs        *lockedWriter
	sim         *bankidsim.Simulator
	protector   *pnr.Protector
	signer      *token.Signer
	// cfg, deps, parts and o built the server, for replica.
	cfg   server.Config
	deps  server.Deps
	parts parts
	o     options
	srv   *server.Server
	// metrics is where each replica (by its API URL) serves its metrics.
	metrics map[string]string
}

// parts are what the domains are built from besides the server's deps.
type parts struct {
	hub       *changefeed.Hub
	notices   *notify.Service
	bank      auth.BankID
	idp       auth.StaffProvider
	protector *pnr.Protector
}

type options struct {
	cfg server.Config
	// auth sets the logins (limits, the BankID text, token lifetimes).
	auth auth.Config
	// publicURL is the server's public address (calendar feed links, the
	// staff login page).
	publicURL string
	// listCacheSize is the appointment list cache's size (-1: off).
	listCacheSize int
	// push, when set, starts the push queue with this sender: notices are
	// sent, not only enqueued.
	push notify.Sender
	// mail, when set, mails support's replies through its relay with a
	// running job queue, and receives the support service built.
	mail *mailSetup
}

func setup(t *testing.T) *env {
	t.Helper()
	return setupWith(t, options{})
}

func setupWith(t *testing.T, o options) *env {
	t.Helper()
	logs := &lockedWriter{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	hub := changefeed.New(changefeed.Config{}, logger)
	st := store.New(storetest.NewPool(t), store.Options{Committed: hub.Committed})
	ctx := context.Background()
	protector, err := pnr.NewProtector(pnr.Key{ID: "test", Secret: []byte(strings.Repeat("p", 32))})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, st, protector); err != nil {
		t.Fatal(err)
	}
	sim, err := bankidsim.New(bankidsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	simServer, err := bankidsim.Start(sim, bankidsim.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { simServer.Close() })
	bankCfg, err := simServer.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	bank, err := bankid.New(bankCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bank.Close)

	// The server's URL must be known before it is built: the identity
	// provider redirects to it.
	var handler http.Handler
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = server.NewHTTPServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	ts.Start()
	t.Cleanup(ts.Close)

	redirect := ts.URL + "/auth/staff/callback"
	dev, err := oidcdev.Start(oidcdev.Config{
		Clients: []oidcdev.Client{{ID: "nara-test", Secret: "test-secret", RedirectURIs: []string{redirect}}},
		Users:   oidcdev.TestUsers(),
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	idp, err := oidc.New(ctx, oidc.Config{Issuer: dev.Issuer(), ClientID: "nara-test", ClientSecret: "test-secret", RedirectURL: redirect})
	if err != nil {
		t.Fatal(err)
	}

	cfg := o.cfg
	cfg.Version = "test"
	cfg.MinimumAppVersions = map[string]string{"ios": "4.0"}
	// Not started unless o.push is set: tests see the notices and jobs it
	// enqueues, nothing is sent.
	notices, err := notify.New(notify.Config{}, notify.Deps{Logger: logger, Store: st, Sender: o.push})
	if err != nil {
		t.Fatal(err)
	}
	if o.push != nil {
		if err := notices.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = notices.Stop(context.Background()) })
	}
	deps := server.Deps{Logger: logger, Store: st}
	ps := parts{hub: hub, notices: notices, bank: bank, idp: idp, protector: protector}
	srv, metricsURL := startServer(t, cfg, deps, ps, o)
	handler = srv.Handler()
	signer, err := token.NewSigner(testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{url: ts.URL, store: st, client: newClient(false), h2c: newClient(true), logs: logs,
		sim: sim, protector: protector, signer: signer, cfg: cfg, deps: deps, parts: ps, o: o, srv: srv, metrics: map[string]string{ts.URL: metricsURL}}
}

// startServer builds a server and runs its background work until the test
// ends. Its metrics are served apart, at metricsURL, as cmd/nara serves
// them on NARA_METRICS_ADDR.
func startServer(t *testing.T, cfg server.Config, deps server.Deps, ps parts, o options) (srv *server.Server, metricsURL string) {
	t.Helper()
	reg := prometheus.NewRegistry()
	deps.Registry = reg
	metrics := httptest.NewServer(server.MetricsHandler(reg))
	t.Cleanup(metrics.Close)
	deps.Authenticator, deps.Domains = domains(t, deps, ps, o)
	srv, err := server.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(runCtx); close(done) }()
	hubDone := make(chan struct{})
	go func() { ps.hub.Run(runCtx, deps.Store); close(hubDone) }()
	t.Cleanup(func() { cancel(); <-done; <-hubDone })
	// Ready as a replica is once it follows the change feed: before that
	// its caches are off.
	clocktest.Eventually(t, 10*time.Second, "the change feed to be followed", ps.hub.Live)
	return srv, metrics.URL
}

// domains builds the parts of the product that live in their own
// packages over deps' store and hub, as cmd/nara does.
func domains(t *testing.T, deps server.Deps, ps parts, o options) (server.Authenticator, []rpc.Domain) {
	t.Helper()
	notices := ps.notices
	cfg := o.auth
	cfg.PublicURL = o.publicURL
	logins, err := auth.New(cfg, auth.Deps{
		Logger: deps.Logger, Store: deps.Store, Hub: ps.hub, BankID: ps.bank, StaffProvider: ps.idp, Protector: ps.protector,
		TokenKey: testKey, Now: deps.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	helpContent, err := help.New(help.Config{}, help.Deps{Store: deps.Store, Hub: ps.hub, Now: deps.Now})
	if err != nil {
		t.Fatal(err)
	}
	appointments, err := appointment.New(appointment.Config{ListCacheSize: o.listCacheSize, PublicURL: o.publicURL}, appointment.Deps{
		Logger: deps.Logger, Store: deps.Store, Hub: ps.hub, Notify: notices, Registry: deps.Registry, Now: deps.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	supportCfg, supportDeps := support.Config{}, support.Deps{Logger: deps.Logger, Store: deps.Store, Hub: ps.hub, Notify: notices}
	if o.mail != nil {
		supportCfg.MailDomain, supportCfg.PublicURL = o.mail.domain, o.mail.publicURL
		supportCfg.MailWebhookSecret = o.mail.webhookSecret
		supportDeps.Jobs = o.mail.startJobs(t, deps)
	}
	supportDesk := support.New(supportCfg, supportDeps)
	if o.mail != nil {
		o.mail.support = supportDesk
	}
	return logins, []rpc.Domain{
		logins, helpContent, appointments, supportDesk,
		patient.New(patient.Deps{Store: deps.Store, Protector: ps.protector, Now: deps.Now}),
		pushdevice.New(pushdevice.Deps{Store: deps.Store, Now: deps.Now}),
	}
}

// replica starts a second server over the same database, as another
// replica behind the load balancer, and returns its URL. It has a store of
// its own, so it hears of the first one's changes only as any replica does.
func (e *env) replica(t *testing.T) string {
	t.Helper()
	deps, ps := e.deps, e.parts
	ps.hub = changefeed.New(changefeed.Config{}, deps.Logger)
	deps.Store = store.New(e.store.Pool(), store.Options{Committed: ps.hub.Committed})
	srv, metricsURL := startServer(t, e.cfg, deps, ps, e.o)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e.metrics[ts.URL] = metricsURL
	return ts.URL
}

// newClient returns an HTTP/1.1 client, or with h2c one that speaks only
// unencrypted HTTP/2, as gRPC clients do.
func newClient(h2c bool) *http.Client {
	p := new(http.Protocols)
	if h2c {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	return &http.Client{Transport: &http.Transport{Protocols: p, DialContext: (&net.Dialer{}).DialContext}}
}

// transport is one wire protocol over the HTTP version its clients use.
type transport struct {
	client *http.Client
	opts   []connect.ClientOption
}

// protocols are the wire protocols every handler test runs over.
func (e *env) protocols() map[string]transport {
	return map[string]transport{
		"connect":     {e.client, nil},
		"connect-h2c": {e.h2c, nil},
		"grpc":        {e.h2c, []connect.ClientOption{connect.WithGRPC()}},
		"grpc-web":    {e.client, []connect.ClientOption{connect.WithGRPCWeb()}},
	}
}

// bearer sends an access token with every request.
func bearer(tok string) connect.ClientOption {
	return connect.WithInterceptors(bearerInterceptor("Bearer " + tok))
}

// bearerInterceptor sets the Authorization header of unary calls and
// streams alike.
type bearerInterceptor string

func (b bearerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", string(b))
		return next(ctx, req)
	}
}

func (b bearerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", string(b))
		return conn
	}
}

func (b bearerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// staff opens a real staff session, as a completed SITHS login would, with
// roles and assignments, and returns an option that authenticates as it.
// With assignmentID set, the token acts within that assignment.
func (e *env) staff(t *testing.T, hsaID string, roles []access.Role, assignments []access.Assignment, assignmentID string) connect.ClientOption {
	t.Helper()
	raw, err := json.Marshal(assignments)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, string(r))
	}
	_, hash := token.NewRefresh()
	sess, err := e.store.StaffSessionCreate(context.Background(), hsaID, "Test "+hsaID, names, store.Session{
		DeviceID: "test-device", Platform: "web", Assignments: raw, ExpiresAt: time.Now().Add(time.Hour),
	}, hash)
	if err != nil {
		t.Fatal(err)
	}
	if assignmentID != "" {
		names = append(names, string(access.RoleClinician))
		if err := e.store.SessionSelectAssignment(context.Background(), sess.ID, assignmentID); err != nil {
			t.Fatal(err)
		}
	}
	tok, _, err := e.signer.Issue(token.Claims{
		SessionID: sess.ID, Subject: hsaID, Kind: token.KindStaff, Name: "Test " + hsaID, Roles: names, AssignmentID: assignmentID,
	}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return bearer(tok)
}

// roles authenticates as a staff member with roles and no assignment.
func (e *env) roles(t *testing.T, rs ...access.Role) connect.ClientOption {
	t.Helper()
	return e.staff(t, "SE2321000016-T"+strings.ReplaceAll(string(rs[0]), "_", ""), rs, nil, "")
}

// lockedWriter lets concurrent handlers log into one buffer that tests read.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// mustForeignToken is a well-formed token signed with another key.
func mustForeignToken(t *testing.T) string {
	t.Helper()
	s, err := token.NewSigner([]byte(strings.Repeat("other-key-", 4)), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Issue(token.Claims{SessionID: "00000000-0000-0000-0000-000000000000", Subject: "x", Kind: token.KindCitizen}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
