package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SenderConfig holds what a Sender needs besides SMTP_URL and the From
// address; the zero value suits production.
type SenderConfig struct {
	// TLS is the base configuration for STARTTLS and smtps; its ServerName
	// is set from the URL. Default: system roots. Tests trust the
	// stand-in's certificate here.
	TLS *tls.Config
	// Dial opens the TCP connection. Default: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HelloName is the name sent in EHLO. Default: the From domain.
	HelloName string
	// Timeout bounds one Send when ctx has no earlier deadline. Default: 1m.
	Timeout time.Duration
	// Logger notes plaintext sends. Default: discarded.
	Logger *slog.Logger
}

// Sender sends support replies through the relay in SMTP_URL. It keeps no
// connection open: replies are few, and a fresh connection per job keeps a
// retried job independent of the last one's failure.
type Sender struct {
	implicitTLS bool
	host, addr  string
	user, pass  string
	auth        bool
	from        Address
	domain      string
	cfg         SenderConfig
	log         *slog.Logger
}

// NewSender parses smtpURL, smtp://user:pass@host:587 (STARTTLS whenever
// the server offers it) or smtps://user:pass@host:465 (implicit TLS), and
// from, the support address replies come from ("Nära <support@nara.se>").
// Credentials are never sent over plain text except to a loopback host.
func NewSender(smtpURL, from string, cfg SenderConfig) (*Sender, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		return nil, errors.New("mail: SMTP_URL is not a URL") // err would echo the password.
	}
	s := &Sender{cfg: cfg, log: cfg.Logger}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.implicitTLS = true
	default:
		return nil, fmt.Errorf("mail: SMTP_URL scheme %q, want smtp or smtps", u.Scheme)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("mail: SMTP_URL has no host")
	}
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "587", true: "465"}[s.implicitTLS]
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.auth = true
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	a, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: from address %q: %w", from, err)
	}
	s.from = Address{Name: a.Name, Address: a.Address}
	_, s.domain, _ = strings.Cut(a.Address, "@")
	if s.cfg.HelloName == "" {
		s.cfg.HelloName = s.domain
	}
	if s.cfg.Timeout <= 0 {
		s.cfg.Timeout = time.Minute
	}
	if s.cfg.Dial == nil {
		var d net.Dialer
		s.cfg.Dial = d.DialContext
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// NewMessageID returns a Message-ID (without angle brackets) in the From
// domain. The caller stores it with the reply before enqueueing the send
// job, so that every retry sends the same message and a reply to it
// threads back by ThreadKeys.
func (s *Sender) NewMessageID() string {
	return strings.ToLower(rand.Text()) + "@" + s.domain
}

// Outgoing is one reply to a citizen. Text holds only what support wrote
// and Link points back into the app, where health details belong.
type Outgoing struct {
	// MessageID is required: the one stored before sending, from
	// NewMessageID.
	MessageID string
	To        Address
	// ReplyTo is the case address from CaseAddress.
	ReplyTo string
	Subject string
	Text    string
	// Link, when set, ends the body as the way back into the app.
	Link string
	// InReplyTo and References thread the reply in the citizen's client.
	InReplyTo  string
	References []string
	// Auto marks mail no person wrote (a receipt, a notice), so that
	// auto-responders do not answer it.
	Auto bool
	// Date defaults to now.
	Date time.Time
}

// Send delivers out through the relay. It may be called again with the
// same out after a failure; the relay then sees the same Message-ID.
// IsPermanent tells a failure worth retrying from one that is not.
func (s *Sender) Send(ctx context.Context, out Outgoing) error {
	msg, err := s.compose(out)
	if err != nil {
		return Permanent(err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if s.auth {
		if ok, _ := c.Extension("AUTH"); !ok {
			return Permanent(errors.New("mail: relay does not offer AUTH"))
		}
		if err := c.Auth(sasl.NewPlainClient("", s.user, s.pass)); err != nil {
			return fmt.Errorf("mail: auth: %w", err)
		}
	}
	if err := c.SendMail(s.from.Address, []string{out.To.Address}, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("mail: send: %w", err)
	}
	if err := c.Quit(); err != nil {
		s.log.Warn("mail: quit after sending", "err", err) // The message was accepted.
	}
	return nil
}

// connect opens a client on TLS when it can: implicit for smtps, STARTTLS
// for smtp when offered. It falls back to plain text only when the server
// offers no STARTTLS, and then never with credentials to a remote host.
func (s *Sender) connect(ctx context.Context) (*smtp.Client, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.cfg.TLS != nil {
		tlsCfg = s.cfg.TLS.Clone()
	}
	tlsCfg.ServerName = s.host
	conn, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	if s.implicitTLS {
		return s.hello(smtp.NewClient(tls.Client(conn, tlsCfg)))
	}
	c, tlsErr := smtp.NewClientStartTLS(conn, tlsCfg)
	if tlsErr == nil {
		return s.hello(c)
	}
	// Find out whether STARTTLS failed or was not offered; only the latter
	// may go on in plain text.
	conn, err = s.dial(ctx)
	if err != nil {
		return nil, err
	}
	c, err = s.hello(smtp.NewClient(conn))
	if err != nil {
		return nil, err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		_ = c.Close()
		return nil, fmt.Errorf("mail: STARTTLS with %s: %w", s.host, tlsErr)
	}
	if s.auth && !loopback(s.host) {
		_ = c.Close()
		return nil, Permanent(fmt.Errorf("mail: %s offers no STARTTLS; refusing to send credentials in plain text", s.host))
	}
	s.log.Warn("mail: relay offers no STARTTLS, sending in plain text", "host", s.host)
	return c, nil
}

func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	conn, err := s.cfg.Dial(ctx, "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("mail: dial %s: %w", s.addr, err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	return conn, nil
}

func (s *Sender) hello(c *smtp.Client) (*smtp.Client, error) {
	if err := c.Hello(s.cfg.HelloName); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("mail: hello: %w", err)
	}
	// Hello is lazy; Extension runs it and reports its failure as absence.
	if err := c.Noop(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("mail: hello: %w", err)
	}
	return c, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// compose renders out as a MIME message: UTF-8 text in quoted-printable,
// headers encoded per RFC 2047, no line a header injection could add.
func (s *Sender) compose(out Outgoing) ([]byte, error) {
	if !validMessageID(out.MessageID) {
		return nil, fmt.Errorf("mail: outgoing Message-ID %q is not valid", out.MessageID)
	}
	if _, err := netmail.ParseAddress(out.To.Address); err != nil || strings.ContainsAny(out.To.Address, "\r\n") {
		return nil, fmt.Errorf("mail: recipient %q is not an address", out.To.Address)
	}
	for _, v := range []string{out.Subject, out.ReplyTo, out.To.Name, out.InReplyTo} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, errors.New("mail: line break in a header value")
		}
	}
	date := out.Date
	if date.IsZero() {
		date = time.Now()
	}
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("Date", date.Format(time.RFC1123Z))
	h("From", s.from.String())
	if out.ReplyTo != "" {
		h("Reply-To", (&netmail.Address{Name: s.from.Name, Address: out.ReplyTo}).String())
	}
	h("To", out.To.String())
	h("Subject", mime.QEncoding.Encode("utf-8", out.Subject))
	h("Message-ID", "<"+out.MessageID+">")
	if validMessageID(out.InReplyTo) {
		h("In-Reply-To", "<"+out.InReplyTo+">")
	}
	var refs []string
	for _, r := range out.References {
		if validMessageID(r) && len(refs) < MaxThreadKeys {
			refs = append(refs, "<"+r+">")
		}
	}
	if len(refs) > 0 {
		h("References", strings.Join(refs, "\r\n "))
	}
	if out.Auto {
		h("Auto-Submitted", "auto-replied")
		// Ask Exchange not to answer with out-of-office mail, the usual
		// start of a loop. Parse reads the header as automatic, so a
		// person's reply does not carry it.
		h("X-Auto-Response-Suppress", "All")
	}
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	text := normalizeNewlines(out.Text)
	if out.Link != "" {
		text = strings.TrimRight(text, "\n") + "\n\nLäs och svara i Nära: " + out.Link + "\n"
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
