package fcmfake_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nara-care/nara/push/fcmfake"
)

// env is a running fake with the key behind its service account, so tests can sign assertions.
type env struct {
	srv *fcmfake.Server
	key *rsa.PrivateKey
}

func setup(t *testing.T) *env {
	t.Helper()
	key := newKey(t)
	srv, err := fcmfake.Start(fcmfake.Config{Key: key, Recent: 50})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &env{srv: srv, key: key}
}

func newKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return key
}

// claims are the JWT claims of a service-account assertion, as Google's libraries write them.
func (e *env) claims() map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss":   e.srv.ClientEmail(),
		"scope": "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/firebase",
		"aud":   e.srv.TokenURI(),
		"iat":   now,
		"exp":   now + 3600,
	}
}

func sign(t testing.TB, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := seg(header) + "." + seg(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func rs256() map[string]any { return map[string]any{"alg": "RS256", "typ": "JWT"} }

func postForm(t testing.TB, h http.Handler, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// accessToken trades a valid assertion for an access token.
func (e *env) accessToken(t testing.TB) string {
	t.Helper()
	rec := postForm(t, e.srv, e.srv.TokenURI(), url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {sign(t, e.key, rs256(), e.claims())},
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("token grant: status %d, body %s", rec.Code, rec.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		t.Fatalf("token body: %v", err)
	}
	if tok.AccessToken == "" || tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" {
		t.Fatalf("token body = %s, want an access token for 3600 s of type Bearer", rec.Body)
	}
	return tok.AccessToken
}

// send posts body to messages:send of project with bearer, straight into the handler.
func send(t testing.TB, h http.Handler, project, bearer, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/projects/"+project+"/messages:send", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// googleError is the body of every error messages:send answers with.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type      string `json:"@type"`
			ErrorCode string `json:"errorCode"`
			Reason    string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

func decodeError(t testing.TB, rec *httptest.ResponseRecorder) googleError {
	t.Helper()
	var ge googleError
	if err := json.Unmarshal(rec.Body.Bytes(), &ge); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	if ge.Error.Code != rec.Code {
		t.Errorf("error.code = %d, want the HTTP status %d", ge.Error.Code, rec.Code)
	}
	return ge
}

func (ge googleError) fcmCode() string {
	for _, d := range ge.Error.Details {
		if d.Type == "type.googleapis.com/google.firebase.fcm.v1.FcmError" {
			return d.ErrorCode
		}
	}
	return ""
}

func tokenMessage(token string) string {
	return fmt.Sprintf(`{"message":{"token":%q,"notification":{"title":"Nytt meddelande","body":"Logga in för att läsa."},"data":{"id":"m-1"}}}`, token)
}

func TestServiceAccountJSON(t *testing.T) {
	t.Parallel()
	e := setup(t)

	path := filepath.Join(t.TempDir(), "sa.json")
	if err := e.srv.WriteServiceAccount(path); err != nil {
		t.Fatalf("WriteServiceAccount: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sa map[string]string
	if err := json.Unmarshal(b, &sa); err != nil {
		t.Fatalf("service account JSON: %v", err)
	}
	want := map[string]string{
		"type":         "service_account",
		"project_id":   fcmfake.DefaultProjectID,
		"client_email": e.srv.ClientEmail(),
		"token_uri":    e.srv.URL + "/token",
	}
	for k, v := range want {
		if sa[k] != v {
			t.Errorf("service account %s = %q, want %q", k, sa[k], v)
		}
	}
	block, _ := pem.Decode([]byte(sa["private_key"]))
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("private_key is not a PEM PRIVATE KEY block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("private_key: %v", err)
	}
	if !key.(*rsa.PrivateKey).PublicKey.Equal(e.srv.PublicKey()) {
		t.Errorf("private_key does not match the key the token endpoint verifies with")
	}
	if e.srv.Endpoint() != e.srv.URL+"/v1" {
		t.Errorf("Endpoint() = %q, want %q", e.srv.Endpoint(), e.srv.URL+"/v1")
	}

	bare, err := fcmfake.New(fcmfake.Config{Key: e.key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.ServiceAccountJSON(); err == nil {
		t.Errorf("ServiceAccountJSON without BaseURL: got no error, want one")
	}
}

func TestTokenGrant(t *testing.T) {
	t.Parallel()
	e := setup(t)
	stranger := newKey(t)

	tests := []struct {
		name      string
		grant     string
		header    map[string]any
		key       *rsa.PrivateKey
		claims    func(map[string]any)
		assertion string
		wantCode  int
		wantError string
	}{
		{name: "valid", wantCode: http.StatusOK},
		{name: "firebase.messaging scope", claims: func(c map[string]any) { c["scope"] = "https://www.googleapis.com/auth/firebase.messaging" }, wantCode: http.StatusOK},
		{name: "wrong grant type", grant: "client_credentials", wantCode: http.StatusBadRequest, wantError: "unsupported_grant_type"},
		{name: "signed by another key", key: stranger, wantCode: http.StatusBadRequest, wantError: "invalid_grant"},
		{name: "not a JWT", assertion: "abc", wantCode: http.StatusBadRequest, wantError: "invalid_grant"},
		{name: "HS256", header: map[string]any{"alg": "HS256", "typ": "JWT"}, wantCode: http.StatusBadRequest, wantError: "invalid_grant"},
		{name: "other issuer", claims: func(c map[string]any) { c["iss"] = "someone@else.iam.gserviceaccount.com" }, wantCode: http.StatusBadRequest, wantError: "invalid_grant"},
		{name: "Google's audience", claims: func(c map[string]any) { c["aud"] = "https://oauth2.googleapis.com/token" }, wantCode: http.StatusBadRequest, wantError: "invalid_grant"},
		{name: "no messaging scope", claims: func(c map[string]any) { c["scope"] = "https://www.googleapis.com/auth/userinfo.email" }, wantCode: http.StatusBadRequest, wantError: "invalid_scope"},
		{name: "expired", claims: func(c map[string]any) {
			c["iat"] = time.Now().Add(-3 * time.Hour).Unix()
			c["exp"] = time.Now().Add(-2 * time.Hour).Unix()
		}, wantCode: http.StatusBadRequest, wantError: "invalid_grant"},
		{name: "longer than an hour", claims: func(c map[string]any) { c["exp"] = time.Now().Add(2 * time.Hour).Unix() }, wantCode: http.StatusBadRequest, wantError: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			grant := tt.grant
			if grant == "" {
				grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
			}
			header, key, claims := rs256(), e.key, e.claims()
			if tt.header != nil {
				header = tt.header
			}
			if tt.key != nil {
				key = tt.key
			}
			if tt.claims != nil {
				tt.claims(claims)
			}
			assertion := tt.assertion
			if assertion == "" {
				assertion = sign(t, key, header, claims)
			}
			before := e.srv.TokenRequests()
			rec := postForm(t, e.srv, e.srv.TokenURI(), url.Values{"grant_type": {grant}, "assertion": {assertion}})
			if rec.Code != tt.wantCode {
				t.Fatalf("POST /token: status %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantError == "" {
				if e.srv.TokenRequests() <= before {
					t.Errorf("TokenRequests did not grow after a granted token")
				}
				return
			}
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("error body: %v", err)
			}
			if body.Error != tt.wantError || body.Description == "" {
				t.Errorf("error = %q (%q), want %q with a description", body.Error, body.Description, tt.wantError)
			}
		})
	}
}

func TestSendAccepts(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)

	body := `{"message":{
		"token":"dev:APA91b-x_1",
		"notification":{"title":"Dags för videobesök","body":"Vårdpersonalen väntar."},
		"data":{"id":"v-7","link":"/visits/v-7"},
		"android":{"priority":"high","ttl":"600s","collapse_key":"visit","notification":{"channel_id":"call_in","tag":"visit","notification_priority":"PRIORITY_HIGH","visibility":"PRIVATE"}},
		"apns":{"headers":{"apns-priority":"10","apns-push-type":"alert"},"payload":{"aps":{"alert":{"title":"Dags"},"thread-id":"visit","sound":"default"},"link":"/visits/v-7"}},
		"webpush":{"headers":{"Urgency":"high","TTL":"600"},"notification":{"title":"Dags","requireInteraction":true},"fcm_options":{"link":"https://nara.test/visits/v-7"}}
	}}`
	rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("send: status %d, body %s", rec.Code, rec.Body)
	}
	var got struct{ Name string }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Name, "projects/"+fcmfake.DefaultProjectID+"/messages/") {
		t.Errorf("name = %q, want projects/%s/messages/ID", got.Name, fcmfake.DefaultProjectID)
	}
	if e.srv.Count() != 1 || e.srv.CountFor("dev:APA91b-x_1") != 1 || e.srv.CountFor("other") != 0 {
		t.Errorf("Count() = %d, CountFor = %d, want 1 and 1", e.srv.Count(), e.srv.CountFor("dev:APA91b-x_1"))
	}
	msgs := e.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("Messages() has %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Name != got.Name || m.Seq != 1 || time.Since(m.Time) > time.Minute {
		t.Errorf("recorded %q seq %d at %v, want %q seq 1 now", m.Name, m.Seq, m.Time, got.Name)
	}
	checks := []struct{ what, got, want string }{
		{"title", m.Message.Notification.Title, "Dags för videobesök"},
		{"data id", m.Message.Data["id"], "v-7"},
		{"android channel", m.Message.Android.Notification.ChannelID, "call_in"},
		{"android priority", m.Message.Android.Priority, "high"},
		{"apns priority", m.Message.APNS.Headers["apns-priority"], "10"},
		{"apns thread", m.Message.APNS.Payload["aps"].(map[string]any)["thread-id"].(string), "visit"},
		{"webpush link", m.Message.Webpush.FCMOptions.Link, "https://nara.test/visits/v-7"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("recorded %s = %q, want %q", c.what, c.got, c.want)
		}
	}

	topic := send(t, e.srv, fcmfake.DefaultProjectID, bearer, `{"message":{"topic":"news","data":{"a":"b"}}}`)
	if topic.Code != http.StatusOK || e.srv.CountFor("/topics/news") != 1 || e.srv.Count() != 2 {
		t.Errorf("topic send: status %d, CountFor(/topics/news) = %d, Count() = %d; want 200, 1, 2", topic.Code, e.srv.CountFor("/topics/news"), e.srv.Count())
	}
}

func TestSendRejects(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)

	tests := []struct {
		name       string
		project    string
		bearer     string
		body       string
		wantCode   int
		wantStatus string
		wantFCM    string
	}{
		{name: "no bearer", bearer: "-", body: tokenMessage("t1"), wantCode: 401, wantStatus: "UNAUTHENTICATED"},
		{name: "unknown bearer", bearer: "ya29.made-up", body: tokenMessage("t1"), wantCode: 401, wantStatus: "UNAUTHENTICATED"},
		{name: "other project", project: "someone-else", body: tokenMessage("t1"), wantCode: 403, wantStatus: "PERMISSION_DENIED"},
		{name: "not JSON", body: `{"message":`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "unknown field", body: `{"message":{"token":"t1","titel":"x"}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "unknown android field", body: `{"message":{"token":"t1","android":{"notification":{"chanel_id":"x"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "data value not a string", body: `{"message":{"token":"t1","data":{"n":12}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "trailing data", body: tokenMessage("t1") + `{}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "no message", body: `{}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "no target", body: `{"message":{"data":{"a":"b"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "two targets", body: `{"message":{"token":"t1","topic":"news"}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "malformed token", body: tokenMessage("not a token!"), wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "malformed topic", body: `{"message":{"topic":"a b"}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "reserved data key", body: `{"message":{"token":"t1","data":{"from":"x"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android priority", body: `{"message":{"token":"t1","android":{"priority":"urgent"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android ttl", body: `{"message":{"token":"t1","android":{"ttl":"10m"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android color", body: `{"message":{"token":"t1","android":{"notification":{"color":"red"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "apns priority", body: `{"message":{"token":"t1","apns":{"headers":{"apns-priority":"7"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "apns push type", body: `{"message":{"token":"t1","apns":{"headers":{"apns-push-type":"loud"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "aps not a dictionary", body: `{"message":{"token":"t1","apns":{"payload":{"aps":"x"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "webpush link not https", body: `{"message":{"token":"t1","webpush":{"fcm_options":{"link":"http://nara.test/x"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "webpush urgency", body: `{"message":{"token":"t1","webpush":{"headers":{"Urgency":"asap"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "android ttl without seconds", body: `{"message":{"token":"t1","android":{"ttl":"3.5"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android ttl with an empty fraction", body: `{"message":{"token":"t1","android":{"ttl":"3.s"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android ttl negative", body: `{"message":{"token":"t1","android":{"ttl":"-1s"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android ttl as a number", body: `{"message":{"token":"t1","android":{"ttl":600}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android ttl beyond Duration", body: `{"message":{"token":"t1","android":{"ttl":"999999999999s"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android priority from the notification enum", body: `{"message":{"token":"t1","android":{"priority":"PRIORITY_HIGH"}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "android data value not a string", body: `{"message":{"token":"t1","android":{"data":{"notice_id":42}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "webpush data value not a string", body: `{"message":{"token":"t1","webpush":{"data":{"ok":true}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "apns expiration in milliseconds", body: `{"message":{"token":"t1","apns":{"headers":{"apns-expiration":"1796220609000"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "apns expiration negative", body: `{"message":{"token":"t1","apns":{"headers":{"apns-expiration":"-1"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "apns expiration signed", body: `{"message":{"token":"t1","apns":{"headers":{"apns-expiration":"+1796220609"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "apns expiration a date", body: `{"message":{"token":"t1","apns":{"headers":{"apns-expiration":"2026-12-02T15:00:00Z"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "apns background at priority 10", body: `{"message":{"token":"t1","apns":{"headers":{"apns-push-type":"background","apns-priority":"10"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "webpush TTL signed", body: `{"message":{"token":"t1","webpush":{"headers":{"TTL":"+60"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
		{name: "webpush TTL fractional", body: `{"message":{"token":"t1","webpush":{"headers":{"TTL":"1.5"}}}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			project, b := tt.project, tt.bearer
			if project == "" {
				project = fcmfake.DefaultProjectID
			}
			switch b {
			case "":
				b = bearer
			case "-":
				b = ""
			}
			rec := send(t, e.srv, project, b, tt.body)
			if rec.Code != tt.wantCode {
				t.Fatalf("send: status %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			ge := decodeError(t, rec)
			if ge.Error.Status != tt.wantStatus || ge.Error.Message == "" {
				t.Errorf("error.status = %q (%q), want %q with a message", ge.Error.Status, ge.Error.Message, tt.wantStatus)
			}
			if got := ge.fcmCode(); got != tt.wantFCM {
				t.Errorf("FcmError code = %q, want %q", got, tt.wantFCM)
			}
		})
	}
	t.Cleanup(func() {
		if e.srv.Count() != 0 || e.srv.Rejected() != int64(len(tests)) {
			t.Errorf("after rejections: Count() = %d, Rejected() = %d; want 0 and %d", e.srv.Count(), e.srv.Rejected(), len(tests))
		}
	})
}

func TestValidateOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)
	e.srv.MarkDead("gone")

	rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, `{"validate_only":true,"message":{"token":"alive"}}`)
	if rec.Code != http.StatusOK || !strings.HasSuffix(rec.Body.String(), `/messages/fake_message_id"}`) {
		t.Errorf("validate_only: status %d body %s, want 200 with fake_message_id", rec.Code, rec.Body)
	}
	if e.srv.Count() != 0 || len(e.srv.Messages()) != 0 {
		t.Errorf("validate_only was recorded: Count() = %d", e.srv.Count())
	}
	rec = send(t, e.srv, fcmfake.DefaultProjectID, bearer, `{"validate_only":true,"message":{"token":"gone"}}`)
	if rec.Code != http.StatusNotFound || decodeError(t, rec).fcmCode() != "UNREGISTERED" {
		t.Errorf("validate_only to a dead token: status %d body %s, want 404 UNREGISTERED", rec.Code, rec.Body)
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)

	tests := []struct {
		code       fcmfake.Code
		wantCode   int
		wantStatus string
		wantFCM    string
	}{
		{fcmfake.Unregistered, 404, "NOT_FOUND", "UNREGISTERED"},
		{fcmfake.InvalidArgument, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{fcmfake.QuotaExceeded, 429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"},
		{fcmfake.Unavailable, 503, "UNAVAILABLE", "UNAVAILABLE"},
		{fcmfake.Internal, 500, "INTERNAL", "INTERNAL"},
		{fcmfake.SenderIDMismatch, 403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"},
		{fcmfake.ThirdPartyAuthError, 401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"},
		{fcmfake.ProjectQuotaExceeded, 429, "RESOURCE_EXHAUSTED", ""},
	}
	if len(tests) != len(fcmfake.Codes()) {
		t.Fatalf("the table covers %d codes, Codes() has %d", len(tests), len(fcmfake.Codes()))
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			t.Parallel()
			token := "tok-" + strings.ToLower(string(tt.code))
			e.srv.FailNext(token, tt.code, 2, 1500*time.Millisecond)
			for i := range 2 {
				rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage(token))
				if rec.Code != tt.wantCode {
					t.Fatalf("send %d: status %d, want %d; body %s", i, rec.Code, tt.wantCode, rec.Body)
				}
				ge := decodeError(t, rec)
				if ge.Error.Status != tt.wantStatus || ge.fcmCode() != tt.wantFCM {
					t.Errorf("error = %s/%q, want %s/%q", ge.Error.Status, ge.fcmCode(), tt.wantStatus, tt.wantFCM)
				}
				if ra := rec.Header().Get("Retry-After"); ra != "2" {
					t.Errorf("Retry-After = %q, want 2 (1.5 s rounded up)", ra)
				}
				if tt.code == fcmfake.ProjectQuotaExceeded && (len(ge.Error.Details) != 1 || ge.Error.Details[0].Reason != "RATE_LIMIT_EXCEEDED") {
					t.Errorf("project quota details = %+v, want one ErrorInfo with reason RATE_LIMIT_EXCEEDED", ge.Error.Details)
				}
			}
			if rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage(token)); rec.Code != http.StatusOK {
				t.Errorf("third send: status %d, want 200 once the queue is used up", rec.Code)
			}
		})
	}
}

func TestFailureOrder(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)

	e.srv.FailNext("t1", fcmfake.Unavailable, 2, 0)
	e.srv.FailNext("t1", fcmfake.QuotaExceeded, 1, time.Minute)
	e.srv.MarkDead("t1")
	want := []int{503, 503, 429, 404, 404}
	for i, w := range want {
		rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage("t1"))
		if rec.Code != w {
			t.Errorf("send %d: status %d, want %d", i, rec.Code, w)
		}
		if got := rec.Header().Get("Retry-After"); (w == 429) != (got == "60") {
			t.Errorf("send %d: Retry-After = %q", i, got)
		}
	}
	e.srv.Revive("t1")
	if rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage("t1")); rec.Code != http.StatusOK {
		t.Errorf("after Revive: status %d, want 200", rec.Code)
	}
}

func TestOutage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)

	e.srv.FailAll(fcmfake.QuotaExceeded, 2, 30*time.Second)
	for i, w := range []int{429, 429, 200, 200} {
		if rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage(fmt.Sprintf("t%d", i))); rec.Code != w {
			t.Errorf("counted outage, send %d: status %d, want %d", i, rec.Code, w)
		}
	}
	e.srv.FailAll(fcmfake.Unavailable, 0, 0)
	for i := range 5 {
		if rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage("t")); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("open-ended outage, send %d: status %d, want 503", i, rec.Code)
		}
	}
	e.srv.Recover()
	if rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage("t")); rec.Code != http.StatusOK {
		t.Errorf("after Recover: status %d, want 200", rec.Code)
	}
	if e.srv.Count() != 3 || e.srv.Rejected() != 7 {
		t.Errorf("Count() = %d, Rejected() = %d; want 3 and 7", e.srv.Count(), e.srv.Rejected())
	}
}

// TestControlAPI drives the fake the way a test in another language would: over HTTP only.
func TestControlAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)
	base := e.srv.URL

	do := func(method, path, body string, wantCode int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(path, "/v1/") {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantCode {
			t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, wantCode, b)
		}
		return b
	}
	sendPath := "/v1/projects/" + fcmfake.DefaultProjectID + "/messages:send"

	do("POST", "/fake/dead", `{"tokens":["dead-1"]}`, 204)
	do("POST", sendPath, tokenMessage("dead-1"), 404)
	do("DELETE", "/fake/dead", `{"tokens":["dead-1"]}`, 204)
	do("POST", sendPath, tokenMessage("dead-1"), 200)

	do("POST", "/fake/fail", `{"token":"t2","code":"QUOTA_EXCEEDED","count":1,"retry_after_seconds":5}`, 204)
	do("POST", sendPath, tokenMessage("t2"), 429)
	do("POST", sendPath, tokenMessage("t2"), 200)
	do("POST", "/fake/fail", `{"token":"t2","code":"NOPE"}`, 400)
	do("POST", "/fake/fail", `{"code":"INTERNAL"}`, 400)

	do("POST", "/fake/outage", `{"code":"UNAVAILABLE","retry_after_seconds":1}`, 204)
	do("POST", sendPath, tokenMessage("t3"), 503)
	do("DELETE", "/fake/outage", ``, 204)
	do("POST", sendPath, tokenMessage("t3"), 200)
	do("POST", "/fake/outage", `{"code":"SLOW"}`, 400)

	var st struct {
		Total, Rejected, TokenRequests int64 `json:",omitempty"`
		CountFor                       int64 `json:"count_for"`
	}
	if err := json.Unmarshal(do("GET", "/fake/stats?token=t2", "", 200), &st); err != nil {
		t.Fatal(err)
	}
	if st.Total != 3 || st.Rejected != 3 || st.CountFor != 1 {
		t.Errorf("stats = %+v, want total 3, rejected 3, count_for 1", st)
	}

	var page struct {
		Total    int64          `json:"total"`
		Messages []fcmfake.Sent `json:"messages"`
	}
	if err := json.Unmarshal(do("GET", "/fake/messages?limit=2", "", 200), &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || len(page.Messages) != 2 || page.Messages[0].Message.Token != "t3" {
		t.Errorf("messages page: total %d, %d messages, newest to %q; want 3, 2, t3", page.Total, len(page.Messages), page.Messages[0].Message.Token)
	}
	if err := json.Unmarshal(do("GET", "/fake/messages?token=dead-1", "", 200), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 1 || page.Messages[0].Message.Token != "dead-1" {
		t.Errorf("messages filtered by token: %+v", page.Messages)
	}
	html := string(do("GET", "/fake/messages?format=html", "", 200))
	for _, want := range []string{"<table>", "Nytt meddelande", "Logga in för att läsa.", "accepted: <b>3</b>"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML page lacks %q", want)
		}
	}
	pageRes, err := http.Get(base + "/fake/messages?format=html")
	if err != nil {
		t.Fatal(err)
	}
	pageRes.Body.Close()
	for header, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
		if got := pageRes.Header.Get(header); got != want {
			t.Errorf("HTML page: %s got %q, want %q", header, got, want)
		}
	}
	if csp := pageRes.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("HTML page: Content-Security-Policy %q, want nothing loaded and no framing", csp)
	}

	var sa map[string]string
	if err := json.Unmarshal(do("GET", "/fake/service-account", "", 200), &sa); err != nil {
		t.Fatal(err)
	}
	if sa["token_uri"] != base+"/token" {
		t.Errorf("service-account token_uri = %q, want %q", sa["token_uri"], base+"/token")
	}

	do("POST", "/fake/reset", "", 204)
	if e.srv.Count() != 0 || len(e.srv.Messages()) != 0 || e.srv.CountFor("t2") != 0 {
		t.Errorf("after reset: Count() = %d, %d messages", e.srv.Count(), len(e.srv.Messages()))
	}
	do("GET", "/v1/nothing-here", "", 404)
}

// TestConcurrentSends checks that counters stay exact and the ring consistent under parallel
// load, the fake's reason to avoid a global lock.
func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)

	const workers, perWorker, tokens = 8, 250, 10
	e.srv.MarkDead("dead")
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				tok := fmt.Sprintf("tok-%d", (w*perWorker+i)%tokens)
				if rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage(tok)); rec.Code != http.StatusOK {
					t.Errorf("send: status %d", rec.Code)
					return
				}
				if i%50 == 0 {
					send(t, e.srv, fcmfake.DefaultProjectID, bearer, tokenMessage("dead"))
				}
			}
		})
	}
	wg.Wait()

	if got := e.srv.Count(); got != workers*perWorker {
		t.Errorf("Count() = %d, want %d", got, workers*perWorker)
	}
	for i := range tokens {
		if got := e.srv.CountFor(fmt.Sprintf("tok-%d", i)); got != workers*perWorker/tokens {
			t.Errorf("CountFor(tok-%d) = %d, want %d", i, got, workers*perWorker/tokens)
		}
	}
	if got := e.srv.Rejected(); got != workers*perWorker/50 {
		t.Errorf("Rejected() = %d, want %d", got, workers*perWorker/50)
	}
	msgs := e.srv.Messages()
	if len(msgs) != 50 {
		t.Errorf("Messages() kept %d, want the 50 configured", len(msgs))
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Seq != msgs[i-1].Seq+1 {
			t.Fatalf("Messages() not in order: seq %d after %d", msgs[i].Seq, msgs[i-1].Seq)
		}
	}
	if last := msgs[len(msgs)-1].Seq; last != workers*perWorker {
		t.Errorf("newest seq = %d, want %d", last, workers*perWorker)
	}
}

// BenchmarkSend measures the handler alone: decode, validate, check failures, record.
func BenchmarkSend(b *testing.B) {
	e := &env{key: newKey(b)}
	srv, err := fcmfake.Start(fcmfake.Config{Key: e.key})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	e.srv = srv
	bearer := e.accessToken(b)
	body := tokenMessage("dev:APA91b-bench")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := send(b, srv, fcmfake.DefaultProjectID, bearer, body); rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkSendHTTP measures sends over loopback HTTP/1.1 with keep-alive, client included.
func BenchmarkSendHTTP(b *testing.B) {
	e := &env{key: newKey(b)}
	srv, err := fcmfake.Start(fcmfake.Config{Key: e.key})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	e.srv = srv
	bearer := e.accessToken(b)
	body := []byte(tokenMessage("dev:APA91b-bench"))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := srv.Endpoint() + "/projects/" + fcmfake.DefaultProjectID + "/messages:send"
	// A sender keeps many requests in flight (the Admin SDK's SendEach uses 50 workers), so
	// measure throughput rather than the latency of two goroutines.
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+bearer)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
			}
		}
	})
	b.StopTimer()
	client.CloseIdleConnections()
}

func TestDistinctCountsWhatDevicesShow(t *testing.T) {
	t.Parallel()
	var observed atomic.Int64
	key := newKey(t)
	f, err := fcmfake.Start(fcmfake.Config{Key: key, Observe: func(fcmfake.Sent) { observed.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	e := &env{srv: f, key: key}
	bearer := e.accessToken(t)
	bodies := []string{
		// The same notice twice to one device: shown once.
		`{"message":{"token":"a","notification":{"title":"x"},"android":{"collapse_key":"r-1"}}}`,
		`{"message":{"token":"a","notification":{"title":"x"},"android":{"collapse_key":"r-1"}}}`,
		// Another notice to that device, and the first to another device.
		`{"message":{"token":"a","notification":{"title":"x"},"apns":{"headers":{"apns-collapse-id":"r-2"}}}}`,
		`{"message":{"token":"b","notification":{"title":"x"},"webpush":{"notification":{"tag":"r-1"}}}}`,
		// Without a collapse id every message is shown.
		`{"message":{"token":"b","notification":{"title":"x"}}}`,
		`{"message":{"token":"b","notification":{"title":"x"}}}`,
	}
	for _, b := range bodies {
		if rec := send(t, f, fcmfake.DefaultProjectID, bearer, b); rec.Code != http.StatusOK {
			t.Fatalf("send %s: status %d, body %s", b, rec.Code, rec.Body)
		}
	}
	if f.Count() != 6 || f.Distinct() != 5 || observed.Load() != 6 {
		t.Errorf("Count() = %d, Distinct() = %d, observed %d; want 6, 5, 6", f.Count(), f.Distinct(), observed.Load())
	}
	f.Reset()
	if f.Distinct() != 0 {
		t.Errorf("Distinct() = %d after Reset, want 0", f.Distinct())
	}
}

// TestSendAcceptsFieldForms checks the forms FCM takes for the fields the strict checks in
// TestSendRejects look at, so that the fake is strict without refusing what FCM accepts.
func TestSendAcceptsFieldForms(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bearer := e.accessToken(t)
	for _, body := range []string{
		`{"message":{"token":"t1","android":{"ttl":"3.5s","priority":"normal"}}}`,
		`{"message":{"token":"t1","android":{"ttl":"0s","priority":"HIGH"}}}`,
		`{"message":{"token":"t1","android":{"ttl":"2419200.000000001s"}}}`,
		`{"message":{"token":"t1","apns":{"headers":{"apns-expiration":"1796220609","apns-priority":"5"}}}}`,
		`{"message":{"token":"t1","apns":{"headers":{"apns-expiration":"0","apns-push-type":"background","apns-priority":"5"}}}}`,
		`{"message":{"token":"t1","webpush":{"headers":{"TTL":"600","Urgency":"high"},"notification":{"title":"x","data":{"link":"/appointments/a-1","n":1}}}}}`,
		`{"message":{"token":"t1","data":{"notice_id":"42"}}}`,
	} {
		if rec := send(t, e.srv, fcmfake.DefaultProjectID, bearer, body); rec.Code != http.StatusOK {
			t.Errorf("send %s: status %d, body %s; want 200", body, rec.Code, rec.Body)
		}
	}
}
