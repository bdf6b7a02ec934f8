package support

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// citizenService is SupportService.
type citizenService struct{ *Service }

const (
	defaultCasePage  = 50
	defaultEventPage = 100
	// caseEventsMax is how many events GetCase returns; a longer thread is
	// read on with ListCaseEvents.
	caseEventsMax = 1000
)

// medicalAdvice is what a citizen with a medical question is told.
var medicalAdvice = map[supportv1.Language]string{
	supportv1.Language_LANGUAGE_SV: "Supporten kan inte svara på medicinska frågor. Ring 1177 för sjukvårdsrådgivning, dygnet runt. Vid livshotande tillstånd: ring 112.",
	supportv1.Language_LANGUAGE_EN: "Support cannot answer medical questions. Call 1177 for medical advice, day and night. In a life-threatening emergency, call 112.",
}

func (s *citizenService) PrepareCase(ctx context.Context, req *supportv1.PrepareCaseRequest) (*supportv1.PrepareCaseResponse, error) {
	lang := store.LanguageSwedish
	if req.Language == supportv1.Language_LANGUAGE_EN {
		lang = store.LanguageEnglish
	}
	hits, err := s.store.HelpArticleSearch(ctx, lang, req.Text, 3)
	if err != nil {
		return nil, err
	}
	hours, err := s.hours(ctx, req.Language)
	if err != nil {
		return nil, err
	}
	res := &supportv1.PrepareCaseResponse{Hours: hours}
	for _, h := range hits {
		res.Suggestions = append(res.Suggestions, &supportv1.Suggestion{Slug: h.Slug, Title: h.Title, Summary: h.Summary})
	}
	if req.Category == supportv1.Category_CATEGORY_MEDICAL {
		res.Advice = medicalAdvice[languageOr(req.Language)]
	}
	return res, nil
}

func languageOr(l supportv1.Language) supportv1.Language {
	if l == supportv1.Language_LANGUAGE_EN {
		return l
	}
	return supportv1.Language_LANGUAGE_SV
}

// hours says whether support is open now, in the caller's language.
func (s *Service) hours(ctx context.Context, lang supportv1.Language) (*supportv1.SupportHours, error) {
	sched, err := s.schedule(ctx)
	if err != nil {
		return nil, err
	}
	st := sched.StatusAt(s.now())
	en := lang == supportv1.Language_LANGUAGE_EN
	h := &supportv1.SupportHours{OpenNow: st.OpenNow}
	switch {
	case st.OpenNow:
		h.ClosesTime = timestamppb.New(st.ClosesAt)
		h.Message = "Supporten är öppen till kl. " + st.ClosesAt.In(s.cfg.Location).Format("15:04") + "."
		if en {
			h.Message = "Support is open until " + st.ClosesAt.In(s.cfg.Location).Format("15:04") + "."
		}
	case !st.NextOpensAt.IsZero():
		h.NextOpensTime = timestamppb.New(st.NextOpensAt)
		at := st.NextOpensAt.In(s.cfg.Location).Format("2006-01-02 15:04")
		h.Message = "Supporten är stängd. Vi svarar när vi öppnar igen, " + at + "."
		if en {
			h.Message = "Support is closed. We will answer when we open again, " + at + "."
		}
	default:
		h.Message = "Supporten är stängd."
		if en {
			h.Message = "Support is closed."
		}
	}
	return h, nil
}

func (s *citizenService) OpenCase(ctx context.Context, req *supportv1.OpenCaseRequest) (*supportv1.OpenCaseResponse, error) {
	text, err := checkText("text", req.Text)
	if err != nil {
		return nil, err
	}
	sched, err := s.schedule(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := store.SupportCase{
		OpenKey: req.IdempotencyKey, Category: nameOf(categories, req.Category), Subject: subjectOf(text),
		FirstAnswerDue: sched.DueAfter(now, s.cfg.FirstAnswerWithin),
	}
	if c.FirstAnswerDue.IsZero() {
		c.FirstAnswerDue = now.Add(s.cfg.FirstAnswerWithin)
	}
	var secret string
	if p, ok := access.FromContext(ctx); ok && p.Has(access.RoleCitizen) && p.PersonID != "" {
		c.PersonID, c.OwnerScope = p.PersonID, "person:"+p.PersonID
	} else {
		if req.Guest == nil || req.Guest.DeviceId == "" {
			return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("guest.device_id: log in, or give the app installation's id to open a case as a guest"))
		}
		// Counted before anything is written: a flood from one address is
		// refused whatever it sends.
		ip := rpc.ClientIP(ctx).String()
		if err := s.store.RateLimitTake(ctx, "support-guest-open:ip:"+ip, time.Hour, s.cfg.GuestOpensPerHour); err != nil {
			if errors.Is(err, store.ErrRateLimited) {
				return nil, connect.NewError(connect.CodeResourceExhausted, errors.New("too many support cases from this network; try again in an hour, or log in"))
			}
			return nil, err
		}
		secret, c.GuestSecretHash = newSecret()
		c.GuestDeviceID, c.Email, c.OwnerScope = req.Guest.DeviceId, req.Guest.Email, "guest"
	}
	opened, _, err := s.store.SupportCaseOpen(ctx, c, store.SupportEvent{Kind: "message", Party: "citizen", Body: text, Channel: "app", IdempotencyKey: req.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	hours, err := s.hours(ctx, req.Language)
	if err != nil {
		return nil, err
	}
	return &supportv1.OpenCaseResponse{Case: caseToProto(opened), GuestSecret: secret, Hours: hours}, nil
}

func (s *citizenService) ListMyCases(ctx context.Context, req *supportv1.ListMyCasesRequest) (*supportv1.ListMyCasesResponse, error) {
	p, _ := access.FromContext(ctx)
	size := int(req.PageSize)
	if size == 0 {
		size = defaultCasePage
	}
	cs, err := s.store.SupportCaseListByPerson(ctx, p.PersonID, size)
	if err != nil {
		return nil, err
	}
	res := &supportv1.ListMyCasesResponse{}
	for _, c := range cs {
		res.Cases = append(res.Cases, caseToProto(c))
	}
	return res, nil
}

func (s *citizenService) GetCase(ctx context.Context, req *supportv1.GetCaseRequest) (*supportv1.GetCaseResponse, error) {
	c, err := s.citizenCase(ctx, req.CaseId, req.GuestSecret)
	if err != nil {
		return nil, err
	}
	es, err := s.store.SupportEventList(ctx, c.ID, 0, caseEventsMax)
	if err != nil {
		return nil, err
	}
	return &supportv1.GetCaseResponse{Case: caseToProto(c), Events: eventsToProto(es, false)}, nil
}

// checkCursor refuses a cursor the case never returned.
func checkCursor(c store.SupportCase, after int64) error {
	if after > c.LastSeq {
		return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("after: the case has no event %d; resume from a next_after the case returned", after))
	}
	return nil
}

// caseView is what a reader of a case is sent: events after a cursor, the
// state, and whether the other side is typing.
type caseView struct {
	events []store.SupportEvent
	next   int64
	state  supportv1.CaseState
	typing bool
	// typingUntil is when typing stops showing, for a stream to send again.
	typingUntil time.Time
}

// readCase reads c's view after the cursor for one side (staff: support).
func (s *Service) readCase(ctx context.Context, id string, after int64, limit int, staff bool) (caseView, error) {
	c, err := s.store.SupportCaseGet(ctx, id)
	if err != nil {
		return caseView{}, err
	}
	if err := checkCursor(c, after); err != nil {
		return caseView{}, err
	}
	es, err := s.store.SupportEventList(ctx, id, after, limit)
	if err != nil {
		return caseView{}, err
	}
	v := caseView{events: es, next: after, state: states[c.State]}
	if len(es) > 0 {
		v.next = es[len(es)-1].Seq
	}
	v.typingUntil = c.SupportTypingUntil
	if staff {
		v.typingUntil = c.CitizenTypingUntil
	}
	v.typing = s.now().Before(v.typingUntil)
	return v, nil
}

func (s *citizenService) ListCaseEvents(ctx context.Context, req *supportv1.ListCaseEventsRequest) (*supportv1.ListCaseEventsResponse, error) {
	c, err := s.citizenCase(ctx, req.CaseId, req.GuestSecret)
	if err != nil {
		return nil, err
	}
	size := int(req.PageSize)
	if size == 0 {
		size = defaultEventPage
	}
	v, err := s.readCase(ctx, c.ID, req.After, size, false)
	if err != nil {
		return nil, err
	}
	return &supportv1.ListCaseEventsResponse{Events: eventsToProto(v.events, false), NextAfter: v.next, OtherTyping: v.typing, State: v.state}, nil
}

func (s *citizenService) WatchCase(ctx context.Context, req *supportv1.WatchCaseRequest, stream *connect.ServerStream[supportv1.WatchCaseResponse]) error {
	c, err := s.citizenCase(ctx, req.CaseId, req.GuestSecret)
	if err != nil {
		return err
	}
	if err := checkCursor(c, req.After); err != nil {
		return err
	}
	return s.watchCase(ctx, c.ID, req.After, false, func(v caseView) error {
		return stream.Send(&supportv1.WatchCaseResponse{Events: eventsToProto(v.events, false), NextAfter: v.next, OtherTyping: v.typing, State: v.state})
	})
}

// watchCase sends a case's view after the cursor at once, then whenever it
// changes: a new event, the state, the other side's typing. It takes the
// feed's next change before each read, so a change between the read and
// the wait is never missed.
func (s *Service) watchCase(ctx context.Context, id string, after int64, staff bool, send func(caseView) error) error {
	first := true
	var last caseView
	return s.follow(ctx, store.TopicSupportCase, id, func(ctx context.Context) (time.Time, error) {
		for {
			v, err := s.readCase(ctx, id, after, defaultEventPage, staff)
			if err != nil {
				return time.Time{}, err
			}
			if first || len(v.events) > 0 || v.state != last.state || v.typing != last.typing {
				if err := send(v); err != nil {
					return time.Time{}, err
				}
			}
			first, last, after = false, v, v.next
			if len(v.events) < defaultEventPage {
				if v.typing {
					return v.typingUntil, nil
				}
				return time.Time{}, nil
			}
		}
	})
}

// follow runs step, then again at each change of topic's key, at the
// time step asks for, or every WatchPoll, until the stream's life ends.
func (s *Service) follow(ctx context.Context, topic, key string, step func(context.Context) (time.Time, error)) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WatchLife)
	defer cancel()
	poll := time.NewTimer(s.cfg.WatchPoll)
	defer poll.Stop()
	for {
		news := s.hub.Next(topic, key)
		wake, err := step(ctx)
		if ctx.Err() != nil {
			return nil //nolint:nilerr // the stream's life or the caller ended it mid-read
		} else if err != nil {
			return err
		}
		wait := s.cfg.WatchPoll
		if !wake.IsZero() {
			wait = min(wait, max(wake.Sub(s.now()), 10*time.Millisecond))
		}
		poll.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-news:
		case <-poll.C:
		}
	}
}

func (s *citizenService) SendMessage(ctx context.Context, req *supportv1.SendMessageRequest) (*supportv1.SendMessageResponse, error) {
	text, err := checkText("text", req.Text)
	if err != nil {
		return nil, err
	}
	c, err := s.citizenCase(ctx, req.CaseId, req.GuestSecret)
	if err != nil {
		return nil, err
	}
	var replayed *store.SupportEvent
	_, es, err := s.store.SupportCaseUpdate(ctx, c.ID, func(tx *store.Tx, c *store.SupportCase) ([]store.SupportEvent, error) {
		if e, err := store.SupportEventByKeyTx(ctx, tx, c.ID, req.IdempotencyKey); err == nil && e.Party == "citizen" {
			replayed = &e
			return nil, nil
		} else if err == nil {
			return nil, connect.NewError(connect.CodeAlreadyExists, errors.New("idempotency_key: already used in this case; make a new one for a new message"))
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if c.State == "closed" {
			return nil, errClosed
		}
		if c.GuestSecretHash != nil {
			if c.GuestMessages >= s.cfg.GuestMessages {
				return nil, errGuestMessages(s.cfg.GuestMessages)
			}
			c.GuestMessages++
		}
		if c.State == "waiting" {
			c.State = "open"
		}
		c.CitizenTypingUntil = time.Time{}
		return []store.SupportEvent{{Kind: "message", Party: "citizen", Body: text, Channel: "app", IdempotencyKey: req.IdempotencyKey}}, nil
	})
	if err != nil {
		return nil, err
	}
	if replayed != nil {
		return &supportv1.SendMessageResponse{Event: eventToProto(*replayed, false)}, nil
	}
	return &supportv1.SendMessageResponse{Event: eventToProto(es[0], false)}, nil
}

// errGuestMessages refuses a guest's message over the limit of a case.
func errGuestMessages(limit int) error {
	return connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("a case opened without logging in takes at most %d messages; log in to write more", limit))
}

func (s *citizenService) MarkRead(ctx context.Context, req *supportv1.MarkReadRequest) (*supportv1.MarkReadResponse, error) {
	c, err := s.citizenCase(ctx, req.CaseId, req.GuestSecret)
	if err != nil {
		return nil, err
	}
	return &supportv1.MarkReadResponse{}, s.markRead(ctx, c.ID, req.UpTo, false)
}

// markRead records that one side read a case up to an event; reading less
// than before changes nothing.
func (s *Service) markRead(ctx context.Context, id string, upTo int64, staff bool) error {
	_, _, err := s.store.SupportCaseUpdate(ctx, id, func(_ *store.Tx, c *store.SupportCase) ([]store.SupportEvent, error) {
		if err := checkCursor(*c, upTo); err != nil {
			return nil, err
		}
		read, party := &c.CitizenReadSeq, "citizen"
		if staff {
			read, party = &c.SupportReadSeq, "support"
		}
		if upTo <= *read {
			return nil, nil
		}
		*read = upTo
		return []store.SupportEvent{{Kind: "read", Party: party, ReadUpTo: upTo}}, nil
	})
	return err
}

func (s *citizenService) SetTyping(ctx context.Context, req *supportv1.SetTypingRequest) (*supportv1.SetTypingResponse, error) {
	c, err := s.citizenCase(ctx, req.CaseId, req.GuestSecret)
	if err != nil {
		return nil, err
	}
	return &supportv1.SetTypingResponse{}, s.setTyping(ctx, c.ID, req.Typing, false)
}

// setTyping shows one side typing for TypingFor, or stops it. Typing is
// two columns of the case, not events: it needs no history, yet every
// replica's streams hear it through the change feed.
func (s *Service) setTyping(ctx context.Context, id string, typing, staff bool) error {
	until := time.Time{}
	if typing {
		until = s.now().Add(s.cfg.TypingFor)
	}
	_, _, err := s.store.SupportCaseUpdate(ctx, id, func(_ *store.Tx, c *store.SupportCase) ([]store.SupportEvent, error) {
		if c.State == "closed" {
			return nil, errClosed
		}
		if staff {
			c.SupportTypingUntil = until
		} else {
			c.CitizenTypingUntil = until
		}
		return nil, nil
	})
	return err
}

func (s *citizenService) ListServiceNotices(ctx context.Context, _ *supportv1.ListServiceNoticesRequest) (*supportv1.ListServiceNoticesResponse, error) {
	ns, err := s.store.ServiceNoticeListActive(ctx)
	if err != nil {
		return nil, err
	}
	res := &supportv1.ListServiceNoticesResponse{}
	for _, n := range ns {
		res.Notices = append(res.Notices, noticeToProto(n))
	}
	return res, nil
}
