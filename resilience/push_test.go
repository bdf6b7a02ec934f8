package resilience

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
	"github.com/nara-care/nara/internal/clocktest"
	"github.com/nara-care/nara/push/fcmfake"
)

// fcmStandIn is the FCM stand-in served by the test, so that the test can
// make it fail or slow down while nara sends to it.
type fcmStandIn struct {
	fake  *fcmfake.Fake
	sends atomic.Int64 // messages:send requests that arrived
	delay atomic.Int64 // how long each send waits before it is answered, in ns
}

// startFCM serves an FCM stand-in on loopback and returns it with the
// settings that point nara at it.
func startFCM(t *testing.T) (*fcmStandIn, []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake, err := fcmfake.New(fcmfake.Config{BaseURL: "http://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	s := &fcmStandIn{fake: fake}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ":send") {
			s.sends.Add(1)
			time.Sleep(time.Duration(s.delay.Load()))
		}
		fake.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	file := filepath.Join(t.TempDir(), "fcm-service-account.json")
	if err := fake.WriteServiceAccount(file); err != nil {
		t.Fatal(err)
	}
	return s, []string{"FCM_CREDENTIALS_FILE=" + file, "FCM_ENDPOINT=" + fake.Endpoint()}
}

// TestPushFCMFaults makes FCM answer 503 or answer slowly when a reminder
// falls due. nara must keep the notice, retry it, and deliver it once FCM
// is well again: exactly one message on the device, recorded as sent.
func TestPushFCMFaults(t *testing.T) {
	tests := []struct {
		name string
		// fault breaks FCM; heal, called once nara has met the fault,
		// mends it.
		fault, heal func(*fcmStandIn)
		// met tells that nara has run into the fault.
		met func(*fcmStandIn) bool
	}{
		{
			name:  "unavailable",
			fault: func(s *fcmStandIn) { s.fake.FailAll(fcmfake.Unavailable, 0, 0) },
			heal:  func(s *fcmStandIn) { s.fake.Recover() },
			met:   func(s *fcmStandIn) bool { return s.sends.Load() >= 2 },
		},
		{
			name:  "slow",
			fault: func(s *fcmStandIn) { s.delay.Store(int64(3 * time.Second)) },
			heal:  func(s *fcmStandIn) { s.delay.Store(0) },
			met:   func(s *fcmStandIn) bool { return s.sends.Load() >= 1 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fcm, settings := startFCM(t)
			url := database(t)
			// The hour-ahead reminder of a visit an hour and a few seconds
			// away falls due during the test.
			w := seed(t, url, 1, 1, 1, time.Now().Add(time.Hour+6*time.Second).Truncate(time.Second))
			nara := startReplica(t, "nara", url, settings...)
			ctx, cancel := context.WithTimeout(asCitizen(context.Background(), w.citizens[0]), time.Minute)
			defer cancel()
			const device = "resilience-device-token-0123456789abcdefghijklmnop"
			push := pushv1connect.NewDeviceServiceClient(http.DefaultClient, nara.url(), bearer())
			if _, err := push.RegisterDevice(ctx, &pushv1.RegisterDeviceRequest{
				InstallationId: "resilience-installation", Token: device, Platform: pushv1.Platform_PLATFORM_ANDROID,
				AppVersion: "4.2.1", Locale: "sv-SE",
			}); err != nil {
				t.Fatalf("RegisterDevice: %v", err)
			}
			appointments := appointmentv1connect.NewAppointmentServiceClient(http.DefaultClient, nara.url(), bearer())
			if _, err := appointments.BookSlot(ctx, &appointmentv1.BookSlotRequest{SlotId: w.slots[0], IdempotencyKey: "resilience-push"}); err != nil {
				t.Fatalf("BookSlot: %v", err)
			}
			tt.fault(fcm)
			clocktest.Eventually(t, 20*time.Second, "nara to meet the fault", func() bool { return tt.met(fcm) })
			if n := fcm.fake.CountFor(device); n != 0 && tt.name == "unavailable" {
				t.Fatalf("%d messages delivered during the outage", n)
			}
			time.Sleep(time.Second)
			tt.heal(fcm)
			healed := time.Now()
			clocktest.Eventually(t, 30*time.Second, "the reminder to be delivered", func() bool { return fcm.fake.CountFor(device) > 0 })
			t.Logf("delivered %s after FCM was well again, after %d sends", time.Since(healed).Round(time.Millisecond), fcm.sends.Load())
			// Nothing more is sent for it.
			time.Sleep(2 * time.Second)
			if n := fcm.fake.CountFor(device); n != 1 {
				t.Errorf("the reminder reached the device %d times, want 1", n)
			}
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var state, delivery string
			if err := conn.QueryRow(ctx, `SELECT n.state, d.status FROM push_notice n JOIN push_delivery d ON d.notice_id = n.id
				WHERE n.kind = 'reminder'`).Scan(&state, &delivery); err != nil {
				t.Fatalf("read the reminder: %v", err)
			}
			if state != "sent" || delivery != "delivered" {
				t.Errorf("reminder stored as %s, its delivery as %s; want sent and delivered", state, delivery)
			}
		})
	}
}
