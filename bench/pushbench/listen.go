package main

import (
	"context"
	"net"
)

type netListen struct{}

func (netListen) listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}
