package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nara-care/nara/bench/internal/report"
)

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// bookingsPerSec counts successful bookings over the race's wall time.
func bookingsPerSec(o outcome) float64 { return float64(o.booked) / o.wall.Seconds() }

// attemptsPerSec counts every BookSlot request over the race's wall time.
func attemptsPerSec(o outcome) float64 { return float64(o.attempts) / o.wall.Seconds() }

func requestsPerSec(o outcome) float64 { return float64(o.attempts+o.searches) / o.wall.Seconds() }

func codes(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func format(o options, host report.Host, pgVersion, pgbench string, w world, loadBefore, loadAfter string, results []runResult) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	measured := results[1:]
	line("Booking rush: %d citizens race for %d vaccination lane times (%d places each, %d places in all) at %d units,",
		o.citizens, w.slots, o.capacity, w.slots*o.capacity, o.units)
	line("over the real HTTP API of `nara serve` (Connect JSON, HTTP/1.1), %d citizens in flight at once;", o.clients)
	line("1 warm-up run of %d citizens discarded, then %d runs, each on a fresh copy of the seeded database and a fresh server.", o.warmup, o.runs)
	line("")
	for _, l := range host.Lines() {
		line("%s", l)
	}
	line("pg:      PostgreSQL %s, pgcluster defaults (synchronous_commit on, fsync on)", pgVersion)
	line("load:    %s before, %s after (1/5/15-minute load averages; the machine is shared with other work)", loadBefore, loadAfter)
	line("setup:   nara, PostgreSQL and the load generator share the same %d cores on 127.0.0.1; nara runs with its", host.NProc)
	line("         defaults (GOMAXPROCS unset, pgxpool %d connections).", 8)
	line("")

	var bps, aps, ceil, ratio []float64
	for _, r := range measured {
		bps = append(bps, bookingsPerSec(r.out))
		aps = append(aps, attemptsPerSec(r.out))
		ceil = append(ceil, r.ceil.tps)
		ratio = append(ratio, bookingsPerSec(r.out)/r.ceil.tps)
	}
	mid := measured[report.MedianIndex(bps)]
	bMed, bLo, bHi := report.Spread(bps)
	aMed, aLo, aHi := report.Spread(aps)
	cMed, cLo, cHi := report.Spread(ceil)
	rMed, rLo, rHi := report.Spread(ratio)
	p99 := percentile(mid.out.bookLat, 99)
	line("Result (median (min–max) of %d runs; latencies from the median run):", len(measured))
	line("  successful bookings/s      %.0f (%.0f–%.0f)", bMed, bLo, bHi)
	line("  BookSlot attempts/s        %.0f (%.0f–%.0f)   (every BookSlot request: retries on full, repeats, double taps, second doses)", aMed, aLo, aHi)
	line("  BookSlot latency           p50 %s, p90 %s, p99 %s, max %s", ms(percentile(mid.out.bookLat, 50)), ms(percentile(mid.out.bookLat, 90)),
		ms(p99), ms(percentile(mid.out.bookLat, 100)))
	line("  SearchSlots latency        p50 %s, p90 %s, p99 %s, max %s", ms(percentile(mid.out.searchLat, 50)), ms(percentile(mid.out.searchLat, 90)),
		ms(percentile(mid.out.searchLat, 99)), ms(percentile(mid.out.searchLat, 100)))
	line("  ceiling: single-row UPDATE %.0f (%.0f–%.0f) transactions/s (%s, %d clients, %s, just before each race on its database)",
		cMed, cLo, cHi, mid.ceil.tool, o.ceilingClients, o.ceilingDuration)
	line("  bookings/s ÷ ceiling       %.3f (%.3f–%.3f)", rMed, rLo, rHi)
	verdictText := "met"
	if bMed < 650 || p99 >= 250*time.Millisecond {
		verdictText = "NOT met"
	}
	line("  goal ≥ 650 bookings/s with BookSlot p99 < 250 ms: %s", verdictText)
	line("  CPU during the median race: %s", mid.cpu)
	if mid.out.booked > 0 {
		line("  CPU per successful booking (its searches and retries included): nara %.2f ms, PostgreSQL %.2f ms, load generator %.2f ms",
			mid.cpuSec[0]*1000/float64(mid.out.booked), mid.cpuSec[1]*1000/float64(mid.out.booked), mid.cpuSec[2]*1000/float64(mid.out.booked))
	}
	line("  Write figures: synchronous_commit is on, but this disk's fsync is unrealistically fast (about 90 µs,")
	line("  pg_test_fsync), which flatters every commit here and the ceiling alike.")
	line("")

	line("Correctness, counted in the database after every run (each must be 0):")
	for i, r := range results {
		label := fmt.Sprintf("run %d", i)
		if r.warmup {
			label = "warm-up"
		}
		status := "OK"
		if !r.check.ok() {
			status = "FAILED"
		}
		line("  %-8s %s: %s", label, status, r.check.summary())
		line("           %d active bookings, %d of %d slots full, %d places", r.check.active, r.check.fullSlots, r.check.slots, r.check.places)
	}
	line("")

	loads := []string{loadBefore, loadAfter}
	line("Every run:")
	for i, r := range results {
		label := fmt.Sprintf("run %d", i)
		if r.warmup {
			label = "warm-up"
		}
		loads = append(loads, r.loadAfter)
		o := r.out
		line("  %s: %d citizens, %d booked, %d found no time, in %s (first booking %s, last %s after the start)",
			label, o.citizens, o.booked, o.gaveUp, o.wall.Round(time.Millisecond), o.firstBooking.Round(time.Millisecond), o.lastBooking.Round(time.Millisecond))
		line("    %.0f bookings/s, %.0f BookSlot/s, %.0f requests/s; %d searches (%.2f per citizen), %d BookSlot (%.2f per citizen), %d answered full",
			bookingsPerSec(o), attemptsPerSec(o), requestsPerSec(o), o.searches, o.searchesPerCitizen, o.attempts, o.bookAttemptsPerCitizen, o.full)
		line("    BookSlot p50 %s p99 %s max %s; SearchSlots p50 %s p99 %s; ceiling %.0f tps (mean latency %s)",
			ms(percentile(o.bookLat, 50)), ms(percentile(o.bookLat, 99)), ms(percentile(o.bookLat, 100)),
			ms(percentile(o.searchLat, 50)), ms(percentile(o.searchLat, 99)), r.ceil.tps, ms(r.ceil.latency))
		line("    lost-answer retries %d (same appointment back: %d); double taps %d (both answered with one appointment: %d; answers: %s)",
			o.repeats, o.repeatsSame, o.doubles, o.doublesSame, codes(o.doubleCodes))
		line("    second-dose tries %d (refused FAILED_PRECONDITION: %d, booked: %d); other BookSlot errors: %s",
			o.seconds, o.secondsRefused, o.secondsBooked, codes(o.errorCodes))
		line("    CPU: %s; load after %s", r.cpu, r.loadAfter)
		if r.warnings != "" {
			line("    nara logged: %s", r.warnings)
		}
	}
	line("")
	if report.Busy(host.NProc, loads...) {
		line("Note: the 1-minute load average exceeded the %d cores during these runs (other work on the machine),", host.NProc)
		line("so absolute figures are depressed and noisy; the ratio to the same run's ceiling is the figure that travels.")
		line("")
	}

	line("Method:")
	line("  Seeded once (in %s) into a template database: %d care units, %d vaccination lane times of 5 minutes", w.seedTime.Round(time.Millisecond), o.units, w.slots)
	line("  (%d per unit, 08:00–18:00 from three days ahead, so no reminder falls due during a run) published with", w.slots/o.units)
	line("  store.SlotsPublish, and %d people with one session each, made in SQL as completed BankID logins leave", o.citizens)
	line("  them; their access tokens are signed with the key nara derives from the benchmark's NARA_SECRET_KEY.")
	line("  Each run: CREATE DATABASE … TEMPLATE, start `nara serve` on it, measure the ceiling, race, stop nara, verify.")
	line("  The load generator is Go over net/http with pre-encoded Connect JSON bodies (no connect-go client). Each of")
	line("  %d workers takes the next citizen (in a seeded random order) and plays the app: SearchSlots in the citizen's", o.clients)
	line("  unit (20 times, earliest first), pick one of the first %d at random, BookSlot with a new idempotency key;", o.pick)
	line("  on RESOURCE_EXHAUSTED pick another of the times shown, search again when they are spent, and the whole")
	line("  region (50 times) when the unit has none. 5%% of citizens resend their successful BookSlot as if the answer")
	line("  was lost (the same key must return the same appointment); 1%% send each BookSlot twice at once (a double")
	line("  tap); 2%% then try to book a second vaccination with a new key (must be refused: one active dose).")
	line("  bookings/s = successful first bookings ÷ the race's wall time (first request to last answer);")
	line("  attempts/s = every BookSlot request ÷ the same time. Latencies are measured in the load generator.")
	line("  The ceiling is what this PostgreSQL does with the one write a booking cannot avoid, on the same machine in")
	line("  the same run: a transaction of one single-row UPDATE … RETURNING on a hot 2 000-row table:")
	if pgbench != "" {
		line("    %s %s", pgbench, strings.Join(pgbenchArgs("ceiling.sql", o.ceilingClients, o.ceilingDuration), " "))
	} else {
		line("    (pgbench not installed: the same statement in a Go pgx loop with %d connections)", o.ceilingClients)
	}
	for l := range strings.Lines(ceilingScript) {
		line("      %s", strings.TrimRight(l, "\n"))
	}
	line("  A BookSlot is far more than that: the session read, guardianship, idempotency lookup, the conditional")
	line("  UPDATE, the dose-interval check, the INSERT, the re-read with joins, and the reminder jobs, in one transaction.")
	line("  Correctness is counted in SQL: slots with booked > capacity, slots with more active appointments than")
	line("  capacity, citizens with two active vaccinations, (citizen, key) pairs booked twice, counters that differ from")
	line("  the appointments, and active bookings whose citizen was never told (or told of another).")
	line("Command: bench/run.sh booking (bookingrush -nara NARA -citizens %d -slots %d -capacity %d -units %d -clients %d)",
		o.citizens, o.slots, o.capacity, o.units, o.clients)
	return b.String()
}
