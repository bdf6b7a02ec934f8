package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

func setup(t *testing.T) (*store.Store, context.Context) {
	t.Helper()
	st := storetest.NewStore(t)
	ctx := context.Background()
	if err := st.CategoryUpsert(ctx, "bokning", 1, "Bokning", "Booking", "", ""); err != nil {
		t.Fatal(err)
	}
	return st, ctx
}

func content(title, body string) store.ArticleContent {
	return store.ArticleContent{
		CategorySlug:   "bokning",
		Title:          title,
		Summary:        "Sammanfattning.",
		BodyMarkdown:   body,
		Sources:        []store.SourceLink{{Title: "1177", URL: "https://www.1177.se/"}},
		LastReviewedOn: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	}
}

func publish(t *testing.T, st *store.Store, slug string, lang store.Language, c store.ArticleContent) {
	t.Helper()
	ctx := context.Background()
	a, err := st.HelpArticleCreate(ctx, slug, lang, c, "editor")
	if err != nil {
		t.Fatalf("create %s: %v", slug, err)
	}
	if _, err := st.HelpArticlePublish(ctx, slug, lang, a.Version); err != nil {
		t.Fatalf("publish %s: %v", slug, err)
	}
}

func TestArticleLifecycle(t *testing.T) {
	t.Parallel()
	st, ctx := setup(t)

	a, err := st.HelpArticleCreate(ctx, "boka-tid", store.LanguageSwedish, content("Boka tid", "Första texten."), "SE-editor-1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 || a.State != store.ArticleDraft {
		t.Fatalf("create got version %d state %d, want 1 draft", a.Version, a.State)
	}
	if _, err := st.HelpArticleGetPublished(ctx, "boka-tid", store.LanguageSwedish); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("draft visible to citizens: err %v, want ErrNotFound", err)
	}
	if _, err := st.HelpArticleCreate(ctx, "boka-tid", store.LanguageSwedish, content("Boka tid", "x"), ""); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate create: err %v, want ErrConflict", err)
	}
	v0, _ := st.HelpContentVersion(ctx, store.LanguageSwedish)
	if _, err := st.HelpArticlePublish(ctx, "boka-tid", store.LanguageSwedish, 1); err != nil {
		t.Fatal(err)
	}
	if v1, _ := st.HelpContentVersion(ctx, store.LanguageSwedish); v1 != v0+1 {
		t.Errorf("content version after publish got %d, want %d", v1, v0+1)
	}

	a2, err := st.HelpArticleUpdate(ctx, "boka-tid", store.LanguageSwedish, 1, content("Boka tid", "Andra texten."), "SE-editor-2")
	if err != nil {
		t.Fatal(err)
	}
	if a2.Version != 2 || a2.State != store.ArticleDraft {
		t.Fatalf("update got version %d state %d, want 2 draft", a2.Version, a2.State)
	}
	if _, err := st.HelpArticleUpdate(ctx, "boka-tid", store.LanguageSwedish, 1, content("Boka tid", "Stale."), ""); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("update from stale version: err %v, want ErrPrecondition", err)
	}
	shown, err := st.HelpArticleGetPublished(ctx, "boka-tid", store.LanguageSwedish)
	if err != nil || shown.BodyMarkdown != "Första texten." {
		t.Fatalf("published text got %q (%v), want the first version until v2 is published", shown.BodyMarkdown, err)
	}
	if _, err := st.HelpArticlePublish(ctx, "boka-tid", store.LanguageSwedish, 2); err != nil {
		t.Fatal(err)
	}
	versions, err := st.HelpArticleVersions(ctx, "boka-tid", store.LanguageSwedish)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0].State != store.ArticlePublished || versions[1].State != store.ArticleSuperseded {
		t.Fatalf("versions got %+v, want v2 published and v1 superseded", versions)
	}

	if _, err := st.HelpArticleRetire(ctx, "boka-tid", store.LanguageSwedish); err != nil {
		t.Fatal(err)
	}
	if _, err := st.HelpArticleGetPublished(ctx, "boka-tid", store.LanguageSwedish); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retired article visible: err %v, want ErrNotFound", err)
	}
	if _, err := st.HelpArticleRetire(ctx, "boka-tid", store.LanguageSwedish); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("retire twice: err %v, want ErrPrecondition", err)
	}
	if _, err := st.HelpArticleVersions(ctx, "nope", store.LanguageSwedish); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("versions of unknown: err %v, want ErrNotFound", err)
	}
}

func TestArticleCreateUnknownCategory(t *testing.T) {
	t.Parallel()
	st, ctx := setup(t)
	c := content("Titel", "Text")
	c.CategorySlug = "finns-inte"
	if _, err := st.HelpArticleCreate(ctx, "a", store.LanguageSwedish, c, ""); !errors.Is(err, store.ErrReference) {
		t.Fatalf("create in unknown category: err %v, want ErrReference", err)
	}
	if all, _ := st.HelpArticleListAll(ctx, store.LanguageSwedish); len(all) != 0 {
		t.Fatalf("failed create left %d articles behind", len(all))
	}
}

func TestSearchSwedish(t *testing.T) {
	t.Parallel()
	st, ctx := setup(t)
	publish(t, st, "boka-vaccination", store.LanguageSwedish, content("Hur bokar jag en vaccination?", "Välj vaccinationen och en ledig tid."))
	publish(t, st, "influensa", store.LanguageSwedish, content("Influensavaccination för äldre", "Alla över 65 år erbjuds vaccin."))
	publish(t, st, "bankid", store.LanguageSwedish, content("Logga in med BankID", "Öppna BankID-appen och skanna QR-koden."))
	publish(t, st, "video", store.LanguageEnglish, content("Video visits", "How to join a video visit."))

	tests := []struct {
		query string
		want  string // the best hit's slug, "" for none
	}{
		{"vaccinationer", "boka-vaccination"}, // stemming
		{"vaccination", "boka-vaccination"},
		{"vacination", "boka-vaccination"},     // typo
		{"influensavaccin", "influensa"},       // compound, prefix
		{"bankid", "bankid"},                   // case
		{"inloggning bankid qr", "bankid"},     // several words
		{"video", ""},                          // other language only
		{"ö!?#", ""},                           // nothing searchable
		{"'; DROP TABLE help_article; --", ""}, // just words
	}
	for _, tt := range tests {
		hits, err := st.HelpArticleSearch(ctx, store.LanguageSwedish, tt.query, 10)
		if err != nil {
			t.Fatalf("search %q: %v", tt.query, err)
		}
		got := ""
		if len(hits) > 0 {
			got = hits[0].Slug
		}
		if got != tt.want {
			t.Errorf("HelpArticleSearch(%q) best hit got %q, want %q (hits %+v)", tt.query, got, tt.want, hits)
		}
	}
}

func TestListPublishedAndCategories(t *testing.T) {
	t.Parallel()
	st, ctx := setup(t)
	publish(t, st, "a", store.LanguageSwedish, content("A-titel", "Text"))
	publish(t, st, "b", store.LanguageSwedish, content("B-titel", "Text"))
	if _, err := st.HelpArticleCreate(ctx, "c", store.LanguageSwedish, content("Utkast", "Text"), ""); err != nil {
		t.Fatal(err)
	}
	articles, version, err := st.HelpArticleListPublished(ctx, store.LanguageSwedish)
	if err != nil {
		t.Fatal(err)
	}
	if len(articles) != 2 || version < 2 {
		t.Fatalf("list published got %d articles at version %d, want 2 at ≥ 2", len(articles), version)
	}
	cats, err := st.CategoryList(ctx, store.LanguageSwedish)
	if err != nil {
		t.Fatal(err)
	}
	if len(cats) != 1 || cats[0].ArticleCount != 2 || cats[0].Title != "Bokning" {
		t.Fatalf("categories got %+v, want Bokning with 2 articles", cats)
	}
}

func TestSearchSnippetIsPlainText(t *testing.T) {
	t.Parallel()
	st, ctx := setup(t)
	body := "## Logga in\n\nTryck på **Logga in** och välj *Mobilt BankID*.\n\n" +
		"- Öppna `BankID`-appen och skanna QR-koden.\n1. Läs mer på [1177](https://www.1177.se/bankid).\n> Koden byts __varje__ sekund."
	publish(t, st, "bankid", store.LanguageSwedish, content("Logga in med BankID", body))

	for _, query := range []string{"bankid", "1177", "sekund"} {
		hits, err := st.HelpArticleSearch(ctx, store.LanguageSwedish, query, 10)
		if err != nil || len(hits) != 1 {
			t.Fatalf("HelpArticleSearch(%q) got %+v, %v, want one hit", query, hits, err)
		}
		snippet := hits[0].Snippet
		for _, mark := range []string{"**", "__", "*", "`", "##", "](", "https://", "\n- ", "\n1. ", "\n> "} {
			if strings.Contains(snippet, mark) {
				t.Errorf("HelpArticleSearch(%q) snippet %q contains the Markdown %q", query, snippet, mark)
			}
		}
		if !strings.Contains(snippet, "«") {
			t.Errorf("HelpArticleSearch(%q) snippet %q marks no match", query, snippet)
		}
	}
}
