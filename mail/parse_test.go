package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

// crlf turns a readable test message into wire format.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParse(t *testing.T) {
	t.Parallel()
	pngBytes := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	tests := []struct {
		name    string
		raw     string
		from    Address
		subject string
		text    string // Substring of Text.
		newText string // Exact NewText, when set.
		msgID   string
		inReply []string
		refs    []string
	}{
		{
			name: "plain",
			raw: `From: Anna Svensson <anna@example.se>
To: support@nara.example
Subject: Hej
Message-ID: <abc@example.se>
Date: Mon, 02 Jun 2025 10:00:00 +0200

Jag har ont i halsen.
`,
			from:    Address{Name: "Anna Svensson", Address: "anna@example.se"},
			subject: "Hej",
			newText: "Jag har ont i halsen.",
			msgID:   "abc@example.se",
		},
		{
			name: "html only",
			raw: `From: anna@example.se
Subject: html
Content-Type: text/html; charset=utf-8

<html><body><p>Hej <b>support</b>,</p><p>tack!</p><script>alert(1)</script></body></html>
`,
			from:    Address{Address: "anna@example.se"},
			subject: "html",
			text:    "tack!",
		},
		{
			name: "multipart alternative prefers text",
			raw: `From: anna@example.se
Subject: alt
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

plain version
--b1
Content-Type: text/html; charset=utf-8

<p>html version</p>
--b1--
`,
			from:    Address{Address: "anna@example.se"},
			subject: "alt",
			newText: "plain version",
		},
		{
			name: "quoted-printable utf-8 body",
			raw: `From: anna@example.se
Subject: qp
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Hej, jag m=C3=A5r inte bra och =C3=A4r tr=C3=B6tt. En l=C3=A5ng rad som bryts=
 h=C3=A4r.
`,
			from:    Address{Address: "anna@example.se"},
			subject: "qp",
			newText: "Hej, jag mår inte bra och är trött. En lång rad som bryts här.",
		},
		{
			name: "base64 latin-1 body",
			raw: `From: anna@example.se
Subject: b64
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: base64

` + base64.StdEncoding.EncodeToString([]byte("R\xe4kna med \xe5tta dagar, s\xe4ger v\xe5rdcentralen.")) + `
`,
			from:    Address{Address: "anna@example.se"},
			subject: "b64",
			newText: "Räkna med åtta dagar, säger vårdcentralen.",
		},
		{
			name: "encoded words in headers",
			raw: `From: =?ISO-8859-1?Q?=C5sa_=D6berg?= <asa@example.se>
To: =?UTF-8?B?U3VwcG9ydCBmw7ZyIE7DpHJh?= <support@nara.example>
Subject: =?UTF-8?Q?Fr=C3=A5ga_om_=C3=A5terbes=C3=B6k?=
Message-ID: <x1@example.se>

text
`,
			from:    Address{Name: "Åsa Öberg", Address: "asa@example.se"},
			subject: "Fråga om återbesök",
			newText: "text",
			msgID:   "x1@example.se",
		},
		{
			name: "reply headers",
			raw: `From: anna@example.se
Subject: Re: [#abcdefghijklmnopqrstuvwxyz] Ditt ärende
In-Reply-To: <m2@nara.example>
References: <m1@nara.example> <m2@nara.example>

ok
`,
			from:    Address{Address: "anna@example.se"},
			subject: "Re: [#abcdefghijklmnopqrstuvwxyz] Ditt ärende",
			newText: "ok",
			inReply: []string{"m2@nara.example"},
			refs:    []string{"m1@nara.example", "m2@nara.example"},
		},
		{
			name: "swedish gmail reply",
			raw: `From: anna@example.se
Subject: Re: Ditt ärende
Content-Type: text/plain; charset=utf-8

Tack, det går bra på tisdag.

Den mån 2 juni 2025 kl 10:00 skrev Nära support <support+abc@nara.example>:
> Vi kan erbjuda en tid på tisdag.
> Hälsningar
`,
			from:    Address{Address: "anna@example.se"},
			subject: "Re: Ditt ärende",
			newText: "Tack, det går bra på tisdag.",
		},
		{
			name: "english reply wrapped intro",
			raw: `From: anna@example.se
Subject: Re: case

Tuesday works.

On Mon, 2 Jun 2025 at 10:00, Nara support <
support@nara.example> wrote:

> We can offer Tuesday.
`,
			from:    Address{Address: "anna@example.se"},
			subject: "Re: case",
			newText: "Tuesday works.",
		},
		{
			name: "outlook swedish reply",
			raw: `From: anna@example.se
Subject: SV: Ditt ärende
Content-Type: text/plain; charset=utf-8

Jag kommer.

________________________________
Från: Nära support <support@nara.example>
Skickat: den 2 juni 2025 10:00
Till: Anna <anna@example.se>
Ämne: Ditt ärende

Vi kan erbjuda en tid.
`,
			from:    Address{Address: "anna@example.se"},
			subject: "SV: Ditt ärende",
			newText: "Jag kommer.",
		},
		{
			name: "outlook original message",
			raw: `From: anna@example.se
Subject: RE: case

See you then.

-----Original Message-----
From: Nara support <support@nara.example>
Sent: Monday, June 2, 2025 10:00 AM
We can offer Tuesday.
`,
			from:    Address{Address: "anna@example.se"},
			subject: "RE: case",
			newText: "See you then.",
		},
		{
			name: "attachment",
			raw: `From: anna@example.se
Subject: bild
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b2"

--b2
Content-Type: text/plain; charset=utf-8

Se bild.
--b2
Content-Type: image/png; name="utslag.png"
Content-Disposition: attachment; filename="utslag.png"
Content-Transfer-Encoding: base64

` + base64.StdEncoding.EncodeToString(pngBytes) + `
--b2--
`,
			from:    Address{Address: "anna@example.se"},
			subject: "bild",
			newText: "Se bild.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse(strings.NewReader(crlf(tt.raw)), 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.From != tt.from {
				t.Errorf("From = %+v, want %+v", m.From, tt.from)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if !strings.Contains(m.Text, tt.text) {
				t.Errorf("Text = %q, want it to contain %q", m.Text, tt.text)
			}
			if tt.newText != "" && m.NewText != tt.newText {
				t.Errorf("NewText = %q, want %q", m.NewText, tt.newText)
			}
			if m.MessageID != tt.msgID {
				t.Errorf("MessageID = %q, want %q", m.MessageID, tt.msgID)
			}
			if strings.Join(m.InReplyTo, " ") != strings.Join(tt.inReply, " ") {
				t.Errorf("InReplyTo = %q, want %q", m.InReplyTo, tt.inReply)
			}
			if strings.Join(m.References, " ") != strings.Join(tt.refs, " ") {
				t.Errorf("References = %q, want %q", m.References, tt.refs)
			}
			if m.Auto {
				t.Errorf("Auto = true (%s), want false", m.AutoReason)
			}
			if strings.Contains(m.Text, "alert(1)") {
				t.Errorf("Text keeps script content: %q", m.Text)
			}
		})
	}
}

func TestParseAttachment(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	exe := []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")
	tests := []struct {
		name     string
		declared string
		data     []byte
		mismatch bool
	}{
		{"png is png", "image/png", png, false},
		{"exe claims pdf", "application/pdf", exe, true},
		{"png claims text", "text/plain", png, true},
		{"exe declared octet-stream", "application/octet-stream", exe, false},
		{"text claims csv", "text/csv", []byte("a,b\n1,2\n"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := crlf(`From: anna@example.se
Subject: fil
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

se fil
--b
Content-Type: ` + tt.declared + `
Content-Disposition: attachment; filename="fil"
Content-Transfer-Encoding: base64

` + base64.StdEncoding.EncodeToString(tt.data) + `
--b--
`)
			m, err := Parse(strings.NewReader(raw), 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(m.Attachments) != 1 {
				t.Fatalf("got %d attachments, want 1", len(m.Attachments))
			}
			a := m.Attachments[0]
			if a.Filename != "fil" || !bytes.Equal(a.Data, tt.data) || a.DeclaredType != tt.declared {
				t.Errorf("attachment = %q %q %x, want fil %q %x", a.Filename, a.DeclaredType, a.Data, tt.declared, tt.data)
			}
			if got := a.TypeMismatch(); got != tt.mismatch {
				t.Errorf("TypeMismatch() = %v (sniffed %q), want %v", got, a.SniffedType, tt.mismatch)
			}
		})
	}
}

func TestParseAutomatic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		auto   bool
	}{
		{"auto-submitted no", "From: a@example.se\nAuto-Submitted: no\n", false},
		{"auto-replied", "From: a@example.se\nAuto-Submitted: auto-replied\n", true},
		{"auto-generated with params", "From: a@example.se\nAuto-Submitted: Auto-Generated; owner-email=x@y\n", true},
		{"precedence bulk", "From: a@example.se\nPrecedence: bulk\n", true},
		{"precedence junk", "From: a@example.se\nPrecedence: junk\n", true},
		{"precedence list", "From: a@example.se\nPrecedence: list\n", true},
		{"x-autoreply", "From: a@example.se\nX-Autoreply: yes\n", true},
		{"exchange suppress", "From: a@example.se\nX-Auto-Response-Suppress: All\n", true},
		{"list-id", "From: a@example.se\nList-Id: <news.example.se>\n", true},
		{"mailer-daemon", "From: Mail Delivery System <MAILER-DAEMON@mx.example.se>\n", true},
		{"postmaster", "From: postmaster@example.se\n", true},
		{"null return-path", "Return-Path: <>\nFrom: a@example.se\n", true},
		{"delivery report", "From: a@example.se\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n", true},
		{"person", "From: a@example.se\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := "hej\n"
			if strings.Contains(tt.header, "multipart/report") {
				body = "--r\nContent-Type: text/plain\n\nDelivery failed\n--r\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--r--\n"
			}
			m, err := Parse(strings.NewReader(crlf(tt.header+"Subject: x\n\n"+body)), 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Auto != tt.auto {
				t.Errorf("Auto = %v (%q), want %v", m.Auto, m.AutoReason, tt.auto)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		raw   string
		limit int64
		want  error
	}{
		{"no from", "To: support@nara.example\nSubject: x\n\nhej\n", 0, ErrNoSender},
		{"empty from", "From: \nSubject: x\n\nhej\n", 0, ErrNoSender},
		{"from without address", "From: Anna\nSubject: x\n\nhej\n", 0, ErrNoSender},
		{"empty input", "", 0, ErrUnparsable},
		{"over limit", "From: a@example.se\nSubject: x\n\n" + strings.Repeat("a", 200) + "\n", 100, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(crlf(tt.raw)), tt.limit)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse error = %v, want %v", err, tt.want)
			}
		})
	}
}

// endless is a message that never ends; Parse must stop at the limit.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.read += int64(len(p))
	return len(p), nil
}

func TestParseStopsReadingAtLimit(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	src := &endless{}
	_, err := Parse(io.MultiReader(strings.NewReader("From: a@example.se\r\n\r\n"), src), limit)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse error = %v, want ErrTooLarge", err)
	}
	if src.read > 2*limit {
		t.Errorf("read %d bytes of an endless message, want at most about %d", src.read, limit)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(crlf("From: a@example.se\nSubject: =?UTF-8?Q?=C3=A5?=\n\nhej\n")))
	f.Add([]byte(crlf("From: a@example.se\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n<p>x</p>\n--b--\n")))
	f.Add([]byte(crlf("From: a@example.se\nIn-Reply-To: <a@b>\nReferences: <a@b> c@d,e@f\n\nOn x wrote:\n> y\n")))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(bytes.NewReader(raw), 1<<16)
		if err != nil {
			return
		}
		if m.From.Address == "" {
			t.Errorf("Parse succeeded without a sender")
		}
		if keys := ThreadKeys(m); len(keys) > MaxThreadKeys {
			t.Errorf("ThreadKeys returned %d keys, more than %d", len(keys), MaxThreadKeys)
		}
		_ = TokenFrom(m)
	})
}
