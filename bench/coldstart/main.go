// Command coldstart measures how long `nara serve` with its embedded
// PostgreSQL takes from exec to its first healthy answer: on first start in
// an empty NARA_DATA_DIR (initdb, PostgreSQL start, migrations) and on a
// restart after SIGTERM. Run it through bench/run.sh.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nara-care/nara/bench/internal/naraproc"
	"github.com/nara-care/nara/bench/internal/report"
)

func main() {
	nara := flag.String("nara", "", "the nara binary to measure (required)")
	commit := flag.String("commit", "", "the source the nara binary was built from, for the results file (default: git HEAD now)")
	out := flag.String("out", "bench/results/coldstart.txt", "results file")
	runs := flag.Int("runs", 3, "measured first starts and restarts, after one discarded warm-up of each")
	flag.Parse()
	if *nara == "" {
		fmt.Fprintln(os.Stderr, "coldstart: -nara is required (bench/run.sh builds it)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *nara, *commit, *out, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

// phases are the log messages that mark the steps of a start, in order.
var phases = []struct{ msg, label string }{
	{"postgres started", "PostgreSQL up"},
	{"database schema is up to date", "migrated"},
	{"serving", "listening"},
}

// start is one measured start of the server.
type start struct {
	healthy  time.Duration
	phases   map[string]time.Duration // by message, since exec
	shutdown time.Duration
}

func run(ctx context.Context, nara, commit, out string, runs int) error {
	host := report.Describe(ctx, commit)
	loadBefore := report.Load()
	var first, restart []start
	var pgVersion string
	for i := 0; i <= runs; i++ {
		f, r, v, err := cycle(ctx, nara)
		if err != nil {
			return err
		}
		if i == 0 {
			fmt.Fprintf(os.Stderr, "coldstart: warm-up: first start %s, restart %s (discarded)\n", secs(f.healthy), secs(r.healthy))
			continue
		}
		fmt.Fprintf(os.Stderr, "coldstart: run %d: first start %s, restart %s\n", i, secs(f.healthy), secs(r.healthy))
		first, restart, pgVersion = append(first, f), append(restart, r), v
	}

	var w strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	line("Cold start of `nara serve` with its embedded PostgreSQL, from exec to the first healthy answer")
	line("(POST /grpc.health.v1.Health/Check {} answering {\"status\":\"SERVING\"}, polled every 5 ms).")
	line("1 warm-up cycle discarded, then %d cycles of first start and restart; median (min–max).", runs)
	line("")
	for _, l := range host.Lines() {
		line("%s", l)
	}
	line("pg:      PostgreSQL %s (embedded, pgcluster defaults)", pgVersion)
	loadAfter := report.Load()
	line("load:    %s before, %s after (uptime's 1/5/15-minute load averages; the machine is shared)", loadBefore, loadAfter)
	if report.Busy(host.NProc, loadBefore, loadAfter) {
		line("Note: the 1-minute load average exceeded the %d cores (other work on the machine): expect these times", host.NProc)
		line("to be longer and noisier than on a quiet machine.")
	}
	line("")
	line("  %-46s %s", "", "to healthy")
	line("  %-46s %s", "first start (empty NARA_DATA_DIR)", spread(first, func(s start) time.Duration { return s.healthy }))
	line("  %-46s %s", "restart (SIGTERM, wait for exit, start again)", spread(restart, func(s start) time.Duration { return s.healthy }))
	line("")
	line("Where the time goes (median seconds since exec, from nara's own log lines):")
	line("  %-12s %-14s %-10s %-10s %s", "", phases[0].label, phases[1].label, phases[2].label, "healthy")
	for _, row := range []struct {
		name string
		ss   []start
	}{{"first start", first}, {"restart", restart}} {
		cells := []string{}
		for _, p := range phases {
			cells = append(cells, median(row.ss, func(s start) time.Duration { return s.phases[p.msg] }))
		}
		cells = append(cells, median(row.ss, func(s start) time.Duration { return s.healthy }))
		line("  %-12s %-14s %-10s %-10s %s", row.name, cells[0], cells[1], cells[2], cells[3])
	}
	line("Shutdown after SIGTERM (HTTP server, then PostgreSQL): %s after a first start, %s after a restart.",
		spread(first, func(s start) time.Duration { return s.shutdown }),
		spread(restart, func(s start) time.Duration { return s.shutdown }))
	line("")
	line("The first start includes initdb, which fsyncs the new cluster; this disk's fsync is unrealistically")
	line("fast (about 90 µs, see /work/shared/BENCHMARKING.md), so expect a slower first start on ordinary disks.")
	line("Each cycle uses a fresh folder under the system temporary folder (made world-traversable so that the")
	line("cluster's unprivileged user can enter it when run as root); nara runs with its defaults and no --demo.")
	line("")
	line("Commands (bench/run.sh coldstart does all of this):")
	line("  go build -o TMP/nara ./cmd/nara")
	line("  NARA_DATA_DIR=TMP/data NARA_ADDR=127.0.0.1:PORT TMP/nara serve     # first start; SIGTERM; wait for exit")
	line("  NARA_DATA_DIR=TMP/data NARA_ADDR=127.0.0.1:PORT TMP/nara serve     # restart; SIGTERM; wait for exit")
	line("  (both with NARA_BANKID_SIM_ADDR and NARA_OIDC_DEV_ADDR on free ports, and no other NARA_*, BANKID_*")
	line("  or OIDC_* variable: the development BankID simulator and OIDC provider start as in `nara serve`)")
	text := w.String()
	fmt.Print(text)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, []byte(text), 0o644)
}

// cycle starts nara in a fresh data folder, stops it, starts it again and
// stops it, and removes the folder.
func cycle(ctx context.Context, nara string) (first, restart start, pgVersion string, err error) {
	tmp, err := os.MkdirTemp("", "nara-coldstart-")
	if err != nil {
		return first, restart, "", err
	}
	defer func() {
		if err := os.RemoveAll(tmp); err != nil {
			fmt.Fprintln(os.Stderr, "coldstart: cleanup:", err)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return first, restart, "", err
	}
	dataDir := filepath.Join(tmp, "data")
	if first, err = once(ctx, nara, dataDir); err != nil {
		return first, restart, "", fmt.Errorf("first start: %w", err)
	}
	if restart, err = once(ctx, nara, dataDir); err != nil {
		return first, restart, "", fmt.Errorf("restart: %w", err)
	}
	v, err := os.ReadFile(filepath.Join(dataDir, "postgres", "pgdata", "PG_VERSION"))
	return first, restart, strings.TrimSpace(string(v)), err
}

// once starts nara, waits until it is healthy and stops it.
func once(ctx context.Context, nara, dataDir string) (start, error) {
	addr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return start{}, err
	}
	log := &phaseLog{seen: map[string]time.Time{}}
	p, err := naraproc.Start(ctx, naraproc.Config{
		Binary: nara,
		Addr:   addr,
		Env:    []string{"NARA_DATA_DIR=" + dataDir},
		Log:    log,
	})
	if err != nil {
		return start{}, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s := start{phases: map[string]time.Duration{}}
	if s.healthy, err = p.WaitHealthy(waitCtx); err != nil {
		_, _ = p.Stop(30 * time.Second)
		return s, fmt.Errorf("%w; log:\n%s", err, log.tail())
	}
	if s.shutdown, err = p.Stop(30 * time.Second); err != nil {
		return s, fmt.Errorf("%w; log:\n%s", err, log.tail())
	}
	for _, ph := range phases {
		if t, ok := log.at(ph.msg); ok {
			s.phases[ph.msg] = t.Sub(p.Started())
		}
	}
	return s, nil
}

// phaseLog receives nara's JSON log and notes when each message first
// arrived.
type phaseLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	seen    map[string]time.Time
}

func (l *phaseLog) Write(b []byte) (int, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		l.lines = append(l.lines, line)
		var entry struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil {
			if _, ok := l.seen[entry.Msg]; !ok {
				l.seen[entry.Msg] = now
			}
		}
	}
	return len(b), nil
}

func (l *phaseLog) at(msg string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.seen[msg]
	return t, ok
}

func (l *phaseLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-10):], "\n")
}

func seconds(ss []start, f func(start) time.Duration) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = f(s).Seconds()
	}
	return out
}

func spread(ss []start, f func(start) time.Duration) string {
	med, lo, hi := report.Spread(seconds(ss, f))
	return fmt.Sprintf("%.2f s (%.2f–%.2f)", med, lo, hi)
}

// median returns the median in seconds, or "n/a" if a log line was missing.
func median(ss []start, f func(start) time.Duration) string {
	for _, s := range ss {
		if f(s) == 0 {
			return "n/a"
		}
	}
	med, _, _ := report.Spread(seconds(ss, f))
	return fmt.Sprintf("%.2f", med)
}

func secs(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}
