-- Retention (issue 12, docs/privacy.md): the background job deletes audit
-- entries and bans past their time, and the participants and snapshots of
-- sessions that ended long enough ago; erasing a person looks up their
-- other joins in the group by device. These indexes keep those statements
-- from scanning whole tables. Portable SQL (SQLite and PostgreSQL).
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_group_target ON audit_log (group_id, target);
CREATE INDEX bans_created ON bans (created_at);
CREATE INDEX bans_group_participant ON bans (group_id, participant_id);
CREATE INDEX sessions_ended ON sessions ((COALESCE(ended_at, ends_at)));
