-- A join checks the session's capacity: the people holding a place are
-- those not removed who arrived (opened a socket) or whose join is still
-- within its hold. Counting them row by row made every join into a room of
-- 5,000 read 5,000 index entries (W6 in BENCHMARKS.md). Now the arrived
-- ones are a counter on the session, kept by triggers whatever statement
-- changes a participant (join, arrival, removal, erasure, retention), and
-- only the un-arrived joins, few at any time, are counted, by a partial
-- index. The PostgreSQL migration of the same name does the same.
ALTER TABLE sessions ADD COLUMN arrived_count BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET arrived_count = (
    SELECT COUNT(*) FROM participants p
    WHERE p.session_id = sessions.id AND p.removed = 0 AND p.arrived_at IS NOT NULL
);
CREATE TRIGGER participants_arrived_insert AFTER INSERT ON participants
WHEN NEW.removed = 0 AND NEW.arrived_at IS NOT NULL
BEGIN
    UPDATE sessions SET arrived_count = arrived_count + 1 WHERE id = NEW.session_id;
END;
CREATE TRIGGER participants_arrived_update AFTER UPDATE OF arrived_at, removed, session_id ON participants
BEGIN
    UPDATE sessions SET arrived_count = arrived_count - 1
    WHERE id = OLD.session_id AND OLD.removed = 0 AND OLD.arrived_at IS NOT NULL;
    UPDATE sessions SET arrived_count = arrived_count + 1
    WHERE id = NEW.session_id AND NEW.removed = 0 AND NEW.arrived_at IS NOT NULL;
END;
CREATE TRIGGER participants_arrived_delete AFTER DELETE ON participants
WHEN OLD.removed = 0 AND OLD.arrived_at IS NOT NULL
BEGIN
    UPDATE sessions SET arrived_count = arrived_count - 1 WHERE id = OLD.session_id;
END;
CREATE INDEX participants_unarrived ON participants (session_id, joined_at)
WHERE arrived_at IS NULL AND removed = 0;
