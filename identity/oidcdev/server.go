package oidcdev

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server runs a Provider on its own listener, for `nara serve` and for
// tests in other languages that need a real issuer URL.
type Server struct {
	provider *Provider
	srv      *http.Server
}

// Start listens on addr (default "127.0.0.1:0", a free loopback port) and
// serves a Provider made from cfg. When cfg.Issuer is empty it becomes
// "http://" + the address listened on.
func Start(cfg Config, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oidcdev: listen: %w", err)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "http://" + ln.Addr().String()
	}
	p, err := New(cfg)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{provider: p, srv: &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}}
	go func() {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("oidcdev: serving stopped", "error", err)
		}
	}()
	return s, nil
}

// Issuer is the issuer URL, for OIDC_ISSUER.
func (s *Server) Issuer() string { return s.provider.Issuer() }

// Provider is the provider being served, for AddUser.
func (s *Server) Provider() *Provider { return s.provider }

// Close stops the listener, letting requests in flight finish for up to
// five seconds.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
