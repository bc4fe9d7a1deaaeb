//! Tests: facilitator commands.

use super::*;

// ------------------------------------------------------------------ facilitator commands

#[test]
fn every_facilitator_command_by_a_participant_is_forbidden() {
    let cmds = [
        json!({"type":"start"}),
        json!({"type":"pause","on":true}),
        json!({"type":"mute","participant":"p2","on":true}),
        json!({"type":"mute_all","on":true}),
        json!({"type":"give","participant":"p1"}),
        json!({"type":"give","participant":null}),
        json!({"type":"lower","participant":"p2"}),
        json!({"type":"move","participant":"p2","to":0}),
        json!({"type":"mode","mode":"stick"}),
        json!({"type":"remove","participant":"p2","ban":true}),
        json!({"type":"lock","on":true}),
        json!({"type":"redact","msg":"m1"}),
        json!({"type":"announce","text":"hi"}),
        json!({"type":"dm","participant":"p2","text":"hi"}),
        json!({"type":"end"}),
        json!({"type":"room_open","name":"x"}),
        json!({"type":"room_close","room":"r1"}),
    ];
    for live in [false, true] {
        let mut h = if live { H::live() } else { H::lobby() };
        let before = h.snap();
        for cmd in &cmds {
            assert_eq!(h.err("p1", cmd.clone()), ErrorCode::Forbidden, "{cmd}");
        }
        assert_eq!(h.snap(), before, "nothing changed");
    }
}

#[test]
fn start_moves_the_lobby_to_live_once() {
    let mut h = H::lobby();
    assert_eq!(h.phase(), "lobby");
    let events = h.ok("f1", json!({"type":"start"}));
    assert_eq!(kinds(&events), ["phase"]);
    assert_eq!(d(&events[0], "phase"), "live");
    assert_eq!(h.phase(), "live");
    assert_eq!(h.err("f1", json!({"type":"start"})), ErrorCode::BadRequest);
}

#[test]
fn mute_takes_the_participant_out_of_the_queue_and_the_stick() {
    let mut h = H::stick();
    h.hands(&["p1", "p2", "p3"]);
    let events = h.ok("f1", json!({"type":"mute","participant":"p2","on":true}));
    assert_eq!(kinds(&events), ["muted", "queue"]);
    assert_eq!(
        (d(&events[0], "participant"), d(&events[0], "on")),
        (json!("p2"), json!(true))
    );
    assert_eq!(h.queue(), ["p3"]);
    let events = h.ok("f1", json!({"type":"mute","participant":"p1","on":true}));
    assert_eq!(
        kinds(&events),
        ["muted", "spoke", "stick", "queue", "stick"]
    );
    assert_eq!(d(&events[1], "reason"), "muted");
    assert_eq!(h.holder(), "p3");
    assert_eq!(h.person("p1")["muted"], true);
    // muting again changes nothing
    assert!(h
        .ok("f1", json!({"type":"mute","participant":"p1","on":true}))
        .is_empty());
    let events = h.ok("f1", json!({"type":"mute","participant":"p1","on":false}));
    assert_eq!(kinds(&events), ["muted"]);
    h.ok("p1", json!({"type":"hand","up":true}));
}

#[test]
fn mute_refusals() {
    let mut h = H::live();
    h.connect("f2", Role::Facilitator).unwrap();
    assert_eq!(
        h.err("f1", json!({"type":"mute","participant":"f2","on":true})),
        ErrorCode::BadRequest
    );
    assert_eq!(
        h.err("f1", json!({"type":"mute","participant":"zz","on":true})),
        ErrorCode::NotFound
    );
}

#[test]
fn mute_all_mutes_every_participant_but_not_facilitators() {
    let mut h = H::stick();
    h.connect("f2", Role::Facilitator).unwrap();
    h.hands(&["p1", "p2"]);
    h.ok("f1", json!({"type":"mute","participant":"p3","on":true}));
    let events = h.ok("f1", json!({"type":"mute_all","on":true}));
    assert_eq!(
        kinds(&events),
        ["muted", "muted", "queue", "spoke", "stick"]
    );
    assert_eq!(d(&events[0], "participant"), "p1");
    assert_eq!(d(&events[1], "participant"), "p2");
    assert_eq!(h.holder(), Value::Null);
    assert!(h.queue().is_empty());
    assert_eq!(h.person("f2")["muted"], false);
    h.ok(
        "f2",
        json!({"type":"say","room":"main","text":"Let's take a breath."}),
    );
    let events = h.ok("f1", json!({"type":"mute_all","on":false}));
    assert_eq!(kinds(&events), ["muted", "muted", "muted"]);
    assert!(events.iter().all(|e| d(e, "on") == json!(false)));
}

#[test]
fn give_hands_the_stick_to_a_participant_now() {
    let mut h = H::stick();
    h.hands(&["p1", "p2", "p3"]);
    h.wait(10_000);
    let events = h.ok("f1", json!({"type":"give","participant":"p3"}));
    assert_eq!(kinds(&events), ["spoke", "stick", "queue", "stick"]);
    assert_eq!(d(&events[0], "reason"), "given");
    assert_eq!(d(&events[3], "holder"), "p3");
    assert_eq!(d(&events[3], "ends_at"), json!(h.now + 120_000));
    assert_eq!(h.queue(), ["p2"]);
    assert_eq!(h.person("p3")["turns"], 1);
    // give to the holder: a fresh turn
    let events = h.ok("f1", json!({"type":"give","participant":"p3"}));
    assert_eq!(d(&events[2], "turn"), 3);
    assert_eq!(h.person("p3")["turns"], 2);
}

#[test]
fn give_null_ends_the_turn_and_hands_on() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    let events = h.ok("f1", json!({"type":"give","participant":null}));
    assert_eq!(kinds(&events), ["spoke", "stick", "queue", "stick"]);
    assert_eq!(d(&events[0], "reason"), "taken");
    assert_eq!(h.holder(), "p2");
    h.ok("f1", json!({"type":"give"}));
    assert_eq!(h.holder(), Value::Null);
    assert!(h
        .ok("f1", json!({"type":"give","participant":null}))
        .is_empty());
}

#[test]
fn give_refusals() {
    let mut h = H::stick();
    assert_eq!(
        h.err("f1", json!({"type":"give","participant":"zz"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("f1", json!({"type":"give","participant":"f1"})),
        ErrorCode::BadRequest
    );
    h.ok("f1", json!({"type":"mute","participant":"p1","on":true}));
    assert_eq!(
        h.err("f1", json!({"type":"give","participant":"p1"})),
        ErrorCode::BadRequest
    );
    h.ok("p2", json!({"type":"break","on":true}));
    assert_eq!(
        h.err("f1", json!({"type":"give","participant":"p2"})),
        ErrorCode::BadRequest
    );
    h.disconnect("p3");
    assert_eq!(
        h.err("f1", json!({"type":"give","participant":"p3"})),
        ErrorCode::BadRequest
    );
    h.connect("p4", Role::Participant).unwrap();
    h.ok("f1", json!({"type":"pause","on":true}));
    assert_eq!(
        h.err("f1", json!({"type":"give","participant":"p4"})),
        ErrorCode::Paused
    );
    h.ok("f1", json!({"type":"pause","on":false}));
    h.ok("f1", json!({"type":"mode","mode":"open"}));
    assert_eq!(
        h.err("f1", json!({"type":"give","participant":"p4"})),
        ErrorCode::BadRequest
    );
}

#[test]
fn mode_changes_and_validates_turn_seconds() {
    let mut h = H::live();
    let events = h.ok(
        "f1",
        json!({"type":"mode","mode":"stick","turn_seconds":300}),
    );
    assert_eq!(kinds(&events), ["mode"]);
    assert_eq!(
        (d(&events[0], "mode"), d(&events[0], "turn_seconds")),
        (json!("stick"), json!(300))
    );
    assert_eq!(h.snap()["session"]["mode"], "stick");
    assert_eq!(h.snap()["session"]["turn_seconds"], 300);
    for bad in [0, 29, 901] {
        assert_eq!(
            h.err(
                "f1",
                json!({"type":"mode","mode":"stick","turn_seconds":bad})
            ),
            ErrorCode::BadRequest
        );
    }
    h.ok(
        "f1",
        json!({"type":"mode","mode":"stick","turn_seconds":30}),
    );
    h.ok(
        "f1",
        json!({"type":"mode","mode":"stick","turn_seconds":900}),
    );
    assert_eq!(h.snap()["session"]["turn_seconds"], 900);
}

#[test]
fn open_mode_ends_the_turn_and_keeps_the_queue() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    let events = h.ok("f1", json!({"type":"mode","mode":"open"}));
    assert_eq!(kinds(&events), ["mode", "spoke", "stick"]);
    assert_eq!(d(&events[1], "reason"), "mode");
    assert_eq!(h.holder(), Value::Null);
    assert_eq!(h.queue(), ["p2"]);
    h.ok(
        "p3",
        json!({"type":"say","room":"main","text":"anyone may talk"}),
    );
}

#[test]
fn round_gives_everyone_online_one_turn_in_join_order_then_falls_back_to_stick() {
    let mut h = H::live();
    h.connect("p4", Role::Participant).unwrap();
    h.connect("p5", Role::Participant).unwrap();
    h.hands(&["p3"]);
    h.ok("f1", json!({"type":"mute","participant":"p4","on":true}));
    h.disconnect("p5");
    let events = h.ok(
        "f1",
        json!({"type":"mode","mode":"round","turn_seconds":60}),
    );
    assert_eq!(kinds(&events), ["mode", "queue", "queue", "stick"]);
    assert_eq!(d(&events[0], "mode"), "round");
    assert_eq!(d(&events[1], "queue"), json!(["p1", "p2", "p3"]));
    assert_eq!(d(&events[3], "holder"), "p1");
    assert_eq!(d(&events[3], "ends_at"), json!(h.now + 60_000));
    h.ok("p1", json!({"type":"pass"}));
    assert_eq!(h.holder(), "p2");
    h.wait(60_000);
    h.tick();
    assert_eq!(h.holder(), "p3");
    assert_eq!(h.snap()["session"]["mode"], "round");
    let events = h.ok("p3", json!({"type":"pass"}));
    assert_eq!(kinds(&events), ["spoke", "stick", "mode"]);
    assert_eq!(d(&events[2], "mode"), "stick");
    assert_eq!(h.snap()["session"]["mode"], "stick");
    for p in ["p1", "p2", "p3"] {
        assert_eq!(h.person(p)["turns"], 1);
    }
    assert_eq!(h.person("p5")["turns"], 0);
}

#[test]
fn round_keeps_the_current_holders_turn() {
    let mut h = H::stick();
    h.hands(&["p2"]);
    h.ok("f1", json!({"type":"mode","mode":"round"}));
    assert_eq!(h.holder(), "p2");
    assert_eq!(h.queue(), ["p1", "p3"]);
}

#[test]
fn remove_takes_a_participant_out_for_good() {
    let mut h = H::stick();
    h.hands(&["p1", "p2"]);
    let events = h.ok("f1", json!({"type":"remove","participant":"p2","ban":true}));
    assert_eq!(kinds(&events), ["left", "queue"]);
    assert_eq!(
        serde_json::to_value(&events[0]).unwrap(),
        json!({"kind":"left","participant":"p2","reason":"removed"})
    );
    assert!(h.s.is_removed("p2"));
    assert_eq!(h.s.role_of("p2"), None);
    assert_eq!(h.person("p2"), Value::Null);
    let events = h.ok(
        "f1",
        json!({"type":"remove","participant":"p1","ban":false}),
    );
    assert_eq!(kinds(&events), ["left", "spoke", "stick"]);
    assert_eq!(d(&events[1], "reason"), "removed");
    assert_eq!(h.holder(), Value::Null);
    // they cannot come back nor act
    let r =
        h.s.connect(h.now, "p1", "Sam", Role::Participant)
            .unwrap_err();
    assert_eq!(r.code, ErrorCode::Forbidden);
    assert_eq!(
        h.err("p1", json!({"type":"hand","up":true})),
        ErrorCode::Forbidden
    );
    assert_eq!(
        h.err("f1", json!({"type":"remove","participant":"p1","ban":true})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("f1", json!({"type":"remove","participant":"f1","ban":true})),
        ErrorCode::BadRequest
    );
    // their closing sockets make no noise
    assert!(h.disconnect("p1").is_empty());
}

#[test]
fn lock_toggles() {
    let mut h = H::live();
    let events = h.ok("f1", json!({"type":"lock","on":true}));
    assert_eq!(kinds(&events), ["locked"]);
    assert_eq!(d(&events[0], "on"), true);
    assert_eq!(h.snap()["session"]["locked"], true);
    assert!(h.ok("f1", json!({"type":"lock","on":true})).is_empty());
    h.ok("f1", json!({"type":"lock","on":false}));
    assert_eq!(h.snap()["session"]["locked"], false);
    let s = SessionState::new(Config::default(), false, true, T0 + HOUR, T0);
    assert_eq!(
        serde_json::to_value(s.view("x")).unwrap()["session"]["locked"],
        true
    );
}

#[test]
fn redact_drops_the_text() {
    let mut h = H::live();
    h.ok(
        "p1",
        json!({"type":"say","room":"main","text":"my address is …","cw":"private"}),
    );
    h.ok("p2", json!({"type":"react","msg":"m1","emoji":"heart"}));
    let events = h.ok("f1", json!({"type":"redact","msg":"m1"}));
    assert_eq!(kinds(&events), ["redacted"]);
    assert_eq!(
        (d(&events[0], "msg"), d(&events[0], "room")),
        (json!("m1"), json!("main"))
    );
    let m = h.snap()["rooms"][0]["messages"][0].clone();
    assert_eq!(
        (m["id"].clone(), m["from"].clone()),
        (json!("m1"), json!("p1"))
    );
    assert_eq!(
        (m["text"].clone(), m["cw"].clone(), m["redacted"].clone()),
        (Value::Null, Value::Null, json!(true))
    );
    assert!(
        h.s.rooms[0].messages[0].text.is_none() && !format!("{:?}", h.s).contains("my address"),
        "dropped from memory"
    );
    assert!(h.ok("f1", json!({"type":"redact","msg":"m1"})).is_empty());
    assert_eq!(
        h.err("f1", json!({"type":"redact","msg":"m2"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("p3", json!({"type":"react","msg":"m1","emoji":"heart"})),
        ErrorCode::NotFound
    );
    // still reportable
    h.ok(
        "p3",
        json!({"type":"report","msg":"m1","reason":"personal details"}),
    );
}

#[test]
fn announce_reaches_everyone() {
    let mut h = H::lobby();
    let events = h.ok(
        "f1",
        json!({"type":"announce","text":" Welcome, everyone "}),
    );
    assert_eq!(kinds(&events), ["announced"]);
    assert_eq!(
        (d(&events[0], "text"), d(&events[0], "from")),
        (json!("Welcome, everyone"), json!("f1"))
    );
    assert_eq!(events[0].audience(), Audience::All);
    assert_eq!(
        serde_json::to_value(h.s.view("p1")).unwrap()["announcements"][0]["text"],
        "Welcome, everyone"
    );
    assert_eq!(
        h.err("f1", json!({"type":"announce","text":""})),
        ErrorCode::BadRequest
    );
    let long = "x".repeat(2001);
    assert_eq!(
        h.err("f1", json!({"type":"announce","text":long})),
        ErrorCode::TooLong
    );
}

#[test]
fn dm_reaches_its_two_ends_and_the_facilitators() {
    let mut h = H::live();
    h.connect("f2", Role::Facilitator).unwrap();
    // a participant cannot start a dm
    assert_eq!(
        h.err("p1", json!({"type":"dm","participant":"f1","text":"hi"})),
        ErrorCode::Forbidden
    );
    let events = h.ok(
        "f1",
        json!({"type":"dm","participant":"p1","text":"Are you ok?"}),
    );
    let e = find(&events, "dm");
    assert_eq!(
        e.audience(),
        Audience::FacilitatorsAnd(["f1".into(), "p1".into()])
    );
    assert_eq!(
        (d(e, "id"), d(e, "from"), d(e, "to"), d(e, "text")),
        (json!("d1"), json!("f1"), json!("p1"), json!("Are you ok?"))
    );
    assert!(e.audience().includes("f2", Role::Facilitator));
    assert!(!e.audience().includes("p2", Role::Participant));
    // p1 may answer f1, but not f2 (who never wrote) nor another participant
    let events = h.ok(
        "p1",
        json!({"type":"dm","participant":"f1","text":"Not really"}),
    );
    assert_eq!(
        find(&events, "dm").audience(),
        Audience::FacilitatorsAnd(["p1".into(), "f1".into()])
    );
    assert_eq!(
        h.err("p1", json!({"type":"dm","participant":"f2","text":"hi"})),
        ErrorCode::Forbidden
    );
    assert_eq!(
        h.err("p1", json!({"type":"dm","participant":"p2","text":"hi"})),
        ErrorCode::Forbidden
    );
    assert_eq!(
        h.err("f1", json!({"type":"dm","participant":"zz","text":"hi"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("f1", json!({"type":"dm","participant":"p1","text":""})),
        ErrorCode::BadRequest
    );
    // snapshots show each viewer only what they may see
    assert_eq!(
        serde_json::to_value(h.s.view("p1")).unwrap()["dms"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        serde_json::to_value(h.s.view("p2")).unwrap()["dms"],
        json!([])
    );
    assert_eq!(
        serde_json::to_value(h.s.view("f2")).unwrap()["dms"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        serde_json::to_value(h.s.view("p1")).unwrap()["dms"][1]["text"],
        "Not really"
    );
}

#[test]
fn end_closes_the_session_and_refuses_everything_after() {
    let mut h = H::stick();
    h.hands(&["p1"]);
    h.wait(1_000);
    let events = h.ok("f1", json!({"type":"end"}));
    assert_eq!(kinds(&events), ["spoke", "stick", "phase"]);
    assert_eq!(d(&events[0], "reason"), "ended");
    assert_eq!(d(&events[2], "phase"), "ended");
    assert_eq!(h.s.phase(), Phase::Ended);
    for (who, cmd) in [
        ("p1", json!({"type":"say","room":"main","text":"hi"})),
        ("p2", json!({"type":"need_help"})),
        ("f1", json!({"type":"start"})),
        ("f1", json!({"type":"mute","participant":"p1","on":true})),
        ("zz", json!({"type":"pass"})),
    ] {
        assert_eq!(h.err(who, cmd), ErrorCode::SessionEnded);
    }
    assert_eq!(
        h.connect("p9", Role::Participant).unwrap_err().code,
        ErrorCode::SessionEnded
    );
    assert_eq!(h.s.next_deadline(), None);
    h.wait(HOUR);
    assert!(h.tick().is_empty());
    assert!(h.disconnect("p1").is_empty());
}

#[test]
fn side_rooms_open_and_close() {
    let mut h = H::live();
    h.ok("f1", json!({"type":"room_open","name":"Quiet corner"}));
    let events = h.ok("f1", json!({"type":"room_open","name":"Carers"}));
    assert_eq!(d(&events[0], "room")["id"], "r2");
    h.ok("p1", json!({"type":"say","room":"r1","text":"hello"}));
    assert_eq!(h.snap()["rooms"][1]["messages"][0]["room"], "r1");
    let events = h.ok("f1", json!({"type":"room_close","room":"r1"}));
    assert_eq!(kinds(&events), ["room_closed"]);
    assert_eq!(d(&events[0], "room"), "r1");
    assert_eq!(
        h.err("p1", json!({"type":"say","room":"r1","text":"hi"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("p1", json!({"type":"react","msg":"m1","emoji":"heart"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("f1", json!({"type":"room_close","room":"main"})),
        ErrorCode::BadRequest
    );
    assert_eq!(
        h.err("f1", json!({"type":"room_close","room":"r1"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.err("f1", json!({"type":"room_open","name":"  "})),
        ErrorCode::BadRequest
    );
}

#[test]
fn unknown_members_are_unauthorized() {
    let mut h = H::live();
    assert_eq!(
        h.err("stranger", json!({"type":"hand","up":true})),
        ErrorCode::Unauthorized
    );
}
