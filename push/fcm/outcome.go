package fcm

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
)

// Outcome is what became of one message to one device token, reduced to what the caller must do
// next. It is one of Delivered, TokenGone, Retry or Permanent; switch on the type.
type Outcome interface {
	// outcome seals the interface: the four types below are all there is.
	outcome()
}

// Delivered means FCM accepted the message; Name is FCM's message name
// (projects/P/messages/ID), worth logging to trace a complaint to FCM.
type Delivered struct {
	Name string
}

// TokenGone means the token no longer reaches an app (uninstalled, expired after long
// inactivity, or made by another Firebase project: SENDER_ID_MISMATCH): delete it and do not
// retry.
type TokenGone struct {
	Reason Reason
	Err    error
}

// Retry means the message may go through later: send it again no sooner than After. After is
// the server's Retry-After when it gave one; otherwise one minute for quota errors (FCM's
// documented minimum back-off) and zero for the rest, meaning "use your own exponential
// back-off". The Sender stops the Admin SDK's own retries (see noRetry), so every failed attempt
// comes back here at once. Reason ReasonThirdPartyAuthError is Retry too: the project's APNs or
// Web Push credentials are broken, which no back-off mends; hold the notice and alert.
type Retry struct {
	After  time.Duration
	Reason Reason
	Err    error
}

// Permanent means this message will never be delivered as it is, whatever the timing: a bug in
// the payload or a misconfigured project. Do not retry; log Err and alert. The token itself may
// still be good.
type Permanent struct {
	Reason Reason
	Err    error
}

func (Delivered) outcome() {}
func (TokenGone) outcome() {}
func (Retry) outcome()     {}
func (Permanent) outcome() {}

// Reason is the FCM error code (or, where FCM gave none, the Google API status) behind an
// Outcome, kept for logs and metrics so that quota trouble can be told from outages.
type Reason string

// Reasons an Outcome can carry.
const (
	ReasonUnregistered        Reason = "UNREGISTERED"
	ReasonQuotaExceeded       Reason = "QUOTA_EXCEEDED"
	ReasonProjectQuota        Reason = "RESOURCE_EXHAUSTED"
	ReasonUnavailable         Reason = "UNAVAILABLE"
	ReasonInternal            Reason = "INTERNAL"
	ReasonTransport           Reason = "TRANSPORT"
	ReasonInvalidArgument     Reason = "INVALID_ARGUMENT"
	ReasonSenderIDMismatch    Reason = "SENDER_ID_MISMATCH"
	ReasonThirdPartyAuthError Reason = "THIRD_PARTY_AUTH_ERROR"
	ReasonUnauthenticated     Reason = "UNAUTHENTICATED"
	ReasonPermissionDenied    Reason = "PERMISSION_DENIED"
	ReasonNotFound            Reason = "NOT_FOUND"
	ReasonUnknown             Reason = "UNKNOWN"
	// ReasonExpired is not from FCM: the notice's Expires had passed, so it was not sent.
	ReasonExpired Reason = "EXPIRED"
)

// quotaBackoff is FCM's documented minimum delay before retrying a message refused for quota.
const quotaBackoff = time.Minute

// classify turns an error from the Admin SDK into an Outcome. FCM's own error code (the
// FcmError detail, read by messaging.IsXxx) decides first; the Google API status (errorutils)
// covers answers without one, such as the project-wide quota 429 that IsQuotaExceeded misses
// (firebase-admin-go issue 719) or a 404 from a wrong endpoint, which must not delete tokens.
func classify(err error) Outcome {
	if _, header, ok := httpAnswer(err); ok && header.Get(headerTransport) != "" {
		return Retry{Reason: ReasonTransport, Err: err} // no answer from FCM; see noRetry
	}
	switch {
	case messaging.IsUnregistered(err):
		return TokenGone{Reason: ReasonUnregistered, Err: err}
	case messaging.IsQuotaExceeded(err):
		return Retry{After: retryAfter(err, quotaBackoff), Reason: ReasonQuotaExceeded, Err: err}
	case errorutils.IsResourceExhausted(err):
		return Retry{After: retryAfter(err, quotaBackoff), Reason: ReasonProjectQuota, Err: err}
	case messaging.IsUnavailable(err), errorutils.IsUnavailable(err):
		return Retry{After: retryAfter(err, 0), Reason: ReasonUnavailable, Err: err}
	case messaging.IsInternal(err), errorutils.IsInternal(err):
		return Retry{After: retryAfter(err, 0), Reason: ReasonInternal, Err: err}
	case messaging.IsInvalidArgument(err), errorutils.IsInvalidArgument(err):
		return Permanent{Reason: ReasonInvalidArgument, Err: err}
	case messaging.IsSenderIDMismatch(err):
		// The token belongs to another Firebase project: it will never work for this one.
		return TokenGone{Reason: ReasonSenderIDMismatch, Err: err}
	case messaging.IsThirdPartyAuthError(err):
		// The project's APNs or Web Push credentials are broken. The message and the token are
		// fine: hold it until someone fixes the credentials.
		return Retry{Reason: ReasonThirdPartyAuthError, Err: err}
	case errorutils.IsUnauthenticated(err):
		return Permanent{Reason: ReasonUnauthenticated, Err: err}
	case errorutils.IsPermissionDenied(err):
		return Permanent{Reason: ReasonPermissionDenied, Err: err}
	case errorutils.IsNotFound(err):
		return Permanent{Reason: ReasonNotFound, Err: err}
	}
	if status, _, ok := httpAnswer(err); ok {
		// Another HTTP answer: a 5xx may pass, a 4xx will not change by waiting.
		if status >= http.StatusInternalServerError {
			return Retry{After: retryAfter(err, 0), Reason: ReasonUnknown, Err: err}
		}
		return Permanent{Reason: ReasonUnknown, Err: err}
	}
	// No HTTP answer: FCM or the token endpoint unreachable, a failed token grant, a deadline.
	// The SDK reports those as UNKNOWN or DEADLINE_EXCEEDED, or passes the context's error on.
	if errorutils.IsUnknown(err) || errorutils.IsDeadlineExceeded(err) || errorutils.IsCancelled(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Retry{Reason: ReasonTransport, Err: err}
	}
	// Anything else is the SDK refusing the message before sending it.
	return Permanent{Reason: ReasonInvalidArgument, Err: err}
}

// retryAfter reads the Retry-After header (seconds or an HTTP date) of the response behind err,
// or returns fallback when there is none.
func retryAfter(err error, fallback time.Duration) time.Duration {
	_, header, ok := httpAnswer(err)
	if !ok {
		return fallback
	}
	v := serverRetryAfter(header)
	if v == "" {
		return fallback
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0)
	}
	return fallback
}

// httpAnswer returns the status and headers of the HTTP response behind err, if there was one.
// The SDK hands out a buffered copy, so closing its body only keeps the rule that bodies are
// closed.
func httpAnswer(err error) (status int, header http.Header, ok bool) {
	resp := errorutils.HTTPResponse(err)
	if resp == nil {
		return 0, nil, false
	}
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header, true
}

// ErrInvalid is wrapped by the errors Send and SendMulticast return when their arguments are
// wrong, before anything is sent: a caller's bug, never a state of FCM or of a device.
var ErrInvalid = errors.New("fcm: invalid argument")
