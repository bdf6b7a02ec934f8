package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/nara-care/nara/access"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	"github.com/nara-care/nara/internal/clocktest"
)

const sv = helpv1.Language_LANGUAGE_SV

func TestHelpPublicReads(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for name, tr := range e.protocols() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := helpv1connect.NewHelpServiceClient(tr.client, e.url, tr.opts...)

			cats, err := c.ListCategories(ctx, &helpv1.ListCategoriesRequest{Language: sv})
			if err != nil {
				t.Fatal(err)
			}
			if len(cats.Categories) < 5 || cats.Categories[0].Slug != "logga-in" || cats.Categories[0].ArticleCount == 0 {
				t.Errorf("ListCategories got %v, want the demo categories with counts", cats.Categories)
			}

			list, err := c.ListArticles(ctx, &helpv1.ListArticlesRequest{Language: sv})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Articles) < 10 || list.ContentVersion == "" || list.NotModified {
				t.Fatalf("ListArticles got %d articles, version %q", len(list.Articles), list.ContentVersion)
			}
			again, err := c.ListArticles(ctx, &helpv1.ListArticlesRequest{Language: sv, KnownContentVersion: list.ContentVersion})
			if err != nil {
				t.Fatal(err)
			}
			if !again.NotModified || len(again.Articles) != 0 || again.ContentVersion != list.ContentVersion {
				t.Errorf("ListArticles with the current version got not_modified=%v and %d articles, want true and 0", again.NotModified, len(again.Articles))
			}

			art, err := c.GetArticle(ctx, &helpv1.GetArticleRequest{Slug: "boka-vaccination", Language: helpv1.Language_LANGUAGE_EN})
			if err != nil {
				t.Fatal(err)
			}
			a := art.Article
			if a.Title != "How do I book a vaccination?" || len(a.Sources) == 0 || a.LastReviewedOn == "" || a.State != helpv1.ArticleState_ARTICLE_STATE_PUBLISHED {
				t.Errorf("GetArticle got %v", a)
			}

			_, err = c.GetArticle(ctx, &helpv1.GetArticleRequest{Slug: "finns-inte", Language: sv})
			if connect.CodeOf(err) != connect.CodeNotFound || !strings.Contains(err.Error(), `"finns-inte"`) {
				t.Errorf("GetArticle(unknown) got %v, want NotFound naming the slug", err)
			}

			hits, err := c.SearchArticles(ctx, &helpv1.SearchArticlesRequest{Query: "vaccinationer", Language: sv})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits.Hits) == 0 || hits.Hits[0].Slug != "boka-vaccination" || !strings.Contains(hits.Hits[0].Snippet, "«") {
				t.Errorf("SearchArticles(vaccinationer) got %v, want boka-vaccination first with a marked snippet", hits.Hits)
			}

			status, err := c.GetSupportStatus(ctx, &helpv1.GetSupportStatusRequest{Language: sv})
			if err != nil {
				t.Fatal(err)
			}
			if len(status.Week) != 7 || status.TimeZone != "Europe/Stockholm" || status.Message == "" || len(status.ContactPoints) < 3 {
				t.Errorf("GetSupportStatus got %v", status)
			}
			if status.OpenNow == (status.ClosesAt == nil) || status.OpenNow == (status.NextOpensAt != nil) {
				t.Errorf("GetSupportStatus open=%v closes=%v next=%v, want exactly one boundary", status.OpenNow, status.ClosesAt, status.NextOpensAt)
			}
			var medical bool
			for _, cp := range status.ContactPoints {
				medical = medical || (cp.Purpose == helpv1.ContactPurpose_CONTACT_PURPOSE_MEDICAL && cp.Address == "1177")
			}
			if !medical {
				t.Errorf("GetSupportStatus contact points %v lack 1177 for medical questions", status.ContactPoints)
			}
		})
	}
}

func TestHelpListArticlesETag(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := helpv1connect.NewHelpServiceClient(e.client, e.url, connect.WithHTTPGet())
	ctx, call := connect.NewClientContext(context.Background())
	res, err := c.ListArticles(ctx, &helpv1.ListArticlesRequest{Language: sv})
	if err != nil {
		t.Fatal(err)
	}
	tag := call.ResponseHeader().Get("ETag")
	if tag != `"`+res.ContentVersion+`"` {
		t.Fatalf("ETag got %q, want the quoted content version %q", tag, res.ContentVersion)
	}
	ctx, call = connect.NewClientContext(context.Background())
	call.RequestHeader().Set("If-None-Match", tag)
	res, err = c.ListArticles(ctx, &helpv1.ListArticlesRequest{Language: sv})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NotModified || len(res.Articles) != 0 {
		t.Errorf("ListArticles with If-None-Match got not_modified=%v and %d articles", res.NotModified, len(res.Articles))
	}
}

// violations returns the field paths protovalidate reported for err.
func violations(t *testing.T, err error) []string {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a Connect error", err)
	}
	var paths []string
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			t.Fatal(derr)
		}
		if vs, ok := v.(*validatepb.Violations); ok {
			for _, viol := range vs.Violations {
				paths = append(paths, protovalidate.FieldPathString(viol.Field))
			}
		}
	}
	return paths
}

func TestHelpBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := helpv1connect.NewHelpServiceClient(e.client, e.url)
	ctx := context.Background()
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"empty query", func() error {
			_, err := c.SearchArticles(ctx, &helpv1.SearchArticlesRequest{Query: "", Language: sv})
			return err
		}, "query"},
		{"oversized query", func() error {
			_, err := c.SearchArticles(ctx, &helpv1.SearchArticlesRequest{Query: strings.Repeat("vaccin ", 100), Language: sv})
			return err
		}, "query"},
		{"unspecified language", func() error {
			_, err := c.ListArticles(ctx, &helpv1.ListArticlesRequest{})
			return err
		}, "language"},
		{"unknown language", func() error {
			_, err := c.ListCategories(ctx, &helpv1.ListCategoriesRequest{Language: 42})
			return err
		}, "language"},
		{"bad slug", func() error {
			_, err := c.GetArticle(ctx, &helpv1.GetArticleRequest{Slug: "../etc/passwd", Language: sv})
			return err
		}, "slug"},
		{"page size", func() error {
			_, err := c.SearchArticles(ctx, &helpv1.SearchArticlesRequest{Query: "x", Language: sv, PageSize: 1000})
			return err
		}, "page_size"},
	}
	for _, tt := range tests {
		err := tt.call()
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: got %v, want InvalidArgument", tt.name, err)
			continue
		}
		if got := violations(t, err); len(got) != 1 || got[0] != tt.field {
			t.Errorf("%s: violations got %v, want [%s]", tt.name, got, tt.field)
		}
	}
	// Punctuation alone passes validation but has nothing to search for.
	_, err := c.SearchArticles(ctx, &helpv1.SearchArticlesRequest{Query: "   ", Language: sv})
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("blank query got %v, want InvalidArgument", err)
	}
}

func TestHelpAdminAuthorization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	req := &helpv1.ListAllArticlesRequest{Language: sv}
	tests := []struct {
		name string
		opts []connect.ClientOption
		want connect.Code
	}{
		{"anonymous", nil, connect.CodeUnauthenticated},
		{"citizen", []connect.ClientOption{e.citizen(t, anna)}, connect.CodePermissionDenied},
		{"first line", []connect.ClientOption{e.roles(t, access.RoleSupportFirstLine)}, connect.CodePermissionDenied},
		{"clinician", []connect.ClientOption{e.roles(t, access.RoleClinician)}, connect.CodePermissionDenied},
		{"second line", []connect.ClientOption{e.roles(t, access.RoleSupportSecondLine)}, 0},
		{"region admin", []connect.ClientOption{e.roles(t, access.RoleRegionAdmin)}, 0},
	}
	for _, tt := range tests {
		c := helpv1connect.NewHelpAdminServiceClient(e.client, e.url, tt.opts...)
		_, err := c.ListAllArticles(ctx, req)
		if got := connect.CodeOf(err); (err == nil && tt.want != 0) || (err != nil && got != tt.want) {
			t.Errorf("%s: ListAllArticles got %v, want code %v", tt.name, err, tt.want)
		}
	}
}

func TestHelpEditorialFlow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	admin := helpv1connect.NewHelpAdminServiceClient(e.client, e.url, e.roles(t, access.RoleSupportSecondLine))
	public := helpv1connect.NewHelpServiceClient(e.client, e.url)
	content := &helpv1.ArticleContent{
		CategorySlug:   "teknik",
		Title:          "Appen startar inte efter uppdatering",
		Summary:        "Starta om telefonen.",
		BodyMarkdown:   "Starta om telefonen och öppna appen igen. Hjälper det inte, avinstallera och installera om.",
		Sources:        []*helpv1.SourceLink{{Title: "1177", Url: "https://www.1177.se/"}},
		LastReviewedOn: "2026-11-20",
	}

	// Warm the search cache so publishing must invalidate it.
	before, err := public.SearchArticles(ctx, &helpv1.SearchArticlesRequest{Query: "avinstallera", Language: sv})
	if err != nil || len(before.Hits) != 0 {
		t.Fatalf("search before publishing got %v, %v; want no hits", before, err)
	}

	created, err := admin.CreateArticle(ctx, &helpv1.CreateArticleRequest{Slug: "appen-startar-inte", Language: sv, Content: content})
	if err != nil {
		t.Fatal(err)
	}
	if created.Article.State != helpv1.ArticleState_ARTICLE_STATE_DRAFT || created.Article.Version != 1 {
		t.Fatalf("created %v, want a draft version 1", created.Article)
	}
	_, err = admin.CreateArticle(ctx, &helpv1.CreateArticleRequest{Slug: "appen-startar-inte", Language: sv, Content: content})
	if connect.CodeOf(err) != connect.CodeAlreadyExists {
		t.Errorf("create twice got %v, want AlreadyExists", err)
	}
	bad := proto.CloneOf(content)
	bad.CategorySlug = "finns-inte"
	_, err = admin.CreateArticle(ctx, &helpv1.CreateArticleRequest{Slug: "annan", Language: sv, Content: bad})
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "finns-inte") {
		t.Errorf("create in unknown category got %v, want InvalidArgument naming it", err)
	}

	content.Title = "Appen startar inte efter en uppdatering"
	updated, err := admin.UpdateArticle(ctx, &helpv1.UpdateArticleRequest{Slug: "appen-startar-inte", Language: sv, BaseVersion: 1, Content: content})
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.UpdateArticle(ctx, &helpv1.UpdateArticleRequest{Slug: "appen-startar-inte", Language: sv, BaseVersion: 1, Content: content})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "newer version") {
		t.Errorf("update from a stale version got %v, want FailedPrecondition", err)
	}
	if _, err := admin.PublishArticle(ctx, &helpv1.PublishArticleRequest{Slug: "appen-startar-inte", Language: sv, Version: updated.Article.Version}); err != nil {
		t.Fatal(err)
	}
	_, err = admin.PublishArticle(ctx, &helpv1.PublishArticleRequest{Slug: "appen-startar-inte", Language: sv, Version: 9})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("publish a missing version got %v, want NotFound", err)
	}

	// The change reaches the cache through LISTEN/NOTIFY; allow it a moment.
	clocktest.Eventually(t, 5*time.Second, "the published version in search", func() bool {
		res, err := public.SearchArticles(ctx, &helpv1.SearchArticlesRequest{Query: "avinstallera", Language: sv})
		return err == nil && len(res.Hits) == 1 && res.Hits[0].Slug == "appen-startar-inte"
	})

	versions, err := admin.ListArticleVersions(ctx, &helpv1.ListArticleVersionsRequest{Slug: "appen-startar-inte", Language: sv})
	if err != nil || len(versions.Versions) != 2 {
		t.Fatalf("versions got %v, %v; want 2", versions, err)
	}
	if _, err := admin.RetireArticle(ctx, &helpv1.RetireArticleRequest{Slug: "appen-startar-inte", Language: sv}); err != nil {
		t.Fatal(err)
	}
	clocktest.Eventually(t, 5*time.Second, "the retired article gone from the public help", func() bool {
		_, err := public.GetArticle(ctx, &helpv1.GetArticleRequest{Slug: "appen-startar-inte", Language: sv})
		res, serr := public.SearchArticles(ctx, &helpv1.SearchArticlesRequest{Query: "avinstallera", Language: sv})
		return connect.CodeOf(err) == connect.CodeNotFound && serr == nil && len(res.Hits) == 0
	})
}
