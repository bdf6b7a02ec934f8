package oidc_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/nara-care/nara/identity/oidc"
	"github.com/nara-care/nara/identity/oidcdev"
	"github.com/nara-care/nara/internal/clocktest"
)

const (
	clientID     = "nara"
	clientSecret = "s3cret/with+odd=chars"
	redirectURL  = "http://127.0.0.1:8080/auth/oidc/callback"
)

type env struct {
	client *oidc.Client
	dev    *oidcdev.Server
	clock  *clocktest.Clock // the provider's clock; it starts at the real time
}

// setup starts a local provider and a client for it. The client may be
// given another secret, to test a misconfigured deployment.
func setup(t *testing.T, secret string) env {
	t.Helper()
	clk := clocktest.New(time.Now())
	dev, err := oidcdev.Start(oidcdev.Config{
		Clients: []oidcdev.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURL}}},
		Now:     clk.Now,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	client, err := oidc.New(t.Context(), oidc.Config{
		Issuer:       dev.Issuer(),
		ClientID:     clientID,
		ClientSecret: secret,
		RedirectURL:  redirectURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return env{client: client, dev: dev, clock: clk}
}

// authorize plays the browser: it opens the authorization URL with a
// login_hint, so the provider logs hsaID in at once, and reads the code and
// state from the redirect without following it.
func authorize(t *testing.T, start oidc.LoginStart, hsaID string) oidc.Callback {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(start.URL + "&login_hint=" + url.QueryEscape(hsaID))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET authorization URL got %s, want 302", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := strings.Cut(loc.String(), "?"); got != redirectURL {
		t.Fatalf("redirected to %s, want %s", got, redirectURL)
	}
	cb, err := oidc.ParseCallback(loc.Query())
	if err != nil {
		t.Fatalf("ParseCallback(%s): %v", loc.RawQuery, err)
	}
	if cb.State != start.State {
		t.Fatalf("state came back as %q, want %q", cb.State, start.State)
	}
	return cb
}

func login(t *testing.T, e env, hsaID string) (oidc.Identity, error) {
	t.Helper()
	start, err := e.client.Start()
	if err != nil {
		t.Fatal(err)
	}
	cb := authorize(t, start, hsaID)
	return e.client.Complete(t.Context(), cb.Code, start.Verifier, start.Nonce)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := setup(t, clientSecret)
	now := time.Now()
	tests := []struct {
		hsaID, name string
		roles       []string
		assignments int
		atDigital   error // what AssignmentAt(digital unit) says
	}{
		{oidcdev.HSAIDNurse, "Karin Sjöberg", nil, 1, nil},
		{oidcdev.HSAIDDoctor, "Erik Lindqvist", nil, 2, nil},
		{oidcdev.HSAIDDoctorNoAssign, "Sara Nyberg", nil, 0, oidc.ErrNoAssignment},
		{oidcdev.HSAIDDoctorExpired, "Johan Berg", nil, 1, oidc.ErrAssignmentExpired},
		{oidcdev.HSAIDDoctorAdminOnly, "Maria Holm", nil, 1, oidc.ErrWrongPurpose},
		{oidcdev.HSAIDDoctorSolna, "Ali Hassan", nil, 1, oidc.ErrOtherUnit},
		{oidcdev.HSAIDSupportFirstLine, "Lena Ek", []string{"support_first_line"}, 0, oidc.ErrNoAssignment},
		{oidcdev.HSAIDSupportSecondLine, "Per Strand", []string{"support_second_line"}, 0, oidc.ErrNoAssignment},
		{oidcdev.HSAIDUnitAdmin, "Eva Dahl", []string{"unit_admin"}, 1, oidc.ErrWrongPurpose},
		{oidcdev.HSAIDRegionAdmin, "Olof Wik", []string{"region_admin"}, 0, oidc.ErrNoAssignment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := login(t, e, tt.hsaID)
			if err != nil {
				t.Fatalf("login as %s: %v", tt.hsaID, err)
			}
			if id.HSAID != tt.hsaID || id.Name != tt.name {
				t.Errorf("identity is %s %q, want %s %q", id.HSAID, id.Name, tt.hsaID, tt.name)
			}
			if !slices.Equal(id.Roles, tt.roles) {
				t.Errorf("roles %v, want %v", id.Roles, tt.roles)
			}
			if len(id.Assignments) != tt.assignments {
				t.Errorf("%d assignments, want %d", len(id.Assignments), tt.assignments)
			}
			_, err = id.AssignmentAt(oidcdev.UnitDigitalHSAID, now)
			if !errors.Is(err, tt.atDigital) || (tt.atDigital == nil) != (err == nil) {
				t.Errorf("AssignmentAt(digital unit) got %v, want %v", err, tt.atDigital)
			}
		})
	}
}

// TestLoginAssignment checks that an assignment arrives whole.
func TestLoginAssignment(t *testing.T) {
	t.Parallel()
	e := setup(t, clientSecret)
	id, err := login(t, e, oidcdev.HSAIDNurse)
	if err != nil {
		t.Fatal(err)
	}
	got, err := id.AssignmentAt(oidcdev.UnitDigitalHSAID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := oidc.Assignment{
		ID:                "SE2321000016-MU0001",
		Purpose:           "Vård och behandling",
		CareUnitHSAID:     oidcdev.UnitDigitalHSAID,
		CareUnitName:      "Digital vårdcentral Region Stockholm",
		CareProviderHSAID: "SE2321000016-1000",
		CareProviderName:  "Region Stockholm",
	}
	validFrom := got.ValidFrom
	got.ValidFrom = time.Time{}
	if got != want {
		t.Errorf("assignment %+v, want %+v", got, want)
	}
	if !validFrom.Equal(time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC)) || !got.ValidTo.IsZero() {
		t.Errorf("validity %v – %v, want 2024-01-01 CET and no end", validFrom, got.ValidTo)
	}
	if id.GivenName != "Karin" || id.FamilyName != "Sjöberg" {
		t.Errorf("names %q %q, want Karin Sjöberg", id.GivenName, id.FamilyName)
	}
}

func TestLoginAddedUser(t *testing.T) {
	t.Parallel()
	e := setup(t, clientSecret)
	u := oidcdev.User{HSAID: "SE2321000016-T001", GivenName: "Tilda", FamilyName: "Test", Assignments: []oidc.Assignment{{
		ID: "SE2321000016-MU0100", Purpose: "Vård och behandling", CareUnitHSAID: oidcdev.UnitSolnaHSAID,
		ValidTo: time.Now().Add(time.Hour),
	}}}
	if err := e.dev.Provider().AddUser(u); err != nil {
		t.Fatal(err)
	}
	id, err := login(t, e, u.HSAID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.AssignmentAt(oidcdev.UnitSolnaHSAID, time.Now()); err != nil {
		t.Errorf("AssignmentAt(Solna) for a fresh assignment: %v", err)
	}
	if _, err := id.AssignmentAt(oidcdev.UnitSolnaHSAID, time.Now().Add(2*time.Hour)); !errors.Is(err, oidc.ErrAssignmentExpired) {
		t.Errorf("AssignmentAt(Solna) two hours on got %v, want ErrAssignmentExpired", err)
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	e := setup(t, clientSecret)
	a, err := e.client.Start()
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.Start()
	if err != nil {
		t.Fatal(err)
	}
	if a.State == b.State || a.Nonce == b.Nonce || a.Verifier == b.Verifier || a.State == a.Nonce {
		t.Errorf("two starts share secrets: %+v %+v", a, b)
	}
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             clientID,
		"redirect_uri":          redirectURL,
		"state":                 a.State,
		"nonce":                 a.Nonce,
		"code_challenge_method": "S256",
		"code_challenge":        oauth2.S256ChallengeFromVerifier(a.Verifier),
		"scope":                 "openid profile",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("authorization URL %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if strings.Contains(a.URL, a.Verifier) {
		t.Error("the authorization URL reveals the PKCE verifier")
	}
}

func TestCompleteRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		// before runs between the redirect and Complete, and may change
		// what Complete is given.
		before func(t *testing.T, e env, start *oidc.LoginStart, cb *oidc.Callback)
		want   error
	}{
		{"wrong PKCE verifier", clientSecret, func(_ *testing.T, _ env, s *oidc.LoginStart, _ *oidc.Callback) {
			s.Verifier = oauth2.GenerateVerifier()
		}, oidc.ErrCodeRejected},
		{"code used twice", clientSecret, func(t *testing.T, e env, s *oidc.LoginStart, cb *oidc.Callback) {
			if _, err := e.client.Complete(t.Context(), cb.Code, s.Verifier, s.Nonce); err != nil {
				t.Fatalf("first Complete: %v", err)
			}
		}, oidc.ErrCodeRejected},
		{"code from another login", clientSecret, func(t *testing.T, e env, s *oidc.LoginStart, _ *oidc.Callback) {
			other, err := e.client.Start()
			if err != nil {
				t.Fatal(err)
			}
			*s = other // the stored verifier and nonce of another login
		}, oidc.ErrCodeRejected},
		{"code expired", clientSecret, func(_ *testing.T, e env, _ *oidc.LoginStart, _ *oidc.Callback) {
			e.clock.Advance(61 * time.Second)
		}, oidc.ErrCodeRejected},
		{"wrong nonce", clientSecret, func(_ *testing.T, _ env, s *oidc.LoginStart, _ *oidc.Callback) {
			s.Nonce = "not-the-nonce-of-this-login"
		}, oidc.ErrNonceMismatch},
		{"ID token expired", clientSecret, func(_ *testing.T, e env, _ *oidc.LoginStart, _ *oidc.Callback) {
			// The provider's clock runs an hour late: its tokens (valid
			// ten minutes) are expired by the time they arrive.
			e.clock.Advance(-time.Hour)
		}, oidc.ErrTokenExpired},
		{"wrong client secret", "not-the-secret", nil, oidc.ErrClientRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, tt.secret)
			start, err := e.client.Start()
			if err != nil {
				t.Fatal(err)
			}
			cb := authorize(t, start, oidcdev.HSAIDDoctor)
			if tt.before != nil {
				tt.before(t, e, &start, &cb)
			}
			id, err := e.client.Complete(t.Context(), cb.Code, start.Verifier, start.Nonce)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Complete got %+v, %v; want %v", id, err, tt.want)
			}
		})
	}
}

func TestNewUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = oidc.New(t.Context(), oidc.Config{Issuer: issuer, ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL})
	if !errors.Is(err, oidc.ErrIdPUnreachable) {
		t.Errorf("New(%s) got %v, want ErrIdPUnreachable", issuer, err)
	}
}

func TestCompleteUnreachable(t *testing.T) {
	t.Parallel()
	e := setup(t, clientSecret)
	start, err := e.client.Start()
	if err != nil {
		t.Fatal(err)
	}
	cb := authorize(t, start, oidcdev.HSAIDNurse)
	if err := e.dev.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Complete(t.Context(), cb.Code, start.Verifier, start.Nonce)
	if !errors.Is(err, oidc.ErrIdPUnreachable) {
		t.Errorf("Complete with the IdP down got %v, want ErrIdPUnreachable", err)
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	e := setup(t, clientSecret)
	ok := oidc.Config{Issuer: e.dev.Issuer(), ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL}
	tests := []struct {
		name   string
		change func(*oidc.Config)
		want   string
	}{
		{"no issuer", func(c *oidc.Config) { c.Issuer = "" }, "Issuer is required"},
		{"no client id", func(c *oidc.Config) { c.ClientID = "" }, "ClientID is required"},
		{"no secret", func(c *oidc.Config) { c.ClientSecret = "" }, "ClientSecret is required"},
		{"no redirect", func(c *oidc.Config) { c.RedirectURL = "" }, "RedirectURL is required"},
		{"other issuer", func(c *oidc.Config) { c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1) }, "did not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tt.change(&cfg)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if _, err := oidc.New(ctx, cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseCallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  oidc.Callback
		err   error
	}{
		{"code=abc&state=xyz", oidc.Callback{Code: "abc", State: "xyz"}, nil},
		{"code=abc", oidc.Callback{Code: "abc"}, oidc.ErrInvalidState},
		{"error=access_denied&state=xyz", oidc.Callback{State: "xyz"}, oidc.ErrLoginCancelled},
		{"error=server_error&error_description=down&state=xyz", oidc.Callback{State: "xyz"}, &oidc.CallbackError{Code: "server_error", Description: "down"}},
		{"state=xyz", oidc.Callback{State: "xyz"}, &oidc.CallbackError{Code: "invalid_request"}},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := oidc.ParseCallback(q)
		if got != tt.want {
			t.Errorf("ParseCallback(%q) got %+v, want %+v", tt.query, got, tt.want)
		}
		var want *oidc.CallbackError
		switch {
		case errors.As(tt.err, &want):
			var ce *oidc.CallbackError
			if !errors.As(err, &ce) || ce.Code != want.Code || (want.Description != "" && ce.Description != want.Description) {
				t.Errorf("ParseCallback(%q) error %v, want %v", tt.query, err, tt.err)
			}
		case !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil):
			t.Errorf("ParseCallback(%q) error %v, want %v", tt.query, err, tt.err)
		}
	}
}
