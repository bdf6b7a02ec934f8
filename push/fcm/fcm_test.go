package fcm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/push/fcm"
	"github.com/nara-care/nara/push/fcmfake"
)

// env is the real sender wired to a fake FCM over loopback HTTP, authenticated through the
// fake's token_uri.
type env struct {
	fake   *fcmfake.Server
	sender *fcm.Sender
	saPath string
}

func setup(t *testing.T) *env {
	t.Helper()
	fake, err := fcmfake.Start(fcmfake.Config{})
	if err != nil {
		t.Fatalf("fcmfake.Start: %v", err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	saPath := filepath.Join(t.TempDir(), "service-account.json")
	if err := fake.WriteServiceAccount(saPath); err != nil {
		t.Fatalf("WriteServiceAccount: %v", err)
	}
	sender, err := fcm.New(t.Context(), fcm.Config{
		CredentialsFile: saPath,
		Endpoint:        fake.Endpoint(),
		WebBaseURL:      "https://nara.test",
	})
	if err != nil {
		t.Fatalf("fcm.New: %v", err)
	}
	return &env{fake: fake, sender: sender, saPath: saPath}
}

// describe renders an Outcome for comparison and failure messages, leaving out the error text.
func describe(o fcm.Outcome) string {
	switch o := o.(type) {
	case fcm.Delivered:
		return "Delivered"
	case fcm.TokenGone:
		return fmt.Sprintf("TokenGone(%s)", o.Reason)
	case fcm.Retry:
		return fmt.Sprintf("Retry(%v, %s)", o.After, o.Reason)
	case fcm.Permanent:
		return fmt.Sprintf("Permanent(%s)", o.Reason)
	case nil:
		return "nil"
	}
	return fmt.Sprintf("unknown %T", o)
}

func errOf(o fcm.Outcome) error {
	switch o := o.(type) {
	case fcm.TokenGone:
		return o.Err
	case fcm.Retry:
		return o.Err
	case fcm.Permanent:
		return o.Err
	}
	return nil
}

func reminder() fcm.Notice {
	return fcm.Notice{
		Title:    "Påminnelse",
		Body:     "Du har en bokad tid i morgon.",
		Link:     "/appointments/a-1",
		ID:       "a-1",
		Category: fcm.CategoryReminder,
	}
}

func TestSendDeliversPayload(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if n := e.fake.TokenRequests(); n != 0 {
		t.Fatalf("TokenRequests() = %d before any send, want 0", n)
	}

	badge := 3
	callIn := fcm.Notice{
		Title:    "Det är dags för ditt videobesök",
		Body:     "Tryck för att ansluta.",
		Link:     "/visits/v-1",
		ID:       "v-1",
		NoticeID: "42",
		Thread:   "visit-v-1",
		Category: fcm.CategoryCallIn,
		Badge:    &badge,
	}
	start := time.Now()
	out, err := e.sender.Send(t.Context(), "dev-ios:APA91b_1", callIn)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	d, ok := out.(fcm.Delivered)
	if !ok {
		t.Fatalf("Send = %s (%v), want Delivered", describe(out), errOf(out))
	}
	if !strings.HasPrefix(d.Name, "projects/"+fcmfake.DefaultProjectID+"/messages/") {
		t.Errorf("Delivered.Name = %q, want projects/%s/messages/ID", d.Name, fcmfake.DefaultProjectID)
	}
	if n := e.fake.TokenRequests(); n < 1 {
		t.Errorf("TokenRequests() = %d, want the access token fetched from the fake's token_uri", n)
	}
	if e.fake.CountFor("dev-ios:APA91b_1") != 1 {
		t.Fatalf("CountFor = %d, want 1", e.fake.CountFor("dev-ios:APA91b_1"))
	}

	m := e.fake.Messages()[0].Message
	aps, _ := m.APNS.Payload["aps"].(map[string]any)
	if aps == nil {
		t.Fatalf("APNs payload has no aps dictionary: %v", m.APNS.Payload)
	}
	exp, _ := strconv.ParseInt(m.APNS.Headers["apns-expiration"], 10, 64)
	wantExp := start.Add(10 * time.Minute).Unix()
	if exp < wantExp-5 || exp > wantExp+5 {
		t.Errorf("apns-expiration = %d, want about %d (ten minutes ahead)", exp, wantExp)
	}
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"notification title", m.Notification.Title, callIn.Title},
		{"notification body", m.Notification.Body, callIn.Body},
		{"data category", m.Data["category"], "call_in"},
		{"data link", m.Data["link"], "/visits/v-1"},
		{"data id", m.Data["id"], "v-1"},
		{"data notice_id", m.Data["notice_id"], "42"},
		{"apns notice_id", m.APNS.Payload["notice_id"], "42"},
		{"android priority", m.Android.Priority, "high"},
		{"android ttl", m.Android.TTL, "600s"},
		{"android collapse key", m.Android.CollapseKey, "visit-v-1"},
		{"android channel", m.Android.Notification.ChannelID, "call_in"},
		{"android tag", m.Android.Notification.Tag, "visit-v-1"},
		{"android visibility", m.Android.Notification.Visibility, "PRIVATE"},
		{"android notification priority", m.Android.Notification.NotificationPriority, "PRIORITY_HIGH"},
		{"apns-priority", m.APNS.Headers["apns-priority"], "10"},
		{"apns-push-type", m.APNS.Headers["apns-push-type"], "alert"},
		{"apns-collapse-id", m.APNS.Headers["apns-collapse-id"], "visit-v-1"},
		{"aps thread-id", aps["thread-id"], "visit-v-1"},
		{"aps category", aps["category"], "call_in"},
		{"aps sound", aps["sound"], "default"},
		{"aps badge", aps["badge"], float64(3)},
		{"aps interruption-level", aps["interruption-level"], "time-sensitive"},
		{"apns link", m.APNS.Payload["link"], "/visits/v-1"},
		{"apns id", m.APNS.Payload["id"], "v-1"},
		{"webpush link", m.Webpush.FCMOptions.Link, "https://nara.test/visits/v-1"},
		{"webpush urgency", m.Webpush.Headers["Urgency"], "high"},
		{"webpush ttl", m.Webpush.Headers["TTL"], "600"},
		{"webpush requireInteraction", m.Webpush.Notification["requireInteraction"], true},
		{"webpush tag", m.Webpush.Notification["tag"], "visit-v-1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}

	// A reminder is routine: normal priority, its own channel, no expiry, no time-sensitive alert.
	if out, err := e.sender.Send(t.Context(), "dev-android-1", reminder()); err != nil || describe(out) != "Delivered" {
		t.Fatalf("Send(reminder) = %s, %v; want Delivered", describe(out), err)
	}
	r := e.fake.Messages()[1].Message
	raps, _ := r.APNS.Payload["aps"].(map[string]any)
	routine := []struct {
		what string
		got  any
		want any
	}{
		{"android priority", r.Android.Priority, "normal"},
		{"android channel", r.Android.Notification.ChannelID, "reminder"},
		{"android ttl", r.Android.TTL, ""},
		{"apns-priority", r.APNS.Headers["apns-priority"], "5"},
		{"apns-expiration", r.APNS.Headers["apns-expiration"], ""},
		{"aps interruption-level", raps["interruption-level"], nil},
		{"webpush urgency", r.Webpush.Headers["Urgency"], "normal"},
	}
	for _, c := range routine {
		if c.got != c.want {
			t.Errorf("reminder %s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
}

// TestSendOutcomes checks that each of FCM's answers, as the real SDK receives it over HTTP,
// becomes the Outcome the caller must act on.
func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	e := setup(t)

	tests := []struct {
		name     string
		arrange  func(f *fcmfake.Server, token string)
		want     string
		attempts int64 // requests the fake answered for the token, SDK retries included
	}{
		{
			name:    "dead token",
			arrange: func(f *fcmfake.Server, tok string) { f.MarkDead(tok) },
			want:    "TokenGone(UNREGISTERED)",
		},
		{
			name:    "unregistered",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.Unregistered, 1, 0) },
			want:    "TokenGone(UNREGISTERED)",
		},
		{
			name:    "quota exceeded with Retry-After",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.QuotaExceeded, 1, 30*time.Second) },
			want:    "Retry(30s, QUOTA_EXCEEDED)",
		},
		{
			name:    "quota exceeded without Retry-After",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.QuotaExceeded, 1, 0) },
			want:    "Retry(1m0s, QUOTA_EXCEEDED)",
		},
		{
			name:    "project quota, which IsQuotaExceeded misses",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.ProjectQuotaExceeded, 1, 17*time.Second) },
			want:    "Retry(17s, RESOURCE_EXHAUSTED)",
		},
		{
			// A Retry-After beyond the SDK's two-minute cap makes it give up at once.
			name:    "unavailable for longer than the SDK waits",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.Unavailable, 1, 5*time.Minute) },
			want:    "Retry(5m0s, UNAVAILABLE)",
		},
		{
			// The SDK would retry a 503 by itself, sleeping in the sender; the Sender stops that
			// and leaves the retry to the caller's queue (TestSendDoesNotRetryInside).
			name:    "unavailable briefly",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.Unavailable, 1, 0) },
			want:    "Retry(0s, UNAVAILABLE)",
		},
		{
			name:    "unavailable with Retry-After",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.Unavailable, 1, 20*time.Second) },
			want:    "Retry(20s, UNAVAILABLE)",
		},
		{
			name:    "internal",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.Internal, 1, 0) },
			want:    "Retry(0s, INTERNAL)",
		},
		{
			name:    "invalid argument",
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.InvalidArgument, 1, 0) },
			want:    "Permanent(INVALID_ARGUMENT)",
		},
		{
			name: "sender id mismatch",
			// The token is another Firebase project's: it never works here, so it is deleted.
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.SenderIDMismatch, 1, 0) },
			want:    "TokenGone(SENDER_ID_MISMATCH)",
		},
		{
			name: "third-party auth error",
			// The project's APNs or Web Push key is broken: held and retried, not dropped.
			arrange: func(f *fcmfake.Server, tok string) { f.FailNext(tok, fcmfake.ThirdPartyAuthError, 1, 0) },
			want:    "Retry(0s, THIRD_PARTY_AUTH_ERROR)",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token := fmt.Sprintf("outcome-%d", i)
			tt.arrange(e.fake, token)
			out, err := e.sender.Send(t.Context(), token, reminder())
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := describe(out); got != tt.want {
				t.Fatalf("Send = %s (%v), want %s", got, errOf(out), tt.want)
			}
			if tt.want != "Delivered" && errOf(out) == nil {
				t.Errorf("%s carries no Err to log", tt.want)
			}
			if got := e.fake.CountFor(token); got != tt.attempts {
				t.Errorf("CountFor = %d, want %d", got, tt.attempts)
			}
		})
	}
}

func TestSendMulticast(t *testing.T) {
	t.Parallel()
	e := setup(t)

	tokens := make([]string, fcm.MaxMulticast)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("multi-%03d", i)
		if i%10 == 3 {
			e.fake.MarkDead(tokens[i])
		}
	}
	e.fake.FailNext(tokens[7], fcmfake.QuotaExceeded, 1, 45*time.Second)
	e.fake.FailNext(tokens[8], fcmfake.InvalidArgument, 1, 0)

	outs, err := e.sender.SendMulticast(t.Context(), tokens, reminder())
	if err != nil {
		t.Fatalf("SendMulticast: %v", err)
	}
	if len(outs) != len(tokens) {
		t.Fatalf("SendMulticast returned %d outcomes for %d tokens", len(outs), len(tokens))
	}
	delivered := 0
	for i, o := range outs {
		want := "Delivered"
		switch {
		case i%10 == 3:
			want = "TokenGone(UNREGISTERED)"
		case i == 7:
			want = "Retry(45s, QUOTA_EXCEEDED)"
		case i == 8:
			want = "Permanent(INVALID_ARGUMENT)"
		}
		if got := describe(o); got != want {
			t.Errorf("outcome for %s = %s, want %s", tokens[i], got, want)
		}
		if d, ok := o.(fcm.Delivered); ok {
			delivered++
			if d.Name == "" {
				t.Errorf("outcome for %s has no message name", tokens[i])
			}
		}
	}
	if want := len(tokens) - len(tokens)/10 - 2; delivered != want || e.fake.Count() != int64(want) {
		t.Errorf("delivered %d, fake counted %d; want %d", delivered, e.fake.Count(), want)
	}
}

func TestSendPlatformCarriesOnlyItsOptions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		platform               fcm.Platform
		android, apns, webpush bool
	}{
		{"", true, true, true},
		{fcm.PlatformAndroid, true, false, false},
		{fcm.PlatformIOS, false, true, false},
		{fcm.PlatformWeb, false, false, true},
	}
	for _, tt := range tests {
		tok := "dev-" + string(tt.platform) + ":APA91b_platform"
		n := fcm.Notice{Title: "Påminnelse", Thread: "r-1", Category: fcm.CategoryReminder, Platform: tt.platform}
		if out, err := e.sender.Send(t.Context(), tok, n); err != nil || describe(out) != "Delivered" {
			t.Fatalf("Send(platform %q) = %s, %v; want Delivered", tt.platform, describe(out), err)
		}
		var m *fcmfake.Message
		for _, s := range e.fake.Messages() {
			if s.Message.Token == tok {
				m = &s.Message
			}
		}
		if m == nil {
			t.Fatalf("no message recorded for %s", tok)
		}
		if got := [3]bool{m.Android != nil, m.APNS != nil, m.Webpush != nil}; got != [3]bool{tt.android, tt.apns, tt.webpush} {
			t.Errorf("platform %q: android, apns, webpush present = %v, want %v", tt.platform, got, [3]bool{tt.android, tt.apns, tt.webpush})
		}
	}
}

func TestSendRejectsCallerMistakes(t *testing.T) {
	t.Parallel()
	e := setup(t)

	long := strings.Repeat("x", 65)
	neg := -1
	tooMany := make([]string, fcm.MaxMulticast+1)
	for i := range tooMany {
		tooMany[i] = "t" + strconv.Itoa(i)
	}
	tests := []struct {
		name   string
		tokens []string // nil means Send to "tok"
		multi  bool
		notice func(n *fcm.Notice)
	}{
		{name: "empty token", tokens: []string{""}},
		{name: "no title", notice: func(n *fcm.Notice) { n.Title = " " }},
		{name: "absolute link", notice: func(n *fcm.Notice) { n.Link = "https://evil.example/x" }},
		{name: "protocol-relative link", notice: func(n *fcm.Notice) { n.Link = "//evil.example/x" }},
		{name: "relative link", notice: func(n *fcm.Notice) { n.Link = "visits/1" }},
		{name: "thread too long", notice: func(n *fcm.Notice) { n.Thread = long }},
		{name: "unknown category", notice: func(n *fcm.Notice) { n.Category = "lab_result" }},
		{name: "unknown platform", notice: func(n *fcm.Notice) { n.Platform = "symbian" }},
		{name: "negative badge", notice: func(n *fcm.Notice) { n.Badge = &neg }},
		{name: "text too long", notice: func(n *fcm.Notice) { n.Body = strings.Repeat("å", 1100) }},
		{name: "multicast without tokens", multi: true},
		{name: "multicast over the limit", multi: true, tokens: tooMany},
		{name: "multicast with an empty token", multi: true, tokens: []string{"a", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := reminder()
			if tt.notice != nil {
				tt.notice(&n)
			}
			var err error
			if tt.multi {
				_, err = e.sender.SendMulticast(t.Context(), tt.tokens, n)
			} else {
				token := "tok"
				if tt.tokens != nil {
					token = tt.tokens[0]
				}
				_, err = e.sender.Send(t.Context(), token, n)
			}
			if !errors.Is(err, fcm.ErrInvalid) {
				t.Errorf("err = %v, want one wrapping ErrInvalid", err)
			}
		})
	}
	t.Cleanup(func() {
		if n := e.fake.Count() + e.fake.Rejected(); n != 0 {
			t.Errorf("the fake saw %d sends, want none", n)
		}
	})
}

func TestSendExpired(t *testing.T) {
	t.Parallel()
	e := setup(t)

	n := reminder()
	n.Expires = time.Now().Add(-time.Minute)
	out, err := e.sender.Send(t.Context(), "tok", n)
	if err != nil || describe(out) != "Permanent(EXPIRED)" {
		t.Errorf("Send(expired) = %s, %v; want Permanent(EXPIRED)", describe(out), err)
	}
	outs, err := e.sender.SendMulticast(t.Context(), []string{"a", "b"}, n)
	if err != nil || len(outs) != 2 || describe(outs[1]) != "Permanent(EXPIRED)" {
		t.Errorf("SendMulticast(expired) = %v, %v; want two Permanent(EXPIRED)", outs, err)
	}
	if e.fake.Count()+e.fake.Rejected() != 0 {
		t.Errorf("an expired notice reached FCM")
	}

	n.Expires = time.Now().Add(90 * time.Second)
	if out, err := e.sender.Send(t.Context(), "tok", n); err != nil || describe(out) != "Delivered" {
		t.Fatalf("Send(expires soon) = %s, %v; want Delivered", describe(out), err)
	}
	if ttl := e.fake.Messages()[0].Message.Android.TTL; ttl != "89s" && ttl != "90s" {
		t.Errorf("android ttl = %q, want about 90s", ttl)
	}
}

// TestSendUnreachable checks that a send FCM never answered is worth retrying.
func TestSendUnreachable(t *testing.T) {
	t.Parallel()
	e := setup(t)

	// Port 1 on loopback refuses connections; the SDK would retry with back-off for seconds, so
	// the caller's deadline ends it.
	sender, err := fcm.New(t.Context(), fcm.Config{CredentialsFile: e.saPath, Endpoint: "http://127.0.0.1:1/v1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	out, err := sender.Send(ctx, "tok", reminder())
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(out); got != "Retry(0s, TRANSPORT)" {
		t.Errorf("Send to an unreachable endpoint = %s (%v), want Retry(0s, TRANSPORT)", got, errOf(out))
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	e := setup(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	userCreds := write("user.json", `{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`)
	noProject := write("noproject.json", `{"type":"service_account","client_email":"a@b.iam.gserviceaccount.com","private_key":"k"}`)
	notJSON := write("broken.json", `{"type":`)

	tests := []struct {
		name    string
		cfg     fcm.Config
		wantErr string
		project string
	}{
		{name: "fake", cfg: fcm.Config{CredentialsFile: e.saPath, Endpoint: e.fake.Endpoint() + "/"}, project: fcmfake.DefaultProjectID},
		{name: "project override", cfg: fcm.Config{CredentialsFile: e.saPath, ProjectID: "other-project"}, project: "other-project"},
		{name: "no file", cfg: fcm.Config{}, wantErr: "CredentialsFile is required"},
		{name: "missing file", cfg: fcm.Config{CredentialsFile: filepath.Join(dir, "nope.json")}, wantErr: "read credentials"},
		{name: "not JSON", cfg: fcm.Config{CredentialsFile: notJSON}, wantErr: "not JSON"},
		{name: "user credentials", cfg: fcm.Config{CredentialsFile: userCreds}, wantErr: `"authorized_user" credential`},
		{name: "no project", cfg: fcm.Config{CredentialsFile: noProject}, wantErr: "no project id"},
		{name: "endpoint scheme", cfg: fcm.Config{CredentialsFile: e.saPath, Endpoint: "ftp://fcm.example/v1"}, wantErr: "must use http or https"},
		{name: "endpoint not absolute", cfg: fcm.Config{CredentialsFile: e.saPath, Endpoint: "/v1"}, wantErr: "not an absolute URL"},
		{name: "web base not https", cfg: fcm.Config{CredentialsFile: e.saPath, WebBaseURL: "http://nara.test"}, wantErr: "must use https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := fcm.New(t.Context(), tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			if s.ProjectID() != tt.project {
				t.Errorf("ProjectID() = %q, want %q", s.ProjectID(), tt.project)
			}
		})
	}
}

// TestSendDoesNotRetryInside checks that a 503 or a lost connection comes back from one
// request at once, for the caller's queue to retry, instead of the Admin SDK's retries sleeping
// in the sender (four more requests over seconds, or Retry-After's wait).
func TestSendDoesNotRetryInside(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.fake.FailAll(fcmfake.Unavailable, 0, 30*time.Second)
	start := time.Now()
	out, err := e.sender.Send(t.Context(), "tok-503", reminder())
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(out); got != "Retry(30s, UNAVAILABLE)" {
		t.Errorf("Send during an outage = %s, want Retry(30s, UNAVAILABLE)", got)
	}
	if took, n := time.Since(start), e.fake.Rejected(); took > 2*time.Second || n != 1 {
		t.Errorf("Send during an outage took %v and %d requests, want one request at once", took, n)
	}
	outs, err := e.sender.SendMulticast(t.Context(), []string{"tok-a", "tok-b", "tok-c"}, reminder())
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if got := describe(o); got != "Retry(30s, UNAVAILABLE)" {
			t.Errorf("SendMulticast outcome %d = %s, want Retry(30s, UNAVAILABLE)", i, got)
		}
	}
	if n := e.fake.Rejected(); n != 4 {
		t.Errorf("the fake answered %d requests, want 4: one per token, no retries", n)
	}

	// No answer at all: one attempt, reported as a transport failure without waiting.
	sender, err := fcm.New(t.Context(), fcm.Config{CredentialsFile: e.saPath, Endpoint: "http://127.0.0.1:1/v1"})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	out, err = sender.Send(t.Context(), "tok", reminder())
	if err != nil {
		t.Fatal(err)
	}
	if got, took := describe(out), time.Since(start); got != "Retry(0s, TRANSPORT)" || took > 2*time.Second {
		t.Errorf("Send to an unreachable endpoint = %s after %v, want Retry(0s, TRANSPORT) at once", got, took)
	}
}

// TestSendPriorityLifetimeAndLinks checks the parts of a push that decide when and how it
// arrives: Urgent goes at high priority on every platform, routine notices at normal/5, the
// lifetime follows Expires up to FCM's four weeks, and the web gets the link absolute under
// WebBaseURL or, without one, relative in the notification's data.
func TestSendPriorityLifetimeAndLinks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	now := time.Now()
	send := func(token string, n fcm.Notice) fcmfake.Message {
		t.Helper()
		if out, err := e.sender.Send(t.Context(), token, n); err != nil || describe(out) != "Delivered" {
			t.Fatalf("Send = %s, %v; want Delivered", describe(out), err)
		}
		ms := e.fake.Messages()
		return ms[len(ms)-1].Message
	}
	urgent := reminder()
	urgent.Urgent = true
	urgent.Expires = now.Add(10 * time.Minute)
	m := send("tok-urgent", urgent)
	for _, c := range []struct{ what, got, want string }{
		{"android priority", m.Android.Priority, "high"},
		{"apns-priority", m.APNS.Headers["apns-priority"], "10"},
		{"webpush urgency", m.Webpush.Headers["Urgency"], "high"},
	} {
		if c.got != c.want {
			t.Errorf("urgent %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if ttl, _ := time.ParseDuration(m.Android.TTL); ttl < 595*time.Second || ttl > 600*time.Second {
		t.Errorf("urgent android ttl = %q, want about 600s", m.Android.TTL)
	}

	message := fcm.Notice{Title: "Nytt meddelande", Category: fcm.CategoryMessage, Link: "/messages/t-1", Expires: now.Add(365 * 24 * time.Hour)}
	m = send("tok-message", message)
	if m.Android.Priority != "normal" || m.APNS.Headers["apns-priority"] != "5" || m.Webpush.Headers["Urgency"] != "normal" {
		t.Errorf("message priorities = %q / %q / %q, want normal / 5 / normal", m.Android.Priority, m.APNS.Headers["apns-priority"], m.Webpush.Headers["Urgency"])
	}
	if m.Android.TTL != "2419200s" || m.Webpush.Headers["TTL"] != "2419200" {
		t.Errorf("a year's Expires gives ttl %q and TTL %q, want FCM's most, 2419200s", m.Android.TTL, m.Webpush.Headers["TTL"])
	}
	if exp, _ := strconv.ParseInt(m.APNS.Headers["apns-expiration"], 10, 64); exp > now.Add(28*24*time.Hour).Unix()+5 {
		t.Errorf("apns-expiration = %d, want at most four weeks ahead", exp)
	}
	if m.Webpush.FCMOptions == nil || m.Webpush.FCMOptions.Link != "https://nara.test/messages/t-1" {
		t.Errorf("webpush fcm_options = %+v, want the link under the web base", m.Webpush.FCMOptions)
	}

	// Without a web base: no fcm_options (FCM takes only https there), the link in the data.
	plain, err := fcm.New(t.Context(), fcm.Config{CredentialsFile: e.saPath, Endpoint: e.fake.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := plain.Send(t.Context(), "tok-web", message); err != nil || describe(out) != "Delivered" {
		t.Fatalf("Send = %s, %v; want Delivered", describe(out), err)
	}
	ms := e.fake.Messages()
	w := ms[len(ms)-1].Message.Webpush
	data, _ := w.Notification["data"].(map[string]any)
	if w.FCMOptions != nil || data["link"] != "/messages/t-1" {
		t.Errorf("webpush without a web base = fcm_options %+v, notification data %v; want none and link /messages/t-1", w.FCMOptions, data)
	}
}

// TestSendEachNamesEachInboxEntry checks that SendEach gives every token's message its own
// notice_id, in the data and the APNs payload, and shares the rest.
func TestSendEachNamesEachInboxEntry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tokens := []string{"each-1", "each-2", "each-3"}
	outs, err := e.sender.SendEach(t.Context(), tokens, []string{"11", "12", "13"}, reminder())
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if describe(o) != "Delivered" {
			t.Errorf("SendEach outcome %d = %s, want Delivered", i, describe(o))
		}
	}
	got := map[string]string{}
	for _, s := range e.fake.Messages() {
		m := s.Message
		if m.APNS.Payload["notice_id"] != m.Data["notice_id"] || m.Data["link"] != "/appointments/a-1" {
			t.Errorf("message to %s: data %v, APNs notice_id %v; want the same notice_id and the shared link", m.Token, m.Data, m.APNS.Payload["notice_id"])
		}
		got[m.Token] = m.Data["notice_id"]
	}
	want := map[string]string{"each-1": "11", "each-2": "12", "each-3": "13"}
	for tok, id := range want {
		if got[tok] != id {
			t.Errorf("notice_id to %s = %q, want %q", tok, got[tok], id)
		}
	}
	if _, err := e.sender.SendEach(t.Context(), tokens, []string{"1"}, reminder()); !errors.Is(err, fcm.ErrInvalid) {
		t.Errorf("SendEach with too few notice ids: %v, want ErrInvalid", err)
	}
}
