-- Public help content: FAQ categories and versioned articles, and the
-- support contact points and opening hours.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE help_category (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    position    integer NOT NULL DEFAULT 0,
    title_sv    text NOT NULL,
    title_en    text NOT NULL,
    description_sv text NOT NULL DEFAULT '',
    description_en text NOT NULL DEFAULT ''
);

-- One row per article and language; its text lives in help_article_version.
CREATE TABLE help_article (
    slug              text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    language          text NOT NULL CHECK (language IN ('sv', 'en')),
    latest_version    integer NOT NULL CHECK (latest_version >= 1),
    published_version integer CHECK (published_version >= 1 AND published_version <= latest_version),
    retired_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slug, language)
);

CREATE TABLE help_article_version (
    slug             text NOT NULL,
    language         text NOT NULL,
    version          integer NOT NULL CHECK (version >= 1),
    category_slug    text NOT NULL REFERENCES help_category (slug),
    title            text NOT NULL,
    summary          text NOT NULL DEFAULT '',
    body_markdown    text NOT NULL,
    sources          jsonb NOT NULL DEFAULT '[]',
    last_reviewed_on date NOT NULL,
    created_by       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz,
    -- Weighted document for full-text search: title, then summary, then body,
    -- stemmed with the language's own dictionary.
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE language WHEN 'sv' THEN 'swedish'::regconfig ELSE 'english'::regconfig END, title), 'A') ||
        setweight(to_tsvector(CASE language WHEN 'sv' THEN 'swedish'::regconfig ELSE 'english'::regconfig END, summary), 'B') ||
        setweight(to_tsvector(CASE language WHEN 'sv' THEN 'swedish'::regconfig ELSE 'english'::regconfig END, body_markdown), 'C')
    ) STORED,
    PRIMARY KEY (slug, language, version),
    FOREIGN KEY (slug, language) REFERENCES help_article (slug, language)
);

CREATE INDEX help_article_version_document_idx ON help_article_version USING gin (document);
CREATE INDEX help_article_version_title_trgm_idx ON help_article_version USING gin (lower(title) gin_trgm_ops);

-- The words of all published articles per language, for correcting typos in
-- search queries ("vacination" → "vaccination").
CREATE TABLE help_search_word (
    language text NOT NULL CHECK (language IN ('sv', 'en')),
    word     text NOT NULL,
    PRIMARY KEY (language, word)
);
CREATE INDEX help_search_word_trgm_idx ON help_search_word USING gist (word gist_trgm_ops);

-- Bumped in every transaction that changes what citizens see, so apps and
-- replicas can tell whether their copy is current.
CREATE TABLE help_content_version (
    language   text PRIMARY KEY CHECK (language IN ('sv', 'en')),
    version    bigint NOT NULL DEFAULT 1,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO help_content_version (language) VALUES ('sv'), ('en');

CREATE TABLE support_contact_point (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position    integer NOT NULL DEFAULT 0,
    kind        text NOT NULL CHECK (kind IN ('chat', 'email', 'phone', 'web')),
    purpose     text NOT NULL CHECK (purpose IN ('technical', 'medical', 'emergency')),
    label_sv    text NOT NULL,
    label_en    text NOT NULL,
    address     text NOT NULL,
    description_sv text NOT NULL DEFAULT '',
    description_en text NOT NULL DEFAULT '',
    follows_support_hours boolean NOT NULL DEFAULT true
);

-- Support opening hours by kind of day, in Europe/Stockholm local time.
CREATE TABLE support_hours (
    day_kind text PRIMARY KEY CHECK (day_kind IN ('weekday', 'weekend', 'holiday')),
    opens    time NOT NULL,
    closes   time NOT NULL CHECK (closes > opens)
);
INSERT INTO support_hours (day_kind, opens, closes) VALUES
    ('weekday', '08:00', '19:00'),
    ('weekend', '08:00', '15:00'),
    ('holiday', '08:00', '15:00');

---- create above / drop below ----

DROP TABLE support_hours;
DROP TABLE support_contact_point;
DROP TABLE help_content_version;
DROP TABLE help_search_word;
DROP TABLE help_article_version;
DROP TABLE help_article;
DROP TABLE help_category;
