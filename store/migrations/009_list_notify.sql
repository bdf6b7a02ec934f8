-- Replicas keep citizens' appointment lists in memory. What a list shows
-- besides the appointments themselves changes rarely, and each such change
-- is announced here on nara_appointments: a person's name or a guardianship
-- (that person's list, and through the cache their guardians'), and the
-- units, services and clinicians every list names ("*": drop all).
-- Appointment changes themselves are announced by the server after their
-- transaction commits (Store.AnnounceListChanges): a transaction that
-- notifies holds a cluster-wide lock through its commit, and bookings must
-- not queue behind each other for it.
CREATE FUNCTION list_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_appointments', NEW.id::text);
    RETURN NULL;
END $$;

CREATE TRIGGER list_person_changed AFTER UPDATE OF given_name, surname ON person
    FOR EACH ROW WHEN (OLD.given_name IS DISTINCT FROM NEW.given_name OR OLD.surname IS DISTINCT FROM NEW.surname)
    EXECUTE FUNCTION list_person_changed();

CREATE FUNCTION list_guardianship_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_appointments', coalesce(NEW.guardian_id, OLD.guardian_id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER list_guardianship_changed AFTER INSERT OR UPDATE OR DELETE ON guardianship
    FOR EACH ROW EXECUTE FUNCTION list_guardianship_changed();

CREATE FUNCTION list_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_appointments', '*');
    RETURN NULL;
END $$;

CREATE TRIGGER list_care_unit_changed AFTER UPDATE ON care_unit
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION list_reference_changed();
CREATE TRIGGER list_care_service_changed AFTER UPDATE ON care_service
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION list_reference_changed();
CREATE TRIGGER list_resource_changed AFTER UPDATE ON resource
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION list_reference_changed();

---- create above / drop below ----

DROP TRIGGER list_resource_changed ON resource;
DROP TRIGGER list_care_service_changed ON care_service;
DROP TRIGGER list_care_unit_changed ON care_unit;
DROP FUNCTION list_reference_changed;
DROP TRIGGER list_guardianship_changed ON guardianship;
DROP FUNCTION list_guardianship_changed;
DROP TRIGGER list_person_changed ON person;
DROP FUNCTION list_person_changed;
