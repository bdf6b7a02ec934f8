// Package support is Nära's citizen support: cases that keep one thread
// whatever the channel, first line's queue with an answer target counted in
// support's opening hours, escalation to second line or an external second
// line, standard answers, deviations and service notices. Live delivery
// goes through the change feed (changefeed.Hub), so any replica's stream
// hears any replica's change, and every stream has a polling twin.
package support

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/attachment"
	"github.com/nara-care/nara/changefeed"
	"github.com/nara-care/nara/gen/nara/support/v1/supportv1connect"
	"github.com/nara-care/nara/mail"
	"github.com/nara-care/nara/openinghours"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// Config sets support's limits and targets. Every zero field takes its
// default.
type Config struct {
	// FirstAnswerWithin is the target for the first answer, counted in
	// support's opening hours. Default 1 h.
	FirstAnswerWithin time.Duration
	// Location is support's time zone. Default Europe/Stockholm.
	Location *time.Location
	// GuestOpensPerHour is how many cases one client address may open
	// without logging in per hour. Default 5.
	GuestOpensPerHour int
	// GuestMessages is how many messages a guest may send in one case.
	// Default 30.
	GuestMessages int
	// TypingFor is how long "typing" shows after SetTyping. Default 6 s.
	TypingFor time.Duration
	// WatchLife bounds a stream; the client reconnects with its cursor.
	// Default 10 min.
	WatchLife time.Duration
	// WatchPoll is the longest a stream waits before reading again on its
	// own. Default 15 s.
	WatchPoll time.Duration
	// HelpLink is the prefix of an FAQ article's link in a standard answer
	// ({faq:slug}). Default "https://nara.se/hjalp/".
	HelpLink string
	// MailDomain is the domain of support's e-mail: replies come from
	// support@MailDomain and ask to be answered at support+token@MailDomain.
	// Empty: replies are not mailed.
	MailDomain string
	// PublicURL is where the app is reached; a mailed reply links to the
	// case under it.
	PublicURL string
	// MailWebhookSecret, when set, also takes inbound mail as a raw message
	// POSTed to /mail/inbound by the region's mail system with this secret
	// in the X-Nara-Mail-Secret header: the path for hosting where only
	// HTTPS reaches Nära. Empty: the endpoint is not mounted; the SMTP
	// server is the default path.
	MailWebhookSecret string
	// MailOpensPerHour is how many cases one e-mail address may open per
	// hour; more are refused for the sender to retry. Default 10.
	MailOpensPerHour int
	// AttachmentLimit is the largest attachment, in bytes, after which a
	// file is refused (SupportService.AddAttachment's data allows 8 MB).
	// Default 8 MB: a phone photo is 2–5 MB as JPEG.
	AttachmentLimit int64
}

func (c *Config) setDefaults() {
	if c.FirstAnswerWithin <= 0 {
		c.FirstAnswerWithin = time.Hour
	}
	if c.Location == nil {
		loc, err := time.LoadLocation("Europe/Stockholm")
		if err != nil {
			loc = time.UTC
		}
		c.Location = loc
	}
	if c.GuestOpensPerHour <= 0 {
		c.GuestOpensPerHour = 5
	}
	if c.GuestMessages <= 0 {
		c.GuestMessages = 30
	}
	if c.TypingFor <= 0 {
		c.TypingFor = 6 * time.Second
	}
	if c.WatchLife <= 0 {
		c.WatchLife = 10 * time.Minute
	}
	if c.WatchPoll <= 0 {
		c.WatchPoll = 15 * time.Second
	}
	if c.MailOpensPerHour <= 0 {
		c.MailOpensPerHour = 10
	}
	if c.AttachmentLimit <= 0 {
		c.AttachmentLimit = 8 * attachment.MB
	}
	if c.HelpLink == "" {
		c.HelpLink = "https://nara.se/hjalp/"
	}
}

// Deps are what support works with.
type Deps struct {
	Logger *slog.Logger
	Store  *store.Store
	// Hub delivers changes to streams; required.
	Hub *changefeed.Hub
	// Notify sends the push notice of a reply; nil sends none.
	Notify *notify.Service
	// Jobs inserts the job that mails a reply, in the reply's transaction;
	// nil mails nothing.
	Jobs JobInserter
	// Blobs keeps attachments' bytes. Default the Store's, in PostgreSQL;
	// attachment.S3 where an object store should keep them.
	Blobs attachment.Blobs
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service is support's two Connect services.
type Service struct {
	cfg    Config
	logger *slog.Logger
	store  *store.Store
	hub    *changefeed.Hub
	notify *notify.Service
	jobs   JobInserter
	blobs  attachment.Blobs
	now    func() time.Time
}

// New returns support, ready to mount.
func New(cfg Config, deps Deps) *Service {
	cfg.setDefaults()
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Blobs == nil && deps.Store != nil {
		deps.Blobs = deps.Store.AttachmentBlobs()
	}
	return &Service{cfg: cfg, logger: deps.Logger, store: deps.Store, hub: deps.Hub, notify: deps.Notify, jobs: deps.Jobs,
		blobs: deps.Blobs, now: deps.Now}
}

// Mount serves SupportService and SupportDeskService and declares who may
// call each RPC.
func (s *Service) Mount(m *rpc.Mount) error {
	if s.store == nil || s.hub == nil {
		return errors.New("support: a store and a change feed hub are required")
	}
	path, h := supportv1connect.NewSupportServiceHandler(&citizenService{s}, m.Options())
	m.Service(supportv1connect.SupportServiceName, path, h)
	path, h = supportv1connect.NewSupportDeskServiceHandler(&deskService{s}, m.Options())
	m.Service(supportv1connect.SupportDeskServiceName, path, h)

	// A guest's calls carry the case's secret; the handler checks it, or
	// that a logged-in citizen owns the case.
	m.Public(
		supportv1connect.SupportServicePrepareCaseProcedure,
		supportv1connect.SupportServiceOpenCaseProcedure,
		supportv1connect.SupportServiceGetCaseProcedure,
		supportv1connect.SupportServiceListCaseEventsProcedure,
		supportv1connect.SupportServiceWatchCaseProcedure,
		supportv1connect.SupportServiceSendMessageProcedure,
		supportv1connect.SupportServiceMarkReadProcedure,
		supportv1connect.SupportServiceSetTypingProcedure,
		supportv1connect.SupportServiceListServiceNoticesProcedure,
		supportv1connect.SupportServiceAddAttachmentProcedure,
		supportv1connect.SupportServiceGetAttachmentProcedure,
	)
	m.Roles([]access.Role{access.RoleCitizen}, supportv1connect.SupportServiceListMyCasesProcedure)

	// Staff are not clinicians: no care assignment, and nothing here
	// reaches a medical record.
	staff := []access.Role{access.RoleSupportFirstLine, access.RoleSupportSecondLine}
	m.Roles(staff,
		supportv1connect.SupportDeskServiceListQueueProcedure,
		supportv1connect.SupportDeskServiceWatchQueueProcedure,
		supportv1connect.SupportDeskServiceGetCaseProcedure,
		supportv1connect.SupportDeskServiceListCaseEventsProcedure,
		supportv1connect.SupportDeskServiceWatchCaseProcedure,
		supportv1connect.SupportDeskServiceClaimCaseProcedure,
		supportv1connect.SupportDeskServiceReplyProcedure,
		supportv1connect.SupportDeskServiceSetTypingProcedure,
		supportv1connect.SupportDeskServiceMarkReadProcedure,
		supportv1connect.SupportDeskServiceHandBackProcedure,
		supportv1connect.SupportDeskServiceTransferProcedure,
		supportv1connect.SupportDeskServiceEscalateProcedure,
		supportv1connect.SupportDeskServiceSetWaitingProcedure,
		supportv1connect.SupportDeskServiceCloseCaseProcedure,
		supportv1connect.SupportDeskServiceGetOverviewProcedure,
		supportv1connect.SupportDeskServiceSearchStandardAnswersProcedure,
		supportv1connect.SupportDeskServiceListStandardAnswersProcedure,
		supportv1connect.SupportDeskServiceGetStandardAnswerProcedure,
		supportv1connect.SupportDeskServiceFlagDeviationProcedure,
		supportv1connect.SupportDeskServiceAddAttachmentProcedure,
		supportv1connect.SupportDeskServiceGetAttachmentProcedure,
	)
	m.Roles([]access.Role{access.RoleSupportSecondLine},
		supportv1connect.SupportDeskServiceSaveStandardAnswerProcedure,
		supportv1connect.SupportDeskServiceListDeviationsProcedure,
		supportv1connect.SupportDeskServiceSetDeviationStatusProcedure,
		supportv1connect.SupportDeskServicePublishServiceNoticeProcedure,
		supportv1connect.SupportDeskServiceWithdrawServiceNoticeProcedure,
	)
	if s.cfg.MailWebhookSecret != "" {
		m.Page("POST /mail/inbound", mail.WebhookHandler(s.cfg.MailWebhookSecret, s.DeliverMail,
			s.logger.With(slog.String("component", "mail-webhook"))))
	}
	return nil
}

// schedule is support's opening hours as the help content keeps them.
func (s *Service) schedule(ctx context.Context) (openinghours.Schedule, error) {
	hours, err := s.store.SupportHoursGet(ctx)
	if err != nil {
		return openinghours.Schedule{}, err
	}
	sched := openinghours.Schedule{Location: s.cfg.Location, Hours: map[openinghours.DayKind]openinghours.Hours{}}
	for kind, dh := range hours {
		sched.Hours[openinghours.DayKind(kind)] = openinghours.Hours{Opens: dh.Opens, Closes: dh.Closes}
	}
	return sched, nil
}

// newSecret returns a guest secret and the hash that is kept of it.
func newSecret() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	secret := base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// errNoCase is the answer for a case that does not exist or is not the
// caller's: nothing tells the two apart.
var errNoCase = connect.NewError(connect.CodeNotFound, errors.New("no such support case"))

// citizenCase returns the case id if the caller may see it: a logged-in
// citizen their own, a guest the one whose secret they present.
func (s *Service) citizenCase(ctx context.Context, id, secret string) (store.SupportCase, error) {
	p, loggedIn := access.FromContext(ctx)
	if secret == "" && (!loggedIn || !p.Has(access.RoleCitizen)) {
		return store.SupportCase{}, connect.NewError(connect.CodeUnauthenticated, errors.New("log in, or present the guest_secret the case was opened with"))
	}
	c, err := s.store.SupportCaseGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, errNoCase
	} else if err != nil {
		return c, err
	}
	if secret != "" {
		if c.GuestSecretHash == nil || subtle.ConstantTimeCompare(c.GuestSecretHash, hashSecret(secret)) != 1 {
			return store.SupportCase{}, errNoCase
		}
		return c, nil
	}
	if c.PersonID == "" || c.PersonID != p.PersonID {
		return store.SupportCase{}, errNoCase
	}
	return c, nil
}

// staffCase returns a case for a staff member and logs the read when the
// case is a logged-in citizen's.
func (s *Service) staffCase(ctx context.Context, id string) (store.SupportCase, error) {
	c, err := s.store.SupportCaseGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, errNoCase
	} else if err != nil {
		return c, err
	}
	return c, s.logRead(ctx, c)
}

// accessPurpose is what the access log says a staff read of a case was for.
const accessPurpose = "support case"

// logRead access-logs a staff member's read of c, if it names a citizen.
func (s *Service) logRead(ctx context.Context, cs ...store.SupportCase) error {
	p, _ := access.FromContext(ctx)
	var procedure string
	if info, ok := connect.CallInfoForHandlerContext(ctx); ok {
		procedure = info.Spec().Procedure
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if c.PersonID == "" || seen[c.PersonID] {
			continue
		}
		seen[c.PersonID] = true
		if err := s.store.AccessLogAppend(ctx, store.AccessLogEntry{
			StaffHSAID: p.HSAID, StaffName: p.DisplayName, PatientID: c.PersonID, Action: accessPurpose,
			Procedure: procedure, ClientIP: rpc.ClientIP(ctx),
		}); err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses a message that is blank once trimmed or too long.
func checkText(field, text string) (string, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "", connect.NewError(connect.CodeInvalidArgument, errors.New(field+": write a message; it is empty"))
	case utf8.RuneCountInString(text) > maxText:
		return "", connect.NewError(connect.CodeInvalidArgument, errors.New(field+": a message is at most 4000 characters"))
	}
	return text, nil
}

// maxText is the longest message, in characters.
const maxText = 4000

// subjectOf is a case's subject: the first line of its first message.
func subjectOf(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	if r := []rune(strings.TrimSpace(line)); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return strings.TrimSpace(line)
}

// firstName is how staff are named to citizens.
func firstName(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

var errClosed = connect.NewError(connect.CodeFailedPrecondition, errors.New("the case is closed; open a new case"))
