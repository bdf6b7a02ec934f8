-- Every change to a session (revoked, refreshed, assignment chosen, deleted)
-- is announced, so that replicas may keep sessions in memory and drop one
-- the moment it changes anywhere.
CREATE FUNCTION session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_session', coalesce(NEW.id, OLD.id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER session_changed AFTER UPDATE OR DELETE ON session
    FOR EACH ROW EXECUTE FUNCTION session_changed();

---- create above / drop below ----

DROP TRIGGER session_changed ON session;
DROP FUNCTION session_changed;
