-- The region's care units: public and private providers that publish slots
-- and employ clinicians. Identified by their HSA-id.
CREATE TABLE care_provider (
    hsa_id     text PRIMARY KEY,
    name       text NOT NULL,
    is_public  boolean NOT NULL
);

CREATE TABLE care_unit (
    hsa_id        text PRIMARY KEY,
    provider_hsa_id text NOT NULL REFERENCES care_provider (hsa_id),
    name          text NOT NULL,
    street        text NOT NULL DEFAULT '',
    postal_code   text NOT NULL DEFAULT '',
    city          text NOT NULL DEFAULT '',
    municipality  text NOT NULL DEFAULT '',
    latitude      double precision,
    longitude     double precision,
    phone         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX care_unit_municipality_idx ON care_unit (municipality);

---- create above / drop below ----

DROP TABLE care_unit;
DROP TABLE care_provider;
