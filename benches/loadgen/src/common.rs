//! What every workload shares: the run context, WebSocket connects over a
//! chosen source address, timestamped message text and its cheap parsing,
//! and the server's CPU/RSS accounting.

use std::sync::Arc;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::proc::{self, ProcSample};
use crate::stats::Stats;
use crate::util::{now_micros, SourceAddrs, Target};

pub type Ws = WebSocketStream<TcpStream>;

pub struct Ctx {
    pub target: Target,
    pub src: SourceAddrs,
    pub stats: Stats,
    /// Send `Origin: http://<target>` as a browser on the same origin would.
    pub origin: bool,
    pub server_pid: Option<u32>,
}

pub type Shared = Arc<Ctx>;

impl Ctx {
    /// Waits out the warm-up, then records for `duration`; returns the
    /// server's and the generator's usage over that window.
    pub async fn measure(
        &self,
        warmup: std::time::Duration,
        duration: std::time::Duration,
    ) -> Value {
        tokio::time::sleep(warmup).await;
        self.stats.reset(false);
        self.stats
            .recording
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let usage = Usage::start(self.server_pid);
        tokio::time::sleep(duration).await;
        self.stats
            .recording
            .store(false, std::sync::atomic::Ordering::SeqCst);
        usage.stop()
    }
}

fn ws_config() -> WebSocketConfig {
    // Small buffers: the generator holds up to ~19k sockets.
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
}

/// TCP connect from the next source address, then the WebSocket handshake.
/// Records the connect time (TCP + upgrade).
pub async fn ws_connect(ctx: &Ctx, path: &str, rcvbuf: Option<u32>) -> Result<Ws, String> {
    let t0 = Instant::now();
    let stream = crate::http::connect(&ctx.target, ctx.src.next(), rcvbuf)
        .await
        .map_err(|e| format!("tcp_connect: {e}"))?;
    let url = format!("ws://{}{}", ctx.target.authority, path);
    let mut req = url
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    if ctx.origin {
        if let Ok(v) = format!("http://{}", ctx.target.authority).parse() {
            req.headers_mut().insert("Origin", v);
        }
    }
    let fut = tokio_tungstenite::client_async_with_config(req, stream, Some(ws_config()));
    let (ws, _resp) = tokio::time::timeout(std::time::Duration::from_secs(30), fut)
        .await
        .map_err(|_| "ws_handshake: timeout".to_string())?
        .map_err(|e| format!("ws_handshake: {e}"))?;
    ctx.stats.connect.record(0, t0.elapsed().as_micros() as u64);
    Ok(ws)
}

/// Sends a text frame.
pub async fn send_text(ws: &mut Ws, text: String) -> Result<(), String> {
    ws.send(Message::text(text))
        .await
        .map_err(|e| format!("ws_send: {e}"))
}

/// Closes politely and drains for a moment; never fails.
pub async fn close(mut ws: Ws) {
    let _ = tokio::time::timeout(std::time::Duration::from_millis(1500), async {
        let _ = ws.close(None).await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// Message text carrying the send time: `t=<unix µs> s=<sender> k=<kind> ` and padding.
pub fn stamped_text(sender: usize, kind: char, len: usize) -> String {
    let mut s = format!("t={} s={} k={} ", now_micros(), sender, kind);
    while s.len() < len {
        s.push_str("lorem ipsum ");
    }
    s.truncate(len.max(s.find(" k=").map(|i| i + 5).unwrap_or(0)));
    s
}

fn num_after(text: &str, key: &str) -> Option<(u64, usize)> {
    let i = text.find(key)? + key.len();
    let digits: &str = &text[i..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok().map(|v| (v, i + end))
}

/// Finds `t=<µs> s=<sender> k=<kind>` anywhere in a frame (raw text, a JSON
/// event or a Socket.IO packet) without a full parse.
pub fn parse_stamp(frame: &str) -> Option<(u64, usize, u8)> {
    let (t, at) = num_after(frame, "t=")?;
    let rest = &frame[at..];
    let (s, at2) = num_after(rest, " s=")?;
    let kind = rest.as_bytes().get(at2 + 3).copied().unwrap_or(b'?');
    Some((t, s as usize, kind))
}

/// Server and generator CPU/RSS over a measured window.
pub struct Usage {
    t0: Instant,
    server0: Option<ProcSample>,
    me0: Option<ProcSample>,
    pid: Option<u32>,
}

impl Usage {
    pub fn start(pid: Option<u32>) -> Usage {
        Usage {
            t0: Instant::now(),
            server0: pid.and_then(|p| proc::sample(Some(p))),
            me0: proc::sample(None),
            pid,
        }
    }
    pub fn stop(&self) -> Value {
        let secs = self.t0.elapsed().as_secs_f64();
        let server1 = self.pid.and_then(|p| proc::sample(Some(p)));
        let me1 = proc::sample(None);
        let mut v = json!({"seconds": round3(secs)});
        if let (Some(a), Some(b)) = (self.server0, server1) {
            v["server_cpu_s"] = json!(round3(b.cpu_secs - a.cpu_secs));
            v["server_cpu_pct"] = json!(round1(100.0 * (b.cpu_secs - a.cpu_secs) / secs));
            v["server_rss_mib"] = json!(round1(b.rss_kib as f64 / 1024.0));
            v["server_peak_rss_mib"] = json!(round1(b.hwm_kib as f64 / 1024.0));
        }
        if let (Some(a), Some(b)) = (self.me0, me1) {
            v["loadgen_cpu_s"] = json!(round3(b.cpu_secs - a.cpu_secs));
            v["loadgen_cpu_pct"] = json!(round1(100.0 * (b.cpu_secs - a.cpu_secs) / secs));
            v["loadgen_rss_mib"] = json!(round1(b.rss_kib as f64 / 1024.0));
        }
        v
    }
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Prints the human summary and a machine-readable `RESULT {json}` line.
pub fn report(name: &str, ctx: &Ctx, mut v: Value) -> Value {
    v["workload"] = json!(name);
    v["errors"] = json!(ctx.stats.errors_map());
    v["refusals"] = json!(ctx.stats.refusals_map());
    eprintln!("== {name} ==");
    if let Some(o) = v.as_object() {
        for (k, val) in o {
            if let Some(obj) = val.as_object() {
                if obj.contains_key("p50_ms") || obj.get("count").is_some() && obj.len() == 1 {
                    eprintln!("  {k:<22} {}", crate::stats::fmt_lat(val));
                    continue;
                }
            }
            eprintln!("  {k:<22} {val}");
        }
    }
    println!("RESULT {}", v);
    v
}
