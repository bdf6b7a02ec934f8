package support

import (
	"time"

	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

var categories = map[string]supportv1.Category{
	"technical":   supportv1.Category_CATEGORY_TECHNICAL,
	"booking":     supportv1.Category_CATEGORY_BOOKING,
	"vaccination": supportv1.Category_CATEGORY_VACCINATION,
	"video_visit": supportv1.Category_CATEGORY_VIDEO_VISIT,
	"medical":     supportv1.Category_CATEGORY_MEDICAL,
	"other":       supportv1.Category_CATEGORY_OTHER,
}

var states = map[string]supportv1.CaseState{
	"new":       supportv1.CaseState_CASE_STATE_NEW,
	"open":      supportv1.CaseState_CASE_STATE_OPEN,
	"waiting":   supportv1.CaseState_CASE_STATE_WAITING_FOR_CITIZEN,
	"escalated": supportv1.CaseState_CASE_STATE_ESCALATED,
	"closed":    supportv1.CaseState_CASE_STATE_CLOSED,
}

var lines = map[string]supportv1.Line{
	"first":    supportv1.Line_LINE_FIRST,
	"second":   supportv1.Line_LINE_SECOND,
	"external": supportv1.Line_LINE_EXTERNAL,
}

var closeReasons = map[string]supportv1.CloseReason{
	"resolved":         supportv1.CloseReason_CLOSE_REASON_RESOLVED,
	"referred_to_1177": supportv1.CloseReason_CLOSE_REASON_REFERRED_TO_1177,
	"duplicate":        supportv1.CloseReason_CLOSE_REASON_DUPLICATE,
	"no_response":      supportv1.CloseReason_CLOSE_REASON_NO_RESPONSE,
	"abuse":            supportv1.CloseReason_CLOSE_REASON_ABUSE,
	"other":            supportv1.CloseReason_CLOSE_REASON_OTHER,
}

var deviationStatuses = map[string]supportv1.DeviationStatus{
	"open":          supportv1.DeviationStatus_DEVIATION_STATUS_OPEN,
	"investigating": supportv1.DeviationStatus_DEVIATION_STATUS_INVESTIGATING,
	"resolved":      supportv1.DeviationStatus_DEVIATION_STATUS_RESOLVED,
}

var parties = map[string]supportv1.Party{
	"citizen": supportv1.Party_PARTY_CITIZEN,
	"support": supportv1.Party_PARTY_SUPPORT,
}

var channels = map[string]supportv1.Channel{
	"app":   supportv1.Channel_CHANNEL_APP,
	"email": supportv1.Channel_CHANNEL_EMAIL,
}

// nameOf returns the store's name for an API enum value, "" for one it
// does not know (unspecified).
func nameOf[E comparable](m map[string]E, v E) string {
	for k, e := range m {
		if e == v {
			return k
		}
	}
	return ""
}

// caseToProto is a case as the citizen sees it: nothing about staff but
// the holder's first name.
func caseToProto(c store.SupportCase) *supportv1.Case {
	return &supportv1.Case{
		Id: c.ID, Category: categories[c.Category], State: states[c.State], Line: lines[c.Line], Subject: c.Subject,
		AssigneeName: firstName(c.AssigneeName), CreateTime: rpc.TimestampOrNil(c.CreatedAt), UpdateTime: rpc.TimestampOrNil(c.UpdatedAt),
		CloseReason: closeReasons[c.CloseReason], LastEvent: c.LastSeq, ReadUpTo: c.CitizenReadSeq,
	}
}

// deskCaseToProto is a case as staff see it, with its answer target at now.
func deskCaseToProto(c store.SupportCase, now time.Time) *supportv1.DeskCase {
	name := c.CitizenGivenName
	if c.CitizenSurname != "" {
		name += " " + c.CitizenSurname
	}
	breached := (c.FirstAnswerAt.IsZero() && now.After(c.FirstAnswerDue)) ||
		(!c.FirstAnswerAt.IsZero() && c.FirstAnswerAt.After(c.FirstAnswerDue))
	return &supportv1.DeskCase{
		Case: caseToProto(c), CitizenPersonId: c.PersonID, CitizenName: name, CitizenEmail: c.Email,
		Guest: c.GuestSecretHash != nil, ExternalParty: c.ExternalParty, AssigneeHsaId: c.AssigneeHSAID,
		FirstAnswerDueTime: rpc.TimestampOrNil(c.FirstAnswerDue), FirstAnswerTime: rpc.TimestampOrNil(c.FirstAnswerAt),
		SlaBreached: breached, CloseNote: c.CloseNote, DeviationId: c.DeviationID, SupportReadUpTo: c.SupportReadSeq,
	}
}

// eventToProto is an event; staff see which standard answer a reply was
// written from, citizens do not.
func eventToProto(e store.SupportEvent, staff bool) *supportv1.Event {
	out := &supportv1.Event{Seq: e.Seq, CreateTime: rpc.TimestampOrNil(e.CreatedAt)}
	switch e.Kind {
	case "message":
		m := &supportv1.Message{
			Id: e.CaseID + "/" + itoa(e.Seq), Author: parties[e.Party], Text: e.Body, Channel: channels[e.Channel],
		}
		if e.Party == "support" {
			m.AuthorName = firstName(e.AuthorName)
		}
		for _, a := range e.Attachments {
			m.Attachments = append(m.Attachments, attachmentToProto(a))
		}
		if staff {
			m.StandardAnswerId, m.StandardAnswerVersion = e.AnswerID, int32(e.AnswerVersion) //nolint:gosec // versions are small
		}
		out.Message = m
	case "read":
		out.Read = &supportv1.ReadMark{Party: parties[e.Party], UpTo: e.ReadUpTo}
	case "state":
		out.StateChange = &supportv1.StateChange{
			State: states[e.State], Line: lines[e.Line], AssigneeName: firstName(e.AssigneeName), CloseReason: closeReasons[e.CloseReason],
		}
	}
	return out
}

func eventsToProto(es []store.SupportEvent, staff bool) []*supportv1.Event {
	out := make([]*supportv1.Event, len(es))
	for i, e := range es {
		out[i] = eventToProto(e, staff)
	}
	return out
}

func answerToProto(a store.SupportAnswer) *supportv1.StandardAnswer {
	return &supportv1.StandardAnswer{
		Id: a.ID, Version: int32(a.Version), Category: categories[a.Category], Title: a.Title, Body: a.Body, //nolint:gosec // versions are small
		AuthorName: a.AuthorName, CreateTime: rpc.TimestampOrNil(a.CreatedAt),
	}
}

func deviationToProto(d store.SupportDeviation) *supportv1.Deviation {
	return &supportv1.Deviation{
		Id: d.ID, Title: d.Title, Description: d.Description, Status: deviationStatuses[d.Status],
		CreateTime: rpc.TimestampOrNil(d.CreatedAt), UpdateTime: rpc.TimestampOrNil(d.UpdatedAt), CaseIds: d.CaseIDs,
	}
}

func noticeToProto(n store.ServiceNotice) *supportv1.ServiceNotice {
	return &supportv1.ServiceNotice{
		Id: n.ID, Title: n.Title, Body: n.Body, PublishTime: rpc.TimestampOrNil(n.PublishedAt),
		WithdrawTime: rpc.TimestampOrNil(n.WithdrawnAt), DeviationId: n.DeviationID,
	}
}
