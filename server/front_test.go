package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nara-care/nara/server"
)

// TestEdgeAnswersAreHelpful sends what a newcomer with curl sends first and
// expects each answer to say what to do, as a Connect JSON error.
func TestEdgeAnswersAreHelpful(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		name, method, path, contentType string
		status                          int
		code                            string
		says                            []string
	}{
		{"no content type", "POST", "/nara.app.v1.AppService/GetConfig", "", 415, "invalid_argument",
			[]string{"no Content-Type", "application/json"}},
		{"form content type", "POST", "/nara.app.v1.AppService/GetConfig", "application/x-www-form-urlencoded", 415, "invalid_argument",
			[]string{`"application/x-www-form-urlencoded"`, "application/json"}},
		{"unknown method", "POST", "/nara.app.v1.AppService/GetConfg", "application/json", 404, "unimplemented",
			[]string{"nara.app.v1.AppService has no method \"GetConfg\"", "/docs"}},
		{"unknown service", "POST", "/nara.app.v1.AppServic/GetConfig", "application/json", 404, "unimplemented",
			[]string{"no service \"nara.app.v1.AppServic\"", "/docs"}},
		{"unknown page", "GET", "/nope", "", 404, "unimplemented", []string{"/docs"}},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, e.url+tt.path, strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var got struct{ Code, Message string }
		if res.StatusCode != tt.status || res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &got) != nil {
			t.Errorf("%s: %s %s got %d %q %s, want %d with a JSON error", tt.name, tt.method, tt.path, res.StatusCode, res.Header.Get("Content-Type"), body, tt.status)
			continue
		}
		if got.Code != tt.code {
			t.Errorf("%s: code got %q, want %q", tt.name, got.Code, tt.code)
		}
		for _, s := range tt.says {
			if !strings.Contains(got.Message, s) {
				t.Errorf("%s: message %q does not say %q", tt.name, got.Message, s)
			}
		}
	}

	// A known RPC still answers as before.
	res, err := e.client.Post(e.url+"/nara.app.v1.AppService/GetConfig", "application/json", strings.NewReader(`{"platform":"PLATFORM_IOS","appVersion":"1.0"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GetConfig got %d %s, want 200", res.StatusCode, body)
	}
}

func TestLandingPage(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{cfg: server.Config{LocalPages: []server.Link{
		{Name: "BankID simulator", URL: "http://127.0.0.1:8081/sim/", About: "approve logins as a test person"},
	}}})
	res, err := e.client.Get(e.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / got %d %q, want an HTML page", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{`href="/docs"`, `href="/openapi.yaml"`, `href="http://127.0.0.1:8081/sim/"`, "BankID simulator"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET / does not contain %s:\n%s", want, body)
		}
	}
}

// TestRequiredEnumMessage expects a missing enum to be named with the values
// it takes, not "must not be in list [0]".
func TestRequiredEnumMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for body, want := range map[string]string{
		`{"appVersion":"1.0"}`:                "validation error: platform is required: set it to one of PLATFORM_IOS, PLATFORM_ANDROID",
		`{"platform":"PLATFORM_UNSPECIFIED"}`: "validation error: platform is required: set it to one of PLATFORM_IOS, PLATFORM_ANDROID",
		`{"platform":99}`:                     "validation error: platform has a value this server does not know: set it to one of PLATFORM_IOS",
	} {
		res, err := e.client.Post(e.url+"/nara.app.v1.AppService/GetConfig", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var got struct{ Code, Message string }
		if err := json.Unmarshal(raw, &got); err != nil || res.StatusCode != 400 || got.Code != "invalid_argument" {
			t.Errorf("GetConfig %s got %d %s, want 400 invalid_argument", body, res.StatusCode, raw)
			continue
		}
		if !strings.HasPrefix(got.Message, want) || strings.Contains(got.Message, "list [0]") {
			t.Errorf("GetConfig %s message got %q, want it to start %q", body, got.Message, want)
		}
	}
}
