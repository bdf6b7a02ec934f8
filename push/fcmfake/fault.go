package fcmfake

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Code names an error the fake can answer messages:send with. All but ProjectQuotaExceeded are
// FCM's own ErrorCode values and arrive in the body's FcmError detail, which is what the Admin
// SDKs' IsUnregistered, IsQuotaExceeded and friends look at.
type Code string

// The errors a send can be made to fail with, each answered with FCM's HTTP status and body.
const (
	// Unregistered (404 NOT_FOUND) says the app was uninstalled or the token expired: delete it.
	Unregistered Code = "UNREGISTERED"
	// InvalidArgument (400) says the token or the message is malformed.
	InvalidArgument Code = "INVALID_ARGUMENT"
	// QuotaExceeded (429 RESOURCE_EXHAUSTED) says the message target's rate limit was hit.
	QuotaExceeded Code = "QUOTA_EXCEEDED"
	// Unavailable (503) says FCM is overloaded; the Admin SDK retries it by itself.
	Unavailable Code = "UNAVAILABLE"
	// Internal (500) says FCM failed for an unknown reason.
	Internal Code = "INTERNAL"
	// SenderIDMismatch (403 PERMISSION_DENIED) says the token belongs to another Firebase project.
	SenderIDMismatch Code = "SENDER_ID_MISMATCH"
	// ThirdPartyAuthError (401 UNAUTHENTICATED) says APNs or Web Push refused FCM's credentials.
	ThirdPartyAuthError Code = "THIRD_PARTY_AUTH_ERROR"
	// ProjectQuotaExceeded is not an FCM code: it is the 429 RESOURCE_EXHAUSTED that Google's API
	// front end sends when the project's sends-per-minute quota runs out. Its body carries a
	// google.rpc.ErrorInfo (reason RATE_LIMIT_EXCEEDED) and no FcmError, so the Admin SDK's
	// IsQuotaExceeded does not recognise it (firebase-admin-go issue 719); clients must look at the
	// HTTP status as well.
	ProjectQuotaExceeded Code = "PROJECT_QUOTA_EXCEEDED"
)

// Codes lists every Code the fake knows, in the order of the constants above.
func Codes() []Code {
	return []Code{Unregistered, InvalidArgument, QuotaExceeded, Unavailable, Internal, SenderIDMismatch, ThirdPartyAuthError, ProjectQuotaExceeded}
}

// Known tells whether c is one of Codes.
func (c Code) Known() bool {
	_, _, _, ok := c.shape()
	return ok
}

// shape is the HTTP status, canonical status and message Google answers c with.
func (c Code) shape() (int, string, string, bool) {
	switch c {
	case Unregistered:
		return http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.", true
	case InvalidArgument:
		return http.StatusBadRequest, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", true
	case QuotaExceeded:
		return http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Quota exceeded for the message target.", true
	case Unavailable:
		return http.StatusServiceUnavailable, "UNAVAILABLE", "The service is currently unavailable.", true
	case Internal:
		return http.StatusInternalServerError, "INTERNAL", "Internal error encountered.", true
	case SenderIDMismatch:
		return http.StatusForbidden, "PERMISSION_DENIED", "SenderId mismatch", true
	case ThirdPartyAuthError:
		return http.StatusUnauthorized, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", true
	case ProjectQuotaExceeded:
		return http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'.", true
	}
	return http.StatusInternalServerError, "INTERNAL", "Internal error encountered.", false
}

// apiError is a Google API error response: {"error":{"code","message","status","details"}}.
type apiError struct {
	httpStatus int
	status     string
	message    string
	details    []any
	retryAfter time.Duration
}

func (c Code) apiError(retryAfter time.Duration) *apiError {
	httpStatus, status, msg, _ := c.shape()
	e := &apiError{httpStatus: httpStatus, status: status, message: msg, retryAfter: retryAfter}
	if c == ProjectQuotaExceeded {
		e.details = []any{map[string]any{
			"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": "RATE_LIMIT_EXCEEDED",
			"domain": "googleapis.com",
			"metadata": map[string]string{
				"service":      "fcm.googleapis.com",
				"quota_metric": "fcm.googleapis.com/send_requests",
				"quota_limit":  "SendsPerMinutePerProject",
			},
		}}
		return e
	}
	e.details = []any{fcmErrorDetail(string(c))}
	return e
}

func fcmErrorDetail(code string) map[string]string {
	return map[string]string{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
}

// badRequest is a 400 for a malformed request, with the google.rpc.BadRequest detail Google
// attaches to field errors.
func badRequest(field, msg string) *apiError {
	return &apiError{
		httpStatus: http.StatusBadRequest,
		status:     "INVALID_ARGUMENT",
		message:    msg,
		details: []any{map[string]any{
			"@type":           "type.googleapis.com/google.rpc.BadRequest",
			"fieldViolations": []map[string]string{{"field": field, "description": msg}},
		}},
	}
}

// invalidMessage is a 400 for a message FCM itself refuses, tagged with the FcmError detail.
func invalidMessage(msg string) *apiError {
	return &apiError{
		httpStatus: http.StatusBadRequest,
		status:     "INVALID_ARGUMENT",
		message:    msg,
		details:    []any{fcmErrorDetail(string(InvalidArgument))},
	}
}

func (e *apiError) write(w http.ResponseWriter) {
	if e.retryAfter > 0 {
		// Retry-After carries whole seconds; round up so a client never comes back early.
		w.Header().Set("Retry-After", strconv.FormatInt(int64((e.retryAfter+time.Second-1)/time.Second), 10))
	}
	type body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []any  `json:"details,omitempty"`
	}
	writeJSON(w, e.httpStatus, struct {
		Error body `json:"error"`
	}{body{e.httpStatus, e.message, e.status, e.details}})
}

// rule is a programmed failure: the next n sends fail with code.
type rule struct {
	code       Code
	n          int
	retryAfter time.Duration
}

// outage fails every send, for a number of sends or until Recover.
type outage struct {
	code       Code
	retryAfter time.Duration
	forever    bool
	remaining  atomic.Int64
}

// faults holds what makes sends fail. Sends look it up without a shared lock unless failures
// are queued for some token.
type faults struct {
	dead   sync.Map // token → struct{}
	outage atomic.Pointer[outage]

	mu     sync.Mutex
	queued map[string][]rule
	armed  atomic.Int64 // number of tokens in queued
}

// MarkDead makes sends to tokens fail with UNREGISTERED, as for an uninstalled app, until Revive
// or Reset.
func (f *Fake) MarkDead(tokens ...string) {
	for _, t := range tokens {
		f.faults.dead.Store(t, struct{}{})
	}
}

// Revive undoes MarkDead for tokens.
func (f *Fake) Revive(tokens ...string) {
	for _, t := range tokens {
		f.faults.dead.Delete(t)
	}
}

// FailNext queues a failure for token: its next n sends fail with code, with a Retry-After
// header of retryAfter when that is positive (whole seconds, rounded up). Calls queue up in
// order, so FailNext(t, Unavailable, 2, 0) then FailNext(t, QuotaExceeded, 1, time.Minute) fails
// three sends in that order. A code that is not Known is answered as INTERNAL carrying that code.
func (f *Fake) FailNext(token string, code Code, n int, retryAfter time.Duration) {
	if n <= 0 {
		return
	}
	f.faults.mu.Lock()
	defer f.faults.mu.Unlock()
	if f.faults.queued == nil {
		f.faults.queued = make(map[string][]rule)
	}
	if len(f.faults.queued[token]) == 0 {
		f.faults.armed.Add(1)
	}
	f.faults.queued[token] = append(f.faults.queued[token], rule{code: code, n: n, retryAfter: retryAfter})
}

// FailAll starts an outage: the next n sends to any target fail with code (QuotaExceeded,
// ProjectQuotaExceeded or Unavailable make the usual bursts), or every send until Recover when n
// is zero or less. A new FailAll replaces the outage in force.
func (f *Fake) FailAll(code Code, n int, retryAfter time.Duration) {
	o := &outage{code: code, retryAfter: retryAfter, forever: n <= 0}
	o.remaining.Store(int64(n))
	f.faults.outage.Store(o)
}

// Recover ends an outage started by FailAll.
func (f *Fake) Recover() {
	f.faults.outage.Store(nil)
}

// next returns the failure the next send to target meets, if any, consuming it.
func (fs *faults) next(target string) *apiError {
	if o := fs.outage.Load(); o != nil {
		if o.forever {
			return o.code.apiError(o.retryAfter)
		}
		if o.remaining.Add(-1) >= 0 {
			return o.code.apiError(o.retryAfter)
		}
		fs.outage.CompareAndSwap(o, nil)
	}
	if fs.armed.Load() > 0 {
		if e := fs.dequeue(target); e != nil {
			return e
		}
	}
	if _, dead := fs.dead.Load(target); dead {
		return Unregistered.apiError(0)
	}
	return nil
}

func (fs *faults) dequeue(target string) *apiError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	rules := fs.queued[target]
	if len(rules) == 0 {
		return nil
	}
	r := &rules[0]
	e := r.code.apiError(r.retryAfter)
	r.n--
	if r.n == 0 {
		rules = rules[1:]
	}
	if len(rules) == 0 {
		delete(fs.queued, target)
		fs.armed.Add(-1)
	} else {
		fs.queued[target] = rules
	}
	return e
}

func (fs *faults) reset() {
	fs.dead.Clear()
	fs.outage.Store(nil)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.queued = nil
	fs.armed.Store(0)
}
