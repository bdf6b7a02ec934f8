package device

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// deviceService keeps citizens' push registrations.
type deviceService struct {
	store *store.Store
}

// checkZone accepts "" or an IANA time zone this server knows.
func checkZone(field, name string) error {
	if name == "" {
		return nil
	}
	if _, err := time.LoadLocation(name); err != nil {
		return rpc.Fail(connect.CodeInvalidArgument, "%s: %q is not a known IANA time zone", field, name)
	}
	return nil
}

func deviceToProto(d store.PushDevice) *pushv1.Device {
	return &pushv1.Device{
		Id: store.FormatID(d.ID), InstallationId: d.InstallationID, Platform: rpc.PlatformFromName[pushv1.Platform](d.Platform),
		AppVersion: d.AppVersion, Locale: d.Locale, TimeZone: d.TimeZone,
		RegisterTime: rpc.Timestamp(d.CreatedAt), UpdateTime: rpc.Timestamp(d.UpdatedAt),
	}
}

func (s *deviceService) RegisterDevice(ctx context.Context, req *pushv1.RegisterDeviceRequest) (*pushv1.RegisterDeviceResponse, error) {
	p, _ := access.FromContext(ctx)
	if err := checkZone("time_zone", req.TimeZone); err != nil {
		return nil, err
	}
	d, err := s.store.PushDeviceRegister(ctx, store.PushDevice{
		PersonID: p.PersonID, InstallationID: req.InstallationId, Token: req.Token, Platform: rpc.PlatformName(req.Platform),
		AppVersion: req.AppVersion, Locale: req.Locale, TimeZone: req.TimeZone, SessionID: p.SessionID,
	})
	if err != nil {
		return nil, err
	}
	return &pushv1.RegisterDeviceResponse{Device: deviceToProto(d)}, nil
}

func (s *deviceService) UnregisterDevice(ctx context.Context, req *pushv1.UnregisterDeviceRequest) (*pushv1.UnregisterDeviceResponse, error) {
	p, _ := access.FromContext(ctx)
	if err := s.store.PushDeviceUnregister(ctx, p.PersonID, req.InstallationId); err != nil {
		return nil, err
	}
	return &pushv1.UnregisterDeviceResponse{}, nil
}

func (s *deviceService) ListDevices(ctx context.Context, _ *pushv1.ListDevicesRequest) (*pushv1.ListDevicesResponse, error) {
	p, _ := access.FromContext(ctx)
	ds, err := s.store.PushDeviceList(ctx, p.PersonID)
	if err != nil {
		return nil, err
	}
	res := &pushv1.ListDevicesResponse{}
	for _, d := range ds {
		res.Devices = append(res.Devices, deviceToProto(d))
	}
	return res, nil
}

func (s *deviceService) RemoveDevice(ctx context.Context, req *pushv1.RemoveDeviceRequest) (*pushv1.RemoveDeviceResponse, error) {
	p, _ := access.FromContext(ctx)
	id, err := store.ParseID(req.Id)
	if err != nil {
		return nil, rpc.Fail(connect.CodeNotFound, "no device %q", req.Id)
	}
	if err := s.store.PushDeviceRemove(ctx, p.PersonID, id); err != nil {
		return nil, err
	}
	return &pushv1.RemoveDeviceResponse{}, nil
}

// notificationService holds citizens' notification preferences and inbox.
type notificationService struct {
	store *store.Store
	now   func() time.Time
}

var languages = map[pushv1.Language]string{pushv1.Language_LANGUAGE_SV: "sv", pushv1.Language_LANGUAGE_EN: "en"}

func hhmm(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// minutesOf parses "HH:MM", which validation has already checked.
func minutesOf(s string) int {
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m
}

func preferencesToProto(p store.PushPreference) *pushv1.Preferences {
	out := &pushv1.Preferences{Reminders: p.Reminders, Messages: p.Messages, Offers: p.Offers, TimeZone: p.TimeZone, Language: pushv1.Language_LANGUAGE_SV}
	if p.Language == "en" {
		out.Language = pushv1.Language_LANGUAGE_EN
	}
	if p.QuietStart >= 0 && p.QuietEnd >= 0 {
		out.QuietHours = &pushv1.QuietHours{Start: hhmm(p.QuietStart), End: hhmm(p.QuietEnd)}
	}
	return out
}

func (s *notificationService) GetPreferences(ctx context.Context, _ *pushv1.GetPreferencesRequest) (*pushv1.GetPreferencesResponse, error) {
	p, _ := access.FromContext(ctx)
	pref, err := s.store.PushPreferenceGet(ctx, p.PersonID)
	if err != nil {
		return nil, err
	}
	return &pushv1.GetPreferencesResponse{Preferences: preferencesToProto(pref)}, nil
}

func (s *notificationService) UpdatePreferences(ctx context.Context, req *pushv1.UpdatePreferencesRequest) (*pushv1.UpdatePreferencesResponse, error) {
	p, _ := access.FromContext(ctx)
	in := req.Preferences
	if err := checkZone("preferences.time_zone", in.TimeZone); err != nil {
		return nil, err
	}
	pref := store.PushPreference{
		PersonID: p.PersonID, Reminders: in.Reminders, Messages: in.Messages, Offers: in.Offers,
		QuietStart: -1, QuietEnd: -1, Language: "sv", TimeZone: in.TimeZone,
	}
	if l, ok := languages[in.Language]; ok {
		pref.Language = l
	}
	if q := in.QuietHours; q != nil {
		pref.QuietStart, pref.QuietEnd = minutesOf(q.Start), minutesOf(q.End)
	}
	if err := s.store.PushPreferencePut(ctx, pref); err != nil {
		return nil, err
	}
	return &pushv1.UpdatePreferencesResponse{Preferences: preferencesToProto(pref)}, nil
}

var noticeKinds = map[string]pushv1.NoticeKind{
	string(notify.KindReminder):     pushv1.NoticeKind_NOTICE_KIND_REMINDER,
	string(notify.KindDelay):        pushv1.NoticeKind_NOTICE_KIND_DELAY,
	string(notify.KindCallIn):       pushv1.NoticeKind_NOTICE_KIND_CALL_IN,
	string(notify.KindMessage):      pushv1.NoticeKind_NOTICE_KIND_MESSAGE,
	string(notify.KindOffer):        pushv1.NoticeKind_NOTICE_KIND_OFFER,
	string(notify.KindMoved):        pushv1.NoticeKind_NOTICE_KIND_MOVED,
	string(notify.KindCancelled):    pushv1.NoticeKind_NOTICE_KIND_CANCELLED,
	string(notify.KindSupportReply): pushv1.NoticeKind_NOTICE_KIND_SUPPORT_REPLY,
}

const defaultInboxPage = 50

func (s *notificationService) ListNotifications(ctx context.Context, req *pushv1.ListNotificationsRequest) (*pushv1.ListNotificationsResponse, error) {
	p, _ := access.FromContext(ctx)
	var before int64
	if req.PageToken != "" {
		var err error
		if before, err = store.ParseID(req.PageToken); err != nil {
			return nil, rpc.Fail(connect.CodeInvalidArgument, "page_token: not a token from a previous response")
		}
	}
	size := int(req.PageSize)
	if size == 0 {
		size = defaultInboxPage
	}
	now := s.now()
	pref, err := s.store.PushPreferenceGet(ctx, p.PersonID)
	if err != nil {
		return nil, err
	}
	loc := time.Local
	if l, err := time.LoadLocation(cmpOr(pref.TimeZone, "Europe/Stockholm")); err == nil {
		loc = l
	}
	ns, err := s.store.PushInboxList(ctx, p.PersonID, before, size+1, req.UnreadOnly, now)
	if err != nil {
		return nil, err
	}
	unread, err := s.store.PushInboxUnread(ctx, p.PersonID, now)
	if err != nil {
		return nil, err
	}
	res := &pushv1.ListNotificationsResponse{UnreadCount: int32(min(unread, 1<<31-1))} //nolint:gosec // bounded above
	if len(ns) > size {
		ns = ns[:size]
		res.NextPageToken = store.FormatID(ns[size-1].ID)
	}
	for _, n := range ns {
		title, body := notify.Text(notify.Kind(n.Kind), n.Params, pref.Language, loc, n.DueAt)
		out := &pushv1.Notification{
			Id: store.FormatID(n.ID), Kind: noticeKinds[n.Kind], Title: title, Body: body, Link: n.Link, RefId: n.RefID,
			CreateTime: rpc.Timestamp(n.DueAt),
		}
		if !n.ReadAt.IsZero() {
			out.ReadTime = rpc.Timestamp(n.ReadAt)
		}
		res.Notifications = append(res.Notifications, out)
	}
	return res, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *notificationService) MarkNotificationsRead(ctx context.Context, req *pushv1.MarkNotificationsReadRequest) (*pushv1.MarkNotificationsReadResponse, error) {
	p, _ := access.FromContext(ctx)
	ids := make([]int64, 0, len(req.Ids))
	for _, raw := range req.Ids {
		id, err := store.ParseID(raw)
		if err != nil {
			return nil, rpc.Fail(connect.CodeInvalidArgument, "ids: %q is not a notification id", raw)
		}
		ids = append(ids, id)
	}
	now := s.now()
	if err := s.store.PushInboxMarkRead(ctx, p.PersonID, ids, req.All, now); err != nil {
		return nil, err
	}
	unread, err := s.store.PushInboxUnread(ctx, p.PersonID, now)
	if err != nil {
		return nil, err
	}
	return &pushv1.MarkNotificationsReadResponse{UnreadCount: int32(min(unread, 1<<31-1))}, nil //nolint:gosec // bounded above
}
