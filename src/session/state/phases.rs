//! The session's phases (lobby → live ⇄ paused → ended) and every timer:
//! turn warning and end, grace periods, the no-facilitator pause,
//! `ending_soon` and the end at the scheduled time.

use std::sync::Arc;

use super::{
    ended, refuse, ErrorCode, Event, Millis, Phase, PhaseReason, Refusal, SessionState, TurnEnd,
};
use crate::protocol::text::{clean_optional, MAX_NOTE_CHARS};
use crate::protocol::views::PauseView;
use crate::protocol::{MemberId, UserText};

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

impl SessionState {
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

    /// Ends the session from outside the room (cancelled over HTTP, its
    /// group deleted): the same `phase ended` as any end, with its reason,
    /// so the replay log and the phase always agree. Refused when it has
    /// already ended.
    pub fn end_from_outside(
        &mut self,
        now: Millis,
        reason: PhaseReason,
    ) -> Result<Vec<Event>, Refusal> {
        let now = self.advance(now);
        if self.phase == Phase::Ended {
            return Err(ended());
        }
        let mut out = Vec::new();
        self.end_session(now, Some(reason), None, &mut out);
        Ok(out)
    }

    pub(super) fn start(
        &mut self,
        now: Millis,
        me: usize,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        if self.phase != Phase::Lobby {
            return refuse(ErrorCode::BadRequest, "The session has already started.");
        }
        self.phase = Phase::Live;
        self.live_since = Some(now);
        out.push(Event::Phase {
            phase: Phase::Live,
            by: Some(self.members[me].id.clone()),
            reason: None,
            note: None,
        });
        Ok(())
    }

    pub(super) fn pause_command(
        &mut self,
        now: Millis,
        me: usize,
        on: bool,
        note: Option<&UserText>,
        out: &mut Vec<Event>,
    ) -> Result<(), Refusal> {
        let note = clean_optional(note, MAX_NOTE_CHARS, "note")?;
        let by = self.members[me].id.clone();
        match (on, self.phase) {
            (true, Phase::Live) => self.pause(now, None, Some(by), note, out),
            (false, Phase::Paused) => self.resume(now, by, note, out),
            (_, Phase::Lobby) => {
                return refuse(ErrorCode::BadRequest, "The session hasn't started yet.")
            }
            (true, _) => return refuse(ErrorCode::BadRequest, "The session is already paused."),
            (false, _) => return refuse(ErrorCode::BadRequest, "The session isn't paused."),
        }
        Ok(())
    }

    fn pause(
        &mut self,
        at: Millis,
        reason: Option<PhaseReason>,
        by: Option<MemberId>,
        note: Option<Arc<str>>,
        out: &mut Vec<Event>,
    ) {
        self.phase = Phase::Paused;
        if let Some(since) = self.live_since.take() {
            self.live_ms += at - since;
        }
        self.pause = Some(PauseView {
            by: by.clone(),
            reason,
            note: note.clone(),
        });
        out.push(Event::Phase {
            phase: Phase::Paused,
            by,
            reason,
            note,
        });
        if let Some(turn) = self.stick.as_mut() {
            if let (Some(since), Some(ends_at)) = (turn.running_since.take(), turn.ends_at.take()) {
                turn.held_ms += at - since;
                turn.remaining_ms = (ends_at - at).max(0);
            }
            out.push(self.stick_event());
        }
    }

    fn resume(&mut self, at: Millis, by: MemberId, note: Option<Arc<str>>, out: &mut Vec<Event>) {
        self.phase = Phase::Live;
        self.live_since = Some(at);
        self.pause = None;
        out.push(Event::Phase {
            phase: Phase::Live,
            by: Some(by),
            reason: None,
            note,
        });
        if let Some(turn) = self.stick.as_mut() {
            turn.running_since = Some(at);
            turn.ends_at = Some(at + turn.remaining_ms);
            out.push(self.stick_event());
        }
    }

    pub(super) fn end_session(
        &mut self,
        at: Millis,
        reason: Option<PhaseReason>,
        by: Option<usize>,
        out: &mut Vec<Event>,
    ) {
        self.end_turn(at, TurnEnd::Ended, out);
        self.phase = Phase::Ended;
        if let Some(since) = self.live_since.take() {
            self.live_ms += at - since;
        }
        out.push(Event::Phase {
            phase: Phase::Ended,
            by: by.map(|i| self.members[i].id.clone()),
            reason,
            note: None,
        });
    }

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
                out.push(Event::EndingSoon {
                    ends_at: self.ends_at,
                });
            }
            Timer::TurnWarning => {
                if let Some(turn) = self.stick.as_mut() {
                    turn.warned = true;
                    if let Some(ends_at) = turn.ends_at {
                        out.push(Event::TurnWarning {
                            holder: turn.holder.clone(),
                            ends_at,
                            turn: turn.id,
                        });
                    }
                }
            }
            Timer::TurnEnd => self.end_turn(at, TurnEnd::Time, out),
            Timer::Grace(i) => {
                self.members[i].offline = true;
                out.push(self.presence_event(i));
                if self.holder() == Some(&self.members[i].id) {
                    self.end_turn(at, TurnEnd::Away, out);
                }
            }
            Timer::NoFacilitator => {
                self.pause(at, Some(PhaseReason::NoFacilitator), None, None, out)
            }
            Timer::End => self.end_session(at, Some(PhaseReason::Time), None, out),
        }
    }
}
