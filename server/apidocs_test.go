package server_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nara-care/nara/sdk/openapi"
)

func get(t *testing.T, e *env, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// TestOpenAPIAndDocsArePublicAndCacheable fetches the description and the
// API page without a session, then revalidates each by its ETag.
func TestOpenAPIAndDocsArePublicAndCacheable(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		path, contentType string
		check             func(body []byte) string // a complaint, or ""
	}{
		{"/openapi.yaml", "application/yaml", func(body []byte) string {
			if !bytes.Equal(body, openapi.Description()) {
				return "the body is not the embedded description"
			}
			return ""
		}},
		{"/docs", "text/html; charset=utf-8", func(body []byte) string {
			for _, want := range []string{"<h3 id=\"AppointmentService/BookSlot\">AppointmentService/BookSlot</h3>", "POST /nara.appointment.v1.AppointmentService/BookSlot", "idempotencyKey", "STATUS_BOOKED", `href="/openapi.yaml"`} {
				if !strings.Contains(string(body), want) {
					return "the page has no " + want
				}
			}
			if strings.Contains(string(body), "<script") {
				return "the page has a script"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		res, body := get(t, e, tt.path, nil)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != tt.contentType {
			t.Errorf("GET %s got %d %q, want 200 %q", tt.path, res.StatusCode, res.Header.Get("Content-Type"), tt.contentType)
			continue
		}
		if complaint := tt.check(body); complaint != "" {
			t.Errorf("GET %s: %s", tt.path, complaint)
		}
		etag := res.Header.Get("ETag")
		if etag == "" || !strings.Contains(res.Header.Get("Cache-Control"), "max-age") {
			t.Errorf("GET %s: ETag %q, Cache-Control %q, want both", tt.path, etag, res.Header.Get("Cache-Control"))
			continue
		}
		res, body = get(t, e, tt.path, http.Header{"If-None-Match": {etag}})
		if res.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s with If-None-Match: %s got %d with %d bytes, want 304 and none", tt.path, etag, res.StatusCode, len(body))
		}
	}
}
