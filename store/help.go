package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
)

// Language is the language of a piece of help content: "sv" or "en".
type Language string

// The languages help content is written in.
const (
	LanguageSwedish Language = "sv"
	LanguageEnglish Language = "en"
)

// ArticleState is where one version of an article is in its life.
type ArticleState int

// Article version states. A version is a draft until published; the
// published version becomes superseded when a newer one is published.
const (
	ArticleDraft ArticleState = iota + 1
	ArticlePublished
	ArticleRetired
	ArticleSuperseded
)

// SourceLink is the authoritative page an answer is based on.
type SourceLink struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// ArticleContent is what an editor writes for one version.
type ArticleContent struct {
	CategorySlug   string
	Title          string
	Summary        string
	BodyMarkdown   string
	Sources        []SourceLink
	LastReviewedOn time.Time
}

// Article is one version of an FAQ answer in one language.
type Article struct {
	Slug     string
	Language Language
	ArticleContent
	Version     int
	State       ArticleState
	PublishedAt time.Time // zero if never published
	UpdatedAt   time.Time
}

// Category groups articles.
type Category struct {
	Slug         string
	Title        string
	Description  string
	ArticleCount int
}

// SearchHit is one article found by a search.
type SearchHit struct {
	Slug         string
	CategorySlug string
	Title        string
	Summary      string
	Snippet      string
	Score        float32
}

// CategoryUpsert creates or renames a category.
func (s *Store) CategoryUpsert(ctx context.Context, slug string, position int, titleSV, titleEN, descSV, descEN string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO help_category (slug, position, title_sv, title_en, description_sv, description_en)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (slug) DO UPDATE SET position = $2, title_sv = $3, title_en = $4,
			description_sv = $5, description_en = $6`,
		slug, position, titleSV, titleEN, descSV, descEN)
	return interpretError(err)
}

// CategoryList returns the categories in display order with their number of
// published articles in lang.
func (s *Store) CategoryList(ctx context.Context, lang Language) ([]Category, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.slug,
		       CASE $1 WHEN 'sv' THEN c.title_sv ELSE c.title_en END,
		       CASE $1 WHEN 'sv' THEN c.description_sv ELSE c.description_en END,
		       (SELECT count(*) FROM help_article a
		          JOIN help_article_version v ON v.slug = a.slug AND v.language = a.language AND v.version = a.published_version
		         WHERE a.language = $1 AND a.retired_at IS NULL AND v.category_slug = c.slug)
		  FROM help_category c
		 ORDER BY c.position, c.slug`, string(lang))
	if err != nil {
		return nil, interpretError(err)
	}
	cats, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Category, error) {
		var c Category
		err := row.Scan(&c.Slug, &c.Title, &c.Description, &c.ArticleCount)
		return c, err
	})
	return cats, interpretError(err)
}

// HelpContentVersion returns the version of the published content in lang.
func (s *Store) HelpContentVersion(ctx context.Context, lang Language) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT version FROM help_content_version WHERE language = $1`, string(lang)).Scan(&v)
	return v, interpretError(err)
}

// articleColumns selects an Article from help_article a and help_article_version v.
const articleColumns = `
	v.slug, v.language, v.category_slug, v.title, v.summary, v.body_markdown, v.sources,
	v.last_reviewed_on, v.version,
	CASE
		WHEN a.retired_at IS NOT NULL AND v.version = coalesce(a.published_version, a.latest_version) THEN 3
		WHEN v.version = a.published_version THEN 2
		WHEN v.published_at IS NOT NULL THEN 4
		ELSE 1
	END,
	v.published_at, coalesce(a.retired_at, greatest(v.created_at, v.published_at))`

func scanArticle(row pgx.CollectableRow) (Article, error) {
	var (
		a           Article
		lang        string
		sources     []byte
		publishedAt *time.Time
	)
	err := row.Scan(&a.Slug, &lang, &a.CategorySlug, &a.Title, &a.Summary, &a.BodyMarkdown, &sources,
		&a.LastReviewedOn, &a.Version, &a.State, &publishedAt, &a.UpdatedAt)
	if err != nil {
		return a, err
	}
	a.Language = Language(lang)
	if publishedAt != nil {
		a.PublishedAt = *publishedAt
	}
	if err := json.Unmarshal(sources, &a.Sources); err != nil {
		return a, fmt.Errorf("article sources: %w", err)
	}
	return a, nil
}

// HelpArticleListPublished returns every published article in lang, ordered by
// category and title, together with the content version they belong to.
func (s *Store) HelpArticleListPublished(ctx context.Context, lang Language) ([]Article, int64, error) {
	var (
		articles []Article
		version  int64
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM help_content_version WHERE language = $1`, string(lang)).Scan(&version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+articleColumns+`
			  FROM help_article a
			  JOIN help_article_version v ON v.slug = a.slug AND v.language = a.language AND v.version = a.published_version
			  JOIN help_category c ON c.slug = v.category_slug
			 WHERE a.language = $1 AND a.retired_at IS NULL
			 ORDER BY c.position, v.title`, string(lang))
		if err != nil {
			return err
		}
		articles, err = pgx.CollectRows(rows, scanArticle)
		return err
	})
	return articles, version, interpretError(err)
}

// HelpArticleGetPublished returns the published version of one article.
func (s *Store) HelpArticleGetPublished(ctx context.Context, slug string, lang Language) (Article, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+articleColumns+`
		  FROM help_article a
		  JOIN help_article_version v ON v.slug = a.slug AND v.language = a.language AND v.version = a.published_version
		 WHERE a.slug = $1 AND a.language = $2 AND a.retired_at IS NULL`, slug, string(lang))
	if err != nil {
		return Article{}, interpretError(err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanArticle)
	return a, interpretError(err)
}

// HelpArticleListAll returns every article in lang with its latest version,
// drafts and retired ones included, for editors.
func (s *Store) HelpArticleListAll(ctx context.Context, lang Language) ([]Article, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+articleColumns+`
		  FROM help_article a
		  JOIN help_article_version v ON v.slug = a.slug AND v.language = a.language AND v.version = a.latest_version
		 WHERE a.language = $1
		 ORDER BY a.slug`, string(lang))
	if err != nil {
		return nil, interpretError(err)
	}
	articles, err := pgx.CollectRows(rows, scanArticle)
	return articles, interpretError(err)
}

// HelpArticleVersions returns every version of one article, newest first.
func (s *Store) HelpArticleVersions(ctx context.Context, slug string, lang Language) ([]Article, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+articleColumns+`
		  FROM help_article a
		  JOIN help_article_version v ON v.slug = a.slug AND v.language = a.language
		 WHERE a.slug = $1 AND a.language = $2
		 ORDER BY v.version DESC`, slug, string(lang))
	if err != nil {
		return nil, interpretError(err)
	}
	versions, err := pgx.CollectRows(rows, scanArticle)
	if err != nil {
		return nil, interpretError(err)
	}
	if len(versions) == 0 {
		return nil, ErrNotFound
	}
	return versions, nil
}

func articleVersion(ctx context.Context, tx pgx.Tx, slug string, lang Language, version int) (Article, error) {
	rows, err := tx.Query(ctx, `SELECT `+articleColumns+`
		  FROM help_article a
		  JOIN help_article_version v ON v.slug = a.slug AND v.language = a.language
		 WHERE a.slug = $1 AND a.language = $2 AND v.version = $3`, slug, string(lang), version)
	if err != nil {
		return Article{}, err
	}
	return pgx.CollectExactlyOneRow(rows, scanArticle)
}

func insertVersion(ctx context.Context, tx pgx.Tx, slug string, lang Language, version int, c ArticleContent, by string) error {
	sources, err := json.Marshal(nonNil(c.Sources))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO help_article_version (slug, language, version, category_slug, title, summary,
			body_markdown, sources, last_reviewed_on, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		slug, string(lang), version, c.CategorySlug, c.Title, c.Summary, c.BodyMarkdown, sources,
		c.LastReviewedOn, by)
	return err
}

func nonNil(s []SourceLink) []SourceLink {
	if s == nil {
		return []SourceLink{}
	}
	return s
}

// HelpArticleCreate stores the first draft of a new article. It fails with
// ErrConflict if the article exists and ErrPrecondition if the category does not.
func (s *Store) HelpArticleCreate(ctx context.Context, slug string, lang Language, c ArticleContent, by string) (Article, error) {
	var a Article
	err := s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO help_article (slug, language, latest_version) VALUES ($1, $2, 1)`,
			slug, string(lang)); err != nil {
			return err
		}
		if err := insertVersion(ctx, tx, slug, lang, 1, c, by); err != nil {
			return err
		}
		var err error
		a, err = articleVersion(ctx, tx, slug, lang, 1)
		return err
	})
	return a, interpretError(err)
}

// HelpArticleUpdate stores a new draft version. baseVersion must be the
// latest version, so that two editors never silently overwrite each other.
func (s *Store) HelpArticleUpdate(ctx context.Context, slug string, lang Language, baseVersion int, c ArticleContent, by string) (Article, error) {
	var a Article
	err := s.inTx(ctx, func(tx *Tx) error {
		var latest int
		if err := tx.QueryRow(ctx, `SELECT latest_version FROM help_article WHERE slug = $1 AND language = $2 FOR UPDATE`,
			slug, string(lang)).Scan(&latest); err != nil {
			return err
		}
		if latest != baseVersion {
			return refuse("the article has a newer version (%d) than the one edited (%d)", latest, baseVersion)
		}
		next := latest + 1
		if err := insertVersion(ctx, tx, slug, lang, next, c, by); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE help_article SET latest_version = $3, updated_at = now() WHERE slug = $1 AND language = $2`,
			slug, string(lang), next); err != nil {
			return err
		}
		var err error
		a, err = articleVersion(ctx, tx, slug, lang, next)
		return err
	})
	return a, interpretError(err)
}

// HelpArticlePublish makes version the one citizens see, un-retiring the
// article if needed, and bumps the language's content version.
func (s *Store) HelpArticlePublish(ctx context.Context, slug string, lang Language, version int) (Article, error) {
	var a Article
	err := s.inTx(ctx, func(tx *Tx) error {
		var latest int
		if err := tx.QueryRow(ctx, `SELECT latest_version FROM help_article WHERE slug = $1 AND language = $2 FOR UPDATE`,
			slug, string(lang)).Scan(&latest); err != nil {
			return err
		}
		if version > latest {
			return fmt.Errorf("%w: version %d does not exist", ErrNotFound, version)
		}
		if _, err := tx.Exec(ctx, `UPDATE help_article_version SET published_at = coalesce(published_at, now())
			 WHERE slug = $1 AND language = $2 AND version = $3`, slug, string(lang), version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE help_article SET published_version = $3, retired_at = NULL, updated_at = now()
			 WHERE slug = $1 AND language = $2`, slug, string(lang), version); err != nil {
			return err
		}
		if err := addSearchWords(ctx, tx, slug, lang, version); err != nil {
			return err
		}
		if err := bumpContentVersion(ctx, tx, lang); err != nil {
			return err
		}
		var err error
		a, err = articleVersion(ctx, tx, slug, lang, version)
		return err
	})
	return a, interpretError(err)
}

// HelpArticleRetire withdraws an article from citizens.
func (s *Store) HelpArticleRetire(ctx context.Context, slug string, lang Language) (Article, error) {
	var a Article
	err := s.inTx(ctx, func(tx *Tx) error {
		var (
			shown     int
			retiredAt *time.Time
		)
		if err := tx.QueryRow(ctx, `SELECT coalesce(published_version, latest_version), retired_at FROM help_article
			 WHERE slug = $1 AND language = $2 FOR UPDATE`, slug, string(lang)).Scan(&shown, &retiredAt); err != nil {
			return err
		}
		if retiredAt != nil {
			return refuse("the article is already retired")
		}
		if _, err := tx.Exec(ctx, `UPDATE help_article SET retired_at = now(), updated_at = now()
			 WHERE slug = $1 AND language = $2`, slug, string(lang)); err != nil {
			return err
		}
		if err := bumpContentVersion(ctx, tx, lang); err != nil {
			return err
		}
		var err error
		a, err = articleVersion(ctx, tx, slug, lang, shown)
		return err
	})
	return a, interpretError(err)
}

func bumpContentVersion(ctx context.Context, tx *Tx, lang Language) error {
	var v int64
	if err := tx.QueryRow(ctx, `UPDATE help_content_version SET version = version + 1, changed_at = now()
		 WHERE language = $1 RETURNING version`, string(lang)).Scan(&v); err != nil {
		return err
	}
	tx.Changed(TopicHelp, fmt.Sprintf("%s:%d", lang, v))
	return nil
}

// addSearchWords records the words of a published version for typo correction.
func addSearchWords(ctx context.Context, tx pgx.Tx, slug string, lang Language, version int) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO help_search_word (language, word)
		SELECT DISTINCT v.language, w
		  FROM help_article_version v,
		       regexp_split_to_table(lower(v.title || ' ' || v.summary || ' ' || v.body_markdown), '[^[:alnum:]]+') AS w
		 WHERE v.slug = $1 AND v.language = $2 AND v.version = $3 AND length(w) BETWEEN 3 AND 40
		ON CONFLICT DO NOTHING`, slug, string(lang), version)
	return err
}

// maxSearchWords bounds the work one query can cause.
const maxSearchWords = 8

// searchWords splits a user's query into lower-case words of letters and
// digits. Everything else is dropped, so the words are safe to put in a
// tsquery.
func searchWords(query string) []string {
	words := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := words[:0]
	seen := map[string]bool{}
	for _, w := range words {
		if len([]rune(w)) < 2 || len(w) > 60 || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == maxSearchWords {
			break
		}
	}
	return out
}

// markdownAsText is SQL that reads the Markdown in column as plain text, for
// search snippets an app shows as they are: link targets, emphasis, code
// marks and the marks that open headings, quotes and list items are left out.
func markdownAsText(column string) string {
	return `regexp_replace(regexp_replace(regexp_replace(` + column + `,
	           '\[([^]]*)\]\([^)]*\)', '\1', 'g'),
	           '^[ \t]{0,3}(#{1,6}|>|[-+*]|[0-9]+[.)])[ \t]+', '', 'gn'),
	           '\*\*|__|[*` + "`" + `]|~~', '', 'g')`
}

// HelpArticleSearch finds published articles in lang that match query, best
// first. Each word matches its stem and words that start with it (so
// "vaccinationer" finds "vaccination" and "vaccin" finds "vaccinationstid");
// words not in the articles' vocabulary are replaced by the closest one
// (typos); titles that contain the query as part of a compound also match.
func (s *Store) HelpArticleSearch(ctx context.Context, lang Language, query string, limit int) ([]SearchHit, error) {
	words := searchWords(query)
	if len(words) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		WITH words AS (
			SELECT w.input,
			       coalesce((SELECT s.word FROM help_search_word s
			                  WHERE s.language = $1 AND s.word % w.input
			                  ORDER BY s.word <-> w.input LIMIT 1), w.input) AS corrected
			  FROM unnest($2::text[]) AS w(input)
		), q AS (
			SELECT to_tsquery(cfg, string_agg(
			           '(' || input || ':*' || CASE WHEN corrected <> input THEN ' | ' || corrected || ':*' ELSE '' END || ')',
			           ' | ')) AS query, cfg
			  FROM words, (SELECT CASE $1 WHEN 'sv' THEN 'swedish'::regconfig ELSE 'english'::regconfig END AS cfg) c
			 GROUP BY cfg
		), published AS NOT MATERIALIZED (
			SELECT v.* FROM help_article a
			  JOIN help_article_version v ON v.slug = a.slug AND v.language = a.language AND v.version = a.published_version
			 WHERE a.language = $1 AND a.retired_at IS NULL
		), candidates AS (
			-- Full-text matches, best first; then titles that contain the
			-- query as part of a compound (trigram index). Title similarity
			-- is computed for these few rows only.
			(SELECT p.slug, ts_rank(p.document, q.query, 1) AS rank FROM published p, q
			  WHERE p.document @@ q.query ORDER BY rank DESC LIMIT $4 * 4)
			UNION ALL
			(SELECT p.slug, 0 FROM published p WHERE $3 <% lower(p.title) LIMIT $4 * 4)
		), hits AS (
			SELECT p.slug, p.category_slug, p.title, p.summary, p.body_markdown,
			       (c.rank + word_similarity($3, lower(p.title)))::real AS score
			  FROM (SELECT slug, max(rank) AS rank FROM candidates GROUP BY slug) c
			  JOIN published p ON p.slug = c.slug
			 ORDER BY score DESC, p.slug
			 LIMIT $4
		)
		SELECT h.slug, h.category_slug, h.title, h.summary,
		       ts_headline(q.cfg, `+markdownAsText("h.body_markdown")+`, q.query,
		                   'StartSel=«, StopSel=», MaxWords=30, MinWords=12, MaxFragments=1'),
		       h.score
		  FROM hits h, q
		 ORDER BY h.score DESC, h.slug`,
		string(lang), words, strings.Join(words, " "), limit)
	if err != nil {
		return nil, interpretError(err)
	}
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SearchHit, error) {
		var h SearchHit
		err := row.Scan(&h.Slug, &h.CategorySlug, &h.Title, &h.Summary, &h.Snippet, &h.Score)
		return h, err
	})
	return hits, interpretError(err)
}
