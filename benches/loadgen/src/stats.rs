//! What a run measures: latency histograms (HDR), counters, refusals and
//! errors by code. Latency histograms are sharded so that thousands of
//! client tasks on a few threads rarely wait on the same lock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

const SHARDS: usize = 16;

fn hist() -> Histogram<u64> {
    // 1 µs .. 120 s at 3 significant figures.
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds")
}

pub struct Sharded(Vec<Mutex<Histogram<u64>>>);

impl Sharded {
    fn new() -> Sharded {
        Sharded((0..SHARDS).map(|_| Mutex::new(hist())).collect())
    }
    pub fn record(&self, shard: usize, micros: u64) {
        if let Ok(mut h) = self.0[shard % SHARDS].lock() {
            h.saturating_record(micros.max(1));
        }
    }
    fn merged(&self) -> Histogram<u64> {
        let mut all = hist();
        for s in &self.0 {
            if let Ok(h) = s.lock() {
                let _ = all.add(&*h);
            }
        }
        all
    }
    fn reset(&self) {
        for s in &self.0 {
            if let Ok(mut h) = s.lock() {
                h.reset();
            }
        }
    }
}

pub struct Stats {
    /// Deliveries and latencies are counted only while this is set.
    pub recording: AtomicBool,
    pub latency: Sharded,
    pub ack: Sharded,
    pub join: Sharded,
    pub connect: Sharded,
    pub delivered: AtomicU64,
    pub sent: AtomicU64,
    pub acks: AtomicU64,
    refusals: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    pub fn new() -> Stats {
        Stats {
            recording: AtomicBool::new(false),
            latency: Sharded::new(),
            ack: Sharded::new(),
            join: Sharded::new(),
            connect: Sharded::new(),
            delivered: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            acks: AtomicU64::new(0),
            refusals: Mutex::new(BTreeMap::new()),
            errors: Mutex::new(BTreeMap::new()),
        }
    }
    pub fn on(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }
    /// A timestamped message reached one recipient.
    pub fn delivery(&self, shard: usize, sent_micros: u64, now_micros: u64) {
        if self.on() {
            self.delivered.fetch_add(1, Ordering::Relaxed);
            self.latency
                .record(shard, now_micros.saturating_sub(sent_micros));
        }
    }
    pub fn refusal(&self, code: &str) {
        if let Ok(mut m) = self.refusals.lock() {
            *m.entry(code.to_string()).or_default() += 1;
        }
    }
    pub fn error(&self, what: &str) {
        if let Ok(mut m) = self.errors.lock() {
            *m.entry(what.to_string()).or_default() += 1;
        }
    }
    pub fn errors_map(&self) -> BTreeMap<String, u64> {
        self.errors.lock().map(|m| m.clone()).unwrap_or_default()
    }
    pub fn refusals_map(&self) -> BTreeMap<String, u64> {
        self.refusals.lock().map(|m| m.clone()).unwrap_or_default()
    }
    /// Clears the measurement window (latency, counters); keeps errors and
    /// refusals unless `all`.
    pub fn reset(&self, all: bool) {
        self.latency.reset();
        self.ack.reset();
        self.delivered.store(0, Ordering::Relaxed);
        self.sent.store(0, Ordering::Relaxed);
        self.acks.store(0, Ordering::Relaxed);
        if all {
            self.join.reset();
            self.connect.reset();
            if let Ok(mut m) = self.refusals.lock() {
                m.clear();
            }
            if let Ok(mut m) = self.errors.lock() {
                m.clear();
            }
        }
    }
    pub fn latency_summary(&self) -> Value {
        summary(&self.latency.merged())
    }
    pub fn ack_summary(&self) -> Value {
        summary(&self.ack.merged())
    }
    pub fn join_summary(&self) -> Value {
        summary(&self.join.merged())
    }
    pub fn connect_summary(&self) -> Value {
        summary(&self.connect.merged())
    }
}

/// p50/p95/p99/max in milliseconds, plus the count.
pub fn summary(h: &Histogram<u64>) -> Value {
    let ms = |v: u64| (v as f64 / 1000.0 * 1000.0).round() / 1000.0;
    if h.is_empty() {
        return json!({"count": 0});
    }
    json!({
        "count": h.len(),
        "p50_ms": ms(h.value_at_quantile(0.50)),
        "p95_ms": ms(h.value_at_quantile(0.95)),
        "p99_ms": ms(h.value_at_quantile(0.99)),
        "max_ms": ms(h.max()),
    })
}

pub fn fmt_lat(v: &Value) -> String {
    if v["count"].as_u64().unwrap_or(0) == 0 {
        return "n=0".into();
    }
    format!(
        "n={} p50={:.2}ms p95={:.2}ms p99={:.2}ms max={:.2}ms",
        v["count"],
        v["p50_ms"].as_f64().unwrap_or(0.0),
        v["p95_ms"].as_f64().unwrap_or(0.0),
        v["p99_ms"].as_f64().unwrap_or(0.0),
        v["max_ms"].as_f64().unwrap_or(0.0)
    )
}
