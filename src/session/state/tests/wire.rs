//! Tests: wire.

use super::*;

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
    assert_eq!(give.target().map(|t| t.as_str()), Some("p2"));
    let dm: Command =
        serde_json::from_value(json!({"type":"dm","participant":"f1","text":"x"})).unwrap();
    assert!(!dm.facilitator_only());
    assert_eq!(dm.target().map(|t| t.as_str()), Some("f1"));
    assert!(!Command::Pass.facilitator_only());
    assert_eq!(Command::Pass.target().map(|t| t.as_str()), None);
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
    let a = Audience::FacilitatorsAnd(["f1".into(), "p1".into()]);
    assert!(a.includes("p1", Role::Participant));
    assert!(a.includes("f2", Role::Facilitator));
    assert!(!a.includes("p2", Role::Participant));
}
