//! The talking stick: raised hands and the fair order, giving and taking
//! the stick, turns starting and ending, moves in the queue, modes and
//! rounds, and the handing-on rule that runs after every entry point.

use super::{
    refuse, ErrorCode, Event, MemberId, Millis, Mode, Phase, Presence, Refusal, SessionState, Turn,
    TurnEnd, TURN_SECONDS,
};
use crate::protocol::event::ModeReason;
use crate::protocol::views::StickView;

impl SessionState {
    /// Where a newly raised hand goes: after every queued participant who
    /// has had as many turns or fewer, before the first who has had more.
    /// Those who have spoken least go first; ties keep the order hands went
    /// up (PROTOCOL.md §4 "Fair order").
    pub(super) fn fair_position(&self, turns: u32) -> usize {
        self.queue
            .iter()
            .position(|q| self.member(q).is_some_and(|x| x.turns > turns))
            .unwrap_or(self.queue.len())
    }

    pub(super) fn hand(
        &mut self,
        me: usize,
        up: bool,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let id = self.members[me].id.clone();
        if !up {
            if self.unqueue(&id) {
                out.push(self.queue_event());
            }
            return Ok(());
        }
        self.refuse_if_muted(me, "raise your hand")?;
        let m = &self.members[me];
        if !m.is_participant() {
            return refuse(
                ErrorCode::BadRequest,
                "Facilitators can speak at any time; there's no need to raise a hand.",
            );
        }
        if self.queue.contains(&id) || self.holder() == Some(&id) {
            return Ok(());
        }
        let at = self.fair_position(m.turns);
        self.queue.insert(at, id);
        out.push(self.queue_event());
        Ok(())
    }

    pub(super) fn pass(
        &mut self,
        now: Millis,
        me: usize,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        if self.holder() != Some(&self.members[me].id) {
            return refuse(ErrorCode::NotHolder, "You don't have the stick right now.");
        }
        self.end_turn(now, TurnEnd::Pass, out);
        Ok(())
    }

    pub(super) fn give(
        &mut self,
        now: Millis,
        to: Option<&MemberId>,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let Some(to) = to else {
            self.end_turn(now, TurnEnd::Taken, out);
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
        self.end_turn(now, TurnEnd::Given, out);
        self.start_turn(now, &id, out);
        Ok(())
    }

    pub(super) fn lower(
        &mut self,
        participant: &MemberId,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let t = self.target(participant)?;
        let id = self.members[t].id.clone();
        if self.unqueue(&id) {
            out.push(self.queue_event());
        }
        Ok(())
    }

    pub(super) fn move_in_queue(
        &mut self,
        participant: &MemberId,
        to: usize,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let t = self.target(participant)?;
        let id = self.members[t].id.clone();
        if !self.unqueue(&id) {
            return refuse(ErrorCode::NotFound, "That participant isn't in the queue.");
        }
        let to = to.min(self.queue.len());
        self.queue.insert(to, id);
        out.push(self.queue_event());
        Ok(())
    }

    pub(super) fn set_mode(
        &mut self,
        now: Millis,
        mode: Mode,
        turn_seconds: Option<u32>,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
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
        out.push(Event::Mode {
            mode,
            turn_seconds: self.turn_seconds,
            reason: None,
        });
        match mode {
            Mode::Open => self.end_turn(now, TurnEnd::Mode, out),
            Mode::Stick => {}
            Mode::Round => {
                let holder = self.holder().cloned();
                self.queue = self
                    .members
                    .iter()
                    .filter(|m| {
                        m.is_participant()
                            && !m.removed
                            && !m.muted
                            && m.presence() == Presence::Online
                            && holder.as_ref() != Some(&m.id)
                    })
                    .map(|m| m.id.clone())
                    .collect();
                out.push(self.queue_event());
            }
        }
        Ok(())
    }

    /// Hands the stick on when it should be, and ends a finished round. Runs
    /// after every entry point.
    pub(super) fn settle(&mut self, at: Millis, out: &mut Vec<Event>) {
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
            out.push(Event::Mode {
                mode: Mode::Stick,
                turn_seconds: self.turn_seconds,
                reason: Some(ModeReason::RoundOver),
            });
        }
    }

    /// Gives the stick to `id` now (taking them out of the queue).
    pub(super) fn start_turn(&mut self, at: Millis, id: &MemberId, out: &mut Vec<Event>) {
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
            holder: id.clone(),
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
    pub(super) fn end_turn(&mut self, at: Millis, reason: TurnEnd, out: &mut Vec<Event>) {
        let Some(turn) = self.stick.take() else {
            return;
        };
        let held = turn.held_ms + turn.running_since.map_or(0, |s| (at - s).max(0));
        if let Some(&i) = self.index.get(&turn.holder) {
            let m = &mut self.members[i];
            m.spoken_ms += held;
            out.push(Event::Spoke {
                participant: m.id.clone(),
                turns: m.turns,
                spoken_ms: m.spoken_ms,
                turn: turn.id,
                held_ms: held,
                reason,
            });
        }
        out.push(self.stick_event());
    }

    pub(super) fn unqueue(&mut self, id: &MemberId) -> bool {
        let before = self.queue.len();
        self.queue.retain(|q| q != id);
        self.queue.len() != before
    }

    pub(super) fn queue_event(&self) -> Event {
        Event::Queue {
            queue: self.queue.clone(),
        }
    }

    pub(super) fn stick_view(&self) -> StickView {
        match &self.stick {
            None => StickView {
                holder: None,
                ends_at: None,
                turn: None,
                remaining_ms: None,
            },
            Some(turn) => StickView {
                holder: Some(turn.holder.clone()),
                ends_at: turn.ends_at,
                turn: Some(turn.id),
                remaining_ms: turn.ends_at.is_none().then_some(turn.remaining_ms),
            },
        }
    }

    pub(super) fn stick_event(&self) -> Event {
        Event::Stick(self.stick_view())
    }
}
