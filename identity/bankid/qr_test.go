package bankid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"
)

func TestQRCodeKnownAnswer(t *testing.T) {
	t.Parallel()
	// The worked example BankID publishes for the animated QR code.
	const (
		token  = "67df3917-fa0d-44e5-b327-edcc928297f8"
		secret = "d28db9a7-4cde-429e-a983-359be676944c"
		want   = "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"
	)
	if got := QRCode(token, secret, 0); got != want {
		t.Errorf("QRCode(%q, %q, 0) got %q, want %q", token, secret, got, want)
	}
}

func TestQRCode(t *testing.T) {
	t.Parallel()
	const token, secret = "tok", "fixed-secret"
	// independent recomputation of the HMAC, written out from the specification
	expect := func(secs string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(secs))
		return fmt.Sprintf("bankid.%s.%s.%s", token, secs, hex.EncodeToString(m.Sum(nil)))
	}
	tests := []struct {
		elapsed time.Duration
		secs    string
	}{
		{0, "0"},
		{999 * time.Millisecond, "0"},
		{time.Second, "1"},
		{1900 * time.Millisecond, "1"},
		{7 * time.Second, "7"},
		{29*time.Second + 500*time.Millisecond, "29"},
		{3 * time.Minute, "180"},
		{-time.Second, "0"}, // a clock step backwards must not produce "-1"
	}
	for _, tt := range tests {
		if got, want := QRCode(token, secret, tt.elapsed), expect(tt.secs); got != want {
			t.Errorf("QRCode(%q, %q, %v) got %q, want %q", token, secret, tt.elapsed, got, want)
		}
	}
	if QRCode(token, secret, time.Second) == QRCode(token, "other", time.Second) {
		t.Errorf("QRCode does not depend on the secret")
	}
}
