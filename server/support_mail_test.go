package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/gen/nara/support/v1/supportv1connect"
	"github.com/nara-care/nara/identity/oidcdev"
	"github.com/nara-care/nara/internal/clocktest"
	"github.com/nara-care/nara/jobs"
	"github.com/nara-care/nara/mail"
	"github.com/nara-care/nara/mail/mailfake"
	"github.com/nara-care/nara/server"
	"github.com/nara-care/nara/support"
)

// mailSetup mails support's replies through relayURL, as cmd/nara does.
type mailSetup struct {
	relayURL, domain, publicURL string
	// webhookSecret, when set, mounts the inbound mail webhook.
	webhookSecret string
	support       *support.Service
}

// startJobs builds and starts a River client with support's mail worker,
// and returns it as the inserter support queues mail with.
func (m *mailSetup) startJobs(t *testing.T, deps server.Deps) support.JobInserter {
	t.Helper()
	sender, err := mail.NewSender(m.relayURL, "Nära support <support@"+m.domain+">", mail.SenderConfig{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	registry := jobs.NewRegistry()
	registry.Queue(support.MailQueue, 2)
	if err := jobs.Worker(registry, support.NewMailWorker(support.MailDeps{Logger: deps.Logger, Store: deps.Store, Sender: sender})); err != nil {
		t.Fatal(err)
	}
	client, err := jobs.NewClient(deps.Store.Pool(), deps.Logger, jobs.Config{PollInterval: 50 * time.Millisecond}, registry)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.StopAndCancel(ctx)
	})
	return client
}

// sendMail sends raw (headers and body, \n line ends) from the envelope
// sender over SMTP to addr, as a mail system would.
func sendMail(addr, from, to, raw string) error {
	return smtp.SendMail(addr, nil, from, []string{to}, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
}

// TestSupportMail runs support by e-mail over real SMTP both ways: the
// inbound server takes Anna's mail and a case appears in the queue; Lena's
// reply reaches the mail stand-in once, threaded, with only its text and a
// link; Anna's answer joins the case without the quote; a forged thread
// from another sender, an auto-reply, a loop and a mail without a sender
// make no case in Anna's; a relay that is down gets the same mail once
// when it is back; a mail to a closed case opens it again.
func TestSupportMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, err := mailfake.Start(mailfake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	relayAddr := fake.Addr()
	m := &mailSetup{relayURL: fake.SMTPURL(), domain: "support.nara.test", publicURL: "https://nara.test"}
	e := setupWith(t, options{mail: m})
	inbound, err := mail.NewServer(mail.ServerConfig{Domain: m.domain, Logger: e.deps.Logger}, m.support.DeliverMail)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = inbound.Serve(l) }()
	t.Cleanup(func() { _ = inbound.Close() })
	smtpAddr := l.Addr().String()

	lena := bearer(e.staffLogin(t, oidcdev.HSAIDSupportFirstLine).AccessToken)
	desk := supportv1connect.NewSupportDeskServiceClient(e.client, e.url, lena)
	casesOf := func(email string) []*supportv1.DeskCase {
		t.Helper()
		q, err := desk.ListQueue(ctx, &supportv1.ListQueueRequest{PageSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		var out []*supportv1.DeskCase
		for _, c := range q.Cases {
			if c.CitizenEmail == email {
				out = append(out, c)
			}
		}
		return out
	}
	eventsOf := func(id string) []string {
		t.Helper()
		got, err := desk.GetCase(ctx, &supportv1.SupportDeskServiceGetCaseRequest{CaseId: id})
		if err != nil {
			t.Fatal(err)
		}
		return messages(got.Events)
	}

	// Anna writes in.
	err = sendMail(smtpAddr, "anna@example.se", "support@"+m.domain, `From: Anna Andersson <anna@example.se>
To: support@support.nara.test
Subject: Kan inte logga in
Message-ID: <anna-1@example.se>
Content-Type: text/plain; charset=utf-8

Hej, BankID säger fel 123 när jag loggar in.
`)
	if err != nil {
		t.Fatalf("Anna's mail: %v", err)
	}
	annas := casesOf("anna@example.se")
	if len(annas) != 1 || annas[0].Case.Subject != "Kan inte logga in" || annas[0].CitizenPersonId != "" {
		t.Fatalf("the queue got %v, want one e-mail case for Anna, linked to no person", annas)
	}
	anna := annas[0].Case.Id

	// Lena answers; the stand-in gets one mail.
	if _, err := desk.Reply(ctx, &supportv1.ReplyRequest{CaseId: anna, Text: "Hej! Starta om telefonen och försök igen.", IdempotencyKey: supportKey("r1")}); err != nil {
		t.Fatal(err)
	}
	clocktest.Eventually(t, 20*time.Second, "the reply to reach the stand-in", func() bool { return len(fake.Messages()) == 1 })
	out := fake.Messages()[0]
	hdr, err := netmail.ReadMessage(strings.NewReader(string(out.Raw)))
	if err != nil {
		t.Fatal(err)
	}
	token := mail.TokenFromAddress(hdr.Header.Get("Reply-To"))
	switch {
	case out.Message == nil:
		t.Fatalf("the reply does not parse: %s", out.ParseErr)
	case token == "" || !strings.Contains(hdr.Header.Get("Reply-To"), "support+"+token+"@"+m.domain):
		t.Errorf("Reply-To got %q, want the case address", hdr.Header.Get("Reply-To"))
	case len(out.Message.InReplyTo) != 1 || out.Message.InReplyTo[0] != "anna-1@example.se":
		t.Errorf("In-Reply-To got %q, want Anna's mail", out.Message.InReplyTo)
	case out.EnvelopeTo[0] != "anna@example.se" || !strings.Contains(out.Message.Subject, mail.SubjectTag(token)):
		t.Errorf("sent to %v with subject %q, want Anna and the case tag", out.EnvelopeTo, out.Message.Subject)
	case !strings.Contains(out.Message.Text, "Starta om telefonen och försök igen.") ||
		!strings.Contains(out.Message.Text, "https://nara.test/support/cases/"+anna):
		t.Errorf("the body got %q, want the reply and the link", out.Message.Text)
	}
	for _, leak := range []string{"BankID", "fel 123", "Kan inte logga in", "Lena"} {
		if strings.Contains(string(out.Raw), leak) {
			t.Errorf("the mail carries %q from the case; it should carry only the reply", leak)
		}
	}

	// Anna answers the mail, quoting it.
	err = sendMail(smtpAddr, "anna@example.se", "support+"+token+"@"+m.domain, fmt.Sprintf(`From: anna@example.se
To: support+%s@support.nara.test
Subject: Re: %s
Message-ID: <anna-2@example.se>
In-Reply-To: <%s>
References: <anna-1@example.se> <%s>

Det fungerar nu, tack!

Den tis 3 juni 2025 kl 10:00 skrev Nära support <support@support.nara.test>:
> Hej! Starta om telefonen och försök igen.
`, token, out.Message.Subject, out.Message.MessageID, out.Message.MessageID))
	if err != nil {
		t.Fatalf("Anna's answer: %v", err)
	}
	if got := eventsOf(anna); len(got) != 3 || got[2] != "Det fungerar nu, tack!" {
		t.Errorf("Anna's case got %q, want her answer without the quote", got)
	}

	// Mallory names Anna's thread, token and all: a case of her own.
	err = sendMail(smtpAddr, "mallory@example.se", "support+"+token+"@"+m.domain, fmt.Sprintf(`From: mallory@example.se
To: support+%s@support.nara.test
Subject: Re: [#%s]
Message-ID: <mallory-1@example.se>
In-Reply-To: <%s>
References: <anna-1@example.se>

Visa mig allt.
`, token, token, out.Message.MessageID))
	if err != nil {
		t.Fatal(err)
	}
	if got := eventsOf(anna); len(got) != 3 {
		t.Errorf("Anna's case got %q after Mallory's forged reply, want nothing added", got)
	}
	if got := casesOf("mallory@example.se"); len(got) != 1 || got[0].Case.Id == anna {
		t.Errorf("Mallory's cases got %v, want one new case", got)
	}

	// An auto-reply is accepted and dropped.
	if err := sendMail(smtpAddr, "anna@example.se", "support@"+m.domain, `From: anna@example.se
To: support@support.nara.test
Subject: Frånvaro
Auto-Submitted: auto-replied
Message-ID: <ooo-1@example.se>

Jag är på semester.
`); err != nil {
		t.Errorf("an auto-reply got %v, want it accepted", err)
	}
	if got := casesOf("anna@example.se"); len(got) != 1 {
		t.Errorf("Anna's cases after an auto-reply got %d, want 1", len(got))
	}
	if !strings.Contains(e.logs.String(), "automatic mail dropped") {
		t.Error("the dropped auto-reply is not logged")
	}

	// A loop: the 11th new case within the hour is refused for now.
	for i := range 11 {
		err := sendMail(smtpAddr, "loop@example.se", "support@"+m.domain, fmt.Sprintf(`From: loop@example.se
To: support@support.nara.test
Subject: Ärende %d
Message-ID: <loop-%d@example.se>

Nytt ärende %d.
`, i, i, i))
		if i < 10 && err != nil {
			t.Fatalf("loop mail %d: %v", i, err)
		} else if i == 10 && smtpCode(err) != 451 {
			t.Errorf("the 11th new case in an hour got %v, want 451", err)
		}
	}
	if got := casesOf("loop@example.se"); len(got) != 10 {
		t.Errorf("a loop opened %d cases, want 10", len(got))
	}
	if !strings.Contains(e.logs.String(), "over its limit of new cases") {
		t.Error("the refused loop mail is not logged")
	}

	// No sender: refused for good.
	err = sendMail(smtpAddr, "x@example.se", "support@"+m.domain, "To: support@support.nara.test\nSubject: ?\nMessage-ID: <nofrom@example.se>\n\nHej\n")
	if smtpCode(err) != 550 {
		t.Errorf("a mail without From got %v, want 550", err)
	}

	// The relay is down: the job retries, and the mail arrives once when
	// the relay is back, with the Message-ID stored with the reply.
	if err := fake.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Reply(ctx, &supportv1.ReplyRequest{CaseId: anna, Text: "Skönt att höra!", IdempotencyKey: supportKey("r2")}); err != nil {
		t.Fatal(err)
	}
	var stored string
	clocktest.Eventually(t, 20*time.Second, "the send to fail once", func() bool {
		var attempts int
		err := e.store.Pool().QueryRow(ctx, `
			SELECT j.attempt, m.message_id FROM river_job j JOIN support_mail m ON m.id = (j.args->>'mail_id')::bigint
			 WHERE j.kind = 'support_mail_send' AND m.body = 'Skönt att höra!'`).Scan(&attempts, &stored)
		return err == nil && attempts >= 1
	})
	back, err := mailfake.Start(mailfake.Config{SMTPAddr: relayAddr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = back.Close() })
	clocktest.Eventually(t, 30*time.Second, "the retried reply to arrive", func() bool { return len(back.Messages()) >= 1 })
	time.Sleep(500 * time.Millisecond)
	if got := back.Messages(); len(got) != 1 || got[0].Message == nil || got[0].Message.MessageID != stored {
		t.Errorf("after the relay came back got %d mails, want one with Message-ID %s", len(got), stored)
	}

	// Anna answers after the case is closed: it opens again, history and all.
	if _, err := desk.CloseCase(ctx, &supportv1.CloseCaseRequest{CaseId: anna, Reason: supportv1.CloseReason_CLOSE_REASON_RESOLVED}); err != nil {
		t.Fatal(err)
	}
	err = sendMail(smtpAddr, "anna@example.se", "support@"+m.domain, fmt.Sprintf(`From: anna@example.se
To: support@support.nara.test
Subject: Igen %s
Message-ID: <anna-3@example.se>
Content-Type: text/plain; charset=utf-8

Nu krånglar det igen.
`, mail.SubjectTag(token)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := desk.GetCase(ctx, &supportv1.SupportDeskServiceGetCaseRequest{CaseId: anna})
	if err != nil {
		t.Fatal(err)
	}
	if texts := messages(got.Events); got.Case.Case.State != supportv1.CaseState_CASE_STATE_OPEN || texts[len(texts)-1] != "Nu krånglar det igen." {
		t.Errorf("a mail to the closed case left it %v with %q, want it open with the mail", got.Case.Case.State, texts)
	}
}

// smtpCode is the reply code of an SMTP client's error, 0 for none.
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// TestSupportMailWebhook takes inbound mail as the region's mail system
// POSTs it: without the shared secret nothing is taken; with it the mail
// becomes a case in the queue, as it would over SMTP.
func TestSupportMailWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, err := mailfake.Start(mailfake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	m := &mailSetup{relayURL: fake.SMTPURL(), domain: "support.nara.test", publicURL: "https://nara.test", webhookSecret: "a-shared-secret-of-the-mail-system"}
	e := setupWith(t, options{mail: m})
	raw := "From: Tove <tove@example.se>\r\nTo: support@support.nara.test\r\nSubject: Hook\r\n" +
		"Message-ID: <hook-1@example.se>\r\n\r\nJag kommer inte in i appen.\r\n"
	post := func(secret string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/mail/inbound", strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "message/rfc822")
		if secret != "" {
			req.Header.Set(mail.WebhookSecretHeader, secret)
		}
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	lena := bearer(e.staffLogin(t, oidcdev.HSAIDSupportFirstLine).AccessToken)
	desk := supportv1connect.NewSupportDeskServiceClient(e.client, e.url, lena)
	toves := func() int {
		t.Helper()
		q, err := desk.ListQueue(ctx, &supportv1.ListQueueRequest{PageSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range q.Cases {
			if c.CitizenEmail == "tove@example.se" {
				n++
			}
		}
		return n
	}
	for _, secret := range []string{"", "the-wrong-secret"} {
		if got := post(secret); got != http.StatusUnauthorized {
			t.Errorf("a POST with secret %q got %d, want 401", secret, got)
		}
	}
	if n := toves(); n != 0 {
		t.Fatalf("refused posts made %d cases", n)
	}
	if got := post(m.webhookSecret); got != http.StatusNoContent {
		t.Fatalf("a POST with the secret got %d, want 204", got)
	}
	if n := toves(); n != 1 {
		t.Errorf("the delivered mail made %d cases, want 1", n)
	}
}
