-- The saved state of each live session (peercircle::session::state::SessionSnapshot
-- as JSON), so a restarted server continues where it stopped: members,
-- queue, stick and turn clock, breaks, mutes, mode, pause, inbox. It holds
-- no message text (texts, content notes, direct messages and announcements
-- live only in memory).
CREATE TABLE session_snapshots (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    data       TEXT NOT NULL,
    saved_at   BIGINT NOT NULL
);
