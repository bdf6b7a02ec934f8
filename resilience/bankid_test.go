package resilience

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	"github.com/nara-care/nara/identity/bankid/bankidsim"
	"github.com/nara-care/nara/internal/clocktest"
)

// bankIDStandIn is the BankID simulator behind a mutual-TLS listener of the
// test's own, so that the test can make BankID answer 503 or slowly while
// nara talks to it.
type bankIDStandIn struct {
	sim         *bankidsim.Simulator
	unavailable atomic.Bool
	delay       atomic.Int64 // how long each call waits before it is answered, in ns
}

// startBankID serves the simulator's API and returns it with the settings
// that point nara at it.
func startBankID(t *testing.T) (*bankIDStandIn, []string) {
	t.Helper()
	sim, err := bankidsim.New(bankidsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := &bankIDStandIn{sim: sim}
	api := sim.APIHandler()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(b.delay.Load()))
		if b.unavailable.Load() {
			// What a load balancer in front of BankID answers when it is
			// down: no BankID error body.
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
			return
		}
		api.ServeHTTP(w, r)
	}))
	dir := t.TempDir()
	ca, caKey := newCA(t)
	serverCert := issue(t, ca, caKey, x509.ExtKeyUsageServerAuth, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))
	issue(t, ca, caKey, x509.ExtKeyUsageClientAuth, filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"))
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots, MinVersion: tls.VersionTLS12}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return b, []string{
		"BANKID_URL=" + ts.URL + "/rp/v6.0",
		"BANKID_CA_FILE=" + filepath.Join(dir, "ca.pem"),
		"BANKID_CLIENT_CERT=" + filepath.Join(dir, "client.pem"),
		"BANKID_CLIENT_KEY=" + filepath.Join(dir, "client-key.pem"),
	}
}

// TestBankIDFaults makes BankID answer 503 and answer slowly. Starting a
// login must then fail with a clear Unavailable; a login in progress must
// keep pending (or be answered Unavailable) and complete once BankID
// answers again; a slow BankID within the client's timeout only slows the
// login down.
func TestBankIDFaults(t *testing.T) {
	bank, settings := startBankID(t)
	url := database(t)
	seed(t, url, 0, 1, 0, slotStart())
	nara := startReplica(t, "nara", url, settings...)
	auth := authv1connect.NewCitizenAuthServiceClient(http.DefaultClient, nara.url())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := func() (*authv1.StartLoginResponse, error) {
		return auth.StartLogin(ctx, &authv1.StartLoginRequest{
			Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_OTHER_DEVICE,
			Device: &authv1.Device{Id: "resilience-phone", Name: "Telefon", Platform: authv1.Platform_PLATFORM_IOS},
		})
	}

	bank.unavailable.Store(true)
	if _, err := start(); connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("StartLogin while BankID answers 503: %v, want code unavailable", err)
	}
	bank.unavailable.Store(false)
	login, err := start()
	if err != nil {
		t.Fatalf("StartLogin once BankID answers again: %v", err)
	}

	// The user approves in their app while nara cannot collect.
	bank.unavailable.Store(true)
	orders := bank.sim.Orders()
	if len(orders) != 1 {
		t.Fatalf("BankID holds %d orders, want 1", len(orders))
	}
	user := bank.sim.Users()[0].PersonalNumber
	if err := bank.sim.Approve(orders[0].OrderRef, user); err != nil {
		t.Fatal(err)
	}
	poll := func() (*authv1.LoginProgress, error) {
		res, err := auth.PollLogin(ctx, &authv1.PollLoginRequest{LoginId: login.LoginId, LoginSecret: login.LoginSecret})
		return res.GetProgress(), err
	}
	for range 3 {
		p, err := poll()
		switch {
		case connect.CodeOf(err) == connect.CodeUnavailable:
		case err != nil:
			t.Errorf("PollLogin while BankID answers 503: %v, want pending or code unavailable", err)
		case p.GetState() != authv1.LoginState_LOGIN_STATE_PENDING:
			t.Errorf("PollLogin while BankID answers 503: state %s, want pending", p.GetState())
		}
		time.Sleep(time.Second)
	}
	bank.unavailable.Store(false)
	clocktest.Eventually(t, 10*time.Second, "the login to complete once BankID answers again", func() bool {
		p, err := poll()
		if err != nil && connect.CodeOf(err) != connect.CodeUnavailable {
			t.Fatalf("PollLogin once BankID answers again: %v", err)
		}
		if p.GetState() == authv1.LoginState_LOGIN_STATE_FAILED {
			t.Fatalf("login failed once BankID answered again: %s", p.GetHintCode())
		}
		if p.GetState() == authv1.LoginState_LOGIN_STATE_COMPLETE {
			if p.GetSession().GetAccessToken() == "" {
				t.Fatal("completed login without an access token")
			}
			return true
		}
		time.Sleep(500 * time.Millisecond)
		return false
	})

	// Slow but within the client's timeout: only slower.
	bank.delay.Store(int64(2 * time.Second))
	begin := time.Now()
	if _, err := start(); err != nil {
		t.Errorf("StartLogin while BankID takes 2 s: %v", err)
	}
	t.Logf("StartLogin took %s while BankID took 2 s", time.Since(begin).Round(time.Millisecond))

	// Slower than the client's timeout (10 s): a clear Unavailable.
	bank.delay.Store(int64(11 * time.Second))
	begin = time.Now()
	if _, err := start(); connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("StartLogin while BankID takes 11 s: %v, want code unavailable", err)
	}
	t.Logf("StartLogin gave up after %s while BankID took 11 s", time.Since(begin).Round(time.Millisecond))
	bank.delay.Store(0)
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Resilience test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key
}

// issue signs a certificate for 127.0.0.1 with usage, writes it and its
// key as PEM, and returns it.
func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, usage x509.ExtKeyUsage, certFile, keyFile string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "resilience"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func writePEM(t *testing.T, file, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
