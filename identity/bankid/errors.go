package bankid

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
)

// ErrorCode is the errorCode of a BankID error response.
type ErrorCode string

// The documented error codes and the HTTP statuses they come with.
const (
	CodeAlreadyInProgress    ErrorCode = "alreadyInProgress"    // 400: an order for this person is already running; BankID cancels it
	CodeInvalidParameters    ErrorCode = "invalidParameters"    // 400: a bug in the request, or an unknown or finished orderRef
	CodeUnauthorized         ErrorCode = "unauthorized"         // 401, 403: the RP certificate is not allowed to do this
	CodeNotFound             ErrorCode = "notFound"             // 404: wrong URL
	CodeMethodNotAllowed     ErrorCode = "methodNotAllowed"     // 405: not a POST
	CodeRequestTimeout       ErrorCode = "requestTimeout"       // 408: BankID gave up on the request; retry
	CodeUnsupportedMediaType ErrorCode = "unsupportedMediaType" // 415: not application/json
	CodeTooManyRequests      ErrorCode = "tooManyRequests"      // 429: rate limited
	CodeInternalError        ErrorCode = "internalError"        // 500: BankID failed; retry
	CodeMaintenance          ErrorCode = "maintenance"          // 503: BankID is down for maintenance; retry later
)

// Sentinels for errors.Is: an *Error matches the one for its ErrorCode.
var (
	ErrAlreadyInProgress    = errors.New("bankid: alreadyInProgress")
	ErrInvalidParameters    = errors.New("bankid: invalidParameters")
	ErrUnauthorized         = errors.New("bankid: unauthorized")
	ErrNotFound             = errors.New("bankid: notFound")
	ErrMethodNotAllowed     = errors.New("bankid: methodNotAllowed")
	ErrRequestTimeout       = errors.New("bankid: requestTimeout")
	ErrUnsupportedMediaType = errors.New("bankid: unsupportedMediaType")
	ErrTooManyRequests      = errors.New("bankid: tooManyRequests")
	ErrInternalError        = errors.New("bankid: internalError")
	ErrMaintenance          = errors.New("bankid: maintenance")
)

// ErrUnreadableFinalAnswer is a collect answer that says the order is
// complete or failed but cannot be read. The order is finished at BankID;
// treat the login as failed and never collect it again.
var ErrUnreadableFinalAnswer = errors.New("bankid: final collect answer cannot be read")

// Error is a non-200 answer from BankID. Details is BankID's free text for
// developers and must not be shown to users; use UserMessageForError.
type Error struct {
	HTTPStatus int
	ErrorCode  ErrorCode
	Details    string
}

// digitRuns are what may be a personal number (ten or twelve digits, or
// longer runs that hold one).
var digitRuns = regexp.MustCompile(`[0-9]{10,}`)

// redactNumbers keeps personal numbers out of BankID's free text, which
// ends up in log lines.
func redactNumbers(details string) string {
	return digitRuns.ReplaceAllString(details, "[number]")
}

// Error names the status and code, which is what an operator needs in a log line.
func (e *Error) Error() string {
	if e.Details == "" {
		return fmt.Sprintf("bankid: HTTP %d %s", e.HTTPStatus, e.ErrorCode)
	}
	return fmt.Sprintf("bankid: HTTP %d %s: %s", e.HTTPStatus, e.ErrorCode, e.Details)
}

// Is lets errors.Is(err, bankid.ErrAlreadyInProgress) and friends work.
func (e *Error) Is(target error) bool {
	s := sentinel(e.ErrorCode)
	return s != nil && s == target
}

// Retryable reports whether BankID says the same call may be tried again.
func (e *Error) Retryable() bool {
	switch e.ErrorCode {
	case CodeRequestTimeout, CodeInternalError, CodeMaintenance, CodeTooManyRequests:
		return true
	}
	return false
}

func sentinel(c ErrorCode) error {
	switch c {
	case CodeAlreadyInProgress:
		return ErrAlreadyInProgress
	case CodeInvalidParameters:
		return ErrInvalidParameters
	case CodeUnauthorized:
		return ErrUnauthorized
	case CodeNotFound:
		return ErrNotFound
	case CodeMethodNotAllowed:
		return ErrMethodNotAllowed
	case CodeRequestTimeout:
		return ErrRequestTimeout
	case CodeUnsupportedMediaType:
		return ErrUnsupportedMediaType
	case CodeTooManyRequests:
		return ErrTooManyRequests
	case CodeInternalError:
		return ErrInternalError
	case CodeMaintenance:
		return ErrMaintenance
	}
	return nil
}

// codeForStatus names the error when a proxy or load balancer answers with
// no BankID error body.
func codeForStatus(status int) ErrorCode {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return CodeUnauthorized
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusRequestTimeout:
		return CodeRequestTimeout
	case http.StatusUnsupportedMediaType:
		return CodeUnsupportedMediaType
	case http.StatusTooManyRequests:
		return CodeTooManyRequests
	case http.StatusServiceUnavailable:
		return CodeMaintenance
	}
	if status >= 500 {
		return CodeInternalError
	}
	return ""
}

// StatusForCode is the HTTP status BankID uses with an error code; the
// simulator answers with it.
func StatusForCode(c ErrorCode) int {
	switch c {
	case CodeAlreadyInProgress, CodeInvalidParameters:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeRequestTimeout:
		return http.StatusRequestTimeout
	case CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case CodeTooManyRequests:
		return http.StatusTooManyRequests
	case CodeMaintenance:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
