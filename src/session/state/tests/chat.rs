//! Tests: say, react, report, need_help.

use super::*;

// ------------------------------------------------------------------ say

#[test]
fn say_posts_trimmed_text_with_content_note() {
    let mut h = H::live();
    let events = h.ok(
        "p1",
        json!({"type":"say","room":"main","text":"  hello all  ","cw":" loss "}),
    );
    assert_eq!(kinds(&events), ["said"]);
    let e = &events[0];
    assert_eq!(d(e, "room"), "main");
    let msg = d(e, "msg");
    assert_eq!(msg["id"], "m1");
    assert_eq!(msg["from"], "p1");
    assert_eq!(msg["text"], "hello all");
    assert_eq!(msg["cw"], "loss");
    assert_eq!(msg["at"], T0);
    let snap = h.snap();
    let m = &snap["rooms"][0]["messages"][0];
    assert_eq!(snap["rooms"][0]["id"], "main");
    assert_eq!(snap["rooms"][0]["name"], "Main circle");
    assert_eq!(m["text"], "hello all");
    assert_eq!(m["reactions"], json!({}));
    let events = h.ok("p2", json!({"type":"say","room":"main","text":"hi"}));
    assert_eq!(d(&events[0], "msg")["id"], "m2");
    assert_eq!(d(&events[0], "msg")["cw"], Value::Null);
}

#[test]
fn say_length_rules() {
    let mut h = H::live();
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"main","text":"   "})),
        ErrorCode::BadRequest
    );
    let max = "é".repeat(2000);
    h.ok("p1", json!({"type":"say","room":"main","text":max}));
    let over = "é".repeat(2001);
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"main","text":over})),
        ErrorCode::TooLong
    );
    let cw = "x".repeat(81);
    assert_eq!(
        h.err(
            "p1",
            json!({"type":"say","room":"main","text":"hi","cw":cw})
        ),
        ErrorCode::TooLong
    );
}

#[test]
fn say_in_an_unknown_room_is_not_found() {
    let mut h = H::live();
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"r9","text":"hi"})),
        ErrorCode::NotFound
    );
}

#[test]
fn say_in_the_lobby_waits_for_the_start_but_facilitators_may_speak() {
    let mut h = H::lobby();
    let r = h
        .run("p1", json!({"type":"say","room":"main","text":"hi"}))
        .unwrap_err();
    assert_eq!(r.code, ErrorCode::Paused);
    assert!(r.message.contains("hasn't started"));
    h.ok(
        "f1",
        json!({"type":"say","room":"main","text":"Welcome, we start at seven."}),
    );
}

#[test]
fn say_while_paused_is_refused_for_participants_only() {
    let mut h = H::live();
    h.ok("f1", json!({"type":"pause","on":true}));
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"main","text":"hi"})),
        ErrorCode::Paused
    );
    h.ok(
        "f1",
        json!({"type":"say","room":"main","text":"Back in a moment"}),
    );
    h.ok("f1", json!({"type":"announce","text":"Short pause"}));
}

#[test]
fn say_check_order_muted_then_paused_then_turn() {
    let mut h = H::stick();
    h.ok("f1", json!({"type":"mute","participant":"p1","on":true}));
    h.ok("f1", json!({"type":"pause","on":true}));
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"main","text":"hi"})),
        ErrorCode::Muted
    );
    assert_eq!(
        h.err("p2", json!({"type":"say","room":"main","text":"hi"})),
        ErrorCode::Paused
    );
    h.ok("f1", json!({"type":"pause","on":false}));
    assert_eq!(
        h.err("p2", json!({"type":"say","room":"main","text":"hi"})),
        ErrorCode::NotYourTurn
    );
    // muted beats everything but the end
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"main","text":""})),
        ErrorCode::Muted
    );
}

#[test]
fn stick_mode_lets_only_the_holder_and_facilitators_speak_in_main() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    assert_eq!(h.holder(), "p1");
    h.ok("p1", json!({"type":"say","room":"main","text":"my turn"}));
    assert_eq!(
        h.err("p2", json!({"type":"say","room":"main","text":"me too"})),
        ErrorCode::NotYourTurn
    );
    h.ok("f1", json!({"type":"say","room":"main","text":"thank you"}));
    // everyone may still react
    h.ok("p2", json!({"type":"react","msg":"m1","emoji":"hug"}));
    // side rooms are always open
    let events = h.ok("f1", json!({"type":"room_open","name":"Chat"}));
    let room = d(&events[0], "room");
    assert_eq!(room, json!({"id":"r1","name":"Chat"}));
    h.ok("p2", json!({"type":"say","room":"r1","text":"side talk"}));
}

#[test]
fn round_mode_also_restricts_main() {
    let mut h = H::live();
    h.ok("f1", json!({"type":"mode","mode":"round"}));
    assert_eq!(h.holder(), "p1");
    h.ok("p1", json!({"type":"say","room":"main","text":"hi"}));
    assert_eq!(
        h.err("p2", json!({"type":"say","room":"main","text":"hi"})),
        ErrorCode::NotYourTurn
    );
}

#[test]
fn say_is_rate_limited() {
    let mut h = H::live();
    for i in 0..10 {
        h.wait(100);
        h.ok(
            "p1",
            json!({"type":"say","room":"main","text":format!("n{i}")}),
        );
    }
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"main","text":"one more"})),
        ErrorCode::RateLimited
    );
    // others are not affected
    h.ok("p2", json!({"type":"say","room":"main","text":"hi"}));
    // facilitators are trusted with bursts (reading the agreement line by line)
    for i in 0..15 {
        h.ok(
            "f1",
            json!({"type":"say","room":"main","text":format!("rule {i}")}),
        );
    }
    // the window slides: the first say (at +100) leaves it at +10_100
    h.wait(10_000 - 900);
    h.ok("p1", json!({"type":"say","room":"main","text":"again"}));
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"main","text":"more"})),
        ErrorCode::RateLimited
    );
}

#[test]
fn history_is_bounded_per_room() {
    let mut h = H::with(Config {
        room_history: 3,
        ..Config::default()
    });
    h.ok("f1", json!({"type":"start"}));
    for i in 0..4 {
        h.ok(
            "p1",
            json!({"type":"say","room":"main","text":format!("n{i}")}),
        );
    }
    let snap = h.snap();
    let ids: Vec<&str> = snap["rooms"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["m2", "m3", "m4"]);
    assert_eq!(
        h.err("p2", json!({"type":"react","msg":"m1","emoji":"heart"})),
        ErrorCode::NotFound
    );
}

// ------------------------------------------------------------------ react, report, need_help

#[test]
fn react_counts_each_person_once_per_emoji() {
    let mut h = H::live();
    h.ok("p1", json!({"type":"say","room":"main","text":"hard week"}));
    let events = h.ok("p2", json!({"type":"react","msg":"m1","emoji":"me_too"}));
    let e = find(&events, "reacted");
    assert_eq!(
        (d(e, "msg"), d(e, "emoji"), d(e, "from"), d(e, "room")),
        (json!("m1"), json!("me_too"), json!("p2"), json!("main"))
    );
    assert!(h
        .ok("p2", json!({"type":"react","msg":"m1","emoji":"me_too"}))
        .is_empty());
    h.ok("p3", json!({"type":"react","msg":"m1","emoji":"me_too"}));
    h.ok("p3", json!({"type":"react","msg":"m1","emoji":"heart"}));
    assert_eq!(
        h.snap()["rooms"][0]["messages"][0]["reactions"],
        json!({"heart":1,"me_too":2})
    );
}

#[test]
fn react_refusals() {
    let mut h = H::live();
    h.ok("p1", json!({"type":"say","room":"main","text":"hi"}));
    assert_eq!(
        h.err("p2", json!({"type":"react","msg":"m9","emoji":"heart"})),
        ErrorCode::NotFound
    );
    h.ok("f1", json!({"type":"pause","on":true}));
    assert_eq!(
        h.err("p2", json!({"type":"react","msg":"m1","emoji":"heart"})),
        ErrorCode::Paused
    );
    assert_eq!(
        h.err("f1", json!({"type":"react","msg":"m1","emoji":"heart"})),
        ErrorCode::Paused
    );
}

#[test]
fn report_reaches_facilitators_only() {
    let mut h = H::live();
    h.ok(
        "p1",
        json!({"type":"say","room":"main","text":"something hurtful"}),
    );
    let events = h.ok(
        "p2",
        json!({"type":"report","msg":"m1","reason":" felt unkind "}),
    );
    let e = find(&events, "reported");
    assert_eq!(e.audience(), Audience::Facilitators);
    assert_eq!(
        serde_json::to_value(e).unwrap(),
        json!({"kind":"reported","id":"i1","msg":"m1","by":"p2","reason":"felt unkind","from":"p1","room":"main"})
    );
    assert_eq!(
        h.err("p2", json!({"type":"report","msg":"m7","reason":"x"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("p2", json!({"type":"report","msg":"m1","reason":" "})),
        ErrorCode::BadRequest
    );
    let long = "x".repeat(501);
    assert_eq!(
        h.err("p2", json!({"type":"report","msg":"m1","reason":long})),
        ErrorCode::TooLong
    );
}

#[test]
fn need_help_reaches_facilitators_only_even_when_muted_or_paused() {
    let mut h = H::live();
    h.ok("f1", json!({"type":"mute","participant":"p1","on":true}));
    h.ok("f1", json!({"type":"pause","on":true}));
    let events = h.ok("p1", json!({"type":"need_help","note":"I'm struggling"}));
    let e = find(&events, "help_requested");
    assert_eq!(e.audience(), Audience::Facilitators);
    assert_eq!(
        (d(e, "from"), d(e, "note")),
        (json!("p1"), json!("I'm struggling"))
    );
    let events = h.ok("p2", json!({"type":"need_help"}));
    assert_eq!(d(&events[0], "note"), Value::Null);
    // A facilitator who (re)connects later still finds both in the inbox;
    // participants never see it.
    let inbox = serde_json::to_value(h.s.view("f1")).unwrap()["inbox"].clone();
    assert_eq!(inbox.as_array().map(Vec::len), Some(2));
    assert_eq!(inbox[0]["kind"], "help_requested");
    assert_eq!(inbox[0]["from"], "p1");
    assert_eq!(
        serde_json::to_value(h.s.view("p2")).unwrap()["inbox"],
        json!([])
    );
}
