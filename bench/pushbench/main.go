// Command pushbench measures push dispatch end to end: reminders enqueued
// through push/notify in PostgreSQL, worked by a real `nara serve`, sent with
// the real Firebase sender to the local FCM stand-in, which this process runs
// and counts. With -crash it SIGKILLs the server mid-run, starts it again and
// checks that every reminder arrived, and how many arrived twice.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/bench/internal/naraproc"
	"github.com/nara-care/nara/bench/internal/report"
	"github.com/nara-care/nara/pgcluster"
	"github.com/nara-care/nara/push/fcm"
	"github.com/nara-care/nara/push/fcmfake"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/store"
)

func main() {
	var (
		nara   = flag.String("nara", "", "the nara binary")
		out    = flag.String("out", "bench/results/push.txt", "results file")
		commit = flag.String("commit", "", "commit the binary was built from")
		n      = flag.Int("n", 100_000, "reminders per run, all due at the same moment")
		runs   = flag.Int("runs", 3, "measured runs after one warm-up")
		crash  = flag.Bool("crash", true, "also run the crash test")
		spread = flag.Bool("spread", false, "spread due times over one minute (whole seconds) instead of one moment, and append to -out")
	)
	flag.Parse()
	if *nara == "" {
		fmt.Fprintln(os.Stderr, "pushbench: -nara is required")
		os.Exit(2)
	}
	spreadDue = *spread
	if err := run(*nara, *out, *commit, *n, *runs, *crash); err != nil {
		fmt.Fprintln(os.Stderr, "pushbench:", err)
		os.Exit(1)
	}
}

// counter times acknowledgments: the fake calls observe for every message
// it accepts, and the first one per token is when a reminder reached "FCM".
type counter struct {
	first sync.Map // token → time.Time
	n     atomic.Int64
}

func (c *counter) observe(s fcmfake.Sent) {
	if _, loaded := c.first.LoadOrStore(s.Message.Token, s.Time); !loaded {
		c.n.Add(1)
	}
}

func (c *counter) reset() {
	c.first.Clear()
	c.n.Store(0)
}

type bench struct {
	nara, dir, sa, endpoint string
	adminURL                string
	cluster                 *pgcluster.Cluster
	fake                    *fcmfake.Server
	c                       *counter
	log                     *os.File
}

// spreadDue makes schedule spread due times over a minute.
var spreadDue bool

func run(naraBin, out, commit string, n, runs int, crash bool) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "nara-pushbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{DataDir: filepath.Join(dir, "pg")})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cluster.Stop(sctx)
	}()
	c := &counter{}
	fake, err := fcmfake.Start(fcmfake.Config{Observe: c.observe})
	if err != nil {
		return err
	}
	defer fake.Close()
	// The service account names the fake's token_uri.
	sa := filepath.Join(dir, "sa.json")
	if err := fake.WriteServiceAccount(sa); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(os.TempDir(), "pushbench-nara.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	b := &bench{nara: naraBin, dir: dir, sa: sa, endpoint: fake.Endpoint(),
		adminURL: cluster.URL("postgres"), cluster: cluster, fake: fake, c: c, log: logf}

	host := report.Describe(ctx, commit)
	lines := append([]string{"# Push dispatch: reminders due at the same moment, enqueue → FCM stand-in acknowledgment", ""}, host.Lines()...)
	lines = append(lines, "load:    "+report.Load(), fmt.Sprintf("command: bench/run.sh push (pushbench -n %d -runs %d -crash=%v)", n, runs, crash), "")

	if spreadDue {
		r, err := b.once(ctx, "spread", n, false)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = fmt.Fprintf(f, "\nspread (bench/pushbench -spread): %d reminders due over one minute (60 whole seconds, ~%d each), load %s:\n  %s\n  lateness = acknowledgment − own due time; rate = reminders / (last acknowledgment − first due time)\n",
			n, n/60, report.Load(), r)
		return err
	}
	ceiling, err := b.ceiling(ctx, 20_000)
	if err != nil {
		return err
	}
	lines = append(lines, fmt.Sprintf("ceiling: the fcm.Sender alone (no queue, no database), 64 in flight, to the same stand-in: %.0f sends/s", ceiling), "")

	var rates, p50s, p99s []float64
	for i := 0; i <= runs; i++ {
		size := n
		if i == 0 {
			size = n / 5 // warm-up, discarded
		}
		r, err := b.once(ctx, fmt.Sprintf("run%d", i), size, false)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "run %d: %s\n", i, r)
		if i == 0 {
			lines = append(lines, "warm-up (discarded): "+r.String())
			continue
		}
		lines = append(lines, fmt.Sprintf("run %d: %s", i, r))
		rates, p50s, p99s = append(rates, r.rate), append(p50s, r.p50.Seconds()), append(p99s, r.p99.Seconds())
	}
	if len(rates) > 0 {
		m, lo, hi := report.Spread(rates)
		m50, _, _ := report.Spread(p50s)
		m99, lo99, hi99 := report.Spread(p99s)
		lines = append(lines, "",
			fmt.Sprintf("throughput: median %.0f reminders/s (min %.0f, max %.0f) for %d reminders; goal ≥ 5 000/s", m, lo, hi, n),
			fmt.Sprintf("lateness:   p50 %.2f s, p99 median %.2f s (min %.2f, max %.2f); goal p99 < 5 s", m50, m99, lo99, hi99))
	}
	if crash {
		r, err := b.once(ctx, "crash", n, true)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "crash: %s\n", r)
		lines = append(lines, "",
			"crash test: SIGKILL `nara serve` after a third of the reminders reached the stand-in, start it again:",
			"  "+r.String(),
			fmt.Sprintf("  delivered at least once: %d of %d devices (missing %d)", r.distinct, r.n, r.n-r.distinct),
			fmt.Sprintf("  raw sends the stand-in accepted: %d (%d sent a second time)", r.raw, r.raw-r.distinct),
			fmt.Sprintf("  distinct (token, collapse id): %d, i.e. notifications shown twice: %d", r.shown, r.shown-r.distinct),
			"  \"none twice\" means no device shows a reminder twice: FCM has no idempotency key, so the sends in flight",
			"  at the kill (accepted by the stand-in, answer not yet recorded) go out again after restart, with the same",
			"  collapse key / Android tag / apns-collapse-id / web tag, which makes the device replace, not add.")
	}
	lines = append(lines, "",
		"method: the bench runs PostgreSQL (pgcluster) and the FCM stand-in (push/fcmfake, real OAuth + messages:send)",
		"itself, starts `nara serve` with DATABASE_URL, FCM_CREDENTIALS_FILE and FCM_ENDPOINT pointing at them, creates one",
		"person and one device per reminder, and schedules the reminders with notify.ScheduleReminders in transactions of",
		"1 000 visits, all due at one moment ~40 s ahead. Throughput = reminders / (last acknowledgment − due time);",
		"lateness = first acknowledgment per device − due time. synchronous_commit is on; this disk's fsync is unrealistically fast.",
		"Everything (server, PostgreSQL, stand-in, bench) shares the machine's 2 cores.")
	return os.WriteFile(out, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

type result struct {
	// distinct is how many devices got the reminder; raw how many messages
	// the stand-in accepted; shown how many notifications they leave on
	// devices (the same collapse id on one device counts once).
	n, distinct, raw, shown int
	rate                    float64
	p50, p99, max           time.Duration
	enqueue                 time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("%d reminders, %.0f/s, lateness p50 %.2fs p99 %.2fs max %.2fs (enqueue took %.1fs)",
		r.n, r.rate, r.p50.Seconds(), r.p99.Seconds(), r.max.Seconds(), r.enqueue.Seconds())
}

// ceiling sends k notices straight from an fcm.Sender, 64 at a time.
func (b *bench) ceiling(ctx context.Context, k int) (float64, error) {
	s, err := fcm.New(ctx, fcm.Config{CredentialsFile: b.sa, Endpoint: b.endpoint})
	if err != nil {
		return 0, err
	}
	n := fcm.Notice{Title: "Påminnelse", Body: "Du har en bokad tid i morgon kl. 14:30.", Category: fcm.CategoryReminder, Thread: "ceiling", Platform: fcm.PlatformAndroid}
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(k); i = next.Add(1) {
				_, _ = s.Send(ctx, fmt.Sprintf("ceiling-%d", i), n)
			}
		})
	}
	wg.Wait()
	rate := float64(k) / time.Since(start).Seconds()
	b.fake.Reset()
	b.c.reset()
	return rate, nil
}

func (b *bench) start(ctx context.Context, dbURL string) (*naraproc.Process, error) {
	addr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return nil, err
	}
	fakeAddr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return nil, err
	}
	p, err := naraproc.Start(ctx, naraproc.Config{
		Binary: b.nara, Addr: addr, Log: b.log,
		Env: []string{"DATABASE_URL=" + dbURL, "FCM_CREDENTIALS_FILE=" + b.sa, "FCM_ENDPOINT=" + b.endpoint,
			"NARA_DATA_DIR=" + filepath.Join(b.dir, "data"), "NARA_FCM_FAKE_ADDR=" + fakeAddr, "NARA_LOG_LEVEL=warn"},
	})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := p.WaitHealthy(wctx); err != nil {
		return nil, err
	}
	return p, nil
}

func (b *bench) once(ctx context.Context, name string, n int, crash bool) (result, error) {
	b.fake.Reset()
	b.c.reset()
	admin, err := pgx.Connect(ctx, b.adminURL)
	if err != nil {
		return result{}, err
	}
	db := "pushbench_" + name
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return result{}, err
	}
	admin.Close(ctx)
	dbURL := b.cluster.URL(db)
	p, err := b.start(ctx, dbURL) // migrates
	if err != nil {
		return result{}, err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return result{}, err
	}
	defer pool.Close()
	if err := seed(ctx, pool, n); err != nil {
		return result{}, err
	}
	due, enqueue, err := schedule(ctx, pool, n)
	if err != nil {
		return result{}, err
	}
	r := result{n: n, enqueue: enqueue}
	if crash {
		for b.c.n.Load() < int64(n/3) {
			if time.Since(due) > 5*time.Minute {
				return r, fmt.Errorf("crash run: only %d delivered before the kill", b.c.n.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := syscall.Kill(p.PID(), syscall.SIGKILL); err != nil {
			return r, err
		}
		fmt.Fprintf(os.Stderr, "killed nara at %d delivered; restarting\n", b.c.n.Load())
		time.Sleep(500 * time.Millisecond)
		if p, err = b.start(ctx, dbURL); err != nil {
			return r, err
		}
	}
	deadline := time.Now().Add(10 * time.Minute)
	for b.c.n.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if crash {
		time.Sleep(5 * time.Second) // let any straggling repeat arrive
	}
	var lat []time.Duration
	var last time.Time
	b.c.first.Range(func(k, v any) bool {
		t := v.(time.Time)
		own := due
		if id, ok := strings.CutPrefix(k.(string), "bench-token-"); ok && len(id) >= 36 {
			if d, ok := dueOf[id[:36]]; ok {
				own = d
			}
		}
		lat = append(lat, t.Sub(own))
		if t.After(last) {
			last = t
		}
		return true
	})
	slices.Sort(lat)
	r.distinct = len(lat)
	r.raw, r.shown = int(b.fake.Count()), int(b.fake.Distinct())
	if r.distinct > 0 {
		r.p50 = lat[r.distinct/2]
		r.p99 = lat[r.distinct*99/100]
		r.max = lat[r.distinct-1]
		r.rate = float64(r.distinct) / last.Sub(due).Seconds()
	}
	if _, err := p.Stop(30 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "stop:", err)
	}
	if r.distinct < n {
		return r, fmt.Errorf("%s: only %d of %d reminders arrived", name, r.distinct, n)
	}
	return r, nil
}

// seed creates n people with one Android device each; device i's token is
// "bench-token-i-…".
func seed(ctx context.Context, pool *pgxpool.Pool, n int) error {
	_, err := pool.Exec(ctx, `
		WITH p AS (
			INSERT INTO person (pnr_hash, pnr_sealed, birth_date)
			SELECT sha256(('bench' || i)::bytea), '\x00', DATE '1980-01-01' FROM generate_series(1, $1) i
			RETURNING id
		)
		INSERT INTO push_device (person_id, installation_id, token, platform, time_zone)
		SELECT id, 'inst-' || id, 'bench-token-' || id || '-APA91bHPRgkF3JUikC4ENAHEeMrd41Zxv3hVZjC9KtT8OvPVGJ', 'android', 'Europe/Stockholm'
		  FROM p`, n)
	return err
}

// dueOf is each person's reminder due time, by person id.
var dueOf = map[string]time.Time{}

// schedule enqueues one reminder per person, all due at the same moment,
// in transactions of 1 000 visits, and returns the due time.
func schedule(ctx context.Context, pool *pgxpool.Pool, n int) (time.Time, time.Duration, error) {
	st := store.New(pool, store.Options{})
	svc, err := notify.New(notify.Config{}, notify.Deps{Logger: slog.New(slog.DiscardHandler), Store: st})
	if err != nil {
		return time.Time{}, 0, err
	}
	rows, err := pool.Query(ctx, `SELECT id::text FROM person ORDER BY id`)
	if err != nil {
		return time.Time{}, 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return time.Time{}, 0, err
	}
	clear(dueOf)
	due := time.Now().Add(40 * time.Second).Truncate(time.Second)
	visit := due.Add(10 * time.Minute)
	start := time.Now()
	for chunk := range slices.Chunk(ids, 1000) {
		err := st.InTx(ctx, func(tx *store.Tx) error {
			visits := make([]notify.Reminders, len(chunk))
			for i, id := range chunk {
				at := visit
				if spreadDue {
					at = visit.Add(time.Duration(len(dueOf)%60) * time.Second)
				}
				dueOf[id] = at.Add(-10 * time.Minute)
				visits[i] = notify.Reminders{ReasonID: "visit-" + id, PersonIDs: []string{id}, At: at, Video: true,
					Link: "/appointments/visit-" + id, Offsets: []time.Duration{10 * time.Minute}}
			}
			_, err := svc.ScheduleReminders(ctx, tx, visits...)
			return err
		})
		if err != nil {
			return time.Time{}, 0, err
		}
	}
	took := time.Since(start)
	if time.Now().After(due) {
		return due, took, fmt.Errorf("enqueueing took %v, past the due time", took)
	}
	return due, took, nil
}
