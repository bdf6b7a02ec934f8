-- The change feed: every change another replica must hear (a list, a
-- session, help content, a unit's notices, later chat, waiting rooms and
-- queues) is a row here, written in the change's own transaction. A
-- replica reads the rows of every transaction that has ended since it last
-- read (ordered by transaction id, so one committing late is never passed
-- over); a notification on nara_feed only wakes it, so a lost one loses
-- nothing. Rows older than an hour are pruned by a periodic job.
CREATE TABLE change_feed (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
    topic text NOT NULL,
    key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_feed_tx ON change_feed (tx, id);
CREATE INDEX change_feed_created_at ON change_feed (created_at);

-- feed_changed records one change from a trigger and wakes the replicas.
-- Notifying from a trigger holds a cluster-wide lock through the commit:
-- the triggers below fire on rare changes (names, units, guardianships,
-- sessions, staff notices), never on bookings, which record their changes
-- from the server and wake the others after the commit.
CREATE FUNCTION feed_changed(topic text, key text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_feed (topic, key) VALUES (topic, key);
    PERFORM pg_notify('nara_feed', pg_current_xact_id()::text);
END $$;

CREATE OR REPLACE FUNCTION session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM feed_changed('session', coalesce(NEW.id, OLD.id)::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION list_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM feed_changed('appointment_list', NEW.id::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION list_guardianship_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM feed_changed('appointment_list', coalesce(NEW.guardian_id, OLD.guardian_id)::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION list_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM feed_changed('appointment_list', '*');
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION staff_notice_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM feed_changed('unit_notice', NEW.care_unit_hsa_id);
    RETURN NULL;
END $$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION staff_notice_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_staff_notices', NEW.care_unit_hsa_id);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION list_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_appointments', '*');
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION list_guardianship_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_appointments', coalesce(NEW.guardian_id, OLD.guardian_id)::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION list_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_appointments', NEW.id::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_session', coalesce(NEW.id, OLD.id)::text);
    RETURN NULL;
END $$;

DROP FUNCTION feed_changed;
DROP TABLE change_feed;
