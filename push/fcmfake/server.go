package fcmfake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a Fake listening on loopback, with the lifecycle of an httptest.Server: Start it,
// read URL, Close it when done.
type Server struct {
	*Fake
	// URL is the fake's base URL, http://127.0.0.1:PORT; also Fake.BaseURL.
	URL string

	srv  *http.Server
	done chan struct{}
	// fresh holds connections accepted but not yet used, which Close drops at once as
	// httptest does, rather than letting Shutdown wait seconds for them.
	fresh sync.Map
}

// Start builds a Fake from cfg and serves it on cfg.Addr (default a free 127.0.0.1 port), with
// BaseURL set to where it listens, so its service-account file and Endpoint are ready to use.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("fcmfake: listen: %w", err)
	}
	cfg.BaseURL = "http://" + ln.Addr().String()
	f, err := New(cfg)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s := &Server{
		Fake: f,
		URL:  cfg.BaseURL,
		srv: &http.Server{
			Handler:           f,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
		},
		done: make(chan struct{}),
	}
	s.srv.ConnState = func(c net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.fresh.Store(c, struct{}{})
		} else {
			s.fresh.Delete(c)
		}
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server, letting requests in flight finish for up to five seconds.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.srv.Shutdown(ctx) }()
	s.fresh.Range(func(c, _ any) bool {
		_ = c.(net.Conn).Close()
		return true
	})
	err := <-shut
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	<-s.done
	return err
}
