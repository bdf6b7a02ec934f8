package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nara-care/nara/identity/bankid/bankidsim"
)

// shards spreads orders over several independent simulators, so that the
// simulator's per-call work (it sweeps all its orders under one lock on
// every call) is divided by their number. New orders go round robin; every
// later call finds its simulator by orderRef (API and /sim/orders/{ref}/…)
// or by the QR code's qrStartToken (/sim/qr), learnt from the order's
// creation. The test users are the same in every shard. With one shard,
// bankidsimd serves the simulator's own handlers directly instead.
type shards struct {
	sims  []*bankidsim.Simulator
	next  atomic.Uint64
	byRef sync.Map // orderRef or qrStartToken → *bankidsim.Simulator
}

const maxBody = 1 << 20

// api routes the BankID API.
func (s *shards) api() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, "/rp/v6.0/") {
		case "auth", "sign", "phone/auth":
			sim := s.sims[s.next.Add(1)%uint64(len(s.sims))]
			rec := &recorder{ResponseWriter: w}
			sim.APIHandler().ServeHTTP(rec, r)
			var order struct{ OrderRef, QRStartToken string }
			if rec.status == http.StatusOK && json.Unmarshal(rec.body.Bytes(), &order) == nil {
				s.byRef.Store(order.OrderRef, sim)
				if order.QRStartToken != "" {
					s.byRef.Store(order.QRStartToken, sim)
				}
			}
		default:
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				http.Error(w, "request too large", http.StatusBadRequest)
				return
			}
			var ref struct{ OrderRef string }
			_ = json.Unmarshal(body, &ref)
			r.Body = io.NopCloser(bytes.NewReader(body))
			s.find(ref.OrderRef).APIHandler().ServeHTTP(w, r)
		}
	})
}

// control routes the user side.
func (s *shards) control() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		switch {
		case len(parts) == 4 && parts[1] == "orders":
			s.find(parts[2]).ControlHandler().ServeHTTP(w, r)
		case len(parts) == 2 && parts[1] == "qr" && r.Method == http.MethodPost:
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				http.Error(w, "request too large", http.StatusBadRequest)
				return
			}
			var scan struct{ QRCode string }
			_ = json.Unmarshal(body, &scan)
			token := ""
			if f := strings.Split(strings.TrimSpace(scan.QRCode), "."); len(f) == 4 {
				token = f[1]
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			s.find(token).ControlHandler().ServeHTTP(w, r)
		default:
			// The page, the users and the order list: the first shard's.
			s.sims[0].ControlHandler().ServeHTTP(w, r)
		}
	})
}

// find returns the simulator that holds key, or the first one, which then
// answers that there is no such order.
func (s *shards) find(key string) *bankidsim.Simulator {
	if v, ok := s.byRef.Load(key); ok {
		return v.(*bankidsim.Simulator)
	}
	return s.sims[0]
}

// recorder passes a response through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
