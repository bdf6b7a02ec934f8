// Package oidcdev is a small OpenID Connect provider that stands in for the
// region's IdP (Inera's, where clinicians use their SITHS card) in `nara
// serve` without OIDC_ISSUER and in tests.
//
// It implements what package oidc uses, and checks it the way a strict
// provider does: discovery, an RS256 key made at start and published as a
// JWKS, the authorization code flow with PKCE (S256 only) and exact
// redirect_uri matching, single-use codes that expire after 60 seconds,
// client_secret_basic and client_secret_post at the token endpoint, ID
// tokens with nonce and at_hash, and userinfo. Its clock is injectable, so
// tests can make it issue tokens that are already expired.
//
// Somebody has to play the user. A developer gets a page at /authorize
// listing the test users with a "Log in as" button each. A test adds
// login_hint=<HSA-id> to the authorization URL, and the provider redirects
// at once with a code for that user, so the test reads the code and state
// from the Location header without a browser.
//
// Start serves a Provider on loopback. With httptest, learn the address
// first, since the issuer must be known before the provider is made:
//
//	ts := httptest.NewUnstartedServer(nil)
//	p, err := oidcdev.New(oidcdev.Config{Issuer: "http://" + ts.Listener.Addr().String(), Clients: clients})
//	ts.Config.Handler = p
//	ts.Start()
package oidcdev

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/nara-care/nara/identity/oidc"
)

// Defaults for Config.
const (
	// DefaultCodeTTL is how long an authorization code can be redeemed;
	// RFC 6749 recommends at most ten minutes, and real IdPs use far less.
	DefaultCodeTTL = 60 * time.Second
	// DefaultTokenTTL is the lifetime of ID and access tokens.
	DefaultTokenTTL = 10 * time.Minute
	// loginPageTTL is how long the login page can wait for a click.
	loginPageTTL = 10 * time.Minute
)

// LevelOfAssurance is the acr the provider reports: SAMBI's level 3, what
// a SITHS card login at Inera's IdP gives.
const LevelOfAssurance = "http://id.sambi.se/loa/loa3"

// Errors of the Go API.
var (
	ErrDuplicateUser = errors.New("oidcdev: a user with that HSA-id exists")
	ErrInvalidUser   = errors.New("oidcdev: a user needs an HSA-id")
)

// Client is a registered relying party.
type Client struct {
	ID     string
	Secret string
	// RedirectURIs are the only redirect_uri values accepted, compared
	// exactly, as OpenID Connect requires.
	RedirectURIs []string
}

// Config holds the provider's settings and dependencies.
type Config struct {
	// Issuer is the URL the provider is served at, e.g.
	// "http://127.0.0.1:8081" or "http://127.0.0.1:8080/oidcdev"; the
	// handler serves its endpoints under that URL's path. Required.
	Issuer string
	// Clients are the relying parties that may log users in. At least one.
	Clients []Client
	// Users can be logged in as. Default TestUsers().
	Users []User
	// Now is the clock for codes and tokens. Default time.Now.
	Now func() time.Time
	// Logger records logins and refused requests. Default discards.
	Logger *slog.Logger
	// CodeTTL is how long a code can be redeemed. Default DefaultCodeTTL.
	CodeTTL time.Duration
	// TokenTTL is how long tokens live. Default DefaultTokenTTL.
	TokenTTL time.Duration
}

// Provider is the OpenID Connect provider, an http.Handler. It keeps its
// codes and tokens in memory: it is for one process, not for production.
type Provider struct {
	issuer, prefix    string
	clients           map[string]Client
	now               func() time.Time
	log               *slog.Logger
	codeTTL, tokenTTL time.Duration
	signer            jose.Signer
	jwks              jose.JSONWebKeySet
	page              *template.Template
	mux               *http.ServeMux

	mu      sync.Mutex
	users   []User
	pending map[string]pendingLogin
	codes   map[string]*authCode
	tokens  map[string]accessToken
}

// authRequest is what /authorize was asked, kept until the code is redeemed.
type authRequest struct {
	clientID, redirectURI, scope, state, nonce, challenge string
}

type pendingLogin struct {
	req     authRequest
	created time.Time
}

type authCode struct {
	req         authRequest
	hsaID       string
	issued      time.Time
	used        bool
	accessToken string // revoked when the code is replayed
}

type accessToken struct {
	hsaID   string
	expires time.Time
}

// New makes a provider with a fresh 2048-bit RSA signing key.
func New(cfg Config) (*Provider, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("oidcdev: Issuer %q is not an http(s) URL without query or fragment", cfg.Issuer)
	}
	if len(cfg.Clients) == 0 {
		return nil, errors.New("oidcdev: at least one client is needed")
	}
	p := &Provider{
		issuer:   cfg.Issuer,
		prefix:   strings.TrimSuffix(u.Path, "/"),
		clients:  make(map[string]Client),
		now:      cfg.Now,
		log:      cfg.Logger,
		codeTTL:  cfg.CodeTTL,
		tokenTTL: cfg.TokenTTL,
		pending:  make(map[string]pendingLogin),
		codes:    make(map[string]*authCode),
		tokens:   make(map[string]accessToken),
	}
	for _, c := range cfg.Clients {
		if c.ID == "" || c.Secret == "" || len(c.RedirectURIs) == 0 {
			return nil, fmt.Errorf("oidcdev: client %q needs an id, a secret and a redirect URI", c.ID)
		}
		p.clients[c.ID] = c
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.codeTTL == 0 {
		p.codeTTL = DefaultCodeTTL
	}
	if p.tokenTTL == 0 {
		p.tokenTTL = DefaultTokenTTL
	}
	users := cfg.Users
	if users == nil {
		users = TestUsers()
	}
	for _, usr := range users {
		if err := p.AddUser(usr); err != nil {
			return nil, err
		}
	}
	if err := p.newKey(); err != nil {
		return nil, err
	}
	if p.page, err = template.New("login").Parse(loginPage); err != nil {
		return nil, err
	}
	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET "+p.prefix+"/.well-known/openid-configuration", p.discovery)
	p.mux.HandleFunc("GET "+p.prefix+"/jwks", p.keys)
	p.mux.HandleFunc("GET "+p.prefix+"/authorize", p.authorize)
	p.mux.HandleFunc("POST "+p.prefix+"/authorize", p.authorize)
	p.mux.HandleFunc("POST "+p.prefix+"/authorize/login", p.login)
	p.mux.HandleFunc("POST "+p.prefix+"/token", p.token)
	p.mux.HandleFunc("GET "+p.prefix+"/userinfo", p.userinfo)
	p.mux.HandleFunc("POST "+p.prefix+"/userinfo", p.userinfo)
	return p, nil
}

func (p *Provider) newKey() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return err
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	p.jwks = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}}
	p.signer, err = jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	return err
}

// ServeHTTP serves the provider's endpoints under the issuer's path.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// Issuer is the issuer URL, for OIDC_ISSUER.
func (p *Provider) Issuer() string { return p.issuer }

// AddUser makes one more person available to log in as, for tests that
// need a case the built-in users do not cover.
func (p *Provider) AddUser(u User) error {
	if strings.TrimSpace(u.HSAID) == "" {
		return ErrInvalidUser
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if slices.ContainsFunc(p.users, func(x User) bool { return strings.EqualFold(x.HSAID, u.HSAID) }) {
		return fmt.Errorf("%w: %s", ErrDuplicateUser, u.HSAID)
	}
	p.users = append(p.users, u)
	return nil
}

// Users returns the people who can log in, in the order they were added.
func (p *Provider) Users() []User {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.users)
}

func (p *Provider) user(hsaID string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.IndexFunc(p.users, func(u User) bool { return strings.EqualFold(u.HSAID, hsaID) })
	if i < 0 {
		return User{}, false
	}
	return p.users[i], true
}

func (p *Provider) endpoint(path string) string { return strings.TrimSuffix(p.issuer, "/") + path }

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.endpoint("/authorize"),
		"token_endpoint":                        p.endpoint("/token"),
		"jwks_uri":                              p.endpoint("/jwks"),
		"userinfo_endpoint":                     p.endpoint("/userinfo"),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(jose.RS256)},
		"scopes_supported":                      []string{"openid", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      claimsSupported(),
		"acr_values_supported":                  []string{LevelOfAssurance},
	})
}

// claimsSupported lists the standard claims and those of oidc.Claims, read
// from its JSON tags so that the list cannot drift from the client's.
func claimsSupported() []string {
	names := []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash"}
	t := reflect.TypeFor[oidc.Claims]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}

func (p *Provider) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, p.jwks)
}

// authorize checks an authentication request (OpenID Connect Core 3.1.2.1).
// Until client_id and redirect_uri are known good, errors are shown as a
// page; after that they go back to the client, as the spec requires.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, "The request could not be read: "+err.Error())
		return
	}
	q := r.Form
	client, ok := p.clients[q.Get("client_id")]
	if !ok {
		p.errorPage(w, fmt.Sprintf("Unknown client_id %q.", q.Get("client_id")))
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.Contains(client.RedirectURIs, redirect) {
		p.errorPage(w, fmt.Sprintf("redirect_uri %q is not registered for client %q.", redirect, client.ID))
		return
	}
	req := authRequest{
		clientID: client.ID, redirectURI: redirect, scope: q.Get("scope"),
		state: q.Get("state"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
	}
	fail := func(code, description string) {
		p.log.Info("oidcdev: authorization refused", "client_id", client.ID, "error", code, "description", description)
		redirectTo(w, r, redirect, url.Values{"error": {code}, "error_description": {description}, "state": {req.state}})
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only the authorization code flow (response_type=code) is supported")
	case !slices.Contains(strings.Fields(req.scope), "openid"):
		fail("invalid_scope", "scope must include openid")
	case q.Has("request") || q.Has("request_uri"):
		fail("request_not_supported", "request objects are not supported")
	case req.challenge == "":
		fail("invalid_request", "code_challenge is required (PKCE)")
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
	case !validChallenge(req.challenge):
		fail("invalid_request", "code_challenge must be a base64url SHA-256 digest")
	case q.Get("prompt") == "none":
		fail("login_required", "the provider keeps no sessions; the user must log in")
	case q.Get("login_hint") != "":
		hint := q.Get("login_hint")
		if _, ok := p.user(hint); !ok {
			fail("access_denied", fmt.Sprintf("no test user has HSA-id %q", hint))
			return
		}
		p.issueCode(w, r, req, hint, http.StatusFound)
	default:
		p.showLogin(w, req)
	}
}

func (p *Provider) showLogin(w http.ResponseWriter, req authRequest) {
	id := rand.Text()
	now := p.now()
	p.mu.Lock()
	maps.DeleteFunc(p.pending, func(_ string, l pendingLogin) bool { return now.Sub(l.created) > loginPageTTL })
	p.pending[id] = pendingLogin{req: req, created: now}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// No form-action: the login form's answer redirects to the client.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = p.page.Execute(w, map[string]any{
		"Action":   p.prefix + "/authorize/login",
		"Request":  id,
		"ClientID": req.clientID,
		"Redirect": req.redirectURI,
		"Users":    p.Users(),
		"Issuer":   p.issuer,
	})
}

// login takes the click on the login page.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, "The form could not be read: "+err.Error())
		return
	}
	now := p.now()
	p.mu.Lock()
	l, ok := p.pending[r.PostForm.Get("request")]
	delete(p.pending, r.PostForm.Get("request"))
	p.mu.Unlock()
	if !ok || now.Sub(l.created) > loginPageTTL {
		p.errorPage(w, "This login page has expired or was already used. Start the login again from Nära.")
		return
	}
	if r.PostForm.Has("cancel") {
		redirectTo(w, r, l.req.redirectURI, url.Values{
			"error": {"access_denied"}, "error_description": {"the user cancelled the login"}, "state": {l.req.state},
		})
		return
	}
	hsaID := r.PostForm.Get("hsa_id")
	if _, ok := p.user(hsaID); !ok {
		p.errorPage(w, fmt.Sprintf("No test user has HSA-id %q.", hsaID))
		return
	}
	p.issueCode(w, r, l.req, hsaID, http.StatusSeeOther)
}

func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, req authRequest, hsaID string, status int) {
	code := rand.Text()
	now := p.now()
	p.mu.Lock()
	maps.DeleteFunc(p.codes, func(_ string, c *authCode) bool { return now.Sub(c.issued) > p.codeTTL+p.tokenTTL })
	p.codes[code] = &authCode{req: req, hsaID: hsaID, issued: now}
	p.mu.Unlock()
	p.log.Info("oidcdev: user logged in", "client_id", req.clientID, "hsa_id", hsaID)
	u, _ := url.Parse(req.redirectURI) // registered, so it parsed before
	q := u.Query()
	q.Set("code", code)
	if req.state != "" {
		q.Set("state", req.state)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), status)
}

// token redeems a code (RFC 6749 4.1.3, RFC 7636 4.6, OIDC Core 3.1.3).
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body could not be read")
		return
	}
	form := r.PostForm
	client, status, code, desc := p.authenticateClient(r)
	if status != 0 {
		if status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="oidcdev"`)
		}
		p.log.Info("oidcdev: token request refused", "error", code, "description", desc)
		tokenError(w, status, code, desc)
		return
	}
	if form.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	now := p.now()
	p.mu.Lock()
	c, desc := p.redeem(form, client, now)
	if c == nil {
		p.mu.Unlock()
		p.log.Info("oidcdev: code refused", "client_id", client.ID, "description", desc)
		tokenError(w, http.StatusBadRequest, "invalid_grant", desc)
		return
	}
	access := rand.Text()
	c.accessToken = access
	maps.DeleteFunc(p.tokens, func(_ string, t accessToken) bool { return !now.Before(t.expires) })
	p.tokens[access] = accessToken{hsaID: c.hsaID, expires: now.Add(p.tokenTTL)}
	p.mu.Unlock()

	u, ok := p.user(c.hsaID)
	if !ok {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the user no longer exists")
		return
	}
	claims, err := userClaims(u)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	atHash := sha256.Sum256([]byte(access))
	maps.Copy(claims, map[string]any{
		"iss": p.issuer, "sub": u.HSAID, "aud": client.ID, "azp": client.ID,
		"iat": now.Unix(), "exp": now.Add(p.tokenTTL).Unix(), "auth_time": c.issued.Unix(),
		"acr": LevelOfAssurance, "at_hash": base64.RawURLEncoding.EncodeToString(atHash[:16]),
	})
	if c.req.nonce != "" {
		claims["nonce"] = c.req.nonce
	}
	idToken, err := p.sign(claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int(p.tokenTTL.Seconds()),
		"id_token":     idToken,
		"scope":        c.req.scope,
	})
}

// authenticateClient accepts client_secret_basic or client_secret_post,
// but not both at once (RFC 6749 2.3). A non-zero status is a refusal.
func (p *Provider) authenticateClient(r *http.Request) (client Client, status int, code, desc string) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return Client{}, http.StatusUnauthorized, "invalid_client", "malformed Basic credentials"
		}
		if r.PostForm.Has("client_secret") {
			return Client{}, http.StatusBadRequest, "invalid_request", "use one client authentication method, not two"
		}
		if formID := r.PostForm.Get("client_id"); formID != "" && formID != id {
			return Client{}, http.StatusBadRequest, "invalid_request", "client_id in the body differs from the Basic credentials"
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	client, ok := p.clients[id]
	if !ok || secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(client.Secret)) != 1 {
		return Client{}, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret"
	}
	return client, 0, "", ""
}

// redeem checks the code against the request it was issued for. Any attempt
// uses the code up, so a code that leaked cannot be tried again and again;
// a replay also revokes the access token issued from it (RFC 6749 4.1.2).
// The caller holds p.mu.
func (p *Provider) redeem(form url.Values, client Client, now time.Time) (*authCode, string) {
	c := p.codes[form.Get("code")]
	if c == nil {
		return nil, "unknown authorization code"
	}
	if c.used {
		delete(p.tokens, c.accessToken)
		return nil, "authorization code already used"
	}
	c.used = true
	verifier := form.Get("code_verifier")
	switch {
	case c.req.clientID != client.ID:
		return nil, "authorization code was issued to another client"
	case now.Sub(c.issued) > p.codeTTL:
		return nil, "authorization code expired"
	case form.Get("redirect_uri") != c.req.redirectURI:
		return nil, "redirect_uri differs from the authorization request"
	case !validVerifier(verifier):
		return nil, "code_verifier is missing or malformed"
	case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(c.req.challenge)) != 1:
		return nil, "code_verifier does not match code_challenge"
	}
	return c, ""
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	p.mu.Lock()
	at, ok := p.tokens[token]
	p.mu.Unlock()
	if !strings.EqualFold(scheme, "Bearer") || !ok || !p.now().Before(at.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid or expired access token", http.StatusUnauthorized)
		return
	}
	u, ok := p.user(at.hsaID)
	if !ok {
		http.Error(w, "the user no longer exists", http.StatusUnauthorized)
		return
	}
	claims, err := userClaims(u)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	claims["sub"] = u.HSAID
	writeJSON(w, http.StatusOK, claims)
}

func (p *Provider) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func (p *Provider) errorPage(w http.ResponseWriter, msg string) {
	p.log.Info("oidcdev: request refused", "reason", msg)
	http.Error(w, msg, http.StatusBadRequest)
}

func userClaims(u User) (map[string]any, error) {
	b, err := json.Marshal(u.Claims())
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(b, &m)
	return m, err
}

func redirectTo(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, _ := url.Parse(redirectURI) // registered, so it parsed before
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound) //nolint:gosec // redirectURI is one the client registered

}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validChallenge: an S256 challenge is 32 bytes, base64url without padding.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// validVerifier applies RFC 7636 4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	unreserved := func(r rune) bool {
		return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)
	}
	return !strings.ContainsFunc(v, func(r rune) bool { return !unreserved(r) })
}
