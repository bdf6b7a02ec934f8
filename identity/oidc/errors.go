package oidc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Errors of a login, for errors.Is. Each tells the caller what to do: show
// "log in again", page an operator, or retry later.
var (
	// ErrInvalidState is for the caller when the state on the redirect is
	// missing, unknown, already used or too old: a replayed or forged
	// redirect, or a login left open too long. The user starts over.
	ErrInvalidState = errors.New("oidc: unknown or expired login state")
	// ErrLoginCancelled means the IdP sent the user back with access_denied:
	// they cancelled, or the IdP would not let them in.
	ErrLoginCancelled = errors.New("oidc: the login was cancelled or denied at the identity provider")
	// ErrCodeRejected means the IdP refused the authorization code
	// (invalid_grant): used before, expired, issued for another redirect
	// URL, or the PKCE verifier does not match. The user starts over.
	ErrCodeRejected = errors.New("oidc: the identity provider refused the authorization code")
	// ErrClientRejected means the IdP refused Nära's own credentials
	// (invalid_client, unauthorized_client): OIDC_CLIENT_ID or
	// OIDC_CLIENT_SECRET is wrong. An operator must fix it.
	ErrClientRejected = errors.New("oidc: the identity provider refused the client credentials")
	// ErrNonceMismatch means the ID token was not issued for the login the
	// caller stored: a replayed or swapped token.
	ErrNonceMismatch = errors.New("oidc: the ID token's nonce does not match the login")
	// ErrTokenExpired means the ID token's exp has passed. With a fresh
	// exchange that points at a wrong clock here or at the IdP.
	ErrTokenExpired = errors.New("oidc: the ID token has expired")
	// ErrInvalidToken means the ID token failed verification: bad
	// signature, another issuer or audience, or malformed claims.
	ErrInvalidToken = errors.New("oidc: invalid ID token")
	// ErrMissingClaim means the ID token lacks a claim Nära needs, usually
	// because the client registration at the IdP does not release it.
	ErrMissingClaim = errors.New("oidc: the ID token lacks a required claim")
	// ErrIdPUnreachable means the IdP could not be reached or answered
	// with a server error. Retrying later may help.
	ErrIdPUnreachable = errors.New("oidc: the identity provider cannot be reached") //nolint:revive // IdP is how the field spells identity provider
)

// CallbackError is an error the IdP sent to the redirect URL instead of a
// code (RFC 6749 section 4.1.2.1). Description is the IdP's text for
// developers; log it, do not show it.
type CallbackError struct {
	Code        string
	Description string
}

// Error gives the IdP's error code and description, for the log.
func (e *CallbackError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("oidc: the identity provider answered %s", e.Code)
	}
	return fmt.Sprintf("oidc: the identity provider answered %s: %s", e.Code, e.Description)
}

// Is makes access_denied match ErrLoginCancelled.
func (e *CallbackError) Is(target error) bool {
	return target == ErrLoginCancelled && e.Code == "access_denied"
}

// Callback is what the IdP's redirect back to Config.RedirectURL carries.
type Callback struct {
	Code  string
	State string
}

// ParseCallback reads the redirect's query. It returns the state even when
// it also returns an error, so that the caller can discard the stored
// login. Errors are ErrInvalidState without a state, and a *CallbackError
// when the IdP sent an error.
func ParseCallback(query url.Values) (Callback, error) {
	cb := Callback{Code: query.Get("code"), State: query.Get("state")}
	if code := query.Get("error"); code != "" {
		return cb, &CallbackError{Code: code, Description: query.Get("error_description")}
	}
	if cb.State == "" {
		return cb, ErrInvalidState
	}
	if cb.Code == "" {
		return cb, &CallbackError{Code: "invalid_request", Description: "the redirect carries neither a code nor an error"}
	}
	return cb, nil
}

// classifyTransport marks network failures and timeouts as ErrIdPUnreachable.
// A cancelled context is the caller's doing and stays as it is.
func classifyTransport(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &urlErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrIdPUnreachable, err)
	}
	return err
}

func classifyExchange(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return classifyTransport(fmt.Errorf("oidc: token request: %w", err))
	}
	switch {
	case re.Response != nil && re.Response.StatusCode >= http.StatusInternalServerError:
		return fmt.Errorf("%w: token endpoint: %w", ErrIdPUnreachable, err)
	case re.ErrorCode == "invalid_grant":
		return fmt.Errorf("%w: %w", ErrCodeRejected, err)
	case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client":
		return fmt.Errorf("%w: %w", ErrClientRejected, err)
	}
	return fmt.Errorf("oidc: token endpoint: %w", err)
}

func classifyVerify(err error) error {
	var expired *gooidc.TokenExpiredError
	if errors.As(err, &expired) {
		return fmt.Errorf("%w: %w", ErrTokenExpired, err)
	}
	if c := classifyTransport(err); errors.Is(c, ErrIdPUnreachable) || errors.Is(c, context.Canceled) {
		return c
	}
	return fmt.Errorf("%w: %w", ErrInvalidToken, err)
}
