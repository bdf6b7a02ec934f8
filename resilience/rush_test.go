package resilience

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
)

// rush is a booking rush as the app makes it: each citizen books a time,
// taking the next one when it is full, and retries a request that failed
// with a retryable code with the same idempotency key until it is answered.
// Once booked, the citizen sends the booking again, as after a lost answer,
// and must be given the same appointment.
type rush struct {
	t       *testing.T
	w       world
	client  appointmentv1connect.AppointmentServiceClient
	workers int
	// pause is each worker's rest between citizens, to spread the rush
	// over the fault.
	pause time.Duration
	// retryFor bounds how long one request is retried.
	retryFor time.Duration

	next      atomic.Int64
	booked    atomic.Int64
	lastOK    atomic.Int64 // unix nanoseconds of the latest successful booking
	mu        sync.Mutex
	told      map[string]string // person → the appointment they were told of
	retried   map[string]int    // retried failures by code
	surprises []string          // answers a client must never get
}

func newRush(t *testing.T, w world, baseURL string, workers int, pause time.Duration) *rush {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	hc := &http.Client{Transport: &http.Transport{
		Protocols: p, MaxIdleConnsPerHost: workers, DialContext: (&net.Dialer{Timeout: time.Second}).DialContext,
	}}
	t.Cleanup(hc.CloseIdleConnections)
	return &rush{
		t: t, w: w, client: appointmentv1connect.NewAppointmentServiceClient(hc, baseURL, bearer()),
		workers: workers, pause: pause, retryFor: 30 * time.Second,
		told: map[string]string{}, retried: map[string]int{},
	}
}

// run books until every citizen has had their turn or stop is closed.
func (r *rush) run(stop <-chan struct{}) {
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(func() {
			for {
				i := int(r.next.Add(1)) - 1
				if i >= len(r.w.citizens) {
					return
				}
				select {
				case <-stop:
					return
				default:
				}
				r.citizen(i)
				time.Sleep(r.pause)
			}
		})
	}
	wg.Wait()
}

// start runs the rush in the background; the returned function ends it and
// waits for the citizens in flight.
func (r *rush) start() (finish func()) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { r.run(stop); close(done) }()
	var once sync.Once
	return func() { once.Do(func() { close(stop); <-done }) }
}

// waitBooked waits until at least n bookings were answered.
func (r *rush) waitBooked(n int64, timeout time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for r.booked.Load() < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("only %d bookings answered after %s, want %d; surprises: %v", r.booked.Load(), timeout, n, r.surprisesSoFar())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rush) citizen(i int) {
	c := r.w.citizens[i]
	// Citizens crowd the first times, so that some find them full.
	slot := i % max(len(r.w.slots)/4, 1)
	for attempt := 1; slot < len(r.w.slots); attempt++ {
		req := &appointmentv1.BookSlotRequest{SlotId: r.w.slots[slot], IdempotencyKey: key(i, attempt)}
		res, err := r.book(c, req)
		switch connect.CodeOf(err) {
		case connect.CodeResourceExhausted:
			slot++
			continue
		case 0:
		default:
			if err != nil {
				r.surprise("citizen %d: BookSlot: %v", i, err)
				return
			}
		}
		id := res.GetAppointment().GetId()
		r.mu.Lock()
		r.told[c.personID] = id
		r.mu.Unlock()
		r.booked.Add(1)
		r.lastOK.Store(time.Now().UnixNano())
		// The answer was lost, the app sends the booking again.
		again, err := r.book(c, req)
		if err != nil {
			r.surprise("citizen %d: BookSlot again with the same key: %v", i, err)
		} else if got := again.GetAppointment().GetId(); got != id {
			r.surprise("citizen %d: BookSlot again with the same key answered appointment %s, first %s", i, got, id)
		}
		return
	}
	r.surprise("citizen %d: every time was full", i)
}

// book sends one booking and retries it, with the same idempotency key,
// while it fails with Unavailable, times out or is cut off by the network,
// for up to retryFor.
func (r *rush) book(c citizen, req *appointmentv1.BookSlotRequest) (*appointmentv1.BookSlotResponse, error) {
	give := time.Now().Add(r.retryFor)
	backoff := 20 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(asCitizen(context.Background(), c), 5*time.Second)
		res, err := r.client.BookSlot(ctx, req)
		cancel()
		if err == nil {
			return res, nil
		}
		// The app retries what the server called retryable, and what
		// never reached it or whose answer was cut off (a replica killed
		// mid-answer): anything that is not an error the server sent.
		code := connect.CodeOf(err)
		what := code.String()
		if !connect.IsWireError(err) && code != connect.CodeUnavailable {
			what = "network"
		} else if code != connect.CodeUnavailable && code != connect.CodeDeadlineExceeded {
			return nil, err
		}
		if time.Now().After(give) {
			return nil, err
		}
		r.mu.Lock()
		r.retried[what]++
		r.mu.Unlock()
		time.Sleep(backoff)
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

func (r *rush) surprise(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.surprises = append(r.surprises, fmt.Sprintf(format, args...))
}

func (r *rush) surprisesSoFar() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.surprises[:min(len(r.surprises), 5)]...)
}

// check fails the test on any answer a client must never get and verifies
// the database against what the citizens were told.
func (r *rush) check() {
	r.t.Helper()
	r.mu.Lock()
	surprises := r.surprises
	told := r.told
	r.t.Logf("%d citizens booked; retried: %v", len(told), r.retried)
	r.mu.Unlock()
	for i, s := range surprises {
		if i == 10 {
			r.t.Errorf("… and %d more", len(surprises)-i)
			break
		}
		r.t.Error(s)
	}
	verify(r.t, r.w, told)
}

// tokenKey carries the calling citizen's access token in a context.
type tokenKey struct{}

func asCitizen(ctx context.Context, c citizen) context.Context {
	return context.WithValue(ctx, tokenKey{}, c.token)
}

// bearer sends the token asCitizen put in the context.
func bearer() connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if tok, ok := ctx.Value(tokenKey{}).(string); ok {
				req.Header().Set("Authorization", "Bearer "+tok)
			}
			return next(ctx, req)
		}
	}))
}
