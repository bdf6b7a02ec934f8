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

// SendArgs is the push job: send the notices, which share a due time. Notices
// are no longer enqueued with jobs (the sweep claims them from the table);
// the worker stays so that jobs enqueued by an older release still finish.
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
// PollInterval, and older releases' River jobs), hands them to SendConcurrency long-lived
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
	// delivered counts devices FCM took it for, this claim and before;
	// expired those the sender found it expired for.
	delivered, expired int
	retry              bool
	// hold is set by THIRD_PARTY_AUTH_ERROR: retried every HoldRetry, with
	// no attempt limit, until it expires.
	hold  bool
	after time.Duration
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
			finish("sent") // the inbox has it; nothing (more) to wake
			continue
		}
		title, body := Text(kind, n.Params, t.Preference.Language, loc, now)
		// The notice id differs per item; sendUnit adds it.
		push := fcm.Notice{
			Title: title, Body: body, Link: n.Link, ID: n.RefID, Thread: thread(n),
			Category: kind.category(), Expires: n.ExpiresAt, Urgent: timeCritical(n),
		}
		if n.Claims == 1 {
			s.metrics.lateness.Observe(max(now.Sub(n.DueAt), 0).Seconds())
		}
		d.held[n.ID] = &held{kind: kind, claims: n.Claims, remaining: len(t.Devices), delivered: t.Delivered}
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
		p := u.push
		p.NoticeID = store.FormatID(u.items[0].notice.ID)
		out, err := d.s.sender.Send(ctx, u.items[0].device.Token, p)
		if err != nil {
			out = fcm.Permanent{Reason: fcm.ReasonInvalidArgument, Err: err}
		}
		results[0] = result{u.items[0], out}
		return results
	}
	tokens := make([]string, len(u.items))
	ids := make([]string, len(u.items))
	for i, it := range u.items {
		tokens[i], ids[i] = it.device.Token, store.FormatID(it.notice.ID)
	}
	outs, err := d.s.sender.SendEach(ctx, tokens, ids, u.push)
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
		v := s.settle(ctx, r, now)
		d.pending.Deliveries = append(d.pending.Deliveries, v.record...)
		if h == nil {
			continue
		}
		switch {
		case v.delivered:
			h.delivered++
		case v.expired:
			h.expired++
		case v.hold:
			h.hold = true
			fallthrough
		case v.retry:
			h.retry = true
			h.after = max(h.after, v.after)
		}
		if h.remaining--; h.remaining > 0 {
			continue
		}
		delete(d.held, r.notice.ID)
		finish := func(state string) {
			d.pending.Finished = append(d.pending.Finished, store.PushFinish{NoticeID: r.notice.ID, State: state})
			s.metrics.notices.WithLabelValues(string(h.kind), state).Inc()
		}
		switch {
		case !h.retry && h.delivered > 0:
			finish("sent")
		case !h.retry && h.expired > 0:
			finish("expired")
		case !h.retry:
			// Every device refused it for good (or its token is gone): no
			// one was told.
			finish("failed")
		case h.hold:
			d.pending.Later = append(d.pending.Later, store.PushLater{NoticeID: r.notice.ID, At: now.Add(max(h.after, s.cfg.HoldRetry))})
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
		d.s.bursts.end(ctx, d.s.log, d.s.now(), d.s.cfg.BurstQuiet)
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

// verdict is what one answer means for its notice.
type verdict struct {
	// record is what to record for the (notice, device) pair.
	record []store.PushDelivery
	// delivered: FCM took it; expired: the sender found it past its
	// lifetime; retry: try again after after; hold: held for broken
	// credentials.
	delivered, expired, retry, hold bool
	after                           time.Duration
}

// settle acts on one answer at now: what to record, and whether to retry and
// when.
func (s *Service) settle(ctx context.Context, r result, now time.Time) verdict {
	attrs := []any{slog.Int64("notice", r.notice.ID), slog.Int64("device", r.device.ID)}
	platform := r.device.Platform
	switch o := r.out.(type) {
	case fcm.Delivered:
		s.metrics.sends.WithLabelValues("delivered", "").Inc()
		if s.bursts.credentialsFixed(platform) {
			s.metrics.credentials.WithLabelValues(platform).Set(0)
			s.log.InfoContext(ctx, "push: FCM takes the project's credentials again; held notices are being sent", slog.String("platform", platform))
		}
		return verdict{record: []store.PushDelivery{{NoticeID: r.notice.ID, DeviceID: r.device.ID, Detail: o.Name}}, delivered: true}
	case fcm.TokenGone:
		s.metrics.sends.WithLabelValues("token_gone", string(o.Reason)).Inc()
		return verdict{}
	case fcm.Retry:
		s.metrics.sends.WithLabelValues("retry", string(o.Reason)).Inc()
		if o.Reason == fcm.ReasonThirdPartyAuthError {
			s.metrics.credentials.WithLabelValues(platform).Set(1)
			if s.bursts.credentialsBroken(platform) {
				s.log.ErrorContext(ctx, "push: FCM refuses the Firebase project's APNs or Web Push credentials; notices are held until they are fixed",
					slog.String("platform", platform), slog.String("reason", string(o.Reason)), slog.String("error", errString(o.Err)))
			}
			return verdict{retry: true, hold: true, after: o.After}
		}
		if ctx.Err() == nil && s.bursts.retry(o.Reason, now) {
			s.log.WarnContext(ctx, "push: FCM asks to retry; notices wait in the queue with back-off",
				append(attrs, slog.String("reason", string(o.Reason)), slog.Duration("after", o.After))...)
		}
		return verdict{retry: true, after: o.After}
	case fcm.Permanent:
		s.metrics.sends.WithLabelValues("permanent", string(o.Reason)).Inc()
		if o.Reason == fcm.ReasonExpired {
			return verdict{expired: true}
		}
		s.log.ErrorContext(ctx, "push: permanent failure", append(attrs, slog.String("reason", string(o.Reason)), slog.String("error", errString(o.Err)))...)
		return verdict{record: []store.PushDelivery{{NoticeID: r.notice.ID, DeviceID: r.device.ID, Failed: true, Detail: string(o.Reason)}}}
	}
	return verdict{retry: true}
}

// timeCritical notices go at high priority: a call-in, a cancellation, a
// delay, and the last reminder before a visit (within 15 minutes of it, the
// video visit's 10-minute one).
func timeCritical(n store.PushNotice) bool {
	switch Kind(n.Kind) {
	case KindCallIn, KindCancelled, KindDelay:
		return true
	case KindReminder:
		return !n.ExpiresAt.IsZero() && n.ExpiresAt.Sub(n.DueAt) <= 15*time.Minute
	}
	return false
}

// bursts keeps FCM's trouble to one log line when it starts and one when it
// ends, however many sends meet it.
type bursts struct {
	mu sync.Mutex
	// retrying is the reasons FCM asks to retry for, and when it last did.
	retrying map[fcm.Reason]*burst
	// broken is the platforms whose credentials FCM refuses.
	broken map[string]bool
}

type burst struct {
	start, last time.Time
	retries     int
}

// retry counts a retry for reason at now and tells whether it starts a burst.
func (b *bursts) retry(reason fcm.Reason, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.retrying == nil {
		b.retrying = map[fcm.Reason]*burst{}
	}
	if x := b.retrying[reason]; x != nil {
		x.retries++
		x.last = now
		return false
	}
	b.retrying[reason] = &burst{start: now, last: now, retries: 1}
	return true
}

// end logs and forgets the bursts FCM has been quiet about for quiet.
func (b *bursts) end(ctx context.Context, log *slog.Logger, now time.Time, quiet time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for reason, x := range b.retrying {
		if now.Sub(x.last) < quiet {
			continue
		}
		delete(b.retrying, reason)
		log.InfoContext(ctx, "push: FCM stopped asking to retry", slog.String("reason", string(reason)),
			slog.Int("retries", x.retries), slog.Duration("for", x.last.Sub(x.start)))
	}
}

// credentialsBroken records that FCM refuses platform's credentials and tells
// whether that is news.
func (b *bursts) credentialsBroken(platform string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.broken == nil {
		b.broken = map[string]bool{}
	}
	news := !b.broken[platform]
	b.broken[platform] = true
	return news
}

// credentialsFixed records a delivery to platform and tells whether its
// credentials were refused until now.
func (b *bursts) credentialsFixed(platform string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	was := b.broken[platform]
	delete(b.broken, platform)
	return was
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
