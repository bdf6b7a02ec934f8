package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nara-care/nara/bench/internal/proccpu"
)

const (
	startPath = "/nara.auth.v1.CitizenAuthService/StartLogin"
	pollPath  = "/nara.auth.v1.CitizenAuthService/PollLogin"
)

// stormConfig is the shape of the storm.
type stormConfig struct {
	users     int           // concurrent logins (virtual users)
	pollEvery time.Duration // as the app does: PollLoginResponse says two seconds
	actMin    time.Duration // the user scans and approves after actMin…actMax
	actMax    time.Duration
	ramp      time.Duration // users start evenly over this
	warmup    time.Duration // after the ramp, discarded
	window    time.Duration // one measured window
	windows   int
	seed      uint64
}

func (c stormConfig) total() time.Duration {
	return c.ramp + c.warmup + time.Duration(c.windows)*c.window
}

// storm runs the virtual users against one server.
type storm struct {
	cfg        stormConfig
	naraURL    string // http://127.0.0.1:PORT
	controlURL string // the simulator's user side, ending in /sim/
	client     *http.Client
	simClient  *http.Client
	persons    []string
	personMu   []sync.Mutex
	rec        *recorder
}

func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

func newStorm(cfg stormConfig, naraURL, controlURL string, persons []string) *storm {
	return &storm{
		cfg: cfg, naraURL: naraURL, controlURL: controlURL,
		client:    &http.Client{Transport: newTransport(), Timeout: 30 * time.Second},
		simClient: &http.Client{Transport: newTransport(), Timeout: 30 * time.Second},
		persons:   persons,
		personMu:  make([]sync.Mutex, len(persons)),
	}
}

func (s *storm) close() {
	s.client.CloseIdleConnections()
	s.simClient.CloseIdleConnections()
}

// answer is what the benchmark reads from StartLogin and PollLogin.
type answer struct {
	LoginID     string   `json:"loginId"`
	LoginSecret string   `json:"loginSecret"`
	QRData      string   `json:"qrData"`
	Progress    progress `json:"progress"`
	Code        string   `json:"code"` // Connect error
	Message     string   `json:"message"`
}

type progress struct {
	State    string `json:"state"`
	HintCode string `json:"hintCode"`
	QRData   string `json:"qrData"`
	Session  *struct {
		AccessToken string `json:"accessToken"`
	} `json:"session"`
}

// call posts a pre-encoded Connect JSON body and decodes the answer. A
// Connect error comes back as errKind "<rpc>: <code>"; a failure below
// Connect as "<rpc>: HTTP <status>" or "<rpc>: <transport error>".
func (s *storm) call(ctx context.Context, rpc, path string, body []byte) (a answer, errKind string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.naraURL+path, bytes.NewReader(body))
	if err != nil {
		return a, rpc + ": request", err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return a, rpc + ": " + transportKind(err), err
	}
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return a, rpc + ": read", err
	}
	if jerr := json.Unmarshal(raw, &a); jerr != nil {
		return a, rpc + ": HTTP " + strconv.Itoa(res.StatusCode), fmt.Errorf("%s: HTTP %d: %s", rpc, res.StatusCode, raw)
	}
	if res.StatusCode != http.StatusOK {
		kind := rpc + ": HTTP " + strconv.Itoa(res.StatusCode)
		if a.Code != "" {
			kind = rpc + ": " + a.Code
		}
		return a, kind, fmt.Errorf("%s: %s", kind, a.Message)
	}
	return a, "", nil
}

func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "transport (" + oe.Op + ")"
	}
	return "transport"
}

// act plays the person scanning the QR code with their phone and approving
// with their security code, through the simulator's control API. A person
// has one phone: BankID cancels their other pending orders when they pick
// one up, so the actions of one person are serialised.
func (s *storm) act(ctx context.Context, person int, qr string) error {
	s.personMu[person].Lock()
	defer s.personMu[person].Unlock()
	pn := s.persons[person]
	var scanned struct {
		OrderRef string `json:"orderRef"`
	}
	if err := s.control(ctx, "qr", mustJSON(map[string]string{"qrCode": qr, "personalNumber": pn}), &scanned); err != nil {
		return err
	}
	return s.control(ctx, "orders/"+url.PathEscape(scanned.OrderRef)+"/approve", mustJSON(map[string]string{"personalNumber": pn}), nil)
}

func (s *storm) control(ctx context.Context, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.controlURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.simClient.Do(req)
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		kind := "scan"
		if path != "qr" {
			kind = "approve"
		}
		return fmt.Errorf("simulator %s: HTTP %d: %s", kind, res.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// run drives the storm from the recorder's t0 until its last window ends;
// s.rec must be set (newRecorder).
func (s *storm) run(ctx context.Context, onBoundary func(i int)) *recorder {
	t0 := s.rec.t0
	ctx, cancel := context.WithDeadline(ctx, t0.Add(s.cfg.total()))
	defer cancel()
	var wg sync.WaitGroup
	// The window boundaries: after the ramp, after the warm-up, after each
	// measured window.
	wg.Go(func() {
		for i, b := range s.rec.boundaries() {
			if !sleepUntil(ctx, b) && i < len(s.rec.boundaries())-1 {
				return
			}
			onBoundary(i)
		}
	})
	for i := range s.cfg.users {
		first := t0.Add(s.cfg.ramp * time.Duration(i) / time.Duration(s.cfg.users))
		wg.Go(func() { s.user(ctx, i, first) })
	}
	wg.Wait()
	return s.rec
}

// sleepUntil waits for t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// user is one virtual user: log in, log in again, until the end.
func (s *storm) user(ctx context.Context, i int, first time.Time) {
	rng := rand.New(rand.NewPCG(s.cfg.seed, uint64(i)))
	startBody := mustJSON(map[string]any{
		"provider": "PROVIDER_BANKID",
		"mode":     "START_MODE_OTHER_DEVICE",
		"device":   map[string]string{"id": fmt.Sprintf("bench-%06d", i), "name": "bench", "platform": "PLATFORM_IOS"},
	})
	if !sleepUntil(ctx, first) {
		return
	}
	for ctx.Err() == nil {
		if !s.login(ctx, rng, i%len(s.persons), startBody) {
			// After an error the app waits before the user tries again.
			sleepUntil(ctx, time.Now().Add(s.cfg.pollEvery))
		}
	}
}

// login runs one login to its end and reports whether it got that far
// without an error.
func (s *storm) login(ctx context.Context, rng *rand.Rand, person int, startBody []byte) bool {
	begin := time.Now()
	a, kind, err := s.call(ctx, "StartLogin", startPath, startBody)
	if ctx.Err() != nil {
		return false
	}
	s.rec.start(begin, time.Since(begin), kind)
	if err != nil {
		return false
	}
	pollBody := mustJSON(map[string]string{"loginId": a.LoginID, "loginSecret": a.LoginSecret})
	qr := a.QRData
	actAt := begin.Add(s.cfg.actMin + time.Duration(rng.Int64N(int64(s.cfg.actMax-s.cfg.actMin)+1)))
	acted := false
	next := time.Now().Add(s.cfg.pollEvery)
	for {
		if !acted && actAt.Before(next) {
			if !sleepUntil(ctx, actAt) {
				return false
			}
			t := time.Now()
			err := s.act(ctx, person, qr)
			if ctx.Err() != nil {
				return false
			}
			s.rec.act(t, time.Since(t), err)
			acted = true
			continue
		}
		if !sleepUntil(ctx, next) {
			return false
		}
		sent := time.Now()
		late := sent.Sub(next)
		next = sent.Add(s.cfg.pollEvery)
		a, kind, err := s.call(ctx, "PollLogin", pollPath, pollBody)
		if ctx.Err() != nil {
			return false
		}
		s.rec.poll(sent, time.Since(sent), late, kind)
		if err != nil {
			return false
		}
		switch a.Progress.State {
		case "LOGIN_STATE_PENDING":
			if a.Progress.QRData != "" {
				qr = a.Progress.QRData
			}
		case "LOGIN_STATE_COMPLETE":
			if a.Progress.Session == nil || a.Progress.Session.AccessToken == "" {
				s.rec.outcome(sent, "complete without a session", 0)
				return false
			}
			s.rec.outcome(sent, "complete", time.Since(begin))
			return true
		default:
			s.rec.outcome(sent, "failed: "+a.Progress.HintCode, 0)
			return true
		}
		if time.Since(begin) > 4*time.Minute {
			s.rec.outcome(sent, "abandoned", 0)
			return true
		}
	}
}

// recorder files every observation under the window its request was sent in.
type recorder struct {
	t0      time.Time
	bounds  []time.Time // end of ramp, end of warm-up, end of each window
	windows []*window   // ramp, warm-up, measured windows
}

// window holds what was seen in one window.
type window struct {
	name     string
	from, to time.Time

	mu                   sync.Mutex
	startLat, pollLat    []time.Duration
	actLat, loginLat     []time.Duration
	latePolls            int // sent more than 100 ms after they were due
	errors               map[string]int
	outcomes             map[string]int
	cpuFrom, cpuTo       proccpu.Sample
	simFrom, simTo       *simStats
	loadFrom, loadTo     string
	measured, sampledEnd bool
}

func newRecorder(cfg stormConfig, t0 time.Time) *recorder {
	r := &recorder{t0: t0}
	add := func(name string, from, to time.Time, measured bool) {
		r.windows = append(r.windows, &window{name: name, from: from, to: to, measured: measured, errors: map[string]int{}, outcomes: map[string]int{}})
		r.bounds = append(r.bounds, to)
	}
	add("ramp-up", t0, t0.Add(cfg.ramp), false)
	add("warm-up", t0.Add(cfg.ramp), t0.Add(cfg.ramp+cfg.warmup), false)
	for k := range cfg.windows {
		from := t0.Add(cfg.ramp + cfg.warmup + time.Duration(k)*cfg.window)
		add("window "+strconv.Itoa(k+1), from, from.Add(cfg.window), true)
	}
	return r
}

func (r *recorder) boundaries() []time.Time { return r.bounds }

func (r *recorder) at(t time.Time) *window {
	for _, w := range r.windows {
		if t.Before(w.to) {
			return w
		}
	}
	return r.windows[len(r.windows)-1]
}

func (r *recorder) start(sent time.Time, d time.Duration, errKind string) {
	w := r.at(sent)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.startLat = append(w.startLat, d)
	if errKind != "" {
		w.errors[errKind]++
	}
}

func (r *recorder) poll(sent time.Time, d, late time.Duration, errKind string) {
	w := r.at(sent)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pollLat = append(w.pollLat, d)
	if late > 100*time.Millisecond {
		w.latePolls++
	}
	if errKind != "" {
		w.errors[errKind]++
	}
}

func (r *recorder) act(t time.Time, d time.Duration, err error) {
	w := r.at(t)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.actLat = append(w.actLat, d)
	if err != nil {
		w.errors[shortError(err)]++
		if len(w.errors) < 20 {
			fmt.Fprintln(os.Stderr, "loginstorm:", err)
		}
	}
}

func (r *recorder) outcome(t time.Time, what string, d time.Duration) {
	w := r.at(t)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.outcomes[what]++
	if d > 0 {
		w.loginLat = append(w.loginLat, d)
	}
}

func shortError(err error) string {
	s := err.Error()
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// quantile returns the q-quantile (0…1) of ds, nearest rank.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
