// Command faqbench measures FAQ search on the real `nara serve` binary over a
// private PostgreSQL holding 5 000 published Swedish articles, next to the
// same run's ceilings: a no-op Connect RPC answered from memory and a
// primary-key read through the real handler (GetArticle).
//
// It starts a cluster with pgcluster, loads the corpus through the store,
// runs the server twice (search cache on, then off with
// NARA_SEARCH_CACHE_SIZE=-1), loads each with wrk and a Lua script that
// cycles pre-built Connect JSON bodies, writes a table of figures, and
// removes everything it made. Run it through bench/run.sh.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/bench/internal/naraproc"
	"github.com/nara-care/nara/bench/internal/report"
	"github.com/nara-care/nara/bench/internal/wrkrun"
	"github.com/nara-care/nara/pgcluster"
	"github.com/nara-care/nara/store"
)

// options are the command-line settings.
type options struct {
	nara        string
	commit      string
	wrk         string
	out         string
	articles    int
	queries     int
	seed        uint64
	duration    time.Duration
	connections int
	threads     int
	runs        int
	timeout     time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.nara, "nara", "", "the nara binary to measure (required)")
	flag.StringVar(&o.commit, "commit", "", "the source the nara binary was built from, for the results file (default: git HEAD now)")
	flag.StringVar(&o.wrk, "wrk", "wrk", "the wrk binary")
	flag.StringVar(&o.out, "out", "bench/results/faq.txt", "results file")
	flag.IntVar(&o.articles, "articles", 5000, "synthetic published articles in Swedish")
	flag.IntVar(&o.queries, "queries", 300, "distinct search queries in the mix")
	flag.Uint64Var(&o.seed, "seed", 1177, "seed of the corpus and the queries")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of one wrk run")
	flag.IntVar(&o.connections, "connections", 64, "concurrent HTTP/1.1 connections")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.runs, "runs", 3, "measured runs per scenario, after one discarded warm-up run")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "wrk's per-request timeout; slower requests count as errors")
	flag.Parse()
	if o.nara == "" {
		fmt.Fprintln(os.Stderr, "faqbench: -nara is required (bench/run.sh builds it)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "faqbench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "faqbench: "+format+"\n", args...)
}

func run(ctx context.Context, o options) (err error) {
	host := report.Describe(ctx, o.commit)
	loadBefore := report.Load()
	wrkVersion, err := wrkrun.Version(ctx, o.wrk)
	if err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "nara-faqbench-")
	if err != nil {
		return err
	}
	defer removeAll(tmp)
	// The cluster runs as an unprivileged user when we are root; it must be
	// able to enter the folder.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}

	logf("starting PostgreSQL in %s", tmp)
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{DataDir: filepath.Join(tmp, "pg")})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if stopErr := cluster.Stop(stopCtx); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	if err := cluster.CreateDatabase(ctx, "nara"); err != nil {
		return err
	}
	databaseURL := cluster.URL("nara")

	corpus, err := load(ctx, databaseURL, o)
	if err != nil {
		return err
	}

	b := &bench{o: o, tmp: tmp, databaseURL: databaseURL}
	if err := b.writeBodies(corpus); err != nil {
		return err
	}

	cached, err := b.serve(ctx, "default search cache", nil, []*scenario{b.noop, b.article, b.search})
	if err != nil {
		return err
	}
	uncached, err := b.serve(ctx, "search cache off", []string{"NARA_SEARCH_CACHE_SIZE=-1"}, []*scenario{b.noop, b.article, b.search})
	if err != nil {
		return err
	}

	text := b.format(host, wrkVersion, corpus, loadBefore, report.Load(), cached, uncached)
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

// corpusInfo describes what was loaded, for the results file.
type corpusInfo struct {
	articles   []article
	queries    []string
	loadTime   time.Duration
	pgVersion  string
	tableBytes string
}

// load migrates the database and fills it with the demo categories and the
// synthetic articles, created and published through the store like an
// editor would.
func load(ctx context.Context, databaseURL string, o options) (corpusInfo, error) {
	var info corpusInfo
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return info, err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return info, err
	}
	st := store.New(pool, store.Options{})
	for i, c := range categories {
		if err := st.CategoryUpsert(ctx, c.slug, i, c.titleSV, c.titleEN, "", ""); err != nil {
			return info, fmt.Errorf("category %s: %w", c.slug, err)
		}
	}
	info.articles, err = generateArticles(o.articles, o.seed)
	if err != nil {
		return info, err
	}
	info.queries = generateQueries(o.queries, o.seed)

	logf("loading %d articles", len(info.articles))
	begin := time.Now()
	const workers = 4
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		loadErr error
	)
	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(info.articles) || loadCtx.Err() != nil {
					return
				}
				a := info.articles[i]
				_, err := st.HelpArticleCreate(loadCtx, a.slug, store.LanguageSwedish, a.content, "faqbench")
				if err == nil {
					_, err = st.HelpArticlePublish(loadCtx, a.slug, store.LanguageSwedish, 1)
				}
				if err != nil {
					errOnce.Do(func() { loadErr = fmt.Errorf("article %s: %w", a.slug, err); cancel() })
					return
				}
				if (i+1)%1000 == 0 {
					logf("%d articles published", i+1)
				}
			}
		})
	}
	wg.Wait()
	if loadErr != nil {
		return info, loadErr
	}
	info.loadTime = time.Since(begin)
	// A database that has served for a while has been vacuumed and analysed
	// by autovacuum; do it now rather than measure the first minutes.
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return info, err
	}
	if err := pool.QueryRow(ctx, "SHOW server_version").Scan(&info.pgVersion); err != nil {
		return info, err
	}
	if err := pool.QueryRow(ctx, "SELECT pg_size_pretty(pg_total_relation_size('help_article_version'))").Scan(&info.tableBytes); err != nil {
		return info, err
	}
	return info, nil
}

// scenario is one kind of request loaded by wrk.
type scenario struct {
	name   string
	path   string
	bodies string // file with one JSON body per line
	lines  []string
}

// bench holds what every server run shares.
type bench struct {
	o           options
	tmp         string
	databaseURL string
	lua         string
	noop        *scenario
	article     *scenario
	search      *scenario
}

func (b *bench) writeBodies(c corpusInfo) error {
	var err error
	if b.lua, err = wrkrun.WriteScript(b.tmp); err != nil {
		return err
	}
	mk := func(name, path, file string, bodies []string) (*scenario, error) {
		s := &scenario{name: name, path: path, bodies: filepath.Join(b.tmp, file), lines: bodies}
		return s, os.WriteFile(s.bodies, []byte(strings.Join(bodies, "\n")+"\n"), 0o644)
	}
	b.noop, err = mk("No-op (AppService/GetConfig)", "/nara.app.v1.AppService/GetConfig", "noop.jsonl",
		[]string{`{"platform":"PLATFORM_IOS","appVersion":"4.1.0"}`})
	if err != nil {
		return err
	}
	var articles []string
	for _, a := range c.articles {
		articles = append(articles, mustJSON(map[string]string{"slug": a.slug, "language": "LANGUAGE_SV"}))
	}
	b.article, err = mk("GetArticle (PK read)", "/nara.help.v1.HelpService/GetArticle", "article.jsonl", articles)
	if err != nil {
		return err
	}
	var searches []string
	for _, q := range c.queries {
		searches = append(searches, mustJSON(map[string]string{"query": q, "language": "LANGUAGE_SV"}))
	}
	b.search, err = mk("SearchArticles", "/nara.help.v1.HelpService/SearchArticles", "search.jsonl", searches)
	return err
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// result is one wrk run.
type result struct {
	wrkrun.Result
	loadAfter string
}

// serverRun is one start of the server with all its scenarios measured.
type serverRun struct {
	label   string
	env     []string
	startup time.Duration
	results map[*scenario][]result // measured runs, warm-up excluded
	checks  map[*scenario]string   // what the one-by-one check saw
	order   []*scenario
}

// serve starts nara with env, checks every request body once, warms every
// scenario up with one discarded run, then measures o.runs rounds; each
// round runs every scenario once, so that background load on a shared
// machine falls on all of them alike.
func (b *bench) serve(ctx context.Context, label string, env []string, scenarios []*scenario) (serverRun, error) {
	sr := serverRun{label: label, env: env, results: map[*scenario][]result{}, checks: map[*scenario]string{}, order: scenarios}
	addr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return sr, err
	}
	logPath := filepath.Join(b.tmp, "nara-"+strconv.Itoa(len(env))+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return sr, err
	}
	defer func() { _ = logFile.Close() }()
	p, err := naraproc.Start(ctx, naraproc.Config{
		Binary: b.o.nara,
		Addr:   addr,
		// The data folder holds only nara's own local state here (its
		// secret key); the database is the benchmark's cluster.
		Env: append([]string{"DATABASE_URL=" + b.databaseURL, "NARA_DATA_DIR=" + filepath.Join(b.tmp, "nara-data")}, env...),
		Log: logFile,
	})
	if err != nil {
		return sr, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_, _ = p.Stop(20 * time.Second)
		}
	}()
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if sr.startup, err = p.WaitHealthy(waitCtx); err != nil {
		return sr, fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}
	logf("nara serve (%s) healthy on %s after %s", label, addr, sr.startup.Round(time.Millisecond))

	for _, s := range scenarios {
		if sr.checks[s], err = check(ctx, p, s); err != nil {
			return sr, err
		}
	}
	for _, s := range scenarios {
		logf("%s: warm-up %s", label, s.name)
		if _, err := b.wrk(ctx, p, s); err != nil {
			return sr, err
		}
	}
	for round := 1; round <= b.o.runs; round++ {
		for _, s := range scenarios {
			r, err := b.wrk(ctx, p, s)
			if err != nil {
				return sr, err
			}
			logf("%s: run %d %s: %.0f req/s, p50 %s, p99 %s, errors %d", label, round, s.name, r.RPS, ms(r.P50), ms(r.P99), r.Errors)
			sr.results[s] = append(sr.results[s], r)
		}
	}
	stopped = true
	if _, err := p.Stop(20 * time.Second); err != nil {
		return sr, fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}
	if warnings := report.LogWarnings(logPath); warnings != "" {
		logf("nara logged: %s", warnings)
	}
	return sr, nil
}

// check sends every body of s once and summarises the answers: a body that
// fails would turn the benchmark into an error benchmark.
func check(ctx context.Context, p *naraproc.Process, s *scenario) (string, error) {
	var size, hits, empty int
	for _, body := range s.lines {
		out, err := p.Post(ctx, s.path, body)
		if err != nil {
			return "", err
		}
		size += len(out)
		if s.path == "/nara.help.v1.HelpService/SearchArticles" {
			var res struct {
				Hits []json.RawMessage `json:"hits"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				return "", err
			}
			hits += len(res.Hits)
			if len(res.Hits) == 0 {
				empty++
			}
		}
	}
	n := len(s.lines)
	summary := fmt.Sprintf("%d distinct request bodies, response %d bytes on average", n, size/n)
	if n == 1 {
		summary = fmt.Sprintf("1 request body, response %d bytes", size)
	}
	if s.path == "/nara.help.v1.HelpService/SearchArticles" {
		summary += fmt.Sprintf(", %.1f hits per query on average, %d of %d queries with no hit", float64(hits)/float64(n), empty, n)
	}
	return summary, nil
}

// load is wrk's load of s against url.
func (b *bench) load(url string, s *scenario) wrkrun.Load {
	return wrkrun.Load{
		Wrk: b.o.wrk, Script: b.lua, Bodies: s.bodies, URL: url,
		Threads: b.o.threads, Connections: b.o.connections, Duration: b.o.duration, Timeout: b.o.timeout,
	}
}

func (b *bench) wrk(ctx context.Context, p *naraproc.Process, s *scenario) (result, error) {
	r, err := b.load(p.URL(s.path), s).Run(ctx)
	if err != nil {
		return result{}, err
	}
	return result{Result: r, loadAfter: report.Load()}, nil
}

// removeAll deletes what the benchmark made, saying so if it cannot.
func removeAll(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		logf("cleanup: %v", err)
	}
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// format writes the results file.
func (b *bench) format(host report.Host, wrkVersion string, c corpusInfo, loadBefore, loadAfter string, runs ...serverRun) string {
	var w strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	line("FAQ search over %d published Swedish articles: `nara serve` loaded by wrk over HTTP/1.1", len(c.articles))
	line("(Connect JSON POST, %d connections, %d threads, %s per run, 1 warm-up run discarded, then %d runs;",
		b.o.connections, b.o.threads, b.o.duration, b.o.runs)
	line("req/s is the median (min–max) of the runs, p50/p99 come from the median run).")
	line("")
	for _, l := range host.Lines() {
		line("%s", l)
	}
	line("wrk:     %s", wrkVersion)
	line("pg:      PostgreSQL %s, pgcluster defaults (PostgreSQL's own settings, synchronous_commit on)", c.pgVersion)
	line("load:    %s before, %s after (uptime's 1/5/15-minute load averages; the machine is shared)", loadBefore, loadAfter)
	line("setup:   nara, PostgreSQL and wrk share the same %d cores on 127.0.0.1. nara runs with its defaults:", host.NProc)
	line("         GOMAXPROCS not set, pgxpool size not set in DATABASE_URL (nara's default pool).")
	line("")
	for _, sr := range runs {
		noop := sr.results[b.noop]
		noopMed, _, _ := report.Spread(rpsOf(noop))
		line("Server: %s (%s), healthy %s after start", sr.label, envLabel(sr.env), sr.startup.Round(time.Millisecond))
		line("  %-34s %-26s %9s %9s %8s %7s", "scenario", "req/s median (min–max)", "p50", "p99", "×no-op", "errors")
		for _, s := range sr.order {
			rs := sr.results[s]
			med, lo, hi := report.Spread(rpsOf(rs))
			mid := rs[report.MedianIndex(rpsOf(rs))]
			errs := 0
			for _, r := range rs {
				errs += r.Errors
			}
			name := s.name
			if s == b.search {
				if len(sr.env) == 0 {
					name += ", cached (warm)"
				} else {
					name += ", uncached"
				}
			}
			line("  %-34s %-26s %9s %9s %8s %7d", name,
				fmt.Sprintf("%.0f (%.0f–%.0f)", med, lo, hi), ms(mid.P50), ms(mid.P99),
				fmt.Sprintf("%.3f", med/noopMed), errs)
		}
		line("")
	}
	loads := []string{loadBefore, loadAfter}
	for _, sr := range runs {
		for _, rs := range sr.results {
			for _, r := range rs {
				loads = append(loads, r.loadAfter)
			}
		}
	}
	if report.Busy(host.NProc, loads...) {
		line("Note: the 1-minute load average exceeded the %d cores during these runs (other work on the machine),", host.NProc)
		line("so absolute req/s are depressed and noisy; the ratios to the same server's no-op are the figures that travel.")
		line("")
	}
	line("Goal: search ≥ 0.5× the no-op ceiling.")
	for _, sr := range runs {
		noopMed, _, _ := report.Spread(rpsOf(sr.results[b.noop]))
		searchMed, _, _ := report.Spread(rpsOf(sr.results[b.search]))
		ratio := searchMed / noopMed
		verdict := "met"
		if ratio < 0.5 {
			verdict = "not met"
		}
		line("  %-22s search %.0f req/s / no-op %.0f req/s = %.3f× (%s)", sr.label+":", searchMed, noopMed, ratio, verdict)
	}
	line("")
	line("Every run (req/s, p50, p90, p99, max, errors, load average after the run):")
	for _, sr := range runs {
		for _, s := range sr.order {
			for i, r := range sr.results[s] {
				errs := "0"
				if r.Errors > 0 {
					errs = fmt.Sprintf("%d (%s)", r.Errors, r.ErrorKinds)
				}
				line("  %-20s %-30s run %d: %6.0f req/s  p50 %9s  p90 %9s  p99 %9s  max %9s  errors %s  load %s",
					sr.label, s.name, i+1, r.RPS, ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), errs, r.loadAfter)
			}
		}
	}
	line("")
	line("Corpus: %d articles in the 6 demo categories, generated from templates over a Swedish", len(c.articles))
	line("healthcare vocabulary (seed %d), created and published with store.HelpArticleCreate/HelpArticlePublish", b.o.seed)
	line("by 4 goroutines in %s, then VACUUM ANALYZE; help_article_version is %s. Example titles:", c.loadTime.Round(time.Second), c.tableBytes)
	for _, a := range c.articles[:4] {
		line("  %s", a.content.Title)
	}
	line("Queries: %d distinct, cycled in order by each wrk thread (thread k of n starts at k/n of the list):", len(c.queries))
	line("single words, inflected forms, verb phrases and questions from the articles, word pairs, and about")
	line("a third with a typo (å/ä/ö without dots, a letter dropped, doubled or swapped). The first 24:")
	for i := 0; i < 24 && i < len(c.queries); i += 6 {
		line("  %s", strings.Join(quoteAll(c.queries[i:min(i+6, len(c.queries))]), ", "))
	}
	line("GetArticle cycles through all %d slugs: one primary-key read of the published version per request.", len(c.articles))
	line("Checks before loading (every request body sent once, all answered 200):")
	for _, sr := range runs {
		for _, s := range sr.order {
			line("  %-20s %-30s %s", sr.label, s.name, sr.checks[s])
		}
	}
	line("")
	line("Commands (TMP is a fresh temporary folder; PORT a free port; bench/run.sh faq does all of this):")
	line("  go build -o TMP/nara ./cmd/nara")
	line("  DATABASE_URL=postgres://…@127.0.0.1:…/nara NARA_DATA_DIR=TMP/nara-data NARA_ADDR=127.0.0.1:PORT TMP/nara serve")
	line("  DATABASE_URL=… NARA_DATA_DIR=TMP/nara-data NARA_ADDR=127.0.0.1:PORT NARA_SEARCH_CACHE_SIZE=-1 TMP/nara serve")
	line("  (both with NARA_BANKID_SIM_ADDR and NARA_OIDC_DEV_ADDR on free ports, and no other NARA_*, BANKID_*")
	line("  or OIDC_* variable: the development BankID simulator and OIDC provider run as in `nara serve`)")
	for _, s := range []*scenario{b.noop, b.article, b.search} {
		args := b.load("http://127.0.0.1:PORT"+s.path, s).Args()
		line("  wrk %s", strings.ReplaceAll(strings.Join(args, " "), b.tmp, "TMP"))
	}
	line("  (the request bodies, one JSON object per line, are TMP/*.jsonl; the Lua script is bench/internal/wrkrun/rotate.lua)")
	line("wrk's --timeout is %s rather than its default 2 s, so that slow requests count in the latencies instead", b.o.timeout)
	line("of being dropped from them.")
	return w.String()
}

func rpsOf(rs []result) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.RPS
	}
	return out
}

func envLabel(env []string) string {
	if len(env) == 0 {
		return "NARA_SEARCH_CACHE_SIZE unset: 10 000 entries"
	}
	return strings.Join(env, " ")
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, q := range s {
		out[i] = strconv.Quote(q)
	}
	return out
}
