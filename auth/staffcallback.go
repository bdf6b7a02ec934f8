package auth

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"github.com/nara-care/nara/rpc"
)

// staffCallbackPage is where the identity provider sends the browser back
// when no app has claimed the redirect (the default in development): it
// shows how to finish the login with CompleteStaffLogin. An app registers
// its own redirect URL and calls CompleteStaffLogin itself.
type staffCallbackPage struct {
	page *template.Template
	// policy is the page's Content-Security-Policy.
	policy string
	// endpoint is CompleteStaffLogin at the server's public URL.
	endpoint string
}

func newStaffCallbackPage(publicURL string) *staffCallbackPage {
	return &staffCallbackPage{
		page:     template.Must(template.New("callback").Parse(staffCallbackHTML)),
		policy:   rpc.PagePolicy(staffCallbackHTML),
		endpoint: strings.TrimRight(publicURL, "/") + "/nara.auth.v1.ClinicianAuthService/CompleteStaffLogin",
	}
}

const staffCallbackHTML = `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Nära – inloggning för personal</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:1rem;overflow-x:auto;white-space:pre-wrap}</style>
</head><body>
<h1>Inloggning för personal</h1>
{{if .Error}}<p>Inloggningen avbröts: {{.Error}}</p>
{{else}}<p>The identity provider confirmed the login. Finish it with CompleteStaffLogin
(the authorization code works once, for 60 seconds):</p>
<pre>{{.Command}}</pre>
<p>The request body alone:</p>
<pre>{{.Body}}</pre>{{end}}
</body></html>`

// staffCallback serves the staff login's default landing page.
func (a *Auth) staffCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var data struct{ Error, Command, Body string }
	if e := q.Get("error"); e != "" {
		data.Error = e + " " + q.Get("error_description")
	} else {
		login, err := a.store.StaffLoginPeek(r.Context(), q.Get("state"))
		if err != nil {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "unknown or expired login; start a new one", http.StatusBadRequest)
			return
		}
		body, err := json.Marshal(map[string]any{
			"state": q.Get("state"), "code": q.Get("code"),
			"device": map[string]string{"id": login.DeviceID, "name": login.DeviceName, "platform": "PLATFORM_" + strings.ToUpper(login.Platform)},
		})
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		data.Body = string(body)
		data.Command = "curl -s -H 'Content-Type: application/json' -d " + shellQuote(data.Body) + " " + shellQuote(a.callbackPage.endpoint)
	}
	rpc.SetPageHeaders(w.Header(), a.callbackPage.policy)
	w.Header().Set("Cache-Control", "no-store")
	if err := a.callbackPage.page.Execute(w, data); err != nil {
		a.logger.Warn("staff callback page", "error", err.Error())
	}
}

// shellQuote quotes s as one word for a POSIX shell: inside single quotes
// nothing is special but the single quote itself, which closes the quotes,
// is given escaped and opens them again. Whatever the query string held,
// the pasted command runs curl with it as data, never as a command.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
