package server

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"connectrpc.com/connect"
)

// ParseTrustedProxies reads NARA_TRUSTED_PROXIES: comma-separated CIDRs (a
// bare address stands for itself). Empty means no proxy is trusted.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxies: %q is neither a CIDR nor an address", f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %q is not a CIDR", f)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// clientAddrKey holds the caller's address in a request's context.
type clientAddrKey struct{}

// withClientAddr finds each request's client address once, so BankID's
// endUserIp, the login and calendar limits, and the access log all see the
// same one.
func withClientAddr(h http.Handler, trusted []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientAddr(r.RemoteAddr, r.Header, trusted)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, ip)))
	})
}

// clientIP is the address of the caller: the TCP peer, or behind trusted
// proxies the address they name (see clientAddr).
func clientIP(ctx context.Context) netip.Addr {
	if ip, ok := ctx.Value(clientAddrKey{}).(netip.Addr); ok && ip.IsValid() {
		return ip
	}
	if info, ok := connect.CallInfoForHandlerContext(ctx); ok {
		if ip, ok := hostIP(info.Peer().Addr); ok {
			return ip
		}
	}
	return netip.IPv4Unspecified()
}

// clientAddr is the client's address for a request from peer. Only when the
// peer is a trusted proxy are the forwarding headers read: X-Forwarded-For
// (or, without it, Forwarded) is walked from the right past trusted hops,
// and the first address that is not a trusted proxy is the client. A hop
// that cannot be read ends the walk at the last proxy known to be trusted,
// so a forged or garbled header never yields an address someone chose.
func clientAddr(peer string, h http.Header, trusted []netip.Prefix) netip.Addr {
	ip, ok := hostIP(peer)
	if !ok {
		return netip.IPv4Unspecified()
	}
	if !isTrusted(ip, trusted) {
		return ip
	}
	hops := forwardedFor(h)
	for i := len(hops) - 1; i >= 0 && isTrusted(ip, trusted); i-- {
		next, ok := parseHop(hops[i])
		if !ok {
			break
		}
		ip = next
	}
	return ip
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedFor lists the hops the proxies recorded, nearest last.
// Balancers write X-Forwarded-For; Forwarded (RFC 7239) is read only when
// there is none, so a proxy that writes only Forwarded must drop an
// incoming X-Forwarded-For.
func forwardedFor(h http.Header) []string {
	var hops []string
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, v := range xff {
			for _, hop := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
		return hops
	}
	for _, v := range h.Values("Forwarded") {
		for _, elem := range strings.Split(v, ",") {
			node := ""
			for _, pair := range strings.Split(elem, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(k, "for") {
					node = strings.Trim(val, `"`)
				}
			}
			hops = append(hops, node)
		}
	}
	return hops
}

// parseHop reads one forwarded address: "192.0.2.1", "192.0.2.1:4711",
// "2001:db8::1" or "[2001:db8::1]:4711". Obfuscated names ("unknown",
// "_hidden") are not addresses.
func parseHop(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// hostIP is the IP of a "host:port" address (IPv4 as such, not mapped into
// IPv6); ok is false when it is not one.
func hostIP(hostport string) (ip netip.Addr, ok bool) {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// ClientAddr is the caller's address as the server found it (the TCP peer,
// or behind trusted proxies the address they name), for a domain's rate
// limits and access log.
func ClientAddr(ctx context.Context) netip.Addr { return clientIP(ctx) }
