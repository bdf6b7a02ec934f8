package bankidsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/pnr"
)

// ControlHandler serves the user side under /sim/, for tests in other
// languages and for developers. Every action is a POST with a JSON body
// (personal numbers in any form pnr.Parse accepts):
//
//	GET  /sim/                            the page for humans
//	GET  /sim/orders                      orders, oldest first
//	GET  /sim/users                       test users, numbers in full
//	POST /sim/orders/{orderRef}/start     {"personalNumber": "..."}
//	POST /sim/orders/{orderRef}/hint      {"hintCode": "userSign"}
//	POST /sim/orders/{orderRef}/approve   {"personalNumber": "..."} (optional)
//	POST /sim/orders/{orderRef}/approve-bad-number   as approve; collect then reports a wrong check digit
//	POST /sim/orders/{orderRef}/fail      {"hintCode": "certificateErr"}
//	POST /sim/orders/{orderRef}/cancel    the user presses Cancel
//	POST /sim/orders/{orderRef}/expire    time runs out now
//	POST /sim/qr                          {"qrCode": "bankid....", "personalNumber": "..."}
//
// Errors answer {"error": "..."} with 404 for an unknown order, 409 for an
// order that is not pending or belongs to someone else, 400 otherwise. It
// has no authentication: serve it on loopback only, as Start does.
func (s *Simulator) ControlHandler() http.Handler { return s.control }

func (s *Simulator) newControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/{$}", s.servePage)
	mux.HandleFunc("GET /sim", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/sim/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("POST /sim/ui", s.serveForm)
	mux.HandleFunc("GET /sim/orders", func(w http.ResponseWriter, r *http.Request) {
		orders := s.Orders()
		out := make([]orderJSON, 0, len(orders))
		for _, o := range orders {
			out = append(out, toOrderJSON(o))
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /sim/users", func(w http.ResponseWriter, r *http.Request) {
		out := []userJSON{}
		for _, u := range s.users {
			out = append(out, userJSON{u.PersonalNumber.Digits(), u.Name(), u.GivenName, u.Surname})
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /sim/orders/{ref}/{action}", s.serveAction)
	mux.HandleFunc("POST /sim/qr", func(w http.ResponseWriter, r *http.Request) {
		var body actionJSON
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
			writeControlError(w, errors.New("bankidsim: body must be JSON"))
			return
		}
		n, err := s.parseUser(body.PersonalNumber, "")
		if err != nil {
			writeControlError(w, err)
			return
		}
		ref, err := s.ScanQR(body.QRCode, n)
		if err != nil {
			writeControlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"orderRef": ref})
	})
	return mux
}

type actionJSON struct {
	PersonalNumber string          `json:"personalNumber"`
	HintCode       bankid.HintCode `json:"hintCode"`
	QRCode         string          `json:"qrCode"`
}

type orderJSON struct {
	OrderRef               string          `json:"orderRef"`
	Kind                   string          `json:"kind"`
	Status                 bankid.Status   `json:"status"`
	HintCode               bankid.HintCode `json:"hintCode,omitempty"`
	Created                time.Time       `json:"created"`
	RequiredPersonalNumber string          `json:"requiredPersonalNumber,omitempty"` // redacted
	User                   string          `json:"user,omitempty"`                   // redacted
	UserVisibleData        string          `json:"userVisibleData,omitempty"`
	Collects               int             `json:"collects"`
}

func toOrderJSON(o Order) orderJSON {
	j := orderJSON{
		OrderRef: o.OrderRef, Kind: o.Kind, Status: o.Status, HintCode: o.HintCode, Created: o.Created,
		RequiredPersonalNumber: o.RequiredPersonalNumber.Redacted(), User: o.User.Redacted(), UserVisibleData: o.UserVisibleData,
		Collects: o.Collects,
	}
	if o.Status == bankid.StatusComplete {
		j.HintCode = ""
	}
	return j
}

type userJSON struct {
	PersonalNumber string `json:"personalNumber"`
	Name           string `json:"name"`
	GivenName      string `json:"givenName"`
	Surname        string `json:"surname"`
}

func writeControlError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, ErrNoSuchOrder):
		status = http.StatusNotFound
	case errors.Is(err, ErrNotPending), errors.Is(err, ErrWrongUser):
		status = http.StatusConflict
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func (s *Simulator) serveAction(w http.ResponseWriter, r *http.Request) {
	var body actionJSON
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
			writeControlError(w, errors.New("bankidsim: body must be JSON"))
			return
		}
	}
	if err := s.act(r.PathValue("ref"), r.PathValue("action"), body); err != nil {
		writeControlError(w, err)
		return
	}
	for _, o := range s.Orders() {
		if o.OrderRef == r.PathValue("ref") {
			writeJSON(w, http.StatusOK, toOrderJSON(o))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{}) // cancelled orders may be swept already
}

// act performs one named user action; the JSON API and the page share it.
func (s *Simulator) act(ref, action string, body actionJSON) error {
	switch action {
	case "start", "approve", "approve-bad-number":
		n, err := s.parseUser(body.PersonalNumber, ref)
		if err != nil {
			return err
		}
		switch action {
		case "start":
			return s.Start(ref, n)
		case "approve-bad-number":
			return s.ApproveWithBadNumber(ref, n)
		}
		return s.Approve(ref, n)
	case "hint":
		return s.SetHint(ref, body.HintCode)
	case "fail":
		return s.Fail(ref, body.HintCode)
	case "cancel":
		return s.UserCancel(ref)
	case "expire":
		return s.Expire(ref)
	}
	return errors.New("bankidsim: unknown action " + action)
}

// parseUser reads a personal number in any accepted form. Empty means the
// person the order is bound to, or else the first test user.
func (s *Simulator) parseUser(text, ref string) (pnr.Number, error) {
	if strings.TrimSpace(text) != "" {
		n, err := pnr.Parse(text, s.now())
		if err != nil {
			return pnr.Number{}, err
		}
		return n, nil
	}
	s.mu.Lock()
	o, ok := s.orders[ref]
	var bound pnr.Number
	if ok {
		bound = o.boundTo()
	}
	s.mu.Unlock()
	if !bound.IsZero() {
		return bound, nil
	}
	return s.users[0].PersonalNumber, nil
}

// pageData feeds the page template.
type pageData struct {
	Message string
	Orders  []Order
	Users   []TestUser
	// StartBy and Lifetime are the order timeouts the page states.
	StartBy, Lifetime time.Duration
}

func (s *Simulator) servePage(w http.ResponseWriter, r *http.Request) {
	var pending []Order
	for _, o := range s.Orders() {
		if o.Status == bankid.StatusPending {
			pending = append(pending, o)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = s.page.Execute(w, pageData{
		Message: r.URL.Query().Get("msg"), Orders: pending, Users: s.users, StartBy: s.startBy, Lifetime: bankid.OrderTimeout,
	})
}

// serveForm handles the page's buttons and redirects back with the outcome.
func (s *Simulator) serveForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	action, ref := r.PostFormValue("action"), r.PostFormValue("orderRef")
	body := actionJSON{
		PersonalNumber: r.PostFormValue("personalNumber"),
		HintCode:       bankid.HintCode(r.PostFormValue("hintCode")),
		QRCode:         r.PostFormValue("qrCode"),
	}
	msg := action + " " + ref + ": done"
	var err error
	if action == "scan" {
		var n pnr.Number
		if n, err = s.parseUser(body.PersonalNumber, ""); err == nil {
			if ref, err = s.ScanQR(body.QRCode, n); err == nil {
				msg = "QR code accepted for order " + ref
			}
		}
	} else {
		err = s.act(ref, action, body)
	}
	if err != nil {
		msg = action + " " + ref + ": " + err.Error()
	}
	http.Redirect(w, r, "/sim/?msg="+url.QueryEscape(msg), http.StatusSeeOther)
}

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BankID simulator</title>
<style>
body{font:15px system-ui,sans-serif;margin:2em;max-width:60em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.4em;text-align:left;vertical-align:top}
form{display:inline}button{margin:.1em}.msg{background:#eef;padding:.5em}code{font-size:12px}
</style></head><body>
<h1>BankID simulator</h1>
<p>Acting as the user of the BankID app. Orders expire like BankID's: {{if lt .StartBy .Lifetime}}{{.StartBy}} to open in the app, {{end}}{{.Lifetime}} in total; times are Swedish. <a href="/sim/">Refresh</a></p>
{{with .Message}}<p class="msg">{{.}}</p>{{end}}
<h2>Scan a QR code (another device)</h2>
<form method="post" action="/sim/ui"><input type="hidden" name="action" value="scan">
<input name="qrCode" size="80" placeholder="bankid.&lt;qrStartToken&gt;.&lt;seconds&gt;.&lt;hmac&gt;" autofocus>
<select name="personalNumber">{{range .Users}}<option value="{{.PersonalNumber.Digits}}">{{.Name}} ({{.PersonalNumber.Digits}})</option>{{end}}</select>
<button>Scan</button></form>
<h2>Pending orders</h2>
{{if not .Orders}}<p>No pending orders.</p>{{else}}
<table><tr><th>Order</th><th>Kind</th><th>Hint</th><th>Shown to user</th><th>Act as user</th></tr>
{{range .Orders}}{{$ref := .OrderRef}}{{$bound := .User.Digits}}{{if not $bound}}{{$bound = .RequiredPersonalNumber.Digits}}{{end}}<tr>
<td><code>{{.OrderRef}}</code><br>{{(local .Created).Format "15:04:05"}}{{with .RequiredPersonalNumber.Redacted}}<br>only {{.}}{{end}}</td>
<td>{{.Kind}}</td><td>{{.HintCode}}</td><td>{{.UserVisibleData}}</td>
<td><form method="post" action="/sim/ui"><input type="hidden" name="orderRef" value="{{$ref}}">
<select name="personalNumber">{{range $.Users}}<option value="{{.PersonalNumber.Digits}}"{{if eq .PersonalNumber.Digits $bound}} selected{{end}}>{{.Name}}</option>{{end}}</select>
<button name="action" value="start">Open in app</button>
<button name="action" value="approve">Approve</button>
<button name="action" value="cancel">Cancel</button>
<button name="action" value="expire">Expire</button></form>
<form method="post" action="/sim/ui"><input type="hidden" name="orderRef" value="{{$ref}}"><input type="hidden" name="action" value="fail">
<select name="hintCode"><option>certificateErr</option><option>startFailed</option><option>userDeclinedCall</option><option>notSupportedByUserApp</option><option>transactionRiskBlocked</option></select>
<button>Fail</button></form></td></tr>{{end}}
</table>{{end}}
</body></html>
`
