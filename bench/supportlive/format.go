package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nara-care/nara/bench/internal/report"
)

// Goals from the support issue.
const (
	goalOneNode  = 100 * time.Millisecond
	goalReplicas = 200 * time.Millisecond
	issueStreams = 10000
	issueRate    = 500
	issueMails   = 5000
)

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func format(o options, host report.Host, pgVersion string, w world, loadBefore, loadAfter string, r results) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("Support live delivery and inbound e-mail on the real `nara serve` binary: %d open case streams", o.streams)
	line("(%d citizens' SupportService.WatchCase and %d agents' SupportDeskService.WatchCase, one of each on each of %d",
		o.streams/2, o.streams/2, len(w.cases))
	line("open cases, shared by %d first-line agents) over HTTP/2 without TLS (connect-go, Connect protocol, %d connections);",
		o.agents, o.conns)
	line("%d messages/s for %s to random cases, half SendMessage as the case's citizen, half Reply as an agent, each", o.rate, o.duration)
	line("stamped with its number; latency is from the send call's start to the event's arrival on each subscriber's")
	line("stream (same clock, same process). One run per part, each on a fresh copy of the seeded database and fresh servers;")
	line("%d inbound e-mails over SMTP (%d connections) to nara's inbound server.", o.mails, o.mailConns)
	line("")
	for _, l := range host.Lines() {
		line("%s", l)
	}
	line("pg:      PostgreSQL %s, pgcluster defaults (synchronous_commit on, fsync on)", pgVersion)
	line("load:    %s before, %s after (1/5/15-minute load averages; the machine is shared with other work)", loadBefore, loadAfter)
	line("setup:   nara, PostgreSQL and the load generator (this Go program: streams, senders and SMTP client) share the")
	line("         same %d cores on 127.0.0.1; nara runs with its defaults (GOMAXPROCS unset, pgxpool 8 connections,", host.NProc)
	line("         change feed poll 1 s, a stream re-reads on its own every 15 s); seeded in %s.", w.seedTime.Round(time.Millisecond))
	if report.Busy(host.NProc, loadBefore, loadAfter) {
		line("WARNING: the 1-minute load average was above the core count: other work competed for the CPU, and every")
		line("         figure below is depressed by it.")
	}
	if r.single != nil {
		line("")
		line("One node (messages and streams on the same `nara serve`):")
		formatLive(line, o, r.single, goalOneNode)
	}
	if r.replicas != nil {
		line("")
		line("Across replicas (two `nara serve` on one database; messages sent through A, every stream held on B, which")
		line("hears of A's commits by NOTIFY, or at its 1 s poll):")
		formatLive(line, o, r.replicas, goalReplicas)
	}
	if r.mail != nil {
		line("")
		formatMail(line, r.mail)
	}
	line("")
	line("Anchor: Supabase Realtime publishes a p99 of 213 ms at 32 000 concurrent users on large hardware.")
	line("Write figures: synchronous_commit is on, but this disk's fsync is unrealistically fast (about 90 µs,")
	line("pg_test_fsync), which flatters every commit here.")
	return b.String()
}

func formatLive(line func(string, ...any), o options, r *liveResult, goal time.Duration) {
	all := r.all()
	line("  streams open               %d in %s (64 opening at once), %d stream errors, %d reconnects", r.streams,
		r.openTime.Round(time.Millisecond), r.streamErrors, r.reconnects)
	if r.firstStrErr != "" {
		line("                             first stream error: %s", r.firstStrErr)
	}
	rate := float64(r.sent-r.sendErrors) / r.sendWall.Seconds()
	line("  messages sent              %d in %s: %.0f/s (goal %d/s), %d errors, %d started > %s late", r.sent,
		r.sendWall.Round(time.Millisecond), rate, o.rate, r.sendErrors, r.lateStarts, lateAfter)
	if r.firstSendErr != "" {
		line("                             first send error: %s", r.firstSendErr)
	}
	line("  send call                  p50 %s, p99 %s, max %s", ms(percentile(r.sendLat, 50)), ms(percentile(r.sendLat, 99)), ms(percentile(r.sendLat, 100)))
	line("  events delivered           %d of %d expected (%d lost, %d duplicates, %d of failed sends); waited %s for the last after the last send's answer",
		r.delivered, r.expected, r.lost(), r.duplicates, r.strays, r.drainTime.Round(time.Millisecond))
	lat := func(name string, xs []time.Duration) {
		line("  %-26s p50 %s, p90 %s, p99 %s, max %s (%d events)", name, ms(percentile(xs, 50)), ms(percentile(xs, 90)),
			ms(percentile(xs, 99)), ms(percentile(xs, 100)), len(xs))
	}
	lat("send → stream, all", all)
	lat("  citizens' streams", r.lat[sideCitizen])
	lat("  agents' streams", r.lat[sideAgent])
	p99 := percentile(all, 99)
	rateOK := r.sendErrors == 0 && r.lateStarts <= r.sent/100
	line("  goal p99 < %s at a sustained %d messages/s, every event delivered: %s (p99 %s, %s, %d lost)",
		ms(goal), o.rate, verdict(p99 < goal && r.lost() == 0 && rateOK && len(all) > 0), ms(p99),
		map[bool]string{true: "rate kept", false: "rate NOT kept"}[rateOK], r.lost())
	if o.streams < issueStreams || o.rate < issueRate {
		line("  (a smaller trial than the issue's %d streams at %d messages/s: the goal's verdict is for this run's size only)",
			issueStreams, issueRate)
	}
	mem := func(name string, before, after int64) {
		if before < 0 || after < 0 {
			line("  %-26s unreadable", name)
			return
		}
		line("  %-26s %.1f MB before, %.1f MB with the streams open: %s per stream", name,
			float64(before)/(1<<20), float64(after)/(1<<20), bytesPer(after-before, r.streams))
	}
	mem("memory, RSS", r.memBefore.rss, r.memAfter.rss)
	mem("memory, Go heap in use", r.memBefore.heapInuse, r.memAfter.heapInuse)
	if r.memBefore.goroutines >= 0 && r.memAfter.goroutines >= 0 {
		line("  goroutines                 %d before, %d after: %.1f per stream", r.memBefore.goroutines, r.memAfter.goroutines,
			float64(r.memAfter.goroutines-r.memBefore.goroutines)/float64(r.streams))
	}
	if r.replicas {
		line("  CPU while sending          nara B (streams) %.2f, nara A (senders) %.2f, postgres %.2f, load generator %.2f, whole machine %.2f cores",
			r.cpu.Nara, r.senderCPU, r.cpu.Postgres, r.cpu.Loadgen, r.cpu.Machine)
	} else {
		line("  CPU while sending          %s", r.cpu)
	}
	line("  load after                 %s", r.loadAfter)
	if r.warnings != "" {
		line("  nara warnings: %s", r.warnings)
	}
}

func formatMail(line func(string, ...any), r *mailResult) {
	line("E-mail (one `nara serve`, its inbound SMTP server; %d mails that open cases, then %d replies to them):", r.opening, r.replies)
	var kinds []string
	for k, n := range r.kinds {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	slices.Sort(kinds)
	line("  mails                      %s", strings.Join(kinds, ", "))
	line("  throughput                 %.0f mails/s: %d in %s (opening %s, replies %s), %d send errors",
		r.perSecond(), r.mails, r.wall().Round(time.Millisecond), r.openWall.Round(time.Millisecond), r.replyWall.Round(time.Millisecond), r.sendErrors)
	if r.firstErr != "" {
		line("                             first send error: %s", r.firstErr)
	}
	line("  threaded (in the database) %d cases of %d, %d e-mail messages of %d, %d of %d replies in the case they answer: %s",
		r.cases, r.opening, r.emailMessages, r.mails, r.threaded, r.replies, verdict(r.complete()))
	if r.mails < issueMails {
		line("  (a smaller trial than the issue's peak week of %d mails)", issueMails)
	}
	line("  CPU while sending          %s", r.cpu)
	line("  load after                 %s", r.loadAfter)
	if r.warnings != "" {
		line("  nara warnings: %s", r.warnings)
	}
}
