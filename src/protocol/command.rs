//! What clients send: the `hello` that opens a socket and the commands of
//! PROTOCOL.md §3 (plus the additions of docs/protocol.md), decoded from one
//! text frame at the edge ([`parse_hello`], [`parse_command`]).
//!
//! Ids, enums, numbers and the `ref` are checked here (a wrong one is a
//! malformed frame: `bad_request`, counted towards the 1008 limit). Texts
//! arrive as [`UserText`] and are checked by the rules, in the order the
//! protocol documents.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::{ItemId, MemberId, MsgId, Ref, RoomId};
use super::text::{Redacted, UserText};
use super::{Emoji, Mode};

/// The first frame of every socket.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Hello {
    pub token: String,
    #[serde(default)]
    pub epoch: Option<String>,
    #[serde(default)]
    pub last_seq: Option<u64>,
}

impl fmt::Debug for Hello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hello")
            .field("token", &"<secret>")
            .field("epoch", &self.epoch)
            .field("last_seq", &self.last_seq)
            .finish()
    }
}

impl Hello {
    /// `(epoch, last_seq)` when the client resumes (both are needed).
    pub fn resume(&self) -> Option<(&str, u64)> {
        match (&self.epoch, self.last_seq) {
            (Some(e), Some(seq)) => Some((e.as_str(), seq)),
            _ => None,
        }
    }
}

/// Reads the hello frame: a JSON object with `"type":"hello"` and a string
/// `token`. `None` when it is anything else (the socket closes with 4001).
pub fn parse_hello(text: &str) -> Option<Hello> {
    #[derive(Deserialize)]
    struct Tagged {
        #[serde(rename = "type")]
        kind: String,
        #[serde(flatten)]
        hello: Hello,
    }
    match serde_json::from_str::<Tagged>(text) {
        Ok(t) if t.kind == "hello" => Some(t.hello),
        _ => None,
    }
}

/// A command (PROTOCOL.md §3 plus additions). Unknown fields (such as
/// `ref`) are ignored; missing or ill-typed fields fail to decode.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    Say {
        room: RoomId,
        text: UserText,
        #[serde(default)]
        cw: Option<UserText>,
    },
    React {
        msg: MsgId,
        emoji: Emoji,
    },
    Hand {
        up: bool,
    },
    Pass,
    Break {
        on: bool,
        #[serde(default)]
        note: Option<UserText>,
    },
    Report {
        msg: MsgId,
        reason: UserText,
    },
    NeedHelp {
        #[serde(default)]
        note: Option<UserText>,
    },
    Dm {
        participant: MemberId,
        text: UserText,
    },
    /// **Addition**: more of the people of a large room than the welcome
    /// listed, in the order they first came, after `after`; or, with `ids`,
    /// exactly those people (a client resolving names an event used).
    People {
        #[serde(default)]
        after: Option<MemberId>,
        #[serde(default)]
        limit: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ids: Option<Vec<MemberId>>,
    },
    /// **Addition**: older messages of a room than the welcome held.
    History {
        room: RoomId,
        #[serde(default)]
        before: Option<MsgId>,
        #[serde(default)]
        limit: Option<u32>,
    },
    Start,
    Pause {
        on: bool,
        #[serde(default)]
        note: Option<UserText>,
    },
    Mute {
        participant: MemberId,
        on: bool,
    },
    MuteAll {
        on: bool,
    },
    Give {
        #[serde(default)]
        participant: Option<MemberId>,
    },
    Lower {
        participant: MemberId,
    },
    Move {
        participant: MemberId,
        to: usize,
    },
    Mode {
        mode: Mode,
        #[serde(default)]
        turn_seconds: Option<u32>,
    },
    Remove {
        participant: MemberId,
        ban: bool,
    },
    Lock {
        on: bool,
    },
    Redact {
        msg: MsgId,
    },
    Announce {
        text: UserText,
    },
    End,
    /// **Addition**: open a side room.
    RoomOpen {
        name: UserText,
    },
    /// **Addition**: close a side room.
    RoomClose {
        room: RoomId,
    },
    /// **Addition**: a facilitator marks a help request or report as seen.
    MarkSeen {
        item: ItemId,
    },
}

/// Who may run a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone in the session (a participant's `dm` only as a reply, which
    /// the rules check).
    Anyone,
    /// Facilitators only; anyone else is refused `forbidden`.
    Facilitators,
}

impl Command {
    /// Every command type, for the fixture test (one golden file each).
    pub const TYPES: [&'static str; 26] = [
        "say",
        "react",
        "hand",
        "pass",
        "break",
        "report",
        "need_help",
        "dm",
        "history",
        "people",
        "start",
        "pause",
        "mute",
        "mute_all",
        "give",
        "lower",
        "move",
        "mode",
        "remove",
        "lock",
        "redact",
        "announce",
        "end",
        "room_open",
        "room_close",
        "mark_seen",
    ];

    /// The wire `type`, for logs and the audit trail.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Say { .. } => "say",
            Command::React { .. } => "react",
            Command::Hand { .. } => "hand",
            Command::Pass => "pass",
            Command::Break { .. } => "break",
            Command::Report { .. } => "report",
            Command::NeedHelp { .. } => "need_help",
            Command::Dm { .. } => "dm",
            Command::History { .. } => "history",
            Command::People { .. } => "people",
            Command::Start => "start",
            Command::Pause { .. } => "pause",
            Command::Mute { .. } => "mute",
            Command::MuteAll { .. } => "mute_all",
            Command::Give { .. } => "give",
            Command::Lower { .. } => "lower",
            Command::Move { .. } => "move",
            Command::Mode { .. } => "mode",
            Command::Remove { .. } => "remove",
            Command::Lock { .. } => "lock",
            Command::Redact { .. } => "redact",
            Command::Announce { .. } => "announce",
            Command::End => "end",
            Command::RoomOpen { .. } => "room_open",
            Command::RoomClose { .. } => "room_close",
            Command::MarkSeen { .. } => "mark_seen",
        }
    }

    /// Who may run it. Exhaustive on purpose, with no wildcard arm: a new
    /// command does not compile until someone decides who may run it.
    pub fn access(&self) -> Access {
        match self {
            Command::Say { .. }
            | Command::React { .. }
            | Command::Hand { .. }
            | Command::Pass
            | Command::Break { .. }
            | Command::Report { .. }
            | Command::NeedHelp { .. }
            | Command::Dm { .. }
            | Command::History { .. }
            | Command::People { .. } => Access::Anyone,
            Command::Start
            | Command::Pause { .. }
            | Command::Mute { .. }
            | Command::MuteAll { .. }
            | Command::Give { .. }
            | Command::Lower { .. }
            | Command::Move { .. }
            | Command::Mode { .. }
            | Command::Remove { .. }
            | Command::Lock { .. }
            | Command::Redact { .. }
            | Command::Announce { .. }
            | Command::End
            | Command::RoomOpen { .. }
            | Command::RoomClose { .. }
            | Command::MarkSeen { .. } => Access::Facilitators,
        }
    }

    /// Whether only a facilitator may run it.
    pub fn facilitator_only(&self) -> bool {
        self.access() == Access::Facilitators
    }

    /// The member acted upon, for the audit log.
    pub fn target(&self) -> Option<&MemberId> {
        match self {
            Command::Mute { participant, .. }
            | Command::Lower { participant }
            | Command::Move { participant, .. }
            | Command::Remove { participant, .. }
            | Command::Dm { participant, .. } => Some(participant),
            Command::Give { participant } => participant.as_ref(),
            _ => None,
        }
    }
}

/// Leaves out every text (messages, notes, reasons, names): what people
/// write here is health-related and must not reach a log.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(self.kind());
        fn hide(t: &Option<UserText>) -> Option<Redacted<'_>> {
            t.as_ref().map(|t| Redacted(t.as_str()))
        }
        match self {
            Command::Say { room, text, cw } => d
                .field("room", room)
                .field("text", text)
                .field("cw", &hide(cw)),
            Command::React { msg, emoji } => d.field("msg", msg).field("emoji", emoji),
            Command::Hand { up } => d.field("up", up),
            Command::Break { on, note } | Command::Pause { on, note } => {
                d.field("on", on).field("note", &hide(note))
            }
            Command::Report { msg, reason } => d.field("msg", msg).field("reason", reason),
            Command::NeedHelp { note } => d.field("note", &hide(note)),
            Command::Dm { participant, text } => {
                d.field("participant", participant).field("text", text)
            }
            Command::History {
                room,
                before,
                limit,
            } => d
                .field("room", room)
                .field("before", before)
                .field("limit", limit),
            Command::People { after, limit, ids } => d
                .field("after", after)
                .field("limit", limit)
                .field("ids", ids),
            Command::Mute { participant, on } => {
                d.field("participant", participant).field("on", on)
            }
            Command::MuteAll { on } | Command::Lock { on } => d.field("on", on),
            Command::Give { participant } => d.field("participant", participant),
            Command::Lower { participant } => d.field("participant", participant),
            Command::Move { participant, to } => {
                d.field("participant", participant).field("to", to)
            }
            Command::Mode { mode, turn_seconds } => {
                d.field("mode", mode).field("turn_seconds", turn_seconds)
            }
            Command::Remove { participant, ban } => {
                d.field("participant", participant).field("ban", ban)
            }
            Command::Redact { msg } => d.field("msg", msg),
            Command::Announce { text } => d.field("text", text),
            Command::RoomOpen { name } => d.field("name", name),
            Command::RoomClose { room } => d.field("room", room),
            Command::MarkSeen { item } => d.field("item", item),
            Command::Pass | Command::Start | Command::End => &mut d,
        };
        d.finish()
    }
}

/// A frame that could not be read as a command: answered `bad_request`
/// (with the frame's `ref` when it could be read) and counted towards the
/// malformed-frame limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub reference: Option<Ref>,
    pub message: String,
}

fn malformed(reference: Option<Ref>, message: impl Into<String>) -> Malformed {
    Malformed {
        reference,
        message: message.into(),
    }
}

/// Decodes one text frame into `(ref, command)`.
pub fn parse_command(text: &str) -> Result<(Option<Ref>, Command), Malformed> {
    let value: Value = serde_json::from_str(text).map_err(|_| {
        malformed(
            None,
            "That message could not be read (it is not valid JSON).",
        )
    })?;
    let Value::Object(map) = &value else {
        return Err(malformed(None, "Each frame must be a JSON object."));
    };
    let reference = match map.get("ref") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            Ref::deserialize(v)
                .map_err(|_| malformed(None, "`ref` must be a string of 1 to 64 characters."))?,
        ),
    };
    let kind = match map.get("type") {
        Some(Value::String(k)) => k.clone(),
        _ => return Err(malformed(reference, "Every command needs a `type`.")),
    };
    if kind == "hello" {
        return Err(malformed(reference, "You are already connected."));
    }
    match Command::deserialize(&value) {
        Ok(c) => Ok((reference, c)),
        Err(e) => {
            let detail = e.to_string();
            // serde says "unknown variant" both for an unknown `type` and
            // for an unknown value of a known command's field (an emoji, a
            // mode): only the first is an unknown command. serde's own
            // messages for a wrong value quote the value; the sender is
            // told what was expected instead (the protocol promises to
            // name fields and types, never the values sent).
            let expected = ["unknown variant ", "invalid type: ", "invalid value: "]
                .iter()
                .find_map(|p| detail.strip_prefix(p))
                .and_then(|rest| rest.rsplit_once(", expected "))
                .map(|(_, e)| e.split(" at line").next().unwrap_or(e));
            let message = if !Command::TYPES.contains(&kind.as_str()) {
                format!("`{kind}` is not a command this server knows.")
            } else if let Some(expected) = expected {
                format!(
                    "`{kind}`: a field has a value this server can't use (expected {expected})."
                )
            } else {
                // serde's other messages name fields and types, never values.
                format!(
                    "`{kind}`: {}",
                    detail.split(" at line").next().unwrap_or("invalid fields")
                )
            };
            Err(malformed(reference, message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_frames_get_readable_errors_with_their_ref() {
        assert!(parse_command("not json").is_err());
        assert!(parse_command("[1,2]").is_err());
        let e = parse_command(r#"{"type":"no_such","ref":"a1"}"#).expect_err("unknown");
        assert_eq!(e.reference.as_deref(), Some("a1"));
        assert!(e.message.contains("no_such"));
        let e = parse_command(r#"{"ref":"a2"}"#).expect_err("no type");
        assert_eq!(e.reference.as_deref(), Some("a2"));
        let long = "x".repeat(65);
        let e = parse_command(&format!(r#"{{"type":"start","ref":"{long}"}}"#)).expect_err("ref");
        assert_eq!(e.reference, None);
        let e = parse_command(r#"{"type":"say","ref":"a3","room":"main"}"#).expect_err("field");
        assert_eq!(e.message, "`say`: missing field `text`");
        let e = parse_command(r#"{"type":"hello","token":"t"}"#).expect_err("hello");
        assert_eq!(e.message, "You are already connected.");
    }

    #[test]
    fn an_unknown_value_of_a_known_command_is_not_an_unknown_command() {
        // Found by the `protocol` fuzz target (fuzz/corpus/protocol/regress-unknown-emoji);
        // serde's messages quoted the values sent.
        let e =
            parse_command(r#"{"type":"react","ref":"r1","msg":"m1","emoji":"my secret words"}"#)
                .expect_err("unknown emoji");
        assert_eq!(e.reference.as_deref(), Some("r1"));
        assert!(e.message.starts_with("`react`: "), "{}", e.message);
        assert!(
            e.message.contains("`me_too`"),
            "names the emoji allowed: {}",
            e.message
        );
        assert!(!e.message.contains("secret"), "{}", e.message);
        let e = parse_command(r#"{"type":"mode","mode":"chaos"}"#).expect_err("unknown mode");
        assert!(
            e.message.starts_with("`mode`: ") && e.message.contains("`round`"),
            "{}",
            e.message
        );
        let e = parse_command(r#"{"type":"dance"}"#).expect_err("unknown type");
        assert_eq!(e.message, "`dance` is not a command this server knows.");
    }

    #[test]
    fn a_valid_command_parses_with_its_ref_and_values_never_reach_debug() {
        let (r, c) = parse_command(r#"{"type":"start","ref":"r-1"}"#).expect("parses");
        assert_eq!(r.as_deref(), Some("r-1"));
        assert_eq!(c.kind(), "start");
        let (_, c) =
            parse_command(r#"{"type":"say","room":"main","text":"my secret","cw":"loss"}"#)
                .expect("parses");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("loss"),
            "{shown}"
        );
    }

    #[test]
    fn every_command_type_is_listed_once_with_its_access() {
        let mut seen = std::collections::HashSet::new();
        for t in Command::TYPES {
            assert!(seen.insert(t), "{t} twice");
        }
        let (_, c) = parse_command(r#"{"type":"mark_seen","item":"i1"}"#).expect("parses");
        assert_eq!(c.access(), Access::Facilitators);
        let (_, c) = parse_command(r#"{"type":"history","room":"main"}"#).expect("parses");
        assert_eq!(c.access(), Access::Anyone);
    }

    #[test]
    fn the_hello_needs_its_type_and_a_string_token() {
        let h = parse_hello(r#"{"type":"hello","token":"t","epoch":"e_1","last_seq":4}"#)
            .expect("hello");
        assert_eq!(h.resume(), Some(("e_1", 4)));
        assert!(parse_hello(r#"{"type":"hello","token":"t","epoch":"e_1"}"#)
            .expect("hello")
            .resume()
            .is_none());
        assert!(parse_hello(r#"{"type":"say","token":"t"}"#).is_none());
        assert!(parse_hello(r#"{"type":"hello","token":5}"#).is_none());
        assert!(parse_hello("nope").is_none());
        assert!(!format!("{h:?}").contains("\"t\""));
    }
}
