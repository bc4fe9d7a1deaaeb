//! How the rest of the server talks to a session actor: a cloneable
//! [`SessionHandle`] over a bounded channel of [`ActorMsg`], and what a
//! connection task gets back ([`Outbound`] frames on its own queue).

use std::sync::Arc;

use super::outq::{Kill, OutTx};
use crate::protocol::{close, Command, MemberId, Phase, PhaseReason, Ref, Role};
use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

/// What the connection task's writer sends on the socket.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// One text frame (shared bytes: serialized once for the whole room).
    Frame(Utf8Bytes),
    /// Close the socket with this code and reason, then stop.
    Close(u16, &'static str),
}

/// Who a socket speaks for, as established by the handshake.
#[derive(Debug, Clone)]
pub struct Identity {
    pub id: MemberId,
    pub name: Arc<str>,
    pub role: Role,
    /// The hash of the token the socket said hello with (signing out closes
    /// the sockets of that token).
    pub credential: Arc<str>,
}

/// Which sockets to close when access is withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// Every socket of this member (no longer a facilitator of the group).
    Member(MemberId),
    /// Every socket opened with this token (signed out).
    Credential(Arc<str>),
}

/// This node's lease on a session (sessions shared between nodes): its
/// token fences the session's snapshot writes and is its epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub token: i64,
}

/// Why a socket was not let in (its close code and reason).
#[derive(Debug, Clone, PartialEq)]
pub struct JoinRefused {
    pub close_code: u16,
    pub reason: &'static str,
}

impl JoinRefused {
    pub(crate) fn ended() -> Self {
        JoinRefused {
            close_code: close::ENDED,
            reason: "session ended",
        }
    }
}

/// A socket asking to attach to the session.
pub(crate) struct Join {
    pub conn: u64,
    pub who: Identity,
    /// `(epoch, last_seq)` when resuming.
    pub resume: Option<(String, u64)>,
    pub out: OutTx,
    /// Cancelled to drop the socket (its task stops; [`super::outq`]).
    pub kill: Kill,
    pub reply: oneshot::Sender<Result<(), JoinRefused>>,
}

/// (The large payloads are boxed: every session's inbox holds blocks of
/// these, sized by the largest variant.)
pub(crate) enum ActorMsg {
    Join(Box<Join>),
    Command {
        conn: u64,
        reference: Option<Ref>,
        command: Box<Command>,
    },
    Leave {
        conn: u64,
    },
    Phase {
        reply: oneshot::Sender<Phase>,
    },
    /// End the session from outside (cancelled, group deleted).
    End {
        reason: PhaseReason,
    },
    /// Close the sockets whose access was withdrawn.
    Revoke(Revoked),
    /// This node lost the session's lease: close every socket (1001) and stop.
    Lost,
}

/// A cloneable handle to a running session actor.
#[derive(Clone)]
pub struct SessionHandle {
    pub(crate) tx: mpsc::Sender<ActorMsg>,
    pub(crate) instance: u64,
    pub(crate) group_id: Arc<str>,
    /// The session's id, shared by all its handles (for the lines a
    /// socket logs outside the handshake's span).
    pub(crate) session_id: Arc<str>,
    pub(crate) lease: Option<Lease>,
}

impl SessionHandle {
    /// Attaches a socket. On success the welcome frame (and, when resuming,
    /// the missed events) are already in `out`, ahead of any newer event.
    pub async fn join(
        &self,
        conn: u64,
        who: Identity,
        resume: Option<(String, u64)>,
        out: OutTx,
        kill: Kill,
    ) -> Result<(), JoinRefused> {
        let (reply, rx) = oneshot::channel();
        let msg = ActorMsg::Join(Box::new(Join {
            conn,
            who,
            resume,
            out,
            kill,
            reply,
        }));
        if self.tx.send(msg).await.is_err() {
            return Err(JoinRefused::ended());
        }
        rx.await.unwrap_or(Err(JoinRefused::ended()))
    }

    /// Sends a command from a socket; its answer arrives on the socket's
    /// queue. Returns false when the actor is gone.
    pub async fn command(&self, conn: u64, reference: Option<Ref>, command: Command) -> bool {
        self.tx
            .send(ActorMsg::Command {
                conn,
                reference,
                command: Box::new(command),
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
    pub async fn end(&self, reason: PhaseReason) {
        let _ = self.tx.send(ActorMsg::End { reason }).await;
    }

    /// Closes the sockets whose access was withdrawn (close 4001).
    pub async fn revoke(&self, which: Revoked) {
        let _ = self.tx.send(ActorMsg::Revoke(which)).await;
    }

    /// This node lost the lease: the actor closes its sockets and stops.
    pub fn lost(&self) {
        if self.tx.try_send(ActorMsg::Lost).is_err() {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(ActorMsg::Lost).await;
            });
        }
    }

    /// The lease this actor runs under, if sessions are shared between nodes.
    pub fn lease(&self) -> Option<Lease> {
        self.lease
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// The group the session belongs to.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }
}
