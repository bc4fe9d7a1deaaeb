//! The accept loop: HTTP/1.1 over hyper with the limits `axum::serve` lacks
//! (issue 10, item 6). A client that connects and never finishes its
//! request headers is closed after `http_header_timeout_secs`; a keep-alive
//! connection idle between requests is closed after
//! `http_idle_timeout_secs`; one client address holds at most
//! `http_connections_per_address` open HTTP connections (the next is
//! answered 503 and closed at once, costing no task).
//!
//! It keeps what `axum::serve` gave: `ConnectInfo<SocketAddr>` on every
//! request, TCP_NODELAY, WebSocket upgrades (a connection leaves the HTTP
//! limits once upgraded: sockets have their own), and graceful shutdown
//! (stop accepting, let requests in flight finish, at most
//! `shutdown_grace_secs`).
//!
//! It must not log request contents or addresses; connection ids and kinds only.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

/// The limits of the accept loop (from the settings).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From a request's first byte (or from connecting) to its last header byte.
    pub header_timeout: Duration,
    /// Between the end of a response and the next request's first byte.
    pub idle_timeout: Duration,
    /// Open HTTP connections per client address; 0: no limit.
    pub per_address: usize,
    /// How long shutdown waits for requests in flight.
    pub grace: Duration,
}

impl Limits {
    pub fn from_settings(s: &crate::settings::Settings) -> Self {
        Self {
            header_timeout: Duration::from_secs(s.http_header_timeout_secs.max(1).into()),
            idle_timeout: Duration::from_secs(s.http_idle_timeout_secs.max(1).into()),
            per_address: s.http_connections_per_address,
            grace: Duration::from_secs(s.shutdown_grace_secs.into()),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` fires, then waits (at most
/// `limits.grace`) for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let open = Arc::new(PerAddress::new(limits.per_address));
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of descriptors (EMFILE) and the like: back off a little
                // instead of spinning; connections in flight go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
                }
            }
        };
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let Some(slot) = open.try_take(peer.ip()) else {
            refuse_busy(&stream);
            continue;
        };
        // Small frames must not wait on Nagle and delayed ACKs.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        connections.spawn(connection(
            stream,
            peer,
            router.clone(),
            limits,
            shutdown.clone(),
            slot,
        ));
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(limits.grace, connections.wait())
        .await
        .is_err()
    {
        tracing::info!(
            open = connections.len(),
            "shutdown: HTTP requests still in flight after the grace period"
        );
    }
}

/// Answers a refused connection without a task or a wait: whatever fits in
/// the socket buffer now, then the socket is dropped (closed).
fn refuse_busy(stream: &TcpStream) {
    const BODY: &str = r#"{"error":{"code":"unavailable","message":"Too many connections from your address. Please try again in a moment."}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.try_write(response.as_bytes());
    tracing::debug!("connection refused: too many from one address");
}

/// One HTTP connection: hyper serves it while this task watches its clock.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
    _slot: Slot,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut router = router.clone();
        let busy = Busy::start(service_activity.clone());
        async move {
            let response = router.call(request).await;
            drop(busy);
            response
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(conn);
    let stopping = shutdown.cancelled();
    tokio::pin!(stopping);
    let mut closing = false;
    loop {
        let deadline = activity.deadline(&limits, closing);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "HTTP connection ended with an error");
                }
                break;
            }
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                match activity.verdict(&limits, Instant::now()) {
                    Verdict::HeadersTooSlow => {
                        tracing::debug!("HTTP request headers too slow: connection closed");
                        break;
                    }
                    Verdict::Idle => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    Verdict::Wait => {}
                }
            }
            _ = &mut stopping, if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
    // Upgraded (a WebSocket) or closed: stop the bookkeeping on reads.
    activity.done.store(true, Ordering::Release);
}

/// What a connection is doing, updated by its reads and its requests.
/// Times are milliseconds since `base` plus one (0 means "none").
struct Activity {
    base: Instant,
    /// When the first byte of a request not yet handed to the router came.
    head_started: AtomicU64,
    /// When the connection last became idle (no request in flight).
    idle_since: AtomicU64,
    /// Requests handed to the router and not yet answered.
    in_flight: AtomicU32,
    /// Set once hyper no longer serves the connection (upgraded or closed).
    done: AtomicBool,
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Wait,
    HeadersTooSlow,
    Idle,
}

impl Activity {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            // A new connection's first request counts from the connect.
            head_started: AtomicU64::new(1),
            idle_since: AtomicU64::new(1),
            in_flight: AtomicU32::new(0),
            done: AtomicBool::new(false),
        }
    }

    fn stamp(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_millis()).unwrap_or(u64::MAX - 1)
            + 1
    }

    fn instant(&self, stamp: u64) -> Instant {
        self.base + Duration::from_millis(stamp.saturating_sub(1))
    }

    /// Bytes arrived: while no request is in flight they start the next one.
    fn on_read(&self) {
        if self.done.load(Ordering::Acquire) || self.in_flight.load(Ordering::Acquire) > 0 {
            return;
        }
        if self.head_started.load(Ordering::Acquire) == 0 {
            let now = self.stamp(Instant::now());
            let _ = self
                .head_started
                .compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// When to look again: the header deadline while a request's headers
    /// are coming, the idle deadline between requests, a while later while
    /// requests are in flight; `None` once closing with nothing coming in.
    fn deadline(&self, limits: &Limits, closing: bool) -> Option<Instant> {
        let head = self.head_started.load(Ordering::Acquire);
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return (!closing).then(|| Instant::now() + limits.idle_timeout);
        }
        if head != 0 {
            return Some(self.instant(head) + limits.header_timeout);
        }
        if closing {
            return None;
        }
        Some(self.instant(self.idle_since.load(Ordering::Acquire)) + limits.idle_timeout)
    }

    fn verdict(&self, limits: &Limits, now: Instant) -> Verdict {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Verdict::Wait;
        }
        let head = self.head_started.load(Ordering::Acquire);
        if head != 0 {
            return if now >= self.instant(head) + limits.header_timeout {
                Verdict::HeadersTooSlow
            } else {
                Verdict::Wait
            };
        }
        let idle = self.instant(self.idle_since.load(Ordering::Acquire));
        if now >= idle + limits.idle_timeout {
            Verdict::Idle
        } else {
            Verdict::Wait
        }
    }
}

/// A request in the router: the connection is busy until it is dropped.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.head_started.store(0, Ordering::Release);
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.0.stamp(Instant::now());
        self.0.idle_since.store(now, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The TCP stream, telling [`Activity`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Open HTTP connections per client address.
struct PerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection of an address; dropping it gives the place back.
struct Slot {
    owner: Option<(Arc<PerAddress>, IpAddr)>,
}

impl PerAddress {
    fn new(max: usize) -> Self {
        Self {
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more connection from `ip`, unless it has `max` open.
    fn try_take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        if self.max == 0 {
            return Some(Slot { owner: None });
        }
        // A plain std mutex, held for one map operation and never across an await.
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot {
            owner: Some((self.clone(), ip)),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((owner, ip)) = self.owner.take() {
            let mut open = owner.open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = open.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_places_back() {
        let open = Arc::new(PerAddress::new(2));
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let first = open.try_take(a).expect("first");
        let _second = open.try_take(a).expect("second");
        assert!(open.try_take(a).is_none(), "the third is refused");
        assert!(
            open.try_take(b).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert!(
            open.try_take(a).is_some(),
            "a closed connection frees its place"
        );
        let unlimited = Arc::new(PerAddress::new(0));
        let all: Vec<Slot> = (0..100).filter_map(|_| unlimited.try_take(a)).collect();
        assert_eq!(all.len(), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn the_clock_of_a_connection() {
        let limits = Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            per_address: 0,
            grace: Duration::from_secs(1),
        };
        let start = Instant::now();
        let a = Activity::new();
        // Connected, nothing sent: the header clock runs from the connect.
        assert_eq!(
            a.verdict(&limits, start + Duration::from_secs(9)),
            Verdict::Wait
        );
        assert_eq!(
            a.verdict(&limits, start + Duration::from_secs(10)),
            Verdict::HeadersTooSlow
        );
        // A request in flight is never cut by these clocks.
        let busy = Busy::start(Arc::new(Activity::new()));
        assert_eq!(
            busy.0.verdict(&limits, start + Duration::from_secs(3600)),
            Verdict::Wait
        );
        // Answered: idle from now; bytes of a next request start its clock.
        let activity = busy.0.clone();
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(busy);
        let idle_from = Instant::now();
        assert_eq!(
            activity.verdict(&limits, idle_from + Duration::from_secs(59)),
            Verdict::Wait
        );
        assert_eq!(
            activity.verdict(&limits, idle_from + Duration::from_secs(60)),
            Verdict::Idle
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        activity.on_read();
        let head_from = Instant::now();
        assert_eq!(
            activity.verdict(&limits, head_from + Duration::from_secs(9)),
            Verdict::Wait
        );
        assert_eq!(
            activity.verdict(&limits, head_from + Duration::from_secs(10)),
            Verdict::HeadersTooSlow
        );
    }
}
