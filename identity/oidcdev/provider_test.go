package oidcdev

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/nara-care/nara/identity/oidc"
	"github.com/nara-care/nara/internal/clocktest"
)

const (
	clientID     = "nara"
	clientSecret = "dev-secret"
	redirectURI  = "http://127.0.0.1:8080/auth/oidc/callback"
)

type env struct {
	p      *Provider
	url    string // the issuer
	clock  *clocktest.Clock
	client *http.Client // does not follow redirects
}

// setup serves a provider with httptest under the path /idp, the way the
// package documentation describes.
func setup(t *testing.T) env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String() + "/idp"
	clk := clocktest.New(time.Date(2025, 6, 15, 9, 0, 0, 0, time.UTC))
	p, err := New(Config{
		Issuer:  issuer,
		Clients: []Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}}},
		Now:     clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = p
	ts.Start()
	t.Cleanup(ts.Close)
	return env{p: p, url: issuer, clock: clk, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// authParams is a valid authorization request; verifier goes with it.
func authParams(verifier string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid profile"},
		"state":                 {"st4te"},
		"nonce":                 {"n0nce"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
}

func (e env) get(t *testing.T, path string, q url.Values) *http.Response {
	t.Helper()
	resp, err := e.client.Get(e.url + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e env) post(t *testing.T, path string, form url.Values, basic bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// redirected returns the query of a redirect to the client.
func redirected(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("got %s %s, want a redirect", resp.Status, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if base, _, _ := strings.Cut(loc.String(), "?"); base != redirectURI {
		t.Fatalf("redirect to %s, want %s", loc, redirectURI)
	}
	return loc.Query()
}

// code logs hsaID in through login_hint and returns the code.
func (e env) code(t *testing.T, verifier, hsaID string) string {
	t.Helper()
	q := authParams(verifier)
	q.Set("login_hint", hsaID)
	got := redirected(t, e.get(t, "/authorize", q))
	if got.Get("code") == "" || got.Get("state") != "st4te" {
		t.Fatalf("redirect query %v, want a code and state st4te", got)
	}
	return got.Get("code")
}

func tokenForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	}
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s: %v", resp.Status, err)
	}
	return m
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp := e.get(t, "/.well-known/openid-configuration", nil)
	doc := decode(t, resp)
	for k, want := range map[string]string{
		"issuer":                 e.url,
		"authorization_endpoint": e.url + "/authorize",
		"token_endpoint":         e.url + "/token",
		"jwks_uri":               e.url + "/jwks",
		"userinfo_endpoint":      e.url + "/userinfo",
	} {
		if doc[k] != want {
			t.Errorf("discovery %s = %v, want %s", k, doc[k], want)
		}
	}
	claims, _ := doc["claims_supported"].([]any)
	for _, c := range []any{"employeeHsaId", "medarbetaruppdrag", "nara_roles", "nonce"} {
		if !slices.Contains(claims, c) {
			t.Errorf("claims_supported %v lacks %v", claims, c)
		}
	}
	keys := decode(t, e.get(t, "/jwks", nil))["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["alg"] != "RS256" || keys[0].(map[string]any)["kid"] == "" {
		t.Errorf("jwks keys %v, want one RS256 key with a kid", keys)
	}
}

func TestAuthorizeRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	verifier := oauth2.GenerateVerifier()
	tests := []struct {
		name   string
		change func(url.Values)
		page   bool   // shown as a page, not sent back to the client
		error  string // the error sent back
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "other") }, true, ""},
		{"unregistered redirect_uri", func(q url.Values) { q.Set("redirect_uri", redirectURI+"/x") }, true, ""},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "id_token") }, false, "unsupported_response_type"},
		{"no openid scope", func(q url.Values) { q.Set("scope", "profile") }, false, "invalid_scope"},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, false, "invalid_request"},
		{"PKCE plain", func(q url.Values) { q.Set("code_challenge_method", "plain") }, false, "invalid_request"},
		{"PKCE method missing", func(q url.Values) { q.Del("code_challenge_method") }, false, "invalid_request"},
		{"PKCE challenge malformed", func(q url.Values) { q.Set("code_challenge", "short") }, false, "invalid_request"},
		{"prompt none", func(q url.Values) { q.Set("prompt", "none") }, false, "login_required"},
		{"unknown user", func(q url.Values) { q.Set("login_hint", "SE2321000016-ZZZZ") }, false, "access_denied"},
	}
	for _, tt := range tests {
		q := authParams(verifier)
		tt.change(q)
		resp := e.get(t, "/authorize", q)
		if tt.page {
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("%s: got %s to %q, want 400 and no redirect", tt.name, resp.Status, resp.Header.Get("Location"))
			}
			continue
		}
		got := redirected(t, resp)
		if got.Get("error") != tt.error || got.Get("state") != "st4te" || got.Has("code") {
			t.Errorf("%s: redirect query %v, want error %s with state st4te", tt.name, got, tt.error)
		}
	}
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	verifier := oauth2.GenerateVerifier()
	resp := e.get(t, "/authorize", authParams(verifier))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /authorize got %s %s, want the HTML login page", resp.Status, resp.Header.Get("Content-Type"))
	}
	for header, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("the login page: %s got %q, want %q", header, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script") {
		t.Errorf("the login page: Content-Security-Policy %q, want nothing loaded, no framing, no scripts", csp)
	}
	page := string(body)
	for _, u := range TestUsers() {
		if !strings.Contains(page, u.HSAID) || !strings.Contains(page, "Log in as "+u.GivenName) {
			t.Errorf("the login page lacks %s %s or its button", u.Name(), u.HSAID)
		}
	}
	m := regexp.MustCompile(`name="request" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the login page has no request id")
	}
	login := url.Values{"request": {m[1]}, "hsa_id": {HSAIDNurse}}
	got := redirected(t, e.post(t, "/authorize/login", login, false))
	if got.Get("code") == "" || got.Get("state") != "st4te" {
		t.Fatalf("after the click: %v, want a code and state", got)
	}
	tok := e.post(t, "/token", tokenForm(got.Get("code"), verifier), true)
	if tok.StatusCode != http.StatusOK {
		t.Errorf("POST /token with the page's code got %s", tok.Status)
	}
	if again := e.post(t, "/authorize/login", login, false); again.StatusCode != http.StatusBadRequest {
		t.Errorf("a second click on the same page got %s, want 400", again.Status)
	}

	// Cancel sends access_denied back.
	resp = e.get(t, "/authorize", authParams(verifier))
	body, _ = io.ReadAll(resp.Body)
	m = regexp.MustCompile(`name="request" value="([^"]+)"`).FindStringSubmatch(string(body))
	got = redirected(t, e.post(t, "/authorize/login", url.Values{"request": {m[1]}, "cancel": {"1"}}, false))
	if got.Get("error") != "access_denied" || got.Get("state") != "st4te" {
		t.Errorf("after cancel: %v, want access_denied with the state", got)
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		name   string
		change func(t *testing.T, form url.Values) (basic bool)
		status int
		error  string
	}{
		{"client_secret_basic", func(*testing.T, url.Values) bool { return true }, 200, ""},
		{"client_secret_post", func(_ *testing.T, f url.Values) bool {
			f.Set("client_id", clientID)
			f.Set("client_secret", clientSecret)
			return false
		}, 200, ""},
		{"both methods", func(_ *testing.T, f url.Values) bool { f.Set("client_secret", clientSecret); return true }, 400, "invalid_request"},
		{"no client authentication", func(*testing.T, url.Values) bool { return false }, 401, "invalid_client"},
		{"wrong secret", func(_ *testing.T, f url.Values) bool {
			f.Set("client_id", clientID)
			f.Set("client_secret", "guess")
			return false
		}, 401, "invalid_client"},
		{"other grant", func(_ *testing.T, f url.Values) bool { f.Set("grant_type", "password"); return true }, 400, "unsupported_grant_type"},
		{"unknown code", func(_ *testing.T, f url.Values) bool { f.Set("code", "nope"); return true }, 400, "invalid_grant"},
		{"other redirect_uri", func(_ *testing.T, f url.Values) bool { f.Set("redirect_uri", redirectURI+"/x"); return true }, 400, "invalid_grant"},
		{"no redirect_uri", func(_ *testing.T, f url.Values) bool { f.Del("redirect_uri"); return true }, 400, "invalid_grant"},
		{"no code_verifier", func(_ *testing.T, f url.Values) bool { f.Del("code_verifier"); return true }, 400, "invalid_grant"},
		{"wrong code_verifier", func(_ *testing.T, f url.Values) bool {
			f.Set("code_verifier", oauth2.GenerateVerifier())
			return true
		}, 400, "invalid_grant"},
		{"code at 60 s", func(*testing.T, url.Values) bool { e.clock.Advance(60 * time.Second); return true }, 200, ""},
		{"code at 61 s", func(*testing.T, url.Values) bool { e.clock.Advance(61 * time.Second); return true }, 400, "invalid_grant"},
	}
	for _, tt := range tests {
		// Sequential: some cases move the shared clock.
		verifier := oauth2.GenerateVerifier()
		form := tokenForm(e.code(t, verifier, HSAIDDoctor), verifier)
		resp := e.post(t, "/token", form, tt.change(t, form))
		out := decode(t, resp)
		if resp.StatusCode != tt.status || (tt.error != "" && out["error"] != tt.error) {
			t.Errorf("%s: got %s %v, want %d %s", tt.name, resp.Status, out, tt.status, tt.error)
		}
		if tt.status == http.StatusOK && (out["id_token"] == nil || out["access_token"] == nil || out["token_type"] != "Bearer") {
			t.Errorf("%s: token response %v lacks tokens", tt.name, out)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tt.name, resp.Header.Get("Cache-Control"))
		}
	}
}

// TestIDToken reads the ID token's payload; package oidc's tests verify its
// signature through the real client.
func TestIDToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	verifier := oauth2.GenerateVerifier()
	out := decode(t, e.post(t, "/token", tokenForm(e.code(t, verifier, HSAIDNurse), verifier), true))
	parts := strings.Split(out["id_token"].(string), ".")
	if len(parts) != 3 {
		t.Fatalf("id_token has %d parts, want 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	want := map[string]any{
		"iss": e.url, "aud": clientID, "sub": HSAIDNurse, "nonce": "n0nce", "acr": LevelOfAssurance,
		"employeeHsaId": HSAIDNurse, "name": "Karin Sjöberg",
		"iat": float64(now.Unix()), "exp": float64(now.Add(DefaultTokenTTL).Unix()),
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	var parsed oidc.Claims
	if err := json.Unmarshal(payload, &parsed); err != nil {
		t.Fatal(err)
	}
	if len(parsed.Assignments) != 1 || parsed.Assignments[0].CareUnitHSAID != UnitDigitalHSAID {
		t.Errorf("medarbetaruppdrag %+v, want the nurse's one at the digital unit", parsed.Assignments)
	}
}

func TestCodeReplayRevokesToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	verifier := oauth2.GenerateVerifier()
	form := tokenForm(e.code(t, verifier, HSAIDDoctor), verifier)
	out := decode(t, e.post(t, "/token", form, true))
	userinfo := func() int {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+out["access_token"].(string))
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := userinfo(); got != http.StatusOK {
		t.Fatalf("userinfo with a fresh token got %d, want 200", got)
	}
	if again := decode(t, e.post(t, "/token", form, true)); again["error"] != "invalid_grant" {
		t.Errorf("the same code again got %v, want invalid_grant", again)
	}
	if got := userinfo(); got != http.StatusUnauthorized {
		t.Errorf("userinfo after the code was replayed got %d, want 401", got)
	}
}

func TestAddUser(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		u    User
		want error
	}{
		{User{HSAID: "SE2321000016-T001", GivenName: "Tilda", FamilyName: "Test"}, nil},
		{User{HSAID: HSAIDNurse}, ErrDuplicateUser},
		{User{HSAID: strings.ToLower(HSAIDDoctor)}, ErrDuplicateUser},
		{User{GivenName: "Ingen"}, ErrInvalidUser},
	}
	for _, tt := range tests {
		if err := e.p.AddUser(tt.u); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("AddUser(%q) got %v, want %v", tt.u.HSAID, err, tt.want)
		}
	}
	if e.code(t, oauth2.GenerateVerifier(), "SE2321000016-T001") == "" {
		t.Error("the added user cannot log in")
	}
}

// TestTestUsers checks that each built-in user shows the case it says.
func TestTestUsers(t *testing.T) {
	t.Parallel()
	format := regexp.MustCompile(`^SE2321000016-[0-9A-Z]{4}$`)
	want := map[string]error{
		HSAIDNurse:             nil,
		HSAIDDoctor:            nil,
		HSAIDDoctorNoAssign:    oidc.ErrNoAssignment,
		HSAIDDoctorExpired:     oidc.ErrAssignmentExpired,
		HSAIDDoctorAdminOnly:   oidc.ErrWrongPurpose,
		HSAIDDoctorSolna:       oidc.ErrOtherUnit,
		HSAIDSupportFirstLine:  oidc.ErrNoAssignment,
		HSAIDSupportSecondLine: oidc.ErrNoAssignment,
		HSAIDUnitAdmin:         oidc.ErrWrongPurpose,
		HSAIDRegionAdmin:       oidc.ErrNoAssignment,
	}
	now := time.Now()
	seen := map[string]bool{}
	for _, u := range TestUsers() {
		if !format.MatchString(u.HSAID) || seen[u.HSAID] || u.About == "" {
			t.Errorf("user %s: malformed or duplicate HSA-id, or no About", u.HSAID)
		}
		seen[u.HSAID] = true
		id, err := u.Claims().Identity()
		if err != nil {
			t.Fatal(err)
		}
		_, err = id.AssignmentAt(UnitDigitalHSAID, now)
		if w, ok := want[u.HSAID]; !ok || !errors.Is(err, w) || (w == nil) != (err == nil) {
			t.Errorf("user %s at the digital unit: got %v, want %v", u.HSAID, err, w)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d test users, want %d", len(seen), len(want))
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	clients := []Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}}}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no issuer", Config{Clients: clients}},
		{"issuer with query", Config{Issuer: "http://127.0.0.1:1/?x=1", Clients: clients}},
		{"no clients", Config{Issuer: "http://127.0.0.1:1"}},
		{"client without redirect", Config{Issuer: "http://127.0.0.1:1", Clients: []Client{{ID: "a", Secret: "b"}}}},
		{"duplicate users", Config{Issuer: "http://127.0.0.1:1", Clients: clients, Users: []User{{HSAID: "X"}, {HSAID: "X"}}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("New(%s) succeeded, want an error", tt.name)
		}
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	s, err := Start(Config{Clients: []Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.Issuer(), "http://127.0.0.1:") {
		t.Errorf("Issuer() = %s, want a loopback URL", s.Issuer())
	}
	resp, err := http.Get(s.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.Issuer != s.Issuer() {
		t.Errorf("discovery issuer %q (%v), want %s", doc.Issuer, err, s.Issuer())
	}
}
