// Command loginstorm measures a storm of citizen logins with BankID on the
// real `nara serve` binary: 2 000 virtual users each start a login on
// another device (StartLogin), poll it every two seconds (PollLogin) as the
// app does, scan the QR code and approve in the BankID simulator after a
// random 4–20 s, keep polling until the login completes, and start over.
//
// It runs the storm three times on a private PostgreSQL (pgcluster), each
// time on a fresh database and a fresh nara: A with the simulator inside
// `nara serve` (its default without BANKID_URL); B with the simulator in a
// process of its own (bench/bankidsimd) that nara reaches through BANKID_URL
// and the certificate files, so that the CPU time of nara, the simulator and
// PostgreSQL can be read apart from /proc; and C like B but with the orders
// spread over several simulators, so that the simulator's own per-order
// work does not limit what nara is offered. After each storm it measures the
// same server's ceiling with wrk: the no-op RPC AppService/GetConfig.
// It writes a table of figures and removes everything it made. Run it
// through bench/run.sh login.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nara-care/nara/bench/internal/naraproc"
	"github.com/nara-care/nara/bench/internal/proccpu"
	"github.com/nara-care/nara/bench/internal/report"
	"github.com/nara-care/nara/bench/internal/wrkrun"
	"github.com/nara-care/nara/pgcluster"
)

// options are the command-line settings.
type options struct {
	nara, bankidsimd, commit, wrk, out string
	storm                              stormConfig
	noopDuration, noopWarmup           time.Duration
	noopRuns, connections, threads     int
	rateLimit, shards                  int
}

func main() {
	var o options
	flag.StringVar(&o.nara, "nara", "", "the nara binary to measure (required)")
	flag.StringVar(&o.bankidsimd, "bankidsimd", "", "the bankidsimd binary, for the scenario with the simulator in its own process (required)")
	flag.StringVar(&o.commit, "commit", "", "the source the binaries were built from, for the results file (default: git HEAD now)")
	flag.StringVar(&o.wrk, "wrk", "wrk", "the wrk binary, for the no-op ceiling")
	flag.StringVar(&o.out, "out", "bench/results/login.txt", "results file")
	flag.IntVar(&o.storm.users, "users", 2000, "concurrent logins (virtual users)")
	flag.DurationVar(&o.storm.pollEvery, "poll-every", 2*time.Second, "PollLogin interval of each user")
	flag.DurationVar(&o.storm.actMin, "act-min", 4*time.Second, "earliest the user scans the QR code and approves, after StartLogin")
	flag.DurationVar(&o.storm.actMax, "act-max", 20*time.Second, "latest the user scans the QR code and approves")
	flag.DurationVar(&o.storm.ramp, "ramp", 10*time.Second, "the users start evenly over this")
	flag.DurationVar(&o.storm.warmup, "warmup", 10*time.Second, "steady state discarded after the ramp")
	flag.DurationVar(&o.storm.window, "window", 15*time.Second, "length of one measured window")
	flag.IntVar(&o.storm.windows, "windows", 3, "measured windows, back to back")
	flag.Uint64Var(&o.storm.seed, "seed", 1177, "seed of the users' delays")
	flag.DurationVar(&o.noopDuration, "noop-duration", 10*time.Second, "length of one wrk run of the no-op ceiling")
	flag.DurationVar(&o.noopWarmup, "noop-warmup", 3*time.Second, "length of the discarded wrk warm-up run")
	flag.IntVar(&o.noopRuns, "noop-runs", 3, "measured wrk runs of the no-op ceiling")
	flag.IntVar(&o.connections, "connections", 64, "wrk's connections")
	flag.IntVar(&o.threads, "threads", 2, "wrk's threads")
	flag.IntVar(&o.shards, "shards", 32, "simulators bankidsimd spreads the orders over in scenario C")
	flag.IntVar(&o.rateLimit, "rate-limit", 1_000_000_000, "NARA_LOGIN_STARTS_PER_IP_PER_MINUTE and NARA_LOGINS_PER_PERSON_PER_HOUR for the server")
	flag.Parse()
	if o.nara == "" || o.bankidsimd == "" {
		fmt.Fprintln(os.Stderr, "loginstorm: -nara and -bankidsimd are required (bench/run.sh builds them)")
		os.Exit(2)
	}
	if o.storm.actMax < o.storm.actMin || o.storm.windows < 1 || o.storm.users < 1 {
		fmt.Fprintln(os.Stderr, "loginstorm: need act-min ≤ act-max, windows ≥ 1, users ≥ 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loginstorm:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loginstorm: "+format+"\n", args...)
}

// scenario is one server set-up under the storm.
type scenario struct {
	label       string
	tag         string
	separateSim bool
	shards      int      // of the separate simulator
	env         []string // what differs from the common settings, for the results

	startup     time.Duration
	persons     int
	check       string
	rec         *recorder
	noop        []wrkrun.Result // measured runs
	noopCPU     []proccpu.Cores
	naraWarning string
}

type bench struct {
	o                 options
	tmp, pgdata       string
	lua, noopBodies   string
	wrkVersion        string
	rateLimitSettings []string
}

func run(ctx context.Context, o options) (err error) {
	host := report.Describe(ctx, o.commit)
	loadBefore := report.Load()
	b := &bench{o: o}
	if b.wrkVersion, err = wrkrun.Version(ctx, o.wrk); err != nil {
		return err
	}
	b.tmp, err = os.MkdirTemp("", "nara-loginstorm-")
	if err != nil {
		return err
	}
	defer func() {
		if rmErr := os.RemoveAll(b.tmp); rmErr != nil {
			logf("cleanup: %v", rmErr)
		}
	}()
	// The cluster runs as an unprivileged user when we are root; it must be
	// able to enter the folder.
	if err := os.Chmod(b.tmp, 0o755); err != nil {
		return err
	}
	if b.lua, err = wrkrun.WriteScript(b.tmp); err != nil {
		return err
	}
	b.noopBodies = filepath.Join(b.tmp, "noop.jsonl")
	if err := os.WriteFile(b.noopBodies, []byte(`{"platform":"PLATFORM_IOS","appVersion":"4.1.0"}`+"\n"), 0o644); err != nil {
		return err
	}
	limit := fmt.Sprint(o.rateLimit)
	b.rateLimitSettings = []string{"NARA_LOGIN_STARTS_PER_IP_PER_MINUTE=" + limit, "NARA_LOGINS_PER_PERSON_PER_HOUR=" + limit}

	logf("starting PostgreSQL in %s", b.tmp)
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{DataDir: filepath.Join(b.tmp, "pg")})
	if err != nil {
		return err
	}
	b.pgdata = filepath.Join(b.tmp, "pg", "pgdata")
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if stopErr := cluster.Stop(stopCtx); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	var pgVersion string
	if out, verr := exec.CommandContext(ctx, "sh", "-c", "postgres --version 2>/dev/null || pg_config --version").Output(); verr == nil {
		pgVersion = strings.TrimSpace(string(out))
	}

	scenarios := []*scenario{
		{label: "A: simulator inside nara serve", tag: "a"},
		{label: "B: simulator in its own process", tag: "b", separateSim: true, shards: 1},
		{label: fmt.Sprintf("C: own process, %d shards", o.shards), tag: "c", separateSim: true, shards: o.shards},
	}
	for _, sc := range scenarios {
		db := "nara_" + sc.tag
		if err := cluster.CreateDatabase(ctx, db); err != nil {
			return err
		}
		if err := b.serve(ctx, sc, cluster.URL(db)); err != nil {
			return fmt.Errorf("%s: %w", sc.label, err)
		}
	}

	text := b.format(host, loadBefore, report.Load(), pgVersion, scenarios)
	fmt.Print(text)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
		return err
	}
	logf("wrote %s", o.out)
	return nil
}

// simStats are bankidsimd's counters (see its Stats).
type simStats struct {
	Calls     map[string]int64 `json:"calls"`
	HandlerNs map[string]int64 `json:"handlerNs"`
}

// simProcess is a running bankidsimd.
type simProcess struct {
	cmd    *exec.Cmd
	ready  struct{ URL, ControlURL, StatsURL, CA, ClientCert, ClientKey string }
	client *http.Client
}

func (b *bench) startSim(ctx context.Context, sc *scenario, log io.Writer) (*simProcess, error) {
	cmd := exec.CommandContext(ctx, b.o.bankidsimd, "-dir", filepath.Join(b.tmp, "bankid-"+sc.tag), "-shards", fmt.Sprint(sc.shards))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &simProcess{cmd: cmd, client: &http.Client{Timeout: 5 * time.Second}}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("bankidsimd did not start: %w", err)
	}
	if err := json.Unmarshal(line, &p.ready); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("bankidsimd: %w: %s", err, line)
	}
	return p, nil
}

func (p *simProcess) stats(ctx context.Context) *simStats {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.ready.StatsURL, nil)
	if err != nil {
		return nil
	}
	res, err := p.client.Do(req)
	if err != nil {
		return nil
	}
	defer func() { _ = res.Body.Close() }()
	var s simStats
	if json.NewDecoder(res.Body).Decode(&s) != nil {
		return nil
	}
	return &s
}

func (p *simProcess) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	return p.cmd.Wait()
}

// serve starts nara (and for B the simulator), checks one login, runs the
// storm, then measures the no-op ceiling on the same server.
func (b *bench) serve(ctx context.Context, sc *scenario, databaseURL string) error {
	logPath := filepath.Join(b.tmp, "nara-"+sc.tag+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()

	addr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return err
	}
	env := append([]string{"DATABASE_URL=" + databaseURL, "NARA_DATA_DIR=" + filepath.Join(b.tmp, "nara-data")}, b.rateLimitSettings...)
	var controlURL string
	var sim *simProcess
	if sc.separateSim {
		simLogPath := filepath.Join(b.tmp, "bankidsimd-"+sc.tag+".log")
		simLog, err := os.Create(simLogPath)
		if err != nil {
			return err
		}
		defer func() { _ = simLog.Close() }()
		if sim, err = b.startSim(ctx, sc, simLog); err != nil {
			return err
		}
		defer func() {
			if sim != nil {
				_ = sim.stop()
			}
		}()
		controlURL = sim.ready.ControlURL
		sc.env = []string{"BANKID_URL=https://127.0.0.1:PORT/rp/v6.0", "BANKID_CA_FILE=…/ca.pem", "BANKID_CLIENT_CERT=…/client.pem", "BANKID_CLIENT_KEY=…/client-key.pem"}
		env = append(env, "BANKID_URL="+sim.ready.URL, "BANKID_CA_FILE="+sim.ready.CA,
			"BANKID_CLIENT_CERT="+sim.ready.ClientCert, "BANKID_CLIENT_KEY="+sim.ready.ClientKey)
		logf("bankidsimd (pid %d) serves %s", sim.cmd.Process.Pid, sim.ready.URL)
	} else {
		simAddr, err := naraproc.FreeAddr(ctx)
		if err != nil {
			return err
		}
		controlURL = "http://" + simAddr + "/sim/"
		sc.env = []string{"BANKID_URL unset", "NARA_BANKID_SIM_ADDR=127.0.0.1:PORT"}
		env = append(env, "NARA_BANKID_SIM_ADDR="+simAddr)
	}

	p, err := naraproc.Start(ctx, naraproc.Config{Binary: b.o.nara, Addr: addr, Env: env, Log: logFile})
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_, _ = p.Stop(20 * time.Second)
		}
	}()
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if sc.startup, err = p.WaitHealthy(waitCtx); err != nil {
		return fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}
	logf("%s: nara serve healthy on %s after %s", sc.label, addr, sc.startup.Round(time.Millisecond))

	persons, err := testPersons(ctx, controlURL)
	if err != nil {
		return err
	}
	sc.persons = len(persons)
	st := newStorm(b.o.storm, "http://"+addr, controlURL, persons)
	defer st.close()
	if sc.check, err = checkLogin(ctx, st); err != nil {
		return fmt.Errorf("one login before the storm: %w; log: %s", err, report.LogTail(logPath))
	}
	logf("%s: %s", sc.label, sc.check)

	procs := proccpu.New(p.PID(), b.pgdata)
	if sim != nil {
		procs.WithHelper(sim.cmd.Process.Pid)
	}
	simStatsNow := func() *simStats {
		if sim == nil {
			return nil
		}
		return sim.stats(ctx)
	}
	logf("%s: storm of %d users for %s", sc.label, b.o.storm.users, b.o.storm.total())
	st.rec = newRecorder(b.o.storm, time.Now())
	w0 := st.rec.windows[0]
	w0.cpuFrom, w0.simFrom, w0.loadFrom = procs.Sample(), simStatsNow(), report.Load()
	rec := st.run(ctx, func(i int) {
		c, s, l := procs.Sample(), simStatsNow(), report.Load()
		rec := st.rec
		w := rec.windows[i]
		w.mu.Lock()
		w.cpuTo, w.simTo, w.loadTo, w.sampledEnd = c, s, l, true
		w.mu.Unlock()
		if i+1 < len(rec.windows) {
			n := rec.windows[i+1]
			n.mu.Lock()
			n.cpuFrom, n.simFrom, n.loadFrom = c, s, l
			n.mu.Unlock()
		}
		logf("%s: %s", sc.label, w.summary())
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	sc.rec = rec
	st.close()

	// The ceiling: the no-op RPC on the same server, after the storm.
	noop := wrkLoad(b, p.URL("/nara.app.v1.AppService/GetConfig"), b.o.noopWarmup)
	if _, err := p.Post(ctx, "/nara.app.v1.AppService/GetConfig", `{"platform":"PLATFORM_IOS","appVersion":"4.1.0"}`); err != nil {
		return err
	}
	logf("%s: no-op ceiling, warm-up", sc.label)
	if _, err := noop.Run(ctx); err != nil {
		return err
	}
	noop.Duration = b.o.noopDuration
	for i := range b.o.noopRuns {
		before := procs.Sample()
		r, err := noop.Run(ctx)
		if err != nil {
			return err
		}
		c := proccpu.Between(before, procs.Sample())
		sc.noop = append(sc.noop, r)
		sc.noopCPU = append(sc.noopCPU, c)
		logf("%s: no-op run %d: %.0f req/s, p50 %s, p99 %s, errors %d, nara %.2f cores", sc.label, i+1, r.RPS, ms(r.P50), ms(r.P99), r.Errors, c.Nara)
	}

	stopped = true
	if _, err := p.Stop(20 * time.Second); err != nil {
		return fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}
	sc.naraWarning = report.LogWarnings(logPath)
	if sc.naraWarning != "" {
		logf("%s: nara logged: %s", sc.label, sc.naraWarning)
	}
	if sim != nil {
		err := sim.stop()
		sim = nil
		if err != nil {
			return fmt.Errorf("bankidsimd: %w", err)
		}
	}
	return nil
}

// wrkLoad is the no-op ceiling's wrk run against url.
func wrkLoad(b *bench, url string, d time.Duration) wrkrun.Load {
	return wrkrun.Load{
		Wrk: b.o.wrk, Script: b.lua, Bodies: b.noopBodies, URL: url,
		Threads: b.o.threads, Connections: b.o.connections, Duration: d, Timeout: 10 * time.Second,
	}
}

// testPersons asks the simulator for its test users' personal numbers.
func testPersons(ctx context.Context, controlURL string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, controlURL+"users", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("simulator's test users: %w", err)
	}
	defer func() { _ = res.Body.Close() }()
	var users []struct {
		PersonalNumber string `json:"personalNumber"`
	}
	if err := json.NewDecoder(res.Body).Decode(&users); err != nil {
		return nil, fmt.Errorf("simulator's test users: %w", err)
	}
	var out []string
	for _, u := range users {
		out = append(out, u.PersonalNumber)
	}
	if len(out) == 0 {
		return nil, errors.New("the simulator has no test users")
	}
	return out, nil
}

// checkLogin runs one login through the same requests as the storm, to make
// sure the storm measures logins and not errors.
func checkLogin(ctx context.Context, st *storm) (string, error) {
	begin := time.Now()
	start, _, err := st.call(ctx, "StartLogin", startPath, mustJSON(map[string]any{
		"provider": "PROVIDER_BANKID", "mode": "START_MODE_OTHER_DEVICE",
		"device": map[string]string{"id": "bench-check", "name": "bench", "platform": "PLATFORM_IOS"},
	}))
	if err != nil {
		return "", err
	}
	if start.LoginID == "" || !strings.HasPrefix(start.QRData, "bankid.") {
		return "", fmt.Errorf("StartLogin answered no login id or QR code: %+v", start)
	}
	pollBody := mustJSON(map[string]string{"loginId": start.LoginID, "loginSecret": start.LoginSecret})
	first, _, err := st.call(ctx, "PollLogin", pollPath, pollBody)
	if err != nil {
		return "", err
	}
	if err := st.act(ctx, 0, first.Progress.QRData); err != nil {
		return "", err
	}
	for range 10 {
		if !sleepUntil(ctx, time.Now().Add(st.cfg.pollEvery)) {
			return "", ctx.Err()
		}
		a, _, err := st.call(ctx, "PollLogin", pollPath, pollBody)
		if err != nil {
			return "", err
		}
		switch a.Progress.State {
		case "LOGIN_STATE_COMPLETE":
			if a.Progress.Session == nil || a.Progress.Session.AccessToken == "" {
				return "", errors.New("complete login without a session")
			}
			return fmt.Sprintf("check: one login (StartLogin, PollLogin, scan and approve in the simulator, PollLogin) completed with a session in %s",
				time.Since(begin).Round(time.Millisecond)), nil
		case "LOGIN_STATE_PENDING":
		default:
			return "", fmt.Errorf("login ended %s %s", a.Progress.State, a.Progress.HintCode)
		}
	}
	return "", errors.New("the login did not complete within 10 polls")
}

// summary is one log line about a finished window.
func (w *window) summary() string {
	m := w.metrics()
	return fmt.Sprintf("%s: %.0f req/s (%.0f starts/s, %.0f polls/s), %.1f logins/s, poll p50 %s p99 %s, errors %d, nara %.2f cores, pg %.2f, sim %.2f, loadgen %.2f, machine %.2f, load %s",
		w.name, m.rps, m.startsPS, m.pollsPS, m.loginsPS, ms(m.pollP50), ms(m.pollP99), m.errors,
		m.cpu.Nara, m.cpu.Postgres, m.cpu.Helper, m.cpu.Loadgen, m.cpu.Machine, w.loadTo)
}

// metrics are the figures of one window.
type metrics struct {
	seconds                              float64
	starts, polls                        int
	rps, startsPS, pollsPS, loginsPS     float64
	pollP50, pollP90, pollP99, pollMax   time.Duration
	startP50, startP99                   time.Duration
	actP50, actP99                       time.Duration
	loginP50, loginP99                   time.Duration
	latePolls                            int
	errors                               int
	errorKinds, outcomes                 string
	completed                            int
	cpu                                  proccpu.Cores
	naraMsPerReq, pgMsPerReq             float64
	simCalls                             map[string]float64 // per second
	simHandlerUs                         map[string]float64 // per call
	simAPICalls, simControlCalls         float64            // per second
	simUsPerCall                         float64            // CPU per call
	simCollectPerPoll, simAuthPerStart   float64
	simHandlerAPIUs, simHandlerControlUs float64
}

func (w *window) metrics() metrics {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := metrics{seconds: w.to.Sub(w.from).Seconds(), starts: len(w.startLat), polls: len(w.pollLat)}
	m.rps = float64(m.starts+m.polls) / m.seconds
	m.startsPS, m.pollsPS = float64(m.starts)/m.seconds, float64(m.polls)/m.seconds
	m.completed = w.outcomes["complete"]
	m.loginsPS = float64(m.completed) / m.seconds
	m.pollP50, m.pollP90, m.pollP99 = quantile(w.pollLat, 0.50), quantile(w.pollLat, 0.90), quantile(w.pollLat, 0.99)
	m.pollMax = quantile(w.pollLat, 1)
	m.startP50, m.startP99 = quantile(w.startLat, 0.50), quantile(w.startLat, 0.99)
	m.actP50, m.actP99 = quantile(w.actLat, 0.50), quantile(w.actLat, 0.99)
	m.loginP50, m.loginP99 = quantile(w.loginLat, 0.50), quantile(w.loginLat, 0.99)
	m.latePolls = w.latePolls
	var kinds []string
	for _, k := range slices.Sorted(mapsKeys(w.errors)) {
		m.errors += w.errors[k]
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, w.errors[k]))
	}
	m.errorKinds = strings.Join(kinds, "; ")
	var outs []string
	for _, k := range slices.Sorted(mapsKeys(w.outcomes)) {
		outs = append(outs, fmt.Sprintf("%s %d", k, w.outcomes[k]))
	}
	m.outcomes = strings.Join(outs, ", ")
	if w.sampledEnd && !w.cpuFrom.At().IsZero() {
		m.cpu = proccpu.Between(w.cpuFrom, w.cpuTo)
		if m.rps > 0 {
			m.naraMsPerReq = m.cpu.Nara / m.rps * 1000
			m.pgMsPerReq = m.cpu.Postgres / m.rps * 1000
		}
	}
	if w.simFrom != nil && w.simTo != nil {
		m.simCalls, m.simHandlerUs = map[string]float64{}, map[string]float64{}
		var apiNs, controlNs, apiCalls, controlCalls float64
		for k, to := range w.simTo.Calls {
			n := float64(to - w.simFrom.Calls[k])
			ns := float64(w.simTo.HandlerNs[k] - w.simFrom.HandlerNs[k])
			if n == 0 {
				continue
			}
			m.simCalls[k] = n / m.seconds
			m.simHandlerUs[k] = ns / n / 1000
			if strings.HasPrefix(k, "sim:") {
				controlNs, controlCalls = controlNs+ns, controlCalls+n
			} else {
				apiNs, apiCalls = apiNs+ns, apiCalls+n
			}
		}
		m.simAPICalls, m.simControlCalls = apiCalls/m.seconds, controlCalls/m.seconds
		if all := apiCalls + controlCalls; all > 0 {
			m.simUsPerCall = m.cpu.Helper * m.seconds / all * 1e6
		}
		if apiCalls > 0 {
			m.simHandlerAPIUs = apiNs / apiCalls / 1000
		}
		if controlCalls > 0 {
			m.simHandlerControlUs = controlNs / controlCalls / 1000
		}
		if m.polls > 0 {
			m.simCollectPerPoll = m.simCalls["collect"] * m.seconds / float64(m.polls)
		}
		if m.starts > 0 {
			m.simAuthPerStart = m.simCalls["auth"] * m.seconds / float64(m.starts)
		}
	}
	return m
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
