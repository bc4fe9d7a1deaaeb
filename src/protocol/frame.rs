//! What the server sends on a socket: `welcome`, `ack`, `error`, the
//! `history` answer (addition) and events. Every frame is serialized straight
//! from these types; an event is serialized **once** for the whole room by
//! [`event_frame`].

use serde::{Deserialize, Serialize};

use super::event::Event;
use super::ids::{MemberId, Ref, RoomId};
use super::views::{MessageView, ParticipantView, Snapshot};
use super::{ErrorCode, Millis, Refusal, Role};

/// `welcome.you`: who this socket speaks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct You {
    pub id: MemberId,
    pub name: std::sync::Arc<str>,
    pub role: Role,
}

/// A frame from the server other than an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Welcome {
        you: You,
        epoch: String,
        resumed: bool,
        seq: u64,
        /// The snapshot; only when `resumed` is false.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<Box<Snapshot>>,
    },
    Ack {
        #[serde(rename = "ref")]
        reference: Ref,
    },
    Error {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<Ref>,
        code: ErrorCode,
        message: String,
    },
    /// **Addition**: older messages of a room, answering `history` (then its ack).
    History {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<Ref>,
        room: RoomId,
        messages: Vec<MessageView>,
        more: bool,
    },
    /// **Addition**: more people of a large room, answering `people` (then its ack).
    People {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<Ref>,
        participants: Vec<ParticipantView>,
        more: bool,
    },
    /// An event in its envelope (read back by tests and fixtures; the server
    /// writes events with [`event_frame`]).
    Event {
        seq: u64,
        at: Millis,
        #[serde(flatten)]
        event: Event,
    },
}

impl ServerFrame {
    /// The answer to a refused command.
    pub fn refusal(reference: Option<Ref>, refusal: &Refusal) -> ServerFrame {
        ServerFrame::Error {
            reference,
            code: refusal.code,
            message: refusal.message.clone(),
        }
    }

    /// The JSON text of the frame.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string and
        // no value has a failing `Serialize`.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// `{"type":"event","seq":…,"at":…,"kind":…,…}`: the event serialized once,
/// straight from its type, inside the envelope.
pub fn event_frame(seq: u64, at: Millis, event: &Event) -> String {
    use std::io::Write;
    let mut out = Vec::with_capacity(160);
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{{\"type\":\"event\",\"seq\":{seq},\"at\":{at}");
    let open = out.len();
    // The event serializes as a JSON object `{"kind":…}`: its opening brace
    // becomes the comma that joins it to the envelope.
    if serde_json::to_writer(&mut out, event).is_err() || out.get(open) != Some(&b'{') {
        out.truncate(open);
        out.push(b'}');
    } else {
        out[open] = b',';
    }
    // serde_json writes valid UTF-8 and the envelope is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ids::MemberId;

    #[test]
    fn an_event_frame_is_the_envelope_then_the_event_fields() {
        let e = Event::Locked { on: true };
        assert_eq!(
            event_frame(7, 1_000, &e),
            r#"{"type":"event","seq":7,"at":1000,"kind":"locked","on":true}"#
        );
        let e = Event::Queue {
            queue: vec![MemberId::from("p_1"), MemberId::from("p_2")],
        };
        let v: serde_json::Value = serde_json::from_str(&event_frame(8, 2, &e)).expect("json");
        assert_eq!(v["queue"][1], "p_2");
        let back: ServerFrame = serde_json::from_value(v).expect("reads back");
        assert_eq!(
            back,
            ServerFrame::Event {
                seq: 8,
                at: 2,
                event: e
            }
        );
    }
}
