//! The abuse suite, inside the live session (issue 10, items 1, 3, 4, 5, 9
//! and the oversized hello): each test is one way a raider or a careless
//! client could shut a group out, grow the server's memory or outlast a
//! removal, and what must hold instead. Bounded in time; loopback only. The
//! HTTP side of the suite is `tests/abuse.rs`.

mod common;
mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::ws::{self, Client};

use common::TestApp;

struct Room {
    app: TestApp,
    session: String,
    fac_token: String,
}

async fn room(app: TestApp) -> Room {
    app.create_facilitator("fac@example.org", "Fran", "a good password")
        .await;
    let fac_token = app.login("fac@example.org", "a good password").await;
    let (_group, session) = app.open_session(&fac_token).await;
    Room {
        app,
        session,
        fac_token,
    }
}

impl Room {
    async fn facilitator(&self) -> Client {
        Client::connect(self.app.addr, &self.session, &self.fac_token).await
    }

    async fn participant(&self, name: &str) -> (Client, String) {
        let (_id, token) = self.app.join(&self.session, name).await;
        (
            Client::connect(self.app.addr, &self.session, &token).await,
            token,
        )
    }
}

/// 2,000 characters of four bytes each: the biggest message there is.
fn heavy(tag: usize) -> String {
    format!("{tag:04}{}", "💛".repeat(1996))
}

#[tokio::test]
async fn welcome_is_bounded_whatever_was_said() {
    let r = room(common::spawn_app().await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let mut people = Vec::new();
    for i in 0..10 {
        people.push(r.participant(&format!("P{i}")).await.0);
    }
    // Two hundred of the biggest messages there are, each person within
    // their rate limit (the clock moves past the window in between).
    let mut n = 0;
    for round in 0..2 {
        if round == 1 {
            tokio::time::pause();
            tokio::time::advance(Duration::from_secs(11)).await;
            tokio::time::resume();
        }
        for p in &mut people {
            for _ in 0..10 {
                p.ok(json!({"type": "say", "room": "main", "text": heavy(n)}))
                    .await;
                n += 1;
            }
        }
    }
    // A newcomer and the facilitator on a new device both get in.
    let (newcomer, _) = r.participant("Newcomer").await;
    let again = r.facilitator().await;
    for c in [&newcomer, &again] {
        let size = c.welcome.to_string().len();
        assert!(size < 320 * 1024, "a welcome of {size} bytes");
        let main = &c.welcome["state"]["rooms"][0];
        assert_eq!(main["more"], true, "older messages are paged");
        let shown = main["messages"].as_array().expect("messages");
        assert!(!shown.is_empty());
        assert!(
            shown.last().expect("newest")["text"]
                .as_str()
                .expect("text")
                .starts_with("0199"),
            "the newest message is there"
        );
    }
    // Everything still held is reachable page by page.
    let mut c = again;
    let main = c.welcome["state"]["rooms"][0].clone();
    let mut oldest = main["messages"][0]["id"].as_str().expect("id").to_string();
    let mut seen = main["messages"].as_array().expect("messages").len();
    loop {
        let answer = c
            .cmd(json!({"type": "history", "room": "main", "before": oldest, "limit": 100}))
            .await;
        assert_eq!(answer["type"], "ack", "{answer}");
        let page: Value = c.pages.pop().expect("a history frame before the ack");
        let messages = page["messages"].as_array().expect("messages");
        assert!(page.to_string().len() < 320 * 1024);
        seen += messages.len();
        if page["more"] != true {
            break;
        }
        oldest = messages[0]["id"].as_str().expect("id").to_string();
    }
    assert_eq!(seen, 200, "the room keeps its last 200 messages");
}

#[tokio::test]
async fn every_participant_command_is_rate_limited() {
    let r = room(common::spawn_app().await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let (mut raider, _) = r.participant("Raider").await;
    // Help requests: the same one again is one request; distinct ones stop
    // at the limit (6 a minute).
    for _ in 0..5 {
        raider
            .ok(json!({"type": "need_help", "note": "again"}))
            .await;
    }
    let mut refused = 0;
    for i in 0..20 {
        let answer = raider
            .cmd(json!({"type": "need_help", "note": format!("note {i}")}))
            .await;
        if answer["type"] == "error" {
            assert_eq!(answer["code"], "rate_limited");
            refused += 1;
        }
    }
    assert!(refused >= 14, "{refused} refused");
    fac.ok(json!({"type": "announce", "text": "marker"})).await;
    fac.wait_for("announced", |_| true).await;
    let asks = fac
        .events
        .iter()
        .filter(|e| e["kind"] == "help_requested")
        .count();
    assert!(asks <= 6, "{asks} help requests reached the facilitator");
    assert_eq!(
        fac.events
            .iter()
            .filter(|e| e["kind"] == "help_requested" && e["note"] == "again")
            .count(),
        1,
        "repeated identical requests coalesce"
    );
    // Breaks, hands and reactions are limited too.
    for (command, limit) in [
        (json!({"type": "break", "on": true, "note": "x"}), 6),
        (json!({"type": "hand", "up": true}), 20),
    ] {
        let mut codes = Vec::new();
        for i in 0..40 {
            let mut c = command.clone();
            if c["type"] == "break" {
                c["on"] = json!(i % 2 == 0);
            } else {
                c["up"] = json!(i % 2 == 0);
            }
            let answer = raider.cmd(c).await;
            codes.push(answer["code"].as_str().unwrap_or("ok").to_string());
        }
        let accepted = codes.iter().filter(|c| *c == "ok").count();
        assert!(accepted <= limit, "{command}: {accepted} accepted");
        assert!(codes.iter().any(|c| c == "rate_limited"), "{command}");
    }
    // The facilitator is never slowed by it.
    fac.ok(json!({"type": "announce", "text": "still here"}))
        .await;
}

#[tokio::test]
async fn a_dropped_slow_socket_is_closed_within_seconds() {
    let r = room(common::spawn_app().await).await;
    let mut fac = r.facilitator().await;
    // A participant whose client never reads, with a tiny receive buffer.
    let (_, token) = r.app.join(&r.session, "Stuck").await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    let tcp = socket.connect(r.app.addr).await.expect("connect");
    let (mut stuck, _) = tokio_tungstenite::client_async(r.app.ws_url(&r.session), tcp)
        .await
        .expect("websocket");
    stuck
        .send(tokio_tungstenite::tungstenite::Message::text(
            json!({"type": "hello", "token": token}).to_string(),
        ))
        .await
        .expect("hello");
    let open = r.app.state.sessions.connections.clone();
    // Wait for the welcome to be read, then never read again.
    let _ = stuck.next().await;
    assert_eq!(open.load(Ordering::SeqCst), 2);
    // Megabytes for everyone: the stuck socket's kernel buffers and queue
    // fill up and the server drops it.
    for i in 0..1200 {
        fac.send_raw(&json!({"type": "say", "room": "main", "text": heavy(i)}).to_string())
            .await;
        if i % 8 == 0 {
            fac.drain(Duration::from_millis(1)).await;
        }
    }
    // Within a few seconds its task ends: the descriptor and its queued
    // frames are gone, although the client never read nor closed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    while open.load(Ordering::SeqCst) > 1 && tokio::time::Instant::now() < deadline {
        fac.drain(Duration::from_millis(50)).await;
    }
    assert_eq!(
        open.load(Ordering::SeqCst),
        1,
        "the stuck socket was not let go"
    );
    drop(stuck);
}

/// Waits (a few seconds at most) until the server holds `n` sockets.
async fn settle(app: &TestApp, n: usize) {
    let open = &app.state.sessions.connections;
    for _ in 0..300 {
        if open.load(Ordering::SeqCst) <= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(open.load(Ordering::SeqCst) <= n, "sockets were not let go");
}

#[tokio::test]
async fn one_token_cannot_take_every_socket() {
    let r = room(common::spawn_app_with(|s| s.max_connections = 24).await).await;
    let (first, token) = r.participant("Many").await;
    let mut sockets = vec![first];
    // One token opens socket after socket: each one past the eighth closes
    // the oldest (1008), so this person never holds more than 8.
    for opened in 1..30 {
        sockets.push(Client::connect(r.app.addr, &r.session, &token).await);
        if opened >= 8 {
            let oldest = opened - 8;
            assert_eq!(sockets[oldest].closed_with().await, Some(1008));
            settle(&r.app, 8).await;
        }
    }
    for s in &mut sockets[22..] {
        assert!(s.closed.is_none());
    }
    assert_eq!(
        r.app.state.sessions.connections.load(Ordering::SeqCst),
        8,
        "eight sockets of 24 at most"
    );
    // The facilitator still gets in.
    let fac = r.facilitator().await;
    assert_eq!(fac.welcome["you"]["role"], "facilitator");
}

#[tokio::test]
async fn logout_closes_the_facilitators_sockets() {
    let r = room(common::spawn_app().await).await;
    let mut fac = r.facilitator().await;
    let res = reqwest::Client::new()
        .post(r.app.url("/api/logout"))
        .bearer_auth(&r.fac_token)
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(fac.closed_with().await, Some(4001));

    // A co-facilitator taken off the group loses its live session at once.
    let (_, owner) = r.app.facilitator("Owner").await;
    let (co, co_token) = r.app.facilitator("Co").await;
    let (group, session) = r
        .app
        .open_session_with(&owner, json!({"facilitators": [co.email]}))
        .await;
    let mut co_socket = Client::connect(r.app.addr, &session, &co_token).await;
    co_socket.ok(json!({"type": "start"})).await;
    let (status, body) = r
        .app
        .put(
            &format!("/api/groups/{group}"),
            Some(&owner),
            &json!({"name": "Test circle", "agreement": "Be kind.", "facilitators": []}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    assert_eq!(co_socket.closed_with().await, Some(4001));
}

#[tokio::test]
async fn an_oversized_hello_closes_with_1009() {
    let r = room(common::spawn_app().await).await;
    for size in [20 * 1024, 70 * 1024] {
        let mut s = ws::open(r.app.addr, &r.session).await;
        let hello = json!({"type": "hello", "token": "x".repeat(size)});
        ws::send_text(&mut s, hello.to_string()).await;
        assert_eq!(ws::close_code(&mut s).await, Some(1009), "{size} bytes");
    }
}
