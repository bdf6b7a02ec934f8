package fcmfake

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The wire types below mirror FCM HTTP v1's Message resource with the proto field names the
// Admin SDKs send. Decoding rejects unknown fields as Google does, so a typo in a client shows up
// here rather than in production. Free-form parts (APNs payload, Web Push notification) are kept
// as decoded JSON.

// Message is an FCM v1 message as it arrived. Exactly one of Token, Topic and Condition is set.
type Message struct {
	Name         string            `json:"name,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
	Notification *Notification     `json:"notification,omitempty"`
	Android      *AndroidConfig    `json:"android,omitempty"`
	Webpush      *WebpushConfig    `json:"webpush,omitempty"`
	APNS         *APNSConfig       `json:"apns,omitempty"`
	FCMOptions   *FCMOptions       `json:"fcm_options,omitempty"`
	Token        string            `json:"token,omitempty"`
	Topic        string            `json:"topic,omitempty"`
	Condition    string            `json:"condition,omitempty"`
}

// Notification is the cross-platform notification of a Message.
type Notification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
	Image string `json:"image,omitempty"`
}

// AndroidConfig is the Android-specific part of a Message.
type AndroidConfig struct {
	CollapseKey            string               `json:"collapse_key,omitempty"`
	Priority               string               `json:"priority,omitempty"`
	TTL                    string               `json:"ttl,omitempty"`
	RestrictedPackageName  string               `json:"restricted_package_name,omitempty"`
	Data                   map[string]string    `json:"data,omitempty"`
	Notification           *AndroidNotification `json:"notification,omitempty"`
	FCMOptions             *FCMOptions          `json:"fcm_options,omitempty"`
	DirectBootOK           bool                 `json:"direct_boot_ok,omitempty"`
	BandwidthConstrainedOK bool                 `json:"bandwidth_constrained_ok,omitempty"`
	RestrictedSatelliteOK  bool                 `json:"restricted_satellite_ok,omitempty"`
}

// AndroidNotification is the notification an Android device shows.
type AndroidNotification struct {
	Title                   string          `json:"title,omitempty"`
	Body                    string          `json:"body,omitempty"`
	Icon                    string          `json:"icon,omitempty"`
	Color                   string          `json:"color,omitempty"`
	Sound                   string          `json:"sound,omitempty"`
	Tag                     string          `json:"tag,omitempty"`
	ClickAction             string          `json:"click_action,omitempty"`
	BodyLocKey              string          `json:"body_loc_key,omitempty"`
	BodyLocArgs             []string        `json:"body_loc_args,omitempty"`
	TitleLocKey             string          `json:"title_loc_key,omitempty"`
	TitleLocArgs            []string        `json:"title_loc_args,omitempty"`
	ChannelID               string          `json:"channel_id,omitempty"`
	Ticker                  string          `json:"ticker,omitempty"`
	Sticky                  bool            `json:"sticky,omitempty"`
	EventTime               string          `json:"event_time,omitempty"`
	LocalOnly               bool            `json:"local_only,omitempty"`
	NotificationPriority    string          `json:"notification_priority,omitempty"`
	DefaultSound            bool            `json:"default_sound,omitempty"`
	DefaultVibrateTimings   bool            `json:"default_vibrate_timings,omitempty"`
	DefaultLightSettings    bool            `json:"default_light_settings,omitempty"`
	VibrateTimings          []string        `json:"vibrate_timings,omitempty"`
	Visibility              string          `json:"visibility,omitempty"`
	NotificationCount       *int            `json:"notification_count,omitempty"`
	LightSettings           json.RawMessage `json:"light_settings,omitempty"`
	Image                   string          `json:"image,omitempty"`
	BypassProxyNotification bool            `json:"bypass_proxy_notification,omitempty"`
	Proxy                   string          `json:"proxy,omitempty"`
}

// APNSConfig is the Apple-specific part of a Message: APNs request headers and the JSON payload
// (the "aps" dictionary and custom keys).
type APNSConfig struct {
	Headers           map[string]string `json:"headers,omitempty"`
	Payload           map[string]any    `json:"payload,omitempty"`
	FCMOptions        *APNSFCMOptions   `json:"fcm_options,omitempty"`
	LiveActivityToken string            `json:"live_activity_token,omitempty"`
}

// APNSFCMOptions are FCM features for Apple devices.
type APNSFCMOptions struct {
	AnalyticsLabel string `json:"analytics_label,omitempty"`
	Image          string `json:"image,omitempty"`
}

// WebpushConfig is the Web Push part of a Message.
type WebpushConfig struct {
	Headers      map[string]string  `json:"headers,omitempty"`
	Data         map[string]string  `json:"data,omitempty"`
	Notification map[string]any     `json:"notification,omitempty"`
	FCMOptions   *WebpushFCMOptions `json:"fcm_options,omitempty"`
}

// WebpushFCMOptions are FCM features for browsers; Link is opened on a click.
type WebpushFCMOptions struct {
	Link           string `json:"link,omitempty"`
	AnalyticsLabel string `json:"analytics_label,omitempty"`
}

// FCMOptions are FCM features across platforms.
type FCMOptions struct {
	AnalyticsLabel string `json:"analytics_label,omitempty"`
}

type sendRequest struct {
	ValidateOnly bool     `json:"validate_only,omitempty"`
	Message      *Message `json:"message"`
}

// maxRequestBytes bounds a messages:send body; FCM's own payload limit is 4 KiB.
const maxRequestBytes = 256 << 10

// handleSend is projects.messages.send: authenticate, decode, validate, meet programmed
// failures, then record and name the message.
func (f *Fake) handleSend(w http.ResponseWriter, r *http.Request) {
	if e := f.send(w, r); e != nil {
		f.log.rejected.Add(1)
		e.write(w)
	}
}

func (f *Fake) send(w http.ResponseWriter, r *http.Request) *apiError {
	if !f.authorized(r) {
		return &apiError{
			httpStatus: http.StatusUnauthorized,
			status:     "UNAUTHENTICATED",
			message:    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
		}
	}
	if project := r.PathValue("project"); project != f.projectID {
		return &apiError{
			httpStatus: http.StatusForbidden,
			status:     "PERMISSION_DENIED",
			message:    "Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/" + project + "' (or it may not exist).",
		}
	}
	var req sendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("", "Invalid JSON payload received. "+err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("", "Invalid JSON payload received. Unexpected data after the request object.")
	}
	if req.Message == nil {
		return badRequest("message", "Request contains an invalid argument: message is required.")
	}
	m := req.Message
	m.Topic = strings.TrimPrefix(m.Topic, "/topics/")
	if e := validate(m); e != nil {
		return e
	}
	target := m.Token
	if m.Topic != "" {
		target = "/topics/" + m.Topic
	}
	if e := f.faults.next(target); e != nil {
		return e
	}
	name := "projects/" + f.projectID + "/messages/fake_message_id"
	if !req.ValidateOnly {
		s := f.log.add(f.projectID, target, *m, time.Now())
		name = s.Name
		if f.observe != nil {
			f.observe(*s)
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write([]byte(`{"name":` + strconv.Quote(name) + "}"))
	return nil
}

// validate applies the checks FCM makes on a message before delivering it.
func validate(m *Message) *apiError {
	targets := 0
	for _, t := range []string{m.Token, m.Topic, m.Condition} {
		if t != "" {
			targets++
		}
	}
	if targets != 1 {
		return badRequest("message", "Exactly one of message.token, message.topic or message.condition must be specified.")
	}
	switch {
	case m.Token != "" && !validToken(m.Token):
		return invalidMessage("The registration token is not a valid FCM registration token")
	case m.Topic != "" && !validTopic(m.Topic):
		return badRequest("message.topic", "Invalid topic name: "+m.Topic)
	}
	if e := validateData("message.data", m.Data); e != nil {
		return e
	}
	if a := m.Android; a != nil {
		if e := validateAndroid(a); e != nil {
			return e
		}
	}
	if a := m.APNS; a != nil {
		if e := validateAPNS(a); e != nil {
			return e
		}
	}
	if wp := m.Webpush; wp != nil {
		if e := validateWebpush(wp); e != nil {
			return e
		}
	}
	return nil
}

func validateData(field string, data map[string]string) *apiError {
	for k := range data {
		switch {
		case k == "from", k == "notification", k == "message_type",
			strings.HasPrefix(k, "google."), strings.HasPrefix(k, "gcm."):
			return badRequest(field, "Invalid data payload key: "+k)
		}
	}
	return nil
}

func validateAndroid(a *AndroidConfig) *apiError {
	switch strings.ToUpper(a.Priority) {
	case "", "NORMAL", "HIGH":
	default:
		return badRequest("message.android.priority", "Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), \""+a.Priority+"\"")
	}
	if a.TTL != "" && !validDuration(a.TTL) {
		return badRequest("message.android.ttl", "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), \""+a.TTL+"\"")
	}
	if e := validateData("message.android.data", a.Data); e != nil {
		return e
	}
	n := a.Notification
	if n == nil {
		return nil
	}
	if n.Color != "" && !validColor(n.Color) {
		return invalidMessage("Invalid color value: " + n.Color)
	}
	switch n.NotificationPriority {
	case "", "PRIORITY_UNSPECIFIED", "PRIORITY_MIN", "PRIORITY_LOW", "PRIORITY_DEFAULT", "PRIORITY_HIGH", "PRIORITY_MAX":
	default:
		return badRequest("message.android.notification.notification_priority", "Invalid value at 'message.android.notification.notification_priority', \""+n.NotificationPriority+"\"")
	}
	switch n.Visibility {
	case "", "VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET":
	default:
		return badRequest("message.android.notification.visibility", "Invalid value at 'message.android.notification.visibility', \""+n.Visibility+"\"")
	}
	return nil
}

// maxEpochSeconds bounds apns-expiration: a later value (year 5138 on) is a time in
// milliseconds, a common mistake APNs takes as a date millennia away.
const maxEpochSeconds = 1e11

func validateAPNS(a *APNSConfig) *apiError {
	var pushType, priority string
	for k, v := range a.Headers {
		switch strings.ToLower(k) {
		case "apns-priority":
			if v != "10" && v != "5" && v != "1" {
				return invalidMessage("Invalid APNs priority: " + v)
			}
			priority = v
		case "apns-push-type":
			pushType = v
			switch v {
			case "alert", "background", "location", "voip", "complication", "fileprovider", "mdm", "liveactivity", "pushtotalk", "widgets":
			default:
				return invalidMessage("Invalid APNs push type: " + v)
			}
		case "apns-expiration":
			// A UNIX epoch time in whole seconds: digits only, no sign, no fraction.
			secs, err := strconv.ParseUint(v, 10, 64)
			if err != nil || !allDigits(v) || secs >= maxEpochSeconds {
				return invalidMessage("Invalid APNs expiration, expected epoch seconds: " + v)
			}
		case "apns-collapse-id":
			if len(v) > 64 {
				return invalidMessage("APNs collapse id is longer than 64 bytes.")
			}
		}
	}
	if pushType == "background" && priority == "10" {
		// Apple refuses a background notification sent at the immediate priority.
		return invalidMessage("APNs background notifications must use apns-priority 5 or 1.")
	}
	if aps, ok := a.Payload["aps"]; ok {
		if _, isObject := aps.(map[string]any); !isObject {
			return invalidMessage("Invalid APNs payload: aps must be a dictionary.")
		}
	}
	return nil
}

func validateWebpush(wp *WebpushConfig) *apiError {
	if e := validateData("message.webpush.data", wp.Data); e != nil {
		return e
	}
	for k, v := range wp.Headers {
		switch strings.ToLower(k) {
		case "ttl":
			if _, err := strconv.ParseUint(v, 10, 32); err != nil || !allDigits(v) {
				return invalidMessage("Invalid Web Push TTL: " + v)
			}
		case "urgency":
			switch v {
			case "very-low", "low", "normal", "high":
			default:
				return invalidMessage("Invalid Web Push urgency: " + v)
			}
		}
	}
	if o := wp.FCMOptions; o != nil && o.Link != "" {
		if u, err := url.Parse(o.Link); err != nil || u.Scheme != "https" || u.Host == "" {
			return invalidMessage("Invalid link: the link must use HTTPS.")
		}
	}
	return nil
}

// validToken accepts what FCM registration tokens are made of: letters, digits and -_:.
func validToken(t string) bool {
	if len(t) > 4096 {
		return false
	}
	for _, c := range []byte(t) {
		if !isAlnum(c) && c != '-' && c != '_' && c != ':' && c != '.' {
			return false
		}
	}
	return true
}

// validTopic accepts FCM topic names: [a-zA-Z0-9-_.~%]+.
func validTopic(t string) bool {
	if t == "" || len(t) > 900 {
		return false
	}
	for _, c := range []byte(t) {
		if !isAlnum(c) && !strings.ContainsRune("-_.~%", rune(c)) {
			return false
		}
	}
	return true
}

// validProjectID accepts Google Cloud project ids: lower-case letters, digits and hyphens.
func validProjectID(p string) bool {
	if p == "" || len(p) > 30 {
		return false
	}
	for _, c := range []byte(p) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// maxDurationSeconds is google.protobuf.Duration's range, about 10 000 years.
const maxDurationSeconds = 315576000000

// validDuration accepts the JSON form of a non-negative google.protobuf.Duration: whole seconds
// with, after a point, one to nine decimals, and an "s" ("600s", "3.5s").
func validDuration(d string) bool {
	num, ok := strings.CutSuffix(d, "s")
	if !ok || num == "" {
		return false
	}
	whole, frac, dotted := strings.Cut(num, ".")
	if !allDigits(whole) || (dotted && (!allDigits(frac) || len(frac) > 9)) {
		return false
	}
	secs, err := strconv.ParseUint(whole, 10, 64)
	return err == nil && secs <= maxDurationSeconds
}

// allDigits tells whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validColor(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	_, err := strconv.ParseUint(c[1:], 16, 32)
	return err == nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
