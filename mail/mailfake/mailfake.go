// Package mailfake is the local mail stand-in for `make run` and tests: an
// in-process SMTP server that accepts every message, keeps the newest in
// memory, and shows them on a page, so a newcomer sees the mail Nära sent
// without a real relay. It never forwards anything.
package mailfake

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/nara-care/nara/mail"
)

// Config configures the stand-in; the zero value listens on free loopback
// ports without TLS.
type Config struct {
	// SMTPAddr is where SMTP listens. Default: "127.0.0.1:0".
	SMTPAddr string
	// HTTPAddr is where the page listens. Default: "127.0.0.1:0". Use
	// Handler instead to mount the page in another server.
	HTTPAddr string
	// Keep is how many messages are kept, newest first. Default: 100.
	Keep int
	// TLS, when set, offers STARTTLS, or implicit TLS with ImplicitTLS, so
	// the sender's TLS path is exercised for real.
	TLS         *tls.Config
	ImplicitTLS bool
	// Logger receives the fake's errors. Default: discarded.
	Logger *slog.Logger
}

// Received is one message the stand-in accepted.
type Received struct {
	EnvelopeFrom string
	EnvelopeTo   []string
	ReceivedAt   time.Time
	Raw          []byte
	// Message is the parsed message, nil when it did not parse (ParseErr).
	Message  *mail.Message
	ParseErr string
}

// Fake is a running stand-in.
type Fake struct {
	cfg   Config
	smtp  *smtp.Server
	smtpL net.Listener
	http  *http.Server
	httpL net.Listener
	tls   bool

	mu   sync.Mutex
	msgs []Received // Newest first.
}

// Start listens for SMTP and HTTP and serves until Close.
func Start(cfg Config) (*Fake, error) {
	if cfg.SMTPAddr == "" {
		cfg.SMTPAddr = "127.0.0.1:0"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ImplicitTLS && cfg.TLS == nil {
		return nil, errors.New("mailfake: implicit TLS needs a TLS config")
	}
	f := &Fake{cfg: cfg, tls: cfg.TLS != nil}

	var lc net.ListenConfig
	sl, err := lc.Listen(context.Background(), "tcp", cfg.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("mailfake: listen smtp: %w", err)
	}
	hl, err := lc.Listen(context.Background(), "tcp", cfg.HTTPAddr)
	if err != nil {
		_ = sl.Close()
		return nil, fmt.Errorf("mailfake: listen http: %w", err)
	}
	f.smtpL, f.httpL = sl, hl

	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{f: f}, nil }))
	s.Domain = "mailfake.localhost"
	s.MaxMessageBytes = mail.DefaultMaxMessageBytes
	s.MaxRecipients = 50
	s.ReadTimeout, s.WriteTimeout = time.Minute, time.Minute
	s.AllowInsecureAuth = true // Loopback only; it checks no password anyway.
	s.ErrorLog = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)
	if cfg.TLS != nil && !cfg.ImplicitTLS {
		s.TLSConfig = cfg.TLS
	}
	if cfg.ImplicitTLS {
		sl = tls.NewListener(sl, cfg.TLS)
	}
	f.smtp = s
	go func() { _ = s.Serve(sl) }()

	f.http = &http.Server{
		Handler:           f.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		MaxHeaderBytes:    1 << 16,
	}
	go func() { _ = f.http.Serve(hl) }()
	return f, nil
}

// Addr is the SMTP address, host:port.
func (f *Fake) Addr() string { return f.smtpL.Addr().String() }

// SMTPURL is the SMTP_URL a Sender uses to reach the stand-in.
func (f *Fake) SMTPURL() string {
	if f.cfg.ImplicitTLS {
		return "smtps://" + f.Addr()
	}
	return "smtp://" + f.Addr()
}

// URL is the page that lists the received mail.
func (f *Fake) URL() string { return "http://" + f.httpL.Addr().String() + "/mail/" }

// Messages returns the received messages, newest first.
func (f *Fake) Messages() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Received(nil), f.msgs...)
}

// Close stops both listeners.
func (f *Fake) Close() error {
	return errors.Join(f.smtp.Close(), f.http.Close())
}

func (f *Fake) add(r Received) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append([]Received{r}, f.msgs...)
	if len(f.msgs) > f.cfg.Keep {
		f.msgs = f.msgs[:f.cfg.Keep]
	}
}

type session struct {
	f    *Fake
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec := Received{EnvelopeFrom: s.from, EnvelopeTo: s.to, ReceivedAt: time.Now(), Raw: raw}
	if m, err := mail.Parse(bytes.NewReader(raw), 0); err != nil {
		rec.ParseErr = err.Error()
	} else {
		rec.Message = m
	}
	s.f.add(rec)
	return nil
}

// AuthMechanisms offers PLAIN so a Sender configured with credentials can
// be tried against the stand-in.
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth accepts any credentials: the stand-in guards nothing.
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(string, string, string) error { return nil }), nil
}
