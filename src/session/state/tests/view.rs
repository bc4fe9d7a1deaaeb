//! Tests: snapshot.

use super::*;

// ------------------------------------------------------------------ snapshot

#[test]
fn snapshot_shape() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    h.ok("p3", json!({"type":"break","on":true,"note":"tea"}));
    let s = h.snap();
    assert_eq!(
        s["session"],
        json!({"phase":"live","mode":"stick","locked":false,"turn_seconds":120,"ends_at":T0 + 2 * HOUR})
    );
    assert_eq!(s["queue"], json!(["p2"]));
    assert_eq!(
        s["stick"],
        json!({"holder":"p1","ends_at":T0 + 120_000,"turn":1})
    );
    let ids: Vec<&str> = s["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["f1", "p1", "p2", "p3"]);
    assert_eq!(
        h.person("p3"),
        json!({"id":"p3","name":"Jo","role":"participant","presence":"break","muted":false,
               "turns":0,"spoken_ms":0,"hand":false,"break_note":"tea"})
    );
    assert_eq!(h.person("f1")["role"], "facilitator");
    assert_eq!(
        s["rooms"],
        json!([{"id":"main","name":"Main circle","messages":[],"more":false}])
    );
    assert_eq!(s["dms"], json!([]));
    let fresh = SessionState::new(Config::default(), false, false, T0 + HOUR, T0);
    assert_eq!(
        serde_json::to_value(fresh.view("x")).unwrap()["stick"],
        json!({"holder":null,"ends_at":null,"turn":null})
    );
}

#[test]
fn spoken_ms_never_exceeds_live_time_across_pauses() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    for _ in 0..5 {
        h.wait(7_000);
        h.ok("f1", json!({"type":"pause","on":true}));
        h.wait(MIN);
        h.ok("f1", json!({"type":"pause","on":false}));
    }
    h.ok("p1", json!({"type":"pass"}));
    assert_eq!(h.person("p1")["spoken_ms"], 35_000);
    assert_eq!(h.s.live_ms(), 35_000);
}

#[test]
fn time_never_runs_backwards() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    h.wait(10_000);
    h.ok("f1", json!({"type":"pause","on":true}));
    // a stale `now` is taken as the latest one seen
    h.now = T0;
    h.ok("f1", json!({"type":"pause","on":false}));
    h.ok("p1", json!({"type":"pass"}));
    assert_eq!(h.person("p1")["spoken_ms"], 10_000);
}

#[test]
fn a_resumed_turn_with_little_time_left_is_warned_at_once() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    h.wait(100_000);
    h.ok("f1", json!({"type":"pause","on":true}));
    h.wait(MIN);
    h.ok("f1", json!({"type":"pause","on":false}));
    // 20 s left: the warning is due already
    assert_eq!(h.s.next_deadline(), Some(h.now - 10_000));
    let events = h.tick();
    assert_eq!(kinds(&events), ["turn_warning"]);
    assert_eq!(d(&events[0], "ends_at"), json!(h.now + 20_000));
    assert!(h.s.next_deadline().unwrap() > h.now);
}

#[test]
fn a_round_with_nobody_online_falls_back_at_once() {
    let mut h = H::lobby();
    for p in ["p1", "p2", "p3"] {
        h.disconnect(p);
    }
    let events = h.ok("f1", json!({"type":"mode","mode":"round"}));
    assert_eq!(kinds(&events), ["mode", "queue", "mode"]);
    assert_eq!(d(&events[2], "mode"), "stick");
    assert_eq!(d(&events[2], "reason"), "round_over");
}

#[test]
fn a_hand_raised_on_break_waits_for_the_return() {
    let mut h = H::stick();
    h.ok("p1", json!({"type":"break","on":true}));
    h.hands(&["p1", "p2"]);
    assert_eq!(h.holder(), "p2");
    assert_eq!(h.queue(), ["p1"]);
}

#[test]
fn facilitators_join_as_facilitators_and_may_not_take_the_stick() {
    let mut h = H::stick();
    let events = h.connect("f2", Role::Facilitator).unwrap();
    assert_eq!(d(&events[0], "participant")["role"], "facilitator");
    assert_eq!(h.s.role_of("f2"), Some(Role::Facilitator));
    assert_eq!(
        h.err("f2", json!({"type":"hand","up":true})),
        ErrorCode::BadRequest
    );
    assert_eq!(
        h.err("f2", json!({"type":"give","participant":"f2"})),
        ErrorCode::BadRequest
    );
}

#[test]
fn a_large_room_lists_a_first_page_of_people_and_pages_the_rest() {
    let mut h = H::with(Config {
        large_room: 5,
        welcome_people: 2,
        ..Config::default()
    });
    for i in 4..=9 {
        h.connect(&format!("p{i}"), Role::Participant).unwrap();
    }
    h.ok("p8", json!({"type":"hand","up":true}));
    // Ten people: the facilitator, the first two others, the queued p8 and
    // the viewer p9 are listed; the rest are counted.
    let v = serde_json::to_value(h.s.view("p9")).unwrap();
    let ids: Vec<&str> = v["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["f1", "p1", "p2", "p8", "p9"]);
    assert_eq!(v["participants_total"], 10);
    assert_eq!(v["participants_more"], true);
    // Paging walks everyone in the order they came.
    let run = |h: &mut H, after: Option<&str>| {
        let cmd = json!({"type":"people","after":after,"limit":4});
        h.s.apply(h.now, "p9", serde_json::from_value(cmd).unwrap())
            .unwrap()
            .people
            .unwrap()
    };
    let first = run(&mut h, None);
    assert_eq!(first.participants.len(), 4);
    assert!(first.more);
    let second = run(&mut h, Some("p3"));
    let ids: Vec<&str> = second.participants.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p4", "p5", "p6", "p7"]);
    let last = run(&mut h, Some("p7"));
    assert_eq!(last.participants.len(), 2);
    assert!(!last.more);
    assert_eq!(
        h.err("p9", json!({"type":"people","after":"nobody"})),
        ErrorCode::NotFound
    );
    // A small room lists everyone.
    let small = H::lobby();
    let v = serde_json::to_value(small.s.view("p1")).unwrap();
    assert_eq!(v["participants"].as_array().unwrap().len(), 4);
    assert_eq!(v["participants_total"], 4);
    assert_eq!(v["participants_more"], false);
}
