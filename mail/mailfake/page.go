package mailfake

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"
)

// view is one message as the page and the JSON show it.
type view struct {
	From      string    `json:"from"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`
	Date      time.Time `json:"date"`
	MessageID string    `json:"message_id"`
	Text      string    `json:"text"`
	Error     string    `json:"error,omitempty"`
}

func (f *Fake) views() []view {
	msgs := f.Messages()
	out := make([]view, 0, len(msgs))
	for _, r := range msgs {
		v := view{To: r.EnvelopeTo, Date: r.ReceivedAt, From: r.EnvelopeFrom, Error: r.ParseErr}
		if m := r.Message; m != nil {
			v.From, v.Subject, v.MessageID, v.Text = m.From.String(), m.Subject, m.MessageID, m.Text
			if !m.Date.IsZero() {
				v.Date = m.Date
			}
		}
		out = append(out, v)
	}
	return out
}

var page = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Skickad e-post (lokal)</title>
<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto}article{border-top:1px solid #ccc;padding:.5rem 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}dt{font-weight:bold}</style>
</head><body>
<h1>Skickad e-post</h1>
<p>Den lokala e-poststandinen tar emot allt och skickar inget vidare. Nyast först. <a href="messages.json">JSON</a></p>
{{range .}}<article>
<dl><dt>Från</dt><dd>{{.From}}</dd><dt>Till</dt><dd>{{range .To}}{{.}} {{end}}</dd>
<dt>Ämne</dt><dd>{{.Subject}}</dd><dt>Datum</dt><dd>{{.Date.Format "2006-01-02 15:04:05"}}</dd>
<dt>Message-ID</dt><dd>{{.MessageID}}</dd></dl>
{{if .Error}}<p>Kunde inte tolkas: {{.Error}}</p>{{end}}
<pre>{{.Text}}</pre>
</article>{{else}}<p>Ingen e-post än.</p>{{end}}
</body></html>
`))

// Handler serves the page at /mail/ and the same list as JSON at
// /mail/messages.json, for mounting in `nara serve` under /mail/.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /mail/{$}", func(w http.ResponseWriter, _ *http.Request) {
		secure(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, f.views())
	})
	mux.HandleFunc("GET /mail/messages.json", func(w http.ResponseWriter, _ *http.Request) {
		secure(w)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.views())
	})
	return mux
}

// secure sets the headers that keep a mail's content inert in a browser:
// mail is attacker-controlled input.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}
