package appointment

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/store"
)

// listCache keeps citizens' appointment lists in memory, so that opening
// the app (and every later look at the list) reads no database. Like the
// session cache it is trusted only while this replica listens for changes
// (store.TopicAppointmentList): every change to a list, made on any replica,
// drops it from every cache; the replica that makes a change drops it at
// once, before it answers, and wakes the others right after the commit.
// While the listener is down every list is read from the database.
//
// A list is cached whole, per citizen, with their children's appointments,
// as its answer and that answer's JSON; a filtered request (one patient,
// changes since) is answered from it. An answer says whether each
// appointment can still be cancelled or answered, so it is kept only until
// the first cancel deadline or start in it passes: a cached list never
// goes stale with the clock.
type listCache struct {
	mu   sync.Mutex
	live bool
	// gen grows with every drop; dropped holds the gen at which a person's
	// list was last dropped, so that a read that raced a change of that
	// person's appointments is not cached. Reads begun before floor are
	// never cached (the record was pruned).
	gen, floor uint64
	dropped    map[string]uint64
	m          map[string]*cachedList
	// encoded holds the JSON of the cached entries' whole answers, so that
	// a list asked again is sent without being encoded again (jsonCodec).
	encoded map[*appointmentv1.ListAppointmentsResponse][]byte
	// viewers[child] are the guardians whose cached lists include child.
	viewers map[string][]string
	// texts and units hold one copy of the texts and care units that many
	// cached answers show, so that each holds only a reference.
	texts   map[string]string
	units   map[string]*appointmentv1.CareUnit
	ttl     time.Duration
	max     int
	store   *store.Store
	lookups *prometheus.CounterVec
	// hits, misses and offs count lookups by result.
	hits, misses, offs prometheus.Counter
}

type cachedList struct {
	// whole answers a request for the whole list, as it was at, until
	// until: when an appointment's cancel deadline or start passes, or the
	// time to live runs out. Its JSON is in listCache.encoded.
	whole     *appointmentv1.ListAppointmentsResponse
	at, until time.Time
	// children are whose lists it also holds, oldest first, and
	// oldestChildBorn when the first was born.
	children        []string
	oldestChildBorn time.Time
}

// holds reports whether the list may be shown at now, with children born
// after bornAfter: the clock has changed nothing in it and none of its
// children has come of age.
func (e *cachedList) holds(bornAfter, now time.Time) bool {
	return !now.Before(e.at) && now.Before(e.until) && (len(e.children) == 0 || e.oldestChildBorn.After(bornAfter))
}

// view is the answer to a request for patientID's appointments (all when
// "") changed after since (all when zero).
func (e *cachedList) view(patientID string, since time.Time) *appointmentv1.ListAppointmentsResponse {
	if patientID == "" && since.IsZero() {
		return e.whole
	}
	res := &appointmentv1.ListAppointmentsResponse{SyncTime: e.whole.SyncTime}
	for _, a := range e.whole.Appointments {
		if (patientID == "" || a.PatientId == patientID) && a.UpdateTime.AsTime().After(since) {
			res.Appointments = append(res.Appointments, a)
		}
	}
	return res
}

// newListCache returns a cache of up to size lists; size < 0 turns it off
// (every list is read from the database; changes are still announced).
func newListCache(st *store.Store, size int, reg prometheus.Registerer) (*listCache, error) {
	c := &listCache{
		dropped: map[string]uint64{}, m: map[string]*cachedList{}, viewers: map[string][]string{},
		encoded: map[*appointmentv1.ListAppointmentsResponse][]byte{},
		texts:   map[string]string{}, units: map[string]*appointmentv1.CareUnit{},
		ttl: 5 * time.Minute, max: size, store: st,
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nara_list_cache_lookups_total",
			Help: "Appointment lists asked of the per-replica cache, by result (hit, miss; off while it is not listening or disabled).",
		}, []string{"result"}),
	}
	if reg != nil {
		if err := reg.Register(c.lookups); err != nil {
			return nil, err
		}
	}
	c.hits, c.misses, c.offs = c.lookups.WithLabelValues("hit"), c.lookups.WithLabelValues("miss"), c.lookups.WithLabelValues("off")
	return c, nil
}

// answer returns the answer at now to a request for personID's list with
// their children born after bornAfter — patientID's appointments only when
// set, those changed after since: from memory when it may be trusted.
// Answers share their messages; callers must not change them.
func (c *listCache) answer(ctx context.Context, personID string, bornAfter time.Time, patientID string, since, now time.Time) (*appointmentv1.ListAppointmentsResponse, error) {
	c.mu.Lock()
	e, ok := c.m[personID]
	live, gen := c.live && c.max > 0, c.gen
	c.mu.Unlock()
	switch {
	case !live:
		c.offs.Inc()
		l, err := c.store.AppointmentListForCitizen(ctx, personID, bornAfter, patientID, since)
		if err != nil {
			return nil, err
		}
		return listResponse(l, now, patientID, since), nil
	case ok && e.holds(bornAfter, now):
		c.hits.Inc()
		return e.view(patientID, since), nil
	}
	c.misses.Inc()
	l, err := c.store.AppointmentListForCitizen(ctx, personID, bornAfter, "", time.Time{})
	if err != nil {
		return nil, err
	}
	e = &cachedList{at: now, until: now.Add(c.ttl), children: l.Children, oldestChildBorn: l.OldestChildBorn}
	e.whole = listResponse(l, now, "", time.Time{})
	if next := clockChange(l, now); next.Before(e.until) {
		e.until = next
	}
	b, err := protojson.MarshalOptions{}.Marshal(e.whole)
	if err != nil {
		return nil, err
	}
	b = bytes.Clone(b) // without the encoder's spare capacity
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen < c.floor || c.dropped[personID] > gen {
		return e.view(patientID, since), nil
	}
	for _, child := range l.Children {
		if c.dropped[child] > gen {
			return e.view(patientID, since), nil
		}
	}
	if len(c.m) >= c.max {
		for k := range c.m { // an arbitrary one
			c.removeLocked(k)
			break
		}
	}
	if len(c.viewers) >= c.max {
		// Lists with children cannot be dropped through their children
		// any more: drop them all.
		c.clearLocked()
	}
	c.removeLocked(personID)
	c.shareLocked(e.whole)
	c.m[personID] = e
	c.encoded[e.whole] = b
	for _, child := range l.Children {
		if !slices.Contains(c.viewers[child], personID) {
			c.viewers[child] = append(c.viewers[child], personID)
		}
	}
	return e.view(patientID, since), nil
}

// clockChange is the first moment after now when an appointment of l can
// no longer be cancelled, rebooked or answered.
func clockChange(l store.CitizenList, now time.Time) time.Time {
	next := now.Add(24 * time.Hour)
	for _, a := range l.Appointments {
		for _, t := range []time.Time{a.CancelBy(), a.StartsAt} {
			if t.After(now) && t.Before(next) {
				next = t
			}
		}
	}
	return next
}

// EncodedJSON returns the JSON of a whole-list answer handed out by answer,
// while its list is cached.
func (c *listCache) EncodedJSON(m any) ([]byte, bool) {
	w, ok := m.(*appointmentv1.ListAppointmentsResponse)
	if !ok {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.encoded[w]
	return b, ok
}

// shareLocked makes w's appointments refer to the one copy of each care
// unit and common text kept in c.
func (c *listCache) shareLocked(w *appointmentv1.ListAppointmentsResponse) {
	if len(c.texts) > 10_000 || len(c.units) > 10_000 {
		clear(c.texts)
		clear(c.units)
	}
	text := func(s string) string {
		if t, ok := c.texts[s]; ok {
			return t
		}
		c.texts[s] = s
		return s
	}
	for _, a := range w.Appointments {
		if u, ok := c.units[a.Unit.HsaId]; ok && proto.Equal(u, a.Unit) {
			a.Unit = u
		} else {
			c.units[a.Unit.HsaId] = a.Unit
		}
		a.Instructions, a.ClinicianName, a.Profession = text(a.Instructions), text(a.ClinicianName), text(a.Profession)
	}
}

// removeLocked forgets personID's cached list.
func (c *listCache) removeLocked(personID string) {
	if e, ok := c.m[personID]; ok {
		delete(c.encoded, e.whole)
		delete(c.m, personID)
	}
}

// drop forgets the lists that show personIDs' appointments; all drops
// every list.
func (c *listCache) drop(personIDs []string, all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if all {
		c.clearLocked()
		return
	}
	if len(c.dropped) > 4*max(c.max, 1024) {
		clear(c.dropped)
		c.floor = c.gen
	}
	for _, id := range personIDs {
		c.dropped[id] = c.gen
		c.removeLocked(id)
		for _, v := range c.viewers[id] {
			c.removeLocked(v)
		}
		delete(c.viewers, id)
	}
}

func (c *listCache) clearLocked() {
	clear(c.m)
	clear(c.encoded)
	clear(c.viewers)
	clear(c.dropped)
	c.floor = c.gen
}

// Follow turns the cache on (listening from now on) or off, empty either
// way.
func (c *listCache) Follow(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	c.clearLocked()
}

// Changed applies a change announced on store.TopicAppointmentList.
// The replica that made the change applies it before it answers.
func (c *listCache) Changed(personID string) {
	c.drop([]string{personID}, personID == store.AllLists)
}
