//! Tests: saving and restoring, the inbox's seen state, history pages.

use super::*;

#[test]
fn a_saved_state_holds_no_text_and_restores_everything_else() {
    let mut h = H::stick();
    h.hands(&["p1", "p2", "p3"]);
    h.ok(
        "p1",
        json!({"type":"say","room":"main","text":"my private words","cw":"grief"}),
    );
    h.ok("p3", json!({"type":"break","on":true,"note":"tea"}));
    h.ok("f1", json!({"type":"mute","participant":"p2","on":true}));
    h.ok(
        "f1",
        json!({"type":"dm","participant":"p3","text":"are you ok?"}),
    );
    h.ok("f1", json!({"type":"announce","text":"two minutes"}));
    h.ok("p2", json!({"type":"need_help","note":"hard night"}));
    h.ok("f1", json!({"type":"pause","on":true}));
    let saved = serde_json::to_string(&h.s.save()).unwrap();
    for words in ["my private words", "grief", "are you ok?", "two minutes"] {
        assert!(!saved.contains(words), "{words} reached the snapshot");
    }
    let r =
        SessionState::restore(Config::default(), serde_json::from_str(&saved).unwrap()).unwrap();
    let v = serde_json::to_value(r.view("f1")).unwrap();
    assert_eq!(v["session"]["phase"], "paused");
    assert_eq!(v["session"]["mode"], "stick");
    assert_eq!(v["stick"]["holder"], "p1");
    assert_eq!(v["stick"]["remaining_ms"], 120_000);
    assert_eq!(v["queue"], json!(["p3"]));
    assert_eq!(v["rooms"][0]["messages"], json!([]), "texts are gone");
    assert_eq!(v["dms"], json!([]));
    assert_eq!(v["inbox"][0]["note"], "hard night", "notes are kept");
    let p2 = v["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "p2")
        .unwrap();
    assert_eq!(p2["muted"], true);
    let p3 = v["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "p3")
        .unwrap();
    assert_eq!(
        (p3["presence"].clone(), p3["break_note"].clone()),
        (json!("break"), json!("tea"))
    );
}

#[test]
fn a_restored_message_can_still_be_reacted_to_and_reported_but_is_not_shown() {
    let mut h = H::live();
    h.ok("p1", json!({"type":"say","room":"main","text":"before"}));
    let mut r = SessionState::restore(Config::default(), h.s.save()).unwrap();
    let events = r
        .apply(
            h.now,
            "p2",
            serde_json::from_value(json!({"type":"react","msg":"m1","emoji":"hug"})).unwrap(),
        )
        .unwrap()
        .events;
    assert_eq!(kinds(&events), ["reacted"]);
    let events = r
        .apply(
            h.now,
            "p2",
            serde_json::from_value(json!({"type":"report","msg":"m1","reason":"unkind"})).unwrap(),
        )
        .unwrap()
        .events;
    assert_eq!(d(&events[0], "from"), "p1");
    // New messages go on from the same numbers.
    let events = r
        .apply(
            h.now,
            "p1",
            serde_json::from_value(json!({"type":"say","room":"main","text":"after"})).unwrap(),
        )
        .unwrap()
        .events;
    assert_eq!(d(&events[0], "msg")["id"], "m2");
    let v = serde_json::to_value(r.view("p2")).unwrap();
    let shown: Vec<&str> = v["rooms"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["m2"]);
}

#[test]
fn after_a_restart_everyone_is_away_and_stored_removals_win() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    let mut r = SessionState::restore(Config::default(), h.s.save()).unwrap();
    let events = r.disconnect_everyone(h.now);
    assert_eq!(events.iter().filter(|e| e.kind() == "presence").count(), 4);
    assert_eq!(r.presence_of("p1"), Some(Presence::Away));
    assert_eq!(
        r.holder().map(|h| h.as_str()),
        Some("p1"),
        "the holder keeps the stick for the grace period"
    );
    // p2 was removed after the snapshot was taken: the store says so.
    let events = r.mark_removed(h.now, &["p2".to_string(), "ghost".to_string()]);
    assert_eq!(kinds(&events), ["left", "queue"]);
    assert!(r.is_removed("p2"));
    assert!(
        r.mark_removed(h.now, &["p2".to_string()]).is_empty(),
        "once"
    );
    assert_eq!(r.set_locked(true).len(), 1);
    assert!(r.set_locked(true).is_empty());
}

#[test]
fn a_snapshot_of_another_version_or_shape_is_refused() {
    let h = H::live();
    let mut saved = serde_json::to_value(h.s.save()).unwrap();
    saved["version"] = json!(99);
    let snap: SessionSnapshot = serde_json::from_value(saved.clone()).unwrap();
    assert!(SessionState::restore(Config::default(), snap).is_err());
    saved["version"] = json!(1);
    saved["queue"] = json!(["stranger"]);
    let snap: SessionSnapshot = serde_json::from_value(saved).unwrap();
    assert!(SessionState::restore(Config::default(), snap).is_err());
}

#[test]
fn help_requests_carry_ids_and_are_marked_seen_once_for_all_facilitators() {
    let mut h = H::live();
    h.connect("f2", Role::Facilitator).unwrap();
    let events = h.ok("p1", json!({"type":"need_help","note":"struggling"}));
    assert_eq!(d(&events[0], "id"), "i1");
    // The same request again while unseen is the same request.
    assert!(h
        .ok("p1", json!({"type":"need_help","note":"struggling"}))
        .is_empty());
    // Participants cannot mark it.
    assert_eq!(
        h.err("p2", json!({"type":"mark_seen","item":"i1"})),
        ErrorCode::Forbidden
    );
    h.now += 4_000;
    let events = h.ok("f2", json!({"type":"mark_seen","item":"i1"}));
    assert_eq!(kinds(&events), ["marked_seen"]);
    assert_eq!(
        (d(&events[0], "item"), d(&events[0], "by")),
        (json!("i1"), json!("f2"))
    );
    assert_eq!(events[0].audience(), Audience::Facilitators);
    assert!(
        h.ok("f1", json!({"type":"mark_seen","item":"i1"}))
            .is_empty(),
        "already seen"
    );
    assert_eq!(
        h.err("f1", json!({"type":"mark_seen","item":"i9"})),
        ErrorCode::NotFound
    );
    let inbox = &h.snap()["inbox"];
    assert_eq!(
        (inbox[0]["seen_by"].clone(), inbox[0]["seen_at"].clone()),
        (json!("f2"), json!(T0 + 4_000))
    );
    // Once seen, asking again is a new request.
    let events = h.ok("p1", json!({"type":"need_help","note":"struggling"}));
    assert_eq!(d(&events[0], "id"), "i2");
    // The summary keeps who asked, when, and when it was seen; no notes.
    let summary = h.s.save().summary();
    assert_eq!(summary.help_requests.len(), 2);
    assert_eq!(summary.help_requests[0].seen_at, Some(T0 + 4_000));
    assert!(!serde_json::to_string(&summary)
        .unwrap()
        .contains("struggling"));
}

#[test]
fn history_pages_go_back_from_a_message() {
    let mut h = H::live();
    for i in 1..=7 {
        h.ok(
            "f1",
            json!({"type":"say","room":"main","text":format!("line {i}")}),
        );
    }
    let page =
        h.s.apply(
            h.now,
            "p1",
            serde_json::from_value(json!({"type":"history","room":"main","before":"m5","limit":3}))
                .unwrap(),
        )
        .unwrap()
        .page
        .unwrap();
    let ids: Vec<&str> = page.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m2", "m3", "m4"]);
    assert!(page.more);
    let page =
        h.s.apply(
            h.now,
            "p1",
            serde_json::from_value(json!({"type":"history","room":"main","before":"m2"})).unwrap(),
        )
        .unwrap()
        .page
        .unwrap();
    assert_eq!(page.messages.len(), 1);
    assert!(!page.more);
    assert_eq!(
        h.err("p1", json!({"type":"history","room":"main","before":"m99"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("p1", json!({"type":"history","room":"r9"})),
        ErrorCode::NotFound
    );
}

#[test]
fn the_welcome_is_bounded_in_bytes_and_says_more() {
    let mut h = H::with(Config {
        welcome_text_bytes: 64 * 1024,
        ..Config::default()
    });
    for i in 0..100 {
        h.ok(
            "f1",
            json!({"type":"say","room":"main","text":format!("{i:03}{}", "é".repeat(1990))}),
        );
    }
    let v = h.snap();
    let size = v.to_string().len();
    assert!(size < 48 * 1024, "{size} bytes");
    assert_eq!(v["rooms"][0]["more"], true);
    let shown = v["rooms"][0]["messages"].as_array().unwrap();
    assert!(shown.last().unwrap()["text"]
        .as_str()
        .unwrap()
        .starts_with("099"));
}

#[test]
fn every_participant_command_kind_has_its_own_rate_limit() {
    let mut h = H::live();
    // Six breaks a minute, then no more; other kinds are unaffected.
    for i in 0..6 {
        h.ok("p1", json!({"type":"break","on": i % 2 == 0}));
    }
    assert_eq!(
        h.err("p1", json!({"type":"break","on":true})),
        ErrorCode::RateLimited
    );
    h.ok("p1", json!({"type":"hand","up":true}));
    h.now += 60_001;
    h.ok("p1", json!({"type":"break","on":true}));
    // Facilitators are not limited.
    for i in 0..30 {
        h.ok("f1", json!({"type":"lock","on": i % 2 == 0}));
    }
}
