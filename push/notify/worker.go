package notify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
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

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.s.send(ctx, job.Args.NoticeIDs)
}

// item is one notice to one device.
type item struct {
	notice store.PushNotice
	device store.PushDevice
	push   fcm.Notice
}

// result is FCM's answer for one item.
type result struct {
	item
	out fcm.Outcome
}

// send sends the notices ids to every device that has not had them yet. It
// returns a River snooze when FCM asked to wait, an error for River's own
// back-off, and nil when every notice is finished or waits in a new job.
func (s *Service) send(ctx context.Context, ids []int64) error {
	targets, err := s.store.PushTargets(ctx, ids)
	if err != nil {
		return err
	}
	now := s.now()
	var (
		items               []item
		sent, skipped, gone []int64
		deferred            = map[time.Time][]int64{}
		kinds               = map[int64]Kind{}
	)
	for _, t := range targets {
		n := t.Notice
		kind := Kind(n.Kind)
		kinds[n.ID] = kind
		if n.State != "pending" {
			continue
		}
		if !n.ExpiresAt.IsZero() && !now.Before(n.ExpiresAt) {
			gone = append(gone, n.ID)
			continue
		}
		if !wanted(t.Preference, kind) {
			skipped = append(skipped, n.ID)
			continue
		}
		loc := s.location(t.Preference.TimeZone, t.DeviceTimeZone)
		if !kind.urgent() {
			if until := (QuietHours{t.Preference.QuietStart, t.Preference.QuietEnd}).Until(now.In(loc)); !until.IsZero() {
				deferred[until] = append(deferred[until], n.ID)
				continue
			}
		}
		if len(t.Devices) == 0 {
			sent = append(sent, n.ID) // the inbox has it; nothing to wake
			continue
		}
		title, body := Text(kind, n.Params, t.Preference.Language, loc, now)
		push := fcm.Notice{
			Title: title, Body: body, Link: n.Link, ID: n.RefID, Thread: thread(n),
			Category: kind.category(), Expires: n.ExpiresAt,
		}
		s.metrics.lateness.Observe(max(now.Sub(n.DueAt), 0).Seconds())
		for _, d := range t.Devices {
			items = append(items, item{notice: n, device: d, push: push})
		}
	}
	if err := s.deferNotices(ctx, deferred); err != nil {
		return err
	}
	retry, after := map[int64]bool{}, time.Duration(0)
	var anyRetry, retryNow bool
	for wave := range slices.Chunk(items, s.cfg.SendConcurrency) {
		results := s.sendWave(ctx, wave)
		var record []store.PushDelivery
		for _, r := range results {
			ds, rAfter, isRetry := s.settle(ctx, r)
			record = append(record, ds...)
			if isRetry {
				retry[r.notice.ID] = true
				anyRetry = true
				if rAfter > 0 {
					after = max(after, rAfter)
				} else {
					retryNow = true
				}
			}
		}
		// Record each wave before the next: a crash repeats one wave at most.
		if err := s.store.PushDeliveriesRecord(context.WithoutCancel(ctx), record); err != nil {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	for _, it := range items {
		if !retry[it.notice.ID] && ctx.Err() == nil {
			sent = append(sent, it.notice.ID)
		}
	}
	sent = uniq(sent)
	if err := s.finish(ctx, sent, "sent", kinds); err != nil {
		return err
	}
	if err := s.finish(ctx, skipped, "skipped", kinds); err != nil {
		return err
	}
	if err := s.finish(ctx, gone, "expired", kinds); err != nil {
		return err
	}
	switch {
	case ctx.Err() != nil:
		return river.JobSnooze(0) // shutting down: run again at the next start
	case anyRetry && !retryNow:
		return river.JobSnooze(after) // FCM's Retry-After
	case anyRetry:
		return fmt.Errorf("notify: FCM asked to retry %d notices", len(retry))
	}
	return nil
}

func (s *Service) finish(ctx context.Context, ids []int64, state string, kinds map[int64]Kind) error {
	if err := s.store.PushNoticesFinish(context.WithoutCancel(ctx), ids, state); err != nil {
		return err
	}
	for _, id := range ids {
		s.metrics.notices.WithLabelValues(string(kinds[id]), state).Inc()
	}
	return nil
}

// deferNotices moves notices held by quiet hours into new jobs due when the quiet
// hours end. Should this job then fail, they go twice into the queue, which
// the delivery record makes harmless.
func (s *Service) deferNotices(ctx context.Context, deferred map[time.Time][]int64) error {
	var jobs []river.InsertManyParams
	for until, ids := range deferred {
		for chunk := range slices.Chunk(ids, s.cfg.BatchSize) {
			jobs = append(jobs, river.InsertManyParams{Args: SendArgs{NoticeIDs: chunk}, InsertOpts: &river.InsertOpts{ScheduledAt: until}})
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	_, err := s.river.InsertMany(ctx, jobs)
	return err
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
		if err := s.store.PushDeviceForget(context.WithoutCancel(ctx), r.device.ID, r.device.Token); err != nil {
			s.log.ErrorContext(ctx, "push: forget device", append(attrs, slog.String("error", err.Error()))...)
		}
		s.log.InfoContext(ctx, "push: token gone, device removed", append(attrs, slog.String("reason", string(o.Reason)))...)
		return nil, 0, false
	case fcm.Retry:
		s.metrics.sends.WithLabelValues("retry", string(o.Reason)).Inc()
		s.log.WarnContext(ctx, "push: FCM asked to retry", append(attrs, slog.String("reason", string(o.Reason)), slog.Duration("after", o.After))...)
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

// sendWave sends items at once: those with the same payload in one
// multicast, the rest one request each.
func (s *Service) sendWave(ctx context.Context, items []item) []result {
	type group struct{ idx []int }
	groups := map[fcm.Notice]*group{}
	var order []fcm.Notice
	for i, it := range items {
		g, ok := groups[it.push]
		if !ok {
			g = &group{}
			groups[it.push] = g
			order = append(order, it.push)
		}
		g.idx = append(g.idx, i)
	}
	results := make([]result, len(items))
	var wg sync.WaitGroup
	for _, n := range order {
		g := groups[n]
		wg.Go(func() {
			if len(g.idx) == 1 {
				it := items[g.idx[0]]
				out, err := s.sender.Send(ctx, it.device.Token, n)
				if err != nil {
					out = fcm.Permanent{Reason: fcm.ReasonInvalidArgument, Err: err}
				}
				results[g.idx[0]] = result{it, out}
				return
			}
			tokens := make([]string, len(g.idx))
			for j, i := range g.idx {
				tokens[j] = items[i].device.Token
			}
			outs, err := s.sender.SendMulticast(ctx, tokens, n)
			for j, i := range g.idx {
				var out fcm.Outcome = fcm.Permanent{Reason: fcm.ReasonInvalidArgument, Err: err}
				if err == nil {
					out = outs[j]
				}
				results[i] = result{items[i], out}
			}
		})
	}
	wg.Wait()
	return results
}

func (s *Service) location(names ...string) *time.Location {
	for _, n := range names {
		if n == "" {
			continue
		}
		if loc, err := time.LoadLocation(n); err == nil {
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

func uniq(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
