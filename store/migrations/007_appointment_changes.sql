-- Appointments, second part: late cancellations, booking windows that close before a slot
-- starts, the patient's answer to an invitation, delays on both sides, who
-- cancelled, private calendar feeds, and notices of the unit's changes.
-- Visits at the clinic and tests may be cancelled in the app after the
-- deadline too, until the start, flagged late (the unit may charge the
-- fee for a late cancellation): a freed time helps more than a patient who
-- does not come. Vaccinations keep the deadline: the unit plans the doses.
ALTER TABLE care_service ADD COLUMN late_cancel boolean NOT NULL DEFAULT false;
UPDATE care_service SET late_cancel = true WHERE code IN ('physical_visit', 'covid_test');

ALTER TABLE slot ADD COLUMN closes_before interval NOT NULL DEFAULT '0'
    CHECK (closes_before >= '0' AND closes_before <= '30 days');

ALTER TABLE appointment
    ADD COLUMN invitation_response text NOT NULL DEFAULT ''
        CHECK (invitation_response IN ('', 'confirm', 'decline', 'ask_other_time')),
    ADD COLUMN patient_message text NOT NULL DEFAULT '',
    ADD COLUMN cancelled_by_unit boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT appointment_delay_range CHECK (delay_minutes BETWEEN 0 AND 240),
    ADD CONSTRAINT appointment_patient_late_range CHECK (patient_late_minutes BETWEEN 0 AND 120);

-- A unit's schedule of a day, and a clinician's within it.
CREATE INDEX slot_resource_idx ON slot (resource_id, starts_at) WHERE resource_id IS NOT NULL;

-- A person's private calendar feed. Only the token's hash is kept: the URL
-- is shown once, and creating a new one or revoking ends the old.
CREATE TABLE calendar_feed (
    person_id  uuid PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The unit's own changes to a booked appointment are notices too.
ALTER TABLE push_notice DROP CONSTRAINT push_notice_kind_check;
ALTER TABLE push_notice ADD CONSTRAINT push_notice_kind_check
    CHECK (kind IN ('reminder', 'delay', 'call_in', 'message', 'offer', 'moved', 'cancelled'));

-- A unit's opening hours per kind of day (weekday, weekend, holiday), in
-- Europe/Stockholm wall-clock time. A kind without a row is closed.
CREATE TABLE care_unit_hours (
    care_unit_hsa_id text NOT NULL REFERENCES care_unit (hsa_id) ON DELETE CASCADE,
    day_kind         text NOT NULL CHECK (day_kind IN ('weekday', 'weekend', 'holiday')),
    opens            time NOT NULL,
    closes           time NOT NULL,
    PRIMARY KEY (care_unit_hsa_id, day_kind),
    CHECK (closes > opens)
);

-- The great-circle distance in metres between two WGS 84 points
-- (haversine on a sphere of the Earth's mean radius: within a few metres at
-- Swedish distances). Null when either point is unknown.
CREATE FUNCTION distance_meters(lat1 float8, lon1 float8, lat2 float8, lon2 float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 2 * 6371008.8 * asin(sqrt(power(sin(radians(lat2 - lat1) / 2), 2)
       + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)));

---- create above / drop below ----

DROP FUNCTION distance_meters;
DROP TABLE care_unit_hours;
ALTER TABLE push_notice DROP CONSTRAINT push_notice_kind_check;
ALTER TABLE push_notice ADD CONSTRAINT push_notice_kind_check
    CHECK (kind IN ('reminder', 'delay', 'call_in', 'message', 'offer'));
DROP TABLE calendar_feed;
DROP INDEX slot_resource_idx;
ALTER TABLE appointment
    DROP CONSTRAINT appointment_patient_late_range,
    DROP CONSTRAINT appointment_delay_range,
    DROP COLUMN cancelled_by_unit,
    DROP COLUMN patient_message,
    DROP COLUMN invitation_response;
ALTER TABLE slot DROP COLUMN closes_before;
ALTER TABLE care_service DROP COLUMN late_cancel;
