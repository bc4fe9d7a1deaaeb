//! Conformance cases for session leases (which node owns a live session)
//! and the snapshot writes they fence. Expiry is the database's business:
//! a lease that has "already run out" is taken with a negative length, so
//! no case waits on a clock.

use std::sync::Arc;

use peercircle::store::{LeaseOwner, Store};

use super::{group_input, ok, Db};

/// One minute: long enough never to run out during a case.
const LONG: i64 = 60_000;
/// A lease that ran out a second before it was taken.
const GONE: i64 = -1_000;

/// `n` sessions of one group.
async fn sessions(s: &dyn Store, n: usize) -> Vec<String> {
    let f = ok(s.create_facilitator("a@example.org", "A", "h").await, "f");
    let g = ok(s.create_group(&f.id, &group_input(8)).await, "g");
    let times: Vec<(i64, i64)> = (0..n as i64).map(|i| (1_000 + i, 10_000_000 + i)).collect();
    let created = ok(s.create_sessions(&g.id, &times).await, "sessions");
    created.into_iter().map(|r| r.id).collect()
}

pub async fn a_lease_goes_to_one_node_at_a_time_and_tokens_only_grow(db: &Db) {
    let s = db.store();
    let sid = sessions(s.as_ref(), 1).await.remove(0);
    assert_eq!(ok(s.lease_owner(&sid).await, "owner"), None, "never taken");
    let t1 = ok(
        s.acquire_lease(&sid, "a", "http://a", LONG).await,
        "a takes",
    )
    .expect("a free session is taken");
    assert_eq!(
        ok(
            s.acquire_lease(&sid, "b", "http://b", LONG).await,
            "b tries"
        ),
        None,
        "b cannot take what a holds"
    );
    let owner: LeaseOwner = ok(s.lease_owner(&sid).await, "owner").expect("taken");
    assert_eq!(
        (
            owner.node_id.as_str(),
            owner.node_url.as_str(),
            owner.token,
            owner.live
        ),
        ("a", "http://a", t1, true)
    );
    assert!(
        (LONG - 5_000..=LONG).contains(&owner.expires_in_ms),
        "runs out in about a minute: {}",
        owner.expires_in_ms
    );
    // A restarted node under the same id takes a new token (a new epoch).
    let t2 = ok(
        s.acquire_lease(&sid, "a", "http://a", LONG).await,
        "a again",
    )
    .expect("its own lease");
    assert!(t2 > t1, "{t2} > {t1}");
    // A release by an old token changes nothing…
    ok(s.release_lease(&sid, "a", t1).await, "stale release");
    assert_eq!(
        ok(s.acquire_lease(&sid, "b", "http://b", LONG).await, "b"),
        None
    );
    // …a release by the current one frees it at once, and the count goes on.
    ok(s.release_lease(&sid, "a", t2).await, "release");
    let owner = ok(s.lease_owner(&sid).await, "owner").expect("the row stays");
    assert!(
        !owner.live && owner.token == t2 && owner.expires_in_ms < 0,
        "{owner:?}"
    );
    let t3 = ok(
        s.acquire_lease(&sid, "b", "http://b", LONG).await,
        "b takes",
    )
    .expect("a released lease is free");
    assert!(t3 > t2, "{t3} > {t2}");
    let owner = ok(s.lease_owner(&sid).await, "owner").expect("owner");
    assert_eq!(
        (owner.node_id.as_str(), owner.node_url.as_str()),
        ("b", "http://b")
    );
    // An expired lease is taken by anyone, with a greater token still.
    let t4 = ok(
        s.acquire_lease(&sid, "b", "http://b", GONE).await,
        "b short",
    )
    .expect("b again");
    assert!(!ok(s.lease_owner(&sid).await, "owner").expect("row").live);
    let t5 = ok(
        s.acquire_lease(&sid, "c", "http://c", LONG).await,
        "c takes",
    )
    .expect("an expired lease is free");
    assert!(t5 > t4 && t4 > t3, "{t5} > {t4} > {t3}");
    // No lease on a session that does not exist.
    assert!(s
        .acquire_lease("s_doesnotexist0000", "a", "http://a", LONG)
        .await
        .is_err());
}

pub async fn renewals_are_batched_and_a_late_renewal_loses(db: &Db) {
    let s = db.store();
    let ids = sessions(s.as_ref(), 4).await;
    let mut held = Vec::new();
    for sid in &ids[..3] {
        let t = ok(s.acquire_lease(sid, "a", "http://a", LONG).await, "take").expect("free");
        held.push((sid.clone(), t));
    }
    // The fourth ran out before a renewed it: too late, even though nobody
    // took it meanwhile.
    let t = ok(
        s.acquire_lease(&ids[3], "a", "http://a", GONE).await,
        "take",
    )
    .expect("free");
    held.push((ids[3].clone(), t));
    // The third was taken over by b after a's lease on it ran out.
    ok(
        s.acquire_lease(&ids[2], "a", "http://a", GONE).await,
        "a's runs out",
    );
    let (third, old) = held[2].clone();
    ok(
        s.acquire_lease(&third, "b", "http://b", LONG).await,
        "b takes",
    )
    .expect("b");
    let mut renewed = ok(s.renew_leases("a", &held, LONG).await, "renew");
    renewed.sort();
    let mut want = vec![ids[0].clone(), ids[1].clone()];
    want.sort();
    assert_eq!(renewed, want, "only the leases a still holds");
    // b's lease is untouched by a's renewal under the old token…
    let owner = ok(s.lease_owner(&third).await, "owner").expect("owner");
    assert_eq!(owner.node_id, "b");
    assert!(owner.token > old && owner.live);
    // …and another node cannot renew a's leases.
    assert!(ok(s.renew_leases("b", &held[..2], LONG).await, "b renews a's").is_empty());
    assert!(ok(s.renew_leases("a", &[], LONG).await, "nothing").is_empty());
}

pub async fn a_fenced_snapshot_write_is_refused_once_the_lease_moved(db: &Db) {
    let s = db.store();
    let sid = sessions(s.as_ref(), 1).await.remove(0);
    assert!(
        !ok(s.save_snapshot_fenced(&sid, 1, "{}", 1).await, "no lease"),
        "no lease, no write"
    );
    assert_eq!(ok(s.load_snapshot(&sid).await, "load"), None);
    let a = ok(s.acquire_lease(&sid, "a", "http://a", LONG).await, "a").expect("a");
    assert!(ok(
        s.save_snapshot_fenced(&sid, a, r#"{"by":"a"}"#, 2).await,
        "a writes"
    ));
    assert_eq!(
        ok(s.load_snapshot(&sid).await, "load").as_deref(),
        Some(r#"{"by":"a"}"#)
    );
    // a's lease runs out and b takes over: a's next write is refused.
    ok(
        s.acquire_lease(&sid, "a", "http://a", GONE).await,
        "a runs out",
    )
    .expect("a");
    let b = ok(s.acquire_lease(&sid, "b", "http://b", LONG).await, "b").expect("b");
    assert!(ok(
        s.save_snapshot_fenced(&sid, b, r#"{"by":"b"}"#, 3).await,
        "b writes"
    ));
    assert!(
        !ok(
            s.save_snapshot_fenced(&sid, a, r#"{"by":"old a"}"#, 4)
                .await,
            "a"
        ),
        "the old owner is fenced out"
    );
    assert_eq!(
        ok(s.load_snapshot(&sid).await, "load").as_deref(),
        Some(r#"{"by":"b"}"#),
        "the new owner's snapshot stands"
    );
    // An expired lease fences its own holder out too.
    let c = ok(
        s.acquire_lease(&sid, "b", "http://b", GONE).await,
        "b runs out",
    )
    .expect("b");
    assert!(!ok(
        s.save_snapshot_fenced(&sid, c, "{}", 5).await,
        "expired"
    ));
    assert_eq!(
        ok(s.load_snapshot(&sid).await, "load").as_deref(),
        Some(r#"{"by":"b"}"#)
    );
}

/// Eight nodes ask for the same free sessions at the same moment: each
/// session goes to exactly one of them.
pub async fn nodes_taking_a_session_at_once_get_one_lease(db: &Db) {
    const NODES: usize = 8;
    let first = db.store();
    let ids = sessions(first.as_ref(), 5).await;
    let mut handles = vec![first];
    if db.is_postgres() {
        for _ in 1..4 {
            handles.push(db.open().await);
        }
    }
    for sid in ids {
        let barrier = Arc::new(tokio::sync::Barrier::new(NODES));
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..NODES {
            let store = handles[n % handles.len()].clone();
            let barrier = barrier.clone();
            let sid = sid.clone();
            tasks.spawn(async move {
                barrier.wait().await;
                let node = format!("n{n}");
                let got = store.acquire_lease(&sid, &node, "http://n", LONG).await;
                (node, got)
            });
        }
        let mut winners = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (node, got) = ok(done, "task");
            if let Some(token) = ok(got, "take") {
                winners.push((node, token));
            }
        }
        assert_eq!(winners.len(), 1, "one owner: {winners:?}");
        let owner = ok(handles[0].lease_owner(&sid).await, "owner").expect("owner");
        assert_eq!((owner.node_id, owner.token), winners[0].clone());
    }
}
