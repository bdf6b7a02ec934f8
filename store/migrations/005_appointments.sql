-- Appointments: the services units offer, their resources, published slots
-- and the bookings in them. Overbooking is made impossible here, not in Go:
-- a slot's booked count can never pass its capacity, a patient holds at most
-- one active booking of an exclusive service, and a retried request (same
-- idempotency key) finds the booking it already made.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- What can be booked, with the rules that hold for every unit. The visit
-- form is recorded as it is: a video visit is not a phone call.
CREATE TABLE care_service (
    code            text PRIMARY KEY,
    name_sv         text NOT NULL,
    name_en         text NOT NULL,
    visit_form      text NOT NULL CHECK (visit_form IN ('physical', 'video', 'phone')),
    -- How late before the start a citizen may cancel or rebook in the app.
    cancel_deadline interval NOT NULL DEFAULT '24 hours' CHECK (cancel_deadline >= '0'),
    -- One active booking per patient (one dose at a time).
    exclusive       boolean NOT NULL DEFAULT true,
    -- The least time between the starts of two bookings (doses); zero: none.
    min_interval    interval NOT NULL DEFAULT '0' CHECK (min_interval >= '0'),
    instructions_sv text NOT NULL DEFAULT '',
    instructions_en text NOT NULL DEFAULT ''
);

INSERT INTO care_service (code, name_sv, name_en, visit_form, cancel_deadline, exclusive, min_interval, instructions_sv, instructions_en) VALUES
    ('vaccination', 'Vaccination', 'Vaccination', 'physical', '24 hours', true, '21 days',
     'Ta med legitimation och bär kortärmat.', 'Bring identification and wear short sleeves.'),
    ('covid_test', 'Covidtest', 'COVID-19 test', 'physical', '2 hours', true, '0',
     'Ät, drick och snusa inte 30 minuter före provet.', 'Do not eat, drink or use snus for 30 minutes before the test.'),
    ('video_visit', 'Videobesök', 'Video visit', 'video', '24 hours', false, '0',
     'Öppna appen fem minuter före besöket i en lugn miljö.', 'Open the app five minutes before the visit, somewhere quiet.'),
    ('physical_visit', 'Besök på mottagningen', 'Visit at the clinic', 'physical', '24 hours', false, '0',
     'Kom tio minuter före och anmäl dig i receptionen.', 'Arrive ten minutes early and check in at the reception.'),
    ('phone', 'Telefonsamtal', 'Phone call', 'phone', '24 hours', false, '0',
     'Vi ringer upp dig från ett dolt nummer.', 'We will call you from a hidden number.');

-- Who or what a slot is with: a clinician, a room, a video room or a
-- vaccination lane of one unit. Two slots of one resource never overlap.
CREATE TABLE resource (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    care_unit_hsa_id text NOT NULL REFERENCES care_unit (hsa_id),
    kind             text NOT NULL CHECK (kind IN ('clinician', 'room', 'video', 'lane')),
    name             text NOT NULL,
    -- For clinicians: their HSA-id and profession ("Läkare", "Sjuksköterska").
    staff_hsa_id     text,
    profession       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (care_unit_hsa_id, staff_hsa_id)
);

-- A bookable time. capacity > 1 is a group slot or a vaccination lane.
CREATE TABLE slot (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    care_unit_hsa_id text NOT NULL REFERENCES care_unit (hsa_id),
    service_code     text NOT NULL REFERENCES care_service (code),
    resource_id      uuid REFERENCES resource (id),
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    capacity         integer NOT NULL CHECK (capacity >= 1),
    booked           integer NOT NULL DEFAULT 0,
    -- Invitation-only slots are booked by clinicians, never found in search.
    invitation_only  boolean NOT NULL DEFAULT false,
    blocked          boolean NOT NULL DEFAULT false,
    -- Booking opens at this time; null: as soon as published.
    opens_at         timestamptz,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CONSTRAINT slot_booked_within_capacity CHECK (booked >= 0 AND booked <= capacity),
    -- Without a resource, a slot belongs to its unit's lane for the service.
    CONSTRAINT slot_no_overlap EXCLUDE USING gist (
        (coalesce(resource_id::text, care_unit_hsa_id || '/' || service_code)) WITH =,
        tstzrange(starts_at, ends_at) WITH &&)
);
CREATE INDEX slot_search_idx ON slot (service_code, starts_at) WHERE NOT blocked AND NOT invitation_only;
CREATE INDEX slot_unit_idx ON slot (care_unit_hsa_id, starts_at);

-- A patient's booking of a slot. Statuses follow FHIR Appointment.status.
CREATE TABLE appointment (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id      uuid NOT NULL REFERENCES person (id),
    slot_id         uuid NOT NULL REFERENCES slot (id),
    service_code    text NOT NULL REFERENCES care_service (code),
    -- Copied from the service when booked, for the index below.
    exclusive       boolean NOT NULL,
    status          text NOT NULL CHECK (status IN
                    ('proposed', 'pending', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow')),
    idempotency_key text NOT NULL,
    -- "person:<id>" for a citizen (or guardian), "staff:<hsa-id>" for a clinician.
    created_by      text NOT NULL,
    instructions    text NOT NULL DEFAULT '',
    late_cancel     boolean NOT NULL DEFAULT false,
    -- Minutes the clinician runs late / the patient will be late.
    delay_minutes   integer NOT NULL DEFAULT 0,
    patient_late_minutes integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         bigint NOT NULL DEFAULT 1,
    CONSTRAINT appointment_idempotency_key UNIQUE (patient_id, idempotency_key)
);
-- One active booking per patient and exclusive service (one dose at a time).
CREATE UNIQUE INDEX appointment_one_active_idx ON appointment (patient_id, service_code)
    WHERE exclusive AND status IN ('proposed', 'pending', 'booked', 'arrived');
CREATE INDEX appointment_patient_idx ON appointment (patient_id, updated_at);
CREATE INDEX appointment_slot_idx ON appointment (slot_id);

---- create above / drop below ----

DROP TABLE appointment;
DROP TABLE slot;
DROP TABLE resource;
DROP TABLE care_service;
