// Command supportlive measures support's live delivery and inbound e-mail
// on the real `nara serve` binary:
//
//   - one node: N open case streams (half citizens' WatchCase, half
//     agents' SupportDeskService.WatchCase on the same cases) over HTTP/2
//     without TLS, while messages go to random cases at a sustained rate
//     (half SendMessage as the citizen, half Reply as an agent); for every
//     subscriber, the delay from the send call's start to the event's
//     arrival on its stream, and nara's memory per open stream;
//   - across replicas: two `nara serve` on one database, messages sent
//     through one and streams held open on the other;
//   - e-mail: a peak week of generated inbound mails (plain, HTML-only,
//     quoted replies, replies to earlier cases by token and by
//     In-Reply-To) over SMTP to nara's inbound server, until all are
//     threaded in the database.
//
// Each part runs on a fresh copy of one seeded template database with
// fresh servers. Run it through bench/run.sh support.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/bench/internal/report"
	"github.com/nara-care/nara/pgcluster"
)

// options are the command-line settings.
type options struct {
	nara, commit, out string
	modes             []string
	streams           int
	agents            int
	rate              int
	duration, drain   time.Duration
	senders, conns    int
	mails, mailConns  int
	seed              uint64
}

// allModes are the parts of the benchmark, in the order they run.
var allModes = []string{"single", "replicas", "mail"}

func main() {
	var o options
	var modes string
	flag.StringVar(&o.nara, "nara", "", "the nara binary to measure (required)")
	flag.StringVar(&o.commit, "commit", "", "the source the nara binary was built from, for the results file (default: git HEAD now)")
	flag.StringVar(&o.out, "out", "bench/results/support.txt", "results file")
	flag.StringVar(&modes, "mode", "all", "what to run: all, or a comma-separated list of single, replicas, mail")
	flag.IntVar(&o.streams, "streams", 10000, "open streams: half citizens' WatchCase, half agents' desk WatchCase, on streams/2 cases")
	flag.IntVar(&o.agents, "agents", 50, "first-line agents (staff sessions) sharing the agent streams")
	flag.IntVar(&o.rate, "rate", 500, "messages sent per second, to random cases")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long messages are sent")
	flag.DurationVar(&o.drain, "drain", 20*time.Second, "how long to wait after the last send for every event to arrive")
	flag.IntVar(&o.senders, "senders", 64, "send calls in flight at most (the rate is kept open-loop up to this)")
	flag.IntVar(&o.conns, "conns", 0, "HTTP/2 connections the streams are spread over (default: one per 200 streams, at least 4)")
	flag.IntVar(&o.mails, "mails", 5000, "inbound e-mails (4 in 5 open cases, 1 in 5 answer one of them)")
	flag.IntVar(&o.mailConns, "mail-conns", 8, "SMTP connections the mails are sent over")
	flag.Uint64Var(&o.seed, "seed", 51000, "seed of the random cases, senders and mail texts")
	flag.Parse()
	if o.nara == "" {
		fmt.Fprintln(os.Stderr, "supportlive: -nara is required (bench/run.sh builds it)")
		os.Exit(2)
	}
	if modes == "all" {
		o.modes = allModes
	} else {
		for m := range strings.SplitSeq(modes, ",") {
			if !slices.Contains(allModes, m) {
				fmt.Fprintf(os.Stderr, "supportlive: unknown -mode %q; use all or a list of %s\n", m, strings.Join(allModes, ", "))
				os.Exit(2)
			}
			o.modes = append(o.modes, m)
		}
	}
	if o.streams < 2 || o.streams%2 != 0 || o.agents < 1 || o.rate < 1 || o.duration <= 0 || o.senders < 1 || o.mails < 5 || o.mailConns < 1 {
		fmt.Fprintln(os.Stderr, "supportlive: -streams must be even and ≥ 2; -agents, -rate, -senders, -mail-conns ≥ 1; -mails ≥ 5; -duration > 0")
		os.Exit(2)
	}
	if o.conns <= 0 {
		o.conns = max(4, o.streams/200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "supportlive:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "supportlive: "+format+"\n", args...)
}

// env is what every part runs in.
type env struct {
	o       options
	cluster *pgcluster.Cluster
	admin   *pgx.Conn
	pgdata  string
	tmp     string
	w       world
}

// results are every part's figures.
type results struct {
	single, replicas *liveResult
	mail             *mailResult
}

func run(ctx context.Context, o options) (err error) {
	host := report.Describe(ctx, o.commit)
	loadBefore := report.Load()

	tmp, err := os.MkdirTemp("", "nara-supportlive-")
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
	if _, err := admin.Exec(ctx, "CREATE DATABASE support_template"); err != nil {
		return err
	}
	logf("seeding %d citizens with one open case each, %d agents", o.streams/2, o.agents)
	w, err := seed(ctx, cluster.URL("support_template"), o)
	if err != nil {
		return err
	}
	logf("seeded in %s", w.seedTime.Round(time.Millisecond))
	e := &env{o: o, cluster: cluster, admin: admin, pgdata: filepath.Join(pgdata, "pgdata"), tmp: tmp, w: w}

	var r results
	for _, m := range o.modes {
		switch m {
		case "single":
			if r.single, err = e.live(ctx, false); err != nil {
				return fmt.Errorf("one node: %w", err)
			}
			logf("one node: %s", r.single.summary())
		case "replicas":
			if r.replicas, err = e.live(ctx, true); err != nil {
				return fmt.Errorf("across replicas: %w", err)
			}
			logf("across replicas: %s", r.replicas.summary())
		case "mail":
			if r.mail, err = e.mail(ctx); err != nil {
				return fmt.Errorf("e-mail: %w", err)
			}
			logf("e-mail: %s", r.mail.summary())
		}
	}

	text := format(o, host, pgVersion, w, loadBefore, report.Load(), r)
	fmt.Print(text)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
		return err
	}
	logf("wrote %s", o.out)
	for _, lr := range []*liveResult{r.single, r.replicas} {
		if lr != nil && lr.lost() > 0 {
			return fmt.Errorf("%d events never arrived on their streams", lr.lost())
		}
	}
	if r.mail != nil && !r.mail.complete() {
		return errors.New("not every inbound mail was threaded")
	}
	return nil
}

// database makes a fresh copy of the template for one part and returns its
// URL and a function that drops it.
func (e *env) database(ctx context.Context, name string) (string, func(), error) {
	if _, err := e.admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE support_template"); err != nil {
		return "", nil, err
	}
	drop := func() {
		if _, err := e.admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			logf("drop %s: %v", name, err)
		}
	}
	return e.cluster.URL(name), drop, nil
}

// removeAll deletes what the benchmark made, saying so if it cannot.
func removeAll(dir string) {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		logf("cleanup: %v", err)
	}
}
