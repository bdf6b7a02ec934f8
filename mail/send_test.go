package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/nara-care/nara/mail"
	"github.com/nara-care/nara/mail/mailfake"
)

// setupFake starts the stand-in with a certificate for 127.0.0.1 and
// relay.example, and returns the TLS config a Sender needs to trust it.
func setupFake(t *testing.T, implicitTLS bool) (*mailfake.Fake, *tls.Config) {
	t.Helper()
	server, roots, err := mailfake.SelfSignedTLS("127.0.0.1", "relay.example")
	if err != nil {
		t.Fatal(err)
	}
	f, err := mailfake.Start(mailfake.Config{TLS: server, ImplicitTLS: implicitTLS})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

func TestSendThroughStandIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		implicitTLS bool
		creds       string
	}{
		{name: "starttls with auth", creds: "user:p%40ss@"},
		{name: "starttls without auth"},
		{name: "implicit tls", implicitTLS: true, creds: "user:pass@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, clientTLS := setupFake(t, tt.implicitTLS)
			url := strings.Replace(f.SMTPURL(), "://", "://"+tt.creds, 1)
			s, err := mail.NewSender(url, "Nära support <support@nara.example>", mail.SenderConfig{TLS: clientTLS})
			if err != nil {
				t.Fatal(err)
			}
			token := mail.NewToken()
			out := mail.Outgoing{
				MessageID:  s.NewMessageID(),
				To:         mail.Address{Name: "Åsa Öberg", Address: "asa@example.se"},
				ReplyTo:    mail.CaseAddress("support", "nara.example", token),
				Subject:    "Svar på ditt ärende " + mail.SubjectTag(token) + " – åäö",
				Text:       "Hej Åsa,\n.\nVi har svarat i appen.",
				Link:       "https://app.nara.example/support/cases/1",
				InReplyTo:  "citizen-1@example.se",
				References: []string{"citizen-0@example.se", "citizen-1@example.se"},
			}
			if err := s.Send(t.Context(), out); err != nil {
				t.Fatalf("Send: %v", err)
			}
			// A retried job sends the same message again.
			if err := s.Send(t.Context(), out); err != nil {
				t.Fatalf("second Send: %v", err)
			}
			got := f.Messages()
			if len(got) != 2 {
				t.Fatalf("stand-in received %d messages, want 2", len(got))
			}
			for _, r := range got {
				m := r.Message
				if m == nil {
					t.Fatalf("received message does not parse: %s", r.ParseErr)
				}
				if m.MessageID != out.MessageID {
					t.Errorf("Message-ID = %q, want %q", m.MessageID, out.MessageID)
				}
				if len(m.InReplyTo) != 1 || m.InReplyTo[0] != out.InReplyTo {
					t.Errorf("In-Reply-To = %q, want %q", m.InReplyTo, out.InReplyTo)
				}
				if m.Subject != out.Subject {
					t.Errorf("Subject = %q, want %q", m.Subject, out.Subject)
				}
				if m.From.Address != "support@nara.example" || m.To[0] != out.To {
					t.Errorf("From %+v To %+v, want support@nara.example to %+v", m.From, m.To, out.To)
				}
				if !strings.Contains(m.Text, "Hej Åsa,\n.\nVi har") || !strings.Contains(m.Text, out.Link) {
					t.Errorf("Text = %q, want the body and the link", m.Text)
				}
				if m.Auto {
					t.Errorf("a person's reply was marked automatic (%s)", m.AutoReason)
				}
				if !bytes.Contains(r.Raw, []byte("Reply-To: =?utf-8?q?N=C3=A4ra_support?= <support+"+token+"@nara.example>")) {
					t.Errorf("Reply-To with the case address missing:\n%s", r.Raw)
				}
				if r.EnvelopeFrom != "support@nara.example" || r.EnvelopeTo[0] != "asa@example.se" {
					t.Errorf("envelope %q -> %q", r.EnvelopeFrom, r.EnvelopeTo)
				}
			}
		})
	}
}

func TestSendAutoIsMarked(t *testing.T) {
	t.Parallel()
	f, clientTLS := setupFake(t, false)
	s, err := mail.NewSender(f.SMTPURL(), "support@nara.example", mail.SenderConfig{TLS: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), mail.Outgoing{MessageID: s.NewMessageID(), To: mail.Address{Address: "a@example.se"}, Subject: "Vi har tagit emot ditt ärende", Text: "Tack.", Auto: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := f.Messages()[0].Message; m == nil || !m.Auto {
		t.Errorf("automatic mail not marked automatic: %+v", m)
	}
}

func TestSendRefuses(t *testing.T) {
	t.Parallel()
	plain, err := mailfake.Start(mailfake.Config{}) // No STARTTLS offered.
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	toPlain := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, plain.Addr())
	}
	tlsFake, clientTLS := setupFake(t, false)
	untrusted := &tls.Config{MinVersion: tls.VersionTLS12} // System roots do not know the fake.
	ok := mail.Outgoing{To: mail.Address{Address: "a@example.se"}, Subject: "s", Text: "t"}

	tests := []struct {
		name      string
		url       string
		cfg       mail.SenderConfig
		out       func(o mail.Outgoing) mail.Outgoing
		permanent bool
		wantSent  bool
	}{
		{
			name: "credentials in plain text to a remote host",
			url:  "smtp://user:pass@relay.example:587", cfg: mail.SenderConfig{Dial: toPlain},
			permanent: true,
		},
		{
			name:     "credentials in plain text to loopback",
			url:      strings.Replace(plain.SMTPURL(), "://", "://user:pass@", 1),
			wantSent: true,
		},
		{
			name: "untrusted certificate does not fall back to plain text",
			url:  tlsFake.SMTPURL(), cfg: mail.SenderConfig{TLS: untrusted},
		},
		{
			name: "missing Message-ID", url: tlsFake.SMTPURL(), cfg: mail.SenderConfig{TLS: clientTLS},
			out:       func(o mail.Outgoing) mail.Outgoing { o.MessageID = ""; return o },
			permanent: true,
		},
		{
			name: "header injection", url: tlsFake.SMTPURL(), cfg: mail.SenderConfig{TLS: clientTLS},
			out:       func(o mail.Outgoing) mail.Outgoing { o.Subject = "x\r\nBcc: victim@example.com"; return o },
			permanent: true,
		},
		{
			name: "bad recipient", url: tlsFake.SMTPURL(), cfg: mail.SenderConfig{TLS: clientTLS},
			out:       func(o mail.Outgoing) mail.Outgoing { o.To.Address = "not an address"; return o },
			permanent: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mail.NewSender(tt.url, "support@nara.example", tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			out := ok
			out.MessageID = s.NewMessageID()
			if tt.out != nil {
				out = tt.out(out)
			}
			err = s.Send(t.Context(), out)
			if tt.wantSent {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded, want a refusal")
			}
			if got := mail.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
		})
	}
	if n := len(tlsFake.Messages()); n != 0 {
		t.Errorf("refused sends delivered %d messages", n)
	}
}

func TestNewSenderURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"smtp://user:pass@relay.example:587", false},
		{"smtps://relay.example", false},
		{"smtp://relay.example", false},
		{"http://relay.example", true},
		{"smtp://", true},
		{"://bad", true},
	}
	for _, tt := range tests {
		_, err := mail.NewSender(tt.url, "support@nara.example", mail.SenderConfig{})
		if (err != nil) != tt.wantErr {
			t.Errorf("NewSender(%q) error = %v, want error %v", tt.url, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "pass") {
			t.Errorf("NewSender(%q) error leaks the password: %v", tt.url, err)
		}
	}
}
