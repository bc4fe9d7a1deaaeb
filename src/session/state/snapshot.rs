//! The saved form of a session: [`SessionSnapshot`], versioned and
//! serde-serializable, holding everything the rules need to continue —
//! members with their roles, presence, breaks and notes, mutes, removals,
//! turns and `spoken_ms`; the queue, the holder, the turn and its clock (or
//! the paused clock); the mode, the lock, the phase and live time; the rooms
//! (messages as id, author, time, reactions and redaction only); the
//! facilitators' inbox; the rate-limit windows and the id counters.
//!
//! **No message text**: not the text or content note of a message, nor any
//! direct message or announcement. Those live only in memory; after a
//! restore they are gone, and restored messages are never shown again
//! (though a client that still shows one may react to it or report it).

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::{Config, MemberState, Millis, Mode, Phase, Room, SessionState, Turn};
use crate::protocol::views::InboxItem;
use crate::protocol::MemberId;

/// The version [`SessionState::save`] writes.
pub const SNAPSHOT_VERSION: u32 = 1;

/// A saved session (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    pub version: u32,
    phase: Phase,
    mode: Mode,
    locked: bool,
    turn_seconds: u32,
    ends_at: Millis,
    clock: Millis,
    live_ms: Millis,
    live_since: Option<Millis>,
    members: Vec<MemberState>,
    queue: Vec<MemberId>,
    stick: Option<Turn>,
    last_turn: u64,
    rooms: Vec<Room>,
    last_msg: u64,
    last_room: u64,
    last_dm: u64,
    dm_open: Vec<(MemberId, MemberId)>,
    inbox: VecDeque<InboxItem>,
    last_item: u64,
    no_facilitator_since: Option<Millis>,
    ending_warned: bool,
    #[serde(default)]
    pause: Option<crate::protocol::views::PauseView>,
}

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RestoreError {
    #[error("snapshot version {0} is not one this server reads")]
    Version(u32),
    #[error("the snapshot is inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl SessionSnapshot {
    /// The session's phase when it was saved.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// When it was saved (the state's clock), unix ms.
    pub fn taken_at(&self) -> Millis {
        self.clock
    }
}

/// One person in a [`SessionSummary`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryPerson {
    pub id: MemberId,
    pub name: std::sync::Arc<str>,
    pub role: crate::protocol::Role,
    pub turns: u32,
    pub spoken_ms: Millis,
    pub breaks: u32,
    pub removed: bool,
}

/// A help request or report in a [`SessionSummary`]: who, when, and when a
/// facilitator saw it. No notes, no reasons, no message text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryItem {
    pub id: crate::protocol::ItemId,
    /// Who asked for help; for a report, the author of the reported message.
    pub from: MemberId,
    /// For a report: who reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<MemberId>,
    pub at: Millis,
    pub seen_by: Option<MemberId>,
    pub seen_at: Option<Millis>,
}

/// What a facilitator keeps after a session: who came, turns and speaking
/// time (the balance view, frozen), breaks, help requests and reports and how
/// fast each was seen. Never message text, notes or reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub phase: Phase,
    pub live_ms: Millis,
    pub people: Vec<SummaryPerson>,
    pub help_requests: Vec<SummaryItem>,
    pub reports: Vec<SummaryItem>,
}

impl SessionSnapshot {
    /// The summary of the session as saved.
    pub fn summary(&self) -> SessionSummary {
        use crate::protocol::views::InboxKind;
        let live_ms = self.live_ms + self.live_since.map_or(0, |s| self.clock - s);
        let item = |i: &InboxItem, from: &MemberId, by: Option<&MemberId>| SummaryItem {
            id: i.id.clone(),
            from: from.clone(),
            by: by.cloned(),
            at: i.at,
            seen_by: i.seen_by.clone(),
            seen_at: i.seen_at,
        };
        SessionSummary {
            phase: self.phase,
            live_ms,
            people: self
                .members
                .iter()
                .map(|m| SummaryPerson {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    role: m.role,
                    turns: m.turns,
                    spoken_ms: m.spoken_ms,
                    breaks: m.breaks,
                    removed: m.removed,
                })
                .collect(),
            help_requests: self
                .inbox
                .iter()
                .filter_map(|i| match &i.what {
                    InboxKind::HelpRequested { from, .. } => Some(item(i, from, None)),
                    InboxKind::Reported { .. } => None,
                })
                .collect(),
            reports: self
                .inbox
                .iter()
                .filter_map(|i| match &i.what {
                    InboxKind::Reported { from, by, .. } => Some(item(i, from, Some(by))),
                    InboxKind::HelpRequested { .. } => None,
                })
                .collect(),
        }
    }
}

impl SessionState {
    /// The saved form of this state (no message text).
    pub fn save(&self) -> SessionSnapshot {
        let mut dm_open: Vec<(MemberId, MemberId)> = self.dm_open.iter().cloned().collect();
        dm_open.sort();
        SessionSnapshot {
            version: SNAPSHOT_VERSION,
            phase: self.phase,
            mode: self.mode,
            locked: self.locked,
            turn_seconds: self.turn_seconds,
            ends_at: self.ends_at,
            clock: self.clock,
            live_ms: self.live_ms,
            live_since: self.live_since,
            members: self.members.clone(),
            queue: self.queue.clone(),
            stick: self.stick.clone(),
            last_turn: self.last_turn,
            rooms: self.rooms.clone(),
            last_msg: self.last_msg,
            last_room: self.last_room,
            last_dm: self.last_dm,
            dm_open,
            inbox: self.inbox.clone(),
            last_item: self.last_item,
            no_facilitator_since: self.no_facilitator_since,
            ending_warned: self.ending_warned,
            pause: self.pause.clone(),
        }
    }

    /// A state that continues where `snapshot` left off, under `config`.
    /// Texts are gone (see the module docs); everything else answers every
    /// following command exactly as the saved state would have.
    pub fn restore(
        config: Config,
        snapshot: SessionSnapshot,
    ) -> Result<SessionState, RestoreError> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(RestoreError::Version(snapshot.version));
        }
        let mut index = HashMap::with_capacity(snapshot.members.len());
        for (i, m) in snapshot.members.iter().enumerate() {
            if index.insert(m.id.clone(), i).is_some() {
                return Err(RestoreError::Inconsistent("a member appears twice"));
            }
        }
        if !snapshot.rooms.first().is_some_and(|r| r.id.is_main()) {
            return Err(RestoreError::Inconsistent("the main room is missing"));
        }
        let known = |id: &MemberId| index.contains_key(id);
        if !snapshot.queue.iter().all(known)
            || !snapshot.stick.as_ref().is_none_or(|t| known(&t.holder))
        {
            return Err(RestoreError::Inconsistent(
                "the queue or the stick names a stranger",
            ));
        }
        let mut rooms = snapshot.rooms;
        for room in &mut rooms {
            for m in &mut room.messages {
                m.text = None;
                m.cw = None;
            }
        }
        Ok(SessionState {
            config,
            phase: snapshot.phase,
            mode: snapshot.mode,
            locked: snapshot.locked,
            turn_seconds: snapshot.turn_seconds,
            ends_at: snapshot.ends_at,
            clock: snapshot.clock,
            live_ms: snapshot.live_ms,
            live_since: snapshot.live_since,
            members: snapshot.members,
            index,
            queue: snapshot.queue,
            stick: snapshot.stick,
            last_turn: snapshot.last_turn,
            rooms,
            last_msg: snapshot.last_msg,
            last_room: snapshot.last_room,
            dms: VecDeque::new(),
            last_dm: snapshot.last_dm,
            dm_open: snapshot.dm_open.into_iter().collect::<HashSet<_>>(),
            announcements: VecDeque::new(),
            inbox: snapshot.inbox,
            last_item: snapshot.last_item,
            no_facilitator_since: snapshot.no_facilitator_since,
            ending_warned: snapshot.ending_warned,
            pause: snapshot.pause,
        })
    }
}
