//! Tests of what only the SQLite store does (kept apart so `sqlite.rs` stays
//! readable). What every store must do (groups, sessions, joins and their
//! holds, bans, tokens, the audit log, snapshots) is checked for SQLite and
//! PostgreSQL alike by `tests/store_conformance.rs`.

use super::*;

#[test]
fn memory_urls_are_recognised() {
    assert!(is_in_memory("sqlite::memory:"));
    assert!(is_in_memory("sqlite://:memory:"));
    assert!(!is_in_memory("sqlite://./data/peercircle.db"));
}
