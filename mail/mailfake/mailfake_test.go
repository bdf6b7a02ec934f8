package mailfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

func setup(t *testing.T, cfg Config) *Fake {
	t.Helper()
	f, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestFakeShowsMailEscaped(t *testing.T) {
	t.Parallel()
	f := setup(t, Config{Keep: 2})
	for _, subject := range []string{"first", "<script>alert(1)</script>", "third"} {
		msg := "From: support@nara.example\r\nTo: anna@example.se\r\nSubject: " + subject + "\r\n\r\nBody <b>" + subject + "</b>\r\n"
		c, err := smtp.Dial(f.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SendMail("support@nara.example", []string{"anna@example.se"}, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
		_ = c.Quit()
	}
	if got := f.Messages(); len(got) != 2 || got[0].Message.Subject != "third" {
		t.Fatalf("Messages() kept %d, newest %+v; want 2, newest third", len(got), got)
	}

	res, body := get(t, f.URL())
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("page does not escape the subject:\n%s", body)
	}
	if strings.Index(body, "third") > strings.Index(body, "&lt;script") {
		t.Errorf("page is not newest first")
	}

	res, body = get(t, strings.TrimSuffix(f.URL(), "/")+"/messages.json")
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("JSON Content-Type = %q", ct)
	}
	var list []struct {
		From    string   `json:"from"`
		To      []string `json:"to"`
		Subject string   `json:"subject"`
		Text    string   `json:"text"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Subject != "third" || list[0].To[0] != "anna@example.se" || !strings.Contains(list[0].Text, "Body") {
		t.Errorf("JSON = %+v, want two messages, newest third", list)
	}
}
