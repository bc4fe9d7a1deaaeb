//! Erasure and retention on PostgreSQL (see `Store::erase_participant`,
//! `Store::erase_group`, `Store::expire`). Each runs in one transaction;
//! the rows of a person are locked first, so two nodes erase them once.

use sqlx::Row;

use super::super::retention::placeholders;
use super::*;

/// When a session ended: its `ended_at`, or its scheduled end.
const ENDED: &str = "COALESCE(s.ended_at, s.ends_at)";

impl PgStore {
    pub(super) async fn erase_participant_rows(
        &self,
        group_id: &str,
        participant_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.pool.begin().await?;
        let found = sqlx::query(
            "SELECT p.device_hash FROM participants p JOIN sessions s ON s.id = p.session_id \
             WHERE p.id = $1 AND s.group_id = $2 FOR UPDATE OF p",
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
                 WHERE s.group_id = $1 AND p.device_hash = $2 ORDER BY p.joined_at, p.id COLLATE \"C\"",
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
        let from1 = placeholders(ids.len(), Some(1));
        let from2 = placeholders(ids.len(), Some(2));
        let open: i64 = {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM sessions s WHERE NOT s.cancelled \
                 AND s.ended_at IS NULL AND s.ends_at > $1 AND s.id IN \
                 (SELECT session_id FROM participants WHERE id IN ({from2}))"
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
                 (SELECT session_id FROM participants WHERE id IN ({from1}))"
            ),
            format!("UPDATE bans SET participant_id = NULL WHERE group_id = $1 AND participant_id IN ({from2})"),
            format!("UPDATE audit_log SET target = NULL WHERE group_id = $1 AND target IN ({from2})"),
            format!("DELETE FROM participants WHERE id IN ({from1})"),
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
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM audit_log WHERE group_id = $1")
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        // Sessions, participants, bans, snapshots and facilitator links go
        // with the group (ON DELETE CASCADE).
        let result = sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn expire_rows(&self, c: &Cutoffs) -> StoreResult<Expired> {
        let mut tx = self.pool.begin().await?;
        let in_ended = |table: &str| {
            format!(
                "DELETE FROM {table} WHERE session_id IN \
                 (SELECT s.id FROM sessions s WHERE {ENDED} < $1)"
            )
        };
        let expired = Expired {
            participants: exec(&mut tx, in_ended("participants"), c.joins_before).await?,
            snapshots: exec(&mut tx, in_ended("session_snapshots"), c.snapshots_before).await?,
            audit: exec(
                &mut tx,
                "DELETE FROM audit_log WHERE at < $1".into(),
                c.audit_before,
            )
            .await?,
            bans: exec(
                &mut tx,
                "DELETE FROM bans WHERE created_at < $1".into(),
                c.bans_before,
            )
            .await?,
            login_tokens: exec(
                &mut tx,
                "DELETE FROM login_tokens WHERE expires_at <= $1".into(),
                c.now,
            )
            .await?,
        };
        tx.commit().await?;
        Ok(expired)
    }
}

async fn exec(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    sql: String,
    at: i64,
) -> StoreResult<u64> {
    Ok(sqlx::query(&sql)
        .bind(at)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}
