//! Live sessions: a [`Registry`] of running session actors, one per session
//! that has sockets, each owning a pure [`state::SessionState`].
//!
//! The registry is the only shared map (`dashmap`); callers clone a handle out
//! and drop the guard before any `.await`. Actors start on the first connect
//! (continuing from the session's saved snapshot, if any) and stop once
//! their session has ended and emptied.

pub mod actor;
pub mod handle;
pub mod outq;
pub mod replay;
pub mod state;
mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use handle::{Identity, JoinRefused, Lease, Outbound, Revoked, SessionHandle};
pub use outq::{OutRx, OutTx};

use crate::clock::SharedClock;
use crate::protocol::{Phase, PhaseReason};
use crate::settings::Settings;
use crate::store::{SessionRecord, Store};

/// Messages queued to one actor before senders wait.
const ACTOR_INBOX: usize = 1024;

/// Maps session ids to running actors.
pub struct Registry {
    settings: Arc<Settings>,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
    clock: SharedClock,
    sessions: Arc<DashMap<String, SessionHandle>>,
    tasks: TaskTracker,
    next_instance: AtomicU64,
    next_conn: AtomicU64,
    /// Open WebSocket connections, for the connection limit.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    /// Several nodes: where actions from HTTP go to reach the other nodes.
    peers: std::sync::OnceLock<mpsc::UnboundedSender<crate::cluster::notify::Remote>>,
}

impl Registry {
    pub fn new(
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        shutdown: CancellationToken,
        clock: SharedClock,
    ) -> Self {
        Self {
            settings,
            store,
            shutdown,
            clock,
            sessions: Arc::new(DashMap::new()),
            tasks: TaskTracker::new(),
            next_instance: AtomicU64::new(1),
            next_conn: AtomicU64::new(1),
            connections: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            peers: std::sync::OnceLock::new(),
        }
    }

    /// A fresh id for a connection.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// The running actor of a session, started if there is none.
    pub fn get_or_start(&self, record: &SessionRecord) -> SessionHandle {
        if let Some(h) = self.sessions.get(&record.id) {
            if !h.is_closed() {
                return h.clone();
            }
        }
        let mut entry = self
            .sessions
            .entry(record.id.clone())
            .or_insert_with(|| self.spawn(record, None));
        if entry.is_closed() {
            *entry = self.spawn(record, None);
        }
        entry.clone()
    }

    /// Starts the session's actor under `lease` (this node just took it):
    /// an actor still running under an older lease is told it lost it.
    pub fn start_owned(&self, record: &SessionRecord, lease: Lease) -> SessionHandle {
        let mut entry = self
            .sessions
            .entry(record.id.clone())
            .or_insert_with(|| self.spawn(record, Some(lease)));
        if entry.is_closed() || entry.lease() != Some(lease) {
            if !entry.is_closed() {
                entry.lost();
            }
            *entry = self.spawn(record, Some(lease));
        }
        entry.clone()
    }

    /// Every running session with the token it runs under (for renewals).
    pub fn running(&self) -> Vec<(String, Option<Lease>)> {
        self.sessions
            .iter()
            .filter(|h| !h.is_closed())
            .map(|h| (h.key().clone(), h.lease()))
            .collect()
    }

    /// This node lost the session's lease: its sockets close with 1001 and
    /// its actor stops (the clients resume on the new owner).
    pub fn lost(&self, session_id: &str) {
        if let Some((_, handle)) = self.sessions.remove(session_id) {
            handle.lost();
        }
    }

    /// Like [`Registry::lost`], only for the actor running under `lease`
    /// (a newer take of the same session stays).
    pub fn lost_if(&self, session_id: &str, lease: Lease) -> bool {
        match self
            .sessions
            .remove_if(session_id, |_, h| h.lease() == Some(lease))
        {
            Some((_, handle)) => {
                handle.lost();
                true
            }
            None => false,
        }
    }

    /// Stops every session held under a lease (this node cannot renew in
    /// time): each closes its sockets with 1001.
    pub fn stop_all_owned(&self) {
        let owned: Vec<String> = self
            .sessions
            .iter()
            .filter(|h| h.lease().is_some())
            .map(|h| h.key().clone())
            .collect();
        for id in owned {
            self.lost(&id);
        }
    }

    /// The running actor of a session, if any.
    pub fn get(&self, session_id: &str) -> Option<SessionHandle> {
        self.sessions
            .get(session_id)
            .map(|h| h.clone())
            .filter(|h| !h.is_closed())
    }

    /// Ends a running session from outside (cancelled, group deleted): it
    /// goes through the rules like any end (`phase` ended with this reason),
    /// then its sockets close with 4004.
    /// With several nodes it reaches the session wherever it runs.
    pub async fn end(&self, session_id: &str, reason: PhaseReason) {
        self.tell_peers(crate::cluster::notify::Remote::End {
            session: session_id.to_string(),
            reason,
        });
        self.end_here(session_id, reason).await;
    }

    /// [`Registry::end`] for a session running on this node only.
    pub async fn end_here(&self, session_id: &str, reason: PhaseReason) {
        if let Some(handle) = self.get(session_id) {
            handle.end(reason).await;
        }
    }

    /// Several nodes: actions from HTTP go to the other nodes too, on `tx`.
    pub fn set_peers(&self, tx: mpsc::UnboundedSender<crate::cluster::notify::Remote>) {
        let _ = self.peers.set(tx);
    }

    fn tell_peers(&self, action: crate::cluster::notify::Remote) {
        if let Some(tx) = self.peers.get() {
            let _ = tx.send(action);
        }
    }

    /// Closes the sockets whose access was withdrawn, in every running
    /// session (of `group_id` only, when given), with 4001: a facilitator
    /// signed out (their token's sockets) or lost the group (all of theirs).
    /// With several nodes it reaches the sessions wherever they run.
    pub async fn revoke(&self, which: Revoked, group_id: Option<&str>) {
        let group = group_id.map(str::to_string);
        self.tell_peers(match &which {
            Revoked::Member(member) => crate::cluster::notify::Remote::RevokeMember {
                member: member.clone(),
                group,
            },
            Revoked::Credential(c) => crate::cluster::notify::Remote::RevokeCredential {
                credential: c.to_string(),
                group,
            },
        });
        self.revoke_here(which, group_id).await;
    }

    /// [`Registry::revoke`] in the sessions running on this node only.
    pub async fn revoke_here(&self, which: Revoked, group_id: Option<&str>) {
        let handles: Vec<SessionHandle> = self
            .sessions
            .iter()
            .filter(|h| group_id.is_none_or(|g| h.group_id() == g))
            .map(|h| h.clone())
            .collect();
        for h in handles {
            h.revoke(which.clone()).await;
        }
    }

    /// The live phase of a running session, if it runs (it may be paused).
    pub async fn live_phase(&self, session_id: &str) -> Option<Phase> {
        self.get(session_id)?.phase().await
    }

    /// How many session actors run now.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    fn spawn(&self, record: &SessionRecord, lease: Option<Lease>) -> SessionHandle {
        let (tx, rx) = mpsc::channel(ACTOR_INBOX);
        let instance = self.next_instance.fetch_add(1, Ordering::Relaxed);
        let handle = SessionHandle {
            tx,
            instance,
            group_id: Arc::from(record.group_id.as_str()),
            session_id: Arc::from(record.id.as_str()),
            lease,
        };
        let actor = actor::Actor::new(
            record,
            self.settings.clone(),
            self.store.clone(),
            self.shutdown.clone(),
            self.clock.clone(),
            lease,
        );
        let sessions = self.sessions.clone();
        let id = record.id.clone();
        let span = tracing::info_span!("session", session = %id);
        self.tasks.spawn(tracing::Instrument::instrument(
            async move {
                actor.run(rx).await;
                sessions.remove_if(&id, |_, h| h.instance == instance);
            },
            span,
        ));
        handle
    }

    /// After shutdown: waits (at most `grace`) for every actor to stop and
    /// its writes to land.
    pub async fn wait_closed(&self, grace: Duration) {
        self.tasks.close();
        let _ = tokio::time::timeout(grace, self.tasks.wait()).await;
    }
}
