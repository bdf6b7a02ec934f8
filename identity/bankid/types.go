package bankid

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/nara-care/nara/identity/pnr"
)

// Timing that BankID prescribes or that its service shows. Nära's login
// state machine and the simulator both use these, so they agree.
const (
	// CollectInterval is how often BankID asks relying parties to call
	// /collect while an order is pending.
	CollectInterval = 2 * time.Second
	// QRRefreshInterval is how often the animated QR code must be redrawn:
	// its time component counts whole seconds.
	QRRefreshInterval = time.Second
	// StartTimeout is a short wait for a BankID app to pick an order up (QR
	// code scanned, or autostart), after which it fails with startFailed;
	// BankID then recommends starting a new order. BankID publishes no such
	// figure and lets an unscanned order live for OrderTimeout, which is what
	// the simulator does by default; tests use this to reach startFailed.
	StartTimeout = 30 * time.Second
	// OrderTimeout is how long an order can stay pending in total before it
	// fails with expiredTransaction, counted from its creation. BankID's API
	// reference gives no figure; three minutes is what the service has long
	// used and what integrators observe.
	OrderTimeout = 3 * time.Minute
	// CompletedCollectWindow is how long a complete order can still be
	// collected; later collects answer invalidParameters.
	CompletedCollectWindow = 3 * time.Minute
	// FailedCollectWindow is how long a failed order can still be collected.
	FailedCollectWindow = 5 * time.Minute
)

// Requirement restricts who and what may complete an order, as the
// "requirement" object of /auth, /sign and /phone/auth.
type Requirement struct {
	// PinCode makes the user confirm with their security code even when
	// biometrics are turned on.
	PinCode bool
	// MRTD makes the user also scan a Swedish passport or national ID card.
	MRTD bool
	// CardReader is "class1" or "class2" for BankID on card; empty allows any.
	CardReader string
	// CertificatePolicies limits the kinds of BankID by policy OID.
	CertificatePolicies []string
	// PersonalNumber, when set, is the only person who may complete the order.
	PersonalNumber pnr.Number
}

type requirementJSON struct {
	PinCode             bool     `json:"pinCode,omitempty"`
	MRTD                bool     `json:"mrtd,omitempty"`
	CardReader          string   `json:"cardReader,omitempty"`
	CertificatePolicies []string `json:"certificatePolicies,omitempty"`
	PersonalNumber      string   `json:"personalNumber,omitempty"`
}

// MarshalJSON writes the wire form, which carries the full twelve digits.
func (r Requirement) MarshalJSON() ([]byte, error) {
	return json.Marshal(requirementJSON{
		PinCode: r.PinCode, MRTD: r.MRTD, CardReader: r.CardReader,
		CertificatePolicies: r.CertificatePolicies, PersonalNumber: r.PersonalNumber.Digits(),
	})
}

// UnmarshalJSON reads the wire form and validates the personal number.
func (r *Requirement) UnmarshalJSON(b []byte) error {
	var w requirementJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Requirement{PinCode: w.PinCode, MRTD: w.MRTD, CardReader: w.CardReader, CertificatePolicies: w.CertificatePolicies}
	if w.PersonalNumber != "" {
		n, err := pnr.ParseDigits(w.PersonalNumber)
		if err != nil {
			return err
		}
		r.PersonalNumber = n
	}
	return nil
}

// App describes the relying party's native app, which BankID uses in its risk
// assessment. Send App or Web, not both.
type App struct {
	// AppIdentifier is the Android package name or iOS bundle id.
	AppIdentifier    string `json:"appIdentifier,omitempty"`
	DeviceOS         string `json:"deviceOS,omitempty"`
	DeviceModelName  string `json:"deviceModelName,omitempty"`
	DeviceIdentifier string `json:"deviceIdentifier,omitempty"`
}

// Web describes the browser session that starts the order, for BankID's risk
// assessment. Send App or Web, not both.
type Web struct {
	// ReferringDomain is the site's domain, punycode-encoded.
	ReferringDomain  string `json:"referringDomain,omitempty"`
	UserAgent        string `json:"userAgent,omitempty"`
	DeviceIdentifier string `json:"deviceIdentifier,omitempty"`
}

// AuthRequest is the body of /auth. The []byte fields are sent base64-encoded,
// as the API requires, so callers pass plain UTF-8 text or raw bytes.
type AuthRequest struct {
	// EndUserIP is the user's IP address as Nära's server sees it. Required.
	EndUserIP string `json:"endUserIp"`
	// Requirement restricts how the order may be completed.
	Requirement *Requirement `json:"requirement,omitempty"`
	// UserVisibleData is text shown to the user in the BankID app, telling
	// them what they are logging in to (UTF-8; optional for auth).
	UserVisibleData []byte `json:"userVisibleData,omitempty"`
	// UserNonVisibleData is signed but not shown.
	UserNonVisibleData []byte `json:"userNonVisibleData,omitempty"`
	// UserVisibleDataFormat is "simpleMarkdownV1" when UserVisibleData uses
	// BankID's markdown subset; empty means plain text.
	UserVisibleDataFormat string `json:"userVisibleDataFormat,omitempty"`
	// ReturnURL is where the BankID app sends the user after a same-device order.
	ReturnURL string `json:"returnUrl,omitempty"`
	// ReturnRisk asks for a risk indication in the completion data.
	ReturnRisk bool `json:"returnRisk,omitempty"`
	// App describes Nära's mobile app when the order starts there.
	App *App `json:"app,omitempty"`
	// Web describes the browser when the order starts on the web.
	Web *Web `json:"web,omitempty"`
}

// SignRequest is the body of /sign. It has the fields of AuthRequest, and
// UserVisibleData (what the user signs) is required.
type SignRequest AuthRequest

// CallInitiator says who started the phone call behind a /phone/auth order.
type CallInitiator string

// The two parties that can start a phone call.
const (
	CallInitiatorUser CallInitiator = "user" // the user called the care provider
	CallInitiatorRP   CallInitiator = "RP"   // the care provider called the user
)

// PhoneAuthRequest is the body of /phone/auth, used when a clinician needs to
// identify a patient during a phone call: BankID asks the user to confirm the
// call, then to identify.
type PhoneAuthRequest struct {
	// PersonalNumber is the person on the phone. Required.
	PersonalNumber pnr.Number
	// CallInitiator says who called whom. Required.
	CallInitiator CallInitiator
	// The remaining fields mean what they mean in AuthRequest.
	Requirement           *Requirement
	UserVisibleData       []byte
	UserNonVisibleData    []byte
	UserVisibleDataFormat string
}

// MarshalJSON writes the wire form, which carries the full twelve digits.
func (r PhoneAuthRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		PersonalNumber        string        `json:"personalNumber"`
		CallInitiator         CallInitiator `json:"callInitiator"`
		Requirement           *Requirement  `json:"requirement,omitempty"`
		UserVisibleData       []byte        `json:"userVisibleData,omitempty"`
		UserNonVisibleData    []byte        `json:"userNonVisibleData,omitempty"`
		UserVisibleDataFormat string        `json:"userVisibleDataFormat,omitempty"`
	}{r.PersonalNumber.Digits(), r.CallInitiator, r.Requirement, r.UserVisibleData, r.UserNonVisibleData, r.UserVisibleDataFormat})
}

// OrderResponse is BankID's answer to /auth and /sign (and to /phone/auth,
// which sets only OrderRef).
type OrderResponse struct {
	// OrderRef names the order in /collect and /cancel.
	OrderRef string `json:"orderRef"`
	// AutoStartToken starts the BankID app on the same device.
	AutoStartToken string `json:"autoStartToken,omitempty"`
	// QRStartToken and QRStartSecret feed QRCode for another-device starts.
	// The secret must never leave Nära's server.
	QRStartToken  string `json:"qrStartToken,omitempty"`
	QRStartSecret string `json:"qrStartSecret,omitempty"`
}

// Status is the state of an order in a collect response.
type Status string

// The three order states.
const (
	StatusPending  Status = "pending"  // keep calling collect
	StatusFailed   Status = "failed"   // final; HintCode says why
	StatusComplete Status = "complete" // final; CompletionData is set
)

// HintCode says what a pending order waits for, or why an order failed. New
// codes may appear at any time, so code must handle values it does not know
// (UserMessage falls back to BankID's generic texts).
type HintCode string

// Hint codes of pending orders.
const (
	HintOutstandingTransaction HintCode = "outstandingTransaction" // no app has picked up the order yet
	HintNoClient               HintCode = "noClient"               // no app has picked up the order yet
	HintStarted                HintCode = "started"                // an app started but has not found a usable BankID yet
	HintUserMrtd               HintCode = "userMrtd"               // the user must scan their passport or ID card
	HintUserCallConfirm        HintCode = "userCallConfirm"        // the user must confirm they are in a call with the care provider
	HintUserSign               HintCode = "userSign"               // the app shows the order; waiting for the security code
)

// Hint codes of failed orders.
const (
	HintExpiredTransaction     HintCode = "expiredTransaction"     // not completed in time
	HintCertificateErr         HintCode = "certificateErr"         // the user's BankID is blocked, revoked or invalid
	HintUserCancel             HintCode = "userCancel"             // the user cancelled in the app
	HintCancelled              HintCode = "cancelled"              // a new order for the same user replaced this one
	HintStartFailed            HintCode = "startFailed"            // no app picked the order up in time (QR not scanned)
	HintUserDeclinedCall       HintCode = "userDeclinedCall"       // the user said they are not in a call with the care provider
	HintNotSupportedByUserApp  HintCode = "notSupportedByUserApp"  // the user's app is too old for the requested feature
	HintTransactionRiskBlocked HintCode = "transactionRiskBlocked" // BankID judged the risk too high
)

// Pending reports whether h is one of the documented pending hint codes.
func (h HintCode) Pending() bool {
	switch h {
	case HintOutstandingTransaction, HintNoClient, HintStarted, HintUserMrtd, HintUserCallConfirm, HintUserSign:
		return true
	}
	return false
}

// Failed reports whether h is one of the documented failure hint codes.
func (h HintCode) Failed() bool {
	switch h {
	case HintExpiredTransaction, HintCertificateErr, HintUserCancel, HintCancelled, HintStartFailed,
		HintUserDeclinedCall, HintNotSupportedByUserApp, HintTransactionRiskBlocked:
		return true
	}
	return false
}

// Known reports whether h is documented at all; unknown codes should be
// logged so the integration can be updated.
func (h HintCode) Known() bool { return h.Pending() || h.Failed() }

// CollectResponse is BankID's answer to /collect.
type CollectResponse struct {
	OrderRef       string          `json:"orderRef"`
	Status         Status          `json:"status"`
	HintCode       HintCode        `json:"hintCode,omitempty"`
	CompletionData *CompletionData `json:"completionData,omitempty"`
}

// Risk is BankID's risk indication for a completed order, present only when
// asked for with ReturnRisk.
type Risk string

// The risk levels BankID reports.
const (
	RiskLow      Risk = "low"
	RiskModerate Risk = "moderate"
	RiskHigh     Risk = "high"
)

// CompletionData is what a complete order proves: who the user is, from
// which device, and BankID's signature over it. Keep it for audit.
type CompletionData struct {
	User   User   `json:"user"`
	Device Device `json:"device"`
	// BankIDIssueDate is when the user's BankID was issued, as BankID writes
	// it (an ISO 8601 date with a zone, for example "2023-05-01Z").
	BankIDIssueDate string  `json:"bankIdIssueDate,omitempty"`
	StepUp          *StepUp `json:"stepUp,omitempty"`
	// Signature is the base64-encoded XML signature.
	Signature string `json:"signature"`
	// OCSPResponse is the base64-encoded OCSP response for the user's certificate.
	OCSPResponse string `json:"ocspResponse"`
	Risk         Risk   `json:"risk,omitempty"`
}

// UnmarshalJSON refuses completion data that names no user: a complete
// order always says who completed it, and none must not read as someone.
func (c *CompletionData) UnmarshalJSON(b []byte) error {
	type plain CompletionData
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p.User.PersonalNumber.IsZero() {
		return errors.New("bankid: completionData names no user")
	}
	*c = CompletionData(p)
	return nil
}

// User is the person who completed the order. PersonalNumber is parsed and
// validated on arrival, and prints redacted.
type User struct {
	PersonalNumber pnr.Number
	Name           string
	GivenName      string
	Surname        string
}

type userJSON struct {
	PersonalNumber string `json:"personalNumber"`
	Name           string `json:"name"`
	GivenName      string `json:"givenName"`
	Surname        string `json:"surname"`
}

// MarshalJSON writes the wire form, which carries the full twelve digits.
func (u User) MarshalJSON() ([]byte, error) {
	return json.Marshal(userJSON{u.PersonalNumber.Digits(), u.Name, u.GivenName, u.Surname})
}

// UnmarshalJSON reads the wire form and rejects an invalid personal number.
func (u *User) UnmarshalJSON(b []byte) error {
	var w userJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	n, err := pnr.ParseDigits(w.PersonalNumber)
	if err != nil {
		return err
	}
	*u = User{PersonalNumber: n, Name: w.Name, GivenName: w.GivenName, Surname: w.Surname}
	return nil
}

// Device is what BankID saw of the user's device.
type Device struct {
	// IPAddress is the address BankID saw; compare it with the EndUserIP of
	// a same-device order to detect a session started elsewhere.
	IPAddress string `json:"ipAddress"`
	// UHI is a unique hardware identifier of the user's device.
	UHI string `json:"uhi,omitempty"`
}

// StepUp lists extra checks made before completion.
type StepUp struct {
	MRTD bool `json:"mrtd"` // a passport or national ID card was verified
}
