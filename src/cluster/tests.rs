//! The renewal round and the watchdog of [`Cluster`], on a SQLite store
//! (it implements the same leases): a session whose lease could not be
//! renewed stops after two thirds of the lease, not before (the test sets
//! when it was last renewed: no waiting); one whose renewal was refused
//! stops at once.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::store::{GroupInput, Store};

const LEASE: Duration = Duration::from_secs(6);

struct Node {
    cluster: Arc<Cluster>,
    store: Arc<dyn Store>,
    record: SessionRecord,
    _dir: tempfile::TempDir,
}

async fn node() -> Node {
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
    let now = crate::now_ms();
    let record = store
        .create_sessions(&g.id, &[(now - 60_000, now + 3_600_000)])
        .await
        .expect("session")
        .remove(0);
    let settings = Arc::new(Settings::for_tests(url));
    let sessions = Arc::new(Registry::new(
        settings,
        store.clone(),
        CancellationToken::new(),
        crate::clock::system(),
    ));
    let cluster = Arc::new(Cluster {
        node_id: "n1".into(),
        node_url: "http://127.0.0.1:1".into(),
        lease: LEASE,
        store: store.clone(),
        sessions,
        held: std::sync::Mutex::new(HashMap::new()),
        taking: tokio::sync::Mutex::new(()),
        reachable: AtomicBool::new(true),
    });
    Node {
        cluster,
        store,
        record,
        _dir: dir,
    }
}

#[tokio::test]
async fn a_session_taken_here_runs_under_its_token_and_is_renewed() {
    let n = node().await;
    let handle = n.cluster.handle_for(&n.record).await.expect("taken");
    let token = handle.lease().expect("under a lease").token;
    let owner = n.store.lease_owner(&n.record.id).await.expect("owner");
    assert_eq!(
        owner.map(|o| (o.node_id, o.token)),
        Some(("n1".into(), token))
    );
    // A second socket gets the same actor, no new take.
    let again = n.cluster.handle_for(&n.record).await.expect("same");
    assert_eq!(again.lease(), handle.lease());
    n.cluster.renew().await;
    assert!(n.cluster.reachable());
    assert_eq!(n.cluster.held_count(), 1);
    assert!(n.cluster.sessions.get(&n.record.id).is_some());
}

#[tokio::test]
async fn a_session_whose_renewal_was_refused_stops_at_once() {
    let n = node().await;
    n.cluster.handle_for(&n.record).await.expect("taken");
    // Another node took it over (as after this node froze): a new token.
    // (n1's lease runs out: taken again under n1 with no time left; n2
    // takes it then.)
    let store = n.store.clone();
    store
        .acquire_lease(&n.record.id, "n1", "http://n1", -1_000)
        .await
        .expect("expire")
        .expect("its own");
    store
        .acquire_lease(&n.record.id, "n2", "http://n2", 60_000)
        .await
        .expect("n2 takes")
        .expect("free");
    n.cluster.renew().await;
    assert!(
        n.cluster.sessions.get(&n.record.id).is_none(),
        "stopped here"
    );
    assert_eq!(n.cluster.held_count(), 0);
}

/// Backdates the session's last take or renewal by `ago`.
fn last_renewed(n: &Node, ago: Duration) {
    let mut held = n.cluster.held();
    let h = held.get_mut(&n.record.id).expect("held");
    h.since = Instant::now() - ago;
}

#[tokio::test]
async fn without_the_database_a_session_stops_after_two_thirds_of_its_lease() {
    let n = node().await;
    n.cluster.handle_for(&n.record).await.expect("taken");
    // The database is gone: a renewal round fails and extends nothing.
    n.store.close().await;
    last_renewed(&n, Duration::from_secs(1));
    n.cluster.renew().await;
    assert!(!n.cluster.reachable(), "the renewal failed");
    let since = n.cluster.held()[&n.record.id].since;
    assert!(since.elapsed() >= Duration::from_secs(1), "not extended");
    // Just short of two thirds of the lease since the last renewal was
    // sent: still safe to run.
    last_renewed(&n, LEASE * 2 / 3 - Duration::from_millis(100));
    n.cluster.watchdog();
    assert!(n.cluster.sessions.get(&n.record.id).is_some(), "still runs");
    // Two thirds: stopped, a third of the lease before it can have run out.
    last_renewed(&n, LEASE * 2 / 3);
    n.cluster.watchdog();
    assert!(
        n.cluster.sessions.get(&n.record.id).is_none(),
        "stopped before the lease can have run out"
    );
    assert_eq!(n.cluster.held_count(), 0);
}
