//! Conformance cases for retention and erasure (issue 12, docs/privacy.md):
//! what `expire` deletes and keeps, what erasing a person takes from a
//! group (and what it leaves, like a ban), and erasing a whole group.

use peercircle::store::{AuditEntry, Cutoffs, Group, JoinOutcome, Store, StoreError};

use super::{group_input, ok, Db};

const DAY: i64 = 86_400_000;

async fn group(s: &dyn Store) -> (String, Group) {
    let f = ok(s.create_facilitator("a@example.org", "A", "h").await, "f");
    let g = ok(s.create_group(&f.id, &group_input(50)).await, "g");
    (f.id, g)
}

async fn session(s: &dyn Store, group: &str, starts: i64, ends: i64) -> String {
    ok(s.create_sessions(group, &[(starts, ends)]).await, "session")
        .remove(0)
        .id
}

async fn join(s: &dyn Store, session: &str, name: &str, device: Option<&str>, at: i64) -> String {
    let token = format!("token-{session}-{name}");
    match ok(
        s.add_participant(session, name, &token, device, Some("addr"), 50, at, 0)
            .await,
        "join",
    ) {
        JoinOutcome::Joined(p) => p.id,
        JoinOutcome::Full => panic!("full"),
    }
}

fn entry(group: &str, by: &str, target: Option<&str>, at: i64) -> AuditEntry {
    AuditEntry {
        group_id: group.into(),
        session_id: None,
        facilitator_id: by.into(),
        action: "mute".into(),
        target: target.map(Into::into),
        detail: Some("on=true".into()),
        at,
    }
}

pub async fn expiry_deletes_only_what_is_past_its_time(db: &Db) {
    let s = db.store();
    let (fac, g) = group(s.as_ref()).await;
    let now = 400 * DAY;
    // Ended by the clock 40 days ago; ended by a facilitator 10 days ago
    // (scheduled to end later); one still to come.
    let old = session(
        s.as_ref(),
        &g.id,
        now - 40 * DAY - 3_600_000,
        now - 40 * DAY,
    )
    .await;
    let recent = session(s.as_ref(), &g.id, now - 10 * DAY - 3_600_000, now - 5 * DAY).await;
    ok(s.set_session_ended(&recent, now - 10 * DAY).await, "ended");
    let coming = session(s.as_ref(), &g.id, now + DAY, now + DAY + 3_600_000).await;
    let gone = join(
        s.as_ref(),
        &old,
        "Robin",
        Some("dev-1"),
        now - 40 * DAY - 1_000,
    )
    .await;
    let kept = join(
        s.as_ref(),
        &recent,
        "Sam",
        Some("dev-2"),
        now - 10 * DAY - 1_000,
    )
    .await;
    ok(
        s.save_snapshot(&old, "{}", now - 40 * DAY).await,
        "snap old",
    );
    ok(
        s.save_snapshot(&recent, "{}", now - 10 * DAY).await,
        "snap recent",
    );
    ok(
        s.audit(&entry(&g.id, &fac, None, now - 400 * DAY)).await,
        "old audit",
    );
    ok(
        s.audit(&entry(&g.id, &fac, None, now - 100 * DAY)).await,
        "audit",
    );
    ok(
        s.remove_participant(&gone, true, &fac, now - 400 * DAY)
            .await,
        "old ban",
    );
    ok(
        s.remove_participant(&kept, true, &fac, now - 10 * DAY)
            .await,
        "ban",
    );
    // Creating a token sweeps tokens expired by the wall clock: the expired
    // one is made last.
    ok(
        s.create_login_token(&fac, "valid", i64::MAX / 2).await,
        "token",
    );
    ok(
        s.create_login_token(&fac, "expired", now - 1).await,
        "token",
    );

    let cutoffs = Cutoffs {
        joins_before: now - 30 * DAY,
        snapshots_before: now - 30 * DAY,
        audit_before: now - 365 * DAY,
        bans_before: now - 365 * DAY,
        now,
    };
    let expired = ok(s.expire(&cutoffs).await, "expire");
    assert_eq!(expired.participants, 1, "{expired:?}");
    assert_eq!(expired.snapshots, 1, "{expired:?}");
    assert_eq!(expired.audit, 1, "{expired:?}");
    assert_eq!(expired.bans, 1, "{expired:?}");
    assert_eq!(expired.login_tokens, 1, "{expired:?}");

    assert_eq!(ok(s.participant(&gone).await, "gone"), None);
    assert!(ok(s.participant(&kept).await, "kept").is_some());
    assert_eq!(ok(s.load_snapshot(&old).await, "snap"), None);
    assert!(ok(s.load_snapshot(&recent).await, "snap").is_some());
    assert_eq!(ok(s.audit_log(&g.id, 10).await, "log").len(), 1);
    assert!(!ok(
        s.is_banned(&g.id, Some("dev-1"), None).await,
        "old ban gone"
    ));
    assert!(ok(
        s.is_banned(&g.id, Some("dev-2"), None).await,
        "ban kept"
    ));
    assert!(ok(s.facilitator_by_token("valid", now).await, "token").is_some());
    assert!(
        ok(s.session(&coming).await, "session").is_some(),
        "sessions stay"
    );
    assert!(
        ok(s.session(&old).await, "session").is_some(),
        "sessions stay"
    );

    // Nothing more is past its time: a second run deletes nothing.
    let again = ok(s.expire(&cutoffs).await, "again");
    assert_eq!(again, Default::default());
}

pub async fn erasing_a_person_takes_every_join_of_their_device_in_the_group(db: &Db) {
    let s = db.store();
    let (fac, g) = group(s.as_ref()).await;
    let other = ok(s.create_group(&fac, &group_input(50)).await, "other");
    let now = 100 * DAY;
    let first = session(s.as_ref(), &g.id, now - 9 * DAY, now - 9 * DAY + 3_600_000).await;
    let second = session(s.as_ref(), &g.id, now - 2 * DAY, now - 2 * DAY + 3_600_000).await;
    let elsewhere = session(s.as_ref(), &other.id, now - 2 * DAY, now - DAY).await;
    let p1 = join(s.as_ref(), &first, "Robin", Some("dev-r"), now - 9 * DAY).await;
    let p2 = join(s.as_ref(), &second, "Bird", Some("dev-r"), now - 2 * DAY).await;
    let bystander = join(s.as_ref(), &second, "Sam", Some("dev-s"), now - 2 * DAY).await;
    let other_group = join(
        s.as_ref(),
        &elsewhere,
        "Robin",
        Some("dev-r"),
        now - 2 * DAY,
    )
    .await;
    ok(s.save_snapshot(&first, "{\"x\":1}", now).await, "snap");
    ok(s.save_snapshot(&second, "{\"x\":2}", now).await, "snap");
    ok(
        s.audit(&entry(&g.id, &fac, Some(&p2), now - 2 * DAY)).await,
        "audit",
    );
    ok(
        s.remove_participant(&p2, true, &fac, now - 2 * DAY).await,
        "ban",
    );

    let mut erased = ok(s.erase_participant(&g.id, &p1, now).await, "erase");
    erased.sort();
    let mut expected = vec![p1.clone(), p2.clone()];
    expected.sort();
    assert_eq!(erased, expected, "both joins from that device");
    assert_eq!(ok(s.participant(&p1).await, "p1"), None);
    assert_eq!(ok(s.participant(&p2).await, "p2"), None);
    assert!(ok(s.participant(&bystander).await, "bystander").is_some());
    assert!(
        ok(s.participant(&other_group).await, "other group").is_some(),
        "another group keeps its own data"
    );
    assert_eq!(ok(s.load_snapshot(&first).await, "snap"), None);
    assert_eq!(ok(s.load_snapshot(&second).await, "snap"), None);
    let log = ok(s.audit_log(&g.id, 10).await, "log");
    assert_eq!(log.len(), 1, "the action stays");
    assert_eq!(log[0].target, None, "but not whom it was done to");
    assert!(
        ok(s.is_banned(&g.id, Some("dev-r"), None).await, "ban"),
        "a ban still holds (hashes only, no id)"
    );
    assert!(matches!(
        s.erase_participant(&g.id, &p1, now).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        matches!(
            s.erase_participant(&g.id, &other_group, now).await,
            Err(StoreError::NotFound)
        ),
        "not in this group"
    );
}

pub async fn erasing_waits_until_their_session_has_ended(db: &Db) {
    let s = db.store();
    let (_, g) = group(s.as_ref()).await;
    let now = 100 * DAY;
    let running = session(s.as_ref(), &g.id, now - 3_600_000, now + 3_600_000).await;
    let p = join(s.as_ref(), &running, "Robin", None, now - 60_000).await;
    assert!(matches!(
        s.erase_participant(&g.id, &p, now).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(ok(s.participant(&p).await, "still there").is_some());
    ok(s.set_session_ended(&running, now + 1).await, "ended");
    let erased = ok(s.erase_participant(&g.id, &p, now + 2).await, "erase");
    assert_eq!(erased, vec![p.clone()], "no device: that join only");
}

pub async fn erasing_a_group_takes_everything_of_it(db: &Db) {
    let s = db.store();
    let (fac, g) = group(s.as_ref()).await;
    let other = ok(s.create_group(&fac, &group_input(50)).await, "other");
    let sess = session(s.as_ref(), &g.id, 1_000, 2_000).await;
    let p = join(s.as_ref(), &sess, "Robin", Some("dev"), 1_500).await;
    ok(s.remove_participant(&p, true, &fac, 1_600).await, "ban");
    ok(s.save_snapshot(&sess, "{}", 1_700).await, "snap");
    ok(s.audit(&entry(&g.id, &fac, Some(&p), 1_600)).await, "audit");
    ok(
        s.audit(&entry(&other.id, &fac, None, 1_600)).await,
        "audit other",
    );

    ok(s.erase_group(&g.id).await, "erase");
    assert_eq!(ok(s.group(&g.id).await, "group"), None);
    assert_eq!(ok(s.session(&sess).await, "session"), None);
    assert_eq!(ok(s.participant(&p).await, "participant"), None);
    assert_eq!(ok(s.load_snapshot(&sess).await, "snap"), None);
    assert!(ok(s.audit_log(&g.id, 10).await, "log").is_empty());
    assert!(!ok(s.is_banned(&g.id, Some("dev"), None).await, "ban"));
    assert_eq!(ok(s.audit_log(&other.id, 10).await, "other").len(), 1);
    assert!(ok(s.group(&other.id).await, "other").is_some());
    assert!(matches!(
        s.erase_group(&g.id).await,
        Err(StoreError::NotFound)
    ));
}
