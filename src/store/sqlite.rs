//! The SQLite implementation of [`Store`], with the runtime `sqlx::query`
//! API (no `DATABASE_URL` needed at build time).
//!
//! Connecting creates the database file and its folder when missing, turns
//! on WAL and foreign keys, and runs the migrations in `migrations/sqlite/`. The SQL
//! here stays portable (no SQLite-only functions) so that a PostgreSQL store
//! can follow the same statements. It must never store message text.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

use super::*;

/// A pool of SQLite connections.
pub struct SqliteStore {
    pub pool: SqlitePool,
    /// The one connection that writes (the same as `pool` in memory).
    pub(super) writer: SqlitePool,
    /// Session and group records read often (every join and hello) and
    /// changed rarely, always through this store: kept in memory, dropped on
    /// every write that touches them. One process owns the database.
    sessions: dashmap::DashMap<String, SessionRecord>,
    groups: dashmap::DashMap<String, Group>,
    /// Held while a cache miss is filled and while a cached record is
    /// written, so a fill can never put back a record older than a write.
    cache_lock: tokio::sync::Mutex<()>,
}

/// Beyond this many cached records the cache starts afresh (memory bound).
const CACHE_LIMIT: usize = 50_000;

fn cache_put<V: Clone>(map: &dashmap::DashMap<String, V>, id: &str, value: &V) {
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.insert(id.to_string(), value.clone());
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url`
    /// (`sqlite://PATH` or `sqlite::memory:`) and runs the migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("bad database URL {url:?}"))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let in_memory = is_in_memory(url);
        let (pool, writer) = if in_memory {
            // Every connection to `:memory:` would be its own database: keep
            // exactly one, forever.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            (pool.clone(), pool)
        } else {
            let file = options.get_filename().to_path_buf();
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the database folder {}", dir.display())
                })?;
            }
            let options = options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            // A local file's connections do not go stale: no ping before
            // each use (a round trip to SQLite's thread) and no reaping.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.clone())
                .await
                .with_context(|| format!("cannot open the database {}", file.display()))?;
            // SQLite takes one writer at a time: queue writers in the pool
            // (cheap, fair) instead of letting them spin on the file lock,
            // which under a join storm ends in "database is locked".
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(60))
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .with_context(|| format!("cannot open the database {}", file.display()))?;
            (pool, writer)
        };
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .context("database migration failed")?;
        Ok(Self {
            pool,
            writer,
            sessions: dashmap::DashMap::new(),
            groups: dashmap::DashMap::new(),
            cache_lock: tokio::sync::Mutex::new(()),
        })
    }
}

/// An exclusive OS lock on `<database>.lock`, held for the life of the
/// server: a second server on the same SQLite file would serve stale cached
/// records and ignore the first one's sessions, so it refuses to start.
/// Command-line tools (`facilitator add`, `migrate`) do not take it.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: std::fs::File,
}

/// Takes the [`DatabaseLock`] of the database at `url`; `None` for an
/// in-memory database (nobody else can open it). Fails with a clear message
/// when another process holds it.
pub fn lock_database(url: &str) -> anyhow::Result<Option<DatabaseLock>> {
    use std::io::{Read, Seek, Write};
    if is_in_memory(url) {
        return Ok(None);
    }
    let options =
        SqliteConnectOptions::from_str(url).with_context(|| format!("bad database URL {url:?}"))?;
    let database = options.get_filename().to_path_buf();
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    let mut path = database.clone().into_os_string();
    path.push(".lock");
    let path = std::path::PathBuf::from(path);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            // Who holds it, for the message a second server prints.
            let _ = file.set_len(0);
            let _ = file.write_all(format!("{}\n", std::process::id()).as_bytes());
            Ok(Some(DatabaseLock { _file: file }))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.rewind();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                String::new()
            } else {
                format!(" (process {holder})")
            };
            anyhow::bail!(
                "Another peercircle server{who} is already using the database {}. \
                 Only one server may use a database file at a time: stop the other one first.",
                database.display()
            )
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

fn is_in_memory(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.starts_with(":memory:") || rest.contains("mode=memory") || Path::new(rest) == Path::new("")
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

const GROUP_COLUMNS: &str = "id, name, description, agreement, timezone, capacity, \
     access_code_hash, support_resources, keep_transcript, created_at";
const SESSION_COLUMNS: &str =
    "id, group_id, starts_at, ends_at, started_at, ended_at, cancelled, locked";
/// How many people hold a place in a session (binds: the session twice,
/// then `held_since`): those who arrived, a counter the triggers of
/// migration `20261205000000` keep, and the un-arrived joins still within
/// their hold, counted on a partial index. Never a walk over everyone.
const HOLDING_PLACE: &str = "COALESCE((SELECT arrived_count FROM sessions WHERE id = ?), 0) \
     + (SELECT COUNT(*) FROM participants WHERE session_id = ? \
        AND arrived_at IS NULL AND removed = 0 AND joined_at > ?)";

const PARTICIPANT_COLUMNS: &str = "id, session_id, name, removed, joined_at, arrived_at";

impl SqliteStore {
    /// A group row plus its facilitator ids.
    async fn group_from(&self, row: &SqliteRow) -> StoreResult<Group> {
        let id: String = row.try_get("id")?;
        let resources: String = row.try_get("support_resources")?;
        let support_resources: Vec<SupportResource> = serde_json::from_str(&resources)
            .map_err(|e| anyhow::anyhow!("group {id}: bad support_resources: {e}"))?;
        let capacity: i64 = row.try_get("capacity")?;
        let code: Option<String> = row.try_get("access_code_hash")?;
        let facilitators = self.facilitator_ids(&id).await?;
        Ok(Group {
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            agreement: row.try_get("agreement")?,
            timezone: row.try_get("timezone")?,
            capacity: u32::try_from(capacity).unwrap_or(0),
            has_access_code: code.is_some(),
            support_resources,
            facilitators,
            keep_transcript: b(row.try_get("keep_transcript")?),
            created_at: row.try_get("created_at")?,
            id,
        })
    }

    async fn facilitator_ids(&self, group_id: &str) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT facilitator_id FROM group_facilitators WHERE group_id = ? \
             ORDER BY position, facilitator_id",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("facilitator_id").map_err(Into::into))
            .collect()
    }

    async fn require_group(&self, id: &str) -> StoreResult<Group> {
        self.group(id).await?.ok_or(StoreError::NotFound)
    }
}

fn resources_json(input: &GroupInput) -> StoreResult<String> {
    serde_json::to_string(&input.support_resources).map_err(|e| StoreError::Other(e.into()))
}

fn not_found_unless_changed(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM facilitators) + (SELECT COUNT(*) FROM groups) AS n",
        )
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
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
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&f.id)
        .bind(&f.email)
        .bind(&f.name)
        .bind(password_hash)
        .bind(crate::now_ms())
        .execute(&self.writer)
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
            sqlx::query("SELECT id, email, name, password_hash FROM facilitators WHERE email = ?")
                .bind(email.trim().to_lowercase())
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => Ok(Some((facilitator_from(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    async fn facilitator(&self, id: &str) -> StoreResult<Option<Facilitator>> {
        let row = sqlx::query("SELECT id, email, name FROM facilitators WHERE id = ?")
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
        sqlx::query("DELETE FROM login_tokens WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.writer)
            .await?;
        sqlx::query(
            "INSERT INTO login_tokens (token_hash, facilitator_id, created_at, expires_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(facilitator_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
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
             WHERE t.token_hash = ? AND t.expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(facilitator_from).transpose()?)
    }

    async fn delete_login_token(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn create_group(&self, facilitator_id: &str, input: &GroupInput) -> StoreResult<Group> {
        let id = crate::auth::new_id("g");
        let code = input.access_code_hash.clone().flatten();
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO groups (id, name, description, agreement, timezone, capacity, \
             access_code_hash, support_resources, keep_transcript, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&input.name)
        .bind(&input.description)
        .bind(&input.agreement)
        .bind(&input.timezone)
        .bind(i64::from(input.capacity))
        .bind(code)
        .bind(resources_json(input)?)
        .bind(i64::from(input.keep_transcript))
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO group_facilitators (group_id, facilitator_id, position) VALUES (?, ?, 0)",
        )
        .bind(&id)
        .bind(facilitator_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.require_group(&id).await
    }

    async fn update_group(&self, id: &str, input: &GroupInput) -> StoreResult<Group> {
        let _cache = self.cache_lock.lock().await;
        let result =
            match &input.access_code_hash {
                None => sqlx::query(
                    "UPDATE groups SET name = ?, description = ?, agreement = ?, timezone = ?, \
                     capacity = ?, support_resources = ?, keep_transcript = ? WHERE id = ?",
                )
                .bind(&input.name)
                .bind(&input.description)
                .bind(&input.agreement)
                .bind(&input.timezone)
                .bind(i64::from(input.capacity))
                .bind(resources_json(input)?)
                .bind(i64::from(input.keep_transcript))
                .bind(id)
                .execute(&self.writer)
                .await?,
                Some(code) => sqlx::query(
                    "UPDATE groups SET name = ?, description = ?, agreement = ?, timezone = ?, \
                     capacity = ?, support_resources = ?, keep_transcript = ?, \
                     access_code_hash = ? WHERE id = ?",
                )
                .bind(&input.name)
                .bind(&input.description)
                .bind(&input.agreement)
                .bind(&input.timezone)
                .bind(i64::from(input.capacity))
                .bind(resources_json(input)?)
                .bind(i64::from(input.keep_transcript))
                .bind(code.as_deref())
                .bind(id)
                .execute(&self.writer)
                .await?,
            };
        self.groups.remove(id);
        drop(_cache);
        not_found_unless_changed(result.rows_affected())?;
        self.require_group(id).await
    }

    async fn group(&self, id: &str) -> StoreResult<Option<Group>> {
        if let Some(g) = self.groups.get(id) {
            return Ok(Some(g.clone()));
        }
        let _fill = self.cache_lock.lock().await;
        let row = sqlx::query(&format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => {
                let group = self.group_from(&r).await?;
                cache_put(&self.groups, id, &group);
                Ok(Some(group))
            }
            None => Ok(None),
        }
    }

    async fn access_code_hash(&self, group_id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT access_code_hash FROM groups WHERE id = ?")
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
            "SELECT {GROUP_COLUMNS} FROM groups WHERE id IN \
             (SELECT group_id FROM group_facilitators WHERE facilitator_id = ?) \
             ORDER BY created_at, id"
        ))
        .bind(facilitator_id)
        .fetch_all(&self.pool)
        .await?;
        let mut groups = Vec::with_capacity(rows.len());
        for r in &rows {
            groups.push(self.group_from(r).await?);
        }
        Ok(groups)
    }

    async fn delete_group(&self, id: &str) -> StoreResult<()> {
        let _cache = self.cache_lock.lock().await;
        // Sessions, participants, bans and facilitator links go with it
        // (ON DELETE CASCADE); the audit log stays.
        let result = sqlx::query("DELETE FROM groups WHERE id = ?")
            .bind(id)
            .execute(&self.writer)
            .await?;
        self.groups.remove(id);
        self.sessions.retain(|_, s| s.group_id != id);
        not_found_unless_changed(result.rows_affected())
    }

    async fn set_group_facilitators(
        &self,
        group_id: &str,
        facilitator_ids: &[String],
    ) -> StoreResult<()> {
        let _cache = self.cache_lock.lock().await;
        self.groups.remove(group_id);
        let mut tx = self.writer.begin().await?;
        let exists = sqlx::query("SELECT id FROM groups WHERE id = ?")
            .bind(group_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM group_facilitators WHERE group_id = ?")
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        let mut seen = std::collections::HashSet::new();
        let mut position: i64 = 0;
        for fid in facilitator_ids {
            if !seen.insert(fid.as_str()) {
                continue;
            }
            sqlx::query(
                "INSERT INTO group_facilitators (group_id, facilitator_id, position) \
                 VALUES (?, ?, ?)",
            )
            .bind(group_id)
            .bind(fid)
            .bind(position)
            .execute(&mut *tx)
            .await?;
            position += 1;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn is_group_facilitator(
        &self,
        group_id: &str,
        facilitator_id: &str,
    ) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM group_facilitators WHERE group_id = ? AND facilitator_id = ?",
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
        let mut tx = self.writer.begin().await?;
        let mut created = Vec::with_capacity(times.len());
        for &(starts_at, ends_at) in times {
            let record = SessionRecord {
                id: crate::auth::new_id("s"),
                group_id: group_id.to_string(),
                starts_at,
                ends_at,
                started_at: None,
                ended_at: None,
                cancelled: false,
                locked: false,
            };
            let result = sqlx::query(
                "INSERT INTO sessions (id, group_id, starts_at, ends_at, cancelled, locked, \
                 created_at) VALUES (?, ?, ?, ?, 0, 0, ?)",
            )
            .bind(&record.id)
            .bind(group_id)
            .bind(starts_at)
            .bind(ends_at)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match result {
                Ok(_) => {}
                Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                    return Err(StoreError::NotFound)
                }
                Err(e) => return Err(e.into()),
            }
            created.push(record);
        }
        tx.commit().await?;
        Ok(created)
    }

    async fn session(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
        if let Some(s) = self.sessions.get(id) {
            return Ok(Some(s.clone()));
        }
        let _fill = self.cache_lock.lock().await;
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let record = row.as_ref().map(session_from).transpose()?;
        if let Some(r) = &record {
            cache_put(&self.sessions, id, r);
        }
        Ok(record)
    }

    async fn sessions_of_group(
        &self,
        group_id: &str,
        after: i64,
    ) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE group_id = ? AND ends_at > ? \
             ORDER BY starts_at, id"
        ))
        .bind(group_id)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(session_from).collect::<Result<_, _>>()?)
    }

    async fn cancel_session(&self, id: &str) -> StoreResult<()> {
        let _cache = self.cache_lock.lock().await;
        let result = sqlx::query("UPDATE sessions SET cancelled = 1 WHERE id = ?")
            .bind(id)
            .execute(&self.writer)
            .await?;
        self.sessions.remove(id);
        not_found_unless_changed(result.rows_affected())
    }

    async fn set_session_started(&self, id: &str, at: Option<i64>) -> StoreResult<()> {
        let _cache = self.cache_lock.lock().await;
        let result = sqlx::query("UPDATE sessions SET started_at = ? WHERE id = ?")
            .bind(at)
            .bind(id)
            .execute(&self.writer)
            .await?;
        self.sessions.remove(id);
        not_found_unless_changed(result.rows_affected())
    }

    async fn set_session_ended(&self, id: &str, at: i64) -> StoreResult<()> {
        let _cache = self.cache_lock.lock().await;
        // The first end wins: a later call keeps the original time.
        let result =
            sqlx::query("UPDATE sessions SET ended_at = COALESCE(ended_at, ?) WHERE id = ?")
                .bind(at)
                .bind(id)
                .execute(&self.writer)
                .await?;
        self.sessions.remove(id);
        not_found_unless_changed(result.rows_affected())
    }

    async fn set_session_locked(&self, id: &str, locked: bool) -> StoreResult<()> {
        let _cache = self.cache_lock.lock().await;
        let result = sqlx::query("UPDATE sessions SET locked = ? WHERE id = ?")
            .bind(i64::from(locked))
            .bind(id)
            .execute(&self.writer)
            .await?;
        self.sessions.remove(id);
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
        let record = ParticipantRecord {
            id: crate::auth::new_id("p"),
            session_id: session_id.to_string(),
            name: name.to_string(),
            removed: false,
            joined_at: now,
            arrived_at: None,
        };
        // One statement, and SQLite runs one writer at a time (this store
        // has a single writer connection): the count and the insert cannot
        // race another join. A PostgreSQL backend would lock the session row.
        let inserted = sqlx::query(&format!(
            "INSERT INTO participants \
             (id, session_id, name, token_hash, device_hash, address_hash, removed, joined_at) \
             SELECT ?, ?, ?, ?, ?, ?, 0, ? \
             WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?) \
             AND ({HOLDING_PLACE}) < ?",
        ))
        .bind(&record.id)
        .bind(session_id)
        .bind(name)
        .bind(token_hash)
        .bind(device_hash)
        .bind(address_hash)
        .bind(now)
        .bind(session_id)
        .bind(session_id)
        .bind(session_id)
        .bind(held_since)
        .bind(i64::from(capacity))
        .execute(&self.writer)
        .await?;
        if inserted.rows_affected() == 0 && self.session(session_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        if inserted.rows_affected() == 0 {
            Ok(JoinOutcome::Full)
        } else {
            Ok(JoinOutcome::Joined(record))
        }
    }

    async fn participant_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<ParticipantRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(participant_from).transpose()?)
    }

    async fn participant(&self, id: &str) -> StoreResult<Option<ParticipantRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(participant_from).transpose()?)
    }

    async fn count_participants(&self, session_id: &str, held_since: i64) -> StoreResult<u32> {
        let row = sqlx::query(&format!("SELECT ({HOLDING_PLACE}) AS n"))
            .bind(session_id)
            .bind(session_id)
            .bind(held_since)
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn mark_arrived(&self, participant_id: &str, at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE participants SET arrived_at = ? WHERE id = ? AND arrived_at IS NULL")
            .bind(at)
            .bind(participant_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn participants_of_session(
        &self,
        session_id: &str,
    ) -> StoreResult<Vec<ParticipantRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE session_id = ? \
             ORDER BY joined_at, id"
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
        let mut tx = self.writer.begin().await?;
        let result = sqlx::query("UPDATE participants SET removed = 1 WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        not_found_unless_changed(result.rows_affected())?;
        if ban {
            let row = sqlx::query(
                "SELECT s.group_id, p.device_hash, p.address_hash FROM participants p \
                 JOIN sessions s ON s.id = p.session_id WHERE p.id = ?",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let group_id: String = row.try_get("group_id")?;
            let device_hash: Option<String> = row.try_get("device_hash")?;
            let address_hash: Option<String> = row.try_get("address_hash")?;
            sqlx::query(
                "INSERT INTO bans \
                 (id, group_id, participant_id, device_hash, address_hash, banned_by, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
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
            "SELECT 1 AS one FROM bans b WHERE b.group_id = ? AND \
             ((b.device_hash IS NOT NULL AND b.device_hash = ?) OR \
              (b.address_hash IS NOT NULL AND b.address_hash = ? AND NOT EXISTS ( \
                 SELECT 1 FROM participants p JOIN sessions s ON s.id = p.session_id \
                 WHERE s.group_id = b.group_id AND p.device_hash IS NOT NULL \
                 AND p.device_hash = ? AND p.joined_at < b.created_at))) LIMIT 1",
        )
        .bind(group_id)
        .bind(device_hash)
        .bind(address_hash)
        .bind(device_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn removed_participants(&self, session_id: &str) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM participants WHERE session_id = ? AND removed = 1 ORDER BY id",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<Result<_, _>>()?)
    }

    async fn save_snapshot(&self, session_id: &str, data: &str, at: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO session_snapshots (session_id, data, saved_at) VALUES (?, ?, ?) \
             ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at",
        )
        .bind(session_id)
        .bind(data)
        .bind(at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn load_snapshot(&self, session_id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT data FROM session_snapshots WHERE session_id = ?")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>("data")).transpose()?)
    }

    async fn audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log \
             (id, group_id, session_id, facilitator_id, action, target, detail, at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(crate::auth::new_id("a"))
        .bind(&entry.group_id)
        .bind(&entry.session_id)
        .bind(&entry.facilitator_id)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.detail)
        .bind(entry.at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn audit_log(&self, group_id: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT group_id, session_id, facilitator_id, action, target, detail, at \
             FROM audit_log WHERE group_id = ? ORDER BY at DESC, id DESC LIMIT ?",
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
mod rows;
use rows::{audit_from, b, facilitator_from, participant_from, session_from};

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
