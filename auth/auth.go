// Package auth is who is calling: citizens' BankID (and Freja eID Plus)
// logins, staff logins through the region's OIDC provider with a chosen
// care assignment, sessions with short access tokens and rotating refresh
// tokens, and a citizen's access log. Its Authenticate turns a request's
// token into the principal every other part's rules read. Sessions are
// kept in memory per replica and dropped through the change feed the
// moment they change anywhere.
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/changefeed"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/windowlimit"
)

// Config holds the login and session settings.
type Config struct {
	// AccessTokenTTL is how long an access token is valid. Default 10 min.
	AccessTokenTTL time.Duration
	// CitizenSessionTTL is how long a citizen stays logged in on a device
	// without logging in again. Default 30 days.
	CitizenSessionTTL time.Duration
	// StaffSessionTTL is the same for staff: a working day. Default 12 h.
	StaffSessionTTL time.Duration
	// Limits are the rate limits. Zero fields take their defaults.
	Limits RateLimits
	// PublicURL is where clients reach the server, for the staff login
	// page's command; never taken from a request's Host header. Default
	// http://localhost:8080.
	PublicURL string
	// BankIDVisibleText is what the BankID app shows the user about the
	// order (userVisibleData, simpleMarkdownV1), so they can tell a relayed
	// QR code from Nära's own. At most 1 125 bytes of UTF-8, BankID's limit
	// of 1 500 base64 characters for auth. Default "Logga in i Nära".
	BankIDVisibleText string
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

// Deps are what logins need. All are required but Now.
type Deps struct {
	Logger *slog.Logger
	Store  *store.Store
	// Hub delivers every replica's session changes.
	Hub *changefeed.Hub
	// BankID is the BankID RP API client.
	BankID BankID
	// StaffProvider is the staff identity provider (OIDC).
	StaffProvider StaffProvider
	// Protector encrypts and hashes personal identity numbers.
	Protector *pnr.Protector
	// TokenKey signs access tokens; at least 32 bytes.
	TokenKey []byte
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Auth serves CitizenAuthService, ClinicianAuthService, SessionService,
// AccessLogService and the staff login's landing page, and authenticates
// every request. It is a rpc.Domain.
type Auth struct {
	store        *store.Store
	logger       *slog.Logger
	issuer       *sessionIssuer
	citizen      *citizenAuthService
	staff        *clinicianAuthService
	sessions     *sessionService
	accessLog    *accessLogService
	callbackPage *staffCallbackPage
}

// New returns the logins over d.
func New(cfg Config, d Deps) (*Auth, error) {
	cfg.setDefaults()
	if n := len(cfg.BankIDVisibleText); n > maxVisibleTextBytes {
		return nil, fmt.Errorf("the BankID visible text is %d bytes; BankID takes at most %d", n, maxVisibleTextBytes)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	signer, err := token.NewSigner(d.TokenKey, d.Now)
	if err != nil {
		return nil, err
	}
	cache := newSessionCache(d.Now)
	d.Hub.Follow(store.TopicSession, cache)
	issuer := &sessionIssuer{
		store: d.Store, signer: signer, protector: d.Protector, now: d.Now, sessions: cache, custody: rpc.NewCustody(d.Store, d.Now),
		accessTTL: cfg.AccessTokenTTL, citizenSessionTTL: cfg.CitizenSessionTTL, staffSessionTTL: cfg.StaffSessionTTL,
	}
	staff := &clinicianAuthService{store: d.Store, logger: d.Logger, idp: d.StaffProvider, issuer: issuer, limits: cfg.Limits, now: d.Now}
	return &Auth{
		store: d.Store, logger: d.Logger, issuer: issuer, staff: staff,
		citizen: &citizenAuthService{
			store: d.Store, logger: d.Logger, bankID: d.BankID, sessions: issuer, limits: cfg.Limits, now: d.Now,
			visibleText: []byte(cfg.BankIDVisibleText),
		},
		sessions: &sessionService{
			store: d.Store, issuer: issuer, staff: staff, limits: cfg.Limits,
			unverified: windowlimit.New(cfg.Limits.UnverifiedRefreshesPerIPPerHour, time.Hour, d.Now),
		},
		accessLog:    &accessLogService{store: d.Store},
		callbackPage: newStaffCallbackPage(cfg.PublicURL),
	}, nil
}

// Authenticate finds the principal of a request from its Authorization
// header; the server's authorization interceptor calls it.
func (a *Auth) Authenticate(ctx context.Context, h http.Header) (access.Principal, bool, error) {
	return a.issuer.Authenticate(ctx, h)
}

// Mount serves the login services and the staff login's landing page.
// Starting and following a login is public; the refresh token is its own
// credential; a citizen reads their own or their child's access log.
func (a *Auth) Mount(m *rpc.Mount) error {
	opts := m.Options()
	path, h := authv1connect.NewCitizenAuthServiceHandler(a.citizen, opts)
	m.Service(authv1connect.CitizenAuthServiceName, path, h)
	m.Public(
		authv1connect.CitizenAuthServiceStartLoginProcedure,
		authv1connect.CitizenAuthServiceWatchLoginProcedure,
		authv1connect.CitizenAuthServicePollLoginProcedure,
		authv1connect.CitizenAuthServiceCancelLoginProcedure,
	)
	path, h = authv1connect.NewClinicianAuthServiceHandler(a.staff, opts)
	m.Service(authv1connect.ClinicianAuthServiceName, path, h)
	m.Public(
		authv1connect.ClinicianAuthServiceStartStaffLoginProcedure,
		authv1connect.ClinicianAuthServiceCompleteStaffLoginProcedure,
	)
	m.LoggedIn(authv1connect.ClinicianAuthServiceSelectAssignmentProcedure)
	path, h = authv1connect.NewSessionServiceHandler(a.sessions, opts)
	m.Service(authv1connect.SessionServiceName, path, h)
	m.Public(authv1connect.SessionServiceRefreshSessionProcedure)
	m.LoggedIn(
		authv1connect.SessionServiceGetMeProcedure,
		authv1connect.SessionServiceListSessionsProcedure,
		authv1connect.SessionServiceSignOutProcedure,
		authv1connect.SessionServiceSignOutEverywhereProcedure,
	)
	path, h = authv1connect.NewAccessLogServiceHandler(a.accessLog, opts)
	m.Service(authv1connect.AccessLogServiceName, path, h)
	m.Rule(rpc.PatientRule, authv1connect.AccessLogServiceListMyAccessLogProcedure)
	m.Page("GET /auth/staff/callback", http.HandlerFunc(a.staffCallback))
	return nil
}
