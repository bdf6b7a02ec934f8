// Package server assembles Nära's Connect services into one HTTP handler:
// validation, authorization, error mapping, metrics, health and reflection.
// It serves Connect, gRPC and gRPC-Web on the same paths.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/otelconnect"
	"connectrpc.com/validate"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/gen/nara/app/v1/appv1connect"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// Config holds the server's settings.
type Config struct {
	// Version is the build version reported to apps. Default "dev".
	Version string
	// MaxRequestBytes bounds a request body, inflated or not. Default
	// 12 MiB: a support attachment is up to 8 MB (a phone photo is 2–5 MB),
	// which over JSON is base64 and a third larger. Connect takes one read
	// limit per handler, not per procedure, so every RPC shares it; each
	// request's fields have their own protovalidate bounds, and a body is
	// read (and inflated) no further than this.
	MaxRequestBytes int64
	// RequestTimeout bounds a unary RPC's handling. Default 15 s.
	RequestTimeout time.Duration
	// MinimumAppVersions is the oldest supported app version per platform
	// ("ios", "android", "web"). Default: none, every version is supported.
	MinimumAppVersions map[string]string
	// CORSOrigins are the web origins browsers may call the API from ("*" for
	// any). Default none: only same-origin pages.
	CORSOrigins []string
	// TrustedProxies are the load balancers whose X-Forwarded-For or
	// Forwarded headers name the client's address (NARA_TRUSTED_PROXIES).
	// Default none: the client is the TCP peer.
	TrustedProxies []netip.Prefix
	// LocalPages are the pages of the stand-ins running beside the server,
	// linked from the landing page at /. Default none.
	LocalPages []Link
}

func (c *Config) setDefaults() {
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 12 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 15 * time.Second
	}
}

// Authenticator finds the principal of a request from its headers. It returns
// (zero, false, nil) for an anonymous request and an error for credentials
// that are present but not valid.
type Authenticator interface {
	Authenticate(ctx context.Context, header http.Header) (access.Principal, bool, error)
}

// Deps are the server's collaborators. All are required but Registry,
// Tracer and Now.
type Deps struct {
	Logger *slog.Logger
	Store  *store.Store
	// Authenticator finds each request's principal (the auth domain).
	Authenticator Authenticator
	// Registry receives the server's metrics; nil keeps them unregistered.
	// They are served apart from the API, by MetricsHandler.
	Registry prometheus.Registerer
	// Tracer provides OpenTelemetry tracing; nil uses the global provider
	// (a no-op unless the process configured one).
	Tracer trace.TracerProvider
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Domains are the parts of the product that live in their own
	// packages, mounted beside the services above.
	Domains []rpc.Domain
}

// Server is Nära's API. Build it with New and serve Handler.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	store   *store.Store
	metrics *metrics
	mux     *http.ServeMux
	// services names every Connect service served, the domains' too.
	services []string
	// encoders keep answers encoded, for the JSON codec.
	encoders []rpc.Encoder
	// rules is every RPC's authorization rule, the domains' too.
	rules map[string]rpc.Rule
	// runners are the domains with background work.
	runners []rpc.Runner
}

// New builds the server.
func New(cfg Config, d Deps) (*Server, error) {
	cfg.setDefaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		logger:  d.Logger,
		store:   d.Store,
		metrics: m,
		mux:     http.NewServeMux(),

		services: serviceNames(),
	}
	rules := procedureRules()
	s.rules = rules
	tracerOpts := []otelconnect.Option{otelconnect.WithoutMetrics()}
	if d.Tracer != nil {
		tracerOpts = append(tracerOpts, otelconnect.WithTracerProvider(d.Tracer))
	}
	tracing, err := otelconnect.NewInterceptor(tracerOpts...)
	if err != nil {
		return nil, err
	}
	// Every handler reads at most MaxRequestBytes of a message, inflated
	// or not.
	bounded := connect.WithHandlerOptions(connect.WithReadMaxBytes(int(cfg.MaxRequestBytes)), boundedGzip(cfg.MaxRequestBytes))
	opts := connect.WithHandlerOptions(
		connect.WithInterceptors(
			noStoreInterceptor{},
			tracing,
			s.metrics.interceptor(),
			newErrorInterceptor(d.Logger),
			newTimeoutInterceptor(cfg.RequestTimeout),
			newAuthzInterceptor(d.Authenticator, rules, d.Now),
			violationInterceptor{},
			validate.NewInterceptor(),
			newScopeInterceptor(rules, rpc.NewCustody(d.Store, d.Now).PatientsOf),
		),
		bounded,
		connect.WithCompressMinBytes(1024),
		connect.WithCodec(jsonCodec{encoders: &s.encoders}),
	)
	s.mux.Handle(appv1connect.NewAppServiceHandler(&appService{cfg: cfg}, opts))
	if err := s.mountDomains(d.Domains, opts, rules); err != nil {
		return nil, err
	}
	for _, dom := range d.Domains {
		if r, ok := dom.(rpc.Runner); ok {
			s.runners = append(s.runners, r)
		}
	}

	s.mux.Handle((&healthService{store: d.Store, services: s.services}).handler(connect.WithInterceptors(s.metrics.interceptor()), bounded))
	reflector := grpcreflect.NewStaticReflector(s.services...)
	s.mux.Handle(grpcreflect.NewHandlerV1(reflector, bounded))
	s.mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, bounded))
	if err := mountAPIDocs(s.mux); err != nil {
		return nil, err
	}
	if err := mountFront(s.mux, cfg.Version, cfg.LocalPages); err != nil {
		return nil, err
	}
	return s, nil
}

// serviceNames lists the built-in services; Server.services adds the
// domains' for reflection and health.
func serviceNames() []string {
	return []string{
		appv1connect.AppServiceName,
		healthServiceName,
	}
}

// Rules returns every RPC's authorization rule, the domains' too, by
// procedure path (for documentation and tests; do not change it).
func (s *Server) Rules() map[string]rpc.Rule { return s.rules }

// Handler returns the HTTP handler that serves every RPC.
func (s *Server) Handler() http.Handler {
	return withClientAddr(withCORS(http.MaxBytesHandler(withHelpfulErrors(s.mux, s.services), s.cfg.MaxRequestBytes+4096), s.cfg.CORSOrigins), s.cfg.TrustedProxies)
}

// Run runs the domains' background work until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	for _, r := range s.runners {
		go func() {
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("a domain's background work stopped", slog.String("error", err.Error()))
			}
		}()
	}
	<-ctx.Done()
	return nil
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
		// Streaming RPCs (login progress, unit notices) hold responses
		// open; they bound themselves, so no WriteTimeout here.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
}
