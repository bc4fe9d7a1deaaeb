//! One task per live session: it owns the [`SessionState`], the replay log of
//! recent serialized events, the `epoch`, the acknowledged `ref`s and the
//! outbound queues of every connected socket.
//!
//! Input arrives on a bounded `mpsc` ([`SessionHandle`]). Each event is
//! serialized **once**; the same bytes go to every entitled socket with
//! `try_send`. A socket whose queue is full is disconnected (it may resume),
//! never awaited, so one slow reader never slows the room.
//!
//! The actor must not block on the store: side effects (audit log, removal,
//! phase and lock changes) are written by spawned tasks. It never logs
//! message text or display names.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::state::{Audience, Command, Config, Event, Phase, Refusal, Role, SessionState};
use crate::clock::SharedClock;
use crate::settings::Settings;
use crate::store::{AuditEntry, SessionRecord, Store};

/// Close codes of PROTOCOL.md §2.
pub const CLOSE_BAD_HELLO: u16 = 4001;
pub const CLOSE_REMOVED: u16 = 4003;
pub const CLOSE_ENDED: u16 = 4004;
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// What the connection task's writer sends on the socket.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// One text frame (shared bytes: serialized once for the whole room).
    Frame(Utf8Bytes),
    /// Close the socket with this code and reason, then stop.
    Close(u16, &'static str),
}

/// Who a socket belongs to, as established by the handshake.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// Why a socket was not let in (mapped to a close code by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct JoinRefused {
    pub close_code: u16,
    pub reason: &'static str,
}

pub(crate) enum ActorMsg {
    Join {
        conn: u64,
        member: Member,
        resume: Option<(String, u64)>,
        out: mpsc::Sender<Outbound>,
        kill: CancellationToken,
        reply: oneshot::Sender<Result<(), JoinRefused>>,
    },
    Command {
        conn: u64,
        reference: Option<String>,
        command: Command,
    },
    Leave {
        conn: u64,
    },
    Phase {
        reply: oneshot::Sender<Phase>,
    },
    Stop {
        reason: &'static str,
    },
}

/// A cloneable handle to a running session actor.
#[derive(Clone)]
pub struct SessionHandle {
    pub(crate) tx: mpsc::Sender<ActorMsg>,
    pub(crate) instance: u64,
}

impl SessionHandle {
    /// Attaches a socket. On success the welcome frame (and, when resuming,
    /// the missed events) are already in `out`, ahead of any newer event.
    pub async fn join(
        &self,
        conn: u64,
        member: Member,
        resume: Option<(String, u64)>,
        out: mpsc::Sender<Outbound>,
        kill: CancellationToken,
    ) -> Result<(), JoinRefused> {
        let (reply, rx) = oneshot::channel();
        let gone = JoinRefused {
            close_code: CLOSE_ENDED,
            reason: "session ended",
        };
        if self
            .tx
            .send(ActorMsg::Join {
                conn,
                member,
                resume,
                out,
                kill,
                reply,
            })
            .await
            .is_err()
        {
            return Err(gone);
        }
        rx.await.unwrap_or(Err(gone))
    }

    /// Sends a command from a socket; its answer arrives on the socket's queue.
    /// Returns false when the actor is gone.
    pub async fn command(&self, conn: u64, reference: Option<String>, command: Command) -> bool {
        self.tx
            .send(ActorMsg::Command {
                conn,
                reference,
                command,
            })
            .await
            .is_ok()
    }

    /// Detaches a socket (never waits: used on every exit path).
    pub fn leave(&self, conn: u64) {
        if let Err(mpsc::error::TrySendError::Full(msg)) =
            self.tx.try_send(ActorMsg::Leave { conn })
        {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(msg).await;
            });
        }
    }

    /// The live phase (lobby, live, paused, ended), if the actor still runs.
    pub async fn phase(&self) -> Option<Phase> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(ActorMsg::Phase { reply }).await.ok()?;
        rx.await.ok()
    }

    /// Ends the session from outside (cancelled, group deleted).
    pub async fn stop(&self, reason: &'static str) {
        let _ = self.tx.send(ActorMsg::Stop { reason }).await;
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

struct Conn {
    member_id: String,
    role: Role,
    out: mpsc::Sender<Outbound>,
    kill: CancellationToken,
}

struct Logged {
    seq: u64,
    at: i64,
    audience: Audience,
    bytes: Utf8Bytes,
}

/// The acknowledged refs of one person: a bounded set, oldest forgotten first.
#[derive(Default)]
struct RefCache {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl RefCache {
    fn contains(&self, r: &str) -> bool {
        self.set.contains(r)
    }
    fn insert(&mut self, r: String, cap: usize) {
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

/// A hard ceiling on the replay log, whatever the time window says, so a
/// flood cannot grow memory without bound.
const REPLAY_HARD_CAP: usize = 100_000;

pub(crate) struct Actor {
    session_id: String,
    group_id: String,
    epoch: String,
    settings: Arc<Settings>,
    store: Arc<dyn Store>,
    state: SessionState,
    seq: u64,
    log: VecDeque<Logged>,
    conns: HashMap<u64, Conn>,
    sockets_of: HashMap<String, usize>,
    refs: HashMap<String, RefCache>,
    shutdown: CancellationToken,
    clock: SharedClock,
    /// Stopped from outside: refuse everything, exit once empty.
    stopped: bool,
}

pub(crate) fn state_config(settings: &Settings) -> Config {
    Config {
        turn_seconds: settings.turn_seconds,
        grace_ms: i64::from(settings.grace_secs) * 1000,
        turn_warning_ms: i64::from(settings.turn_warning_secs) * 1000,
        end_warning_ms: i64::from(settings.end_warning_minutes) * 60_000,
        say_rate_count: settings.say_rate_count,
        say_rate_window_ms: i64::from(settings.say_rate_window_secs) * 1000,
        room_history: settings.room_history,
        max_message_chars: settings.max_message_chars,
    }
}

impl Actor {
    pub(crate) fn new(
        record: &SessionRecord,
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        shutdown: CancellationToken,
        clock: SharedClock,
    ) -> Self {
        let now = clock.now_ms();
        let state = SessionState::new(
            state_config(&settings),
            record.started_at.is_some(),
            record.locked,
            record.ends_at,
            now,
        );
        Actor {
            session_id: record.id.clone(),
            group_id: record.group_id.clone(),
            epoch: crate::auth::new_id("e"),
            settings,
            store,
            state,
            seq: 0,
            log: VecDeque::new(),
            conns: HashMap::new(),
            sockets_of: HashMap::new(),
            refs: HashMap::new(),
            shutdown,
            clock,
            stopped: false,
        }
    }

    /// Runs until the session has ended and every socket has left, or the
    /// server shuts down (sockets then get 1001 and may resume later).
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<ActorMsg>) {
        tracing::debug!(session = %self.session_id, epoch = %self.epoch, "session actor started");
        loop {
            let deadline = self.state.next_deadline().map(|at| {
                let wait = (at - self.clock.now_ms()).max(0) as u64;
                Instant::now() + Duration::from_millis(wait)
            });
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    self.handle(msg);
                }
                _ = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending::<()>().await,
                    }
                } => {
                    let now = self.clock.now_ms();
                    let events = self.state.tick(now);
                    self.publish(now, events);
                }
                _ = self.shutdown.cancelled() => {
                    for conn in self.conns.values() {
                        let _ = conn.out.try_send(Outbound::Close(CLOSE_GOING_AWAY, "server restarting"));
                        conn.kill.cancel();
                    }
                    break;
                }
            }
            if (self.stopped || self.state.phase() == Phase::Ended) && self.conns.is_empty() {
                break;
            }
        }
        tracing::debug!(session = %self.session_id, "session actor stopped");
    }

    fn handle(&mut self, msg: ActorMsg) {
        // A timer already due goes first, so the input sees the current stick.
        let now = self.clock.now_ms();
        if self.state.next_deadline().is_some_and(|d| d <= now) {
            let events = self.state.tick(now);
            self.publish(now, events);
        }
        match msg {
            ActorMsg::Join {
                conn,
                member,
                resume,
                out,
                kill,
                reply,
            } => {
                let result = self.join(conn, member, resume, out, kill);
                let _ = reply.send(result);
            }
            ActorMsg::Command {
                conn,
                reference,
                command,
            } => self.command(conn, reference, command),
            ActorMsg::Leave { conn } => self.leave(conn),
            ActorMsg::Phase { reply } => {
                let _ = reply.send(self.state.phase());
            }
            ActorMsg::Stop { reason } => {
                self.stop(reason);
                self.stopped = true;
            }
        }
    }

    fn join(
        &mut self,
        conn: u64,
        member: Member,
        resume: Option<(String, u64)>,
        out: mpsc::Sender<Outbound>,
        kill: CancellationToken,
    ) -> Result<(), JoinRefused> {
        if self.stopped || self.state.phase() == Phase::Ended {
            return Err(JoinRefused {
                close_code: CLOSE_ENDED,
                reason: "session ended",
            });
        }
        if self.state.is_removed(&member.id) {
            return Err(JoinRefused {
                close_code: CLOSE_REMOVED,
                reason: "removed",
            });
        }
        let now = self.clock.now_ms();
        let first_socket = self.sockets_of.get(&member.id).copied().unwrap_or(0) == 0;
        if first_socket {
            match self
                .state
                .connect(now, &member.id, &member.name, member.role)
            {
                // The others learn of it first; the snapshot below already
                // holds it, and `seq` covers it, so this socket never sees
                // an event twice.
                Ok(events) => self.publish(now, events),
                Err(refusal) => {
                    return Err(JoinRefused {
                        close_code: if refusal.code == super::state::ErrorCode::SessionEnded {
                            CLOSE_ENDED
                        } else {
                            CLOSE_REMOVED
                        },
                        reason: "refused",
                    })
                }
            }
        }

        // The welcome and any replay go first, ahead of any newer event.
        let resumable = resume.as_ref().and_then(|(epoch, last_seq)| {
            (epoch == &self.epoch && self.can_replay_from(*last_seq)).then_some(*last_seq)
        });
        let you = json!({"id": member.id, "name": member.name, "role": member.role});
        let welcome = match resumable {
            Some(_) => json!({"type": "welcome", "you": you, "epoch": self.epoch,
                               "resumed": true, "seq": self.seq}),
            None => json!({"type": "welcome", "you": you, "epoch": self.epoch,
                            "resumed": false, "seq": self.seq,
                            "state": self.state.snapshot(&member.id)}),
        };
        let mut ok = out
            .try_send(Outbound::Frame(Utf8Bytes::from(welcome.to_string())))
            .is_ok();
        if let Some(last_seq) = resumable {
            for entry in self.log.iter().filter(|e| e.seq > last_seq) {
                if ok && entry.audience.includes(&member.id, member.role) {
                    ok = out.try_send(Outbound::Frame(entry.bytes.clone())).is_ok();
                }
            }
        }
        if !ok {
            // The replay did not fit the socket's queue: let it try again.
            kill.cancel();
        }
        *self.sockets_of.entry(member.id.clone()).or_insert(0) += 1;
        self.conns.insert(
            conn,
            Conn {
                member_id: member.id,
                role: member.role,
                out,
                kill,
            },
        );
        Ok(())
    }

    /// The session was cancelled or its group deleted: everyone is told and
    /// closed with 4004; the actor then stops.
    fn stop(&mut self, reason: &'static str) {
        let now = self.clock.now_ms();
        self.seq += 1;
        let event = Event {
            kind: "phase",
            data: json!({"phase": "ended", "reason": reason})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            audience: Audience::All,
        };
        let bytes = Utf8Bytes::from(serialize_event(self.seq, now, &event));
        for conn in self.conns.values() {
            let _ = conn.out.try_send(Outbound::Frame(bytes.clone()));
            if conn
                .out
                .try_send(Outbound::Close(CLOSE_ENDED, "session ended"))
                .is_err()
            {
                conn.kill.cancel();
            }
        }
    }

    fn can_replay_from(&self, last_seq: u64) -> bool {
        if last_seq > self.seq {
            return false;
        }
        match self.log.front() {
            // Every event after last_seq is still in the log.
            Some(first) => first.seq <= last_seq + 1,
            None => last_seq == self.seq,
        }
    }

    fn leave(&mut self, conn: u64) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let count = self.sockets_of.entry(c.member_id.clone()).or_insert(1);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.sockets_of.remove(&c.member_id);
            let now = self.clock.now_ms();
            let events = self.state.disconnect(now, &c.member_id);
            self.publish(now, events);
        }
    }

    fn command(&mut self, conn: u64, reference: Option<String>, command: Command) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let who = c.member_id.clone();
        let out = c.out.clone();
        if self.stopped {
            let refusal = Refusal {
                code: super::state::ErrorCode::SessionEnded,
                message: "This session has been cancelled.".into(),
            };
            let frame = match &reference {
                Some(r) => error(r, &refusal),
                None => error_no_ref(&refusal),
            };
            self.answer(&out, conn, frame);
            return;
        }
        if let Some(r) = &reference {
            if self.refs.get(&who).is_some_and(|cache| cache.contains(r)) {
                // Already applied: acknowledge again, do not apply twice.
                self.answer(&out, conn, ack(r));
                return;
            }
        }
        let now = self.clock.now_ms();
        let kind = command.kind();
        let facilitator_only = command.facilitator_only();
        let target = command.target().map(str::to_string);
        let side_effect = SideEffect::of(&command);
        match self.state.apply(now, &who, command) {
            Ok(events) => {
                if let Some(r) = reference {
                    self.answer(&out, conn, ack(&r));
                    self.refs
                        .entry(who.clone())
                        .or_default()
                        .insert(r, self.settings.refs_remembered);
                }
                if facilitator_only {
                    self.record(now, &who, kind, target, side_effect);
                }
                self.publish(now, events);
            }
            Err(refusal) => {
                if let Some(r) = reference {
                    self.answer(&out, conn, error(&r, &refusal));
                } else {
                    self.answer(&out, conn, error_no_ref(&refusal));
                }
            }
        }
    }

    fn answer(&mut self, out: &mpsc::Sender<Outbound>, conn: u64, frame: String) {
        if out
            .try_send(Outbound::Frame(Utf8Bytes::from(frame)))
            .is_err()
        {
            self.drop_slow(conn);
        }
    }

    /// Writes a facilitator's action to the audit log and the store, without waiting.
    fn record(
        &self,
        now: i64,
        who: &str,
        kind: &'static str,
        target: Option<String>,
        effect: SideEffect,
    ) {
        let store = self.store.clone();
        let session_id = self.session_id.clone();
        let entry = AuditEntry {
            group_id: self.group_id.clone(),
            session_id: Some(session_id.clone()),
            facilitator_id: who.to_string(),
            action: kind.to_string(),
            target: target.clone(),
            detail: effect.detail(),
            at: now,
        };
        let by = who.to_string();
        tokio::spawn(async move {
            let result = async {
                match effect {
                    SideEffect::Start => store.set_session_started(&session_id, Some(now)).await?,
                    SideEffect::End => store.set_session_ended(&session_id, now).await?,
                    SideEffect::Lock(on) => store.set_session_locked(&session_id, on).await?,
                    SideEffect::Remove(ban) => {
                        if let Some(t) = &target {
                            store.remove_participant(t, ban, &by, now).await?
                        }
                    }
                    SideEffect::None => {}
                }
                store.audit(&entry).await
            }
            .await;
            if let Err(e) = result {
                tracing::error!(session = %session_id, action = kind, error = %e, "could not record a facilitator action");
            }
        });
    }

    /// Assigns seq numbers, serializes each event once, logs it for resume
    /// and hands it to every entitled socket.
    fn publish(&mut self, now: i64, events: Vec<Event>) {
        for event in events {
            self.seq += 1;
            let bytes = Utf8Bytes::from(serialize_event(self.seq, now, &event));
            let mut slow = Vec::new();
            for (id, conn) in &self.conns {
                if event.audience.includes(&conn.member_id, conn.role)
                    && conn.out.try_send(Outbound::Frame(bytes.clone())).is_err()
                {
                    slow.push(*id);
                }
            }
            for id in slow {
                self.drop_slow(id);
            }
            self.after_event(now, &event);
            self.log.push_back(Logged {
                seq: self.seq,
                at: now,
                audience: event.audience,
                bytes,
            });
        }
        self.trim_log(now);
    }

    /// Consequences of an event for the sockets (removal, the end).
    fn after_event(&mut self, now: i64, event: &Event) {
        let field = |name: &str| event.data.get(name).and_then(Value::as_str);
        match event.kind {
            "left" if field("reason") == Some("removed") => {
                if let Some(who) = field("participant") {
                    for conn in self.conns.values().filter(|c| c.member_id == who) {
                        let _ = conn.out.try_send(Outbound::Close(CLOSE_REMOVED, "removed"));
                        conn.kill.cancel();
                    }
                }
            }
            "phase" if field("phase") == Some("ended") => {
                // Ended by the clock or a facilitator: record it, close everyone.
                let store = self.store.clone();
                let id = self.session_id.clone();
                tokio::spawn(async move {
                    if let Err(e) = store.set_session_ended(&id, now).await {
                        tracing::error!(session = %id, error = %e, "could not record the end");
                    }
                });
                for conn in self.conns.values() {
                    if conn
                        .out
                        .try_send(Outbound::Close(CLOSE_ENDED, "session ended"))
                        .is_err()
                    {
                        conn.kill.cancel();
                    }
                }
            }
            _ => {}
        }
    }

    fn drop_slow(&mut self, conn: u64) {
        if let Some(c) = self.conns.get(&conn) {
            tracing::info!(session = %self.session_id, member = %c.member_id, "outbound queue full: disconnecting a slow socket");
            c.kill.cancel();
        }
        // The connection task sends Leave when it exits; presence follows then.
    }

    fn trim_log(&mut self, now: i64) {
        let keep = self.settings.replay_events;
        let window = i64::from(self.settings.replay_secs) * 1000;
        while let Some(front) = self.log.front() {
            let too_many = self.log.len() > keep && now - front.at > window;
            if too_many || self.log.len() > REPLAY_HARD_CAP.max(keep) {
                self.log.pop_front();
            } else {
                break;
            }
        }
    }
}

/// What a facilitator command changes in the store besides the audit log.
enum SideEffect {
    None,
    Start,
    End,
    Lock(bool),
    Remove(bool),
}

impl SideEffect {
    fn of(command: &Command) -> Self {
        match command {
            Command::Start => Self::Start,
            Command::End => Self::End,
            Command::Lock { on } => Self::Lock(*on),
            Command::Remove { ban, .. } => Self::Remove(*ban),
            _ => Self::None,
        }
    }
    fn detail(&self) -> Option<String> {
        match self {
            Self::Lock(on) => Some(format!("on={on}")),
            Self::Remove(ban) => Some(format!("ban={ban}")),
            _ => None,
        }
    }
}

/// `{"type":"event","seq":…,"at":…,"kind":…, …data}` without an intermediate tree
/// (public for the micro-benchmarks).
pub fn serialize_event(seq: u64, at: i64, event: &Event) -> String {
    let data = serde_json::to_string(&event.data).unwrap_or_else(|_| "{}".into());
    let mut s = String::with_capacity(data.len() + 64);
    s.push_str("{\"type\":\"event\",\"seq\":");
    s.push_str(&seq.to_string());
    s.push_str(",\"at\":");
    s.push_str(&at.to_string());
    s.push_str(",\"kind\":\"");
    s.push_str(event.kind);
    s.push('"');
    if data.len() > 2 {
        s.push(',');
        s.push_str(&data[1..]);
    } else {
        s.push('}');
    }
    s
}

fn ack(reference: &str) -> String {
    json!({"type": "ack", "ref": reference}).to_string()
}

fn error(reference: &str, refusal: &Refusal) -> String {
    json!({"type": "error", "ref": reference, "code": refusal.code.as_str(), "message": refusal.message})
        .to_string()
}

fn error_no_ref(refusal: &Refusal) -> String {
    json!({"type": "error", "code": refusal.code.as_str(), "message": refusal.message}).to_string()
}
