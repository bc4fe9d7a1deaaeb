//! The pure, deterministic state machine of one live session.
//!
//! Every rule of the talking stick, breaks, mute, pause, presence and the
//! session's phases lives here and nowhere else (PROTOCOL.md §3–§4). The
//! session actor owns one [`SessionState`], feeds it what happens —
//! [`SessionState::connect`], [`SessionState::disconnect`],
//! [`SessionState::apply`] for commands, [`SessionState::tick`] for timers
//! and [`SessionState::end_from_outside`] for a cancellation — and fans the
//! returned typed [`Event`]s out to the members each [`Event::audience`]
//! allows.
//!
//! **What it must not do:** no tokio, no I/O, no clock reads, no randomness,
//! no logging. Time is the `now` (unix ms) the caller passes in; the same
//! calls with the same `now`s always give the same events, so a session can
//! be saved ([`SessionState::save`]), restored on another node
//! ([`SessionState::restore`]) and tested exhaustively beside the code.
//!
//! The rules are split by topic:
//! - this file: the types, the config, the entry points and the dispatch of
//!   commands (with the per-kind rate limits);
//! - [`members`]: arriving and leaving, breaks, mute, remove, lock;
//! - [`stick`]: hands, the fair order, giving, turns, the queue, rounds;
//! - [`chat`]: say, react, redact, report, help requests, announcements,
//!   direct messages, side rooms, older history;
//! - [`phases`]: start, pause, resume, the end, and every timer;
//! - [`view`]: what a member sees (the welcome's snapshot, history pages);
//! - [`snapshot`]: the saved form, with no message text.
//!
//! # How the actor drives it
//!
//! * Call [`SessionState::connect`] on a person's first socket and
//!   [`SessionState::disconnect`] on their last one.
//! * After every call, sleep until [`SessionState::next_deadline`] and then
//!   call [`SessionState::tick`]. Time-based rules happen only in `tick`, at
//!   the instant they were due: a late `tick` still ends a turn at its
//!   `ends_at`. When the deadline is already due as a command arrives, tick
//!   first so the command sees the up-to-date stick.
//! * `now` is made monotonic: a `now` earlier than one already seen is taken
//!   as the latest one seen.
//! * A refused command ([`Refusal`]) changes nothing.
//!
//! # Choices where the protocol leaves room
//!
//! * The session starts in `open` mode.
//! * `mute_all` emits one `muted` per participant whose mute changed, then
//!   one `queue` if the queue changed, then the turn end if the holder was
//!   muted.
//! * Idempotent commands that change nothing succeed with no event.
//! * `mode round` keeps the current holder's turn and queues every other
//!   online, unmuted participant in join order; an empty round falls back to
//!   `stick`. `mode open` ends the current turn; the queue is kept. A new
//!   `turn_seconds` applies from the next turn.
//! * `give {participant}` needs a live session in stick or round mode;
//!   giving to the holder starts a fresh turn for them. `give null` ends the
//!   turn (`taken`) and the handing-on rule then gives the stick to the next
//!   online person in the queue.
//! * Every participant command has a rate limit per kind ([`Rates`]);
//!   facilitators are not limited (reading the agreement line by line).
//! * Reports and help requests are kept (bounded by `room_history`) in the
//!   facilitators' inbox with an id; `mark_seen` records who saw one. A help
//!   request identical to the sender's previous one, still unseen, changes
//!   nothing.
//! * `react` is allowed to muted participants and in the lobby; it is
//!   refused while paused. A redacted message can be reported but not
//!   reacted to.
//! * `spoken_ms` of the participant object counts finished turns only.
//! * A facilitator counts as online for the no-facilitator rule while
//!   connected. Going live (start or resume) restarts that grace period.
//! * `Debug` of [`SessionState`] never shows what people wrote or names.

mod chat;
mod members;
mod phases;
pub mod snapshot;
mod stick;
pub mod view;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::protocol::views::InboxItem;
pub use crate::protocol::{
    Audience, Command, Emoji, ErrorCode, Event, Millis, Mode, Phase, PhaseReason, Presence,
    Refusal, Role, TurnEnd,
};
use crate::protocol::{DmId, MemberId, MsgId, RoomId};
pub use snapshot::{SessionSnapshot, SessionSummary};
pub use view::{HistoryPage, PeoplePage};

const MAIN_ROOM_NAME: &str = "Main circle";
/// Allowed range of `turn_seconds`.
const TURN_SECONDS: std::ops::RangeInclusive<u32> = 30..=900;

/// A rate limit: at most `count` accepted commands per `window_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub window_ms: Millis,
}

/// The participants' rate limits, per kind of command (docs/protocol.md
/// "Limits"). Facilitators are not limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rates {
    /// `say`.
    pub say: Rate,
    /// Each of `react`, `hand`, `pass`, `dm` and `history`, separately.
    pub commands: Rate,
    /// Each of `break`, `report` and `need_help`, separately.
    pub signals: Rate,
}

/// The rules' numbers. Validated by the settings layer; `new` only clamps
/// `turn_seconds` into 1..=900.
#[derive(Clone, Debug)]
pub struct Config {
    /// Default turn length in seconds (30..=900).
    pub turn_seconds: u32,
    /// Away → offline, a disconnected holder loses the stick, the
    /// no-facilitator pause.
    pub grace_ms: Millis,
    /// `turn_warning` this long before a turn ends.
    pub turn_warning_ms: Millis,
    /// `ending_soon` this long before the session's `ends_at`.
    pub end_warning_ms: Millis,
    pub rates: Rates,
    /// Recent messages kept per room (also the bound of the dm,
    /// announcement and inbox history).
    pub room_history: usize,
    /// Longest message, announcement or dm, in chars after trimming.
    pub max_message_chars: usize,
    /// Bytes of text (messages, dms, announcements, inbox notes) the
    /// welcome's snapshot may hold; older messages are paged with `history`.
    pub welcome_text_bytes: usize,
    /// Above this many people a session is a large room: its welcome lists
    /// a first page of them (the rest paged with `people`).
    pub large_room: usize,
    /// People on the first page of a large room's welcome, besides the
    /// facilitators, the holder, the queue and the viewer.
    pub welcome_people: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            turn_seconds: 120,
            grace_ms: 30_000,
            turn_warning_ms: 30_000,
            end_warning_ms: 300_000,
            rates: Rates {
                say: Rate {
                    count: 10,
                    window_ms: 10_000,
                },
                commands: Rate {
                    count: 20,
                    window_ms: 10_000,
                },
                signals: Rate {
                    count: 6,
                    window_ms: 60_000,
                },
            },
            room_history: 200,
            max_message_chars: 2000,
            welcome_text_bytes: 256 * 1024,
            large_room: 200,
            welcome_people: 100,
        }
    }
}

/// What an accepted command produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// The events, in order, for their audiences.
    pub events: Vec<Event>,
    /// The answer to `history`, for the asking socket only.
    pub page: Option<HistoryPage>,
    /// The answer to `people`, for the asking socket only.
    pub people: Option<PeoplePage>,
}

/// The kinds of participant command with a rate limit of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bucket {
    Say = 0,
    React,
    Hand,
    Pass,
    Break,
    Report,
    Help,
    Dm,
    History,
    People,
}

const BUCKETS: usize = 10;

impl Bucket {
    /// The bucket of a command, if it is one a participant may run.
    /// Exhaustive, with no wildcard: a new command must be placed.
    fn of(cmd: &Command) -> Option<Bucket> {
        match cmd {
            Command::Say { .. } => Some(Bucket::Say),
            Command::React { .. } => Some(Bucket::React),
            Command::Hand { .. } => Some(Bucket::Hand),
            Command::Pass => Some(Bucket::Pass),
            Command::Break { .. } => Some(Bucket::Break),
            Command::Report { .. } => Some(Bucket::Report),
            Command::NeedHelp { .. } => Some(Bucket::Help),
            Command::Dm { .. } => Some(Bucket::Dm),
            Command::History { .. } => Some(Bucket::History),
            Command::People { .. } => Some(Bucket::People),
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
            | Command::MarkSeen { .. } => None,
        }
    }

    fn rate(self, rates: &Rates) -> Rate {
        match self {
            Bucket::Say => rates.say,
            Bucket::React
            | Bucket::Hand
            | Bucket::Pass
            | Bucket::Dm
            | Bucket::History
            | Bucket::People => rates.commands,
            Bucket::Break | Bucket::Report | Bucket::Help => rates.signals,
        }
    }
}

/// A member's rate windows (instants of accepted commands, per bucket),
/// made on their first rate-limited command: most people in a large room
/// never send one, and ten empty windows inline were 320 bytes per person.
/// Serialized as before (ten arrays), so snapshots keep their shape.
#[derive(Clone, Debug, Default)]
struct RateWindows(Option<Box<[VecDeque<Millis>; BUCKETS]>>);

impl RateWindows {
    fn existing(&mut self, bucket: usize) -> Option<&mut VecDeque<Millis>> {
        self.0.as_mut().map(|w| &mut w[bucket])
    }

    fn get_mut(&mut self, bucket: usize) -> &mut VecDeque<Millis> {
        &mut self.0.get_or_insert_with(Default::default)[bucket]
    }

    fn windows(&self) -> impl Iterator<Item = &VecDeque<Millis>> {
        static EMPTY: VecDeque<Millis> = VecDeque::new();
        (0..BUCKETS).map(move |b| self.0.as_ref().map_or(&EMPTY, |w| &w[b]))
    }
}

impl PartialEq for RateWindows {
    fn eq(&self, other: &Self) -> bool {
        self.windows().eq(other.windows())
    }
}

impl Serialize for RateWindows {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(BUCKETS)?;
        for w in self.windows() {
            t.serialize_element(w)?;
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for RateWindows {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = <[VecDeque<Millis>; BUCKETS]>::deserialize(d)?;
        Ok(RateWindows(
            w.iter().any(|q| !q.is_empty()).then(|| Box::new(w)),
        ))
    }
}

/// One person in the session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct MemberState {
    id: MemberId,
    name: Arc<str>,
    role: Role,
    connected: bool,
    /// When the last socket closed (while disconnected).
    away_since: Option<Millis>,
    /// Disconnected for longer than the grace period.
    offline: bool,
    on_break: bool,
    break_note: Option<Arc<str>>,
    /// Breaks taken this session (for the summary).
    #[serde(default)]
    breaks: u32,
    muted: bool,
    turns: u32,
    spoken_ms: Millis,
    removed: bool,
    /// Instants of accepted commands inside their rate window, per bucket.
    recent: RateWindows,
}

impl MemberState {
    fn new(id: MemberId, name: Arc<str>, role: Role) -> Self {
        MemberState {
            id,
            name,
            role,
            connected: true,
            away_since: None,
            offline: false,
            on_break: false,
            break_note: None,
            breaks: 0,
            muted: false,
            turns: 0,
            spoken_ms: 0,
            removed: false,
            recent: RateWindows::default(),
        }
    }

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

/// The turn of whoever holds the stick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Turn {
    id: u64,
    holder: MemberId,
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

/// A message of a room. Its text and content note are never saved: a
/// restored message keeps its id, author, reactions and redaction (so a
/// client that still shows it can react to it or report it) but is no
/// longer shown in snapshots or history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Message {
    id: MsgId,
    from: MemberId,
    #[serde(skip)]
    text: Option<Arc<str>>,
    #[serde(skip)]
    cw: Option<Arc<str>>,
    at: Millis,
    redacted: bool,
    reactions: BTreeMap<Emoji, BTreeSet<MemberId>>,
}

impl Message {
    /// Restored from a snapshot: its text was not kept.
    fn is_lost(&self) -> bool {
        self.text.is_none() && !self.redacted
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Room {
    id: RoomId,
    name: Arc<str>,
    messages: VecDeque<Message>,
}

#[derive(Clone, Debug, PartialEq)]
struct Dm {
    id: DmId,
    from: MemberId,
    to: MemberId,
    text: Arc<str>,
    at: Millis,
}

#[derive(Clone, Debug, PartialEq)]
struct Announcement {
    from: MemberId,
    text: Arc<str>,
    at: Millis,
}

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
    members: Vec<MemberState>,
    index: HashMap<MemberId, usize>,
    queue: Vec<MemberId>,
    stick: Option<Turn>,
    last_turn: u64,
    rooms: Vec<Room>,
    last_msg: u64,
    last_room: u64,
    /// Direct messages (memory only: never saved).
    dms: VecDeque<Dm>,
    last_dm: u64,
    /// (facilitator, participant) pairs where the facilitator wrote first.
    dm_open: HashSet<(MemberId, MemberId)>,
    /// Announcements (memory only: never saved).
    announcements: VecDeque<Announcement>,
    /// Reports and help requests, for facilitators who (re)connect later.
    inbox: VecDeque<InboxItem>,
    last_item: u64,
    /// Since when no facilitator is connected.
    no_facilitator_since: Option<Millis>,
    ending_warned: bool,
    /// While paused: by whom, why, with what note.
    pause: Option<crate::protocol::views::PauseView>,
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

fn removed() -> Refusal {
    Refusal::new(
        ErrorCode::Forbidden,
        "A facilitator has asked you to leave this session.",
    )
}

impl SessionState {
    /// `started`: a facilitator already started it (phase live); `locked`
    /// from the store.
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
                id: RoomId::main(),
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
            last_item: 0,
            no_facilitator_since: Some(now),
            ending_warned: false,
            pause: None,
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
    pub fn holder(&self) -> Option<&MemberId> {
        self.stick.as_ref().map(|t| &t.holder)
    }

    /// The queue, in order.
    pub fn queue(&self) -> &[MemberId] {
        &self.queue
    }

    /// The role of a member who is in the session (not removed).
    pub fn role_of(&self, id: &str) -> Option<Role> {
        self.member(id).map(|m| m.role)
    }

    /// The presence of a member who is in the session (not removed).
    pub fn presence_of(&self, id: &str) -> Option<Presence> {
        self.member(id).map(MemberState::presence)
    }

    /// Whether a facilitator removed this member.
    pub fn is_removed(&self, id: &str) -> bool {
        self.index.get(id).is_some_and(|&i| self.members[i].removed)
    }

    /// How many people are in the session (not removed).
    pub fn member_count(&self) -> usize {
        self.members.iter().filter(|m| !m.removed).count()
    }

    /// The participant objects of these members, as they are now (removed
    /// or unknown ones left out).
    pub fn participant_views(
        &self,
        ids: &[MemberId],
    ) -> Vec<crate::protocol::views::ParticipantView> {
        ids.iter()
            .filter_map(|id| self.member(id))
            .map(|m| self.participant_view(m))
            .collect()
    }

    /// Total live (unpaused) time so far.
    pub fn live_ms(&self) -> Millis {
        self.live_ms + self.live_since.map_or(0, |s| self.clock - s)
    }

    /// Applies one command of member `who`.
    pub fn apply(&mut self, now: Millis, who: &str, cmd: Command) -> Result<Applied, Refusal> {
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
            return Err(removed());
        }
        let role = self.members[me].role;
        if cmd.facilitator_only() && role != Role::Facilitator {
            return refuse(ErrorCode::Forbidden, "Only a facilitator can do that.");
        }
        // `say` checks its rate after its own refusals (the documented order).
        let bucket = Bucket::of(&cmd).filter(|_| role == Role::Participant);
        if let Some(b) = bucket.filter(|b| *b != Bucket::Say) {
            self.check_rate(me, b, now)?;
        }
        let mut out = Vec::new();
        let mut page = None;
        let mut people = None;
        match cmd {
            Command::Say { room, text, cw } => {
                self.say(now, me, &room, text.as_str(), cw.as_ref(), &mut out)?
            }
            Command::React { msg, emoji } => self.react(me, &msg, emoji, &mut out)?,
            Command::Hand { up } => self.hand(me, up, &mut out)?,
            Command::Pass => self.pass(now, me, &mut out)?,
            Command::Break { on, note } => self.set_break(now, me, on, note.as_ref(), &mut out)?,
            Command::Report { msg, reason } => {
                self.report(now, me, &msg, reason.as_str(), &mut out)?
            }
            Command::NeedHelp { note } => self.need_help(now, me, note.as_ref(), &mut out)?,
            Command::Dm { participant, text } => {
                self.dm(now, me, &participant, text.as_str(), &mut out)?
            }
            Command::History {
                room,
                before,
                limit,
            } => page = Some(self.history(&room, before.as_ref(), limit)?),
            Command::People { after, limit, ids } => {
                people = Some(match ids {
                    Some(ids) => self.people_by_id(&ids)?,
                    None => self.people_page(after.as_ref(), limit)?,
                })
            }
            Command::Start => self.start(now, me, &mut out)?,
            Command::Pause { on, note } => {
                self.pause_command(now, me, on, note.as_ref(), &mut out)?
            }
            Command::Mute { participant, on } => {
                let t = self.target_participant(&participant, "muted")?;
                self.set_muted(now, t, on, &mut out);
            }
            Command::MuteAll { on } => self.mute_all(now, on, &mut out),
            Command::Give { participant } => self.give(now, participant.as_ref(), &mut out)?,
            Command::Lower { participant } => self.lower(&participant, &mut out)?,
            Command::Move { participant, to } => self.move_in_queue(&participant, to, &mut out)?,
            Command::Mode { mode, turn_seconds } => {
                self.set_mode(now, mode, turn_seconds, &mut out)?
            }
            Command::Remove { participant, .. } => self.remove(now, &participant, &mut out)?,
            Command::Lock { on } => self.lock(on, &mut out),
            Command::Redact { msg } => self.redact(&msg, &mut out)?,
            Command::Announce { text } => self.announce(now, me, text.as_str(), &mut out)?,
            Command::End => self.end_session(now, None, Some(me), &mut out),
            Command::RoomOpen { name } => self.open_room(name.as_str(), &mut out)?,
            Command::RoomClose { room } => self.close_room(&room, &mut out)?,
            Command::MarkSeen { item } => self.mark_seen(now, me, &item, &mut out)?,
        }
        if let Some(b) = bucket {
            self.note_rate(me, b, now);
        }
        self.settle(now, &mut out);
        Ok(Applied {
            events: out,
            page,
            people,
        })
    }

    /// Refuses `rate_limited` when member `me` already used up `bucket`.
    fn check_rate(&mut self, me: usize, bucket: Bucket, now: Millis) -> Result<(), Refusal> {
        let rate = bucket.rate(&self.config.rates);
        // No windows yet (they are made on the first command) counts as
        // empty ones: a bucket whose count is 0 still refuses everything,
        // as it does after a restore that found all windows empty.
        let mut none = VecDeque::new();
        let recent = self.members[me]
            .recent
            .existing(bucket as usize)
            .unwrap_or(&mut none);
        let window_start = now - rate.window_ms;
        while recent.front().is_some_and(|&t| t <= window_start) {
            recent.pop_front();
        }
        if recent.len() >= rate.count as usize {
            let message = if bucket == Bucket::Say {
                "You're writing faster than the group can read; please wait a few seconds."
            } else {
                "That's a lot at once; please wait a few seconds and try again."
            };
            return refuse(ErrorCode::RateLimited, message);
        }
        Ok(())
    }

    fn note_rate(&mut self, me: usize, bucket: Bucket, now: Millis) {
        let rate = bucket.rate(&self.config.rates);
        let recent = self.members[me].recent.get_mut(bucket as usize);
        recent.push_back(now);
        while recent.len() > rate.count as usize {
            recent.pop_front();
        }
    }

    // ---------------------------------------------------------------- helpers

    fn advance(&mut self, now: Millis) -> Millis {
        self.clock = self.clock.max(now);
        self.clock
    }

    /// A member still in the session.
    fn member(&self, id: &str) -> Option<&MemberState> {
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
}
