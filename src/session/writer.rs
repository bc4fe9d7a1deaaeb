//! The one writer of a session's side effects: the audit log, the phase,
//! the lock, removals and bans, and the saved snapshot. A task per session
//! applies them **in the order the rules produced them**, so `lock` then
//! `unlock` leaves the store unlocked and a snapshot never lands before the
//! removal it follows. The actor waits for it only when an effect must be
//! durable before it is acknowledged ([`StoreWriter::durable`]).
//!
//! It never logs message text or names (snapshots hold none).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{AuditEntry, Store, StoreError};

/// Jobs queued before the actor waits for the writer.
const QUEUE: usize = 256;

/// One change to the store.
#[derive(Debug)]
pub(crate) enum Effect {
    Started {
        at: i64,
    },
    Ended {
        at: i64,
    },
    Locked {
        on: bool,
    },
    Removed {
        participant: String,
        ban: bool,
        by: String,
        at: i64,
    },
    Audit(AuditEntry),
    /// The session's snapshot as JSON (no message text).
    Snapshot {
        json: String,
        at: i64,
    },
}

impl Effect {
    /// Whether the job fails when this effect fails (the audit log and the
    /// snapshot are written on a best-effort basis: the next snapshot
    /// repairs a failed one).
    fn essential(&self) -> bool {
        !matches!(self, Effect::Audit(_) | Effect::Snapshot { .. })
    }
}

struct Job {
    effects: Vec<Effect>,
    done: Option<oneshot::Sender<Result<(), String>>>,
}

/// The handle the actor holds.
pub(crate) struct StoreWriter {
    tx: mpsc::Sender<Job>,
    task: tokio::task::JoinHandle<()>,
    /// A snapshot is queued or being written.
    snapshot_pending: Arc<AtomicBool>,
    /// Fires when a fenced snapshot write was refused: another node owns
    /// the session now.
    fenced: Arc<tokio::sync::Notify>,
}

impl StoreWriter {
    /// `fence`: the session's lease token when sessions are shared between
    /// nodes; snapshots are then written only while it is current.
    pub(crate) fn spawn(
        store: Arc<dyn Store>,
        session_id: String,
        fence: Option<i64>,
    ) -> StoreWriter {
        let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
        let snapshot_pending = Arc::new(AtomicBool::new(false));
        let pending = snapshot_pending.clone();
        let fenced = Arc::new(tokio::sync::Notify::new());
        let fenced_out = fenced.clone();
        let task = tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                // Under a lease, a change that must be durable (start,
                // remove, lock, end) is made only while the lease is still
                // this actor's: a node that froze and woke up after another
                // took the session over must not write over it.
                if let (Some(token), true) = (fence, job.effects.iter().any(Effect::essential)) {
                    let current = matches!(
                        store.lease_owner(&session_id).await,
                        Ok(Some(o)) if o.token == token && o.live
                    );
                    if !current {
                        tracing::warn!(session = %session_id, token, "a stored change refused: the lease moved on");
                        if job
                            .effects
                            .iter()
                            .any(|e| matches!(e, Effect::Snapshot { .. }))
                        {
                            pending.store(false, Ordering::Release);
                        }
                        fenced_out.notify_one();
                        if let Some(done) = job.done {
                            let _ = done.send(Err("the session moved to another node".into()));
                        }
                        continue;
                    }
                }
                let mut result = Ok(());
                for effect in job.effects {
                    let essential = effect.essential();
                    let snapshot = matches!(effect, Effect::Snapshot { .. });
                    let outcome = match (effect, fence) {
                        (Effect::Snapshot { json, at }, Some(token)) => store
                            .save_snapshot_fenced(&session_id, token, &json, at)
                            .await
                            .map(|kept| {
                                if !kept {
                                    tracing::warn!(session = %session_id, token, "snapshot refused: the lease moved on");
                                    fenced_out.notify_one();
                                }
                            }),
                        (effect, _) => apply(store.as_ref(), &session_id, effect).await,
                    };
                    if snapshot {
                        pending.store(false, Ordering::Release);
                    }
                    if let Err(e) = outcome {
                        tracing::error!(session = %session_id, error = %e, essential, "could not store a session change");
                        if essential {
                            result = Err(e.to_string());
                            break;
                        }
                    }
                }
                if let Some(done) = job.done {
                    let _ = done.send(result);
                }
            }
        });
        StoreWriter {
            tx,
            task,
            snapshot_pending,
            fenced,
        }
    }

    /// Resolves when a fenced snapshot write was refused.
    pub(crate) async fn fenced_out(&self) {
        self.fenced.notified().await
    }

    /// Queues effects after every earlier one, without waiting for them.
    pub(crate) async fn submit(&self, effects: Vec<Effect>) {
        if effects.is_empty() {
            return;
        }
        self.note_snapshot(&effects);
        let _ = self
            .tx
            .send(Job {
                effects,
                done: None,
            })
            .await;
    }

    /// Queues effects after every earlier one and waits until they are
    /// stored: `Err` when an essential one could not be.
    pub(crate) async fn durable(&self, effects: Vec<Effect>) -> Result<(), String> {
        self.note_snapshot(&effects);
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Job {
                effects,
                done: Some(done),
            })
            .await
            .map_err(|_| "the session's writer stopped".to_string())?;
        rx.await
            .unwrap_or_else(|_| Err("the session's writer stopped".to_string()))
    }

    /// Whether a snapshot is still waiting to be written.
    pub(crate) fn snapshot_pending(&self) -> bool {
        self.snapshot_pending.load(Ordering::Acquire)
    }

    fn note_snapshot(&self, effects: &[Effect]) {
        if effects.iter().any(|e| matches!(e, Effect::Snapshot { .. })) {
            self.snapshot_pending.store(true, Ordering::Release);
        }
    }

    /// Lets every queued effect land, then stops.
    pub(crate) async fn finish(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}

async fn apply(store: &dyn Store, session_id: &str, effect: Effect) -> Result<(), StoreError> {
    match effect {
        Effect::Started { at } => store.set_session_started(session_id, Some(at)).await,
        Effect::Ended { at } => store.set_session_ended(session_id, at).await,
        Effect::Locked { on } => store.set_session_locked(session_id, on).await,
        Effect::Removed {
            participant,
            ban,
            by,
            at,
        } => store.remove_participant(&participant, ban, &by, at).await,
        Effect::Audit(entry) => store.audit(&entry).await,
        Effect::Snapshot { json, at } => store.save_snapshot(session_id, &json, at).await,
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
