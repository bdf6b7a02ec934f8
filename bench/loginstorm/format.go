package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/nara-care/nara/bench/internal/report"
)

// measured returns the metrics of the measured windows.
func (sc *scenario) measured() []metrics {
	var out []metrics
	for _, w := range sc.rec.windows {
		if w.measured {
			out = append(out, w.metrics())
		}
	}
	return out
}

// spread formats the median (min–max) of f over ms.
func spread(ms []metrics, format string, f func(metrics) float64) string {
	xs := make([]float64, len(ms))
	for i, m := range ms {
		xs[i] = f(m)
	}
	med, lo, hi := report.Spread(xs)
	if len(xs) == 1 {
		return fmt.Sprintf(format, med)
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", med, lo, hi)
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func noopSpread(sc *scenario, f func(int) float64) (med, lo, hi float64) {
	xs := make([]float64, len(sc.noop))
	for i := range sc.noop {
		xs[i] = f(i)
	}
	return report.Spread(xs)
}

func (b *bench) format(host report.Host, loadBefore, loadAfter, pgVersion string, scs []*scenario) string {
	o := b.o
	var w strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	line("Login storm: %d concurrent BankID logins against `nara serve`, each polling every %s", o.storm.users, o.storm.pollEvery)
	line("(each virtual user: StartLogin for another device, PollLogin every %s, scans the QR code and approves in the", o.storm.pollEvery)
	line("BankID simulator after a random %s–%s, polls until the login completes, then starts a new login; the users", o.storm.actMin, o.storm.actMax)
	line("start evenly over %s, the next %s are discarded, then %d back-to-back windows of %s are measured:", o.storm.ramp, o.storm.warmup, o.storm.windows, o.storm.window)
	line("figures are the median (min–max) of the windows; latencies are per window, as the client sees them.)")
	line("Load generator: bench/loginstorm, Go net/http with pre-encoded Connect JSON bodies over HTTP/1.1 keep-alive")
	line("(one shared client; a user's polls never overlap: a poll due while the previous one is still out waits for it).")
	line("")
	for _, l := range host.Lines() {
		line("%s", l)
	}
	line("wrk:     %s (the no-op ceiling only)", b.wrkVersion)
	line("pg:      %s, pgcluster defaults (synchronous_commit on; this disk's fsync is unrealistically fast,", pgVersion)
	line("         about 90 µs, and every login writes: login_order insert and updates, person upsert, session)")
	line("load:    %s before, %s after (1/5/15-minute load averages; the machine is shared and was busy)", loadBefore, loadAfter)
	line("setup:   nara, PostgreSQL, the simulator and the load generator share the same %d cores on 127.0.0.1;", host.NProc)
	line("         nara runs with its defaults except the two login rate limits, raised out of the way:")
	line("         %s", strings.Join(b.rateLimitSettings, " "))
	line("")

	col := func(label string, cells ...string) {
		row := fmt.Sprintf("  %-50s", label)
		for _, c := range cells {
			row += fmt.Sprintf(" %-34s", c)
		}
		line("%s", strings.TrimRight(row, " "))
	}
	each := func(f func(sc *scenario, ms []metrics) string) []string {
		var out []string
		for _, sc := range scs {
			out = append(out, f(sc, sc.measured()))
		}
		return out
	}
	num := func(format string, f func(metrics) float64) []string {
		return each(func(_ *scenario, ms []metrics) string { return spread(ms, format, f) })
	}
	var heads []string
	for _, sc := range scs {
		heads = append(heads, sc.label)
	}
	col("", heads...)
	col("server req/s (StartLogin + PollLogin)", num("%.0f", func(m metrics) float64 { return m.rps })...)
	col("  StartLogin/s", num("%.0f", func(m metrics) float64 { return m.startsPS })...)
	col(fmt.Sprintf("  PollLogin/s (offered: %.0f)", float64(o.storm.users)/o.storm.pollEvery.Seconds()), num("%.0f", func(m metrics) float64 { return m.pollsPS })...)
	col("completed logins/s", num("%.1f", func(m metrics) float64 { return m.loginsPS })...)
	col("PollLogin p50, ms", num("%.1f", func(m metrics) float64 { return msOf(m.pollP50) })...)
	col("PollLogin p99, ms", num("%.1f", func(m metrics) float64 { return msOf(m.pollP99) })...)
	col("PollLogin max, ms", num("%.0f", func(m metrics) float64 { return msOf(m.pollMax) })...)
	col("StartLogin p50, ms", num("%.1f", func(m metrics) float64 { return msOf(m.startP50) })...)
	col("StartLogin p99, ms", num("%.1f", func(m metrics) float64 { return msOf(m.startP99) })...)
	col("login p50 / p99, s (StartLogin → complete seen)", each(func(_ *scenario, ms []metrics) string {
		return spread(ms, "%.1f", func(m metrics) float64 { return m.loginP50.Seconds() }) + " / " +
			spread(ms, "%.1f", func(m metrics) float64 { return m.loginP99.Seconds() })
	})...)
	col("polls sent > 100 ms late (server behind), %", num("%.2f", func(m metrics) float64 {
		if m.polls == 0 {
			return 0
		}
		return 100 * float64(m.latePolls) / float64(m.polls)
	})...)
	col("errors (sum of the windows)", each(func(_ *scenario, ms []metrics) string {
		n := 0
		for _, m := range ms {
			n += m.errors
		}
		return fmt.Sprint(n)
	})...)
	col("CPU, cores: nara", num("%.2f", func(m metrics) float64 { return m.cpu.Nara })...)
	col("            PostgreSQL (all its processes)", num("%.2f", func(m metrics) float64 { return m.cpu.Postgres })...)
	col("            simulator (own process)", each(func(sc *scenario, ms []metrics) string {
		if !sc.separateSim {
			return "inside nara"
		}
		return spread(ms, "%.2f", func(m metrics) float64 { return m.cpu.Helper })
	})...)
	col("            load generator", num("%.2f", func(m metrics) float64 { return m.cpu.Loadgen })...)
	col("            other work on the machine", num("%.2f", func(m metrics) float64 {
		return m.cpu.Machine - m.cpu.Nara - m.cpu.Postgres - m.cpu.Helper - m.cpu.Loadgen
	})...)
	col("            whole machine (everyone's)", num("%.2f", func(m metrics) float64 { return m.cpu.Machine })...)
	col("nara CPU per server request, ms", num("%.3f", func(m metrics) float64 { return m.naraMsPerReq })...)
	col("PostgreSQL CPU per server request, ms", num("%.3f", func(m metrics) float64 { return m.pgMsPerReq })...)
	col(fmt.Sprintf("no-op ceiling req/s (wrk, %d conn, %s)", o.connections, o.noopDuration), each(func(sc *scenario, _ []metrics) string {
		med, lo, hi := noopSpread(sc, func(i int) float64 { return sc.noop[i].RPS })
		return fmt.Sprintf("%.0f (%.0f–%.0f)", med, lo, hi)
	})...)
	col("  no-op p50 / p99, ms (median run)", each(func(sc *scenario, _ []metrics) string {
		r := sc.noop[medianNoop(sc)]
		return fmt.Sprintf("%.2f / %.2f", msOf(r.P50), msOf(r.P99))
	})...)
	col("  nara CPU per no-op request, ms", each(func(sc *scenario, _ []metrics) string {
		med, _, _ := noopSpread(sc, func(i int) float64 { return sc.noopCPU[i].Nara / sc.noop[i].RPS * 1000 })
		return fmt.Sprintf("%.3f", med)
	})...)
	col("storm req/s ÷ no-op ceiling", each(func(sc *scenario, ms []metrics) string {
		med, _, _ := noopSpread(sc, func(i int) float64 { return sc.noop[i].RPS })
		return spread(ms, "%.3f", func(m metrics) float64 { return m.rps / med })
	})...)
	col("nara CPU per storm request ÷ per no-op request", each(func(sc *scenario, ms []metrics) string {
		med, _, _ := noopSpread(sc, func(i int) float64 { return sc.noopCPU[i].Nara / sc.noop[i].RPS * 1000 })
		return spread(ms, "%.1f", func(m metrics) float64 { return m.naraMsPerReq / med })
	})...)
	line("")

	// The simulator's own cost, from the scenario where it runs apart.
	for _, sc := range scs {
		if !sc.separateSim {
			continue
		}
		ms := sc.measured()
		how := "bankidsim's handlers as they are"
		if sc.shards > 1 {
			how = fmt.Sprintf("orders spread over %d independent simulators, routed by orderRef and QR token", sc.shards)
		}
		line("The simulator's own cost (%s: %s; bankidsimd counts the calls it serves):", sc.label, how)
		line("  CPU: %s cores = %s µs per call it serves (API and control, TLS included)",
			spread(ms, "%.3f", func(m metrics) float64 { return m.cpu.Helper }),
			spread(ms, "%.0f", func(m metrics) float64 { return m.simUsPerCall }))
		line("  calls from nara (BankID API over mutual TLS), per second: %s; auth %s, collect %s",
			spread(ms, "%.0f", func(m metrics) float64 { return m.simAPICalls }),
			spread(ms, "%.0f", func(m metrics) float64 { return m.simCalls["auth"] }),
			spread(ms, "%.0f", func(m metrics) float64 { return m.simCalls["collect"] }))
		line("    = %s collect per PollLogin (nara collects at most once per 1.9 s per login) and %s auth per StartLogin",
			spread(ms, "%.2f", func(m metrics) float64 { return m.simCollectPerPoll }),
			spread(ms, "%.2f", func(m metrics) float64 { return m.simAuthPerStart }))
		line("  calls from the load generator playing the users (plain HTTP /sim/qr and /sim/orders/…/approve), per second: %s",
			spread(ms, "%.0f", func(m metrics) float64 { return m.simControlCalls }))
		line("  time inside the simulator's handlers (after TLS and HTTP parsing, including waits for its one lock):")
		line("    per API call %s µs (auth %s, collect %s); per control call %s µs (scan %s, approve %s)",
			spread(ms, "%.0f", func(m metrics) float64 { return m.simHandlerAPIUs }),
			spread(ms, "%.0f", func(m metrics) float64 { return m.simHandlerUs["auth"] }),
			spread(ms, "%.0f", func(m metrics) float64 { return m.simHandlerUs["collect"] }),
			spread(ms, "%.0f", func(m metrics) float64 { return m.simHandlerControlUs }),
			spread(ms, "%.0f", func(m metrics) float64 { return m.simHandlerUs["sim:qr"] }),
			spread(ms, "%.0f", func(m metrics) float64 { return m.simHandlerUs["sim:approve"] }))
		line("")
	}
	line("Every simulator call sweeps all the orders it remembers under its one lock (pending ones, and finished")
	line("ones for 3–5 minutes, as long as BankID answers collect for them), and a scan finds its order by going")
	line("through them too: its cost per call grows with the logins of the last minutes (compare the windows below).")
	line("With %d concurrent logins that is thousands of orders per call, and the one lock serialises the calls;", o.storm.users)
	line("spread over independent simulators (C) the same calls cost a fraction.")
	for _, a := range scs {
		for _, bSc := range scs {
			if !a.separateSim && bSc.separateSim && bSc.shards <= 1 {
				line("In A the simulator runs inside nara: nara's CPU there (%s cores) includes it; B's nara alone used %s.",
					spread(a.measured(), "%.2f", func(m metrics) float64 { return m.cpu.Nara }),
					spread(bSc.measured(), "%.2f", func(m metrics) float64 { return m.cpu.Nara }))
			}
		}
	}
	line("")

	if busy(host.NProc, loadBefore, loadAfter, scs) {
		line("Note: the 1-minute load average exceeded the %d cores during these runs (other work on the machine),", host.NProc)
		line("so latencies and the no-op ceiling are depressed and noisy; CPU per request is the figure that travels best.")
		line("")
	}

	line("Every window (warm-up included, not in the medians):")
	for _, sc := range scs {
		line("  %s (nara healthy %s after start, %d test persons in the simulator):", sc.label, sc.startup.Round(time.Millisecond), sc.persons)
		for _, win := range sc.rec.windows {
			m := win.metrics()
			line("    %-9s %5.0f req/s (%4.0f start + %4.0f poll), %5.1f logins/s, poll p50 %s p90 %s p99 %s max %s, start p50 %s p99 %s,",
				win.name, m.rps, m.startsPS, m.pollsPS, m.loginsPS, ms(m.pollP50), ms(m.pollP90), ms(m.pollP99), ms(m.pollMax), ms(m.startP50), ms(m.startP99))
			simPart := ""
			if sc.separateSim {
				simPart = fmt.Sprintf(" sim %.2f (%.0f µs/call, %.0f API + %.0f control calls/s),", m.cpu.Helper, m.simUsPerCall, m.simAPICalls, m.simControlCalls)
			}
			line("              late polls %d, user action (scan + approve) p50 %s p99 %s; cores: nara %.2f, pg %.2f,%s loadgen %.2f, machine %.2f; load %s",
				m.latePolls, ms(m.actP50), ms(m.actP99), m.cpu.Nara, m.cpu.Postgres, simPart, m.cpu.Loadgen, m.cpu.Machine, win.loadTo)
			line("              logins ended: %s", orNone(m.outcomes))
			if m.errors > 0 {
				line("              errors: %s", m.errorKinds)
			}
		}
		for i, r := range sc.noop {
			errs := "0"
			if r.Errors > 0 {
				errs = fmt.Sprintf("%d (%s)", r.Errors, r.ErrorKinds)
			}
			line("    no-op run %d: %6.0f req/s, p50 %s p90 %s p99 %s max %s, errors %s, nara %.2f cores, machine %.2f",
				i+1, r.RPS, ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), errs, sc.noopCPU[i].Nara, sc.noopCPU[i].Machine)
		}
		line("    %s", sc.check)
		if sc.naraWarning != "" {
			line("    nara logged: %s", sc.naraWarning)
		}
	}
	line("")
	line("How to read it:")
	line("- The offered load is fixed by the users: %d users polling every %s is %d polls/s, plus one StartLogin per", o.storm.users, o.storm.pollEvery, int(float64(o.storm.users)/o.storm.pollEvery.Seconds()))
	line("  login. \"Sustains\" means the server answers it without falling behind: few late polls, p99 well under %s.", o.storm.pollEvery)
	line("  The headroom is in the CPU columns: what nara and PostgreSQL use per request, against the no-op ceiling.")
	line("- Every login comes from 127.0.0.1, so the per-address start counter is one hot row in rate_limit; the")
	line("  simulator has %d test persons, so each logs in many times a second (person upsert and per-person counter", scs[0].persons)
	line("  are hot rows too). Real logins spread over many addresses and people. A person's scan and approve are")
	line("  serialised in the load generator, because BankID cancels a person's other pending orders when they pick one up.")
	line("- In A the in-process simulator and its log lines are part of nara's CPU; B moves them to bankidsimd, which")
	line("  serves the same bankidsim handlers with the same TLS set-up as bankidsim.Start, plus call counters; C")
	line("  spreads the orders over %d simulators in bankidsimd, so that the storm loads nara rather than the simulator.", o.shards)
	line("- Each scenario has a fresh database on the same PostgreSQL and a fresh nara; the no-op ceiling is measured on")
	line("  that nara right after its storm (one %s warm-up run discarded, then %d runs).", o.noopWarmup, o.noopRuns)
	line("")
	line("Commands (bench/run.sh login does all of this; TMP is a fresh temporary folder, PORT a free port):")
	line("  go build -o TMP/nara ./cmd/nara; go build -o TMP/bankidsimd ./bench/bankidsimd; go build -o TMP/loginstorm ./bench/loginstorm")
	line("  TMP/loginstorm -nara TMP/nara -bankidsimd TMP/bankidsimd -users %d -ramp %s -warmup %s -window %s -windows %d -shards %d",
		o.storm.users, o.storm.ramp, o.storm.warmup, o.storm.window, o.storm.windows, o.shards)
	line("  which runs, for A: DATABASE_URL=…/nara_a NARA_DATA_DIR=TMP/nara-data NARA_ADDR=127.0.0.1:PORT")
	line("    NARA_BANKID_SIM_ADDR=127.0.0.1:PORT NARA_OIDC_DEV_ADDR=127.0.0.1:PORT %s TMP/nara serve", strings.Join(b.rateLimitSettings, " "))
	line("  for B: TMP/bankidsimd -dir TMP/bankid -shards 1, then the same with DATABASE_URL=…/nara_b and")
	line("    BANKID_URL=https://127.0.0.1:PORT/rp/v6.0 BANKID_CA_FILE=TMP/bankid/ca.pem BANKID_CLIENT_CERT=TMP/bankid/client.pem")
	line("    BANKID_CLIENT_KEY=TMP/bankid/client-key.pem; for C the same with -shards %d and DATABASE_URL=…/nara_c", o.shards)
	line("  and for the ceiling: wrk %s", strings.ReplaceAll(strings.Join(b.noopArgs(), " "), b.tmp, "TMP"))
	line("  (TMP/noop.jsonl holds {\"platform\":\"PLATFORM_IOS\",\"appVersion\":\"4.1.0\"}; the Lua script is bench/internal/wrkrun/rotate.lua)")
	return w.String()
}

func (b *bench) noopArgs() []string {
	return wrkLoad(b, "http://127.0.0.1:PORT/nara.app.v1.AppService/GetConfig", b.o.noopDuration).Args()
}

func medianNoop(sc *scenario) int {
	xs := make([]float64, len(sc.noop))
	for i, r := range sc.noop {
		xs[i] = r.RPS
	}
	return report.MedianIndex(xs)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func busy(nproc int, before, after string, scs []*scenario) bool {
	loads := []string{before, after}
	for _, sc := range scs {
		for _, w := range sc.rec.windows {
			loads = append(loads, w.loadTo)
		}
	}
	return report.Busy(nproc, loads...)
}
