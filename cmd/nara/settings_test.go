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
