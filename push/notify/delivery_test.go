package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nara-care/nara/internal/clocktest"
	"github.com/nara-care/nara/push/fcmfake"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/push/pushtest"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// logBuffer collects a Service's log lines for a test to count.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count is how many lines contain s.
func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// setupLogged is setup with the Service's log lines kept in the returned
// buffer.
func setupLogged(t *testing.T, cfg notify.Config) (*env, *logBuffer) {
	t.Helper()
	pool := storetest.NewPool(t)
	st := store.New(pool, store.Options{})
	fake, sender := pushtest.FCM(t)
	reg := prometheus.NewRegistry()
	logs := &logBuffer{}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	svc, err := notify.New(cfg, notify.Deps{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Store: st, Sender: sender, Registry: reg,
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
	return &env{st: st, fake: fake, svc: svc, reg: reg}, logs
}

// sentTo returns the messages the fake accepted for token, oldest first.
func sentTo(e *env, token string) []fcmfake.Message {
	var ms []fcmfake.Message
	for _, s := range e.fake.Messages() {
		if s.Message.Token == token {
			ms = append(ms, s.Message)
		}
	}
	return ms
}

func state(t *testing.T, e *env, person string) string {
	t.Helper()
	ns := inbox(t, e.st, person)
	if len(ns) != 1 {
		return ""
	}
	return ns[0].State
}

func gauge(t *testing.T, reg *prometheus.Registry, name, platform string) float64 {
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
			for _, l := range m.GetLabel() {
				if l.GetName() == "platform" && l.GetValue() == platform {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// TestEveryKindHasALifetime sends each kind of notice and checks that FCM is
// told to drop it once it is worthless: an offer at the offered time, a move
// or cancellation at the visit, a delay at the expected start, a call-in
// after ten minutes, a message after MessageLifetime. The Android ttl, the
// apns-expiration and the Web Push TTL all say the same.
func TestEveryKindHasALifetime(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{MessageLifetime: 48 * time.Hour})
	ctx := context.Background()
	visit := time.Now().Add(14 * time.Minute)
	tests := []struct {
		kind     notify.Kind
		at       time.Time
		lifetime time.Duration // from now
	}{
		{notify.KindOffer, visit, 14 * time.Minute},
		{notify.KindMoved, visit, 14 * time.Minute},
		{notify.KindCancelled, visit, 14 * time.Minute},
		{notify.KindDelay, visit, 14 * time.Minute},
		{notify.KindCallIn, time.Time{}, 10 * time.Minute},
		{notify.KindMessage, time.Time{}, 48 * time.Hour},
	}
	for _, tt := range tests {
		person := pushtest.Person(t, e.st)
		android := pushtest.Device(t, e.st, person, "android")
		ios := pushtest.Device(t, e.st, person, "ios")
		web := pushtest.Device(t, e.st, person, "web")
		start := time.Now()
		e.tx(t, func(tx *store.Tx) error {
			return e.svc.Notify(ctx, tx, notify.Notice{Kind: tt.kind, PersonIDs: []string{person}, ReasonID: "life-" + string(tt.kind), Link: "/appointments/x", At: tt.at})
		})
		clocktest.Eventually(t, 10*time.Second, string(tt.kind)+" on three devices", func() bool {
			return e.fake.CountFor(android.Token) == 1 && e.fake.CountFor(ios.Token) == 1 && e.fake.CountFor(web.Token) == 1
		})
		want := start.Add(tt.lifetime)
		near := func(what string, got time.Time) {
			t.Helper()
			if d := got.Sub(want); d < -5*time.Second || d > 5*time.Second {
				t.Errorf("%s: %s ends at %v, want about %v", tt.kind, what, got.Format(time.TimeOnly), want.Format(time.TimeOnly))
			}
		}
		a := sentTo(e, android.Token)[0]
		ttl, err := time.ParseDuration(a.Android.TTL)
		if err != nil {
			t.Errorf("%s: android ttl %q: %v", tt.kind, a.Android.TTL, err)
		}
		near("android ttl", start.Add(ttl))
		i := sentTo(e, ios.Token)[0]
		exp, err := strconv.ParseInt(i.APNS.Headers["apns-expiration"], 10, 64)
		if err != nil {
			t.Errorf("%s: apns-expiration %q: %v", tt.kind, i.APNS.Headers["apns-expiration"], err)
		}
		near("apns-expiration", time.Unix(exp, 0))
		w := sentTo(e, web.Token)[0]
		secs, err := strconv.ParseInt(w.Webpush.Headers["TTL"], 10, 64)
		if err != nil {
			t.Errorf("%s: Web Push TTL %q: %v", tt.kind, w.Webpush.Headers["TTL"], err)
		}
		near("Web Push TTL", start.Add(time.Duration(secs)*time.Second))
	}
}

// TestNoticeNoDeviceTookIsFailed checks the notice's final state: failed
// when its only device refused it for good or its token is gone, sent when
// at least one device took it.
func TestNoticeNoDeviceTookIsFailed(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	ctx := context.Background()
	refused := pushtest.Person(t, e.st)
	e.fake.FailNext(pushtest.Device(t, e.st, refused, "android").Token, fcmfake.InvalidArgument, 1, 0)
	gone := pushtest.Person(t, e.st)
	e.fake.MarkDead(pushtest.Device(t, e.st, gone, "ios").Token)
	mixed := pushtest.Person(t, e.st)
	e.fake.FailNext(pushtest.Device(t, e.st, mixed, "android").Token, fcmfake.InvalidArgument, 1, 0)
	pushtest.Device(t, e.st, mixed, "ios")
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindMessage, PersonIDs: []string{refused, gone, mixed}, ReasonID: "thread-f"})
	})
	for _, c := range []struct{ who, person, want string }{
		{"only device refused it", refused, "failed"},
		{"only device's token gone", gone, "failed"},
		{"one of two devices took it", mixed, "sent"},
	} {
		clocktest.Eventually(t, 10*time.Second, c.who, func() bool { return state(t, e, c.person) != "pending" })
		if got := state(t, e, c.person); got != c.want {
			t.Errorf("%s: notice %q, want %q", c.who, got, c.want)
		}
	}
}

// TestSenderIDMismatchRemovesDevice checks that a token of another Firebase
// project is deleted like an UNREGISTERED one, so later notices do not fail
// on it again.
func TestSenderIDMismatchRemovesDevice(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	ctx := context.Background()
	person := pushtest.Person(t, e.st)
	dev := pushtest.Device(t, e.st, person, "android")
	e.fake.FailNext(dev.Token, fcmfake.SenderIDMismatch, 1, 0)
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindMessage, PersonIDs: []string{person}, ReasonID: "thread-s"})
	})
	clocktest.Eventually(t, 10*time.Second, "the device removed", func() bool {
		ds, err := e.st.PushDeviceList(ctx, person)
		return err == nil && len(ds) == 0
	})
	if got := counter(t, e.reg, "nara_push_sends_total", "token_gone", "SENDER_ID_MISMATCH"); got != 1 {
		t.Errorf("nara_push_sends_total{outcome=token_gone,reason=SENDER_ID_MISMATCH} = %v, want 1", got)
	}
}

// TestBrokenCredentialsHoldNotices breaks the project's APNs key
// (THIRD_PARTY_AUTH_ERROR on every send): notices stay pending past
// MaxAttempts instead of failing, one error line and a gauge raise the
// alarm, and once the key works they are sent and the gauge drops.
func TestBrokenCredentialsHoldNotices(t *testing.T) {
	t.Parallel()
	e, logs := setupLogged(t, notify.Config{HoldRetry: 100 * time.Millisecond, MaxAttempts: 2})
	ctx := context.Background()
	var people []string
	var tokens []string
	for range 3 {
		p := pushtest.Person(t, e.st)
		people = append(people, p)
		tokens = append(tokens, pushtest.Device(t, e.st, p, "ios").Token)
	}
	e.fake.FailAll(fcmfake.ThirdPartyAuthError, 0, 0)
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindMessage, PersonIDs: people, ReasonID: "thread-h"})
	})
	clocktest.Eventually(t, 10*time.Second, "several refused attempts", func() bool { return e.fake.Rejected() >= 12 })
	for _, p := range people {
		if got := state(t, e, p); got != "pending" {
			t.Errorf("held notice is %q after %d refusals, want pending", got, e.fake.Rejected())
		}
	}
	if got := gauge(t, e.reg, "nara_push_credentials_failing", "ios"); got != 1 {
		t.Errorf("nara_push_credentials_failing{platform=ios} = %v while refused, want 1", got)
	}
	if n := logs.count("level=ERROR msg=\"push: FCM refuses the Firebase project's APNs or Web Push credentials"); n != 1 {
		t.Errorf("%d error lines for the broken credentials, want 1", n)
	}
	e.fake.Recover()
	clocktest.Eventually(t, 10*time.Second, "the held notices sent", func() bool {
		for _, tok := range tokens {
			if e.fake.CountFor(tok) != 1 {
				return false
			}
		}
		return true
	})
	clocktest.Eventually(t, 10*time.Second, "the notices finished", func() bool {
		for _, p := range people {
			if state(t, e, p) != "sent" {
				return false
			}
		}
		return true
	})
	if got := gauge(t, e.reg, "nara_push_credentials_failing", "ios"); got != 0 {
		t.Errorf("nara_push_credentials_failing{platform=ios} = %v once fixed, want 0", got)
	}
}

// TestRetryBurstLogsTwice meets a burst of 503s over many notices: they are
// retried through the queue (none lost, none failed) and the log says so
// once when it starts and once when it ends, not once per retry.
func TestRetryBurstLogsTwice(t *testing.T) {
	t.Parallel()
	// Quiet for longer than the queue's back-off between the waves of retries.
	e, logs := setupLogged(t, notify.Config{BurstQuiet: 3500 * time.Millisecond})
	ctx := context.Background()
	var people, tokens []string
	for range 20 {
		p := pushtest.Person(t, e.st)
		people = append(people, p)
		tokens = append(tokens, pushtest.Device(t, e.st, p, "android").Token)
	}
	e.fake.FailAll(fcmfake.Unavailable, 25, 0)
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindMessage, PersonIDs: people, ReasonID: "thread-b"})
	})
	clocktest.Eventually(t, 10*time.Second, "every notice sent", func() bool {
		for _, tok := range tokens {
			if e.fake.CountFor(tok) != 1 {
				return false
			}
		}
		return true
	})
	clocktest.Eventually(t, 10*time.Second, "the end of the burst logged", func() bool { return logs.count("push: FCM stopped asking to retry") > 0 })
	if n := logs.count("push: FCM stopped asking to retry"); n != 1 {
		t.Errorf("%d log lines for the end of the burst, want 1", n)
	}
	if got := counter(t, e.reg, "nara_push_sends_total", "retry", "UNAVAILABLE"); got < 20 {
		t.Errorf("nara_push_sends_total{outcome=retry,reason=UNAVAILABLE} = %v, want at least 20", got)
	}
	if n := logs.count("push: FCM asks to retry"); n != 1 {
		t.Errorf("%d log lines for the retries, want 1 for the burst", n)
	}
	for _, p := range people {
		if got := state(t, e, p); got != "sent" {
			t.Errorf("notice %q after the burst, want sent", got)
		}
	}
}

// TestVisitNoticesShareACollapseID sends a reminder, a delay, a second delay
// and a later reminder for one visit: they share one collapse id, so each
// replaces the one before on the device, and the reminder after the delay
// reports says the expected start. Another visit's reminder has its own.
func TestVisitNoticesShareACollapseID(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	ctx := context.Background()
	person := pushtest.Person(t, e.st)
	if err := e.st.PushPreferencePut(ctx, store.PushPreference{PersonID: person, Reminders: true, QuietStart: -1, QuietEnd: -1, Language: "en", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	dev := pushtest.Device(t, e.st, person, "android")
	at := time.Now().Add(time.Hour).Truncate(time.Minute)
	first := at.Sub(time.Now().Add(500 * time.Millisecond))
	second := at.Sub(time.Now().Add(3 * time.Second))
	e.tx(t, func(tx *store.Tx) error {
		_, err := e.svc.ScheduleReminders(ctx, tx,
			notify.Reminders{ReasonID: "visit-c", PersonIDs: []string{person}, At: at, Offsets: []time.Duration{first, second}},
			notify.Reminders{ReasonID: "visit-other", PersonIDs: []string{person}, At: at, Offsets: []time.Duration{first}})
		return err
	})
	for _, minutes := range []int{10, 25} {
		e.tx(t, func(tx *store.Tx) error {
			return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindDelay, PersonIDs: []string{person}, ReasonID: "visit-c", At: at.Add(time.Duration(minutes) * time.Minute)})
		})
	}
	clocktest.Eventually(t, 10*time.Second, "the delays and the second reminder", func() bool { return e.fake.CountFor(dev.Token) == 5 })
	ids := map[string]int{}
	var last fcmfake.Message
	for _, m := range sentTo(e, dev.Token) {
		ids[fcmfake.CollapseID(m)]++
		if m.Notification.Title == "Reminder" {
			last = m
		}
	}
	if len(ids) != 2 {
		t.Errorf("collapse ids %v, want two: one for visit-c's four notices, one for the other visit", ids)
	}
	if got := e.fake.Distinct(); got != 2 {
		t.Errorf("Distinct() = %d, want 2 notifications left on the device", got)
	}
	want := "Expected start at " + at.Add(25*time.Minute).UTC().Format("15:04") + "."
	if !strings.Contains(last.Notification.Body, want) || !strings.Contains(last.Notification.Body, at.UTC().Format("15:04")) {
		t.Errorf("the reminder after the delays says %q, want the booked time and %q", last.Notification.Body, want)
	}
}

// TestTimeCriticalNoticesGoHigh checks priorities: the 10-minute video
// reminder, a cancellation, a call-in and a delay at high priority on every
// platform; the day-before reminder, an offer and a message at normal/5.
func TestTimeCriticalNoticesGoHigh(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	ctx := context.Background()
	send := func(name string, high bool, enqueue func(tx *store.Tx, person string) error) {
		t.Helper()
		person := pushtest.Person(t, e.st)
		android := pushtest.Device(t, e.st, person, "android")
		ios := pushtest.Device(t, e.st, person, "ios")
		web := pushtest.Device(t, e.st, person, "web")
		e.tx(t, func(tx *store.Tx) error { return enqueue(tx, person) })
		clocktest.Eventually(t, 10*time.Second, name, func() bool {
			return e.fake.CountFor(android.Token) == 1 && e.fake.CountFor(ios.Token) == 1 && e.fake.CountFor(web.Token) == 1
		})
		want := map[bool][3]string{true: {"high", "10", "high"}, false: {"normal", "5", "normal"}}[high]
		got := [3]string{sentTo(e, android.Token)[0].Android.Priority, sentTo(e, ios.Token)[0].APNS.Headers["apns-priority"], sentTo(e, web.Token)[0].Webpush.Headers["Urgency"]}
		if got != want {
			t.Errorf("%s: android priority, apns-priority, Urgency = %v, want %v", name, got, want)
		}
	}
	reminder := func(before time.Duration) func(*store.Tx, string) error {
		return func(tx *store.Tx, person string) error {
			at := time.Now().Add(before + 300*time.Millisecond)
			_, err := e.svc.ScheduleReminders(ctx, tx, notify.Reminders{ReasonID: "visit-p", PersonIDs: []string{person}, At: at, Video: true, Offsets: []time.Duration{before}})
			return err
		}
	}
	notice := func(kind notify.Kind) func(*store.Tx, string) error {
		return func(tx *store.Tx, person string) error {
			return e.svc.Notify(ctx, tx, notify.Notice{Kind: kind, PersonIDs: []string{person}, ReasonID: "visit-p", At: time.Now().Add(time.Hour)})
		}
	}
	send("10-minute video reminder", true, reminder(10*time.Minute))
	send("day-before reminder", false, reminder(24*time.Hour))
	send("cancellation", true, notice(notify.KindCancelled))
	send("call-in", true, notice(notify.KindCallIn))
	send("delay", true, notice(notify.KindDelay))
	send("offer", false, notice(notify.KindOffer))
	send("message", false, notice(notify.KindMessage))
}

// TestGuardianHearsOfTheirChild checks the wording of a child's reminders:
// the child reads "Du har…", the guardian "Ditt barn har…" (or "Your child
// has…"), never the child's name.
func TestGuardianHearsOfTheirChild(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	ctx := context.Background()
	child := pushtest.Person(t, e.st)
	guardian := pushtest.Person(t, e.st)
	english := pushtest.Person(t, e.st)
	if err := e.st.PushPreferencePut(ctx, store.PushPreference{PersonID: english, Reminders: true, QuietStart: -1, QuietEnd: -1, Language: "en"}); err != nil {
		t.Fatal(err)
	}
	devs := map[string]string{}
	for _, p := range []string{child, guardian, english} {
		devs[p] = pushtest.Device(t, e.st, p, "ios").Token
	}
	e.tx(t, func(tx *store.Tx) error {
		_, err := e.svc.ScheduleReminders(ctx, tx, notify.Reminders{
			ReasonID: "visit-g", PersonIDs: []string{child, guardian, english}, Patient: child,
			At: time.Now().Add(time.Hour), Offsets: []time.Duration{time.Hour - 300*time.Millisecond},
		})
		return err
	})
	clocktest.Eventually(t, 10*time.Second, "three reminders", func() bool { return e.fake.Count() == 3 })
	for p, want := range map[string]string{child: "Du har en bokad tid", guardian: "Ditt barn har en bokad tid", english: "Your child has an appointment"} {
		if body := sentTo(e, devs[p])[0].Notification.Body; !strings.HasPrefix(body, want) || strings.Contains(body, "Test") {
			t.Errorf("reminder body %q, want it to begin %q and name no one", body, want)
		}
	}
}

// TestPushNamesItsInboxEntry checks that a push carries its notice's id, and
// that marking that id read clears it from the unread count, as a tap on the
// notification does.
func TestPushNamesItsInboxEntry(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	ctx := context.Background()
	person := pushtest.Person(t, e.st)
	android := pushtest.Device(t, e.st, person, "android")
	ios := pushtest.Device(t, e.st, person, "ios")
	e.tx(t, func(tx *store.Tx) error {
		return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindMessage, PersonIDs: []string{person}, ReasonID: "thread-n", Link: "/messages/thread-n"})
	})
	clocktest.Eventually(t, 10*time.Second, "both devices", func() bool { return e.fake.CountFor(android.Token) == 1 && e.fake.CountFor(ios.Token) == 1 })
	ns := inbox(t, e.st, person)
	if len(ns) != 1 {
		t.Fatalf("inbox has %d notices, want 1", len(ns))
	}
	id := store.FormatID(ns[0].ID)
	if got := sentTo(e, android.Token)[0].Data["notice_id"]; got != id {
		t.Errorf("android data notice_id = %q, want %q", got, id)
	}
	if got := sentTo(e, ios.Token)[0].APNS.Payload["notice_id"]; got != id {
		t.Errorf("APNs notice_id = %v, want %q", got, id)
	}
	tapped, err := store.ParseID(sentTo(e, android.Token)[0].Data["notice_id"])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.PushInboxMarkRead(ctx, person, []int64{tapped}, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := e.st.PushInboxUnread(ctx, person, time.Now()); err != nil || n != 0 {
		t.Errorf("PushInboxUnread after the tap = %d, %v; want 0", n, err)
	}
}

// TestBookingsAddNoJobs books 200 visits, each in its own transaction as
// the booking rush does, and checks that they leave no River job behind to
// drain (before, each left one per due time), while every notice is sent.
func TestBookingsAddNoJobs(t *testing.T) {
	t.Parallel()
	e := setup(t, notify.Config{})
	ctx := context.Background()
	const n = 200
	people := make([]string, n)
	tokens := make([]string, n)
	for i := range people {
		people[i] = pushtest.Person(t, e.st)
		tokens[i] = pushtest.Device(t, e.st, people[i], "android").Token
	}
	start := time.Now()
	for i, p := range people {
		e.tx(t, func(tx *store.Tx) error {
			return e.svc.Notify(ctx, tx, notify.Notice{Kind: notify.KindOffer, PersonIDs: []string{p}, ReasonID: "offer-" + strconv.Itoa(i), At: time.Now().Add(time.Hour)})
		})
	}
	booked := time.Since(start)
	clocktest.Eventually(t, 10*time.Second, "every offer", func() bool { return e.fake.Count() == n })
	var jobs int
	if err := e.st.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'push_send'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 0 {
		t.Errorf("%d River jobs left after %d bookings, want none", jobs, n)
	}
	t.Logf("%d bookings in %v; all %d offers sent %v after the first booking; %d River jobs", n, booked, n, time.Since(start), jobs)
}
