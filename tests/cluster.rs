//! Three real `peercircle` nodes on one PostgreSQL database behind HAProxy,
//! all on 127.0.0.1: a group in stick mode (a holder, a queue, one person
//! on a break, one muted) survives
//! - `kill -9` of the node that runs it: every client has a new welcome
//!   within 10 s, through HAProxy, with that state;
//! - `kill -STOP` of its node until another node took the lease, then
//!   `kill -CONT`: the old node stops serving it (its sockets close with
//!   1001) and nothing it does reaches the database;
//! - PostgreSQL unreachable for longer than a lease: the owner stops the
//!   session (1001), `/readyz` says not ready, and everyone is back once
//!   the database is.
//!
//! And a client that connects straight to a node that does not run its
//! session reaches it (relayed).
//!
//! Needs PostgreSQL (`PEERCIRCLE_TEST_PG`, an admin URL; `bash tests/pg.sh`)
//! and HAProxy (`PEERCIRCLE_TEST_HAPROXY`, the binary; `bash tests/haproxy.sh`).
//! The nodes reach PostgreSQL through a small TCP proxy in this test, which
//! the test cuts to play the outage (the shared server keeps running).
//! Every wait is bounded.

mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::{Connection, Row};
use support::server::{self, Server};
use support::ws::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const LEASE_SECS: u64 = 6;

// ---------------------------------------------------------------- helpers

/// A fresh database on the test PostgreSQL server, dropped at the end.
struct Database {
    admin: String,
    name: String,
}

impl Database {
    async fn create() -> Database {
        let admin = std::env::var("PEERCIRCLE_TEST_PG")
            .ok()
            .filter(|v| !v.trim().is_empty() && v != "skip")
            .expect(
                "the cluster test needs PostgreSQL: \
                 export PEERCIRCLE_TEST_PG=\"$(bash tests/pg.sh)\"",
            );
        let name = format!(
            "pc_cluster_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let mut conn =
            tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(&admin))
                .await
                .expect("PostgreSQL answers in time")
                .expect("PostgreSQL lets us in");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        conn.close().await.ok();
        Database { admin, name }
    }

    /// The server's host and port (`127.0.0.1:5432`).
    fn server(&self) -> SocketAddr {
        let rest = self.admin.split_once("://").map_or("", |(_, r)| r);
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let host = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:5432")
        };
        host.replace("localhost", "127.0.0.1")
            .parse()
            .expect("a host:port")
    }

    /// This database's URL through `server` (the proxy, or the real one).
    fn url_via(&self, server: SocketAddr) -> String {
        let rest = self.admin.split_once("://").map_or("", |(_, r)| r);
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let user = authority.rsplit_once('@').map_or("postgres", |(u, _)| u);
        format!("postgres://{user}@{server}/{}", self.name)
    }

    async fn connect(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url_via(self.server()))
            .await
            .expect("connect to the test database")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A TCP proxy to PostgreSQL that the test can cut (every connection
/// dropped, new ones refused) and restore.
struct Proxy {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    live: Arc<Mutex<CancellationToken>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let cut = Arc::new(AtomicBool::new(false));
        let live = Arc::new(Mutex::new(CancellationToken::new()));
        let (c, l) = (cut.clone(), live.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::Acquire) {
                    drop(inbound);
                    continue;
                }
                let stop = l.lock().expect("lock").clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = stop.cancelled() => {}
                    }
                });
            }
        });
        Proxy { addr, cut, live }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::Release);
        let mut live = self.live.lock().expect("lock");
        live.cancel();
        *live = CancellationToken::new();
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::Release);
    }
}

/// HAProxy in front of the nodes, with deploy/haproxy.cfg itself.
struct Haproxy {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    fn start(nodes: &[&Server]) -> Haproxy {
        let binary = std::env::var("PEERCIRCLE_TEST_HAPROXY")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .expect(
                "the cluster test needs HAProxy: \
                 export PEERCIRCLE_TEST_HAPROXY=\"$(bash tests/haproxy.sh)\"",
            );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = test_config(port, nodes);
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        let child = Command::new(&binary)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("haproxy.log")).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start HAProxy at {binary}: {e}"));
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "HAProxy did not start listening: {}",
                std::fs::read_to_string(dir.path().join("haproxy.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Haproxy {
            child,
            addr,
            _dir: dir,
        }
    }
}

/// deploy/haproxy.cfg for this machine: loopback on `port` instead of TLS
/// on 80/443 (and no syslog), fewer connections at once (HAProxy needs
/// two open files each), and these nodes as its servers. Everything
/// else (hashing, health checks, timeouts, retries) is as shipped.
fn test_config(port: u16, nodes: &[&Server]) -> String {
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/haproxy.cfg"))
            .expect("deploy/haproxy.cfg");
    let mut out = String::new();
    for line in shipped.lines() {
        let t = line.trim_start();
        let dropped = [
            "bind ",
            "http-request redirect",
            "log ",
            "ssl-default-bind",
            "server ",
        ];
        if dropped.iter().any(|d| t.starts_with(d)) {
            continue;
        }
        if t.starts_with("maxconn ") {
            // HAProxy wants two open files per connection; a test needs few.
            out.push_str("    maxconn 4000\n");
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if t.starts_with("frontend ") {
            out.push_str(&format!("    bind 127.0.0.1:{port}\n"));
        }
        if t.starts_with("default-server ") {
            for (i, n) in nodes.iter().enumerate() {
                out.push_str(&format!("    server n{} {} check\n", i + 1, n.addr));
            }
        }
    }
    assert!(
        out.contains("balance url_param session") && out.contains("server n3"),
        "{out}"
    );
    out
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = http.post(url).json(&body).timeout(Duration::from_secs(10));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// Fran's group with a session starting now and `people` who joined:
/// (Fran's token, the session, their tokens). Any node serves HTTP.
async fn a_session_now(
    http: &reqwest::Client,
    base: &str,
    people: usize,
) -> (String, String, Vec<String>) {
    let login = post(
        http,
        format!("{base}/api/login"),
        None,
        json!({"email": "fran@example.org", "password": "a good password"}),
    )
    .await;
    let fac_token = login["token"].as_str().expect("token").to_string();
    let group = post(
        http,
        format!("{base}/api/groups"),
        Some(&fac_token),
        json!({"name": "Carers evening", "description": "A test group.",
               "agreement": "Be kind.", "capacity": people.max(10)}),
    )
    .await;
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).expect("now");
    let sessions = post(
        http,
        format!(
            "{base}/api/groups/{}/sessions",
            group["id"].as_str().expect("id")
        ),
        Some(&fac_token),
        json!({"starts_at": now.to_string(), "duration_minutes": 120}),
    )
    .await;
    let session = sessions[0]["id"].as_str().expect("session").to_string();
    let names = ["Ana", "Ben", "Cat", "Dan", "Eve", "Finn", "Gus", "Hal"];
    let mut tokens = Vec::new();
    for name in names.iter().cycle().take(people) {
        let joined = post(
            http,
            format!("{base}/api/sessions/{session}/join"),
            None,
            json!({"name": name, "agree": true}),
        )
        .await;
        tokens.push(joined["token"].as_str().expect("token").to_string());
    }
    (fac_token, session, tokens)
}

fn person<'a>(welcome: &'a Value, id: &str) -> &'a Value {
    welcome["state"]["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or(&Value::Null)
}

/// The session's lease holder and token, read from the database.
async fn owner(db: &mut sqlx::PgConnection, session: &str) -> (String, i64) {
    let row = sqlx::query("SELECT node_id, token FROM session_lease WHERE session_id = $1")
        .bind(session)
        .fetch_one(db)
        .await
        .expect("the session has a lease");
    (row.get("node_id"), row.get("token"))
}

async fn saved(db: &mut sqlx::PgConnection, session: &str) -> Value {
    let data: String =
        sqlx::query_scalar("SELECT data FROM session_snapshots WHERE session_id = $1")
            .bind(session)
            .fetch_one(db)
            .await
            .expect("a snapshot");
    serde_json::from_str(&data).expect("snapshot JSON")
}

/// Someone who comes back after their socket closed: resumes from what
/// they had, through `addr`, with the web client's backoff (half to all of
/// 0.5 s, 1 s, 2 s, … up to 15 s between tries) until welcomed or `deadline`.
async fn come_back(
    addr: SocketAddr,
    session: &str,
    token: &str,
    had: (String, u64),
    deadline: Instant,
) -> Result<(Client, Duration), String> {
    let start = Instant::now();
    let hello = json!({"type": "hello", "token": token, "epoch": had.0, "last_seq": had.1});
    let mut failures: Vec<String> = Vec::new();
    let mut attempt = 0;
    loop {
        let base = (500u64 << attempt.min(5)).min(15_000);
        let delay = base / 2 + rand::random::<u64>() % (base / 2);
        attempt += 1;
        if Instant::now() + Duration::from_millis(delay) >= deadline {
            return Err(format!("not back in time: {failures:?}"));
        }
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // The web client waits 12 s for a welcome.
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(12));
        match Client::try_connect(addr, session, &hello, wait).await {
            Ok(c) => {
                if std::env::var_os("CLUSTER_VERBOSE").is_some() {
                    eprintln!(
                        "back after {:?}, having failed: {failures:?}",
                        start.elapsed()
                    );
                }
                return Ok((c, start.elapsed()));
            }
            Err(why) => failures.push(why),
        }
    }
}

/// Everyone comes back at once; panics unless all are welcomed in time.
async fn all_come_back(
    addr: SocketAddr,
    session: &str,
    people: &[(String, (String, u64))],
    within: Duration,
) -> Vec<(Client, Duration)> {
    let deadline = Instant::now() + within;
    let tasks: Vec<_> = people
        .iter()
        .map(|(token, had)| {
            let (session, token, had) = (session.to_string(), token.clone(), had.clone());
            tokio::spawn(async move { come_back(addr, &session, &token, had, deadline).await })
        })
        .collect();
    let mut back = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.expect("task") {
            Ok(c) => back.push(c),
            Err(e) => panic!("client {i}: {e}"),
        }
    }
    back
}

/// The group's state as everyone left it.
struct Expect {
    holder: String,
    queue: Vec<String>,
    on_break: String,
    muted: Vec<String>,
}

#[track_caller]
fn assert_state(w: &Value, want: &Expect, old_epoch: &str) {
    assert_eq!(
        w["resumed"], false,
        "the event history went with the old node: {w}"
    );
    assert_ne!(w["epoch"], old_epoch, "a new epoch after a takeover");
    let epoch = w["epoch"].as_str().expect("epoch");
    assert!(
        epoch.len() == 18 && epoch.starts_with("e_"),
        "an epoch is e_ and 16 characters: {epoch}"
    );
    let s = &w["state"];
    assert_eq!(s["session"]["phase"], "live");
    assert_eq!(s["session"]["mode"], "stick");
    assert_eq!(s["stick"]["holder"], want.holder.as_str(), "the holder");
    assert_eq!(s["queue"], json!(want.queue), "places in the queue");
    assert_eq!(
        person(w, &want.on_break)["break_note"],
        "making tea",
        "the break"
    );
    for m in &want.muted {
        assert_eq!(person(w, m)["muted"], true, "still muted: {m}");
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

// ------------------------------------------------------------------- test

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_survives_its_node_dying_pausing_and_losing_the_database() {
    let db = Database::create().await;
    let proxy = Proxy::start(db.server()).await;
    let url = db.url_via(proxy.addr);
    server::add_facilitator(&url, "fran@example.org", "Fran", "a good password");
    let lease = LEASE_SECS.to_string();
    let start = |id: &'static str| {
        Server::start(
            &url,
            &[
                ("PEERCIRCLE_NODE_ID", id),
                ("PEERCIRCLE_LEASE_SECS", lease.as_str()),
                // Behind HAProxy every connection comes from one address
                // (as in deploy/peercircle.env.example).
                ("PEERCIRCLE_HTTP_CONNECTIONS_PER_ADDRESS", "0"),
            ],
        )
    };
    let mut nodes: Vec<Option<(String, Server)>> = ["n1", "n2", "n3"]
        .into_iter()
        .map(|id| Some((id.to_string(), start(id))))
        .collect();
    let haproxy = {
        let servers: Vec<&Server> = nodes.iter().flatten().map(|(_, s)| s).collect();
        Haproxy::start(&servers)
    };
    let lb = haproxy.addr;
    let base = format!("http://{lb}");
    let mut pg = db.connect().await;

    // A group, a session now, six participants, all through HAProxy.
    let http = reqwest::Client::new();
    let (fac_token, session, people) = a_session_now(&http, &base, 6).await;
    let mut tokens = vec![fac_token.clone()];
    tokens.extend(people);
    let mut clients = Vec::new();
    for t in &tokens {
        clients.push(Client::connect(lb, &session, t).await);
    }
    let ids: Vec<String> = clients.iter().map(Client::id).collect();
    let (first_owner, _) = owner(&mut pg, &session).await;

    // Straight to a node that does not run it: relayed, both ways.
    let other = nodes
        .iter()
        .flatten()
        .find(|(id, _)| *id != first_owner)
        .map(|(_, s)| s.addr)
        .expect("another node");
    let mut relayed = Client::connect(other, &session, &tokens[6]).await;
    assert_eq!(
        owner(&mut pg, &session).await.0,
        first_owner,
        "the relay took nothing"
    );

    clients[0].ok(json!({"type": "start"})).await;
    clients[0]
        .ok(json!({"type": "mode", "mode": "stick", "turn_seconds": 300}))
        .await;
    relayed.wait_for("mode", |_| true).await;
    for i in [1, 2, 3] {
        clients[i].ok(json!({"type": "hand", "up": true})).await;
    }
    clients[4]
        .ok(json!({"type": "break", "on": true, "note": "making tea"}))
        .await;
    clients[0]
        .ok(json!({"type": "mute", "participant": ids[5], "on": true}))
        .await;
    // `lock` is stored (with a snapshot) before its ack: after these two
    // the database has everything above.
    clients[0].ok(json!({"type": "lock", "on": true})).await;
    clients[0].ok(json!({"type": "lock", "on": false})).await;
    let want = Expect {
        holder: ids[1].clone(),
        queue: vec![ids[2].clone(), ids[3].clone()],
        on_break: ids[4].clone(),
        muted: vec![ids[5].clone()],
    };
    relayed.close().await;

    // 1. kill -9 of the owner: everyone is back within 10 s, through HAProxy.
    let had: Vec<(String, (String, u64))> = clients
        .iter()
        .zip(&tokens)
        .map(|(c, t)| (t.clone(), (c.epoch(), c.last_seq())))
        .collect();
    let old_epoch = clients[0].epoch();
    drop(clients);
    let killed = nodes
        .iter_mut()
        .find(|n| n.as_ref().is_some_and(|(id, _)| *id == first_owner))
        .and_then(Option::take)
        .expect("the owner");
    killed.1.kill_hard();
    let back = all_come_back(lb, &session, &had, Duration::from_secs(10)).await;
    let mut times: Vec<Duration> = back.iter().map(|(_, t)| *t).collect();
    times.sort();
    eprintln!(
        "back after kill -9: p50 {:?}, max {:?}",
        percentile(&times, 0.5),
        times[times.len() - 1]
    );
    for (c, _) in &back {
        assert_state(&c.welcome, &want, &old_epoch);
    }
    let (second_owner, second_token) = owner(&mut pg, &session).await;
    assert_ne!(second_owner, first_owner, "another node runs it");
    let clients: Vec<Client> = back.into_iter().map(|(c, _)| c).collect();

    // 2. kill -STOP of the new owner until the third node takes the lease.
    let (paused_addr, third_addr) = {
        let live: Vec<&(String, Server)> = nodes.iter().flatten().collect();
        let paused = live
            .iter()
            .find(|(id, _)| *id == second_owner)
            .expect("owner");
        let third = live
            .iter()
            .find(|(id, _)| *id != second_owner)
            .expect("third");
        (paused.1.addr, third.1.addr)
    };
    // Ben also has a socket straight on the owner; it will be the zombie's.
    let mut zombie_socket = Client::connect(paused_addr, &session, &tokens[2]).await;
    let had: Vec<(String, (String, u64))> = clients
        .iter()
        .zip(&tokens)
        .map(|(c, t)| (t.clone(), (c.epoch(), c.last_seq())))
        .collect();
    let paused_epoch = clients[0].epoch();
    let paused = nodes
        .iter()
        .flatten()
        .find(|(id, _)| *id == second_owner)
        .map(|(_, s)| s)
        .expect("owner");
    paused.signal("STOP");
    // Meanwhile Ben lowers his hand on the paused node: it must never count.
    zombie_socket
        .send_raw(&json!({"type": "hand", "up": false, "ref": "zombie-1"}).to_string())
        .await;
    drop(clients);
    let back = all_come_back(
        third_addr,
        &session,
        &had,
        Duration::from_secs(LEASE_SECS + 8),
    )
    .await;
    let (third_owner, third_token) = owner(&mut pg, &session).await;
    assert_ne!(third_owner, second_owner, "the third node took the session");
    assert!(third_token > second_token, "tokens only grow");
    let mut clients: Vec<Client> = back.into_iter().map(|(c, _)| c).collect();
    for c in &clients {
        assert_state(&c.welcome, &want, &paused_epoch);
    }
    // The new owner saves a change of its own.
    clients[0]
        .ok(json!({"type": "mute", "participant": ids[6], "on": true}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !snapshot_mutes(&saved(&mut pg, &session).await, &ids[6]) {
        assert!(
            Instant::now() < deadline,
            "the new owner's snapshot was not saved"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    paused.signal("CONT");
    // The old node stops serving it: its socket closes with 1001.
    let code = zombie_socket.closed_within(Duration::from_secs(10)).await;
    assert_eq!(
        code,
        Some(Some(1001)),
        "the paused node gave the session up"
    );
    // Past its snapshot interval, nothing of the old node reached the database.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        owner(&mut pg, &session).await,
        (third_owner.clone(), third_token)
    );
    let snap = saved(&mut pg, &session).await;
    assert!(
        snap["queue"]
            .as_array()
            .expect("queue")
            .iter()
            .any(|m| m == &json!(ids[2])),
        "Ben's hand, lowered on the paused node, is still up: {}",
        snap["queue"]
    );
    assert!(
        snapshot_mutes(&snap, &ids[6]),
        "the new owner's mute stands"
    );
    let want = Expect {
        muted: vec![ids[5].clone(), ids[6].clone()],
        ..want
    };

    // 3. PostgreSQL unreachable for longer than a lease.
    let owner_addr = nodes
        .iter()
        .flatten()
        .find(|(id, _)| *id == third_owner)
        .map(|(_, s)| s.addr)
        .expect("owner");
    let had: Vec<(String, (String, u64))> = clients
        .iter()
        .zip(&tokens)
        .map(|(c, t)| (t.clone(), (c.epoch(), c.last_seq())))
        .collect();
    let outage_epoch = clients[0].epoch();
    proxy.cut();
    let cut_at = Instant::now();
    for c in clients.iter_mut() {
        let code = c
            .closed_within(Duration::from_secs(LEASE_SECS + 2).saturating_sub(cut_at.elapsed()))
            .await;
        assert_eq!(
            code,
            Some(Some(1001)),
            "the owner stops the session before its lease ends"
        );
    }
    let ready = http
        .get(format!("http://{owner_addr}/readyz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("readyz answers");
    assert_eq!(ready.status(), 503, "not ready without the database");
    let outage = Duration::from_secs(LEASE_SECS + 2);
    tokio::time::sleep(outage.saturating_sub(cut_at.elapsed())).await;
    proxy.restore();
    let back = all_come_back(lb, &session, &had, Duration::from_secs(20)).await;
    for (c, _) in &back {
        assert_state(&c.welcome, &want, &outage_epoch);
    }
}

/// Whether `member` is muted in a saved snapshot.
fn snapshot_mutes(snap: &Value, member: &str) -> bool {
    snap["members"]
        .as_array()
        .is_some_and(|ms| ms.iter().any(|m| m["id"] == member && m["muted"] == true))
}

/// A sign-out or a cancellation served by one node reaches the session on
/// the node that runs it (PostgreSQL NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_actions_on_one_node_reach_the_session_on_another() {
    let db = Database::create().await;
    let url = db.url_via(db.server());
    server::add_facilitator(&url, "fran@example.org", "Fran", "a good password");
    let runs = Server::start(&url, &[("PEERCIRCLE_NODE_ID", "n1")]);
    let other = Server::start(&url, &[("PEERCIRCLE_NODE_ID", "n2")]);
    let http = reqwest::Client::new();
    let (fac_token, session, people) = a_session_now(&http, &other.base, 1).await;
    let mut fac = Client::connect(runs.addr, &session, &fac_token).await;
    let mut ana = Client::connect(runs.addr, &session, &people[0]).await;
    let mut pg = db.connect().await;
    assert_eq!(owner(&mut pg, &session).await.0, "n1");

    // Paused on n1: the session's card on n2 says so.
    fac.ok(json!({"type": "start"})).await;
    fac.ok(json!({"type": "pause", "on": true})).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let card: Value = http
            .get(other.url(&format!("/api/sessions/{session}")))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .expect("card")
            .json()
            .await
            .expect("json");
        if card["phase"] == "paused" {
            break;
        }
        assert!(Instant::now() < deadline, "n2 shows {}", card["phase"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Fran signs out on n2: her socket on n1 closes (4001).
    let res = http
        .post(other.url("/api/logout"))
        .bearer_auth(&fac_token)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("logout");
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        fac.closed_within(Duration::from_secs(5)).await,
        Some(Some(4001)),
        "signed out everywhere"
    );

    // Signed in again, she cancels the session on n2: it ends on n1.
    let login = post(
        &http,
        other.url("/api/login"),
        None,
        json!({"email": "fran@example.org", "password": "a good password"}),
    )
    .await;
    let again = login["token"].as_str().expect("token").to_string();
    let res = http
        .delete(other.url(&format!("/api/sessions/{session}")))
        .bearer_auth(&again)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("cancel");
    assert!(res.status().is_success(), "{}", res.status());
    ana.wait_for("phase", |e| e["phase"] == "ended").await;
    assert_eq!(
        ana.closed_within(Duration::from_secs(5)).await,
        Some(Some(4004)),
        "the session ended where it runs"
    );
}

/// The figures of BENCHMARKS.md "Cluster" (not a test: run it with
/// `bash benches/cluster.sh`). One node runs `CLUSTER_SESSIONS` sessions
/// (default 100) of 12 people each, one of whom raises or lowers a hand
/// every second; it measures the database's transactions per second (every
/// lease and snapshot statement is one) per 1,000 live sessions, then kills
/// that node with `kill -9` and times until each person has a new welcome
/// through HAProxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement: bash benches/cluster.sh"]
async fn measure_failover_of_a_node_running_many_sessions() {
    let count: usize = std::env::var("CLUSTER_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    const PEOPLE: usize = 11;
    let db = Database::create().await;
    let url = db.url_via(db.server());
    server::add_facilitator(&url, "fran@example.org", "Fran", "a good password");
    let env = |id: &'static str| {
        vec![
            ("PEERCIRCLE_NODE_ID", id),
            ("PEERCIRCLE_LEASE_SECS", "6"),
            ("PEERCIRCLE_LOG", "error"),
            ("PEERCIRCLE_HTTP_CONNECTIONS_PER_ADDRESS", "0"),
        ]
    };
    let first = Server::start(&url, &env("n1"));
    let n2 = Server::start(&url, &env("n2"));
    let n3 = Server::start(&url, &env("n3"));
    let haproxy = Haproxy::start(&[&first, &n2, &n3]);
    let http = reqwest::Client::new();
    let mut all = Vec::new();
    for _ in 0..count {
        let (fac, session, people) = a_session_now(&http, &first.base, PEOPLE).await;
        let mut tokens = vec![fac];
        tokens.extend(people);
        all.push((session, tokens));
    }
    // Everyone on n1, which therefore runs every session.
    let mut clients = Vec::new();
    for (session, tokens) in &all {
        let mut these = Vec::new();
        for t in tokens {
            these.push(Client::connect(first.addr, session, t).await);
        }
        these[0].ok(json!({"type": "start"})).await;
        clients.push(these);
    }
    let mut pg = db.connect().await;
    let owned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM session_lease WHERE node_id = 'n1'")
        .fetch_one(&mut pg)
        .await
        .expect("count");
    assert_eq!(owned as usize, count, "n1 runs every session");
    // Quiet: nobody does anything (only the lease renewals write).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let quiet_window = Duration::from_secs(10);
    let before = transactions(&mut pg, &db.name).await;
    let started = Instant::now();
    tokio::time::sleep(quiet_window).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = transactions(&mut pg, &db.name).await;
    let quiet_per_sec = (after - before - 2) as f64 / started.elapsed().as_secs_f64();
    // Activity: in each session someone raises or lowers a hand each second.
    let stop = CancellationToken::new();
    let mut movers = Vec::new();
    for these in clients.iter_mut() {
        let mut c = these.pop().expect("a participant");
        let stop = stop.clone();
        movers.push(tokio::spawn(async move {
            let mut up = true;
            while !stop.is_cancelled() {
                c.send_raw(&json!({"type": "hand", "up": up}).to_string())
                    .await;
                up = !up;
                c.drain(Duration::from_millis(1000)).await;
            }
            c
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let window = Duration::from_secs(20);
    let before = transactions(&mut pg, &db.name).await;
    let started = Instant::now();
    tokio::time::sleep(window).await;
    // Statistics reach pg_stat_database within a second or so.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = transactions(&mut pg, &db.name).await;
    let elapsed = started.elapsed().as_secs_f64();
    // This connection's two statistics queries count too; leave them out.
    let per_sec = (after - before - 2) as f64 / elapsed;
    stop.cancel();
    for m in movers {
        let c = m.await.expect("mover");
        drop(c);
    }
    // kill -9 and everyone comes back through HAProxy.
    let mut had = Vec::new();
    for ((session, tokens), these) in all.iter().zip(&clients) {
        for (c, t) in these.iter().zip(tokens) {
            had.push((session.clone(), t.clone(), (c.epoch(), c.last_seq())));
        }
    }
    drop(clients);
    let killed_at = Instant::now();
    first.kill_hard();
    let deadline = killed_at + Duration::from_secs(60);
    let tasks: Vec<_> = had
        .into_iter()
        .map(|(session, token, was)| {
            let lb = haproxy.addr;
            tokio::spawn(async move {
                come_back(lb, &session, &token, was, deadline)
                    .await
                    .map(|_| killed_at.elapsed())
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(d) => times.push(d),
            Err(_) => failed += 1,
        }
    }
    times.sort();
    eprintln!(
        "CLUSTER sessions={count} people={} quiet: db_transactions_per_s={quiet_per_sec:.1} \
         per_1000_sessions={:.1}; a hand a second per session: db_transactions_per_s={per_sec:.1} \
         per_1000_sessions={:.1}",
        count * (PEOPLE + 1),
        quiet_per_sec * 1000.0 / count as f64,
        per_sec * 1000.0 / count as f64
    );
    eprintln!(
        "CLUSTER failover after kill -9: clients={} failed={failed} p50={:.2}s p99={:.2}s max={:.2}s",
        times.len(),
        percentile(&times, 0.5).as_secs_f64(),
        percentile(&times, 0.99).as_secs_f64(),
        times.last().copied().unwrap_or_default().as_secs_f64()
    );
    assert_eq!(failed, 0, "everyone came back");
}

/// Transactions committed or rolled back in database `name` so far.
async fn transactions(pg: &mut sqlx::PgConnection, name: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_one(pg)
    .await
    .expect("stats")
}
