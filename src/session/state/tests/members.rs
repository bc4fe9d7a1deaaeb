//! Tests: presence and joining, breaks, presence and the stick.

use super::*;

// ------------------------------------------------------------------ presence and joining

#[test]
fn connect_announces_a_new_member_with_the_participant_object() {
    let mut h = H::live();
    let events = h.connect("p4", Role::Participant).unwrap();
    assert_eq!(kinds(&events), ["joined"]);
    let p = d(&events[0], "participant");
    assert_eq!(
        p,
        json!({"id":"p4","name":"p4","role":"participant","presence":"online","muted":false,
               "turns":0,"spoken_ms":0,"hand":false})
    );
    assert!(events[0].audience() == Audience::All);
    // a second connect (already online) is silent
    assert!(h.connect("p4", Role::Participant).unwrap().is_empty());
}

#[test]
fn disconnect_is_away_then_offline_after_grace_and_comeback_is_online() {
    let mut h = H::live();
    let events = h.disconnect("p1");
    assert_eq!(d(find(&events, "presence"), "presence"), "away");
    h.wait(29_999);
    assert!(h.tick().iter().all(|e| e.kind() != "presence"));
    h.wait(1);
    let events = h.tick();
    let p = find(&events, "presence");
    assert_eq!(
        (d(p, "participant"), d(p, "presence")),
        (json!("p1"), json!("offline"))
    );
    assert_eq!(h.person("p1")["presence"], "offline");
    h.wait(HOUR);
    let events = h.connect("p1", Role::Participant).unwrap();
    assert_eq!(d(find(&events, "presence"), "presence"), "online");
    assert!(!has(&events, "joined"));
}

#[test]
fn a_returning_participant_keeps_hand_place_break_and_role() {
    let mut h = H::lobby();
    h.hands(&["p1", "p2"]);
    h.ok("p1", json!({"type":"break","on":true,"note":"back soon"}));
    h.disconnect("p1");
    h.wait(5 * MIN);
    h.tick();
    // tries to come back as a facilitator: the stored role wins
    let events = h.connect("p1", Role::Facilitator).unwrap();
    let p = find(&events, "presence");
    assert_eq!(
        (d(p, "presence"), d(p, "note")),
        (json!("break"), json!("back soon"))
    );
    assert_eq!(h.queue(), ["p1", "p2"]);
    assert_eq!(h.person("p1")["role"], "participant");
    assert_eq!(h.person("p1")["hand"], true);
    assert_eq!(h.person("p1")["break_note"], "back soon");
}

// ------------------------------------------------------------------ breaks

#[test]
fn break_on_and_off() {
    let mut h = H::live();
    let events = h.ok("p1", json!({"type":"break","on":true,"note":"Making tea"}));
    let e = find(&events, "presence");
    assert_eq!(
        (d(e, "participant"), d(e, "presence"), d(e, "note")),
        (json!("p1"), json!("break"), json!("Making tea"))
    );
    assert_eq!(h.person("p1")["presence"], "break");
    let events = h.ok("p1", json!({"type":"break","on":false}));
    let e = find(&events, "presence");
    assert_eq!(
        (d(e, "presence"), d(e, "note")),
        (json!("online"), Value::Null)
    );
    assert!(h.person("p1").get("break_note").is_none());
    let long = "x".repeat(501);
    assert_eq!(
        h.err("p1", json!({"type":"break","on":true,"note":long})),
        ErrorCode::TooLong
    );
}

#[test]
fn the_holder_going_on_break_loses_the_stick() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    let events = h.ok("p1", json!({"type":"break","on":true}));
    assert_eq!(
        kinds(&events),
        ["presence", "spoke", "stick", "queue", "stick"]
    );
    assert_eq!(d(&events[1], "reason"), "break");
    assert_eq!(h.holder(), "p2");
}

#[test]
fn a_participant_on_break_keeps_their_place_is_skipped_then_is_next() {
    let mut h = H::stick();
    h.ok("f1", json!({"type":"pause","on":true}));
    h.hands(&["p1", "p2", "p3"]);
    h.ok("p1", json!({"type":"break","on":true}));
    let events = h.ok("f1", json!({"type":"pause","on":false}));
    assert_eq!(d(find(&events, "stick"), "holder"), "p2");
    assert_eq!(h.queue(), ["p1", "p3"]);
    assert_eq!(h.person("p1")["hand"], true);
    h.ok("p1", json!({"type":"break","on":false}));
    assert_eq!(h.holder(), "p2", "coming back doesn't interrupt");
    h.ok("p2", json!({"type":"pass"}));
    assert_eq!(h.holder(), "p1");
    assert_eq!(h.queue(), ["p3"]);
}

#[test]
fn coming_back_from_a_break_with_nobody_holding_takes_the_stick_at_once() {
    let mut h = H::stick();
    h.ok("p1", json!({"type":"break","on":true}));
    h.hands(&["p1"]);
    assert_eq!(h.holder(), Value::Null);
    let events = h.ok("p1", json!({"type":"break","on":false}));
    assert_eq!(d(find(&events, "stick"), "holder"), "p1");
}

// ------------------------------------------------------------------ presence and the stick

#[test]
fn away_participants_are_skipped_and_keep_their_place() {
    let mut h = H::stick();
    h.ok("f1", json!({"type":"pause","on":true}));
    h.hands(&["p1", "p2"]);
    h.disconnect("p1");
    h.ok("f1", json!({"type":"pause","on":false}));
    assert_eq!(h.holder(), "p2");
    assert_eq!(h.queue(), ["p1"]);
    h.connect("p1", Role::Participant).unwrap();
    h.ok("p2", json!({"type":"pass"}));
    assert_eq!(h.holder(), "p1");
}

#[test]
fn a_disconnected_holder_keeps_the_stick_within_grace_and_loses_it_after() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    h.wait(5_000);
    h.disconnect("p1");
    h.wait(20_000);
    h.tick();
    assert_eq!(h.holder(), "p1");
    h.connect("p1", Role::Participant).unwrap();
    h.wait(1_000);
    h.disconnect("p1");
    h.wait(30_000);
    let events = h.tick();
    assert_eq!(
        kinds(&events),
        ["presence", "spoke", "stick", "queue", "stick"]
    );
    assert_eq!(d(&events[0], "presence"), "offline");
    assert_eq!(d(&events[1], "reason"), "away");
    assert_eq!(d(&events[1], "spoken_ms"), 56_000);
    assert_eq!(h.holder(), "p2");
}
