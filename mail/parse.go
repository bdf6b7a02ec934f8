package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/jhillyerd/enmime/v2"
)

// DefaultMaxMessageBytes bounds one inbound message. A 20 MiB message holds
// about 15 MB of base64 attachments: enough for photos of a rash or a
// letter, and small enough that a 30 MB attachment is refused before it is
// held in memory.
const DefaultMaxMessageBytes int64 = 20 << 20

// Errors returned by Parse. The inbound server and the webhook map them to a
// permanent refusal, because sending the same bytes again cannot succeed.
var (
	// ErrNoSender means the message has no usable From address, so there is
	// no one to open a case for or to reply to.
	ErrNoSender = errors.New("mail: message has no sender address")
	// ErrTooLarge means the message is longer than the limit; Parse stops
	// reading at the limit.
	ErrTooLarge = errors.New("mail: message exceeds size limit")
	// ErrUnparsable means the bytes are not an RFC 5322 message.
	ErrUnparsable = errors.New("mail: message cannot be parsed")
)

// Address is one mailbox, kept apart from its display name so that the
// support domain compares addresses and shows names.
type Address struct {
	Name    string
	Address string
}

// String formats the address for a header, encoding the name when needed.
func (a Address) String() string {
	return (&netmail.Address{Name: a.Name, Address: a.Address}).String()
}

// Attachment is one attached or inline file. DeclaredType is what the
// sender claimed and SniffedType what the bytes look like; the support
// domain refuses files where TypeMismatch reports a lie.
type Attachment struct {
	Filename     string
	DeclaredType string
	SniffedType  string
	Data         []byte
}

// Message is an inbound mail reduced to what a support case needs.
type Message struct {
	From       Address
	To         []Address
	Cc         []Address
	Subject    string
	MessageID  string // Without angle brackets.
	InReplyTo  []string
	References []string
	Date       time.Time // Zero when the header is missing or malformed.
	// Text is the whole plain-text body, converted from HTML when the
	// message has no text/plain part.
	Text string
	// NewText is Text with quoted earlier messages cut, which is what the
	// citizen wrote this time and what a case shows.
	NewText     string
	Attachments []Attachment
	// Auto reports a bounce, auto-reply or list mail; AutoReason says which
	// header gave it away, for the log line of a quiet refusal.
	Auto       bool
	AutoReason string
}

// Parse reads one RFC 5322 message of at most limit bytes (at most
// DefaultMaxMessageBytes when limit is zero or less). It reads no more than
// limit+1 bytes, so an oversized message costs no more memory than the
// limit. Malformed MIME parts are tolerated as far as enmime can recover
// them; a message without a sender is refused with ErrNoSender.
func Parse(r io.Reader, limit int64) (*Message, error) {
	if limit <= 0 {
		limit = DefaultMaxMessageBytes
	}
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("mail: read message: %w", err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrUnparsable)
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnparsable, err)
	}
	if len(env.GetHeaderKeys()) == 0 {
		return nil, fmt.Errorf("%w: no header", ErrUnparsable)
	}

	m := &Message{
		Subject:    strings.TrimSpace(env.GetHeader("Subject")),
		MessageID:  firstID(env.GetHeader("Message-ID")),
		InReplyTo:  messageIDs(env.GetHeader("In-Reply-To")),
		References: messageIDs(env.GetHeader("References")),
		Text:       normalizeNewlines(env.Text),
	}
	m.NewText = StripQuoted(m.Text)
	if d, err := env.Date(); err == nil {
		m.Date = d
	}
	m.To = addresses(env, "To")
	m.Cc = addresses(env, "Cc")
	from := addresses(env, "From")
	if len(from) == 0 || from[0].Address == "" {
		return nil, ErrNoSender
	}
	m.From = from[0]

	for _, parts := range [][]*enmime.Part{env.Attachments, env.Inlines, env.OtherParts} {
		for _, p := range parts {
			m.Attachments = append(m.Attachments, Attachment{
				Filename:     p.FileName,
				DeclaredType: strings.ToLower(p.ContentType),
				SniffedType:  sniff(p.Content),
				Data:         p.Content,
			})
		}
	}
	m.Auto, m.AutoReason = automatic(env, m.From)
	return m, nil
}

// addresses reads an address header leniently: one malformed entry should
// not lose the others, nor the whole message.
func addresses(env *enmime.Envelope, key string) []Address {
	list, err := env.AddressList(key)
	if err != nil {
		return nil
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		if a == nil || !strings.Contains(a.Address, "@") {
			continue
		}
		out = append(out, Address{Name: a.Name, Address: a.Address})
	}
	return out
}

func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func sniff(b []byte) string {
	t := http.DetectContentType(b)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}

// TypeMismatch reports whether the attachment claims a recognizable format
// its bytes do not have, or has a recognizable format other than the one it
// claims: the "invoice.pdf" that is an executable.
func (a Attachment) TypeMismatch() bool {
	declared := canonicalType(a.DeclaredType)
	if declared == a.SniffedType || declared == "application/octet-stream" || declared == "" {
		return false
	}
	if sniffable(declared) {
		return true
	}
	if a.SniffedType == "application/octet-stream" || strings.HasPrefix(a.SniffedType, "text/") {
		return false
	}
	return true
}

func canonicalType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	switch t {
	case "image/jpg", "image/pjpeg":
		return "image/jpeg"
	case "application/x-pdf":
		return "application/pdf"
	}
	return t
}

// sniffable lists the declared types whose magic bytes
// http.DetectContentType knows, so a claim of one can be checked.
func sniffable(t string) bool {
	switch t {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp",
		"application/pdf", "application/zip", "application/x-gzip",
		"audio/mpeg", "audio/wave", "video/mp4", "video/webm":
		return true
	}
	return false
}
