package resilience

import (
	"testing"
	"time"
)

// TestReplicaKilled kills one of two replicas with SIGKILL during a booking
// rush through the load balancer. The requests it had in flight are lost
// with it; the clients retry them with the same idempotency keys, and the
// other replica answers. Each booking must be answered exactly once: no
// double booking, no overbooked slot, none lost.
func TestReplicaKilled(t *testing.T) {
	url := database(t)
	w := seed(t, url, 60, 10, 400, slotStart())
	a := startReplica(t, "replica a", url)
	b := startReplica(t, "replica b", url)
	lb := startProxy(t, a, b)
	r := newRush(t, w, lb.url, 8, 20*time.Millisecond)
	finish := r.start()
	defer finish()
	r.waitBooked(60, 20*time.Second)
	a.kill()
	killed := r.booked.Load()
	r.waitBooked(killed+80, 20*time.Second)
	finish()
	r.check()
}

// TestRollingRestart restarts both replicas behind the load balancer one
// after the other, as a deployment does (SIGTERM, wait for the exit, start
// again, wait until healthy), during a booking rush. No request the client
// retried may be lost, and none answered twice.
func TestRollingRestart(t *testing.T) {
	url := database(t)
	w := seed(t, url, 60, 10, 400, slotStart())
	a := startReplica(t, "replica a", url)
	b := startReplica(t, "replica b", url)
	lb := startProxy(t, a, b)
	r := newRush(t, w, lb.url, 8, 20*time.Millisecond)
	finish := r.start()
	defer finish()
	r.waitBooked(40, 20*time.Second)
	for _, p := range []*replica{a, b} {
		p.restart()
		r.waitBooked(r.booked.Load()+30, 20*time.Second)
	}
	finish()
	r.check()
}
