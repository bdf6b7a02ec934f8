package support

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// deskService is SupportDeskService.
type deskService struct{ *Service }

const defaultQueuePage = 100

func queueFilter(p access.Principal, line supportv1.Line, cat supportv1.Category, mine bool, size int) store.SupportQueueFilter {
	f := store.SupportQueueFilter{Line: nameOf(lines, line), Category: nameOf(categories, cat), Limit: size}
	if f.Line == "" {
		f.Line = "first"
	}
	if mine {
		f.Assignee = p.HSAID
	}
	if f.Limit == 0 {
		f.Limit = defaultQueuePage
	}
	return f
}

// queue reads a queue and logs the read of each citizen it names.
func (s *deskService) queue(ctx context.Context, f store.SupportQueueFilter) ([]*supportv1.DeskCase, error) {
	cs, err := s.store.SupportCaseQueue(ctx, f)
	if err != nil {
		return nil, err
	}
	if err := s.logRead(ctx, cs...); err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]*supportv1.DeskCase, len(cs))
	for i, c := range cs {
		out[i] = deskCaseToProto(c, now)
	}
	return out, nil
}

func (s *deskService) ListQueue(ctx context.Context, req *supportv1.ListQueueRequest) (*supportv1.ListQueueResponse, error) {
	p, _ := access.FromContext(ctx)
	cs, err := s.queue(ctx, queueFilter(p, req.Line, req.Category, req.Mine, int(req.PageSize)))
	if err != nil {
		return nil, err
	}
	return &supportv1.ListQueueResponse{Cases: cs}, nil
}

func (s *deskService) WatchQueue(ctx context.Context, req *supportv1.WatchQueueRequest, stream *connect.ServerStream[supportv1.WatchQueueResponse]) error {
	p, _ := access.FromContext(ctx)
	f := queueFilter(p, req.Line, req.Category, req.Mine, 0)
	return s.follow(ctx, store.TopicSupportQueue, f.Line, func(ctx context.Context) (time.Time, error) {
		cs, err := s.queue(ctx, f)
		if err != nil {
			return time.Time{}, err
		}
		return time.Time{}, stream.Send(&supportv1.WatchQueueResponse{Cases: cs})
	})
}

func (s *deskService) GetCase(ctx context.Context, req *supportv1.SupportDeskServiceGetCaseRequest) (*supportv1.SupportDeskServiceGetCaseResponse, error) {
	c, err := s.staffCase(ctx, req.CaseId)
	if err != nil {
		return nil, err
	}
	es, err := s.store.SupportEventList(ctx, c.ID, 0, caseEventsMax)
	if err != nil {
		return nil, err
	}
	return &supportv1.SupportDeskServiceGetCaseResponse{Case: deskCaseToProto(c, s.now()), Events: eventsToProto(es, true)}, nil
}

func (s *deskService) ListCaseEvents(ctx context.Context, req *supportv1.SupportDeskServiceListCaseEventsRequest) (*supportv1.SupportDeskServiceListCaseEventsResponse, error) {
	c, err := s.staffCase(ctx, req.CaseId)
	if err != nil {
		return nil, err
	}
	size := int(req.PageSize)
	if size == 0 {
		size = defaultEventPage
	}
	v, err := s.readCase(ctx, c.ID, req.After, size, true)
	if err != nil {
		return nil, err
	}
	return &supportv1.SupportDeskServiceListCaseEventsResponse{Events: eventsToProto(v.events, true), NextAfter: v.next, OtherTyping: v.typing, State: v.state}, nil
}

// WatchCase logs the read once, when the stream opens: what it sends later
// is the same case.
func (s *deskService) WatchCase(ctx context.Context, req *supportv1.SupportDeskServiceWatchCaseRequest, stream *connect.ServerStream[supportv1.SupportDeskServiceWatchCaseResponse]) error {
	c, err := s.staffCase(ctx, req.CaseId)
	if err != nil {
		return err
	}
	if err := checkCursor(c, req.After); err != nil {
		return err
	}
	return s.watchCase(ctx, c.ID, req.After, true, func(v caseView) error {
		return stream.Send(&supportv1.SupportDeskServiceWatchCaseResponse{Events: eventsToProto(v.events, true), NextAfter: v.next, OtherTyping: v.typing, State: v.state})
	})
}

// change applies fn to a case the caller may act on (any case not closed,
// unless allowClosed), logs the read and returns the case as staff see it.
func (s *deskService) change(ctx context.Context, id string, fn func(tx *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error)) (store.SupportCase, []store.SupportEvent, error) {
	p, _ := access.FromContext(ctx)
	c, es, err := s.store.SupportCaseUpdate(ctx, id, func(tx *store.Tx, c *store.SupportCase) ([]store.SupportEvent, error) {
		if c.State == "closed" {
			return nil, errClosed
		}
		return fn(tx, c, p)
	})
	if errors.Is(err, store.ErrNotFound) {
		return c, nil, errNoCase
	} else if err != nil {
		return c, nil, err
	}
	return c, es, s.logRead(ctx, c)
}

// stateEvent is the event that tells both sides of c's new state.
func stateEvent(c *store.SupportCase, p access.Principal) store.SupportEvent {
	return store.SupportEvent{Kind: "state", Party: "support", AuthorHSAID: p.HSAID, State: c.State, Line: c.Line,
		AssigneeName: c.AssigneeName, CloseReason: c.CloseReason}
}

func (s *deskService) ClaimCase(ctx context.Context, req *supportv1.ClaimCaseRequest) (*supportv1.ClaimCaseResponse, error) {
	c, _, err := s.change(ctx, req.CaseId, func(_ *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error) {
		if c.AssigneeHSAID == p.HSAID {
			return nil, nil
		}
		c.AssigneeHSAID, c.AssigneeName = p.HSAID, p.DisplayName
		if c.State == "new" {
			c.State = "open"
		}
		return []store.SupportEvent{stateEvent(c, p)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &supportv1.ClaimCaseResponse{Case: deskCaseToProto(c, s.now())}, nil
}

// placeholder matches a placeholder of a standard answer: {förnamn},
// {faq:slug}, {1177:path}.
var placeholder = regexp.MustCompile(`\{([^{}\s]*)\}`)

// render fills in text's placeholders for a citizen with givenName; an
// unknown placeholder, or an FAQ article that is not published, is
// INVALID_ARGUMENT naming it.
func (s *Service) render(ctx context.Context, field, text, givenName string) (string, error) {
	var bad, failed error
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := m[1 : len(m)-1]
		kind, arg, _ := strings.Cut(name, ":")
		switch {
		case name == "förnamn":
			return givenName
		case kind == "faq" && arg != "":
			_, err := s.store.HelpArticleGetPublished(ctx, arg, store.LanguageSwedish)
			if errors.Is(err, store.ErrNotFound) && bad == nil {
				bad = fmt.Errorf("%s: %s names no published FAQ article", field, m)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				failed = err
			}
			return s.cfg.HelpLink + arg
		case kind == "1177" && arg != "":
			return "https://www.1177.se/" + strings.TrimPrefix(arg, "/")
		}
		if bad == nil {
			bad = fmt.Errorf("%s: unknown placeholder %s; use {förnamn}, {faq:<slug>} or {1177:<path>}", field, m)
		}
		return m
	})
	switch {
	case failed != nil:
		return "", failed
	case bad != nil:
		return "", connect.NewError(connect.CodeInvalidArgument, bad)
	}
	return out, nil
}

func (s *deskService) Reply(ctx context.Context, req *supportv1.ReplyRequest) (*supportv1.ReplyResponse, error) {
	text := req.Text
	var answer store.SupportAnswer
	if req.StandardAnswerId != "" {
		var err error
		answer, err = s.store.SupportAnswerGet(ctx, req.StandardAnswerId, int(req.StandardAnswerVersion))
		if errors.Is(err, store.ErrNotFound) {
			return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("standard_answer_id: no such standard answer or version"))
		} else if err != nil {
			return nil, err
		}
		if strings.TrimSpace(text) == "" {
			text = answer.Body
		}
	}
	if strings.TrimSpace(text) == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("text: write a reply, or choose a standard answer"))
	}
	var replayed *store.SupportEvent
	_, es, err := s.change(ctx, req.CaseId, func(tx *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error) {
		if e, err := store.SupportEventByKeyTx(ctx, tx, c.ID, req.IdempotencyKey); err == nil && e.Party == "support" {
			replayed = &e
			return nil, nil
		} else if err == nil {
			return nil, connect.NewError(connect.CodeAlreadyExists, errors.New("idempotency_key: already used in this case"))
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		body, err := s.render(ctx, "text", text, c.CitizenGivenName)
		if err != nil {
			return nil, err
		}
		if body, err = checkText("text", body); err != nil {
			return nil, err
		}
		now := s.now()
		if c.FirstAnswerAt.IsZero() {
			c.FirstAnswerAt = now
		}
		if c.AssigneeHSAID == "" {
			c.AssigneeHSAID, c.AssigneeName = p.HSAID, p.DisplayName
		}
		channel := "app"
		if s.mails(c) {
			// The reply goes to the citizen's address too, with its
			// text and a link to the app, and nothing else of the case.
			channel = "email"
			if err := s.queueMail(ctx, tx, c, body); err != nil {
				return nil, err
			}
		}
		events := []store.SupportEvent{{Kind: "message", Party: "support", AuthorHSAID: p.HSAID, AuthorName: p.DisplayName,
			Body: body, Channel: channel, IdempotencyKey: req.IdempotencyKey, AnswerID: answer.ID, AnswerVersion: answer.Version}}
		state := c.State
		switch {
		case req.WaitForCitizen:
			c.State = "waiting"
		case c.State == "new":
			c.State = "open"
		}
		if c.State != state {
			events = append(events, stateEvent(c, p))
		}
		c.SupportTypingUntil = time.Time{}
		// The citizen of a logged-in case hears of the reply on their
		// phone, without its content.
		if c.PersonID != "" && s.notify != nil {
			if err := s.notify.Notify(ctx, tx, notify.Notice{Kind: notify.KindSupportReply, PersonIDs: []string{c.PersonID},
				ReasonID: "support-case-" + c.ID, Link: "/support/cases/" + c.ID, RefID: c.ID}); err != nil {
				return nil, err
			}
		}
		return events, nil
	})
	if err != nil {
		return nil, err
	}
	if replayed != nil {
		return &supportv1.ReplyResponse{Event: eventToProto(*replayed, true)}, nil
	}
	return &supportv1.ReplyResponse{Event: eventToProto(es[0], true)}, nil
}

func (s *deskService) SetTyping(ctx context.Context, req *supportv1.SupportDeskServiceSetTypingRequest) (*supportv1.SupportDeskServiceSetTypingResponse, error) {
	if _, err := s.staffCase(ctx, req.CaseId); err != nil {
		return nil, err
	}
	return &supportv1.SupportDeskServiceSetTypingResponse{}, s.setTyping(ctx, req.CaseId, req.Typing, true)
}

func (s *deskService) MarkRead(ctx context.Context, req *supportv1.SupportDeskServiceMarkReadRequest) (*supportv1.SupportDeskServiceMarkReadResponse, error) {
	if _, err := s.staffCase(ctx, req.CaseId); err != nil {
		return nil, err
	}
	return &supportv1.SupportDeskServiceMarkReadResponse{}, s.markRead(ctx, req.CaseId, req.UpTo, true)
}

func (s *deskService) HandBack(ctx context.Context, req *supportv1.HandBackRequest) (*supportv1.HandBackResponse, error) {
	c, _, err := s.change(ctx, req.CaseId, func(_ *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error) {
		c.AssigneeHSAID, c.AssigneeName = "", ""
		if c.Line != "first" {
			c.Line, c.ExternalParty, c.State = "first", "", "open"
		}
		return []store.SupportEvent{stateEvent(c, p)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &supportv1.HandBackResponse{Case: deskCaseToProto(c, s.now())}, nil
}

func (s *deskService) Transfer(ctx context.Context, req *supportv1.TransferRequest) (*supportv1.TransferResponse, error) {
	if req.AssigneeHsaId == "" && req.Category == supportv1.Category_CATEGORY_UNSPECIFIED {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("assignee_hsa_id or category: say whom or which category to transfer the case to"))
	}
	c, _, err := s.change(ctx, req.CaseId, func(_ *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error) {
		if req.AssigneeHsaId != "" {
			c.AssigneeHSAID, c.AssigneeName = req.AssigneeHsaId, req.AssigneeName
		}
		if req.Category != supportv1.Category_CATEGORY_UNSPECIFIED {
			c.Category = nameOf(categories, req.Category)
		}
		return []store.SupportEvent{stateEvent(c, p)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &supportv1.TransferResponse{Case: deskCaseToProto(c, s.now())}, nil
}

func (s *deskService) Escalate(ctx context.Context, req *supportv1.EscalateRequest) (*supportv1.EscalateResponse, error) {
	line := nameOf(lines, req.Line)
	party := strings.TrimSpace(req.ExternalParty)
	if line == "external" && party == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("external_party: name the external second line (such as the video vendor)"))
	}
	if line != "external" {
		party = ""
	}
	c, _, err := s.change(ctx, req.CaseId, func(_ *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error) {
		c.Line, c.ExternalParty, c.State = line, party, "escalated"
		c.AssigneeHSAID, c.AssigneeName = "", ""
		e := stateEvent(c, p)
		// The note is for the next line; citizens are shown the state only.
		e.Body = req.Note
		return []store.SupportEvent{e}, nil
	})
	if err != nil {
		return nil, err
	}
	return &supportv1.EscalateResponse{Case: deskCaseToProto(c, s.now())}, nil
}

func (s *deskService) SetWaiting(ctx context.Context, req *supportv1.SetWaitingRequest) (*supportv1.SetWaitingResponse, error) {
	c, _, err := s.change(ctx, req.CaseId, func(_ *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error) {
		if c.State == "waiting" {
			return nil, nil
		}
		c.State = "waiting"
		return []store.SupportEvent{stateEvent(c, p)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &supportv1.SetWaitingResponse{Case: deskCaseToProto(c, s.now())}, nil
}

func (s *deskService) CloseCase(ctx context.Context, req *supportv1.CloseCaseRequest) (*supportv1.CloseCaseResponse, error) {
	c, _, err := s.change(ctx, req.CaseId, func(_ *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error) {
		c.State, c.CloseReason, c.CloseNote = "closed", nameOf(closeReasons, req.Reason), req.Note
		c.CitizenTypingUntil, c.SupportTypingUntil = time.Time{}, time.Time{}
		return []store.SupportEvent{stateEvent(c, p)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &supportv1.CloseCaseResponse{Case: deskCaseToProto(c, s.now())}, nil
}

func (s *deskService) GetOverview(ctx context.Context, _ *supportv1.GetOverviewRequest) (*supportv1.GetOverviewResponse, error) {
	o, err := s.store.SupportOverviewGet(ctx, s.now())
	if err != nil {
		return nil, err
	}
	res := &supportv1.GetOverviewResponse{Waiting: int32(o.Waiting), OldestCreateTime: rpc.TimestampOrNil(o.OldestOpen), SlaBreaches: int32(o.SLABreaches)} //nolint:gosec // counts are small
	for _, a := range o.Agents {
		res.Agents = append(res.Agents, &supportv1.AgentLoad{HsaId: a.HSAID, Name: a.Name, OpenCases: int32(a.Open)}) //nolint:gosec // counts are small
	}
	for _, l := range o.Lines {
		res.Lines = append(res.Lines, &supportv1.LineLoad{Line: lines[l.Line], OpenCases: int32(l.Open), Unassigned: int32(l.Unassigned)}) //nolint:gosec // counts are small
	}
	return res, nil
}

func (s *deskService) SearchStandardAnswers(ctx context.Context, req *supportv1.SearchStandardAnswersRequest) (*supportv1.SearchStandardAnswersResponse, error) {
	size := int(req.PageSize)
	if size == 0 {
		size = 10
	}
	as, err := s.store.SupportAnswerSearch(ctx, req.Query, nameOf(categories, req.Category), size)
	if err != nil {
		return nil, err
	}
	res := &supportv1.SearchStandardAnswersResponse{}
	for _, a := range as {
		res.Answers = append(res.Answers, answerToProto(a))
	}
	return res, nil
}

func (s *deskService) ListStandardAnswers(ctx context.Context, req *supportv1.ListStandardAnswersRequest) (*supportv1.ListStandardAnswersResponse, error) {
	as, err := s.store.SupportAnswerList(ctx, nameOf(categories, req.Category))
	if err != nil {
		return nil, err
	}
	res := &supportv1.ListStandardAnswersResponse{}
	for _, a := range as {
		res.Answers = append(res.Answers, answerToProto(a))
	}
	return res, nil
}

func (s *deskService) GetStandardAnswer(ctx context.Context, req *supportv1.GetStandardAnswerRequest) (*supportv1.GetStandardAnswerResponse, error) {
	a, err := s.store.SupportAnswerGet(ctx, req.Id, int(req.Version))
	if err != nil {
		return nil, err
	}
	return &supportv1.GetStandardAnswerResponse{Answer: answerToProto(a)}, nil
}

func (s *deskService) SaveStandardAnswer(ctx context.Context, req *supportv1.SaveStandardAnswerRequest) (*supportv1.SaveStandardAnswerResponse, error) {
	if _, err := s.render(ctx, "body", req.Body, ""); err != nil {
		return nil, err
	}
	if req.Id != "" && req.BaseVersion == 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("base_version: give the version the edit was made from"))
	}
	p, _ := access.FromContext(ctx)
	a, err := s.store.SupportAnswerSave(ctx, store.SupportAnswer{
		ID: req.Id, Category: nameOf(categories, req.Category), Title: strings.TrimSpace(req.Title), Body: req.Body,
		AuthorHSAID: p.HSAID, AuthorName: p.DisplayName,
	}, int(req.BaseVersion))
	if err != nil {
		return nil, err
	}
	return &supportv1.SaveStandardAnswerResponse{Answer: answerToProto(a)}, nil
}

func (s *deskService) FlagDeviation(ctx context.Context, req *supportv1.FlagDeviationRequest) (*supportv1.FlagDeviationResponse, error) {
	if req.DeviationId == "" && strings.TrimSpace(req.Title) == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("title: name the new deviation, or give deviation_id to link the case to an existing one"))
	}
	if _, err := s.staffCase(ctx, req.CaseId); err != nil {
		return nil, err
	}
	p, _ := access.FromContext(ctx)
	d, err := s.store.SupportDeviationFlag(ctx, req.CaseId, req.DeviationId, strings.TrimSpace(req.Title), req.Description, p.HSAID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, errors.New("no such deviation"))
	} else if err != nil {
		return nil, err
	}
	return &supportv1.FlagDeviationResponse{Deviation: deviationToProto(d)}, nil
}

func (s *deskService) ListDeviations(ctx context.Context, req *supportv1.ListDeviationsRequest) (*supportv1.ListDeviationsResponse, error) {
	ds, err := s.store.SupportDeviationList(ctx, nameOf(deviationStatuses, req.Status))
	if err != nil {
		return nil, err
	}
	res := &supportv1.ListDeviationsResponse{}
	for _, d := range ds {
		res.Deviations = append(res.Deviations, deviationToProto(d))
	}
	return res, nil
}

func (s *deskService) SetDeviationStatus(ctx context.Context, req *supportv1.SetDeviationStatusRequest) (*supportv1.SetDeviationStatusResponse, error) {
	d, err := s.store.SupportDeviationSetStatus(ctx, req.DeviationId, nameOf(deviationStatuses, req.Status))
	if err != nil {
		return nil, err
	}
	return &supportv1.SetDeviationStatusResponse{Deviation: deviationToProto(d)}, nil
}

func (s *deskService) PublishServiceNotice(ctx context.Context, req *supportv1.PublishServiceNoticeRequest) (*supportv1.PublishServiceNoticeResponse, error) {
	p, _ := access.FromContext(ctx)
	n, err := s.store.ServiceNoticePublish(ctx, store.ServiceNotice{Title: strings.TrimSpace(req.Title), Body: req.Body, DeviationID: req.DeviationId, PublishedBy: p.HSAID})
	if err != nil {
		return nil, err
	}
	return &supportv1.PublishServiceNoticeResponse{Notice: noticeToProto(n)}, nil
}

func (s *deskService) WithdrawServiceNotice(ctx context.Context, req *supportv1.WithdrawServiceNoticeRequest) (*supportv1.WithdrawServiceNoticeResponse, error) {
	n, err := s.store.ServiceNoticeWithdraw(ctx, req.NoticeId)
	if err != nil {
		return nil, err
	}
	return &supportv1.WithdrawServiceNoticeResponse{Notice: noticeToProto(n)}, nil
}
