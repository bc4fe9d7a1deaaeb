//! Tests of the SQLite store (kept apart so `sqlite.rs` stays readable).

use super::*;

async fn store() -> SqliteStore {
    SqliteStore::connect("sqlite::memory:")
        .await
        .expect("store")
}

fn input() -> GroupInput {
    GroupInput {
        name: "G".into(),
        description: String::new(),
        agreement: "Be kind.".into(),
        timezone: "Europe/London".into(),
        capacity: 2,
        access_code_hash: Some(Some("hash".into())),
        support_resources: vec![SupportResource {
            label: "Samaritans".into(),
            url: "tel:116123".into(),
        }],
        keep_transcript: false,
    }
}

#[test]
fn memory_urls_are_recognised() {
    assert!(is_in_memory("sqlite::memory:"));
    assert!(is_in_memory("sqlite://:memory:"));
    assert!(!is_in_memory("sqlite://./data/peercircle.db"));
}

#[tokio::test]
async fn groups_sessions_participants_and_bans() {
    let s = store().await;
    let f = s
        .create_facilitator(" A@Example.org", "A", "h")
        .await
        .expect("f");
    assert_eq!(f.email, "a@example.org");
    assert!(matches!(
        s.create_facilitator("a@example.org", "B", "h").await,
        Err(StoreError::Conflict(_))
    ));
    let g = s.create_group(&f.id, &input()).await.expect("group");
    assert!(g.has_access_code);
    assert_eq!(
        s.access_code_hash(&g.id).await.expect("code").as_deref(),
        Some("hash")
    );
    assert_eq!(g.facilitators, vec![f.id.clone()]);
    assert!(s.is_group_facilitator(&g.id, &f.id).await.expect("is"));

    let mut keep = input();
    keep.access_code_hash = None;
    keep.name = "H".into();
    let g2 = s.update_group(&g.id, &keep).await.expect("update");
    assert!(g2.has_access_code, "None keeps the code");
    keep.access_code_hash = Some(None);
    assert!(
        !s.update_group(&g.id, &keep)
            .await
            .expect("update")
            .has_access_code
    );

    let sessions = s
        .create_sessions(&g.id, &[(1_000, 2_000), (10_000, 20_000)])
        .await
        .expect("sessions");
    assert!(matches!(
        s.create_sessions("g_nope", &[(1, 2)]).await,
        Err(StoreError::NotFound)
    ));
    let sid = &sessions[0].id;
    // Cached reads follow every write to the record.
    let read = |id: String| {
        let s = &s;
        async move { s.session(&id).await.expect("read").expect("some") }
    };
    assert!(!read(sid.clone()).await.locked);
    s.set_session_locked(sid, true).await.expect("lock");
    assert!(read(sid.clone()).await.locked);
    s.set_session_started(sid, Some(1_200))
        .await
        .expect("start");
    assert_eq!(read(sid.clone()).await.started_at, Some(1_200));
    let other = &sessions[1].id;
    assert!(!read(other.clone()).await.cancelled);
    s.cancel_session(other).await.expect("cancel");
    assert!(read(other.clone()).await.cancelled);
    assert_eq!(
        s.group(&g.id).await.expect("group").expect("some").name,
        "H"
    );
    s.set_session_ended(sid, 1_500).await.expect("end");
    s.set_session_ended(sid, 1_900).await.expect("end again");
    assert_eq!(
        s.session(sid).await.expect("read").expect("some").ended_at,
        Some(1_500)
    );
    assert_eq!(
        s.sessions_of_group(&g.id, 2_000).await.expect("list").len(),
        1
    );

    let join = |n: &'static str, t: &'static str| {
        s.add_participant(sid, n, t, Some("dev"), Some("addr"), 2, 5, 0)
    };
    let JoinOutcome::Joined(p) = join("One", "t1").await.expect("join") else {
        panic!("should join");
    };
    join("Two", "t2").await.expect("join");
    assert_eq!(join("Three", "t3").await.expect("join"), JoinOutcome::Full);
    assert!(matches!(
        s.add_participant("s_nope", "X", "t4", None, None, 2, 5, 0)
            .await,
        Err(StoreError::NotFound)
    ));

    assert!(!s
        .is_banned(&g.id, Some("dev"), Some("addr"))
        .await
        .expect("banned?"));
    assert!(!s.is_banned(&g.id, None, None).await.expect("banned?"));
    s.remove_participant(&p.id, true, &f.id, 7)
        .await
        .expect("remove");
    assert_eq!(s.count_participants(sid, 0).await.expect("count"), 1);
    assert!(s
        .is_banned(&g.id, Some("dev"), None)
        .await
        .expect("banned?"));
    assert!(s
        .is_banned(&g.id, None, Some("addr"))
        .await
        .expect("banned?"));
    assert!(!s
        .is_banned(&g.id, Some("other"), Some("other"))
        .await
        .expect("banned?"));
    assert!(
        s.participant_by_token("t1")
            .await
            .expect("p")
            .expect("some")
            .removed
    );

    let entry = AuditEntry {
        group_id: g.id.clone(),
        session_id: Some(sid.clone()),
        facilitator_id: f.id.clone(),
        action: "remove".into(),
        target: Some(p.id.clone()),
        detail: Some("ban=true".into()),
        at: 7,
    };
    s.audit(&entry).await.expect("audit");
    assert_eq!(s.audit_log(&g.id, 10).await.expect("log"), vec![entry]);

    s.delete_group(&g.id).await.expect("delete");
    assert!(
        s.session(sid).await.expect("read").is_none(),
        "sessions go with the group"
    );
    assert!(s.participant(&p.id).await.expect("read").is_none());
    assert_eq!(
        s.audit_log(&g.id, 10).await.expect("log").len(),
        1,
        "the audit log stays"
    );
    assert!(matches!(
        s.delete_group(&g.id).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn login_tokens_expire_and_can_be_deleted() {
    let s = store().await;
    let f = s
        .create_facilitator("a@example.org", "A", "h")
        .await
        .expect("f");
    s.create_login_token(&f.id, "th", i64::MAX)
        .await
        .expect("token");
    assert_eq!(
        s.facilitator_by_token("th", 0).await.expect("read"),
        Some(f.clone())
    );
    assert_eq!(
        s.facilitator_by_token("th", i64::MAX).await.expect("read"),
        None
    );
    s.delete_login_token("th").await.expect("delete");
    assert_eq!(s.facilitator_by_token("th", 0).await.expect("read"), None);
}

#[tokio::test]
async fn un_arrived_joins_hold_their_place_only_until_the_hold_ends() {
    let s = store().await;
    let f = s
        .create_facilitator("h@example.org", "H", "h")
        .await
        .expect("f");
    let g = s.create_group(&f.id, &input()).await.expect("group");
    let sid = s
        .create_sessions(&g.id, &[(0, 10_000_000)])
        .await
        .expect("s")[0]
        .id
        .clone();
    // Capacity 2: two joins at t=1000 and 1001 fill it while they are held.
    let join = |t: &'static str, now: i64, held_since: i64| {
        s.add_participant(&sid, "N", t, None, None, 2, now, held_since)
    };
    let JoinOutcome::Joined(a) = join("a", 1_000, 0).await.expect("join") else {
        panic!("a joins");
    };
    join("b", 1_001, 0).await.expect("join");
    assert_eq!(join("c", 1_002, 0).await.expect("join"), JoinOutcome::Full);
    assert_eq!(s.count_participants(&sid, 0).await.expect("count"), 2);
    // `a` arrives; later both holds have expired: `a` still counts, `b` not.
    s.mark_arrived(&a.id, 1_500).await.expect("arrive");
    s.mark_arrived(&a.id, 9_999).await.expect("again");
    assert_eq!(s.count_participants(&sid, 5_000).await.expect("count"), 1);
    let JoinOutcome::Joined(d) = join("d", 6_000, 5_000).await.expect("join") else {
        panic!("the expired hold of b is free again");
    };
    assert_eq!(
        join("e", 6_001, 5_000).await.expect("join"),
        JoinOutcome::Full
    );
    let list = s.participants_of_session(&sid).await.expect("list");
    let ids: Vec<&str> = list.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!((ids[0], ids[2]), (a.id.as_str(), d.id.as_str()));
    assert_eq!(list[0].arrived_at, Some(1_500), "the first arrival is kept");
    assert_eq!(list[1].arrived_at, None);
}

#[tokio::test]
async fn an_address_ban_spares_a_device_that_came_before_it() {
    let s = store().await;
    let f = s
        .create_facilitator("b@example.org", "B", "h")
        .await
        .expect("f");
    let g = s.create_group(&f.id, &input()).await.expect("group");
    let mut big = input();
    big.capacity = 10;
    let g2 = s.create_group(&f.id, &big).await.expect("group");
    let sid = s
        .create_sessions(&g.id, &[(0, 10_000_000)])
        .await
        .expect("s")[0]
        .id
        .clone();
    let other = s
        .create_sessions(&g2.id, &[(0, 10_000_000)])
        .await
        .expect("s")[0]
        .id
        .clone();
    let join = |sid: &str, t: &str, dev: &str, now: i64| {
        let (sid, t, dev) = (sid.to_string(), t.to_string(), dev.to_string());
        let s = &s;
        async move {
            match s
                .add_participant(&sid, "N", &t, Some(&dev), Some("addr"), 10, now, 0)
                .await
                .expect("join")
            {
                JoinOutcome::Joined(p) => p,
                JoinOutcome::Full => panic!("full"),
            }
        }
    };
    join(&sid, "t-regular", "dev-regular", 100).await;
    join(&other, "t-elsewhere", "dev-elsewhere", 100).await;
    let raider = join(&sid, "t-raider", "dev-raider", 200).await;
    s.remove_participant(&raider.id, true, &f.id, 300)
        .await
        .expect("ban");
    let banned = |dev: Option<&'static str>| s.is_banned(&g.id, dev, Some("addr"));
    assert!(
        banned(Some("dev-raider")).await.expect("q"),
        "the device ban holds"
    );
    assert!(
        banned(None).await.expect("q"),
        "no cookie: the address ban holds"
    );
    assert!(
        banned(Some("dev-new")).await.expect("q"),
        "an unknown device too"
    );
    assert!(
        banned(Some("dev-elsewhere")).await.expect("q"),
        "a device known only from another group does not count"
    );
    assert!(
        !banned(Some("dev-regular")).await.expect("q"),
        "the regular from the same address keeps their place"
    );
    // A device first seen after the ban does not slip through either.
    join(&sid, "t-late", "dev-late", 400).await;
    assert!(banned(Some("dev-late")).await.expect("q"));
}
