//! Speaking PROTOCOL v1 as the browser client does: facilitator login, group
//! and session creation, HTTP join, `hello`/`welcome`, commands with `ref`,
//! and the scripted behaviour of members (hands, turns, reactions, breaks).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{self, send_text, stamped_text, Ctx, Shared, Ws};
use crate::http;
use crate::util::{now_micros, rfc3339, unix_secs, Rng};

/// A logged-in facilitator.
#[derive(Clone)]
pub struct Facilitator {
    pub token: String,
}

pub async fn login(ctx: &Ctx, email: &str, password: &str) -> Result<Facilitator, String> {
    let r = http::request(
        &ctx.target,
        ctx.src.next(),
        "POST",
        "/api/login",
        None,
        Some(&json!({"email": email, "password": password})),
    )
    .await?;
    match r.body.get("token").and_then(|t| t.as_str()) {
        Some(t) if r.status == 200 => Ok(Facilitator {
            token: t.to_string(),
        }),
        _ => Err(format!("login: {} {}", r.status, r.body)),
    }
}

/// Creates a group and one session starting now; returns the session id.
pub async fn create_session(
    ctx: &Ctx,
    f: &Facilitator,
    name: &str,
    capacity: usize,
) -> Result<String, String> {
    let g = http::request(
        &ctx.target,
        ctx.src.next(),
        "POST",
        "/api/groups",
        Some(&f.token),
        Some(&json!({
            "name": name,
            "description": "A load-test group.",
            "agreement": "We listen, we keep what is said here, we are kind.",
            "capacity": capacity,
        })),
    )
    .await?;
    let gid = g
        .body
        .get("id")
        .map(json_id)
        .filter(|_| g.status < 300)
        .ok_or_else(|| format!("create group: {} {}", g.status, g.body))?;
    let s = http::request(
        &ctx.target,
        ctx.src.next(),
        "POST",
        &format!("/api/groups/{gid}/sessions"),
        Some(&f.token),
        Some(&json!({"starts_at": rfc3339(unix_secs() - 60), "duration_minutes": 180})),
    )
    .await?;
    let sid = s
        .body
        .get(0)
        .and_then(|x| x.get("id"))
        .map(json_id)
        .filter(|_| s.status < 300)
        .ok_or_else(|| format!("create session: {} {}", s.status, s.body))?;
    Ok(sid)
}

fn json_id(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// HTTP join; returns (participant id, token).
pub async fn join(ctx: &Ctx, session: &str, name: &str) -> Result<(String, String), String> {
    let r = http::request(
        &ctx.target,
        ctx.src.next(),
        "POST",
        &format!("/api/sessions/{session}/join"),
        None,
        Some(&json!({"name": name, "agree": true})),
    )
    .await
    .map_err(|e| format!("join_{}", e.split(':').next().unwrap_or("io")))?;
    match (
        r.body.get("participant_id"),
        r.body.get("token").and_then(|t| t.as_str()),
    ) {
        (Some(p), Some(t)) if r.status < 300 => Ok((json_id(p), t.to_string())),
        _ => Err(format!("join_{}", r.error_code())),
    }
}

/// Opens `/ws?session=…`, sends `hello`, waits for `welcome`.
pub async fn hello(
    ctx: &Ctx,
    session: &str,
    token: &str,
    rcvbuf: Option<u32>,
) -> Result<(Ws, Value), String> {
    let mut ws = common::ws_connect(ctx, &format!("/ws?session={session}"), rcvbuf).await?;
    send_text(
        &mut ws,
        json!({"type": "hello", "token": token}).to_string(),
    )
    .await?;
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => return Err("hello_timeout".into()),
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).map_err(|_| "hello_bad_json".to_string())?;
                    match v["type"].as_str() {
                        Some("welcome") => return Ok((ws, v)),
                        Some("error") => return Err(format!("hello_error_{}", v["code"].as_str().unwrap_or("?"))),
                        _ => continue,
                    }
                }
                Some(Ok(Message::Close(c))) => return Err(format!("hello_closed_{}", c.map(|c| u16::from(c.code)).unwrap_or(0))),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("hello_ws_error: {e}")),
                None => return Err("hello_eof".into()),
            }
        }
    }
}

/// Join over HTTP, then hello; records the join time (HTTP join start to welcome).
pub async fn join_and_hello(
    ctx: &Ctx,
    session: &str,
    name: &str,
    rcvbuf: Option<u32>,
) -> Result<(Ws, String), String> {
    let t0 = Instant::now();
    let (pid, token) = join(ctx, session, name).await?;
    let (ws, welcome) = hello(ctx, session, &token, rcvbuf).await?;
    ctx.stats.join.record(0, t0.elapsed().as_micros() as u64);
    let me = welcome.pointer("/you/id").map(json_id).unwrap_or(pid);
    Ok((ws, me))
}

pub fn cmd_ref(n: &mut u64) -> String {
    *n += 1;
    format!("{}-{}", now_micros(), n)
}

/// Sends a command with a fresh `ref` and waits (bounded) for its answer.
pub async fn command_wait(ws: &mut Ws, mut cmd: Value, n: &mut u64) -> Result<(), String> {
    let r = cmd_ref(n);
    cmd["ref"] = json!(r);
    send_text(ws, cmd.to_string()).await?;
    let fut = async {
        while let Some(m) = ws.next().await {
            if let Ok(Message::Text(t)) = m {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                if v["ref"].as_str() == Some(r.as_str()) {
                    return match v["type"].as_str() {
                        Some("ack") => Ok(()),
                        _ => Err(v["code"].as_str().unwrap_or("?").to_string()),
                    };
                }
            }
        }
        Err("eof".to_string())
    };
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .map_err(|_| "timeout".to_string())?
}

/// Facilitator socket: hello, `start`, `mode`; returns the open socket.
pub async fn facilitate(
    ctx: &Ctx,
    f: &Facilitator,
    session: &str,
    mode: &str,
    turn_seconds: Option<u32>,
) -> Result<Ws, String> {
    let (mut ws, _welcome) = hello(ctx, session, &f.token, None).await?;
    let mut n = 0;
    command_wait(&mut ws, json!({"type": "start"}), &mut n)
        .await
        .map_err(|e| format!("start_{e}"))?;
    let mut m = json!({"type": "mode", "mode": mode});
    if let Some(t) = turn_seconds {
        m["turn_seconds"] = json!(t);
    }
    command_wait(&mut ws, m, &mut n)
        .await
        .map_err(|e| format!("mode_{e}"))?;
    Ok(ws)
}

#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Reads (and so answers pings), never sends: W4 and facilitators.
    Idle,
    /// W1: stick mode: raises hands, holders post every `post_every` then
    /// pass, others react; a few breaks.
    Stick {
        post_every: Duration,
        text_len: usize,
    },
    /// W5's busy rooms: open mode, everyone posts every `every`.
    Busy { every: Duration, text_len: usize },
}

/// How a member's run ended.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// The server closed or dropped the socket (code, or 0 for EOF/reset).
    pub closed_by_server: Option<u16>,
    pub frames: u64,
}

/// A member's life after welcome, until `stop` turns true. `stall`, when it
/// turns true, makes the member stop reading (W5's slow reader).
pub async fn member_loop(
    ctx: Shared,
    mut ws: Ws,
    me: String,
    idx: usize,
    behaviour: Behaviour,
    mut stop: watch::Receiver<bool>,
    mut stall: Option<watch::Receiver<bool>>,
) -> Outcome {
    let mut rng = Rng::new(idx as u64 + 1);
    let mut out = Outcome::default();
    let mut n = 0u64;
    let mut holder: Option<String> = None;
    let mut in_queue = false;
    let mut on_break_until: Option<Instant> = None;
    let mut next_post: Option<Instant> = None;
    let mut posts_left = 0u32;
    let mut reacts: Vec<(Instant, String)> = Vec::new();
    let tick_every = match behaviour {
        Behaviour::Idle => Duration::from_secs(3600),
        _ => Duration::from_millis(250),
    };
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_millis(rng.range(0, 1000)),
        tick_every,
    );
    let mut stalled = false;
    let mut busy_next = Instant::now() + Duration::from_millis(rng.range(0, 2000));
    let full_parse = matches!(behaviour, Behaviour::Stick { .. });

    loop {
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = async {
                match stall.as_mut() {
                    Some(s) => { let _ = s.changed().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {
                stalled = stall.as_ref().map(|s| *s.borrow()).unwrap_or(false);
                if stall.as_ref().map(|s| s.has_changed().is_err()).unwrap_or(false) { stall = None; }
            }
            m = ws.next(), if !stalled => {
                match m {
                    Some(Ok(Message::Text(t))) => {
                        out.frames += 1;
                        let t = t.as_str();
                        let nowu = now_micros();
                        if t.contains("\"kind\":\"said\"") {
                            if let Some((sent, _s, _k)) = common::parse_stamp(t) {
                                ctx.stats.delivery(idx, sent, nowu);
                            }
                        }
                        if t.starts_with("{\"type\":\"ack\"") || t.contains("\"type\":\"ack\"") {
                            on_ack(&ctx, t, idx, nowu);
                            continue;
                        }
                        if t.contains("\"type\":\"error\"") {
                            let v: Value = serde_json::from_str(t).unwrap_or(Value::Null);
                            let code = v["code"].as_str().unwrap_or("?");
                            if v.get("ref").is_some() { ctx.stats.refusal(code) } else { ctx.stats.error(&format!("error_{code}")) }
                            continue;
                        }
                        if !full_parse { continue; }
                        let v: Value = match serde_json::from_str(t) { Ok(v) => v, Err(_) => { ctx.stats.error("bad_json"); continue } };
                        match v["kind"].as_str() {
                            Some("said") => {
                                let from = v.pointer("/msg/from").map(json_id).unwrap_or_default();
                                if from != me && rng.chance(0.15) {
                                    if let Some(id) = v.pointer("/msg/id").map(json_id) {
                                        reacts.push((Instant::now() + Duration::from_millis(rng.range(300, 3000)), id));
                                    }
                                }
                            }
                            Some("stick") => {
                                let h = v.get("holder").or_else(|| v.pointer("/stick/holder")).and_then(|h| if h.is_null() { None } else { Some(json_id(h)) });
                                if h.as_deref() == Some(me.as_str()) && holder.as_deref() != Some(me.as_str()) {
                                    posts_left = rng.range(2, 4) as u32;
                                    next_post = Some(Instant::now() + Duration::from_millis(rng.range(500, 1500)));
                                    in_queue = false;
                                }
                                holder = h;
                            }
                            Some("queue") => {
                                if let Some(q) = v.get("queue").and_then(|q| q.as_array()) {
                                    in_queue = q.iter().any(|x| json_id(x) == me);
                                }
                            }
                            _ => {}
                        }
                    }
                    Some(Ok(Message::Close(c))) => {
                        let code = c.map(|c| u16::from(c.code)).unwrap_or(0);
                        out.closed_by_server = Some(code);
                        ctx.stats.error(&format!("closed_by_server_{code}"));
                        return out;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        out.closed_by_server = Some(0);
                        ctx.stats.error("connection_lost");
                        return out;
                    }
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                let res = match behaviour {
                    Behaviour::Idle => Ok(()),
                    Behaviour::Busy { every, text_len } => {
                        if now >= busy_next {
                            busy_next = now + every;
                            let r = cmd_ref(&mut n);
                            ctx.stats.sent.fetch_add(1, Ordering::Relaxed);
                            send_text(&mut ws, json!({"type":"say","ref":r,"room":"main","text":stamped_text(idx,'b',text_len)}).to_string()).await
                        } else { Ok(()) }
                    }
                    Behaviour::Stick { post_every, text_len } => {
                        stick_tick(&ctx, &mut ws, &me, idx, &mut rng, &mut n, now, post_every, text_len,
                                   &holder, &mut in_queue, &mut on_break_until, &mut next_post, &mut posts_left, &mut reacts).await
                    }
                };
                if res.is_err() {
                    ctx.stats.error("send_failed");
                    out.closed_by_server = Some(0);
                    return out;
                }
            }
        }
    }
    if stalled {
        // A slow reader: see whether the server has given up on us: drain
        // what the kernel holds and look for a close or EOF.
        let drained = tokio::time::timeout(Duration::from_secs(8), async {
            loop {
                match tokio::time::timeout(Duration::from_secs(3), ws.next()).await {
                    Err(_) => return None, // quiet but open
                    Ok(Some(Ok(Message::Close(c)))) => {
                        return Some(c.map(|c| u16::from(c.code)).unwrap_or(0))
                    }
                    Ok(Some(Ok(_))) => out.frames += 1,
                    Ok(Some(Err(_))) | Ok(None) => return Some(0),
                }
            }
        })
        .await;
        out.closed_by_server = drained.ok().flatten();
        return out;
    }
    common::close(ws).await;
    out
}

fn on_ack(ctx: &Ctx, t: &str, idx: usize, nowu: u64) {
    ctx.stats.acks.fetch_add(1, Ordering::Relaxed);
    if !ctx.stats.on() {
        return;
    }
    if let Some(i) = t.find("\"ref\":\"") {
        let r = &t[i + 7..];
        if let Some(sent) = r.split('-').next().and_then(|s| s.parse::<u64>().ok()) {
            ctx.stats.ack.record(idx, nowu.saturating_sub(sent));
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn stick_tick(
    ctx: &Ctx,
    ws: &mut Ws,
    me: &str,
    idx: usize,
    rng: &mut Rng,
    n: &mut u64,
    now: Instant,
    post_every: Duration,
    text_len: usize,
    holder: &Option<String>,
    in_queue: &mut bool,
    on_break_until: &mut Option<Instant>,
    next_post: &mut Option<Instant>,
    posts_left: &mut u32,
    reacts: &mut Vec<(Instant, String)>,
) -> Result<(), String> {
    // Reactions that are due.
    let mut i = 0;
    while i < reacts.len() {
        if reacts[i].0 <= now {
            let (_, msg) = reacts.swap_remove(i);
            let emoji = ["heart", "clap", "hug", "thanks", "me_too"][rng.range(0, 4) as usize];
            send_text(
                ws,
                json!({"type":"react","ref":cmd_ref(n),"msg":msg,"emoji":emoji}).to_string(),
            )
            .await?;
        } else {
            i += 1;
        }
    }
    if let Some(until) = *on_break_until {
        if now >= until {
            *on_break_until = None;
            send_text(
                ws,
                json!({"type":"break","ref":cmd_ref(n),"on":false}).to_string(),
            )
            .await?;
        }
        return Ok(());
    }
    let holding = holder.as_deref() == Some(me);
    if holding {
        if let Some(at) = *next_post {
            if now >= at {
                ctx.stats.sent.fetch_add(1, Ordering::Relaxed);
                send_text(ws, json!({"type":"say","ref":cmd_ref(n),"room":"main","text":stamped_text(idx,'s',text_len)}).to_string()).await?;
                *posts_left = posts_left.saturating_sub(1);
                if *posts_left == 0 {
                    *next_post = None;
                    send_text(ws, json!({"type":"pass","ref":cmd_ref(n)}).to_string()).await?;
                } else {
                    *next_post = Some(now + post_every);
                }
            }
        }
        return Ok(());
    }
    *next_post = None;
    // About one break per participant per ten minutes, 10–30 s long.
    if rng.chance(1.0 / 2400.0) {
        *on_break_until = Some(now + Duration::from_secs(rng.range(10, 30)));
        return send_text(
            ws,
            json!({"type":"break","ref":cmd_ref(n),"on":true,"note":"back soon"}).to_string(),
        )
        .await;
    }
    if !*in_queue && rng.chance(1.0 / 40.0) {
        *in_queue = true;
        return send_text(
            ws,
            json!({"type":"hand","ref":cmd_ref(n),"up":true}).to_string(),
        )
        .await;
    }
    if *in_queue && rng.chance(1.0 / 480.0) {
        *in_queue = false;
        return send_text(
            ws,
            json!({"type":"hand","ref":cmd_ref(n),"up":false}).to_string(),
        )
        .await;
    }
    Ok(())
}
