//! Who is here: arriving and leaving (presence), breaks, mute, removal and
//! the lock on new joins.

use std::sync::Arc;

use super::{
    ended, refuse, removed, ErrorCode, Event, MemberState, Millis, Phase, Presence, Refusal, Role,
    SessionState, TurnEnd,
};
use crate::protocol::text::{clean_optional, MAX_NOTE_CHARS};
use crate::protocol::{LeftReason, MemberId, UserText};

impl SessionState {
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
            return Err(removed());
        }
        let mut out = Vec::new();
        match self.index.get(id) {
            None => {
                let id = MemberId::from(id);
                self.index.insert(id.clone(), self.members.len());
                self.members
                    .push(MemberState::new(id, Arc::from(name), role));
                let participant = self.participant_view(&self.members[self.members.len() - 1]);
                out.push(Event::Joined { participant });
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

    /// After a restart every socket is gone: everyone connected becomes
    /// `away` now (their grace period starts again).
    pub fn disconnect_everyone(&mut self, now: Millis) -> Vec<Event> {
        let ids: Vec<MemberId> = self
            .members
            .iter()
            .filter(|m| m.connected)
            .map(|m| m.id.clone())
            .collect();
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.disconnect(now, &id));
        }
        out
    }

    /// Marks members removed without events (they were removed and stored
    /// as such, possibly after the snapshot this state was restored from).
    pub fn mark_removed(&mut self, now: Millis, ids: &[String]) -> Vec<Event> {
        let now = self.advance(now);
        let mut out = Vec::new();
        for id in ids {
            if let Some(&i) = self.index.get(id.as_str()) {
                if !self.members[i].removed && self.members[i].is_participant() {
                    out.push(Event::Left {
                        participant: self.members[i].id.clone(),
                        reason: LeftReason::Removed,
                    });
                    self.take_out(now, i, &mut out);
                }
            }
        }
        self.settle(now, &mut out);
        out
    }

    /// Sets the lock as the store has it (no event if unchanged).
    pub fn set_locked(&mut self, on: bool) -> Vec<Event> {
        let mut out = Vec::new();
        self.lock(on, &mut out);
        out
    }

    pub(super) fn set_break(
        &mut self,
        now: Millis,
        me: usize,
        on: bool,
        note: Option<&UserText>,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let note = clean_optional(note, MAX_NOTE_CHARS, "note")?;
        let m = &mut self.members[me];
        if on {
            if m.on_break && m.break_note == note {
                return Ok(());
            }
            if !m.on_break {
                m.breaks += 1;
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
        out.push(self.presence_event(me));
        if on && self.holder() == Some(&self.members[me].id) {
            self.end_turn(now, TurnEnd::Break, out);
        }
        Ok(())
    }

    pub(super) fn set_muted(&mut self, now: Millis, t: usize, on: bool, out: &mut Vec<Event>) {
        if self.members[t].muted == on {
            return;
        }
        self.members[t].muted = on;
        let id = self.members[t].id.clone();
        out.push(Event::Muted {
            participant: id.clone(),
            on,
        });
        if on {
            if self.unqueue(&id) {
                out.push(self.queue_event());
            }
            if self.holder() == Some(&id) {
                self.end_turn(now, TurnEnd::Muted, out);
            }
        }
    }

    pub(super) fn mute_all(&mut self, now: Millis, on: bool, out: &mut Vec<Event>) {
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
            out.push(Event::Muted {
                participant: id.clone(),
                on,
            });
            if on {
                queue_changed |= self.unqueue(&id);
                turn_ends |= self.holder() == Some(&id);
            }
        }
        if queue_changed {
            out.push(self.queue_event());
        }
        if turn_ends {
            self.end_turn(now, TurnEnd::Muted, out);
        }
    }

    pub(super) fn remove(
        &mut self,
        now: Millis,
        participant: &MemberId,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let t = self.target_participant(participant, "removed")?;
        let id = self.members[t].id.clone();
        // Whether they were also banned is the facilitators' business (the
        // audit log), not the room's.
        out.push(Event::Left {
            participant: id,
            reason: LeftReason::Removed,
        });
        self.take_out(now, t, out);
        Ok(())
    }

    /// Marks member `t` removed and takes them out of the queue and the stick.
    fn take_out(&mut self, now: Millis, t: usize, out: &mut Vec<Event>) {
        let id = self.members[t].id.clone();
        self.members[t].removed = true;
        if self.unqueue(&id) {
            out.push(self.queue_event());
        }
        if self.holder() == Some(&id) {
            self.end_turn(now, TurnEnd::Removed, out);
        }
    }

    pub(super) fn lock(&mut self, on: bool, out: &mut Vec<Event>) {
        if self.locked != on {
            self.locked = on;
            out.push(Event::Locked { on });
        }
    }

    pub(super) fn update_facilitator_presence(&mut self, now: Millis) {
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

    pub(super) fn presence_event(&self, i: usize) -> Event {
        let m = &self.members[i];
        let presence = m.presence();
        let note = if presence == Presence::Break {
            m.break_note.clone()
        } else {
            None
        };
        Event::Presence {
            participant: m.id.clone(),
            presence,
            note,
        }
    }

    /// Refuses when member `me` may not act on the stick because they are
    /// muted (hand up).
    pub(super) fn refuse_if_muted(&self, me: usize, doing: &str) -> Result<(), Refusal> {
        if self.members[me].muted {
            return refuse(
                ErrorCode::Muted,
                &format!(
                    "A facilitator has muted you for the moment, so you can't {doing} just now."
                ),
            );
        }
        Ok(())
    }
}
