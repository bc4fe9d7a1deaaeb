//! The PostgreSQL implementation of [`Store`], for several peercircle nodes
//! sharing one database (the runtime `sqlx::query` API: no `DATABASE_URL`
//! needed at build time).
//!
//! Connecting runs the migrations in `migrations/postgres/` (sqlx holds an
//! advisory lock meanwhile, so nodes starting together migrate once). Every
//! read goes to the database: this store must never keep mutable rows in
//! process memory, because another node may change them at any moment, and
//! it must never rely on being the only writer (the join capacity check
//! locks the session row instead). It must never store message text.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};

use super::*;

/// Connections per node. PostgreSQL's default `max_connections` is 100, so
/// this leaves room for several nodes and an operator's `psql`.
const POOL_SIZE: u32 = 16;
/// How long a call waits for a free connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// A pool of PostgreSQL connections. Cheap to share; holds no row data.
pub struct PgStore {
    pub pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`)
    /// and runs the migrations. The database itself must exist.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let shown = redact_url(url);
        let options = PgConnectOptions::from_str(url)
            .with_context(|| format!("bad database URL {shown}"))?
            .application_name("peercircle")
            // PostgreSQL's NOTICEs (e.g. "relation already exists, skipping"
            // on every start) are not worth a log line; warnings still are.
            .options([("client_min_messages", "warning")]);
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to the database {shown}"))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .context("database migration failed")?;
        Ok(Self { pool })
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

fn not_found_unless_changed(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn facilitator_from(row: &PgRow) -> Result<Facilitator, sqlx::Error> {
    Ok(Facilitator {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
    })
}

fn session_from(row: &PgRow) -> Result<SessionRecord, sqlx::Error> {
    Ok(SessionRecord {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        cancelled: row.try_get("cancelled")?,
        locked: row.try_get("locked")?,
    })
}

fn participant_from(row: &PgRow) -> Result<ParticipantRecord, sqlx::Error> {
    Ok(ParticipantRecord {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        name: row.try_get("name")?,
        removed: row.try_get("removed")?,
        joined_at: row.try_get("joined_at")?,
        arrived_at: row.try_get("arrived_at")?,
    })
}

fn audit_from(row: &PgRow) -> Result<AuditEntry, sqlx::Error> {
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

fn group_from(row: &PgRow) -> StoreResult<Group> {
    let id: String = row.try_get("id")?;
    let resources: String = row.try_get("support_resources")?;
    let support_resources: Vec<SupportResource> = serde_json::from_str(&resources)
        .map_err(|e| anyhow::anyhow!("group {id}: bad support_resources: {e}"))?;
    let capacity: i32 = row.try_get("capacity")?;
    Ok(Group {
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        agreement: row.try_get("agreement")?,
        timezone: row.try_get("timezone")?,
        capacity: u32::try_from(capacity).unwrap_or(0),
        has_access_code: row.try_get("has_access_code")?,
        support_resources,
        facilitators: row.try_get("facilitators")?,
        keep_transcript: row.try_get("keep_transcript")?,
        created_at: row.try_get("created_at")?,
        id,
    })
}

/// A group row with its facilitator ids (creator first) in one statement.
/// Ids sort bytewise (`COLLATE "C"`), as in SQLite, whatever the database's
/// locale.
const GROUP_SELECT: &str = "SELECT g.id, g.name, g.description, g.agreement, g.timezone, \
     g.capacity, g.access_code_hash IS NOT NULL AS has_access_code, \
     g.support_resources::text AS support_resources, g.keep_transcript, g.created_at, \
     ARRAY(SELECT gf.facilitator_id FROM group_facilitators gf WHERE gf.group_id = g.id \
           ORDER BY gf.position, gf.facilitator_id COLLATE \"C\") AS facilitators \
     FROM groups g";
const SESSION_COLUMNS: &str =
    "id, group_id, starts_at, ends_at, started_at, ended_at, cancelled, locked";
const PARTICIPANT_COLUMNS: &str = "id, session_id, name, removed, joined_at, arrived_at";
/// Who holds a place in session `$1`: not removed, and arrived or joined
/// after `$2` (an un-arrived join holds its place only for a while).
/// How many people hold a place in a session: those who arrived, a counter
/// the trigger of migration `20261205000000` keeps, and the un-arrived joins
/// still within their hold, counted on a partial index. Never a walk over
/// everyone.
const HOLDING_PLACE: &str =
    "SELECT COALESCE((SELECT arrived_count FROM sessions WHERE id = $1), 0) \
     + (SELECT COUNT(*) FROM participants WHERE session_id = $1 \
        AND arrived_at IS NULL AND NOT removed AND joined_at > $2)";

fn resources_json(input: &GroupInput) -> StoreResult<String> {
    serde_json::to_string(&input.support_resources).map_err(|e| StoreError::Other(e.into()))
}

/// A capacity as PostgreSQL's INTEGER (capacities are validated far below).
fn capacity_i32(capacity: u32) -> i32 {
    i32::try_from(capacity).unwrap_or(i32::MAX)
}

impl PgStore {
    async fn require_group(&self, id: &str) -> StoreResult<Group> {
        self.group(id).await?.ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM facilitators) + (SELECT COUNT(*) FROM groups)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n == 0)
    }

    async fn create_facilitator(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<Facilitator> {
        let f = Facilitator {
            id: crate::auth::new_id("f"),
            email: email.trim().to_lowercase(),
            name: name.to_string(),
        };
        let result = sqlx::query(
            "INSERT INTO facilitators (id, email, name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&f.id)
        .bind(&f.email)
        .bind(&f.name)
        .bind(password_hash)
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(f),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(
                "A facilitator with this e-mail address already exists.".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    async fn facilitator_by_email(
        &self,
        email: &str,
    ) -> StoreResult<Option<(Facilitator, String)>> {
        let row =
            sqlx::query("SELECT id, email, name, password_hash FROM facilitators WHERE email = $1")
                .bind(email.trim().to_lowercase())
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => Ok(Some((facilitator_from(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    async fn facilitator(&self, id: &str) -> StoreResult<Option<Facilitator>> {
        let row = sqlx::query("SELECT id, email, name FROM facilitators WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(facilitator_from).transpose()?)
    }

    async fn create_login_token(
        &self,
        facilitator_id: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        let now = crate::now_ms();
        // Sweep expired tokens while we are here: the table stays small.
        sqlx::query("DELETE FROM login_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO login_tokens (token_hash, facilitator_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(facilitator_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn facilitator_by_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Facilitator>> {
        let row = sqlx::query(
            "SELECT f.id, f.email, f.name FROM login_tokens t \
             JOIN facilitators f ON f.id = t.facilitator_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(facilitator_from).transpose()?)
    }

    async fn delete_login_token(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_group(&self, facilitator_id: &str, input: &GroupInput) -> StoreResult<Group> {
        let id = crate::auth::new_id("g");
        let code = input.access_code_hash.clone().flatten();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO groups (id, name, description, agreement, timezone, capacity, \
             access_code_hash, support_resources, keep_transcript, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)",
        )
        .bind(&id)
        .bind(&input.name)
        .bind(&input.description)
        .bind(&input.agreement)
        .bind(&input.timezone)
        .bind(capacity_i32(input.capacity))
        .bind(code)
        .bind(resources_json(input)?)
        .bind(input.keep_transcript)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO group_facilitators (group_id, facilitator_id, position) \
             VALUES ($1, $2, 0)",
        )
        .bind(&id)
        .bind(facilitator_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.require_group(&id).await
    }

    async fn update_group(&self, id: &str, input: &GroupInput) -> StoreResult<Group> {
        // `$8` tells whether to set the code at all (`None` keeps it).
        let result = sqlx::query(
            "UPDATE groups SET name = $1, description = $2, agreement = $3, timezone = $4, \
             capacity = $5, support_resources = $6::jsonb, keep_transcript = $7, \
             access_code_hash = CASE WHEN $8 THEN $9 ELSE access_code_hash END \
             WHERE id = $10",
        )
        .bind(&input.name)
        .bind(&input.description)
        .bind(&input.agreement)
        .bind(&input.timezone)
        .bind(capacity_i32(input.capacity))
        .bind(resources_json(input)?)
        .bind(input.keep_transcript)
        .bind(input.access_code_hash.is_some())
        .bind(input.access_code_hash.clone().flatten())
        .bind(id)
        .execute(&self.pool)
        .await?;
        not_found_unless_changed(result.rows_affected())?;
        self.require_group(id).await
    }

    async fn group(&self, id: &str) -> StoreResult<Option<Group>> {
        let row = sqlx::query(&format!("{GROUP_SELECT} WHERE g.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(group_from).transpose()
    }

    async fn access_code_hash(&self, group_id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT access_code_hash FROM groups WHERE id = $1")
            .bind(group_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(r.try_get("access_code_hash")?),
            None => Err(StoreError::NotFound),
        }
    }

    async fn groups_of(&self, facilitator_id: &str) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(&format!(
            "{GROUP_SELECT} WHERE g.id IN \
             (SELECT group_id FROM group_facilitators WHERE facilitator_id = $1) \
             ORDER BY g.created_at, g.id COLLATE \"C\""
        ))
        .bind(facilitator_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(group_from).collect()
    }

    async fn delete_group(&self, id: &str) -> StoreResult<()> {
        // Sessions, participants, bans and facilitator links go with it
        // (ON DELETE CASCADE); the audit log stays.
        let result = sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        not_found_unless_changed(result.rows_affected())
    }

    async fn set_group_facilitators(
        &self,
        group_id: &str,
        facilitator_ids: &[String],
    ) -> StoreResult<()> {
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<&str> = facilitator_ids
            .iter()
            .map(String::as_str)
            .filter(|f| seen.insert(*f))
            .collect();
        let mut tx = self.pool.begin().await?;
        // Locking the group row queues two concurrent replacements (from two
        // nodes) one after the other instead of interleaving their rows.
        let exists = sqlx::query("SELECT id FROM groups WHERE id = $1 FOR UPDATE")
            .bind(group_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM group_facilitators WHERE group_id = $1")
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO group_facilitators (group_id, facilitator_id, position) \
             SELECT $1, f.id, f.n - 1 FROM unnest($2::text[]) WITH ORDINALITY AS f(id, n)",
        )
        .bind(group_id)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn is_group_facilitator(
        &self,
        group_id: &str,
        facilitator_id: &str,
    ) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT 1 FROM group_facilitators WHERE group_id = $1 AND facilitator_id = $2",
        )
        .bind(group_id)
        .bind(facilitator_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn create_sessions(
        &self,
        group_id: &str,
        times: &[(i64, i64)],
    ) -> StoreResult<Vec<SessionRecord>> {
        let now = crate::now_ms();
        let created: Vec<SessionRecord> = times
            .iter()
            .map(|&(starts_at, ends_at)| SessionRecord {
                id: crate::auth::new_id("s"),
                group_id: group_id.to_string(),
                starts_at,
                ends_at,
                started_at: None,
                ended_at: None,
                cancelled: false,
                locked: false,
            })
            .collect();
        if created.is_empty() {
            return Ok(created);
        }
        let ids: Vec<&str> = created.iter().map(|s| s.id.as_str()).collect();
        let starts: Vec<i64> = created.iter().map(|s| s.starts_at).collect();
        let ends: Vec<i64> = created.iter().map(|s| s.ends_at).collect();
        // One statement for the whole series: all or nothing.
        let result = sqlx::query(
            "INSERT INTO sessions (id, group_id, starts_at, ends_at, created_at) \
             SELECT t.id, $1, t.starts_at, t.ends_at, $2 \
             FROM unnest($3::text[], $4::bigint[], $5::bigint[]) AS t(id, starts_at, ends_at)",
        )
        .bind(group_id)
        .bind(now)
        .bind(&ids)
        .bind(&starts)
        .bind(&ends)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(created),
            Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    async fn session(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(session_from).transpose()?)
    }

    async fn sessions_of_group(
        &self,
        group_id: &str,
        after: i64,
    ) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE group_id = $1 AND ends_at > $2 \
             ORDER BY starts_at, id COLLATE \"C\""
        ))
        .bind(group_id)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(session_from).collect::<Result<_, _>>()?)
    }

    async fn cancel_session(&self, id: &str) -> StoreResult<()> {
        let result = sqlx::query("UPDATE sessions SET cancelled = TRUE WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        not_found_unless_changed(result.rows_affected())
    }

    async fn set_session_started(&self, id: &str, at: Option<i64>) -> StoreResult<()> {
        let result = sqlx::query("UPDATE sessions SET started_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        not_found_unless_changed(result.rows_affected())
    }

    async fn set_session_ended(&self, id: &str, at: i64) -> StoreResult<()> {
        // The first end wins: a later call keeps the original time.
        let result =
            sqlx::query("UPDATE sessions SET ended_at = COALESCE(ended_at, $1) WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&self.pool)
                .await?;
        not_found_unless_changed(result.rows_affected())
    }

    async fn set_session_locked(&self, id: &str, locked: bool) -> StoreResult<()> {
        let result = sqlx::query("UPDATE sessions SET locked = $1 WHERE id = $2")
            .bind(locked)
            .bind(id)
            .execute(&self.pool)
            .await?;
        not_found_unless_changed(result.rows_affected())
    }

    #[allow(clippy::too_many_arguments)]
    async fn add_participant(
        &self,
        session_id: &str,
        name: &str,
        token_hash: &str,
        device_hash: Option<&str>,
        address_hash: Option<&str>,
        capacity: u32,
        now: i64,
        held_since: i64,
    ) -> StoreResult<JoinOutcome> {
        // Several nodes join people to the same session at once. Locking the
        // session row queues the joins of one session; the count is a
        // separate statement so that, under READ COMMITTED, it runs on a
        // snapshot taken after the lock was granted and sees every join
        // committed before it. (A single INSERT … WHERE (SELECT COUNT…)
        // would count on a snapshot taken before waiting for the lock.)
        let mut tx = self.pool.begin().await?;
        let session = sqlx::query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE")
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await?;
        if session.is_none() {
            return Err(StoreError::NotFound);
        }
        let joined: i64 = sqlx::query_scalar(HOLDING_PLACE)
            .bind(session_id)
            .bind(held_since)
            .fetch_one(&mut *tx)
            .await?;
        if joined >= i64::from(capacity) {
            tx.rollback().await?;
            return Ok(JoinOutcome::Full);
        }
        let record = ParticipantRecord {
            id: crate::auth::new_id("p"),
            session_id: session_id.to_string(),
            name: name.to_string(),
            removed: false,
            joined_at: now,
            arrived_at: None,
        };
        sqlx::query(
            "INSERT INTO participants \
             (id, session_id, name, token_hash, device_hash, address_hash, removed, joined_at) \
             VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7)",
        )
        .bind(&record.id)
        .bind(session_id)
        .bind(name)
        .bind(token_hash)
        .bind(device_hash)
        .bind(address_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(JoinOutcome::Joined(record))
    }

    async fn participant_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<ParticipantRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(participant_from).transpose()?)
    }

    async fn participant(&self, id: &str) -> StoreResult<Option<ParticipantRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(participant_from).transpose()?)
    }

    async fn count_participants(&self, session_id: &str, held_since: i64) -> StoreResult<u32> {
        let n: i64 = sqlx::query_scalar(HOLDING_PLACE)
            .bind(session_id)
            .bind(held_since)
            .fetch_one(&self.pool)
            .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn mark_arrived(&self, participant_id: &str, at: i64) -> StoreResult<()> {
        // The first arrival wins, even when two nodes note it at once.
        sqlx::query("UPDATE participants SET arrived_at = $1 WHERE id = $2 AND arrived_at IS NULL")
            .bind(at)
            .bind(participant_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn participants_of_session(
        &self,
        session_id: &str,
    ) -> StoreResult<Vec<ParticipantRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE session_id = $1 \
             ORDER BY joined_at, id COLLATE \"C\""
        ))
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(participant_from)
            .collect::<Result<_, _>>()?)
    }

    async fn remove_participant(&self, id: &str, ban: bool, by: &str, now: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let removed = sqlx::query(
            "UPDATE participants p SET removed = TRUE FROM sessions s \
             WHERE p.id = $1 AND s.id = p.session_id \
             RETURNING s.group_id, p.device_hash, p.address_hash",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = removed else {
            return Err(StoreError::NotFound);
        };
        if ban {
            let group_id: String = row.try_get("group_id")?;
            let device_hash: Option<String> = row.try_get("device_hash")?;
            let address_hash: Option<String> = row.try_get("address_hash")?;
            sqlx::query(
                "INSERT INTO bans \
                 (id, group_id, participant_id, device_hash, address_hash, banned_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(crate::auth::new_id("b"))
            .bind(group_id)
            .bind(id)
            .bind(device_hash)
            .bind(address_hash)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn is_banned(
        &self,
        group_id: &str,
        device_hash: Option<&str>,
        address_hash: Option<&str>,
    ) -> StoreResult<bool> {
        if device_hash.is_none() && address_hash.is_none() {
            return Ok(false);
        }
        // An address ban spares a device that came to this group before it.
        let row = sqlx::query(
            "SELECT 1 FROM bans b WHERE b.group_id = $1 AND \
             ((b.device_hash IS NOT NULL AND b.device_hash = $2) OR \
              (b.address_hash IS NOT NULL AND b.address_hash = $3 AND NOT EXISTS ( \
                 SELECT 1 FROM participants p JOIN sessions s ON s.id = p.session_id \
                 WHERE s.group_id = b.group_id AND p.device_hash IS NOT NULL \
                 AND p.device_hash = $2 AND p.joined_at < b.created_at))) LIMIT 1",
        )
        .bind(group_id)
        .bind(device_hash)
        .bind(address_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn removed_participants(&self, session_id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM participants WHERE session_id = $1 AND removed \
             ORDER BY id COLLATE \"C\"",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn save_snapshot(&self, session_id: &str, data: &str, at: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO session_snapshots (session_id, data, saved_at) VALUES ($1, $2, $3) \
             ON CONFLICT (session_id) \
             DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at",
        )
        .bind(session_id)
        .bind(data)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn load_snapshot(&self, session_id: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT data FROM session_snapshots WHERE session_id = $1")
                .bind(session_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log \
             (id, group_id, session_id, facilitator_id, action, target, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(crate::auth::new_id("a"))
        .bind(&entry.group_id)
        .bind(&entry.session_id)
        .bind(&entry.facilitator_id)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.detail)
        .bind(entry.at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_log(&self, group_id: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT group_id, session_id, facilitator_id, action, target, detail, at \
             FROM audit_log WHERE group_id = $1 ORDER BY at DESC, id COLLATE \"C\" DESC \
             LIMIT $2",
        )
        .bind(group_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_from).collect::<Result<_, _>>()?)
    }

    async fn erase_participant(&self, group: &str, id: &str, now: i64) -> StoreResult<Vec<String>> {
        self.erase_participant_rows(group, id, now).await
    }

    async fn erase_group(&self, group_id: &str) -> StoreResult<()> {
        self.erase_group_rows(group_id).await
    }

    async fn expire(&self, cutoffs: &Cutoffs) -> StoreResult<Expired> {
        self.expire_rows(cutoffs).await
    }
}

mod retention;
