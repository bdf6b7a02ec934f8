package notify

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/nara-care/nara/push/fcm"
	"github.com/nara-care/nara/store"
)

// SendArgs is the push job: send the notices, which share a due time.
type SendArgs struct {
	NoticeIDs []int64 `json:"notice_ids"`
}

// Kind is the River job kind.
func (SendArgs) Kind() string { return "push_send" }

// InsertOpts puts push jobs in their own queue.
func (SendArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	s *Service
}

// Work claims those of the job's notices no sweep has claimed yet and waits
// until FCM's answers for them are recorded. Notices FCM asks to retry wait
// in the table for a later sweep, not in this job.
func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.s.d.claimAndWait(ctx, job.Args.NoticeIDs)
}

// dispatcher sends notices: it claims due ones in batches (a sweep every
// PollInterval, and River jobs), hands them to SendConcurrency long-lived
// senders, and records FCM's answers every FlushInterval in one transaction.
// What a crash can make it send twice is what was in flight to FCM plus at
// most one FlushInterval of answers; claimed notices not yet sent are claimed
// again when their lease runs out.
type dispatcher struct {
	s     *Service
	units chan unit
	// queued counts items claimed but not yet sent, which bounds how far the
	// sweep claims ahead of the senders.
	queued atomic.Int64
	wake   chan struct{} // flush now

	mu      sync.Mutex
	pending store.PushSettlement
	held    map[int64]*held
	waiters []*waiter

	stop context.CancelFunc
	done sync.WaitGroup
}

// held is a claimed notice with items still unanswered.
type held struct {
	kind      Kind
	claims    int
	remaining int
	retry     bool
	after     time.Duration
}

// waiter is a River job waiting for its notices' answers to be recorded.
type waiter struct {
	ids  map[int64]bool
	done chan struct{}
}

// item is one notice to one device.
type item struct {
	notice store.PushNotice
	device store.PushDevice
}

// unit is what one sender sends in one call: one token, or up to
// fcm.MaxMulticast tokens that share the payload.
type unit struct {
	push  fcm.Notice
	items []item
}

// result is FCM's answer for one item.
type result struct {
	item
	out fcm.Outcome
}

func newDispatcher(s *Service) *dispatcher {
	return &dispatcher{
		s:     s,
		units: make(chan unit, 4*s.cfg.BatchSize),
		wake:  make(chan struct{}, 1),
		held:  map[int64]*held{},
	}
}

// start runs the senders, the recorder and the sweep until stopAndWait.
func (d *dispatcher) start(ctx context.Context) {
	ctx, d.stop = context.WithCancel(context.WithoutCancel(ctx))
	var senders sync.WaitGroup
	for range d.s.cfg.SendConcurrency {
		senders.Go(func() { d.sender(ctx) })
	}
	d.done.Go(func() { d.sweep(ctx) })
	d.done.Go(func() {
		d.record(ctx)
		senders.Wait()
		d.release()
	})
}

// stopAndWait stops claiming and sending, records what was answered and
// releases the notices still held, so that the next start sends them at once.
func (d *dispatcher) stopAndWait() {
	if d.stop != nil {
		d.stop()
		d.done.Wait()
	}
}

// sweep claims due notices until ctx is done, a batch at a time while the
// senders keep up.
func (d *dispatcher) sweep(ctx context.Context) {
	t := time.NewTicker(d.s.cfg.PollInterval)
	defer t.Stop()
	for {
		n := 0
		if d.queued.Load() < int64(d.s.cfg.BatchSize) {
			var err error
			if n, err = d.claim(ctx, nil, d.s.cfg.BatchSize); err != nil && ctx.Err() == nil {
				d.s.log.ErrorContext(ctx, "push: claim due notices", slog.String("error", err.Error()))
			}
		}
		if n == d.s.cfg.BatchSize {
			// More may be due: claim again as soon as the senders have room.
			select {
			case <-ctx.Done():
				return
			case <-time.After(min(d.s.cfg.PollInterval, 10*time.Millisecond)):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// claimAndWait claims the notices ids that are due and unclaimed and waits
// until their answers are recorded.
func (d *dispatcher) claimAndWait(ctx context.Context, ids []int64) error {
	w := &waiter{ids: map[int64]bool{}, done: make(chan struct{})}
	for _, id := range ids {
		w.ids[id] = true
	}
	d.mu.Lock()
	d.waiters = append(d.waiters, w)
	d.mu.Unlock()
	if _, err := d.claim(ctx, ids, len(ids)); err != nil {
		return err
	}
	d.mu.Lock()
	inPending := map[int64]bool{}
	for _, f := range d.pending.Finished {
		inPending[f.NoticeID] = true
	}
	for _, l := range d.pending.Later {
		inPending[l.NoticeID] = true
	}
	for id := range w.ids {
		if d.held[id] == nil && !inPending[id] {
			delete(w.ids, id) // claimed elsewhere, not due, or settled already
		}
	}
	d.mu.Unlock()
	d.nudge()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return river.JobSnooze(0)
	}
}

// claim claims up to limit due notices (among ids, when not nil) and queues
// their sends. It returns how many notices it claimed.
func (d *dispatcher) claim(ctx context.Context, ids []int64, limit int) (int, error) {
	now := d.s.now()
	targets, err := d.s.store.PushNoticesClaim(ctx, ids, limit, now, d.s.cfg.Lease)
	if err != nil || len(targets) == 0 {
		return 0, err
	}
	units := d.prepare(targets, now)
	for _, u := range units {
		d.queued.Add(int64(len(u.items)))
	}
	for _, u := range units {
		select {
		case d.units <- u:
		case <-ctx.Done():
			return len(targets), nil // released by stopAndWait
		}
	}
	return len(targets), nil
}

// prepare decides, for each claimed notice, whether it goes out now, and
// renders the pushes of those that do, grouped into units of one payload.
func (d *dispatcher) prepare(targets []store.PushTarget, now time.Time) []unit {
	s := d.s
	groups := map[fcm.Notice][]item{}
	var order []fcm.Notice
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range targets {
		n := t.Notice
		kind := Kind(n.Kind)
		finish := func(state string) {
			d.pending.Finished = append(d.pending.Finished, store.PushFinish{NoticeID: n.ID, State: state})
			s.metrics.notices.WithLabelValues(string(kind), state).Inc()
		}
		if !n.ExpiresAt.IsZero() && !now.Before(n.ExpiresAt) {
			finish("expired") // past its use: a reminder for a visit that has begun
			continue
		}
		if !wanted(t.Preference, kind) {
			finish("skipped")
			continue
		}
		loc := s.location(t.Preference.TimeZone, t.DeviceTimeZone)
		if !kind.urgent() {
			if until := (QuietHours{t.Preference.QuietStart, t.Preference.QuietEnd}).Until(now.In(loc)); !until.IsZero() {
				d.pending.Later = append(d.pending.Later, store.PushLater{NoticeID: n.ID, At: until})
				continue
			}
		}
		if len(t.Devices) == 0 {
			finish("sent") // the inbox has it; nothing to wake
			continue
		}
		title, body := Text(kind, n.Params, t.Preference.Language, loc, now)
		push := fcm.Notice{
			Title: title, Body: body, Link: n.Link, ID: n.RefID, Thread: thread(n),
			Category: kind.category(), Expires: n.ExpiresAt,
		}
		if n.Claims == 1 {
			s.metrics.lateness.Observe(max(now.Sub(n.DueAt), 0).Seconds())
		}
		d.held[n.ID] = &held{kind: kind, claims: n.Claims, remaining: len(t.Devices)}
		for _, dev := range t.Devices {
			p := push
			p.Platform = fcm.Platform(dev.Platform)
			if _, ok := groups[p]; !ok {
				order = append(order, p)
			}
			groups[p] = append(groups[p], item{notice: n, device: dev})
		}
	}
	var units []unit
	for _, p := range order {
		if g := groups[p]; len(g) == 1 {
			units = append(units, unit{push: p, items: g})
			continue
		}
		for chunk := range slices.Chunk(groups[p], fcm.MaxMulticast) {
			units = append(units, unit{push: p, items: chunk})
		}
	}
	return units
}

// sender sends units until ctx is done.
func (d *dispatcher) sender(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-d.units:
			d.queued.Add(-int64(len(u.items)))
			d.answer(ctx, d.send(ctx, u))
		}
	}
}

// send sends one unit: one request, or one multicast.
func (d *dispatcher) send(ctx context.Context, u unit) []result {
	results := make([]result, len(u.items))
	if len(u.items) == 1 {
		out, err := d.s.sender.Send(ctx, u.items[0].device.Token, u.push)
		if err != nil {
			out = fcm.Permanent{Reason: fcm.ReasonInvalidArgument, Err: err}
		}
		results[0] = result{u.items[0], out}
		return results
	}
	tokens := make([]string, len(u.items))
	for i, it := range u.items {
		tokens[i] = it.device.Token
	}
	outs, err := d.s.sender.SendMulticast(ctx, tokens, u.push)
	for i, it := range u.items {
		var out fcm.Outcome = fcm.Permanent{Reason: fcm.ReasonInvalidArgument, Err: err}
		if err == nil {
			out = outs[i]
		}
		results[i] = result{it, out}
	}
	return results
}

// answer takes FCM's answers into the next settlement.
func (d *dispatcher) answer(ctx context.Context, results []result) {
	s := d.s
	for _, r := range results {
		if o, ok := r.out.(fcm.TokenGone); ok {
			if err := s.store.PushDeviceForget(context.WithoutCancel(ctx), r.device.ID, r.device.Token); err != nil {
				s.log.ErrorContext(ctx, "push: forget device", slog.Int64("device", r.device.ID), slog.String("error", err.Error()))
			}
			s.log.InfoContext(ctx, "push: token gone, device removed", slog.Int64("device", r.device.ID), slog.String("reason", string(o.Reason)))
		}
	}
	now := s.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range results {
		h := d.held[r.notice.ID]
		ds, after, retry := s.settle(ctx, r)
		d.pending.Deliveries = append(d.pending.Deliveries, ds...)
		if h == nil {
			continue
		}
		if retry {
			h.retry = true
			h.after = max(h.after, after)
		}
		if h.remaining--; h.remaining > 0 {
			continue
		}
		delete(d.held, r.notice.ID)
		switch {
		case !h.retry:
			d.pending.Finished = append(d.pending.Finished, store.PushFinish{NoticeID: r.notice.ID, State: "sent"})
			s.metrics.notices.WithLabelValues(string(h.kind), "sent").Inc()
		case h.claims >= s.cfg.MaxAttempts:
			d.pending.Finished = append(d.pending.Finished, store.PushFinish{NoticeID: r.notice.ID, State: "failed"})
			s.metrics.notices.WithLabelValues(string(h.kind), "failed").Inc()
			s.log.ErrorContext(ctx, "push: notice failed after retries", slog.Int64("notice", r.notice.ID), slog.Int("claims", h.claims))
		default:
			d.pending.Later = append(d.pending.Later, store.PushLater{NoticeID: r.notice.ID, At: now.Add(max(h.after, backoff(h.claims)))})
		}
	}
	if len(d.pending.Deliveries) >= d.s.cfg.BatchSize {
		d.nudge()
	}
}

// backoff is how long a notice FCM asked to retry waits when FCM named no
// time: 1 s after the first claim, doubling up to 10 min.
func backoff(claims int) time.Duration {
	return min(time.Second<<min(max(claims-1, 0), 10), 10*time.Minute)
}

func (d *dispatcher) nudge() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// record writes the answers every FlushInterval (sooner when many wait) and
// extends the lease of held notices, until ctx is done.
func (d *dispatcher) record(ctx context.Context) {
	flush := time.NewTicker(d.s.cfg.FlushInterval)
	defer flush.Stop()
	extend := time.NewTicker(d.s.cfg.Lease / 3)
	defer extend.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
		case <-d.wake:
		case <-extend.C:
			d.extend()
		}
		d.flush(ctx)
	}
}

// extend renews the lease of the notices still being sent.
func (d *dispatcher) extend() {
	until := d.s.now().Add(d.s.cfg.Lease)
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.held {
		d.pending.Later = append(d.pending.Later, store.PushLater{NoticeID: id, At: until})
	}
}

// flush records the pending settlement and wakes the River jobs whose
// notices are all settled.
func (d *dispatcher) flush(ctx context.Context) {
	d.mu.Lock()
	st := d.pending
	d.pending = store.PushSettlement{}
	d.mu.Unlock()
	if err := d.s.store.PushSettle(context.WithoutCancel(ctx), st); err != nil {
		// The answers are lost, not the notices: they are claimed again
		// when their lease runs out.
		d.s.log.ErrorContext(ctx, "push: record answers", slog.String("error", err.Error()))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.waiters) == 0 {
		return
	}
	settled := map[int64]bool{}
	for _, f := range st.Finished {
		settled[f.NoticeID] = true
	}
	for _, l := range st.Later {
		settled[l.NoticeID] = d.held[l.NoticeID] == nil // not a lease renewal
	}
	waiters := d.waiters[:0]
	for _, w := range d.waiters {
		for id := range w.ids {
			if settled[id] {
				delete(w.ids, id)
			}
		}
		if len(w.ids) == 0 {
			close(w.done)
			continue
		}
		waiters = append(waiters, w)
	}
	d.waiters = waiters
}

// release makes the notices still held claimable at once, for the next start.
func (d *dispatcher) release() {
	now := d.s.now()
	d.mu.Lock()
	for id := range d.held {
		d.pending.Later = append(d.pending.Later, store.PushLater{NoticeID: id, At: now})
	}
	clear(d.held)
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.flush(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.waiters {
		close(w.done) // the next start's sweep has their notices
	}
	d.waiters = nil
}

// settle acts on one answer: what to record, and whether to retry and when.
func (s *Service) settle(ctx context.Context, r result) (record []store.PushDelivery, after time.Duration, retry bool) {
	attrs := []any{slog.Int64("notice", r.notice.ID), slog.Int64("device", r.device.ID)}
	switch o := r.out.(type) {
	case fcm.Delivered:
		s.metrics.sends.WithLabelValues("delivered", "").Inc()
		return []store.PushDelivery{{NoticeID: r.notice.ID, DeviceID: r.device.ID, Detail: o.Name}}, 0, false
	case fcm.TokenGone:
		s.metrics.sends.WithLabelValues("token_gone", string(o.Reason)).Inc()
		return nil, 0, false
	case fcm.Retry:
		s.metrics.sends.WithLabelValues("retry", string(o.Reason)).Inc()
		if ctx.Err() == nil {
			s.log.WarnContext(ctx, "push: FCM asked to retry", append(attrs, slog.String("reason", string(o.Reason)), slog.Duration("after", o.After))...)
		}
		return nil, o.After, true
	case fcm.Permanent:
		s.metrics.sends.WithLabelValues("permanent", string(o.Reason)).Inc()
		if o.Reason != fcm.ReasonExpired {
			s.log.ErrorContext(ctx, "push: permanent failure", append(attrs, slog.String("reason", string(o.Reason)), slog.String("error", errString(o.Err)))...)
		}
		return []store.PushDelivery{{NoticeID: r.notice.ID, DeviceID: r.device.ID, Failed: true, Detail: string(o.Reason)}}, 0, false
	}
	return nil, 0, true
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// location returns the first of the zones names that exists. Zones are
// cached: time.LoadLocation reads the zone database on every call.
func (s *Service) location(names ...string) *time.Location {
	for _, n := range names {
		if n == "" {
			continue
		}
		if loc, ok := s.zones.Load(n); ok {
			return loc.(*time.Location)
		}
		if loc, err := time.LoadLocation(n); err == nil {
			s.zones.Store(n, loc)
			return loc
		}
	}
	return s.zone
}

// wanted tells whether the person's preferences let kind through. Visit
// notices that cannot wait (delay, call-in) always pass.
func wanted(p store.PushPreference, kind Kind) bool {
	switch kind {
	case KindReminder:
		return p.Reminders
	case KindMessage:
		return p.Messages
	case KindOffer:
		return p.Offers
	}
	return true
}
