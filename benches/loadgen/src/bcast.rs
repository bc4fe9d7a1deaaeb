//! The broadcast-room workload shared by W2 and the peer comparison: N
//! clients in one room, everybody posts, everybody receives every post.
//!
//! Phase 1 (saturation): a closed loop with a fixed window of posts in
//! flight across the room; a permit returns when the sender sees its own
//! post come back, so the room posts "as fast as accepted".
//! Phase 2 (half load): an open loop at a fraction (default 50 %) of the
//! phase-1 post rate, for latency at a sustainable load.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{self, parse_stamp, send_text, stamped_text, Shared, Ws};
use crate::util::now_micros;

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Framing {
    /// peercircle PROTOCOL v1 (`say` commands, `said` events).
    Peercircle,
    /// Plain text frames broadcast as-is (ws, Python websockets, the ceiling).
    Raw,
    /// Socket.IO 4 over Engine.IO v4, websocket transport.
    Socketio,
}

#[derive(Clone, Debug)]
pub struct Opts {
    pub clients: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub window: usize,
    pub text_len: usize,
    pub open_fraction: f64,
    pub connect_concurrency: usize,
    /// W6: arrivals spread evenly over this time (a join storm into the one
    /// room) instead of connecting `connect_concurrency` at a time.
    pub arrive_over: Option<Duration>,
}

/// How to put one client into the room.
#[derive(Clone)]
pub enum Enter {
    Peercircle { session: String },
    Raw { path: String },
    Socketio { path: String },
}

async fn enter(ctx: &Shared, how: &Enter, idx: usize) -> Result<Ws, String> {
    match how {
        Enter::Peercircle { session } => {
            crate::peercircle::join_and_hello(ctx, session, &format!("Member {idx}"), None)
                .await
                .map(|(ws, _)| ws)
        }
        Enter::Raw { path } => {
            let t0 = std::time::Instant::now();
            let ws = common::ws_connect(ctx, path, None).await?;
            ctx.stats.join.record(0, t0.elapsed().as_micros() as u64);
            Ok(ws)
        }
        Enter::Socketio { path } => {
            let t0 = std::time::Instant::now();
            let mut ws = common::ws_connect(ctx, path, None).await?;
            // Engine.IO open packet, then the Socket.IO connect to namespace "/".
            let open = next_text(&mut ws).await?;
            if !open.starts_with('0') {
                return Err(format!("eio_open_expected: {open:.40}"));
            }
            send_text(&mut ws, "40".into()).await?;
            loop {
                let t = next_text(&mut ws).await?;
                if t.starts_with("40") {
                    break;
                }
                if t == "2" {
                    send_text(&mut ws, "3".into()).await?;
                }
                if t.starts_with("44") {
                    return Err(format!("sio_connect_error: {t:.60}"));
                }
            }
            ctx.stats.join.record(0, t0.elapsed().as_micros() as u64);
            Ok(ws)
        }
    }
}

async fn next_text(ws: &mut Ws) -> Result<String, String> {
    let fut = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_string()),
                Some(Ok(Message::Close(_))) | None => return Err("closed_in_handshake".to_string()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("handshake_ws: {e}")),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .map_err(|_| "handshake_timeout".to_string())?
}

fn encode(framing: Framing, idx: usize, kind: char, len: usize, n: &mut u64) -> String {
    let text = stamped_text(idx, kind, len);
    match framing {
        Framing::Raw => text,
        Framing::Socketio => format!("42[\"say\",\"{text}\"]"),
        Framing::Peercircle => {
            *n += 1;
            json!({"type":"say","ref":format!("{}-{}{}", now_micros(), kind, n),"room":"main","text":text}).to_string()
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn client(
    ctx: Shared,
    mut ws: Ws,
    idx: usize,
    framing: Framing,
    text_len: usize,
    window: Arc<Semaphore>,
    mut trig: mpsc::UnboundedReceiver<char>,
    mut stop: watch::Receiver<bool>,
) {
    let mut n = 0u64;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(kind) = trig.recv() => {
                ctx.stats.sent.fetch_add(1, Ordering::Relaxed);
                if send_text(&mut ws, encode(framing, idx, kind, text_len, &mut n)).await.is_err() {
                    ctx.stats.error("send_failed");
                    return;
                }
            }
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if let Some((sent, s, k)) = parse_stamp(t) {
                        ctx.stats.delivery(idx, sent, now_micros());
                        if s == idx && k == b'c' {
                            window.add_permits(1);
                        }
                        continue;
                    }
                    match framing {
                        Framing::Socketio if t == "2" => {
                            let _ = send_text(&mut ws, "3".into()).await;
                        }
                        Framing::Peercircle if t.contains("\"type\":\"ack\"") => {
                            ctx.stats.acks.fetch_add(1, Ordering::Relaxed);
                            if ctx.stats.on() {
                                if let Some(sent) = t.split("\"ref\":\"").nth(1).and_then(|r| r.split('-').next()).and_then(|x| x.parse::<u64>().ok()) {
                                    ctx.stats.ack.record(idx, now_micros().saturating_sub(sent));
                                }
                            }
                        }
                        Framing::Peercircle if t.contains("\"type\":\"error\"") => {
                            let v: Value = serde_json::from_str(t).unwrap_or(Value::Null);
                            ctx.stats.refusal(v["code"].as_str().unwrap_or("?"));
                            // A refused closed-loop post will never come back: return its permit.
                            if v["ref"].as_str().map(|r| r.contains("-c")).unwrap_or(false) {
                                window.add_permits(1);
                            }
                        }
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(c))) => {
                    ctx.stats.error(&format!("closed_by_server_{}", c.map(|c| u16::from(c.code)).unwrap_or(0)));
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    ctx.stats.error("connection_lost");
                    return;
                }
            }
        }
    }
    common::close(ws).await;
}

/// Connects everyone, runs both phases, returns the figures.
pub async fn run(ctx: Shared, framing: Framing, how: Enter, o: Opts) -> Value {
    let (stop_tx, stop_rx) = watch::channel(false);
    let window = Arc::new(Semaphore::new(0));
    let gate = Arc::new(Semaphore::new(o.connect_concurrency.max(1)));
    let t_connect = std::time::Instant::now();
    let start = tokio::time::Instant::now();
    let usage = common::Usage::start(ctx.server_pid);
    let mut pending = Vec::new();
    for idx in 0..o.clients {
        let (ctx, how, gate) = (ctx.clone(), how.clone(), gate.clone());
        let at = o
            .arrive_over
            .map(|over| start + over.mul_f64(idx as f64 / o.clients as f64));
        pending.push(tokio::spawn(async move {
            let _p = match at {
                Some(at) => {
                    tokio::time::sleep_until(at).await;
                    None
                }
                None => gate.acquire_owned().await.ok(),
            };
            let ws = enter(&ctx, &how, idx).await;
            (ws, start.elapsed())
        }));
    }
    let mut triggers = Vec::new();
    let mut tasks = Vec::new();
    let mut failed = 0;
    let mut last_in = Duration::ZERO;
    for (idx, p) in pending.into_iter().enumerate() {
        let p = p.await.map(|(ws, at)| {
            last_in = last_in.max(at);
            ws
        });
        match p {
            Ok(Ok(ws)) => {
                let (tx, rx) = mpsc::unbounded_channel();
                triggers.push(tx);
                tasks.push(tokio::spawn(client(
                    ctx.clone(),
                    ws,
                    idx,
                    framing,
                    o.text_len,
                    window.clone(),
                    rx,
                    stop_rx.clone(),
                )));
            }
            Ok(Err(e)) => {
                failed += 1;
                ctx.stats.error(e.split(':').next().unwrap_or("connect"));
            }
            Err(_) => failed += 1,
        }
    }
    let connect_s = t_connect.elapsed().as_secs_f64();
    let connected = triggers.len();
    let joining = usage.stop();
    eprintln!("[bcast] {connected} connected ({failed} failed) in {connect_s:.1}s");
    let mut out = json!({
        "framing": format!("{framing:?}").to_lowercase(),
        "clients": o.clients, "connected": connected, "connect_failed": failed,
        "connect_all_s": common::round3(connect_s),
        "join_time": ctx.stats.join_summary(),
        "window": o.window,
        "joining_usage": joining,
    });
    if let Some(over) = o.arrive_over {
        // The last welcome, measured from the first arrival, and how long
        // after the last arrival (at `over`) that was.
        out["arrive_over_s"] = json!(over.as_secs_f64());
        out["all_in_s"] = json!(common::round3(last_in.as_secs_f64()));
        out["all_in_after_last_arrival_s"] = json!(common::round3(
            (last_in.as_secs_f64() - over.as_secs_f64()).max(0.0)
        ));
    }
    if connected == 0 {
        let _ = stop_tx.send(true);
        return out;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Phase 1: closed loop.
    let trig1 = triggers.clone();
    let w1 = window.clone();
    let driver = tokio::spawn(async move {
        let mut i = 0usize;
        loop {
            match w1.acquire().await {
                Ok(p) => p.forget(),
                Err(_) => return,
            }
            let _ = trig1[i % trig1.len()].send('c');
            i += 1;
        }
    });
    window.add_permits(o.window);
    let u1 = ctx.measure(o.warmup, o.duration).await;
    let secs = u1["seconds"].as_f64().unwrap_or(1.0);
    let delivered = ctx.stats.delivered.load(Ordering::Relaxed);
    let sent = ctx.stats.sent.load(Ordering::Relaxed);
    let sat_send_rate = sent as f64 / secs;
    out["saturation"] = json!({
        "delivered_per_s": common::round1(delivered as f64 / secs),
        "posts_per_s": common::round1(sat_send_rate),
        "fanout": if sent > 0 { common::round1(delivered as f64 / sent as f64) } else { 0.0 },
        "latency": ctx.stats.latency_summary(),
        "ack_latency": ctx.stats.ack_summary(),
        "usage": u1,
    });
    window.close();
    driver.abort();
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("[bcast] saturation: {}", out["saturation"]);

    // Phase 2: open loop at a fraction of the saturation post rate.
    let rate = (sat_send_rate * o.open_fraction).max(1.0);
    let trig2 = triggers.clone();
    let driver = tokio::spawn(async move {
        let t0 = std::time::Instant::now();
        let mut sent = 0u64;
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let due = (t0.elapsed().as_secs_f64() * rate) as u64;
            while sent < due {
                let _ = trig2[(sent as usize) % trig2.len()].send('o');
                sent += 1;
            }
        }
    });
    let u2 = ctx.measure(o.warmup, o.duration).await;
    driver.abort();
    let secs = u2["seconds"].as_f64().unwrap_or(1.0);
    let delivered = ctx.stats.delivered.load(Ordering::Relaxed);
    let sent = ctx.stats.sent.load(Ordering::Relaxed);
    out["half_load"] = json!({
        "target_posts_per_s": common::round1(rate),
        "posts_per_s": common::round1(sent as f64 / secs),
        "delivered_per_s": common::round1(delivered as f64 / secs),
        "latency": ctx.stats.latency_summary(),
        "ack_latency": ctx.stats.ack_summary(),
        "usage": u2,
    });
    eprintln!("[bcast] half load: {}", out["half_load"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    out
}
