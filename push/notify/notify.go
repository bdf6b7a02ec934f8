// Package notify turns Nära's reasons to notify someone — a booked visit, a
// delay, a call-in, a message, an offer — into inbox entries and push
// notifications, through a durable queue on the same PostgreSQL.
//
// Callers enqueue in the transaction that creates the reason
// (ScheduleReminders, CancelReminders, Notify take the caller's *store.Tx), so a
// notice exists exactly when its reason does. The notice table is the queue:
// each replica's dispatcher claims due notices from it in leased batches and
// sends through FCM with at-least-once delivery; a (notice, device) pair FCM
// has answered is recorded and never sent again, and each push carries a
// collapse id derived from the notice's visit and kind, so that a send
// repeated after a crash replaces the notification on the device instead of
// showing it twice, and a newer notice about the same visit replaces an older.
//
// Every push carries its inbox entry's id as data "notice_id" (APNs: custom
// key "notice_id"), for the app to mark it read with
// NotificationService.MarkNotificationsRead when the user taps it.
package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nara-care/nara/jobs"
	"github.com/nara-care/nara/push/fcm"
	"github.com/nara-care/nara/store"
)

// Queue is the River queue push jobs run in. Notices no longer get jobs of
// their own; the queue's worker stays to finish jobs enqueued before that.
const Queue = "push"

// Sender sends notices to device tokens; *fcm.Sender is the real one.
type Sender interface {
	Send(ctx context.Context, token string, n fcm.Notice) (fcm.Outcome, error)
	// SendEach sends n to up to fcm.MaxMulticast tokens, token i's message
	// naming noticeIDs[i] as its inbox entry.
	SendEach(ctx context.Context, tokens, noticeIDs []string, n fcm.Notice) ([]fcm.Outcome, error)
}

// Config tunes scheduling and dispatch. The zero value is ready to use.
type Config struct {
	// ReminderOffsets are how long before a visit its reminders go out.
	// Default 24 h and 1 h.
	ReminderOffsets []time.Duration
	// VideoReminderOffsets are the same for video visits. Default 24 h, 1 h
	// and 10 min.
	VideoReminderOffsets []time.Duration
	// BatchSize is the most notices one claim takes (fan-out unit). Default
	// and maximum fcm.MaxMulticast (500).
	BatchSize int
	// MaxWorkers is how many push jobs one process works at once. Default 4.
	MaxWorkers int
	// SendConcurrency is how many FCM calls one process keeps in flight (a
	// multicast counts once; the Firebase SDK sends its tokens 50 at a
	// time). Default 64.
	SendConcurrency int
	// Lease is how long a claimed notice stays with its claimant; a process
	// renews the lease of what it still holds, and a crashed one's notices
	// are claimed again once their lease runs out. Default 15 s.
	Lease time.Duration
	// FlushInterval is how often FCM's answers are recorded, in one
	// transaction. It bounds, with SendConcurrency, what a crash can make the
	// queue send twice. Default 10 ms.
	FlushInterval time.Duration
	// MaxAttempts is how many claims a notice FCM keeps asking to retry gets
	// before it is marked failed. Default 12.
	MaxAttempts int
	// DefaultTimeZone is the zone of people whose preferences and devices name
	// none. Default Europe/Stockholm.
	DefaultTimeZone string
	// PollInterval is how often the sweep looks for due notices. Default
	// 100 ms.
	PollInterval time.Duration
	// MessageLifetime is how long a notice with no time of its own (a new
	// message) stays worth delivering. Default 3 days.
	MessageLifetime time.Duration
	// HoldRetry is how often notices held back by FCM's
	// THIRD_PARTY_AUTH_ERROR (the project's APNs or Web Push credentials are
	// broken) are tried again. They are held, never failed, until they
	// expire. Default 1 min.
	HoldRetry time.Duration
	// BurstQuiet is how long FCM must stop asking to retry before a burst of
	// retries is over: one log line starts a burst, one ends it. Default 10 s.
	BurstQuiet time.Duration
}

func (c *Config) setDefaults() {
	if len(c.ReminderOffsets) == 0 {
		c.ReminderOffsets = []time.Duration{24 * time.Hour, time.Hour}
	}
	if len(c.VideoReminderOffsets) == 0 {
		c.VideoReminderOffsets = []time.Duration{24 * time.Hour, time.Hour, 10 * time.Minute}
	}
	if c.BatchSize <= 0 || c.BatchSize > fcm.MaxMulticast {
		c.BatchSize = fcm.MaxMulticast
	}
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = 4
	}
	if c.SendConcurrency <= 0 {
		c.SendConcurrency = 64
	}
	if c.Lease <= 0 {
		c.Lease = 15 * time.Second
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 10 * time.Millisecond
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.DefaultTimeZone == "" {
		c.DefaultTimeZone = "Europe/Stockholm"
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.MessageLifetime <= 0 {
		c.MessageLifetime = 72 * time.Hour
	}
	if c.HoldRetry <= 0 {
		c.HoldRetry = time.Minute
	}
	if c.BurstQuiet <= 0 {
		c.BurstQuiet = 10 * time.Second
	}
}

// Deps are the Service's collaborators. All are required but Registry and Now.
type Deps struct {
	Logger *slog.Logger
	Store  *store.Store
	// Jobs receives the push queue and its worker, which finishes jobs
	// older releases enqueued; nil leaves them out (tests).
	Jobs   *jobs.Registry
	Sender Sender
	// Registry receives the push metrics; nil keeps them unregistered.
	Registry prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service schedules notices and, once started, sends them.
type Service struct {
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	sender  Sender
	now     func() time.Time
	zone    *time.Location
	zones   sync.Map // name → *time.Location
	d       *dispatcher
	metrics *metrics
	bursts  bursts
}

// New builds the Service. It sends nothing until Start.
func New(cfg Config, d Deps) (*Service, error) {
	cfg.setDefaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	zone, err := time.LoadLocation(cfg.DefaultTimeZone)
	if err != nil {
		return nil, fmt.Errorf("notify: default time zone: %w", err)
	}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: d.Logger, store: d.Store, sender: d.Sender, now: d.Now, zone: zone, metrics: m}
	s.d = newDispatcher(s)
	if d.Jobs != nil {
		d.Jobs.Queue(Queue, cfg.MaxWorkers)
		if err := jobs.Worker(d.Jobs, &sendWorker{s: s}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start sends due notices and works push jobs until Stop or until ctx is
// done.
func (s *Service) Start(ctx context.Context) error {
	s.d.start(ctx)
	return nil
}

// Stop stops claiming and sending, records FCM's answers so far and gives
// back the notices not yet sent.
func (s *Service) Stop(context.Context) error {
	s.d.stopAndWait()
	return nil
}

// Reminders asks for the reminders of one visit.
type Reminders struct {
	// ReasonID identifies the visit (the appointment id); CancelReminders
	// takes the same. Required.
	ReasonID string
	// PersonIDs are who is reminded: the patient, and guardians for a child.
	PersonIDs []string
	// Patient is whose visit it is. The others in PersonIDs are told it is
	// their child's ("Ditt barn har …"), never by name. Default: everyone is
	// told it is their own.
	Patient string
	// At is when the visit starts.
	At time.Time
	// Video marks a video visit, which gets VideoReminderOffsets.
	Video bool
	// Link is the app path a tap opens, such as "/appointments/ID".
	Link string
	// RefID is the id the app fetches details with. Default ReasonID.
	RefID string
	// Offsets overrides the configured offsets for this visit.
	Offsets []time.Duration
}

// ScheduleReminders stores reminder notices for visits in tx, the transaction
// that books them. Offsets already past are skipped. Each reminder stays worth
// sending until its visit starts (or, after a delay report, is expected to);
// the last one before a video visit, within 15 minutes of it, goes at high
// priority. It returns how many notices it scheduled.
func (s *Service) ScheduleReminders(ctx context.Context, tx *store.Tx, visits ...Reminders) (int, error) {
	now := s.now()
	var ns []store.PushNotice
	for _, v := range visits {
		if v.ReasonID == "" || v.At.IsZero() {
			return 0, errors.New("notify: reminders need a ReasonID and a time")
		}
		offsets := v.Offsets
		if len(offsets) == 0 {
			offsets = s.cfg.ReminderOffsets
			if v.Video {
				offsets = s.cfg.VideoReminderOffsets
			}
		}
		raw, err := json.Marshal(params{At: v.At.UTC(), Video: v.Video})
		if err != nil {
			return 0, err
		}
		child, err := json.Marshal(params{At: v.At.UTC(), Video: v.Video, Child: true})
		if err != nil {
			return 0, err
		}
		ref := v.RefID
		if ref == "" {
			ref = v.ReasonID
		}
		for _, off := range offsets {
			due := v.At.Add(-off)
			if due.Before(now) {
				continue
			}
			for _, p := range v.PersonIDs {
				ns = append(ns, store.PushNotice{
					PersonID: p, Kind: string(KindReminder), ReasonID: v.ReasonID, Params: pick(raw, child, v.Patient != "" && p != v.Patient),
					Link: v.Link, RefID: ref, DueAt: due, ExpiresAt: v.At,
				})
			}
		}
	}
	return len(ns), s.enqueue(ctx, tx, ns)
}

// CancelReminders cancels the pending reminders of a visit in tx, the
// transaction that cancels or moves it; to move a visit, cancel and then
// ScheduleReminders anew in the same transaction. It is idempotent.
func (s *Service) CancelReminders(ctx context.Context, tx *store.Tx, reasonID string) error {
	_, err := store.PushNoticesCancelTx(ctx, tx, reasonID, string(KindReminder))
	return err
}

// Notice asks for one immediate notice to one or more people.
type Notice struct {
	// Kind is any Kind but KindReminder. Required.
	Kind Kind
	// PersonIDs are the recipients; each gets an inbox entry. Required.
	PersonIDs []string
	// Patient is whose visit the notice is about; the other recipients are
	// told it is their child's. Default: everyone is told it is their own.
	Patient string
	// ReasonID identifies what the notice is about (visit, thread, offer).
	ReasonID string
	// Link is the app path a tap opens; RefID the id it fetches details with.
	Link, RefID string
	// At is the visit's time: the new start (KindMoved), the offered or
	// cancelled start, the expected start (KindDelay).
	At time.Time
	// Expires is when the notice stops being worth sending; FCM drops it
	// after that too. Default: ten minutes for a call-in, At for the others
	// (a visit that has begun needs no notice), MessageLifetime without At.
	Expires time.Time
}

// Notify stores n for each recipient in tx, the transaction that creates its
// reason. It is sent at once; people without devices get only the inbox
// entry. A delay also makes the visit's reminders still to come say the
// expected start.
func (s *Service) Notify(ctx context.Context, tx *store.Tx, n Notice) error {
	if !n.Kind.valid() || n.Kind == KindReminder {
		return fmt.Errorf("notify: Notify cannot send kind %q", n.Kind)
	}
	now := s.now()
	expires := n.Expires
	switch {
	case !expires.IsZero():
	case n.Kind == KindCallIn:
		expires = now.Add(10 * time.Minute)
	case !n.At.IsZero() && n.Kind != KindMessage:
		expires = n.At
	default:
		expires = now.Add(s.cfg.MessageLifetime)
	}
	raw, err := json.Marshal(params{At: n.At.UTC()})
	if err != nil {
		return err
	}
	child, err := json.Marshal(params{At: n.At.UTC(), Child: true})
	if err != nil {
		return err
	}
	ns := make([]store.PushNotice, 0, len(n.PersonIDs))
	for _, p := range n.PersonIDs {
		ns = append(ns, store.PushNotice{
			PersonID: p, Kind: string(n.Kind), ReasonID: n.ReasonID, Params: pick(raw, child, n.Patient != "" && p != n.Patient),
			Link: n.Link, RefID: n.RefID, DueAt: now, ExpiresAt: expires,
		})
	}
	if n.Kind == KindDelay && n.ReasonID != "" && !n.At.IsZero() {
		// The visit's reminders still to come say when it is now expected.
		if err := store.PushRemindersExpectTx(ctx, tx, n.ReasonID, n.At); err != nil {
			return fmt.Errorf("notify: expected start: %w", err)
		}
	}
	return s.enqueue(ctx, tx, ns)
}

// pick is child when forChild, else own.
func pick(own, child []byte, forChild bool) []byte {
	if forChild {
		return child
	}
	return own
}

// enqueue stores ns in tx. The notice table is the queue: the dispatchers'
// sweeps claim due notices in leased batches of BatchSize, so a booking adds
// no job of its own (a River job per booking was drained one by one, long
// after its notices had been sent).
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, ns []store.PushNotice) error {
	if len(ns) == 0 {
		return nil
	}
	if _, err := store.PushNoticesInsertTx(ctx, tx, ns); err != nil {
		return fmt.Errorf("notify: store notices: %w", err)
	}
	return nil
}

// thread is the collapse id (APNs collapse id and thread, Android tag and
// collapse key, Web Push tag) of a notice: the same for every send of it, so
// a repeated send replaces the notification rather than adding one, and the
// same for every notice of its reason and kind family (Kind.family), so that
// the newest about a visit's time (a second delay, a move after a reminder)
// replaces the older instead of showing beside it.
func thread(n store.PushNotice) string {
	if n.ReasonID == "" {
		return "n-" + store.FormatID(n.ID)
	}
	family := Kind(n.Kind).family()
	sum := sha256.Sum256([]byte(family + "\x00" + n.ReasonID))
	return family + "-" + hex.EncodeToString(sum[:12])
}

// Describe and Collect make the Service a prometheus.Collector of its
// nara_push_* metrics, for a registry made after the Service.
func (s *Service) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range s.metrics.all() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (s *Service) Collect(ch chan<- prometheus.Metric) {
	for _, c := range s.metrics.all() {
		c.Collect(ch)
	}
}

type metrics struct {
	sends    *prometheus.CounterVec
	notices  *prometheus.CounterVec
	lateness prometheus.Histogram
	// credentials is 1 for a platform while FCM refuses the project's
	// credentials for it (THIRD_PARTY_AUTH_ERROR): alert on it.
	credentials *prometheus.GaugeVec
}

func (m *metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.sends, m.notices, m.lateness, m.credentials}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nara_push_sends_total",
			Help: "Pushes to one device by FCM's answer: delivered, token_gone, retry, permanent (reason: FCM error code).",
		}, []string{"outcome", "reason"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nara_push_notices_total",
			Help: "Notices finished, by kind and result: sent, skipped (opted out), expired, failed (no device took it).",
		}, []string{"kind", "result"}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "nara_push_lateness_seconds",
			Help:    "How long after its due time a notice's first send began.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300},
		}),
		credentials: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "nara_push_credentials_failing",
			Help: "1 while FCM refuses the Firebase project's APNs or Web Push credentials (THIRD_PARTY_AUTH_ERROR) for a platform; its notices are held until they work.",
		}, []string{"platform"}),
	}
	if reg != nil {
		for _, c := range m.all() {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("notify: register metrics: %w", err)
			}
		}
	}
	return m, nil
}
