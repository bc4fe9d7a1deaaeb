-- Which node owns each live session. A single SQLite node never uses it;
-- it exists so the one conformance suite runs the same lease cases here.
-- A node takes a session only when nobody holds it or the holder's lease ran
-- out, judged by the database's clock; every take adds one to `token`, so
-- tokens only grow, and a snapshot is written only under the current token
-- (an old owner, paused or cut off, is fenced out by the database itself).
-- A released lease keeps its row (expires_at in the past) so the next take
-- goes on counting from its token. Times are unix milliseconds.
CREATE TABLE session_lease (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    node_id    TEXT NOT NULL,
    node_url   TEXT NOT NULL,   -- where other nodes relay this session's sockets
    token      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX session_lease_node ON session_lease (node_id);
