package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/sdk/openapi"
)

// mountAPIDocs serves the OpenAPI description of the Connect JSON API at
// GET /openapi.yaml and a page for people made from it at GET /docs. Both
// are public (they describe the API, not anyone's data) and are built
// once, here, so that a description the page cannot read stops the server
// from starting instead of failing later.
func mountAPIDocs(mux *http.ServeMux) error {
	description := openapi.Description()
	page, err := openapi.Page(description)
	if err != nil {
		return err
	}
	mux.Handle("GET /openapi.yaml", newStaticDoc("application/yaml", description))
	mux.Handle("GET /docs", newStaticDoc("text/html; charset=utf-8", page))
	return nil
}

// staticDoc answers with one fixed document, cacheable and revalidated by
// its ETag (a hash of the content, so it changes with the binary's API).
type staticDoc struct {
	contentType string
	body        []byte
	etag        string
	// policy, for an HTML page, is its Content-Security-Policy.
	policy string
}

func newStaticDoc(contentType string, body []byte) *staticDoc {
	sum := sha256.Sum256(body)
	d := &staticDoc{contentType: contentType, body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	if strings.HasPrefix(contentType, "text/html") {
		d.policy = rpc.PagePolicy(string(body))
	}
	return d
}

func (d *staticDoc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if d.policy != "" {
		// The page has no scripts and loads nothing; say so to the browser.
		rpc.SetPageHeaders(h, d.policy)
	}
	h.Set("Content-Type", d.contentType)
	h.Set("ETag", d.etag)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match with 304 and handles HEAD and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(d.body))
}
