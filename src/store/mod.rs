//! The store: everything peercircle keeps on disk, behind one small async
//! interface ([`Store`]) with two backends, chosen by the database URL in
//! [`connect`]: SQLite (one node, the default) and PostgreSQL (several nodes
//! sharing one database). The handlers never know which one they talk to.
//!
//! It keeps facilitators, groups (and their co-facilitators), sessions,
//! participants of a session (pseudonym, hashed token, removed), bans per
//! group and the audit log of facilitator actions. It must never store
//! message text: that lives only in the session actor's memory.
//! Times are unix milliseconds (`i64`) so every backend stores them alike.

pub mod lease;
pub mod postgres;
mod retention;
pub mod sqlite;

pub use lease::{LeaseOwner, Leases};
pub use retention::{Cutoffs, Expired};

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Opens the store named by `url`, creating or updating its schema:
/// `postgres://…` or `postgresql://…` opens [`postgres::PgStore`]; `sqlite:…`
/// or a bare file path opens [`sqlite::SqliteStore`] (the default). Any other
/// scheme is refused rather than mistaken for a file name.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    match Backend::of(url) {
        Some(Backend::Sqlite) => Ok(Arc::new(sqlite::SqliteStore::connect(url).await?)),
        Some(Backend::Postgres) => Ok(Arc::new(postgres::PgStore::connect(url).await?)),
        None => anyhow::bail!(
            "unsupported database URL {}: use sqlite://PATH or postgres://USER@HOST/DATABASE",
            redact_url(url)
        ),
    }
}

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend of `url`, or `None` for a scheme neither store speaks.
    pub fn of(url: &str) -> Option<Backend> {
        let scheme = url
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase())
            .filter(|s| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            });
        match scheme.as_deref() {
            Some("postgres" | "postgresql") => Some(Backend::Postgres),
            Some("sqlite") => Some(Backend::Sqlite),
            // A bare path (`./data/x.db`, or `C:\x.db` on Windows): SQLite,
            // as before there was a second backend.
            None => Some(Backend::Sqlite),
            Some(_) if !url.contains("://") => Some(Backend::Sqlite),
            Some(_) => None,
        }
    }
}

/// `url` with any password replaced by `***`, safe to print or log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let shown_authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    // A password may also ride in the query string (`?password=…`).
    let tail = match tail.find("password=") {
        Some(at) => {
            let value_start = at + "password=".len();
            let value_end = tail[value_start..]
                .find('&')
                .map_or(tail.len(), |n| value_start + n);
            format!("{}***{}", &tail[..value_start], &tail[value_end..])
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{shown_authority}{tail}")
}

/// A store failure, mapped once to the HTTP error in `crate::error`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A facilitator account (the password hash never leaves the store).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Facilitator {
    pub id: String,
    pub email: String,
    pub name: String,
}

pub use crate::domain::SupportResource;

/// A group: the standing thing that meets week after week.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub agreement: String,
    pub timezone: String,
    pub capacity: u32,
    /// Whether joining needs an access code (the code itself is stored hashed).
    pub has_access_code: bool,
    pub support_resources: Vec<SupportResource>,
    /// Facilitator ids, the creator first.
    pub facilitators: Vec<String>,
    /// Keep a transcript on disk (off by default; nothing uses it yet).
    pub keep_transcript: bool,
    pub created_at: i64,
}

/// One occurrence of a group meeting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionRecord {
    pub id: String,
    pub group_id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// Set when a facilitator started it.
    pub started_at: Option<i64>,
    /// Set when it ended (by a facilitator, or at its end time by the actor).
    pub ended_at: Option<i64>,
    pub cancelled: bool,
    pub locked: bool,
}

/// Where a session stands, derived from the clock and stored transitions
/// (not to be confused with the live phase on the socket, `protocol::Phase`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RecordPhase {
    Scheduled,
    Lobby,
    Live,
    Ended,
}

impl SessionRecord {
    /// The phase at `now`, with the lobby opening `lobby_ms` before the start.
    /// A session that nobody started stays in the lobby until its end time.
    pub fn phase(&self, now: i64, lobby_ms: i64) -> RecordPhase {
        if self.cancelled || self.ended_at.is_some() || now >= self.ends_at {
            RecordPhase::Ended
        } else if self.started_at.is_some() {
            RecordPhase::Live
        } else if now >= self.starts_at - lobby_ms {
            RecordPhase::Lobby
        } else {
            RecordPhase::Scheduled
        }
    }
}

/// A participant of one session (a pseudonym; the token is stored hashed).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParticipantRecord {
    pub id: String,
    pub session_id: String,
    pub name: String,
    pub removed: bool,
    pub joined_at: i64,
    /// When their first socket arrived; `None`: joined but never connected.
    pub arrived_at: Option<i64>,
}

/// What a facilitator did, for the audit log. Never message text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub group_id: String,
    pub session_id: Option<String>,
    pub facilitator_id: String,
    /// The command or API action, e.g. `mute`, `remove`, `group.update`.
    pub action: String,
    /// The participant acted upon, if any.
    pub target: Option<String>,
    /// Short non-personal detail, e.g. `on=true`, `ban=true`.
    pub detail: Option<String>,
    pub at: i64,
}

/// Fields of a new or updated group (already validated by the API layer).
#[derive(Debug, Clone)]
pub struct GroupInput {
    pub name: String,
    pub description: String,
    pub agreement: String,
    pub timezone: String,
    pub capacity: u32,
    /// `None`: leave as is (update) / no code (create). `Some(None)`: remove the code.
    pub access_code_hash: Option<Option<String>>,
    pub support_resources: Vec<SupportResource>,
    pub keep_transcript: bool,
}

/// Result of trying to add a participant to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinOutcome {
    Joined(ParticipantRecord),
    Full,
}

/// The storage interface the handlers and the session actors use.
#[async_trait]
pub trait Store: Leases + Send + Sync + 'static {
    /// Is the database reachable?
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the connection pool (on shutdown).
    async fn close(&self);
    /// Is there no facilitator and no group yet (first start)?
    async fn is_empty(&self) -> StoreResult<bool>;

    // Facilitators and their login tokens.
    async fn create_facilitator(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<Facilitator>;
    /// The facilitator and their password hash, by e-mail (case-insensitive).
    async fn facilitator_by_email(&self, email: &str)
        -> StoreResult<Option<(Facilitator, String)>>;
    async fn facilitator(&self, id: &str) -> StoreResult<Option<Facilitator>>;
    async fn create_login_token(
        &self,
        facilitator_id: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The facilitator owning an unexpired login token.
    async fn facilitator_by_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Facilitator>>;
    async fn delete_login_token(&self, token_hash: &str) -> StoreResult<()>;

    // Groups.
    async fn create_group(&self, facilitator_id: &str, input: &GroupInput) -> StoreResult<Group>;
    async fn update_group(&self, id: &str, input: &GroupInput) -> StoreResult<Group>;
    async fn group(&self, id: &str) -> StoreResult<Option<Group>>;
    async fn access_code_hash(&self, group_id: &str) -> StoreResult<Option<String>>;
    async fn groups_of(&self, facilitator_id: &str) -> StoreResult<Vec<Group>>;
    async fn delete_group(&self, id: &str) -> StoreResult<()>;
    async fn set_group_facilitators(
        &self,
        group_id: &str,
        facilitator_ids: &[String],
    ) -> StoreResult<()>;
    async fn is_group_facilitator(&self, group_id: &str, facilitator_id: &str)
        -> StoreResult<bool>;

    // Sessions.
    async fn create_sessions(
        &self,
        group_id: &str,
        times: &[(i64, i64)],
    ) -> StoreResult<Vec<SessionRecord>>;
    async fn session(&self, id: &str) -> StoreResult<Option<SessionRecord>>;
    /// Sessions of a group ending after `after`, by start time (cancelled ones included).
    async fn sessions_of_group(
        &self,
        group_id: &str,
        after: i64,
    ) -> StoreResult<Vec<SessionRecord>>;
    async fn cancel_session(&self, id: &str) -> StoreResult<()>;
    async fn set_session_started(&self, id: &str, at: Option<i64>) -> StoreResult<()>;
    async fn set_session_ended(&self, id: &str, at: i64) -> StoreResult<()>;
    async fn set_session_locked(&self, id: &str, locked: bool) -> StoreResult<()>;

    // Participants.
    /// Adds a participant unless the session already has `capacity` who hold
    /// a place (atomic: two joins cannot both take the last place). A place
    /// is held by everyone not removed who arrived, or who joined after
    /// `held_since` (un-arrived joins expire: `join_hold_secs`).
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
    ) -> StoreResult<JoinOutcome>;
    async fn participant_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<ParticipantRecord>>;
    async fn participant(&self, id: &str) -> StoreResult<Option<ParticipantRecord>>;
    /// How many hold a place: not removed, and arrived or joined after
    /// `held_since` (as in [`Store::add_participant`]).
    async fn count_participants(&self, session_id: &str, held_since: i64) -> StoreResult<u32>;
    /// Notes the participant's first socket (later calls keep the first time).
    async fn mark_arrived(&self, participant_id: &str, at: i64) -> StoreResult<()>;
    /// Everyone who joined a session (removed ones too), by join time.
    async fn participants_of_session(
        &self,
        session_id: &str,
    ) -> StoreResult<Vec<ParticipantRecord>>;
    /// Marks the participant removed (their token stops working); with `ban`,
    /// bars their device and address from the group's later sessions.
    async fn remove_participant(&self, id: &str, ban: bool, by: &str, now: i64) -> StoreResult<()>;
    /// Is this device or address banned from the group? A device ban always
    /// counts. An address ban does not count for a device that joined one of
    /// the group's sessions before that ban was made (a regular behind the
    /// same address as someone banned keeps their place); a device never
    /// seen before, or none, is refused by an address ban.
    async fn is_banned(
        &self,
        group_id: &str,
        device_hash: Option<&str>,
        address_hash: Option<&str>,
    ) -> StoreResult<bool>;

    /// Ids of the session's participants who were removed.
    async fn removed_participants(&self, session_id: &str) -> StoreResult<Vec<String>>;

    // Saved live state (JSON of `session::state::SessionSnapshot`, no message text).
    /// Saves (replaces) the session's snapshot.
    async fn save_snapshot(&self, session_id: &str, data: &str, at: i64) -> StoreResult<()>;
    /// The session's latest snapshot, if one was saved.
    async fn load_snapshot(&self, session_id: &str) -> StoreResult<Option<String>>;
    // Leases and the snapshot writes they fence: see [`Leases`].

    // Audit log.
    async fn audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    async fn audit_log(&self, group_id: &str, limit: u32) -> StoreResult<Vec<AuditEntry>>;

    // Retention and erasure (docs/privacy.md).
    /// Erases a person from a group: the participant `participant_id` (who
    /// joined one of the group's sessions) and every other participant of
    /// the group's sessions from the same device (the same person under
    /// other pseudonyms). Their ids leave the group's bans (the hashes stay,
    /// so a ban still holds) and its audit log (entries lose their target),
    /// and the saved snapshots of the sessions they were in are deleted.
    /// `NotFound` when the participant is not in the group; `Conflict`
    /// while one of those sessions has not ended at `now` (it still holds
    /// them in memory). Returns the participant ids erased.
    async fn erase_participant(
        &self,
        group_id: &str,
        participant_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>>;
    /// Deletes a group and everything of it: sessions, participants, bans,
    /// snapshots, facilitator links and its audit log. `NotFound` when there
    /// is no such group.
    async fn erase_group(&self, group_id: &str) -> StoreResult<()>;
    /// Deletes what is past its time (see [`Cutoffs`]) and says how much.
    async fn expire(&self, cutoffs: &Cutoffs) -> StoreResult<Expired>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_chooses_the_backend() {
        for url in [
            "sqlite://./data/peercircle.db",
            "sqlite::memory:",
            "SQLITE://x.db",
            "./data/peercircle.db",
            "peercircle.db",
            "C:\\data\\peercircle.db",
        ] {
            assert_eq!(Backend::of(url), Some(Backend::Sqlite), "{url}");
        }
        for url in [
            "postgres://postgres@127.0.0.1:5432/peercircle",
            "postgresql://u:p@db.example.org/peercircle?sslmode=require",
            "PostgreSQL://db/peercircle",
        ] {
            assert_eq!(Backend::of(url), Some(Backend::Postgres), "{url}");
        }
        assert_eq!(Backend::of("mysql://root@localhost/peercircle"), None);
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_without_its_password() {
        let err = match connect("mysql://root:hunter2@localhost/peercircle").await {
            Ok(_) => panic!("a MySQL URL must not open a store"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("unsupported database URL"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://pc:s3cret@db:5432/peercircle"),
            "postgres://pc:***@db:5432/peercircle"
        );
        assert_eq!(
            redact_url("postgres://pc@db/peercircle?sslmode=require&password=s3cret&x=1"),
            "postgres://pc@db/peercircle?sslmode=require&password=***&x=1"
        );
        assert_eq!(
            redact_url("postgres://pc:p@ss@db/peercircle"),
            "postgres://pc:***@db/peercircle"
        );
        assert_eq!(
            redact_url("postgres://db/peercircle?password=s3cret"),
            "postgres://db/peercircle?password=***"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }
}
