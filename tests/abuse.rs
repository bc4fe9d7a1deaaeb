//! The abuse suite (issue 10): a raider who joins, a removed person who
//! returns, a flood of logins or connections, a page that is not ours:
//! each attack over real sockets against the real server on 127.0.0.1:0,
//! one test per point, each bounded in time. Timers run on tokio's paused
//! clock where the server's own timers are what is tested.

mod common;
mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{client, spawn_app, spawn_app_with, TestApp};
use peercircle::settings::Settings;
use peercircle::startup::Application;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Reads whatever the server sends until it closes (or `wait` passes):
/// `None` when the connection is still open after `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A connection from a given local address (any 127/8 address is loopback).
async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("address"))
        .expect("bind");
    socket.connect(to).await.expect("connect")
}

/// One `GET` on a fresh connection (closed after), the whole answer.
async fn raw_get(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    read_until_closed(stream, Duration::from_secs(10))
        .await
        .expect("answered and closed")
}

// --- 2. Wrong logins cannot exhaust memory -----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_logins_never_hash_more_than_the_bound_at_once() {
    let app = spawn_app_with(|s| {
        s.hash_concurrency = 2;
        s.hash_wait_ms = 100;
    })
    .await;
    app.create_facilitator("h@example.org", "H", "password-123")
        .await;
    let attempts = (0..40).map(|i| {
        let http = client();
        let url = app.url("/api/login");
        // Half for a real account, half for unknown addresses (the dummy hash).
        let email = if i % 2 == 0 {
            "h@example.org".to_string()
        } else {
            format!("nobody{i}@example.org")
        };
        async move {
            let res = http
                .post(url)
                .json(&json!({"email": email, "password": "wrong-password"}))
                .send()
                .await
                .expect("login");
            let retry = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let (status, body) = common::answer(res).await;
            (status, body, retry)
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let peak = app.state.hashing.peak();
    assert!(
        (1..=2).contains(&peak),
        "at most two hashes ran at once, saw {peak}"
    );
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "the excess is turned away");
    for (_, body, retry) in &busy {
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        let secs: u64 = retry
            .as_deref()
            .and_then(|r| r.parse().ok())
            .expect("a Retry-After in seconds");
        assert!((1..=60).contains(&secs));
    }
    assert!(answers
        .iter()
        .all(|(s, _, _)| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::SERVICE_UNAVAILABLE));
    assert!(
        answers
            .iter()
            .any(|(s, _, _)| *s == StatusCode::UNAUTHORIZED),
        "those that got a slot were answered"
    );
    // And the right password still works once the burst is over.
    app.login("h@example.org", "password-123").await;
}

// --- 6. HTTP timeouts and connections per address ----------------------------

#[tokio::test]
async fn a_partial_request_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(|s| s.http_header_timeout_secs = 10).await;
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\nx-slow: ")
        .await
        .expect("write");
    assert_eq!(
        read_until_closed(&mut stream, Duration::from_secs(9)).await,
        None,
        "still open within the timeout"
    );
    let closed = read_until_closed(&mut stream, Duration::from_secs(600)).await;
    assert!(closed.is_some(), "closed after the header timeout");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(12),
        "closed at {waited:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(|s| s.http_header_timeout_secs = 5).await;
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let closed = read_until_closed(&mut stream, Duration::from_secs(600)).await;
    assert!(closed.is_some(), "closed");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(7),
        "{waited:?}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|s| {
        s.http_header_timeout_secs = 10;
        s.http_idle_timeout_secs = 30;
    })
    .await;
    tokio::time::pause();
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 2048];
    let n = stream.read(&mut buf).await.expect("answer");
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answered = tokio::time::Instant::now();
    // Kept alive well past the header timeout…
    assert_eq!(
        read_until_closed(&mut stream, Duration::from_secs(29)).await,
        None
    );
    // …and closed once idle for the idle timeout.
    assert!(read_until_closed(&mut stream, Duration::from_secs(600))
        .await
        .is_some());
    let idle = answered.elapsed();
    assert!(
        idle >= Duration::from_secs(30) && idle < Duration::from_secs(32),
        "{idle:?}"
    );
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let app = spawn_app_with(|s| s.http_connections_per_address = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = connect_from("127.0.0.1", app.addr).await;
        // Half a request: each connection stays open and counted.
        s.write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .expect("write");
        held.push(s);
    }
    // The fourth from the same address is refused at once.
    let mut fourth = connect_from("127.0.0.1", app.addr).await;
    let answer = read_until_closed(&mut fourth, Duration::from_secs(5))
        .await
        .expect("the fourth is closed at once");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
        "{answer}"
    );
    // Someone else is still served.
    let mut other = connect_from("127.0.0.2", app.addr).await;
    let answer = raw_get(&mut other, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The held ones are still served too: finishing a request answers it.
    held[0]
        .write_all(b"host: test\r\nconnection: close\r\n\r\n")
        .await
        .expect("finish");
    let answer = read_until_closed(&mut held[0], Duration::from_secs(10))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn websockets_upgrade_through_the_new_accept_loop() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let (_, session) = app.open_session(&token).await;
    let (_, p) = app.join(&session, "Sam").await;
    // Upgraded sockets leave the HTTP limits: more than the cap from one address.
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(support::ws::Client::connect(app.addr, &session, &p).await);
    }
    assert_eq!(clients.len(), 3);
}

// --- 7. Client addresses ------------------------------------------------------

#[tokio::test]
async fn forwarded_for_is_read_from_the_right_not_from_what_the_client_wrote() {
    let app = spawn_app_with(|s| {
        s.login_per_minute = 1;
        s.rate_limit_loopback = true;
        s.trust_forwarded_for = true;
        s.trusted_proxies = 1;
    })
    .await;
    // The client writes a new address on the left each time; our proxy
    // appends the same real address on the right.
    let attempt = |spoofed: &'static str| {
        app.http
            .post(app.url("/api/login"))
            .header("x-forwarded-for", format!("{spoofed}, 203.0.113.9"))
            .json(&json!({"email": "x@example.org", "password": "whatever1"}))
            .send()
    };
    assert_eq!(
        attempt("198.51.100.1").await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("198.51.100.2").await.expect("send").status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a made-up left entry does not buy new attempts"
    );
    // Another real client (another right-hand entry) is not affected.
    let res = app
        .http
        .post(app.url("/api/login"))
        .header("x-forwarded-for", "203.0.113.10")
        .json(&json!({"email": "x@example.org", "password": "whatever1"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn loopback_is_rate_limited_by_default() {
    // A proxy on the same host makes every client 127.0.0.1.
    let app = spawn_app_with(|s| {
        s.login_per_minute = 2;
        s.rate_limit_loopback = Settings::default().rate_limit_loopback;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (s, _) = app
            .post(
                "/api/login",
                None,
                &json!({"email": "l@example.org", "password": "password-123"}),
            )
            .await;
        statuses.push(s);
    }
    assert_eq!(statuses[2], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}

async fn join_with(
    app: &TestApp,
    http: &reqwest::Client,
    session: &str,
    name: &str,
) -> (StatusCode, Value) {
    let res = http
        .post(app.url(&format!("/api/sessions/{session}/join")))
        .json(&json!({"name": name, "agree": true}))
        .send()
        .await
        .expect("join");
    common::answer(res).await
}

#[tokio::test]
async fn an_address_ban_never_refuses_a_regular_with_an_earlier_device_cookie() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let (group, first) = app.open_session(&token).await;
    let later = app
        .create_session(&token, &group, &common::in_minutes(5), 60)
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    // A regular and a raider behind the same address (a library, a care home).
    let regular = client();
    let (s, _) = join_with(&app, &regular, &first, "Kim").await;
    assert_eq!(s, StatusCode::CREATED);
    let raider = client();
    let (s, b) = join_with(&app, &raider, &first, "Trouble").await;
    assert_eq!(s, StatusCode::CREATED);
    let raider_id = b["participant_id"].as_str().expect("id").to_string();
    let (s, _) = app
        .delete(
            &format!("/api/sessions/{first}/participants/{raider_id}?ban=true"),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let (s, b) = join_with(&app, &regular, &later, "Kim").await;
    assert_eq!(s, StatusCode::CREATED, "the regular keeps their place: {b}");
    let (s, _) = join_with(&app, &raider, &later, "Someone").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the raider's device is banned");
    let (s, _) = join_with(&app, &client(), &later, "Newcomer").await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a new browser from the banned address is refused (documented)"
    );
    // A made-up device cookie is not an earlier visit.
    let forged = reqwest::Client::new();
    let res = forged
        .post(app.url(&format!("/api/sessions/{later}/join")))
        .header("cookie", "peercircle_device=made-up-value")
        .json(&json!({"name": "Forger", "agree": true}))
        .send()
        .await
        .expect("join");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

// --- 8. Capacity squatting ----------------------------------------------------

/// A clock the test moves forward (the wall clock plus an offset).
struct MovableClock(AtomicI64);

impl peercircle::clock::Clock for MovableClock {
    fn now_ms(&self) -> i64 {
        peercircle::now_ms() + self.0.load(Ordering::Relaxed)
    }
}

#[tokio::test]
async fn joins_that_never_arrive_stop_holding_places() {
    let clock = Arc::new(MovableClock(AtomicI64::new(0)));
    let app = common::spawn_app_with_clock(|s| s.join_hold_secs = 120, clock.clone()).await;
    let (_, token) = app.facilitator("Robin").await;
    let (_, session) = app.open_session_with(&token, json!({"capacity": 3})).await;
    // One person arrives; two squatters join over HTTP and never connect.
    let (_, arrived) = app.join(&session, "Ana").await;
    let _ana = support::ws::Client::connect(app.addr, &session, &arrived).await;
    let (_, squatter) = app.join(&session, "Squat1").await;
    app.join(&session, "Squat2").await;
    let (s, b) = join_with(&app, &client(), &session, "Real person").await;
    assert_eq!(
        (s, b["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("full"))
    );
    let (_, card) = app.get(&format!("/api/sessions/{session}"), None).await;
    assert_eq!(card["joined"], 3);

    clock.0.store(121_000, Ordering::Relaxed);
    let (_, card) = app.get(&format!("/api/sessions/{session}"), None).await;
    assert_eq!(card["joined"], 1, "expired holds no longer count");
    let (s, b) = join_with(&app, &client(), &session, "Real person").await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = join_with(&app, &client(), &session, "Another").await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // The session is full again: a squatter who turns up late does not
    // take a place that was given to someone else.
    let mut late = support::ws::open(app.addr, &session).await;
    support::ws::send_text(
        &mut late,
        json!({"type": "hello", "token": squatter}).to_string(),
    )
    .await;
    assert_eq!(support::ws::close_code(&mut late).await, Some(4001));
    let (_, card) = app.get(&format!("/api/sessions/{session}"), None).await;
    assert_eq!(card["joined"], 3);
}

#[tokio::test]
async fn facilitators_see_and_remove_joins_that_never_arrived() {
    let app = spawn_app().await;
    let (facilitator, token) = app.facilitator("Robin").await;
    let (group, session) = app.open_session(&token).await;
    let (ana_id, ana_token) = app.join(&session, "Ana").await;
    let _ana = support::ws::Client::connect(app.addr, &session, &ana_token).await;
    let (squat_id, squat_token) = app.join(&session, "Squat").await;
    let path = format!("/api/sessions/{session}/participants");

    let (s, list) = app.get(&path, Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let list = list.as_array().expect("a list").clone();
    assert_eq!(list.len(), 2);
    let by_id = |id: &str| {
        list.iter()
            .find(|p| p["id"] == id)
            .cloned()
            .expect("listed")
    };
    assert_eq!(by_id(&ana_id)["arrived"], true);
    assert_eq!(by_id(&ana_id)["name"], "Ana");
    assert_eq!(by_id(&squat_id)["arrived"], false);
    assert_eq!(by_id(&squat_id)["removed"], false);
    assert!(by_id(&squat_id)["joined_at"].as_str().is_some());

    // Someone who arrived is removed from the session screen instead.
    let (s, b) = app.delete(&format!("{path}/{ana_id}"), Some(&token)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("session screen")));
    // Other people cannot see or remove anyone.
    let (_, stranger) = app.facilitator("Stranger").await;
    let (s, _) = app.get(&path, Some(&stranger)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.get(&path, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app
        .delete(&format!("{path}/{squat_id}"), Some(&stranger))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.delete(&format!("{path}/p_nope"), Some(&token)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, _) = app
        .delete(&format!("{path}/{squat_id}?ban=true"), Some(&token))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app.get(&path, Some(&token)).await;
    assert!(list
        .as_array()
        .expect("list")
        .iter()
        .any(|p| p["id"] == squat_id.as_str() && p["removed"] == true));
    // Their token no longer gets in.
    let mut late = support::ws::open(app.addr, &session).await;
    support::ws::send_text(
        &mut late,
        json!({"type": "hello", "token": squat_token}).to_string(),
    )
    .await;
    assert!(support::ws::close_code(&mut late).await.is_some());
    // Both are in the audit log, with ids only.
    let log = app.store.audit_log(&group, 20).await.expect("log");
    assert!(log
        .iter()
        .any(|e| e.action == "participants.list" && e.facilitator_id == facilitator.id));
    let removal = log
        .iter()
        .find(|e| e.action == "participant.remove")
        .expect("the removal is logged");
    assert_eq!(removal.target.as_deref(), Some(squat_id.as_str()));
    assert_eq!(removal.detail.as_deref(), Some("ban=true arrived=false"));
}

// --- 10. Names ------------------------------------------------------------------

#[tokio::test]
async fn names_that_hide_impersonate_or_reach_someone_are_refused_at_join() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Alex (demo facilitator)").await;
    let (_, session) = app.open_session(&token).await;
    for name in [
        "\u{200B}\u{200B}",
        "\u{FEFF}",
        "\u{202E}xelA",
        "Alex (demo facilitator)\u{200B}",
        "A1ex (Demo Facilitator)",
        "\u{0410}lex (demo facilitator)",
        "\u{FF10}\u{FF17}\u{FF17}\u{FF10}\u{FF10}\u{FF19}\u{FF10}\u{FF10}\u{FF11}",
        "\u{0660}\u{0667}\u{0667}\u{0660}\u{0660}\u{0669}\u{0660}\u{0660}\u{0661}",
        "0\u{200B}7\u{200B}7\u{200B}0\u{200B}0\u{200B}9\u{200B}0\u{200B}0",
        "sam\u{FF20}example.com",
        "sam @ example.com",
    ] {
        let (s, b) = join_with(&app, &client(), &session, name).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name:?}: {b}");
        let message = b["error"]["message"].as_str().expect("a message");
        assert!(
            !message.contains(name),
            "the message never repeats the name"
        );
    }
    let (s, b) = join_with(&app, &client(), &session, "Alex").await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

// --- 11. Headers, origins and the demo ----------------------------------------

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/s/s_x",
        "/app.js",
        "/healthz",
        "/api/nothing-here",
        "/api/me",
    ] {
        let res = client().get(app.url(path)).send().await.expect("get");
        let h = res.headers();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let csp = get("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(get("x-frame-options"), "DENY", "{path}");
        assert!(get("permissions-policy").contains("camera=()"), "{path}");
    }
    // The page keeps to the policy: every script is a file, no inline handlers.
    let page = client()
        .get(app.url("/"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    let lower = page.to_lowercase();
    for script in lower.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or_default();
        assert!(tag.contains("src="), "no inline script: <script{tag}>");
    }
    assert!(!lower.contains(" onclick=") && !lower.contains(" onload="));
    assert!(!lower.contains(" style=\""), "no inline style attributes");
}

async fn handshake(addr: SocketAddr, origin: &str, host: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /ws?session=s_any HTTP/1.1\r\nhost: {host}\r\norigin: {origin}\r\n\
         upgrade: websocket\r\nconnection: upgrade\r\n\
         sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.expect("answer");
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_rebound_host_name_cannot_open_a_socket() {
    let app = spawn_app().await;
    let port = app.addr.port();
    // evil.example resolves to 127.0.0.1: the browser sends its own Host.
    let evil = format!("evil.example:{port}");
    let status = handshake(app.addr, &format!("http://{evil}"), &evil).await;
    assert!(status.contains(" 403"), "{status}");
    // Our own pages still connect.
    let own = format!("127.0.0.1:{port}");
    let status = handshake(app.addr, &format!("http://{own}"), &own).await;
    assert!(status.contains(" 101"), "{status}");
    let local = format!("localhost:{port}");
    let status = handshake(app.addr, &format!("http://{local}"), &local).await;
    assert!(status.contains(" 101"), "{status}");
}

#[tokio::test]
async fn the_demo_on_an_open_address_has_a_random_password_printed_once() {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings =
        Settings::for_tests(format!("sqlite://{}", dir.path().join("d.db").display()));
    settings.demo = true;
    settings.listen = "0.0.0.0:0".parse().expect("addr");
    let app = Application::build(settings.clone()).await.expect("start");
    let demo = app.demo().expect("the demo is created").clone();
    assert_ne!(demo.password, peercircle::demo::DEMO_PASSWORD);
    assert!(demo.banner("http://x").contains(&demo.password), "printed");
    let port = app.port();
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    let login = |password: String| {
        let url = format!("http://127.0.0.1:{port}/api/login");
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"email": peercircle::demo::DEMO_EMAIL, "password": password}))
                .send()
                .await
                .expect("login")
                .status()
        }
    };
    assert_eq!(
        login(peercircle::demo::DEMO_PASSWORD.into()).await,
        StatusCode::UNAUTHORIZED,
        "the known password does not open a reachable server"
    );
    assert_eq!(login(demo.password.clone()).await, StatusCode::OK);
    shutdown.cancel();
    server.await.expect("task").expect("stops");
    // A second start prints nothing: the password was shown once.
    let again = Application::build(settings).await.expect("restart");
    assert!(again.demo().is_none());
}

// --- 12. One server per database ----------------------------------------------

#[tokio::test]
async fn a_second_server_on_the_same_database_refuses_to_start() {
    let dir = tempfile::tempdir().expect("dir");
    let settings = Settings::for_tests(format!("sqlite://{}", dir.path().join("one.db").display()));
    let first = Application::build(settings.clone()).await.expect("first");
    let err = match Application::build(settings.clone()).await {
        Ok(_) => panic!("a second server must not start on the same database"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("Another peercircle server"), "{err}");
    assert!(err.contains("one.db"), "names the database: {err}");
    assert!(
        err.contains(&format!("process {}", std::process::id())),
        "{err}"
    );
    // Once the first stops, the database is free again.
    let shutdown = first.shutdown_token();
    let server = tokio::spawn(first.run_until_stopped());
    shutdown.cancel();
    server.await.expect("task").expect("stops");
    Application::build(settings)
        .await
        .expect("starts after the first stopped");
    // In-memory databases are each their own: no lock.
    let memory = Settings::for_tests("sqlite::memory:".into());
    let _a = Application::build(memory.clone()).await.expect("memory");
    let _b = Application::build(memory).await.expect("memory again");
}
