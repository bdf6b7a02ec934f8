package fcmfake

import (
	"strconv"
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
	ring     []atomic.Pointer[Sent]
}

func newRecorder(size int) recorder {
	return recorder{ring: make([]atomic.Pointer[Sent], size)}
}

// add records m for target and returns the message name.
func (rec *recorder) add(project, target string, m Message, now time.Time) string {
	seq := rec.seq.Add(1)
	s := &Sent{
		Seq:     seq,
		Name:    "projects/" + project + "/messages/0:" + strconv.FormatUint(seq, 10),
		Time:    now,
		Message: m,
	}
	rec.ring[seq%uint64(len(rec.ring))].Store(s)
	rec.total.Add(1)
	if target != "" {
		c, ok := rec.perToken.Load(target)
		if !ok {
			c, _ = rec.perToken.LoadOrStore(target, new(atomic.Int64))
		}
		c.(*atomic.Int64).Add(1)
	}
	return s.Name
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
}
