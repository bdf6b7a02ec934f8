package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/reflect/protoreflect"

	appv1 "github.com/nara-care/nara/gen/nara/app/v1"
	"github.com/nara-care/nara/gen/nara/app/v1/appv1connect"
	"github.com/nara-care/nara/server"
)

func post(t *testing.T, e *env, path, contentType string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestHealthAnswersConnectJSON(t *testing.T) {
	t.Parallel()
	e := setup(t)
	status, body := post(t, e, "/grpc.health.v1.Health/Check", "application/json", strings.NewReader("{}"))
	if status != http.StatusOK || strings.TrimSpace(body) != `{"status":"SERVING"}` {
		t.Errorf("health check got %d %s, want 200 {\"status\":\"SERVING\"}", status, body)
	}
	status, _ = post(t, e, "/grpc.health.v1.Health/Check", "application/json", strings.NewReader(`{"service":"nara.nope.v1.X"}`))
	if status != http.StatusNotFound {
		t.Errorf("health of an unknown service got %d, want 404", status)
	}
}

func TestBadRequestsGetClearErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const search = "/nara.help.v1.HelpService/SearchArticles"
	tests := []struct {
		name        string
		contentType string
		body        io.Reader
		wantStatus  int
		wantCode    string
	}{
		{"malformed JSON", "application/json", strings.NewReader(`{"query": "vacc`), 400, "invalid_argument"},
		{"wrong field type", "application/json", strings.NewReader(`{"query": 5}`), 400, "invalid_argument"},
		{"unknown enum name", "application/json", strings.NewReader(`{"query":"a","language":"LANGUAGE_DE"}`), 400, "invalid_argument"},
		{"wrong content type", "text/plain", strings.NewReader(`{"query":"a"}`), 415, ""},
		{"a body over the 12 MiB limit", "application/json", bytes.NewReader(append(append([]byte(`{"query":"`), bytes.Repeat([]byte("a"), 13<<20)...), []byte(`"}`)...)), 429, "resource_exhausted"},
	}
	for _, tt := range tests {
		status, body := post(t, e, search, tt.contentType, tt.body)
		if status != tt.wantStatus {
			t.Errorf("%s: status got %d (%s), want %d", tt.name, status, body, tt.wantStatus)
			continue
		}
		if tt.wantCode == "" {
			continue
		}
		var ce struct{ Code, Message string }
		if err := json.Unmarshal([]byte(body), &ce); err != nil || ce.Code != tt.wantCode {
			t.Errorf("%s: body got %s, want code %s", tt.name, body, tt.wantCode)
		}
		for _, leak := range []string{"pgx", "SQL", "goroutine", ".go:", "runtime"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: body %s leaks %q", tt.name, body, leak)
			}
		}
	}
	// The server keeps serving after all of that.
	status, _ := post(t, e, search, "application/json", strings.NewReader(`{"query":"bankid","language":"LANGUAGE_SV"}`))
	if status != http.StatusOK {
		t.Errorf("search after bad requests got %d, want 200", status)
	}
}

func TestReflectionListsServices(t *testing.T) {
	t.Parallel()
	e := setup(t)
	client := grpcreflect.NewClient(e.h2c, e.url, connect.WithGRPC())
	stream := client.NewStream(context.Background())
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nara.help.v1.HelpService", "nara.help.v1.HelpAdminService", "nara.app.v1.AppService", "grpc.health.v1.Health"} {
		if !slices.ContainsFunc(names, func(n protoreflect.FullName) bool { return string(n) == want }) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
}

func TestAppConfig(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := appv1connect.NewAppServiceClient(e.client, e.url)
	tests := []struct {
		platform appv1.Platform
		version  string
		want     bool
	}{
		{appv1.Platform_PLATFORM_IOS, "3.9.1", true},
		{appv1.Platform_PLATFORM_IOS, "4.0", false},
		{appv1.Platform_PLATFORM_IOS, "4.0.1", false},
		{appv1.Platform_PLATFORM_ANDROID, "1.0", false},
	}
	for _, tt := range tests {
		res, err := c.GetConfig(context.Background(), &appv1.GetConfigRequest{Platform: tt.platform, AppVersion: tt.version})
		if err != nil {
			t.Fatal(err)
		}
		if res.UpdateRequired != tt.want || res.ServerVersion != "test" {
			t.Errorf("GetConfig(%v, %s) got update_required=%v, want %v", tt.platform, tt.version, res.UpdateRequired, tt.want)
		}
	}
	_, err := c.GetConfig(context.Background(), &appv1.GetConfigRequest{Platform: appv1.Platform_PLATFORM_IOS, AppVersion: "4.0; rm -rf"})
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("GetConfig with a bad version got %v, want InvalidArgument", err)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{cfg: server.Config{CORSOrigins: []string{"https://app.nara.example"}}})
	preflight := func(origin string) *http.Response {
		req, err := http.NewRequest(http.MethodOptions, e.url+"/nara.help.v1.HelpService/SearchArticles", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,connect-protocol-version,authorization")
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	ok := preflight("https://app.nara.example")
	if ok.StatusCode != http.StatusNoContent || ok.Header.Get("Access-Control-Allow-Origin") != "https://app.nara.example" ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from the allowed origin got %d %v", ok.StatusCode, ok.Header)
	}
	if other := preflight("https://evil.example"); other.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin got Access-Control-Allow-Origin %q", other.Header.Get("Access-Control-Allow-Origin"))
	}
	req, err := http.NewRequest(http.MethodPost, e.url+"/nara.help.v1.HelpService/ListCategories", strings.NewReader(`{"language":"LANGUAGE_SV"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://app.nara.example")
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "Grpc-Status") {
		t.Errorf("CORS request got %d, expose %q", res.StatusCode, res.Header.Get("Access-Control-Expose-Headers"))
	}
}

// TestGzipBombIsRefusedQuickly sends anonymous 1 MB bodies that inflate to
// about 1 GiB to a unary RPC over Connect and gRPC, to a streaming one, and
// to the health check and reflection:
// each is refused with ResourceExhausted well within a second (the count
// of inflated bytes is in TestGzipBombStopsAtTheLimit).
func TestGzipBombIsRefusedQuickly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 4<<20))
	_ = zw.Close()
	bomb := bytes.Repeat(member.Bytes(), 1_000_000/member.Len())
	envelope := binary.BigEndian.AppendUint32([]byte{1}, uint32(len(bomb)))
	envelope = append(envelope, bomb...)
	tests := []struct {
		name, path string
		client     *http.Client
		header     http.Header
		body       []byte
		exhausted  func(res *http.Response, body string) bool
	}{
		{"connect unary", "/nara.help.v1.HelpService/SearchArticles", e.client,
			http.Header{"Content-Type": {"application/proto"}, "Content-Encoding": {"gzip"}}, bomb,
			func(res *http.Response, body string) bool {
				return res.StatusCode == http.StatusTooManyRequests && strings.Contains(body, "resource_exhausted")
			}},
		{"grpc unary", "/nara.help.v1.HelpService/SearchArticles", e.h2c,
			http.Header{"Content-Type": {"application/grpc"}, "Grpc-Encoding": {"gzip"}, "Te": {"trailers"}}, envelope,
			func(res *http.Response, _ string) bool { return res.Trailer.Get("Grpc-Status") == "8" }},
		{"health", "/grpc.health.v1.Health/Check", e.client,
			http.Header{"Content-Type": {"application/proto"}, "Content-Encoding": {"gzip"}}, bomb,
			func(res *http.Response, body string) bool {
				return res.StatusCode == http.StatusTooManyRequests && strings.Contains(body, "resource_exhausted")
			}},
		{"reflection", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", e.h2c,
			http.Header{"Content-Type": {"application/grpc"}, "Grpc-Encoding": {"gzip"}, "Te": {"trailers"}}, envelope,
			func(res *http.Response, _ string) bool { return res.Trailer.Get("Grpc-Status") == "8" }},
		{"connect stream", "/nara.auth.v1.CitizenAuthService/WatchLogin", e.h2c,
			http.Header{"Content-Type": {"application/connect+proto"}, "Connect-Content-Encoding": {"gzip"}}, envelope,
			func(_ *http.Response, body string) bool { return strings.Contains(body, "resource_exhausted") }},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, e.url+tt.path, bytes.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = tt.header
		start := time.Now()
		res, err := tt.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: the bomb took %v to refuse, want well under a second", tt.name, took)
		}
		if !tt.exhausted(res, string(b)) {
			t.Errorf("%s: the bomb got %s %q, trailer %v; want ResourceExhausted", tt.name, res.Status, b, res.Trailer)
		}
	}
}
