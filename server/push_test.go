package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
	"github.com/nara-care/nara/store"
)

const fcmToken = "fcm-token_0123456789:abcdefghijklmnopqrstuvwxyz"

func registerReq(inst, tok string) *pushv1.RegisterDeviceRequest {
	return &pushv1.RegisterDeviceRequest{
		InstallationId: inst, Token: tok, Platform: pushv1.Platform_PLATFORM_IOS,
		AppVersion: "4.2.1", Locale: "sv-SE", TimeZone: "Europe/Stockholm",
	}
}

func codeOf(err error) connect.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code()
	}
	return 0
}

func TestDevicesRegisterRefreshAndRebind(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	for name, tr := range e.protocols() {
		t.Run(name, func(t *testing.T) {
			annaC := pushv1connect.NewDeviceServiceClient(tr.client, e.url, append(tr.opts, e.citizen(t, anna))...)
			tolvanC := pushv1connect.NewDeviceServiceClient(tr.client, e.url, append(tr.opts, e.citizen(t, tolvan))...)
			inst, tok := "inst-"+name+"-anna", fcmToken+"-"+name
			res, err := annaC.RegisterDevice(ctx, registerReq(inst, tok))
			if err != nil {
				t.Fatalf("RegisterDevice: %v", err)
			}
			if res.Device.Platform != pushv1.Platform_PLATFORM_IOS || res.Device.TimeZone != "Europe/Stockholm" {
				t.Errorf("RegisterDevice got %v", res.Device)
			}
			// Refresh: the same installation with a new token stays one device.
			if _, err := annaC.RegisterDevice(ctx, registerReq(inst, tok+"-new")); err != nil {
				t.Fatalf("RegisterDevice (refresh): %v", err)
			}
			list, err := annaC.ListDevices(ctx, &pushv1.ListDevicesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Devices) != 1 || list.Devices[0].Id != res.Device.Id {
				t.Fatalf("ListDevices after refresh got %v, want the one device %s", list.Devices, res.Device.Id)
			}
			// Anna's token does not move to Tolvan's installation without
			// proof that he holds the device (TestDeviceTakeoverNeedsProof).
			if _, err := tolvanC.RegisterDevice(ctx, registerReq("inst-"+name+"-tolvan", tok+"-new")); codeOf(err) != connect.CodeFailedPrecondition {
				t.Fatalf("RegisterDevice of another's token got %v, want FailedPrecondition", err)
			}
			if list, _ := annaC.ListDevices(ctx, &pushv1.ListDevicesRequest{}); len(list.Devices) != 1 {
				t.Errorf("Anna lists %d devices after Tolvan named her token, want 1", len(list.Devices))
			}
			if _, err := tolvanC.RegisterDevice(ctx, registerReq("inst-"+name+"-tolvan", tok+"-tolvan")); err != nil {
				t.Fatalf("RegisterDevice by another user: %v", err)
			}
			tl, err := tolvanC.ListDevices(ctx, &pushv1.ListDevicesRequest{})
			if err != nil || len(tl.Devices) != 1 {
				t.Fatalf("Tolvan's ListDevices got %v, %v; want one device", tl, err)
			}
			// Anna cannot remove Tolvan's device; Tolvan can.
			if _, err := annaC.RemoveDevice(ctx, &pushv1.RemoveDeviceRequest{Id: tl.Devices[0].Id}); codeOf(err) != connect.CodeNotFound {
				t.Errorf("RemoveDevice of another's device got %v, want NotFound", err)
			}
			if _, err := tolvanC.RemoveDevice(ctx, &pushv1.RemoveDeviceRequest{Id: tl.Devices[0].Id}); err != nil {
				t.Errorf("RemoveDevice: %v", err)
			}
			if _, err := annaC.UnregisterDevice(ctx, &pushv1.UnregisterDeviceRequest{InstallationId: inst}); err != nil {
				t.Errorf("UnregisterDevice: %v", err)
			}
			// Unregister is idempotent.
			for range 2 {
				if _, err := tolvanC.UnregisterDevice(ctx, &pushv1.UnregisterDeviceRequest{InstallationId: "inst-" + name + "-tolvan"}); err != nil {
					t.Errorf("UnregisterDevice: %v", err)
				}
			}
		})
	}
}

func TestDevicesBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := pushv1connect.NewDeviceServiceClient(e.client, e.url, e.citizen(t, anna))
	tests := []struct {
		name string
		req  *pushv1.RegisterDeviceRequest
	}{
		{"empty token", registerReq("inst-bad-1", "")},
		{"short token", registerReq("inst-bad-1", "abc")},
		{"absurdly long token", registerReq("inst-bad-1", strings.Repeat("a", 5000))},
		{"token with spaces", registerReq("inst-bad-1", strings.Repeat("a b ", 20))},
		{"empty installation", registerReq("", fcmToken)},
		{"unknown time zone", func() *pushv1.RegisterDeviceRequest {
			r := registerReq("inst-bad-1", fcmToken)
			r.TimeZone = "Mars/Olympus_Mons"
			return r
		}()},
		{"unspecified platform", func() *pushv1.RegisterDeviceRequest {
			r := registerReq("inst-bad-1", fcmToken)
			r.Platform = pushv1.Platform_PLATFORM_UNSPECIFIED
			return r
		}()},
		{"unknown platform", func() *pushv1.RegisterDeviceRequest {
			r := registerReq("inst-bad-1", fcmToken)
			r.Platform = pushv1.Platform(42)
			return r
		}()},
		{"bad app version", func() *pushv1.RegisterDeviceRequest {
			r := registerReq("inst-bad-1", fcmToken)
			r.AppVersion = "latest; drop table"
			return r
		}()},
	}
	for _, tt := range tests {
		if _, err := c.RegisterDevice(ctx, tt.req); codeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("RegisterDevice(%s) got %v, want InvalidArgument", tt.name, err)
		}
	}
	if _, err := c.RemoveDevice(ctx, &pushv1.RemoveDeviceRequest{Id: "x"}); codeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("RemoveDevice(x) got %v, want InvalidArgument", err)
	}
	anon := pushv1connect.NewDeviceServiceClient(e.client, e.url)
	if _, err := anon.ListDevices(ctx, &pushv1.ListDevicesRequest{}); codeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("ListDevices without login got %v, want Unauthenticated", err)
	}
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := pushv1connect.NewNotificationServiceClient(e.h2c, e.url, connect.WithGRPC(), e.citizen(t, anna))
	got, err := c.GetPreferences(ctx, &pushv1.GetPreferencesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Preferences; !p.Reminders || !p.Messages || !p.Offers || p.QuietHours != nil || p.Language != pushv1.Language_LANGUAGE_SV {
		t.Errorf("default preferences got %v, want everything on, Swedish, no quiet hours", p)
	}
	want := &pushv1.Preferences{
		Reminders: true, Messages: false, Offers: true, Language: pushv1.Language_LANGUAGE_EN, TimeZone: "Europe/Oslo",
		QuietHours: &pushv1.QuietHours{Start: "22:00", End: "07:30"},
	}
	if _, err := c.UpdatePreferences(ctx, &pushv1.UpdatePreferencesRequest{Preferences: want}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetPreferences(ctx, &pushv1.GetPreferencesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Preferences; p.Messages || p.Language != want.Language || p.TimeZone != "Europe/Oslo" ||
		p.QuietHours.GetStart() != "22:00" || p.QuietHours.GetEnd() != "07:30" {
		t.Errorf("preferences after update got %v, want %v", p, want)
	}
	bad := []struct {
		name string
		p    *pushv1.Preferences
	}{
		{"hour 25", &pushv1.Preferences{QuietHours: &pushv1.QuietHours{Start: "25:00", End: "07:00"}}},
		{"one-digit hour", &pushv1.Preferences{QuietHours: &pushv1.QuietHours{Start: "7:00", End: "08:00"}}},
		{"empty end", &pushv1.Preferences{QuietHours: &pushv1.QuietHours{Start: "22:00"}}},
		{"start equals end", &pushv1.Preferences{QuietHours: &pushv1.QuietHours{Start: "22:00", End: "22:00"}}},
		{"seconds", &pushv1.Preferences{QuietHours: &pushv1.QuietHours{Start: "22:00:00", End: "07:00"}}},
		{"unknown zone", &pushv1.Preferences{TimeZone: "Europe/Atlantis"}},
		{"unknown language", &pushv1.Preferences{Language: pushv1.Language(9)}},
	}
	for _, tt := range bad {
		if _, err := c.UpdatePreferences(ctx, &pushv1.UpdatePreferencesRequest{Preferences: tt.p}); codeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("UpdatePreferences(%s) got %v, want InvalidArgument", tt.name, err)
		}
	}
	if _, err := c.UpdatePreferences(ctx, &pushv1.UpdatePreferencesRequest{}); codeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("UpdatePreferences without preferences got %v, want InvalidArgument", err)
	}
}

func TestInbox(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	opt := e.citizen(t, anna)
	me, err := authv1connect.NewSessionServiceClient(e.client, e.url, opt).GetMe(ctx, &authv1.GetMeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	person := me.Me.Subject
	at, _ := json.Marshal(map[string]any{"at": time.Now().Add(time.Hour).UTC(), "video": true})
	ns := []store.PushNotice{
		{PersonID: person, Kind: "reminder", ReasonID: "a-1", Params: at, Link: "/appointments/a-1", RefID: "a-1", DueAt: time.Now().Add(-time.Minute)},
		{PersonID: person, Kind: "message", ReasonID: "t-1", Link: "/messages/t-1", RefID: "t-1", DueAt: time.Now().Add(-time.Second)},
		{PersonID: person, Kind: "call_in", ReasonID: "v-1", DueAt: time.Now().Add(-time.Second)},
		// Not due yet: not in the inbox.
		{PersonID: person, Kind: "reminder", ReasonID: "a-2", Params: at, DueAt: time.Now().Add(time.Hour)},
	}
	if err := e.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := store.PushNoticesInsertTx(ctx, tx, ns)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c := pushv1connect.NewNotificationServiceClient(e.client, e.url, opt)
	page, err := c.ListNotifications(ctx, &pushv1.ListNotificationsRequest{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Notifications) != 2 || page.NextPageToken == "" || page.UnreadCount != 3 {
		t.Fatalf("first page got %d notices, token %q, unread %d; want 2, a token, 3", len(page.Notifications), page.NextPageToken, page.UnreadCount)
	}
	if k := page.Notifications[0].Kind; k != pushv1.NoticeKind_NOTICE_KIND_CALL_IN {
		t.Errorf("newest notice kind = %v, want call-in", k)
	}
	rest, err := c.ListNotifications(ctx, &pushv1.ListNotificationsRequest{PageToken: page.NextPageToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Notifications) != 1 || rest.NextPageToken != "" {
		t.Fatalf("second page got %d notices, token %q; want 1 and none", len(rest.Notifications), rest.NextPageToken)
	}
	r := rest.Notifications[0]
	if r.Title != "Påminnelse" || !strings.HasPrefix(r.Body, "Du har ett videobesök") || r.Link != "/appointments/a-1" {
		t.Errorf("reminder in the inbox = %q / %q / %q", r.Title, r.Body, r.Link)
	}
	marked, err := c.MarkNotificationsRead(ctx, &pushv1.MarkNotificationsReadRequest{Ids: []string{r.Id}})
	if err != nil || marked.UnreadCount != 2 {
		t.Fatalf("MarkNotificationsRead got %v, %v; want 2 unread", marked, err)
	}
	unread, err := c.ListNotifications(ctx, &pushv1.ListNotificationsRequest{UnreadOnly: true})
	if err != nil || len(unread.Notifications) != 2 {
		t.Fatalf("unread list got %v, %v; want 2", unread, err)
	}
	// Another citizen's ids are ignored.
	other := pushv1connect.NewNotificationServiceClient(e.client, e.url, e.citizen(t, tolvan))
	if res, err := other.MarkNotificationsRead(ctx, &pushv1.MarkNotificationsReadRequest{All: true}); err != nil || res.UnreadCount != 0 {
		t.Errorf("Tolvan's MarkNotificationsRead got %v, %v", res, err)
	}
	if all, err := c.MarkNotificationsRead(ctx, &pushv1.MarkNotificationsReadRequest{All: true}); err != nil || all.UnreadCount != 0 {
		t.Errorf("mark all got %v, %v; want 0 unread", all, err)
	}
	for name, req := range map[string]*pushv1.MarkNotificationsReadRequest{
		"neither ids nor all": {},
		"both":                {Ids: []string{"1"}, All: true},
		"not an id":           {Ids: []string{"abc"}},
	} {
		if _, err := c.MarkNotificationsRead(ctx, req); codeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("MarkNotificationsRead(%s) got %v, want InvalidArgument", name, err)
		}
	}
}
