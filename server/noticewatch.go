package server

import (
	"sync"
)

// noticeWatch tells the streams watching a unit's notices (WatchUnitNotices)
// that a notice for that unit was just written, on any replica
// (store.ChannelStaffNotices). A stream that is told reads the notices
// after its cursor at once; between announcements it still reads now and
// then, so a missed one (the listener down or reconnecting) only delays a
// notice. Whenever the listener starts or stops, every stream is told, so
// that none waits on announcements that may not come.
type noticeWatch struct {
	mu sync.Mutex
	// units holds, per unit watched, the channel closed at the unit's next
	// announcement.
	units map[string]chan struct{}
}

func newNoticeWatch() *noticeWatch {
	return &noticeWatch{units: map[string]chan struct{}{}}
}

// next returns a channel that is closed at the next announcement of a
// notice for unit. Take it before reading the notices, so that a notice
// written during the read is not missed.
func (w *noticeWatch) next(unit string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.units[unit]
	if !ok {
		ch = make(chan struct{})
		w.units[unit] = ch
	}
	return ch
}

// follow wakes every stream: from now on announcements come (true), or
// they may not (false) and streams read on their own.
func (w *noticeWatch) follow(bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.units {
		close(ch)
	}
	clear(w.units)
}

// changed wakes the streams watching the unit announced on
// store.ChannelStaffNotices.
func (w *noticeWatch) changed(unit string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.units[unit]; ok {
		close(ch)
		delete(w.units, unit)
	}
}
