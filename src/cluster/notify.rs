//! HTTP actions that touch a live session (a cancellation or a deleted group
//! ends it; a sign-out or a lost group closes sockets) reach the node that
//! runs it, whichever node served the HTTP call: every node `LISTEN`s on one
//! PostgreSQL channel, and the node that served the call `NOTIFY`s it. Each
//! node applies what it hears to the sessions it runs (a node that runs
//! none of them does nothing).
//!
//! A notification carries ids and token hashes only, never text or names.
//! A node that is cut off from the database misses what was sent meanwhile;
//! it has stopped its sessions by then anyway (its leases ran out), and the
//! next owner reads the stored truth (cancelled, ended, removed) on start.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::protocol::{MemberId, PhaseReason};
use crate::session::{Registry, Revoked};

/// The PostgreSQL channel every node listens on.
pub const CHANNEL: &str = "peercircle_sessions";

/// An action for whichever node runs the session(s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Remote {
    /// End a running session (cancelled, group deleted).
    End {
        session: String,
        reason: PhaseReason,
    },
    /// Close a member's sockets (in `group`'s sessions, or all).
    RevokeMember {
        member: MemberId,
        group: Option<String>,
    },
    /// Close the sockets opened with this token hash.
    RevokeCredential {
        credential: String,
        group: Option<String>,
    },
}

#[derive(Serialize, Deserialize)]
struct Note {
    /// The node that sent it (it applied the action itself already).
    from: String,
    #[serde(flatten)]
    action: Remote,
}

impl Remote {
    /// Applies the action to the sessions this node runs.
    pub async fn apply_here(self, sessions: &Registry) {
        match self {
            Remote::End { session, reason } => sessions.end_here(&session, reason).await,
            Remote::RevokeMember { member, group } => {
                sessions
                    .revoke_here(Revoked::Member(member), group.as_deref())
                    .await
            }
            Remote::RevokeCredential { credential, group } => {
                sessions
                    .revoke_here(Revoked::Credential(credential.into()), group.as_deref())
                    .await
            }
        }
    }
}

/// Sends what the registry forwards, and applies what other nodes send,
/// until `shutdown`.
pub fn spawn(
    database: &str,
    node_id: String,
    sessions: Arc<Registry>,
    mut outgoing: mpsc::UnboundedReceiver<Remote>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let options = PgConnectOptions::from_str(database)?.application_name("peercircle-notify");
    // Its own two connections: a busy main pool never delays a notification.
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    let sender_pool = pool.clone();
    let from = node_id.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        loop {
            let action = tokio::select! {
                a = outgoing.recv() => match a { Some(a) => a, None => break },
                _ = stop.cancelled() => break,
            };
            let note = Note {
                from: from.clone(),
                action,
            };
            let Ok(payload) = serde_json::to_string(&note) else {
                continue;
            };
            let sent = tokio::time::timeout(
                Duration::from_secs(5),
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(payload)
                    .execute(&sender_pool),
            )
            .await;
            if !matches!(sent, Ok(Ok(_))) {
                tracing::error!("could not tell the other nodes about a session action");
            }
        }
    });
    tokio::spawn(async move {
        loop {
            let listener = tokio::select! {
                l = listen(&pool) => l,
                _ = shutdown.cancelled() => return,
            };
            let mut listener = match listener {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other nodes' session actions; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = shutdown.cancelled() => return,
                    }
                }
            };
            loop {
                let next = tokio::select! {
                    n = listener.try_recv() => n,
                    _ = shutdown.cancelled() => return,
                };
                match next {
                    Ok(Some(n)) => match serde_json::from_str::<Note>(n.payload()) {
                        Ok(note) if note.from != node_id => note.action.apply_here(&sessions).await,
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "unreadable session action"),
                    },
                    // The connection dropped (notifications meanwhile are
                    // lost): listen again on a fresh one.
                    Ok(None) | Err(_) => break,
                }
            }
        }
    });
    Ok(())
}

async fn listen(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = tokio::time::timeout(Duration::from_secs(5), PgListener::connect_with(pool))
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_carry_ids_only_and_read_back() {
        let note = Note {
            from: "n1".into(),
            action: Remote::End {
                session: "s_Q2hY8kLm4TzW1bXa".into(),
                reason: PhaseReason::Cancelled,
            },
        };
        let json = serde_json::to_string(&note).expect("json");
        assert_eq!(
            json,
            r#"{"from":"n1","do":"end","session":"s_Q2hY8kLm4TzW1bXa","reason":"cancelled"}"#
        );
        let back: Note = serde_json::from_str(&json).expect("reads");
        assert_eq!(back.action, note.action);
        let revoke = Remote::RevokeCredential {
            credential: "ab12".into(),
            group: None,
        };
        let json = serde_json::to_string(&Note {
            from: "n2".into(),
            action: revoke.clone(),
        })
        .expect("json");
        let back: Note = serde_json::from_str(&json).expect("reads");
        assert_eq!(back.action, revoke);
    }
}
