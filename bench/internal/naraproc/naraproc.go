// Package naraproc runs the real nara binary as a child process for the
// benchmarks: start `nara serve`, wait for its first healthy answer, stop it
// with SIGTERM the way an orchestrator would.
package naraproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Config says which binary to run and how.
type Config struct {
	// Binary is the path of the nara binary. Required.
	Binary string
	// Addr is the listen address (NARA_ADDR). Required; see FreeAddr.
	Addr string
	// Env holds extra KEY=VALUE settings. The child gets this process's
	// environment without any variable nara reads (DATABASE_URL, NARA_*,
	// BANKID_*, OIDC_*), plus these, so that the caller's shell never changes
	// what is measured. The development listeners that `nara serve` starts
	// besides its API (the BankID simulator and the local OIDC provider) get
	// free ports, so that a run never collides with another nara on the
	// machine; Env may override them. So does the metrics listener
	// (NARA_METRICS_ADDR), read with MetricsURL.
	Env []string
	// Log receives nara's log (JSON lines on stderr). Default: discarded.
	Log io.Writer
}

// Process is a running `nara serve`.
type Process struct {
	addr string
	// metricsAddr is NARA_METRICS_ADDR as the child got it.
	metricsAddr string
	cmd         *exec.Cmd
	started     time.Time
	exited      chan struct{}
	waitErr     error
	client      *http.Client
}

// Start runs `nara serve`. The clock for WaitHealthy starts here. If ctx
// ends first, the process gets SIGTERM (and SIGKILL if it lingers).
func Start(ctx context.Context, cfg Config) (*Process, error) {
	if cfg.Binary == "" || cfg.Addr == "" {
		return nil, errors.New("naraproc: Binary and Addr are required")
	}
	cmd := exec.CommandContext(ctx, cfg.Binary, "serve")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Env = append(cleanEnv(), "NARA_ADDR="+cfg.Addr)
	for _, name := range []string{"NARA_BANKID_SIM_ADDR", "NARA_OIDC_DEV_ADDR", "NARA_MAIL_FAKE_ADDR", "NARA_SMTP_ADDR", "NARA_METRICS_ADDR"} {
		addr, err := FreeAddr(ctx)
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, name+"="+addr)
	}
	cmd.Env = append(cmd.Env, cfg.Env...)
	var metricsAddr string
	for _, kv := range cmd.Env {
		if v, ok := strings.CutPrefix(kv, "NARA_METRICS_ADDR="); ok {
			metricsAddr = v // the last one wins, as in the child
		}
	}
	cmd.Stdout = cfg.Log
	cmd.Stderr = cfg.Log
	p := &Process{
		addr:        cfg.Addr,
		metricsAddr: metricsAddr,
		cmd:         cmd,
		exited:      make(chan struct{}),
		client:      &http.Client{Timeout: 2 * time.Second},
	}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("naraproc: start %s: %w", cfg.Binary, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// cleanEnv returns the environment without settings that nara reads.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "NARA_") ||
			strings.HasPrefix(kv, "BANKID_") || strings.HasPrefix(kv, "OIDC_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// URL returns the address of path on the server, e.g.
// URL("/grpc.health.v1.Health/Check").
func (p *Process) URL(path string) string {
	return "http://" + p.addr + path
}

// MetricsURL returns the address of path on the server's metrics
// listener, e.g. MetricsURL("/metrics").
func (p *Process) MetricsURL(path string) string {
	return "http://" + p.metricsAddr + path
}

// PID returns the process id, for reading its CPU time from /proc.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Started returns when the process was started.
func (p *Process) Started() time.Time { return p.started }

// healthPollInterval bounds the resolution of WaitHealthy.
const healthPollInterval = 5 * time.Millisecond

// WaitHealthy polls the gRPC health check over Connect JSON until it answers
// SERVING, and returns the time since Start. It fails if the process exits
// first or ctx ends.
func (p *Process) WaitHealthy(ctx context.Context) (time.Duration, error) {
	for {
		if p.healthy(ctx) {
			return time.Since(p.started), nil
		}
		select {
		case <-p.exited:
			return 0, fmt.Errorf("naraproc: nara exited before it was healthy: %w", p.exitError())
		case <-ctx.Done():
			return 0, fmt.Errorf("naraproc: nara not healthy after %s: %w", time.Since(p.started).Round(time.Millisecond), ctx.Err())
		case <-time.After(healthPollInterval):
		}
	}
}

func (p *Process) healthy(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL("/grpc.health.v1.Health/Check"), strings.NewReader("{}"))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := p.client.Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = res.Body.Close() }()
	var body struct {
		Status string `json:"status"`
	}
	return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&body) == nil && body.Status == "SERVING"
}

// Post sends one Connect JSON request and returns the response body, for
// checking that a request works before loading the server with it.
func (p *Process) Post(ctx context.Context, path, body string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL(path), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", path, body, res.StatusCode, bytes.TrimSpace(out))
	}
	return out, nil
}

// Stop sends SIGTERM and waits for the process to exit, killing it after
// timeout. It returns how long the clean shutdown took.
func (p *Process) Stop(timeout time.Duration) (time.Duration, error) {
	p.client.CloseIdleConnections()
	begin := time.Now()
	select {
	case <-p.exited:
		return 0, fmt.Errorf("naraproc: nara had already exited: %w", p.exitError())
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, fmt.Errorf("naraproc: SIGTERM: %w", err)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			return 0, fmt.Errorf("naraproc: nara exited with an error after SIGTERM: %w", p.waitErr)
		}
		return time.Since(begin), nil
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return 0, fmt.Errorf("naraproc: nara did not stop within %s after SIGTERM; killed", timeout)
	}
}

func (p *Process) exitError() error {
	if p.waitErr == nil {
		return errors.New("exit status 0")
	}
	return p.waitErr
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(ctx context.Context) (string, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("naraproc: find a free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}
