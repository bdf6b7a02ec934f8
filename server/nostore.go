package server

import (
	"context"
	"strings"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
)

// noStoreInterceptor marks every RPC answer, errors included, as not to be
// kept by any cache, shared or private: answers carry patient data and
// tokens. The public help content is left to its handlers, which revalidate
// the FAQ by its ETag; a handler that sets Cache-Control itself wins.
type noStoreInterceptor struct{}

// public reports whether procedure answers with public help content.
func (noStoreInterceptor) public(procedure string) bool {
	return strings.HasPrefix(procedure, "/"+helpv1connect.HelpServiceName+"/")
}

func (i noStoreInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if info, ok := connect.CallInfoForHandlerContext(ctx); ok && !i.public(req.Spec().Procedure) {
			info.ResponseHeader().Set("Cache-Control", "no-store")
		}
		return next(ctx, req)
	}
}

func (noStoreInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i noStoreInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if !i.public(conn.Spec().Procedure) {
			conn.ResponseHeader().Set("Cache-Control", "no-store")
		}
		return next(ctx, conn)
	}
}
