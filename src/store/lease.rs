//! Session leases: which node owns each live session when several nodes
//! share one PostgreSQL database (`crate::cluster`), and the snapshot writes
//! fenced by them. Both stores implement it (SQLite so that the one
//! conformance suite covers it; a single SQLite node never takes leases).
//!
//! The rules, each kept by one SQL statement so that the database, not a
//! node, decides:
//! - a lease is taken only when nobody holds it, or its holder's lease ran
//!   out by the **database's** clock (or the taker is its holder: a node
//!   that restarted under the same id takes a new token);
//! - every take adds one to the session's token: tokens only grow, even
//!   across releases (a release keeps the row and moves `expires_at` into
//!   the past);
//! - a renewal succeeds only for leases still current (same token, not yet
//!   expired): a late renewal loses;
//! - a fenced snapshot is written only under the current, unexpired token.

use async_trait::async_trait;
use sqlx::Row;

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::StoreResult;

/// Who holds a session's lease, as the database sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOwner {
    pub node_id: String,
    /// Where other nodes relay this session's sockets.
    pub node_url: String,
    pub token: i64,
    /// Not yet expired (by the database's clock).
    pub live: bool,
    /// Milliseconds until it expires (negative: since it expired).
    pub expires_in_ms: i64,
}

/// The lease half of the store (a supertrait of [`super::Store`]).
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes the session for `node_id` for `lease_ms`, unless another node
    /// holds an unexpired lease on it: `Some(token)` (greater than every
    /// earlier token of the session) or `None`.
    async fn acquire_lease(
        &self,
        session_id: &str,
        node_id: &str,
        node_url: &str,
        lease_ms: i64,
    ) -> StoreResult<Option<i64>>;
    /// Extends, in one statement, every lease in `held` (session, token)
    /// that `node_id` still holds unexpired; returns the sessions renewed.
    async fn renew_leases(
        &self,
        node_id: &str,
        held: &[(String, i64)],
        lease_ms: i64,
    ) -> StoreResult<Vec<String>>;
    /// Gives the lease up at once (clean stop), if still held under `token`.
    async fn release_lease(&self, session_id: &str, node_id: &str, token: i64) -> StoreResult<()>;
    /// The session's lease holder, if it was ever taken.
    async fn lease_owner(&self, session_id: &str) -> StoreResult<Option<LeaseOwner>>;
    /// Saves (replaces) the session's snapshot only while `token` is its
    /// current, unexpired lease: `Ok(false)` when fenced out.
    async fn save_snapshot_fenced(
        &self,
        session_id: &str,
        token: i64,
        data: &str,
        at: i64,
    ) -> StoreResult<bool>;
}

/// Now in unix milliseconds, by SQLite's clock (`julianday` is fixed for
/// the whole statement).
const SQLITE_NOW: &str = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
/// Now in unix milliseconds, by PostgreSQL's clock.
const PG_NOW: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

#[async_trait]
impl Leases for SqliteStore {
    async fn acquire_lease(
        &self,
        session_id: &str,
        node_id: &str,
        node_url: &str,
        lease_ms: i64,
    ) -> StoreResult<Option<i64>> {
        let sql = format!(
            "INSERT INTO session_lease (session_id, node_id, node_url, token, expires_at) \
             VALUES (?1, ?2, ?3, 1, {SQLITE_NOW} + ?4) \
             ON CONFLICT (session_id) DO UPDATE SET node_id = excluded.node_id, \
             node_url = excluded.node_url, token = session_lease.token + 1, \
             expires_at = excluded.expires_at \
             WHERE session_lease.expires_at < {SQLITE_NOW} OR session_lease.node_id = excluded.node_id \
             RETURNING token"
        );
        let row = sqlx::query(&sql)
            .bind(session_id)
            .bind(node_id)
            .bind(node_url)
            .bind(lease_ms)
            .fetch_optional(&self.writer)
            .await?;
        Ok(row.map(|r| r.try_get::<i64, _>("token")).transpose()?)
    }

    async fn renew_leases(
        &self,
        node_id: &str,
        held: &[(String, i64)],
        lease_ms: i64,
    ) -> StoreResult<Vec<String>> {
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(held).map_err(|e| super::StoreError::Other(e.into()))?;
        let sql = format!(
            "UPDATE session_lease SET expires_at = {SQLITE_NOW} + ?1 \
             WHERE node_id = ?2 AND expires_at >= {SQLITE_NOW} AND (session_id, token) IN \
             (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?3)) \
             RETURNING session_id"
        );
        let rows = sqlx::query(&sql)
            .bind(lease_ms)
            .bind(node_id)
            .bind(list)
            .fetch_all(&self.writer)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get::<String, _>("session_id"))
            .collect::<Result<_, _>>()?)
    }

    async fn release_lease(&self, session_id: &str, node_id: &str, token: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE session_lease SET expires_at = 0 \
             WHERE session_id = ? AND node_id = ? AND token = ?",
        )
        .bind(session_id)
        .bind(node_id)
        .bind(token)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn lease_owner(&self, session_id: &str) -> StoreResult<Option<LeaseOwner>> {
        let sql = format!(
            "SELECT node_id, node_url, token, expires_at >= {SQLITE_NOW} AS live, \
             expires_at - {SQLITE_NOW} AS expires_in \
             FROM session_lease WHERE session_id = ?"
        );
        let row = sqlx::query(&sql)
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(LeaseOwner {
            node_id: r.try_get("node_id")?,
            node_url: r.try_get("node_url")?,
            token: r.try_get("token")?,
            live: r.try_get::<bool, _>("live")?,
            expires_in_ms: r.try_get("expires_in")?,
        }))
    }

    async fn save_snapshot_fenced(
        &self,
        session_id: &str,
        token: i64,
        data: &str,
        at: i64,
    ) -> StoreResult<bool> {
        // One writer at a time: the check and the write are one statement.
        let sql = format!(
            "INSERT INTO session_snapshots (session_id, data, saved_at) \
             SELECT session_id, ?2, ?3 FROM session_lease \
             WHERE session_id = ?1 AND token = ?4 AND expires_at >= {SQLITE_NOW} \
             ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at"
        );
        let done = sqlx::query(&sql)
            .bind(session_id)
            .bind(data)
            .bind(at)
            .bind(token)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl Leases for PgStore {
    async fn acquire_lease(
        &self,
        session_id: &str,
        node_id: &str,
        node_url: &str,
        lease_ms: i64,
    ) -> StoreResult<Option<i64>> {
        // Two nodes taking at once: the row lock of ON CONFLICT queues the
        // second, which then sees the first's unexpired lease and gets none.
        let sql = format!(
            "INSERT INTO session_lease (session_id, node_id, node_url, token, expires_at) \
             VALUES ($1, $2, $3, 1, {PG_NOW} + $4) \
             ON CONFLICT (session_id) DO UPDATE SET node_id = excluded.node_id, \
             node_url = excluded.node_url, token = session_lease.token + 1, \
             expires_at = excluded.expires_at \
             WHERE session_lease.expires_at < {PG_NOW} OR session_lease.node_id = excluded.node_id \
             RETURNING token"
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(session_id)
            .bind(node_id)
            .bind(node_url)
            .bind(lease_ms)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn renew_leases(
        &self,
        node_id: &str,
        held: &[(String, i64)],
        lease_ms: i64,
    ) -> StoreResult<Vec<String>> {
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let sessions: Vec<&str> = held.iter().map(|(s, _)| s.as_str()).collect();
        let tokens: Vec<i64> = held.iter().map(|(_, t)| *t).collect();
        let sql = format!(
            "UPDATE session_lease l SET expires_at = {PG_NOW} + $1 \
             FROM UNNEST($3::TEXT[], $4::BIGINT[]) AS h(session_id, token) \
             WHERE l.session_id = h.session_id AND l.token = h.token \
             AND l.node_id = $2 AND l.expires_at >= {PG_NOW} \
             RETURNING l.session_id"
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(lease_ms)
            .bind(node_id)
            .bind(&sessions)
            .bind(&tokens)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn release_lease(&self, session_id: &str, node_id: &str, token: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE session_lease SET expires_at = 0 \
             WHERE session_id = $1 AND node_id = $2 AND token = $3",
        )
        .bind(session_id)
        .bind(node_id)
        .bind(token)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn lease_owner(&self, session_id: &str) -> StoreResult<Option<LeaseOwner>> {
        let sql = format!(
            "SELECT node_id, node_url, token, expires_at >= {PG_NOW} AS live, \
             expires_at - {PG_NOW} AS expires_in \
             FROM session_lease WHERE session_id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(LeaseOwner {
            node_id: r.try_get("node_id")?,
            node_url: r.try_get("node_url")?,
            token: r.try_get("token")?,
            live: r.try_get("live")?,
            expires_in_ms: r.try_get("expires_in")?,
        }))
    }

    async fn save_snapshot_fenced(
        &self,
        session_id: &str,
        token: i64,
        data: &str,
        at: i64,
    ) -> StoreResult<bool> {
        // FOR SHARE: a take that is changing the lease row right now waits
        // for this write, or this write waits for the take and then sees
        // the new token (and writes nothing). A new owner therefore never
        // loads a snapshot that an old owner overwrites afterwards.
        let sql = format!(
            "INSERT INTO session_snapshots (session_id, data, saved_at) \
             SELECT l.session_id, $2, $3 FROM session_lease l \
             WHERE l.session_id = $1 AND l.token = $4 AND l.expires_at >= {PG_NOW} \
             FOR SHARE \
             ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at"
        );
        let done = sqlx::query(&sql)
            .bind(session_id)
            .bind(data)
            .bind(at)
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
