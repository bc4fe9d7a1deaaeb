//! Tests: pause, never unattended, the end.

use super::*;

// ------------------------------------------------------------------ pause

#[test]
fn pause_freezes_the_turn_clock_and_resumes_where_it_stood() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    h.wait(50_000);
    let events = h.ok("f1", json!({"type":"pause","on":true,"note":"Breathe"}));
    assert_eq!(kinds(&events), ["phase", "stick"]);
    let p = &events[0];
    assert_eq!(
        (d(p, "phase"), d(p, "note")),
        (json!("paused"), json!("Breathe"))
    );
    let s = &events[1];
    assert_eq!(
        (d(s, "holder"), d(s, "ends_at"), d(s, "remaining_ms")),
        (json!("p1"), Value::Null, json!(70_000))
    );
    assert_eq!(h.snap()["stick"]["remaining_ms"], 70_000);
    assert_eq!(h.snap()["session"]["phase"], "paused");
    assert_eq!(h.s.next_deadline(), Some(T0 + 2 * HOUR - 5 * MIN));
    h.wait(10 * MIN);
    assert!(h.tick().is_empty());
    assert_eq!(h.holder(), "p1");
    let events = h.ok("f1", json!({"type":"pause","on":false}));
    assert_eq!(kinds(&events), ["phase", "stick"]);
    let resumed_at = h.now;
    assert_eq!(d(&events[1], "ends_at"), json!(resumed_at + 70_000));
    assert!(h.snap()["stick"].get("remaining_ms").is_none());
    h.wait(70_000);
    let events = h.tick();
    // 50 s before the pause + 70 s after: the paused ten minutes don't count
    assert_eq!(d(find(&events, "spoke"), "spoken_ms"), 120_000);
}

#[test]
fn pause_refusals() {
    let mut h = H::lobby();
    assert_eq!(
        h.err("f1", json!({"type":"pause","on":true})),
        ErrorCode::BadRequest
    );
    h.ok("f1", json!({"type":"start"}));
    assert_eq!(
        h.err("f1", json!({"type":"pause","on":false})),
        ErrorCode::BadRequest
    );
    h.ok("f1", json!({"type":"pause","on":true}));
    assert_eq!(
        h.err("f1", json!({"type":"pause","on":true})),
        ErrorCode::BadRequest
    );
}

#[test]
fn no_handing_on_while_paused() {
    let mut h = H::stick();
    h.ok("f1", json!({"type":"pause","on":true}));
    h.hands(&["p1"]);
    assert_eq!(h.holder(), Value::Null);
    let events = h.ok("f1", json!({"type":"pause","on":false}));
    assert_eq!(d(find(&events, "stick"), "holder"), "p1");
}

// ------------------------------------------------------------------ never unattended, the end

#[test]
fn the_session_pauses_itself_when_no_facilitator_is_online() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    h.wait(10_000);
    h.disconnect("f1");
    assert_eq!(h.s.next_deadline(), Some(h.now + 30_000));
    h.wait(29_999);
    assert!(!has(&h.tick(), "phase"));
    h.wait(1);
    let events = h.tick();
    let p = find(&events, "phase");
    assert_eq!(
        (d(p, "phase"), d(p, "reason")),
        (json!("paused"), json!("no_facilitator"))
    );
    assert_eq!(
        d(find(&events, "stick"), "remaining_ms"),
        json!(120_000 - 40_000)
    );
    // the facilitator's return does not resume it
    h.wait(MIN);
    h.connect("f1", Role::Facilitator).unwrap();
    assert_eq!(h.phase(), "paused");
    h.ok("f1", json!({"type":"pause","on":false}));
    assert_eq!(h.phase(), "live");
    assert_eq!(h.holder(), "p1");
}

#[test]
fn another_facilitator_online_keeps_the_session_going() {
    let mut h = H::live();
    h.connect("f2", Role::Facilitator).unwrap();
    h.disconnect("f1");
    h.wait(HOUR);
    assert!(!has(&h.tick(), "phase"));
    assert_eq!(h.phase(), "live");
}

#[test]
fn no_facilitator_pause_only_while_live() {
    let mut h = H::lobby();
    h.disconnect("f1");
    h.wait(MIN);
    assert!(!has(&h.tick(), "phase"));
    assert_eq!(h.phase(), "lobby");
}

#[test]
fn a_restarted_live_session_pauses_unless_a_facilitator_returns() {
    let mut s = SessionState::new(Config::default(), true, false, T0 + HOUR, T0);
    assert_eq!(s.phase(), Phase::Live);
    s.connect(T0, "p1", "Sam", Role::Participant).unwrap();
    assert_eq!(s.next_deadline(), Some(T0 + 30_000));
    let events = s.tick(T0 + 30_000);
    assert_eq!(s.phase(), Phase::Paused);
    assert_eq!(d(find(&events, "phase"), "reason"), "no_facilitator");
}

#[test]
fn ending_soon_then_the_end_at_ends_at() {
    let mut h = H::stick();
    h.now = T0 + 2 * HOUR - 5 * MIN - 1;
    h.tick();
    h.hands(&["p1"]);
    h.now += 1;
    let events = h.tick();
    assert_eq!(kinds(&events), ["ending_soon"]);
    assert_eq!(d(&events[0], "ends_at"), json!(T0 + 2 * HOUR));
    h.now += 1;
    assert!(h.tick().is_empty(), "only once");
    h.now = T0 + 2 * HOUR;
    let events = h.tick();
    let k = kinds(&events);
    assert_eq!(&k[k.len() - 3..], ["spoke", "stick", "phase"]);
    let p = events.last().unwrap();
    assert_eq!(
        (d(p, "phase"), d(p, "reason")),
        (json!("ended"), json!("time"))
    );
    assert_eq!(h.s.phase(), Phase::Ended);
    assert_eq!(h.err("p1", json!({"type":"pass"})), ErrorCode::SessionEnded);
}

#[test]
fn the_end_comes_even_in_the_lobby_or_paused() {
    let mut h = H::lobby();
    h.now = T0 + 3 * HOUR;
    let events = h.tick();
    assert_eq!(kinds(&events), ["ending_soon", "phase"]);
    assert_eq!(h.s.phase(), Phase::Ended);
}

#[test]
fn the_snapshot_says_who_paused_why_and_with_what_note_until_resumed() {
    let mut h = H::live();
    h.ok("f1", json!({"type":"pause","on":true,"note":"a breath"}));
    assert_eq!(
        h.snap()["session"]["pause"],
        json!({"by":"f1","note":"a breath"})
    );
    // It survives a restore too.
    let r = SessionState::restore(Config::default(), h.s.save()).unwrap();
    assert_eq!(
        serde_json::to_value(r.view("p1")).unwrap()["session"]["pause"]["note"],
        "a breath"
    );
    h.ok("f1", json!({"type":"pause","on":false}));
    assert!(h.snap()["session"].get("pause").is_none());
    // Paused by itself: the reason, and nobody.
    h.disconnect("f1");
    h.wait(30_000);
    h.tick();
    assert_eq!(
        h.snap()["session"]["pause"],
        json!({"reason":"no_facilitator"})
    );
}
