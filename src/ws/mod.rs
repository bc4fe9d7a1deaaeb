//! The WebSocket endpoint `GET /ws?session=…` and one task per connection.
//!
//! The upgrade checks the session id in the URL (400 without it), the
//! `Origin` (403 when not allowed) and the connection limit (503). The task
//! then waits for `hello` (10 s, close 4001; over the frame limit 1009),
//! authenticates the token against the store, attaches to the session actor
//! and splits the socket: a writer drains the socket's bounded queue and
//! sends pings; the reader parses frames into commands
//! ([`crate::protocol::parse_command`]), enforces the frame size (1009) and
//! the malformed-frame limit (1008), and drops a socket that stays silent
//! past the ping timeout.
//!
//! A socket the server drops is closed within seconds: every write has a
//! timeout, and a killed writer abandons a write in progress, so a client
//! that stops reading cannot keep its descriptor and queued frames alive.
//! There is one cleanup path on exit. It never logs message text or names.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::app_state::AppState;
use crate::auth::token_hash;
use crate::protocol::{
    close, parse_command, parse_hello, ErrorCode, Hello, MemberId, Role, ServerFrame,
};
use crate::session::{Identity, JoinRefused, Outbound, SessionHandle};
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
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
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
    let s = &state.settings;
    // Accept somewhat more than the limit so an oversize frame can be
    // answered with 1009 instead of a broken connection.
    let ceiling = (s.max_frame_bytes * 4).max(64 * 1024);
    let ws = ws
        .max_message_size(ceiling)
        .max_frame_size(ceiling)
        .read_buffer_size(s.ws_buffer_bytes)
        .write_buffer_size(s.ws_buffer_bytes)
        .max_write_buffer_size(s.ws_buffer_bytes.max(64 * 1024) * 16);
    // Several nodes: a session another node runs is relayed there; when
    // that node is gone, this one serves it once its lease has run out.
    let relay_to = match &state.cluster {
        Some(cluster) => cluster.route(&session_id, &headers).await,
        None => None,
    };
    ws.on_upgrade(move |socket| async move {
        let span = tracing::info_span!("socket", session = %session_id);
        let serve = async move {
            match (relay_to, state.cluster.clone()) {
                (Some(owner), Some(cluster)) => {
                    if let Some(socket) = cluster.relay(socket, owner, &session_id).await {
                        connection(state, session_id, socket).await;
                    }
                }
                _ => connection(state, session_id, socket).await,
            }
        };
        tracing::Instrument::instrument(serve, span).await;
        counter.fetch_sub(1, Ordering::AcqRel);
    })
}

/// Whether a stream error is tungstenite refusing a frame over its size
/// limit (it reaches us only as text: "Space limit exceeded: Message too
/// long …").
fn is_too_big(error: &axum::Error) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    text.contains("too long") || text.contains("limit") || text.contains("size")
}

/// Reads one frame for the handshake, within the hello timeout.
async fn read_hello(
    socket: &mut WebSocket,
    timeout: Duration,
    max: usize,
) -> Result<Hello, (u16, &'static str)> {
    let deadline = Instant::now() + timeout;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.recv()).await;
        match frame {
            Err(_) => return Err((close::BAD_HELLO, "no hello in time")),
            Ok(Some(Err(e))) if is_too_big(&e) => return Err((close::TOO_BIG, "frame too large")),
            Ok(None) | Ok(Some(Err(_))) => return Err((close::BAD_HELLO, "closed")),
            Ok(Some(Ok(Message::Text(text)))) => {
                if text.len() > max {
                    return Err((close::TOO_BIG, "frame too large"));
                }
                return parse_hello(text.as_str()).ok_or((close::BAD_HELLO, "expected hello"));
            }
            Ok(Some(Ok(Message::Binary(b)))) if b.len() > max => {
                return Err((close::TOO_BIG, "frame too large"))
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(_))) => return Err((close::BAD_HELLO, "expected hello")),
        }
    }
}

async fn close_with(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        socket.send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }))),
    )
    .await;
    // Give the peer a moment to read the close frame.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(m)) = socket.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
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

async fn connection(state: AppState, session_id: String, mut socket: WebSocket) {
    let s = state.settings.clone();
    let hello = match read_hello(
        &mut socket,
        Duration::from_secs(s.hello_timeout_secs.into()),
        s.max_frame_bytes,
    )
    .await
    {
        Ok(h) => h,
        Err((code, reason)) => {
            crate::metrics::socket_attach("no_hello");
            return close_with(socket, code, reason).await;
        }
    };
    let (who, record) = match authenticate(&state, &session_id, &hello.token).await {
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
    let (out_tx, out_rx) = mpsc::channel(s.outbound_queue.max(8));
    let kill = CancellationToken::new();
    let member = who.id.clone();
    if let Err(JoinRefused { close_code, reason }) = handle
        .join(conn, who, resume, out_tx.clone(), kill.clone())
        .await
    {
        crate::metrics::socket_attach("refused");
        return close_with(socket, close_code, reason).await;
    }
    crate::metrics::socket_attach("attached");
    tracing::debug!(session = %session_id, member = %member, conn, "socket attached");
    let (sink, stream) = socket.split();
    let mut writer = tokio::spawn(writer(
        sink,
        out_rx,
        kill.clone(),
        Duration::from_secs(s.ping_interval_secs.max(1).into()),
        Duration::from_secs(s.write_timeout_secs.max(1).into()),
    ));
    reader(&state, &handle, conn, stream, &out_tx, &kill).await;
    // The one cleanup path: the actor forgets the socket, the writer sends
    // what is still queued (a close frame, say) for a moment, then stops.
    handle.leave(conn);
    drop(out_tx);
    if tokio::time::timeout(Duration::from_secs(2), &mut writer)
        .await
        .is_err()
    {
        kill.cancel();
        let _ = writer.await;
    }
    tracing::debug!(session = %session_id, member = %member, conn, "socket detached");
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Runs one write (or batch of writes) unless it takes longer than
/// `limit` or the socket is killed meanwhile: false when it did not finish.
async fn write_guarded<F>(
    write: F,
    limit: Duration,
    killed: std::pin::Pin<&mut tokio_util::sync::WaitForCancellationFuture<'_>>,
) -> bool
where
    F: std::future::Future<Output = Result<(), axum::Error>>,
{
    tokio::select! {
        done = tokio::time::timeout(limit, write) => matches!(done, Ok(Ok(()))),
        _ = killed => false,
    }
}

/// Writes one frame and whatever else is already queued, then flushes once
/// (under fan-out this saves a syscall per frame). Returns a close that was
/// queued behind the frames, if any.
async fn send_batch(
    sink: &mut Sink,
    first: Utf8Bytes,
    out: &mut mpsc::Receiver<Outbound>,
) -> Result<Option<(u16, &'static str)>, axum::Error> {
    sink.feed(Message::Text(first)).await?;
    let mut close = None;
    while let Ok(next) = out.try_recv() {
        match next {
            Outbound::Frame(b) => sink.feed(Message::Text(b)).await?,
            Outbound::Close(code, reason) => {
                close = Some((code, reason));
                break;
            }
        }
    }
    sink.flush().await?;
    Ok(close)
}

async fn writer(
    mut sink: Sink,
    mut out: mpsc::Receiver<Outbound>,
    kill: CancellationToken,
    ping_every: Duration,
    write_timeout: Duration,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    // Made once, not per wake: registering a fresh cancellation waiter on
    // every frame costs a lock under fan-out.
    let killed = kill.cancelled();
    tokio::pin!(killed);
    loop {
        tokio::select! {
            biased;
            _ = &mut killed => {
                // Dropped (too slow, stuck, shutting down): one short try at
                // a close frame, then the socket goes.
                let _ = tokio::time::timeout(Duration::from_millis(200), sink.send(Message::Close(Some(CloseFrame {
                    code: close::GOING_AWAY,
                    reason: Utf8Bytes::from_static("disconnected"),
                })))).await;
                break;
            }
            item = out.recv() => match item {
                Some(Outbound::Frame(bytes)) => {
                    crate::metrics::queue_depth(out.len() + 1);
                    let mut close = None;
                    let sent = write_guarded(
                        async { close = send_batch(&mut sink, bytes, &mut out).await?; Ok(()) },
                        write_timeout,
                        killed.as_mut(),
                    ).await;
                    if !sent {
                        break;
                    }
                    if let Some((code, reason)) = close {
                        close_politely(&mut sink, code, reason, &kill).await;
                        break;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    close_politely(&mut sink, code, reason, &kill).await;
                    break;
                }
                None => break,
            },
            _ = ping.tick() => {
                if !write_guarded(sink.send(Message::Ping(Default::default())), write_timeout, killed.as_mut()).await {
                    break;
                }
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_millis(200), sink.close()).await;
}

/// Sends a close frame, gives the reader a moment to see the peer's answer,
/// then stops the connection.
async fn close_politely(
    sink: &mut Sink,
    code: u16,
    reason: &'static str,
    kill: &CancellationToken,
) {
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        sink.send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }))),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    kill.cancel();
}

/// Sliding one-minute count of malformed frames.
struct Malformed {
    times: VecDeque<Instant>,
    limit: usize,
}

impl Malformed {
    fn hit(&mut self) -> bool {
        let now = Instant::now();
        while self
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            self.times.pop_front();
        }
        self.times.push_back(now);
        // The limit-th malformed frame in a minute closes the socket.
        self.times.len() >= self.limit
    }
}

fn bad_request(reference: Option<crate::protocol::Ref>, message: &str) -> Outbound {
    let frame = ServerFrame::Error {
        reference,
        code: ErrorCode::BadRequest,
        message: message.to_string(),
    };
    Outbound::Frame(Utf8Bytes::from(frame.to_json()))
}

async fn reader(
    state: &AppState,
    handle: &SessionHandle,
    conn: u64,
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    out: &mpsc::Sender<Outbound>,
    kill: &CancellationToken,
) {
    let s = &state.settings;
    let timeout = Duration::from_secs(s.ping_timeout_secs.max(1).into());
    let mut malformed = Malformed {
        times: VecDeque::new(),
        limit: s.malformed_per_minute as usize,
    };
    // The waiters and the silence timer live across frames (reset, not
    // re-made), so a busy socket does not pay for them on every frame.
    let killed = kill.cancelled();
    let stopping = state.shutdown.cancelled();
    let silence = tokio::time::sleep(timeout);
    tokio::pin!(killed, stopping, silence);
    // Closes the socket with `code` once the writer has sent what is queued.
    let closing = |code: u16, reason: &'static str| {
        if out.try_send(Outbound::Close(code, reason)).is_err() {
            kill.cancel();
        }
    };
    loop {
        let frame = tokio::select! {
            f = stream.next() => f,
            _ = &mut killed => return,
            _ = &mut stopping => return closing(close::GOING_AWAY, "server restarting"),
            _ = &mut silence => {
                tracing::debug!(conn, "no pong in time: dropping the socket");
                kill.cancel();
                return;
            }
        };
        silence.as_mut().reset(Instant::now() + timeout);
        let text = match frame {
            None => return,
            Some(Err(e)) => {
                // A broken or oversized frame ends the stream; say why when we can.
                if is_too_big(&e) {
                    closing(close::TOO_BIG, "frame too large");
                }
                return;
            }
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Binary(b))) => {
                if b.len() > s.max_frame_bytes {
                    return closing(close::TOO_BIG, "frame too large");
                }
                let _ = out.try_send(bad_request(None, "Frames must be JSON text."));
                if malformed.hit() {
                    return closing(close::POLICY, "too many malformed frames");
                }
                continue;
            }
            Some(Ok(Message::Close(_))) => return,
            Some(Ok(_)) => continue,
        };
        if text.len() > s.max_frame_bytes {
            return closing(close::TOO_BIG, "frame too large");
        }
        match parse_command(text.as_str()) {
            Ok((reference, command)) => {
                if !handle.command(conn, reference, command).await {
                    return closing(close::ENDED, "session ended");
                }
            }
            Err(bad) => {
                if out
                    .try_send(bad_request(bad.reference, &bad.message))
                    .is_err()
                {
                    kill.cancel();
                    return;
                }
                if malformed.hit() {
                    return closing(close::POLICY, "too many malformed frames");
                }
            }
        }
    }
}
