package resilience

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// replica is one `nara serve` process. It can be stopped and started again
// on the same address, as an orchestrator restarts a pod.
type replica struct {
	t    *testing.T
	name string
	addr string
	env  []string
	log  *lockedBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// startReplica runs `nara serve` against databaseURL and waits until it is
// healthy. extra settings (KEY=VALUE) come last and win. The process is
// stopped when t ends.
func startReplica(t *testing.T, name, databaseURL string, extra ...string) *replica {
	t.Helper()
	r := &replica{t: t, name: name, addr: freeAddr(t), log: &lockedBuffer{}}
	r.env = []string{
		"DATABASE_URL=" + databaseURL,
		"NARA_ADDR=" + r.addr,
		"NARA_DATA_DIR=" + t.TempDir(),
		"NARA_BANKID_SIM_ADDR=" + freeAddr(t),
		"NARA_OIDC_DEV_ADDR=" + freeAddr(t),
		"NARA_FCM_FAKE_ADDR=" + freeAddr(t),
		"NARA_MAIL_FAKE_ADDR=" + freeAddr(t),
		"NARA_SMTP_ADDR=" + freeAddr(t),
		"NARA_METRICS_ADDR=" + freeAddr(t),
		// The reverse proxy runs on loopback; only through it is
		// X-Forwarded-For believed.
		"NARA_TRUSTED_PROXIES=127.0.0.1/32",
		"NARA_LOG_LEVEL=warn",
		secretKeyEnv(),
	}
	r.env = append(r.env, extra...)
	r.start()
	t.Cleanup(func() {
		r.terminate(20 * time.Second)
		if t.Failed() {
			t.Logf("%s log:\n%s", r.name, r.log.tail(40))
		}
	})
	return r
}

// start runs the process and waits until it answers health checks.
func (r *replica) start() {
	r.t.Helper()
	cmd := exec.Command(h.binary, "serve")
	cmd.Env = append(cleanEnv(), r.env...)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start %s: %v", r.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !r.healthy(ctx) {
		select {
		case <-exited:
			r.t.Fatalf("%s exited before it was healthy:\n%s", r.name, r.log.tail(40))
		case <-ctx.Done():
			r.t.Fatalf("%s not healthy after 30 s:\n%s", r.name, r.log.tail(40))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (r *replica) healthy(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url()+"/grpc.health.v1.Health/Check", strings.NewReader("{}"))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: time.Second}).Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&body) == nil && body.Status == "SERVING"
}

func (r *replica) url() string { return "http://" + r.addr }

// kill ends the process with SIGKILL: no request in flight is answered.
func (r *replica) kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	_ = cmd.Process.Kill()
	<-exited
}

// terminate sends SIGTERM and waits up to timeout for a graceful exit,
// failing the test if the process has to be killed. It does nothing when
// the process has already exited.
func (r *replica) terminate(timeout time.Duration) {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			r.t.Errorf("%s exited with status %d after SIGTERM", r.name, code)
		}
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		r.t.Errorf("%s did not stop within %s of SIGTERM", r.name, timeout)
	}
}

// restart stops the process gracefully and starts it again on the same
// address.
func (r *replica) restart() {
	r.t.Helper()
	begin := time.Now()
	r.terminate(20 * time.Second)
	stopped := time.Since(begin)
	r.start()
	r.t.Logf("%s restarted: stopped in %s, healthy again %s later", r.name, stopped.Round(time.Millisecond), (time.Since(begin) - stopped).Round(time.Millisecond))
}

// cleanEnv is this process's environment without anything nara reads, so
// that the developer's shell never changes what is tested.
func cleanEnv() []string {
	var env []string
	read := []string{"DATABASE_URL=", "NARA_", "BANKID_", "OIDC_", "FCM_", "SMTP_", "FREJA_", "LIVEKIT_", "OTEL_"}
	for _, kv := range os.Environ() {
		if !slices.ContainsFunc(read, func(p string) bool { return strings.HasPrefix(kv, p) }) {
			env = append(env, kv)
		}
	}
	return env
}

// proxy is the load balancer in front of the replicas: round robin, HTTP/2
// without TLS to the replicas (as gRPC load balancers speak), and
// X-Forwarded-For naming the client. A replica that cannot be reached is
// answered with 502, which Connect clients read as Unavailable; the client
// retries, and the next try goes to the next replica.
type proxy struct {
	url  string
	next atomic.Uint64
}

func startProxy(t *testing.T, backends ...*replica) *proxy {
	t.Helper()
	targets := make([]*url.URL, len(backends))
	for i, b := range backends {
		u, err := url.Parse(b.url())
		if err != nil {
			t.Fatal(err)
		}
		targets[i] = u
	}
	p := &proxy{}
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(targets[p.next.Add(1)%uint64(len(targets))])
			pr.SetXForwarded()
		},
		Transport: &http.Transport{Protocols: protocols, DialContext: (&net.Dialer{Timeout: time.Second}).DialContext},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
		// A replica killed mid-answer is expected here.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.url = "http://" + ln.Addr().String()
	return p
}

// lockedBuffer collects a process's log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines.
func (b *lockedBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(p)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
