package rpc

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
)

// styleBlock finds a page's <style> elements.
var styleBlock = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// PagePolicy is the Content-Security-Policy of an HTML page made of html:
// nothing loads or runs but the page's own <style> elements, named by
// their hashes; it submits no forms and no site may frame it.
func PagePolicy(html string) string {
	styles := "'none'"
	if blocks := styleBlock.FindAllStringSubmatch(html, -1); len(blocks) > 0 {
		hashes := make([]string, 0, len(blocks))
		for _, b := range blocks {
			sum := sha256.Sum256([]byte(b[1]))
			hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
		styles = strings.Join(hashes, " ")
	}
	return "default-src 'none'; style-src " + styles + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// SetPageHeaders marks an answer as an HTML page under policy (from
// PagePolicy): not to be framed (X-Frame-Options for browsers that predate
// frame-ancestors), sniffed as anything else, or named as the referrer of
// the links it holds.
func SetPageHeaders(h http.Header, policy string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", policy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
}
