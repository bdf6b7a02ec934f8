package bankidsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/internal/clocktest"
)

func setup(t *testing.T) (*Simulator, *clocktest.Clock) {
	t.Helper()
	clk := clocktest.New(time.Date(2025, 6, 15, 9, 0, 0, 0, time.UTC))
	sim, err := New(Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return sim, clk
}

// do sends one request straight to the handler, without TLS.
func do(t *testing.T, h http.Handler, method, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func startAuth(t *testing.T, sim *Simulator, body string) string {
	t.Helper()
	code, out := do(t, sim, "POST", "/rp/v6.0/auth", "application/json", body)
	if code != http.StatusOK {
		t.Fatalf("POST /auth %s got %d %v, want 200", body, code, out)
	}
	return out["orderRef"].(string)
}

func TestAPIValidation(t *testing.T) {
	t.Parallel()
	sim, _ := setup(t)
	long := strings.Repeat("QUFB", maxUserVisibleData/4+1)
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		code                            bankid.ErrorCode
		details                         string
	}{
		{"GET", "GET", "/rp/v6.0/auth", "", "", 405, bankid.CodeMethodNotAllowed, ""},
		{"text body", "POST", "/rp/v6.0/auth", "text/plain", `{}`, 415, bankid.CodeUnsupportedMediaType, ""},
		{"unknown path", "POST", "/rp/v6.0/nope", "application/json", `{}`, 404, bankid.CodeNotFound, ""},
		{"old version", "POST", "/rp/v5.1/auth", "application/json", `{}`, 404, bankid.CodeNotFound, ""},
		{"not JSON", "POST", "/rp/v6.0/auth", "application/json", `{`, 400, bankid.CodeInvalidParameters, "Invalid JSON"},
		{"no endUserIp", "POST", "/rp/v6.0/auth", "application/json", `{}`, 400, bankid.CodeInvalidParameters, "Missing endUserIp"},
		{"bad endUserIp", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"localhost"}`, 400, bankid.CodeInvalidParameters, "Incorrect endUserIp"},
		{"endUserIp number", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":5}`, 400, bankid.CodeInvalidParameters, "Incorrect endUserIp"},
		{"charset ok", "POST", "/rp/v6.0/auth", "application/json; charset=utf-8", `{"endUserIp":"::1"}`, 200, "", ""},
		{"sign without text", "POST", "/rp/v6.0/sign", "application/json", `{"endUserIp":"192.0.2.1"}`, 400, bankid.CodeInvalidParameters, "Missing userVisibleData"},
		{"not base64", "POST", "/rp/v6.0/sign", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"hej då"}`, 400, bankid.CodeInvalidParameters, "Incorrect userVisibleData"},
		{"text too long", "POST", "/rp/v6.0/sign", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"` + long + `"}`, 400, bankid.CodeInvalidParameters, "Incorrect userVisibleData"},
		{"auth text over 1 500", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"` + strings.Repeat("QUFB", maxUserVisibleDataAuth/4+1) + `"}`, 400, bankid.CodeInvalidParameters, "Incorrect userVisibleData"},
		{"auth text at 1 500", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"` + strings.Repeat("QUFB", maxUserVisibleDataAuth/4) + `"}`, 200, "", ""},
		{"sign text over 1 500", "POST", "/rp/v6.0/sign", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"` + strings.Repeat("QUFB", maxUserVisibleDataAuth/4+1) + `"}`, 200, "", ""},
		{"text not UTF-8", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"/w=="}`, 400, bankid.CodeInvalidParameters, "Incorrect userVisibleData"},
		{"url-safe base64", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"TG9nZ2EgaW4gaSBOw6RyYQ"}`, 400, bankid.CodeInvalidParameters, "Incorrect userVisibleData"},
		{"bad format", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"aGVq","userVisibleDataFormat":"html"}`, 400, bankid.CodeInvalidParameters, "Incorrect userVisibleDataFormat"},
		{"bad nonvisible", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","userNonVisibleData":"!!"}`, 400, bankid.CodeInvalidParameters, "Incorrect userNonVisibleData"},
		{"relative returnUrl", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","returnUrl":"/back"}`, 400, bankid.CodeInvalidParameters, "Incorrect returnUrl"},
		{"bad requirement pnr", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","requirement":{"personalNumber":"19121212-1212"}}`, 400, bankid.CodeInvalidParameters, "Incorrect requirement.personalNumber"},
		{"requirement pnr checksum", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","requirement":{"personalNumber":"191212121213"}}`, 400, bankid.CodeInvalidParameters, "Incorrect requirement.personalNumber"},
		{"bad cardReader", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","requirement":{"cardReader":"class3"}}`, 400, bankid.CodeInvalidParameters, "Incorrect requirement.cardReader"},
		{"bad policy", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","requirement":{"certificatePolicies":["mobile"]}}`, 400, bankid.CodeInvalidParameters, "Incorrect requirement.certificatePolicies"},
		{"pinCode string", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","requirement":{"pinCode":"yes"}}`, 400, bankid.CodeInvalidParameters, "Incorrect requirement.pinCode"},
		{"v5 personalNumber", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","personalNumber":"191212121212"}`, 400, bankid.CodeInvalidParameters, "Incorrect personalNumber"},
		{"app and web", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","app":{"deviceOS":"iOS"},"web":{"userAgent":"x"}}`, 400, bankid.CodeInvalidParameters, "Incorrect app and web: send one of them"},
		{"empty web", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","web":{}}`, 400, bankid.CodeInvalidParameters, "Incorrect web"},
		{"full auth", "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1","userVisibleData":"aGVq","userVisibleDataFormat":"simpleMarkdownV1","returnUrl":"https://nara.example/r","returnRisk":true,"app":{"appIdentifier":"se.nara"},"requirement":{"pinCode":true,"mrtd":false,"cardReader":"class1","certificatePolicies":["1.2.752.78.1.5"],"personalNumber":"198507699828"}}`, 200, "", ""},
		{"phone without number", "POST", "/rp/v6.0/phone/auth", "application/json", `{"callInitiator":"user"}`, 400, bankid.CodeInvalidParameters, "Missing personalNumber"},
		{"phone bad initiator", "POST", "/rp/v6.0/phone/auth", "application/json", `{"personalNumber":"191212121212","callInitiator":"doctor"}`, 400, bankid.CodeInvalidParameters, "Incorrect callInitiator"},
		{"collect without ref", "POST", "/rp/v6.0/collect", "application/json", `{}`, 400, bankid.CodeInvalidParameters, "Missing orderRef"},
		{"collect unknown", "POST", "/rp/v6.0/collect", "application/json", `{"orderRef":"a"}`, 400, bankid.CodeInvalidParameters, "No such order"},
		{"cancel unknown", "POST", "/rp/v6.0/cancel", "application/json", `{"orderRef":"a"}`, 400, bankid.CodeInvalidParameters, "No such order"},
	}
	for _, tt := range tests {
		status, out := do(t, sim, tt.method, tt.path, tt.ctype, tt.body)
		if status != tt.status {
			t.Errorf("%s: %s %s got HTTP %d %v, want %d", tt.name, tt.method, tt.path, status, out, tt.status)
			continue
		}
		if tt.code == "" {
			continue
		}
		if out["errorCode"] != string(tt.code) || (tt.details != "" && out["details"] != tt.details) {
			t.Errorf("%s: got %v, want errorCode %q details %q", tt.name, out, tt.code, tt.details)
		}
	}
}

func TestControlHTTP(t *testing.T) {
	t.Parallel()
	sim, clk := setup(t)
	ref := startAuth(t, sim, `{"endUserIp":"192.0.2.1","userVisibleData":"aGVq"}`)

	steps := []struct {
		path, body string
		status     int
		hint       string
	}{
		{"/sim/orders/" + ref + "/start", `{"personalNumber":"121212-1212"}`, 400, ""}, // born 2012: valid, but not a test user
		{"/sim/orders/" + ref + "/start", `{"personalNumber":"19121212-1212"}`, 200, "started"},
		{"/sim/orders/" + ref + "/hint", `{"hintCode":"userSign"}`, 200, "userSign"},
		{"/sim/orders/" + ref + "/hint", `{"hintCode":"userCancel"}`, 400, ""},
		{"/sim/orders/" + ref + "/approve", `{"personalNumber":"198507099805"}`, 409, ""}, // bound to Tolvan
		{"/sim/orders/" + ref + "/approve", ``, 200, ""},
		{"/sim/orders/" + ref + "/cancel", ``, 409, ""},
		{"/sim/orders/nope/expire", ``, 404, ""},
		{"/sim/orders/" + ref + "/dance", ``, 400, ""},
	}
	for _, st := range steps {
		status, out := do(t, sim, "POST", st.path, "application/json", st.body)
		if status != st.status {
			t.Errorf("POST %s %s got %d %v, want %d", st.path, st.body, status, out, st.status)
			continue
		}
		if st.hint != "" && out["hintCode"] != st.hint {
			t.Errorf("POST %s got hint %v, want %q", st.path, out["hintCode"], st.hint)
		}
	}
	status, collected := do(t, sim, "POST", "/rp/v6.0/collect", "application/json", `{"orderRef":"`+ref+`"}`)
	user, _ := collected["completionData"].(map[string]any)["user"].(map[string]any)
	if status != 200 || collected["status"] != "complete" || user["personalNumber"] != "191212121212" || user["name"] != "Tolvan Tolvansson" {
		t.Errorf("collect after approve got %d %v", status, collected)
	}

	// Scanning over HTTP, with the code computed as Nära would.
	code, out := do(t, sim, "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1"}`)
	if code != 200 {
		t.Fatal(out)
	}
	clk.Advance(2 * time.Second)
	qr := bankid.QRCode(out["qrStartToken"].(string), out["qrStartSecret"].(string), 2*time.Second)
	status, scanned := do(t, sim, "POST", "/sim/qr", "application/json", `{"qrCode":"`+qr+`","personalNumber":"198507099805"}`)
	if status != 200 || scanned["orderRef"] != out["orderRef"] {
		t.Errorf("POST /sim/qr got %d %v, want the order", status, scanned)
	}
	if status, bad := do(t, sim, "POST", "/sim/qr", "application/json", `{"qrCode":"`+qr+`x"}`); status != 400 {
		t.Errorf("POST /sim/qr (tampered) got %d %v, want 400", status, bad)
	}

	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest("GET", "/sim/orders", nil))
	var orders []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &orders); err != nil || len(orders) != 2 {
		t.Fatalf("GET /sim/orders got %s, want two orders", rec.Body)
	}
	if orders[1]["user"] != "19850709-****" || strings.Contains(rec.Body.String(), "198507099805") {
		t.Errorf("GET /sim/orders got %s, want redacted numbers", rec.Body)
	}
	rec = httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest("GET", "/sim/users", nil))
	if !strings.Contains(rec.Body.String(), `"personalNumber":"191212121212"`) {
		t.Errorf("GET /sim/users got %s, want the test numbers", rec.Body)
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	sim, _ := setup(t)
	ref := startAuth(t, sim, `{"endUserIp":"192.0.2.1","userVisibleData":"PGI+TG9nZ2EgaW48L2I+"}`) // "<b>Logga in</b>"

	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest("GET", "/sim/", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, ref) || !strings.Contains(body, "Tolvan Tolvansson") {
		t.Fatalf("GET /sim/ got %d, want the order and the users:\n%s", rec.Code, body)
	}
	if strings.Contains(body, "<b>Logga in</b>") || !strings.Contains(body, "&lt;b&gt;Logga in&lt;/b&gt;") {
		t.Errorf("GET /sim/ did not escape the user visible data")
	}
	for header, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
		if got := rec.Header().Get(header); got != want {
			t.Errorf("GET /sim/: %s got %q, want %q", header, got, want)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script") {
		t.Errorf("GET /sim/: Content-Security-Policy %q, want no framing and no scripts", csp)
	}

	form := url.Values{"action": {"approve"}, "orderRef": {ref}, "personalNumber": {"194703159907"}}
	req := httptest.NewRequest("POST", "/sim/ui", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	sim.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "done") {
		t.Errorf("POST /sim/ui approve got %d %q, want a redirect saying done", rec.Code, rec.Header().Get("Location"))
	}
	orders := sim.Orders()
	if len(orders) != 1 || orders[0].Status != bankid.StatusComplete || orders[0].User.Digits() != "194703159907" {
		t.Errorf("after the form, sim.Orders() got %+v, want complete as Greta", orders)
	}

	form = url.Values{"action": {"scan"}, "qrCode": {"bankid.nope.0.00"}}
	req = httptest.NewRequest("POST", "/sim/ui", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	sim.ServeHTTP(rec, req)
	if loc, _ := url.QueryUnescape(rec.Header().Get("Location")); !strings.Contains(loc, ErrInvalidQRCode.Error()) {
		t.Errorf("POST /sim/ui scan (bad code) redirected to %q, want the error", loc)
	}
}

func TestDefaultUsers(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)
	users := DefaultUsers()
	var child, centenarian, coordination bool
	seen := map[pnr.Number]bool{}
	for _, u := range users {
		if seen[u.PersonalNumber] || u.GivenName == "" || u.Surname == "" || u.BankIDIssueDate == "" {
			t.Errorf("DefaultUsers() has a duplicate or incomplete user %+v", u)
		}
		seen[u.PersonalNumber] = true
		if _, err := pnr.Parse(u.PersonalNumber.Digits(), at); err != nil {
			t.Errorf("DefaultUsers() %s: pnr.Parse error %v", u.Name(), err)
		}
		age := u.PersonalNumber.Age(at)
		child = child || age < 18
		centenarian = centenarian || age >= 100
		coordination = coordination || u.PersonalNumber.IsCoordination()
	}
	if !child || !centenarian || !coordination {
		t.Errorf("DefaultUsers() got child=%v 100+=%v samordningsnummer=%v, want all", child, centenarian, coordination)
	}
	if _, err := New(Config{Users: []TestUser{}}); err == nil {
		t.Errorf("New(no users) error nil, want an error")
	}
}

func TestServer(t *testing.T) {
	t.Parallel()
	sim, _ := setup(t)
	srv, err := Start(sim, ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") || !strings.HasSuffix(srv.URL(), "/rp/v6.0") {
		t.Errorf("URL() got %q", srv.URL())
	}
	files, err := srv.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{files.CA: srv.CACertPEM(), files.ClientCert: srv.ClientCertPEM(), files.ClientKey: srv.ClientKeyPEM()} {
		got, err := os.ReadFile(path)
		if err != nil || string(got) != string(want) {
			t.Errorf("WriteFiles: %s got %d bytes, %v", path, len(got), err)
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("WriteFiles: %s mode got %v, want 0600", path, info.Mode().Perm())
		}
	}

	// The control surface is plain HTTP and does not serve the API.
	resp, err := http.Get(srv.ControlURL())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "BankID simulator") {
		t.Errorf("GET %s got %d", srv.ControlURL(), resp.StatusCode)
	}
	apiOnControl := strings.TrimSuffix(srv.ControlURL(), "/sim/") + "/rp/v6.0/auth"
	resp, err = http.Post(apiOnControl, "application/json", strings.NewReader(`{"endUserIp":"192.0.2.1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST %s got %d, want 404: the API is only on the mTLS listener", apiOnControl, resp.StatusCode)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	sim, _ := setup(t)
	ref := startAuth(t, sim, `{"endUserIp":"192.0.2.1"}`)
	n, err := pnr.ParseDigits("191212121212")
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.ApproveWithBadNumber(ref, n); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/rp/v6.0/collect", strings.NewReader(`{"orderRef":"`+ref+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"personalNumber":"191212121213"`) || !strings.Contains(rec.Body.String(), `"status":"complete"`) {
		t.Errorf("collect of an order approved with a bad number got %d %s", rec.Code, rec.Body)
	}
	var resp bankid.CollectResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err == nil {
		t.Errorf("the bad number was accepted: %v", resp)
	}
	for _, o := range sim.Orders() {
		if o.OrderRef == ref && o.Collects != 1 {
			t.Errorf("Collects got %d, want 1", o.Collects)
		}
	}

	sim.FailNext(bankid.CodeMaintenance, 2)
	for i := range 3 {
		status, out := do(t, sim, "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1"}`)
		want := http.StatusServiceUnavailable
		if i == 2 {
			want = http.StatusOK
		}
		if status != want || (i < 2 && out["errorCode"] != "maintenance") {
			t.Errorf("call %d after FailNext(maintenance, 2) got %d %v, want %d", i+1, status, out, want)
		}
	}
}

func TestDefaultTiming(t *testing.T) {
	t.Parallel()
	sim, clk := setup(t)
	ref := startAuth(t, sim, `{"endUserIp":"192.0.2.1"}`)

	// Nobody scans: the order waits as long as BankID's does, not 30 s.
	clk.Advance(bankid.OrderTimeout - time.Second)
	status, out := do(t, sim, "POST", "/rp/v6.0/collect", "application/json", `{"orderRef":"`+ref+`"}`)
	if status != 200 || out["status"] != "pending" {
		t.Errorf("collect after %v got %d %v, want pending", bankid.OrderTimeout-time.Second, status, out)
	}
	clk.Advance(time.Second)
	status, out = do(t, sim, "POST", "/rp/v6.0/collect", "application/json", `{"orderRef":"`+ref+`"}`)
	if status != 200 || out["status"] != "failed" || out["hintCode"] != "expiredTransaction" {
		t.Errorf("collect after %v got %d %v, want failed/expiredTransaction", bankid.OrderTimeout, status, out)
	}
}

func TestPageKeepsTheScanningPerson(t *testing.T) {
	t.Parallel()
	sim, clk := setup(t)
	code, out := do(t, sim, "POST", "/rp/v6.0/auth", "application/json", `{"endUserIp":"192.0.2.1"}`)
	if code != 200 {
		t.Fatal(out)
	}
	qr := bankid.QRCode(out["qrStartToken"].(string), out["qrStartSecret"].(string), 0)
	form := url.Values{"action": {"scan"}, "qrCode": {qr}, "personalNumber": {"198507099805"}}
	req := httptest.NewRequest("POST", "/sim/ui", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sim.ServeHTTP(httptest.NewRecorder(), req)
	clk.Advance(time.Second)

	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest("GET", "/sim/", nil))
	body := rec.Body.String()
	// The order's person list starts at the person who scanned, so Approve
	// completes it as them.
	if !strings.Contains(body, `<option value="198507099805" selected>`) {
		t.Errorf("GET /sim/ after Anna scanned does not preselect her:\n%s", body)
	}
	if strings.Contains(body, `<option value="191212121212" selected>`) {
		t.Errorf("GET /sim/ after Anna scanned preselects Tolvan")
	}
	// 09:00 UTC in June is 11:00 in Stockholm.
	if !strings.Contains(body, "<br>11:00:00") || !strings.Contains(body, "3m0s in total") {
		t.Errorf("GET /sim/ does not show Swedish time and BankID's lifetime:\n%s", body)
	}
}
