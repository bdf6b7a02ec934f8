// Command applist measures the citizen's appointment list on the real
// `nara serve` binary over a region-sized database: 1 million citizens and
// 5 million appointments (three years of visits and about two months of
// upcoming bookings at 100 units). wrk loads ListAppointments with 64
// connections, each request a random one of 100 000 logged-in citizens,
// next to the same server's no-op RPC (the ceiling) and an authenticated
// primary-key read (GetMe); and once more against a second server with the
// list cache off, where every list is read from PostgreSQL.
//
// Seeding takes a few minutes, so the cluster is kept between runs in
// -cache (outside the repository) and seeded again only when its shape or
// the seed format changes; new migrations run over it as they would in
// production. Run it through bench/run.sh applist.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/bench/internal/benchtoken"
	"github.com/nara-care/nara/bench/internal/naraproc"
	"github.com/nara-care/nara/bench/internal/proccpu"
	"github.com/nara-care/nara/bench/internal/report"
	"github.com/nara-care/nara/bench/internal/wrkrun"
	"github.com/nara-care/nara/pgcluster"
)

// options are the command-line settings.
type options struct {
	nara, commit, wrk, out, cache string
	fresh, profile                bool
	naraDBParams                  string
	shape                         shape
	duration, timeout             time.Duration
	connections, threads, runs    int
}

func main() {
	var o options
	flag.StringVar(&o.nara, "nara", "", "the nara binary to measure (required)")
	flag.StringVar(&o.commit, "commit", "", "the source the nara binary was built from, for the results file (default: git HEAD now)")
	flag.StringVar(&o.wrk, "wrk", "wrk", "the wrk binary")
	flag.StringVar(&o.out, "out", "bench/results/applist.txt", "results file")
	flag.StringVar(&o.cache, "cache", "/var/tmp/nara-bench/applist", "where the seeded cluster is kept between runs (\"\": a temporary folder, removed after)")
	flag.StringVar(&o.naraDBParams, "nara-db-params", "", "extra DATABASE_URL parameters for nara, for experiments (e.g. plan_cache_mode=force_generic_plan)")
	flag.BoolVar(&o.fresh, "fresh", false, "seed again even if the kept cluster holds the same data")
	flag.BoolVar(&o.profile, "profile", false, "with pg_stat_statements on, end with a profiled ListAppointments run (statements, and nara's CPU with perf if installed); the figures are then not the benchmark's")
	flag.IntVar(&o.shape.citizens, "citizens", 1_000_000, "citizens")
	flag.IntVar(&o.shape.appointments, "appointments", 5_000_000, "appointments, over about three years")
	flag.IntVar(&o.shape.units, "units", 100, "care units (each with 5 service lanes)")
	flag.IntVar(&o.shape.slots, "slots", 100_000, "slots (a multiple of 5 × units), each with appointments/slots places; appointments fill them in turn")
	flag.IntVar(&o.shape.sample, "sample", 100_000, "logged-in citizens the load picks from at random (every citizens/sample-th)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of one wrk run")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "wrk's per-request timeout; slower requests count as errors")
	flag.IntVar(&o.connections, "connections", 64, "concurrent HTTP/1.1 connections")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.runs, "runs", 3, "measured runs per scenario, after one discarded warm-up run")
	flag.Parse()
	sh := o.shape
	if o.nara == "" {
		fmt.Fprintln(os.Stderr, "applist: -nara is required (bench/run.sh builds it)")
		os.Exit(2)
	}
	if sh.slots%(5*sh.units) != 0 || sh.appointments > 100*sh.slots || sh.sample < 1 || sh.citizens%sh.sample != 0 {
		fmt.Fprintln(os.Stderr, "applist: -slots must be a multiple of 5 × -units, -appointments at most 100 × -slots, -citizens a multiple of -sample")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "applist:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "applist: "+format+"\n", args...)
}

// scenario is one kind of request loaded by wrk.
type scenario struct {
	name, path string
	script     string // Lua script
	lines      string // its input file
	check      string // what the one-by-one check saw
	results    []result
	// off runs it against the server with the list cache off.
	off bool
}

type result struct {
	wrkrun.Result
	cpu       proccpu.Cores
	loadAfter string
	// cache counts the list cache's lookups during the run.
	cache cacheCount
}

// dataInfo describes the database, for the results file.
type dataInfo struct {
	seeded                   seeded
	pgVersion                string
	appointmentSize, dbSize  string
	persons, appts, sessions int64
	sharedBuffers            string
	// naraMemory is the default server's resident memory after the runs.
	naraMemory string
	// fill is how long reading every logged-in citizen's list once took.
	fill time.Duration
}

func run(ctx context.Context, o options) (err error) {
	host := report.Describe(ctx, o.commit)
	loadBefore := report.Load()
	wrkVersion, err := wrkrun.Version(ctx, o.wrk)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "nara-applist-")
	if err != nil {
		return err
	}
	defer removeAll(tmp)
	// The cluster runs as an unprivileged user when we are root; it must be
	// able to enter its folders.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	dataDir := filepath.Join(tmp, "pg")
	if o.cache != "" {
		dataDir = o.cache
		if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
			return err
		}
	}
	logf("starting PostgreSQL in %s", dataDir)
	var settings map[string]string
	if o.profile {
		settings = profileSettings
	}
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{DataDir: dataDir, Settings: settings})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if stopErr := cluster.Stop(stopCtx); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	var info dataInfo
	if info.seeded, err = prepare(ctx, cluster, o.shape, o.fresh); err != nil {
		return err
	}
	if info.seeded.reused {
		logf("reusing the kept database (%s)", info.seeded.previous)
	} else {
		logf("seeded in %s", info.seeded.took.Round(time.Second))
	}
	databaseURL := cluster.URL("nara")
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	for _, q := range []struct {
		dst any
		sql string
	}{
		{&info.pgVersion, `SHOW server_version`},
		{&info.sharedBuffers, `SHOW shared_buffers`},
		{&info.appointmentSize, `SELECT pg_size_pretty(pg_total_relation_size('appointment'))`},
		{&info.dbSize, `SELECT pg_size_pretty(pg_database_size(current_database()))`},
		{&info.persons, `SELECT count(*) FROM person`},
		{&info.appts, `SELECT count(*) FROM appointment`},
		{&info.sessions, `SELECT count(*) FROM session`},
	} {
		if err := pool.QueryRow(ctx, q.sql).Scan(q.dst); err != nil {
			return err
		}
	}

	// Tokens for the logged-in sample, valid for this run.
	m, err := benchtoken.New()
	if err != nil {
		return err
	}
	citizens, err := m.Sessions(ctx, pool, 2*time.Hour, `SELECT id::text, person_id::text FROM session WHERE device_id LIKE 'list-%'`)
	if err != nil {
		return err
	}
	pool.Close()
	var lines strings.Builder
	for _, c := range citizens {
		lines.WriteString(c.Token + "\t{}\n")
	}
	tokensFile := filepath.Join(tmp, "tokens.tsv")
	if err := os.WriteFile(tokensFile, []byte(lines.String()), 0o600); err != nil {
		return err
	}
	noopFile := filepath.Join(tmp, "noop.jsonl")
	if err := os.WriteFile(noopFile, []byte(`{"platform":"PLATFORM_IOS","appVersion":"4.1.0"}`+"\n"), 0o644); err != nil {
		return err
	}
	rotate, err := wrkrun.WriteScript(tmp)
	if err != nil {
		return err
	}
	tokens, err := wrkrun.WriteTokenScript(tmp)
	if err != nil {
		return err
	}
	list := &scenario{name: "ListAppointments", path: listPath, script: tokens, lines: tokensFile}
	scenarios := []*scenario{
		{name: "No-op (AppService/GetConfig)", path: "/nara.app.v1.AppService/GetConfig", script: rotate, lines: noopFile},
		{name: "GetMe (session + person)", path: "/nara.auth.v1.SessionService/GetMe", script: tokens, lines: tokensFile},
		list,
		{name: "ListAppointments, cache off", path: listPath, script: tokens, lines: tokensFile, off: true},
	}

	// The same binary twice on the same database: as configured by default,
	// and with the list cache off (every list read from PostgreSQL). Each
	// idles while the other is loaded.
	start := func(name string, env ...string) (*naraproc.Process, string, error) {
		addr, err := naraproc.FreeAddr(ctx)
		if err != nil {
			return nil, "", err
		}
		fcmAddr, err := naraproc.FreeAddr(ctx)
		if err != nil {
			return nil, "", err
		}
		logPath := filepath.Join(tmp, name+".log")
		logFile, err := os.Create(logPath)
		if err != nil {
			return nil, "", err
		}
		p, err := naraproc.Start(ctx, naraproc.Config{
			Binary: o.nara, Addr: addr, Log: logFile,
			Env: append([]string{"DATABASE_URL=" + naraURL(databaseURL, o.naraDBParams), "NARA_DATA_DIR=" + filepath.Join(tmp, name+"-data"),
				benchtoken.Env(), "NARA_FCM_FAKE_ADDR=" + fcmAddr}, env...),
		})
		if err != nil {
			_ = logFile.Close()
			return nil, "", err
		}
		waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		startup, err := p.WaitHealthy(waitCtx)
		if err != nil {
			_, _ = p.Stop(20 * time.Second)
			return nil, "", fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
		}
		logf("nara serve (%s) healthy on %s after %s", name, addr, startup.Round(time.Millisecond))
		return p, logPath, nil
	}
	p, logPath, err := start("nara")
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_, _ = p.Stop(20 * time.Second)
		}
	}()
	pOff, logPathOff, err := start("nara-cache-off", "NARA_LIST_CACHE_SIZE=-1")
	if err != nil {
		return err
	}
	defer func() { _, _ = pOff.Stop(20 * time.Second) }()
	procOf := func(s *scenario) *naraproc.Process {
		if s.off {
			return pOff
		}
		return p
	}

	for _, s := range scenarios {
		if err := check(ctx, procOf(s), citizens, s); err != nil {
			return err
		}
	}
	// Every logged-in citizen opens the app once before the runs, so that
	// the runs measure lists read again (the app's usual case), not how far
	// random picks have happened to fill the cache; the cache-off server
	// shows the first read.
	if info.fill, err = fill(ctx, p, citizens); err != nil {
		return err
	}
	logf("every citizen's list read once in %s", info.fill.Round(time.Millisecond))
	watch := proccpu.New(p.PID(), filepath.Join(dataDir, "pgdata"))
	watchOff := proccpu.New(pOff.PID(), filepath.Join(dataDir, "pgdata"))
	load := func(s *scenario) (result, error) {
		w, proc := watch, procOf(s)
		if s.off {
			w = watchOff
		}
		cacheBefore := listCacheCount(ctx, proc)
		before := w.Sample()
		r, err := wrkrun.Load{
			Wrk: o.wrk, Script: s.script, Bodies: s.lines, URL: proc.URL(s.path),
			Threads: o.threads, Connections: o.connections, Duration: o.duration, Timeout: o.timeout,
		}.Run(ctx)
		res := result{Result: r, cpu: proccpu.Between(before, w.Sample()), loadAfter: report.Load()}
		res.cache = listCacheCount(ctx, proc).minus(cacheBefore)
		return res, err
	}
	for _, s := range scenarios {
		logf("warm-up %s", s.name)
		if _, err := load(s); err != nil {
			return err
		}
	}
	// Each round runs every scenario once, so that background load on a
	// shared machine falls on all of them alike.
	for round := 1; round <= o.runs; round++ {
		for _, s := range scenarios {
			r, err := load(s)
			if err != nil {
				return err
			}
			logf("run %d %s: %.0f req/s, p50 %s, p99 %s, errors %d; %s%s", round, s.name, r.RPS, ms(r.P50), ms(r.P99), r.Errors, r.cpu, r.cache)
			s.results = append(s.results, r)
		}
	}
	var profiled string
	if o.profile {
		if profiled, err = profile(ctx, databaseURL, p.PID(), tmp, func() (result, error) { return load(list) }); err != nil {
			return err
		}
	}
	info.naraMemory = residentMemory(p.PID())
	stopped = true
	if _, err := p.Stop(20 * time.Second); err != nil {
		return fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}
	warnings := strings.TrimSpace(report.LogWarnings(logPath) + " " + report.LogWarnings(logPathOff))

	text := format(o, host, wrkVersion, info, len(citizens), loadBefore, report.Load(), scenarios, warnings)
	if o.profile {
		text = "PROFILED RUN (pg_stat_statements on): these figures are not the benchmark's.\n\n" + text + "\n" + profiled
	}
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

// naraURL adds params to nara's DATABASE_URL.
func naraURL(databaseURL, params string) string {
	if params == "" {
		return databaseURL
	}
	return databaseURL + "&" + params
}

// check sends each scenario's request for a few hundred random citizens and
// summarises the answers: a request that fails would turn the benchmark
// into an error benchmark.
func check(ctx context.Context, p *naraproc.Process, citizens []benchtoken.Citizen, s *scenario) error {
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(1, 2))
	body := `{}`
	if strings.Contains(s.path, "GetConfig") {
		body = `{"platform":"PLATFORM_IOS","appVersion":"4.1.0"}`
	}
	const n = 300
	var size, items, none, most int
	for range n {
		out, err := call(ctx, client, p.URL(s.path), citizens[rng.IntN(len(citizens))].Token, body)
		if err != nil {
			return err
		}
		size += len(out)
		var list struct {
			Appointments []json.RawMessage `json:"appointments"`
		}
		if json.Unmarshal(out, &list) == nil {
			k := len(list.Appointments)
			items += k
			most = max(most, k)
			if k == 0 {
				none++
			}
		}
	}
	s.check = fmt.Sprintf("%d random requests answered 200, response %d bytes on average", n, size/n)
	if strings.Contains(s.path, "ListAppointments") {
		s.check += fmt.Sprintf(", %.1f appointments on average (most %d, %d citizens with none)", float64(items)/n, most, none)
	}
	return nil
}

// call posts the JSON body to url as the holder of token and returns the
// answer, which must be 200.
func call(ctx context.Context, client *http.Client, url, token, body string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %s", url, res.StatusCode, bytes.TrimSpace(out))
	}
	return out, nil
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// removeAll deletes what the benchmark made, saying so if it cannot.
func removeAll(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		logf("cleanup: %v", err)
	}
}

const listPath = "/nara.appointment.v1.AppointmentService/ListAppointments"

// cacheCount is the list cache's lookups as /metrics counts them.
type cacheCount struct{ hit, miss, off float64 }

func (c cacheCount) minus(d cacheCount) cacheCount {
	return cacheCount{c.hit - d.hit, c.miss - d.miss, c.off - d.off}
}

func (c cacheCount) String() string {
	switch {
	case c.hit+c.miss > 0:
		return fmt.Sprintf(", list cache %.1f %% hits", 100*c.hit/(c.hit+c.miss))
	case c.off > 0:
		return ", list cache off"
	}
	return ""
}

var cacheLine = regexp.MustCompile(`(?m)^nara_list_cache_lookups_total\{result="(\w+)"\} (\S+)$`)

// listCacheCount reads p's list cache counters (zero when unreadable).
func listCacheCount(ctx context.Context, p *naraproc.Process) cacheCount {
	var c cacheCount
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.MetricsURL("/metrics"), nil)
	if err != nil {
		return c
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return c
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return c
	}
	for _, m := range cacheLine.FindAllSubmatch(b, -1) {
		n, _ := strconv.ParseFloat(string(m[2]), 64)
		switch string(m[1]) {
		case "hit":
			c.hit = n
		case "miss":
			c.miss = n
		case "off":
			c.off = n
		}
	}
	return c
}

// residentMemory is a process's resident set size as /proc tells it.
func residentMemory(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// fill asks p for every citizen's appointment list once, 16 at a time.
func fill(ctx context.Context, p *naraproc.Process, citizens []benchtoken.Citizen) (time.Duration, error) {
	start := time.Now()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	work := make(chan string)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			for tok := range work {
				if _, err := call(ctx, client, p.URL(listPath), tok, `{}`); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var err error
	done := 0
	for _, c := range citizens {
		select {
		case work <- c.Token:
			continue
		case err = <-errs:
			done++
		}
		break
	}
	close(work)
	for ; done < 16; done++ {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return time.Since(start), err
}
