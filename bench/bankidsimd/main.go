// Command bankidsimd runs the BankID simulator (identity/bankid/bankidsim)
// as a process of its own, so that a benchmark can point `nara serve` at it
// with BANKID_URL, BANKID_CA_FILE, BANKID_CLIENT_CERT and BANKID_CLIENT_KEY
// and measure the simulator's CPU apart from the server's.
//
// It serves the simulator the way bankidsim.Start does — the API over mutual
// TLS (TLS 1.2 or later, ECDSA P-256 certificates made at start, client
// certificates required and checked against the CA) and the user side /sim/
// over plain HTTP — with the same timeouts, but with its own listeners so
// that it can count the calls: GET /bench/stats on the control listener
// answers the number of calls per API endpoint and per control action and
// the time spent in the simulator's handlers (after TLS and HTTP parsing).
//
// With -shards N it spreads the orders over N independent simulators, so
// that a benchmark can take the simulator's own per-order work out of the
// way (see shards.go).
//
// It logs like the simulator inside `nara serve`: JSON lines at info, on
// stderr. It writes ca.pem, client.pem and client-key.pem into -dir, prints one JSON
// line with the addresses and file names on stdout, and runs until SIGTERM.
// Both listeners are on loopback only: the control surface has no
// authentication.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nara-care/nara/identity/bankid/bankidsim"
)

// Ready is the line bankidsimd prints once it serves.
type Ready struct {
	URL        string `json:"url"`        // BANKID_URL, ending in /rp/v6.0
	ControlURL string `json:"controlUrl"` // the user side, ending in /sim/
	StatsURL   string `json:"statsUrl"`
	CA         string `json:"ca"`         // BANKID_CA_FILE
	ClientCert string `json:"clientCert"` // BANKID_CLIENT_CERT
	ClientKey  string `json:"clientKey"`  // BANKID_CLIENT_KEY
	PID        int    `json:"pid"`
}

// Stats are the counters GET /bench/stats answers.
type Stats struct {
	Calls     map[string]int64 `json:"calls"`     // by API endpoint ("auth", "collect", ...) and control action ("sim:qr", "sim:approve", ...)
	HandlerNs map[string]int64 `json:"handlerNs"` // time in the simulator's handlers, same keys
}

// counter counts calls and handler time for one key.
type counter struct{ calls, ns atomic.Int64 }

type counters struct{ m map[string]*counter }

func newCounters(keys ...string) *counters {
	c := &counters{m: map[string]*counter{}}
	for _, k := range keys {
		c.m[k] = new(counter)
	}
	return c
}

// wrap counts every request to h under the key that name gives it.
func (c *counters) wrap(h http.Handler, name func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		h.ServeHTTP(w, r)
		k, ok := c.m[name(r)]
		if !ok {
			k = c.m["other"]
		}
		k.calls.Add(1)
		k.ns.Add(int64(time.Since(begin)))
	})
}

func (c *counters) stats() Stats {
	s := Stats{Calls: map[string]int64{}, HandlerNs: map[string]int64{}}
	for k, v := range c.m {
		s.Calls[k] = v.calls.Load()
		s.HandlerNs[k] = v.ns.Load()
	}
	return s
}

func main() {
	apiAddr := flag.String("api", "127.0.0.1:0", "listen address of the mutual-TLS API")
	controlAddr := flag.String("control", "127.0.0.1:0", "listen address of the plain-HTTP user side (/sim/) and /bench/stats")
	dir := flag.String("dir", "", "folder for ca.pem, client.pem and client-key.pem (required)")
	n := flag.Int("shards", 1, "independent simulators to spread the orders over (see shards.go); 1 serves bankidsim's handlers as they are")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "bankidsimd: -dir is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *apiAddr, *controlAddr, *dir, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bankidsimd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, apiAddr, controlAddr, dir string, n int) error {
	for _, a := range []string{apiAddr, controlAddr} {
		if host, _, err := net.SplitHostPort(a); err != nil || !net.ParseIP(host).IsLoopback() {
			return fmt.Errorf("%q: listen on a loopback address only", a)
		}
	}
	// It logs like the simulator inside `nara serve` does: JSON lines at
	// info, here on stderr.
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With(slog.String("component", "bankid-simulator"))
	var apiHandler, controlHandler http.Handler
	if n <= 1 {
		sim, err := bankidsim.New(bankidsim.Config{Logger: logger})
		if err != nil {
			return err
		}
		apiHandler, controlHandler = sim.APIHandler(), sim.ControlHandler()
	} else {
		sh := &shards{}
		for range n {
			sim, err := bankidsim.New(bankidsim.Config{Logger: logger})
			if err != nil {
				return err
			}
			sh.sims = append(sh.sims, sim)
		}
		apiHandler, controlHandler = sh.api(), sh.control()
	}
	p, err := newPKI()
	if err != nil {
		return err
	}
	serverCert, err := tls.X509KeyPair(p.serverCertPEM, p.serverKeyPEM)
	if err != nil {
		return err
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(p.ca)

	var lc net.ListenConfig
	apiLn, err := lc.Listen(ctx, "tcp", apiAddr)
	if err != nil {
		return err
	}
	controlLn, err := lc.Listen(ctx, "tcp", controlAddr)
	if err != nil {
		_ = apiLn.Close()
		return err
	}

	apiCount := newCounters("auth", "sign", "phone/auth", "collect", "cancel", "other")
	controlCount := newCounters("sim:qr", "sim:start", "sim:approve", "sim:hint", "sim:fail", "sim:cancel", "sim:expire", "other")
	apiName := func(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, "/rp/v6.0/") }
	controlName := func(r *http.Request) string {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		return "sim:" + parts[len(parts)-1]
	}
	control := http.NewServeMux()
	control.Handle("/sim/", controlCount.wrap(controlHandler, controlName))
	control.Handle("/sim", controlHandler)
	control.HandleFunc("GET /bench/stats", func(w http.ResponseWriter, r *http.Request) {
		out := apiCount.stats()
		cs := controlCount.stats()
		for k, v := range cs.Calls {
			if k == "other" {
				k = "sim:other"
			}
			out.Calls[k], out.HandlerNs[k] = v, cs.HandlerNs[k]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})

	// The same settings as bankidsim.Start.
	apiServer := &http.Server{
		Handler: apiCount.wrap(apiHandler, apiName),
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{serverCert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    clientCAs,
		},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	controlServer := &http.Server{
		Handler:           control,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errs := make(chan error, 2)
	go func() { errs <- apiServer.Serve(tls.NewListener(apiLn, apiServer.TLSConfig)) }()
	go func() { errs <- controlServer.Serve(controlLn) }()

	ready := Ready{
		URL:        "https://" + apiLn.Addr().String() + "/rp/v6.0",
		ControlURL: "http://" + controlLn.Addr().String() + "/sim/",
		StatsURL:   "http://" + controlLn.Addr().String() + "/bench/stats",
		CA:         filepath.Join(dir, "ca.pem"),
		ClientCert: filepath.Join(dir, "client.pem"),
		ClientKey:  filepath.Join(dir, "client-key.pem"),
		PID:        os.Getpid(),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, data := range map[string][]byte{ready.CA: p.caPEM, ready.ClientCert: p.clientCertPEM, ready.ClientKey: p.clientKeyPEM} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return err
		}
	}
	line, err := json.Marshal(ready)
	if err != nil {
		return err
	}
	fmt.Println(string(line))

	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(apiServer.Shutdown(shutdownCtx), controlServer.Shutdown(shutdownCtx))
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

type pki struct {
	ca                          *x509.Certificate
	caPEM                       []byte
	serverCertPEM, serverKeyPEM []byte
	clientCertPEM, clientKeyPEM []byte
}

// newPKI makes a CA, a server certificate for localhost and 127.0.0.1 and a
// relying-party client certificate, as bankidsim.Start does.
func newPKI() (*pki, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Nära BankID simulator CA (bankidsimd)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(0, 0, 7),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	_, caCert, err := sign(caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	p := &pki{ca: caCert, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw})}
	leaf := func(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.AddDate(0, 0, 7)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, _, err := sign(tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
	}
	if p.serverCertPEM, p.serverKeyPEM, err = leaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return nil, err
	}
	if p.clientCertPEM, p.clientKeyPEM, err = leaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "Nära relying party (simulated)"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, err
	}
	return p, nil
}

func sign(tmpl, parent *x509.Certificate, pub, priv any) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return der, cert, err
}
