package rpc

import (
	"context"
	"net/netip"

	"connectrpc.com/connect"
)

// clientIPKey holds the caller's address in a request's context.
type clientIPKey struct{}

// WithClientIP returns ctx carrying ip as the caller's address. The server
// finds it once per request (behind trusted proxies, the address they
// name), so BankID's endUserIp, the limits and the access log all see the
// same one.
func WithClientIP(ctx context.Context, ip netip.Addr) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP is the address of the caller: the one WithClientIP put in ctx,
// or the TCP peer of the Connect call, or the unspecified address.
func ClientIP(ctx context.Context) netip.Addr {
	if ip, ok := ctx.Value(clientIPKey{}).(netip.Addr); ok && ip.IsValid() {
		return ip
	}
	if info, ok := connect.CallInfoForHandlerContext(ctx); ok {
		if ap, err := netip.ParseAddrPort(info.Peer().Addr); err == nil {
			return ap.Addr().Unmap()
		}
	}
	return netip.IPv4Unspecified()
}
