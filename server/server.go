// Package server assembles Nära's Connect services into one HTTP handler:
// validation, authorization, error mapping, metrics, health and reflection.
// It serves Connect, gRPC and gRPC-Web on the same paths.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/otelconnect"
	"connectrpc.com/validate"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/changefeed"
	"github.com/nara-care/nara/gen/nara/app/v1/appv1connect"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	"github.com/nara-care/nara/gen/nara/patient/v1/patientv1connect"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/windowlimit"
)

// Config holds the server's settings.
type Config struct {
	// Version is the build version reported to apps. Default "dev".
	Version string
	// MaxRequestBytes bounds a request body. Default 1 MiB.
	MaxRequestBytes int64
	// RequestTimeout bounds a unary RPC's handling. Default 15 s.
	RequestTimeout time.Duration
	// MinimumAppVersions is the oldest supported app version per platform
	// ("ios", "android", "web"). Default: none, every version is supported.
	MinimumAppVersions map[string]string
	// AccessTokenTTL is how long an access token is valid. Default 10 min.
	AccessTokenTTL time.Duration
	// CitizenSessionTTL is how long a citizen stays logged in on a device
	// without logging in again. Default 30 days.
	CitizenSessionTTL time.Duration
	// StaffSessionTTL is the same for staff: a working day. Default 12 h.
	StaffSessionTTL time.Duration
	// Limits are the rate limits. Zero fields take their defaults.
	Limits RateLimits
	// CORSOrigins are the web origins browsers may call the API from ("*" for
	// any). Default none: only same-origin pages.
	CORSOrigins []string
	// PublicURL is where clients reach the server, for the links it hands
	// out (calendar feeds, the staff login page's command); never taken
	// from a request's Host header. Default http://localhost:8080.
	PublicURL string
	// TrustedProxies are the load balancers whose X-Forwarded-For or
	// Forwarded headers name the client's address (NARA_TRUSTED_PROXIES).
	// Default none: the client is the TCP peer.
	TrustedProxies []netip.Prefix
	// BankIDVisibleText is what the BankID app shows the user about the
	// order (userVisibleData, simpleMarkdownV1), so they can tell a relayed
	// QR code from Nära's own. At most 1 125 bytes of UTF-8, BankID's limit
	// of 1 500 base64 characters for auth. Default "Logga in i Nära".
	BankIDVisibleText string
	// LocalPages are the pages of the stand-ins running beside the server,
	// linked from the landing page at /. Default none.
	LocalPages []Link
}

// RateLimits bound how often a caller may do costly or sensitive things.
// They are counted in PostgreSQL, so they hold across replicas, unless a
// field says otherwise.
type RateLimits struct {
	// LoginStartsPerIPPerMinute bounds e-ID orders per client address, and
	// separately staff logins started per address. Default 30 (a household
	// or office shares an address).
	LoginStartsPerIPPerMinute int
	// LoginsPerPersonPerHour bounds completed logins per person. Default 20.
	LoginsPerPersonPerHour int
	// RefreshesPerDevicePerHour bounds the refreshes of one session (one
	// device's login), counted only for the session's own refresh tokens.
	// Default 120.
	RefreshesPerDevicePerHour int
	// UnverifiedRefreshesPerIPPerHour bounds refreshes with tokens that are
	// not a session's own (unknown, or another device's) per client address;
	// an app that lost its login makes one. Counted in each replica's
	// memory. Default 60.
	UnverifiedRefreshesPerIPPerHour int
}

func (c *Config) setDefaults() {
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 1 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 15 * time.Second
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = 10 * time.Minute
	}
	if c.CitizenSessionTTL == 0 {
		c.CitizenSessionTTL = 30 * 24 * time.Hour
	}
	if c.StaffSessionTTL == 0 {
		c.StaffSessionTTL = 12 * time.Hour
	}
	if c.Limits.LoginStartsPerIPPerMinute == 0 {
		c.Limits.LoginStartsPerIPPerMinute = 30
	}
	if c.Limits.LoginsPerPersonPerHour == 0 {
		c.Limits.LoginsPerPersonPerHour = 20
	}
	if c.Limits.RefreshesPerDevicePerHour == 0 {
		c.Limits.RefreshesPerDevicePerHour = 120
	}
	if c.Limits.UnverifiedRefreshesPerIPPerHour == 0 {
		c.Limits.UnverifiedRefreshesPerIPPerHour = 60
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://localhost:8080"
	}
	if c.BankIDVisibleText == "" {
		c.BankIDVisibleText = "Logga in i Nära"
	}
}

// Authenticator finds the principal of a request from its headers. It returns
// (zero, false, nil) for an anonymous request and an error for credentials
// that are present but not valid.
type Authenticator interface {
	Authenticate(ctx context.Context, header http.Header) (access.Principal, bool, error)
}

// Deps are the server's collaborators. All are required but Registry and Now.
type Deps struct {
	Logger *slog.Logger
	Store  *store.Store
	// BankID is the BankID RP API client.
	BankID BankID
	// StaffProvider is the staff identity provider (OIDC).
	StaffProvider StaffProvider
	// Protector encrypts and hashes personal identity numbers.
	Protector *pnr.Protector
	// TokenKey signs access tokens; at least 32 bytes.
	TokenKey []byte
	// Hub delivers the change feed: every replica's changes to what this
	// one keeps in memory or streams. Its Run is the caller's to start,
	// with the Store as its source.
	Hub *changefeed.Hub
	// Registry receives the server's metrics; nil keeps them unregistered.
	// They are served apart from the API, by MetricsHandler.
	Registry prometheus.Registerer
	// Tracer provides OpenTelemetry tracing; nil uses the global provider
	// (a no-op unless the process configured one).
	Tracer trace.TracerProvider
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Domains are the parts of the product that live in their own
	// packages, mounted beside the services above.
	Domains []rpc.Domain
}

// Server is Nära's API. Build it with New and serve Handler.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	store   *store.Store
	metrics *metrics
	// sessions spares authenticated requests a session read.
	sessions *sessionCache
	mux      *http.ServeMux
	// callbackPage is the staff login's default landing page.
	callbackPage *staffCallbackPage
	// services names every Connect service served, the domains' too.
	services []string
	// encoders keep answers encoded, for the JSON codec.
	encoders []rpc.Encoder
	// rules is every RPC's authorization rule, the domains' too.
	rules map[string]rpc.Rule
	// runners are the domains with background work.
	runners []rpc.Runner
}

// New builds the server.
func New(cfg Config, d Deps) (*Server, error) {
	cfg.setDefaults()
	if n := len(cfg.BankIDVisibleText); n > maxVisibleTextBytes {
		return nil, fmt.Errorf("the BankID visible text is %d bytes; BankID takes at most %d", n, maxVisibleTextBytes)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	signer, err := token.NewSigner(d.TokenKey, d.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		logger:  d.Logger,
		store:   d.Store,
		metrics: m,
		mux:     http.NewServeMux(),

		services: serviceNames(),

		callbackPage: newStaffCallbackPage(cfg.PublicURL),
	}
	s.sessions = newSessionCache(d.Now)
	d.Hub.Follow(store.TopicSession, s.sessions)
	issuer := &sessionIssuer{
		store: d.Store, signer: signer, protector: d.Protector, now: d.Now, sessions: s.sessions, custody: rpc.NewCustody(d.Store, d.Now),
		accessTTL: cfg.AccessTokenTTL, citizenSessionTTL: cfg.CitizenSessionTTL, staffSessionTTL: cfg.StaffSessionTTL,
	}
	staff := &clinicianAuthService{store: d.Store, logger: d.Logger, idp: d.StaffProvider, issuer: issuer, limits: cfg.Limits, now: d.Now}

	rules := procedureRules()
	s.rules = rules
	tracerOpts := []otelconnect.Option{otelconnect.WithoutMetrics()}
	if d.Tracer != nil {
		tracerOpts = append(tracerOpts, otelconnect.WithTracerProvider(d.Tracer))
	}
	tracing, err := otelconnect.NewInterceptor(tracerOpts...)
	if err != nil {
		return nil, err
	}
	// Every handler reads at most MaxRequestBytes of a message, inflated
	// or not.
	bounded := connect.WithHandlerOptions(connect.WithReadMaxBytes(int(cfg.MaxRequestBytes)), boundedGzip(cfg.MaxRequestBytes))
	opts := connect.WithHandlerOptions(
		connect.WithInterceptors(
			noStoreInterceptor{},
			tracing,
			s.metrics.interceptor(),
			newErrorInterceptor(d.Logger),
			newTimeoutInterceptor(cfg.RequestTimeout),
			newAuthzInterceptor(issuer, rules, d.Now),
			violationInterceptor{},
			validate.NewInterceptor(),
			newScopeInterceptor(rules, issuer.custody.PatientsOf),
		),
		bounded,
		connect.WithCompressMinBytes(1024),
		connect.WithCodec(jsonCodec{encoders: &s.encoders}),
	)
	s.mux.Handle(appv1connect.NewAppServiceHandler(&appService{cfg: cfg}, opts))
	s.mux.Handle(authv1connect.NewCitizenAuthServiceHandler(&citizenAuthService{
		store: d.Store, logger: d.Logger, bankID: d.BankID, sessions: issuer, limits: cfg.Limits, now: d.Now,
		visibleText: []byte(cfg.BankIDVisibleText),
	}, opts))
	s.mux.Handle(authv1connect.NewClinicianAuthServiceHandler(staff, opts))
	s.mux.Handle(authv1connect.NewSessionServiceHandler(&sessionService{
		store: d.Store, issuer: issuer, staff: staff, limits: cfg.Limits,
		unverified: windowlimit.New(cfg.Limits.UnverifiedRefreshesPerIPPerHour, time.Hour, d.Now),
	}, opts))
	s.mux.Handle(authv1connect.NewAccessLogServiceHandler(&accessLogService{store: d.Store}, opts))
	s.mux.Handle(patientv1connect.NewPatientServiceHandler(&patientService{store: d.Store, protector: d.Protector, now: d.Now}, opts))
	s.mux.Handle(pushv1connect.NewDeviceServiceHandler(&deviceService{store: d.Store}, opts))
	s.mux.Handle(pushv1connect.NewNotificationServiceHandler(&notificationService{store: d.Store, now: d.Now}, opts))

	if err := s.mountDomains(d.Domains, opts, rules); err != nil {
		return nil, err
	}
	for _, dom := range d.Domains {
		if r, ok := dom.(rpc.Runner); ok {
			s.runners = append(s.runners, r)
		}
	}

	s.mux.Handle((&healthService{store: d.Store, services: s.services}).handler(connect.WithInterceptors(s.metrics.interceptor()), bounded))
	reflector := grpcreflect.NewStaticReflector(s.services...)
	s.mux.Handle(grpcreflect.NewHandlerV1(reflector, bounded))
	s.mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, bounded))
	s.mux.HandleFunc("GET /auth/staff/callback", s.staffCallback)
	if err := mountAPIDocs(s.mux); err != nil {
		return nil, err
	}
	if err := mountFront(s.mux, cfg.Version, cfg.LocalPages); err != nil {
		return nil, err
	}
	return s, nil
}

// serviceNames lists the built-in services; Server.services adds the
// domains' for reflection and health.
func serviceNames() []string {
	return []string{
		appv1connect.AppServiceName,
		authv1connect.CitizenAuthServiceName,
		authv1connect.ClinicianAuthServiceName,
		authv1connect.SessionServiceName,
		authv1connect.AccessLogServiceName,
		patientv1connect.PatientServiceName,
		pushv1connect.DeviceServiceName,
		pushv1connect.NotificationServiceName,
		healthServiceName,
	}
}

// Rules returns every RPC's authorization rule, the domains' too, by
// procedure path (for documentation and tests; do not change it).
func (s *Server) Rules() map[string]rpc.Rule { return s.rules }

// Handler returns the HTTP handler that serves every RPC.
func (s *Server) Handler() http.Handler {
	return withClientAddr(withCORS(http.MaxBytesHandler(withHelpfulErrors(s.mux, s.services), s.cfg.MaxRequestBytes+4096), s.cfg.CORSOrigins), s.cfg.TrustedProxies)
}

// Run runs the domains' background work until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	for _, r := range s.runners {
		go func() {
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("a domain's background work stopped", slog.String("error", err.Error()))
			}
		}()
	}
	<-ctx.Done()
	return nil
}

// NewHTTPServer returns an http.Server for h with the timeouts and limits a
// public endpoint needs, speaking HTTP/1.1 and unencrypted HTTP/2 (h2c) so
// gRPC clients can connect without TLS behind a terminating load balancer.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		Protocols:         p,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Streaming RPCs (login progress, unit notices) hold responses
		// open; they bound themselves, so no WriteTimeout here.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
}
