//! The WebSocket endpoint `GET /ws?session=…` and one task per connection.
//!
//! The upgrade ([`upgrade()`], the entry point) checks the session id in the
//! URL (400 without it), the `Origin` (403 when not allowed) and the
//! connection limit (503), then answers the handshake ([`WsUpgrade`]). The
//! connection's one task waits for `hello` (10 s, close 4001; over the frame
//! limit 1009), authenticates the token against the store, attaches to the
//! session actor and runs the socket ([`conn`]): it parses frames into
//! commands ([`crate::protocol::parse_command`]), enforces the frame size
//! (1009) and the malformed-frame limit (1008), writes the socket's bounded
//! queue in batches, sends pings and drops a socket that stays silent past
//! the ping timeout.
//!
//! The WebSocket layer is our own ([`mod@upgrade`], [`framing`]), chosen on
//! measurement (BENCHMARKS.md, "Where the bytes of an idle socket go"): an
//! idle joined socket holds no read or write buffer, and one task.
//!
//! A socket the server drops is closed within seconds: every write has a
//! timeout, and a killed socket abandons a write in progress, so a client
//! that stops reading cannot keep its descriptor and queued frames alive.
//! There is one cleanup path on exit. It never logs message text or names.
//!
//! With several nodes, a socket for a session another node runs is relayed
//! there before any of this ([`crate::cluster::relay`]). Every line a socket
//! logs is under its `socket` span, which carries the session id.

mod conn;
pub mod framing;
pub mod upgrade;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub(crate) use self::conn::close_and_linger;
use self::framing::{Incoming, ReadError};
pub use self::upgrade::{Socket, WsUpgrade};
use crate::app_state::AppState;
use crate::auth::token_hash;
use crate::protocol::{close, parse_hello, Hello, MemberId, Role};
use crate::session::{Identity, JoinRefused, OutRx, OutTx, SessionHandle};
use crate::store::RecordPhase;

#[derive(Deserialize)]
pub struct WsQuery {
    session: Option<String>,
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

pub async fn upgrade(
    State(state): State<AppState>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
    ConnectInfo(_addr): ConnectInfo<SocketAddr>,
    ws: Result<WsUpgrade, upgrade::NotWebSocket>,
) -> Response {
    let Some(session_id) = query.session.filter(|s| !s.is_empty() && s.len() <= 128) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "The session is missing from the address (/ws?session=…).",
        );
    };
    if !crate::origin::allowed(&state, &headers) {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This page is not allowed to connect.",
        );
    }
    let Ok(ws) = ws else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "This address expects a WebSocket connection.",
        );
    };
    let counter = state.sessions.connections.clone();
    if counter.fetch_add(1, Ordering::AcqRel) >= state.settings.max_connections {
        counter.fetch_sub(1, Ordering::AcqRel);
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The server is at capacity. Please try again shortly.",
        );
    }
    let counted = Counted(counter);
    let max = state.settings.max_frame_bytes;
    // Several nodes: a session another node runs is relayed there; when
    // that node is gone, this one serves it once its lease has run out.
    let relay_to = match &state.cluster {
        Some(cluster) => cluster.route(&session_id, &headers).await,
        None => None,
    };
    // The handshake's lines carry its session: the span covers the
    // upgrade's task and the relay (not the joined socket's own task, see
    // [`connection`]).
    let span = tracing::info_span!("socket", session = %session_id);
    span.in_scope(|| {
        ws.on_upgrade(max, move |socket| async move {
            match (relay_to, state.cluster.clone()) {
                (Some(owner), Some(cluster)) => {
                    if let Some(socket) = cluster.relay(socket, owner, &session_id).await {
                        connection(state, session_id, socket, counted).await;
                    }
                }
                _ => connection(state, session_id, socket, counted).await,
            }
        })
    })
}

/// One open WebSocket in the connection count, until dropped.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads one frame for the handshake, within the hello timeout.
async fn read_hello<S: AsyncRead + AsyncWrite + Unpin>(
    socket: &mut Socket<S>,
    timeout: Duration,
) -> Result<Hello, (u16, &'static str)> {
    let deadline = Instant::now() + timeout;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.reader.next(&mut socket.io)).await;
        match frame {
            Err(_) => return Err((close::BAD_HELLO, "no hello in time")),
            Ok(Err(ReadError::TooBig)) => return Err((close::TOO_BIG, "frame too large")),
            Ok(Err(_)) | Ok(Ok(Incoming::Close(_))) => return Err((close::BAD_HELLO, "closed")),
            Ok(Ok(Incoming::Text(text))) => {
                return parse_hello(&text).ok_or((close::BAD_HELLO, "expected hello"));
            }
            Ok(Ok(Incoming::Ping(payload))) => {
                let pong = framing::write_frame(&mut socket.io, framing::OP_PONG, &payload);
                if !matches!(tokio::time::timeout_at(deadline, pong).await, Ok(Ok(()))) {
                    return Err((close::BAD_HELLO, "closed"));
                }
            }
            Ok(Ok(Incoming::Pong)) => continue,
            Ok(Ok(Incoming::Binary(_))) => return Err((close::BAD_HELLO, "expected hello")),
        }
    }
}

/// Closes a socket refused during the handshake.
async fn close_with<S: AsyncRead + AsyncWrite + Unpin, T>(
    socket: &mut Socket<S>,
    code: u16,
    reason: &'static str,
) -> Option<T> {
    conn::close_and_linger(socket, code, reason, Duration::from_secs(2)).await;
    None
}

/// Who holds this token for this session, or the close code that says no.
async fn authenticate(
    state: &AppState,
    session_id: &str,
    token: &str,
) -> Result<(Identity, crate::store::SessionRecord), (u16, &'static str)> {
    let store = &state.store;
    let internal = (close::GOING_AWAY, "try again");
    if token.is_empty() || token.len() > 256 {
        return Err((close::BAD_HELLO, "unknown token"));
    }
    let record = match store.session(session_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err((close::BAD_HELLO, "no such session")),
        Err(e) => {
            tracing::error!(error = %e, "store error in handshake");
            return Err(internal);
        }
    };
    let hash = token_hash(token);
    let who = match store.participant_by_token(&hash).await {
        Ok(Some(p)) => {
            if p.session_id != session_id {
                return Err((close::BAD_HELLO, "token is for another session"));
            }
            if p.removed {
                return Err((close::REMOVED, "removed"));
            }
            if !crate::api::participants::note_arrival(state, &record, &p).await {
                return Err((close::BAD_HELLO, "place given up"));
            }
            Identity {
                id: MemberId::new(p.id),
                name: p.name.into(),
                role: Role::Participant,
                credential: hash.as_str().into(),
            }
        }
        Ok(None) => {
            let now = state.now_ms();
            match store.facilitator_by_token(&hash, now).await {
                Ok(Some(f)) => match store.is_group_facilitator(&record.group_id, &f.id).await {
                    Ok(true) => Identity {
                        id: MemberId::new(f.id),
                        name: f.name.into(),
                        role: Role::Facilitator,
                        credential: hash.as_str().into(),
                    },
                    Ok(false) => return Err((close::BAD_HELLO, "not a facilitator of this group")),
                    Err(_) => return Err(internal),
                },
                Ok(None) => return Err((close::BAD_HELLO, "unknown token")),
                Err(_) => return Err(internal),
            }
        }
        Err(_) => return Err(internal),
    };
    let lobby_ms = i64::from(state.settings.lobby_minutes) * 60_000;
    if record.phase(state.now_ms(), lobby_ms) == RecordPhase::Ended {
        return Err((close::ENDED, "session ended"));
    }
    Ok((who, record))
}

/// A socket that said hello and was let into its session.
struct Attached {
    handle: SessionHandle,
    conn: u64,
    out_tx: OutTx,
    out_rx: OutRx,
}

/// The handshake: hello, the token, the join. `None` when the socket was
/// refused (and closed with the reason).
async fn attach(state: &AppState, session_id: &str, socket: &mut Socket) -> Option<Attached> {
    let s = &state.settings;
    let hello = match read_hello(socket, Duration::from_secs(s.hello_timeout_secs.into())).await {
        Ok(h) => h,
        Err((code, reason)) => {
            crate::metrics::socket_attach("no_hello");
            return close_with(socket, code, reason).await;
        }
    };
    let (who, record) = match authenticate(state, session_id, &hello.token).await {
        Ok(v) => v,
        Err((code, reason)) => {
            crate::metrics::socket_attach("not_admitted");
            return close_with(socket, code, reason).await;
        }
    };
    let resume = hello.resume().map(|(e, seq)| (e.to_string(), seq));
    let handle = match &state.cluster {
        None => state.sessions.get_or_start(&record),
        Some(cluster) => match cluster.handle_for(&record).await {
            Ok(h) => h,
            Err((code, reason)) => return close_with(socket, code, reason).await,
        },
    };
    let conn = state.sessions.next_conn_id();
    let (out_tx, out_rx) = crate::session::outq::channel(s.outbound_queue.max(8));
    let kill = out_tx.kill_switch();
    let member = who.id.clone();
    if let Err(JoinRefused { close_code, reason }) =
        handle.join(conn, who, resume, out_tx.clone(), kill).await
    {
        crate::metrics::socket_attach("refused");
        return close_with(socket, close_code, reason).await;
    }
    crate::metrics::socket_attach("attached");
    tracing::debug!(member = %member, conn, "socket attached");
    Some(Attached {
        handle,
        conn,
        out_tx,
        out_rx,
    })
}

/// The handshake, in the task the upgrade spawned; a socket let in then
/// lives in a task of its own ([`live`]), and this one ends. The handshake's
/// futures (the store calls, the join) and the server's state are thereby
/// not part of every idle socket's task: a task is as large as its largest
/// state, and these made it kilobytes.
async fn connection(state: AppState, session_id: String, mut socket: Socket, counted: Counted) {
    let Some(a) = attach(&state, &session_id, &mut socket).await else {
        return;
    };
    let s = &state.settings;
    let limits = conn::Limits {
        malformed_per_minute: s.malformed_per_minute as usize,
        ping_every: Duration::from_secs(s.ping_interval_secs.max(1).into()),
        ping_timeout: Duration::from_secs(s.ping_timeout_secs.max(1).into()),
        write_timeout: Duration::from_secs(s.write_timeout_secs.max(1).into()),
    };
    // Outside the handshake's span: entering a span on every wake was 2 %
    // of the server's CPU under fan-out (W2), and a span is kept in the
    // subscriber's registry for as long as the socket lives. The socket's
    // few lines name their session themselves (from the handle, an `Arc`
    // shared by the session's sockets) and `conn`, which the "socket
    // attached" line above ties to its member.
    tokio::spawn(live(Live {
        socket,
        a,
        shutdown: state.shutdown.clone(),
        limits,
        _counted: counted,
    }));
}

/// What a joined socket's own task holds.
struct Live {
    socket: Socket,
    a: Attached,
    shutdown: CancellationToken,
    limits: conn::Limits,
    _counted: Counted,
}

/// A joined socket, until it closes.
///
/// (Everything stays in `l`, borrowed: moving its fields out into locals
/// would keep a second copy of them in the task.)
async fn live(mut l: Live) {
    let ctx = conn::Ctx {
        handle: &l.a.handle,
        conn: l.a.conn,
        out_tx: &l.a.out_tx,
        shutdown: &l.shutdown,
        limits: &l.limits,
    };
    let end = conn::run(&ctx, &mut l.socket, &mut l.a.out_rx).await;
    // The one cleanup path: the actor forgets the socket, then what is still
    // queued (a close frame, say) goes out for a moment, then the socket.
    l.a.handle.leave(l.a.conn);
    Box::pin(conn::finish(
        end,
        &mut l.socket,
        &l.a.out_rx,
        l.limits.write_timeout,
    ))
    .await;
    tracing::debug!(session = %l.a.handle.session_id, conn = l.a.conn, "socket detached");
}
