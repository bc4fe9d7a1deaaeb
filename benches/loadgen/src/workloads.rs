//! The peercircle workloads W1, W3, W4, W5 (W2 lives in `bcast`), each
//! bounded in size and time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use crate::common::{self, Shared, Usage};
use crate::peercircle::{self, Behaviour, Facilitator, Outcome};
use crate::proc;

/// A session with its facilitator's socket kept open (as a reading member).
pub struct Sessions {
    pub ids: Vec<String>,
    pub facilitators: Vec<JoinHandle<Outcome>>,
}

static NEXT_IDX: AtomicUsize = AtomicUsize::new(0);
fn next_idx() -> usize {
    NEXT_IDX.fetch_add(1, Ordering::Relaxed)
}

/// Creates `count` groups with one live session each, the facilitator
/// connected, started and in `mode`.
pub async fn setup_sessions(
    ctx: &Shared,
    fac: &Facilitator,
    count: usize,
    capacity: usize,
    mode: &'static str,
    turn_seconds: Option<u32>,
    stop: &watch::Receiver<bool>,
) -> Result<Sessions, String> {
    let gate = Arc::new(Semaphore::new(16));
    let mut pending = Vec::new();
    for i in 0..count {
        let (ctx, fac, gate) = (ctx.clone(), fac.clone(), gate.clone());
        pending.push(tokio::spawn(async move {
            let _p = gate.acquire_owned().await.ok();
            let sid = peercircle::create_session(&ctx, &fac, &format!("Load group {i}"), capacity)
                .await?;
            let ws = peercircle::facilitate(&ctx, &fac, &sid, mode, turn_seconds).await?;
            Ok::<_, String>((sid, ws))
        }));
    }
    let mut s = Sessions {
        ids: Vec::new(),
        facilitators: Vec::new(),
    };
    for p in pending {
        let (sid, ws) = p.await.map_err(|e| e.to_string())??;
        let idx = next_idx();
        s.ids.push(sid);
        s.facilitators.push(tokio::spawn(peercircle::member_loop(
            ctx.clone(),
            ws,
            String::new(),
            idx,
            Behaviour::Idle,
            stop.clone(),
            None,
        )));
    }
    Ok(s)
}

/// Joins `per_session` members into each session (bounded concurrency) and
/// starts their loops.
#[allow(clippy::too_many_arguments)]
pub async fn populate(
    ctx: &Shared,
    sessions: &[String],
    per_session: usize,
    behaviour: Behaviour,
    concurrency: usize,
    stop: &watch::Receiver<bool>,
) -> (Vec<JoinHandle<Outcome>>, usize) {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut pending = Vec::new();
    for sid in sessions {
        for k in 0..per_session {
            let (ctx, gate, sid, stop) = (ctx.clone(), gate.clone(), sid.clone(), stop.clone());
            pending.push(tokio::spawn(async move {
                let _p = gate.acquire_owned().await.ok();
                let idx = next_idx();
                match peercircle::join_and_hello(&ctx, &sid, &format!("Member {k}"), None).await {
                    Ok((ws, me)) => Some(tokio::spawn(peercircle::member_loop(
                        ctx.clone(),
                        ws,
                        me,
                        idx,
                        behaviour,
                        stop,
                        None,
                    ))),
                    Err(e) => {
                        ctx.stats.error(&e);
                        None
                    }
                }
            }));
        }
    }
    let mut handles = Vec::new();
    let mut failed = 0;
    for p in pending {
        match p.await {
            Ok(Some(h)) => handles.push(h),
            _ => failed += 1,
        }
    }
    (handles, failed)
}

async fn finish(stop: watch::Sender<bool>, handles: Vec<JoinHandle<Outcome>>) -> Vec<Outcome> {
    let _ = stop.send(true);
    let mut out = Vec::new();
    for h in handles {
        if let Ok(Ok(o)) = tokio::time::timeout(Duration::from_secs(15), h).await {
            out.push(o);
        }
    }
    out
}

pub struct W1Opts {
    pub sessions: usize,
    pub size: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub post_every: Duration,
    pub text_len: usize,
    pub turn_seconds: u32,
    pub join_concurrency: usize,
}

/// W1, evening peak: sessions of `size` (one facilitator + size-1
/// participants) in stick mode.
pub async fn w1(ctx: Shared, fac: Facilitator, o: W1Opts) -> Result<Value, String> {
    let (stop_tx, stop) = watch::channel(false);
    let t0 = Instant::now();
    let sessions = setup_sessions(
        &ctx,
        &fac,
        o.sessions,
        o.size + 4,
        "stick",
        Some(o.turn_seconds),
        &stop,
    )
    .await?;
    let setup_s = t0.elapsed().as_secs_f64();
    let behaviour = Behaviour::Stick {
        post_every: o.post_every,
        text_len: o.text_len,
    };
    let (mut handles, failed) = populate(
        &ctx,
        &sessions.ids,
        o.size - 1,
        behaviour,
        o.join_concurrency,
        &stop,
    )
    .await;
    let sockets = handles.len() + sessions.ids.len();
    eprintln!(
        "[w1] {} sessions, {sockets} sockets ({failed} joins failed); setup {:.1}s, joins {:.1}s",
        sessions.ids.len(),
        setup_s,
        t0.elapsed().as_secs_f64() - setup_s
    );
    let join_time = ctx.stats.join_summary();
    let connect_time = ctx.stats.connect_summary();
    let u = ctx.measure(o.warmup, o.duration).await;
    let secs = u["seconds"].as_f64().unwrap_or(1.0);
    let delivered = ctx.stats.delivered.load(Ordering::Relaxed);
    let v = json!({
        "sessions": sessions.ids.len(), "size": o.size, "sockets": sockets, "join_failed": failed,
        "setup_s": common::round1(setup_s),
        "join_time": join_time, "connect_time": connect_time,
        "posts": ctx.stats.sent.load(Ordering::Relaxed),
        "posts_per_s": common::round1(ctx.stats.sent.load(Ordering::Relaxed) as f64 / secs),
        "delivered_per_s": common::round1(delivered as f64 / secs),
        "latency": ctx.stats.latency_summary(),
        "ack_latency": ctx.stats.ack_summary(),
        "usage": u,
    });
    handles.extend(sessions.facilitators);
    finish(stop_tx, handles).await;
    Ok(v)
}

/// W3, join storm: `people` join (HTTP join + hello + welcome) spread evenly
/// over `over`, into sessions of `size` that are already live.
pub async fn w3(
    ctx: Shared,
    fac: Facilitator,
    people: usize,
    size: usize,
    over: Duration,
    hold: Duration,
) -> Result<Value, String> {
    let (stop_tx, stop) = watch::channel(false);
    let per = size.saturating_sub(1).max(1);
    let n_sessions = people.div_ceil(per);
    let t0 = Instant::now();
    let sessions = setup_sessions(&ctx, &fac, n_sessions, size + 4, "stick", None, &stop).await?;
    eprintln!(
        "[w3] {n_sessions} sessions ready in {:.1}s; storm of {people} over {:.1}s",
        t0.elapsed().as_secs_f64(),
        over.as_secs_f64()
    );
    ctx.stats.reset(true);
    let usage = Usage::start(ctx.server_pid);
    let start = tokio::time::Instant::now();
    let mut pending = Vec::new();
    for i in 0..people {
        let at = start + over.mul_f64(i as f64 / people as f64);
        let (ctx, sid, stop) = (ctx.clone(), sessions.ids[i / per].clone(), stop.clone());
        pending.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let idx = next_idx();
            match peercircle::join_and_hello(&ctx, &sid, &format!("Arrival {i}"), None).await {
                Ok((ws, me)) => {
                    let done = start.elapsed();
                    Ok((
                        done,
                        tokio::spawn(peercircle::member_loop(
                            ctx.clone(),
                            ws,
                            me,
                            idx,
                            Behaviour::Idle,
                            stop,
                            None,
                        )),
                    ))
                }
                Err(e) => {
                    ctx.stats.error(&e);
                    Err(())
                }
            }
        }));
    }
    let mut handles = Vec::new();
    let mut last = Duration::ZERO;
    let mut failed = 0;
    let mut within5 = 0;
    for p in pending {
        match p.await {
            Ok(Ok((done, h))) => {
                last = last.max(done);
                if done <= Duration::from_secs(5) {
                    within5 += 1;
                }
                handles.push(h);
            }
            _ => failed += 1,
        }
    }
    let u = usage.stop();
    let v = json!({
        "people": people, "sessions": n_sessions, "over_s": over.as_secs_f64(),
        "joined": handles.len(), "failed": failed, "in_within_5s": within5,
        "all_in_s": common::round3(last.as_secs_f64()),
        "join_time": ctx.stats.join_summary(), "connect_time": ctx.stats.connect_summary(),
        "usage": u,
    });
    tokio::time::sleep(hold).await;
    handles.extend(sessions.facilitators);
    finish(stop_tx, handles).await;
    Ok(v)
}

/// W4, idle: sessions of `size` with everyone connected and silent; server
/// RSS per socket.
pub async fn w4(
    ctx: Shared,
    fac: Facilitator,
    sessions_n: usize,
    size: usize,
    hold: Duration,
    concurrency: usize,
) -> Result<Value, String> {
    let (stop_tx, stop) = watch::channel(false);
    let before = ctx.server_pid.and_then(|p| proc::sample(Some(p)));
    let t0 = Instant::now();
    let sessions = setup_sessions(&ctx, &fac, sessions_n, size + 4, "stick", None, &stop).await?;
    let (mut handles, failed) = populate(
        &ctx,
        &sessions.ids,
        size - 1,
        Behaviour::Idle,
        concurrency,
        &stop,
    )
    .await;
    let sockets = handles.len() + sessions.ids.len();
    let connected_s = t0.elapsed().as_secs_f64();
    eprintln!(
        "[w4] {sockets} idle sockets in {connected_s:.1}s; holding {:.0}s",
        hold.as_secs_f64()
    );
    let at_connect = ctx.server_pid.and_then(|p| proc::sample(Some(p)));
    let usage = Usage::start(ctx.server_pid);
    tokio::time::sleep(hold).await;
    let u = usage.stop();
    let after = ctx.server_pid.and_then(|p| proc::sample(Some(p)));
    let me = proc::sample(None);
    let mut v = json!({
        "sessions": sessions.ids.len(), "size": size, "sockets": sockets, "join_failed": failed,
        "connect_all_s": common::round1(connected_s),
        "join_time": ctx.stats.join_summary(),
        "idle_usage": u,
        "loadgen_rss_mib": me.map(|m| common::round1(m.rss_kib as f64 / 1024.0)),
    });
    if let (Some(b), Some(a), Some(c)) = (before, after, at_connect) {
        v["server_rss_before_mib"] = json!(common::round1(b.rss_kib as f64 / 1024.0));
        v["server_rss_connected_mib"] = json!(common::round1(c.rss_kib as f64 / 1024.0));
        v["server_rss_after_hold_mib"] = json!(common::round1(a.rss_kib as f64 / 1024.0));
        v["server_rss_per_socket_kib"] = json!(common::round3(
            (a.rss_kib as f64 - b.rss_kib as f64) / sockets.max(1) as f64
        ));
        v["server_peak_rss_mib"] = json!(common::round1(a.hwm_kib as f64 / 1024.0));
    }
    handles.extend(sessions.facilitators);
    let outs = finish(stop_tx, handles).await;
    v["dropped_while_idle"] = json!(outs.iter().filter(|o| o.closed_by_server.is_some()).count());
    Ok(v)
}

pub struct W5Opts {
    pub sessions: usize,
    pub size: usize,
    pub slow: usize,
    pub phase: Duration,
    pub warmup: Duration,
    pub busy_every: Duration,
    pub busy_text_len: usize,
    pub join_concurrency: usize,
}

/// Samples the server's RSS every 250 ms until told to stop; returns the max (KiB).
fn rss_watch(pid: Option<u32>) -> (watch::Sender<bool>, JoinHandle<u64>) {
    let (tx, mut rx) = watch::channel(false);
    let h = tokio::spawn(async move {
        let mut max = 0;
        loop {
            if let Some(s) = pid.and_then(|p| proc::sample(Some(p))) {
                max = max.max(s.rss_kib);
            }
            tokio::select! {
                _ = rx.changed() => return max,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    });
    (tx, h)
}

/// W5, slow readers: W1 at a tenth of the size, plus `slow` busy open-mode
/// rooms each holding one member who stops reading in phase B.
pub async fn w5(
    ctx: Shared,
    busy_ctx: Shared,
    fac: Facilitator,
    o: W5Opts,
) -> Result<Value, String> {
    let (stop_tx, stop) = watch::channel(false);
    let (stall_tx, stall_rx) = watch::channel(false);
    let normal = setup_sessions(
        &ctx,
        &fac,
        o.sessions,
        o.size + 4,
        "stick",
        Some(120),
        &stop,
    )
    .await?;
    let (mut handles, failed) = populate(
        &ctx,
        &normal.ids,
        o.size - 1,
        Behaviour::Stick {
            post_every: Duration::from_secs(5),
            text_len: 80,
        },
        o.join_concurrency,
        &stop,
    )
    .await;
    let busy = setup_sessions(&busy_ctx, &fac, o.slow, o.size + 4, "open", None, &stop).await?;
    let beh = Behaviour::Busy {
        every: o.busy_every,
        text_len: o.busy_text_len,
    };
    let (busy_handles, busy_failed) = populate(
        &busy_ctx,
        &busy.ids,
        o.size - 2,
        beh,
        o.join_concurrency,
        &stop,
    )
    .await;
    let mut slow_handles = Vec::new();
    for (i, sid) in busy.ids.iter().enumerate() {
        // A tiny receive buffer so that a reader who stops shows up quickly.
        let (ws, me) =
            peercircle::join_and_hello(&busy_ctx, sid, &format!("Slow {i}"), Some(4096)).await?;
        slow_handles.push(tokio::spawn(peercircle::member_loop(
            busy_ctx.clone(),
            ws,
            me,
            next_idx(),
            Behaviour::Idle,
            stop.clone(),
            Some(stall_rx.clone()),
        )));
    }
    eprintln!(
        "[w5] {} normal sessions, {} busy rooms with one slow reader each",
        normal.ids.len(),
        busy.ids.len()
    );
    let mut phases = serde_json::Map::new();
    for phase in ["a_all_reading", "b_slow_stopped"] {
        if phase.starts_with('b') {
            let _ = stall_tx.send(true);
        }
        tokio::time::sleep(o.warmup).await;
        ctx.stats.reset(false);
        busy_ctx.stats.reset(false);
        ctx.stats.recording.store(true, Ordering::SeqCst);
        busy_ctx.stats.recording.store(true, Ordering::SeqCst);
        let (rss_tx, rss_h) = rss_watch(ctx.server_pid);
        let usage = Usage::start(ctx.server_pid);
        tokio::time::sleep(o.phase).await;
        ctx.stats.recording.store(false, Ordering::SeqCst);
        busy_ctx.stats.recording.store(false, Ordering::SeqCst);
        let u = usage.stop();
        let _ = rss_tx.send(true);
        let max_rss = rss_h.await.unwrap_or(0);
        let secs = u["seconds"].as_f64().unwrap_or(1.0);
        phases.insert(phase.into(), json!({
            "normal_latency": ctx.stats.latency_summary(),
            "normal_delivered_per_s": common::round1(ctx.stats.delivered.load(Ordering::Relaxed) as f64 / secs),
            "busy_latency": busy_ctx.stats.latency_summary(),
            "busy_delivered_per_s": common::round1(busy_ctx.stats.delivered.load(Ordering::Relaxed) as f64 / secs),
            "server_max_rss_mib": common::round1(max_rss as f64 / 1024.0),
            "usage": u,
        }));
        eprintln!("[w5] {phase}: {}", phases[phase]);
    }
    handles.extend(normal.facilitators);
    handles.extend(busy.facilitators);
    handles.extend(busy_handles);
    let slow_out = finish(stop_tx, slow_handles).await;
    let _ = finish(watch::channel(true).0, handles).await;
    let disconnected = slow_out
        .iter()
        .filter(|o| o.closed_by_server.is_some())
        .count();
    Ok(json!({
        "sessions": normal.ids.len(), "size": o.size, "join_failed": failed + busy_failed,
        "slow_readers": o.slow, "slow_disconnected": disconnected,
        "slow_close_codes": slow_out.iter().filter_map(|o| o.closed_by_server).collect::<Vec<_>>(),
        "busy_every_ms": o.busy_every.as_millis() as u64, "busy_text_len": o.busy_text_len,
        "phases": Value::Object(phases),
        "busy_errors": busy_ctx.stats.errors_map(),
    }))
}
