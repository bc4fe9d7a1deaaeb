//! Several nodes on one PostgreSQL database: each live session has exactly
//! one owner node, which runs its actor, by a **lease** in the database
//! (`crate::store::Leases`) whose token fences its snapshot writes and is
//! its epoch.
//!
//! - **Taking a session**: a socket for a session with no actor here takes
//!   the lease (one statement; the database's clock decides whether the old
//!   one ran out), and the actor starts from the latest snapshot under the
//!   new token (a new epoch: clients get `resumed: false` and the state).
//! - **Relaying**: a socket for a session another live node owns is relayed
//!   one hop to that node's `node_url` ([`relay`]).
//! - **Renewing**: one batched statement every third of the lease. A
//!   session whose renewal was refused stops here (its sockets close with
//!   1001 and resume on the new owner); so does every session whose last
//!   successful take or renewal was *sent* more than two thirds of the lease
//!   ago, by this process's monotonic clock, so a node cut off from the
//!   database stops before its lease can have run out.
//! - **Reaching the owner**: actions from HTTP (cancel, sign-out, a lost
//!   group) go to every node with PostgreSQL's `NOTIFY` ([`notify`]).
//!
//! With SQLite (one node) none of this runs.

pub mod notify;
pub mod relay;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::protocol::close;
use crate::session::{Lease, Registry, SessionHandle};
use crate::settings::Settings;
use crate::store::{Backend, SessionRecord, Store};

/// The header a relayed socket's upgrade carries (its value: the relaying
/// node). A node never relays such a socket again.
pub const RELAYED: &str = "x-peercircle-relayed";

/// A session this node holds: its token, and when the statement that last
/// took or renewed it was sent (the lease runs from no earlier).
#[derive(Debug, Clone, Copy)]
struct Held {
    token: i64,
    since: Instant,
}

/// The phase in the session's saved state (at most a couple of seconds
/// old; a pause is saved at once): for a session another node runs.
pub async fn saved_phase(
    state: &crate::app_state::AppState,
    session_id: &str,
) -> Option<crate::protocol::Phase> {
    let json = state.store.load_snapshot(session_id).await.ok()??;
    let snapshot: crate::session::state::SessionSnapshot = serde_json::from_str(&json).ok()?;
    Some(snapshot.phase())
}

/// What to do with a socket whose session's owner could not be reached.
enum After {
    /// This node runs the session now (or the handshake will refuse it).
    ServeHere,
    /// Another node took it: relay there.
    RelayTo(String),
    /// Close with 1001: the client tries again.
    GiveUp,
}

/// This node's part in the cluster.
pub struct Cluster {
    pub node_id: String,
    pub node_url: String,
    lease: Duration,
    store: Arc<dyn Store>,
    sessions: Arc<Registry>,
    held: std::sync::Mutex<HashMap<String, Held>>,
    /// One take at a time on this node (two sockets arriving together for
    /// one session must not take it twice).
    taking: tokio::sync::Mutex<()>,
    /// The last renewal round reached the database.
    reachable: AtomicBool,
}

impl Cluster {
    /// The cluster part of a node, when its database is PostgreSQL (a single
    /// node on PostgreSQL takes leases too: it costs one statement every
    /// few seconds and lets a second node join at any time).
    pub fn new(
        settings: &Settings,
        bound: std::net::SocketAddr,
        store: Arc<dyn Store>,
        sessions: Arc<Registry>,
    ) -> Option<Arc<Cluster>> {
        if Backend::of(&settings.database) != Some(Backend::Postgres) {
            return None;
        }
        let node_id = match settings.node_id.trim() {
            "" => crate::auth::new_id("n"),
            id => id.to_string(),
        };
        let node_url = match settings.node_url.trim() {
            "" => {
                let mut addr = bound;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                    tracing::warn!("PEERCIRCLE_NODE_URL is not set: other nodes will relay to {addr}, which only works on this machine");
                }
                format!("http://{addr}")
            }
            url => url.trim_end_matches('/').to_string(),
        };
        tracing::info!(node = %node_id, url = %node_url, lease_secs = settings.lease_secs, "cluster node");
        Some(Arc::new(Cluster {
            node_id,
            node_url,
            lease: Duration::from_secs(settings.lease_secs.max(1).into()),
            store,
            sessions,
            held: std::sync::Mutex::new(HashMap::new()),
            taking: tokio::sync::Mutex::new(()),
            reachable: AtomicBool::new(true),
        }))
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// How long after its last take or renewal was sent a session may run here.
    fn safe_for(&self) -> Duration {
        self.lease * 2 / 3
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Did the last renewal round reach the database?
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Acquire)
    }

    /// Sessions this node holds now.
    pub fn held_count(&self) -> usize {
        self.held().len()
    }

    /// The actor of a session this node holds under a lease still safe to use.
    fn local(&self, session_id: &str) -> Option<SessionHandle> {
        let handle = self.sessions.get(session_id)?;
        let lease = handle.lease()?;
        let held = self.held().get(session_id).copied()?;
        (held.token == lease.token && held.since.elapsed() < self.safe_for()).then_some(handle)
    }

    /// Where a new socket for `session_id` goes: `Some(url)` of the live
    /// owner to relay to, or `None` to serve it here (this node runs it,
    /// nobody does, or the socket was relayed already).
    pub async fn route(&self, session_id: &str, headers: &HeaderMap) -> Option<String> {
        if headers.contains_key(RELAYED) || self.local(session_id).is_some() {
            return None;
        }
        match tokio::time::timeout(self.lease / 3, self.store.lease_owner(session_id)).await {
            Ok(Ok(Some(owner))) if owner.live && owner.node_id != self.node_id => {
                Some(owner.node_url)
            }
            _ => None,
        }
    }

    /// Relays a socket to the session's owner at `owner_url`. When the owner
    /// cannot be reached it may have died: wait (at most a lease) until its
    /// lease has run out, take the session, and hand the socket back to be
    /// served here; if another node took it first, relay there instead. If
    /// the lease stays live (the owner runs, this node cannot reach it), the
    /// socket closes with 1001 so the client tries again.
    pub async fn relay(
        &self,
        socket: crate::ws::Socket,
        owner_url: String,
        session_id: &str,
    ) -> Option<crate::ws::Socket> {
        let mut socket = socket;
        let mut owner_url = owner_url;
        let deadline = Instant::now() + self.lease + Duration::from_secs(2);
        for _hop in 0..3 {
            socket = relay::relay(socket, &owner_url, session_id, &self.node_id).await?;
            match self.after_owner(session_id, deadline).await {
                After::ServeHere => return Some(socket),
                After::RelayTo(url) if url != owner_url => owner_url = url,
                After::RelayTo(_) | After::GiveUp => break,
            }
        }
        relay::going_away(socket).await;
        None
    }

    /// The owner could not be reached: waits for its lease to run out, then
    /// takes the session here, or names the node that took it first.
    async fn after_owner(&self, session_id: &str, deadline: Instant) -> After {
        while Instant::now() < deadline {
            let owner =
                tokio::time::timeout(self.lease / 3, self.store.lease_owner(session_id)).await;
            let left = match owner {
                Ok(Ok(Some(o))) if o.live && o.node_id != self.node_id => o.expires_in_ms,
                Ok(Ok(_)) => {
                    let record = match self.store.session(session_id).await {
                        Ok(Some(r)) => r,
                        // Gone or unreadable: the handshake says why.
                        _ => return After::ServeHere,
                    };
                    if record.ended_at.is_some() || record.cancelled {
                        return After::ServeHere;
                    }
                    if self.handle_for(&record).await.is_ok() {
                        return After::ServeHere;
                    }
                    match self.store.lease_owner(session_id).await {
                        Ok(Some(o)) if o.live && o.node_id != self.node_id => {
                            return After::RelayTo(o.node_url)
                        }
                        _ => return After::GiveUp,
                    }
                }
                Err(_) | Ok(Err(_)) => return After::GiveUp,
            };
            // Look again just after it should have run out (a renewal may
            // have extended it meanwhile: then again, until the deadline).
            let wait = u64::try_from(left).unwrap_or(0) + 20;
            tokio::time::sleep(Duration::from_millis(wait.min(1_000))).await;
        }
        After::GiveUp
    }

    /// The session's actor here, taking the session's lease when this node
    /// has none: `Err` with the close code and reason when another node
    /// holds it (the client tries again and is relayed) or the database
    /// cannot be reached.
    pub async fn handle_for(
        &self,
        record: &SessionRecord,
    ) -> Result<SessionHandle, (u16, &'static str)> {
        if let Some(h) = self.local(&record.id) {
            return Ok(h);
        }
        let _one_at_a_time = self.taking.lock().await;
        if let Some(h) = self.local(&record.id) {
            return Ok(h);
        }
        let sent = Instant::now();
        let taken = tokio::time::timeout(
            self.lease / 3,
            self.store
                .acquire_lease(&record.id, &self.node_id, &self.node_url, self.lease_ms()),
        )
        .await;
        match taken {
            Ok(Ok(Some(token))) => {
                // The actor first: a renewal round running meanwhile must
                // not find the lease held with no actor, and let it go.
                let handle = self.sessions.start_owned(record, Lease { token });
                self.held()
                    .insert(record.id.clone(), Held { token, since: sent });
                tracing::info!(session = %record.id, token, "session taken");
                Ok(handle)
            }
            Ok(Ok(None)) => Err((close::GOING_AWAY, "served by another node")),
            Ok(Err(e)) => {
                tracing::error!(session = %record.id, error = %e, "could not take the session");
                Err((close::GOING_AWAY, "try again"))
            }
            Err(_) => {
                tracing::error!(session = %record.id, "taking the session timed out");
                Err((close::GOING_AWAY, "try again"))
            }
        }
    }

    /// Renews this node's leases every third of the lease and stops what
    /// cannot be renewed in time, until `shutdown`; then gives every lease
    /// up once `stopped` fires (the actors have saved their last snapshot).
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) {
        let me = self.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(me.lease / 3);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => me.renew().await,
                    _ = stop.cancelled() => break,
                }
            }
        });
        let me = self.clone();
        tokio::spawn(async move {
            let step = (me.lease / 30).max(Duration::from_millis(20));
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(step) => me.watchdog(),
                    _ = shutdown.cancelled() => break,
                }
            }
        });
    }

    /// One renewal round.
    async fn renew(&self) {
        // Sessions whose actor stopped (ended, or fenced out) are let go.
        let mut batch = Vec::new();
        let mut gone = Vec::new();
        for (id, h) in self.held().iter() {
            let running = self
                .sessions
                .get(id)
                .and_then(|s| s.lease())
                .is_some_and(|l| l.token == h.token);
            if running {
                batch.push((id.clone(), h.token));
            } else {
                gone.push((id.clone(), h.token));
            }
        }
        for (id, token) in &gone {
            self.forget(id, *token);
            let _ = tokio::time::timeout(
                self.lease / 3,
                self.store.release_lease(id, &self.node_id, *token),
            )
            .await;
        }
        let sent = Instant::now();
        let renewed = tokio::time::timeout(
            self.lease / 3,
            self.store
                .renew_leases(&self.node_id, &batch, self.lease_ms()),
        )
        .await;
        let renewed = match renewed {
            Ok(Ok(list)) => list,
            Ok(Err(e)) => {
                crate::metrics::lease_renewal_failed();
                if self.reachable.swap(false, Ordering::AcqRel) {
                    tracing::error!(error = %e, "cannot renew this node's leases");
                }
                return;
            }
            Err(_) => {
                crate::metrics::lease_renewal_failed();
                if self.reachable.swap(false, Ordering::AcqRel) {
                    tracing::error!("renewing this node's leases timed out");
                }
                return;
            }
        };
        if !self.reachable.swap(true, Ordering::AcqRel) {
            tracing::info!("the database is reachable again");
        }
        let renewed: std::collections::HashSet<String> = renewed.into_iter().collect();
        for (id, token) in batch {
            if renewed.contains(&id) {
                if let Some(h) = self.held().get_mut(&id) {
                    if h.token == token {
                        h.since = sent;
                    }
                }
            } else {
                tracing::warn!(session = %id, token, "lease lost: stopping the session here");
                crate::metrics::lease_renewal_failed();
                self.forget(&id, token);
                self.sessions.lost_if(&id, Lease { token });
            }
        }
    }

    /// Stops every session whose lease may run out before it is renewed.
    fn watchdog(&self) {
        let limit = self.safe_for();
        let late: Vec<(String, i64)> = self
            .held()
            .iter()
            .filter(|(_, h)| h.since.elapsed() >= limit)
            .map(|(id, h)| (id.clone(), h.token))
            .collect();
        if !late.is_empty() {
            tracing::warn!(
                sessions = late.len(),
                "leases not renewed in time: stopping those sessions here"
            );
        }
        for (id, token) in late {
            self.forget(&id, token);
            self.sessions.lost_if(&id, Lease { token });
        }
    }

    fn forget(&self, session_id: &str, token: i64) {
        let mut held = self.held();
        if held.get(session_id).is_some_and(|h| h.token == token) {
            held.remove(session_id);
        }
    }

    /// After a clean stop (every actor saved its last snapshot): gives every
    /// lease up, so other nodes take the sessions at once.
    pub async fn release_all(&self) {
        let all: Vec<(String, i64)> = self.held().drain().map(|(id, h)| (id, h.token)).collect();
        for (id, token) in all {
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                self.store.release_lease(&id, &self.node_id, token),
            )
            .await;
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
