//! What the retention job hands the store ([`Cutoffs`]) and what it gets
//! back ([`Expired`]); the statements are in each backend
//! (`sqlite/retention.rs`, `postgres/retention.rs`). What is kept and for
//! how long is explained in `docs/privacy.md`.

use serde::{Deserialize, Serialize};

/// Unix-ms instants before which data is past its time. A session "ended"
/// at its `ended_at`, or at its scheduled end when nobody ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutoffs {
    /// Participants (pseudonym, token hash, device and address hashes) of
    /// sessions that ended before this are deleted.
    pub joins_before: i64,
    /// Saved snapshots of sessions that ended before this are deleted.
    pub snapshots_before: i64,
    /// Audit entries made before this are deleted.
    pub audit_before: i64,
    /// Bans made before this are deleted.
    pub bans_before: i64,
    /// Login tokens that expired before this are deleted.
    pub now: i64,
}

/// Rows deleted by one [`super::Store::expire`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expired {
    pub participants: u64,
    pub snapshots: u64,
    pub audit: u64,
    pub bans: u64,
    pub login_tokens: u64,
}

impl Expired {
    /// Every count, with a fixed name (for metrics and logs).
    pub fn counts(&self) -> [(&'static str, u64); 5] {
        [
            ("participants", self.participants),
            ("snapshots", self.snapshots),
            ("audit", self.audit),
            ("bans", self.bans),
            ("login_tokens", self.login_tokens),
        ]
    }
}

/// `?, ?, …` for `n` values (SQLite), or `$from, $from+1, …` (PostgreSQL).
pub(super) fn placeholders(n: usize, numbered_from: Option<usize>) -> String {
    (0..n)
        .map(|i| match numbered_from {
            Some(start) => format!("${}", start + i),
            None => "?".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
