-- Push notifications: devices, preferences, the inbox and the delivery
-- record that makes sending idempotent per (notice, device).

-- One app installation that receives pushes. A registration token belongs to
-- one person at a time; registering it again under another login moves it.
CREATE TABLE push_device (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id       uuid NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    installation_id text NOT NULL UNIQUE,
    token           text NOT NULL UNIQUE,
    platform        text NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
    app_version     text NOT NULL DEFAULT '',
    locale          text NOT NULL DEFAULT '',
    time_zone       text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_device_person_idx ON push_device (person_id);

-- What a person wants pushed, and when. No row means the defaults.
CREATE TABLE push_preference (
    person_id   uuid PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    reminders   boolean NOT NULL DEFAULT true,
    messages    boolean NOT NULL DEFAULT true,
    offers      boolean NOT NULL DEFAULT true,
    -- Quiet hours as minutes after local midnight; both null means none.
    quiet_start smallint CHECK (quiet_start BETWEEN 0 AND 1439),
    quiet_end   smallint CHECK (quiet_end BETWEEN 0 AND 1439),
    language    text NOT NULL DEFAULT 'sv' CHECK (language IN ('sv', 'en')),
    time_zone   text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- Every notice to one person: the inbox, and the reason a push job exists.
-- Params hold what the text is rendered from at send time, in the person's
-- language and time zone (never health information).
CREATE TABLE push_notice (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   uuid NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('reminder', 'delay', 'call_in', 'message', 'offer')),
    reason_id   text NOT NULL DEFAULT '',
    params      jsonb NOT NULL DEFAULT '{}',
    link        text NOT NULL DEFAULT '',
    ref_id      text NOT NULL DEFAULT '',
    due_at      timestamptz NOT NULL,
    expires_at  timestamptz,
    state       text NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'skipped', 'cancelled', 'expired')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    read_at     timestamptz
);
CREATE INDEX push_notice_inbox_idx ON push_notice (person_id, id DESC);
CREATE INDEX push_notice_reason_idx ON push_notice (reason_id) WHERE state = 'pending' AND reason_id <> '';

-- One row per (notice, device) FCM accepted or refused for good: the
-- idempotency key a retried or rescued job checks before sending again.
-- device_id has no foreign key: a token deleted later keeps its history.
CREATE TABLE push_delivery (
    notice_id   bigint NOT NULL REFERENCES push_notice (id) ON DELETE CASCADE,
    device_id   bigint NOT NULL,
    status      text NOT NULL CHECK (status IN ('delivered', 'failed')),
    detail      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notice_id, device_id)
);
