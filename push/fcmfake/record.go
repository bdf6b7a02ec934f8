package fcmfake

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sent is one message the fake accepted, as /fake/messages shows it.
type Sent struct {
	// Seq numbers accepted messages from 1 in the order they were accepted.
	Seq uint64 `json:"seq"`
	// Name is the message name the fake answered with, projects/P/messages/ID.
	Name string `json:"name"`
	// Time is when the fake accepted the message.
	Time time.Time `json:"time"`
	// Message is the message as the client sent it.
	Message Message `json:"message"`
}

// recorder keeps exact counters and a bounded ring of recent messages. Writers claim a ring slot
// with an atomic sequence number and publish into it with an atomic store, so concurrent sends
// never wait for each other here.
type recorder struct {
	seq      atomic.Uint64
	total    atomic.Int64
	rejected atomic.Int64
	perToken sync.Map // target → *atomic.Int64
	// seen holds each (target, collapse id) accepted; distinct counts them.
	seen     sync.Map
	distinct atomic.Int64
	ring     []atomic.Pointer[Sent]
}

func newRecorder(size int) recorder {
	return recorder{ring: make([]atomic.Pointer[Sent], size)}
}

// add records m for target and returns it as recorded.
func (rec *recorder) add(project, target string, m Message, now time.Time) *Sent {
	seq := rec.seq.Add(1)
	s := &Sent{
		Seq:     seq,
		Name:    "projects/" + project + "/messages/0:" + strconv.FormatUint(seq, 10),
		Time:    now,
		Message: m,
	}
	rec.ring[seq%uint64(len(rec.ring))].Store(s)
	rec.total.Add(1)
	key := displayKey{target, CollapseID(m)}
	if key.collapseID == "" {
		key.collapseID = "\x00" + strconv.FormatUint(seq, 10) // shown anew every time
	}
	if _, again := rec.seen.LoadOrStore(key, struct{}{}); !again {
		rec.distinct.Add(1)
	}
	if target != "" {
		c, ok := rec.perToken.Load(target)
		if !ok {
			c, _ = rec.perToken.LoadOrStore(target, new(atomic.Int64))
		}
		c.(*atomic.Int64).Add(1)
	}
	return s
}

func (rec *recorder) countFor(target string) int64 {
	c, ok := rec.perToken.Load(target)
	if !ok {
		return 0
	}
	return c.(*atomic.Int64).Load()
}

// recent returns the messages still in the ring, oldest first. A slot already overwritten by a
// newer message is skipped, so the result is a consistent, possibly shorter, window.
func (rec *recorder) recent() []Sent {
	last := rec.seq.Load()
	size := uint64(len(rec.ring))
	first := uint64(1)
	if last > size {
		first = last - size + 1
	}
	out := make([]Sent, 0, min(last, size))
	for seq := first; seq <= last; seq++ {
		if s := rec.ring[seq%size].Load(); s != nil && s.Seq == seq {
			out = append(out, *s)
		}
	}
	return out
}

func (rec *recorder) reset() {
	for i := range rec.ring {
		rec.ring[i].Store(nil)
	}
	rec.total.Store(0)
	rec.rejected.Store(0)
	rec.perToken.Clear()
	rec.seen.Clear()
	rec.distinct.Store(0)
}

// displayKey is what a device shows one notification for: a repeated message
// with the same collapse id replaces the one shown.
type displayKey struct{ target, collapseID string }

// CollapseID is the id under which a device replaces rather than adds m's
// notification: the Android collapse key or tag, the apns-collapse-id or the
// Web Push tag, whichever m sets first; "" when it sets none, and then every
// message is shown anew.
func CollapseID(m Message) string {
	if a := m.Android; a != nil {
		if a.CollapseKey != "" {
			return a.CollapseKey
		}
		if a.Notification != nil && a.Notification.Tag != "" {
			return a.Notification.Tag
		}
	}
	if a := m.APNS; a != nil {
		for k, v := range a.Headers {
			if strings.EqualFold(k, "apns-collapse-id") && v != "" {
				return v
			}
		}
	}
	if w := m.Webpush; w != nil {
		if tag, _ := w.Notification["tag"].(string); tag != "" {
			return tag
		}
	}
	return ""
}
