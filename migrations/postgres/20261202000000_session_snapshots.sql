-- The saved state of each live session (peercircle::session::state::SessionSnapshot
-- as JSON), so a node that starts the session again continues where it
-- stopped: members, queue, stick and turn clock, breaks, mutes, mode, pause,
-- inbox. It holds no message text (texts, content notes, direct messages and
-- announcements live only in memory). Kept as TEXT, exactly as written: the
-- server only ever reads it back whole.
CREATE TABLE session_snapshots (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    data       TEXT NOT NULL,
    saved_at   BIGINT NOT NULL
);
