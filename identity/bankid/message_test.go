package bankid

import (
	"errors"
	"fmt"
	"testing"
)

func TestUserMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status Status
		hint   HintCode
		qr     bool
		want   MessageKey
	}{
		{StatusPending, HintOutstandingTransaction, true, RFA1},
		{StatusPending, HintOutstandingTransaction, false, RFA13},
		{StatusPending, HintNoClient, true, RFA1},
		{StatusPending, HintNoClient, false, RFA1},
		{StatusPending, HintStarted, false, RFA15B},
		{StatusPending, HintStarted, true, RFA15B},
		{StatusPending, HintUserSign, true, RFA9},
		{StatusPending, HintUserMrtd, false, RFA23},
		{StatusPending, HintUserCallConfirm, false, RFA21},
		{StatusPending, "someNewPendingCode", false, RFA21},
		{StatusPending, "", false, RFA21},
		{StatusFailed, HintExpiredTransaction, true, RFA8},
		{StatusFailed, HintCertificateErr, true, RFA16},
		{StatusFailed, HintUserCancel, true, RFA6},
		{StatusFailed, HintCancelled, false, RFA3},
		{StatusFailed, HintStartFailed, true, RFA17B},
		{StatusFailed, HintStartFailed, false, RFA17A},
		{StatusFailed, HintUserDeclinedCall, false, RFA6},
		{StatusFailed, HintNotSupportedByUserApp, false, RFA22},
		{StatusFailed, HintTransactionRiskBlocked, false, RFA22},
		{StatusFailed, "someNewFailureCode", false, RFA22},
		{"someNewStatus", "", false, RFA22},
		{StatusComplete, "", false, ""},
	}
	for _, tt := range tests {
		got := UserMessage(tt.status, tt.hint, tt.qr)
		if got.Key != tt.want {
			t.Errorf("UserMessage(%q, %q, %v) got %q, want %q", tt.status, tt.hint, tt.qr, got.Key, tt.want)
		}
		if tt.want != "" && (got.SV == "" || got.EN == "") {
			t.Errorf("UserMessage(%q, %q, %v) got empty texts %+v", tt.status, tt.hint, tt.qr, got)
		}
	}
}

func TestLookupCoversEveryKey(t *testing.T) {
	t.Parallel()
	keys := []MessageKey{RFA1, RFA3, RFA4, RFA5, RFA6, RFA8, RFA9, RFA13, RFA15A, RFA15B, RFA16, RFA17A, RFA17B, RFA19, RFA20, RFA21, RFA22, RFA23}
	seen := map[string]MessageKey{}
	for _, k := range keys {
		m, ok := Lookup(k)
		if !ok || m.Key != k || m.SV == "" || m.EN == "" {
			t.Errorf("Lookup(%q) got %+v, %v, want both texts", k, m, ok)
		}
		// RFA5 and RFA22 share their wording on purpose; nothing else should.
		if prev, dup := seen[m.EN]; dup && !(prev == RFA5 && k == RFA22) {
			t.Errorf("Lookup(%q) has the same English text as %q", k, prev)
		}
		seen[m.EN] = k
	}
	if m, ok := Lookup("RFA14"); ok {
		t.Errorf("Lookup(RFA14) got %+v, want not found", m)
	}
}

func TestUserMessageForError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want MessageKey
	}{
		{&Error{HTTPStatus: 400, ErrorCode: CodeAlreadyInProgress}, RFA4},
		{fmt.Errorf("start: %w", &Error{HTTPStatus: 503, ErrorCode: CodeMaintenance}), RFA5},
		{&Error{HTTPStatus: 500, ErrorCode: CodeInternalError}, RFA5},
		{&Error{HTTPStatus: 408, ErrorCode: CodeRequestTimeout}, RFA5},
		{&Error{HTTPStatus: 429, ErrorCode: CodeTooManyRequests}, RFA5},
		{&Error{HTTPStatus: 400, ErrorCode: CodeInvalidParameters}, RFA22},
		{&Error{HTTPStatus: 401, ErrorCode: CodeUnauthorized}, RFA22},
		{errors.New("dial tcp: connection refused"), RFA22},
	}
	for _, tt := range tests {
		if got := UserMessageForError(tt.err); got.Key != tt.want {
			t.Errorf("UserMessageForError(%v) got %q, want %q", tt.err, got.Key, tt.want)
		}
	}
}
