package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/nara-care/nara/bench/internal/report"
	"github.com/nara-care/nara/bench/internal/wrkrun"
)

func rpsOf(rs []result) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.RPS
	}
	return out
}

func format(o options, host report.Host, wrkVersion string, info dataInfo, tokens int, loadBefore, loadAfter string, scenarios []*scenario, warnings string) string {
	var w strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	sh := o.shape
	line("Appointment list over %d citizens and %d appointments: `nara serve` loaded by wrk over HTTP/1.1", info.persons, info.appts)
	line("(Connect JSON POST, %d connections, %d threads, %s per run, 1 warm-up run per scenario discarded, then %d rounds;",
		o.connections, o.threads, o.duration, o.runs)
	line("req/s is the median (min–max) of the runs, p50/p99 come from the median run).")
	line("")
	for _, l := range host.Lines() {
		line("%s", l)
	}
	line("wrk:     %s", wrkVersion)
	line("pg:      PostgreSQL %s, pgcluster defaults (shared_buffers %s, synchronous_commit on)", info.pgVersion, info.sharedBuffers)
	line("load:    %s before, %s after (1/5/15-minute load averages; the machine is shared with other work)", loadBefore, loadAfter)
	line("setup:   nara, PostgreSQL and wrk share the same %d cores on 127.0.0.1; nara runs with its defaults", host.NProc)
	line("         (GOMAXPROCS unset, pgxpool 8 connections).")
	line("")
	noop := scenarios[0]
	noopMed, _, _ := report.Spread(rpsOf(noop.results))
	line("  %-32s %-24s %9s %9s %8s %7s  %s", "scenario", "req/s median (min–max)", "p50", "p99", "×no-op", "errors", "CPU (cores) in the median run")
	for _, s := range scenarios {
		med, lo, hi := report.Spread(rpsOf(s.results))
		mid := s.results[report.MedianIndex(rpsOf(s.results))]
		errs := 0
		for _, r := range s.results {
			errs += r.Errors
		}
		line("  %-32s %-24s %9s %9s %8s %7d  nara %.2f, postgres %.2f, wrk %.2f", s.name,
			fmt.Sprintf("%.0f (%.0f–%.0f)", med, lo, hi), ms(mid.P50), ms(mid.P99), fmt.Sprintf("%.3f", med/noopMed), errs,
			mid.cpu.Nara, mid.cpu.Postgres, mid.cpu.Loadgen)
	}
	line("")
	var list, off *scenario
	for _, s := range scenarios {
		if s.path == listPath && !s.off {
			list = s
		} else if s.off {
			off = s
		}
	}
	listMed, _, _ := report.Spread(rpsOf(list.results))
	ratio := listMed / noopMed
	verdict := "met"
	if ratio < 0.5 {
		verdict = "NOT met"
	}
	line("Goal: ListAppointments ≥ 0.5× the no-op ceiling: %.0f / %.0f = %.3f× (%s).", listMed, noopMed, ratio, verdict)
	mid := list.results[report.MedianIndex(rpsOf(list.results))]
	line("ListAppointments is answered from the per-replica list cache (NARA_LIST_CACHE_SIZE, default 100 000 lists)")
	line("when it holds the citizen's list: %s in the median run. Every logged-in citizen's list was read", strings.TrimPrefix(mid.cache.String(), ", list cache "))
	line("once before the runs (%s, 16 at a time), as when they opened the app: the runs measure lists read", info.fill.Round(time.Millisecond))
	line("again. A list is read from PostgreSQL once, then kept until a change to it is announced or 5 minutes")
	line("pass. The cache-off server (NARA_LIST_CACHE_SIZE=-1) shows every read as a first read.")
	if off != nil {
		offMed, _, _ := report.Spread(rpsOf(off.results))
		line("With the cache off every list is read from PostgreSQL: %.0f req/s = %.3f× the no-op.", offMed, offMed/noopMed)
	}
	line("nara's resident memory after the runs, with the lists of the %d logged-in citizens cached: %s.", tokens, info.naraMemory)
	loads := []string{loadBefore, loadAfter}
	for _, s := range scenarios {
		for _, r := range s.results {
			loads = append(loads, r.loadAfter)
		}
	}
	if report.Busy(host.NProc, loads...) {
		line("Note: the 1-minute load average exceeded the %d cores during these runs (other work on the machine),", host.NProc)
		line("so absolute req/s are depressed and noisy; the ratios to the same server's no-op are the figures that travel.")
	}
	if warnings != "" {
		line("nara logged: %s", warnings)
	}
	line("")
	line("Every run (req/s, p50, p90, p99, max, errors, CPU, load average after the run):")
	for _, s := range scenarios {
		for i, r := range s.results {
			errs := "0"
			if r.Errors > 0 {
				errs = fmt.Sprintf("%d (%s)", r.Errors, r.ErrorKinds)
			}
			line("  %-32s run %d: %6.0f req/s  p50 %9s  p90 %9s  p99 %9s  max %9s  errors %s  %s  load %s%s",
				s.name, i+1, r.RPS, ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), errs, r.cpu, r.loadAfter, r.cache)
		}
	}
	line("")
	line("Checks before loading:")
	for _, s := range scenarios {
		line("  %-32s %s", s.name, s.check)
	}
	line("")
	line("Data: %d care units with 5 service lanes each (vaccination, covid test, video visit, visit, phone; the", sh.units)
	line("visit lanes are a named clinician's), %d slots of %d places spread over about three years up to two",
		sh.slots, (sh.appointments+sh.slots-1)/sh.slots)
	line("months ahead, every place taken: %d appointments of random citizens (about %.0f each), past ones fulfilled,",
		info.appts, float64(info.appts)/float64(info.persons))
	line("cancelled or no-show, upcoming ones booked. %d sessions; the load picks at random among %d logged-in citizens",
		info.sessions, tokens)
	line("(every %d-th person), a new random one for every request. Personal identity numbers are synthetic bytes:",
		sh.citizens/sh.sample)
	line("the list path never decrypts them. appointment is %s with its indexes; the database %s.", info.appointmentSize, info.dbSize)
	if info.seeded.reused {
		line("The seeded cluster was reused from %s (%s); pending migrations ran over it.", o.cache, info.seeded.previous)
	} else {
		line("Seeded in %s with set-based SQL (INSERT … SELECT generate_series; the appointments in two halves at once,", info.seeded.took.Round(time.Second))
		line("into the bare table, whose indexes are then built from their migrated definitions; foreign-key triggers")
		line("off during the load; then VACUUM ANALYZE). Ids are synthetic but well-formed UUIDs.")
		if o.cache != "" {
			line("The cluster is kept in %s and reused by the next run while the data's shape is unchanged (-fresh re-seeds).", o.cache)
		}
	}
	line("")
	line("Commands (TMP is a fresh temporary folder; PORT a free port; bench/run.sh applist does all of this):")
	line("  DATABASE_URL=postgres://…@127.0.0.1:…/nara NARA_SECRET_KEY=<the benchmark's> NARA_DATA_DIR=TMP/nara-data \\")
	line("    NARA_ADDR=127.0.0.1:PORT TMP/nara serve")
	line("  (the same with NARA_LIST_CACHE_SIZE=-1 and NARA_ADDR=127.0.0.1:PORT2 for the cache-off scenario)")
	for _, s := range scenarios {
		port := "PORT"
		if s.off {
			port = "PORT2"
		}
		args := wrkrun.Load{
			Script: s.script, Bodies: s.lines, URL: "http://127.0.0.1:" + port + s.path,
			Threads: o.threads, Connections: o.connections, Duration: o.duration, Timeout: o.timeout,
		}.Args()
		line("  wrk %s", strings.ReplaceAll(strings.Join(args, " "), dirOf(s.script), "TMP"))
	}
	line("  (TMP/tokens.tsv holds one \"ACCESS_TOKEN<TAB>{}\" per logged-in citizen; the Lua scripts are")
	line("  bench/internal/wrkrun/rotate.lua and tokens.lua, which picks a random line for every request)")
	return w.String()
}

// dirOf returns the folder of a file path, to shorten commands.
func dirOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return path
	}
	return path[:i]
}
