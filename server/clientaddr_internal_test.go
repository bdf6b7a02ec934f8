package server

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 2001:db8:ffff::/48,192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		peer    string
		trusted []netip.Prefix
		header  http.Header
		want    string
	}{
		{"no proxies trusted: the peer", "10.1.1.1:5000", nil, http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "10.1.1.1"},
		{"untrusted peer's header is ignored", "198.51.100.4:5000", trusted, http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "198.51.100.4"},
		{"untrusted peer's Forwarded is ignored", "198.51.100.4:5000", trusted, http.Header{"Forwarded": {"for=203.0.113.9"}}, "198.51.100.4"},
		{"trusted peer without a header", "10.1.1.1:5000", trusted, nil, "10.1.1.1"},
		{"one hop", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"spoofed left entries are skipped", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9"}}, "203.0.113.9"},
		{"two trusted hops", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9, 10.2.2.2"}}, "203.0.113.9"},
		{"hops over several header lines", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9", "192.0.2.1"}}, "203.0.113.9"},
		{"all hops trusted: the leftmost", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"10.3.3.3, 10.2.2.2"}}, "10.3.3.3"},
		{"IPv6 peer and client", "[2001:db8:ffff::1]:443", trusted, http.Header{"X-Forwarded-For": {"2001:db8:1::9"}}, "2001:db8:1::9"},
		{"IPv4-mapped peer", "[::ffff:10.1.1.1]:443", trusted, http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"hop with a port", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"203.0.113.9:1234"}}, "203.0.113.9"},
		{"bracketed IPv6 hop", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"[2001:db8:1::9]"}}, "2001:db8:1::9"},
		{"malformed hop stops at the trusted proxy", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"203.0.113.9, not-an-ip"}}, "10.1.1.1"},
		{"malformed hop behind a real client is never reached", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"garbage, 203.0.113.9"}}, "203.0.113.9"},
		{"empty hop", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {""}}, "10.1.1.1"},
		{"zone is not an address", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"fe80::1%eth0"}}, "10.1.1.1"},
		{"Forwarded", "10.1.1.1:5000", trusted, http.Header{"Forwarded": {`for=1.2.3.4, for="[2001:db8:1::9]:4711";proto=https;by=10.1.1.1`}}, "2001:db8:1::9"},
		{"Forwarded past a trusted hop", "10.1.1.1:5000", trusted, http.Header{"Forwarded": {"for=203.0.113.9", "For=10.2.2.2"}}, "203.0.113.9"},
		{"Forwarded obfuscated", "10.1.1.1:5000", trusted, http.Header{"Forwarded": {"for=_hidden"}}, "10.1.1.1"},
		{"Forwarded without for", "10.1.1.1:5000", trusted, http.Header{"Forwarded": {"proto=https"}}, "10.1.1.1"},
		{"X-Forwarded-For wins over Forwarded", "10.1.1.1:5000", trusted, http.Header{"X-Forwarded-For": {"203.0.113.9"}, "Forwarded": {"for=1.2.3.4"}}, "203.0.113.9"},
		{"peer that is not host:port", "@", trusted, nil, "0.0.0.0"},
	}
	for _, tt := range tests {
		if got := clientAddr(tt.peer, tt.header, tt.trusted); got.String() != tt.want {
			t.Errorf("%s: clientAddr(%q, %v) got %s, want %s", tt.name, tt.peer, tt.header, got, tt.want)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{" 10.0.0.0/8 , fd00::/8", []string{"10.0.0.0/8", "fd00::/8"}, false},
		{"192.0.2.1,2001:db8::1", []string{"192.0.2.1/32", "2001:db8::1/128"}, false},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}, false},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}, false},
		{"10.0.0.0/33", nil, true},
		{"example.com", nil, true},
		{"10.0.0.0/8,,", []string{"10.0.0.0/8"}, false},
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxies(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTrustedProxies(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if len(s) != len(tt.want) {
			t.Errorf("ParseTrustedProxies(%q) got %v, want %v", tt.in, s, tt.want)
			continue
		}
		for i := range s {
			if s[i] != tt.want[i] {
				t.Errorf("ParseTrustedProxies(%q) got %v, want %v", tt.in, s, tt.want)
			}
		}
	}
}
