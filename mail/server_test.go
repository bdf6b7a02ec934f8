package mail

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

type inbox struct {
	mu   sync.Mutex
	envs []Envelope
	raws [][]byte
	err  error // Returned by deliver when set.
}

func (b *inbox) deliver(_ context.Context, env Envelope, raw []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.envs = append(b.envs, env)
	b.raws = append(b.raws, raw)
	return nil
}

// setupServer starts an inbound server for nara.example on a free port.
func setupServer(t *testing.T, deliverErr error) (addr string, box *inbox) {
	t.Helper()
	box = &inbox{err: deliverErr}
	s, err := NewServer(ServerConfig{Domain: "nara.example", MaxMessageBytes: 4096}, box.deliver)
	if err != nil {
		t.Fatal(err)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return l.Addr().String(), box
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestServer(t *testing.T) {
	t.Parallel()
	msg := crlf("From: anna@example.se\nTo: support@nara.example\nSubject: hej\n\nhej\n")
	tests := []struct {
		name       string
		rcpt       string
		body       string
		deliverErr error
		rcptCode   int // 0: accepted.
		dataCode   int // 0: accepted.
	}{
		{name: "inside domain", rcpt: "support+abc@nara.example", body: msg},
		{name: "domain case-insensitive", rcpt: "support@NARA.example", body: msg},
		{name: "outside domain", rcpt: "victim@example.com", body: msg, rcptCode: 550},
		{name: "subdomain is outside", rcpt: "x@evil.nara.example", body: msg, rcptCode: 550},
		{name: "temporary failure", rcpt: "support@nara.example", body: msg, deliverErr: errors.New("db down"), dataCode: 451},
		{name: "permanent refusal", rcpt: "support@nara.example", body: msg, deliverErr: Permanent(errors.New("loop")), dataCode: 550},
		{name: "parse refusal is permanent", rcpt: "support@nara.example", body: msg, deliverErr: ErrNoSender, dataCode: 550},
		{name: "too large", rcpt: "support@nara.example", body: msg + strings.Repeat(strings.Repeat("a", 70)+"\r\n", 80), dataCode: 552},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, box := setupServer(t, tt.deliverErr)
			c, err := smtp.Dial(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Mail("anna@example.se", nil); err != nil {
				t.Fatalf("MAIL: %v", err)
			}
			err = c.Rcpt(tt.rcpt, nil)
			if got := smtpCode(err); got != tt.rcptCode {
				t.Fatalf("RCPT %s: code %d (%v), want %d", tt.rcpt, got, err, tt.rcptCode)
			}
			if tt.rcptCode != 0 {
				if len(box.envs) != 0 {
					t.Errorf("refused recipient was delivered")
				}
				return
			}
			w, err := c.Data()
			if err != nil {
				t.Fatalf("DATA: %v", err)
			}
			_, _ = w.Write([]byte(tt.body))
			err = w.Close()
			if got := smtpCode(err); got != tt.dataCode {
				t.Fatalf("end of DATA: code %d (%v), want %d", got, err, tt.dataCode)
			}
			box.mu.Lock()
			defer box.mu.Unlock()
			if tt.dataCode != 0 {
				if len(box.envs) != 0 {
					t.Errorf("refused message was delivered")
				}
				return
			}
			if len(box.envs) != 1 || box.envs[0].From != "anna@example.se" || len(box.envs[0].To) != 1 || box.envs[0].To[0] != tt.rcpt {
				t.Fatalf("delivered %+v, want one envelope from anna@example.se to %s", box.envs, tt.rcpt)
			}
			if string(box.raws[0]) != tt.body {
				t.Errorf("delivered %q, want %q", box.raws[0], tt.body)
			}
		})
	}
}

func TestNewServerNeedsDomain(t *testing.T) {
	t.Parallel()
	if _, err := NewServer(ServerConfig{}, (&inbox{}).deliver); err == nil {
		t.Error("NewServer without a domain succeeded, want an error")
	}
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	msg := crlf("From: anna@example.se\nSubject: hej\n\nhej\n")
	tests := []struct {
		name       string
		secret     string // Configured.
		sent       string // In the request.
		method     string
		body       string
		deliverErr error
		want       int
	}{
		{name: "delivered", secret: "s3cret", sent: "s3cret", body: msg, want: http.StatusNoContent},
		{name: "wrong secret", secret: "s3cret", sent: "s3creT", body: msg, want: http.StatusUnauthorized},
		{name: "missing secret", secret: "s3cret", body: msg, want: http.StatusUnauthorized},
		{name: "unconfigured secret", secret: "", sent: "", body: msg, want: http.StatusUnauthorized},
		{name: "get", secret: "s3cret", sent: "s3cret", method: http.MethodGet, want: http.StatusMethodNotAllowed},
		{name: "permanent", secret: "s3cret", sent: "s3cret", body: msg, deliverErr: Permanent(errors.New("x")), want: http.StatusUnprocessableEntity},
		{name: "temporary", secret: "s3cret", sent: "s3cret", body: msg, deliverErr: errors.New("db"), want: http.StatusServiceUnavailable},
		{name: "too large", secret: "s3cret", sent: "s3cret", body: strings.Repeat("a", int(DefaultMaxMessageBytes)+1), want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			box := &inbox{err: tt.deliverErr}
			h := WebhookHandler(tt.secret, box.deliver, nil)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/mail/inbound", strings.NewReader(tt.body))
			if tt.sent != "" {
				req.Header.Set(WebhookSecretHeader, tt.sent)
			}
			req.Header.Set(WebhookToHeader, "support+abc@nara.example, other@nara.example")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			delivered := len(box.raws) == 1
			if delivered != (tt.want == http.StatusNoContent) {
				t.Fatalf("delivered %d messages, want delivery only on 204", len(box.raws))
			}
			if delivered && (string(box.raws[0]) != tt.body || len(box.envs[0].To) != 2) {
				t.Errorf("delivered %q to %q, want the body to two recipients", box.raws[0], box.envs[0].To)
			}
		})
	}
}
