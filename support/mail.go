package support

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/nara-care/nara/attachment"
	"github.com/nara-care/nara/mail"
	"github.com/nara-care/nara/store"
)

// JobInserter inserts a River job in a transaction; *river.Client[pgx.Tx]
// is one. Support takes the replica's client through it rather than
// keeping an outbox of its own: the send job is then written in the
// reply's transaction, so a reply is never without its mail nor a mail
// without its reply, and River's retries, backoff and rescue of stuck
// jobs come with it.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// MailQueue is the River queue of support's outbound mail.
const MailQueue = "support_mail"

// mailLocal is the local part of support's address: support@domain, and
// support+token@domain for a case.
const mailLocal = "support"

// mailRefs bounds the References of an outbound mail.
const mailRefs = 10

// DeliverMail takes one inbound e-mail, the mail.DeliverFunc of the inbound
// SMTP server and the webhook. A message from a machine (a bounce, an
// auto-reply) is logged and accepted, so the sender does not answer our
// refusal and a loop ends. A reply from a case's own address, naming the
// case by its token or by a Message-ID kept for the case, joins that case;
// anything else opens a new e-mail case, known only by the sender's
// address and never linked to a person by it. A mail without a sender, or
// that does not parse, is refused for good (550); a store failure, or a
// sender over its hourly limit of new cases, asks the sender to try again
// later (451), so nothing is lost.
//
// The From header is taken as the relay delivered it; checking SPF, DKIM
// and DMARC is the relay's work. A forged From can at most add a message
// to that address's case: replies only ever go to the address a case
// already has, so a forger reads nothing.
func (s *Service) DeliverMail(ctx context.Context, env mail.Envelope, raw []byte) error {
	msg, err := mail.Parse(bytes.NewReader(raw), 0)
	if err != nil {
		return mail.Permanent(err)
	}
	from := strings.ToLower(msg.From.Address)
	log := s.logger.With(slog.String("remote", env.RemoteAddr), slog.String("message_id", msg.MessageID))
	if msg.Auto {
		log.Info("support mail: automatic mail dropped", slog.String("reason", msg.AutoReason))
		return nil
	}
	text := strings.TrimSpace(msg.NewText)
	if text == "" {
		text = strings.TrimSpace(msg.Text)
	}
	if text == "" {
		text = "(tomt e-brev)"
	}
	if utf8.RuneCountInString(text) > maxText {
		text = string([]rune(text)[:maxText-1]) + "…"
	}
	files := s.mailFiles(log, msg.Attachments)
	key := mailKey(msg, raw)
	token := mail.TokenFrom(msg)
	if token == "" {
		for _, to := range env.To {
			if token = mail.TokenFromAddress(to); token != "" {
				break
			}
		}
	}
	id, err := s.store.SupportCaseFindByMail(ctx, token, mail.ThreadKeys(msg), from)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	kept, err := s.keep(ctx, files)
	if err != nil {
		return err
	}
	var added bool
	if id != "" {
		added, err = s.mailToCase(ctx, log, id, msg, text, key, kept)
	} else {
		added, err = s.openMailCase(ctx, log, msg, from, text, key, kept)
	}
	if !added {
		s.drop(kept)
	}
	return err
}

// mailAttachmentsMax is how many files of one e-mail are kept.
const mailAttachmentsMax = 10

// mailFiles checks an e-mail's attachments as the app's are checked. One
// that lies about its type, is too large or is not allowed is left out
// with a log line (never its name or bytes): the message itself is still
// posted, and the citizen can be asked for the file again.
func (s *Service) mailFiles(log *slog.Logger, as []mail.Attachment) []attachment.File {
	var files []attachment.File
	for i, a := range as {
		var (
			f   attachment.File
			err error
		)
		switch {
		case len(files) == mailAttachmentsMax:
			err = fmt.Errorf("more than %d attachments in one mail", mailAttachmentsMax)
		case a.TypeMismatch():
			err = fmt.Errorf("attachment is declared as %s but its content is %s", a.DeclaredType, a.SniffedType)
		default:
			f, err = attachment.Inspect(a.Filename, a.DeclaredType, a.Data, s.cfg.AttachmentLimit)
		}
		if err != nil {
			log.Info("support mail: attachment left out", slog.Int("attachment", i+1), slog.Int("bytes", len(a.Data)),
				slog.String("reason", err.Error()))
			continue
		}
		files = append(files, f)
	}
	return files
}

// mailKey is the idempotency key of an inbound mail: its Message-ID, or a
// hash of it when it has none, so that a sender retrying after a lost
// answer adds nothing twice.
func mailKey(msg *mail.Message, raw []byte) string {
	if msg.MessageID != "" {
		return "mail:" + msg.MessageID
	}
	sum := sha256.Sum256(raw)
	return "mail-sha256:" + hex.EncodeToString(sum[:])
}

// mailToCase adds an e-mail to its case. A closed case is opened again
// rather than a new one started: the citizen answered our mail about that
// case, and whoever handled it needs its history to read the answer; a
// chat can offer "open a new case", a mail reply cannot be refused.
// It reports whether the message was added (not a retried delivery).
func (s *Service) mailToCase(ctx context.Context, log *slog.Logger, id string, msg *mail.Message, text, key string, files []store.SupportAttachment) (bool, error) {
	added := false
	_, _, err := s.store.SupportCaseUpdate(ctx, id, func(tx *store.Tx, c *store.SupportCase) ([]store.SupportEvent, error) {
		if _, err := store.SupportEventByKeyTx(ctx, tx, c.ID, key); err == nil {
			return nil, nil // a retried delivery
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		added = true
		events := []store.SupportEvent{{Kind: "message", Party: "citizen", Body: text, Channel: "email",
			IdempotencyKey: key, MailMessageID: msg.MessageID, Attachments: files}}
		if c.State == "closed" || c.State == "waiting" {
			c.State, c.CloseReason = "open", ""
			events = append(events, store.SupportEvent{Kind: "state", Party: "citizen", State: c.State, Line: c.Line, AssigneeName: c.AssigneeName})
		}
		c.CitizenTypingUntil = time.Time{}
		return events, nil
	})
	if err != nil {
		return false, err
	}
	log.Info("support mail: added to case", slog.String("case_id", id), slog.Int("attachments", len(files)))
	return added, nil
}

// openMailCase opens a case for an e-mail that belongs to none.
// It reports whether a case was opened (not a retried delivery's).
func (s *Service) openMailCase(ctx context.Context, log *slog.Logger, msg *mail.Message, from, text, key string, files []store.SupportAttachment) (bool, error) {
	// Counted before anything is written: a loop the headers do not show
	// stops at the limit, and the sender's server keeps the rest.
	if err := s.store.RateLimitTake(ctx, "support-mail-open:"+from, time.Hour, s.cfg.MailOpensPerHour); err != nil {
		if errors.Is(err, store.ErrRateLimited) {
			log.Warn("support mail: sender over its limit of new cases; asked to retry later",
				slog.Int("per_hour", s.cfg.MailOpensPerHour))
			return false, fmt.Errorf("support: too many new cases by e-mail from one sender: %w", err)
		}
		return false, err
	}
	sched, err := s.schedule(ctx)
	if err != nil {
		return false, err
	}
	now := s.now()
	subject := subjectOf(msg.Subject)
	if subject == "" {
		subject = subjectOf(text)
	}
	c := store.SupportCase{
		Email: from, MailToken: mail.NewToken(), OpenKey: key, OwnerScope: "email:" + from, Category: "other",
		Subject: subject, FirstAnswerDue: sched.DueAfter(now, s.cfg.FirstAnswerWithin),
	}
	if c.FirstAnswerDue.IsZero() {
		c.FirstAnswerDue = now.Add(s.cfg.FirstAnswerWithin)
	}
	opened, replay, err := s.store.SupportCaseOpen(ctx, c, store.SupportEvent{Kind: "message", Party: "citizen", Body: text,
		Channel: "email", IdempotencyKey: key, MailMessageID: msg.MessageID, Attachments: files})
	if err != nil {
		return false, err
	}
	log.Info("support mail: case opened", slog.String("case_id", opened.ID), slog.Bool("replay", replay), slog.Int("attachments", len(files)))
	return !replay, nil
}

// queueMail records the e-mail that carries a reply to c's address and
// inserts its send job, both in tx, the reply's transaction. The mail
// holds the reply's text and a link to the case in the app, nothing else
// of the case: what the citizen wrote stays in the app.
func (s *Service) queueMail(ctx context.Context, tx *store.Tx, c *store.SupportCase, body string) error {
	if c.MailToken == "" {
		c.MailToken = mail.NewToken()
	}
	lastIn, refs, err := store.SupportMailThreadTx(ctx, tx, c.ID, mailRefs)
	if err != nil {
		return err
	}
	id, err := store.SupportMailOutInsertTx(ctx, tx, store.SupportMailOut{
		CaseID:     c.ID,
		MessageID:  mail.NewToken() + "@" + s.cfg.MailDomain,
		Recipient:  c.Email,
		ReplyTo:    mail.CaseAddress(mailLocal, s.cfg.MailDomain, c.MailToken),
		Subject:    "Svar från Nära support " + mail.SubjectTag(c.MailToken),
		Body:       body,
		Link:       strings.TrimRight(s.cfg.PublicURL, "/") + "/support/cases/" + c.ID,
		InReplyTo:  lastIn,
		References: refs,
	})
	if err != nil {
		return err
	}
	if _, err := s.jobs.InsertTx(ctx, tx.Tx, SendMailArgs{MailID: id}, nil); err != nil {
		return fmt.Errorf("support: queue mail: %w", err)
	}
	return nil
}

// mails reports whether a reply on c goes out by e-mail too.
func (s *Service) mails(c *store.SupportCase) bool {
	return c.Email != "" && s.cfg.MailDomain != "" && s.jobs != nil
}

// SendMailArgs is the job that sends one outbound support mail.
type SendMailArgs struct {
	MailID int64 `json:"mail_id"`
}

// Kind is the River job kind.
func (SendMailArgs) Kind() string { return "support_mail_send" }

// InsertOpts puts the job in MailQueue.
func (SendMailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: MailQueue} }

// MailDeps are what the mail worker works with.
type MailDeps struct {
	Logger *slog.Logger
	Store  *store.Store
	Sender *mail.Sender
}

// NewMailWorker returns the worker that sends support's outbound mail. It
// stands apart from the Service because River needs its workers before
// the client exists, and the Service needs the client to insert jobs.
func NewMailWorker(d MailDeps) river.Worker[SendMailArgs] {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &mailWorker{log: d.Logger, store: d.Store, sender: d.Sender}
}

type mailWorker struct {
	river.WorkerDefaults[SendMailArgs]
	log    *slog.Logger
	store  *store.Store
	sender *mail.Sender
}

// Work sends the mail unless it was sent already. The Message-ID was
// fixed with the reply, so a retry after a send whose success was not
// recorded sends the same message, which receivers deduplicate. A
// permanent refusal is recorded and not retried; anything else is
// returned for River to retry with backoff.
func (w *mailWorker) Work(ctx context.Context, job *river.Job[SendMailArgs]) error {
	m, err := w.store.SupportMailOutGet(ctx, job.Args.MailID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	} else if err != nil {
		return err
	}
	log := w.log.With(slog.String("case_id", m.CaseID), slog.Int64("mail_id", m.ID), slog.Int("attempt", job.Attempt))
	if !m.SentAt.IsZero() || !m.FailedAt.IsZero() {
		return nil
	}
	err = w.sender.Send(ctx, mail.Outgoing{
		MessageID: m.MessageID, To: mail.Address{Address: m.Recipient}, ReplyTo: m.ReplyTo, Subject: m.Subject,
		Text: m.Body, Link: m.Link, InReplyTo: m.InReplyTo, References: m.References,
	})
	if err != nil && mail.IsPermanent(err) {
		log.Warn("support mail: refused for good; not retried", slog.String("error", err.Error()))
		if err := w.store.SupportMailOutFailed(ctx, m.ID, err.Error()); err != nil {
			return err
		}
		return river.JobCancel(err)
	}
	if err != nil {
		log.Info("support mail: send failed; retrying", slog.String("error", err.Error()))
		return err
	}
	log.Info("support mail: sent")
	return w.store.SupportMailOutSent(ctx, m.ID)
}
