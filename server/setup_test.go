package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/demo"
	"github.com/nara-care/nara/server"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// headerAuth trusts a test header naming the principal's roles. It stands in
// for session tokens in tests of authorization rules only.
type headerAuth struct{}

func (headerAuth) Authenticate(_ context.Context, h http.Header) (access.Principal, bool, error) {
	v := h.Get("X-Test-Roles")
	if v == "" {
		return access.Principal{}, false, nil
	}
	p := access.Principal{Subject: "SE2321000016-test"}
	for _, r := range strings.Split(v, ",") {
		p.Roles = append(p.Roles, access.Role(r))
	}
	return p, true, nil
}

type env struct {
	url   string
	store *store.Store
	// client speaks HTTP/1.1 (Connect, gRPC-Web); h2c speaks HTTP/2 without
	// TLS (gRPC, streaming).
	client, h2c *http.Client
	logs        *lockedWriter
}

func setup(t *testing.T) *env {
	t.Helper()
	st := storetest.NewStore(t)
	ctx := context.Background()
	if err := demo.Seed(ctx, st); err != nil {
		t.Fatal(err)
	}
	logs := &lockedWriter{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	srv, err := server.New(server.Config{Version: "test", MinimumAppVersions: map[string]string{"ios": "4.0"}}, logger, st, headerAuth{}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config = server.NewHTTPServer("", srv.Handler())
	ts.Start()
	t.Cleanup(ts.Close)

	return &env{url: ts.URL, store: st, client: newClient(false), h2c: newClient(true), logs: logs}
}

// newClient returns an HTTP/1.1 client, or with h2c one that speaks only
// unencrypted HTTP/2, as gRPC clients do.
func newClient(h2c bool) *http.Client {
	p := new(http.Protocols)
	if h2c {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	return &http.Client{Transport: &http.Transport{Protocols: p, DialContext: (&net.Dialer{}).DialContext}}
}

// transport is one wire protocol over the HTTP version its clients use.
type transport struct {
	client *http.Client
	opts   []connect.ClientOption
}

// protocols are the wire protocols every handler test runs over.
func (e *env) protocols() map[string]transport {
	return map[string]transport{
		"connect":     {e.client, nil},
		"connect-h2c": {e.h2c, nil},
		"grpc":        {e.h2c, []connect.ClientOption{connect.WithGRPC()}},
		"grpc-web":    {e.client, []connect.ClientOption{connect.WithGRPCWeb()}},
	}
}

func roles(rs ...access.Role) connect.ClientOption {
	var names []string
	for _, r := range rs {
		names = append(names, string(r))
	}
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("X-Test-Roles", strings.Join(names, ","))
			return next(ctx, req)
		}
	}))
}
