//! Rows of the SQLite store into records (SQLite keeps booleans as 0/1).

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::store::{AuditEntry, Facilitator, ParticipantRecord, SessionRecord};

pub(super) fn b(v: i64) -> bool {
    v != 0
}

pub(super) fn facilitator_from(row: &SqliteRow) -> Result<Facilitator, sqlx::Error> {
    Ok(Facilitator {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
    })
}

pub(super) fn session_from(row: &SqliteRow) -> Result<SessionRecord, sqlx::Error> {
    Ok(SessionRecord {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        cancelled: b(row.try_get("cancelled")?),
        locked: b(row.try_get("locked")?),
    })
}

pub(super) fn participant_from(row: &SqliteRow) -> Result<ParticipantRecord, sqlx::Error> {
    Ok(ParticipantRecord {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        name: row.try_get("name")?,
        removed: b(row.try_get("removed")?),
        joined_at: row.try_get("joined_at")?,
        arrived_at: row.try_get("arrived_at")?,
    })
}

pub(super) fn audit_from(row: &SqliteRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        group_id: row.try_get("group_id")?,
        session_id: row.try_get("session_id")?,
        facilitator_id: row.try_get("facilitator_id")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        detail: row.try_get("detail")?,
        at: row.try_get("at")?,
    })
}
