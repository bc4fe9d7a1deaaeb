//! Conformance cases for sessions, participants, bans and the audit log, and
//! the ones that several nodes sharing a database depend on.

use std::sync::Arc;

use peercircle::store::{
    AuditEntry, Group, JoinOutcome, ParticipantRecord, RecordPhase, SessionRecord, Store,
    StoreError,
};

use super::{group_input, ok, Db};

/// A facilitator, a group of `capacity` and one session (1,000..2,000 ms).
async fn one_session(s: &dyn Store, capacity: u32) -> (String, Group, SessionRecord) {
    let f = ok(s.create_facilitator("a@example.org", "A", "h").await, "f");
    let g = ok(s.create_group(&f.id, &group_input(capacity)).await, "g");
    let mut sessions = ok(s.create_sessions(&g.id, &[(1_000, 2_000)]).await, "s");
    (f.id, g, sessions.remove(0))
}

#[track_caller]
fn joined(outcome: JoinOutcome) -> ParticipantRecord {
    match outcome {
        JoinOutcome::Joined(p) => p,
        JoinOutcome::Full => panic!("expected to join, the session was full"),
    }
}

pub async fn a_series_of_sessions_is_listed_by_start(db: &Db) {
    let s = db.store();
    let f = ok(s.create_facilitator("a@example.org", "A", "h").await, "f");
    let g = ok(s.create_group(&f.id, &group_input(8)).await, "g");
    let other = ok(s.create_group(&f.id, &group_input(8)).await, "other");
    // Given out of order: listed by start time.
    let times = [(30_000, 31_000), (10_000, 11_000), (20_000, 21_000)];
    let created = ok(s.create_sessions(&g.id, &times).await, "create");
    assert_eq!(created.len(), 3);
    for (record, &(start, end)) in created.iter().zip(&times) {
        assert!(record.id.starts_with("s_"), "{}", record.id);
        assert_eq!((record.starts_at, record.ends_at), (start, end));
        assert_eq!(record.group_id, g.id);
        assert!(record.started_at.is_none() && record.ended_at.is_none());
        assert!(!record.cancelled && !record.locked);
        assert_eq!(
            ok(s.session(&record.id).await, "read").as_ref(),
            Some(record)
        );
    }
    ok(
        s.create_sessions(&other.id, &[(15_000, 16_000)]).await,
        "other",
    );
    ok(s.cancel_session(&created[2].id).await, "cancel");

    let starts =
        |list: Vec<SessionRecord>| -> Vec<i64> { list.iter().map(|r| r.starts_at).collect() };
    assert_eq!(
        starts(ok(s.sessions_of_group(&g.id, 0).await, "list")),
        vec![10_000, 20_000, 30_000],
        "cancelled sessions are listed too"
    );
    assert_eq!(
        starts(ok(s.sessions_of_group(&g.id, 11_000).await, "list")),
        vec![20_000, 30_000],
        "only those ending after the given time"
    );
    assert!(ok(s.sessions_of_group(&g.id, 31_000).await, "list").is_empty());
    assert!(ok(s.sessions_of_group("g_nope", 0).await, "list").is_empty());

    assert!(matches!(
        s.create_sessions("g_nope", &[(1, 2)]).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(ok(s.session("s_nope").await, "read"), None);
}

pub async fn sessions_start_lock_end_and_cancel(db: &Db) {
    let s = db.store();
    let (_, g, session) = one_session(s.as_ref(), 8).await;
    let id = session.id.as_str();
    let read = || async { ok(s.session(id).await, "read").expect("session") };
    assert_eq!(read().await.phase(500, 600), RecordPhase::Lobby);
    assert_eq!(read().await.phase(0, 600), RecordPhase::Scheduled);

    ok(s.set_session_locked(id, true).await, "lock");
    assert!(read().await.locked, "a write is read back at once");
    ok(s.set_session_locked(id, false).await, "unlock");
    assert!(!read().await.locked);

    ok(s.set_session_started(id, Some(1_100)).await, "start");
    assert_eq!(read().await.started_at, Some(1_100));
    assert_eq!(read().await.phase(1_200, 0), RecordPhase::Live);
    ok(s.set_session_started(id, None).await, "back to the lobby");
    assert_eq!(read().await.started_at, None);
    ok(s.set_session_started(id, Some(1_150)).await, "start again");

    ok(s.set_session_ended(id, 1_500).await, "end");
    ok(s.set_session_ended(id, 1_900).await, "end again");
    let ended = read().await;
    assert_eq!(ended.ended_at, Some(1_500), "the first end wins");
    assert_eq!(ended.started_at, Some(1_150));
    assert_eq!(ended.phase(1_600, 0), RecordPhase::Ended);

    let second = ok(s.create_sessions(&g.id, &[(5_000, 6_000)]).await, "s");
    let second = &second[0].id;
    ok(s.cancel_session(second).await, "cancel");
    let cancelled = ok(s.session(second).await, "read").expect("kept");
    assert!(cancelled.cancelled, "a cancelled session is kept, marked");
    assert_eq!(cancelled.phase(5_500, 0), RecordPhase::Ended);
    ok(s.cancel_session(second).await, "cancelling twice is fine");
    assert!(!read().await.cancelled, "only that session is cancelled");

    for (what, r) in [
        ("cancel", s.cancel_session("s_nope").await),
        ("start", s.set_session_started("s_nope", Some(1)).await),
        ("end", s.set_session_ended("s_nope", 1).await),
        ("lock", s.set_session_locked("s_nope", true).await),
    ] {
        assert!(matches!(r, Err(StoreError::NotFound)), "{what}: {r:?}");
    }
}

pub async fn joins_stop_at_capacity_and_removal_frees_a_place(db: &Db) {
    let s = db.store();
    let (fid, _, session) = one_session(s.as_ref(), 2).await;
    let sid = session.id.as_str();
    let join = |name: &'static str, token: &'static str| {
        s.add_participant(sid, name, token, Some("dev"), Some("addr"), 2, 42, 0)
    };
    let one = joined(ok(join("One", "t1").await, "join"));
    assert!(one.id.starts_with("p_"), "{}", one.id);
    assert_eq!(one.session_id, sid);
    assert_eq!(one.name, "One");
    assert!(!one.removed);
    assert_eq!(one.joined_at, 42);
    assert_eq!(one.arrived_at, None, "no socket yet");
    assert_eq!(ok(s.participant(&one.id).await, "read"), Some(one.clone()));
    assert_eq!(
        ok(s.participant_by_token("t1").await, "read"),
        Some(one.clone())
    );
    assert_eq!(ok(s.participant_by_token("t-none").await, "read"), None);
    assert_eq!(ok(s.participant("p_nope").await, "read"), None);

    let two = joined(ok(join("Two", "t2").await, "join"));
    assert_eq!(ok(s.count_participants(sid, 0).await, "count"), 2);
    assert_eq!(ok(join("Three", "t3").await, "join"), JoinOutcome::Full);
    assert_eq!(ok(s.count_participants(sid, 0).await, "count"), 2);
    assert_eq!(ok(s.participant_by_token("t3").await, "read"), None);

    ok(
        s.remove_participant(&two.id, false, &fid, 50).await,
        "remove",
    );
    let gone = ok(s.participant(&two.id).await, "read").expect("kept, marked");
    assert!(gone.removed, "their token stops working");
    assert!(
        ok(s.participant_by_token("t2").await, "read")
            .expect("p")
            .removed
    );
    assert_eq!(ok(s.count_participants(sid, 0).await, "count"), 1);
    let three = joined(ok(join("Three", "t3").await, "join"));
    assert_eq!(ok(s.count_participants(sid, 0).await, "count"), 2);
    assert_ne!(three.id, two.id);

    assert!(matches!(
        s.add_participant("s_nope", "X", "t4", None, None, 2, 5, 0)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.remove_participant("p_nope", false, &fid, 5).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(ok(s.count_participants("s_nope", 0).await, "count"), 0);
}

/// 40 people press "join" at once for 10 places: exactly 10 get in. On
/// PostgreSQL the joins are spread over three handles with pools of their
/// own (three nodes), so no single writer can be what keeps the count.
pub async fn forty_joins_at_once_fill_exactly_ten_places(db: &Db) {
    const PLACES: u32 = 10;
    const PEOPLE: usize = 40;
    let first = db.store();
    let (_, _, session) = one_session(first.as_ref(), PLACES).await;
    let mut handles = vec![first];
    if db.is_postgres() {
        handles.push(db.open().await);
        handles.push(db.open().await);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(PEOPLE));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..PEOPLE {
        let store = handles[i % handles.len()].clone();
        let barrier = barrier.clone();
        let sid = session.id.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            store
                .add_participant(
                    &sid,
                    &format!("Person {i}"),
                    &format!("token-{i}"),
                    None,
                    None,
                    PLACES,
                    7,
                    0,
                )
                .await
        });
    }
    let mut ids = std::collections::HashSet::new();
    let mut full = 0;
    while let Some(result) = tasks.join_next().await {
        match ok(ok(result, "task"), "join") {
            JoinOutcome::Joined(p) => assert!(ids.insert(p.id), "ids are unique"),
            JoinOutcome::Full => full += 1,
        }
    }
    assert_eq!(ids.len(), PLACES as usize, "exactly the places there are");
    assert_eq!(
        full,
        PEOPLE - PLACES as usize,
        "everyone else is told it is full"
    );
    for h in &handles {
        assert_eq!(
            ok(h.count_participants(&session.id, 0).await, "count"),
            PLACES
        );
    }
}

/// A join holds its place until `held_since` passes it, unless its socket
/// arrived: joins that never connect cannot fill a session.
pub async fn un_arrived_joins_hold_their_place_only_until_the_hold_ends(db: &Db) {
    let s = db.store();
    let (fid, _, session) = one_session(s.as_ref(), 2).await;
    let sid = session.id.as_str();
    let join = |t: &'static str, now: i64, held_since: i64| {
        s.add_participant(sid, "N", t, None, None, 2, now, held_since)
    };
    // Capacity 2: joins at 1,000 and 1,001 fill it while they are held.
    let a = joined(ok(join("a", 1_000, 0).await, "a"));
    let b = joined(ok(join("b", 1_001, 0).await, "b"));
    assert_eq!(ok(join("c", 1_002, 0).await, "c"), JoinOutcome::Full);
    assert_eq!(ok(s.count_participants(sid, 0).await, "count"), 2);
    assert_eq!(
        ok(s.count_participants(sid, 1_000).await, "count"),
        1,
        "a join at exactly held_since no longer holds"
    );

    // `a` arrives (the first time is kept); once both holds have expired
    // `a` still counts and `b` does not.
    ok(s.mark_arrived(&a.id, 1_500).await, "arrive");
    ok(s.mark_arrived(&a.id, 9_999).await, "arrive again");
    let read_a = ok(s.participant(&a.id).await, "read").expect("a");
    assert_eq!(read_a.arrived_at, Some(1_500), "the first arrival is kept");
    assert_eq!(ok(s.count_participants(sid, 5_000).await, "count"), 1);
    let d = joined(ok(
        join("d", 6_000, 5_000).await,
        "the expired hold is free",
    ));
    assert_eq!(ok(join("e", 6_001, 5_000).await, "e"), JoinOutcome::Full);
    ok(
        s.mark_arrived("p_nobody", 1).await,
        "an unknown id changes nothing",
    );

    // A removed participant holds no place, arrived or not.
    ok(s.mark_arrived(&d.id, 6_100).await, "d arrives");
    ok(
        s.remove_participant(&a.id, false, &fid, 7_000).await,
        "remove a",
    );
    assert_eq!(ok(s.count_participants(sid, 5_000).await, "count"), 1);

    let list = ok(s.participants_of_session(sid).await, "list");
    let ids: Vec<&str> = list.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [a.id.as_str(), b.id.as_str(), d.id.as_str()],
        "everyone who joined, removed ones too, by join time"
    );
    assert!(list[0].removed);
    assert_eq!(list[0].arrived_at, Some(1_500));
    assert_eq!(list[1].arrived_at, None);
    assert_eq!(list[2].arrived_at, Some(6_100));
    assert!(ok(s.participants_of_session("s_nope").await, "list").is_empty());
}

/// An address ban spares a device that came to the group before the ban (a
/// regular behind the same address as someone banned keeps their place).
pub async fn an_address_ban_spares_a_device_that_came_before_it(db: &Db) {
    let s = db.store();
    let (fid, g, session) = one_session(s.as_ref(), 10).await;
    let g2 = ok(s.create_group(&fid, &group_input(10)).await, "g2");
    let other = ok(s.create_sessions(&g2.id, &[(1_000, 2_000)]).await, "s");
    let join = |sid: String, t: &'static str, dev: &'static str, now: i64| {
        let s = s.clone();
        async move {
            joined(ok(
                s.add_participant(&sid, "N", t, Some(dev), Some("addr"), 10, now, 0)
                    .await,
                "join",
            ))
        }
    };
    join(session.id.clone(), "t-regular", "dev-regular", 100).await;
    join(other[0].id.clone(), "t-elsewhere", "dev-elsewhere", 100).await;
    let raider = join(session.id.clone(), "t-raider", "dev-raider", 200).await;
    ok(
        s.remove_participant(&raider.id, true, &fid, 300).await,
        "ban",
    );
    let banned = |dev: Option<&'static str>| {
        let s = s.clone();
        let gid = g.id.clone();
        async move { ok(s.is_banned(&gid, dev, Some("addr")).await, "is_banned") }
    };
    assert!(banned(Some("dev-raider")).await, "the device ban holds");
    assert!(banned(None).await, "no cookie: the address ban holds");
    assert!(banned(Some("dev-new")).await, "an unknown device too");
    assert!(
        banned(Some("dev-elsewhere")).await,
        "a device known only from another group does not count"
    );
    assert!(
        !banned(Some("dev-regular")).await,
        "the regular from the same address keeps their place"
    );
    // A device first seen after the ban does not slip through either.
    join(session.id.clone(), "t-late", "dev-late", 400).await;
    assert!(banned(Some("dev-late")).await);
    assert!(
        ok(
            s.is_banned(&g.id, Some("dev-raider"), Some("elsewhere"))
                .await,
            "b"
        ),
        "a banned device is refused from any address"
    );
}

pub async fn removed_participants_are_listed_per_session(db: &Db) {
    let s = db.store();
    let (fid, g, session) = one_session(s.as_ref(), 10).await;
    let sid = session.id.as_str();
    let later = ok(s.create_sessions(&g.id, &[(5_000, 6_000)]).await, "s");
    assert!(ok(s.removed_participants(sid).await, "none yet").is_empty());
    let mut people = Vec::new();
    for i in 0..4 {
        let p = joined(ok(
            s.add_participant(sid, "P", &format!("t{i}"), None, None, 10, 1, 0)
                .await,
            "join",
        ));
        people.push(p.id);
    }
    let elsewhere = joined(ok(
        s.add_participant(&later[0].id, "Q", "tq", None, None, 10, 1, 0)
            .await,
        "join",
    ));
    ok(
        s.remove_participant(&people[2], false, &fid, 2).await,
        "remove",
    );
    ok(s.remove_participant(&people[0], true, &fid, 3).await, "ban");
    ok(
        s.remove_participant(&elsewhere.id, false, &fid, 3).await,
        "other",
    );
    let mut expected = vec![people[0].clone(), people[2].clone()];
    expected.sort();
    assert_eq!(
        ok(s.removed_participants(sid).await, "removed"),
        expected,
        "removed with or without a ban, in id order, this session only"
    );
    assert_eq!(
        ok(s.removed_participants(&later[0].id).await, "removed"),
        vec![elsewhere.id.clone()]
    );
    assert!(ok(s.removed_participants("s_nope").await, "removed").is_empty());
}

pub async fn snapshots_are_replaced_and_go_with_their_session(db: &Db) {
    let s = db.store();
    let (_, g, session) = one_session(s.as_ref(), 10).await;
    let sid = session.id.as_str();
    let other = ok(s.create_sessions(&g.id, &[(5_000, 6_000)]).await, "s");
    let other = other[0].id.as_str();
    assert_eq!(ok(s.load_snapshot(sid).await, "load"), None);

    // Stored exactly as given: spacing, key order, any character.
    let first = r#"{"v":1, "holder":"p_a","queue":["p_b","p_c"],"note":"Zoë – 💬"}"#;
    ok(s.save_snapshot(sid, first, 1_100).await, "save");
    assert_eq!(
        ok(s.load_snapshot(sid).await, "load").as_deref(),
        Some(first)
    );
    let big = format!(
        r#"{{"v":1,"members":[{}]}}"#,
        vec!["\"p_x\""; 5_000].join(",")
    );
    ok(s.save_snapshot(sid, &big, 1_200).await, "save again");
    assert_eq!(
        ok(s.load_snapshot(sid).await, "load").as_deref(),
        Some(big.as_str()),
        "a later save replaces the earlier one"
    );
    assert_eq!(
        ok(s.load_snapshot(other).await, "load"),
        None,
        "per session"
    );
    ok(s.save_snapshot(other, "{}", 1_300).await, "save other");
    assert_eq!(
        ok(s.load_snapshot(sid).await, "load").as_deref(),
        Some(big.as_str())
    );

    assert!(
        s.save_snapshot("s_nope", "{}", 1).await.is_err(),
        "no snapshot for a session that does not exist"
    );
    assert_eq!(ok(s.load_snapshot("s_nope").await, "load"), None);

    ok(s.delete_group(&g.id).await, "delete");
    assert_eq!(
        ok(s.load_snapshot(sid).await, "load"),
        None,
        "snapshots go with their session"
    );
}

pub async fn bans_bar_a_device_or_address_from_that_group_only(db: &Db) {
    let s = db.store();
    let (fid, g, session) = one_session(s.as_ref(), 10).await;
    let other = ok(s.create_group(&fid, &group_input(10)).await, "other");
    let sid = session.id.as_str();
    let p = joined(ok(
        s.add_participant(sid, "P", "tp", Some("dev-p"), Some("addr-p"), 10, 1, 0)
            .await,
        "join",
    ));
    let q = joined(ok(
        s.add_participant(sid, "Q", "tq", Some("dev-q"), Some("addr-q"), 10, 1, 0)
            .await,
        "join",
    ));
    let r = joined(ok(
        s.add_participant(sid, "R", "tr", None, None, 10, 1, 0)
            .await,
        "join",
    ));
    let banned = |d: Option<&'static str>, a: Option<&'static str>| {
        let s = s.clone();
        let gid = g.id.clone();
        async move { ok(s.is_banned(&gid, d, a).await, "is_banned") }
    };
    assert!(!banned(Some("dev-p"), Some("addr-p")).await);

    ok(s.remove_participant(&q.id, false, &fid, 2).await, "remove");
    assert!(
        !banned(Some("dev-q"), Some("addr-q")).await,
        "removal without a ban bars nobody"
    );

    ok(s.remove_participant(&p.id, true, &fid, 3).await, "ban");
    assert!(banned(Some("dev-p"), None).await, "the device");
    assert!(banned(None, Some("addr-p")).await, "the address");
    assert!(banned(Some("dev-p"), Some("elsewhere")).await, "either one");
    assert!(banned(Some("new-device"), Some("addr-p")).await);
    assert!(!banned(Some("dev-q"), Some("addr-q")).await);
    assert!(!banned(None, None).await, "nothing to match");
    assert!(
        !ok(
            s.is_banned(&other.id, Some("dev-p"), Some("addr-p")).await,
            "b"
        ),
        "other groups are not affected"
    );
    assert!(ok(s.participant(&p.id).await, "read").expect("p").removed);

    // Someone with neither hash can be banned; it bars nobody else.
    ok(s.remove_participant(&r.id, true, &fid, 4).await, "ban r");
    assert!(!banned(Some("dev-q"), None).await);
    assert!(!banned(None, Some("addr-q")).await);
}

pub async fn the_audit_log_is_newest_first_and_limited(db: &Db) {
    let s = db.store();
    let (fid, g, session) = one_session(s.as_ref(), 10).await;
    let other = ok(s.create_group(&fid, &group_input(10)).await, "other");
    let entry = |action: &str, at: i64| AuditEntry {
        group_id: g.id.clone(),
        session_id: Some(session.id.clone()),
        facilitator_id: fid.clone(),
        action: action.into(),
        target: Some("p_someone".into()),
        detail: Some("on=true".into()),
        at,
    };
    // Written out of order; read back newest first.
    let written = [
        entry("mute", 300),
        entry("lock", 100),
        AuditEntry {
            session_id: None,
            target: None,
            detail: None,
            ..entry("group.update", 500)
        },
        entry("remove", 200),
        entry("start", 400),
    ];
    for e in &written {
        ok(s.audit(e).await, "audit");
    }
    ok(
        s.audit(&AuditEntry {
            group_id: other.id.clone(),
            ..entry("elsewhere", 999)
        })
        .await,
        "audit other",
    );

    let log = ok(s.audit_log(&g.id, 10).await, "log");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["group.update", "start", "mute", "remove", "lock"]);
    assert_eq!(log[0], written[2], "empty fields stay empty");
    assert_eq!(log[2], written[0], "every field is kept");
    let newest_two = ok(s.audit_log(&g.id, 2).await, "log");
    assert_eq!(newest_two, log[..2].to_vec(), "the limit keeps the newest");
    assert!(ok(s.audit_log(&g.id, 0).await, "log").is_empty());
    assert_eq!(ok(s.audit_log(&other.id, 10).await, "log").len(), 1);
    assert!(ok(s.audit_log("g_nope", 10).await, "log").is_empty());
}

/// Several nodes share one PostgreSQL database: what one writes, another
/// reads at once. SQLite is opened by one process, whose store may cache
/// records; PostgreSQL must not (so this case runs on PostgreSQL only).
pub async fn two_handles_see_each_others_writes_at_once(db: &Db) {
    let a = db.store();
    let b = db.open().await;
    let (fid, g, session) = one_session(a.as_ref(), 2).await;
    let sid = session.id.as_str();
    let read = |h: &Arc<dyn Store>| {
        let h = h.clone();
        let sid = sid.to_string();
        async move { ok(h.session(&sid).await, "read").expect("session") }
    };
    // Both read (and, were they caching, would cache) first.
    assert_eq!(read(&a).await, read(&b).await);
    assert_eq!(ok(b.group(&g.id).await, "g"), Some(g.clone()));

    ok(a.set_session_locked(sid, true).await, "lock via a");
    assert!(read(&b).await.locked, "b sees a's lock");
    ok(b.set_session_locked(sid, false).await, "unlock via b");
    assert!(!read(&a).await.locked, "a sees b's unlock");
    ok(a.set_session_started(sid, Some(1_100)).await, "start via a");
    assert_eq!(read(&b).await.started_at, Some(1_100));
    ok(b.set_session_ended(sid, 1_800).await, "end via b");
    assert_eq!(read(&a).await.ended_at, Some(1_800));
    let later = ok(a.create_sessions(&g.id, &[(5_000, 6_000)]).await, "s");
    ok(b.cancel_session(&later[0].id).await, "cancel via b");
    assert!(
        ok(a.session(&later[0].id).await, "read")
            .expect("s")
            .cancelled
    );

    let mut renamed = group_input(3);
    renamed.name = "Renamed".into();
    ok(a.update_group(&g.id, &renamed).await, "update via a");
    let seen = ok(b.group(&g.id).await, "read").expect("group");
    assert_eq!((seen.name.as_str(), seen.capacity), ("Renamed", 3));
    let co = ok(
        b.create_facilitator("co@example.org", "Co", "h").await,
        "co",
    );
    ok(
        b.set_group_facilitators(&g.id, &[fid.clone(), co.id.clone()])
            .await,
        "set via b",
    );
    assert_eq!(
        ok(a.group(&g.id).await, "read").expect("g").facilitators,
        vec![fid.clone(), co.id.clone()]
    );
    assert!(ok(a.is_group_facilitator(&g.id, &co.id).await, "is"));

    // Joins through either count against the same places.
    let p = joined(ok(
        a.add_participant(sid, "P", "tp", Some("dev"), None, 2, 1, 0)
            .await,
        "join a",
    ));
    joined(ok(
        b.add_participant(sid, "Q", "tq", None, None, 2, 1, 0).await,
        "join b",
    ));
    assert_eq!(
        ok(
            a.add_participant(sid, "R", "tr", None, None, 2, 1, 0).await,
            "j"
        ),
        JoinOutcome::Full
    );
    ok(a.mark_arrived(&p.id, 1).await, "arrived via a");
    assert_eq!(
        ok(b.count_participants(sid, 1_000).await, "count"),
        1,
        "b counts a's arrival (the other join's hold has expired)"
    );
    ok(
        b.remove_participant(&p.id, true, &fid, 2).await,
        "ban via b",
    );
    assert!(
        ok(a.participant_by_token("tp").await, "p")
            .expect("p")
            .removed
    );
    assert!(ok(a.is_banned(&g.id, Some("dev"), None).await, "banned"));
    assert_eq!(ok(a.count_participants(sid, 0).await, "count"), 1);

    ok(
        a.create_login_token(&fid, "th", i64::MAX).await,
        "token via a",
    );
    assert!(ok(b.facilitator_by_token("th", 0).await, "t").is_some());
    ok(b.delete_login_token("th").await, "logout via b");
    assert!(
        ok(a.facilitator_by_token("th", 0).await, "t").is_none(),
        "a logout on one node holds on every node"
    );

    ok(
        a.save_snapshot(sid, r#"{"v":1}"#, 1_500).await,
        "snapshot via a",
    );
    assert_eq!(
        ok(b.load_snapshot(sid).await, "load").as_deref(),
        Some(r#"{"v":1}"#)
    );
    ok(
        b.save_snapshot(sid, r#"{"v":2}"#, 1_600).await,
        "snapshot via b",
    );
    assert_eq!(
        ok(a.load_snapshot(sid).await, "load").as_deref(),
        Some(r#"{"v":2}"#),
        "the node taking a session over reads the latest snapshot"
    );
    assert_eq!(
        ok(b.removed_participants(sid).await, "removed"),
        vec![p.id.clone()]
    );

    ok(b.delete_group(&g.id).await, "delete via b");
    assert_eq!(ok(a.group(&g.id).await, "read"), None);
    assert_eq!(ok(a.session(sid).await, "read"), None);
}

/// The places a session counts stay exact however people come and go: the
/// arrived are kept as a running count (not walked over per join), so it
/// must follow every arrival, repeated arrival and removal, arrived or not.
pub async fn the_count_of_places_follows_arrivals_and_removals(db: &Db) {
    let s = db.store();
    let (fid, _, session) = one_session(s.as_ref(), 100).await;
    let sid = session.id.as_str();
    let mut people = Vec::new();
    for i in 0..30 {
        let p = joined(ok(
            s.add_participant(sid, "N", &format!("tok-{i}"), None, None, 100, 1_000 + i, 0)
                .await,
            "join",
        ));
        people.push(p);
    }
    // Twenty arrive (some twice); ten never do.
    for p in &people[..20] {
        ok(s.mark_arrived(&p.id, 2_000).await, "arrive");
    }
    for p in &people[..5] {
        ok(s.mark_arrived(&p.id, 3_000).await, "arrive again");
    }
    assert_eq!(ok(s.count_participants(sid, 0).await, "count"), 30);
    // Once the holds end only the twenty who arrived count.
    assert_eq!(ok(s.count_participants(sid, 9_999).await, "count"), 20);
    // Removing three who arrived and two who did not.
    for p in people[..3].iter().chain(&people[25..27]) {
        ok(
            s.remove_participant(&p.id, false, &fid, 4_000).await,
            "remove",
        );
    }
    assert_eq!(ok(s.count_participants(sid, 9_999).await, "count"), 17);
    assert_eq!(ok(s.count_participants(sid, 0).await, "count"), 25);
    // A removed person's arrival (a socket racing the removal) gives them
    // no place back.
    ok(s.mark_arrived(&people[26].id, 5_000).await, "late arrival");
    assert_eq!(ok(s.count_participants(sid, 9_999).await, "count"), 17);
    // A capacity of 17 is full now; 18 has one place.
    let full = s
        .add_participant(sid, "N", "tok-x", None, None, 17, 10_000, 9_999)
        .await;
    assert_eq!(ok(full, "join"), JoinOutcome::Full);
    let one = s
        .add_participant(sid, "N", "tok-y", None, None, 18, 10_000, 9_999)
        .await;
    joined(ok(one, "join"));
}
