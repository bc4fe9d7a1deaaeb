//! Table tests: one or more per row of PROTOCOL.md §3 and per rule of §4.
//! They drive the state through its public entry points with wire JSON and
//! assert what a member would notice: events and snapshot fields.

use super::*;
use serde_json::json;

const T0: Millis = 1_766_000_000_000;
const MIN: Millis = 60_000;
const HOUR: Millis = 60 * MIN;

/// A session with facilitator `f1` and participants `p1`, `p2`, `p3`
/// connected, in that join order, ending two hours after `T0`.
struct H {
    s: SessionState,
    now: Millis,
}

impl H {
    fn with(config: Config) -> H {
        let mut s = SessionState::new(config, false, false, T0 + 2 * HOUR, T0);
        s.connect(T0, "f1", "Fran", Role::Facilitator).unwrap();
        for (id, name) in [("p1", "Sam"), ("p2", "Alex"), ("p3", "Jo")] {
            s.connect(T0, id, name, Role::Participant).unwrap();
        }
        H { s, now: T0 }
    }

    fn lobby() -> H {
        H::with(Config::default())
    }

    fn live() -> H {
        let mut h = H::lobby();
        h.ok("f1", json!({"type": "start"}));
        h
    }

    /// Live, stick mode, 120 s turns.
    fn stick() -> H {
        let mut h = H::live();
        h.ok(
            "f1",
            json!({"type": "mode", "mode": "stick", "turn_seconds": 120}),
        );
        h
    }

    fn wait(&mut self, ms: Millis) {
        self.now += ms;
    }

    fn run(&mut self, who: &str, cmd: Value) -> Result<Vec<Event>, Refusal> {
        let cmd: Command = serde_json::from_value(cmd).expect("command parses");
        self.s.apply(self.now, who, cmd)
    }

    #[track_caller]
    fn ok(&mut self, who: &str, cmd: Value) -> Vec<Event> {
        match self.run(who, cmd.clone()) {
            Ok(events) => events,
            Err(r) => panic!("{who} {cmd} refused: {r}"),
        }
    }

    #[track_caller]
    fn err(&mut self, who: &str, cmd: Value) -> ErrorCode {
        match self.run(who, cmd.clone()) {
            Ok(events) => panic!("{who} {cmd} accepted: {events:?}"),
            Err(r) => {
                assert!(!r.message.is_empty());
                r.code
            }
        }
    }

    fn tick(&mut self) -> Vec<Event> {
        self.s.tick(self.now)
    }

    fn connect(&mut self, id: &str, role: Role) -> Result<Vec<Event>, Refusal> {
        self.s.connect(self.now, id, id, role)
    }

    fn disconnect(&mut self, id: &str) -> Vec<Event> {
        self.s.disconnect(self.now, id)
    }

    fn snap(&self) -> Value {
        self.s.snapshot("f1")
    }

    fn holder(&self) -> Value {
        self.snap()["stick"]["holder"].clone()
    }

    fn queue(&self) -> Vec<String> {
        serde_json::from_value(self.snap()["queue"].clone()).unwrap()
    }

    fn person(&self, id: &str) -> Value {
        self.snap()["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn phase(&self) -> Value {
        self.snap()["session"]["phase"].clone()
    }

    fn hands(&mut self, ids: &[&str]) {
        for id in ids {
            self.ok(id, json!({"type": "hand", "up": true}));
        }
    }
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind).collect()
}

#[track_caller]
fn find<'a>(events: &'a [Event], kind: &str) -> &'a Event {
    events
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:?}", kinds(events)))
}

fn has(events: &[Event], kind: &str) -> bool {
    events.iter().any(|e| e.kind == kind)
}

fn d(e: &Event, key: &str) -> Value {
    e.data.get(key).cloned().unwrap_or(Value::Null)
}

// ------------------------------------------------------------------ wire

#[test]
fn commands_parse_from_the_wire_and_ignore_ref() {
    let cases = [
        (
            json!({"type":"say","ref":"a1","room":"main","text":"hi"}),
            "say",
        ),
        (
            json!({"type":"say","room":"main","text":"hi","cw":"grief"}),
            "say",
        ),
        (json!({"type":"react","msg":"m1","emoji":"me_too"}), "react"),
        (json!({"type":"hand","up":true}), "hand"),
        (json!({"type":"pass","ref":"x"}), "pass"),
        (json!({"type":"break","on":true,"note":"tea"}), "break"),
        (json!({"type":"break","on":false}), "break"),
        (
            json!({"type":"report","msg":"m1","reason":"unkind"}),
            "report",
        ),
        (json!({"type":"need_help"}), "need_help"),
        (json!({"type":"start"}), "start"),
        (json!({"type":"pause","on":true}), "pause"),
        (json!({"type":"mute","participant":"p1","on":true}), "mute"),
        (json!({"type":"mute_all","on":true}), "mute_all"),
        (json!({"type":"give","participant":null}), "give"),
        (json!({"type":"give","participant":"p1"}), "give"),
        (json!({"type":"lower","participant":"p1"}), "lower"),
        (json!({"type":"move","participant":"p1","to":0}), "move"),
        (json!({"type":"mode","mode":"round"}), "mode"),
        (
            json!({"type":"remove","participant":"p1","ban":false}),
            "remove",
        ),
        (json!({"type":"lock","on":true}), "lock"),
        (json!({"type":"redact","msg":"m1"}), "redact"),
        (json!({"type":"announce","text":"hello"}), "announce"),
        (json!({"type":"dm","participant":"p1","text":"ok?"}), "dm"),
        (json!({"type":"end"}), "end"),
        (json!({"type":"room_open","name":"Quiet room"}), "room_open"),
        (json!({"type":"room_close","room":"r1"}), "room_close"),
    ];
    for (wire, kind) in cases {
        let cmd: Command =
            serde_json::from_value(wire.clone()).unwrap_or_else(|e| panic!("{wire}: {e}"));
        assert_eq!(cmd.kind(), kind);
    }
}

#[test]
fn malformed_commands_fail_to_parse() {
    for wire in [
        json!({"type":"say","room":"main"}),
        json!({"type":"say","room":"main","text":5}),
        json!({"type":"hand"}),
        json!({"type":"react","msg":"m1","emoji":"thumbs_down"}),
        json!({"type":"move","participant":"p1","to":-1}),
        json!({"type":"mode","mode":"chaos"}),
        json!({"type":"remove","participant":"p1"}),
        json!({"type":"dance"}),
        json!({"text":"no type"}),
    ] {
        assert!(
            serde_json::from_value::<Command>(wire.clone()).is_err(),
            "{wire}"
        );
    }
}

#[test]
fn debug_output_never_shows_what_people_wrote() {
    let cmd: Command =
        serde_json::from_value(json!({"type":"say","room":"main","text":"I feel low"})).unwrap();
    let shown = format!("{cmd:?}");
    assert!(
        shown.contains("say") && shown.contains("<10 chars>") && !shown.contains("low"),
        "{shown}"
    );
    let mut h = H::live();
    let events = h.ok(
        "p1",
        json!({"type":"say","room":"main","text":"I feel low","cw":"mood"}),
    );
    let shown = format!("{events:?} {:?}", h.s);
    assert!(
        !shown.contains("low") && !shown.contains("mood") && !shown.contains("Sam"),
        "{shown}"
    );
}

#[test]
fn command_metadata() {
    let give: Command = serde_json::from_value(json!({"type":"give","participant":"p2"})).unwrap();
    assert!(give.facilitator_only());
    assert_eq!(give.target(), Some("p2"));
    let dm: Command =
        serde_json::from_value(json!({"type":"dm","participant":"f1","text":"x"})).unwrap();
    assert!(!dm.facilitator_only());
    assert_eq!(dm.target(), Some("f1"));
    assert!(!Command::Pass.facilitator_only());
    assert_eq!(Command::Pass.target(), None);
    assert_eq!(ErrorCode::NotYourTurn.as_str(), "not_your_turn");
    assert_eq!(ErrorCode::SessionEnded.as_str(), "session_ended");
    assert_eq!(serde_json::to_value(Emoji::MeToo).unwrap(), json!("me_too"));
    assert_eq!(
        serde_json::to_value(Presence::Break).unwrap(),
        json!("break")
    );
}

#[test]
fn audiences() {
    assert!(Audience::All.includes("p1", Role::Participant));
    assert!(!Audience::Facilitators.includes("p1", Role::Participant));
    assert!(Audience::Facilitators.includes("f2", Role::Facilitator));
    let a = Audience::FacilitatorsAnd(vec!["f1".into(), "p1".into()]);
    assert!(a.includes("p1", Role::Participant));
    assert!(a.includes("f2", Role::Facilitator));
    assert!(!a.includes("p2", Role::Participant));
}

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
    assert!(events[0].audience == Audience::All);
    // a second connect (already online) is silent
    assert!(h.connect("p4", Role::Participant).unwrap().is_empty());
}

#[test]
fn disconnect_is_away_then_offline_after_grace_and_comeback_is_online() {
    let mut h = H::live();
    let events = h.disconnect("p1");
    assert_eq!(d(find(&events, "presence"), "presence"), "away");
    h.wait(29_999);
    assert!(h.tick().iter().all(|e| e.kind != "presence"));
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
    assert_eq!(e.audience, Audience::Facilitators);
    assert_eq!(
        e.data,
        json!({"msg":"m1","by":"p2","reason":"felt unkind","from":"p1","room":"main"})
            .as_object()
            .unwrap()
            .clone()
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
    assert_eq!(e.audience, Audience::Facilitators);
    assert_eq!(
        (d(e, "from"), d(e, "note")),
        (json!("p1"), json!("I'm struggling"))
    );
    let events = h.ok("p2", json!({"type":"need_help"}));
    assert_eq!(d(&events[0], "note"), Value::Null);
    // A facilitator who (re)connects later still finds both in the inbox;
    // participants never see it.
    let inbox = h.s.snapshot("f1")["inbox"].clone();
    assert_eq!(inbox.as_array().map(Vec::len), Some(2));
    assert_eq!(inbox[0]["kind"], "help_requested");
    assert_eq!(inbox[0]["from"], "p1");
    assert_eq!(h.s.snapshot("p2")["inbox"], json!([]));
}

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
        events[0].data,
        json!({"participant":"p2","reason":"removed"})
            .as_object()
            .unwrap()
            .clone()
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
    assert_eq!(s.snapshot("x")["session"]["locked"], true);
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
    assert_eq!(events[0].audience, Audience::All);
    assert_eq!(
        h.s.snapshot("p1")["announcements"][0]["text"],
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
        e.audience,
        Audience::FacilitatorsAnd(vec!["f1".into(), "p1".into()])
    );
    assert_eq!(
        (d(e, "id"), d(e, "from"), d(e, "to"), d(e, "text")),
        (json!("d1"), json!("f1"), json!("p1"), json!("Are you ok?"))
    );
    assert!(e.audience.includes("f2", Role::Facilitator));
    assert!(!e.audience.includes("p2", Role::Participant));
    // p1 may answer f1, but not f2 (who never wrote) nor another participant
    let events = h.ok(
        "p1",
        json!({"type":"dm","participant":"f1","text":"Not really"}),
    );
    assert_eq!(
        find(&events, "dm").audience,
        Audience::FacilitatorsAnd(vec!["p1".into(), "f1".into()])
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
    assert_eq!(h.s.snapshot("p1")["dms"].as_array().unwrap().len(), 2);
    assert_eq!(h.s.snapshot("p2")["dms"], json!([]));
    assert_eq!(h.s.snapshot("f2")["dms"].as_array().unwrap().len(), 2);
    assert_eq!(h.s.snapshot("p1")["dms"][1]["text"], "Not really");
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
        json!([{"id":"main","name":"Main circle","messages":[]}])
    );
    assert_eq!(s["dms"], json!([]));
    let fresh = SessionState::new(Config::default(), false, false, T0 + HOUR, T0);
    assert_eq!(
        fresh.snapshot("x")["stick"],
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
