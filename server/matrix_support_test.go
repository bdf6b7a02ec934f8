package server_test

import (
	"context"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	supv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/gen/nara/support/v1/supportv1connect"
)

// uuidLike is a random id no case has.
func uuidLike() string {
	h := randomID(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// supportOnMissing are the codes a support RPC answers on a case, answer,
// deviation or notice that does not exist, or for an anonymous caller
// without a guest secret.
func supportOnMissing(*actor) []connect.Code {
	return []connect.Code{connect.CodeNotFound, connect.CodeUnauthenticated, connect.CodeInvalidArgument, connect.CodeResourceExhausted}
}

// supportFixture opens a support case, with a photo, for each citizen and
// for a guest, so that every call on a case is tried on someone else's.
func (f *fixture) supportFixture(t *testing.T, citizens ...*actor) {
	t.Helper()
	ctx := context.Background()
	open := func(c supportv1connect.SupportServiceClient, guest *supv1.Guest) (string, string) {
		opened, err := c.OpenCase(ctx, &supv1.OpenCaseRequest{Category: supv1.Category_CATEGORY_TECHNICAL, Text: "Appen visar fel",
			IdempotencyKey: "matrix-case-" + randomID(8), Guest: guest})
		if err != nil {
			t.Fatal(err)
		}
		added, err := c.AddAttachment(ctx, &supv1.AddAttachmentRequest{CaseId: opened.Case.Id, GuestSecret: opened.GuestSecret,
			FileName: "fel.png", Data: pngImage(), IdempotencyKey: "matrix-photo-" + randomID(8)})
		if err != nil {
			t.Fatal(err)
		}
		return opened.Case.Id, added.Event.GetMessage().GetAttachments()[0].GetId()
	}
	for _, c := range citizens {
		c.self.supportCase, c.self.supportAttachment = open(supportv1connect.NewSupportServiceClient(f.e.client, f.e.url, c.auth), nil)
	}
	f.guestCase, f.guestAttachment = open(supportv1connect.NewSupportServiceClient(f.e.client, f.e.url), &supv1.Guest{DeviceId: "matrix-guest"})
}

// othersSupportCases tries a call on every support case that is not a's:
// each other citizen's, without a secret and with a made-up one, and the
// guest's, without its secret and with a wrong one. mk makes the request
// for a case, a guest secret and an attachment of the case. A citizen
// hears NOT_FOUND; a caller who is no citizen and shows no secret is
// asked to log in.
func (f *fixture) othersSupportCases(mk func(caseID, secret, attachmentID string) proto.Message) func(a *actor) []variant {
	return func(a *actor) []variant {
		unauth := []connect.Code{connect.CodeUnauthenticated}
		noSecret := notFound
		if a.self == nil {
			noSecret = unauth
		}
		var out []variant
		for _, name := range sortedKeys(f.persons) {
			p := f.persons[name]
			if p.supportCase == "" || slices.Contains(a.acts, p) {
				continue
			}
			out = append(out,
				variant{name: "on " + name + "'s support case", req: mk(p.supportCase, "", p.supportAttachment), want: noSecret},
				variant{name: "on " + name + "'s support case with a made-up guest secret", req: mk(p.supportCase, randomID(32), p.supportAttachment)})
		}
		return append(out,
			variant{name: "on a guest's support case without its secret", req: mk(f.guestCase, "", f.guestAttachment), want: noSecret},
			variant{name: "on a guest's support case with a wrong secret", req: mk(f.guestCase, randomID(32), f.guestAttachment)})
	}
}

// supportCases are the support domain's calls in the matrix: the rules
// (who may call) are checked for every actor, and every call that names
// a case is tried on the other citizens' and a guest's real cases.
func (f *fixture) supportCases() map[string]matrixCase {
	return map[string]matrixCase{
		supportv1connect.SupportServicePrepareCaseProcedure: {call: unary[supv1.PrepareCaseRequest, supv1.PrepareCaseResponse](),
			own: func(*actor) proto.Message { return &supv1.PrepareCaseRequest{Text: "bankid"} }},
		supportv1connect.SupportServiceOpenCaseProcedure: {call: unary[supv1.OpenCaseRequest, supv1.OpenCaseResponse](),
			own: func(*actor) proto.Message {
				return &supv1.OpenCaseRequest{Category: supv1.Category_CATEGORY_OTHER, Text: "hej", IdempotencyKey: "matrix-open-" + randomID(8), Guest: &supv1.Guest{DeviceId: "matrix-device"}}
			}, writes: true},
		supportv1connect.SupportServiceListMyCasesProcedure: {call: unary[supv1.ListMyCasesRequest, supv1.ListMyCasesResponse](),
			own: func(*actor) proto.Message { return &supv1.ListMyCasesRequest{} }},
		supportv1connect.SupportServiceGetCaseProcedure: {call: unary[supv1.GetCaseRequest, supv1.GetCaseResponse](),
			own: func(*actor) proto.Message { return &supv1.GetCaseRequest{CaseId: uuidLike()} }, ownCodes: supportOnMissing,
			others: f.othersSupportCases(func(id, secret, _ string) proto.Message {
				return &supv1.GetCaseRequest{CaseId: id, GuestSecret: secret}
			})},
		supportv1connect.SupportServiceListCaseEventsProcedure: {call: unary[supv1.ListCaseEventsRequest, supv1.ListCaseEventsResponse](),
			own: func(*actor) proto.Message { return &supv1.ListCaseEventsRequest{CaseId: uuidLike()} }, ownCodes: supportOnMissing,
			others: f.othersSupportCases(func(id, secret, _ string) proto.Message {
				return &supv1.ListCaseEventsRequest{CaseId: id, GuestSecret: secret}
			})},
		supportv1connect.SupportServiceWatchCaseProcedure: {call: serverStream[supv1.WatchCaseRequest, supv1.WatchCaseResponse](),
			own: func(*actor) proto.Message { return &supv1.WatchCaseRequest{CaseId: uuidLike()} }, ownCodes: supportOnMissing,
			others: f.othersSupportCases(func(id, secret, _ string) proto.Message {
				return &supv1.WatchCaseRequest{CaseId: id, GuestSecret: secret}
			})},
		supportv1connect.SupportServiceSendMessageProcedure: {call: unary[supv1.SendMessageRequest, supv1.SendMessageResponse](),
			own: func(*actor) proto.Message {
				return &supv1.SendMessageRequest{CaseId: uuidLike(), Text: "hej", IdempotencyKey: "matrix-send-" + randomID(8)}
			}, writes: true, ownCodes: supportOnMissing,
			others: f.othersSupportCases(func(id, secret, _ string) proto.Message {
				return &supv1.SendMessageRequest{CaseId: id, GuestSecret: secret, Text: "hej", IdempotencyKey: "matrix-send-" + randomID(8)}
			})},
		supportv1connect.SupportServiceMarkReadProcedure: {call: unary[supv1.MarkReadRequest, supv1.MarkReadResponse](),
			own: func(*actor) proto.Message { return &supv1.MarkReadRequest{CaseId: uuidLike(), UpTo: 1} }, writes: true, ownCodes: supportOnMissing,
			others: f.othersSupportCases(func(id, secret, _ string) proto.Message {
				return &supv1.MarkReadRequest{CaseId: id, GuestSecret: secret, UpTo: 1}
			})},
		supportv1connect.SupportServiceSetTypingProcedure: {call: unary[supv1.SetTypingRequest, supv1.SetTypingResponse](),
			own: func(*actor) proto.Message { return &supv1.SetTypingRequest{CaseId: uuidLike(), Typing: true} }, writes: true, ownCodes: supportOnMissing,
			others: f.othersSupportCases(func(id, secret, _ string) proto.Message {
				return &supv1.SetTypingRequest{CaseId: id, GuestSecret: secret, Typing: true}
			})},
		supportv1connect.SupportServiceListServiceNoticesProcedure: {call: unary[supv1.ListServiceNoticesRequest, supv1.ListServiceNoticesResponse](),
			own: func(*actor) proto.Message { return &supv1.ListServiceNoticesRequest{} }},
		supportv1connect.SupportServiceAddAttachmentProcedure: {call: unary[supv1.AddAttachmentRequest, supv1.AddAttachmentResponse](),
			own: func(*actor) proto.Message {
				return &supv1.AddAttachmentRequest{CaseId: uuidLike(), FileName: "matris.png", Data: pngImage(), IdempotencyKey: "matrix-attach-" + randomID(8)}
			}, writes: true, ownCodes: supportOnMissing,
			others: f.othersSupportCases(func(id, secret, _ string) proto.Message {
				return &supv1.AddAttachmentRequest{CaseId: id, GuestSecret: secret, FileName: "x.png", Data: pngImage(), IdempotencyKey: "matrix-attach-" + randomID(8)}
			})},
		supportv1connect.SupportServiceGetAttachmentProcedure: {call: unary[supv1.GetAttachmentRequest, supv1.GetAttachmentResponse](),
			own: func(*actor) proto.Message {
				return &supv1.GetAttachmentRequest{CaseId: uuidLike(), AttachmentId: uuidLike()}
			}, ownCodes: supportOnMissing,
			others: f.othersSupportCases(func(id, secret, att string) proto.Message {
				return &supv1.GetAttachmentRequest{CaseId: id, GuestSecret: secret, AttachmentId: att}
			})},
		supportv1connect.SupportDeskServiceAddAttachmentProcedure: {call: unary[supv1.SupportDeskServiceAddAttachmentRequest, supv1.SupportDeskServiceAddAttachmentResponse](),
			own: func(*actor) proto.Message {
				return &supv1.SupportDeskServiceAddAttachmentRequest{CaseId: uuidLike(), FileName: "matris.png", Data: pngImage(), IdempotencyKey: "matrix-attach-" + randomID(8)}
			}, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceGetAttachmentProcedure: {call: unary[supv1.SupportDeskServiceGetAttachmentRequest, supv1.SupportDeskServiceGetAttachmentResponse](),
			own: func(*actor) proto.Message {
				return &supv1.SupportDeskServiceGetAttachmentRequest{CaseId: uuidLike(), AttachmentId: uuidLike()}
			}, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceListQueueProcedure: {call: unary[supv1.ListQueueRequest, supv1.ListQueueResponse](),
			own: func(*actor) proto.Message { return &supv1.ListQueueRequest{} }},
		supportv1connect.SupportDeskServiceWatchQueueProcedure: {call: serverStream[supv1.WatchQueueRequest, supv1.WatchQueueResponse](),
			own: func(*actor) proto.Message { return &supv1.WatchQueueRequest{} }},
		supportv1connect.SupportDeskServiceGetCaseProcedure: {call: unary[supv1.SupportDeskServiceGetCaseRequest, supv1.SupportDeskServiceGetCaseResponse](),
			own: func(*actor) proto.Message { return &supv1.SupportDeskServiceGetCaseRequest{CaseId: uuidLike()} }, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceListCaseEventsProcedure: {call: unary[supv1.SupportDeskServiceListCaseEventsRequest, supv1.SupportDeskServiceListCaseEventsResponse](),
			own: func(*actor) proto.Message { return &supv1.SupportDeskServiceListCaseEventsRequest{CaseId: uuidLike()} }, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceWatchCaseProcedure: {call: serverStream[supv1.SupportDeskServiceWatchCaseRequest, supv1.SupportDeskServiceWatchCaseResponse](),
			own: func(*actor) proto.Message { return &supv1.SupportDeskServiceWatchCaseRequest{CaseId: uuidLike()} }, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceClaimCaseProcedure: {call: unary[supv1.ClaimCaseRequest, supv1.ClaimCaseResponse](),
			own: func(*actor) proto.Message { return &supv1.ClaimCaseRequest{CaseId: uuidLike()} }, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceReplyProcedure: {call: unary[supv1.ReplyRequest, supv1.ReplyResponse](),
			own: func(*actor) proto.Message {
				return &supv1.ReplyRequest{CaseId: uuidLike(), Text: "hej", IdempotencyKey: "matrix-reply-" + randomID(8)}
			}, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceSetTypingProcedure: {call: unary[supv1.SupportDeskServiceSetTypingRequest, supv1.SupportDeskServiceSetTypingResponse](),
			own: func(*actor) proto.Message { return &supv1.SupportDeskServiceSetTypingRequest{CaseId: uuidLike()} }, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceMarkReadProcedure: {call: unary[supv1.SupportDeskServiceMarkReadRequest, supv1.SupportDeskServiceMarkReadResponse](),
			own: func(*actor) proto.Message {
				return &supv1.SupportDeskServiceMarkReadRequest{CaseId: uuidLike(), UpTo: 1}
			}, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceHandBackProcedure: {call: unary[supv1.HandBackRequest, supv1.HandBackResponse](),
			own: func(*actor) proto.Message { return &supv1.HandBackRequest{CaseId: uuidLike()} }, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceTransferProcedure: {call: unary[supv1.TransferRequest, supv1.TransferResponse](),
			own: func(*actor) proto.Message {
				return &supv1.TransferRequest{CaseId: uuidLike(), Category: supv1.Category_CATEGORY_OTHER}
			}, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceEscalateProcedure: {call: unary[supv1.EscalateRequest, supv1.EscalateResponse](),
			own: func(*actor) proto.Message {
				return &supv1.EscalateRequest{CaseId: uuidLike(), Line: supv1.Line_LINE_SECOND}
			}, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceSetWaitingProcedure: {call: unary[supv1.SetWaitingRequest, supv1.SetWaitingResponse](),
			own: func(*actor) proto.Message { return &supv1.SetWaitingRequest{CaseId: uuidLike()} }, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceCloseCaseProcedure: {call: unary[supv1.CloseCaseRequest, supv1.CloseCaseResponse](),
			own: func(*actor) proto.Message {
				return &supv1.CloseCaseRequest{CaseId: uuidLike(), Reason: supv1.CloseReason_CLOSE_REASON_RESOLVED}
			}, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceGetOverviewProcedure: {call: unary[supv1.GetOverviewRequest, supv1.GetOverviewResponse](),
			own: func(*actor) proto.Message { return &supv1.GetOverviewRequest{} }},
		supportv1connect.SupportDeskServiceSearchStandardAnswersProcedure: {call: unary[supv1.SearchStandardAnswersRequest, supv1.SearchStandardAnswersResponse](),
			own: func(*actor) proto.Message { return &supv1.SearchStandardAnswersRequest{Query: "bankid"} }},
		supportv1connect.SupportDeskServiceListStandardAnswersProcedure: {call: unary[supv1.ListStandardAnswersRequest, supv1.ListStandardAnswersResponse](),
			own: func(*actor) proto.Message { return &supv1.ListStandardAnswersRequest{} }},
		supportv1connect.SupportDeskServiceGetStandardAnswerProcedure: {call: unary[supv1.GetStandardAnswerRequest, supv1.GetStandardAnswerResponse](),
			own: func(*actor) proto.Message { return &supv1.GetStandardAnswerRequest{Id: uuidLike()} }, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceSaveStandardAnswerProcedure: {call: unary[supv1.SaveStandardAnswerRequest, supv1.SaveStandardAnswerResponse](),
			own: func(*actor) proto.Message {
				return &supv1.SaveStandardAnswerRequest{Category: supv1.Category_CATEGORY_OTHER, Title: "Matris", Body: "Hej {förnamn}!"}
			}, writes: true},
		supportv1connect.SupportDeskServiceFlagDeviationProcedure: {call: unary[supv1.FlagDeviationRequest, supv1.FlagDeviationResponse](),
			own: func(*actor) proto.Message { return &supv1.FlagDeviationRequest{CaseId: uuidLike(), Title: "Matris"} }, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServiceListDeviationsProcedure: {call: unary[supv1.ListDeviationsRequest, supv1.ListDeviationsResponse](),
			own: func(*actor) proto.Message { return &supv1.ListDeviationsRequest{} }},
		supportv1connect.SupportDeskServiceSetDeviationStatusProcedure: {call: unary[supv1.SetDeviationStatusRequest, supv1.SetDeviationStatusResponse](),
			own: func(*actor) proto.Message {
				return &supv1.SetDeviationStatusRequest{DeviationId: uuidLike(), Status: supv1.DeviationStatus_DEVIATION_STATUS_RESOLVED}
			}, writes: true, ownCodes: supportOnMissing},
		supportv1connect.SupportDeskServicePublishServiceNoticeProcedure: {call: unary[supv1.PublishServiceNoticeRequest, supv1.PublishServiceNoticeResponse](),
			own: func(*actor) proto.Message { return &supv1.PublishServiceNoticeRequest{Title: "Matris"} }, writes: true},
		supportv1connect.SupportDeskServiceWithdrawServiceNoticeProcedure: {call: unary[supv1.WithdrawServiceNoticeRequest, supv1.WithdrawServiceNoticeResponse](),
			own: func(*actor) proto.Message { return &supv1.WithdrawServiceNoticeRequest{NoticeId: uuidLike()} }, writes: true, ownCodes: supportOnMissing},
	}
}
