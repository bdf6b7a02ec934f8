package fcmfake

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The control API under /fake/ lets tests in other languages, a benchmark or a developer drive
// the fake over HTTP. Bodies are JSON; answers are JSON, or HTML for a browser on /fake/messages.
//
//	GET    /fake/messages?token=T&limit=N  recent messages, newest first (HTML for browsers, or ?format=html|json)
//	GET    /fake/stats?token=T             {"total","rejected","token_requests","count_for"}
//	GET    /fake/service-account           the service-account JSON file
//	POST   /fake/dead    {"tokens":[...]}  MarkDead; DELETE with the same body: Revive
//	POST   /fake/fail    {"token","code","count","retry_after_seconds"}  FailNext
//	POST   /fake/outage  {"code","count","retry_after_seconds"}           FailAll; DELETE: Recover
//	POST   /fake/reset                     Reset

// stats is the answer of /fake/stats and the head of /fake/messages.
type stats struct {
	Total         int64  `json:"total"`
	Distinct      int64  `json:"distinct"`
	Rejected      int64  `json:"rejected"`
	TokenRequests int64  `json:"token_requests"`
	Token         string `json:"token,omitempty"`
	CountFor      *int64 `json:"count_for,omitempty"`
}

func (f *Fake) stats(token string) stats {
	s := stats{Total: f.Count(), Distinct: f.Distinct(), Rejected: f.Rejected(), TokenRequests: f.TokenRequests()}
	if token != "" {
		n := f.CountFor(token)
		s.Token, s.CountFor = token, &n
	}
	return s
}

func (f *Fake) handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, f.stats(r.URL.Query().Get("token")))
}

func (f *Fake) handleMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("token")
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			controlError(w, "limit must be a non-negative integer")
			return
		}
		limit = n
	}
	msgs := f.Messages()
	slices.Reverse(msgs)
	if token != "" {
		msgs = slices.DeleteFunc(msgs, func(s Sent) bool { return targetOf(s.Message) != token })
	}
	if limit > 0 && len(msgs) > limit {
		msgs = msgs[:limit]
	}
	page := struct {
		stats
		Messages []Sent `json:"messages"`
	}{f.stats(token), msgs}
	if wantsHTML(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if err := f.page.Execute(w, page); err != nil {
			http.Error(w, "fcmfake: render page", http.StatusInternalServerError)
		}
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func wantsHTML(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "html":
		return true
	case "json":
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func (f *Fake) handleServiceAccount(w http.ResponseWriter, _ *http.Request) {
	b, err := f.ServiceAccountJSON()
	if err != nil {
		controlError(w, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}

func (f *Fake) handleDead(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Tokens []string `json:"tokens"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	if r.Method == http.MethodDelete {
		f.Revive(body.Tokens...)
	} else {
		f.MarkDead(body.Tokens...)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) handleFail(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token             string  `json:"token"`
		Code              Code    `json:"code"`
		Count             int     `json:"count"`
		RetryAfterSeconds float64 `json:"retry_after_seconds"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	switch {
	case body.Token == "":
		controlError(w, "token is required")
		return
	case !body.Code.Known():
		controlError(w, "unknown code "+strconv.Quote(string(body.Code)))
		return
	}
	if body.Count == 0 {
		body.Count = 1
	}
	f.FailNext(body.Token, body.Code, body.Count, seconds(body.RetryAfterSeconds))
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) handleOutage(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		f.Recover()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var body struct {
		Code              Code    `json:"code"`
		Count             int     `json:"count"`
		RetryAfterSeconds float64 `json:"retry_after_seconds"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	if !body.Code.Known() {
		controlError(w, "unknown code "+strconv.Quote(string(body.Code)))
		return
	}
	f.FailAll(body.Code, body.Count, seconds(body.RetryAfterSeconds))
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) handleReset(w http.ResponseWriter, _ *http.Request) {
	f.Reset()
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) handleNotFound(w http.ResponseWriter, r *http.Request) {
	(&apiError{
		httpStatus: http.StatusNotFound,
		status:     "NOT_FOUND",
		message:    "The requested URL " + r.URL.Path + " was not found on this server.",
	}).write(w)
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		controlError(w, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func controlError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

// targetOf is the token, "/topics/NAME" or condition a message went to.
func targetOf(m Message) string {
	switch {
	case m.Token != "":
		return m.Token
	case m.Topic != "":
		return "/topics/" + m.Topic
	}
	return m.Condition
}

func pageTemplate() (*template.Template, error) {
	return template.New("messages").Funcs(template.FuncMap{
		"target": targetOf,
		"short": func(s string) string {
			if len(s) <= 16 {
				return s
			}
			return s[:16] + "…"
		},
		"json": func(v any) string {
			b, err := json.Marshal(v)
			if err != nil {
				return err.Error()
			}
			return string(b)
		},
		"clock": func(t time.Time) string { return t.Format("15:04:05.000") },
	}).Parse(pageHTML)
}

const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>FCM fake: sent messages</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code { font-size: 12px; word-break: break-all; }
.stats span { margin-right: 1.5rem; }
</style>
</head>
<body>
<h1>FCM fake: sent messages</h1>
<p class="stats">
<span>accepted: <b>{{.Total}}</b></span> <span>distinct (token, collapse id): <b>{{.Distinct}}</b></span>
<span>rejected: <b>{{.Rejected}}</b></span>
<span>OAuth tokens granted: <b>{{.TokenRequests}}</b></span>
{{if .Token}}<span>to <code>{{short .Token}}</code>: <b>{{.CountFor}}</b></span>{{end}}
</p>
{{if .Messages}}
<table>
<thead><tr><th>#</th><th>time</th><th>to</th><th>title</th><th>body</th><th>data</th><th>Android</th><th>APNs</th><th>Web Push</th></tr></thead>
<tbody>
{{range .Messages}}{{$m := .Message}}
<tr>
<td>{{.Seq}}</td>
<td>{{clock .Time}}</td>
<td title="{{target $m}}"><code>{{short (target $m)}}</code></td>
<td>{{with $m.Notification}}{{.Title}}{{end}}</td>
<td>{{with $m.Notification}}{{.Body}}{{end}}</td>
<td>{{with $m.Data}}<code>{{json .}}</code>{{end}}</td>
<td>{{with $m.Android}}{{if .Priority}}priority {{.Priority}}<br>{{end}}{{with .Notification}}{{if .ChannelID}}channel {{.ChannelID}}{{end}}{{end}}{{end}}</td>
<td>{{with $m.APNS}}<code>{{json .Headers}}</code><br><code>{{json .Payload}}</code>{{end}}</td>
<td>{{with $m.Webpush}}{{with .FCMOptions}}{{.Link}}{{end}}{{end}}</td>
</tr>
{{end}}
</tbody>
</table>
{{else}}
<p>Nothing sent yet.</p>
{{end}}
</body>
</html>
`
