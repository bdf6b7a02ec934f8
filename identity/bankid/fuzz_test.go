package bankid_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/pnr"
)

// FuzzQRCode: the code is "bankid.<token>.<whole seconds>.<HMAC-SHA256 of
// the seconds under the secret, in hex>", and a negative time counts as 0.
func FuzzQRCode(f *testing.F) {
	f.Add("67df3917-fa0d-44e5-b327-edcc928297f8", "d28db9a7-4cde-429e-a983-359be676944c", int64(2500*time.Millisecond))
	f.Add("", "", int64(-1))
	f.Fuzz(func(t *testing.T, token, secret string, elapsed int64) {
		code := bankid.QRCode(token, secret, time.Duration(elapsed))
		rest, ok := strings.CutPrefix(code, "bankid."+token+".")
		if !ok {
			t.Fatalf("QRCode(%q) = %q, want it to start bankid.<token>.", token, code)
		}
		secs, mac, ok := strings.Cut(rest, ".")
		if want := strconv.FormatInt(max(elapsed, 0)/int64(time.Second), 10); !ok || secs != want {
			t.Fatalf("QRCode(elapsed %d) = %q, want seconds %s", elapsed, code, want)
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(secs))
		if mac != hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("QRCode(%q) carries HMAC %q, want the seconds' HMAC under the secret", code, mac)
		}
	})
}

// FuzzScanQR: the simulator, like the BankID app, accepts exactly the code
// QRCode gives for a pending order and a second that has come, and nothing
// else: no other text, however close, starts an order.
func FuzzScanQR(f *testing.F) {
	e := setup(f)
	newOrder := func() *bankid.OrderResponse {
		o, err := e.client.Auth(context.Background(), bankid.AuthRequest{EndUserIP: "192.0.2.10"})
		if err != nil {
			f.Fatal(err)
		}
		return o
	}
	var mu sync.Mutex
	order := newOrder()
	// {token} and {code} stand for the pending order's token and its code
	// now, so that the fuzzer works near a valid code as orders change.
	for _, seed := range []string{"{code}", " {code}\n", "{code}0", "bankid.{token}.0.", "bankid.{token}.00.deadbeef", "bankid.{token}.-0.", "bankid..." + strings.Repeat(".", 3)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, code string) {
		mu.Lock()
		defer mu.Unlock()
		code = strings.NewReplacer("{token}", order.QRStartToken, "{code}", bankid.QRCode(order.QRStartToken, order.QRStartSecret, 0)).Replace(code)
		ref, err := e.sim.ScanQR(code, tolvan())
		if err != nil {
			return
		}
		valid := false
		for secs := range 2 {
			valid = valid || strings.TrimSpace(code) == bankid.QRCode(order.QRStartToken, order.QRStartSecret, time.Duration(secs)*time.Second)
		}
		if !valid || ref != order.OrderRef {
			t.Fatalf("ScanQR(%q) started order %s, yet it is not a code of the pending order", code, ref)
		}
		order = newOrder()
	})
}

// FuzzCollectResponse: whatever BankID, or a proxy in front of it, answers
// to /collect, Collect returns a response or an error and never panics. A
// non-200 answer is an *Error with its status; a decoded answer
// re-encodes to itself and holds only valid personal numbers; and no error
// repeats a personal number from the body.
func FuzzCollectResponse(f *testing.F) {
	var (
		mu     sync.Mutex
		status int
		body   []byte
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	client, err := bankid.New(bankid.Config{BaseURL: srv.URL + "/rp/v6.0", RootCAs: roots, Certificate: srv.TLS.Certificates[0]})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(client.Close)

	f.Add(200, []byte(`{"orderRef":"131daac9-16c6-4618-beb0-365768f37288","status":"pending","hintCode":"outstandingTransaction"}`))
	f.Add(200, []byte(`{"orderRef":"r","status":"complete","completionData":{"user":{"personalNumber":"191212121212","name":"Tolvan Tolvansson","givenName":"Tolvan","surname":"Tolvansson"},"device":{"ipAddress":"192.0.2.10","uhi":"x"},"bankIdIssueDate":"2023-05-01Z","stepUp":{"mrtd":true},"signature":"PD94","ocspResponse":"MIIH","risk":"low"}}`))
	f.Add(200, []byte(`{"orderRef":"r","status":"complete","completionData":{"user":{"personalNumber":"191212121213"}}}`))
	f.Add(400, []byte(`{"errorCode":"invalidParameters","details":"No such order"}`))
	f.Add(503, []byte(`<html>Service Unavailable</html>`))
	f.Add(200, []byte(`{"orderRef":191212121212}`))
	f.Add(400, []byte(`{"errorCode":"invalidParameters","details":"personalNumber 191212121212 is not allowed"}`))
	pnrLike := regexp.MustCompile(`[0-9]{12}`)
	f.Fuzz(func(t *testing.T, code int, answer []byte) {
		mu.Lock()
		defer mu.Unlock()
		status, body = code, answer
		if code < 200 || code > 599 {
			status = 200 + int(uint(code)%400)
		}
		got, err := client.Collect(context.Background(), "131daac9-16c6-4618-beb0-365768f37288")
		if err != nil {
			for _, n := range pnrLike.FindAllString(string(answer), -1) {
				if strings.Contains(err.Error(), n) {
					t.Fatalf("Collect error %q repeats %s from the body", err, n)
				}
			}
			var be *bankid.Error
			if status != http.StatusOK && (!errors.As(err, &be) || be.HTTPStatus != status) {
				t.Fatalf("Collect of a %d answer got %v, want an *Error with the status", status, err)
			}
			return
		}
		if status != http.StatusOK || got == nil {
			t.Fatalf("Collect of a %d answer got %v and no error", status, got)
		}
		if cd := got.CompletionData; cd != nil {
			if _, err := pnr.ParseDigits(cd.User.PersonalNumber.Digits()); err != nil {
				t.Fatalf("Collect accepted personal number %s: %v", cd.User.PersonalNumber, err)
			}
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back bankid.CollectResponse
		if err := json.Unmarshal(again, &back); err != nil || !reflect.DeepEqual(&back, got) {
			t.Fatalf("a decoded answer does not re-encode to itself: %+v, %v, want %+v", back, err, got)
		}
	})
}
