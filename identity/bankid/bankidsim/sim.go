// Package bankidsim is a local stand-in for BankID's Relying Party API v6.0,
// used by `nara serve` when no BANKID_URL is set and by tests in every
// language.
//
// Simulator answers /rp/v6.0/auth, /sign, /phone/auth, /collect and /cancel
// like BankID does: it validates input, answers errors with the same codes
// and statuses, enforces order lifetimes against an injectable clock, and
// completes orders as one of its test users. Somebody has to play the user:
// Go tests call Start, SetHint, Approve, Fail, UserCancel, Expire or ScanQR;
// tests in other languages use the same actions over HTTP under /sim/; and a
// developer uses the page at /sim/, which also accepts the animated QR code's
// text so that Nära's QR logic is checked end to end.
//
// Start serves the API over mutual TLS on loopback with a CA, server and
// client certificate made at start, so the client is configured exactly as
// in production.
package bankidsim

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the page shows Swedish time on any host
	"unicode/utf8"

	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/pnr"
)

// Errors of the user-side actions.
var (
	ErrNoSuchOrder   = errors.New("bankidsim: no such order")
	ErrNotPending    = errors.New("bankidsim: order is not pending")
	ErrUnknownUser   = errors.New("bankidsim: not a test user")
	ErrWrongUser     = errors.New("bankidsim: order is bound to another person")
	ErrInvalidHint   = errors.New("bankidsim: hint code does not fit the action")
	ErrInvalidQRCode = errors.New("bankidsim: QR code is invalid or too old")
)

// DefaultQRMaxAge is how old a scanned QR code may be. BankID's app rejects
// stale codes; the exact limit is not published, and a few seconds of slack
// lets a human copy the text from one window to another.
const DefaultQRMaxAge = 10 * time.Second

// Limits BankID documents for the data fields, counted in base64 characters.
const (
	maxUserVisibleDataAuth = 1_500
	maxUserVisibleData     = 40_000
	maxUserNonVisibleData  = 200_000
	maxRequestBytes        = 1 << 20
)

// Config holds the simulator's dependencies; every field has a default.
type Config struct {
	// Now is the clock for order lifetimes and QR codes. Default time.Now.
	Now func() time.Time
	// Users are the people orders can be completed as. Default DefaultUsers().
	Users []TestUser
	// Logger records order life cycles, numbers redacted. Default discards.
	Logger *slog.Logger
	// QRMaxAge is how old a scanned QR code may be. Default DefaultQRMaxAge.
	QRMaxAge time.Duration
	// StartTimeout is how long an order waits for an app to pick it up
	// before it fails with startFailed. Default bankid.OrderTimeout: BankID
	// keeps an unscanned order, its QR code animated, for the order's whole
	// life, so a person reading instructions is not cut off early. Set
	// bankid.StartTimeout to see startFailed soon.
	StartTimeout time.Duration
}

// Simulator is the simulated BankID service. It is an http.Handler serving
// both the API (/rp/v6.0/) and the control surface (/sim/); Start serves
// them on separate listeners.
type Simulator struct {
	now      func() time.Time
	log      *slog.Logger
	users    []TestUser
	qrMaxAge time.Duration
	startBy  time.Duration
	zone     *time.Location
	page     *template.Template
	api      http.Handler
	control  http.Handler

	mu     sync.Mutex
	orders map[string]*order
	// pending and byQR index the orders a busy simulator looks up often, so
	// a call costs the same with thousands of orders as with one.
	pending   map[string]*order
	byQR      map[string]*order
	lastSweep time.Time
	seq       uint64 // creation counter, to list orders in a stable order
	// outage is the error code the next outageCalls API calls answer.
	outage      bankid.ErrorCode
	outageCalls int
}

type order struct {
	seq                                         uint64
	ref, kind                                   string // kind: auth, sign, phone/auth
	autoStartToken, qrStartToken, qrStartSecret string
	created, finished                           time.Time
	endUserIP                                   string
	visibleData                                 string
	required                                    pnr.Number // requirement.personalNumber or the phone user
	mrtd, returnRisk                            bool
	user                                        pnr.Number // who picked the order up
	started                                     bool
	status                                      bankid.Status
	hint                                        bankid.HintCode
	completion                                  *bankid.CompletionData
	// badNumber makes collect answer the completion data with a personal
	// number whose check digit is wrong, as a fault to test against.
	badNumber bool
	collects  int // collect calls answered for this order
}

// boundTo is the person the order belongs to, if BankID knows yet.
func (o *order) boundTo() pnr.Number {
	if !o.user.IsZero() {
		return o.user
	}
	return o.required
}

// New returns a Simulator with no orders.
func New(cfg Config) (*Simulator, error) {
	s := &Simulator{
		now:      cfg.Now,
		log:      cfg.Logger,
		users:    cfg.Users,
		qrMaxAge: cfg.QRMaxAge,
		startBy:  cfg.StartTimeout,
		orders:   make(map[string]*order),
		pending:  make(map[string]*order),
		byQR:     make(map[string]*order),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.users == nil {
		s.users = DefaultUsers()
	}
	if len(s.users) == 0 {
		return nil, errors.New("bankidsim: at least one test user is needed")
	}
	if s.qrMaxAge == 0 {
		s.qrMaxAge = DefaultQRMaxAge
	}
	if s.startBy == 0 {
		s.startBy = bankid.OrderTimeout
	}
	zone, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return nil, fmt.Errorf("bankidsim: %w", err)
	}
	s.zone = zone
	page, err := template.New("page").Funcs(template.FuncMap{
		"local": func(t time.Time) time.Time { return t.In(s.zone) },
	}).Parse(pageHTML)
	if err != nil {
		return nil, err
	}
	s.page = page
	s.api = s.newAPIHandler()
	s.control = s.newControlHandler()
	return s, nil
}

// ServeHTTP routes /sim/ to ControlHandler and everything else to APIHandler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sim" || strings.HasPrefix(r.URL.Path, "/sim/") {
		s.control.ServeHTTP(w, r)
		return
	}
	s.api.ServeHTTP(w, r)
}

// APIHandler serves BankID's API under /rp/v6.0/; anything else is notFound.
func (s *Simulator) APIHandler() http.Handler { return s.api }

func (s *Simulator) newAPIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/rp/v6.0/auth", s.endpoint(func(b []byte) (any, *apiError) { return s.startOrder("auth", b) }))
	mux.Handle("/rp/v6.0/sign", s.endpoint(func(b []byte) (any, *apiError) { return s.startOrder("sign", b) }))
	mux.Handle("/rp/v6.0/phone/auth", s.endpoint(func(b []byte) (any, *apiError) { return s.startOrder("phone/auth", b) }))
	mux.Handle("/rp/v6.0/collect", s.endpoint(s.collect))
	mux.Handle("/rp/v6.0/cancel", s.endpoint(s.cancel))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, &apiError{bankid.CodeNotFound, "Not found"})
	})
	return mux
}

type apiError struct {
	code    bankid.ErrorCode
	details string
}

func invalid(details string) *apiError { return &apiError{bankid.CodeInvalidParameters, details} }

func writeAPIError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, bankid.StatusForCode(e.code), map[string]string{"errorCode": string(e.code), "details": e.details})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// endpoint does what BankID checks before looking at a body: POST only,
// application/json only, bounded size.
func (s *Simulator) endpoint(h func(body []byte) (any, *apiError)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeAPIError(w, &apiError{bankid.CodeMethodNotAllowed, "Method not allowed"})
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeAPIError(w, &apiError{bankid.CodeUnsupportedMediaType, "Unsupported media type"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		if err != nil {
			writeAPIError(w, invalid("Request too large"))
			return
		}
		if code, ok := s.takeOutage(); ok {
			writeAPIError(w, &apiError{code, "Simulated outage"})
			return
		}
		resp, aerr := h(body)
		if aerr != nil {
			writeAPIError(w, aerr)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// FailNext makes the next n API calls answer code, such as maintenance or
// internalError, as BankID does when it is down or failing.
func (s *Simulator) FailNext(code bankid.ErrorCode, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage, s.outageCalls = code, n
}

func (s *Simulator) takeOutage() (bankid.ErrorCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outageCalls <= 0 {
		return "", false
	}
	s.outageCalls--
	return s.outage, true
}

// decodeParams unmarshals body and names the offending field like BankID does.
func decodeParams(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid("Incorrect " + te.Field)
		}
		return invalid("Invalid JSON")
	}
	return nil
}

type orderParams struct {
	EndUserIP             *string            `json:"endUserIp"`
	Requirement           *requirementParams `json:"requirement"`
	UserVisibleData       *string            `json:"userVisibleData"`
	UserNonVisibleData    *string            `json:"userNonVisibleData"`
	UserVisibleDataFormat *string            `json:"userVisibleDataFormat"`
	ReturnURL             *string            `json:"returnUrl"`
	ReturnRisk            *bool              `json:"returnRisk"`
	App                   json.RawMessage    `json:"app"`
	Web                   json.RawMessage    `json:"web"`
	PersonalNumber        *string            `json:"personalNumber"` // phone/auth
	CallInitiator         *string            `json:"callInitiator"`  // phone/auth
}

type requirementParams struct {
	PinCode             *bool    `json:"pinCode"`
	MRTD                *bool    `json:"mrtd"`
	CardReader          *string  `json:"cardReader"`
	CertificatePolicies []string `json:"certificatePolicies"`
	PersonalNumber      *string  `json:"personalNumber"`
}

// isOID reports whether s looks like a certificate policy OID: dotted digits.
func isOID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// validated is what survives validation of an order request.
type validated struct {
	endUserIP   string
	visibleData string
	required    pnr.Number
	mrtd        bool
	returnRisk  bool
}

func validateOrder(kind string, p orderParams) (validated, *apiError) {
	var v validated
	if kind == "phone/auth" {
		if p.PersonalNumber == nil {
			return v, invalid("Missing personalNumber")
		}
		n, err := pnr.ParseDigits(*p.PersonalNumber)
		if err != nil {
			return v, invalid("Incorrect personalNumber")
		}
		v.required = n
		if p.CallInitiator == nil || (*p.CallInitiator != string(bankid.CallInitiatorUser) && *p.CallInitiator != string(bankid.CallInitiatorRP)) {
			return v, invalid("Incorrect callInitiator")
		}
		v.endUserIP = "127.0.0.1"
	} else {
		if p.EndUserIP == nil {
			return v, invalid("Missing endUserIp")
		}
		if _, err := netip.ParseAddr(*p.EndUserIP); err != nil {
			return v, invalid("Incorrect endUserIp")
		}
		v.endUserIP = *p.EndUserIP
		if p.PersonalNumber != nil || p.CallInitiator != nil {
			return v, invalid("Incorrect personalNumber")
		}
	}
	if p.UserVisibleData == nil && kind == "sign" {
		return v, invalid("Missing userVisibleData")
	}
	if p.UserVisibleData != nil {
		text, err := base64.StdEncoding.DecodeString(*p.UserVisibleData)
		limit := maxUserVisibleData
		if kind != "sign" {
			limit = maxUserVisibleDataAuth
		}
		if err != nil || len(text) == 0 || len(*p.UserVisibleData) > limit || !utf8.Valid(text) {
			return v, invalid("Incorrect userVisibleData")
		}
		v.visibleData = string(text)
	}
	if p.UserNonVisibleData != nil {
		data, err := base64.StdEncoding.DecodeString(*p.UserNonVisibleData)
		if err != nil || len(data) == 0 || len(*p.UserNonVisibleData) > maxUserNonVisibleData {
			return v, invalid("Incorrect userNonVisibleData")
		}
	}
	if f := p.UserVisibleDataFormat; f != nil && *f != "simpleMarkdownV1" && *f != "plaintext" {
		return v, invalid("Incorrect userVisibleDataFormat")
	}
	if p.ReturnURL != nil {
		if kind == "phone/auth" {
			return v, invalid("Incorrect returnUrl")
		}
		u, err := url.Parse(*p.ReturnURL)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return v, invalid("Incorrect returnUrl")
		}
	}
	if p.App != nil && p.Web != nil {
		return v, invalid("Incorrect app and web: send one of them")
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"app", p.App}, {"web", p.Web}} {
		var obj map[string]string
		if f.raw != nil && (json.Unmarshal(f.raw, &obj) != nil || len(obj) == 0) {
			return v, invalid("Incorrect " + f.name)
		}
	}
	v.returnRisk = p.ReturnRisk != nil && *p.ReturnRisk
	if r := p.Requirement; r != nil {
		if r.CardReader != nil && *r.CardReader != "class1" && *r.CardReader != "class2" {
			return v, invalid("Incorrect requirement.cardReader")
		}
		for _, oid := range r.CertificatePolicies {
			if !isOID(oid) {
				return v, invalid("Incorrect requirement.certificatePolicies")
			}
		}
		if r.PersonalNumber != nil {
			n, err := pnr.ParseDigits(*r.PersonalNumber)
			if err != nil {
				return v, invalid("Incorrect requirement.personalNumber")
			}
			if !v.required.IsZero() && v.required != n {
				return v, invalid("Incorrect requirement.personalNumber")
			}
			v.required = n
		}
		v.mrtd = r.MRTD != nil && *r.MRTD
	}
	return v, nil
}

func (s *Simulator) startOrder(kind string, body []byte) (any, *apiError) {
	var p orderParams
	if e := decodeParams(body, &p); e != nil {
		return nil, e
	}
	v, e := validateOrder(kind, p)
	if e != nil {
		return nil, e
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	if !v.required.IsZero() {
		for _, o := range s.pending {
			if s.ageLocked(o, now); o.status == bankid.StatusPending && o.boundTo() == v.required {
				// BankID aborts the running order and creates none.
				s.finishLocked(o, bankid.StatusFailed, bankid.HintCancelled, now)
				return nil, &apiError{bankid.CodeAlreadyInProgress, "Order already in progress for pno"}
			}
		}
	}
	s.seq++
	o := &order{
		seq: s.seq, ref: token(), kind: kind, created: now,
		endUserIP: v.endUserIP, visibleData: v.visibleData, required: v.required,
		mrtd: v.mrtd, returnRisk: v.returnRisk,
		status: bankid.StatusPending, hint: bankid.HintOutstandingTransaction,
	}
	resp := bankid.OrderResponse{OrderRef: o.ref}
	if kind != "phone/auth" {
		o.autoStartToken, o.qrStartToken, o.qrStartSecret = token(), token(), token()
		resp.AutoStartToken, resp.QRStartToken, resp.QRStartSecret = o.autoStartToken, o.qrStartToken, o.qrStartSecret
	}
	s.orders[o.ref] = o
	s.pending[o.ref] = o
	if o.qrStartToken != "" {
		s.byQR[o.qrStartToken] = o
	}
	s.log.Info("bankidsim: order created", "kind", kind, "orderRef", o.ref, "required", v.required)
	return resp, nil
}

func (s *Simulator) collect(body []byte) (any, *apiError) {
	ref, e := orderRef(body)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	o, ok := s.orders[ref]
	if !ok {
		return nil, invalid("No such order")
	}
	s.ageLocked(o, now)
	o.collects++
	resp := bankid.CollectResponse{OrderRef: o.ref, Status: o.status, CompletionData: o.completion}
	if o.status != bankid.StatusComplete {
		resp.HintCode = o.hint
	}
	if o.badNumber && o.completion != nil {
		return withBadNumber(resp)
	}
	return resp, nil
}

// withBadNumber is resp as JSON with the user's personal number given a
// wrong check digit.
func withBadNumber(resp bankid.CollectResponse) (any, *apiError) {
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, &apiError{bankid.CodeInternalError, "Internal error"}
	}
	digits := resp.CompletionData.User.PersonalNumber.Digits()
	bad := digits[:11] + string('0'+(digits[11]-'0'+1)%10)
	return json.RawMessage(strings.Replace(string(b), `"personalNumber":"`+digits+`"`, `"personalNumber":"`+bad+`"`, 1)), nil
}

func (s *Simulator) cancel(body []byte) (any, *apiError) {
	ref, e := orderRef(body)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	o, ok := s.orders[ref]
	if !ok {
		return nil, invalid("No such order")
	}
	s.ageLocked(o, now)
	if o.status != bankid.StatusPending {
		return nil, invalid("Order already finished")
	}
	s.forgetLocked(o)
	s.log.Info("bankidsim: order cancelled by RP", "orderRef", ref)
	return struct{}{}, nil
}

func orderRef(body []byte) (string, *apiError) {
	var p struct {
		OrderRef *string `json:"orderRef"`
	}
	if e := decodeParams(body, &p); e != nil {
		return "", e
	}
	if p.OrderRef == nil || *p.OrderRef == "" {
		return "", invalid("Missing orderRef")
	}
	return *p.OrderRef, nil
}

// sweepLocked applies the passage of time: orders not picked up within
// the start timeout fail with startFailed, orders pending past OrderTimeout fail
// with expiredTransaction, and finished orders are forgotten once their
// collect window has passed. The full pass runs at most once a second (or
// when the clock is set back); in between, callers age the one order they
// touch with ageLocked.
func (s *Simulator) sweepLocked(now time.Time) {
	if !s.lastSweep.IsZero() && !now.Before(s.lastSweep) && now.Sub(s.lastSweep) < time.Second {
		return
	}
	s.lastSweep = now
	for _, o := range s.orders {
		s.ageLocked(o, now)
		window := bankid.FailedCollectWindow
		if o.status == bankid.StatusComplete {
			window = bankid.CompletedCollectWindow
		}
		if o.status != bankid.StatusPending && now.Sub(o.finished) > window {
			s.forgetLocked(o)
		}
	}
}

// ageLocked fails o if it has been pending too long.
func (s *Simulator) ageLocked(o *order, now time.Time) {
	if o.status != bankid.StatusPending {
		return
	}
	switch {
	case !o.started && s.startBy < bankid.OrderTimeout && now.Sub(o.created) >= s.startBy:
		s.finishLocked(o, bankid.StatusFailed, bankid.HintStartFailed, o.created.Add(s.startBy))
	case now.Sub(o.created) >= bankid.OrderTimeout:
		s.finishLocked(o, bankid.StatusFailed, bankid.HintExpiredTransaction, o.created.Add(bankid.OrderTimeout))
	}
}

// forgetLocked removes o from the simulator.
func (s *Simulator) forgetLocked(o *order) {
	delete(s.orders, o.ref)
	delete(s.pending, o.ref)
	if s.byQR[o.qrStartToken] == o {
		delete(s.byQR, o.qrStartToken)
	}
}

func (s *Simulator) finishLocked(o *order, status bankid.Status, hint bankid.HintCode, at time.Time) {
	o.status, o.hint, o.finished = status, hint, at
	delete(s.pending, o.ref)
	s.log.Info("bankidsim: order finished", "orderRef", o.ref, "status", status, "hintCode", hint)
}

// token returns a random UUID-formatted string, the shape of BankID's tokens.
func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Order is a snapshot of one order, for tests and the page.
type Order struct {
	OrderRef string
	// Kind is "auth", "sign" or "phone/auth".
	Kind     string
	Status   bankid.Status
	HintCode bankid.HintCode
	Created  time.Time
	// RequiredPersonalNumber is requirement.personalNumber, or the phone user.
	RequiredPersonalNumber pnr.Number
	// User is who picked the order up in their app.
	User pnr.Number
	// UserVisibleData is the decoded text shown to the user.
	UserVisibleData string
	// Collects counts the collect calls answered for the order.
	Collects int
	// EndUserIP is the endUserIp the relying party sent.
	EndUserIP string
}

// Orders returns every order BankID would still answer collect for, oldest first.
func (s *Simulator) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSweep = time.Time{} // a listing shows every order aged
	s.sweepLocked(s.now())
	sorted := slices.SortedFunc(maps.Values(s.orders), func(a, b *order) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]Order, 0, len(sorted))
	for _, o := range sorted {
		out = append(out, Order{
			OrderRef: o.ref, Kind: o.kind, Status: o.status, HintCode: o.hint, Created: o.created,
			RequiredPersonalNumber: o.required, User: o.user, UserVisibleData: o.visibleData, Collects: o.collects,
			EndUserIP: o.endUserIP,
		})
	}
	return out
}

// Users returns the test users.
func (s *Simulator) Users() []TestUser { return slices.Clone(s.users) }

func (s *Simulator) user(n pnr.Number) (TestUser, bool) {
	for _, u := range s.users {
		if u.PersonalNumber == n {
			return u, true
		}
	}
	return TestUser{}, false
}

// pendingLocked returns the order if it exists and is pending.
func (s *Simulator) pendingLocked(ref string) (*order, error) {
	now := s.now()
	s.sweepLocked(now)
	o, ok := s.orders[ref]
	if !ok {
		return nil, ErrNoSuchOrder
	}
	s.ageLocked(o, now)
	if o.status != bankid.StatusPending {
		return nil, ErrNotPending
	}
	return o, nil
}

// bindLocked lets person n pick up o in their app. The app runs one order at
// a time, so BankID cancels the person's other pending orders.
func (s *Simulator) bindLocked(o *order, n pnr.Number) error {
	if _, ok := s.user(n); !ok {
		return ErrUnknownUser
	}
	if (!o.required.IsZero() && o.required != n) || (!o.user.IsZero() && o.user != n) {
		return ErrWrongUser
	}
	now := s.now()
	for _, other := range s.pending {
		if other != o && other.boundTo() == n {
			s.finishLocked(other, bankid.StatusFailed, bankid.HintCancelled, now)
		}
	}
	o.user = n
	if !o.started {
		o.started = true
		o.hint = bankid.HintStarted
		if o.kind == "phone/auth" {
			o.hint = bankid.HintUserCallConfirm
		}
	}
	return nil
}

// Start plays user n opening the order in their BankID app (autostart, or
// after scanning the QR code): the hint becomes started (userCallConfirm for
// phone orders) and the start timeout no longer applies.
func (s *Simulator) Start(orderRef string, n pnr.Number) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.pendingLocked(orderRef)
	if err != nil {
		return err
	}
	return s.bindLocked(o, n)
}

// SetHint sets the hint of a pending order, for example userSign once the
// app shows the order, or an undocumented code to test how Nära copes. A
// documented failure code is refused: use Fail.
func (s *Simulator) SetHint(orderRef string, hint bankid.HintCode) error {
	if hint == "" || hint.Failed() {
		return ErrInvalidHint
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.pendingLocked(orderRef)
	if err != nil {
		return err
	}
	o.hint = hint
	if hint != bankid.HintOutstandingTransaction && hint != bankid.HintNoClient {
		o.started = true
	}
	return nil
}

// Approve plays user n entering their security code: the order completes
// with n's name and number in the completion data. An order bound to
// someone else (requirement.personalNumber, or picked up by another user)
// is refused with ErrWrongUser, as the real app would not offer it.
func (s *Simulator) Approve(orderRef string, n pnr.Number) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.pendingLocked(orderRef)
	if err != nil {
		return err
	}
	if err := s.bindLocked(o, n); err != nil {
		return err
	}
	u, _ := s.user(n)
	now := s.now()
	cd := &bankid.CompletionData{
		User:            bankid.User{PersonalNumber: n, Name: u.Name(), GivenName: u.GivenName, Surname: u.Surname},
		Device:          bankid.Device{IPAddress: o.endUserIP, UHI: uhi(n)},
		BankIDIssueDate: u.BankIDIssueDate,
		Signature:       base64.StdEncoding.EncodeToString(fakeSignature(o, n, now)),
		OCSPResponse:    base64.StdEncoding.EncodeToString([]byte("bankidsim: simulated OCSP response, not DER")),
	}
	if o.mrtd {
		cd.StepUp = &bankid.StepUp{MRTD: true}
	}
	if o.returnRisk {
		cd.Risk = bankid.RiskLow
	}
	o.completion = cd
	s.finishLocked(o, bankid.StatusComplete, "", now)
	return nil
}

// ApproveWithBadNumber is Approve, except that collect then reports the
// user's personal number with a wrong check digit: a completion answer the
// relying party cannot accept, to test that it never collects again.
func (s *Simulator) ApproveWithBadNumber(orderRef string, n pnr.Number) error {
	if err := s.Approve(orderRef, n); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[orderRef]; ok {
		o.badNumber = true
	}
	return nil
}

// Fail ends a pending order with a failure hint, such as certificateErr or
// transactionRiskBlocked, or an undocumented code. A documented pending code
// is refused with ErrInvalidHint.
func (s *Simulator) Fail(orderRef string, hint bankid.HintCode) error {
	if hint == "" || hint.Pending() {
		return ErrInvalidHint
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.pendingLocked(orderRef)
	if err != nil {
		return err
	}
	s.finishLocked(o, bankid.StatusFailed, hint, s.now())
	return nil
}

// UserCancel plays the user pressing Cancel in the app (failed, userCancel).
func (s *Simulator) UserCancel(orderRef string) error { return s.Fail(orderRef, bankid.HintUserCancel) }

// Expire ends a pending order as if its time ran out (failed,
// expiredTransaction), without waiting for the clock.
func (s *Simulator) Expire(orderRef string) error {
	return s.Fail(orderRef, bankid.HintExpiredTransaction)
}

// ScanQR plays user n scanning an animated QR code with their phone: the text
// must be what bankid.QRCode gives for one of the pending orders, computed
// with that order's secret for a second no later than now and no older than
// the QRMaxAge. The order is then started as by Start.
func (s *Simulator) ScanQR(code string, n pnr.Number) (orderRef string, err error) {
	parts := strings.Split(strings.TrimSpace(code), ".")
	if len(parts) != 4 || parts[0] != "bankid" {
		return "", ErrInvalidQRCode
	}
	secs, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || secs < 0 || strconv.FormatInt(secs, 10) != parts[2] {
		return "", ErrInvalidQRCode
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	if o, ok := s.byQR[parts[1]]; ok {
		s.ageLocked(o, now)
		if o.status != bankid.StatusPending || o.started {
			return "", ErrInvalidQRCode
		}
		elapsed := int64(now.Sub(o.created) / time.Second)
		if secs > elapsed+1 || time.Duration(elapsed-secs)*time.Second > s.qrMaxAge {
			return "", ErrInvalidQRCode
		}
		want := bankid.QRCode(o.qrStartToken, o.qrStartSecret, time.Duration(secs)*time.Second)
		if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(code))) {
			return "", ErrInvalidQRCode
		}
		if err := s.bindLocked(o, n); err != nil {
			return "", err
		}
		return o.ref, nil
	}
	return "", ErrInvalidQRCode
}

// uhi derives a stable device id per user, as BankID's is stable per device.
func uhi(n pnr.Number) string {
	sum := sha256.Sum256([]byte("bankidsim device " + n.Digits()))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// fakeSignature stands in for BankID's XML signature. It is not signed by
// anything; Nära must not verify signatures against the simulator.
func fakeSignature(o *order, n pnr.Number, at time.Time) []byte {
	type signed struct {
		OrderRef       string `json:"orderRef"`
		Kind           string `json:"kind"`
		PersonalNumber string `json:"personalNumber"`
		VisibleData    string `json:"userVisibleData"`
		SignedAt       string `json:"signedAt"`
	}
	body, _ := json.Marshal(signed{OrderRef: o.ref, Kind: o.kind, PersonalNumber: n.Digits(), VisibleData: o.visibleData, SignedAt: at.UTC().Format(time.RFC3339)})
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><bankidsim:Signature xmlns:bankidsim="urn:nara:bankidsim">` +
		template.HTMLEscapeString(string(body)) + `</bankidsim:Signature>`)
}
