//! One task per live session: it owns the [`SessionState`], the replay log,
//! the `epoch`, the acknowledged `ref`s and the outbound queues of every
//! connected socket, and one [`StoreWriter`] for its side effects.
//!
//! Input arrives on a bounded `mpsc` ([`super::SessionHandle`]). Each event
//! is serialized **once**; the same bytes go to every entitled socket with
//! `try_send`. A socket whose queue is full is disconnected (it may resume),
//! never awaited, so one slow reader never slows the room.
//!
//! Side effects go to the store in the order the rules produced them. A
//! command whose effect the protocol says is stored (`start`, `remove`,
//! `lock`, `end`) is acknowledged only once it is durable: the rules run on
//! a copy of the state, the writer stores the effect and a snapshot, and
//! only then does the copy become the state and the ack and events go out
//! (on failure nothing changed and the command is refused `unavailable`).
//! The state is saved every `snapshot_secs` or `snapshot_events`, after
//! every facilitator command and on shutdown, and restored from the store
//! when the actor starts (a new epoch). It never logs message text or names.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::handle::{ActorMsg, Join, JoinRefused, Lease, Outbound, Revoked};
use super::outq::{Kill, OutTx};
use super::replay::{self, Logged, ReplayLog};
use super::state::{Config, Rate, Rates, SessionState};
use super::writer::{Effect, StoreWriter};
use crate::clock::SharedClock;
use crate::protocol::frame::You;
use crate::protocol::{
    close, event_frame, Command, ErrorCode, Event, MemberId, Millis, Phase, Ref, Refusal, Role,
    ServerFrame,
};
use crate::settings::Settings;
use crate::store::{AuditEntry, SessionRecord, Store};

/// How long a durable effect may take before the command is refused.
const DURABLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The rules' numbers from the settings.
pub(crate) fn state_config(settings: &Settings) -> Config {
    let rate = |count: u32, secs: u32| Rate {
        count,
        window_ms: i64::from(secs) * 1000,
    };
    Config {
        turn_seconds: settings.turn_seconds,
        grace_ms: i64::from(settings.grace_secs) * 1000,
        turn_warning_ms: i64::from(settings.turn_warning_secs) * 1000,
        end_warning_ms: i64::from(settings.end_warning_minutes) * 60_000,
        rates: Rates {
            say: rate(settings.say_rate_count, settings.say_rate_window_secs),
            commands: rate(
                settings.command_rate_count,
                settings.command_rate_window_secs,
            ),
            signals: rate(settings.signal_rate_count, settings.signal_rate_window_secs),
        },
        room_history: settings.room_history,
        max_message_chars: settings.max_message_chars,
        welcome_text_bytes: settings.welcome_text_bytes,
        large_room: settings.large_room,
        welcome_people: settings.welcome_people,
    }
}

struct Conn {
    member: MemberId,
    role: Role,
    credential: Arc<str>,
    /// Asked to close (it still counts until it has left).
    closing: bool,
    out: OutTx,
    kill: Kill,
}

impl Conn {
    /// Closes the socket with `code` once what is queued before it is sent;
    /// at once when the queue is full.
    fn close(&self, code: u16, reason: &'static str) {
        if self.out.try_send(Outbound::Close(code, reason)).is_err() {
            self.kill.cancel();
        }
    }
}

/// The acknowledged refs of one person: a bounded set, oldest forgotten first.
#[derive(Default)]
struct RefCache {
    order: VecDeque<Ref>,
    set: HashSet<Ref>,
}

impl RefCache {
    fn contains(&self, r: &Ref) -> bool {
        self.set.contains(r)
    }

    fn insert(&mut self, r: Ref, cap: usize) {
        if self.set.insert(r.clone()) {
            self.order.push_back(r);
            while self.order.len() > cap {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

pub(crate) struct Actor {
    session_id: String,
    group_id: String,
    record: SessionRecord,
    epoch: String,
    settings: Arc<Settings>,
    store: Arc<dyn Store>,
    clock: SharedClock,
    shutdown: CancellationToken,
    state: SessionState,
    seq: u64,
    log: ReplayLog,
    conns: HashMap<u64, Conn>,
    sockets_of: HashMap<MemberId, usize>,
    refs: HashMap<MemberId, RefCache>,
    writer: StoreWriter,
    /// Events since the last saved snapshot.
    unsaved: u32,
    /// People whose arrival or presence change waits for the next `people`
    /// event (large rooms), in order, and the same as a set.
    pending_people: Vec<MemberId>,
    batched: HashSet<MemberId>,
    /// When the pending people go out.
    people_due: Option<Instant>,
    /// Another node owns the session now: stop at once, save nothing more.
    moved: bool,
    /// The end is stored (written once).
    end_stored: bool,
    /// Replay-log bytes last reported to the metrics.
    replay_reported: usize,
}

impl Actor {
    pub(crate) fn new(
        record: &SessionRecord,
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        shutdown: CancellationToken,
        clock: SharedClock,
        lease: Option<Lease>,
    ) -> Self {
        let now = clock.now_ms();
        let state = SessionState::new(
            state_config(&settings),
            record.started_at.is_some(),
            record.locked,
            record.ends_at,
            now,
        );
        let log = ReplayLog::new(replay::Limits {
            events: settings.replay_events,
            window_ms: i64::from(settings.replay_secs) * 1000,
            max_bytes: settings.replay_max_bytes,
        });
        Actor {
            session_id: record.id.clone(),
            group_id: record.group_id.clone(),
            record: record.clone(),
            // Under a lease the token is the epoch: every takeover is a new
            // one. Written as an id (`e_` and 16 characters, docs/protocol.md).
            epoch: match lease {
                Some(l) => format!("e_{:016}", l.token),
                None => crate::auth::new_id("e"),
            },
            writer: StoreWriter::spawn(store.clone(), record.id.clone(), lease.map(|l| l.token)),
            settings,
            store,
            clock,
            shutdown,
            state,
            seq: 0,
            log,
            conns: HashMap::new(),
            sockets_of: HashMap::new(),
            refs: HashMap::new(),
            unsaved: 0,
            pending_people: Vec::new(),
            batched: HashSet::new(),
            people_due: None,
            moved: false,
            end_stored: record.ended_at.is_some(),
            replay_reported: 0,
        }
    }

    /// Runs until the session has ended and every socket has left, or the
    /// server shuts down (sockets then get 1001 and may resume later).
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<ActorMsg>) {
        // Boxed, as is each message's handling below: an actor's task is as
        // large as its largest state, and these hold a whole session state
        // or a store call; in a session of 12 that was 830 bytes per socket.
        Box::pin(self.restore()).await;
        tracing::debug!(session = %self.session_id, epoch = %self.epoch, "session actor started");
        let every = Duration::from_secs(self.settings.snapshot_secs.max(1).into());
        let mut save_timer = tokio::time::interval_at(Instant::now() + every, every);
        save_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = self.state.next_deadline().map(|at| {
                let wait = u64::try_from(at - self.clock.now_ms()).unwrap_or(0);
                Instant::now() + Duration::from_millis(wait)
            });
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    Box::pin(self.handle(msg)).await;
                }
                _ = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending::<()>().await,
                    }
                } => {
                    let now = self.clock.now_ms();
                    let events = self.state.tick(now);
                    Box::pin(self.publish(now, events)).await;
                }
                _ = async {
                    match self.people_due {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending::<()>().await,
                    }
                } => {
                    let now = self.clock.now_ms();
                    let mut effects = Vec::new();
                    self.flush_people(now, &mut effects);
                    Box::pin(self.finish_publish(now, effects)).await;
                }
                _ = save_timer.tick() => {
                    if self.unsaved > 0 && !self.writer.snapshot_pending() {
                        Box::pin(self.save()).await;
                    }
                }
                _ = self.writer.fenced_out() => {
                    self.move_away("the session moved to another node");
                    break;
                }
                _ = self.shutdown.cancelled() => {
                    if self.state.phase() != Phase::Ended {
                        Box::pin(self.save()).await;
                    }
                    for conn in self.conns.values() {
                        conn.close(close::GOING_AWAY, "server restarting");
                    }
                    break;
                }
            }
            if self.moved || (self.state.phase() == Phase::Ended && self.conns.is_empty()) {
                break;
            }
        }
        Box::pin(self.writer.finish()).await;
        crate::metrics::participants(-(self.sockets_of.len() as i64));
        crate::metrics::replay_bytes(&mut self.replay_reported, 0);
        tracing::debug!(session = %self.session_id, "session actor stopped");
    }

    /// Continues from the saved snapshot, if there is one: everyone is away
    /// (their sockets are gone), and what the store knows for sure (removals,
    /// the lock) wins over an older snapshot.
    async fn restore(&mut self) {
        let saved = match self.store.load_snapshot(&self.session_id).await {
            Ok(Some(json)) => json,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(session = %self.session_id, error = %e, "could not load the saved session; starting afresh");
                return;
            }
        };
        let restored = serde_json::from_str(&saved)
            .map_err(|e| e.to_string())
            .and_then(|snap| {
                SessionState::restore(state_config(&self.settings), snap).map_err(|e| e.to_string())
            });
        let mut state = match restored {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(session = %self.session_id, error = %e, "the saved session could not be read; starting afresh");
                return;
            }
        };
        let now = self.clock.now_ms();
        let mut events = state.disconnect_everyone(now);
        match self.store.removed_participants(&self.session_id).await {
            Ok(ids) => events.extend(state.mark_removed(now, &ids)),
            Err(e) => {
                tracing::error!(session = %self.session_id, error = %e, "could not read removals")
            }
        }
        events.extend(state.set_locked(self.record.locked));
        self.state = state;
        tracing::info!(session = %self.session_id, phase = ?self.state.phase(), "session restored from its snapshot");
        self.publish(now, events).await;
    }

    async fn handle(&mut self, msg: ActorMsg) {
        // A timer already due goes first, so the input sees the current stick.
        let now = self.clock.now_ms();
        if self.state.next_deadline().is_some_and(|d| d <= now) {
            let events = self.state.tick(now);
            self.publish(now, events).await;
        }
        match msg {
            ActorMsg::Join(join) => self.join(*join).await,
            ActorMsg::Command {
                conn,
                reference,
                command,
            } => self.command(conn, reference, *command).await,
            ActorMsg::Leave { conn } => self.leave(conn).await,
            ActorMsg::Phase { reply } => {
                let _ = reply.send(self.state.phase());
            }
            ActorMsg::End { reason } => {
                if let Ok(events) = self.state.end_from_outside(now, reason) {
                    self.publish(now, events).await;
                }
            }
            ActorMsg::Lost => {
                self.move_away("this node no longer holds the session");
                self.moved = true;
            }
            ActorMsg::Revoke(which) => {
                let hit = |c: &Conn| match &which {
                    Revoked::Member(m) => &c.member == m,
                    Revoked::Credential(k) => &c.credential == k,
                };
                for conn in self.conns.values().filter(|c| hit(c)) {
                    conn.close(close::BAD_HELLO, "signed out");
                }
            }
        }
    }

    async fn join(&mut self, join: Join) {
        let Join {
            conn,
            who,
            resume,
            out,
            kill,
            reply,
        } = join;
        let refused = |close_code, reason| Err(JoinRefused { close_code, reason });
        if self.state.phase() == Phase::Ended {
            let _ = reply.send(Err(JoinRefused::ended()));
            return;
        }
        if self.state.is_removed(&who.id) {
            let _ = reply.send(refused(close::REMOVED, "removed"));
            return;
        }
        let now = self.clock.now_ms();
        let sockets = self.sockets_of.get(&who.id).copied().unwrap_or(0);
        if sockets == 0 {
            match self.state.connect(now, &who.id, &who.name, who.role) {
                // The others learn of it first; the snapshot below already
                // holds it, and `seq` covers it, so this socket never sees
                // an event twice.
                Ok(events) => self.publish(now, events).await,
                Err(refusal) => {
                    let code = if refusal.code == ErrorCode::SessionEnded {
                        close::ENDED
                    } else {
                        close::REMOVED
                    };
                    let _ = reply.send(refused(code, "refused"));
                    return;
                }
            }
        } else {
            // One person cannot take every socket: past the limit, the
            // oldest of theirs makes way.
            let theirs = self
                .conns
                .iter_mut()
                .filter(|(_, c)| c.member == who.id && !c.closing);
            let mut open: Vec<(u64, &mut Conn)> = theirs.map(|(id, c)| (*id, c)).collect();
            if open.len() >= self.settings.max_sockets_per_participant.max(1) {
                if let Some((oldest, c)) = open.iter_mut().min_by_key(|(id, _)| *id) {
                    c.closing = true;
                    c.close(close::POLICY, "too many sockets");
                    tracing::info!(session = %self.session_id, member = %who.id, conn = *oldest, "too many sockets: closing the oldest");
                }
            }
        }

        // The welcome and any replay go first, ahead of any newer event.
        let resumed = resume.as_ref().is_some_and(|(epoch, last_seq)| {
            *epoch == self.epoch && self.log.covers(*last_seq, self.seq)
        });
        let welcome = ServerFrame::Welcome {
            you: You {
                id: who.id.clone(),
                name: who.name.clone(),
                role: who.role,
            },
            epoch: self.epoch.clone(),
            resumed,
            seq: self.seq,
            state: (!resumed).then(|| Box::new(self.state.view(&who.id))),
        };
        let welcome = welcome.to_json();
        crate::metrics::welcome(welcome.len());
        let mut ok = out
            .try_send(Outbound::Frame(Utf8Bytes::from(welcome)))
            .is_ok();
        if let (true, Some((_, last_seq))) = (resumed, &resume) {
            for entry in self.log.after(*last_seq) {
                if ok && entry.audience.includes(&who.id, who.role) {
                    ok = out.try_send(Outbound::Frame(entry.bytes.clone())).is_ok();
                }
            }
        }
        if !ok {
            // The replay did not fit the socket's queue: let it try again.
            kill.cancel();
        }
        *self.sockets_of.entry(who.id.clone()).or_insert(0) += 1;
        if sockets == 0 {
            crate::metrics::participants(1);
        }
        self.conns.insert(
            conn,
            Conn {
                member: who.id,
                role: who.role,
                credential: who.credential,
                closing: false,
                out,
                kill,
            },
        );
        let _ = reply.send(Ok(()));
    }

    async fn leave(&mut self, conn: u64) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let count = self.sockets_of.entry(c.member.clone()).or_insert(1);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.sockets_of.remove(&c.member);
            crate::metrics::participants(-1);
            let now = self.clock.now_ms();
            let events = self.state.disconnect(now, &c.member);
            self.publish(now, events).await;
        }
    }

    async fn command(&mut self, conn: u64, reference: Option<Ref>, command: Command) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let who = c.member.clone();
        let out = c.out.clone();
        if let Some(r) = &reference {
            if self.refs.get(&who).is_some_and(|cache| cache.contains(r)) {
                // Already applied: acknowledge again, do not apply twice.
                self.answer(
                    &out,
                    conn,
                    ServerFrame::Ack {
                        reference: r.clone(),
                    },
                );
                return;
            }
        }
        let now = self.clock.now_ms();
        let kind = command.kind();
        crate::metrics::command(kind);
        let facilitator_only = command.facilitator_only();
        let target = command.target().map(|t| t.to_string());
        let stored = stored_effect(&command, &who, now);
        let audit = facilitator_only.then(|| AuditEntry {
            group_id: self.group_id.clone(),
            session_id: Some(self.session_id.clone()),
            facilitator_id: who.to_string(),
            action: kind.to_string(),
            target,
            detail: detail(&command),
            at: now,
        });
        // Durable effects: the rules run on a copy that becomes the state
        // only once the store has the effect.
        let mut next = stored.is_some().then(|| self.state.clone());
        let result = match next.as_mut() {
            Some(copy) => copy.apply(now, &who, command),
            None => self.state.apply(now, &who, command),
        };
        let applied = match result {
            Ok(applied) => applied,
            Err(refusal) => {
                crate::metrics::refusal(kind, refusal.code.as_str());
                self.answer(&out, conn, ServerFrame::refusal(reference, &refusal));
                return;
            }
        };
        if let (Some(effect), Some(copy)) = (stored, next) {
            let mut effects = vec![effect];
            effects.extend(audit.map(Effect::Audit));
            effects.push(snapshot_effect(&copy, now));
            let stored = tokio::time::timeout(DURABLE_TIMEOUT, self.writer.durable(effects)).await;
            if !matches!(stored, Ok(Ok(()))) {
                tracing::error!(session = %self.session_id, action = kind, "a stored effect could not be saved: refused");
                crate::metrics::refusal(kind, ErrorCode::Unavailable.as_str());
                let refusal = Refusal::new(
                    ErrorCode::Unavailable,
                    "We couldn't save that just now, so nothing changed. Please try again.",
                );
                self.answer(&out, conn, ServerFrame::refusal(reference, &refusal));
                return;
            }
            self.state = copy;
            self.unsaved = 0;
            if kind == "end" {
                self.end_stored = true;
            }
        } else if let Some(entry) = audit {
            // A facilitator's action: audit it and save the state after it
            // (a mute, a pause, the mode must survive a crash).
            let effects = vec![Effect::Audit(entry), snapshot_effect(&self.state, now)];
            self.unsaved = 0;
            self.writer.submit(effects).await;
        }
        if let Some(page) = applied.page {
            let frame = ServerFrame::History {
                reference: reference.clone(),
                room: page.room,
                messages: page.messages,
                more: page.more,
            };
            self.answer(&out, conn, frame);
        }
        if let Some(page) = applied.people {
            let frame = ServerFrame::People {
                reference: reference.clone(),
                participants: page.participants,
                more: page.more,
            };
            self.answer(&out, conn, frame);
        }
        if let Some(r) = reference {
            self.answer(
                &out,
                conn,
                ServerFrame::Ack {
                    reference: r.clone(),
                },
            );
            self.refs
                .entry(who)
                .or_default()
                .insert(r, self.settings.refs_remembered);
        }
        self.publish(now, applied.events).await;
    }

    fn answer(&mut self, out: &OutTx, conn: u64, frame: ServerFrame) {
        let bytes = Utf8Bytes::from(frame.to_json());
        if out.try_send(Outbound::Frame(bytes)).is_err() {
            self.drop_slow(conn);
        }
    }

    /// Saves the state now (after every earlier effect).
    async fn save(&mut self) {
        let effect = snapshot_effect(&self.state, self.clock.now_ms());
        self.unsaved = 0;
        self.writer.submit(vec![effect]).await;
    }

    /// Assigns seq numbers, serializes each event once, logs it for resume
    /// and hands it to every entitled socket.
    async fn publish(&mut self, now: Millis, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let mut effects = Vec::new();
        // In a large room, arrivals and presence changes wait a moment to go
        // out together as one `people` event (one per room per tick instead
        // of one per person to everyone); anything else goes out at once,
        // after the people it may name.
        let large = self.state.member_count() > self.settings.large_room;
        for event in events {
            let who = match &event {
                Event::Joined { participant } if large => Some(participant.id.clone()),
                Event::Presence { participant, .. } if large => Some(participant.clone()),
                _ => None,
            };
            if let Some(id) = who {
                if self.batched.insert(id.clone()) {
                    self.pending_people.push(id);
                }
                let wait = people_wait(self.settings.people_batch_ms, self.state.member_count());
                self.people_due.get_or_insert_with(|| Instant::now() + wait);
                continue;
            }
            if !self.pending_people.is_empty() {
                self.flush_people(now, &mut effects);
            }
            self.send_event(now, event, &mut effects);
        }
        self.finish_publish(now, effects).await;
    }

    /// Sends the batched arrivals now, as one `people` event.
    fn flush_people(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        let ids = std::mem::take(&mut self.pending_people);
        self.batched.clear();
        self.people_due = None;
        let people = self.state.participant_views(&ids);
        if !people.is_empty() {
            let participants_total = u32::try_from(self.state.member_count()).unwrap_or(u32::MAX);
            let event = Event::People {
                people,
                participants_total,
            };
            self.send_event(now, event, effects);
        }
    }

    /// Saves the state when enough happened, and hands the effects to the writer.
    async fn finish_publish(&mut self, now: Millis, mut effects: Vec<Effect>) {
        if self.unsaved >= self.settings.snapshot_events.max(1) && !self.writer.snapshot_pending() {
            effects.push(snapshot_effect(&self.state, now));
            self.unsaved = 0;
        }
        self.writer.submit(effects).await;
    }

    /// Numbers one event, serializes it once, hands it to every entitled
    /// socket and logs it for resume.
    fn send_event(&mut self, now: Millis, event: Event, effects: &mut Vec<Effect>) {
        {
            self.seq += 1;
            let bytes = Utf8Bytes::from(event_frame(self.seq, now, &event));
            let audience = event.audience();
            let mut slow = Vec::new();
            let mut sent = 0;
            for (id, conn) in &self.conns {
                if !audience.includes(&conn.member, conn.role) {
                    continue;
                }
                match conn.out.try_send(Outbound::Frame(bytes.clone())) {
                    Ok(()) => sent += 1,
                    Err(_) => slow.push(*id),
                }
            }
            crate::metrics::event(sent);
            for id in slow {
                self.drop_slow(id);
            }
            self.after_event(now, &event, effects);
            self.log.push(
                Logged {
                    seq: self.seq,
                    at: now,
                    audience,
                    bytes,
                },
                now,
            );
            crate::metrics::replay_bytes(&mut self.replay_reported, self.log.bytes());
            self.unsaved = self.unsaved.saturating_add(1);
        }
    }

    /// Consequences of an event for the sockets and the store (a removal,
    /// the end).
    fn after_event(&mut self, now: Millis, event: &Event, effects: &mut Vec<Effect>) {
        match event {
            Event::Left { participant, .. } => {
                for conn in self.conns.values().filter(|c| &c.member == participant) {
                    conn.close(close::REMOVED, "removed");
                }
            }
            Event::Phase {
                phase: Phase::Ended,
                ..
            } => {
                // Ended by the clock, a facilitator or a cancellation: stored
                // once, with the final snapshot (the summary reads it).
                if !self.end_stored {
                    self.end_stored = true;
                    effects.push(Effect::Ended { at: now });
                }
                effects.push(snapshot_effect(&self.state, now));
                self.unsaved = 0;
                for conn in self.conns.values() {
                    conn.close(close::ENDED, "session ended");
                }
            }
            _ => {}
        }
    }

    /// The session is someone else's now: every socket closes with 1001 so
    /// its client resumes (and reaches the new owner).
    fn move_away(&mut self, why: &'static str) {
        tracing::warn!(session = %self.session_id, why, "session stopped here");
        for conn in self.conns.values() {
            conn.close(close::GOING_AWAY, "moved");
        }
        self.moved = true;
    }

    fn drop_slow(&mut self, conn: u64) {
        if let Some(c) = self.conns.get(&conn) {
            tracing::info!(session = %self.session_id, member = %c.member, "outbound queue full: disconnecting a slow socket");
            crate::metrics::cut_slow();
            c.kill.cancel();
        }
        // The connection task sends Leave when it exits; presence follows then.
    }
}

/// How long a large room gathers arrivals and presence changes before one
/// `people` event: `batch_ms` per started thousand people (100 ms up to
/// 1,000, 500 ms at 5,000), at most a second (or `batch_ms`, if longer).
/// Every event goes to everyone, so the sends a room makes per second grow
/// with its size; the longer wait keeps them flat (W6 in BENCHMARKS.md).
fn people_wait(batch_ms: u64, members: usize) -> Duration {
    let thousands = u64::try_from(members.div_ceil(1000))
        .unwrap_or(u64::MAX)
        .max(1);
    let ms = batch_ms.max(1).saturating_mul(thousands);
    Duration::from_millis(ms.min(batch_ms.max(1000)))
}

/// The store change a command must have made durable before its ack.
fn stored_effect(command: &Command, who: &MemberId, now: Millis) -> Option<Effect> {
    match command {
        Command::Start => Some(Effect::Started { at: now }),
        Command::End => Some(Effect::Ended { at: now }),
        Command::Lock { on } => Some(Effect::Locked { on: *on }),
        Command::Remove { participant, ban } => Some(Effect::Removed {
            participant: participant.to_string(),
            ban: *ban,
            by: who.to_string(),
            at: now,
        }),
        _ => None,
    }
}

/// Short non-personal detail for the audit log.
fn detail(command: &Command) -> Option<String> {
    match command {
        Command::Lock { on } | Command::MuteAll { on } | Command::Mute { on, .. } => {
            Some(format!("on={on}"))
        }
        Command::Pause { on, .. } => Some(format!("on={on}")),
        Command::Remove { ban, .. } => Some(format!("ban={ban}")),
        Command::Mode { mode, .. } => Some(format!("mode={}", mode.as_str())),
        _ => None,
    }
}

fn snapshot_effect(state: &SessionState, at: Millis) -> Effect {
    // A snapshot is plain data: serializing it cannot fail.
    let json = serde_json::to_string(&state.save()).unwrap_or_default();
    Effect::Snapshot { json, at }
}

#[cfg(test)]
mod tests {
    use super::people_wait;
    use std::time::Duration;

    #[test]
    fn a_larger_room_gathers_its_people_for_longer_up_to_a_second() {
        let ms = |members| people_wait(100, members).as_millis();
        // The documented schedule: 100 ms per started thousand people.
        assert_eq!(ms(201), 100);
        assert_eq!(ms(1000), 100);
        assert_eq!(ms(1001), 200);
        assert_eq!(ms(5000), 500);
        // Never more than a second, so presence stays current enough to
        // see who is on a break.
        assert_eq!(ms(50_000), 1000);
        // A longer configured batch is kept as it is.
        assert_eq!(people_wait(2000, 300), Duration::from_millis(2000));
        assert_eq!(people_wait(0, 300), Duration::from_millis(1));
    }
}
