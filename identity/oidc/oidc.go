// Package oidc logs clinicians, support staff and administrators in through
// the region's OpenID Connect identity provider (in production Inera's IdP,
// where they authenticate with their SITHS e-service card).
//
// A login is two calls with a browser redirect in between. Start returns the
// IdP's authorization URL together with the state, nonce and PKCE verifier
// that belong to it; the caller stores those three server-side, keyed by the
// state, and redirects the browser. When the IdP sends the browser back,
// ParseCallback reads the code and state from the query, the caller looks the
// stored values up by state (a miss is ErrInvalidState), and Complete
// exchanges the code and verifies the ID token. Nothing is kept in memory
// here, so any replica can complete a login another one started.
//
// The claims Nära reads, and where their names come from, are documented on
// Claims. ValidAssignment and Identity.AssignmentAt decide whether a care
// assignment (medarbetaruppdrag) lets a clinician meet patients at a unit,
// and say precisely why not when it does not.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// DefaultHTTPTimeout bounds each request to the IdP when Config.HTTPClient is
// nil. http.DefaultClient has no timeout, and a login that hangs for minutes
// is worse than one that fails with ErrIdPUnreachable.
const DefaultHTTPTimeout = 10 * time.Second

// Config says which IdP to use and who Nära is to it.
type Config struct {
	// Issuer is the IdP's issuer URL (setting OIDC_ISSUER). Discovery reads
	// Issuer + "/.well-known/openid-configuration", and the issuer the IdP
	// reports there must equal this string exactly. Required.
	Issuer string
	// ClientID is Nära's client id at the IdP (OIDC_CLIENT_ID). Required; ID
	// tokens whose audience does not contain it are refused.
	ClientID string
	// ClientSecret authenticates Nära at the token endpoint
	// (OIDC_CLIENT_SECRET), with client_secret_basic unless the IdP's
	// discovery document lists only client_secret_post. Required.
	ClientSecret string
	// RedirectURL is where the IdP sends the browser back; it must be
	// registered with the IdP exactly as written here. Required.
	RedirectURL string
	// HTTPClient carries every request to the IdP (discovery, keys, token).
	// Default: a client with DefaultHTTPTimeout.
	HTTPClient *http.Client
	// Scopes are requested in addition to "openid", which is always sent.
	// Inera's IdP releases only claims that are both requested and allowed
	// in the client registration, so list here the scopes named there.
	// Default: "profile".
	Scopes []string
}

// Client runs logins against one IdP. It is safe for concurrent use.
type Client struct {
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	http     *http.Client
}

// New discovers the IdP's endpoints and keys location. It fails when the IdP
// cannot be reached (ErrIdPUnreachable), reports another issuer than
// cfg.Issuer, or says it does not support PKCE with S256.
func New(ctx context.Context, cfg Config) (*Client, error) {
	for _, f := range []struct{ name, value string }{
		{"Issuer", cfg.Issuer}, {"ClientID", cfg.ClientID},
		{"ClientSecret", cfg.ClientSecret}, {"RedirectURL", cfg.RedirectURL},
	} {
		if f.value == "" {
			return nil, fmt.Errorf("oidc: Config.%s is required", f.name)
		}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	provider, err := gooidc.NewProvider(gooidc.ClientContext(ctx, hc), cfg.Issuer)
	if err != nil {
		return nil, classifyTransport(fmt.Errorf("oidc: discovery at %s: %w", cfg.Issuer, err))
	}
	var meta struct {
		AuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
		ChallengeMethods []string `json:"code_challenge_methods_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: discovery document: %w", err)
	}
	if len(meta.ChallengeMethods) > 0 && !slices.Contains(meta.ChallengeMethods, "S256") {
		return nil, fmt.Errorf("oidc: %s does not support PKCE with S256 (it lists %v)", cfg.Issuer, meta.ChallengeMethods)
	}
	endpoint := provider.Endpoint()
	// Choose the style once, from what the IdP says, rather than letting
	// oauth2 probe: a probe sends the code twice when the first try fails.
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	if len(meta.AuthMethods) > 0 && !slices.Contains(meta.AuthMethods, "client_secret_basic") &&
		slices.Contains(meta.AuthMethods, "client_secret_post") {
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	scopes := cfg.Scopes
	if scopes == nil {
		scopes = []string{gooidc.ScopeProfile}
	}
	if !slices.Contains(scopes, gooidc.ScopeOpenID) {
		scopes = append([]string{gooidc.ScopeOpenID}, scopes...)
	}
	return &Client{
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       scopes,
		},
		verifier: provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}),
		http:     hc,
	}, nil
}

// LoginStart is one login in progress. Only URL goes to the browser; State,
// Nonce and Verifier are secrets the caller stores server-side, keyed by
// State, for one use and a few minutes (the IdP's session is short too).
type LoginStart struct {
	// URL is the IdP's authorization URL to redirect the browser to.
	URL string
	// State comes back on the redirect and finds the stored login.
	State string
	// Nonce must come back inside the ID token; pass it to Complete.
	Nonce string
	// Verifier is the PKCE code verifier; pass it to Complete.
	Verifier string
}

// Start begins a login: fresh random state and nonce, and a PKCE verifier
// whose S256 challenge goes into the URL. PKCE binds the code to this
// server, so a code stolen from the redirect is useless to anyone else.
func (c *Client) Start() (LoginStart, error) {
	l := LoginStart{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
	}
	l.URL = c.oauth.AuthCodeURL(l.State, gooidc.Nonce(l.Nonce), oauth2.S256ChallengeOption(l.Verifier))
	return l, nil
}

// Complete exchanges the code from the redirect for tokens, proving
// possession of verifier, verifies the ID token (signature, issuer,
// audience, expiry, nonce, and at_hash when present) and returns who logged
// in. Errors match ErrCodeRejected, ErrClientRejected, ErrTokenExpired,
// ErrNonceMismatch, ErrInvalidToken, ErrMissingClaim or ErrIdPUnreachable.
func (c *Client) Complete(ctx context.Context, code, verifier, nonce string) (Identity, error) {
	if code == "" || verifier == "" || nonce == "" {
		return Identity{}, errors.New("oidc: Complete needs the code, the stored verifier and the stored nonce")
	}
	ctx = gooidc.ClientContext(ctx, c.http)
	tok, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, classifyExchange(err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok || rawID == "" {
		return Identity{}, fmt.Errorf("%w: the token response has no id_token", ErrInvalidToken)
	}
	idt, err := c.verifier.Verify(ctx, rawID)
	if err != nil {
		return Identity{}, classifyVerify(err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return Identity{}, ErrNonceMismatch
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
	}
	var claims Claims
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return claims.Identity()
}
