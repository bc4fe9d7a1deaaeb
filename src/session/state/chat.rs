//! What people write and signal: `say`, `react`, `redact`, `report`,
//! `need_help` (and `mark_seen`), `announce`, direct messages and side
//! rooms. Texts are checked here, in the order docs/protocol.md documents
//! for each command.

use std::collections::{BTreeMap, VecDeque};

use super::{
    refuse, Announcement, Dm, Emoji, ErrorCode, Event, Message, Millis, Mode, Phase, Refusal, Role,
    Room, SessionState,
};
use crate::protocol::text::{
    clean, clean_optional, MAX_CW_CHARS, MAX_NOTE_CHARS, MAX_ROOM_NAME_CHARS,
};
use crate::protocol::views::{InboxItem, InboxKind, NewMessage, RoomRef};
use crate::protocol::{DmId, ItemId, MemberId, MsgId, RoomId, UserText};

fn paused() -> Refusal {
    Refusal::new(
        ErrorCode::Paused,
        "The facilitator has paused the group for a moment.",
    )
}

fn message_gone() -> Refusal {
    Refusal::new(
        ErrorCode::NotFound,
        "We couldn't find that message any more.",
    )
}

/// Drops the oldest entries beyond `cap`.
fn bound<T>(items: &mut VecDeque<T>, cap: usize) {
    while items.len() > cap {
        items.pop_front();
    }
}

impl SessionState {
    pub(super) fn say(
        &mut self,
        now: Millis,
        me: usize,
        room: &RoomId,
        text: &str,
        cw: Option<&UserText>,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        self.refuse_if_muted(me, "write")?;
        let m = &self.members[me];
        let participant = m.is_participant();
        if participant && self.phase == Phase::Lobby {
            return refuse(
                ErrorCode::Paused,
                "The session hasn't started yet; you can write once the facilitator begins.",
            );
        }
        if participant && self.phase == Phase::Paused {
            return Err(paused());
        }
        let Some(r) = self.rooms.iter().position(|x| &x.id == room) else {
            return refuse(ErrorCode::NotFound, "That room isn't open any more.");
        };
        if participant && room.is_main() && self.mode != Mode::Open && self.holder() != Some(&m.id)
        {
            return refuse(
                ErrorCode::NotYourTurn,
                "It's someone else's turn to speak. Raise your hand to join the queue.",
            );
        }
        let text = clean(text, self.config.max_message_chars, "message")?;
        let cw = clean_optional(cw, MAX_CW_CHARS, "content note")?;
        if participant {
            self.check_rate(me, super::Bucket::Say, now)?;
        }
        let from = self.members[me].id.clone();
        self.last_msg += 1;
        let id = MsgId::new(format!("m{}", self.last_msg));
        let room = &mut self.rooms[r];
        room.messages.push_back(Message {
            id: id.clone(),
            from: from.clone(),
            text: Some(text.clone()),
            cw: cw.clone(),
            at: now,
            redacted: false,
            reactions: BTreeMap::new(),
        });
        bound(&mut room.messages, self.config.room_history);
        // A new message has no reactions and is not redacted, and the event
        // names its room: `said` stays lean, since it goes to every member.
        out.push(Event::Said {
            room: room.id.clone(),
            msg: NewMessage {
                id,
                from,
                text,
                cw,
                at: now,
            },
        });
        Ok(())
    }

    pub(super) fn react(
        &mut self,
        me: usize,
        msg: &MsgId,
        emoji: Emoji,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        if self.phase == Phase::Paused {
            return Err(paused());
        }
        let (r, i) = self.find_message(msg).ok_or_else(message_gone)?;
        let who = self.members[me].id.clone();
        let room = self.rooms[r].id.clone();
        let message = &mut self.rooms[r].messages[i];
        if message.redacted {
            return refuse(ErrorCode::NotFound, "That message has been taken down.");
        }
        let set = message.reactions.entry(emoji).or_default();
        if set.insert(who.clone()) {
            let count = u32::try_from(set.len()).unwrap_or(u32::MAX);
            out.push(Event::Reacted {
                msg: msg.clone(),
                emoji,
                from: who,
                room,
                count,
            });
        }
        Ok(())
    }

    pub(super) fn redact(&mut self, msg: &MsgId, out: &mut Vec<Event>) -> Result<(), Refusal> {
        let (r, m) = self.find_message(msg).ok_or_else(message_gone)?;
        let room = self.rooms[r].id.clone();
        let message = &mut self.rooms[r].messages[m];
        if !message.redacted {
            message.redacted = true;
            message.text = None;
            message.cw = None;
            out.push(Event::Redacted {
                msg: msg.clone(),
                room,
            });
        }
        Ok(())
    }

    pub(super) fn report(
        &mut self,
        now: Millis,
        me: usize,
        msg: &MsgId,
        reason: &str,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let reason = clean(reason, MAX_NOTE_CHARS, "reason")?;
        let (r, m) = self.find_message(msg).ok_or_else(message_gone)?;
        let id = self.next_item();
        let what = InboxKind::Reported {
            msg: msg.clone(),
            by: self.members[me].id.clone(),
            reason: reason.clone(),
            from: self.rooms[r].messages[m].from.clone(),
            room: self.rooms[r].id.clone(),
        };
        self.remember_in_inbox(now, id.clone(), what);
        out.push(Event::Reported {
            id,
            msg: msg.clone(),
            by: self.members[me].id.clone(),
            reason,
            from: self.rooms[r].messages[m].from.clone(),
            room: self.rooms[r].id.clone(),
        });
        Ok(())
    }

    pub(super) fn need_help(
        &mut self,
        now: Millis,
        me: usize,
        note: Option<&UserText>,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let note = clean_optional(note, MAX_NOTE_CHARS, "note")?;
        let from = self.members[me].id.clone();
        // The same request again, still unseen: the facilitators already
        // have it in front of them.
        let repeated = self.inbox.iter().rev().any(|item| {
            item.seen_by.is_none()
                && matches!(&item.what, InboxKind::HelpRequested { from: f, note: n }
                    if *f == from && *n == note)
        });
        if repeated {
            return Ok(());
        }
        let id = self.next_item();
        self.remember_in_inbox(
            now,
            id.clone(),
            InboxKind::HelpRequested {
                from: from.clone(),
                note: note.clone(),
            },
        );
        out.push(Event::HelpRequested { id, from, note });
        Ok(())
    }

    pub(super) fn mark_seen(
        &mut self,
        now: Millis,
        me: usize,
        item: &ItemId,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let by = self.members[me].id.clone();
        let Some(found) = self.inbox.iter_mut().find(|i| &i.id == item) else {
            return refuse(
                ErrorCode::NotFound,
                "We couldn't find that request any more.",
            );
        };
        if found.seen_by.is_none() {
            found.seen_by = Some(by.clone());
            found.seen_at = Some(now);
            out.push(Event::MarkedSeen {
                item: item.clone(),
                by,
            });
        }
        Ok(())
    }

    pub(super) fn announce(
        &mut self,
        now: Millis,
        me: usize,
        text: &str,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let text = clean(text, self.config.max_message_chars, "announcement")?;
        let from = self.members[me].id.clone();
        self.announcements.push_back(Announcement {
            from: from.clone(),
            text: text.clone(),
            at: now,
        });
        bound(&mut self.announcements, self.config.room_history);
        out.push(Event::Announced { text, from });
        Ok(())
    }

    pub(super) fn dm(
        &mut self,
        now: Millis,
        me: usize,
        to: &MemberId,
        text: &str,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let who = self.members[me].id.clone();
        let role = self.members[me].role;
        let t = self.target(to)?;
        let to = self.members[t].id.clone();
        let target_role = self.members[t].role;
        if t == me {
            return refuse(
                ErrorCode::BadRequest,
                "You can't send a message to yourself.",
            );
        }
        if role == Role::Participant
            && (target_role != Role::Facilitator
                || !self.dm_open.contains(&(to.clone(), who.clone())))
        {
            return refuse(
                ErrorCode::Forbidden,
                "You can reply here once a facilitator has written to you. If you need support now, use \"Need help\".",
            );
        }
        let text = clean(text, self.config.max_message_chars, "message")?;
        if role == Role::Facilitator && target_role == Role::Participant {
            self.dm_open.insert((who.clone(), to.clone()));
        }
        self.last_dm += 1;
        let id = DmId::new(format!("d{}", self.last_dm));
        self.dms.push_back(Dm {
            id: id.clone(),
            from: who.clone(),
            to: to.clone(),
            text: text.clone(),
            at: now,
        });
        bound(&mut self.dms, self.config.room_history);
        out.push(Event::Dm {
            id,
            from: who,
            to,
            text,
        });
        Ok(())
    }

    pub(super) fn open_room(&mut self, name: &str, out: &mut Vec<Event>) -> Result<(), Refusal> {
        let name = clean(name, MAX_ROOM_NAME_CHARS, "room name")?;
        self.last_room += 1;
        let id = RoomId::new(format!("r{}", self.last_room));
        self.rooms.push(Room {
            id: id.clone(),
            name: name.clone(),
            messages: VecDeque::new(),
        });
        out.push(Event::RoomOpened {
            room: RoomRef { id, name },
        });
        Ok(())
    }

    pub(super) fn close_room(
        &mut self,
        room: &RoomId,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        if room.is_main() {
            return refuse(ErrorCode::BadRequest, "The main circle can't be closed.");
        }
        let Some(r) = self.rooms.iter().position(|x| &x.id == room) else {
            return refuse(ErrorCode::NotFound, "That room isn't open.");
        };
        self.rooms.remove(r);
        out.push(Event::RoomClosed { room: room.clone() });
        Ok(())
    }

    pub(super) fn find_message(&self, id: &MsgId) -> Option<(usize, usize)> {
        self.rooms.iter().enumerate().find_map(|(r, room)| {
            room.messages
                .iter()
                .position(|m| &m.id == id)
                .map(|i| (r, i))
        })
    }

    fn next_item(&mut self) -> ItemId {
        self.last_item += 1;
        ItemId::new(format!("i{}", self.last_item))
    }

    /// Keeps a report or help request for the facilitators' inbox, bounded
    /// like the rooms.
    fn remember_in_inbox(&mut self, at: Millis, id: ItemId, what: InboxKind) {
        self.inbox.push_back(InboxItem {
            id,
            at,
            what,
            seen_by: None,
            seen_at: None,
        });
        bound(&mut self.inbox, self.config.room_history.max(1));
    }
}
