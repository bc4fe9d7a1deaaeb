-- A join checks the session's capacity: the people holding a place are
-- those not removed who arrived (opened a socket) or whose join is still
-- within its hold. Counting them row by row made every join into a room of
-- 5,000 read 5,000 index entries (W6 in BENCHMARKS.md). Now the arrived
-- ones are a counter on the session, kept by a trigger whatever statement
-- changes a participant (join, arrival, removal, erasure, retention), and
-- only the un-arrived joins, few at any time, are counted, by a partial
-- index. The SQLite migration of the same name does the same.
ALTER TABLE sessions ADD COLUMN arrived_count BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET arrived_count = (
    SELECT COUNT(*) FROM participants p
    WHERE p.session_id = sessions.id AND NOT p.removed AND p.arrived_at IS NOT NULL
);
CREATE FUNCTION participants_arrived_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND NOT OLD.removed AND OLD.arrived_at IS NOT NULL THEN
        UPDATE sessions SET arrived_count = arrived_count - 1 WHERE id = OLD.session_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NOT NEW.removed AND NEW.arrived_at IS NOT NULL THEN
        UPDATE sessions SET arrived_count = arrived_count + 1 WHERE id = NEW.session_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER participants_arrived_count
AFTER INSERT OR DELETE OR UPDATE OF arrived_at, removed, session_id ON participants
FOR EACH ROW EXECUTE FUNCTION participants_arrived_count();
CREATE INDEX participants_unarrived ON participants (session_id, joined_at)
WHERE arrived_at IS NULL AND NOT removed;
