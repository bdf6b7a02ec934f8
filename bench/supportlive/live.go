package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/bench/internal/benchtoken"
	"github.com/nara-care/nara/bench/internal/naraproc"
	"github.com/nara-care/nara/bench/internal/proccpu"
	"github.com/nara-care/nara/bench/internal/report"
	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/gen/nara/support/v1/supportv1connect"
)

// Subscribers of a case: its citizen's stream and an agent's.
const (
	sideCitizen = iota
	sideAgent
	sides
)

// liveResult is one run of open streams and messages.
type liveResult struct {
	replicas     bool
	streams      int
	conns        int
	openTime     time.Duration
	sent         int
	sendErrors   int
	firstSendErr string
	lateStarts   int // sends that started more than lateAfter after their time
	sendWall     time.Duration
	expected     int
	delivered    int
	duplicates   int64
	strays       int64 // events of messages whose send failed
	streamErrors int64
	firstStrErr  string
	reconnects   int64
	drainTime    time.Duration
	lat          [sides][]time.Duration
	sendLat      []time.Duration
	memBefore    memory
	memAfter     memory
	cpu          proccpu.Cores
	senderCPU    float64 // the sending replica, across replicas
	loadAfter    string
	warnings     string
}

// lateAfter is how late a send may start before it counts as late: the
// load generator (or the server's answers) could not keep the rate.
const lateAfter = 20 * time.Millisecond

// lost is how many expected events never arrived.
func (r *liveResult) lost() int { return r.expected - r.delivered }

func (r *liveResult) all() []time.Duration {
	return slices.Concat(r.lat[sideCitizen], r.lat[sideAgent])
}

func (r *liveResult) summary() string {
	all := r.all()
	return fmt.Sprintf("%d streams open in %s; %d messages sent (%d errors, %d late starts) in %s; %d of %d events delivered; p50 %s p99 %s max %s; %s per stream (RSS)",
		r.streams, r.openTime.Round(time.Millisecond), r.sent, r.sendErrors, r.lateStarts, r.sendWall.Round(time.Millisecond),
		r.delivered, r.expected, ms(percentile(all, 50)), ms(percentile(all, 99)), ms(percentile(all, 100)),
		bytesPer(r.memAfter.rss-r.memBefore.rss, r.streams))
}

// live runs the streams and messages on one node, or across two replicas
// (messages sent through A, streams held on B).
func (e *env) live(ctx context.Context, replicas bool) (*liveResult, error) {
	o, w := e.o, e.w
	r := &liveResult{replicas: replicas, streams: o.streams, conns: o.conns}
	name := "support_single"
	if replicas {
		name = "support_replicas"
	}
	databaseURL, drop, err := e.database(ctx, name)
	if err != nil {
		return nil, err
	}
	defer drop()
	logPath := filepath.Join(e.tmp, name+".log")
	a, stopA, err := e.startNara(ctx, databaseURL, logPath, nil)
	if err != nil {
		return nil, err
	}
	defer stopA()
	streamsOn := a
	if replicas {
		logPathB := filepath.Join(e.tmp, name+"-b.log")
		b, stopB, err := e.startNara(ctx, databaseURL, logPathB, nil)
		if err != nil {
			return nil, err
		}
		defer stopB()
		streamsOn = b
		defer func() { r.warnings = joinWarnings(r.warnings, report.LogWarnings(logPathB)) }()
	}
	defer func() { r.warnings = joinWarnings(report.LogWarnings(logPath), r.warnings) }()

	total := int(float64(o.rate) * o.duration.Seconds())
	l := &listener{arrivals: make([]atomic.Int64, total*sides), sendNanos: make([]atomic.Int64, total), failed: make([]atomic.Bool, total)}
	streamClients := make([]*http.Client, o.conns)
	for i := range streamClients {
		streamClients[i] = h2cClient()
	}
	defer func() {
		for _, c := range streamClients {
			c.CloseIdleConnections()
		}
	}()

	// Nara's memory with no stream open, then the streams.
	r.memBefore = readMemory(ctx, streamsOn)
	streamCtx, stopStreams := context.WithCancel(ctx)
	var streamsDone sync.WaitGroup
	defer func() {
		stopStreams()
		streamsDone.Wait()
	}()
	opened := make(chan struct{}, o.streams)
	openSlots := make(chan struct{}, 64) // streams being opened at once
	begin := time.Now()
	for i := range w.cases {
		for side := range sides {
			streamsDone.Add(1)
			go func() {
				defer streamsDone.Done()
				n := i*sides + side
				client := streamClients[n%len(streamClients)]
				l.follow(streamCtx, streamsOn.URL(""), client, w, i, side, openSlots, opened)
			}()
		}
	}
	openCtx, cancelOpen := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelOpen()
	for range o.streams {
		select {
		case <-opened:
		case <-openCtx.Done():
			return nil, fmt.Errorf("streams not all open after 5 min (%d stream errors; first: %s)", l.streamErrors.Load(), l.firstError())
		}
	}
	r.openTime = time.Since(begin)
	logf("%d streams open in %s over %d HTTP/2 connections", o.streams, r.openTime.Round(time.Millisecond), o.conns)
	// Let the opening's garbage be collected before reading memory again.
	select {
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r.memAfter = readMemory(ctx, streamsOn)

	// The messages.
	sendClient := h2cClient()
	defer sendClient.CloseIdleConnections()
	s := &sender{
		citizen: supportv1connect.NewSupportServiceClient(sendClient, a.URL("")),
		desk:    supportv1connect.NewSupportDeskServiceClient(sendClient, a.URL("")),
		w:       w, l: l, rng: rand.New(rand.NewPCG(e.o.seed, 1)), //nolint:gosec // which case gets a message needs no secrecy
	}
	watch := proccpu.New(streamsOn.PID(), e.pgdata)
	if replicas {
		watch = watch.WithHelper(a.PID())
	}
	before := watch.Sample()
	logf("sending %d messages/s for %s", o.rate, o.duration)
	s.run(ctx, total, o.rate, o.senders)
	after := watch.Sample()
	r.cpu = proccpu.Between(before, after)
	r.senderCPU = r.cpu.Helper
	r.sent, r.sendErrors, r.firstSendErr, r.lateStarts, r.sendWall = total, s.errors, s.firstErr, s.late, s.wall
	r.sendLat = s.latencies

	// Every subscriber of every message that was sent must hear of it.
	r.expected = (total - r.sendErrors) * sides
	drainBegin := time.Now()
	for l.delivered.Load() < int64(r.expected) && time.Since(drainBegin) < o.drain && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	r.drainTime = time.Since(drainBegin)
	r.loadAfter = report.Load()
	stopStreams()
	streamsDone.Wait()

	for k := range total {
		if l.failed[k].Load() {
			continue
		}
		for side := range sides {
			if at := l.arrivals[k*sides+side].Load(); at != 0 {
				r.lat[side] = append(r.lat[side], time.Duration(at-l.sendNanos[k].Load()))
			}
		}
	}
	r.delivered = len(r.lat[sideCitizen]) + len(r.lat[sideAgent])
	r.duplicates, r.strays, r.reconnects = l.duplicates.Load(), l.strays.Load(), l.reconnects.Load()
	r.streamErrors, r.firstStrErr = l.streamErrors.Load(), l.firstError()
	return r, nil
}

// startNara starts one `nara serve` on databaseURL and returns it with a
// function that stops it.
func (e *env) startNara(ctx context.Context, databaseURL, logPath string, extra []string) (*naraproc.Process, func(), error) {
	addr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return nil, nil, err
	}
	fcmAddr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return nil, nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	p, err := naraproc.Start(ctx, naraproc.Config{
		Binary: e.o.nara, Addr: addr, Log: logFile,
		Env: append([]string{"DATABASE_URL=" + databaseURL, "NARA_DATA_DIR=" + filepath.Join(e.tmp, "nara-data"),
			benchtoken.Env(), "NARA_FCM_FAKE_ADDR=" + fcmAddr}, extra...),
	})
	if err != nil {
		_ = logFile.Close()
		return nil, nil, err
	}
	stop := func() {
		if _, err := p.Stop(30 * time.Second); err != nil {
			logf("stop nara: %v", err)
		}
		_ = logFile.Close()
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := p.WaitHealthy(waitCtx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("%w; log: %s", err, report.LogTail(logPath))
	}
	return p, stop, nil
}

// h2cClient is one HTTP/2 connection without TLS, as gRPC clients and
// the apps behind a load balancer speak. Go's server allows 250 streams
// on one connection; beyond that the transport opens another.
func h2cClient() *http.Client {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: p, DialContext: (&net.Dialer{}).DialContext}}
}

// listener collects what the streams hear.
type listener struct {
	// arrivals[k*sides+side] is when message k reached that side's stream
	// (Unix nanoseconds; 0: not yet).
	arrivals []atomic.Int64
	// sendNanos[k] is when message k's send call started; failed[k] that
	// it returned an error.
	sendNanos  []atomic.Int64
	failed     []atomic.Bool
	delivered  atomic.Int64
	duplicates atomic.Int64
	strays     atomic.Int64
	reconnects atomic.Int64

	streamErrors atomic.Int64
	errMu        sync.Mutex
	firstErr     string
}

func (l *listener) firstError() string {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.firstErr
}

func (l *listener) streamError(err error) {
	l.streamErrors.Add(1)
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if l.firstErr == "" {
		l.firstErr = err.Error()
	}
}

// heard records the events one stream received.
func (l *listener) heard(side int, events []*supportv1.Event) {
	now := time.Now().UnixNano()
	for _, ev := range events {
		k, ok := messageNumber(ev.GetMessage().GetText())
		if !ok || k >= len(l.sendNanos) {
			continue
		}
		if !l.arrivals[k*sides+side].CompareAndSwap(0, now) {
			l.duplicates.Add(1)
			continue
		}
		l.delivered.Add(1)
	}
}

// messageText stamps message k, so that a stream tells it from any other.
func messageText(k int) string {
	return "bench " + strconv.Itoa(k) + ": Har ni fått min bild på felmeddelandet? Appen loggar fortfarande ut mig."
}

// messageNumber reads the stamp messageText wrote.
func messageNumber(text string) (int, bool) {
	rest, ok := strings.CutPrefix(text, "bench ")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(num)
	return k, err == nil && k >= 0
}

// follow holds one stream open on case i, from its cursor, until ctx
// ends; it reconnects with its cursor when the server ends the stream
// (WatchLife) or it fails. It signals opened at its first answer.
func (l *listener) follow(ctx context.Context, baseURL string, client *http.Client, w world, i, side int, openSlots, opened chan struct{}) {
	var (
		after    int64 = 1 // the seeded first message
		isOpen   bool
		citizen  = supportv1connect.NewSupportServiceClient(client, baseURL)
		desk     = supportv1connect.NewSupportDeskServiceClient(client, baseURL)
		caseID   = w.cases[i]
		bearer   = "Bearer " + w.citizens[i].Token
		firstTry = true
	)
	if side == sideAgent {
		bearer = "Bearer " + w.agentTokens[i%len(w.agentTokens)]
	}
	for ctx.Err() == nil {
		if !firstTry {
			l.reconnects.Add(1)
		}
		firstTry = false
		if !isOpen {
			select {
			case openSlots <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		release := func() {
			if !isOpen {
				isOpen = true
				<-openSlots
				opened <- struct{}{}
			}
		}
		var err error
		if side == sideCitizen {
			var st *connect.ServerStreamForClient[supportv1.WatchCaseResponse]
			if st, err = citizen.WatchCase(authed(ctx, bearer), &supportv1.WatchCaseRequest{CaseId: caseID, After: after}); err == nil {
				for st.Receive() {
					l.heard(side, st.Msg().Events)
					after = max(after, st.Msg().NextAfter)
					release()
				}
				err = errors.Join(st.Err(), st.Close())
			}
		} else {
			var st *connect.ServerStreamForClient[supportv1.SupportDeskServiceWatchCaseResponse]
			if st, err = desk.WatchCase(authed(ctx, bearer), &supportv1.SupportDeskServiceWatchCaseRequest{CaseId: caseID, After: after}); err == nil {
				for st.Receive() {
					l.heard(side, st.Msg().Events)
					after = max(after, st.Msg().NextAfter)
					release()
				}
				err = errors.Join(st.Err(), st.Close())
			}
		}
		if ctx.Err() != nil {
			break
		}
		if !isOpen {
			<-openSlots // retried below, in a slot of its own again
		}
		if err != nil {
			l.streamError(err)
			select {
			case <-time.After(200 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

// sender sends the messages, half as the case's citizen, half as an agent.
type sender struct {
	citizen supportv1connect.SupportServiceClient
	desk    supportv1connect.SupportDeskServiceClient
	w       world
	l       *listener
	rng     *rand.Rand

	mu        sync.Mutex
	errors    int
	firstErr  string
	late      int
	latencies []time.Duration
	wall      time.Duration
}

// run sends total messages at rate per second, open-loop: message k is due
// at k/rate after the start, whatever the answers to earlier ones; at most
// inFlight calls are open at once, and a send that starts late for lack of
// one is counted.
func (s *sender) run(ctx context.Context, total, rate, inFlight int) {
	type job struct {
		k     int
		c     int
		due   time.Time
		agent bool
	}
	jobs := make(chan job, inFlight)
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for j := range jobs {
				s.send(ctx, j.k, j.c, j.agent, j.due)
			}
		})
	}
	begin := time.Now()
	interval := time.Second / time.Duration(rate)
	for k := range total {
		due := begin.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		jobs <- job{k: k, c: s.rng.IntN(len(s.w.cases)), due: due, agent: k%2 == 1}
	}
	close(jobs)
	wg.Wait()
	s.wall = time.Since(begin)
}

func (s *sender) send(ctx context.Context, k, c int, agent bool, due time.Time) {
	key := fmt.Sprintf("bench-msg-%09d", k)
	start := time.Now()
	s.l.sendNanos[k].Store(start.UnixNano())
	var err error
	if agent {
		_, err = s.desk.Reply(authed(ctx, "Bearer "+s.w.agentTokens[c%len(s.w.agentTokens)]),
			&supportv1.ReplyRequest{CaseId: s.w.cases[c], Text: messageText(k), IdempotencyKey: key})
	} else {
		_, err = s.citizen.SendMessage(authed(ctx, "Bearer "+s.w.citizens[c].Token),
			&supportv1.SendMessageRequest{CaseId: s.w.cases[c], Text: messageText(k), IdempotencyKey: key})
	}
	took := time.Since(start)
	if err != nil {
		s.l.failed[k].Store(true)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, took)
	if start.Sub(due) > lateAfter {
		s.late++
	}
	if err != nil {
		s.errors++
		if s.firstErr == "" {
			s.firstErr = err.Error()
		}
	}
}

// memory is a nara process's memory at one moment.
type memory struct {
	rss, heapInuse, goroutines int64
}

// readMemory reads nara's resident set from /proc and its Go heap in use
// and goroutines from its metrics listener (-1 when unreadable).
func readMemory(ctx context.Context, p *naraproc.Process) memory {
	m := memory{rss: -1, heapInuse: -1, goroutines: -1}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID()) + "/status"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				m.rss = kb << 10
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.MetricsURL("/metrics"), nil)
	if err != nil {
		return m
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return m
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return m
	}
	for line := range strings.Lines(string(body)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_memstats_heap_inuse_bytes":
			m.heapInuse = int64(v)
		case "go_goroutines":
			m.goroutines = int64(v)
		}
	}
	return m
}

// authed returns ctx with the call's Authorization header set to bearer.
func authed(ctx context.Context, bearer string) context.Context {
	ctx, call := connect.NewClientContext(ctx)
	call.RequestHeader().Set("Authorization", bearer)
	return ctx
}

func joinWarnings(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// percentile returns the p-th percentile (nearest rank) of xs; 0 for none.
func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// bytesPer is delta bytes over n, in kB.
func bytesPer(delta int64, n int) string {
	return fmt.Sprintf("%.1f kB", float64(delta)/float64(n)/1024)
}
