package main

import (
	"io"
	"testing"
)

// TestMetricsAddr keeps metrics off the public API: on loopback by
// default, elsewhere when asked, and off when empty.
func TestMetricsAddr(t *testing.T) {
	tests := []struct {
		env  *string
		args []string
		want string
	}{
		{nil, nil, "127.0.0.1:9464"},
		{ptr("10.0.0.5:9464"), nil, "10.0.0.5:9464"},
		{ptr(""), nil, ""},
		{ptr("10.0.0.5:9464"), []string{"--metrics-addr="}, ""},
		{nil, []string{"--metrics-addr", "127.0.0.1:9999", "--addr", "0.0.0.0:8080"}, "127.0.0.1:9999"},
	}
	for _, tt := range tests {
		if tt.env != nil {
			t.Setenv("NARA_METRICS_ADDR", *tt.env)
		}
		s, err := parseSettings("serve", tt.args, io.Discard)
		if err != nil || s.metricsAddr != tt.want {
			t.Errorf("NARA_METRICS_ADDR %v, args %q: metrics address got %q, %v; want %q", tt.env, tt.args, s.metricsAddr, err, tt.want)
		}
	}
}

func ptr(s string) *string { return &s }

// TestPublicURLNamesTheStaffCallback sends the identity provider's redirect
// to the public URL, which defaults to the listen address.
func TestPublicURLNamesTheStaffCallback(t *testing.T) {
	tests := []struct {
		args                []string
		public, redirectURL string
	}{
		{[]string{"--addr", "127.0.0.1:8080"}, "http://127.0.0.1:8080", "http://127.0.0.1:8080/auth/staff/callback"},
		{[]string{"--public-url", "https://nara.region.example/"}, "https://nara.region.example/", "https://nara.region.example/auth/staff/callback"},
		{[]string{"--public-url", "https://nara.region.example", "--oidc-redirect-url", "https://app.example/cb"}, "https://nara.region.example", "https://app.example/cb"},
	}
	for _, tt := range tests {
		s, err := parseSettings("serve", tt.args, io.Discard)
		if err != nil || s.publicURL != tt.public || s.oidcRedirectURL != tt.redirectURL {
			t.Errorf("args %q: public URL %q, redirect %q, %v; want %q, %q", tt.args, s.publicURL, s.oidcRedirectURL, err, tt.public, tt.redirectURL)
		}
	}
}
