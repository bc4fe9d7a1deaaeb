//! What a member sees: the welcome's snapshot ([`SessionState::view`]) and
//! pages of older messages ([`HistoryPage`]).
//!
//! The snapshot is bounded in bytes whatever was said: each room shows its
//! most recent messages that fit a share of `welcome_text_bytes` (the main
//! circle half of it, side rooms a quarter between them, direct messages an
//! eighth, announcements and the inbox a sixteenth each) and says `more`
//! when older ones exist; a client asks for those with `history`. Messages
//! restored without their text are never shown.

use crate::protocol::views::{
    AnnouncementView, DmView, InboxItem, InboxKind, MessageView, ParticipantView, RoomView,
    SessionInfo, Snapshot,
};
use crate::protocol::{MemberId, MsgId, RoomId};

use super::{refuse, ErrorCode, MemberState, Message, Refusal, Role, SessionState};

/// Messages in one page of `history` unless the client asks for fewer.
const DEFAULT_PAGE: usize = 50;
/// Most messages in one page of `history`.
const MAX_PAGE: usize = 100;
/// Bytes counted for a message besides its text (ids, times, keys).
const MESSAGE_OVERHEAD: usize = 128;

/// People on one page of `people` unless the client asks for fewer.
const DEFAULT_PEOPLE: usize = 200;
/// Most people on one page of `people`.
const MAX_PEOPLE: usize = 500;

/// An answer to `people`: the next people of the session in the order they
/// first came, and whether more follow.
#[derive(Clone, Debug, PartialEq)]
pub struct PeoplePage {
    pub participants: Vec<ParticipantView>,
    pub more: bool,
}

/// An answer to `history`: messages older than the one asked about,
/// oldest first, and whether even older ones exist.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryPage {
    pub room: RoomId,
    pub messages: Vec<MessageView>,
    pub more: bool,
}

fn message_view(room: &RoomId, m: &Message) -> MessageView {
    MessageView {
        id: m.id.clone(),
        room: room.clone(),
        from: m.from.clone(),
        text: m.text.clone(),
        cw: m.cw.clone(),
        at: m.at,
        redacted: m.redacted,
        reactions: m
            .reactions
            .iter()
            .filter(|(_, who)| !who.is_empty())
            .map(|(e, who)| (*e, u32::try_from(who.len()).unwrap_or(u32::MAX)))
            .collect(),
    }
}

fn message_bytes(m: &Message) -> usize {
    MESSAGE_OVERHEAD + m.text.as_ref().map_or(0, |t| t.len()) + m.cw.as_ref().map_or(0, |t| t.len())
}

/// The newest of `items` (oldest first) whose sizes fit `budget` and at
/// most `count` of them, oldest first; and whether older ones were left out.
fn newest_within<'a, T>(
    items: impl DoubleEndedIterator<Item = &'a T>,
    size: impl Fn(&T) -> usize,
    budget: usize,
    count: usize,
) -> (Vec<&'a T>, bool)
where
    T: 'a,
{
    let mut used = 0;
    let mut picked = Vec::new();
    let mut more = false;
    for item in items.rev() {
        let n = size(item);
        if picked.len() >= count || (used + n > budget && !picked.is_empty()) {
            more = true;
            break;
        }
        used += n;
        picked.push(item);
    }
    picked.reverse();
    (picked, more)
}

impl SessionState {
    /// The people a welcome lists: everyone, or in a large room the
    /// facilitators, the holder, the queue, the viewer and the first
    /// `welcome_people` to come (in the order they first came); with the
    /// total and whether some are left out.
    fn listed_people(&self, viewer: &str) -> (Vec<ParticipantView>, u32, bool) {
        let present = self.members.iter().filter(|m| !m.removed);
        let total = present.clone().count();
        let total_u32 = u32::try_from(total).unwrap_or(u32::MAX);
        if total <= self.config.large_room {
            let all = present.map(|m| self.participant_view(m)).collect();
            return (all, total_u32, false);
        }
        let holder = self.holder();
        let queued: std::collections::HashSet<&MemberId> = self.queue.iter().collect();
        let mut others = 0;
        let mut listed = Vec::new();
        for m in present {
            let always = m.role == Role::Facilitator
                || holder == Some(&m.id)
                || queued.contains(&m.id)
                || m.id == viewer;
            if always || others < self.config.welcome_people {
                if !always {
                    others += 1;
                }
                listed.push(self.participant_view(m));
            }
        }
        let more = listed.len() < total;
        (listed, total_u32, more)
    }

    /// Up to `limit` (1–500, default 200) people after `after` in the order
    /// they first came (from the first when absent).
    pub(super) fn people_page(
        &self,
        after: Option<&MemberId>,
        limit: Option<u32>,
    ) -> Result<PeoplePage, Refusal> {
        let start = match after {
            None => 0,
            Some(id) => match self.index.get(id) {
                Some(&i) => i + 1,
                None => return refuse(ErrorCode::NotFound, "That person isn't in this session."),
            },
        };
        let count = limit.map_or(DEFAULT_PEOPLE, |l| (l as usize).clamp(1, MAX_PEOPLE));
        let mut rest = self.members[start.min(self.members.len())..]
            .iter()
            .filter(|m| !m.removed);
        let participants: Vec<ParticipantView> = rest
            .by_ref()
            .take(count)
            .map(|m| self.participant_view(m))
            .collect();
        Ok(PeoplePage {
            participants,
            more: rest.next().is_some(),
        })
    }

    /// The `state` of the welcome frame as seen by `viewer`.
    pub fn view(&self, viewer: &str) -> Snapshot {
        let (participants, participants_total, participants_more) = self.listed_people(viewer);
        let facilitator = self.role_of(viewer) == Some(Role::Facilitator);
        let budget = self.config.welcome_text_bytes.max(4096);
        let count = self.config.room_history;
        let side_rooms = self.rooms.len().saturating_sub(1).max(1);
        let rooms = self
            .rooms
            .iter()
            .map(|r| {
                let share = if r.id.is_main() {
                    budget / 2
                } else {
                    budget / 4 / side_rooms
                };
                let visible = r.messages.iter().filter(|m| !m.is_lost());
                let (shown, more) = newest_within(visible, message_bytes, share, count);
                RoomView {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    messages: shown.into_iter().map(|m| message_view(&r.id, m)).collect(),
                    more,
                }
            })
            .collect();
        let dms = self
            .dms
            .iter()
            .filter(|d| facilitator || d.from == viewer || d.to == viewer);
        let (dms, _) = newest_within(dms, |d| MESSAGE_OVERHEAD + d.text.len(), budget / 8, count);
        let (announcements, _) = newest_within(
            self.announcements.iter(),
            |a| MESSAGE_OVERHEAD + a.text.len(),
            budget / 16,
            count,
        );
        // Only facilitators see reports and help requests.
        let inbox: Vec<InboxItem> = if facilitator {
            let size = |i: &InboxItem| {
                MESSAGE_OVERHEAD
                    + match &i.what {
                        InboxKind::Reported { reason, .. } => reason.len(),
                        InboxKind::HelpRequested { note, .. } => {
                            note.as_ref().map_or(0, |n| n.len())
                        }
                    }
            };
            let (items, _) = newest_within(self.inbox.iter(), size, budget / 16, count);
            items.into_iter().cloned().collect()
        } else {
            Vec::new()
        };
        Snapshot {
            session: SessionInfo {
                phase: self.phase,
                mode: self.mode,
                locked: self.locked,
                turn_seconds: self.turn_seconds,
                ends_at: self.ends_at,
                pause: self.pause.clone(),
            },
            participants,
            participants_total,
            participants_more,
            queue: self.queue.clone(),
            stick: self.stick_view(),
            rooms,
            dms: dms
                .into_iter()
                .map(|d| DmView {
                    id: d.id.clone(),
                    from: d.from.clone(),
                    to: d.to.clone(),
                    text: d.text.clone(),
                    at: d.at,
                })
                .collect(),
            announcements: announcements
                .into_iter()
                .map(|a| AnnouncementView {
                    from: a.from.clone(),
                    text: a.text.clone(),
                    at: a.at,
                })
                .collect(),
            inbox,
        }
    }

    /// Up to `limit` (1–100, default 50) messages of `room` older than
    /// `before` (the newest when absent), bounded in bytes like the welcome.
    pub(super) fn history(
        &self,
        room: &RoomId,
        before: Option<&MsgId>,
        limit: Option<u32>,
    ) -> Result<HistoryPage, Refusal> {
        let Some(r) = self.rooms.iter().find(|x| &x.id == room) else {
            return refuse(ErrorCode::NotFound, "That room isn't open any more.");
        };
        let end = match before {
            None => r.messages.len(),
            Some(id) => match r.messages.iter().position(|m| &m.id == id) {
                Some(i) => i,
                None => {
                    return refuse(
                        ErrorCode::NotFound,
                        "We couldn't find that message any more.",
                    )
                }
            },
        };
        let count = limit.map_or(DEFAULT_PAGE, |l| (l as usize).clamp(1, MAX_PAGE));
        let visible = r.messages.range(..end).filter(|m| !m.is_lost());
        let budget = (self.config.welcome_text_bytes / 2).max(4096);
        let (shown, more) = newest_within(visible, message_bytes, budget, count);
        Ok(HistoryPage {
            room: r.id.clone(),
            messages: shown.into_iter().map(|m| message_view(&r.id, m)).collect(),
            more,
        })
    }

    pub(super) fn participant_view(&self, m: &MemberState) -> ParticipantView {
        ParticipantView {
            id: m.id.clone(),
            name: m.name.clone(),
            role: m.role,
            presence: m.presence(),
            muted: m.muted,
            turns: m.turns,
            spoken_ms: m.spoken_ms,
            hand: self.queue.contains(&m.id),
            break_note: if m.on_break {
                m.break_note.clone()
            } else {
                None
            },
        }
    }
}
