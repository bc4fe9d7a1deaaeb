//! A joined socket's life, in the one task of its connection: frames in
//! (parsed into commands for the session actor), frames out (the socket's
//! bounded queue, written in batches), pings, the silence timer, and the
//! closing handshake.
//!
//! One task instead of a reader and a writer: an idle socket then costs one
//! task, no split stream and no lock between two halves. Reads are raced
//! against the queue in one `select!` (reading is cancel-safe, see
//! [`super::framing`]); a write runs to its end (bounded by the write
//! timeout, abandoned when the socket is killed) before the next read.

use std::collections::VecDeque;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::framing::{self, encode, Incoming, ReadError, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use super::upgrade::Socket;
use crate::protocol::{close, parse_command, ErrorCode, ServerFrame};
use crate::session::{OutRx, OutTx, Outbound, SessionHandle};

/// A batch stops growing at this many bytes (then it is written and the
/// next one starts).
const BATCH_BYTES: usize = 64 * 1024;

/// What the loop needs besides the socket.
pub(crate) struct Ctx<'a> {
    pub handle: &'a SessionHandle,
    pub conn: u64,
    pub out_tx: &'a OutTx,
    pub kill: &'a CancellationToken,
    pub shutdown: &'a CancellationToken,
    pub limits: Limits,
}

/// A socket's limits (from the settings).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The malformed frames in a minute that close the socket (1008).
    pub malformed_per_minute: usize,
    pub ping_every: Duration,
    /// Silence (no frame, pongs included) after which the socket is dropped.
    pub ping_timeout: Duration,
    pub write_timeout: Duration,
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

/// How the loop ended.
pub(crate) enum End {
    /// Send this close (after what is queued), then wait briefly for the answer.
    Close(u16, &'static str),
    /// Dropped by the server (too slow, silent, replaced): one short try at
    /// a close frame (1001), then the socket goes.
    Dropped,
    /// The peer closed (answered already) or the connection is gone.
    Gone,
}

/// Runs one write unless it takes longer than `limit` or the socket is
/// killed meanwhile: false when it did not finish.
async fn guarded<F>(
    write: F,
    limit: Duration,
    killed: std::pin::Pin<&mut WaitForCancellationFuture<'_>>,
) -> bool
where
    F: std::future::Future<Output = std::io::Result<()>>,
{
    tokio::select! {
        done = tokio::time::timeout(limit, write) => matches!(done, Ok(Ok(()))),
        _ = killed => false,
    }
}

/// Writes `first` and whatever else is queued, in batches of up to
/// [`BATCH_BYTES`], one `write` each; the batch buffer is dropped at the
/// end. Returns a close that was queued behind the frames, if any.
async fn write_queued<S: AsyncWrite + Unpin>(
    io: &mut S,
    first: Utf8Bytes,
    out: &mut OutRx,
) -> std::io::Result<Option<(u16, &'static str)>> {
    let mut buf = Vec::with_capacity(framing::encoded_len(first.len()));
    encode(&mut buf, OP_TEXT, first.as_bytes());
    drop(first);
    loop {
        let mut close = None;
        let mut more = false;
        while buf.len() < BATCH_BYTES {
            match out.try_recv() {
                Some(Outbound::Frame(b)) => encode(&mut buf, OP_TEXT, b.as_bytes()),
                Some(Outbound::Close(code, reason)) => {
                    close = Some((code, reason));
                    break;
                }
                None => break,
            }
        }
        if buf.len() >= BATCH_BYTES {
            more = true;
        }
        io.write_all(&buf).await?;
        if close.is_some() || !more {
            io.flush().await?;
            return Ok(close);
        }
        buf.clear();
    }
}

/// Writes a frame taken from the queue and whatever else is queued behind
/// it; `Err` with how the socket ends when it must (a queued close, a write
/// that failed, timed out or was abandoned because the socket was killed).
async fn deliver<S: AsyncWrite + Unpin>(
    ctx: &Ctx<'_>,
    io: &mut S,
    item: Outbound,
    out: &mut OutRx,
    killed: std::pin::Pin<&mut WaitForCancellationFuture<'_>>,
) -> Result<(), End> {
    let first = match item {
        Outbound::Frame(first) => {
            // (Sampled inside: a wake per frame under fan-out.)
            crate::metrics::queue_depth(out.len() + 1);
            first
        }
        Outbound::Close(code, reason) => return Err(End::Close(code, reason)),
    };
    let mut queued_close = None;
    let written = guarded(
        async {
            queued_close = write_queued(io, first, out).await?;
            Ok(())
        },
        ctx.limits.write_timeout,
        killed,
    )
    .await;
    if !written {
        return Err(End::Gone);
    }
    match queued_close {
        Some((code, reason)) => Err(End::Close(code, reason)),
        None => Ok(()),
    }
}

/// Hands a command to the session actor. While the actor's inbox is full,
/// this socket's queue keeps being written: a busy room must not make its
/// own members look like slow readers. Called boxed: its future holds a
/// command and the inbox's waiter, which would otherwise make every idle
/// socket's task that much larger.
async fn forward<S: AsyncWrite + Unpin>(
    ctx: &Ctx<'_>,
    io: &mut S,
    out: &mut OutRx,
    mut killed: std::pin::Pin<&mut WaitForCancellationFuture<'_>>,
    reference: Option<crate::protocol::Ref>,
    command: crate::protocol::Command,
) -> Result<bool, End> {
    let send = ctx.handle.command(ctx.conn, reference, command);
    tokio::pin!(send);
    loop {
        tokio::select! {
            biased;
            sent = &mut send => return Ok(sent),
            _ = &mut killed => return Err(End::Dropped),
            item = out.recv() => deliver(ctx, io, item, out, killed.as_mut()).await?,
        }
    }
}

/// Sends the close frame, then waits (at most a second) for the peer's
/// answer, discarding whatever else arrives, so that unread bytes do not
/// turn our close into a reset.
pub(crate) async fn close_and_linger<S: AsyncRead + AsyncWrite + Unpin>(
    socket: &mut Socket<S>,
    code: u16,
    reason: &str,
    write_timeout: Duration,
) {
    let payload = framing::close_payload(code, reason);
    let sent = tokio::time::timeout(
        write_timeout,
        framing::write_frame(&mut socket.io, OP_CLOSE, &payload),
    )
    .await;
    if !matches!(sent, Ok(Ok(()))) {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match socket.reader.next(&mut socket.io).await {
                Ok(Incoming::Close(_)) | Err(ReadError::Eof | ReadError::Io(_)) => return,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        // A frame we refused is still arriving: drain raw bytes until the
        // end (into the heap: a buffer here would sit in every socket's
        // task, which is as large as its largest state).
        let mut sink = vec![0u8; 4096];
        while matches!(tokio::io::AsyncReadExt::read(&mut socket.io, &mut sink).await, Ok(n) if n > 0)
        {
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_millis(200), socket.io.shutdown()).await;
}

/// Runs the joined socket until it closes, is dropped, or the server stops.
pub(crate) async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    ctx: &Ctx<'_>,
    socket: &mut Socket<S>,
    out: &mut OutRx,
) -> End {
    let mut malformed = Malformed {
        times: VecDeque::new(),
        limit: ctx.limits.malformed_per_minute,
    };
    let mut ping = tokio::time::interval_at(
        Instant::now() + ctx.limits.ping_every,
        ctx.limits.ping_every,
    );
    // Made once, reset rather than re-made: a busy socket does not pay for
    // a fresh waiter or timer on every frame.
    let killed = ctx.kill.cancelled();
    let stopping = ctx.shutdown.cancelled();
    let silence = tokio::time::sleep(ctx.limits.ping_timeout);
    tokio::pin!(killed, stopping, silence);
    loop {
        tokio::select! {
            biased;
            _ = &mut killed => break End::Dropped,
            _ = &mut stopping => break End::Close(close::GOING_AWAY, "server restarting"),
            message = socket.reader.next(&mut socket.io) => {
                silence.as_mut().reset(Instant::now() + ctx.limits.ping_timeout);
                let text = match message {
                    Ok(Incoming::Text(t)) => t,
                    Ok(Incoming::Binary(_)) => {
                        if out_full(ctx.out_tx.try_send(bad_request(None, "Frames must be JSON text."))) {
                            ctx.kill.cancel();
                            continue;
                        }
                        if malformed.hit() {
                            break End::Close(close::POLICY, "too many malformed frames");
                        }
                        continue;
                    }
                    Ok(Incoming::Ping(payload)) => {
                        if !guarded(framing::write_frame(&mut socket.io, OP_PONG, &payload), ctx.limits.write_timeout, killed.as_mut()).await {
                            break End::Gone;
                        }
                        continue;
                    }
                    Ok(Incoming::Pong) => continue,
                    Ok(Incoming::Close(code)) => {
                        // Answer the close handshake, then go.
                        let payload = code.map(|c| framing::close_payload(c, "")).unwrap_or_default();
                        let _ = tokio::time::timeout(ctx.limits.write_timeout, framing::write_frame(&mut socket.io, OP_CLOSE, &payload)).await;
                        let _ = tokio::time::timeout(Duration::from_millis(200), socket.io.shutdown()).await;
                        break End::Gone;
                    }
                    Err(e) => match e.close_code() {
                        Some(close::TOO_BIG) => break End::Close(close::TOO_BIG, "frame too large"),
                        Some(code @ 1002) => break End::Close(code, "protocol error"),
                        Some(code) => break End::Close(code, "invalid text"),
                        None => break End::Gone,
                    },
                };
                match parse_command(&text) {
                    Ok((reference, command)) => {
                        drop(text);
                        // (Boxed: the send holds a whole command; see `forward`.)
                        let sent = Box::pin(forward(ctx, &mut socket.io, out, killed.as_mut(), reference, command)).await;
                        match sent {
                            Ok(true) => {}
                            Ok(false) => break End::Close(close::ENDED, "session ended"),
                            Err(end) => break end,
                        }
                    }
                    Err(bad) => {
                        if out_full(ctx.out_tx.try_send(bad_request(bad.reference, &bad.message))) {
                            ctx.kill.cancel();
                            continue;
                        }
                        if malformed.hit() {
                            break End::Close(close::POLICY, "too many malformed frames");
                        }
                    }
                }
            }
            item = out.recv() => {
                if let Err(end) = deliver(ctx, &mut socket.io, item, out, killed.as_mut()).await {
                    break end;
                }
            }
            _ = ping.tick() => {
                if !guarded(framing::write_frame(&mut socket.io, OP_PING, b""), ctx.limits.write_timeout, killed.as_mut()).await {
                    break End::Gone;
                }
            }
            _ = &mut silence => {
                tracing::debug!(conn = ctx.conn, "no pong in time: dropping the socket");
                break End::Dropped;
            }
        }
    }
}

/// Ends the socket as `end` says, after the actor has forgotten it: what is
/// already queued goes first (an answer, say), then the close frame.
pub(crate) async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
    end: End,
    socket: &mut Socket<S>,
    mut out: OutRx,
    write_timeout: Duration,
) {
    match end {
        End::Gone => {}
        End::Dropped => {
            let payload = framing::close_payload(close::GOING_AWAY, "disconnected");
            let _ = tokio::time::timeout(
                Duration::from_millis(200),
                framing::write_frame(&mut socket.io, OP_CLOSE, &payload),
            )
            .await;
        }
        End::Close(code, reason) => {
            if let Some(Outbound::Frame(first)) = out.try_recv() {
                let written = tokio::time::timeout(
                    write_timeout,
                    write_queued(&mut socket.io, first, &mut out),
                )
                .await;
                if !matches!(written, Ok(Ok(_))) {
                    return;
                }
            }
            close_and_linger(socket, code, reason, write_timeout).await;
        }
    }
}

fn out_full(sent: Result<(), crate::session::outq::SendError>) -> bool {
    sent.is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An idle socket's task is as large as its loop's largest state: the
    /// budget of an idle socket (BENCHMARKS.md, W4) cannot afford a loop
    /// that holds kilobytes.
    #[tokio::test]
    async fn the_loop_of_an_idle_socket_is_small() {
        let (tx, _inbox) = tokio::sync::mpsc::channel(1);
        let handle = SessionHandle {
            tx,
            instance: 0,
            group_id: "g".into(),
            lease: None,
        };
        let (out_tx, mut out) = crate::session::outq::channel(8);
        let (kill, shutdown) = (CancellationToken::new(), CancellationToken::new());
        let ctx = Ctx {
            handle: &handle,
            conn: 1,
            out_tx: &out_tx,
            kill: &kill,
            shutdown: &shutdown,
            limits: Limits {
                malformed_per_minute: 20,
                ping_every: Duration::from_secs(15),
                ping_timeout: Duration::from_secs(30),
                write_timeout: Duration::from_secs(10),
            },
        };
        let (io, _peer) = tokio::io::duplex(64);
        let mut socket = Socket::new(io, 16 * 1024);
        let killed = kill.cancelled();
        tokio::pin!(killed);
        let sizes = [
            ("sleep", std::mem::size_of::<tokio::time::Sleep>()),
            ("cancelled", std::mem::size_of_val(&shutdown.cancelled())),
            (
                "deliver",
                std::mem::size_of_val(&deliver(
                    &ctx,
                    &mut tokio::io::sink(),
                    Outbound::Close(1000, ""),
                    &mut crate::session::outq::channel(1).1,
                    killed.as_mut(),
                )),
            ),
        ];
        let size = std::mem::size_of_val(&run(&ctx, &mut socket, &mut out));
        eprintln!("run: {size} bytes; {sizes:?}");
        // (Debug builds lay futures out larger than release ones: 1,288 bytes
        // here when written, against 2,048 for the whole task in release.)
        assert!(size <= 1536, "run: {size} bytes; {sizes:?}");
    }
}
