// Package server assembles Nära's Connect services into one HTTP handler:
// validation, authorization, error mapping, metrics, health and reflection.
// It serves Connect, gRPC and gRPC-Web on the same paths.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/validate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/gen/grpc/health/v1/healthv1connect"
	"github.com/nara-care/nara/gen/nara/app/v1/appv1connect"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	"github.com/nara-care/nara/store"
)

// Config holds the server's settings.
type Config struct {
	// Version is the build version reported to apps. Default "dev".
	Version string
	// MaxRequestBytes bounds a request body. Default 1 MiB.
	MaxRequestBytes int64
	// RequestTimeout bounds a unary RPC's handling. Default 15 s.
	RequestTimeout time.Duration
	// MinimumAppVersions is the oldest supported app version per platform
	// ("ios", "android", "web"). Default: none, every version is supported.
	MinimumAppVersions map[string]string
	// SearchCacheSize is how many FAQ search results are kept in memory per
	// replica. Default 10 000; negative disables the cache.
	SearchCacheSize int
}

func (c *Config) setDefaults() {
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 1 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 15 * time.Second
	}
	if c.SearchCacheSize == 0 {
		c.SearchCacheSize = 10_000
	}
}

// Authenticator finds the principal of a request from its headers. It returns
// (zero, false, nil) for an anonymous request and an error for credentials
// that are present but not valid.
type Authenticator interface {
	Authenticate(ctx context.Context, header http.Header) (access.Principal, bool, error)
}

// Server is Nära's API. Build it with New and serve Handler.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	store   *store.Store
	auth    Authenticator
	metrics *metrics
	help    *helpService
	mux     *http.ServeMux
}

// New builds the server. auth may be nil, in which case every request is
// anonymous and only public RPCs succeed.
func New(cfg Config, logger *slog.Logger, st *store.Store, auth Authenticator, reg prometheus.Registerer) (*Server, error) {
	cfg.setDefaults()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		logger:  logger,
		store:   st,
		auth:    auth,
		metrics: m,
		mux:     http.NewServeMux(),
	}
	s.help = newHelpService(st, logger, cfg.SearchCacheSize)

	opts := connect.WithHandlerOptions(
		connect.WithInterceptors(
			s.metrics.interceptor(),
			newErrorInterceptor(logger),
			newTimeoutInterceptor(cfg.RequestTimeout),
			newAuthzInterceptor(auth, procedureRules()),
			validate.NewInterceptor(),
		),
		connect.WithReadMaxBytes(int(cfg.MaxRequestBytes)),
		connect.WithCompressMinBytes(1024),
	)
	s.mux.Handle(helpv1connect.NewHelpServiceHandler(s.help, opts))
	s.mux.Handle(helpv1connect.NewHelpAdminServiceHandler(&helpAdminService{store: st, help: s.help}, opts))
	s.mux.Handle(appv1connect.NewAppServiceHandler(&appService{cfg: cfg}, opts))

	s.mux.Handle(healthv1connect.NewHealthHandler(&healthService{store: st}, connect.WithInterceptors(s.metrics.interceptor())))
	reflector := grpcreflect.NewStaticReflector(serviceNames()...)
	s.mux.Handle(grpcreflect.NewHandlerV1(reflector))
	s.mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	if g, ok := reg.(prometheus.Gatherer); ok {
		s.mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	return s, nil
}

// serviceNames lists every service for reflection and health.
func serviceNames() []string {
	return []string{
		helpv1connect.HelpServiceName,
		helpv1connect.HelpAdminServiceName,
		appv1connect.AppServiceName,
		healthv1connect.HealthName,
	}
}

// Handler returns the HTTP handler that serves every RPC.
func (s *Server) Handler() http.Handler {
	return http.MaxBytesHandler(s.mux, s.cfg.MaxRequestBytes+4096)
}

// Run starts the server's background work (cache invalidation from other
// replicas) until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	return s.help.listen(ctx)
}

// NewHTTPServer returns an http.Server for h with the timeouts and limits a
// public endpoint needs, speaking HTTP/1.1 and unencrypted HTTP/2 (h2c) so
// gRPC clients can connect without TLS behind a terminating load balancer.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		Protocols:         p,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Streaming RPCs (login progress) hold responses open; they bound
		// themselves, so no WriteTimeout here.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
}
