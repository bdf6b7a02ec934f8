// Command bookingrush measures a vaccination booking rush on the real
// `nara serve` binary: 20 000 logged-in citizens race for 2 000 lane times
// of 10 places at 20 units over the HTTP API, each searching and booking
// like the app (another time on RESOURCE_EXHAUSTED, idempotency keys, some
// retries and double taps of one booking, some tries at a second dose).
// Afterwards it counts, in the database, overbooked slots and double
// bookings, which must be 0, and it measures the same PostgreSQL's own
// ceiling for the write a booking needs: a single-row UPDATE transaction
// loop (pgbench).
//
// Each run starts from a copy of one seeded template database with a fresh
// server. Run it through bench/run.sh booking.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/bench/internal/benchtoken"
	"github.com/nara-care/nara/bench/internal/naraproc"
	"github.com/nara-care/nara/bench/internal/proccpu"
	"github.com/nara-care/nara/bench/internal/report"
	"github.com/nara-care/nara/pgcluster"
)

// options are the command-line settings.
type options struct {
	nara, commit, out string
	citizens, warmup  int
	units, slots      int
	capacity          int
	clients, pick     int
	runs              int
	seed              uint64
	ceilingClients    int
	ceilingDuration   time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.nara, "nara", "", "the nara binary to measure (required)")
	flag.StringVar(&o.commit, "commit", "", "the source the nara binary was built from, for the results file (default: git HEAD now)")
	flag.StringVar(&o.out, "out", "bench/results/booking.txt", "results file")
	flag.IntVar(&o.citizens, "citizens", 20000, "citizens racing in a measured run")
	flag.IntVar(&o.warmup, "warmup", 5000, "citizens in the discarded warm-up run")
	flag.IntVar(&o.units, "units", 20, "vaccination units")
	flag.IntVar(&o.slots, "slots", 2000, "vaccination lane times, spread evenly over the units")
	flag.IntVar(&o.capacity, "capacity", 10, "places per lane time (slots × capacity = places)")
	flag.IntVar(&o.clients, "clients", 64, "citizens in flight at once (HTTP/1.1 connections)")
	flag.IntVar(&o.pick, "pick", 5, "a citizen picks at random among the first this many free times shown")
	flag.IntVar(&o.runs, "runs", 3, "measured runs, after one discarded warm-up run")
	flag.Uint64Var(&o.seed, "seed", 78000, "seed of the citizens' order and choices")
	flag.IntVar(&o.ceilingClients, "ceiling-clients", 8, "pgbench clients: nara's default pool size on 2 cores")
	flag.DurationVar(&o.ceilingDuration, "ceiling-duration", 10*time.Second, "length of one ceiling measurement")
	flag.Parse()
	if o.nara == "" {
		fmt.Fprintln(os.Stderr, "bookingrush: -nara is required (bench/run.sh builds it)")
		os.Exit(2)
	}
	if o.slots%o.units != 0 || o.citizens < 1 || o.warmup < 1 || o.warmup > o.citizens {
		fmt.Fprintln(os.Stderr, "bookingrush: -slots must be a multiple of -units, and 1 ≤ -warmup ≤ -citizens")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bookingrush:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bookingrush: "+format+"\n", args...)
}

// runResult is one race.
type runResult struct {
	warmup    bool
	out       outcome
	check     verdict
	ceil      ceiling
	cpu       proccpu.Cores
	cpuSec    [3]float64 // nara, postgres, load generator CPU seconds during the race
	loadAfter string
	warnings  string
}

func run(ctx context.Context, o options) (err error) {
	host := report.Describe(ctx, o.commit)
	loadBefore := report.Load()
	pgbench := findPgbench()

	tmp, err := os.MkdirTemp("", "nara-bookingrush-")
	if err != nil {
		return err
	}
	defer removeAll(tmp)
	// The cluster runs as an unprivileged user when we are root; it must be
	// able to enter the folder.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	pgdata := filepath.Join(tmp, "pg")
	logf("starting PostgreSQL in %s", tmp)
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{DataDir: pgdata})
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
	admin, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = admin.Close(context.Background()) }()
	var pgVersion string
	if err := admin.QueryRow(ctx, "SHOW server_version").Scan(&pgVersion); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE rush_template"); err != nil {
		return err
	}
	logf("seeding %d units, %d slots of %d places, %d citizens with sessions", o.units, o.slots, o.capacity, o.citizens)
	w, err := seed(ctx, cluster.URL("rush_template"), o)
	if err != nil {
		return err
	}
	logf("seeded in %s", w.seedTime.Round(time.Millisecond))

	var results []runResult
	for i := 0; i <= o.runs; i++ {
		r, err := race(ctx, o, cluster, admin, pgdata, tmp, pgbench, w, i)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		label := fmt.Sprintf("run %d", i)
		if r.warmup {
			label = "warm-up"
		}
		logf("%s: %d booked of %d citizens in %s: %.0f bookings/s, %.0f attempts/s, BookSlot p50 %s p99 %s; ceiling %.0f tps; %s",
			label, r.out.booked, r.out.citizens, r.out.wall.Round(time.Millisecond), bookingsPerSec(r.out), attemptsPerSec(r.out),
			ms(percentile(r.out.bookLat, 50)), ms(percentile(r.out.bookLat, 99)), r.ceil.tps, r.check.summary())
		results = append(results, r)
	}

	text := format(o, host, pgVersion, pgbench, w, loadBefore, report.Load(), results)
	fmt.Print(text)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
		return err
	}
	logf("wrote %s", o.out)
	for i, r := range results {
		if !r.check.ok() {
			return fmt.Errorf("run %d: OVERBOOKING OR DOUBLE BOOKING: %s", i, r.check.summary())
		}
	}
	return nil
}

// race runs one rush on a fresh copy of the template database.
func race(ctx context.Context, o options, cluster *pgcluster.Cluster, admin *pgx.Conn, pgdata, tmp, pgbench string, w world, i int) (runResult, error) {
	r := runResult{warmup: i == 0}
	db := fmt.Sprintf("rush_%d", i)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db+" TEMPLATE rush_template"); err != nil {
		return r, err
	}
	defer func() {
		if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			logf("drop %s: %v", db, err)
		}
	}()
	databaseURL := cluster.URL(db)
	addr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return r, err
	}
	fcmAddr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return r, err
	}
	logPath := filepath.Join(tmp, db+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return r, err
	}
	defer func() { _ = logFile.Close() }()
	p, err := naraproc.Start(ctx, naraproc.Config{
		Binary: o.nara, Addr: addr, Log: logFile,
		Env: []string{"DATABASE_URL=" + databaseURL, "NARA_DATA_DIR=" + filepath.Join(tmp, "nara-data"),
			benchtoken.Env(), "NARA_FCM_FAKE_ADDR=" + fcmAddr},
	})
	if err != nil {
		return r, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_, _ = p.Stop(20 * time.Second)
		}
	}()
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := p.WaitHealthy(waitCtx); err != nil {
		return r, fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}

	// The database's ceiling, on this run's database with nara idle.
	if r.ceil, err = measureCeiling(ctx, pgbench, databaseURL, tmp, o.ceilingClients, o.ceilingDuration); err != nil {
		return r, err
	}

	citizens := w.citizens
	if r.warmup {
		citizens = citizens[:o.warmup]
	}
	rw := w
	rw.citizens = citizens
	rr := newRush(p.URL(""), rw, o)
	watch := proccpu.New(p.PID(), filepath.Join(pgdata, "pgdata"))
	before := watch.Sample()
	r.out, err = rr.run(ctx)
	after := watch.Sample()
	if err != nil {
		return r, fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}
	r.cpu = proccpu.Between(before, after)
	r.cpuSec[0], r.cpuSec[1], r.cpuSec[2] = proccpu.Seconds(before, after)
	r.loadAfter = report.Load()
	rr.client.CloseIdleConnections()

	stopped = true
	if _, err := p.Stop(20 * time.Second); err != nil {
		return r, fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}
	r.warnings = report.LogWarnings(logPath)
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return r, err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	r.check, err = verify(ctx, conn, r.out)
	return r, err
}

// removeAll deletes what the benchmark made, saying so if it cannot.
func removeAll(dir string) {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		logf("cleanup: %v", err)
	}
}
