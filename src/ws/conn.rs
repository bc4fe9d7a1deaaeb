//! A joined socket's life, in the one task of its connection: frames in
//! (parsed into commands for the session actor), frames out (the socket's
//! bounded queue, written in batches), pings, the silence timer, and the
//! closing handshake.
//!
//! One task instead of a reader and a writer: an idle socket then costs one
//! task, no split stream and no lock between two halves. One poll looks at
//! the kill, the shutdown, the peer, the queue and the socket's one timer
//! (reading is cancel-safe, see [`super::framing`]); a write runs to its end
//! (bounded by the write timeout, abandoned when the socket is killed)
//! before the next read. The kill is a flag on the socket's queue
//! ([`crate::session::outq::Kill`]).

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

use super::framing::{self, encode, Incoming, ReadError, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use super::upgrade::Socket;
use crate::protocol::{close, parse_command, ErrorCode, ServerFrame};
use crate::session::outq::Wake;
use crate::session::{OutRx, OutTx, Outbound, SessionHandle};

/// A batch stops growing at this many bytes (then it is written and the
/// next one starts).
const BATCH_BYTES: usize = 64 * 1024;

/// What the loop needs besides the socket.
pub(crate) struct Ctx<'a> {
    pub handle: &'a SessionHandle,
    pub conn: u64,
    pub out_tx: &'a OutTx,
    pub shutdown: &'a CancellationToken,
    pub limits: &'a Limits,
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

/// Sliding one-minute count of malformed frames (made on the first one:
/// most sockets never send one).
// (Boxed on purpose: one word in every socket's task instead of four.)
#[allow(clippy::box_collection)]
#[derive(Default)]
struct Malformed(Option<Box<VecDeque<Instant>>>);

impl Malformed {
    /// Counts one; true when it is the `limit`-th in a minute (the socket
    /// then closes).
    fn hit(&mut self, limit: usize) -> bool {
        let now = Instant::now();
        let times = self.0.get_or_insert_with(Box::default);
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            times.pop_front();
        }
        times.push_back(now);
        times.len() >= limit
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

/// The socket's one timer (pings, the silence, a write's deadline).
type Timer<'a> = Pin<&'a mut Sleep>;

/// A write in progress, polled by hand rather than as an `async` write:
/// its state is these few words, not nested futures that each keep their
/// arguments (a task is as large as its largest state).
///
/// Frames taken from the queue are encoded into `buf` (a batch stops
/// growing at [`BATCH_BYTES`]), written with as few `write`s as the socket
/// takes, and the next batch is taken until the queue is empty or a close
/// is found; then the socket is flushed. The buffer goes with the `Batch`.
#[derive(Default)]
struct Batch {
    buf: Vec<u8>,
    /// Bytes of `buf` written.
    done: usize,
    /// Nothing more to take from the queue: flush once `buf` is written.
    last: bool,
    /// The close queued behind the frames.
    close: Option<(u16, &'static str)>,
}

impl Batch {
    /// One control frame (a ping, a pong, a close), written alone.
    fn frame(opcode: u8, payload: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(framing::encoded_len(payload.len()));
        encode(&mut buf, opcode, payload);
        Batch {
            buf,
            last: true,
            ..Batch::default()
        }
    }

    /// Writes until done; `Ok` with the close found behind the frames.
    fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        out: &OutRx,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<Option<(u16, &'static str)>>> {
        loop {
            while self.done < self.buf.len() {
                let n = ready!(Pin::new(&mut *io).poll_write(cx, &self.buf[self.done..]))?;
                if n == 0 {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                self.done += n;
            }
            if self.last {
                ready!(Pin::new(&mut *io).poll_flush(cx))?;
                return Poll::Ready(Ok(self.close.take()));
            }
            self.buf = Vec::new();
            self.done = 0;
            SCRATCH.with(|scratch| self.next(&mut scratch.borrow_mut(), io, out, cx))?;
        }
    }

    /// Takes the next batch from the queue into this thread's scratch
    /// buffer and writes it from there at once; only what the socket does
    /// not take now is copied into `buf`, to be written as it drains. Under
    /// fan-out almost every batch goes in one `write`, so a wake allocates
    /// nothing (a `Vec` per batch was 4 % of the server's CPU in W2).
    fn next<S: AsyncWrite + Unpin>(
        &mut self,
        scratch: &mut Vec<u8>,
        io: &mut S,
        out: &OutRx,
        cx: &mut Context<'_>,
    ) -> std::io::Result<()> {
        scratch.clear();
        while scratch.len() < BATCH_BYTES {
            match out.try_recv() {
                Some(Outbound::Frame(b)) => encode(scratch, OP_TEXT, b.as_bytes()),
                Some(Outbound::Close(code, reason)) => {
                    self.close = Some((code, reason));
                    break;
                }
                None => break,
            }
        }
        self.last = self.close.is_some() || scratch.len() < BATCH_BYTES;
        let mut done = 0;
        while done < scratch.len() {
            match Pin::new(&mut *io).poll_write(cx, &scratch[done..]) {
                Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => done += n,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => break,
            }
        }
        if done < scratch.len() {
            self.buf.extend_from_slice(&scratch[done..]);
        }
        if scratch.capacity() > SCRATCH_KEEP {
            *scratch = Vec::new();
        }
        Ok(())
    }
}

/// The largest scratch buffer a thread keeps between batches (a batch and
/// one more frame, with room to spare).
const SCRATCH_KEEP: usize = 2 * BATCH_BYTES;

thread_local! {
    /// Each runtime thread's buffer for encoding a batch (see [`Batch::next`]).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Polls `write` to its end, unless the socket is killed or `limit` passes
/// first: `None` when it did not finish. The socket's timer is set to the
/// write's deadline only when the write has to wait (the loop sets it back
/// after); most writes finish at once. (A plain function returning the
/// poll: its state is `write` and these arguments, nothing nested.)
fn guarded<'a, T: 'a>(
    mut write: impl FnMut(&mut Context<'_>) -> Poll<std::io::Result<T>> + 'a,
    limit: Duration,
    out: &'a OutRx,
    mut timer: Timer<'a>,
) -> impl Future<Output = Option<T>> + 'a {
    let mut armed = false;
    poll_fn(move |cx| {
        if let Poll::Ready(done) = write(cx) {
            return Poll::Ready(done.ok());
        }
        if out.poll_killed(cx).is_ready() {
            return Poll::Ready(None);
        }
        if !armed {
            timer.as_mut().reset(Instant::now() + limit);
            armed = true;
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
}

/// Writes `batch` (a control frame, or what is queued), see [`guarded`]:
/// `None` when it did not finish, else the close found behind the frames.
fn write<'a, S: AsyncWrite + Unpin>(
    io: &'a mut S,
    mut batch: Batch,
    limit: Duration,
    out: &'a OutRx,
    timer: Timer<'a>,
) -> impl Future<Output = Option<Option<(u16, &'static str)>>> + 'a {
    guarded(move |cx| batch.poll_write(io, out, cx), limit, out, timer)
}

/// Writes the frames waiting in the queue; `Err` with how the socket ends
/// when it must (a queued close, a write that failed, timed out or was
/// abandoned because the socket was killed).
async fn deliver<S: AsyncWrite + Unpin>(
    io: &mut S,
    limit: Duration,
    out: &OutRx,
    timer: Timer<'_>,
) -> Result<(), End> {
    // (Sampled here: a wake per batch under fan-out.)
    crate::metrics::queue_depth(out.len());
    ended(write(io, Batch::default(), limit, out, timer).await)
}

/// How a write of the queue ends the socket, if it does.
fn ended(written: Option<Option<(u16, &'static str)>>) -> Result<(), End> {
    match written {
        Some(None) => Ok(()),
        Some(Some((code, reason))) => Err(End::Close(code, reason)),
        None => Err(End::Gone),
    }
}

/// Handles one frame from the peer (other than a pong): a command goes to
/// the session actor, a ping is answered, a close is answered and ends the
/// socket. Called boxed: its future holds a command, the actor inbox's
/// waiter and a write, which would otherwise make every idle socket's task
/// that much larger (a task is as large as its largest state).
async fn on_frame<S: AsyncRead + AsyncWrite + Unpin>(
    ctx: &Ctx<'_>,
    socket: &mut Socket<S>,
    out: &OutRx,
    mut timer: Timer<'_>,
    malformed: &mut Malformed,
    message: Result<Incoming, ReadError>,
) -> Result<(), End> {
    let limits = ctx.limits;
    let refuse = |malformed: &mut Malformed, reference, message: &str| {
        if ctx
            .out_tx
            .try_send(bad_request(reference, message))
            .is_err()
        {
            // Our own queue is full: the reader is too slow.
            return Err(End::Dropped);
        }
        if malformed.hit(limits.malformed_per_minute) {
            return Err(End::Close(close::POLICY, "too many malformed frames"));
        }
        Ok(())
    };
    let text = match message {
        Ok(Incoming::Text(t)) => t,
        Ok(Incoming::Binary(_)) => return refuse(malformed, None, "Frames must be JSON text."),
        Ok(Incoming::Ping(payload)) => {
            let pong = Batch::frame(OP_PONG, &payload);
            return match write(&mut socket.io, pong, limits.write_timeout, out, timer).await {
                Some(_) => Ok(()),
                None => Err(End::Gone),
            };
        }
        Ok(Incoming::Pong) => return Ok(()),
        Ok(Incoming::Close(code)) => {
            // Answer the close handshake, then go.
            let payload = code
                .map(|c| framing::close_payload(c, ""))
                .unwrap_or_default();
            let answer = Batch::frame(OP_CLOSE, &payload);
            let io = &mut socket.io;
            let _ = write(io, answer, limits.write_timeout, out, timer.as_mut()).await;
            let shutdown = |cx: &mut Context<'_>| Pin::new(&mut socket.io).poll_shutdown(cx);
            let _ = guarded(shutdown, Duration::from_millis(200), out, timer).await;
            return Err(End::Gone);
        }
        Err(e) => {
            return Err(match e.close_code() {
                Some(close::TOO_BIG) => End::Close(close::TOO_BIG, "frame too large"),
                Some(code @ 1002) => End::Close(code, "protocol error"),
                Some(code) => End::Close(code, "invalid text"),
                None => End::Gone,
            })
        }
    };
    let (reference, command) = match parse_command(&text) {
        Ok(parsed) => parsed,
        Err(bad) => return refuse(malformed, bad.reference, &bad.message),
    };
    drop(text);
    // While the actor's inbox is full, this socket's queue keeps being
    // written: a busy room must not make its own members look like slow
    // readers.
    let mut send = pin!(ctx.handle.command(ctx.conn, reference, command));
    loop {
        let woken = poll_fn(|cx| match send.as_mut().poll(cx) {
            Poll::Ready(sent) => Poll::Ready(Ok(sent)),
            Poll::Pending => out.poll_wake(cx).map(Err),
        })
        .await;
        match woken {
            Ok(true) => return Ok(()),
            Ok(false) => return Err(End::Close(close::ENDED, "session ended")),
            Err(Wake::Killed) => return Err(End::Dropped),
            Err(Wake::Frames) => {
                deliver(&mut socket.io, limits.write_timeout, out, timer.as_mut()).await?
            }
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

/// What woke the socket's loop.
enum Woken {
    Killed,
    Stopping,
    Read(Result<Incoming, ReadError>),
    Frames,
    Timer,
}

/// Runs the joined socket until it closes, is dropped, or the server stops.
///
/// One poll of everything (the kill, the shutdown, the peer, the queue, the
/// timer, in that order) and one timer per socket, set to the next ping or
/// the end of the silence, whichever comes first: a task is as large as its
/// largest state, and an idle socket's is this loop's (BENCHMARKS.md).
pub(crate) async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    ctx: &Ctx<'_>,
    socket: &mut Socket<S>,
    out: &mut OutRx,
) -> End {
    let limits = ctx.limits;
    let mut malformed = Malformed::default();
    let start = Instant::now();
    let mut next_ping = start + limits.ping_every;
    // Moved on by every frame from the peer (the timer is not: it finds
    // out when it fires, which saves a timer reset per frame).
    let mut silent_at = start + limits.ping_timeout;
    let mut timer_at = next_ping.min(silent_at);
    let stopping = ctx.shutdown.cancelled();
    let timer = tokio::time::sleep_until(timer_at);
    tokio::pin!(stopping, timer);
    loop {
        if timer.deadline() != timer_at {
            // (A write that had to wait took it for its deadline.)
            timer.as_mut().reset(timer_at);
        }
        let woken = poll_fn(|cx| {
            let queue = out.poll_wake(cx);
            if queue == Poll::Ready(Wake::Killed) {
                return Poll::Ready(Woken::Killed);
            }
            if stopping.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Woken::Stopping);
            }
            if let Poll::Ready(message) = socket.reader.poll_next(&mut socket.io, cx) {
                return Poll::Ready(Woken::Read(message));
            }
            if queue.is_ready() {
                return Poll::Ready(Woken::Frames);
            }
            timer.as_mut().poll(cx).map(|()| Woken::Timer)
        })
        .await;
        match woken {
            Woken::Killed => break End::Dropped,
            Woken::Stopping => break End::Close(close::GOING_AWAY, "server restarting"),
            Woken::Frames => {
                // Let the other sockets woken by the same event run first:
                // under fan-out the actor meanwhile queues the next events,
                // and they go out in this socket's one `write` instead of a
                // `write` each (a loopback `write` is most of a delivery's
                // cost, W2). When the server is idle this costs one turn of
                // the scheduler.
                tokio::task::yield_now().await;
                crate::metrics::queue_depth(out.len());
                let io = &mut socket.io;
                let written = write(
                    io,
                    Batch::default(),
                    limits.write_timeout,
                    out,
                    timer.as_mut(),
                );
                if let Err(end) = ended(written.await) {
                    break end;
                }
            }
            Woken::Timer => {
                let now = Instant::now();
                if now >= silent_at {
                    tracing::debug!(session = %ctx.handle.session_id, conn = ctx.conn, "no pong in time: dropping the socket");
                    break End::Dropped;
                }
                if now >= next_ping {
                    let ping = Batch::frame(OP_PING, b"");
                    let io = &mut socket.io;
                    let written = write(io, ping, limits.write_timeout, out, timer.as_mut());
                    if written.await.is_none() {
                        break End::Gone;
                    }
                    next_ping += limits.ping_every;
                    if next_ping <= now {
                        next_ping = now + limits.ping_every;
                    }
                }
                timer_at = next_ping.min(silent_at);
            }
            Woken::Read(message) => {
                silent_at = Instant::now() + limits.ping_timeout;
                if matches!(message, Ok(Incoming::Pong)) {
                    continue;
                }
                // (Boxed: see `on_frame`.)
                let handled = on_frame(ctx, socket, out, timer.as_mut(), &mut malformed, message);
                if let Err(end) = Box::pin(handled).await {
                    break end;
                }
            }
        }
    }
}

/// Ends the socket as `end` says, after the actor has forgotten it: what is
/// already queued goes first (an answer, say), then the close frame.
pub(crate) async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
    end: End,
    socket: &mut Socket<S>,
    out: &OutRx,
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
            if !out.is_empty() {
                let mut batch = Batch::default();
                let write = poll_fn(|cx| batch.poll_write(&mut socket.io, out, cx));
                let written = tokio::time::timeout(write_timeout, write).await;
                if !matches!(written, Ok(Ok(_))) {
                    return;
                }
            }
            close_and_linger(socket, code, reason, write_timeout).await;
        }
    }
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
            session_id: "s".into(),
            lease: None,
        };
        let (out_tx, mut out) = crate::session::outq::channel(8);
        let shutdown = CancellationToken::new();
        let ctx = Ctx {
            handle: &handle,
            conn: 1,
            out_tx: &out_tx,
            shutdown: &shutdown,
            limits: &Limits {
                malformed_per_minute: 20,
                ping_every: Duration::from_secs(15),
                ping_timeout: Duration::from_secs(30),
                write_timeout: Duration::from_secs(10),
            },
        };
        let (io, _peer) = tokio::io::duplex(64);
        let mut socket = Socket::new(io, 16 * 1024);
        let timer = pin!(tokio::time::sleep(Duration::ZERO));
        let sizes = [
            ("sleep", std::mem::size_of::<Sleep>()),
            ("cancelled", std::mem::size_of_val(&shutdown.cancelled())),
            (
                "write",
                std::mem::size_of_val(&write(
                    &mut tokio::io::sink(),
                    Batch::default(),
                    Duration::ZERO,
                    &out,
                    timer,
                )),
            ),
        ];
        let size = std::mem::size_of_val(&run(&ctx, &mut socket, &mut out));
        // (Release build: 488 bytes here, the whole task 1,152 (dhat); with a
        // ping interval, a silence timer, a kill waiter and a timeout per
        // write it was 1,288 in a debug build and the task 2,048. Debug
        // builds lay futures out larger.)
        assert!(size <= 512, "run: {size} bytes; {sizes:?}");
    }
}
