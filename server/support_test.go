package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/gen/nara/support/v1/supportv1connect"
	"github.com/nara-care/nara/identity/oidcdev"
)

func supportKey(name string) string { return fmt.Sprintf("%s-%d", name, time.Now().UnixNano()) }

// messages are the texts of the message events of es.
func messages(es []*supportv1.Event) []string {
	var out []string
	for _, e := range es {
		if m := e.GetMessage(); m != nil {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestSupportCaseThread runs a case from the citizen's first message to its
// close over every protocol: Lena (first line, logged in through the staff
// OIDC login) claims and replies, the citizen's stream hears the reply,
// a resumed stream and polling see the same events, another citizen sees
// nothing, second line gets the whole history, and a closed case takes no
// more messages.
func TestSupportCaseThread(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ids, citizens := e.citizens(t, 2)
	lena := bearer(e.staffLogin(t, oidcdev.HSAIDSupportFirstLine).AccessToken)
	per := e.staff(t, oidcdev.HSAIDSupportSecondLine, []access.Role{access.RoleSupportSecondLine}, nil, "")

	for name, tr := range e.protocols() {
		opts := append([]connect.ClientOption{}, tr.opts...)
		citizen := supportv1connect.NewSupportServiceClient(tr.client, e.url, append(opts, citizens[0])...)
		other := supportv1connect.NewSupportServiceClient(tr.client, e.url, append(opts, citizens[1])...)
		desk := supportv1connect.NewSupportDeskServiceClient(tr.client, e.url, append(opts, lena)...)
		second := supportv1connect.NewSupportDeskServiceClient(tr.client, e.url, append(opts, per)...)

		key := supportKey("open-" + name)
		open := &supportv1.OpenCaseRequest{Category: supportv1.Category_CATEGORY_TECHNICAL, Text: "BankID startar inte\nJag får fel 123.", IdempotencyKey: key}
		opened, err := citizen.OpenCase(ctx, open)
		if err != nil {
			t.Fatalf("%s: OpenCase: %v", name, err)
		}
		c := opened.Case
		if c.State != supportv1.CaseState_CASE_STATE_NEW || c.Subject != "BankID startar inte" || opened.GuestSecret != "" || opened.Hours == nil {
			t.Errorf("%s: OpenCase got %v", name, opened)
		}
		if again, err := citizen.OpenCase(ctx, open); err != nil || again.Case.Id != c.Id {
			t.Errorf("%s: OpenCase retried got %v, %v, want case %s", name, again, err, c.Id)
		}
		if _, err := other.GetCase(ctx, &supportv1.GetCaseRequest{CaseId: c.Id}); connect.CodeOf(err) != connect.CodeNotFound {
			t.Errorf("%s: another citizen's GetCase got %v, want NotFound", name, err)
		}
		if _, err := other.SendMessage(ctx, &supportv1.SendMessageRequest{CaseId: c.Id, Text: "hej", IdempotencyKey: supportKey("x")}); connect.CodeOf(err) != connect.CodeNotFound {
			t.Errorf("%s: another citizen's SendMessage got %v, want NotFound", name, err)
		}

		// The citizen watches from the start.
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		stream, err := citizen.WatchCase(sctx, &supportv1.WatchCaseRequest{CaseId: c.Id})
		if err != nil {
			t.Fatal(err)
		}
		if !stream.Receive() || len(stream.Msg().Events) != 1 {
			t.Fatalf("%s: the first response got %v, %v, want the first message", name, stream.Msg(), stream.Err())
		}
		queue, err := desk.ListQueue(ctx, &supportv1.ListQueueRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var inQueue *supportv1.DeskCase
		for _, q := range queue.Cases {
			if q.Case.Id == c.Id {
				inQueue = q
			}
		}
		if inQueue == nil || inQueue.CitizenPersonId != ids[0] || inQueue.FirstAnswerDueTime == nil {
			t.Fatalf("%s: the queue got %v, want the case with its citizen and due time", name, queue.Cases)
		}
		if _, err := desk.ClaimCase(ctx, &supportv1.ClaimCaseRequest{CaseId: c.Id}); err != nil {
			t.Fatal(err)
		}
		reply, err := desk.Reply(ctx, &supportv1.ReplyRequest{CaseId: c.Id, Text: "Hej {förnamn}! Starta om telefonen.", IdempotencyKey: supportKey("reply")})
		if err != nil {
			t.Fatalf("%s: Reply: %v", name, err)
		}
		var heard []string
		for len(heard) == 0 && stream.Receive() {
			heard = messages(stream.Msg().Events)
		}
		if len(heard) != 1 || heard[0] != "Hej Citizen0! Starta om telefonen." {
			t.Errorf("%s: the stream heard %q (%v), want the reply with the first name filled in", name, heard, stream.Err())
		}
		cancel()
		stream.Close()

		// Resume from the first message: nothing is lost; polling agrees.
		resumed, err := citizen.WatchCase(ctx, &supportv1.WatchCaseRequest{CaseId: c.Id, After: 1})
		if err != nil || !resumed.Receive() {
			t.Fatalf("%s: resume: %v", name, resumed.Err())
		}
		polled, err := citizen.ListCaseEvents(ctx, &supportv1.ListCaseEventsRequest{CaseId: c.Id, After: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(resumed.Msg().Events), len(polled.Events); got != want || got < 2 || resumed.Msg().NextAfter != polled.NextAfter ||
			polled.Events[len(polled.Events)-1].Seq != reply.Event.Seq {
			t.Errorf("%s: resumed got %v, polled %v, want the same events up to the reply", name, resumed.Msg(), polled)
		}
		resumed.Close()
		if _, err := citizen.ListCaseEvents(ctx, &supportv1.ListCaseEventsRequest{CaseId: c.Id, After: 9999}); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: a bogus cursor got %v, want InvalidArgument", name, err)
		}
		if _, err := citizen.SendMessage(ctx, &supportv1.SendMessageRequest{CaseId: c.Id, Text: "   ", IdempotencyKey: supportKey("blank")}); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: a blank message got %v, want InvalidArgument", name, err)
		}

		// Second line gets the case with its whole thread.
		if _, err := desk.Escalate(ctx, &supportv1.EscalateRequest{CaseId: c.Id, Line: supportv1.Line_LINE_SECOND, Note: "BankID-fel 123"}); err != nil {
			t.Fatal(err)
		}
		got, err := second.GetCase(ctx, &supportv1.SupportDeskServiceGetCaseRequest{CaseId: c.Id})
		if err != nil {
			t.Fatal(err)
		}
		if got.Case.Case.Line != supportv1.Line_LINE_SECOND || got.Case.Case.State != supportv1.CaseState_CASE_STATE_ESCALATED ||
			len(messages(got.Events)) != 2 {
			t.Errorf("%s: second line's GetCase got %v", name, got)
		}
		if _, err := second.CloseCase(ctx, &supportv1.CloseCaseRequest{CaseId: c.Id, Reason: supportv1.CloseReason_CLOSE_REASON_RESOLVED}); err != nil {
			t.Fatal(err)
		}
		_, err = citizen.SendMessage(ctx, &supportv1.SendMessageRequest{CaseId: c.Id, Text: "Tack!", IdempotencyKey: supportKey("thanks")})
		if connect.CodeOf(err) != connect.CodeFailedPrecondition {
			t.Errorf("%s: SendMessage on a closed case got %v, want FailedPrecondition", name, err)
		}
	}

	// Every staff read of the citizen's cases is in the access log.
	if n := e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1 AND action = 'support case'
		AND staff_hsa_id IN ($2, $3)`, ids[0], oidcdev.HSAIDSupportFirstLine, oidcdev.HSAIDSupportSecondLine); n < 4*3 {
		t.Errorf("the access log has %d support reads of the citizen, want at least 12", n)
	}
	// Each reply queued a push notice without content.
	if n := e.count(t, `SELECT count(*) FROM push_notice WHERE person_id = $1 AND kind = 'support_reply'`, ids[0]); n != 4 {
		t.Errorf("support_reply notices got %d, want 4", n)
	}
}

// TestSupportGuestCase opens a case without logging in: the guest secret
// is the only way back to it, and a guest is told nothing personal.
func TestSupportGuestCase(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	guest := supportv1connect.NewSupportServiceClient(e.client, e.url)
	_, err := guest.OpenCase(ctx, &supportv1.OpenCaseRequest{Category: supportv1.Category_CATEGORY_TECHNICAL, Text: "Appen startar inte", IdempotencyKey: supportKey("guest")})
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("a guest OpenCase without a device got %v, want InvalidArgument", err)
	}
	opened, err := guest.OpenCase(ctx, &supportv1.OpenCaseRequest{Category: supportv1.Category_CATEGORY_TECHNICAL, Text: "Appen startar inte",
		IdempotencyKey: supportKey("guest"), Guest: &supportv1.Guest{DeviceId: "device-guest-1", Email: "gast@example.se"}})
	if err != nil {
		t.Fatal(err)
	}
	if opened.GuestSecret == "" {
		t.Fatal("a guest's case came without its secret")
	}
	id := opened.Case.Id
	if _, err := guest.GetCase(ctx, &supportv1.GetCaseRequest{CaseId: id}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("GetCase without the secret got %v, want Unauthenticated", err)
	}
	if _, err := guest.GetCase(ctx, &supportv1.GetCaseRequest{CaseId: id, GuestSecret: "not-the-secret"}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("GetCase with a wrong secret got %v, want NotFound", err)
	}
	got, err := guest.GetCase(ctx, &supportv1.GetCaseRequest{CaseId: id, GuestSecret: opened.GuestSecret})
	if err != nil || len(got.Events) != 1 {
		t.Fatalf("GetCase with the secret got %v, %v", got, err)
	}
	if _, err := guest.SendMessage(ctx, &supportv1.SendMessageRequest{CaseId: id, GuestSecret: opened.GuestSecret, Text: "Fortfarande fel", IdempotencyKey: supportKey("g")}); err != nil {
		t.Errorf("a guest's SendMessage got %v", err)
	}
	// Guest openings are limited per address.
	var limited error
	for i := range 10 {
		_, limited = guest.OpenCase(ctx, &supportv1.OpenCaseRequest{Category: supportv1.Category_CATEGORY_OTHER, Text: "hej",
			IdempotencyKey: supportKey(fmt.Sprintf("flood%d", i)), Guest: &supportv1.Guest{DeviceId: "device-guest-1"}})
		if limited != nil {
			break
		}
	}
	if connect.CodeOf(limited) != connect.CodeResourceExhausted {
		t.Errorf("a flood of guest cases got %v, want ResourceExhausted", limited)
	}
}

// TestSupportStandardAnswersAndNotices saves a standard answer (second line
// only), refuses an unknown placeholder, records the version a reply used,
// and shows a service notice before login until it is withdrawn.
func TestSupportStandardAnswersAndNotices(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	_, citizens := e.citizens(t, 1)
	lena := supportv1connect.NewSupportDeskServiceClient(e.client, e.url, e.staff(t, oidcdev.HSAIDSupportFirstLine, []access.Role{access.RoleSupportFirstLine}, nil, ""))
	per := supportv1connect.NewSupportDeskServiceClient(e.client, e.url, e.staff(t, oidcdev.HSAIDSupportSecondLine, []access.Role{access.RoleSupportSecondLine}, nil, ""))
	save := &supportv1.SaveStandardAnswerRequest{Category: supportv1.Category_CATEGORY_TECHNICAL, Title: "BankID fungerar inte",
		Body: "Hej {förnamn}! Läs mer på {1177:om-1177/bankid}."}
	if _, err := lena.SaveStandardAnswer(ctx, save); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("first line's SaveStandardAnswer got %v, want PermissionDenied", err)
	}
	bad := &supportv1.SaveStandardAnswerRequest{Category: supportv1.Category_CATEGORY_TECHNICAL, Title: "Fel", Body: "Hej {efternamn}!"}
	if _, err := per.SaveStandardAnswer(ctx, bad); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("an unknown placeholder got %v, want InvalidArgument", err)
	}
	saved, err := per.SaveStandardAnswer(ctx, save)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := lena.SearchStandardAnswers(ctx, &supportv1.SearchStandardAnswersRequest{Query: "bankid"})
	if err != nil || len(hits.Answers) != 1 {
		t.Fatalf("SearchStandardAnswers got %v, %v", hits, err)
	}
	citizen := supportv1connect.NewSupportServiceClient(e.client, e.url, citizens[0])
	opened, err := citizen.OpenCase(ctx, &supportv1.OpenCaseRequest{Category: supportv1.Category_CATEGORY_TECHNICAL, Text: "BankID", IdempotencyKey: supportKey("sa")})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := lena.Reply(ctx, &supportv1.ReplyRequest{CaseId: opened.Case.Id, IdempotencyKey: supportKey("r"),
		StandardAnswerId: saved.Answer.Id, StandardAnswerVersion: saved.Answer.Version})
	if err != nil {
		t.Fatal(err)
	}
	m := reply.Event.GetMessage()
	if m.Text != "Hej Citizen0! Läs mer på https://www.1177.se/om-1177/bankid." || m.StandardAnswerVersion != 1 || m.StandardAnswerId != saved.Answer.Id {
		t.Errorf("the reply got %v", m)
	}

	public := supportv1connect.NewSupportServiceClient(e.client, e.url)
	notice, err := per.PublishServiceNotice(ctx, &supportv1.PublishServiceNoticeRequest{Title: "BankID-inloggning fungerar inte just nu"})
	if err != nil {
		t.Fatal(err)
	}
	if ns, err := public.ListServiceNotices(ctx, &supportv1.ListServiceNoticesRequest{}); err != nil || len(ns.Notices) != 1 || ns.Notices[0].Id != notice.Notice.Id {
		t.Errorf("ListServiceNotices before login got %v, %v", ns, err)
	}
	if _, err := per.WithdrawServiceNotice(ctx, &supportv1.WithdrawServiceNoticeRequest{NoticeId: notice.Notice.Id}); err != nil {
		t.Fatal(err)
	}
	if ns, err := public.ListServiceNotices(ctx, &supportv1.ListServiceNoticesRequest{}); err != nil || len(ns.Notices) != 0 {
		t.Errorf("ListServiceNotices after withdrawal got %v, %v", ns, err)
	}
}
