//! Prometheus metrics (issue 12): what an operator watches, in the
//! OpenMetrics text format at `/metrics`, from `prometheus-client`.
//!
//! The figures live in one process-wide [`Metrics`] (like a global
//! recorder): the session actors, the socket tasks and the store call the
//! one-line functions below (`crate::metrics::command(kind)`…) and never see
//! the registry. Figures that are a state of this server rather than a count
//! (open sockets, live sessions, leases held, the hashing queue) are read
//! from the [`AppState`] when scraped.
//!
//! **Labels never carry names, ids of people or text**: only fixed words
//! from the code (a command's kind, an error code, a store operation's name,
//! an outcome). That is checked by `labels_are_fixed_words` below.
//!
//! `/metrics` is not public: it answers only with the bearer token of the
//! `metrics_token` setting, or on the separate `metrics_listen` address
//! (meant for a private network); with neither set it answers 404.

pub mod store;

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::app_state::AppState;

/// The content type of the exposition (Prometheus reads OpenMetrics).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindCode {
    pub kind: &'static str,
    pub code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Op {
    pub op: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn store_histogram() -> Histogram {
    // 50 µs … ~1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every figure of this process.
pub struct Metrics {
    registry: Registry,
    // Read from the AppState when scraped.
    sockets_open: Gauge,
    sessions_live: Gauge,
    leases_held: Gauge,
    hashing_running: Gauge,
    hashing_waiting: Gauge,
    // Kept up to date by the actors.
    participants_live: Gauge,
    replay_log_bytes: Gauge,
    // Counted where they happen.
    joins: Family<Outcome, Counter>,
    socket_attach: Family<Outcome, Counter>,
    logins: Family<Outcome, Counter>,
    commands: Family<Kind, Counter>,
    refusals: Family<KindCode, Counter>,
    events: Counter,
    deliveries: Counter,
    sockets_cut_slow: Counter,
    lease_renewals_failed: Counter,
    erasures: Family<Kind, Counter>,
    retention_deleted: Family<Kind, Counter>,
    outbound_queue_depth: Histogram,
    welcome_bytes: Histogram,
    store_seconds: HistogramFamily<Op>,
}

impl Metrics {
    fn new() -> Self {
        let mut r = Registry::default();
        let m = Metrics {
            sockets_open: Gauge::default(),
            sessions_live: Gauge::default(),
            leases_held: Gauge::default(),
            hashing_running: Gauge::default(),
            hashing_waiting: Gauge::default(),
            participants_live: Gauge::default(),
            replay_log_bytes: Gauge::default(),
            joins: Family::default(),
            socket_attach: Family::default(),
            logins: Family::default(),
            commands: Family::default(),
            refusals: Family::default(),
            events: Counter::default(),
            deliveries: Counter::default(),
            sockets_cut_slow: Counter::default(),
            lease_renewals_failed: Counter::default(),
            erasures: Family::default(),
            retention_deleted: Family::default(),
            // 1 … 4096 frames waiting.
            outbound_queue_depth: Histogram::new(exponential_buckets(1.0, 2.0, 13)),
            // 512 B … 8 MiB.
            welcome_bytes: Histogram::new(exponential_buckets(512.0, 2.0, 15)),
            store_seconds: Family::new_with_constructor(store_histogram),
            registry: Registry::default(),
        };
        r.register(
            "peercircle_sockets_open",
            "Open WebSocket connections",
            m.sockets_open.clone(),
        );
        r.register(
            "peercircle_sessions_live",
            "Session actors running on this server",
            m.sessions_live.clone(),
        );
        r.register(
            "peercircle_participants_live",
            "People with at least one socket in a running session",
            m.participants_live.clone(),
        );
        r.register(
            "peercircle_leases_held",
            "Sessions this node holds under a lease (clustered deployments)",
            m.leases_held.clone(),
        );
        r.register(
            "peercircle_lease_renewals_failed",
            "Lease renewals that failed (clustered deployments)",
            m.lease_renewals_failed.clone(),
        );
        r.register(
            "peercircle_hashing_running",
            "Password hashes being computed now",
            m.hashing_running.clone(),
        );
        r.register(
            "peercircle_hashing_waiting",
            "Logins and joins waiting for a free hashing slot",
            m.hashing_waiting.clone(),
        );
        r.register(
            "peercircle_replay_log_bytes",
            "Bytes held in the replay logs of all running sessions",
            m.replay_log_bytes.clone(),
        );
        r.register(
            "peercircle_joins",
            "HTTP joins of a session, by outcome (joined, or the error code)",
            m.joins.clone(),
        );
        r.register(
            "peercircle_socket_attach",
            "WebSocket handshakes, by outcome (attached, or why not)",
            m.socket_attach.clone(),
        );
        r.register(
            "peercircle_login_attempts",
            "Facilitator sign-ins, by outcome",
            m.logins.clone(),
        );
        r.register(
            "peercircle_commands",
            "Commands received on sockets, by kind",
            m.commands.clone(),
        );
        r.register(
            "peercircle_refusals",
            "Commands refused, by kind and error code",
            m.refusals.clone(),
        );
        r.register(
            "peercircle_events",
            "Events published by the session actors",
            m.events.clone(),
        );
        r.register(
            "peercircle_deliveries",
            "Event frames handed to sockets (events fanned out)",
            m.deliveries.clone(),
        );
        r.register(
            "peercircle_sockets_cut_slow",
            "Sockets disconnected because their outbound queue was full",
            m.sockets_cut_slow.clone(),
        );
        r.register(
            "peercircle_erasures",
            "Erasures carried out, by what was erased",
            m.erasures.clone(),
        );
        r.register(
            "peercircle_retention_deleted",
            "Rows deleted by the retention job because they were past their time, by kind",
            m.retention_deleted.clone(),
        );
        r.register(
            "peercircle_outbound_queue_depth",
            "Frames waiting in a socket's outbound queue when its writer wakes (one wake in 16)",
            m.outbound_queue_depth.clone(),
        );
        r.register(
            "peercircle_welcome_bytes",
            "Size of the welcome frames sent",
            m.welcome_bytes.clone(),
        );
        r.register(
            "peercircle_store_seconds",
            "Latency of store statements, by operation",
            m.store_seconds.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// The exposition text, with the scrape-time figures of `state`.
    pub fn render(&self, state: &AppState) -> String {
        let gauge = |g: &Gauge, v: usize| {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        gauge(
            &self.sockets_open,
            state
                .sessions
                .connections
                .load(std::sync::atomic::Ordering::Acquire),
        );
        let running = state.sessions.running();
        gauge(&self.sessions_live, running.len());
        gauge(
            &self.leases_held,
            running.iter().filter(|(_, l)| l.is_some()).count(),
        );
        gauge(&self.hashing_running, state.hashing.running());
        gauge(&self.hashing_waiting, state.hashing.waiting());
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The figures of this process.
pub fn get() -> &'static Metrics {
    &METRICS
}

// One-line calls for the rest of the server.

/// An HTTP join ended with `outcome` (`joined` or an error code).
pub fn join(outcome: &'static str) {
    get().joins.get_or_create(&Outcome { outcome }).inc();
}

/// A socket's handshake ended with `outcome` (`attached` or why not).
pub fn socket_attach(outcome: &'static str) {
    get()
        .socket_attach
        .get_or_create(&Outcome { outcome })
        .inc();
}

/// A facilitator sign-in ended with `outcome`.
pub fn login(outcome: &'static str) {
    get().logins.get_or_create(&Outcome { outcome }).inc();
}

/// A command of `kind` arrived at a session.
pub fn command(kind: &'static str) {
    get().commands.get_or_create(&Kind { kind }).inc();
}

/// A command of `kind` was refused with `code`.
pub fn refusal(kind: &'static str, code: &'static str) {
    get().refusals.get_or_create(&KindCode { kind, code }).inc();
}

/// One event was published and handed to `deliveries` sockets.
pub fn event(deliveries: usize) {
    let m = get();
    m.events.inc();
    m.deliveries.inc_by(deliveries as u64);
}

/// A socket was cut because its queue was full.
pub fn cut_slow() {
    get().sockets_cut_slow.inc();
}

/// A socket's writer woke with `depth` frames waiting. One wake in
/// [`QUEUE_SAMPLE`] is recorded: writers wake for every frame under
/// fan-out, and a histogram observation takes a lock.
pub fn queue_depth(depth: usize) {
    static WAKES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if WAKES
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .is_multiple_of(QUEUE_SAMPLE)
    {
        get().outbound_queue_depth.observe(depth as f64);
    }
}

/// One writer wake in this many is recorded in the queue-depth histogram.
pub const QUEUE_SAMPLE: u64 = 16;

/// A welcome of `bytes` was sent.
pub fn welcome(bytes: usize) {
    get().welcome_bytes.observe(bytes as f64);
}

/// Someone's first socket in a session attached (+1) or their last left (-1).
pub fn participants(delta: i64) {
    get().participants_live.inc_by(delta);
}

/// A session's replay log now holds `now` bytes; it last reported `*reported`.
pub fn replay_bytes(reported: &mut usize, now: usize) {
    let delta =
        i64::try_from(now).unwrap_or(i64::MAX) - i64::try_from(*reported).unwrap_or(i64::MAX);
    if delta != 0 {
        get().replay_log_bytes.inc_by(delta);
    }
    *reported = now;
}

/// A renewal round of this node's leases failed, or one session's lease was
/// not renewed (it is stopped here). (Leases held are read
/// from the session registry when scraped.)
pub fn lease_renewal_failed() {
    get().lease_renewals_failed.inc();
}

/// An erasure of `what` (`participant`, `group`) was carried out.
pub fn erased(what: &'static str) {
    get().erasures.get_or_create(&Kind { kind: what }).inc();
}

/// The retention job deleted `rows` of `kind`.
pub fn retention_deleted(kind: &'static str, rows: u64) {
    get()
        .retention_deleted
        .get_or_create(&Kind { kind })
        .inc_by(rows);
}

/// A store statement `op` took `seconds`.
pub fn store_latency(op: &'static str, seconds: f64) {
    get()
        .store_seconds
        .get_or_create(&Op { op })
        .observe(seconds);
}

/// `GET /metrics` on the public router: only with the `metrics_token`
/// bearer token (compared in constant time); 404 when no token is set.
pub async fn guarded(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let expected = state.settings.metrics_token.trim();
    if expected.is_empty() {
        return crate::error::ApiError::not_found("There is nothing at this address.")
            .into_response();
    }
    let given = crate::api::bearer(&headers).unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(serde_json::json!({"error": {
                "code": "unauthorized",
                "message": "The metrics need the metrics token."
            }})),
        )
            .into_response();
    }
    exposition(&state)
}

/// `GET /metrics` on the private `metrics_listen` address: no token.
pub async fn open(State(state): State<AppState>) -> Response {
    exposition(&state)
}

fn exposition(state: &AppState) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], get().render(state)).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    // Hashing first makes the comparison independent of the lengths.
    let (x, y) = (Sha256::digest(a), Sha256::digest(b));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

/// The router of the `metrics_listen` address: `/metrics` only.
pub fn private_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(open))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_fixed_words() {
        command("say");
        refusal("say", "muted");
        join("joined");
        store_latency("session", 0.001);
        let m = get();
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).expect("encode");
        for line in out.lines().filter(|l| !l.starts_with('#')) {
            if let Some(start) = line.find('{') {
                let end = line.find('}').expect("closing brace");
                for pair in line[start + 1..end].split(',') {
                    let (key, value) = pair.split_once('=').expect("label pair");
                    if key == "le" {
                        continue; // a histogram's bucket bound
                    }
                    let value = value.trim_matches('"');
                    assert!(
                        !value.is_empty()
                            && value.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                        "label value {value:?} is not a fixed word"
                    );
                }
            }
        }
        assert!(out.contains("peercircle_commands_total{kind=\"say\"}"));
        assert!(out.contains("peercircle_refusals_total{kind=\"say\",code=\"muted\"}"));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
