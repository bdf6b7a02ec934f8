package walkthrough

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// root is the repository's root, where the README's commands run (they name
// tools/node_modules/.bin/buf from there).
const root = ".."

// The README's addresses: make run's server and its local stand-ins. The
// test runs them on free ports and rewrites each command to match.
const (
	readmeAPI  = "127.0.0.1:8080"
	readmeSim  = "127.0.0.1:8081"
	readmeOIDC = "127.0.0.1:8082"
	readmeFCM  = "127.0.0.1:8083"
)

// preamble comes before every command. Two tools are replaced by
// equivalents that fail when the step fails:
//   - curl fails on an HTTP error status (a Connect error, a missing page)
//     and still prints the answer, which the failure then shows;
//   - xdg-open (a browser, absent on CI) is a GET that must succeed.
const preamble = `set -euo pipefail
curl() { command curl --fail-with-body --max-time 30 "$@"; }
xdg-open() { command curl --fail --silent --show-error --max-time 30 --output /dev/null "$1"; }
`

// TestReadmeWalkthrough runs every command of the README's "Try it"
// section against `nara serve --demo`, in order, acting on the stand-ins'
// pages where the README tells the reader to, and checks that it ends with
// what the section promises: a logged-in citizen with a booked time, a push
// on the FCM stand-in's page, and a logged-in clinician who read a patient.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nara serve with an embedded PostgreSQL; skipped in -short mode")
	}
	begin := time.Now()
	commands := readTryIt(t, filepath.Join(root, "README.md"))
	if _, err := os.Stat(filepath.Join(root, "tools", "node_modules", ".bin", "buf")); err != nil {
		t.Fatal("the README runs tools/node_modules/.bin/buf, which is not installed: run make tools (make test does)")
	}
	srv := startServer(t)
	t.Logf("server ready after %s", time.Since(begin).Round(time.Millisecond))
	w := &walk{
		t: t, srv: srv, values: map[string]string{},
		browser: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		addresses: strings.NewReplacer(readmeAPI, srv.api, readmeSim, srv.sim, readmeOIDC, srv.oidc, readmeFCM, srv.fcm),
	}
	for _, c := range commands {
		w.run(c)
		if t.Failed() {
			return
		}
	}
	for _, goal := range []struct {
		reached bool
		what    string
	}{
		{w.values["<accessToken>"] != "", "a logged-in citizen"},
		{w.values["<appointment id>"] != "", "a booked time"},
		{w.sawPush, "a push on the FCM stand-in's page"},
		{w.values["<clinician accessToken>"] != "", "a clinician with a care assignment"},
		{w.foundPatient, "a clinician reading a patient"},
		{w.values["<case id>"] != "", "a support case opened by the citizen"},
		{w.sawSupportReply, "first line's reply in the citizen's thread"},
	} {
		if !goal.reached {
			t.Errorf("the walkthrough no longer reaches %s", goal.what)
		}
	}
	t.Logf("%d commands in %s", len(commands), time.Since(begin).Round(time.Millisecond))
}

// command is one shell command of the README, its continuation lines
// joined, and the answer a "# {...}" comment right after it promises.
type command struct {
	line    int    // in README.md
	heading string // the heading it is under
	text    string
	expect  string
}

func (c command) String() string { return fmt.Sprintf("README.md:%d (%s)", c.line, c.heading) }

// readTryIt returns the commands of every sh block of the "## Try it"
// section, in order.
func readTryIt(t *testing.T, path string) []command {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		commands          []command
		inSection, inSh   bool
		inOther           bool
		heading           string
		pending           *command // a command continued on the next line
		lastWasCommand    bool
		lineNo, fenceLine int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case !inSh && !inOther && strings.HasPrefix(line, "## "):
			inSection = line == "## Try it"
			heading = strings.TrimPrefix(line, "## ")
			continue
		case !inSection:
			continue
		case !inSh && !inOther && strings.HasPrefix(line, "### "):
			heading = strings.TrimPrefix(line, "### ")
			continue
		}
		if strings.HasPrefix(line, "```") {
			switch {
			case inSh || inOther:
				if pending != nil {
					t.Fatalf("README.md:%d: the block ends in the middle of a command", lineNo)
				}
				inSh, inOther = false, false
			case line == "```sh":
				inSh, fenceLine, lastWasCommand = true, lineNo, false
			default:
				// Every block of the section is run; one in another
				// language would be skipped without anyone noticing.
				t.Fatalf("README.md:%d: a block in Try it that is not ```sh; the walkthrough test runs only sh blocks", lineNo)
			}
			continue
		}
		if !inSh {
			continue
		}
		trimmed := strings.TrimSpace(line)
		if pending == nil {
			if trimmed == "" {
				lastWasCommand = false
				continue
			}
			if strings.HasPrefix(trimmed, "#") {
				answer := strings.TrimSpace(strings.TrimPrefix(trimmed, "#"))
				if lastWasCommand && strings.HasPrefix(answer, "{") && json.Valid([]byte(answer)) {
					commands[len(commands)-1].expect = answer
				}
				lastWasCommand = false
				continue
			}
			pending = &command{line: lineNo, heading: heading}
		}
		if strings.HasSuffix(line, `\`) {
			pending.text += line + "\n" // bash reads the continuation as the reader's shell does
			continue
		}
		pending.text += line
		commands = append(commands, *pending)
		pending, lastWasCommand = nil, true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inSh {
		t.Fatalf("README.md:%d: the block never ends", fenceLine)
	}
	if len(commands) == 0 {
		t.Fatal("README.md has no commands under ## Try it")
	}
	return commands
}

// walk is the reader's state: the values earlier answers gave, and what the
// pages showed.
type walk struct {
	t         *testing.T
	srv       *server
	browser   *http.Client
	addresses *strings.Replacer
	// values are the README's placeholders, "<accessToken>", with what
	// they stand for.
	values map[string]string
	// staffCommand is the CompleteStaffLogin command the callback page
	// showed.
	staffCommand string
	sawPush      bool
	foundPatient bool
	// staffLogins counts the staff logins so far: the README logs in as
	// Erik, then as Lena.
	staffLogins     int
	sawSupportReply bool
}

var (
	placeholder = regexp.MustCompile(`<[A-Za-z][A-Za-z ]*>`)
	urlPattern  = regexp.MustCompile(`https?://[^\s'"]+`)
)

// run runs one command (again, while the README says to wait for an
// answer) and acts on its answer.
func (w *walk) run(c command) {
	t := w.t
	text := w.addresses.Replace(c.text)
	for _, p := range placeholder.FindAllString(text, -1) {
		v, ok := w.values[p]
		if !ok {
			t.Errorf("%s uses %s, which no earlier step gave:\n%s", c, p, c.text)
			return
		}
		text = strings.ReplaceAll(text, p, v)
	}
	urls := urlPattern.FindAllString(text, -1)
	if len(urls) == 0 {
		t.Errorf("%s names no URL:\n%s", c, c.text)
		return
	}
	u, err := url.Parse(urls[len(urls)-1])
	if err != nil {
		t.Errorf("%s: %v", c, err)
		return
	}
	step := u.Path
	label := step
	if label == "" {
		label = u.String()
	}
	if step == "/nara.auth.v1.ClinicianAuthService/CompleteStaffLogin" && text != w.staffCommand {
		t.Errorf("%s is not the command the callback page shows.\nREADME: %s\npage:   %s", c, text, w.staffCommand)
		return
	}
	rpc := strings.HasPrefix(step, "/nara.") || strings.HasPrefix(step, "/grpc.")
	wait := waits[step]
	deadline := time.Now().Add(30 * time.Second)
	begin := time.Now()
	for {
		out, ok := w.shell(c, text)
		if !ok {
			return
		}
		var answer map[string]any
		if rpc && !strings.Contains(text, "--list-methods") {
			if err := json.Unmarshal(out, &answer); err != nil {
				t.Errorf("%s: the answer is not a JSON object (%v):\n%s", c, err, out)
				return
			}
		} else if step == "/fake/messages" {
			if err := json.Unmarshal(out, &answer); err != nil {
				t.Errorf("%s: the answer is not a JSON object (%v):\n%s", c, err, out)
				return
			}
		}
		if wait != nil {
			done, err := wait(answer)
			if err != nil {
				t.Errorf("%s: %v:\n%s", c, err, out)
				return
			}
			if !done {
				if time.Now().After(deadline) {
					t.Errorf("%s: still not the answer the README describes after 30 s:\n%s", c, out)
					return
				}
				time.Sleep(250 * time.Millisecond)
				continue
			}
		}
		if c.expect != "" {
			var want any
			_ = json.Unmarshal([]byte(c.expect), &want)
			var got any
			if err := json.Unmarshal(out, &got); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: the README promises %s, the answer is:\n%s", c, c.expect, out)
				return
			}
		}
		t.Logf("%s %s: %s", c, label, time.Since(begin).Round(time.Millisecond))
		if after := afters[step]; after != nil {
			if err := after(w, answer); err != nil {
				t.Errorf("%s: %v:\n%s", c, err, out)
			}
		}
		return
	}
}

// shell runs text with bash in the repository's root and returns its
// standard output; it fails the test on a non-zero exit or no output.
func (w *walk) shell(c command, text string) ([]byte, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", preamble+text)
	cmd.Dir = root
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		w.t.Errorf("%s failed (%v):\n%s\nanswer: %s\nstderr: %s", c, err, text, stdout.Bytes(), stderr.Bytes())
		return nil, false
	}
	// A browser's page shows nothing on the terminal; every other command
	// answers.
	if len(bytes.TrimSpace(stdout.Bytes())) == 0 && !strings.HasPrefix(text, "xdg-open ") {
		w.t.Errorf("%s gave no answer:\n%s\nstderr: %s", c, text, stderr.Bytes())
		return nil, false
	}
	return stdout.Bytes(), true
}

// waits are the steps a reader repeats until the answer is there: a login
// is polled until it completes, and a push takes a moment to be sent.
var waits = map[string]func(answer map[string]any) (bool, error){
	"/nara.auth.v1.CitizenAuthService/PollLogin": func(a map[string]any) (bool, error) {
		switch state := str(a, "progress", "state"); state {
		case "LOGIN_STATE_COMPLETE":
			return true, nil
		case "LOGIN_STATE_PENDING":
			return false, nil
		default:
			return false, fmt.Errorf("the login is %s", state)
		}
	},
	// A reminder may come first (a visit tomorrow is within 24 hours in
	// the afternoon); the walk waits for the delay, in English.
	"/fake/messages": func(a map[string]any) (bool, error) {
		ms, _ := a["messages"].([]any)
		for _, m := range ms {
			if title := str(m, "message", "notification", "title"); strings.Contains(title, "running late") {
				return true, nil
			}
		}
		return false, nil
	},
}

// afters take what the reader copies from each answer, and do what the
// README tells them to do next on the stand-ins' pages.
var afters = map[string]func(w *walk, answer map[string]any) error{
	"/nara.auth.v1.CitizenAuthService/StartLogin": func(w *walk, a map[string]any) error {
		if err := w.take(a, "<loginId>", "loginId"); err != nil {
			return err
		}
		if err := w.take(a, "<loginSecret>", "loginSecret"); err != nil {
			return err
		}
		return w.approveOnSimulator("Anna Provsson")
	},
	"/nara.auth.v1.CitizenAuthService/PollLogin": func(w *walk, a map[string]any) error {
		return w.take(a, "<accessToken>", "progress", "session", "accessToken")
	},
	"/nara.auth.v1.SessionService/GetMe": func(w *walk, a map[string]any) error {
		if name := str(a, "me", "displayName"); name != "Anna Provsson" {
			return fmt.Errorf("logged in as %q, not Anna Provsson", name)
		}
		return nil
	},
	"/nara.appointment.v1.AppointmentService/SearchSlots": func(w *walk, a map[string]any) error {
		slots, _ := a["slots"].([]any)
		if len(slots) == 0 {
			return fmt.Errorf("the search found no times")
		}
		first, _ := slots[0].(map[string]any)
		return w.take(first, "<slot id>", "id")
	},
	"/nara.appointment.v1.AppointmentService/BookSlot": func(w *walk, a map[string]any) error {
		return w.take(a, "<appointment id>", "appointment", "id")
	},
	"/nara.auth.v1.ClinicianAuthService/StartStaffLogin": func(w *walk, a map[string]any) error {
		u := str(a, "authorizationUrl")
		if u == "" {
			return fmt.Errorf("no authorizationUrl")
		}
		w.staffLogins++
		button := "Log in as Erik"
		if w.staffLogins > 1 {
			button = "Log in as Lena"
		}
		return w.logInOnProvider(u, button)
	},
	"/nara.auth.v1.ClinicianAuthService/CompleteStaffLogin": func(w *walk, a map[string]any) error {
		if w.staffLogins > 1 {
			return w.take(a, "<support accessToken>", "session", "accessToken")
		}
		return w.take(a, "<staff accessToken>", "session", "accessToken")
	},
	"/nara.support.v1.SupportService/PrepareCase": func(w *walk, a map[string]any) error {
		if _, ok := a["hours"].(map[string]any); !ok {
			return fmt.Errorf("no support hours in the answer")
		}
		return nil
	},
	"/nara.support.v1.SupportService/OpenCase": func(w *walk, a map[string]any) error {
		return w.take(a, "<case id>", "case", "id")
	},
	"/nara.support.v1.SupportDeskService/ListQueue": func(w *walk, a map[string]any) error {
		cases, _ := a["cases"].([]any)
		for _, c := range cases {
			if str(c, "case", "id") == w.values["<case id>"] {
				return nil
			}
		}
		return fmt.Errorf("Anna's case is not in first line's queue")
	},
	"/nara.support.v1.SupportService/ListCaseEvents": func(w *walk, a map[string]any) error {
		events, _ := a["events"].([]any)
		for _, e := range events {
			if str(e, "message", "author") == "PARTY_SUPPORT" {
				w.sawSupportReply = true
				return nil
			}
		}
		return fmt.Errorf("the thread has no reply from support")
	},
	"/nara.auth.v1.ClinicianAuthService/SelectAssignment": func(w *walk, a map[string]any) error {
		if str(a, "session", "me", "selectedAssignmentId") == "" {
			return fmt.Errorf("no assignment selected")
		}
		return w.take(a, "<clinician accessToken>", "session", "accessToken")
	},
	"/nara.patient.v1.PatientService/FindPatient": func(w *walk, a map[string]any) error {
		if str(a, "patient", "id") == "" {
			return fmt.Errorf("no patient found")
		}
		w.foundPatient = true
		return nil
	},
	"/nara.auth.v1.AccessLogService/ListMyAccessLog": func(w *walk, a map[string]any) error {
		if entries, _ := a["entries"].([]any); len(entries) == 0 {
			return fmt.Errorf("the access log is empty")
		}
		return nil
	},
	"/fake/messages": func(w *walk, _ map[string]any) error {
		w.sawPush = true // waits held the walk until the push was there
		return nil
	},
}

// take sets the placeholder name to the string at path in answer.
func (w *walk) take(answer map[string]any, name string, path ...string) error {
	v := str(answer, path...)
	if v == "" {
		return fmt.Errorf("the answer has no %s", strings.Join(path, "."))
	}
	w.values[name] = v
	return nil
}

// str is the string at path in a decoded JSON object, or "".
func str(v any, path ...string) string {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

var (
	simOrderForm = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"><input type="hidden" name="orderRef" value="([^"]+)">\s*<select name="personalNumber">(.*?)</select>`)
	simOption    = regexp.MustCompile(`<option value="([^"]+)"[^>]*>([^<]+)`)
	providerForm = regexp.MustCompile(`<form method="post" action="([^"]+)">((?:<input type="hidden" name="[^"]+" value="[^"]*">)+)<button type="submit">([^<]+)</button></form>`)
	hiddenInput  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	preCommand   = regexp.MustCompile(`<pre>(curl [^<]*)</pre>`)
)

// approveOnSimulator does what the README asks on the BankID simulator's
// page: in the pending order's row, choose the person and press Approve.
func (w *walk) approveOnSimulator(person string) error {
	page := "http://" + w.srv.sim + "/sim/"
	body, err := w.get(page)
	if err != nil {
		return err
	}
	forms := simOrderForm.FindAllStringSubmatch(body, -1)
	if len(forms) != 1 {
		return fmt.Errorf("the simulator's page shows %d pending orders, not 1", len(forms))
	}
	action, ref, options := forms[0][1], forms[0][2], forms[0][3]
	var number string
	for _, o := range simOption.FindAllStringSubmatch(options, -1) {
		if html.UnescapeString(strings.TrimSpace(o[2])) == person {
			number = o[1]
		}
	}
	if number == "" {
		return fmt.Errorf("the simulator's page offers no %s", person)
	}
	location, err := w.post(page, action, url.Values{"orderRef": {ref}, "personalNumber": {number}, "action": {"approve"}})
	if err != nil {
		return err
	}
	if msg, _ := url.Parse(location); msg == nil || !strings.HasSuffix(msg.Query().Get("msg"), ": done") {
		return fmt.Errorf("the simulator did not approve the order: %s", location)
	}
	return nil
}

// logInOnProvider opens the staff login page as a browser does, presses
// the button, follows the identity provider back to the server's callback
// page and reads the command it shows.
func (w *walk) logInOnProvider(authorizationURL, button string) error {
	body, err := w.get(authorizationURL)
	if err != nil {
		return err
	}
	var form []string
	for _, f := range providerForm.FindAllStringSubmatch(body, -1) {
		if html.UnescapeString(f[3]) == button {
			form = f
		}
	}
	if form == nil {
		return fmt.Errorf("the login page has no %q button", button)
	}
	values := url.Values{}
	for _, in := range hiddenInput.FindAllStringSubmatch(form[2], -1) {
		values.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	callback, err := w.post(authorizationURL, html.UnescapeString(form[1]), values)
	if err != nil {
		return err
	}
	back, err := url.Parse(callback)
	if err != nil || back.Host != w.srv.api || back.Path != "/auth/staff/callback" {
		return fmt.Errorf("the login page sent the browser to %q, not the server's callback page", callback)
	}
	page, err := w.get(callback)
	if err != nil {
		return err
	}
	m := preCommand.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("the callback page shows no command:\n%s", page)
	}
	w.staffCommand = html.UnescapeString(m[1])
	w.values["<code>"] = back.Query().Get("code")
	w.values["<state>"] = back.Query().Get("state")
	return nil
}

// get fetches a page and fails on anything but 200.
func (w *walk) get(page string) (string, error) {
	res, err := w.browser.Get(page)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s\n%s", page, res.Status, body)
	}
	return string(body), nil
}

// post submits a form found on page to its action and returns where the
// answer redirects.
func (w *walk) post(page, action string, form url.Values) (string, error) {
	base, err := url.Parse(page)
	if err != nil {
		return "", err
	}
	target, err := base.Parse(action)
	if err != nil {
		return "", err
	}
	res, err := w.browser.PostForm(target.String(), form)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 3 {
		return "", fmt.Errorf("POST %s: %s, not a redirect\n%s", target, res.Status, body)
	}
	location, err := res.Location()
	if err != nil {
		return "", err
	}
	return location.String(), nil
}

// server is one `nara serve --demo` built from this source, with its own
// data folder and embedded PostgreSQL, and the stand-ins on free ports.
type server struct {
	api, sim, oidc, fcm string
}

func startServer(t *testing.T) *server {
	t.Helper()
	// The embedded cluster runs as an unprivileged user when tests run as
	// root; it must be able to enter the folder, which t.TempDir's is not.
	dir, err := os.MkdirTemp("", "nara-walkthrough-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	binary := filepath.Join(dir, "nara")
	build := exec.Command("go", "build", "-o", binary, "github.com/nara-care/nara/cmd/nara")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build nara: %v\n%s", err, out)
	}
	s := &server{api: freeAddr(t), sim: freeAddr(t), oidc: freeAddr(t), fcm: freeAddr(t)}
	cmd := exec.Command(binary, "serve", "--demo")
	cmd.Env = append(cleanEnv(),
		"NARA_ADDR="+s.api,
		"NARA_DATA_DIR="+filepath.Join(dir, "data"),
		"NARA_BANKID_SIM_ADDR="+s.sim,
		"NARA_OIDC_DEV_ADDR="+s.oidc,
		"NARA_FCM_FAKE_ADDR="+s.fcm,
		"NARA_MAIL_FAKE_ADDR="+freeAddr(t),
		"NARA_SMTP_ADDR="+freeAddr(t),
		"NARA_METRICS_ADDR="+freeAddr(t),
	)
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("nara did not stop within 30 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("nara's log:\n%s", log.tail(40))
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for !healthy(s.api) {
		select {
		case <-exited:
			t.Fatalf("nara exited before it was healthy:\n%s", log.tail(40))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nara not healthy after 2 minutes:\n%s", log.tail(40))
		}
	}
	return s
}

func healthy(addr string) bool {
	res, err := (&http.Client{Timeout: 2 * time.Second}).Post("http://"+addr+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader("{}"))
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&body) == nil && body.Status == "SERVING"
}

// cleanEnv is this process's environment without anything nara reads, so
// that the developer's shell never changes what is tested.
func cleanEnv() []string {
	var env []string
	read := []string{"DATABASE_URL=", "NARA_", "BANKID_", "OIDC_", "FCM_", "OTEL_"}
	for _, kv := range os.Environ() {
		if !slices.ContainsFunc(read, func(p string) bool { return strings.HasPrefix(kv, p) }) {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// lockedBuffer collects a process's log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last n lines.
func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimRight(b.buf.String(), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
