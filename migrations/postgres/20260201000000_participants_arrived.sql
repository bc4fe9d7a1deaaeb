-- When a participant's first socket arrived (unix ms); NULL: joined over
-- HTTP but never connected. A join that never arrives holds its place only
-- for `join_hold_secs`, so joins without a socket cannot fill a session.
ALTER TABLE participants ADD COLUMN arrived_at BIGINT;
-- Whether a device came to a group before an address ban (bans spare it).
CREATE INDEX participants_device ON participants (device_hash);
