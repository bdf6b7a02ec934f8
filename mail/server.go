package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Envelope is what the SMTP transaction said about a message, apart from
// its headers: the bounce address and the recipients we accepted.
type Envelope struct {
	// From is the MAIL FROM address, "" for the null sender of a bounce.
	From string
	// To are the RCPT TO addresses, all in the server's domain. A relay
	// may keep the case address here while rewriting the To header.
	To []string
	// RemoteAddr is the connecting host, for logs.
	RemoteAddr string
}

// DeliverFunc hands one accepted message to the support domain. It returns
// nil once the message is stored (or knowingly dropped), an error wrapped by
// Permanent when the message can never be taken, and any other error when
// the sender should try again later.
type DeliverFunc func(ctx context.Context, env Envelope, raw []byte) error

// ServerConfig configures the inbound SMTP server.
type ServerConfig struct {
	// Domain is the only recipient domain accepted, e.g. "support.nara.se";
	// any other recipient is refused with 550 so the server is no relay.
	// Required.
	Domain string
	// Hostname is the name in the greeting. Default: Domain.
	Hostname string
	// MaxMessageBytes bounds DATA. Default: DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// MaxRecipients bounds RCPT TO per message. Default: 10.
	MaxRecipients int
	// ReadTimeout and WriteTimeout bound each command. Default: 1 minute.
	ReadTimeout, WriteTimeout time.Duration
	// DeliverTimeout bounds one call of the deliver function. Default: 30s.
	DeliverTimeout time.Duration
	// TLS, when set, lets senders use STARTTLS. Default: no STARTTLS.
	TLS *tls.Config
	// Logger receives refusals and failures. Default: discarded.
	Logger *slog.Logger
}

// Server is the inbound SMTP server, an MX-style endpoint: senders do not
// authenticate, and only recipients in its domain are accepted.
type Server struct {
	smtp    *smtp.Server
	cfg     ServerConfig
	deliver DeliverFunc
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
}

// NewServer returns an inbound SMTP server that passes each accepted
// message to deliver. Call Serve or ListenAndServe to start it.
func NewServer(cfg ServerConfig, deliver DeliverFunc) (*Server, error) {
	cfg.Domain = strings.ToLower(strings.TrimSpace(cfg.Domain))
	if cfg.Domain == "" || strings.ContainsAny(cfg.Domain, "@ ") {
		return nil, fmt.Errorf("mail: server needs a recipient domain, got %q", cfg.Domain)
	}
	if deliver == nil {
		return nil, errors.New("mail: server needs a deliver function")
	}
	if cfg.Hostname == "" {
		cfg.Hostname = cfg.Domain
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 10
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = time.Minute
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Minute
	}
	if cfg.DeliverTimeout <= 0 {
		cfg.DeliverTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, deliver: deliver, log: log, ctx: ctx, cancel: cancel}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Hostname
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout = cfg.ReadTimeout
	srv.WriteTimeout = cfg.WriteTimeout
	srv.TLSConfig = cfg.TLS
	srv.ErrorLog = slogPrinter{log}
	s.smtp = srv
	return s, nil
}

// Serve accepts SMTP connections on l until Close or Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.smtp.Serve(l)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// ListenAndServe listens on addr (NARA_SMTP_ADDR) and serves.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mail: listen %s: %w", addr, err)
	}
	return s.Serve(l)
}

// Shutdown stops accepting connections and waits for open ones to finish
// or ctx to end; senders retry what was not acknowledged.
func (s *Server) Shutdown(ctx context.Context) error {
	defer s.cancel()
	return s.smtp.Shutdown(ctx)
}

// Close stops the server at once.
func (s *Server) Close() error {
	s.cancel()
	return s.smtp.Close()
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, remote: c.Conn().RemoteAddr().String()}, nil
}

type session struct {
	s      *Server
	remote string
	from   string
	to     []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	_, domain, ok := strings.Cut(to, "@")
	if !ok || !strings.EqualFold(domain, ss.s.cfg.Domain) {
		ss.s.log.Info("mail: refused recipient outside domain", "remote", ss.remote)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying not permitted"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // go-smtp's ErrDataTooLarge is already a 552.
	}
	ctx, cancel := context.WithTimeout(ss.s.ctx, ss.s.cfg.DeliverTimeout)
	defer cancel()
	env := Envelope{From: ss.from, To: ss.to, RemoteAddr: ss.remote}
	if err := ss.s.deliver(ctx, env, raw); err != nil {
		return smtpError(ss.s.log, err)
	}
	return nil
}

// smtpError maps a deliver error to the reply the sender sees: the cause is
// logged, the reply says only whether to try again.
func smtpError(log *slog.Logger, err error) error {
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, ErrTooLarge):
		log.Info("mail: refused message", "err", err)
		return smtp.ErrDataTooLarge
	case IsPermanent(err):
		log.Info("mail: refused message", "err", err)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused"}
	default:
		log.Warn("mail: delivery failed, sender will retry", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	}
}

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as a refusal that retrying cannot change: the inbound
// server answers 550 and the webhook 422 instead of asking to retry.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err is a permanent refusal: marked with
// Permanent, a parse error, or a 5xx reply from an SMTP server. A River job
// sending mail cancels itself instead of retrying such an error.
func IsPermanent(err error) bool {
	var pe permanentError
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &pe), errors.Is(err, ErrNoSender), errors.Is(err, ErrUnparsable), errors.Is(err, ErrTooLarge):
		return true
	case errors.As(err, &se):
		return se.Code >= 500 && se.Code < 600
	}
	return false
}

// slogPrinter adapts go-smtp's logger to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("mail: smtp server", "msg", fmt.Sprintf(format, v...))
}

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("mail: smtp server", "msg", fmt.Sprint(v...))
}
