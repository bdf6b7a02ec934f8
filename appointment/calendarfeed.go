package appointment

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/ical"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/windowlimit"
)

const (
	// feedTokenBytes is the secret in a feed URL: 256 bits, beyond guessing.
	feedTokenBytes = 32
	// feedHistory is how far back a feed shows visits, so that a recent
	// one stays in the calendar and a cancellation reaches it.
	feedHistory = 30 * 24 * time.Hour
	// feedMaxAge is how long a calendar app or cache may keep a feed.
	feedMaxAge = 5 * time.Minute
	// feedRefresh is how often the feed asks calendar apps to fetch it.
	feedRefresh = time.Hour
	// feedPollsPerMinute is how often one feed may be read per minute (a
	// link shared by a family's devices, and their retries, stay far
	// below); feedGuessesPerMinute how many unknown links one address may
	// ask for.
	feedPollsPerMinute   = 20
	feedGuessesPerMinute = 10
	// feedKnownFor is how long a replica remembers a feed it served, so
	// that an address over its guessing limit still reaches its own feeds.
	feedKnownFor = 24 * time.Hour
)

// calendarFeeds serves people's private calendar feeds at
// GET /calendar/{token}.ics: their own and their under-age children's
// visits, for a calendar app to subscribe to without logging in. The
// token is the only credential, so only its SHA-256 is stored and it never
// appears in a log line.
type calendarFeeds struct {
	// polls limits reads of one feed, guesses lookups of links that do not
	// exist from one address (per replica).
	polls, guesses *windowlimit.Limiter
	// known are the feeds this replica served lately: the guessing limit
	// is not theirs.
	known   *windowlimit.RecentSet
	store   *store.Store
	custody *rpc.Custody
	logger  *slog.Logger
	now     func() time.Time
	// baseURL is the server's public URL, without a trailing slash.
	baseURL string
}

func newCalendarFeeds(st *store.Store, custody *rpc.Custody, logger *slog.Logger, now func() time.Time, publicURL string) *calendarFeeds {
	return &calendarFeeds{
		store: st, custody: custody, logger: logger, now: now, baseURL: strings.TrimRight(publicURL, "/"),
		polls:   windowlimit.New(feedPollsPerMinute, time.Minute, now),
		guesses: windowlimit.New(feedGuessesPerMinute, time.Minute, now),
		known:   windowlimit.NewRecentSet(feedKnownFor, now),
	}
}

// newFeedToken returns a random feed token for the URL and its hash for
// the store.
func newFeedToken() (token string, hash []byte) {
	b := make([]byte, feedTokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(b), sum[:]
}

// feedTokenHash returns the hash of a token taken from a URL, or false if
// it cannot be one of ours: such requests never reach the database.
func feedTokenHash(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(feedTokenBytes) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != feedTokenBytes {
		return nil, false
	}
	sum := sha256.Sum256(b)
	return sum[:], true
}

func (f *calendarFeeds) url(token string) string {
	return f.baseURL + "/calendar/" + token + ".ics"
}

func (s *appointmentService) CreateCalendarFeed(ctx context.Context, _ *appointmentv1.CreateCalendarFeedRequest) (*appointmentv1.CreateCalendarFeedResponse, error) {
	p, _ := access.FromContext(ctx)
	token, hash := newFeedToken()
	created, err := s.store.CalendarFeedCreate(ctx, p.PersonID, hash)
	if err != nil {
		return nil, err
	}
	s.feeds.known.Add(string(hash))
	return &appointmentv1.CreateCalendarFeedResponse{Url: s.feeds.url(token), CreateTime: timestamppb.New(created)}, nil
}

func (s *appointmentService) RevokeCalendarFeed(ctx context.Context, _ *appointmentv1.RevokeCalendarFeedRequest) (*appointmentv1.RevokeCalendarFeedResponse, error) {
	p, _ := access.FromContext(ctx)
	if err := s.store.CalendarFeedRevoke(ctx, p.PersonID); err != nil {
		return nil, err
	}
	return &appointmentv1.RevokeCalendarFeedResponse{}, nil
}

// ServeHTTP answers GET and HEAD of /calendar/{file} with the feed, or 404
// for a token that is unknown, revoked or replaced.
func (f *calendarFeeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	hash, valid := feedTokenHash(token)
	if !ok || !valid {
		feedNotFound(w)
		return
	}
	// A client that keeps asking for links that do not exist is guessing
	// (or broken), and each guess costs a database read: it is refused
	// further unknown links, but not the feeds it has (those this replica
	// served lately), which have their own limit below.
	ip := remoteIP(r)
	if !f.known.Has(string(hash)) {
		if wait := f.guesses.Blocked(ip); wait > 0 {
			tooMany(w, wait)
			return
		}
	}
	// Calendars poll a feed every hour or so; a link polled far more often
	// is being abused, and each poll reads the database.
	if wait := f.polls.Take(string(hash)); wait > 0 {
		tooMany(w, wait)
		return
	}
	ctx := r.Context()
	owner, err := f.store.CalendarFeedOwner(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		f.known.Remove(string(hash))
		f.guesses.Take(ip)
		feedNotFound(w)
		return
	} else if err != nil {
		f.fail(w, r, err)
		return
	}
	f.known.Add(string(hash))
	body, err := f.render(ctx, owner)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	sum := sha256.Sum256([]byte(body))
	h := w.Header()
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(int(feedMaxAge.Seconds())))
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// ServeContent answers If-None-Match with 304 and HEAD without a body.
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(body))
}

// render is the feed of personID: their visits and their under-age
// children's from feedHistory ago on, in Swedish, with no personal
// identity number.
func (f *calendarFeeds) render(ctx context.Context, personID string) (string, error) {
	patients, err := f.custody.PatientsOf(ctx, personID)
	if err != nil {
		return "", err
	}
	as, err := f.store.AppointmentListForCalendar(ctx, patients, f.now().Add(-feedHistory))
	if err != nil {
		return "", err
	}
	cal := ical.Calendar{Name: "Nära", Refresh: feedRefresh}
	for _, a := range as {
		cal.Events = append(cal.Events, calendarEvent(a))
	}
	return ical.RenderCalendar(cal)
}

// tooMany answers 429 with when to come back.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	http.Error(w, "too many requests for calendars; try again later", http.StatusTooManyRequests)
}

// remoteIP is the address the request came from, behind trusted proxies
// the one they name (clientIP), without its port.
func remoteIP(r *http.Request) string {
	return rpc.ClientIP(r.Context()).String()
}

func feedNotFound(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "no such calendar; create a new calendar link in the app", http.StatusNotFound)
}

// fail logs err, never the URL with its token, and answers 500.
func (f *calendarFeeds) fail(w http.ResponseWriter, r *http.Request, err error) {
	f.logger.ErrorContext(r.Context(), "calendar feed failed", slog.String("error", err.Error()))
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, rpc.InternalMessage, http.StatusInternalServerError)
}
