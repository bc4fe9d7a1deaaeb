//! The WebSocket endpoint `GET /ws?session=…` and one task per connection.
//!
//! The upgrade checks the session id in the URL (400 without it), the
//! `Origin` (403 when not allowed) and the connection limit (503). The task
//! then waits for `hello` (10 s, close 4001), authenticates the token against
//! the store, attaches to the session actor and splits the socket: a writer
//! drains the socket's bounded queue and sends pings; the reader parses
//! frames into commands, enforces the frame size (1009) and the malformed-frame
//! limit (1008), and drops a socket that stays silent past the ping timeout.
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
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::app_state::AppState;
use crate::auth::token_hash;
use crate::session::actor::{
    JoinRefused, CLOSE_BAD_HELLO, CLOSE_ENDED, CLOSE_GOING_AWAY, CLOSE_REMOVED,
};
use crate::session::state::{Command, Role};
use crate::session::{Member, Outbound, SessionHandle};
use crate::store::Phase;

/// Close codes for limits (RFC 6455).
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;

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

/// `GET /ws?session=…`: checks, then upgrades.
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
    ws.max_message_size(ceiling)
        .max_frame_size(ceiling)
        .read_buffer_size(s.ws_buffer_bytes)
        .write_buffer_size(s.ws_buffer_bytes)
        .max_write_buffer_size(s.ws_buffer_bytes.max(64 * 1024) * 16)
        .on_upgrade(move |socket| async move {
            connection(state, session_id, socket).await;
            counter.fetch_sub(1, Ordering::AcqRel);
        })
}

#[derive(Deserialize)]
struct Hello {
    #[serde(rename = "type")]
    kind: String,
    token: String,
    epoch: Option<String>,
    last_seq: Option<u64>,
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
            Err(_) => return Err((CLOSE_BAD_HELLO, "no hello in time")),
            Ok(None) | Ok(Some(Err(_))) => return Err((CLOSE_BAD_HELLO, "closed")),
            Ok(Some(Ok(Message::Text(text)))) => {
                if text.len() > max {
                    return Err((CLOSE_TOO_BIG, "frame too large"));
                }
                return match serde_json::from_str::<Hello>(text.as_str()) {
                    Ok(h) if h.kind == "hello" => Ok(h),
                    _ => Err((CLOSE_BAD_HELLO, "expected hello")),
                };
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(_))) => return Err((CLOSE_BAD_HELLO, "expected hello")),
        }
    }
}

async fn close_with(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
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
) -> Result<(Member, crate::store::SessionRecord), (u16, &'static str)> {
    let store = &state.store;
    let internal = (CLOSE_GOING_AWAY, "try again");
    let record = match store.session(session_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err((CLOSE_BAD_HELLO, "no such session")),
        Err(e) => {
            tracing::error!(error = %e, "store error in handshake");
            return Err(internal);
        }
    };
    let hash = token_hash(token);
    let member = match store.participant_by_token(&hash).await {
        Ok(Some(p)) => {
            if p.session_id != session_id {
                return Err((CLOSE_BAD_HELLO, "token is for another session"));
            }
            if p.removed {
                return Err((CLOSE_REMOVED, "removed"));
            }
            crate::api::participants::note_arrival(state, &p).await;
            Member {
                id: p.id,
                name: p.name,
                role: Role::Participant,
            }
        }
        Ok(None) => {
            let now = state.now_ms();
            match store.facilitator_by_token(&hash, now).await {
                Ok(Some(f)) => match store.is_group_facilitator(&record.group_id, &f.id).await {
                    Ok(true) => Member {
                        id: f.id,
                        name: f.name,
                        role: Role::Facilitator,
                    },
                    Ok(false) => return Err((CLOSE_BAD_HELLO, "not a facilitator of this group")),
                    Err(_) => return Err(internal),
                },
                Ok(None) => return Err((CLOSE_BAD_HELLO, "unknown token")),
                Err(_) => return Err(internal),
            }
        }
        Err(_) => return Err(internal),
    };
    let lobby_ms = i64::from(state.settings.lobby_minutes) * 60_000;
    if record.phase(state.now_ms(), lobby_ms) == Phase::Ended {
        return Err((CLOSE_ENDED, "session ended"));
    }
    Ok((member, record))
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
        Err((code, reason)) => return close_with(socket, code, reason).await,
    };
    let (member, record) = match authenticate(&state, &session_id, &hello.token).await {
        Ok(v) => v,
        Err((code, reason)) => return close_with(socket, code, reason).await,
    };
    let resume = match (hello.epoch, hello.last_seq) {
        (Some(e), Some(seq)) => Some((e, seq)),
        _ => None,
    };
    let handle = state.sessions.get_or_start(&record);
    let conn = state.sessions.next_conn_id();
    let (out_tx, out_rx) = mpsc::channel(s.outbound_queue.max(8));
    let kill = CancellationToken::new();
    let member_id = member.id.clone();
    if let Err(JoinRefused { close_code, reason }) = handle
        .join(conn, member, resume, out_tx.clone(), kill.clone())
        .await
    {
        return close_with(socket, close_code, reason).await;
    }
    tracing::debug!(session = %session_id, member = %member_id, conn, "socket attached");
    let (sink, stream) = socket.split();
    let writer = tokio::spawn(writer(
        sink,
        out_rx,
        kill.clone(),
        Duration::from_secs(s.ping_interval_secs.max(1).into()),
    ));
    reader(&state, &handle, conn, stream, &out_tx, &kill).await;
    // The one cleanup path.
    kill.cancel();
    handle.leave(conn);
    drop(out_tx);
    let _ = writer.await;
    tracing::debug!(session = %session_id, member = %member_id, conn, "socket detached");
}

async fn writer(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Outbound>,
    kill: CancellationToken,
    ping_every: Duration,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    // Made once, not per wake: registering a fresh cancellation waiter on
    // every frame costs a lock under fan-out.
    let killed = kill.cancelled();
    tokio::pin!(killed);
    loop {
        tokio::select! {
            biased;
            item = out.recv() => match item {
                Some(Outbound::Frame(bytes)) => {
                    // Batch whatever else is already queued into one flush:
                    // under fan-out this saves a syscall per frame.
                    if sink.feed(Message::Text(bytes)).await.is_err() {
                        break;
                    }
                    let mut close = None;
                    while let Ok(next) = out.try_recv() {
                        match next {
                            Outbound::Frame(b) => {
                                if sink.feed(Message::Text(b)).await.is_err() {
                                    break;
                                }
                            }
                            Outbound::Close(code, reason) => {
                                close = Some((code, reason));
                                break;
                            }
                        }
                    }
                    if sink.flush().await.is_err() {
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
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            _ = &mut killed => {
                // Killed from elsewhere (slow reader, shutdown): close politely if we can.
                let _ = tokio::time::timeout(Duration::from_millis(500), sink.send(Message::Close(Some(CloseFrame {
                    code: CLOSE_GOING_AWAY,
                    reason: Utf8Bytes::from_static("disconnected"),
                })))).await;
                break;
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_millis(500), sink.close()).await;
}

/// Sends a close frame, gives the reader a moment to see the peer's answer,
/// then stops the connection.
async fn close_politely(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    code: u16,
    reason: &'static str,
    kill: &CancellationToken,
) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
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

fn valid_ref(value: Option<&Value>) -> Result<Option<String>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if (1..=64).contains(&s.chars().count()) => Ok(Some(s.clone())),
        _ => Err(()),
    }
}

fn error_frame(reference: Option<&str>, code: &str, message: &str) -> Outbound {
    let v = match reference {
        Some(r) => json!({"type": "error", "ref": r, "code": code, "message": message}),
        None => json!({"type": "error", "code": code, "message": message}),
    };
    Outbound::Frame(Utf8Bytes::from(v.to_string()))
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
    loop {
        let frame = tokio::select! {
            f = stream.next() => f,
            _ = &mut killed => return,
            _ = &mut stopping => {
                let _ = out.try_send(Outbound::Close(CLOSE_GOING_AWAY, "server restarting"));
                return;
            }
            _ = &mut silence => {
                tracing::debug!(conn, "no pong in time: dropping the socket");
                return;
            }
        };
        silence.as_mut().reset(Instant::now() + timeout);
        let text = match frame {
            None | Some(Err(_)) => {
                // A broken or oversized frame ends the stream; say why when we can.
                if let Some(Err(e)) = &frame {
                    // tungstenite's capacity error ("Space limit exceeded:
                    // Message too long …") reaches us only as text.
                    let text = e.to_string().to_ascii_lowercase();
                    if text.contains("too long") || text.contains("limit") || text.contains("size")
                    {
                        let _ = out.try_send(Outbound::Close(CLOSE_TOO_BIG, "frame too large"));
                        kill.cancelled().await;
                    }
                }
                return;
            }
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Binary(b))) => {
                if b.len() > s.max_frame_bytes {
                    let _ = out.try_send(Outbound::Close(CLOSE_TOO_BIG, "frame too large"));
                    kill.cancelled().await;
                    return;
                }
                let _ = out.try_send(error_frame(
                    None,
                    "bad_request",
                    "Frames must be JSON text.",
                ));
                if malformed.hit() {
                    let _ =
                        out.try_send(Outbound::Close(CLOSE_POLICY, "too many malformed frames"));
                    kill.cancelled().await;
                    return;
                }
                continue;
            }
            Some(Ok(Message::Close(_))) => return,
            Some(Ok(_)) => continue,
        };
        if text.len() > s.max_frame_bytes {
            let _ = out.try_send(Outbound::Close(CLOSE_TOO_BIG, "frame too large"));
            kill.cancelled().await;
            return;
        }
        match parse_command(text.as_str()) {
            Ok((reference, command)) => {
                if !handle.command(conn, reference, command).await {
                    let _ = out.try_send(Outbound::Close(CLOSE_ENDED, "session ended"));
                    return;
                }
            }
            Err((reference, message)) => {
                if out
                    .try_send(error_frame(reference.as_deref(), "bad_request", &message))
                    .is_err()
                {
                    return;
                }
                if malformed.hit() {
                    let _ =
                        out.try_send(Outbound::Close(CLOSE_POLICY, "too many malformed frames"));
                    kill.cancelled().await;
                    return;
                }
            }
        }
    }
}

/// Parses one frame into `(ref, command)`, or `(ref if readable, message)`.
pub(crate) fn parse_command(
    text: &str,
) -> Result<(Option<String>, Command), (Option<String>, String)> {
    let value: Value = serde_json::from_str(text).map_err(|_| {
        (
            None,
            "That message could not be read (it is not valid JSON).".to_string(),
        )
    })?;
    let Value::Object(map) = &value else {
        return Err((None, "Each frame must be a JSON object.".into()));
    };
    let reference = valid_ref(map.get("ref")).map_err(|_| {
        (
            None,
            "`ref` must be a string of 1 to 64 characters.".to_string(),
        )
    })?;
    let kind = match map.get("type") {
        Some(Value::String(k)) => k.clone(),
        _ => return Err((reference, "Every command needs a `type`.".into())),
    };
    if kind == "hello" {
        return Err((reference, "You are already connected.".into()));
    }
    match serde_json::from_value::<Command>(value) {
        Ok(c) => Ok((reference, c)),
        Err(e) => {
            let detail = e.to_string();
            let message = if detail.starts_with("unknown variant") {
                format!("`{kind}` is not a command this server knows.")
            } else {
                // serde's message names fields and types, never values.
                format!(
                    "`{kind}`: {}",
                    detail.split(" at line").next().unwrap_or("invalid fields")
                )
            };
            Err((reference, message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_frames_get_readable_errors_with_their_ref() {
        assert!(parse_command("not json").is_err());
        assert!(parse_command("[1,2]").is_err());
        let (r, m) = parse_command(r#"{"type":"no_such","ref":"a1"}"#).expect_err("unknown");
        assert_eq!(r.as_deref(), Some("a1"));
        assert!(m.contains("no_such"));
        let (r, _) = parse_command(r#"{"ref":"a2"}"#).expect_err("no type");
        assert_eq!(r.as_deref(), Some("a2"));
        let long = "x".repeat(65);
        assert!(parse_command(&format!(r#"{{"type":"start","ref":"{long}"}}"#)).is_err());
    }

    #[test]
    fn a_valid_command_parses_with_its_ref() {
        let (r, c) = parse_command(r#"{"type":"start","ref":"r-1"}"#).expect("parses");
        assert_eq!(r.as_deref(), Some("r-1"));
        assert_eq!(c.kind(), "start");
    }
}
