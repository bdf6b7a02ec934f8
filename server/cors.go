package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	connectcors "connectrpc.com/cors"
)

// corsMaxAge is how long a browser may cache a preflight answer, in seconds.
const corsMaxAge = 2 * 60 * 60

// withCORS lets web apps on the listed origins call the API from a browser.
// Sessions travel as bearer tokens, never cookies, so credentials are not
// allowed; "*" allows every origin. With no origins it adds nothing.
func withCORS(h http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return h
	}
	allowAll := slices.Contains(origins, "*")
	methods := strings.Join(connectcors.AllowedMethods(), ", ")
	headers := strings.Join(append(connectcors.AllowedHeaders(), "Authorization", "If-None-Match"), ", ")
	exposed := strings.Join(append(connectcors.ExposedHeaders(), "ETag"), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || (!allowAll && !slices.Contains(origins, origin)) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		w.Header().Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", methods)
			w.Header().Set("Access-Control-Allow-Headers", headers)
			w.Header().Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Access-Control-Expose-Headers", exposed)
		h.ServeHTTP(w, r)
	})
}
