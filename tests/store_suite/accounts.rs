//! Conformance cases for facilitators, login tokens and groups.

use peercircle::store::{AuditEntry, GroupInput, StoreError, SupportResource};

use super::{group_input, ok, Db};

pub async fn a_new_database_is_empty_until_someone_is_added(db: &Db) {
    let s = db.store();
    ok(s.ping().await, "ping");
    assert!(
        ok(s.is_empty().await, "is_empty"),
        "a new database is empty"
    );
    let f = ok(s.create_facilitator("a@example.org", "A", "h").await, "f");
    assert!(!ok(s.is_empty().await, "is_empty"), "a facilitator counts");
    ok(s.create_group(&f.id, &group_input(8)).await, "group");
    assert!(!ok(s.is_empty().await, "is_empty"));
}

pub async fn facilitators_are_found_by_email_and_id(db: &Db) {
    let s = db.store();
    let f = ok(
        s.create_facilitator("  Sam@Example.ORG ", "Sam", "argon-hash")
            .await,
        "create",
    );
    assert_eq!(
        f.email, "sam@example.org",
        "e-mails are trimmed and lower-cased"
    );
    assert_eq!(f.name, "Sam");
    assert!(f.id.starts_with("f_"), "{}", f.id);

    let (found, hash) = ok(s.facilitator_by_email("SAM@example.org").await, "by email")
        .expect("found by e-mail, whatever its case");
    assert_eq!(found, f);
    assert_eq!(hash, "argon-hash");
    assert_eq!(ok(s.facilitator(&f.id).await, "by id"), Some(f.clone()));
    assert_eq!(ok(s.facilitator("f_nobody").await, "by id"), None);
    assert!(ok(s.facilitator_by_email("nobody@example.org").await, "e").is_none());

    match s
        .create_facilitator("sam@example.org", "Other Sam", "h")
        .await
    {
        Err(StoreError::Conflict(m)) => assert!(m.contains("already exists"), "{m}"),
        other => panic!("a second account with the same e-mail: {other:?}"),
    }
    let (still, _) = ok(s.facilitator_by_email("sam@example.org").await, "e").expect("kept");
    assert_eq!(still.name, "Sam", "the first account is untouched");
}

pub async fn login_tokens_expire_and_can_be_deleted(db: &Db) {
    let s = db.store();
    let f = ok(s.create_facilitator("a@example.org", "A", "h").await, "f");
    let g = ok(s.create_facilitator("b@example.org", "B", "h").await, "g");
    let expiry = peercircle::now_ms() + 3_600_000;
    ok(s.create_login_token(&f.id, "th-a", expiry).await, "token a");
    ok(
        s.create_login_token(&g.id, "th-b", i64::MAX).await,
        "token b",
    );

    assert_eq!(
        ok(s.facilitator_by_token("th-a", expiry - 1).await, "read"),
        Some(f.clone())
    );
    assert_eq!(
        ok(s.facilitator_by_token("th-a", expiry).await, "read"),
        None,
        "a token stops working at its expiry time"
    );
    assert_eq!(
        ok(s.facilitator_by_token("th-b", 0).await, "read"),
        Some(g.clone()),
        "each token names its own facilitator"
    );
    assert_eq!(ok(s.facilitator_by_token("th-x", 0).await, "read"), None);

    ok(s.delete_login_token("th-b").await, "delete");
    assert_eq!(ok(s.facilitator_by_token("th-b", 0).await, "read"), None);
    ok(s.delete_login_token("th-b").await, "deleting twice is fine");

    // Tokens already expired (by the real clock) are swept away when the
    // next one is made: not even a caller passing an old `now` finds them.
    ok(
        s.create_login_token(&f.id, "th-old", 1_000).await,
        "old token",
    );
    assert_eq!(
        ok(s.facilitator_by_token("th-old", 0).await, "read"),
        Some(f.clone())
    );
    ok(
        s.create_login_token(&f.id, "th-new", i64::MAX).await,
        "new token",
    );
    assert_eq!(ok(s.facilitator_by_token("th-old", 0).await, "read"), None);
    assert!(ok(s.facilitator_by_token("th-new", 0).await, "read").is_some());
    assert!(ok(s.facilitator_by_token("th-a", 0).await, "read").is_some());

    assert!(
        s.create_login_token("f_nobody", "th-c", i64::MAX)
            .await
            .is_err(),
        "a token for no facilitator is refused"
    );
}

pub async fn groups_keep_every_field(db: &Db) {
    let s = db.store();
    let f = ok(s.create_facilitator("a@example.org", "A", "h").await, "f");
    let input = group_input(12);
    let g = ok(s.create_group(&f.id, &input).await, "create");
    assert!(g.id.starts_with("g_"), "{}", g.id);
    assert_eq!(g.name, input.name);
    assert_eq!(g.description, input.description);
    assert_eq!(g.agreement, input.agreement);
    assert_eq!(g.timezone, input.timezone);
    assert_eq!(g.capacity, 12);
    assert!(g.has_access_code);
    assert_eq!(g.support_resources, input.support_resources);
    assert_eq!(g.facilitators, vec![f.id.clone()]);
    assert!(!g.keep_transcript);
    assert!(g.created_at > 0);
    assert_eq!(ok(s.group(&g.id).await, "read"), Some(g.clone()));
    assert_eq!(
        ok(s.access_code_hash(&g.id).await, "code").as_deref(),
        Some("argon-hash")
    );

    // `None` keeps the code; everything else is replaced.
    let changed = GroupInput {
        name: "Carers' morning".into(),
        description: String::new(),
        agreement: "Listen.".into(),
        timezone: "America/New_York".into(),
        capacity: 3,
        access_code_hash: None,
        support_resources: vec![SupportResource {
            label: "988".into(),
            url: "tel:988".into(),
        }],
        keep_transcript: true,
    };
    let g2 = ok(s.update_group(&g.id, &changed).await, "update");
    assert_eq!(g2.name, "Carers' morning");
    assert_eq!(g2.description, "");
    assert_eq!(g2.agreement, "Listen.");
    assert_eq!(g2.timezone, "America/New_York");
    assert_eq!(g2.capacity, 3);
    assert_eq!(g2.support_resources, changed.support_resources);
    assert!(g2.keep_transcript);
    assert!(g2.has_access_code, "None keeps the code");
    assert_eq!(g2.created_at, g.created_at);
    assert_eq!(ok(s.group(&g.id).await, "read"), Some(g2.clone()));

    let mut recode = changed.clone();
    recode.access_code_hash = Some(Some("new-hash".into()));
    ok(s.update_group(&g.id, &recode).await, "recode");
    assert_eq!(
        ok(s.access_code_hash(&g.id).await, "code").as_deref(),
        Some("new-hash")
    );
    recode.access_code_hash = Some(None);
    let open = ok(s.update_group(&g.id, &recode).await, "uncode");
    assert!(!open.has_access_code, "Some(None) removes the code");
    assert_eq!(ok(s.access_code_hash(&g.id).await, "code"), None);

    let mut none = group_input(4);
    none.access_code_hash = None;
    none.support_resources.clear();
    let plain = ok(s.create_group(&f.id, &none).await, "create without code");
    assert!(!plain.has_access_code);
    assert!(plain.support_resources.is_empty());

    assert_eq!(ok(s.group("g_nope").await, "read"), None);
    assert!(matches!(
        s.update_group("g_nope", &changed).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.access_code_hash("g_nope").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn groups_of_a_facilitator_in_creation_order(db: &Db) {
    let s = db.store();
    let a = ok(s.create_facilitator("a@example.org", "A", "h").await, "a");
    let b = ok(s.create_facilitator("b@example.org", "B", "h").await, "b");
    let mut mine = Vec::new();
    for i in 0..5 {
        let mut input = group_input(8);
        input.name = format!("Group {i}");
        mine.push(ok(s.create_group(&a.id, &input).await, "group").id);
    }
    let theirs = ok(s.create_group(&b.id, &group_input(8)).await, "theirs");

    let listed = ok(s.groups_of(&a.id).await, "groups_of");
    let mut ids: Vec<String> = listed.iter().map(|g| g.id.clone()).collect();
    let keys: Vec<(i64, String)> = listed
        .iter()
        .map(|g| (g.created_at, g.id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "by creation time, then id");
    ids.sort();
    mine.sort();
    assert_eq!(ids, mine, "exactly the groups they facilitate");
    assert_eq!(
        ok(s.groups_of(&b.id).await, "groups_of"),
        vec![theirs.clone()]
    );
    assert!(ok(s.groups_of("f_nobody").await, "groups_of").is_empty());
}

pub async fn co_facilitators_keep_their_order(db: &Db) {
    let s = db.store();
    let creator = ok(s.create_facilitator("a@example.org", "A", "h").await, "a");
    let b = ok(s.create_facilitator("b@example.org", "B", "h").await, "b");
    let c = ok(s.create_facilitator("c@example.org", "C", "h").await, "c");
    let g = ok(s.create_group(&creator.id, &group_input(8)).await, "g");
    assert!(ok(s.is_group_facilitator(&g.id, &creator.id).await, "is"));
    assert!(!ok(s.is_group_facilitator(&g.id, &b.id).await, "is"));

    // Duplicates are dropped, the given order is kept (creator first).
    let list = vec![creator.id.clone(), c.id.clone(), b.id.clone(), c.id.clone()];
    ok(s.set_group_facilitators(&g.id, &list).await, "set");
    let read = ok(s.group(&g.id).await, "read").expect("group");
    assert_eq!(
        read.facilitators,
        vec![creator.id.clone(), c.id.clone(), b.id.clone()]
    );
    for f in [&creator, &b, &c] {
        assert!(ok(s.is_group_facilitator(&g.id, &f.id).await, "is"));
    }
    assert_eq!(ok(s.groups_of(&c.id).await, "of c"), vec![read.clone()]);

    // Taking someone off the list takes the group off theirs.
    ok(
        s.set_group_facilitators(&g.id, &[creator.id.clone(), b.id.clone()])
            .await,
        "set",
    );
    assert!(!ok(s.is_group_facilitator(&g.id, &c.id).await, "is"));
    assert!(ok(s.groups_of(&c.id).await, "of c").is_empty());

    // An unknown facilitator is refused and the list stays as it was.
    assert!(s
        .set_group_facilitators(&g.id, &[creator.id.clone(), "f_nobody".into()])
        .await
        .is_err());
    assert_eq!(
        ok(s.group(&g.id).await, "read")
            .expect("group")
            .facilitators,
        vec![creator.id.clone(), b.id.clone()],
        "a refused change changes nothing"
    );
    assert!(matches!(
        s.set_group_facilitators("g_nope", std::slice::from_ref(&creator.id))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(!ok(
        s.is_group_facilitator("g_nope", &creator.id).await,
        "is"
    ));
}

pub async fn deleting_a_group_takes_its_sessions_but_keeps_the_audit_log(db: &Db) {
    let s = db.store();
    let f = ok(s.create_facilitator("a@example.org", "A", "h").await, "f");
    let g = ok(s.create_group(&f.id, &group_input(4)).await, "g");
    let other = ok(s.create_group(&f.id, &group_input(4)).await, "other");
    let sessions = ok(s.create_sessions(&g.id, &[(1_000, 2_000)]).await, "s");
    let kept = ok(s.create_sessions(&other.id, &[(1_000, 2_000)]).await, "s");
    let sid = &sessions[0].id;
    let joined = ok(
        s.add_participant(sid, "Robin", "tok", Some("dev"), Some("addr"), 4, 5, 0)
            .await,
        "join",
    );
    let peercircle::store::JoinOutcome::Joined(p) = joined else {
        panic!("should join");
    };
    ok(s.remove_participant(&p.id, true, &f.id, 6).await, "ban");
    let entry = AuditEntry {
        group_id: g.id.clone(),
        session_id: Some(sid.clone()),
        facilitator_id: f.id.clone(),
        action: "remove".into(),
        target: Some(p.id.clone()),
        detail: Some("ban=true".into()),
        at: 6,
    };
    ok(s.audit(&entry).await, "audit");

    ok(s.delete_group(&g.id).await, "delete");
    assert_eq!(ok(s.group(&g.id).await, "read"), None);
    assert_eq!(
        ok(s.session(sid).await, "read"),
        None,
        "sessions go with it"
    );
    assert_eq!(ok(s.participant(&p.id).await, "read"), None);
    assert_eq!(ok(s.participant_by_token("tok").await, "read"), None);
    assert!(!ok(s.is_group_facilitator(&g.id, &f.id).await, "is"));
    assert!(
        !ok(s.is_banned(&g.id, Some("dev"), Some("addr")).await, "ban"),
        "bans go with it"
    );
    assert_eq!(
        ok(s.audit_log(&g.id, 10).await, "log"),
        vec![entry],
        "the audit log stays"
    );
    assert_eq!(
        ok(s.groups_of(&f.id).await, "groups_of"),
        vec![ok(s.group(&other.id).await, "other").expect("other")]
    );
    assert!(
        ok(s.session(&kept[0].id).await, "read").is_some(),
        "other groups keep their sessions"
    );
    assert!(matches!(
        s.delete_group(&g.id).await,
        Err(StoreError::NotFound)
    ));
}
