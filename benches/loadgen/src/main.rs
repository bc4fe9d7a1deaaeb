//! `peercircle-load`: a load generator for peercircle (PROTOCOL v1) and for
//! the peer servers it is compared with. Every run targets loopback only, is
//! bounded in size and time, and stops by itself. See BENCHMARKS.md.

mod bcast;
mod common;
mod http;
mod peercircle;
mod proc;
mod stats;
mod util;
mod workloads;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::bcast::{Enter, Framing};
use crate::common::{Ctx, Shared};
use crate::stats::Stats;
use crate::util::{SourceAddrs, Target};

#[derive(Parser)]
#[command(
    name = "peercircle-load",
    about = "Load generator for peercircle and its peers (loopback only)"
)]
struct Cli {
    #[command(flatten)]
    g: Global,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct Global {
    /// Server base URL; loopback only (127.0.0.0/8, ::1, localhost).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Spread sockets over this many source addresses 127.0.0.2, 127.0.0.3, …
    #[arg(long, global = true, default_value_t = 16)]
    src_addrs: usize,
    /// Server pid for CPU/RSS figures.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// Find the server pid by process name (e.g. peercircle, node, python3).
    #[arg(long, global = true)]
    server_name: Option<String>,
    /// Do not send a same-origin `Origin` header.
    #[arg(long, global = true)]
    no_origin: bool,
    /// Facilitator e-mail (peercircle workloads).
    #[arg(long, global = true, default_value = "load@example.org")]
    email: String,
    /// Facilitator password.
    #[arg(long, global = true, default_value = "load-test-password-1")]
    password: String,
    /// Start this peercircle binary on a free loopback port with a fresh
    /// SQLite database and load-test limits, create the facilitator, and
    /// stop it at the end (overrides --url and --server-pid).
    #[arg(long, global = true)]
    spawn: Option<String>,
    /// Append the RESULT json to this file.
    #[arg(long, global = true)]
    out: Option<String>,
}

#[derive(Args, Clone)]
struct BcastArgs {
    /// Seconds measured in each phase.
    #[arg(long, default_value_t = 15.0)]
    duration: f64,
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Posts in flight across the room during the saturation phase.
    #[arg(long, default_value_t = 16)]
    window: usize,
    #[arg(long, default_value_t = 80)]
    text_len: usize,
    /// Open-loop rate of phase 2 as a fraction of the saturation post rate.
    #[arg(long, default_value_t = 0.5)]
    fraction: f64,
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
}

#[derive(Subcommand)]
enum Cmd {
    /// Evening peak: sessions × size in stick mode, holders post every 5 s.
    W1 {
        #[arg(long, default_value_t = 1500)]
        sessions: usize,
        /// Sockets per session, the facilitator included.
        #[arg(long, default_value_t = 12)]
        size: usize,
        #[arg(long, default_value_t = 60.0)]
        duration: f64,
        #[arg(long, default_value_t = 10.0)]
        warmup: f64,
        #[arg(long, default_value_t = 5.0)]
        post_every: f64,
        #[arg(long, default_value_t = 80)]
        text_len: usize,
        #[arg(long, default_value_t = 60)]
        turn_seconds: u32,
        #[arg(long, default_value_t = 64)]
        join_concurrency: usize,
    },
    /// Town hall: one open session of N participants, everybody posts.
    W2 {
        #[arg(long, default_value_t = 1000)]
        participants: usize,
        #[command(flatten)]
        b: BcastArgs,
    },
    /// Large room: N people join one open session, arriving evenly over
    /// `over` seconds, then everybody posts (the W2 phases).
    W6 {
        #[arg(long, default_value_t = 5000)]
        participants: usize,
        #[arg(long, default_value_t = 10.0)]
        over: f64,
        #[command(flatten)]
        b: BcastArgs,
    },
    /// Join storm: N people join within `over` seconds.
    W3 {
        #[arg(long, default_value_t = 10_000)]
        people: usize,
        #[arg(long, default_value_t = 12)]
        size: usize,
        #[arg(long, default_value_t = 10.0)]
        over: f64,
        #[arg(long, default_value_t = 3.0)]
        hold: f64,
    },
    /// Idle: sessions × size idle sockets; server RSS per socket.
    W4 {
        #[arg(long, default_value_t = 1500)]
        sessions: usize,
        #[arg(long, default_value_t = 12)]
        size: usize,
        #[arg(long, default_value_t = 40.0)]
        hold: f64,
        #[arg(long, default_value_t = 64)]
        join_concurrency: usize,
    },
    /// Slow readers: W1 at a tenth plus busy rooms with one reader who stops.
    W5 {
        #[arg(long, default_value_t = 150)]
        sessions: usize,
        #[arg(long, default_value_t = 12)]
        size: usize,
        #[arg(long, default_value_t = 10)]
        slow: usize,
        /// Seconds measured in each phase (A: all read; B: slow ones stopped).
        #[arg(long, default_value_t = 45.0)]
        phase: f64,
        #[arg(long, default_value_t = 5.0)]
        warmup: f64,
        #[arg(long, default_value_t = 500)]
        busy_every_ms: u64,
        #[arg(long, default_value_t = 1000)]
        busy_text_len: usize,
    },
    /// The W2 shape against a peer server (ws, Socket.IO, Python, the ceiling).
    Peers {
        #[arg(long, value_enum)]
        framing: Framing,
        /// Path and query of the room (default by framing).
        #[arg(long)]
        path: Option<String>,
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        /// Label for the report.
        #[arg(long, default_value = "peer")]
        label: String,
        #[command(flatten)]
        b: BcastArgs,
    },
    /// A tiny run of every workload against peercircle (< 30 s); non-zero exit on failures.
    Smoke,
}

fn secs(x: f64) -> Duration {
    Duration::from_secs_f64(x.clamp(0.0, 3600.0))
}

/// A peercircle process started by `--spawn`.
struct Spawned {
    child: tokio::process::Child,
    db: String,
}

async fn spawn_server(bin: &str, email: &str, password: &str) -> Result<(Spawned, String), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let db = format!("/tmp/peercircle-load-{}-{port}.db", std::process::id());
    let env: Vec<(&str, String)> = vec![
        ("PEERCIRCLE_LISTEN", format!("127.0.0.1:{port}")),
        ("PEERCIRCLE_DATABASE", format!("sqlite://{db}")),
        ("PEERCIRCLE_DEMO", "false".into()),
        ("PEERCIRCLE_JOIN_PER_MINUTE", "1000000".into()),
        ("PEERCIRCLE_LOGIN_PER_MINUTE", "100000".into()),
        // Everyone joins from 127.0.0.1: loopback is rate-limited by default
        // and HTTP connections are capped per address.
        ("PEERCIRCLE_RATE_LIMIT_LOOPBACK", "false".into()),
        ("PEERCIRCLE_HTTP_CONNECTIONS_PER_ADDRESS", "0".into()),
        ("PEERCIRCLE_SAY_RATE_COUNT", "1000000".into()),
        ("PEERCIRCLE_MAX_CONNECTIONS", "100000".into()),
        ("PEERCIRCLE_MAX_CAPACITY", "100000".into()),
        ("PEERCIRCLE_LOG", "warn".into()),
        ("RUST_LOG", "warn".into()),
    ];
    let mut add = tokio::process::Command::new(bin);
    add.args([
        "facilitator",
        "add",
        "--email",
        email,
        "--name",
        "Load Facilitator",
        "--password-stdin",
    ])
    .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::null());
    let mut c = add.spawn().map_err(|e| format!("{bin}: {e}"))?;
    if let Some(mut stdin) = c.stdin.take() {
        let _ = stdin.write_all(format!("{password}\n").as_bytes()).await;
    }
    let st = c.wait().await.map_err(|e| e.to_string())?;
    if !st.success() {
        return Err(format!("`{bin} facilitator add` failed: {st}"));
    }
    let log = std::fs::File::create(format!("{db}.log")).map_err(|e| e.to_string())?;
    let child = tokio::process::Command::new(bin)
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{bin} serve: {e}"))?;
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok((Spawned { child, db }, url));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "{bin} serve did not listen on {port} within 20 s (log: {db}.log)"
    ))
}

fn make_ctx(g: &Global, target: &Target, pid: Option<u32>) -> Shared {
    Arc::new(Ctx {
        target: target.clone(),
        src: SourceAddrs::new(g.src_addrs, target),
        stats: Stats::new(),
        origin: !g.no_origin,
        server_pid: pid,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (soft, hard) = util::raise_nofile();
    eprintln!("[load] open files: soft {soft}, hard {hard}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = rt.block_on(run(cli));
    rt.shutdown_timeout(Duration::from_secs(2));
    code
}

async fn run(cli: Cli) -> ExitCode {
    let mut g = cli.g.clone();
    let mut spawned = None;
    if let Some(bin) = g.spawn.clone() {
        match spawn_server(&bin, &g.email, &g.password).await {
            Ok((s, url)) => {
                g.url = url;
                g.server_pid = s.child.id();
                spawned = Some(s);
            }
            Err(e) => {
                eprintln!("[load] {e}");
                return ExitCode::from(2);
            }
        }
    }
    let target = match Target::parse(&g.url) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("[load] {e}");
            return ExitCode::from(2);
        }
    };
    let pid = g
        .server_pid
        .or_else(|| g.server_name.as_deref().and_then(proc::find_pid));
    if pid.is_none() {
        eprintln!("[load] no server pid (--server-pid/--server-name): no server CPU/RSS figures");
    }
    let ctx = make_ctx(&g, &target, pid);
    // Whole-run guard: nothing runs longer than an hour.
    let work = run_cmd(&g, &target, pid, ctx.clone(), cli.cmd);
    let res = match tokio::time::timeout(Duration::from_secs(3600), work).await {
        Ok(r) => r,
        Err(_) => Err("run exceeded one hour".into()),
    };
    if let Some(mut s) = spawned {
        let _ = s.child.start_kill();
        let _ = s.child.wait().await;
        for f in [
            s.db.clone(),
            format!("{}-wal", s.db),
            format!("{}-shm", s.db),
        ] {
            let _ = std::fs::remove_file(f);
        }
    }
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("[load] failed: {e}");
            ExitCode::from(1)
        }
    }
}

fn emit(g: &Global, name: &str, ctx: &Ctx, v: Value) -> Value {
    let v = common::report(name, ctx, v);
    if let Some(path) = &g.out {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{v}");
        }
    }
    v
}

async fn run_cmd(
    g: &Global,
    target: &Target,
    pid: Option<u32>,
    ctx: Shared,
    cmd: Cmd,
) -> Result<ExitCode, String> {
    match cmd {
        Cmd::W1 {
            sessions,
            size,
            duration,
            warmup,
            post_every,
            text_len,
            turn_seconds,
            join_concurrency,
        } => {
            let fac = peercircle::login(&ctx, &g.email, &g.password).await?;
            let o = workloads::W1Opts {
                sessions,
                size: size.max(2),
                duration: secs(duration),
                warmup: secs(warmup),
                post_every: secs(post_every),
                text_len,
                turn_seconds,
                join_concurrency,
            };
            let v = workloads::w1(ctx.clone(), fac, o).await?;
            emit(g, "w1", &ctx, v);
        }
        Cmd::W2 { participants, b } => {
            let fac = peercircle::login(&ctx, &g.email, &g.password).await?;
            let (stop_tx, stop) = tokio::sync::watch::channel(false);
            let s =
                workloads::setup_sessions(&ctx, &fac, 1, participants + 10, "open", None, &stop)
                    .await?;
            let how = Enter::Peercircle {
                session: s.ids[0].clone(),
            };
            let mut v = bcast::run(
                ctx.clone(),
                Framing::Peercircle,
                how,
                bopts(participants, &b),
            )
            .await;
            v["label"] = json!("peercircle");
            let _ = stop_tx.send(true);
            emit(g, "w2", &ctx, v);
        }
        Cmd::W6 {
            participants,
            over,
            b,
        } => {
            let v = w6(&ctx, g, participants, secs(over), bopts(participants, &b)).await?;
            emit(g, "w6", &ctx, v);
        }
        Cmd::W3 {
            people,
            size,
            over,
            hold,
        } => {
            let fac = peercircle::login(&ctx, &g.email, &g.password).await?;
            let v = workloads::w3(
                ctx.clone(),
                fac,
                people,
                size.max(2),
                secs(over),
                secs(hold),
            )
            .await?;
            emit(g, "w3", &ctx, v);
        }
        Cmd::W4 {
            sessions,
            size,
            hold,
            join_concurrency,
        } => {
            let fac = peercircle::login(&ctx, &g.email, &g.password).await?;
            let v = workloads::w4(
                ctx.clone(),
                fac,
                sessions,
                size.max(2),
                secs(hold),
                join_concurrency,
            )
            .await?;
            emit(g, "w4", &ctx, v);
        }
        Cmd::W5 {
            sessions,
            size,
            slow,
            phase,
            warmup,
            busy_every_ms,
            busy_text_len,
        } => {
            let fac = peercircle::login(&ctx, &g.email, &g.password).await?;
            let busy = make_ctx(g, target, pid);
            let o = workloads::W5Opts {
                sessions,
                size: size.max(3),
                slow,
                phase: secs(phase),
                warmup: secs(warmup),
                busy_every: Duration::from_millis(busy_every_ms),
                busy_text_len,
                join_concurrency: 64,
            };
            let v = workloads::w5(ctx.clone(), busy, fac, o).await?;
            emit(g, "w5", &ctx, v);
        }
        Cmd::Peers {
            framing,
            path,
            clients,
            label,
            b,
        } => {
            let how = match framing {
                Framing::Raw => Enter::Raw {
                    path: path.unwrap_or_else(|| "/ws?room=bench".into()),
                },
                Framing::Socketio => Enter::Socketio {
                    path: path.unwrap_or_else(|| {
                        "/socket.io/?EIO=4&transport=websocket&room=bench".into()
                    }),
                },
                Framing::Peercircle => return Err("use the w2 subcommand for peercircle".into()),
            };
            let mut v = bcast::run(ctx.clone(), framing, how, bopts(clients, &b)).await;
            v["label"] = json!(label);
            emit(g, "peers", &ctx, v);
        }
        Cmd::Smoke => return smoke(g, target, pid).await,
    }
    Ok(ExitCode::SUCCESS)
}

fn bopts(clients: usize, b: &BcastArgs) -> bcast::Opts {
    bcast::Opts {
        clients,
        duration: secs(b.duration),
        warmup: secs(b.warmup),
        window: b.window.max(1),
        text_len: b.text_len,
        open_fraction: b.fraction.clamp(0.01, 1.0),
        connect_concurrency: b.connect_concurrency,
        arrive_over: None,
    }
}

/// W6: one open session, `participants` arriving evenly over `over`, then
/// the W2 phases in that room.
async fn w6(
    ctx: &Shared,
    g: &Global,
    participants: usize,
    over: Duration,
    mut o: bcast::Opts,
) -> Result<Value, String> {
    let fac = peercircle::login(ctx, &g.email, &g.password).await?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let s = workloads::setup_sessions(ctx, &fac, 1, participants + 10, "open", None, &stop).await?;
    o.arrive_over = Some(over);
    let how = Enter::Peercircle {
        session: s.ids[0].clone(),
    };
    let mut v = bcast::run(ctx.clone(), Framing::Peercircle, how, o).await;
    v["label"] = json!("peercircle");
    let _ = stop_tx.send(true);
    Ok(v)
}

/// Protocol failures: anything in `errors` plus refusals a well-behaved
/// client should never see.
fn smoke_problems(ctx: &Ctx) -> Vec<String> {
    let mut p: Vec<String> = ctx
        .stats
        .errors_map()
        .into_iter()
        .map(|(k, v)| format!("error {k} ×{v}"))
        .collect();
    for (k, v) in ctx.stats.refusals_map() {
        if matches!(
            k.as_str(),
            "bad_request" | "unauthorized" | "forbidden" | "not_found"
        ) {
            p.push(format!("refusal {k} ×{v}"));
        }
    }
    p
}

async fn smoke(g: &Global, target: &Target, pid: Option<u32>) -> Result<ExitCode, String> {
    let t0 = std::time::Instant::now();
    let mut passed = 0;
    let mut failed = 0;
    let mut check = |name: &str, problems: Vec<String>| {
        if problems.is_empty() {
            passed += 1;
            eprintln!("smoke {name}: ok");
        } else {
            failed += 1;
            eprintln!("smoke {name}: FAILED: {}", problems.join("; "));
        }
    };
    let fac = {
        let ctx = make_ctx(g, target, pid);
        peercircle::login(&ctx, &g.email, &g.password).await?
    };

    // W1: 2 sessions of 4, posting every second.
    let ctx = make_ctx(g, target, pid);
    let o = workloads::W1Opts {
        sessions: 2,
        size: 4,
        duration: secs(3.0),
        warmup: secs(1.5),
        post_every: secs(1.0),
        text_len: 60,
        turn_seconds: 30,
        join_concurrency: 8,
    };
    match workloads::w1(ctx.clone(), fac.clone(), o).await {
        Ok(v) => {
            let mut p = smoke_problems(&ctx);
            if v["join_failed"].as_u64() != Some(0) || v["sockets"].as_u64() != Some(8) {
                p.push(format!(
                    "sockets {} join_failed {}",
                    v["sockets"], v["join_failed"]
                ));
            }
            if v["latency"]["count"].as_u64().unwrap_or(0) == 0 {
                p.push("no said event delivered in stick mode".into());
            }
            emit(g, "smoke_w1", &ctx, v);
            check("w1", p);
        }
        Err(e) => check("w1", vec![e]),
    }

    // W2: one open session of 6, everybody posts.
    let ctx = make_ctx(g, target, pid);
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    match workloads::setup_sessions(&ctx, &fac, 1, 16, "open", None, &stop).await {
        Ok(s) => {
            let o = bcast::Opts {
                clients: 6,
                duration: secs(1.5),
                warmup: secs(0.5),
                window: 4,
                text_len: 60,
                open_fraction: 0.5,
                connect_concurrency: 6,
                arrive_over: None,
            };
            let v = bcast::run(
                ctx.clone(),
                Framing::Peercircle,
                Enter::Peercircle {
                    session: s.ids[0].clone(),
                },
                o,
            )
            .await;
            let _ = stop_tx.send(true);
            let mut p = smoke_problems(&ctx);
            if v["connected"].as_u64() != Some(6) {
                p.push(format!("connected {}", v["connected"]));
            }
            if v["saturation"]["delivered_per_s"].as_f64().unwrap_or(0.0) <= 0.0
                || v["half_load"]["latency"]["count"].as_u64().unwrap_or(0) == 0
            {
                p.push("no deliveries in open mode".into());
            }
            let fan = v["saturation"]["fanout"].as_f64().unwrap_or(0.0);
            if !(5.0..=7.5).contains(&fan) {
                p.push(format!(
                    "fan-out {fan}, expected about 7 (6 members + facilitator)"
                ));
            }
            emit(g, "smoke_w2", &ctx, v);
            check("w2", p);
        }
        Err(e) => check("w2", vec![e]),
    }

    // W6: a large room (over the server's large-room threshold of 200, so
    // presence goes out in batches and the welcome is paged): 220 people
    // arriving over 2 s, then everybody posts.
    let ctx = make_ctx(g, target, pid);
    let o = bcast::Opts {
        clients: 220,
        duration: secs(1.5),
        warmup: secs(0.5),
        window: 8,
        text_len: 60,
        open_fraction: 0.5,
        connect_concurrency: 16,
        arrive_over: None,
    };
    match w6(&ctx, g, 220, secs(2.0), o).await {
        Ok(v) => {
            let mut p = smoke_problems(&ctx);
            if v["connected"].as_u64() != Some(220) {
                p.push(format!("connected {} of 220", v["connected"]));
            }
            if v["all_in_after_last_arrival_s"]
                .as_f64()
                .unwrap_or(f64::MAX)
                > 10.0
            {
                p.push(format!(
                    "all in {}s after the last arrival",
                    v["all_in_after_last_arrival_s"]
                ));
            }
            if v["saturation"]["delivered_per_s"].as_f64().unwrap_or(0.0) <= 0.0 {
                p.push("no deliveries in the large room".into());
            }
            emit(g, "smoke_w6", &ctx, v);
            check("w6", p);
        }
        Err(e) => check("w6", vec![e]),
    }

    // W3: 20 people within a second.
    let ctx = make_ctx(g, target, pid);
    match workloads::w3(ctx.clone(), fac.clone(), 20, 12, secs(1.0), secs(0.5)).await {
        Ok(v) => {
            let mut p = smoke_problems(&ctx);
            if v["joined"].as_u64() != Some(20) {
                p.push(format!("joined {} of 20", v["joined"]));
            }
            emit(g, "smoke_w3", &ctx, v);
            check("w3", p);
        }
        Err(e) => check("w3", vec![e]),
    }

    // W4: 2 idle sessions of 4.
    let ctx = make_ctx(g, target, pid);
    match workloads::w4(ctx.clone(), fac.clone(), 2, 4, secs(1.0), 8).await {
        Ok(v) => {
            let mut p = smoke_problems(&ctx);
            if v["sockets"].as_u64() != Some(8) || v["dropped_while_idle"].as_u64() != Some(0) {
                p.push(format!(
                    "sockets {} dropped {}",
                    v["sockets"], v["dropped_while_idle"]
                ));
            }
            emit(g, "smoke_w4", &ctx, v);
            check("w4", p);
        }
        Err(e) => check("w4", vec![e]),
    }

    // W5: one normal session and one busy room with a reader who stops.
    let ctx = make_ctx(g, target, pid);
    let busy = make_ctx(g, target, pid);
    let o = workloads::W5Opts {
        sessions: 1,
        size: 4,
        slow: 1,
        phase: secs(1.5),
        warmup: secs(0.5),
        busy_every: Duration::from_millis(300),
        busy_text_len: 200,
        join_concurrency: 8,
    };
    match workloads::w5(ctx.clone(), busy.clone(), fac.clone(), o).await {
        Ok(v) => {
            let mut p = smoke_problems(&ctx);
            if v["join_failed"].as_u64() != Some(0) {
                p.push(format!("join_failed {}", v["join_failed"]));
            }
            if v["phases"]["b_slow_stopped"]["busy_latency"]["count"]
                .as_u64()
                .unwrap_or(0)
                == 0
            {
                p.push("busy room stopped delivering while one reader stalled".into());
            }
            emit(g, "smoke_w5", &ctx, v);
            check("w5", p);
        }
        Err(e) => check("w5", vec![e]),
    }

    eprintln!("smoke took {:.1}s", t0.elapsed().as_secs_f64());
    println!("smoke: {passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
