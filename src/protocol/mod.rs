//! The wire, and nothing else: what clients send ([`command`]), what the
//! server sends ([`event`], [`frame`]), the error codes, the close codes and
//! the newtypes that ids ([`ids`]) and texts ([`text`]) are parsed into at
//! the edge. PROTOCOL.md v1 is the contract; `docs/protocol.md` documents
//! every field and every addition, and `tests/fixtures/protocol/` holds a
//! golden example of each command, event and frame, checked against these
//! types by `fixtures_tests.rs` and fed to the browser client's tests.
//!
//! **What it must not do:** no I/O, no clock, no rules. Which commands a
//! member may run and what they do is `session::state`'s business; this
//! module only says what the words on the wire are.

pub mod command;
pub mod event;
pub mod frame;
pub mod ids;
pub mod text;
pub mod views;

#[cfg(test)]
mod fixtures_tests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use command::{parse_command, parse_hello, Access, Command, Hello, Malformed};
pub use event::{Audience, Event, LeftReason, ModeReason, PhaseReason, TurnEnd};
pub use frame::{event_frame, ServerFrame, You};
pub use ids::{DmId, ItemId, MemberId, MsgId, Ref, RoomId, MAIN_ROOM};
pub use text::UserText;

/// Unix time in milliseconds.
pub type Millis = i64;

/// Close codes (PROTOCOL.md §2 and RFC 6455).
pub mod close {
    /// The server is going away or dropped the socket: resume.
    pub const GOING_AWAY: u16 = 1001;
    /// Too many malformed frames, or too many sockets for one person.
    pub const POLICY: u16 = 1008;
    /// A frame over the frame limit.
    pub const TOO_BIG: u16 = 1009;
    /// A bad or missing hello.
    pub const BAD_HELLO: u16 = 4001;
    /// A facilitator removed this participant.
    pub const REMOVED: u16 = 4003;
    /// The session has ended.
    pub const ENDED: u16 = 4004;
}

/// Whether a member runs the group or takes part in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Facilitator,
    Participant,
}

/// Where a running session is in its life (the live phase on the socket;
/// the stored record's phase is `store::RecordPhase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Lobby,
    Live,
    Paused,
    Ended,
}

/// Who may speak in the main room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Open,
    Stick,
    Round,
}

/// Whether a member is here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Away,
    Break,
    Offline,
}

/// The reactions a message can get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emoji {
    Heart,
    Clap,
    Hug,
    Thanks,
    MeToo,
}

macro_rules! wire_names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// The wire name.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }
        }
    };
}

wire_names!(Role { Facilitator => "facilitator", Participant => "participant" });
wire_names!(Phase { Lobby => "lobby", Live => "live", Paused => "paused", Ended => "ended" });
wire_names!(Mode { Open => "open", Stick => "stick", Round => "round" });
wire_names!(Presence { Online => "online", Away => "away", Break => "break", Offline => "offline" });
wire_names!(Emoji { Heart => "heart", Clap => "clap", Hug => "hug", Thanks => "thanks", MeToo => "me_too" });

/// Wire error codes (PROTOCOL.md §3, plus `unavailable`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Muted,
    Paused,
    NotYourTurn,
    NotHolder,
    TooLong,
    Locked,
    RateLimited,
    SessionEnded,
    /// **Addition**: the server could not store an effect that must be
    /// durable before it is acknowledged (remove, ban, lock, end); nothing
    /// changed, try again.
    Unavailable,
}

wire_names!(ErrorCode {
    BadRequest => "bad_request",
    Unauthorized => "unauthorized",
    Forbidden => "forbidden",
    NotFound => "not_found",
    Muted => "muted",
    Paused => "paused",
    NotYourTurn => "not_your_turn",
    NotHolder => "not_holder",
    TooLong => "too_long",
    Locked => "locked",
    RateLimited => "rate_limited",
    SessionEnded => "session_ended",
    Unavailable => "unavailable",
});

/// Why a command was not applied: a wire code and a plain, kind sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Refusal {}
