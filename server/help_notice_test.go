package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/nara-care/nara/access"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/gen/nara/support/v1/supportv1connect"
	"github.com/nara-care/nara/identity/oidcdev"
)

// TestHelpShowsServiceNotices publishes a service notice and finds it in
// the FAQ and the support status before login, on this replica at once and
// on another as soon as the change feed brings it, with a new content
// version; withdrawn, it is gone from both.
func TestHelpShowsServiceNotices(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	per := supportv1connect.NewSupportDeskServiceClient(e.client, e.url,
		e.staff(t, oidcdev.HSAIDSupportSecondLine, []access.Role{access.RoleSupportSecondLine}, nil, ""))
	replicas := map[string]helpv1connect.HelpServiceClient{
		"this replica":    helpv1connect.NewHelpServiceClient(e.client, e.url),
		"another replica": helpv1connect.NewHelpServiceClient(e.client, e.replica(t)),
	}
	// shown reads the FAQ and status until both show want (one notice's id,
	// or none), and returns the list's content version.
	shown := func(name string, c helpv1connect.HelpServiceClient, want string, wait bool) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			list, err := c.ListArticles(ctx, &helpv1.ListArticlesRequest{Language: sv})
			if err != nil {
				t.Fatal(err)
			}
			status, err := c.GetSupportStatus(ctx, &helpv1.GetSupportStatusRequest{Language: sv})
			if err != nil {
				t.Fatal(err)
			}
			ok := func(ns []*helpv1.ServiceNotice) bool {
				if want == "" {
					return len(ns) == 0
				}
				return len(ns) == 1 && ns[0].Id == want && ns[0].Title == "BankID-inloggning fungerar inte just nu"
			}
			if ok(list.ServiceNotices) && ok(status.ServiceNotices) && len(list.Articles) > 0 {
				return list.ContentVersion
			}
			if !wait || time.Now().After(deadline) {
				t.Fatalf("%s: ListArticles shows %v and GetSupportStatus %v, want notice %q", name, list.ServiceNotices, status.ServiceNotices, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	versions := map[string]string{}
	for name, c := range replicas {
		versions[name] = shown(name, c, "", false) // and now cached
	}

	notice, err := per.PublishServiceNotice(ctx, &supportv1.PublishServiceNoticeRequest{Title: "BankID-inloggning fungerar inte just nu",
		Body: "Vi felsöker. Du kan fortfarande skriva till supporten."})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range replicas {
		v := shown(name, c, notice.Notice.Id, name != "this replica")
		if v == versions[name] {
			t.Errorf("%s: the content version stayed %q with a notice published", name, v)
		}
		// An app that holds the old version is sent the notice.
		if res, err := c.ListArticles(ctx, &helpv1.ListArticlesRequest{Language: sv, KnownContentVersion: versions[name]}); err != nil || res.NotModified {
			t.Errorf("%s: ListArticles with the version before the notice got %v, %v, want the list", name, res, err)
		}
	}

	if _, err := per.WithdrawServiceNotice(ctx, &supportv1.WithdrawServiceNoticeRequest{NoticeId: notice.Notice.Id}); err != nil {
		t.Fatal(err)
	}
	for name, c := range replicas {
		shown(name, c, "", name != "this replica")
	}
}
