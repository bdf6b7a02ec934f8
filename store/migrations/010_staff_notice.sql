-- What patients tell the unit: that they will be late, and their answers
-- to invitations. Each is written in the transaction of the change it tells
-- of, and the unit's tablets poll for them by seq. A notice is for the
-- clinician whose time it is (staff_hsa_id), or for the whole unit when the
-- time is a room's or a lane's (NULL).
CREATE TABLE staff_notice (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    care_unit_hsa_id text NOT NULL REFERENCES care_unit (hsa_id),
    staff_hsa_id     text,
    appointment_id   uuid NOT NULL REFERENCES appointment (id),
    kind             text NOT NULL CHECK (kind IN
                     ('patient_late', 'invitation_confirmed', 'invitation_declined', 'invitation_ask_other_time')),
    -- How late the patient will be (patient_late; zero: no longer late).
    minutes          integer NOT NULL DEFAULT 0 CHECK (minutes BETWEEN 0 AND 120),
    -- What the patient wrote with their answer, such as which times suit.
    message          text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- The polling cursor. Writers of one unit's notices take turns
    -- (StaffNoticeInsertTx), so a unit's seqs commit in order.
    seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);
-- A unit's notices after a cursor, and one clinician's there.
CREATE INDEX staff_notice_unit_idx ON staff_notice (care_unit_hsa_id, seq);
CREATE INDEX staff_notice_staff_idx ON staff_notice (care_unit_hsa_id, staff_hsa_id, seq);

---- create above / drop below ----

DROP TABLE staff_notice;
