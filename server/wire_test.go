package server_test

// Wire compatibility between the SDKs and this server, in both directions,
// through the golden files in sdk/wire (see sdk/wire/README.md):
//
//   - TestWireSDKRequests: what the web (JSON) and Android (binary) SDKs
//     recorded sending for the same calls (sdk/wire/requests/<sdk>/) is
//     decoded by the server's own rules, strictly, and must equal the
//     message written here by hand; then the recorded bytes are replayed to
//     a real server, which must accept them.
//   - TestWireErrors: what this server answers for failures
//     (sdk/wire/errors/, rewritten with -update) carries the right Connect
//     code and, for validation failures, buf.validate.Violations with field
//     paths. The SDK suites replay these answers and check that their apps
//     see the same code and field errors.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/store"
)

var update = flag.Bool("update", false, "rewrite the golden files of sdk/wire/errors")

// wireDir holds the golden files the SDK suites and these tests share.
var wireDir = filepath.Join("..", "sdk", "wire")

// wireSDKs are the SDKs whose suites record their requests. iOS is generated
// from the OpenAPI description and cannot run here; sdk/wire checks its
// models against the descriptors instead.
var wireSDKs = []string{"web", "android"}

// caller is who a recorded request is replayed as.
type caller int

const (
	anyone caller = iota
	citizen
	editor
)

// wireRequest is one call every SDK suite makes with exactly these values
// (sdk/web/test/wire.test.js, sdk/android/.../WireTest.kt): each kind of
// field the JSON mapping treats specially is in at least one.
type wireRequest struct {
	name      string
	procedure string
	as        caller
	want      proto.Message
	// accepted are the Connect codes the replay may get besides success.
	accepted []string
}

func wireRequests() []wireRequest {
	ts := func(s string) *timestamppb.Timestamp {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return timestamppb.New(t)
	}
	return []wireRequest{
		{
			// A top-level enum.
			name: "help-search-articles", procedure: helpv1connect.HelpServiceSearchArticlesProcedure, as: anyone,
			want: &helpv1.SearchArticlesRequest{Query: "vaccinationer", Language: helpv1.Language_LANGUAGE_SV},
		},
		{
			// Nested message, four enums of three types.
			name: "auth-start-login", procedure: authv1connect.CitizenAuthServiceStartLoginProcedure, as: anyone,
			want: &authv1.StartLoginRequest{
				Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_OTHER_DEVICE,
				Device:   &authv1.Device{Id: "wire-test-device-1", Name: "Wire test", Platform: authv1.Platform_PLATFORM_ANDROID},
				Language: authv1.Language_LANGUAGE_EN,
			},
		},
		{
			// Timestamps, one with milliseconds; snake_case field names.
			name: "appointment-search-slots", procedure: appointmentv1connect.AppointmentServiceSearchSlotsProcedure, as: citizen,
			want: &apptv1.SearchSlotsRequest{
				Service: apptv1.Service_SERVICE_VACCINATION, UnitHsaId: "SE2321000016-1A03",
				StartTime: ts("2026-01-07T08:00:00Z"), EndTime: ts("2026-01-08T16:30:00.250Z"), PageSize: 20,
			},
		},
		{
			// A timestamp alone.
			name: "appointment-list", procedure: appointmentv1connect.AppointmentServiceListAppointmentsProcedure, as: citizen,
			want: &apptv1.ListAppointmentsRequest{UpdatedSince: ts("2026-01-01T00:00:00Z")},
		},
		{
			// Two levels of nesting, booleans true and false, an enum.
			name: "push-update-preferences", procedure: pushv1connect.NotificationServiceUpdatePreferencesProcedure, as: citizen,
			want: &pushv1.UpdatePreferencesRequest{Preferences: &pushv1.Preferences{
				Reminders: true, Messages: false, Offers: true,
				QuietHours: &pushv1.QuietHours{Start: "22:00", End: "07:00"},
				Language:   pushv1.Language_LANGUAGE_EN, TimeZone: "Europe/Stockholm",
			}},
		},
		{
			// A repeated scalar.
			name: "push-mark-read", procedure: pushv1connect.NotificationServiceMarkNotificationsReadProcedure, as: citizen,
			want: &pushv1.MarkNotificationsReadRequest{Ids: []string{"1", "22", "333"}},
		},
		{
			// Repeated nested messages, non-ASCII text, quotes and a newline.
			name: "help-admin-create-article", procedure: helpv1connect.HelpAdminServiceCreateArticleProcedure, as: editor,
			want: &helpv1.CreateArticleRequest{
				Slug: "wire-test", Language: helpv1.Language_LANGUAGE_EN,
				Content: &helpv1.ArticleContent{
					CategorySlug: "bokning", Title: "Åtkomst för vårdnadshavare",
					Summary: "A \"quoted\" summary.", BodyMarkdown: "Line one\nLine två — ✓",
					Sources: []*helpv1.SourceLink{
						{Title: "1177", Url: "https://www.1177.se/"},
						{Title: "Inera", Url: "https://www.inera.se/"},
					},
					LastReviewedOn: "2030-01-02",
				},
			},
			accepted: []string{"already_exists"}, // the second SDK's replay
		},
	}
}

// recorded is one request as an SDK suite wrote it down.
type recorded struct {
	SDK     string            `json:"sdk"`
	Case    string            `json:"case"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	// Body is a JSON body as sent; BodyBase64 a binary one.
	Body       *string `json:"body,omitempty"`
	BodyBase64 *string `json:"bodyBase64,omitempty"`
}

func (r recorded) bytes() ([]byte, error) {
	var b []byte
	switch {
	case r.Body != nil:
		b = []byte(*r.Body)
	case r.BodyBase64 != nil:
		var err error
		if b, err = base64.StdEncoding.DecodeString(*r.BodyBase64); err != nil {
			return nil, err
		}
	}
	if r.Headers["content-encoding"] == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	return b, nil
}

var bearerToken = regexp.MustCompile(`^Bearer [A-Za-z0-9._~+/-]+=*$`)

func TestWireSDKRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tokens := map[caller]string{
		citizen: e.login(t, anna).AccessToken,
		editor:  e.staffToken(t, access.RoleSupportSecondLine),
	}
	cases := wireRequests()
	for _, sdk := range wireSDKs {
		t.Run(sdk, func(t *testing.T) {
			dir := filepath.Join(wireDir, "requests", sdk)
			files, err := filepath.Glob(filepath.Join(dir, "*.json"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range files {
				names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
			}
			var want []string
			for _, c := range cases {
				want = append(want, c.name)
			}
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Fatalf("%s holds %v, want exactly %v: the %s suite records them (see sdk/wire/README.md)", dir, names, want, sdk)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					raw, err := os.ReadFile(filepath.Join(dir, c.name+".json"))
					if err != nil {
						t.Fatal(err)
					}
					var r recorded
					if err := json.Unmarshal(raw, &r); err != nil {
						t.Fatal(err)
					}
					body := checkRecorded(t, c, r)
					if body == nil {
						return
					}
					replay(t, e, c, r, body, tokens[c.as])
				})
			}
		})
	}
}

// checkRecorded checks one recorded request against the server's rules and
// the expected message, and returns its body.
func checkRecorded(t *testing.T, c wireRequest, r recorded) []byte {
	t.Helper()
	if r.Case != c.name || r.Method != http.MethodPost || r.Path != c.procedure {
		t.Errorf("recorded %s %s %s, want case %s POST %s", r.Case, r.Method, r.Path, c.name, c.procedure)
	}
	if v := r.Headers["connect-protocol-version"]; v != "1" {
		t.Errorf("Connect-Protocol-Version got %q, want \"1\"", v)
	}
	if v, ok := r.Headers["connect-timeout-ms"]; ok && !regexp.MustCompile(`^[0-9]{1,10}$`).MatchString(v) {
		t.Errorf("Connect-Timeout-Ms got %q, want 1 to 10 digits", v)
	}
	if auth, ok := r.Headers["authorization"]; c.as != anyone && !bearerToken.MatchString(auth) {
		t.Errorf("Authorization got %q, want \"Bearer <token>\"", auth)
	} else if c.as == anyone && ok {
		t.Errorf("a public call sent Authorization %q", auth)
	}
	body, err := r.bytes()
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	got := c.want.ProtoReflect().New().Interface()
	switch ct := r.Headers["content-type"]; ct {
	case "application/json":
		// Stricter than the server, which drops unknown fields: a
		// misspelled field would otherwise vanish without a trace.
		if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(body, got); err != nil {
			t.Fatalf("the server's JSON rules refuse the body %s: %v", body, err)
		}
		var doc any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range canonicalJSON(got.ProtoReflect().Descriptor(), doc, "") {
			t.Errorf("body %s: %s", body, p)
		}
	case "application/proto":
		if err := proto.Unmarshal(body, got); err != nil {
			t.Fatalf("the body is not a %s: %v", got.ProtoReflect().Descriptor().FullName(), err)
		}
		for _, p := range unknownFields(got.ProtoReflect(), "") {
			t.Errorf("the body has fields the server does not know at %q", p)
		}
	default:
		t.Fatalf("Content-Type got %q, want application/json or application/proto", ct)
	}
	if !proto.Equal(got, c.want) {
		t.Errorf("decoded request\n%s\nwant\n%s", prototext.Format(got), prototext.Format(c.want))
	}
	if err := protovalidate.Validate(got); err != nil {
		t.Errorf("the server's validation refuses it: %v", err)
	}
	return body
}

// replay sends the recorded bytes to a real server, as the SDK did.
func replay(t *testing.T, e *env, c wireRequest, r recorded, body []byte, tok string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+r.Path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Headers {
		if k != "content-encoding" {
			req.Header.Set(k, v)
		}
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK {
		return
	}
	var ce struct{ Code string }
	_ = json.Unmarshal(answer, &ce)
	if !slices.Contains(c.accepted, ce.Code) {
		t.Errorf("replayed to the server: %d %s, want 200", res.StatusCode, answer)
	}
}

var canonicalTimestamp = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6}|\.[0-9]{9})?Z$`)

// canonicalJSON reports where a JSON request strays from the canonical proto3
// JSON mapping that the OpenAPI description (and so the iOS SDK) documents,
// even where protojson is lenient: field names in lowerCamelCase (not the
// proto names), enums by name (not number), 64-bit integers as strings,
// timestamps in RFC 3339 UTC with 0, 3, 6 or 9 fractional digits.
func canonicalJSON(md protoreflect.MessageDescriptor, v any, path string) []string {
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		if s, ok := v.(string); !ok || !canonicalTimestamp.MatchString(s) {
			return []string{fmt.Sprintf("%s: timestamp %v is not RFC 3339 in UTC (Z)", path, v)}
		}
		return nil
	case "google.protobuf.Duration":
		if s, ok := v.(string); !ok || !regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?s$`).MatchString(s) {
			return []string{fmt.Sprintf("%s: duration %v is not \"<seconds>s\"", path, v)}
		}
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %v is not an object", path, v)}
	}
	var problems []string
	for key, val := range obj {
		fd := md.Fields().ByJSONName(key)
		at := strings.TrimPrefix(path+"."+key, ".")
		if fd == nil {
			problems = append(problems, fmt.Sprintf("%s: %s has no field with the JSON name %q", at, md.FullName(), key))
			continue
		}
		if val == nil {
			continue
		}
		switch {
		case fd.IsList():
			items, ok := val.([]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: a repeated field is not an array", at))
				continue
			}
			for i, item := range items {
				problems = append(problems, canonicalValue(fd, item, fmt.Sprintf("%s[%d]", at, i))...)
			}
		case fd.IsMap():
			entries, ok := val.(map[string]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: a map is not an object", at))
				continue
			}
			for k, item := range entries {
				problems = append(problems, canonicalValue(fd.MapValue(), item, fmt.Sprintf("%s[%q]", at, k))...)
			}
		default:
			problems = append(problems, canonicalValue(fd, val, at)...)
		}
	}
	return problems
}

func canonicalValue(fd protoreflect.FieldDescriptor, v any, path string) []string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return canonicalJSON(fd.Message(), v, path)
	case protoreflect.EnumKind:
		s, ok := v.(string)
		if !ok || fd.Enum().Values().ByName(protoreflect.Name(s)) == nil {
			return []string{fmt.Sprintf("%s: enum value %v is not a name of %s", path, v, fd.Enum().FullName())}
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: 64-bit integer %v is not a string", path, v)}
		}
	}
	return nil
}

// unknownFields lists where a decoded binary message kept fields its
// descriptor does not have.
func unknownFields(m protoreflect.Message, path string) []string {
	var out []string
	if len(m.GetUnknown()) > 0 {
		out = append(out, path)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		at := strings.TrimPrefix(path+"."+string(fd.Name()), ".")
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				out = append(out, unknownFields(v.List().Get(i).Message(), fmt.Sprintf("%s[%d]", at, i))...)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				out = append(out, unknownFields(mv.Message(), fmt.Sprintf("%s[%v]", at, k.Interface()))...)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			out = append(out, unknownFields(v.Message(), at)...)
		}
		return true
	})
	return out
}

// staffToken opens a staff session with roles and returns its access token.
func (e *env) staffToken(t *testing.T, roles ...access.Role) string {
	t.Helper()
	var names []string
	for _, r := range roles {
		names = append(names, string(r))
	}
	hsaID := "SE2321000016-W001"
	_, hash := token.NewRefresh()
	sess, err := e.store.StaffSessionCreate(context.Background(), hsaID, "Wire Test", names, store.Session{
		DeviceID: "wire-test-device", Platform: "web", ExpiresAt: time.Now().Add(time.Hour),
	}, hash)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.signer.Issue(token.Claims{SessionID: sess.ID, Subject: hsaID, Kind: token.KindStaff, Name: "Wire Test", Roles: names}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wireError is one failure whose answer the SDK suites replay.
type wireError struct {
	name, procedure string
	as              caller
	request         string // JSON
	want            wantError
}

// wantError is what an app must see: the Connect code and, for validation
// failures, each violated field's path and rule.
type wantError struct {
	Code       string          `json:"code"`
	Violations []wantViolation `json:"violations"`
}

type wantViolation struct {
	Field  string `json:"field"`
	RuleID string `json:"ruleId"`
}

// errorGolden is a file of sdk/wire/errors.
type errorGolden struct {
	Comment     string          `json:"comment"`
	Procedure   string          `json:"procedure"`
	Request     json.RawMessage `json:"request"`
	Status      int             `json:"status"`
	ContentType string          `json:"contentType"`
	Body        string          `json:"body"`
	Want        wantError       `json:"want"`
}

func wireErrors() []wireError {
	return []wireError{
		{
			name: "invalid-argument-field", procedure: helpv1connect.HelpServiceSearchArticlesProcedure, as: anyone,
			request: `{"query":"","language":"LANGUAGE_SV"}`,
			want:    wantError{"invalid_argument", []wantViolation{{"query", "string.min_len"}}},
		},
		{
			name: "invalid-argument-nested", procedure: helpv1connect.HelpAdminServiceCreateArticleProcedure, as: editor,
			request: `{"slug":"wire-bad","language":"LANGUAGE_EN","content":{"categorySlug":"bokning","title":"A title","bodyMarkdown":"Body.",` +
				`"sources":[{"title":"1177","url":"https://www.1177.se/"},{"title":"","url":"http://example.com/"}],"lastReviewedOn":"2030-01-02"}}`,
			want: wantError{"invalid_argument", []wantViolation{
				{"content.sources[1].title", "string.min_len"},
				{"content.sources[1].url", "string.pattern"},
			}},
		},
		{
			name: "invalid-argument-repeated", procedure: pushv1connect.NotificationServiceMarkNotificationsReadProcedure, as: citizen,
			request: `{"ids":["1","x"]}`,
			want:    wantError{"invalid_argument", []wantViolation{{"ids[1]", "string.pattern"}}},
		},
		{
			name: "invalid-argument-message-rule", procedure: pushv1connect.NotificationServiceUpdatePreferencesProcedure, as: citizen,
			request: `{"preferences":{"quietHours":{"start":"22:00","end":"22:00"}}}`,
			want:    wantError{"invalid_argument", []wantViolation{{"preferences.quiet_hours", "quiet_hours.span"}}},
		},
		{
			name: "not-found", procedure: helpv1connect.HelpServiceGetArticleProcedure, as: anyone,
			request: `{"slug":"finns-inte","language":"LANGUAGE_SV"}`,
			want:    wantError{Code: "not_found"},
		},
		{
			name: "unauthenticated", procedure: appointmentv1connect.AppointmentServiceListAppointmentsProcedure, as: anyone,
			request: `{}`,
			want:    wantError{Code: "unauthenticated"},
		},
		{
			name: "permission-denied", procedure: helpv1connect.HelpAdminServiceListAllArticlesProcedure, as: citizen,
			request: `{"language":"LANGUAGE_SV"}`,
			want:    wantError{Code: "permission_denied"},
		},
	}
}

func TestWireErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tokens := map[caller]string{
		citizen: e.login(t, anna).AccessToken,
		editor:  e.staffToken(t, access.RoleSupportSecondLine),
	}
	dir := filepath.Join(wireDir, "errors")
	for _, c := range wireErrors() {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.url+c.procedure, strings.NewReader(c.request))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Connect-Protocol-Version", "1")
			if tok := tokens[c.as]; tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			res, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeConnectError(t, body); !wantEqual(got, c.want) {
				t.Errorf("%s %s answered %+v, want %+v\n%s", c.procedure, c.request, got, c.want, body)
			}
			g := errorGolden{
				Comment:   "Written by TestWireErrors (server/wire_test.go -update): the server's answer, replayed by each SDK suite.",
				Procedure: c.procedure, Request: json.RawMessage(c.request),
				Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Body: string(body), Want: c.want,
			}
			out, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			file := filepath.Join(dir, c.name+".json")
			if *update {
				if err := os.WriteFile(file, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			golden, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (go test ./server -run TestWireErrors -update writes it)", err)
			}
			if !bytes.Equal(golden, out) {
				t.Errorf("the server's answer differs from %s (go test ./server -run TestWireErrors -update, then run the SDK suites):\ngot  %s\nwant %s", file, out, golden)
			}
		})
	}
}

// decodeConnectError reads a Connect error body the way a client library
// does: the code by name, the details as packed messages.
func decodeConnectError(t *testing.T, body []byte) wantError {
	t.Helper()
	var ce struct {
		Code    string `json:"code"`
		Details []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"details"`
	}
	if err := json.Unmarshal(body, &ce); err != nil {
		t.Fatalf("not a Connect error: %s", body)
	}
	got := wantError{Code: ce.Code}
	for _, d := range ce.Details {
		if d.Type != "buf.validate.Violations" {
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		if err != nil {
			t.Fatalf("detail value %q: %v", d.Value, err)
		}
		var vs validatepb.Violations
		if err := proto.Unmarshal(raw, &vs); err != nil {
			t.Fatal(err)
		}
		for _, v := range vs.GetViolations() {
			got.Violations = append(got.Violations, wantViolation{protovalidate.FieldPathString(v.GetField()), v.GetRuleId()})
		}
	}
	return got
}

func wantEqual(a, b wantError) bool {
	return a.Code == b.Code && slices.Equal(a.Violations, b.Violations)
}
