// Package fcmfake is a local stand-in for Firebase Cloud Messaging's HTTP v1 API and for
// Google's OAuth 2.0 token endpoint, so that the real Firebase Admin SDK — and a client in any
// other language — can send pushes, and meet FCM's errors, with no network and no Google project.
//
// A Fake answers the way Google does: the token endpoint takes a JWT-bearer grant signed by the
// service account's key (which the fake generated and can write out as a service-account JSON
// file whose token_uri points back at the fake), and messages:send checks the bearer token and
// the body, then either records the message or fails it with FCM's real error body. Failures are
// made to happen from Go (MarkDead, FailNext, FailAll) or over HTTP under /fake/, where
// /fake/messages also shows a developer what was "sent".
//
// The fake is for development and tests on loopback only: its control API has no
// authentication, and the private key it serves protects nothing real.
package fcmfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Paths of the endpoints the fake serves, relative to its base URL.
const (
	// TokenPath is the OAuth 2.0 token endpoint; a written service-account file's token_uri is
	// the base URL followed by this path.
	TokenPath = "/token"
	// EndpointPath is the FCM HTTP v1 base path, the part of Endpoint after the base URL.
	EndpointPath = "/v1"
)

// Defaults of Config fields.
const (
	DefaultProjectID = "nara-local"
	DefaultRecent    = 1000
	DefaultAddr      = "127.0.0.1:0"
)

// tokenLifetime is how long an access token lives, the same hour Google grants.
const tokenLifetime = time.Hour

// Config says which project the fake pretends to serve and how it keeps its records. The zero
// value is ready to use.
type Config struct {
	// ProjectID is the Firebase project whose messages:send the fake answers; requests for any
	// other project are refused as Google refuses them. Default DefaultProjectID.
	ProjectID string
	// BaseURL is the URL (scheme, host and port, no path) at which clients reach the fake. It
	// becomes the service-account file's token_uri and the JWT audience the token endpoint
	// expects. Start fills it in; set it only when serving the handler some other way. Default:
	// empty, in which case the audience is taken from each request's Host and ServiceAccountJSON
	// is unavailable.
	BaseURL string
	// Addr is the address Start listens on. Default DefaultAddr (a free loopback port).
	Addr string
	// Recent is how many accepted messages are kept for Messages and /fake/messages; older ones
	// are dropped, while the counters stay exact. Default DefaultRecent.
	Recent int
	// Key is the service account's private key. Default: a fresh 2048-bit RSA key, so that no
	// two fakes trust each other's tokens.
	Key *rsa.PrivateKey
	// Observe, when set, is called with every message the fake accepts, once it is counted and
	// before the answer is written, so that a benchmark can time acknowledgments without a
	// second pass over each request. It must be quick and safe for concurrent use. Default nil.
	Observe func(Sent)
}

// Fake is the FCM stand-in as an http.Handler. It is safe for concurrent use; its hot path
// (token check, send, record, count) takes no lock shared by all requests.
type Fake struct {
	projectID   string
	baseURL     string
	key         *rsa.PrivateKey
	keyID       string
	clientEmail string

	mux  *http.ServeMux
	page *template.Template

	// accessTokens maps each access token granted to its expiry time.
	accessTokens sync.Map
	grants       atomic.Int64

	faults  faults
	log     recorder
	observe func(Sent)
}

// New builds a Fake from cfg, generating the service account's key unless cfg.Key is given.
func New(cfg Config) (*Fake, error) {
	if cfg.ProjectID == "" {
		cfg.ProjectID = DefaultProjectID
	}
	if cfg.Recent <= 0 {
		cfg.Recent = DefaultRecent
	}
	if !validProjectID(cfg.ProjectID) {
		return nil, fmt.Errorf("fcmfake: project id %q is not a valid project id", cfg.ProjectID)
	}
	key := cfg.Key
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("fcmfake: generate service-account key: %w", err)
		}
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("fcmfake: encode public key: %w", err)
	}
	sum := sha256.Sum256(pub)
	page, err := pageTemplate()
	if err != nil {
		return nil, fmt.Errorf("fcmfake: parse page template: %w", err)
	}
	f := &Fake{
		projectID:   cfg.ProjectID,
		baseURL:     strings.TrimSuffix(cfg.BaseURL, "/"),
		key:         key,
		keyID:       hex.EncodeToString(sum[:20]),
		clientEmail: "firebase-adminsdk@" + cfg.ProjectID + ".iam.gserviceaccount.com",
		page:        page,
		log:         newRecorder(cfg.Recent),
		observe:     cfg.Observe,
	}
	f.mux = f.routes()
	return f, nil
}

func (f *Fake) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TokenPath, f.handleToken)
	mux.HandleFunc("POST "+EndpointPath+"/projects/{project}/messages:send", f.handleSend)
	mux.HandleFunc("GET /fake/messages", f.handleMessages)
	mux.HandleFunc("GET /fake/stats", f.handleStats)
	mux.HandleFunc("GET /fake/service-account", f.handleServiceAccount)
	mux.HandleFunc("POST /fake/dead", f.handleDead)
	mux.HandleFunc("DELETE /fake/dead", f.handleDead)
	mux.HandleFunc("POST /fake/fail", f.handleFail)
	mux.HandleFunc("POST /fake/outage", f.handleOutage)
	mux.HandleFunc("DELETE /fake/outage", f.handleOutage)
	mux.HandleFunc("POST /fake/reset", f.handleReset)
	mux.HandleFunc("/", f.handleNotFound)
	return mux
}

// ServeHTTP answers the token endpoint, messages:send and the /fake/ control API.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mux.ServeHTTP(w, r)
}

// ProjectID is the project whose messages the fake accepts.
func (f *Fake) ProjectID() string { return f.projectID }

// ClientEmail is the service account's e-mail address, the issuer the token endpoint expects.
func (f *Fake) ClientEmail() string { return f.clientEmail }

// PublicKey is the key the token endpoint checks assertions against.
func (f *Fake) PublicKey() *rsa.PublicKey { return &f.key.PublicKey }

// BaseURL is where clients reach the fake, or "" when it was not configured.
func (f *Fake) BaseURL() string { return f.baseURL }

// TokenURI is the OAuth 2.0 token endpoint written as token_uri, or "" without a BaseURL.
func (f *Fake) TokenURI() string {
	if f.baseURL == "" {
		return ""
	}
	return f.baseURL + TokenPath
}

// Endpoint is the FCM HTTP v1 base URL to give a sender (for the Admin SDK,
// option.WithEndpoint), or "" without a BaseURL.
func (f *Fake) Endpoint() string {
	if f.baseURL == "" {
		return ""
	}
	return f.baseURL + EndpointPath
}

// ServiceAccountJSON returns a service-account key file in Google's format whose token_uri points
// at the fake, so that Google's credential libraries fetch their tokens here.
func (f *Fake) ServiceAccountJSON() ([]byte, error) {
	if f.baseURL == "" {
		return nil, errors.New("fcmfake: no BaseURL configured, so there is no token_uri to write")
	}
	der, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		return nil, fmt.Errorf("fcmfake: encode private key: %w", err)
	}
	file := struct {
		Type                    string `json:"type"`
		ProjectID               string `json:"project_id"`
		PrivateKeyID            string `json:"private_key_id"`
		PrivateKey              string `json:"private_key"`
		ClientEmail             string `json:"client_email"`
		ClientID                string `json:"client_id"`
		AuthURI                 string `json:"auth_uri"`
		TokenURI                string `json:"token_uri"`
		AuthProviderX509CertURL string `json:"auth_provider_x509_cert_url"`
		ClientX509CertURL       string `json:"client_x509_cert_url"`
		UniverseDomain          string `json:"universe_domain"`
	}{
		Type:                    "service_account",
		ProjectID:               f.projectID,
		PrivateKeyID:            f.keyID,
		PrivateKey:              string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		ClientEmail:             f.clientEmail,
		ClientID:                "100000000000000000000",
		AuthURI:                 f.baseURL + "/auth",
		TokenURI:                f.TokenURI(),
		AuthProviderX509CertURL: f.baseURL + "/certs",
		ClientX509CertURL:       f.baseURL + "/certs/" + f.clientEmail,
		UniverseDomain:          "googleapis.com",
	}
	// Writing the private key out is the point: it is the fake's own and guards nothing real.
	return json.MarshalIndent(file, "", "  ") //nolint:gosec // G117: a fake service account's key
}

// WriteServiceAccount writes ServiceAccountJSON to path, readable by its owner only, as a real
// key file should be.
func (f *Fake) WriteServiceAccount(path string) error {
	b, err := f.ServiceAccountJSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("fcmfake: write service account: %w", err)
	}
	return nil
}

// TokenRequests is how many access tokens the token endpoint has granted, so a test can tell
// that a client really authenticated through token_uri.
func (f *Fake) TokenRequests() int64 { return f.grants.Load() }

// Messages returns the most recently accepted messages (at most Config.Recent), oldest first.
// The maps inside are shared with the fake: read them, do not change them.
func (f *Fake) Messages() []Sent { return f.log.recent() }

// Count is how many messages the fake has accepted since it started or was Reset.
// validate_only requests are not counted.
func (f *Fake) Count() int64 { return f.log.total.Load() }

// Distinct is how many notifications the accepted messages would leave on devices: messages to
// one token with the same CollapseID count once, as the device replaces rather than adds them
// (messages without one each count). Count minus Distinct is how many repeats a user would not
// see twice.
func (f *Fake) Distinct() int64 { return f.log.distinct.Load() }

// CountFor is how many messages the fake has accepted for one device token (or, for topic
// messages, for "/topics/NAME").
func (f *Fake) CountFor(token string) int64 { return f.log.countFor(token) }

// Rejected is how many messages:send requests the fake has answered with an error.
func (f *Fake) Rejected() int64 { return f.log.rejected.Load() }

// Reset forgets the recorded messages, the counters, dead tokens and programmed failures, so that
// one long-lived fake can serve a series of independent scenarios. Access tokens stay valid.
func (f *Fake) Reset() {
	f.faults.reset()
	f.log.reset()
}
