-- People, sessions and the patient-data access log.

-- A person known to Nära: a citizen who has logged in, or a child whose
-- guardian has. The personal identity number is stored encrypted, with a
-- keyed hash for lookup, so a dump of the database reveals neither.
CREATE TABLE person (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pnr_hash    bytea NOT NULL UNIQUE,
    pnr_sealed  bytea NOT NULL,
    given_name  text NOT NULL DEFAULT '',
    surname     text NOT NULL DEFAULT '',
    birth_date  date NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

-- Custody as registered in the population register (Navet): a guardian may
-- act for a child until the child turns 13.
CREATE TABLE guardianship (
    guardian_id uuid NOT NULL REFERENCES person (id),
    child_id    uuid NOT NULL REFERENCES person (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (guardian_id, child_id),
    CHECK (guardian_id <> child_id)
);
CREATE INDEX guardianship_child_idx ON guardianship (child_id);

-- Staff as last seen in their identity provider's token.
CREATE TABLE staff (
    hsa_id      text PRIMARY KEY,
    name        text NOT NULL,
    roles       text[] NOT NULL DEFAULT '{}',
    last_login_at timestamptz NOT NULL DEFAULT now()
);

-- An e-ID login in progress. The order's QR secret never leaves the server.
CREATE TABLE login_order (
    id              text PRIMARY KEY,
    provider        text NOT NULL CHECK (provider IN ('bankid', 'freja')),
    mode            text NOT NULL CHECK (mode IN ('same_device', 'other_device')),
    order_ref       text NOT NULL UNIQUE,
    auto_start_token text NOT NULL DEFAULT '',
    qr_start_token  text NOT NULL DEFAULT '',
    qr_start_secret text NOT NULL DEFAULT '',
    device_id       text NOT NULL,
    device_name     text NOT NULL DEFAULT '',
    platform        text NOT NULL,
    client_ip       inet,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed', 'complete', 'consumed')),
    hint_code       text NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    collected_at    timestamptz,
    finished_at     timestamptz,
    session_id      uuid
);
CREATE INDEX login_order_started_idx ON login_order (started_at);

-- A staff login in progress: the OIDC state, nonce and PKCE verifier.
CREATE TABLE staff_login (
    state       text PRIMARY KEY,
    nonce       text NOT NULL,
    verifier    text NOT NULL,
    device_id   text NOT NULL,
    device_name text NOT NULL DEFAULT '',
    platform    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A session on one device. Its refresh tokens rotate; reuse of a spent one
-- revokes the session.
CREATE TABLE session (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id    uuid REFERENCES person (id),
    staff_hsa_id text REFERENCES staff (hsa_id),
    device_id    text NOT NULL,
    device_name  text NOT NULL DEFAULT '',
    platform     text NOT NULL,
    -- Staff: the care assignments from the login, and the one acted within.
    assignments  jsonb NOT NULL DEFAULT '[]',
    selected_assignment text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    revoked_reason text NOT NULL DEFAULT '',
    CHECK ((person_id IS NULL) <> (staff_hsa_id IS NULL))
);
CREATE INDEX session_person_idx ON session (person_id) WHERE revoked_at IS NULL;
CREATE INDEX session_staff_idx ON session (staff_hsa_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_token (
    token_hash  bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES session (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz
);
CREATE INDEX refresh_token_session_idx ON refresh_token (session_id);

-- Fixed-window counters shared by all replicas.
CREATE TABLE rate_limit (
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- Every read or write of a patient's data by staff (Patientdatalagen 4 kap.).
-- Append-only: the trigger below refuses changes for every role.
CREATE TABLE access_log (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    staff_hsa_id     text NOT NULL,
    staff_name       text NOT NULL,
    assignment_id    text NOT NULL,
    care_unit_hsa_id text NOT NULL,
    care_unit_name   text NOT NULL DEFAULT '',
    patient_id       uuid NOT NULL REFERENCES person (id),
    action           text NOT NULL,
    procedure        text NOT NULL DEFAULT '',
    client_ip        inet
);
CREATE INDEX access_log_patient_idx ON access_log (patient_id, id DESC);

CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only';
END;
$$;
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();

---- create above / drop below ----

DROP TABLE access_log;
DROP FUNCTION access_log_append_only();
DROP TABLE rate_limit;
DROP TABLE refresh_token;
DROP TABLE session;
DROP TABLE staff_login;
DROP TABLE login_order;
DROP TABLE staff;
DROP TABLE guardianship;
DROP TABLE person;
