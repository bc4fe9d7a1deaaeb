//! The objects that events and the welcome's snapshot carry: the
//! participant, the stick, a message, a room, an inbox item, the whole
//! snapshot (`state`) a member sees. Field names and shapes are the wire's
//! (docs/protocol.md §3 "The snapshot").

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ids::{DmId, ItemId, MemberId, MsgId, RoomId};
use super::{Emoji, Millis, Mode, Phase, Presence, Role};

/// The participant object (snapshot and `joined`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantView {
    pub id: MemberId,
    pub name: Arc<str>,
    pub role: Role,
    pub presence: Presence,
    pub muted: bool,
    pub turns: u32,
    pub spoken_ms: Millis,
    pub hand: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_note: Option<Arc<str>>,
}

/// The stick object (snapshot and the `stick` event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickView {
    pub holder: Option<MemberId>,
    pub ends_at: Option<Millis>,
    pub turn: Option<u64>,
    /// Only while paused with a holder: the time left on the stopped clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_ms: Option<Millis>,
}

/// A new message as `said` carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    pub id: MsgId,
    pub from: MemberId,
    pub text: Arc<str>,
    pub cw: Option<Arc<str>>,
    pub at: Millis,
}

/// A message as the snapshot and the `history` frame carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: MsgId,
    pub room: RoomId,
    pub from: MemberId,
    pub text: Option<Arc<str>>,
    pub cw: Option<Arc<str>>,
    pub at: Millis,
    pub redacted: bool,
    /// Emoji → how many reacted with it; unused emoji left out.
    pub reactions: BTreeMap<Emoji, u32>,
}

/// A room's id and name (`room_opened`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRef {
    pub id: RoomId,
    pub name: Arc<str>,
}

/// A room in the snapshot: its most recent messages, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    pub id: RoomId,
    pub name: Arc<str>,
    pub messages: Vec<MessageView>,
    /// **Addition**: older messages exist than these (ask with `history`).
    #[serde(default)]
    pub more: bool,
}

/// A direct message in the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmView {
    pub id: DmId,
    pub from: MemberId,
    pub to: MemberId,
    pub text: Arc<str>,
    pub at: Millis,
}

/// An announcement in the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementView {
    pub from: MemberId,
    pub text: Arc<str>,
    pub at: Millis,
}

/// What an inbox item is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InboxKind {
    Reported {
        msg: MsgId,
        by: MemberId,
        reason: Arc<str>,
        from: MemberId,
        room: RoomId,
    },
    HelpRequested {
        from: MemberId,
        note: Option<Arc<str>>,
    },
}

/// A report or help request kept for the facilitators (snapshot `inbox`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub id: ItemId,
    pub at: Millis,
    #[serde(flatten)]
    pub what: InboxKind,
    /// The facilitator who marked it seen, if anyone has.
    pub seen_by: Option<MemberId>,
    pub seen_at: Option<Millis>,
}

/// Why and by whom a session is paused (`state.session.pause`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseView {
    /// The facilitator who paused it; absent when it paused by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<MemberId>,
    /// Why it paused by itself (`no_facilitator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<crate::protocol::PhaseReason>,
    /// The facilitator's note, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Arc<str>>,
}

/// `state.session` of the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub phase: Phase,
    pub mode: Mode,
    pub locked: bool,
    pub turn_seconds: u32,
    pub ends_at: Millis,
    /// **Addition**: while paused, who paused it, why and their note (as the
    /// `phase` event said), so a client that (re)connects can say so too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<PauseView>,
}

/// The welcome's `state`: the session as one member may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub session: SessionInfo,
    /// Everyone in the session; in a large room, a first page of them (the
    /// facilitators, the holder, the queue, the viewer and the first to
    /// come) with the rest paged by the `people` command.
    pub participants: Vec<ParticipantView>,
    /// **Addition**: how many people are in the session, listed or not.
    #[serde(default)]
    pub participants_total: u32,
    /// **Addition**: whether some are not listed (ask with `people`).
    #[serde(default)]
    pub participants_more: bool,
    pub queue: Vec<MemberId>,
    pub stick: StickView,
    pub rooms: Vec<RoomView>,
    pub dms: Vec<DmView>,
    pub announcements: Vec<AnnouncementView>,
    /// Facilitators only (empty for participants).
    pub inbox: Vec<InboxItem>,
}
