-- Support cases: one thread per case whatever the channel (app chat,
-- e-mail), for a logged-in citizen or a guest known only by a device or an
-- e-mail address. Every change of a case is an event row with a per-case
-- sequence number, which is the cursor clients resume from; typing is two
-- columns of the case (it needs no history), told through the change feed.
CREATE TABLE support_case (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id          uuid REFERENCES person (id),
    -- A guest's case: the SHA-256 of the secret every later call presents.
    guest_secret_hash  bytea,
    guest_device_id    text NOT NULL DEFAULT '',
    email              text NOT NULL DEFAULT '',
    -- The idempotency key OpenCase was sent with, scoped by its owner.
    open_key           text NOT NULL,
    owner_scope        text NOT NULL,
    category           text NOT NULL CHECK (category IN ('technical', 'booking', 'vaccination', 'video_visit', 'medical', 'other')),
    state              text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'open', 'waiting', 'escalated', 'closed')),
    line               text NOT NULL DEFAULT 'first' CHECK (line IN ('first', 'second', 'external')),
    external_party     text NOT NULL DEFAULT '',
    assignee_hsa_id    text NOT NULL DEFAULT '',
    assignee_name      text NOT NULL DEFAULT '',
    subject            text NOT NULL,
    close_reason       text NOT NULL DEFAULT '',
    close_note         text NOT NULL DEFAULT '',
    deviation_id       uuid,
    first_answer_due   timestamptz NOT NULL,
    first_answer_at    timestamptz,
    last_seq           bigint NOT NULL DEFAULT 0,
    citizen_read_seq   bigint NOT NULL DEFAULT 0,
    support_read_seq   bigint NOT NULL DEFAULT 0,
    citizen_typing_until timestamptz,
    support_typing_until timestamptz,
    guest_messages     int NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (person_id IS NOT NULL OR guest_secret_hash IS NOT NULL OR email <> ''),
    UNIQUE (owner_scope, open_key)
);
CREATE INDEX support_case_queue_idx ON support_case (line, created_at) WHERE state <> 'closed';
CREATE INDEX support_case_person_idx ON support_case (person_id, created_at DESC) WHERE person_id IS NOT NULL;

-- The thread and what happened in it, in order. kind: message, read, state.
CREATE TABLE support_case_event (
    case_id        uuid NOT NULL REFERENCES support_case (id) ON DELETE CASCADE,
    seq            bigint NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('message', 'read', 'state')),
    party          text NOT NULL CHECK (party IN ('citizen', 'support')),
    author_hsa_id  text NOT NULL DEFAULT '',
    author_name    text NOT NULL DEFAULT '',
    body           text NOT NULL DEFAULT '',
    channel        text NOT NULL DEFAULT 'app' CHECK (channel IN ('app', 'email')),
    idempotency_key text,
    answer_id      uuid,
    answer_version int,
    read_up_to     bigint NOT NULL DEFAULT 0,
    state          text NOT NULL DEFAULT '',
    line           text NOT NULL DEFAULT '',
    close_reason   text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, seq),
    UNIQUE (case_id, idempotency_key)
);

-- Standard answers, kept by second line; every save is a new version.
CREATE TABLE support_answer (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    current_version int NOT NULL DEFAULT 1
);
CREATE TABLE support_answer_version (
    answer_id   uuid NOT NULL REFERENCES support_answer (id),
    version     int NOT NULL,
    category    text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    author_hsa_id text NOT NULL,
    author_name text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    document    tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('swedish', title), 'A') || setweight(to_tsvector('swedish', body), 'B')) STORED,
    PRIMARY KEY (answer_id, version)
);
CREATE INDEX support_answer_version_document_idx ON support_answer_version USING gin (document);
CREATE INDEX support_answer_version_title_trgm_idx ON support_answer_version USING gin (lower(title) gin_trgm_ops);

-- Deviations (incidents) first line flags; second line handles them.
CREATE TABLE support_deviation (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'investigating', 'resolved')),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE support_case ADD CONSTRAINT support_case_deviation_fk FOREIGN KEY (deviation_id) REFERENCES support_deviation (id);
CREATE INDEX support_case_deviation_idx ON support_case (deviation_id) WHERE deviation_id IS NOT NULL;

-- Service notices the app shows before and after login until withdrawn.
CREATE TABLE support_service_notice (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title         text NOT NULL,
    body          text NOT NULL DEFAULT '',
    deviation_id  uuid REFERENCES support_deviation (id),
    published_by  text NOT NULL,
    published_at  timestamptz NOT NULL DEFAULT now(),
    withdrawn_at  timestamptz
);

ALTER TABLE push_notice DROP CONSTRAINT push_notice_kind_check;
ALTER TABLE push_notice ADD CONSTRAINT push_notice_kind_check
    CHECK (kind IN ('reminder', 'delay', 'call_in', 'message', 'offer', 'moved', 'cancelled', 'support_reply'));

---- create above / drop below ----

ALTER TABLE push_notice DROP CONSTRAINT push_notice_kind_check;
ALTER TABLE push_notice ADD CONSTRAINT push_notice_kind_check
    CHECK (kind IN ('reminder', 'delay', 'call_in', 'message', 'offer', 'moved', 'cancelled'));
DROP TABLE support_service_notice;
ALTER TABLE support_case DROP CONSTRAINT support_case_deviation_fk;
DROP TABLE support_deviation;
DROP TABLE support_answer_version;
DROP TABLE support_answer;
DROP TABLE support_case_event;
DROP TABLE support_case;
