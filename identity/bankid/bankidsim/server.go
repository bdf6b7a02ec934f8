package bankidsim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/nara-care/nara/identity/bankid"
)

// ServerConfig says where Start listens. Both addresses default to a free
// port on 127.0.0.1; the control surface has no authentication and must stay
// on loopback.
type ServerConfig struct {
	// APIAddr is the mutual-TLS listener for /rp/v6.0/. Default "127.0.0.1:0".
	APIAddr string
	// ControlAddr is the plain-HTTP listener for /sim/. Default "127.0.0.1:0".
	ControlAddr string
	// Logger receives TLS handshake failures. Default discards.
	Logger *slog.Logger
}

// Server runs a Simulator like the real service: the API over mutual TLS
// with certificates made at start, the user side on a separate plain-HTTP
// listener so a browser can reach it without a client certificate.
type Server struct {
	url, controlURL          string
	caPEM, certPEM, keyPEM   []byte
	apiServer, controlServer *http.Server
}

// Start makes a CA, a server certificate for localhost and 127.0.0.1 and a
// relying-party client certificate, all signed by that CA and valid for a
// year, and starts serving. The API accepts only clients whose certificate
// chains to the CA, so a client without it fails in the TLS handshake.
func Start(sim *Simulator, cfg ServerConfig) (*Server, error) {
	if cfg.APIAddr == "" {
		cfg.APIAddr = "127.0.0.1:0"
	}
	if cfg.ControlAddr == "" {
		cfg.ControlAddr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pki, err := newPKI()
	if err != nil {
		return nil, err
	}
	serverCert, err := tls.X509KeyPair(pki.serverCertPEM, pki.serverKeyPEM)
	if err != nil {
		return nil, err
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(pki.ca)

	apiLn, err := new(net.ListenConfig).Listen(context.Background(), "tcp", cfg.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("bankidsim: API listener: %w", err)
	}
	controlLn, err := new(net.ListenConfig).Listen(context.Background(), "tcp", cfg.ControlAddr)
	if err != nil {
		apiLn.Close()
		return nil, fmt.Errorf("bankidsim: control listener: %w", err)
	}
	errorLog := slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)
	s := &Server{
		url:        "https://" + apiLn.Addr().String() + "/rp/v6.0",
		controlURL: "http://" + controlLn.Addr().String() + "/sim/",
		caPEM:      pki.caPEM, certPEM: pki.clientCertPEM, keyPEM: pki.clientKeyPEM,
		apiServer: &http.Server{
			Handler: sim.APIHandler(),
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
			ErrorLog:          errorLog,
		},
		controlServer: &http.Server{
			Handler:           sim.ControlHandler(),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          errorLog,
		},
	}
	go serve(s.apiServer, tls.NewListener(apiLn, s.apiServer.TLSConfig), cfg.Logger)
	go serve(s.controlServer, controlLn, cfg.Logger)
	return s, nil
}

// URL is the API base, ending in /rp/v6.0, for BANKID_URL.
func (s *Server) URL() string { return s.url }

// ControlURL is the user side, ending in /sim/.
func (s *Server) ControlURL() string { return s.controlURL }

// CACertPEM is the CA certificate, for BANKID_CA_FILE.
func (s *Server) CACertPEM() []byte { return s.caPEM }

// ClientCertPEM is the relying-party certificate, for BANKID_CLIENT_CERT.
func (s *Server) ClientCertPEM() []byte { return s.certPEM }

// ClientKeyPEM is the relying-party private key, for BANKID_CLIENT_KEY.
func (s *Server) ClientKeyPEM() []byte { return s.keyPEM }

// ClientConfig returns a bankid.Config that reaches this server.
func (s *Server) ClientConfig() (bankid.Config, error) {
	return bankid.ConfigFromPEM(s.url, s.caPEM, s.certPEM, s.keyPEM)
}

// Files names the PEM files WriteFiles wrote.
type Files struct {
	CA, ClientCert, ClientKey string
}

// WriteFiles writes ca.pem, client.pem and client-key.pem (mode 0600) into
// dir, so that a server process, or a test in another language, can be
// pointed at the simulator through the BANKID_* settings.
func (s *Server) WriteFiles(dir string) (Files, error) {
	f := Files{
		CA:         filepath.Join(dir, "ca.pem"),
		ClientCert: filepath.Join(dir, "client.pem"),
		ClientKey:  filepath.Join(dir, "client-key.pem"),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, err
	}
	for name, data := range map[string][]byte{f.CA: s.caPEM, f.ClientCert: s.certPEM, f.ClientKey: s.keyPEM} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

// Close stops both listeners, letting requests in flight finish for up to
// five seconds.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(s.apiServer.Shutdown(ctx), s.controlServer.Shutdown(ctx))
}

type pki struct {
	ca                          *x509.Certificate
	caPEM                       []byte
	serverCertPEM, serverKeyPEM []byte
	clientCertPEM, clientKeyPEM []byte
}

func newPKI() (*pki, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Nära BankID simulator CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
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
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.AddDate(1, 0, 0)
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
	p.serverCertPEM, p.serverKeyPEM, err = leaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}
	p.clientCertPEM, p.clientKeyPEM, err = leaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "Nära relying party (simulated)"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// sign gives tmpl a random serial and signs it with parent's key.
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

// serve runs srv until Close and logs any other reason it stops.
func serve(srv *http.Server, ln net.Listener, logger *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("bankidsim: serving stopped", "error", err)
	}
}
