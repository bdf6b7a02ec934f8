package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nara-care/nara/bench/internal/benchtoken"
)

const (
	searchPath = "/nara.appointment.v1.AppointmentService/SearchSlots"
	bookPath   = "/nara.appointment.v1.AppointmentService/BookSlot"
)

// rush is one race of many citizens for the slots, driven by a Go loader
// that sends pre-encoded Connect JSON over net/http (no connect-go client,
// whose encoding would compete for the CPU with the server).
type rush struct {
	base     string
	client   *http.Client
	citizens []benchtoken.Citizen
	units    []string
	// unitSearch[i] searches unit i; regionSearch every unit.
	unitSearch   [][]byte
	regionSearch []byte
	workers      int
	pick         int     // a citizen picks among the first pick free slots shown
	repeatShare  float64 // share of citizens who resend a successful booking (lost answer)
	doubleShare  float64 // share who send the same booking twice at once (double tap)
	secondShare  float64 // share who then try to book a second vaccination
	seed         uint64
}

// outcome counts what the loader saw.
type outcome struct {
	citizens, booked, gaveUp                   int
	searches, attempts                         int // requests sent
	full, otherErrors                          int // BookSlot answers other than success
	repeats, repeatsSame                       int // lost-answer retries, and those answered with the same appointment
	doubles, doublesSame                       int // double taps, and pairs both answered with one appointment
	doubleCodes                                map[string]int
	seconds, secondsRefused, secondsBooked     int // second-vaccination attempts, those refused, and those booked (must be 0)
	errorCodes                                 map[string]int
	searchLat, bookLat                         []time.Duration
	wall                                       time.Duration
	firstBooking, lastBooking                  time.Duration     // since the start
	appointments                               map[string]string // person → appointment id the app was given
	searchesPerCitizen, bookAttemptsPerCitizen float64
}

// call is one Connect unary request's result.
type call struct {
	status int
	code   string // the Connect error code, "" on success
	body   []byte
}

func newRush(base string, w world, o options) *rush {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	r := &rush{
		base: base,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			Protocols: p, MaxIdleConns: o.clients * 2, MaxIdleConnsPerHost: o.clients * 2, MaxConnsPerHost: 0,
			DialContext: (&net.Dialer{}).DialContext, DisableCompression: true,
		}},
		citizens: w.citizens, units: w.units, workers: o.clients, pick: o.pick,
		repeatShare: 0.05, doubleShare: 0.01, secondShare: 0.02, seed: o.seed,
	}
	from := w.from.Add(-time.Hour).UTC().Format(time.RFC3339)
	to := w.to.Add(time.Hour).UTC().Format(time.RFC3339)
	for _, u := range w.units {
		r.unitSearch = append(r.unitSearch, []byte(fmt.Sprintf(
			`{"service":"SERVICE_VACCINATION","unitHsaId":%q,"startTime":%q,"endTime":%q,"pageSize":20}`, u, from, to)))
	}
	r.regionSearch = []byte(fmt.Sprintf(`{"service":"SERVICE_VACCINATION","startTime":%q,"endTime":%q,"pageSize":50}`, from, to))
	return r
}

func (r *rush) post(ctx context.Context, path string, tok string, body []byte) (call, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+path, bytes.NewReader(body))
	if err != nil {
		return call{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := r.client.Do(req)
	if err != nil {
		return call{}, err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return call{}, err
	}
	c := call{status: res.StatusCode, body: b}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			e.Code = "http_" + strconv.Itoa(res.StatusCode)
		}
		c.code = e.Code
	}
	return c, nil
}

// ids returns the values of every "id" field in a Connect JSON answer, in
// order. protojson writes a message's fields in field-number order and id
// is field 1 of Slot and Appointment, so this finds the slots (or the
// appointment) without decoding the whole answer in the load generator.
func ids(body []byte) []string {
	var out []string
	key := []byte(`"id":"`)
	for {
		i := bytes.Index(body, key)
		if i < 0 {
			return out
		}
		body = body[i+len(key):]
		j := bytes.IndexByte(body, '"')
		if j < 0 {
			return out
		}
		out = append(out, string(body[:j]))
		body = body[j:]
	}
}

// recorder gathers what the workers saw.
type recorder struct {
	mu sync.Mutex
	o  outcome
}

func (rec *recorder) add(f func(o *outcome)) {
	rec.mu.Lock()
	f(&rec.o)
	rec.mu.Unlock()
}

// run lets every citizen try to book, r.workers at a time.
func (r *rush) run(ctx context.Context) (outcome, error) {
	order := rand.New(rand.NewPCG(r.seed, 1)).Perm(len(r.citizens))
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		runErr  error
	)
	rec := &recorder{o: outcome{appointments: map[string]string{}, errorCodes: map[string]int{}, doubleCodes: map[string]int{}}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for w := range r.workers {
		rng := rand.New(rand.NewPCG(r.seed, uint64(w)+2))
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(order) || ctx.Err() != nil {
					return
				}
				if err := r.citizen(ctx, order[i], rng, rec, start); err != nil {
					errOnce.Do(func() { runErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	rec.o.wall = time.Since(start)
	if runErr != nil {
		return rec.o, runErr
	}
	rec.o.citizens = len(r.citizens)
	rec.o.searchesPerCitizen = float64(rec.o.searches) / float64(rec.o.citizens)
	rec.o.bookAttemptsPerCitizen = float64(rec.o.attempts) / float64(rec.o.citizens)
	return rec.o, nil
}

// citizen is one person with the app: search their unit, pick one of the
// first free times, book it; on RESOURCE_EXHAUSTED pick another from the
// list shown, searching again when the list is spent and the whole region
// when their unit is full.
func (r *rush) citizen(ctx context.Context, idx int, rng *rand.Rand, rec *recorder, start time.Time) error {
	c := r.citizens[idx]
	unit := idx % len(r.units)
	search, region := r.unitSearch[unit], false
	attempt := 0
	for {
		t0 := time.Now()
		res, err := r.post(ctx, searchPath, c.Token, search)
		lat := time.Since(t0)
		if err != nil {
			return fmt.Errorf("SearchSlots: %w", err)
		}
		if res.code != "" {
			return fmt.Errorf("SearchSlots answered %s: %s", res.code, res.body)
		}
		shown := ids(res.body)
		rec.add(func(o *outcome) { o.searches++; o.searchLat = append(o.searchLat, lat) })
		if len(shown) == 0 {
			if !region {
				search, region = r.regionSearch, true
				continue
			}
			rec.add(func(o *outcome) { o.gaveUp++ })
			return nil
		}
		for len(shown) > 0 {
			k := rng.IntN(min(r.pick, len(shown)))
			slot := shown[k]
			shown = slices.Delete(shown, k, k+1)
			attempt++
			key := fmt.Sprintf("rush-%d-%d", idx, attempt)
			body := []byte(`{"slotId":"` + slot + `","idempotencyKey":"` + key + `"}`)
			double := rng.Float64() < r.doubleShare
			var res call
			if double {
				res, err = r.bookTwice(ctx, c.Token, body, rec)
			} else {
				res, err = r.book(ctx, c.Token, body, rec)
			}
			if err != nil {
				return err
			}
			switch res.code {
			case "":
				got := ids(res.body)
				if len(got) == 0 {
					return fmt.Errorf("BookSlot answered without an appointment id: %.200s", res.body)
				}
				at := time.Since(start)
				rec.add(func(o *outcome) {
					o.booked++
					o.appointments[c.PersonID] = got[0]
					if o.booked == 1 {
						o.firstBooking = at
					}
					o.lastBooking = max(o.lastBooking, at)
				})
				return r.after(ctx, c, body, got[0], shown, search, rng, rec)
			case "resource_exhausted":
				rec.add(func(o *outcome) { o.full++ })
			default:
				rec.add(func(o *outcome) { o.otherErrors++; o.errorCodes[res.code]++ })
				if res.code == "failed_precondition" && double {
					// The losing half of a double tap can be refused as a
					// second booking; the winner's answer is lost with it.
					return nil
				}
				return fmt.Errorf("BookSlot answered %s: %.300s", res.code, res.body)
			}
		}
	}
}

func (r *rush) book(ctx context.Context, tok string, body []byte, rec *recorder) (call, error) {
	t0 := time.Now()
	res, err := r.post(ctx, bookPath, tok, body)
	lat := time.Since(t0)
	if err != nil {
		return res, fmt.Errorf("BookSlot: %w", err)
	}
	rec.add(func(o *outcome) { o.attempts++; o.bookLat = append(o.bookLat, lat) })
	return res, nil
}

// bookTwice sends the same booking twice at once, as a double tap would,
// and returns a successful answer if either got one.
func (r *rush) bookTwice(ctx context.Context, tok string, body []byte, rec *recorder) (call, error) {
	var (
		res  [2]call
		errs [2]error
		wg   sync.WaitGroup
	)
	for i := range 2 {
		wg.Go(func() { res[i], errs[i] = r.book(ctx, tok, body, rec) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return call{}, err
		}
	}
	a, b := ids(res[0].body), ids(res[1].body)
	rec.add(func(o *outcome) {
		o.doubles++
		if res[0].code == "" && res[1].code == "" && len(a) > 0 && len(b) > 0 && a[0] == b[0] {
			o.doublesSame++
		}
		o.doubleCodes[codeName(res[0].code)+"+"+codeName(res[1].code)]++
	})
	if res[0].code == "" {
		return res[0], nil
	}
	if res[1].code == "" {
		return res[1], nil
	}
	return res[0], nil
}

func codeName(c string) string {
	if c == "" {
		return "ok"
	}
	return c
}

// after is what some citizens do once booked: resend the booking as if its
// answer was lost, or try to book a second vaccination.
func (r *rush) after(ctx context.Context, c benchtoken.Citizen, body []byte, id string, shown []string, search []byte, rng *rand.Rand, rec *recorder) error {
	if rng.Float64() < r.repeatShare {
		res, err := r.book(ctx, c.Token, body, rec)
		if err != nil {
			return err
		}
		got := ids(res.body)
		rec.add(func(o *outcome) {
			o.repeats++
			if res.code == "" && len(got) > 0 && got[0] == id {
				o.repeatsSame++
			}
		})
	}
	if rng.Float64() < r.secondShare {
		if len(shown) == 0 {
			res, err := r.post(ctx, searchPath, c.Token, search)
			if err != nil {
				return err
			}
			shown = ids(res.body)
		}
		if len(shown) == 0 {
			return nil
		}
		key := "rush-second-" + c.PersonID
		res, err := r.book(ctx, c.Token, []byte(`{"slotId":"`+shown[0]+`","idempotencyKey":"`+key+`"}`), rec)
		if err != nil {
			return err
		}
		rec.add(func(o *outcome) {
			o.seconds++
			switch res.code {
			case "failed_precondition":
				o.secondsRefused++
			case "":
				o.secondsBooked++
			case "resource_exhausted":
			default:
				o.errorCodes["second "+res.code]++
			}
		})
	}
	return nil
}

// percentile returns the p-th percentile (0–100) of ds, which it sorts.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}
