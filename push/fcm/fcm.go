// Package fcm sends the apps' push notifications through Firebase Cloud Messaging's HTTP v1 API
// with the Firebase Admin SDK (firebase.google.com/go/v4/messaging), which reaches Android, iOS
// (through APNs) and browsers (through Web Push) alike.
//
// A Sender takes a platform-neutral Notice and a device token and answers with an Outcome that
// says what to do next: nothing (Delivered), delete the token (TokenGone), try again later
// (Retry), or give up and alert (Permanent). Outcomes never need the SDK's error helpers again.
//
// Credentials and endpoint are settings (FCM_CREDENTIALS_FILE, FCM_ENDPOINT), so that the same
// code talks to Google in production and to push/fcmfake in development and tests.
package fcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"
)

// DefaultEndpoint is Google's FCM HTTP v1 base URL, used when Config.Endpoint is empty.
const DefaultEndpoint = "https://fcm.googleapis.com/v1"

// messagingScope is the OAuth scope messages:send needs.
const messagingScope = "https://www.googleapis.com/auth/firebase.messaging"

// MaxMulticast is the most tokens one SendMulticast takes, FCM's own limit.
const MaxMulticast = 500

// Config says which Firebase project to send as and where FCM is.
type Config struct {
	// CredentialsFile is the path of the Firebase service-account JSON key
	// (FCM_CREDENTIALS_FILE). Required; only type "service_account" is accepted. Its token_uri is
	// where access tokens are fetched: Google's credential library signs a JWT with the file's
	// private key and posts it there, so a fake's file keeps authentication local too.
	CredentialsFile string
	// Endpoint is the FCM HTTP v1 base URL up to and including "/v1" (FCM_ENDPOINT), such as
	// fcmfake's Endpoint(). It is handed to the Admin SDK as option.WithEndpoint, the override
	// the SDK reads for its messaging endpoint, so requests keep their real paths and headers.
	// Plain http is accepted, for a fake on loopback. Default DefaultEndpoint.
	Endpoint string
	// ProjectID is the Firebase project to send as. Default: project_id of CredentialsFile.
	ProjectID string
	// WebBaseURL is the https origin of the web app (with an optional path prefix), under which
	// a notice's Link is opened from a browser notification (webpush.fcm_options.link, which FCM
	// takes only as an absolute https URL). Default: empty, and browser notifications carry the
	// Link as it is in their notification data ("link"), for the web app's service worker.
	WebBaseURL string
}

// Sender sends notices through FCM. It is safe for concurrent use; build one per process.
type Sender struct {
	client  *messaging.Client
	project string
	webBase string
	now     func() time.Time
}

// New reads and checks the service-account file and builds a Sender on the Admin SDK. It makes
// no network call: the first access token is fetched by the first send. ctx bounds only the
// construction.
func New(ctx context.Context, cfg Config) (*Sender, error) {
	if cfg.CredentialsFile == "" {
		return nil, errors.New("fcm: CredentialsFile is required")
	}
	raw, err := os.ReadFile(cfg.CredentialsFile)
	if err != nil {
		return nil, fmt.Errorf("fcm: read credentials: %w", err)
	}
	var sa struct {
		Type        string `json:"type"`
		ProjectID   string `json:"project_id"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(raw, &sa); err != nil {
		return nil, fmt.Errorf("fcm: credentials file %s is not JSON: %w", cfg.CredentialsFile, err)
	}
	switch {
	case sa.Type != "service_account":
		return nil, fmt.Errorf("fcm: credentials file %s holds a %q credential, want a service_account key", cfg.CredentialsFile, sa.Type)
	case sa.ClientEmail == "" || sa.PrivateKey == "":
		return nil, fmt.Errorf("fcm: credentials file %s lacks client_email or private_key", cfg.CredentialsFile)
	}
	project := cfg.ProjectID
	if project == "" {
		project = sa.ProjectID
	}
	if project == "" {
		return nil, errors.New("fcm: no project id in Config or the credentials file")
	}

	// WithAuthCredentialsJSON with the ServiceAccount type, rather than the deprecated
	// WithCredentialsFile, refuses any other kind of credential a misplaced file might hold.
	var opts []option.ClientOption
	if cfg.Endpoint != "" {
		endpoint, err := baseURL("Endpoint", cfg.Endpoint, "http", "https")
		if err != nil {
			return nil, err
		}
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	var webBase string
	if cfg.WebBaseURL != "" {
		if webBase, err = baseURL("WebBaseURL", cfg.WebBaseURL, "https"); err != nil {
			return nil, err
		}
	}

	// The SDK's HTTP client, authenticated as the service account, with its retries stopped.
	base := http.DefaultTransport
	if t, ok := base.(*http.Transport); ok {
		base = t.Clone()
	}
	authed, err := htransport.NewTransport(ctx, base,
		option.WithAuthCredentialsJSON(option.ServiceAccount, raw), option.WithScopes(messagingScope))
	if err != nil {
		return nil, fmt.Errorf("fcm: credentials: %w", err)
	}
	opts = append(opts, option.WithHTTPClient(&http.Client{Transport: noRetry{authed}}))

	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project}, opts...)
	if err != nil {
		return nil, fmt.Errorf("fcm: firebase app: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcm: messaging client: %w", err)
	}
	return &Sender{client: client, project: project, webBase: webBase, now: time.Now}, nil
}

// baseURL checks that raw is an absolute URL with one of schemes, and drops a trailing slash.
func baseURL(field, raw string, schemes ...string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("fcm: %s %q is not an absolute URL", field, raw)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return strings.TrimSuffix(raw, "/"), nil
		}
	}
	return "", fmt.Errorf("fcm: %s %q must use %s", field, raw, strings.Join(schemes, " or "))
}

// ProjectID is the Firebase project the Sender sends as.
func (s *Sender) ProjectID() string { return s.project }

// Send sends n to one device token. Everything FCM, the network or the clock decides is in the
// Outcome; the error is non-nil only for a caller's mistake (an empty token, a Notice that fails
// Validate), and then wraps ErrInvalid. A notice past its Expires is not sent: it comes back as
// Permanent with ReasonExpired.
func (s *Sender) Send(ctx context.Context, token string, n Notice) (Outcome, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: empty device token", ErrInvalid)
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	p, ok := build(n, s.webBase, s.now())
	if !ok {
		return expired(), nil
	}
	name, err := s.client.Send(ctx, &messaging.Message{
		Token:        token,
		Data:         p.data,
		Notification: p.notification,
		Android:      p.android,
		APNS:         p.apns,
		Webpush:      p.webpush,
	})
	if err != nil {
		return outcomeOf(ctx, err), nil
	}
	return Delivered{Name: name}, nil
}

// SendMulticast sends n to up to MaxMulticast device tokens, one FCM request each (the SDK's
// SendEachForMulticast, 50 in flight), and returns one Outcome per token in the same order. Act
// on each: delete the TokenGone ones, requeue the Retry ones. The error is non-nil only for a
// caller's mistake (no tokens, too many, an empty one, an invalid Notice) and wraps ErrInvalid.
func (s *Sender) SendMulticast(ctx context.Context, tokens []string, n Notice) ([]Outcome, error) {
	switch {
	case len(tokens) == 0:
		return nil, fmt.Errorf("%w: no device tokens", ErrInvalid)
	case len(tokens) > MaxMulticast:
		return nil, fmt.Errorf("%w: %d device tokens, at most %d per multicast", ErrInvalid, len(tokens), MaxMulticast)
	}
	for i, t := range tokens {
		if t == "" {
			return nil, fmt.Errorf("%w: device token %d is empty", ErrInvalid, i)
		}
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	outcomes := make([]Outcome, len(tokens))
	p, ok := build(n, s.webBase, s.now())
	if !ok {
		for i := range outcomes {
			outcomes[i] = expired()
		}
		return outcomes, nil
	}
	br, err := s.client.SendEachForMulticast(ctx, &messaging.MulticastMessage{
		Tokens:       tokens,
		Data:         p.data,
		Notification: p.notification,
		Android:      p.android,
		APNS:         p.apns,
		Webpush:      p.webpush,
	})
	if err != nil {
		// The SDK refused the whole batch before sending any of it.
		o := outcomeOf(ctx, err)
		for i := range outcomes {
			outcomes[i] = o
		}
		return outcomes, nil
	}
	for i, r := range br.Responses {
		if r.Success {
			outcomes[i] = Delivered{Name: r.MessageID}
		} else {
			outcomes[i] = outcomeOf(ctx, r.Error)
		}
	}
	return outcomes, nil
}

// SendEach is SendMulticast with one inbox entry per token: token i's message carries
// noticeIDs[i] as its NoticeID (data "notice_id"), the rest of n is shared. The SDK sends the
// messages as SendMulticast does, one request each, 50 in flight.
func (s *Sender) SendEach(ctx context.Context, tokens, noticeIDs []string, n Notice) ([]Outcome, error) {
	switch {
	case len(tokens) == 0:
		return nil, fmt.Errorf("%w: no device tokens", ErrInvalid)
	case len(tokens) > MaxMulticast:
		return nil, fmt.Errorf("%w: %d device tokens, at most %d per multicast", ErrInvalid, len(tokens), MaxMulticast)
	case len(noticeIDs) != len(tokens):
		return nil, fmt.Errorf("%w: %d notice ids for %d device tokens", ErrInvalid, len(noticeIDs), len(tokens))
	}
	for i, t := range tokens {
		if t == "" {
			return nil, fmt.Errorf("%w: device token %d is empty", ErrInvalid, i)
		}
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	outcomes := make([]Outcome, len(tokens))
	n.NoticeID = ""
	p, ok := build(n, s.webBase, s.now())
	if !ok {
		for i := range outcomes {
			outcomes[i] = expired()
		}
		return outcomes, nil
	}
	messages := make([]*messaging.Message, len(tokens))
	for i, t := range tokens {
		q := p.withNoticeID(noticeIDs[i])
		messages[i] = &messaging.Message{
			Token: t, Data: q.data, Notification: q.notification, Android: q.android, APNS: q.apns, Webpush: q.webpush,
		}
	}
	br, err := s.client.SendEach(ctx, messages)
	if err != nil {
		o := outcomeOf(ctx, err)
		for i := range outcomes {
			outcomes[i] = o
		}
		return outcomes, nil
	}
	for i, r := range br.Responses {
		if r.Success {
			outcomes[i] = Delivered{Name: r.MessageID}
		} else {
			outcomes[i] = outcomeOf(ctx, r.Error)
		}
	}
	return outcomes, nil
}

// outcomeOf classifies err, except that a send cut short by ctx is always worth retrying.
func outcomeOf(ctx context.Context, err error) Outcome {
	if ctx.Err() != nil {
		return Retry{Reason: ReasonTransport, Err: errors.Join(ctx.Err(), err)}
	}
	return classify(err)
}

func expired() Outcome {
	return Permanent{Reason: ReasonExpired, Err: errors.New("fcm: notice expired before it was sent")}
}
