package fcm

import (
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"

	"firebase.google.com/go/v4/messaging"
)

// Category says what a notice is about. It is part of the contract with the apps: it names the
// Android notification channel (the app creates one channel per category, with the same id) and
// the APNs notification category, and it sets how urgently the platforms deliver the notice.
// A Notice marked Urgent goes at high priority whatever its category.
//
//	category  Android priority  APNs priority  iOS interruption level  lifetime
//	general   normal            5              active                  Expires, at most 4 weeks
//	message   normal            5              active                  Expires, at most 4 weeks
//	reminder  normal            5              active                  Expires, at most 4 weeks
//	call_in   high              10             time-sensitive          10 minutes unless Expires says otherwise
type Category string

// The categories of notices Nära sends.
const (
	// CategoryGeneral is for anything without a category of its own.
	CategoryGeneral Category = "general"
	// CategoryMessage announces a new secure message from the care unit.
	CategoryMessage Category = "message"
	// CategoryReminder reminds of an upcoming appointment.
	CategoryReminder Category = "reminder"
	// CategoryCallIn tells the patient that the clinician is ready for the video visit now; it
	// is worthless minutes later, so it is delivered at once and expires soon.
	CategoryCallIn Category = "call_in"
)

// callInLifetime is how long a call-in notice is worth delivering when Expires is not set.
const callInLifetime = 10 * time.Minute

// maxLifetime is FCM's longest time to live, four weeks; a longer Expires is cut to it.
const maxLifetime = 28 * 24 * time.Hour

// maxThreadBytes is APNs' limit on apns-collapse-id, which Thread becomes.
const maxThreadBytes = 64

// maxTextBytes bounds title and body together, well inside FCM's 4 KiB payload limit.
const maxTextBytes = 2048

// Notice is one push notification in platform-neutral terms; the Sender turns it into the
// Android, APNs and Web Push parts of an FCM message.
//
// Lock-screen rule: Title and Body are shown on a locked phone, in notification history and on
// paired watches, and they pass through Google and Apple. They must never reveal health
// information: no diagnosis, test, result, medication, clinic type or clinician's specialty, not
// even the name of the care unit when that tells something ("Ungdomsmottagningen",
// "Psykiatri"). Write "Du har ett nytt meddelande" or "Det är dags för ditt videobesök", and let
// the app fetch the details by ID over its authenticated API after the user unlocks it. The same
// goes for Link, ID, NoticeID and Thread, which travel in the payload: opaque identifiers only. Android
// notices are also marked private, so a secure lock screen hides their text; iOS leaves that to
// the user's "Show Previews" setting.
type Notice struct {
	// Title is the notification's headline, localized by the caller. Required.
	Title string
	// Body is the notification's text, localized by the caller.
	Body string
	// Link is the path inside the app to open on a tap, such as "/visits/8f3c"; it must start
	// with "/". The web app gets it as an absolute link under Config.WebBaseURL.
	Link string
	// ID is an opaque identifier the app uses to fetch the details behind the notice.
	ID string
	// NoticeID is the id of the inbox entry the push announces, so that a tap can mark it read
	// (NotificationService.MarkNotificationsRead). It travels as data "notice_id".
	NoticeID string
	// Urgent sends the notice at high priority (Android "high", apns-priority 10, Web Push
	// Urgency high): for what is worthless minutes later, such as a call-in, a cancellation or
	// the last reminder before a video visit. Default: as the category says.
	Urgent bool
	// Thread groups related notices (iOS thread, Android tag) and lets a newer notice replace an
	// older one not yet delivered (collapse key). At most 64 bytes.
	Thread string
	// Category picks channel, priority and lifetime. Default CategoryGeneral.
	Category Category
	// Badge, when set, is the number the iOS app icon (and supporting Android launchers) shows.
	Badge *int
	// Expires, when set, is when the notice stops being worth delivering; FCM, APNs and Web
	// Push drop it after that (at most four weeks ahead: FCM's own limit and default). Default:
	// none, except for CategoryCallIn.
	Expires time.Time
	// Platform, when set, is the platform every target token belongs to (a registration token
	// names one app installation, on one platform); the message then carries only that
	// platform's options, which FCM ignores for the others anyway, and costs a third to encode.
	// Default: all three platforms' options.
	Platform Platform
}

// Platform is where a registration token's app runs.
type Platform string

// The platforms FCM reaches.
const (
	PlatformAndroid Platform = "android"
	PlatformIOS     Platform = "ios"
	PlatformWeb     Platform = "web"
)

// Validate reports whether n can be sent as it is.
func (n Notice) Validate() error {
	switch {
	case strings.TrimSpace(n.Title) == "":
		return fmt.Errorf("%w: notice has no title", ErrInvalid)
	case len(n.Title)+len(n.Body) > maxTextBytes:
		return fmt.Errorf("%w: notice title and body exceed %d bytes", ErrInvalid, maxTextBytes)
	case len(n.Thread) > maxThreadBytes:
		return fmt.Errorf("%w: notice thread exceeds %d bytes", ErrInvalid, maxThreadBytes)
	}
	if n.Link != "" {
		u, err := url.Parse(n.Link)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(n.Link, "/") || strings.HasPrefix(n.Link, "//") {
			return fmt.Errorf("%w: notice link %q is not a path inside the app", ErrInvalid, n.Link)
		}
	}
	switch n.Category {
	case "", CategoryGeneral, CategoryMessage, CategoryReminder, CategoryCallIn:
	default:
		return fmt.Errorf("%w: unknown notice category %q", ErrInvalid, n.Category)
	}
	switch n.Platform {
	case "", PlatformAndroid, PlatformIOS, PlatformWeb:
	default:
		return fmt.Errorf("%w: unknown platform %q", ErrInvalid, n.Platform)
	}
	if n.Badge != nil && *n.Badge < 0 {
		return fmt.Errorf("%w: negative badge", ErrInvalid)
	}
	return nil
}

// payload is a Notice rendered for FCM, without a target.
type payload struct {
	data         map[string]string
	notification *messaging.Notification
	android      *messaging.AndroidConfig
	apns         *messaging.APNSConfig
	webpush      *messaging.WebpushConfig
}

// build renders n for FCM at time now. It returns ok false when n has already expired.
func build(n Notice, webBase string, now time.Time) (p payload, ok bool) {
	cat := n.Category
	if cat == "" {
		cat = CategoryGeneral
	}
	callIn := cat == CategoryCallIn
	expires := n.Expires
	if expires.IsZero() && callIn {
		expires = now.Add(callInLifetime)
	}
	if !expires.IsZero() && expires.Sub(now) > maxLifetime {
		expires = now.Add(maxLifetime)
	}
	high := callIn || n.Urgent
	var ttl time.Duration
	if !expires.IsZero() {
		// Whole seconds: Web Push and apns-expiration have no finer unit.
		if ttl = expires.Sub(now).Truncate(time.Second); ttl <= 0 {
			return payload{}, false
		}
	}

	data := map[string]string{"category": string(cat)}
	custom := map[string]any{}
	for k, v := range map[string]string{"link": n.Link, "id": n.ID, "thread": n.Thread, "notice_id": n.NoticeID} {
		if v != "" {
			data[k] = v
			custom[k] = v
		}
	}

	android := &messaging.AndroidConfig{
		CollapseKey: n.Thread,
		Priority:    "normal",
		Notification: &messaging.AndroidNotification{
			ChannelID:         string(cat),
			Tag:               n.Thread,
			Visibility:        messaging.VisibilityPrivate,
			Priority:          messaging.PriorityDefault,
			DefaultSound:      true,
			NotificationCount: n.Badge,
		},
	}
	if high {
		android.Priority = "high"
		android.Notification.Priority = messaging.PriorityHigh
	}
	if ttl > 0 {
		android.TTL = &ttl
	}

	apnsPriority := "5"
	if high {
		apnsPriority = "10"
	}
	headers := map[string]string{"apns-push-type": "alert", "apns-priority": apnsPriority}
	if n.Thread != "" {
		headers["apns-collapse-id"] = n.Thread
	}
	if ttl > 0 {
		headers["apns-expiration"] = strconv.FormatInt(now.Add(ttl).Unix(), 10)
	}
	aps := &messaging.Aps{
		Sound:    "default",
		Badge:    n.Badge,
		ThreadID: n.Thread,
		Category: string(cat),
	}
	if callIn {
		aps.CustomData = map[string]any{"interruption-level": "time-sensitive"}
	}
	apnsPayload := &messaging.APNSPayload{Aps: aps}
	if len(custom) > 0 {
		apnsPayload.CustomData = custom
	}

	webHeaders := map[string]string{"Urgency": "normal"}
	if high {
		webHeaders["Urgency"] = "high"
	}
	if ttl > 0 {
		webHeaders["TTL"] = strconv.FormatInt(int64(ttl/time.Second), 10)
	}
	webpush := &messaging.WebpushConfig{
		Headers: webHeaders,
		Notification: &messaging.WebpushNotification{
			Tag:                n.Thread,
			RequireInteraction: callIn,
			Renotify:           callIn && n.Thread != "",
		},
	}
	if n.Link != "" {
		// FCM opens fcm_options.link on a click, but takes only an absolute https URL; without a
		// web base the service worker opens the relative link from the notification's data.
		webpush.Notification.Data = map[string]string{"link": n.Link}
		if webBase != "" {
			webpush.FCMOptions = &messaging.WebpushFCMOptions{Link: webBase + n.Link}
		}
	}

	p = payload{data: data, notification: &messaging.Notification{Title: n.Title, Body: n.Body}}
	if n.Platform == "" || n.Platform == PlatformAndroid {
		p.android = android
	}
	if n.Platform == "" || n.Platform == PlatformIOS {
		p.apns = &messaging.APNSConfig{Headers: headers, Payload: apnsPayload}
	}
	if n.Platform == "" || n.Platform == PlatformWeb {
		p.webpush = webpush
	}
	return p, true
}

// withNoticeID is p with its data and APNs custom keys carrying notice_id id; p is not changed.
func (p payload) withNoticeID(id string) payload {
	if id == "" {
		return p
	}
	data := maps.Clone(p.data)
	data["notice_id"] = id
	p.data = data
	if p.apns != nil {
		apns := *p.apns
		pl := *apns.Payload
		custom := maps.Clone(pl.CustomData)
		if custom == nil {
			custom = map[string]any{}
		}
		custom["notice_id"] = id
		pl.CustomData = custom
		apns.Payload = &pl
		p.apns = &apns
	}
	return p
}
