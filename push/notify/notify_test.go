package notify_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nara-care/nara/internal/clocktest"
	"github.com/nara-care/nara/push/fcm"
	"github.com/nara-care/nara/push/fcmfake"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/push/pushtest"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

func TestMain(m *testing.M) {
	os.Exit(storetest.Run(m))
}

type env struct {
	st   *store.Store
	fake *fcmfake.Server
	svc  *notify.Service
	reg  *prometheus.Registry
}

func setup(t *testing.T, cfg notify.Config) *env {
	t.Helper()
	return setupSender(t, cfg, nil)
}

// setupSender is setup with the sender wrapped by wrap, when not nil.
func setupSender(t *testing.T, cfg notify.Config, wrap func(notify.Sender) notify.Sender) *env {
	t.Helper()
	pool := storetest.NewPool(t)
	st := store.New(pool, store.Options{})
	fake, fcmSender := pushtest.FCM(t)
	var sender notify.Sender = fcmSender
	if wrap != nil {
		sender = wrap(fcmSender)
	}
	reg := prometheus.NewRegistry()
	cfg.PollInterval = 50 * time.Millisecond
	svc, err := notify.New(cfg, notify.Deps{
		Logger: slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})), Store: st, Sender: sender, Registry: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	return &env{st: st, fake: fake, svc: svc, reg: reg}
}

// tx runs fn in a committed transaction, as the caller's booking would.
func (e *env) tx(t *testing.T, fn func(*store.Tx) error) {
	t.Helper()
	if err := e.st.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// settle waits until none of person's notices is pending with its next
// claim before within from now: every send of them has happened, so a test
// can assert what did not. A notice being sent is pending with its lease
// ahead, so within must exceed the lease (15 s) to wait for it too; a
// notice held past within (for quiet hours) may stay pending.
func settle(t *testing.T, e *env, person string, within time.Duration) {
	t.Helper()
	clocktest.Eventually(t, 30*time.Second, "the notices of "+person+" to settle", func() bool {
		var n int
		if err := e.st.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM push_notice WHERE person_id = $1 AND state = 'pending' AND next_at < now() + make_interval(secs => $2)`,
			person, within.Seconds()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

func inbox(t *testing.T, st *store.Store, person string) []store.PushNotice {
	t.Helper()
	ns, err := st.PushInboxList(context.Background(), person, 0, 100, false, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestScheduleRemindersSendsAtEachOffset(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	person := pushtest.Person(t, e.st)
	dev := pushtest.Device(t, e.st, person, "ios")
	if err := e.st.PushPreferencePut(context.Background(), store.PushPreference{
		PersonID: person, Reminders: true, QuietStart: -1, QuietEnd: -1, Language: "en", TimeZone: "Europe/Stockholm",
	}); err != nil {
		t.Fatal(err)
	}
	// River's scheduler starts about two seconds after the client.
	at := time.Now().Add(5 * time.Second)
	e.tx(t, func(tx *store.Tx) error {
		n, err := e.svc.ScheduleReminders(context.Background(), tx, notify.Reminders{
			ReasonID: "appt-1", PersonIDs: []string{person}, At: at, Video: true, Link: "/appointments/appt-1",
			// 24 h is already past and is skipped; the other two fall due within the test.
			Offsets: []time.Duration{24 * time.Hour, 3 * time.Second, 2500 * time.Millisecond},
		})
		if n != 2 {
			t.Errorf("ScheduleReminders scheduled %d notices, want 2", n)
		}
		return err
	})
	if got := e.fake.CountFor(dev.Token); got != 0 {
		t.Fatalf("CountFor = %d before the first reminder is due, want 0", got)
	}
	clocktest.Eventually(t, 10*time.Second, "two reminders", func() bool { return e.fake.CountFor(dev.Token) == 2 })
	m := e.fake.Messages()[0].Message
	wantBody := "You have a video visit today at " + at.In(mustZone(t, "Europe/Stockholm")).Format("15:04") + "."
	if m.Notification.Title != "Reminder" || m.Notification.Body != wantBody {
		t.Errorf("notification = %q / %q, want %q / %q", m.Notification.Title, m.Notification.Body, "Reminder", wantBody)
	}
	if m.Data["link"] != "/appointments/appt-1" || m.Data["id"] != "appt-1" || m.Data["category"] != "reminder" {
		t.Errorf("data = %v, want link, id and category reminder", m.Data)
	}
	if len(inbox(t, e.st, person)) != 2 {
		t.Errorf("inbox has %d notices, want 2", len(inbox(t, e.st, person)))
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestCancelRemindersSendsNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	person := pushtest.Person(t, e.st)
	dev := pushtest.Device(t, e.st, person, "android")
	at := time.Now().Add(4 * time.Second)
	e.tx(t, func(tx *store.Tx) error {
		_, err := e.svc.ScheduleReminders(context.Background(), tx, notify.Reminders{
			ReasonID: "appt-2", PersonIDs: []string{person}, At: at, Offsets: []time.Duration{2 * time.Second},
		})
		return err
	})
	// Move the visit: cancel and schedule anew in one transaction.
	e.tx(t, func(tx *store.Tx) error {
		if err := e.svc.CancelReminders(context.Background(), tx, "appt-2"); err != nil {
			return err
		}
		_, err := e.svc.ScheduleReminders(context.Background(), tx, notify.Reminders{
			ReasonID: "appt-2", PersonIDs: []string{person}, At: at.Add(time.Second), Offsets: []time.Duration{2 * time.Second},
		})
		return err
	})
	clocktest.Eventually(t, 10*time.Second, "the moved reminder", func() bool {
		ns := inbox(t, e.st, person)
		return e.fake.CountFor(dev.Token) == 1 && len(ns) == 1 && ns[0].State == "sent"
	})
	e.tx(t, func(tx *store.Tx) error { return e.svc.CancelReminders(context.Background(), tx, "appt-2") })
	settle(t, e, person, time.Hour)
	if got := e.fake.CountFor(dev.Token); got != 1 {
		t.Errorf("CountFor = %d, want 1: the first reminder was moved and sent once", got)
	}
	if got := len(inbox(t, e.st, person)); got != 1 {
		t.Errorf("inbox has %d notices, want 1 (cancelled ones are not shown)", got)
	}
}

func TestNotifyWithoutDevicesFillsInbox(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	person := pushtest.Person(t, e.st)
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(context.Background(), tx, notify.Notice{Kind: notify.KindMessage, PersonIDs: []string{person}, ReasonID: "thread-1", Link: "/messages/thread-1"})
	})
	clocktest.Eventually(t, 10*time.Second, "the notice to be finished", func() bool {
		ns := inbox(t, e.st, person)
		return len(ns) == 1 && ns[0].State == "sent"
	})
	if e.fake.Count() != 0 {
		t.Errorf("fake got %d messages, want none", e.fake.Count())
	}
}

func TestNotifyFansOutInBatches(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{BatchSize: 2})
	var tokens []string
	var people []string
	for range 5 {
		p := pushtest.Person(t, e.st)
		people = append(people, p)
		tokens = append(tokens, pushtest.Device(t, e.st, p, "android").Token)
	}
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(context.Background(), tx, notify.Notice{Kind: notify.KindOffer, PersonIDs: people, ReasonID: "offer-9", Link: "/offers/offer-9", RefID: "offer-9"})
	})
	clocktest.Eventually(t, 10*time.Second, "every recipient", func() bool { return e.fake.Count() == 5 })
	threads := map[string]bool{}
	for _, m := range e.fake.Messages() {
		threads[m.Message.Android.CollapseKey] = true
		if m.Message.Notification.Title != "En tid erbjuds" {
			t.Errorf("title = %q, want the Swedish default", m.Message.Notification.Title)
		}
	}
	if len(threads) != 1 {
		t.Errorf("collapse keys = %v, want one shared by the fan-out", threads)
	}
	for _, tok := range tokens {
		if e.fake.CountFor(tok) != 1 {
			t.Errorf("CountFor(%s) = %d, want 1", tok, e.fake.CountFor(tok))
		}
	}
}

func TestFCMAnswers(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	person := pushtest.Person(t, e.st)
	dead := pushtest.Device(t, e.st, person, "android")
	quota := pushtest.Device(t, e.st, person, "ios")
	invalid := pushtest.Device(t, e.st, person, "web")
	e.fake.MarkDead(dead.Token)
	e.fake.FailNext(quota.Token, fcmfake.QuotaExceeded, 1, time.Second)
	e.fake.FailNext(invalid.Token, fcmfake.InvalidArgument, 1, 0)
	start := time.Now()
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(context.Background(), tx, notify.Notice{Kind: notify.KindCallIn, PersonIDs: []string{person}, ReasonID: "visit-3", Link: "/visits/visit-3"})
	})
	clocktest.Eventually(t, 10*time.Second, "the quota-limited device after Retry-After", func() bool { return e.fake.CountFor(quota.Token) == 1 })
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %v, want at least the Retry-After of 1 s", waited)
	}
	devs, err := e.st.PushDeviceList(context.Background(), person)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.ID == dead.ID {
			t.Errorf("device with an UNREGISTERED token still listed")
		}
	}
	if len(devs) != 2 {
		t.Errorf("%d devices left, want 2", len(devs))
	}
	settle(t, e, person, time.Hour)
	if n := e.fake.CountFor(invalid.Token); n != 0 {
		t.Errorf("INVALID_ARGUMENT device got %d messages, want 0 (permanent, not retried)", n)
	}
	for _, c := range []struct {
		outcome, reason string
		want            float64
	}{
		{"permanent", "INVALID_ARGUMENT", 1},
		{"token_gone", "UNREGISTERED", 1},
		{"retry", "QUOTA_EXCEEDED", 1},
		{"delivered", "", 1},
	} {
		if got := counter(t, e.reg, "nara_push_sends_total", c.outcome, c.reason); got != c.want {
			t.Errorf("nara_push_sends_total{outcome=%q,reason=%q} = %v, want %v", c.outcome, c.reason, got, c.want)
		}
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name, outcome, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["outcome"] == outcome && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestPreferencesAndQuietHours(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	optedOut := pushtest.Person(t, e.st)
	quiet := pushtest.Person(t, e.st)
	outDev := pushtest.Device(t, e.st, optedOut, "android")
	quietDev := pushtest.Device(t, e.st, quiet, "ios")
	if err := e.st.PushPreferencePut(context.Background(), store.PushPreference{
		PersonID: optedOut, Reminders: true, Messages: false, Offers: true, QuietStart: -1, QuietEnd: -1, Language: "sv",
	}); err != nil {
		t.Fatal(err)
	}
	// Quiet all day but the minute before midnight, in UTC.
	now := time.Now().UTC()
	start := 0
	end := 23*60 + 59
	if now.Hour()*60+now.Minute() >= end {
		start, end = 23*60+59, 23*60+58
	}
	if err := e.st.PushPreferencePut(context.Background(), store.PushPreference{
		PersonID: quiet, Reminders: true, Messages: true, Offers: true, QuietStart: start, QuietEnd: end, Language: "sv", TimeZone: "UTC",
	}); err != nil {
		t.Fatal(err)
	}
	e.tx(t, func(tx *store.Tx) error {
		ctx := context.Background()
		if err := e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindMessage, PersonIDs: []string{optedOut, quiet}, ReasonID: "t-1"}); err != nil {
			return err
		}
		return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindCallIn, PersonIDs: []string{quiet}, ReasonID: "v-1"})
	})
	clocktest.Eventually(t, 10*time.Second, "the call-in despite quiet hours", func() bool { return e.fake.CountFor(quietDev.Token) == 1 })
	settle(t, e, optedOut, time.Hour)
	// The message held for quiet hours stays pending past the lease.
	settle(t, e, quiet, 20*time.Second)
	if got := e.fake.Messages()[0].Message.Data["category"]; got != "call_in" || e.fake.CountFor(quietDev.Token) != 1 {
		t.Errorf("quiet person got %d messages, first %q; want only the call-in", e.fake.CountFor(quietDev.Token), got)
	}
	if n := e.fake.CountFor(outDev.Token); n != 0 {
		t.Errorf("opted-out person got %d messages, want 0", n)
	}
	ns := inbox(t, e.st, optedOut)
	if len(ns) != 1 || ns[0].State != "skipped" {
		t.Errorf("opted-out inbox = %v, want the message, skipped", ns)
	}
	if got := len(inbox(t, e.st, quiet)); got != 2 {
		t.Errorf("quiet person's inbox has %d notices, want 2 (the held message too)", got)
	}
}

// TestTextNamesTheYear: a time in another year than now says which.
func TestTextNamesTheYear(t *testing.T) {
	t.Parallel()
	loc := mustZone(t, "Europe/Stockholm")
	december := time.Date(2026, 12, 2, 9, 0, 0, 0, loc)
	tests := []struct {
		kind     notify.Kind
		lang, at string
		now      time.Time
		want     string
	}{
		{notify.KindMoved, "sv", "2027-01-15T09:00:00Z", december, "Ny tid: den 15 januari 2027 kl. 10:00."},
		{notify.KindMoved, "en", "2027-01-15T09:00:00Z", december, "New time: on 15 January 2027 at 10:00."},
		{notify.KindReminder, "sv", "2028-06-01T07:00:00Z", december, "Du har en bokad tid den 1 juni 2028 kl. 09:00."},
		{notify.KindMoved, "sv", "2026-12-20T09:00:00Z", december, "Ny tid: den 20 december kl. 10:00."},
		// New Year's Day is tomorrow, whatever the year.
		{notify.KindMoved, "en", "2027-01-01T09:00:00Z", time.Date(2026, 12, 31, 9, 0, 0, 0, loc), "New time: tomorrow at 10:00."},
	}
	for _, tt := range tests {
		_, body := notify.Text(tt.kind, []byte(`{"at":"`+tt.at+`"}`), tt.lang, loc, tt.now)
		if body != tt.want {
			t.Errorf("Text(%s, %s, %s) got %q, want %q", tt.kind, tt.lang, tt.at, body, tt.want)
		}
	}
}

func TestTextHasNoHealthInformation(t *testing.T) {
	t.Parallel()
	loc := mustZone(t, "Europe/Stockholm")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	at := `{"at":"2026-03-03T13:30:00Z","video":true}`
	tests := []struct {
		kind        notify.Kind
		lang        string
		title, body string
	}{
		{notify.KindReminder, "sv", "Påminnelse", "Du har ett videobesök i morgon kl. 14:30."},
		{notify.KindReminder, "en", "Reminder", "You have a video visit tomorrow at 14:30."},
		{notify.KindDelay, "sv", "Ditt besök blir försenat", "Beräknad start kl. 14:30."},
		{notify.KindCallIn, "en", "It's time for your video visit", "Tap to join."},
		{notify.KindMessage, "sv", "Nytt meddelande", "Du har ett nytt meddelande i Nära."},
		{notify.KindOffer, "en", "An appointment is offered", "Open the app to see the offer."},
		{notify.KindMoved, "sv", "Din tid har flyttats", "Ny tid: i morgon kl. 14:30."},
		{notify.KindCancelled, "en", "Your appointment was cancelled", "The care unit cancelled it. Open the app to book a new time."},
		{notify.KindSupportReply, "sv", "Supporten", "Du har ett nytt svar från supporten"},
		{notify.KindSupportReply, "en", "Support", "You have a new reply from support"},
	}
	for _, tt := range tests {
		title, body := notify.Text(tt.kind, []byte(at), tt.lang, loc, now)
		if title != tt.title || body != tt.body {
			t.Errorf("Text(%s, %s) got %q / %q, want %q / %q", tt.kind, tt.lang, title, body, tt.title, tt.body)
		}
	}
	_, later := notify.Text(notify.KindReminder, []byte(`{"at":"2026-03-10T07:05:00Z"}`), "sv", loc, now)
	if later != "Du har en bokad tid den 10 mars kl. 08:05." {
		t.Errorf("Text(reminder a week ahead) = %q", later)
	}
	if strings.Contains(later, "{") {
		t.Errorf("placeholder left in %q", later)
	}
}

func TestQuietHoursUntil(t *testing.T) {
	t.Parallel()
	day := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	tests := []struct {
		q    notify.QuietHours
		at   time.Time
		want time.Time
	}{
		{notify.QuietHours{-1, -1}, day(23, 0), time.Time{}},
		{notify.QuietHours{22 * 60, 7 * 60}, day(23, 0), time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC)},
		{notify.QuietHours{22 * 60, 7 * 60}, day(6, 59), day(7, 0)},
		{notify.QuietHours{22 * 60, 7 * 60}, day(7, 0), time.Time{}},
		{notify.QuietHours{12 * 60, 13 * 60}, day(12, 30), day(13, 0)},
		{notify.QuietHours{12 * 60, 13 * 60}, day(13, 30), time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.q.Until(tt.at); !got.Equal(tt.want) {
			t.Errorf("%v.Until(%v) got %v, want %v", tt.q, tt.at, got, tt.want)
		}
	}
}

var logOut io.Writer = io.Discard

// multicasts counts the tokens of each SendEach.
type multicasts struct {
	notify.Sender
	mu    sync.Mutex
	sizes []int
	sends int
}

func (m *multicasts) Send(ctx context.Context, token string, n fcm.Notice) (fcm.Outcome, error) {
	m.mu.Lock()
	m.sends++
	m.mu.Unlock()
	return m.Sender.Send(ctx, token, n)
}

func (m *multicasts) SendEach(ctx context.Context, tokens, noticeIDs []string, n fcm.Notice) ([]fcm.Outcome, error) {
	m.mu.Lock()
	m.sizes = append(m.sizes, len(tokens))
	m.mu.Unlock()
	return m.Sender.SendEach(ctx, tokens, noticeIDs, n)
}

// TestOfferFansOutIn500TokenMulticasts sends one offer to 501 people: one
// multicast of FCM's 500 tokens and one single send.
func TestOfferFansOutIn500TokenMulticasts(t *testing.T) {
	t.Parallel()
	mc := &multicasts{}
	e := setupSender(t, notify.Config{}, func(s notify.Sender) notify.Sender { mc.Sender = s; return mc })
	ctx := context.Background()
	people := make([]string, 501)
	for i := range people {
		people[i] = pushtest.Person(t, e.st)
		pushtest.Device(t, e.st, people[i], "android")
	}
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindOffer, PersonIDs: people, ReasonID: "offer-500", Link: "/offers/offer-500", RefID: "offer-500"})
	})
	clocktest.Eventually(t, 10*time.Second, "every recipient", func() bool { return e.fake.Count() == 501 })
	mc.mu.Lock()
	defer mc.mu.Unlock()
	total, biggest := mc.sends, 0
	for _, n := range mc.sizes {
		total += n
		biggest = max(biggest, n)
	}
	if total != 501 || biggest != fcm.MaxMulticast {
		t.Errorf("multicasts %v and %d single sends: %d tokens, biggest %d; want 501 tokens, a multicast of %d", mc.sizes, mc.sends, total, biggest, fcm.MaxMulticast)
	}
	if e.fake.Distinct() != 501 {
		t.Errorf("Distinct() = %d, want 501", e.fake.Distinct())
	}
}

// TestReminderPastItsVisitExpires finds a reminder whose visit has begun
// (as after an outage) and marks it expired instead of sending it late.
func TestReminderPastItsVisitExpires(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	ctx := context.Background()
	person := pushtest.Person(t, e.st)
	dev := pushtest.Device(t, e.st, person, "ios")
	at := time.Now().Add(3 * time.Second)
	e.tx(t, func(tx *store.Tx) error {
		_, err := e.svc.ScheduleReminders(ctx, tx, notify.Reminders{ReasonID: "late-1", PersonIDs: []string{person}, At: at, Offsets: []time.Duration{time.Second}})
		if err != nil {
			return err
		}
		// Hold it back until the visit has begun, as a long outage would.
		_, err = tx.Exec(ctx, `UPDATE push_notice SET next_at = $2 WHERE reason_id = $1`, "late-1", at.Add(time.Second))
		return err
	})
	clocktest.Eventually(t, 10*time.Second, "the reminder expired", func() bool {
		ns := inbox(t, e.st, person)
		return len(ns) == 1 && ns[0].State == "expired"
	})
	if n := e.fake.CountFor(dev.Token); n != 0 {
		t.Errorf("CountFor = %d, want 0: a reminder after its visit began is not sent", n)
	}
}
