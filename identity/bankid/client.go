// Package bankid is a client for the BankID Relying Party API v6.0, the
// Swedish e-identification that citizens use to log in to Nära and to sign.
//
// The API is JSON over HTTPS with mutual TLS: Nära presents its relying-party
// certificate, and trusts only BankID's own CA for the server. An order is
// started with Auth, Sign or PhoneAuth, shown to the user as an animated QR
// code (QRCode) or an autostart link, polled with Collect every
// CollectInterval until it is complete or failed, and can be stopped with
// Cancel. UserMessage gives the texts BankID recommends for each state.
package bankid

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultTimeout bounds one API call when Config.Timeout is zero. BankID
// answers in well under a second; a stuck call should fail before the next
// collect is due in the user's browser.
const DefaultTimeout = 10 * time.Second

// maxResponseBytes caps what is read from BankID; completion data with its
// XML signature is a few tens of kilobytes.
const maxResponseBytes = 1 << 20

// Config says which BankID to talk to and how to prove Nära's identity.
type Config struct {
	// BaseURL is the API root ending in /rp/v6.0, for example
	// https://appapi2.test.bankid.com/rp/v6.0. It must be https.
	BaseURL string
	// RootCAs holds the CA that signs BankID's server certificate (BankID
	// publishes it per environment). Required: the system roots are not used.
	RootCAs *x509.CertPool
	// Certificate is the relying-party client certificate and its key.
	Certificate tls.Certificate
	// Timeout bounds each call, dial to body. Zero means DefaultTimeout.
	Timeout time.Duration
}

// LoadConfig builds a Config from PEM files, as named by the BANKID_URL,
// BANKID_CA_FILE, BANKID_CLIENT_CERT and BANKID_CLIENT_KEY settings.
func LoadConfig(baseURL, caFile, certFile, keyFile string) (Config, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return Config{}, fmt.Errorf("bankid: read CA: %w", err)
	}
	cert, err := os.ReadFile(certFile)
	if err != nil {
		return Config{}, fmt.Errorf("bankid: read client certificate: %w", err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return Config{}, fmt.Errorf("bankid: read client key: %w", err)
	}
	return ConfigFromPEM(baseURL, ca, cert, key)
}

// ConfigFromPEM builds a Config from PEM bytes, for secrets that arrive in
// memory rather than as files.
func ConfigFromPEM(baseURL string, caPEM, certPEM, keyPEM []byte) (Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return Config{}, errors.New("bankid: no CA certificate found in PEM")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return Config{}, fmt.Errorf("bankid: client certificate: %w", err)
	}
	return Config{BaseURL: baseURL, RootCAs: pool, Certificate: cert}, nil
}

// Client calls one BankID environment. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client
}

// New checks cfg and returns a Client with its own mutual-TLS transport.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("bankid: BaseURL must be an https URL")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if !strings.HasSuffix(base, "/rp/v6.0") {
		return nil, errors.New("bankid: BaseURL must end in /rp/v6.0")
	}
	if cfg.RootCAs == nil {
		return nil, errors.New("bankid: RootCAs is required")
	}
	if len(cfg.Certificate.Certificate) == 0 || cfg.Certificate.PrivateKey == nil {
		return nil, errors.New("bankid: a client certificate with its key is required")
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	transport := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		TLSClientConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			RootCAs:      cfg.RootCAs,
			Certificates: []tls.Certificate{cfg.Certificate},
		},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       90 * time.Second,
		// Every pending login is collected every two seconds: keep enough
		// connections open that a login storm never pays for new mutual-TLS
		// handshakes, which cost more CPU than the calls themselves.
		MaxIdleConnsPerHost: 256,
	}
	return &Client{base: base, http: &http.Client{Transport: transport, Timeout: timeout}}, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Auth starts an identification order.
func (c *Client) Auth(ctx context.Context, req AuthRequest) (*OrderResponse, error) {
	var resp OrderResponse
	if err := c.call(ctx, "/auth", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Sign starts a signing order; req.UserVisibleData is what the user signs.
func (c *Client) Sign(ctx context.Context, req SignRequest) (*OrderResponse, error) {
	if len(req.UserVisibleData) == 0 {
		return nil, errors.New("bankid: Sign needs UserVisibleData")
	}
	var resp OrderResponse
	if err := c.call(ctx, "/sign", AuthRequest(req), &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// PhoneAuth starts an identification of a user who is on the phone with the
// care provider. Only OrderRef is set in the response: the user opens the
// BankID app themselves.
func (c *Client) PhoneAuth(ctx context.Context, req PhoneAuthRequest) (*OrderResponse, error) {
	if req.PersonalNumber.IsZero() {
		return nil, errors.New("bankid: PhoneAuth needs PersonalNumber")
	}
	var resp OrderResponse
	if err := c.call(ctx, "/phone/auth", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Collect returns the state of an order. Call it every CollectInterval while
// the status is pending, and stop once it is failed or complete.
//
// A complete or failed answer that cannot be read (completion data with an
// invalid personal number, say) fails with ErrUnreadableFinalAnswer: the
// order is over all the same and must not be collected again.
func (c *Client) Collect(ctx context.Context, orderRef string) (*CollectResponse, error) {
	var raw json.RawMessage
	if err := c.call(ctx, "/collect", orderRefBody{orderRef}, &raw); err != nil {
		return nil, err
	}
	var resp CollectResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		var probe struct {
			Status Status `json:"status"`
		}
		if json.Unmarshal(raw, &probe) == nil && (probe.Status == StatusComplete || probe.Status == StatusFailed) {
			return nil, fmt.Errorf("%w: status %s: %w", ErrUnreadableFinalAnswer, probe.Status, err)
		}
		return nil, fmt.Errorf("bankid: /collect: decode response: %w", err)
	}
	return &resp, nil
}

// Cancel stops a pending order, for example when the user leaves the page.
func (c *Client) Cancel(ctx context.Context, orderRef string) error {
	return c.call(ctx, "/cancel", orderRefBody{orderRef}, &struct{}{})
}

type orderRefBody struct {
	OrderRef string `json:"orderRef"`
}

type errorBody struct {
	ErrorCode ErrorCode `json:"errorCode"`
	Details   string    `json:"details"`
}

// call POSTs in as JSON to path and decodes a 200 answer into out, or any
// other answer into an *Error.
func (c *Client) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("bankid: encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bankid: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("bankid: %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("bankid: %s: read response: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		_ = json.Unmarshal(data, &eb) // a proxy's HTML page leaves it empty
		if eb.ErrorCode == "" {
			eb.ErrorCode = codeForStatus(resp.StatusCode)
		}
		// BankID's codes are words; anything else in the field is not
		// trusted with a personal number either.
		return &Error{HTTPStatus: resp.StatusCode, ErrorCode: ErrorCode(redactNumbers(string(eb.ErrorCode))), Details: redactNumbers(eb.Details)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("bankid: %s: decode response: %w", path, err)
	}
	return nil
}
