-- Each new staff notice is announced on nara_staff_notices with its unit,
-- so that a tablet watching the unit (WatchUnitNotices) hears of it at once,
-- whichever replica it is connected to. Notifying from a trigger holds a
-- cluster-wide lock through the commit; notices are rare patient actions
-- (a late report, an answer to an invitation), so that cost is fine here.
CREATE FUNCTION staff_notice_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nara_staff_notices', NEW.care_unit_hsa_id);
    RETURN NULL;
END $$;

CREATE TRIGGER staff_notice_written AFTER INSERT ON staff_notice
    FOR EACH ROW EXECUTE FUNCTION staff_notice_written();

---- create above / drop below ----

DROP TRIGGER staff_notice_written ON staff_notice;
DROP FUNCTION staff_notice_written;
