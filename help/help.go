// Package help is the help content: the FAQ in Swedish and English,
// readable before login and searchable with Swedish stemming and typo
// correction, support's opening hours and contact routes, and its editing
// by support's second line. Published answers are kept per replica and
// dropped through the change feed the moment the content changes anywhere.
package help

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/openinghours"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// helpService serves the public FAQ and support status.
//
// Published content changes rarely and is read constantly, so whole responses
// are cached per replica, tagged with the language's content version. Every
// change bumps that version in the same transaction and records it in the
// change feed, so every replica drops what it cached.
type helpService struct {
	store *store.Store
	loc   *time.Location
	now   func() time.Time

	mu       sync.Mutex
	versions map[store.Language]int64 // known content versions; missing = ask the database
	searches map[searchKey]*helpv1.SearchArticlesResponse
	lists    map[store.Language]*helpv1.ListArticlesResponse
	maxCache int
	// notices are support's service notices in force, shown with the FAQ.
	notices *notices
}

type searchKey struct {
	lang     store.Language
	query    string
	pageSize int32
}

func newHelpService(st *store.Store, maxCache int, loc *time.Location, now func() time.Time) *helpService {
	return &helpService{
		store:    st,
		loc:      loc,
		now:      now,
		versions: map[store.Language]int64{},
		searches: map[searchKey]*helpv1.SearchArticlesResponse{},
		lists:    map[store.Language]*helpv1.ListArticlesResponse{},
		maxCache: maxCache,
		notices:  &notices{store: st},
	}
}

// invalidate records a new content version and drops what was cached.
func (h *helpService) invalidate(lang store.Language, version int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if version != 0 && h.versions[lang] >= version {
		return
	}
	if version == 0 {
		delete(h.versions, lang)
	} else {
		h.versions[lang] = version
	}
	delete(h.lists, lang)
	for k := range h.searches {
		if k.lang == lang {
			delete(h.searches, k)
		}
	}
}

// cachedVersion returns the content version the cache holds for lang; the
// cache is trusted only while the listener is connected (and has set it), so
// no change from another replica can be missed.
func (h *helpService) cachedVersion(lang store.Language) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.versions[lang]
	return v, ok
}

// Follow turns the cache on (listening from now on: the versions are read
// again) or off; it is emptied either way.
func (h *helpService) Follow(live bool) {
	if h.maxCache < 0 {
		return
	}
	h.mu.Lock()
	clear(h.versions)
	clear(h.lists)
	clear(h.searches)
	h.mu.Unlock()
	if !live {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, lang := range []store.Language{store.LanguageSwedish, store.LanguageEnglish} {
		if v, err := h.store.HelpContentVersion(ctx, lang); err == nil {
			h.invalidate(lang, 0)
			h.invalidate(lang, v)
		}
	}
}

// Changed applies a change announced on store.TopicHelp.
func (h *helpService) Changed(payload string) {
	if lang, version, ok := store.ParseHelpChange(payload); ok {
		h.invalidate(lang, version)
	}
}

func (h *helpService) ListCategories(ctx context.Context, req *helpv1.ListCategoriesRequest) (*helpv1.ListCategoriesResponse, error) {
	cats, err := h.store.CategoryList(ctx, languageFromProto(req.Language))
	if err != nil {
		return nil, err
	}
	res := &helpv1.ListCategoriesResponse{}
	for _, c := range cats {
		res.Categories = append(res.Categories, &helpv1.Category{
			Slug: c.Slug, Title: c.Title, Description: c.Description, ArticleCount: int32(c.ArticleCount),
		})
	}
	return res, nil
}

func etag(lang store.Language, version int64) string {
	return fmt.Sprintf("%s-%d", lang, version)
}

func (h *helpService) ListArticles(ctx context.Context, req *helpv1.ListArticlesRequest) (*helpv1.ListArticlesResponse, error) {
	lang := languageFromProto(req.Language)
	known := req.KnownContentVersion
	info, hasInfo := connect.CallInfoForHandlerContext(ctx)
	if hasInfo && known == "" {
		known = strings.Trim(info.RequestHeader().Get("If-None-Match"), `"W/`)
	}
	articles, err := h.listArticles(ctx, lang)
	if err != nil {
		return nil, err
	}
	ns, err := h.notices.get(ctx)
	if err != nil {
		return nil, err
	}
	// A notice published or withdrawn changes the version too, so that an
	// app that holds the articles still hears of it at once.
	res := &helpv1.ListArticlesResponse{Articles: articles.Articles, ContentVersion: articles.ContentVersion, ServiceNotices: ns.list}
	if ns.tag != "" {
		res.ContentVersion += "-" + ns.tag
	}
	if hasInfo {
		info.ResponseHeader().Set("ETag", `"`+res.ContentVersion+`"`)
		info.ResponseHeader().Set("Cache-Control", "no-cache")
	}
	if known == res.ContentVersion {
		return &helpv1.ListArticlesResponse{ContentVersion: res.ContentVersion, NotModified: true}, nil
	}
	return res, nil
}

func (h *helpService) listArticles(ctx context.Context, lang store.Language) (*helpv1.ListArticlesResponse, error) {
	version, cacheOK := h.cachedVersion(lang)
	if cacheOK {
		h.mu.Lock()
		res := h.lists[lang]
		h.mu.Unlock()
		if res != nil {
			return res, nil
		}
	}
	articles, dbVersion, err := h.store.HelpArticleListPublished(ctx, lang)
	if err != nil {
		return nil, err
	}
	res := &helpv1.ListArticlesResponse{ContentVersion: etag(lang, dbVersion)}
	for _, a := range articles {
		res.Articles = append(res.Articles, articleToProto(a))
	}
	if cacheOK && dbVersion == version {
		h.mu.Lock()
		if h.versions[lang] == dbVersion {
			h.lists[lang] = res
		}
		h.mu.Unlock()
	}
	return res, nil
}

func (h *helpService) GetArticle(ctx context.Context, req *helpv1.GetArticleRequest) (*helpv1.GetArticleResponse, error) {
	a, err := h.store.HelpArticleGetPublished(ctx, req.Slug, languageFromProto(req.Language))
	if err != nil {
		return nil, rpc.NotFoundAs(err, "there is no published article %q in that language", req.Slug)
	}
	return &helpv1.GetArticleResponse{Article: articleToProto(a)}, nil
}

// defaultSearchPageSize is used when a search asks for 0 hits.
const defaultSearchPageSize = 10

func (h *helpService) SearchArticles(ctx context.Context, req *helpv1.SearchArticlesRequest) (*helpv1.SearchArticlesResponse, error) {
	lang := languageFromProto(req.Language)
	size := req.PageSize
	if size == 0 {
		size = defaultSearchPageSize
	}
	normalized := strings.Join(strings.Fields(strings.ToLower(req.Query)), " ")
	if strings.TrimSpace(normalized) == "" {
		return nil, rpc.Fail(connect.CodeInvalidArgument, "query: type at least one word to search for")
	}
	key := searchKey{lang: lang, query: normalized, pageSize: size}
	version, cacheOK := h.cachedVersion(lang)
	if cacheOK {
		h.mu.Lock()
		res := h.searches[key]
		h.mu.Unlock()
		if res != nil {
			return res, nil
		}
	}
	hits, err := h.store.HelpArticleSearch(ctx, lang, normalized, int(size))
	if err != nil {
		return nil, err
	}
	res := &helpv1.SearchArticlesResponse{}
	for _, hit := range hits {
		res.Hits = append(res.Hits, &helpv1.SearchHit{
			Slug: hit.Slug, Title: hit.Title, Summary: hit.Summary, CategorySlug: hit.CategorySlug,
			Snippet: hit.Snippet, Score: hit.Score,
		})
	}
	if cacheOK {
		h.mu.Lock()
		if h.versions[lang] == version {
			if len(h.searches) >= h.maxCache {
				// Bounded and simple: start over rather than track recency.
				clear(h.searches)
			}
			h.searches[key] = res
		}
		h.mu.Unlock()
	}
	return res, nil
}

func (h *helpService) GetSupportStatus(ctx context.Context, req *helpv1.GetSupportStatusRequest) (*helpv1.GetSupportStatusResponse, error) {
	lang := languageFromProto(req.Language)
	hours, err := h.store.SupportHoursGet(ctx)
	if err != nil {
		return nil, err
	}
	cps, err := h.store.ContactPointList(ctx)
	if err != nil {
		return nil, err
	}
	sched := openinghours.Schedule{Location: h.loc, Hours: map[openinghours.DayKind]openinghours.Hours{}}
	for kind, dh := range hours {
		sched.Hours[openinghours.DayKind(kind)] = openinghours.Hours{Opens: dh.Opens, Closes: dh.Closes}
	}
	ns, err := h.notices.get(ctx)
	if err != nil {
		return nil, err
	}
	now := h.now()
	st := sched.StatusAt(now)
	res := &helpv1.GetSupportStatusResponse{
		OpenNow:        st.OpenNow,
		TimeZone:       h.loc.String(),
		Message:        supportMessage(lang, st, now, h.loc),
		ServiceNotices: ns.list,
	}
	if st.OpenNow {
		res.ClosesAt = timestamppb.New(st.ClosesAt)
	} else if !st.NextOpensAt.IsZero() {
		res.NextOpensAt = timestamppb.New(st.NextOpensAt)
	}
	for _, d := range sched.Week(now, 7) {
		oh := &helpv1.OpeningHours{Date: d.Date.Format(time.DateOnly), DayLabel: dayLabel(lang, d)}
		if d.Open {
			oh.OpensAt, oh.ClosesAt = timestamppb.New(d.OpensAt), timestamppb.New(d.ClosesAt)
		}
		res.Week = append(res.Week, oh)
	}
	for _, c := range cps {
		res.ContactPoints = append(res.ContactPoints, contactPointToProto(lang, c))
	}
	return res, nil
}

func dayLabel(lang store.Language, d openinghours.Day) string {
	sv := lang == store.LanguageSwedish
	switch d.Kind {
	case openinghours.Holiday:
		if sv {
			return "Helgdag: " + d.Holiday.NameSV
		}
		return "Holiday: " + d.Holiday.NameEN
	case openinghours.Weekend:
		if sv {
			return "Helg"
		}
		return "Weekend"
	default:
		if sv {
			return "Vardag"
		}
		return "Weekday"
	}
}

func supportMessage(lang store.Language, st openinghours.Status, now time.Time, loc *time.Location) string {
	sv := lang == store.LanguageSwedish
	switch {
	case st.OpenNow && sv:
		return "Supporten är öppen till " + st.ClosesAt.In(loc).Format("15:04") + "."
	case st.OpenNow:
		return "Support is open until " + st.ClosesAt.In(loc).Format("15:04") + "."
	case st.NextOpensAt.IsZero() && sv:
		return "Supporten är stängd."
	case st.NextOpensAt.IsZero():
		return "Support is closed."
	}
	next := st.NextOpensAt.In(loc)
	when := next.Format("15:04")
	y, m, d := now.In(loc).Date()
	switch ny, nm, nd := next.Date(); {
	case ny == y && nm == m && nd == d:
		if sv {
			return "Supporten är stängd och öppnar i dag " + when + "."
		}
		return "Support is closed and opens today at " + when + "."
	case next.Sub(time.Date(y, m, d, 0, 0, 0, 0, loc)) < 48*time.Hour:
		if sv {
			return "Supporten är stängd och öppnar i morgon " + when + "."
		}
		return "Support is closed and opens tomorrow at " + when + "."
	}
	if sv {
		return "Supporten är stängd och öppnar " + next.Format("2006-01-02") + " " + when + "."
	}
	return "Support is closed and opens on " + next.Format("2006-01-02") + " at " + when + "."
}
