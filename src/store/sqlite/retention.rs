//! Erasure and retention on SQLite (see `Store::erase_participant`,
//! `Store::erase_group`, `Store::expire`). Each runs in one transaction on
//! the writer, and drops what the record caches hold of what it deleted.

use sqlx::Row;

use super::super::retention::placeholders;
use super::*;

/// When a session ended: its `ended_at`, or its scheduled end.
const ENDED: &str = "COALESCE(s.ended_at, s.ends_at)";

impl SqliteStore {
    pub(super) async fn erase_participant_rows(
        &self,
        group_id: &str,
        participant_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.writer.begin().await?;
        let found = sqlx::query(
            "SELECT p.device_hash FROM participants p JOIN sessions s ON s.id = p.session_id \
             WHERE p.id = ? AND s.group_id = ?",
        )
        .bind(participant_id)
        .bind(group_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let device: Option<String> = found.try_get("device_hash")?;
        let ids: Vec<String> = match &device {
            Some(device) => sqlx::query(
                "SELECT p.id FROM participants p JOIN sessions s ON s.id = p.session_id \
                 WHERE s.group_id = ? AND p.device_hash = ? ORDER BY p.joined_at, p.id",
            )
            .bind(group_id)
            .bind(device)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?,
            None => vec![participant_id.to_string()],
        };
        let list = placeholders(ids.len(), None);
        let open: i64 = {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM sessions s WHERE s.cancelled = 0 \
                 AND s.ended_at IS NULL AND s.ends_at > ? AND s.id IN \
                 (SELECT session_id FROM participants WHERE id IN ({list}))"
            );
            let mut q = sqlx::query(&sql).bind(now);
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_one(&mut *tx).await?.try_get("n")?
        };
        if open > 0 {
            return Err(StoreError::Conflict(
                "This person is in a session that has not ended yet. Remove them from it now, \
                 and erase their data once it has ended."
                    .into(),
            ));
        }
        let statements = [
            format!(
                "DELETE FROM session_snapshots WHERE session_id IN \
                 (SELECT session_id FROM participants WHERE id IN ({list}))"
            ),
            format!("UPDATE bans SET participant_id = NULL WHERE group_id = ? AND participant_id IN ({list})"),
            format!("UPDATE audit_log SET target = NULL WHERE group_id = ? AND target IN ({list})"),
            format!("DELETE FROM participants WHERE id IN ({list})"),
        ];
        for (i, sql) in statements.iter().enumerate() {
            let mut q = sqlx::query(sql);
            if i == 1 || i == 2 {
                q = q.bind(group_id);
            }
            for id in &ids {
                q = q.bind(id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    pub(super) async fn erase_group_rows(&self, group_id: &str) -> StoreResult<()> {
        let _cache = self.cache_lock.lock().await;
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM audit_log WHERE group_id = ?")
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        // Sessions, participants, bans, snapshots and facilitator links go
        // with the group (ON DELETE CASCADE).
        let result = sqlx::query("DELETE FROM groups WHERE id = ?")
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        self.groups.remove(group_id);
        self.sessions.retain(|_, s| s.group_id != group_id);
        Ok(())
    }

    pub(super) async fn expire_rows(&self, c: &Cutoffs) -> StoreResult<Expired> {
        let mut tx = self.writer.begin().await?;
        let in_ended = |table: &str| {
            format!(
                "DELETE FROM {table} WHERE session_id IN \
                 (SELECT s.id FROM sessions s WHERE {ENDED} < ?)"
            )
        };
        let expired = Expired {
            participants: exec(&mut tx, in_ended("participants"), c.joins_before).await?,
            snapshots: exec(&mut tx, in_ended("session_snapshots"), c.snapshots_before).await?,
            audit: exec(
                &mut tx,
                "DELETE FROM audit_log WHERE at < ?".into(),
                c.audit_before,
            )
            .await?,
            bans: exec(
                &mut tx,
                "DELETE FROM bans WHERE created_at < ?".into(),
                c.bans_before,
            )
            .await?,
            login_tokens: exec(
                &mut tx,
                "DELETE FROM login_tokens WHERE expires_at <= ?".into(),
                c.now,
            )
            .await?,
        };
        tx.commit().await?;
        Ok(expired)
    }
}

async fn exec(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    sql: String,
    at: i64,
) -> StoreResult<u64> {
    Ok(sqlx::query(&sql)
        .bind(at)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}
