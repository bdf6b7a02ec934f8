package server

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// Link is a page the landing page at / points to, such as a local stand-in
// for BankID, the staff identity provider or FCM.
type Link struct {
	Name, URL string
	// About says in a sentence what the page is for.
	About string
}

// mountFront serves a small landing page at GET /: what runs here, the API
// documentation, and the pages of the stand-ins running beside the server.
func mountFront(mux *http.ServeMux, version string, local []Link) error {
	page, err := template.New("front").Parse(frontHTML)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := page.Execute(&b, struct {
		Version string
		Local   []Link
	}{version, local}); err != nil {
		return err
	}
	mux.Handle("GET /{$}", newStaticDoc("text/html; charset=utf-8", []byte(b.String())))
	return nil
}

const frontHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nära</title>
<style>body{font:16px system-ui,sans-serif;margin:2em auto;max-width:44em;padding:0 1em}li{margin:.4em 0}</style>
</head><body>
<h1>Nära</h1>
<p>The Nära API (version {{.Version}}) is served here over Connect, gRPC and gRPC-Web. Call it with
<code>curl -H 'Content-Type: application/json' -d '{}' http://&lt;this address&gt;/nara.app.v1.AppService/GetConfig</code>,
with grpcurl (reflection is on), or with the SDKs.</p>
<ul>
<li><a href="/docs">API documentation</a>: every service and method, with request and answer fields.</li>
<li><a href="/openapi.yaml">OpenAPI description</a> of the Connect JSON API, for generators and tools.</li>
</ul>
{{with .Local}}<h2>Local stand-ins</h2>
<p>They run in place of the real services because none is configured.</p>
<ul>{{range .}}<li><a href="{{.URL}}">{{.Name}}</a>{{with .About}}: {{.}}{{end}}</li>{{end}}</ul>{{end}}
</body></html>
`

// withHelpfulErrors gives the answers a newcomer meets first a Connect JSON
// error body that says what to do: a request without a usable Content-Type
// (Connect's handlers answer a bare 415) and a path that is no RPC (the
// mux's and Connect's plain-text 404).
func withHelpfulErrors(mux *http.ServeMux, services []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		service, method, rpcShaped := rpcPath(r.URL.Path)
		hw := &helpfulWriter{ResponseWriter: w, contentType: r.Header.Get("Content-Type"), notFound: pattern == "" || rpcShaped}
		switch {
		case rpcShaped && slices.Contains(services, service):
			hw.notFoundMessage = service + " has no method " + quote(method) + "; its methods are listed at /docs"
		case rpcShaped:
			hw.notFoundMessage = "there is no service " + quote(service) + "; the services are listed at /docs"
		default:
			hw.notFoundMessage = "nothing is served at " + quote(r.URL.Path) +
				"; RPCs are POST /<package.Service>/<Method>, listed at /docs, and / links the local pages"
		}
		mux.ServeHTTP(hw, r)
	})
}

// rpcPath splits "/nara.help.v1.HelpService/SearchArticles".
func rpcPath(path string) (service, method string, ok bool) {
	service, method, ok = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return service, method, ok && strings.Contains(service, ".") && method != "" && !strings.Contains(method, "/")
}

// quote keeps a caller's path short and readable in a message.
func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// helpfulWriter replaces a bare 415, and a plain-text 404 where notFound,
// with a Connect error.
type helpfulWriter struct {
	http.ResponseWriter
	contentType     string
	notFound        bool
	notFoundMessage string
	replaced        bool
}

func (w *helpfulWriter) WriteHeader(status int) {
	h := w.Header()
	switch {
	case status == http.StatusUnsupportedMediaType:
		got := "the request has no Content-Type"
		if w.contentType != "" {
			got = "the request's Content-Type " + quote(w.contentType) + " is not one this server reads"
		}
		w.replace(status, "invalid_argument", got+"; send Content-Type: application/json "+
			"(Connect with JSON, e.g. curl -H 'Content-Type: application/json' -d '{}'), application/proto, or a gRPC or gRPC-Web type")
	case status == http.StatusNotFound && w.notFound && strings.HasPrefix(h.Get("Content-Type"), "text/plain"):
		w.replace(status, "unimplemented", w.notFoundMessage)
	default:
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *helpfulWriter) replace(status int, code, message string) {
	w.replaced = true
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.ResponseWriter.WriteHeader(status)
	body, _ := json.Marshal(map[string]string{"code": code, "message": message})
	_, _ = w.ResponseWriter.Write(append(body, '\n'))
}

func (w *helpfulWriter) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil // the original plain-text body
	}
	return w.ResponseWriter.Write(p)
}

// Flush passes a stream's flushes on.
func (w *helpfulWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the connection (flushes for
// streams, deadlines).
func (w *helpfulWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
