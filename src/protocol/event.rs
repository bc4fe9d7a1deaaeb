//! Events: one typed variant per `kind` of docs/protocol.md §5, serialized
//! straight to the wire (no intermediate JSON tree) inside the envelope
//! `{"type":"event","seq","at","kind",…}` ([`super::frame::event_frame`]).
//!
//! Who may see an event follows from its variant ([`Event::audience`]), so
//! the rules cannot send a `dm` to the wrong people by forgetting a field.
//! `Debug` shows the kind and ids, never what people wrote.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ids::{DmId, ItemId, MemberId, MsgId, RoomId};
use super::views::{NewMessage, ParticipantView, RoomRef, StickView};
use super::{Emoji, Millis, Mode, Phase, Presence, Role};

/// Why the phase changed by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseReason {
    /// Paused: no facilitator online for the grace period.
    NoFacilitator,
    /// Ended at the scheduled end.
    Time,
    /// Ended: a facilitator cancelled the session (or deleted its group) over HTTP.
    Cancelled,
}

/// Why the mode changed by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeReason {
    RoundOver,
}

/// Why someone left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    Removed,
}

/// Why a turn ended (`spoke.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnEnd {
    Pass,
    Time,
    Break,
    Muted,
    Removed,
    Away,
    Given,
    Taken,
    Mode,
    Ended,
}

/// Something that happened in a session.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Phase {
        phase: Phase,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<MemberId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<PhaseReason>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Arc<str>>,
    },
    Mode {
        mode: Mode,
        turn_seconds: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<ModeReason>,
    },
    Locked {
        on: bool,
    },
    Joined {
        participant: ParticipantView,
    },
    Left {
        participant: MemberId,
        reason: LeftReason,
    },
    Presence {
        participant: MemberId,
        presence: Presence,
        note: Option<Arc<str>>,
    },
    Muted {
        participant: MemberId,
        on: bool,
    },
    Queue {
        queue: Vec<MemberId>,
    },
    Stick(StickView),
    TurnWarning {
        holder: MemberId,
        ends_at: Millis,
        turn: u64,
    },
    Spoke {
        participant: MemberId,
        turns: u32,
        spoken_ms: Millis,
        turn: u64,
        held_ms: Millis,
        reason: TurnEnd,
    },
    Said {
        room: RoomId,
        msg: NewMessage,
    },
    Reacted {
        msg: MsgId,
        emoji: Emoji,
        from: MemberId,
        room: RoomId,
        count: u32,
    },
    Redacted {
        msg: MsgId,
        room: RoomId,
    },
    Announced {
        text: Arc<str>,
        from: MemberId,
    },
    Dm {
        id: DmId,
        from: MemberId,
        to: MemberId,
        text: Arc<str>,
    },
    Reported {
        id: ItemId,
        msg: MsgId,
        by: MemberId,
        reason: Arc<str>,
        from: MemberId,
        room: RoomId,
    },
    HelpRequested {
        id: ItemId,
        from: MemberId,
        note: Option<Arc<str>>,
    },
    MarkedSeen {
        item: ItemId,
        by: MemberId,
    },
    /// **Addition**: in a large room, arrivals and presence changes of the
    /// last moments, batched (each person's participant object as it is now),
    /// with how many people the session has now: a client that has not paged
    /// through everyone cannot tell an arrival from a presence change of
    /// someone it never listed, so it takes the count from here.
    People {
        people: Vec<ParticipantView>,
        participants_total: u32,
    },
    RoomOpened {
        room: RoomRef,
    },
    RoomClosed {
        room: RoomId,
    },
    EndingSoon {
        ends_at: Millis,
    },
}

/// Who may see an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    All,
    Facilitators,
    /// The facilitators and these two members (a dm's two ends).
    FacilitatorsAnd([MemberId; 2]),
}

impl Audience {
    /// Whether the member `id` with `role` may see the event.
    pub fn includes(&self, id: &str, role: Role) -> bool {
        match self {
            Audience::All => true,
            Audience::Facilitators => role == Role::Facilitator,
            Audience::FacilitatorsAnd(ids) => {
                role == Role::Facilitator || ids.iter().any(|i| i.as_str() == id)
            }
        }
    }
}

impl Event {
    /// Every kind, for the fixture test (one golden file each).
    pub const KINDS: [&'static str; 23] = [
        "phase",
        "mode",
        "locked",
        "joined",
        "left",
        "presence",
        "muted",
        "queue",
        "stick",
        "turn_warning",
        "spoke",
        "said",
        "reacted",
        "redacted",
        "announced",
        "dm",
        "reported",
        "help_requested",
        "marked_seen",
        "people",
        "room_opened",
        "room_closed",
        "ending_soon",
    ];

    /// The wire `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Phase { .. } => "phase",
            Event::Mode { .. } => "mode",
            Event::Locked { .. } => "locked",
            Event::Joined { .. } => "joined",
            Event::Left { .. } => "left",
            Event::Presence { .. } => "presence",
            Event::Muted { .. } => "muted",
            Event::Queue { .. } => "queue",
            Event::Stick(_) => "stick",
            Event::TurnWarning { .. } => "turn_warning",
            Event::Spoke { .. } => "spoke",
            Event::Said { .. } => "said",
            Event::Reacted { .. } => "reacted",
            Event::Redacted { .. } => "redacted",
            Event::Announced { .. } => "announced",
            Event::Dm { .. } => "dm",
            Event::Reported { .. } => "reported",
            Event::HelpRequested { .. } => "help_requested",
            Event::MarkedSeen { .. } => "marked_seen",
            Event::People { .. } => "people",
            Event::RoomOpened { .. } => "room_opened",
            Event::RoomClosed { .. } => "room_closed",
            Event::EndingSoon { .. } => "ending_soon",
        }
    }

    /// Who may see it (docs/protocol.md §3 "Visibility"). Exhaustive: a new
    /// kind does not compile until someone decides who sees it.
    pub fn audience(&self) -> Audience {
        match self {
            Event::Dm { from, to, .. } => Audience::FacilitatorsAnd([from.clone(), to.clone()]),
            Event::Reported { .. } | Event::HelpRequested { .. } | Event::MarkedSeen { .. } => {
                Audience::Facilitators
            }
            Event::Phase { .. }
            | Event::Mode { .. }
            | Event::Locked { .. }
            | Event::Joined { .. }
            | Event::Left { .. }
            | Event::Presence { .. }
            | Event::Muted { .. }
            | Event::Queue { .. }
            | Event::Stick(_)
            | Event::TurnWarning { .. }
            | Event::Spoke { .. }
            | Event::Said { .. }
            | Event::Reacted { .. }
            | Event::Redacted { .. }
            | Event::Announced { .. }
            | Event::People { .. }
            | Event::RoomOpened { .. }
            | Event::RoomClosed { .. }
            | Event::EndingSoon { .. } => Audience::All,
        }
    }
}

/// The kind and the audience, never the values (which may hold what people
/// wrote or names).
impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.kind())
            .field("audience", &self.audience())
            .finish()
    }
}
