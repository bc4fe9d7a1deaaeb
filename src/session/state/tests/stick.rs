//! Tests: hand, queue, fair order, handing on, pass, turn timer.

use super::*;

// ------------------------------------------------------------------ hand, queue, fair order

#[test]
fn hand_up_and_down_change_the_queue() {
    let mut h = H::live();
    let events = h.ok("p1", json!({"type":"hand","up":true}));
    assert_eq!(d(find(&events, "queue"), "queue"), json!(["p1"]));
    assert_eq!(h.person("p1")["hand"], true);
    // up again: nothing happens
    assert!(h.ok("p1", json!({"type":"hand","up":true})).is_empty());
    let events = h.ok("p1", json!({"type":"hand","up":false}));
    assert_eq!(d(find(&events, "queue"), "queue"), json!([]));
    assert!(h.ok("p1", json!({"type":"hand","up":false})).is_empty());
}

#[test]
fn hand_refusals() {
    let mut h = H::live();
    h.ok("f1", json!({"type":"mute","participant":"p1","on":true}));
    assert_eq!(
        h.err("p1", json!({"type":"hand","up":true})),
        ErrorCode::Muted
    );
    assert_eq!(
        h.err("f1", json!({"type":"hand","up":true})),
        ErrorCode::BadRequest
    );
}

#[test]
fn hands_may_go_up_in_the_lobby_and_the_stick_waits_for_the_start() {
    let mut h = H::lobby();
    h.ok("f1", json!({"type":"mode","mode":"stick"}));
    h.hands(&["p2"]);
    assert_eq!(h.holder(), Value::Null);
    let events = h.ok("f1", json!({"type":"start"}));
    assert_eq!(d(find(&events, "phase"), "phase"), "live");
    assert_eq!(d(find(&events, "stick"), "holder"), "p2");
}

#[test]
fn holding_the_stick_and_raising_a_hand_is_a_no_op() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    assert!(h.ok("p1", json!({"type":"hand","up":true})).is_empty());
    assert!(h.queue().is_empty());
}

#[test]
fn fair_order_puts_those_who_spoke_least_first_ties_by_hand_order() {
    let mut h = H::stick();
    h.connect("p4", Role::Participant).unwrap();
    h.ok("f1", json!({"type":"give","participant":"p1"}));
    h.ok("p1", json!({"type":"pass"}));
    h.ok("f1", json!({"type":"pause","on":true}));
    assert_eq!(h.person("p1")["turns"], 1);
    h.hands(&["p1", "p2", "p3"]);
    assert_eq!(h.queue(), ["p2", "p3", "p1"]);
    h.hands(&["p4"]);
    assert_eq!(h.queue(), ["p2", "p3", "p4", "p1"]);
    // a facilitator's move overrides it
    let events = h.ok("f1", json!({"type":"move","participant":"p1","to":0}));
    assert_eq!(
        d(find(&events, "queue"), "queue"),
        json!(["p1", "p2", "p3", "p4"])
    );
}

#[test]
fn move_clamps_and_needs_a_queued_participant() {
    let mut h = H::lobby();
    h.hands(&["p1", "p2"]);
    h.ok("f1", json!({"type":"move","participant":"p1","to":99}));
    assert_eq!(h.queue(), ["p2", "p1"]);
    assert_eq!(
        h.err("f1", json!({"type":"move","participant":"p3","to":0})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("f1", json!({"type":"move","participant":"zz","to":0})),
        ErrorCode::NotFound
    );
}

#[test]
fn lower_takes_a_participant_out_of_the_queue() {
    let mut h = H::lobby();
    h.hands(&["p1", "p2"]);
    let events = h.ok("f1", json!({"type":"lower","participant":"p1"}));
    assert_eq!(d(find(&events, "queue"), "queue"), json!(["p2"]));
    assert_eq!(h.person("p1")["hand"], false);
    assert!(h
        .ok("f1", json!({"type":"lower","participant":"p1"}))
        .is_empty());
    assert_eq!(
        h.err("f1", json!({"type":"lower","participant":"nobody"})),
        ErrorCode::NotFound
    );
}

// ------------------------------------------------------------------ handing on, pass, turn timer

#[test]
fn handing_on_gives_the_first_queued_the_stick_with_a_deadline() {
    let mut h = H::stick();
    h.wait(1000);
    let events = h.ok("p2", json!({"type":"hand","up":true}));
    assert_eq!(kinds(&events), ["queue", "queue", "stick"]);
    let stick = find(&events, "stick");
    assert_eq!(d(stick, "holder"), "p2");
    assert_eq!(d(stick, "ends_at"), json!(T0 + 1000 + 120_000));
    assert_eq!(d(stick, "turn"), 1);
    assert_eq!(d(&events[1], "queue"), json!([]));
    assert_eq!(h.person("p2")["turns"], 1);
    assert_eq!(h.snap()["stick"]["ends_at"], json!(T0 + 121_000));
}

#[test]
fn pass_ends_the_turn_and_hands_on() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    h.wait(20_000);
    assert_eq!(h.err("p2", json!({"type":"pass"})), ErrorCode::NotHolder);
    let events = h.ok("p1", json!({"type":"pass"}));
    assert_eq!(kinds(&events), ["spoke", "stick", "queue", "stick"]);
    let spoke = &events[0];
    assert_eq!(
        (
            d(spoke, "participant"),
            d(spoke, "turns"),
            d(spoke, "spoken_ms"),
            d(spoke, "reason")
        ),
        (json!("p1"), json!(1), json!(20_000), json!("pass"))
    );
    assert_eq!(d(&events[1], "holder"), Value::Null);
    assert_eq!(d(&events[3], "holder"), "p2");
    assert_eq!(d(&events[3], "turn"), 2);
    assert_eq!(h.person("p1")["spoken_ms"], 20_000);
}

#[test]
fn pass_with_nobody_holding_is_not_holder() {
    let mut h = H::live();
    assert_eq!(h.err("p1", json!({"type":"pass"})), ErrorCode::NotHolder);
}

#[test]
fn the_server_ends_a_turn_at_its_deadline_with_a_warning_first() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    assert_eq!(h.s.next_deadline(), Some(T0 + 90_000));
    h.wait(89_999);
    assert!(h.tick().is_empty());
    h.wait(1);
    let events = h.tick();
    assert_eq!(kinds(&events), ["turn_warning"]);
    let w = &events[0];
    assert_eq!(
        (d(w, "holder"), d(w, "ends_at"), d(w, "turn")),
        (json!("p1"), json!(T0 + 120_000), json!(1))
    );
    assert!(h.tick().is_empty(), "warning only once");
    assert_eq!(h.s.next_deadline(), Some(T0 + 120_000));
    h.wait(30_000);
    let events = h.tick();
    assert_eq!(kinds(&events), ["spoke", "stick", "queue", "stick"]);
    assert_eq!(d(&events[0], "reason"), "time");
    assert_eq!(d(&events[0], "spoken_ms"), 120_000);
    assert_eq!(h.holder(), "p2");
}

#[test]
fn a_late_tick_ends_the_turn_at_its_deadline() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    h.wait(125_000);
    let events = h.tick();
    assert_eq!(d(find(&events, "spoke"), "spoken_ms"), 120_000);
}

#[test]
fn short_turns_get_no_warning() {
    let mut h = H::live();
    h.ok(
        "f1",
        json!({"type":"mode","mode":"stick","turn_seconds":30}),
    );
    h.hands(&["p1"]);
    assert_eq!(h.s.next_deadline(), Some(T0 + 30_000));
    h.wait(30_000);
    let events = h.tick();
    assert!(!has(&events, "turn_warning"));
    assert!(has(&events, "spoke"));
}

#[test]
fn a_stale_turn_timer_cannot_end_a_later_turn_of_the_same_person() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    h.wait(10_000);
    h.ok("p1", json!({"type":"pass"}));
    h.wait(10_000);
    h.hands(&["p1"]);
    let stick = h.snap()["stick"].clone();
    assert_eq!(
        (stick["holder"].clone(), stick["turn"].clone()),
        (json!("p1"), json!(2))
    );
    // the first turn's deadline passes
    h.now = T0 + 120_000;
    let events = h.tick();
    assert!(!has(&events, "spoke"), "{:?}", kinds(&events));
    assert_eq!(h.holder(), "p1");
    h.now = T0 + 140_000;
    let events = h.tick();
    assert_eq!(d(find(&events, "spoke"), "turn"), 2);
}
