//! The writer under a lease: stored changes and snapshots land only while
//! the lease is this actor's (SQLite store: it holds the same leases).

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::store::GroupInput;

async fn session() -> (Arc<dyn Store>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let store = crate::store::connect(&url).await.expect("store");
    let f = store
        .create_facilitator("a@example.org", "A", "h")
        .await
        .expect("facilitator");
    let input = GroupInput {
        name: "Group".into(),
        description: String::new(),
        agreement: "Be kind.".into(),
        timezone: "Europe/London".into(),
        capacity: 8,
        access_code_hash: None,
        support_resources: Vec::new(),
        keep_transcript: false,
    };
    let g = store.create_group(&f.id, &input).await.expect("group");
    let s = store
        .create_sessions(&g.id, &[(1_000, 9_000_000_000_000)])
        .await
        .expect("session")
        .remove(0);
    (store, s.id, dir)
}

#[tokio::test]
async fn after_a_takeover_the_old_writer_changes_nothing_and_says_so() {
    let (store, sid, _dir) = session().await;
    let token = store
        .acquire_lease(&sid, "n1", "http://n1", 60_000)
        .await
        .expect("take")
        .expect("free");
    let writer = StoreWriter::spawn(store.clone(), sid.clone(), Some(token));
    let snapshot = |json: &str| Effect::Snapshot {
        json: json.into(),
        at: 1,
    };
    writer
        .durable(vec![Effect::Locked { on: true }, snapshot("{\"n\":1}")])
        .await
        .expect("stored while the lease is ours");
    let record = store.session(&sid).await.expect("read").expect("session");
    assert!(record.locked);
    // n1's lease runs out and n2 takes the session over.
    store
        .acquire_lease(&sid, "n1", "http://n1", -1_000)
        .await
        .expect("expire")
        .expect("its own");
    store
        .acquire_lease(&sid, "n2", "http://n2", 60_000)
        .await
        .expect("n2")
        .expect("free");
    let refused = writer
        .durable(vec![Effect::Locked { on: false }, snapshot("{\"n\":2}")])
        .await;
    assert!(refused.is_err(), "a stored change is refused");
    let record = store.session(&sid).await.expect("read").expect("session");
    assert!(record.locked, "the old owner did not unlock it");
    assert_eq!(
        store.load_snapshot(&sid).await.expect("load").as_deref(),
        Some("{\"n\":1}"),
        "nor saved its state"
    );
    assert!(!writer.snapshot_pending());
    // The actor hears of it (and stops).
    tokio::time::timeout(Duration::from_secs(5), writer.fenced_out())
        .await
        .expect("told it was fenced out");
    // A plain snapshot is refused by the database as well.
    writer.submit(vec![snapshot("{\"n\":3}")]).await;
    writer.finish().await;
    assert_eq!(
        store.load_snapshot(&sid).await.expect("load").as_deref(),
        Some("{\"n\":1}")
    );
}
