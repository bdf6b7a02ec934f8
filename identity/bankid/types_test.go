package bankid

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/identity/pnr"
)

func mustPNR(t *testing.T, s string) pnr.Number {
	t.Helper()
	n, err := pnr.Parse(s, time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("pnr.Parse(%q) error %v", s, err)
	}
	return n
}

func TestRequestWireForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{
			name: "auth minimal",
			in:   AuthRequest{EndUserIP: "192.0.2.1"},
			want: `{"endUserIp":"192.0.2.1"}`,
		},
		{
			name: "auth full",
			in: AuthRequest{
				EndUserIP:             "2001:db8::1",
				Requirement:           &Requirement{PinCode: true, MRTD: true, CertificatePolicies: []string{"1.2.752.78.1.5"}, PersonalNumber: mustPNR(t, "19121212-1212")},
				UserVisibleData:       []byte("Logga in på Nära"),
				UserNonVisibleData:    []byte{0, 1, 2},
				UserVisibleDataFormat: "simpleMarkdownV1",
				ReturnURL:             "https://nara.example/return#nonce",
				ReturnRisk:            true,
				Web:                   &Web{ReferringDomain: "nara.example", UserAgent: "UA", DeviceIdentifier: "d"},
			},
			want: `{"endUserIp":"2001:db8::1","requirement":{"pinCode":true,"mrtd":true,"certificatePolicies":["1.2.752.78.1.5"],"personalNumber":"191212121212"},` +
				`"userVisibleData":"TG9nZ2EgaW4gcMOlIE7DpHJh","userNonVisibleData":"AAEC","userVisibleDataFormat":"simpleMarkdownV1",` +
				`"returnUrl":"https://nara.example/return#nonce","returnRisk":true,"web":{"referringDomain":"nara.example","userAgent":"UA","deviceIdentifier":"d"}}`,
		},
		{
			name: "sign",
			in:   AuthRequest(SignRequest{EndUserIP: "192.0.2.1", UserVisibleData: []byte("Jag samtycker")}),
			want: `{"endUserIp":"192.0.2.1","userVisibleData":"SmFnIHNhbXR5Y2tlcg=="}`,
		},
		{
			name: "phone auth",
			in:   PhoneAuthRequest{PersonalNumber: mustPNR(t, "19121212-1212"), CallInitiator: CallInitiatorRP},
			want: `{"personalNumber":"191212121212","callInitiator":"RP"}`,
		},
		{
			name: "collect",
			in:   orderRefBody{"131daac9-16c6-4618-beb0-365768f37288"},
			want: `{"orderRef":"131daac9-16c6-4618-beb0-365768f37288"}`,
		},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.in)
		if err != nil {
			t.Errorf("json.Marshal(%s) error %v", tt.name, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("json.Marshal(%s) got\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func TestCollectResponseDecode(t *testing.T) {
	t.Parallel()
	const complete = `{"orderRef":"131daac9-16c6-4618-beb0-365768f37288","status":"complete","completionData":{
		"user":{"personalNumber":"191212121212","name":"Tolvan Tolvansson","givenName":"Tolvan","surname":"Tolvansson"},
		"device":{"ipAddress":"192.0.2.1","uhi":"OZvYM9VvyiAmG7NA5jU5zRGcHvvgaV"},
		"bankIdIssueDate":"2020-02-01Z","stepUp":{"mrtd":true},"signature":"PD94bWw=","ocspResponse":"MIIH","risk":"low"}}`
	var got CollectResponse
	if err := json.Unmarshal([]byte(complete), &got); err != nil {
		t.Fatalf("json.Unmarshal(complete) error %v", err)
	}
	cd := got.CompletionData
	if got.Status != StatusComplete || cd == nil || cd.User.PersonalNumber.Digits() != "191212121212" ||
		cd.User.Name != "Tolvan Tolvansson" || cd.Device.UHI == "" || cd.StepUp == nil || !cd.StepUp.MRTD || cd.Risk != RiskLow {
		t.Errorf("json.Unmarshal(complete) got %+v", got)
	}
	if s := fmt.Sprintf("%+v", *cd); !strings.Contains(s, "19121212-****") || strings.Contains(s, "1212121212") {
		t.Errorf("fmt of completion data got %s, want the number redacted", s)
	}
	back, err := json.Marshal(cd.User)
	if err != nil || !strings.Contains(string(back), `"personalNumber":"191212121212"`) {
		t.Errorf("json.Marshal(User) got %s, %v, want the wire form", back, err)
	}

	var pending CollectResponse
	if err := json.Unmarshal([]byte(`{"orderRef":"x","status":"pending","hintCode":"somethingNew"}`), &pending); err != nil ||
		pending.HintCode.Known() || pending.CompletionData != nil {
		t.Errorf("json.Unmarshal(pending) got %+v, %v", pending, err)
	}

	bad := `{"orderRef":"x","status":"complete","completionData":{"user":{"personalNumber":"191212121213"}}}`
	if err := json.Unmarshal([]byte(bad), &got); !errors.Is(err, pnr.ErrChecksum) {
		t.Errorf("json.Unmarshal(bad number) error %v, want %v", err, pnr.ErrChecksum)
	}
}

func TestHintCodeClasses(t *testing.T) {
	t.Parallel()
	pending := []HintCode{HintOutstandingTransaction, HintNoClient, HintStarted, HintUserMrtd, HintUserCallConfirm, HintUserSign}
	failed := []HintCode{HintExpiredTransaction, HintCertificateErr, HintUserCancel, HintCancelled, HintStartFailed, HintUserDeclinedCall, HintNotSupportedByUserApp, HintTransactionRiskBlocked}
	for _, h := range pending {
		if !h.Pending() || h.Failed() || !h.Known() {
			t.Errorf("HintCode(%q) got pending=%v failed=%v, want pending", h, h.Pending(), h.Failed())
		}
	}
	for _, h := range failed {
		if h.Pending() || !h.Failed() || !h.Known() {
			t.Errorf("HintCode(%q) got pending=%v failed=%v, want failed", h, h.Pending(), h.Failed())
		}
	}
	if HintCode("brandNew").Known() {
		t.Errorf("HintCode(brandNew).Known() got true, want false")
	}
}

func TestErrorIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code      ErrorCode
		status    int
		sentinel  error
		retryable bool
	}{
		{CodeAlreadyInProgress, 400, ErrAlreadyInProgress, false},
		{CodeInvalidParameters, 400, ErrInvalidParameters, false},
		{CodeUnauthorized, 401, ErrUnauthorized, false},
		{CodeNotFound, 404, ErrNotFound, false},
		{CodeMethodNotAllowed, 405, ErrMethodNotAllowed, false},
		{CodeRequestTimeout, 408, ErrRequestTimeout, true},
		{CodeUnsupportedMediaType, 415, ErrUnsupportedMediaType, false},
		{CodeTooManyRequests, 429, ErrTooManyRequests, true},
		{CodeInternalError, 500, ErrInternalError, true},
		{CodeMaintenance, 503, ErrMaintenance, true},
	}
	for _, tt := range tests {
		err := fmt.Errorf("wrapped: %w", &Error{HTTPStatus: tt.status, ErrorCode: tt.code, Details: "d"})
		if !errors.Is(err, tt.sentinel) {
			t.Errorf("errors.Is(%v, %v) got false, want true", err, tt.sentinel)
		}
		if errors.Is(err, ErrNotFound) != (tt.sentinel == ErrNotFound) {
			t.Errorf("errors.Is(%v, ErrNotFound) got the wrong answer", err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Retryable() != tt.retryable {
			t.Errorf("Retryable(%q) got %v, want %v", tt.code, e.Retryable(), tt.retryable)
		}
		if got := StatusForCode(tt.code); got != tt.status {
			t.Errorf("StatusForCode(%q) got %d, want %d", tt.code, got, tt.status)
		}
	}
	if errors.Is(&Error{HTTPStatus: 400, ErrorCode: "brandNew"}, ErrInvalidParameters) {
		t.Errorf("an unknown error code matched ErrInvalidParameters")
	}
}

func TestCodeForStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   ErrorCode
	}{
		{http.StatusUnauthorized, CodeUnauthorized},
		{http.StatusForbidden, CodeUnauthorized},
		{http.StatusNotFound, CodeNotFound},
		{http.StatusMethodNotAllowed, CodeMethodNotAllowed},
		{http.StatusRequestTimeout, CodeRequestTimeout},
		{http.StatusUnsupportedMediaType, CodeUnsupportedMediaType},
		{http.StatusTooManyRequests, CodeTooManyRequests},
		{http.StatusBadGateway, CodeInternalError},
		{http.StatusServiceUnavailable, CodeMaintenance},
		{http.StatusTeapot, ""},
	}
	for _, tt := range tests {
		if got := codeForStatus(tt.status); got != tt.want {
			t.Errorf("codeForStatus(%d) got %q, want %q", tt.status, got, tt.want)
		}
	}
}
