package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"connectrpc.com/connect"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	"github.com/nara-care/nara/identity/token"
)

// TestStaffCallbackCommandIsInert fills the staff login page's code with
// shell and HTML that would run if pasted or rendered, then runs the
// page's command in a real shell (with printf standing in for curl): the
// shell ran nothing of it, curl would get exactly the JSON body with the
// code as sent, and the URL is the configured public one, whatever the
// request's Host header said.
func TestStaffCallbackCommandIsInert(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no POSIX shell here")
	}
	e := setupWith(t, options{publicURL: "https://nara.example/"})
	dev := &authv1.Device{Id: "tablet-callback", Name: "Surfplatta", Platform: authv1.Platform_PLATFORM_WEB}
	start, err := authv1connect.NewClinicianAuthServiceClient(e.client, e.url).
		StartStaffLogin(context.Background(), &authv1.StartStaffLoginRequest{Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	pre := regexp.MustCompile(`(?s)<pre>(.*?)</pre>`)
	for _, code := range []string{
		`'; touch pwned; '`,
		`'; rm -rf victim; '`,
		`$(touch pwned)`,
		"`touch pwned`",
		"a'\ntouch pwned\n'",
		`\'; touch pwned; echo \'`,
		`<script>alert(1)</script>`,
		`"}' ; touch pwned ; echo '{"`,
	} {
		req, err := http.NewRequest(http.MethodGet, e.url+"/auth/staff/callback?"+url.Values{"state": {start.State}, "code": {code}}.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "evil.example"
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("code %q: the page got %s", code, res.Status)
		}
		if strings.Contains(string(body), "<script") || strings.Contains(string(body), "evil.example") {
			t.Errorf("code %q: the page holds markup or the Host header: %s", code, body)
		}
		m := pre.FindSubmatch(body)
		if m == nil {
			t.Fatalf("code %q: no command on the page: %s", code, body)
		}
		command, ok := strings.CutPrefix(html.UnescapeString(string(m[1])), "curl ")
		if !ok {
			t.Fatalf("code %q: the command %q is not curl", code, m[1])
		}
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "victim"), 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sh, "-c", `printf '%s\n' `+command)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("code %q: the command failed in a shell: %v", code, err)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Errorf("code %q: the shell ran a command from the code", code)
		}
		if _, err := os.Stat(filepath.Join(dir, "victim")); err != nil {
			t.Errorf("code %q: the shell removed a folder: %v", code, err)
		}
		args := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(args) != 6 || args[3] != "-d" || args[5] != "https://nara.example/nara.auth.v1.ClinicianAuthService/CompleteStaffLogin" {
			t.Errorf("code %q: curl would get %q, want -s -H header -d body and the public URL", code, args)
			continue
		}
		var sent struct{ State, Code string }
		if err := json.Unmarshal([]byte(args[4]), &sent); err != nil || sent.Code != code || sent.State != start.State {
			t.Errorf("code %q: the body %q decodes to %+v, %v; want the state and the code as sent", code, args[4], sent, err)
		}
	}
}

// TestPagesSendSecurityHeaders checks every HTML page the API port serves:
// a strict Content-Security-Policy with no inline script, no framing, no
// referrer, no sniffing.
func TestPagesSendSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := setup(t)
	dev := &authv1.Device{Id: "tablet-headers", Platform: authv1.Platform_PLATFORM_WEB}
	start, err := authv1connect.NewClinicianAuthServiceClient(e.client, e.url).
		StartStaffLogin(context.Background(), &authv1.StartStaffLoginRequest{Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/",
		"/docs",
		"/auth/staff/callback?state=" + url.QueryEscape(start.State) + "&code=abc",
		"/auth/staff/callback?error=access_denied&error_description=nej",
	} {
		res, body := get(t, e, path, nil)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s got %s %q, want an HTML page", path, res.Status, res.Header.Get("Content-Type"))
			continue
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q has no %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: Content-Security-Policy %q allows inline code or scripts", path, csp)
		}
		if strings.Contains(string(body), "<style>") && !strings.Contains(csp, "style-src 'sha256-") {
			t.Errorf("GET %s: the page's styles are not allowed by hash in %q", path, csp)
		}
		for header, want := range map[string]string{
			"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
		} {
			if got := res.Header.Get(header); got != want {
				t.Errorf("GET %s: %s got %q, want %q", path, header, got, want)
			}
		}
	}
}

// TestRPCAnswersAreNotStored: every RPC answer, over every protocol and
// errors included, tells caches not to keep it (they carry patient data and
// tokens), except the public help content, which keeps its ETag
// revalidation; a server stream says so in its headers.
func TestRPCAnswersAreNotStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	_, opts := e.citizens(t, 1)
	for name, tr := range e.protocols() {
		var header http.Header
		capture := connect.WithInterceptors(headerCapture(func(h http.Header) { header = h }))
		clientOpts := append(append([]connect.ClientOption{capture}, tr.opts...), opts[0])
		cases := []struct {
			what string
			call func() error
			want string
		}{
			{"ListAppointments", func() error {
				_, err := appointmentv1connect.NewAppointmentServiceClient(tr.client, e.url, clientOpts...).
					ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
				return err
			}, "no-store"},
			{"GetMe", func() error {
				_, err := authv1connect.NewSessionServiceClient(tr.client, e.url, clientOpts...).GetMe(ctx, &authv1.GetMeRequest{})
				return err
			}, "no-store"},
			{"a refused RefreshSession", func() error {
				bogus, _ := token.NewRefresh()
				_, err := authv1connect.NewSessionServiceClient(tr.client, e.url, append(tr.opts, capture)...).
					RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: bogus, DeviceId: "device-x"})
				if err == nil {
					return errors.New("a bogus refresh token was accepted")
				}
				return nil
			}, "no-store"},
			{"ListArticles", func() error {
				_, err := helpv1connect.NewHelpServiceClient(tr.client, e.url, append(tr.opts, capture)...).
					ListArticles(ctx, &helpv1.ListArticlesRequest{Language: helpv1.Language_LANGUAGE_SV})
				return err
			}, "no-cache"},
		}
		for _, c := range cases {
			header = nil
			if err := c.call(); err != nil {
				t.Errorf("%s: %s: %v", name, c.what, err)
				continue
			}
			if got := header.Get("Cache-Control"); got != c.want {
				t.Errorf("%s: %s: Cache-Control got %q, want %q", name, c.what, got, c.want)
			}
		}
	}
	stream, err := authv1connect.NewCitizenAuthServiceClient(e.h2c, e.url).WatchLogin(ctx, &authv1.WatchLoginRequest{LoginId: "no-such-login"})
	if err != nil {
		t.Fatal(err)
	}
	stream.Receive()
	if got := stream.ResponseHeader().Get("Cache-Control"); got != "no-store" {
		t.Errorf("WatchLogin: Cache-Control got %q, want no-store", got)
	}
	stream.Close()
}

// headerCapture hands each unary answer's headers (an error's too) to got.
type headerCapture func(http.Header)

func (f headerCapture) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		var ce *connect.Error
		switch {
		case err == nil:
			f(res.Header())
		case errors.As(err, &ce):
			f(ce.Meta())
		}
		return res, err
	}
}

func (f headerCapture) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (f headerCapture) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// TestMetricsAreNotOnTheAPIPort: /metrics is not found on the public API;
// the metrics handler, on its own address, serves the RPC counts.
func TestMetricsAreNotOnTheAPIPort(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := authv1connect.NewSessionServiceClient(e.client, e.url).GetMe(context.Background(), &authv1.GetMeRequest{}); err == nil {
		t.Fatal("GetMe without a session succeeded")
	}
	if res, _ := get(t, e, "/metrics", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the API port got %s, want 404", res.Status)
	}
	res, err := http.Get(e.metrics[e.url] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `nara_rpc_requests_total{code="unauthenticated",procedure="/nara.auth.v1.SessionService/GetMe"} 1`) {
		t.Errorf("GET /metrics on the metrics address got %s: %.500s", res.Status, body)
	}
}
