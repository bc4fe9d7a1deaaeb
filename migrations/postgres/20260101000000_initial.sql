-- peercircle schema for PostgreSQL, version 1: the same tables as
-- migrations/sqlite/20260101000000_initial.sql with native types: BOOLEAN
-- flags, JSONB for the support resources. Times stay BIGINT unix
-- milliseconds, as in every backend. No message text is ever stored: it
-- lives only in the session actor's memory.

CREATE TABLE facilitators (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,   -- stored lower-cased
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,          -- argon2id
    created_at    BIGINT NOT NULL
);

CREATE TABLE login_tokens (
    token_hash     TEXT PRIMARY KEY,      -- SHA-256 of the token, never the token
    facilitator_id TEXT NOT NULL REFERENCES facilitators (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX login_tokens_facilitator ON login_tokens (facilitator_id);
CREATE INDEX login_tokens_expires ON login_tokens (expires_at);

CREATE TABLE groups (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL,
    agreement         TEXT NOT NULL,
    timezone          TEXT NOT NULL,
    capacity          INTEGER NOT NULL CHECK (capacity >= 0),
    access_code_hash  TEXT,               -- argon2id; NULL: no code
    support_resources JSONB NOT NULL,     -- array of {label, url}
    keep_transcript   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT NOT NULL
);

CREATE TABLE group_facilitators (
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    facilitator_id TEXT NOT NULL REFERENCES facilitators (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,      -- 0: the creator
    PRIMARY KEY (group_id, facilitator_id)
);
CREATE INDEX group_facilitators_facilitator ON group_facilitators (facilitator_id);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    started_at BIGINT,
    ended_at   BIGINT,
    cancelled  BOOLEAN NOT NULL DEFAULT FALSE,
    locked     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX sessions_group_ends ON sessions (group_id, ends_at);

CREATE TABLE participants (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,           -- the pseudonym
    token_hash   TEXT NOT NULL UNIQUE,    -- SHA-256 of the token
    device_hash  TEXT,                    -- SHA-256 of the device cookie
    address_hash TEXT,                    -- SHA-256 of group id + client address
    removed      BOOLEAN NOT NULL DEFAULT FALSE,
    joined_at    BIGINT NOT NULL
);
CREATE INDEX participants_session ON participants (session_id, removed);

CREATE TABLE bans (
    id             TEXT PRIMARY KEY,
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    participant_id TEXT,
    device_hash    TEXT,
    address_hash   TEXT,
    banned_by      TEXT NOT NULL,         -- facilitator id
    created_at     BIGINT NOT NULL
);
CREATE INDEX bans_group ON bans (group_id);

-- Who did what to whom, when. Never message text, names or e-mails: ids and
-- short non-personal details only. Kept when a group is deleted.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    group_id       TEXT NOT NULL,
    session_id     TEXT,
    facilitator_id TEXT NOT NULL,
    action         TEXT NOT NULL,
    target         TEXT,
    detail         TEXT,
    at             BIGINT NOT NULL
);
CREATE INDEX audit_log_group_at ON audit_log (group_id, at);
