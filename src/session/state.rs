//! The pure, deterministic state machine of one live session.
//!
//! Every rule of the talking stick, breaks, mute, pause, presence and the
//! session's phases lives here and nowhere else (PROTOCOL.md §3–§4). The
//! session actor owns one [`SessionState`], feeds it what happens —
//! [`SessionState::connect`], [`SessionState::disconnect`],
//! [`SessionState::apply`] for commands and [`SessionState::tick`] for timers —
//! and fans the returned [`Event`]s out to the members each
//! [`Event::audience`] allows.
//!
//! **What it must not do:** no tokio, no I/O, no clock reads, no randomness,
//! no logging. Time is the `now` (unix ms) the caller passes in; the same
//! calls with the same `now`s always give the same events, so a session can be
//! replayed on another node and every rule is tested exhaustively beside the
//! code (table tests in `tests.rs`, property tests in `props.rs`).
//!
//! # How the actor drives it
//!
//! * Call [`SessionState::connect`] on a person's first socket and
//!   [`SessionState::disconnect`] on their last one.
//! * After every call, sleep until [`SessionState::next_deadline`] and then
//!   call [`SessionState::tick`]. Time-based rules (turn end, warnings, grace
//!   periods, the no-facilitator pause, `ending_soon`, the end) happen only in
//!   `tick`, and at the instant they were due: a late `tick` still ends a turn
//!   at its `ends_at`. When the deadline is already due as a command arrives,
//!   tick first so the command sees the up-to-date stick.
//! * `now` is made monotonic: a `now` earlier than one already seen is taken
//!   as the latest one seen.
//! * A refused command ([`Refusal`]) changes nothing.
//!
//! # Events
//!
//! `data` fields of each kind (never `type`, `seq`, `at` or `kind`, which the
//! actor's envelope carries). Audience `All` unless said otherwise.
//!
//! | kind | fields |
//! |---|---|
//! | `phase` | `phase`; `reason` (`no_facilitator`, `time`) when automatic; `by` (facilitator id) when not; `note` if given |
//! | `mode` | `mode`, `turn_seconds`; `reason: "round_over"` when a round falls back to stick |
//! | `locked` | `on` |
//! | `joined` | `participant`: the participant object |
//! | `left` | `participant`, `reason: "removed"`, `ban` |
//! | `presence` | `participant`, `presence`, `note` (the break note, else null) |
//! | `muted` | `participant`, `on` |
//! | `queue` | `queue`: ids in order |
//! | `stick` | `holder` (or null), `ends_at` (null while paused or nobody holds), `turn` (id, or null), `remaining_ms` while paused |
//! | `turn_warning` | `holder`, `ends_at`, `turn` |
//! | `spoke` | `participant`, `turns`, `spoken_ms` (totals), `turn`, `held_ms` (this turn), `reason` |
//! | `said` | `room`, `msg`: `{id, room, from, text, cw, at, redacted: false, reactions: {}}` |
//! | `reacted` | `msg`, `emoji`, `from`, `room`, `count` (of that emoji now) |
//! | `redacted` | `msg`, `room` |
//! | `announced` | `text`, `from` |
//! | `dm` | `id` (`d1`, `d2`…), `from`, `to`, `text`; audience `FacilitatorsAnd([from, to])` |
//! | `reported` | `msg`, `by`, `reason`, `from` (the author), `room`; audience `Facilitators` |
//! | `help_requested` | `from`, `note` (or null); audience `Facilitators` |
//! | `room_opened` | `room`: `{id, name}` |
//! | `room_closed` | `room` |
//! | `ending_soon` | `ends_at` |
//!
//! The participant object is `{id, name, role, presence, muted, turns,
//! spoken_ms, hand}` plus `break_note` while on a break with a note. The
//! snapshot is `{session: {phase, mode, locked, turn_seconds, ends_at},
//! participants, queue, stick, rooms: [{id, name, messages}], dms,
//! announcements}`; a message is `{id, room, from, text, cw, at, redacted,
//! reactions: {emoji: count}}` with `text` and `cw` null once redacted; `dms`
//! holds what the viewer may see (`{id, from, to, text, at}`), and
//! `announcements` the recent ones (`{from, text, at}`). Removed members are
//! not listed.
//!
//! # Choices where the protocol leaves room
//!
//! * The session starts in `open` mode.
//! * `mute_all` emits one `muted {participant, on}` per participant whose
//!   mute actually changed (the same shape as `mute`), then one `queue` if the
//!   queue changed, then the turn end if the holder was muted.
//! * Idempotent commands that change nothing (a hand raised twice, `lock` to
//!   the state it already has, `mute` of someone already muted, a second
//!   identical reaction, `redact` of a redacted message, `lower` of someone not
//!   queued, `break off` when not on break) succeed with no event.
//! * `mode round` keeps the current holder's turn (it counts as their turn of
//!   the round) and queues every other online, unmuted participant in join
//!   order. When a round's queue is empty and nobody holds the stick, the mode
//!   falls back to `stick` (event `mode`). `mode open` ends the current turn;
//!   the queue is kept. A new `turn_seconds` applies from the next turn.
//! * `give {participant}` needs a live session (`paused` otherwise) in stick
//!   or round mode (`bad_request` otherwise); giving to the holder starts a
//!   fresh turn for them.
//! * The `say` rate limit applies to participants; facilitators may post
//!   in bursts (reading the agreement line by line).
//! * Reports and help requests are kept (bounded by `room_history`) and
//!   shown to facilitators in the snapshot's `inbox`.
//! * `react` is allowed to muted participants (the protocol lists only
//!   `paused` and `not_found` for it) and in the lobby; it is refused while
//!   paused. A redacted message can be reported but not reacted to.
//! * A turn's `spoke` event carries `reason`: `pass`, `time`, `break`,
//!   `muted`, `removed`, `away`, `given`, `taken`, `mode` or `ended`.
//! * `spoken_ms` of the participant object counts finished turns only.
//! * A facilitator counts as online for the no-facilitator rule while
//!   connected, on a break or not. Going live (start or resume) restarts that
//!   grace period.
//! * `Debug` of [`Command`], [`Event`] and [`SessionState`] never shows what
//!   people wrote (texts appear as `<n chars>`, event values are left out):
//!   this is health-related talk and must not reach a log.
//! * `room_open {name}` / `room_close {room}` are additions; `main` cannot be
//!   closed, and a closed room's messages are dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

/// Unix time in milliseconds, as passed in by the caller.
pub type Millis = i64;

/// The id of the room that always exists.
pub const MAIN_ROOM: &str = "main";
const MAIN_ROOM_NAME: &str = "Main circle";
/// Longest content note on a message, in chars.
const MAX_CW_CHARS: usize = 80;
/// Longest break note, help note, pause note or report reason, in chars.
const MAX_NOTE_CHARS: usize = 500;
/// Longest side-room name, in chars.
const MAX_ROOM_NAME_CHARS: usize = 80;
/// Allowed range of `turn_seconds`.
const TURN_SECONDS: std::ops::RangeInclusive<u32> = 30..=900;

/// Whether a member runs the group or takes part in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Facilitator,
    Participant,
}

/// Where the session is in its life.
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

impl Role {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Facilitator => "facilitator",
            Role::Participant => "participant",
        }
    }
}

impl Phase {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Lobby => "lobby",
            Phase::Live => "live",
            Phase::Paused => "paused",
            Phase::Ended => "ended",
        }
    }
}

impl Mode {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::Open => "open",
            Mode::Stick => "stick",
            Mode::Round => "round",
        }
    }
}

impl Presence {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Away => "away",
            Presence::Break => "break",
            Presence::Offline => "offline",
        }
    }
}

impl Emoji {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Emoji::Heart => "heart",
            Emoji::Clap => "clap",
            Emoji::Hug => "hug",
            Emoji::Thanks => "thanks",
            Emoji::MeToo => "me_too",
        }
    }
}

/// The rules' numbers. Validated by the settings layer; `new` only clamps
/// `turn_seconds` into 30..=900.
#[derive(Clone, Debug)]
pub struct Config {
    /// Default turn length in seconds (30..=900).
    pub turn_seconds: u32,
    /// Away → offline, a disconnected holder loses the stick, the
    /// no-facilitator pause.
    pub grace_ms: i64,
    /// `turn_warning` this long before a turn ends.
    pub turn_warning_ms: i64,
    /// `ending_soon` this long before the session's `ends_at`.
    pub end_warning_ms: i64,
    /// This many `say` …
    pub say_rate_count: u32,
    /// … per this window per member, then `rate_limited`.
    pub say_rate_window_ms: i64,
    /// Recent messages kept per room (also the bound of the dm and
    /// announcement history).
    pub room_history: usize,
    /// Longest message, announcement or dm, in chars after trimming.
    pub max_message_chars: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            turn_seconds: 120,
            grace_ms: 30_000,
            turn_warning_ms: 30_000,
            end_warning_ms: 300_000,
            say_rate_count: 10,
            say_rate_window_ms: 10_000,
            room_history: 200,
            max_message_chars: 2000,
        }
    }
}

/// A command as it arrives on the wire (PROTOCOL.md §3), plus `room_open` and
/// `room_close`. Unknown fields (such as `ref`) are ignored; missing or
/// ill-typed fields fail deserialization (the caller answers `bad_request`).
/// Lengths, emptiness and ranges are checked by [`SessionState::apply`].
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    Say {
        room: String,
        text: String,
        #[serde(default)]
        cw: Option<String>,
    },
    React {
        msg: String,
        emoji: Emoji,
    },
    Hand {
        up: bool,
    },
    Pass,
    Break {
        on: bool,
        #[serde(default)]
        note: Option<String>,
    },
    Report {
        msg: String,
        reason: String,
    },
    NeedHelp {
        #[serde(default)]
        note: Option<String>,
    },
    Start,
    Pause {
        on: bool,
        #[serde(default)]
        note: Option<String>,
    },
    Mute {
        participant: String,
        on: bool,
    },
    MuteAll {
        on: bool,
    },
    Give {
        #[serde(default)]
        participant: Option<String>,
    },
    Lower {
        participant: String,
    },
    Move {
        participant: String,
        to: usize,
    },
    Mode {
        mode: Mode,
        #[serde(default)]
        turn_seconds: Option<u32>,
    },
    Remove {
        participant: String,
        ban: bool,
    },
    Lock {
        on: bool,
    },
    Redact {
        msg: String,
    },
    Announce {
        text: String,
    },
    Dm {
        participant: String,
        text: String,
    },
    End,
    RoomOpen {
        name: String,
    },
    RoomClose {
        room: String,
    },
}

impl Command {
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
            Command::Dm { .. } => "dm",
            Command::End => "end",
            Command::RoomOpen { .. } => "room_open",
            Command::RoomClose { .. } => "room_close",
        }
    }

    /// Whether only a facilitator may run it (anyone else: `forbidden`).
    /// `dm` is not: a participant may answer a facilitator's dm.
    pub fn facilitator_only(&self) -> bool {
        matches!(
            self,
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
        )
    }

    /// The member acted upon, for the audit log.
    pub fn target(&self) -> Option<&str> {
        match self {
            Command::Mute { participant, .. }
            | Command::Lower { participant }
            | Command::Move { participant, .. }
            | Command::Remove { participant, .. }
            | Command::Dm { participant, .. } => Some(participant),
            Command::Give { participant } => participant.as_deref(),
            _ => None,
        }
    }
}

/// Who may see an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    All,
    Facilitators,
    /// The facilitators and these member ids.
    FacilitatorsAnd(Vec<String>),
}

impl Audience {
    /// Whether the member `id` with `role` may see the event.
    pub fn includes(&self, id: &str, role: Role) -> bool {
        match self {
            Audience::All => true,
            Audience::Facilitators => role == Role::Facilitator,
            Audience::FacilitatorsAnd(ids) => {
                role == Role::Facilitator || ids.iter().any(|i| i == id)
            }
        }
    }
}

/// Something that happened. The actor sends
/// `{"type":"event","seq":…,"at":…,"kind":kind, …data}` to the audience.
#[derive(Clone, PartialEq)]
pub struct Event {
    pub kind: &'static str,
    pub data: Map<String, Value>,
    pub audience: Audience,
}

impl Event {
    fn new(kind: &'static str, data: Value, audience: Audience) -> Event {
        let data = match data {
            Value::Object(map) => map,
            // Every call site passes a `json!({...})` object literal.
            other => {
                let mut map = Map::new();
                map.insert("value".into(), other);
                map
            }
        };
        Event {
            kind,
            data,
            audience,
        }
    }

    fn all(kind: &'static str, data: Value) -> Event {
        Event::new(kind, data, Audience::All)
    }
}

/// Wire error codes (PROTOCOL.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
}

impl ErrorCode {
    /// The snake_case wire code.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Muted => "muted",
            ErrorCode::Paused => "paused",
            ErrorCode::NotYourTurn => "not_your_turn",
            ErrorCode::NotHolder => "not_holder",
            ErrorCode::TooLong => "too_long",
            ErrorCode::Locked => "locked",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::SessionEnded => "session_ended",
        }
    }
}

/// Why a command was not applied: a wire code and a plain, kind sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
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

/// Stands for a text in `Debug` output: its length, never its words.
struct Chars<'a>(&'a str);

impl fmt::Debug for Chars<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} chars>", self.0.chars().count())
    }
}

fn chars(text: &Option<String>) -> Option<Chars<'_>> {
    text.as_deref().map(Chars)
}

/// Leaves out every text (messages, notes, reasons, names): what people
/// write here is health-related and must not reach a log.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(self.kind());
        match self {
            Command::Say { room, text, cw } => d
                .field("room", room)
                .field("text", &Chars(text))
                .field("cw", &chars(cw)),
            Command::React { msg, emoji } => d.field("msg", msg).field("emoji", emoji),
            Command::Hand { up } => d.field("up", up),
            Command::Break { on, note } | Command::Pause { on, note } => {
                d.field("on", on).field("note", &chars(note))
            }
            Command::Report { msg, reason } => d.field("msg", msg).field("reason", &Chars(reason)),
            Command::NeedHelp { note } => d.field("note", &chars(note)),
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
            Command::Announce { text } => d.field("text", &Chars(text)),
            Command::Dm { participant, text } => d
                .field("participant", participant)
                .field("text", &Chars(text)),
            Command::RoomOpen { name } => d.field("name", &Chars(name)),
            Command::RoomClose { room } => d.field("room", room),
            Command::Pass | Command::Start | Command::End => &mut d,
        };
        d.finish()
    }
}

/// Shows the kind, the audience and the names of the fields, never their
/// values (which may hold what people wrote).
impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.kind)
            .field("fields", &self.data.keys().collect::<Vec<_>>())
            .field("audience", &self.audience)
            .finish()
    }
}

/// Ids, phase and the stick only: no names, no messages.
impl fmt::Debug for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionState")
            .field("phase", &self.phase)
            .field("mode", &self.mode)
            .field("locked", &self.locked)
            .field("members", &self.members.len())
            .field("queue", &self.queue)
            .field("holder", &self.holder())
            .field("turn", &self.stick.as_ref().map(|t| t.id))
            .field("clock", &self.clock)
            .finish()
    }
}

fn refuse<T>(code: ErrorCode, message: &str) -> Result<T, Refusal> {
    Err(Refusal::new(code, message))
}

fn ended() -> Refusal {
    Refusal::new(
        ErrorCode::SessionEnded,
        "This session has ended. Thank you for being here.",
    )
}

/// Trims `raw`; refuses it empty (`bad_request`) or over `max` chars
/// (`too_long`).
fn clean_text(raw: &str, max: usize, what: &str) -> Result<String, Refusal> {
    let text = raw.trim();
    if text.is_empty() {
        return refuse(
            ErrorCode::BadRequest,
            &format!("The {what} is empty; please write something first."),
        );
    }
    if text.chars().count() > max {
        return refuse(
            ErrorCode::TooLong,
            &format!("The {what} is too long; please keep it under {max} characters."),
        );
    }
    Ok(text.to_string())
}

/// Like [`clean_text`] for an optional field: empty after trimming is none.
fn clean_optional(raw: Option<&str>, max: usize, what: &str) -> Result<Option<String>, Refusal> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => clean_text(text, max, what).map(Some),
    }
}

#[derive(Clone, Debug)]
struct Member {
    id: String,
    name: String,
    role: Role,
    connected: bool,
    /// When the last socket closed (while disconnected).
    away_since: Option<Millis>,
    /// Disconnected for longer than the grace period.
    offline: bool,
    on_break: bool,
    break_note: Option<String>,
    muted: bool,
    turns: u32,
    spoken_ms: Millis,
    removed: bool,
    /// Instants of accepted `say`s inside the rate window.
    says: VecDeque<Millis>,
}

impl Member {
    fn presence(&self) -> Presence {
        if !self.connected {
            if self.offline {
                Presence::Offline
            } else {
                Presence::Away
            }
        } else if self.on_break {
            Presence::Break
        } else {
            Presence::Online
        }
    }

    fn is_participant(&self) -> bool {
        self.role == Role::Participant
    }
}

#[derive(Clone, Debug)]
struct Turn {
    id: u64,
    holder: String,
    /// While live; `None` while paused.
    ends_at: Option<Millis>,
    /// Time left when the clock was stopped (meaningful while paused).
    remaining_ms: Millis,
    /// Start of the current unpaused stretch, `None` while paused.
    running_since: Option<Millis>,
    /// Held time of the finished unpaused stretches.
    held_ms: Millis,
    /// Length the turn was given, for the warning rule.
    length_ms: Millis,
    warned: bool,
}

#[derive(Clone, Debug)]
struct Message {
    id: String,
    from: String,
    text: Option<String>,
    cw: Option<String>,
    at: Millis,
    redacted: bool,
    reactions: BTreeMap<Emoji, BTreeSet<String>>,
}

#[derive(Clone, Debug)]
struct Room {
    id: String,
    name: String,
    messages: VecDeque<Message>,
}

#[derive(Clone, Debug)]
struct Dm {
    id: String,
    from: String,
    to: String,
    text: String,
    at: Millis,
}

#[derive(Clone, Debug)]
struct Announcement {
    from: String,
    text: String,
    at: Millis,
}

/// A timer the state is waiting on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timer {
    EndingSoon,
    TurnWarning,
    TurnEnd,
    Grace(usize),
    NoFacilitator,
    End,
}

/// Upper bound of timers fired by one `tick`; each firing removes its own
/// deadline and any new one lies later, so this is only a safety net.
const MAX_TIMERS_PER_TICK: usize = 100_000;

/// The whole live state of one session. See the module docs.
#[derive(Clone)]
pub struct SessionState {
    config: Config,
    phase: Phase,
    mode: Mode,
    locked: bool,
    turn_seconds: u32,
    ends_at: Millis,
    /// Latest `now` seen: every stored instant is at or before it.
    clock: Millis,
    /// Live time of finished live stretches.
    live_ms: Millis,
    /// Start of the current live stretch.
    live_since: Option<Millis>,
    members: Vec<Member>,
    index: HashMap<String, usize>,
    queue: Vec<String>,
    stick: Option<Turn>,
    last_turn: u64,
    rooms: Vec<Room>,
    last_msg: u64,
    last_room: u64,
    dms: VecDeque<Dm>,
    last_dm: u64,
    /// (facilitator, participant) pairs where the facilitator wrote first.
    dm_open: HashSet<(String, String)>,
    announcements: VecDeque<Announcement>,
    /// Reports and help requests, for facilitators who (re)connect later.
    inbox: VecDeque<Value>,
    /// Since when no facilitator is connected.
    no_facilitator_since: Option<Millis>,
    ending_warned: bool,
}

impl SessionState {
    /// `started`: a facilitator already started it (phase live, e.g. after a
    /// restart); `locked` from the store.
    pub fn new(config: Config, started: bool, locked: bool, ends_at: Millis, now: Millis) -> Self {
        // The operator's default may be shorter than the `mode` command
        // allows (tests and drills use a few seconds); never zero.
        let turn_seconds = config.turn_seconds.clamp(1, *TURN_SECONDS.end());
        SessionState {
            config,
            phase: if started { Phase::Live } else { Phase::Lobby },
            mode: Mode::Open,
            locked,
            turn_seconds,
            ends_at,
            clock: now,
            live_ms: 0,
            live_since: started.then_some(now),
            members: Vec::new(),
            index: HashMap::new(),
            queue: Vec::new(),
            stick: None,
            last_turn: 0,
            rooms: vec![Room {
                id: MAIN_ROOM.into(),
                name: MAIN_ROOM_NAME.into(),
                messages: VecDeque::new(),
            }],
            last_msg: 0,
            last_room: 0,
            dms: VecDeque::new(),
            last_dm: 0,
            dm_open: HashSet::new(),
            announcements: VecDeque::new(),
            inbox: VecDeque::new(),
            no_facilitator_since: Some(now),
            ending_warned: false,
        }
    }

    /// The session's phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The session's mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether new joins are barred.
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// The current holder of the stick.
    pub fn holder(&self) -> Option<&str> {
        self.stick.as_ref().map(|t| t.holder.as_str())
    }

    /// The queue, in order.
    pub fn queue(&self) -> &[String] {
        &self.queue
    }

    /// The role of a member who is in the session (not removed).
    pub fn role_of(&self, id: &str) -> Option<Role> {
        self.member(id).map(|m| m.role)
    }

    /// The presence of a member who is in the session (not removed).
    pub fn presence_of(&self, id: &str) -> Option<Presence> {
        self.member(id).map(Member::presence)
    }

    /// Whether a facilitator removed this member.
    pub fn is_removed(&self, id: &str) -> bool {
        self.index.get(id).is_some_and(|&i| self.members[i].removed)
    }

    /// Total live (unpaused) time so far.
    pub fn live_ms(&self) -> Millis {
        self.live_ms + self.live_since.map_or(0, |s| self.clock - s)
    }

    // ---------------------------------------------------------------- entry points

    /// A person known to the store opened their first socket. Adds them if
    /// new (`joined`), sets presence back to online (or break) if they were
    /// away or offline (`presence`). A returning member keeps hand, queue
    /// place, break and role.
    pub fn connect(
        &mut self,
        now: Millis,
        id: &str,
        name: &str,
        role: Role,
    ) -> Result<Vec<Event>, Refusal> {
        let now = self.advance(now);
        if self.phase == Phase::Ended {
            return Err(ended());
        }
        if self.is_removed(id) {
            return refuse(
                ErrorCode::Forbidden,
                "A facilitator has asked you to leave this session.",
            );
        }
        let mut out = Vec::new();
        match self.index.get(id) {
            None => {
                self.index.insert(id.to_string(), self.members.len());
                self.members.push(Member {
                    id: id.to_string(),
                    name: name.to_string(),
                    role,
                    connected: true,
                    away_since: None,
                    offline: false,
                    on_break: false,
                    break_note: None,
                    muted: false,
                    turns: 0,
                    spoken_ms: 0,
                    removed: false,
                    says: VecDeque::new(),
                });
                let participant = self.participant_json(&self.members[self.members.len() - 1]);
                out.push(Event::all("joined", json!({ "participant": participant })));
            }
            Some(&i) => {
                if !self.members[i].connected {
                    let m = &mut self.members[i];
                    m.connected = true;
                    m.away_since = None;
                    m.offline = false;
                    out.push(self.presence_event(i));
                }
            }
        }
        self.update_facilitator_presence(now);
        self.settle(now, &mut out);
        Ok(out)
    }

    /// Their last socket closed: presence `away` (then `offline` after the
    /// grace period, via `tick`).
    pub fn disconnect(&mut self, now: Millis, id: &str) -> Vec<Event> {
        let now = self.advance(now);
        let mut out = Vec::new();
        let Some(&i) = self.index.get(id) else {
            return out;
        };
        let m = &mut self.members[i];
        if !m.connected {
            return out;
        }
        m.connected = false;
        m.away_since = Some(now);
        m.offline = false;
        let silent = m.removed || self.phase == Phase::Ended;
        self.update_facilitator_presence(now);
        if silent {
            return out;
        }
        out.push(self.presence_event(i));
        self.settle(now, &mut out);
        out
    }

    /// Applies one command of member `who`.
    pub fn apply(&mut self, now: Millis, who: &str, cmd: Command) -> Result<Vec<Event>, Refusal> {
        let now = self.advance(now);
        if self.phase == Phase::Ended {
            return Err(ended());
        }
        let Some(&me) = self.index.get(who) else {
            return refuse(
                ErrorCode::Unauthorized,
                "We couldn't find you in this session; please join again.",
            );
        };
        if self.members[me].removed {
            return refuse(
                ErrorCode::Forbidden,
                "A facilitator has asked you to leave this session.",
            );
        }
        let role = self.members[me].role;
        if cmd.facilitator_only() && role != Role::Facilitator {
            return refuse(ErrorCode::Forbidden, "Only a facilitator can do that.");
        }
        let mut out = Vec::new();
        match cmd {
            Command::Say { room, text, cw } => {
                self.say(now, me, &room, &text, cw.as_deref(), &mut out)?
            }
            Command::React { msg, emoji } => self.react(me, &msg, emoji, &mut out)?,
            Command::Hand { up } => self.hand(me, up, &mut out)?,
            Command::Pass => {
                if self.holder() != Some(who) {
                    return refuse(ErrorCode::NotHolder, "You don't have the stick right now.");
                }
                self.end_turn(now, "pass", &mut out);
            }
            Command::Break { on, note } => {
                self.set_break(now, me, on, note.as_deref(), &mut out)?
            }
            Command::Report { msg, reason } => {
                let reason = clean_text(&reason, MAX_NOTE_CHARS, "reason")?;
                let Some((room, m)) = self.find_message(&msg) else {
                    return refuse(
                        ErrorCode::NotFound,
                        "We couldn't find that message any more.",
                    );
                };
                let data = json!({
                    "msg": msg,
                    "by": who,
                    "reason": reason,
                    "from": self.rooms[room].messages[m].from,
                    "room": self.rooms[room].id,
                });
                self.remember_in_inbox(now, "reported", &data);
                out.push(Event::new("reported", data, Audience::Facilitators));
            }
            Command::NeedHelp { note } => {
                let note = clean_optional(note.as_deref(), MAX_NOTE_CHARS, "note")?;
                let data = json!({ "from": who, "note": note });
                self.remember_in_inbox(now, "help_requested", &data);
                out.push(Event::new("help_requested", data, Audience::Facilitators));
            }
            Command::Start => {
                if self.phase != Phase::Lobby {
                    return refuse(ErrorCode::BadRequest, "The session has already started.");
                }
                self.phase = Phase::Live;
                self.live_since = Some(now);
                out.push(Event::all("phase", json!({ "phase": "live", "by": who })));
            }
            Command::Pause { on, note } => {
                let note = clean_optional(note.as_deref(), MAX_NOTE_CHARS, "note")?;
                match (on, self.phase) {
                    (true, Phase::Live) => self.pause(now, None, Some(who), note, &mut out),
                    (false, Phase::Paused) => self.resume(now, who, note, &mut out),
                    (_, Phase::Lobby) => {
                        return refuse(ErrorCode::BadRequest, "The session hasn't started yet.")
                    }
                    (true, _) => {
                        return refuse(ErrorCode::BadRequest, "The session is already paused.")
                    }
                    (false, _) => {
                        return refuse(ErrorCode::BadRequest, "The session isn't paused.")
                    }
                }
            }
            Command::Mute { participant, on } => {
                let t = self.target_participant(&participant, "muted")?;
                self.set_muted(now, t, on, &mut out);
            }
            Command::MuteAll { on } => {
                let targets: Vec<usize> = (0..self.members.len())
                    .filter(|&i| {
                        let m = &self.members[i];
                        m.is_participant() && !m.removed && m.muted != on
                    })
                    .collect();
                let mut turn_ends = false;
                let mut queue_changed = false;
                for i in targets {
                    let id = self.members[i].id.clone();
                    self.members[i].muted = on;
                    out.push(Event::all("muted", json!({ "participant": id, "on": on })));
                    if on {
                        queue_changed |= self.unqueue(&id);
                        turn_ends |= self.holder() == Some(id.as_str());
                    }
                }
                if queue_changed {
                    out.push(self.queue_event());
                }
                if turn_ends {
                    self.end_turn(now, "muted", &mut out);
                }
            }
            Command::Give { participant } => self.give(now, participant.as_deref(), &mut out)?,
            Command::Lower { participant } => {
                let t = self.target(&participant)?;
                let id = self.members[t].id.clone();
                if self.unqueue(&id) {
                    out.push(self.queue_event());
                }
            }
            Command::Move { participant, to } => {
                let t = self.target(&participant)?;
                let id = self.members[t].id.clone();
                if !self.unqueue(&id) {
                    return refuse(ErrorCode::NotFound, "That participant isn't in the queue.");
                }
                let to = to.min(self.queue.len());
                self.queue.insert(to, id);
                out.push(self.queue_event());
            }
            Command::Mode { mode, turn_seconds } => {
                if let Some(s) = turn_seconds {
                    if !TURN_SECONDS.contains(&s) {
                        return refuse(
                            ErrorCode::BadRequest,
                            "A turn can last from 30 seconds to 15 minutes.",
                        );
                    }
                    self.turn_seconds = s;
                }
                self.mode = mode;
                out.push(Event::all(
                    "mode",
                    json!({ "mode": mode.as_str(), "turn_seconds": self.turn_seconds }),
                ));
                match mode {
                    Mode::Open => self.end_turn(now, "mode", &mut out),
                    Mode::Stick => {}
                    Mode::Round => {
                        let holder = self.holder().map(str::to_string);
                        self.queue = self
                            .members
                            .iter()
                            .filter(|m| {
                                m.is_participant()
                                    && !m.removed
                                    && !m.muted
                                    && m.presence() == Presence::Online
                                    && holder.as_deref() != Some(m.id.as_str())
                            })
                            .map(|m| m.id.clone())
                            .collect();
                        out.push(self.queue_event());
                    }
                }
            }
            Command::Remove { participant, .. } => {
                let t = self.target_participant(&participant, "removed")?;
                let id = self.members[t].id.clone();
                self.members[t].removed = true;
                out.push(Event::all(
                    "left",
                    // Whether they were also banned is the facilitators' business
                    // (the audit log), not the room's.
                    json!({ "participant": id, "reason": "removed" }),
                ));
                if self.unqueue(&id) {
                    out.push(self.queue_event());
                }
                if self.holder() == Some(id.as_str()) {
                    self.end_turn(now, "removed", &mut out);
                }
            }
            Command::Lock { on } => {
                if self.locked != on {
                    self.locked = on;
                    out.push(Event::all("locked", json!({ "on": on })));
                }
            }
            Command::Redact { msg } => {
                let Some((r, m)) = self.find_message(&msg) else {
                    return refuse(
                        ErrorCode::NotFound,
                        "We couldn't find that message any more.",
                    );
                };
                let room = self.rooms[r].id.clone();
                let message = &mut self.rooms[r].messages[m];
                if !message.redacted {
                    message.redacted = true;
                    message.text = None;
                    message.cw = None;
                    out.push(Event::all("redacted", json!({ "msg": msg, "room": room })));
                }
            }
            Command::Announce { text } => {
                let text = clean_text(&text, self.config.max_message_chars, "announcement")?;
                self.announcements.push_back(Announcement {
                    from: who.to_string(),
                    text: text.clone(),
                    at: now,
                });
                while self.announcements.len() > self.config.room_history {
                    self.announcements.pop_front();
                }
                out.push(Event::all(
                    "announced",
                    json!({ "text": text, "from": who }),
                ));
            }
            Command::Dm { participant, text } => self.dm(now, me, &participant, &text, &mut out)?,
            Command::End => self.end_session(now, None, Some(who), &mut out),
            Command::RoomOpen { name } => {
                let name = clean_text(&name, MAX_ROOM_NAME_CHARS, "room name")?;
                self.last_room += 1;
                let id = format!("r{}", self.last_room);
                self.rooms.push(Room {
                    id: id.clone(),
                    name: name.clone(),
                    messages: VecDeque::new(),
                });
                out.push(Event::all(
                    "room_opened",
                    json!({ "room": { "id": id, "name": name } }),
                ));
            }
            Command::RoomClose { room } => {
                if room == MAIN_ROOM {
                    return refuse(ErrorCode::BadRequest, "The main circle can't be closed.");
                }
                let Some(r) = self.rooms.iter().position(|x| x.id == room) else {
                    return refuse(ErrorCode::NotFound, "That room isn't open.");
                };
                self.rooms.remove(r);
                out.push(Event::all("room_closed", json!({ "room": room })));
            }
        }
        self.settle(now, &mut out);
        Ok(out)
    }

    /// Timers: turn end, turn warning, grace expiries, the no-facilitator
    /// pause, `ending_soon` and the end at `ends_at`. Each fires at the
    /// instant it was due (or at the latest instant already seen, if later).
    pub fn tick(&mut self, now: Millis) -> Vec<Event> {
        let now = now.max(self.clock);
        let mut out = Vec::new();
        for _ in 0..MAX_TIMERS_PER_TICK {
            let Some((due, timer)) = self.earliest_timer() else {
                break;
            };
            if due > now {
                break;
            }
            let at = due.max(self.clock);
            self.clock = at;
            self.fire(at, timer, &mut out);
            self.settle(at, &mut out);
        }
        self.clock = now;
        out
    }

    /// Earliest instant at which `tick` would do something (`None`: nothing
    /// pending).
    pub fn next_deadline(&self) -> Option<Millis> {
        self.earliest_timer().map(|(at, _)| at)
    }

    /// The `state` of the welcome frame as seen by `viewer`.
    pub fn snapshot(&self, viewer: &str) -> Value {
        let viewer_role = self.role_of(viewer);
        let participants: Vec<Value> = self
            .members
            .iter()
            .filter(|m| !m.removed)
            .map(|m| self.participant_json(m))
            .collect();
        let rooms: Vec<Value> = self
            .rooms
            .iter()
            .map(|r| {
                let messages: Vec<Value> =
                    r.messages.iter().map(|m| message_json(&r.id, m)).collect();
                json!({ "id": r.id, "name": r.name, "messages": messages })
            })
            .collect();
        let dms: Vec<Value> = self
            .dms
            .iter()
            .filter(|d| {
                viewer_role == Some(Role::Facilitator) || d.from == viewer || d.to == viewer
            })
            .map(|d| json!({ "id": d.id, "from": d.from, "to": d.to, "text": d.text, "at": d.at }))
            .collect();
        let announcements: Vec<Value> = self
            .announcements
            .iter()
            .map(|a| json!({ "from": a.from, "text": a.text, "at": a.at }))
            .collect();
        // Only facilitators see reports and help requests.
        let inbox: Vec<Value> = if viewer_role == Some(Role::Facilitator) {
            self.inbox.iter().cloned().collect()
        } else {
            Vec::new()
        };
        json!({
            "session": {
                "phase": self.phase.as_str(),
                "mode": self.mode.as_str(),
                "locked": self.locked,
                "turn_seconds": self.turn_seconds,
                "ends_at": self.ends_at,
            },
            "participants": participants,
            "queue": self.queue,
            "stick": self.stick_json(),
            "rooms": rooms,
            "dms": dms,
            "announcements": announcements,
            "inbox": inbox,
        })
    }

    /// Keeps a report or help request for the facilitators' inbox
    /// (`{kind, at, …the event's fields}`), bounded like the rooms.
    fn remember_in_inbox(&mut self, at: Millis, kind: &str, data: &Value) {
        let mut item = data.clone();
        item["kind"] = json!(kind);
        item["at"] = json!(at);
        self.inbox.push_back(item);
        while self.inbox.len() > self.config.room_history.max(1) {
            self.inbox.pop_front();
        }
    }

    // ---------------------------------------------------------------- commands

    fn say(
        &mut self,
        now: Millis,
        me: usize,
        room: &str,
        text: &str,
        cw: Option<&str>,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let m = &self.members[me];
        let participant = m.is_participant();
        if m.muted {
            return refuse(
                ErrorCode::Muted,
                "A facilitator has muted you for the moment, so you can't write just now.",
            );
        }
        if participant && self.phase == Phase::Lobby {
            return refuse(
                ErrorCode::Paused,
                "The session hasn't started yet; you can write once the facilitator begins.",
            );
        }
        if participant && self.phase == Phase::Paused {
            return refuse(
                ErrorCode::Paused,
                "The facilitator has paused the group for a moment.",
            );
        }
        let Some(r) = self.rooms.iter().position(|x| x.id == room) else {
            return refuse(ErrorCode::NotFound, "That room isn't open any more.");
        };
        if participant
            && room == MAIN_ROOM
            && self.mode != Mode::Open
            && self.holder() != Some(m.id.as_str())
        {
            return refuse(
                ErrorCode::NotYourTurn,
                "It's someone else's turn to speak. Raise your hand to join the queue.",
            );
        }
        let text = clean_text(text, self.config.max_message_chars, "message")?;
        let cw = clean_optional(cw, MAX_CW_CHARS, "content note")?;
        let window_start = now - self.config.say_rate_window_ms;
        let m = &mut self.members[me];
        while m.says.front().is_some_and(|&t| t <= window_start) {
            m.says.pop_front();
        }
        // Facilitators are trusted to post in bursts (e.g. the agreement, line by line).
        if participant && m.says.len() >= self.config.say_rate_count as usize {
            return refuse(
                ErrorCode::RateLimited,
                "You're writing faster than the group can read; please wait a few seconds.",
            );
        }
        m.says.push_back(now);
        let from = m.id.clone();
        self.last_msg += 1;
        let message = Message {
            id: format!("m{}", self.last_msg),
            from,
            text: Some(text),
            cw,
            at: now,
            redacted: false,
            reactions: BTreeMap::new(),
        };
        // A new message has no reactions and is not redacted, and the event
        // names its room: the `said` payload stays lean, since it goes to
        // every member (the snapshot carries the full message object).
        let msg = json!({
            "id": message.id,
            "from": message.from,
            "text": message.text,
            "cw": message.cw,
            "at": message.at,
        });
        let room = &mut self.rooms[r];
        room.messages.push_back(message);
        while room.messages.len() > self.config.room_history {
            room.messages.pop_front();
        }
        out.push(Event::all("said", json!({ "room": room.id, "msg": msg })));
        Ok(())
    }

    fn react(
        &mut self,
        me: usize,
        msg: &str,
        emoji: Emoji,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        if self.phase == Phase::Paused {
            return refuse(
                ErrorCode::Paused,
                "The facilitator has paused the group for a moment.",
            );
        }
        let Some((r, i)) = self.find_message(msg) else {
            return refuse(
                ErrorCode::NotFound,
                "We couldn't find that message any more.",
            );
        };
        let who = self.members[me].id.clone();
        let room = self.rooms[r].id.clone();
        let message = &mut self.rooms[r].messages[i];
        if message.redacted {
            return refuse(ErrorCode::NotFound, "That message has been taken down.");
        }
        let set = message.reactions.entry(emoji).or_default();
        if set.insert(who.clone()) {
            let count = set.len();
            out.push(Event::all(
                "reacted",
                json!({ "msg": msg, "emoji": emoji.as_str(), "from": who, "room": room, "count": count }),
            ));
        }
        Ok(())
    }

    fn hand(&mut self, me: usize, up: bool, out: &mut Vec<Event>) -> Result<(), Refusal> {
        let m = &self.members[me];
        let id = m.id.clone();
        if !up {
            if self.unqueue(&id) {
                out.push(self.queue_event());
            }
            return Ok(());
        }
        if m.muted {
            return refuse(
                ErrorCode::Muted,
                "A facilitator has muted you for the moment, so you can't raise your hand just now.",
            );
        }
        if !m.is_participant() {
            return refuse(
                ErrorCode::BadRequest,
                "Facilitators can speak at any time; there's no need to raise a hand.",
            );
        }
        if self.queue.contains(&id) || self.holder() == Some(id.as_str()) {
            return Ok(());
        }
        let turns = m.turns;
        let at = self
            .queue
            .iter()
            .position(|q| self.member(q).is_some_and(|x| x.turns > turns))
            .unwrap_or(self.queue.len());
        self.queue.insert(at, id);
        out.push(self.queue_event());
        Ok(())
    }

    fn set_break(
        &mut self,
        now: Millis,
        me: usize,
        on: bool,
        note: Option<&str>,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let note = clean_optional(note, MAX_NOTE_CHARS, "note")?;
        let m = &mut self.members[me];
        if on {
            if m.on_break && m.break_note == note {
                return Ok(());
            }
            m.on_break = true;
            m.break_note = note;
        } else {
            if !m.on_break {
                return Ok(());
            }
            m.on_break = false;
            m.break_note = None;
        }
        let id = m.id.clone();
        out.push(self.presence_event(me));
        if on && self.holder() == Some(id.as_str()) {
            self.end_turn(now, "break", out);
        }
        Ok(())
    }

    fn give(&mut self, now: Millis, to: Option<&str>, out: &mut Vec<Event>) -> Result<(), Refusal> {
        let Some(to) = to else {
            self.end_turn(now, "taken", out);
            return Ok(());
        };
        let t = self.target_participant(to, "given the stick")?;
        let m = &self.members[t];
        if m.muted {
            return refuse(
                ErrorCode::BadRequest,
                "That participant is muted; unmute them before giving them the stick.",
            );
        }
        if m.presence() != Presence::Online {
            return refuse(
                ErrorCode::BadRequest,
                "That participant isn't here right now (away or on a break).",
            );
        }
        if self.phase != Phase::Live {
            return refuse(
                ErrorCode::Paused,
                "The stick can be given once the session is running.",
            );
        }
        if self.mode == Mode::Open {
            return refuse(
                ErrorCode::BadRequest,
                "The stick is only used in stick or round mode.",
            );
        }
        let id = m.id.clone();
        self.end_turn(now, "given", out);
        self.start_turn(now, &id, out);
        Ok(())
    }

    fn dm(
        &mut self,
        now: Millis,
        me: usize,
        to: &str,
        text: &str,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let who = self.members[me].id.clone();
        let role = self.members[me].role;
        let t = self.target(to)?;
        let target_role = self.members[t].role;
        if t == me {
            return refuse(
                ErrorCode::BadRequest,
                "You can't send a message to yourself.",
            );
        }
        if role == Role::Participant
            && (target_role != Role::Facilitator
                || !self.dm_open.contains(&(to.to_string(), who.clone())))
        {
            return refuse(
                ErrorCode::Forbidden,
                "You can reply here once a facilitator has written to you. If you need support now, use \"Need help\".",
            );
        }
        let text = clean_text(text, self.config.max_message_chars, "message")?;
        if role == Role::Facilitator && target_role == Role::Participant {
            self.dm_open.insert((who.clone(), to.to_string()));
        }
        self.last_dm += 1;
        let id = format!("d{}", self.last_dm);
        self.dms.push_back(Dm {
            id: id.clone(),
            from: who.clone(),
            to: to.to_string(),
            text: text.clone(),
            at: now,
        });
        while self.dms.len() > self.config.room_history {
            self.dms.pop_front();
        }
        out.push(Event::new(
            "dm",
            json!({ "id": id, "from": who, "to": to, "text": text }),
            Audience::FacilitatorsAnd(vec![who.clone(), to.to_string()]),
        ));
        Ok(())
    }

    fn set_muted(&mut self, now: Millis, t: usize, on: bool, out: &mut Vec<Event>) {
        if self.members[t].muted == on {
            return;
        }
        self.members[t].muted = on;
        let id = self.members[t].id.clone();
        out.push(Event::all("muted", json!({ "participant": id, "on": on })));
        if on {
            if self.unqueue(&id) {
                out.push(self.queue_event());
            }
            if self.holder() == Some(id.as_str()) {
                self.end_turn(now, "muted", out);
            }
        }
    }

    // ---------------------------------------------------------------- phases

    fn pause(
        &mut self,
        at: Millis,
        reason: Option<&str>,
        by: Option<&str>,
        note: Option<String>,
        out: &mut Vec<Event>,
    ) {
        self.phase = Phase::Paused;
        if let Some(since) = self.live_since.take() {
            self.live_ms += at - since;
        }
        let mut data = json!({ "phase": "paused" });
        if let Some(reason) = reason {
            data["reason"] = json!(reason);
        }
        if let Some(by) = by {
            data["by"] = json!(by);
        }
        if let Some(note) = note {
            data["note"] = json!(note);
        }
        out.push(Event::all("phase", data));
        if let Some(turn) = self.stick.as_mut() {
            if let (Some(since), Some(ends_at)) = (turn.running_since.take(), turn.ends_at.take()) {
                turn.held_ms += at - since;
                turn.remaining_ms = (ends_at - at).max(0);
            }
            out.push(self.stick_event());
        }
    }

    fn resume(&mut self, at: Millis, by: &str, note: Option<String>, out: &mut Vec<Event>) {
        self.phase = Phase::Live;
        self.live_since = Some(at);
        let mut data = json!({ "phase": "live", "by": by });
        if let Some(note) = note {
            data["note"] = json!(note);
        }
        out.push(Event::all("phase", data));
        if let Some(turn) = self.stick.as_mut() {
            turn.running_since = Some(at);
            turn.ends_at = Some(at + turn.remaining_ms);
            out.push(self.stick_event());
        }
    }

    fn end_session(
        &mut self,
        at: Millis,
        reason: Option<&str>,
        by: Option<&str>,
        out: &mut Vec<Event>,
    ) {
        self.end_turn(at, "ended", out);
        self.phase = Phase::Ended;
        if let Some(since) = self.live_since.take() {
            self.live_ms += at - since;
        }
        let mut data = json!({ "phase": "ended" });
        if let Some(reason) = reason {
            data["reason"] = json!(reason);
        }
        if let Some(by) = by {
            data["by"] = json!(by);
        }
        out.push(Event::all("phase", data));
    }

    // ---------------------------------------------------------------- the stick

    /// Hands the stick on when it should be, and ends a finished round. Runs
    /// after every entry point.
    fn settle(&mut self, at: Millis, out: &mut Vec<Event>) {
        if self.phase == Phase::Live && self.mode != Mode::Open && self.stick.is_none() {
            let next = self
                .queue
                .iter()
                .find(|id| {
                    self.member(id)
                        .is_some_and(|m| m.presence() == Presence::Online && !m.muted)
                })
                .cloned();
            if let Some(id) = next {
                self.start_turn(at, &id, out);
            }
        }
        if self.mode == Mode::Round && self.stick.is_none() && self.queue.is_empty() {
            self.mode = Mode::Stick;
            out.push(Event::all(
                "mode",
                json!({ "mode": "stick", "turn_seconds": self.turn_seconds, "reason": "round_over" }),
            ));
        }
    }

    /// Gives the stick to `id` now (taking them out of the queue).
    fn start_turn(&mut self, at: Millis, id: &str, out: &mut Vec<Event>) {
        debug_assert!(self.stick.is_none());
        if self.unqueue(id) {
            out.push(self.queue_event());
        }
        let Some(&i) = self.index.get(id) else {
            return;
        };
        self.members[i].turns += 1;
        self.last_turn += 1;
        let length_ms = i64::from(self.turn_seconds) * 1000;
        self.stick = Some(Turn {
            id: self.last_turn,
            holder: id.to_string(),
            ends_at: Some(at + length_ms),
            remaining_ms: length_ms,
            running_since: Some(at),
            held_ms: 0,
            length_ms,
            warned: false,
        });
        out.push(self.stick_event());
    }

    /// Ends the current turn, if any: `spoke` then `stick` with no holder.
    fn end_turn(&mut self, at: Millis, reason: &str, out: &mut Vec<Event>) {
        let Some(turn) = self.stick.take() else {
            return;
        };
        let held = turn.held_ms + turn.running_since.map_or(0, |s| (at - s).max(0));
        if let Some(&i) = self.index.get(&turn.holder) {
            let m = &mut self.members[i];
            m.spoken_ms += held;
            out.push(Event::all(
                "spoke",
                json!({
                    "participant": m.id,
                    "turns": m.turns,
                    "spoken_ms": m.spoken_ms,
                    "turn": turn.id,
                    "held_ms": held,
                    "reason": reason,
                }),
            ));
        }
        out.push(self.stick_event());
    }

    fn unqueue(&mut self, id: &str) -> bool {
        let before = self.queue.len();
        self.queue.retain(|q| q != id);
        self.queue.len() != before
    }

    // ---------------------------------------------------------------- timers

    fn earliest_timer(&self) -> Option<(Millis, Timer)> {
        if self.phase == Phase::Ended {
            return None;
        }
        let mut best: Option<(Millis, Timer)> = None;
        let mut consider = |at: Millis, timer: Timer| {
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, timer));
            }
        };
        if !self.ending_warned {
            consider(self.ends_at - self.config.end_warning_ms, Timer::EndingSoon);
        }
        if self.phase == Phase::Live {
            if let Some(turn) = &self.stick {
                if let Some(ends_at) = turn.ends_at {
                    if !turn.warned && turn.length_ms > self.config.turn_warning_ms {
                        consider(ends_at - self.config.turn_warning_ms, Timer::TurnWarning);
                    }
                    consider(ends_at, Timer::TurnEnd);
                }
            }
        }
        for (i, m) in self.members.iter().enumerate() {
            if let (false, false, false, Some(since)) =
                (m.connected, m.offline, m.removed, m.away_since)
            {
                consider(since + self.config.grace_ms, Timer::Grace(i));
            }
        }
        if self.phase == Phase::Live {
            if let (Some(absent), Some(live)) = (self.no_facilitator_since, self.live_since) {
                consider(
                    absent.max(live) + self.config.grace_ms,
                    Timer::NoFacilitator,
                );
            }
        }
        consider(self.ends_at, Timer::End);
        best
    }

    fn fire(&mut self, at: Millis, timer: Timer, out: &mut Vec<Event>) {
        match timer {
            Timer::EndingSoon => {
                self.ending_warned = true;
                out.push(Event::all(
                    "ending_soon",
                    json!({ "ends_at": self.ends_at }),
                ));
            }
            Timer::TurnWarning => {
                if let Some(turn) = self.stick.as_mut() {
                    turn.warned = true;
                    out.push(Event::all(
                        "turn_warning",
                        json!({ "holder": turn.holder, "ends_at": turn.ends_at, "turn": turn.id }),
                    ));
                }
            }
            Timer::TurnEnd => self.end_turn(at, "time", out),
            Timer::Grace(i) => {
                self.members[i].offline = true;
                out.push(self.presence_event(i));
                if self.holder() == Some(self.members[i].id.as_str()) {
                    self.end_turn(at, "away", out);
                }
            }
            Timer::NoFacilitator => self.pause(at, Some("no_facilitator"), None, None, out),
            Timer::End => self.end_session(at, Some("time"), None, out),
        }
    }

    // ---------------------------------------------------------------- helpers

    fn advance(&mut self, now: Millis) -> Millis {
        self.clock = self.clock.max(now);
        self.clock
    }

    fn update_facilitator_presence(&mut self, now: Millis) {
        let any = self
            .members
            .iter()
            .any(|m| m.role == Role::Facilitator && m.connected && !m.removed);
        if any {
            self.no_facilitator_since = None;
        } else if self.no_facilitator_since.is_none() {
            self.no_facilitator_since = Some(now);
        }
    }

    /// A member still in the session.
    fn member(&self, id: &str) -> Option<&Member> {
        self.index
            .get(id)
            .map(|&i| &self.members[i])
            .filter(|m| !m.removed)
    }

    /// The index of a member still in the session, or `not_found`.
    fn target(&self, id: &str) -> Result<usize, Refusal> {
        match self.index.get(id) {
            Some(&i) if !self.members[i].removed => Ok(i),
            _ => refuse(ErrorCode::NotFound, "That person isn't in this session."),
        }
    }

    /// Like [`Self::target`], and refuses facilitators (`bad_request`).
    fn target_participant(&self, id: &str, what: &str) -> Result<usize, Refusal> {
        let i = self.target(id)?;
        if self.members[i].role == Role::Facilitator {
            return refuse(
                ErrorCode::BadRequest,
                &format!("Facilitators can't be {what}."),
            );
        }
        Ok(i)
    }

    fn find_message(&self, id: &str) -> Option<(usize, usize)> {
        self.rooms.iter().enumerate().find_map(|(r, room)| {
            room.messages
                .iter()
                .position(|m| m.id == id)
                .map(|i| (r, i))
        })
    }

    fn participant_json(&self, m: &Member) -> Value {
        let mut v = json!({
            "id": m.id,
            "name": m.name,
            "role": m.role.as_str(),
            "presence": m.presence().as_str(),
            "muted": m.muted,
            "turns": m.turns,
            "spoken_ms": m.spoken_ms,
            "hand": self.queue.contains(&m.id),
        });
        if let (true, Some(note)) = (m.on_break, &m.break_note) {
            v["break_note"] = json!(note);
        }
        v
    }

    fn presence_event(&self, i: usize) -> Event {
        let m = &self.members[i];
        let presence = m.presence();
        let note = if presence == Presence::Break {
            m.break_note.clone()
        } else {
            None
        };
        Event::all(
            "presence",
            json!({ "participant": m.id, "presence": presence.as_str(), "note": note }),
        )
    }

    fn queue_event(&self) -> Event {
        Event::all("queue", json!({ "queue": self.queue }))
    }

    fn stick_json(&self) -> Value {
        match &self.stick {
            None => json!({ "holder": null, "ends_at": null, "turn": null }),
            Some(turn) => {
                let mut v =
                    json!({ "holder": turn.holder, "ends_at": turn.ends_at, "turn": turn.id });
                if turn.ends_at.is_none() {
                    v["remaining_ms"] = json!(turn.remaining_ms);
                }
                v
            }
        }
    }

    fn stick_event(&self) -> Event {
        Event::all("stick", self.stick_json())
    }
}

fn message_json(room: &str, m: &Message) -> Value {
    let reactions: Map<String, Value> = m
        .reactions
        .iter()
        .filter(|(_, who)| !who.is_empty())
        .map(|(e, who)| (e.as_str().to_string(), json!(who.len())))
        .collect();
    json!({
        "id": m.id,
        "room": room,
        "from": m.from,
        "text": m.text,
        "cw": m.cw,
        "at": m.at,
        "redacted": m.redacted,
        "reactions": reactions,
    })
}
