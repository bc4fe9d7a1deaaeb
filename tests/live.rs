//! The live session over real sockets: a facilitator and participants run a
//! whole session against the real server on 127.0.0.1:0 (PROTOCOL.md §2–§5).
//!
//! Clocks (turns, warnings, grace periods, pauses, pings) run on tokio's
//! clock, which a test stops with `tokio::time::pause` and moves with
//! [`later`]; no test sleeps for real to let time pass. Joining and saying
//! hello touch the database (a thread of its own), so they happen while the
//! clock runs; only what follows from the clock happens while it is stopped.

mod common;
mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::ws::{self, Client};

use common::TestApp;

/// A server with the default clocks (180 s turns, a warning 30 s before,
/// 30 s of grace) and pings that never get in the way of a stopped clock.
async fn app() -> TestApp {
    common::spawn_app_with(|s| {
        s.ping_interval_secs = 3600;
        s.ping_timeout_secs = 7200;
    })
    .await
}

/// Moves the stopped clock on by `secs`, as if that time had passed.
async fn later(secs: u64) {
    tokio::time::advance(Duration::from_secs(secs)).await;
}

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
        let mut c = Client::connect(self.app.addr, &self.session, &self.fac_token).await;
        c.name = "facilitator";
        c
    }

    async fn participant(&self, name: &'static str) -> (Client, String) {
        let (_id, token) = self.app.join(&self.session, name).await;
        let mut c = Client::connect(self.app.addr, &self.session, &token).await;
        c.name = name;
        (c, token)
    }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn a_whole_session_with_the_talking_stick() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    assert_eq!(fac.welcome["you"]["role"], "facilitator");
    assert_eq!(fac.welcome["state"]["session"]["phase"], "lobby");

    let (mut ana, _) = r.participant("Ana").await;
    let (mut ben, ben_token) = r.participant("Ben").await;
    let (mut cat, _) = r.participant("Cat").await;
    let (mut dan, _) = r.participant("Dan").await;
    assert_eq!(ana.welcome["you"]["role"], "participant");
    assert_eq!(ana.welcome["you"]["name"], "Ana");
    let (a, b, c, d) = (ana.id(), ben.id(), cat.id(), dan.id());

    // In the lobby nobody but the facilitator may talk yet.
    assert_eq!(
        ana.refused(json!({"type": "say", "room": "main", "text": "hello?"}))
            .await,
        "paused"
    );

    fac.ok(json!({"type": "start"})).await;
    ana.wait_for("phase", |e| e["phase"] == "live").await;
    fac.ok(json!({"type": "mode", "mode": "stick"})).await;
    ana.wait_for("mode", |e| e["mode"] == "stick").await;

    // Nobody holds the stick: a participant may not speak in main...
    assert_eq!(
        ben.refused(json!({"type": "say", "room": "main", "text": "me first"}))
            .await,
        "not_your_turn"
    );
    // ...but the facilitator may.
    fac.ok(json!({"type": "say", "room": "main", "text": "Welcome, everyone."}))
        .await;
    dan.wait_for("said", |e| e["msg"]["text"] == "Welcome, everyone.")
        .await;

    // Hands go up: Cat first takes the stick at once.
    cat.ok(json!({"type": "hand", "up": true})).await;
    fac.wait_for("stick", |e| e["holder"] == c.as_str()).await;
    // Then Ana, Ben, Dan queue in the order their hands went up.
    ana.ok(json!({"type": "hand", "up": true})).await;
    ben.ok(json!({"type": "hand", "up": true})).await;
    dan.ok(json!({"type": "hand", "up": true})).await;
    let q = fac
        .wait_for("queue", |e| {
            e["queue"].as_array().is_some_and(|q| q.len() == 3)
        })
        .await;
    assert_eq!(ids(&q["queue"]), vec![a.clone(), b.clone(), d.clone()]);

    // Only the holder speaks; everyone hears it.
    cat.ok(json!({"type": "say", "room": "main", "text": "Thank you for having me."}))
        .await;
    ben.wait_for("said", |e| e["msg"]["from"] == c.as_str())
        .await;
    assert_eq!(
        ana.refused(json!({"type": "say", "room": "main", "text": "me too"}))
            .await,
        "not_your_turn"
    );
    // Ana may not pass a stick she does not hold.
    assert_eq!(ana.refused(json!({"type": "pass"})).await, "not_holder");

    // Cat passes; Cat raises her hand again and, having spoken once, goes
    // behind everyone who has not spoken yet (the fair order).
    cat.ok(json!({"type": "pass"})).await;
    fac.wait_for("stick", |e| e["holder"] == a.as_str()).await;
    cat.ok(json!({"type": "hand", "up": true})).await;
    let q = fac
        .wait_for("queue", |e| {
            e["queue"]
                .as_array()
                .is_some_and(|q| q.len() == 3 && q[2] == c.as_str())
        })
        .await;
    assert_eq!(ids(&q["queue"]), vec![b.clone(), d.clone(), c.clone()]);

    // Ana's turn ends by the clock: 30 s before its end comes a warning
    // that says how long is left, then the stick moves on by itself.
    tokio::time::pause();
    later(150).await;
    let warning = ana
        .wait_for("turn_warning", |e| e["holder"] == a.as_str())
        .await;
    let left = warning["ends_at"].as_i64().expect("ends_at") - warning["at"].as_i64().expect("at");
    assert!((29_000..=30_000).contains(&left), "{left} ms left");
    later(30).await;
    let spoke = fac
        .wait_for("spoke", |e| e["participant"] == a.as_str())
        .await;
    assert_eq!(spoke["reason"], "time");
    assert_eq!(spoke["held_ms"], 180_000);
    fac.wait_for("stick", |e| e["holder"] == b.as_str()).await;

    // Dan steps out for a break: he keeps his place but is skipped.
    dan.ok(json!({"type": "break", "on": true, "note": "making tea"}))
        .await;
    fac.wait_for("presence", |e| {
        e["participant"] == d.as_str() && e["presence"] == "break"
    })
    .await;
    // Ben's turn ends by going on break himself: the stick skips Dan and goes to Cat.
    ben.ok(json!({"type": "break", "on": true})).await;
    fac.wait_for("stick", |e| e["holder"] == c.as_str()).await;
    let q = fac.last_queue().expect("a queue event");
    assert_eq!(q, vec![d.clone()], "Dan keeps his place while on break");

    // Dan comes back and is next when Cat passes.
    dan.ok(json!({"type": "break", "on": false})).await;
    fac.wait_for("presence", |e| {
        e["participant"] == d.as_str() && e["presence"] == "online"
    })
    .await;
    cat.ok(json!({"type": "pass"})).await;
    fac.wait_for("stick", |e| e["holder"] == d.as_str()).await;
    ben.ok(json!({"type": "break", "on": false})).await;

    // Pause freezes the turn clock and refuses `say`.
    fac.ok(json!({"type": "pause", "on": true, "note": "a breath"}))
        .await;
    let paused = dan.wait_for("phase", |e| e["phase"] == "paused").await;
    assert_eq!(paused["note"], "a breath");
    assert_eq!(
        dan.refused(json!({"type": "say", "room": "main", "text": "still me"}))
            .await,
        "paused"
    );
    let stopped = fac
        .wait_for("stick", |e| {
            e["holder"] == d.as_str() && e["ends_at"].is_null()
        })
        .await;
    assert!(stopped["ends_at"].is_null(), "the clock stopped: {stopped}");
    let left = stopped["remaining_ms"].as_i64().expect("time left");
    for c in [&mut ana, &mut dan] {
        c.wait_for("stick", |e| {
            e["holder"] == d.as_str() && e["ends_at"].is_null()
        })
        .await;
    }
    let seen = [fac.events.len(), ana.events.len(), dan.events.len()];
    // Ten minutes go by, far past the end of the turn: nothing moves, and
    // everyone is still reading (a socket that missed an end would show it).
    for _ in 0..10 {
        later(60).await;
        for c in [&mut fac, &mut ana, &mut dan] {
            c.drain(Duration::from_millis(5)).await;
        }
    }
    for (c, seen) in [&fac, &ana, &dan].into_iter().zip(seen) {
        assert!(
            c.events[seen..]
                .iter()
                .all(|e| e["kind"] != "stick" && e["kind"] != "spoke"),
            "a paused turn does not run out: {} saw {:?}",
            c.name,
            c.events[seen..]
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
    }
    fac.ok(json!({"type": "pause", "on": false})).await;
    dan.wait_for("phase", |e| e["phase"] == "live").await;
    let resumed = dan.wait_for("stick", |e| e["holder"] == d.as_str()).await;
    assert_eq!(
        resumed["ends_at"].as_i64().expect("running again") - resumed["at"].as_i64().expect("at"),
        left,
        "the turn goes on where it stood"
    );
    tokio::time::resume();
    dan.ok(json!({"type": "say", "room": "main", "text": "Where was I."}))
        .await;

    // Mute: Dan loses the stick and cannot speak or raise a hand.
    fac.ok(json!({"type": "mute", "participant": d, "on": true}))
        .await;
    dan.wait_for("muted", |e| {
        e["participant"] == d.as_str() && e["on"] == true
    })
    .await;
    fac.wait_for("stick", |e| {
        e["holder"].is_null() || e["holder"] != d.as_str()
    })
    .await;
    assert_eq!(
        dan.refused(json!({"type": "say", "room": "main", "text": "hey"}))
            .await,
        "muted"
    );
    assert_eq!(
        dan.refused(json!({"type": "hand", "up": true})).await,
        "muted"
    );

    // A private check-in reaches only its two ends and the facilitators.
    fac.ok(json!({"type": "dm", "participant": a, "text": "How are you doing?"}))
        .await;
    ana.wait_for("dm", |e| e["text"] == "How are you doing?")
        .await;
    ana.ok(json!({"type": "dm", "participant": fac.id(), "text": "Okay, thanks."}))
        .await;
    fac.wait_for("dm", |e| e["text"] == "Okay, thanks.").await;
    // Ben must not have seen either: a marker event proves he is caught up.
    fac.ok(json!({"type": "announce", "text": "marker"})).await;
    ben.wait_for("announced", |e| e["text"] == "marker").await;
    assert!(
        !ben.events.iter().any(|e| e["kind"] == "dm"),
        "a dm leaked to a bystander"
    );

    // Remove Ben: his socket closes with 4003 and his token is dead.
    fac.ok(json!({"type": "remove", "participant": b, "ban": false}))
        .await;
    assert_eq!(ben.closed_with().await, Some(4003));
    fac.wait_for("left", |e| {
        e["participant"] == b.as_str() && e["reason"] == "removed"
    })
    .await;
    // The token he joined with is dead, also for resuming.
    let epoch = fac.epoch();
    for hello in [
        json!({"type": "hello", "token": ben_token}),
        json!({"type": "hello", "token": ben_token, "epoch": epoch, "last_seq": 1}),
    ] {
        let mut again = ws::open(r.app.addr, &r.session).await;
        ws::send_text(&mut again, hello.to_string()).await;
        assert_eq!(ws::close_code(&mut again).await, Some(4003));
    }

    // End: everyone is closed with 4004.
    fac.ok(json!({"type": "end"})).await;
    for c in [&mut ana, &mut cat, &mut dan, &mut fac] {
        c.wait_for("phase", |e| e["phase"] == "ended").await;
        assert_eq!(c.closed_with().await, Some(4004));
    }
    // And nobody can come back.
    let mut late = ws::open(r.app.addr, &r.session).await;
    ws::send_text(
        &mut late,
        json!({"type": "hello", "token": r.fac_token}).to_string(),
    )
    .await;
    assert_eq!(ws::close_code(&mut late).await, Some(4004));
}

#[tokio::test]
async fn a_dropped_socket_resumes_with_exactly_the_missed_events() {
    let r = room(common::spawn_app_with(|s| s.say_rate_count = 100).await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let (mut ana, ana_token) = r.participant("Ana").await;
    ana.ok(json!({"type": "say", "room": "main", "text": "before"}))
        .await;
    ana.wait_for("said", |e| e["msg"]["text"] == "before").await;
    let epoch = ana.epoch();
    let last = ana.last_seq();
    ana.drop_connection();

    // Twenty events happen while Ana is away (her own presence change too).
    for i in 0..20 {
        fac.ok(json!({"type": "say", "room": "main", "text": format!("m{i}")}))
            .await;
    }
    fac.wait_for("said", |e| e["msg"]["text"] == "m19").await;

    let mut back = Client::resume(r.app.addr, &r.session, &ana_token, &epoch, last).await;
    assert_eq!(back.welcome["resumed"], true);
    back.wait_for("said", |e| e["msg"]["text"] == "m19").await;
    let said: Vec<String> = back
        .events
        .iter()
        .filter(|e| e["kind"] == "said")
        .map(|e| e["msg"]["text"].as_str().expect("text").to_string())
        .collect();
    let expected: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    assert_eq!(
        said, expected,
        "exactly the missed messages, in order, once each"
    );
    let seqs: Vec<u64> = back
        .events
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order, no repeats");
    assert!(seqs[0] > last, "nothing from before the drop is replayed");

    // A stale epoch gets a fresh snapshot instead, never a silent gap.
    let stale = Client::resume(r.app.addr, &r.session, &ana_token, "e_stale", last).await;
    assert_eq!(stale.welcome["resumed"], false);
    let main = stale.welcome["state"]["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .find(|room| room["id"] == "main")
        .expect("main room")
        .clone();
    assert!(main["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .any(|m| m["text"] == "m19"));
}

#[tokio::test]
async fn a_resent_ref_is_acknowledged_but_not_applied_twice() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let (mut ana, _) = r.participant("Ana").await;
    let frame = json!({"type": "say", "room": "main", "text": "only once", "ref": "same-ref"});
    ana.send_raw(&frame.to_string()).await;
    assert_eq!(ana.answer("same-ref").await["type"], "ack");
    ana.send_raw(&frame.to_string()).await;
    assert_eq!(ana.answer("same-ref").await["type"], "ack");
    fac.ok(json!({"type": "announce", "text": "marker"})).await;
    fac.wait_for("announced", |_| true).await;
    let count = fac
        .events
        .iter()
        .filter(|e| e["kind"] == "said" && e["msg"]["text"] == "only once")
        .count();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn participants_cannot_run_facilitator_commands() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    let (mut ana, _) = r.participant("Ana").await;
    let (ben, _) = r.participant("Ben").await;
    let b = ben.id();
    fac.ok(json!({"type": "say", "room": "main", "text": "hi"}))
        .await;
    let said = ana.wait_for("said", |_| true).await;
    let msg = said["msg"]["id"].clone();
    let commands = [
        json!({"type": "start"}),
        json!({"type": "pause", "on": true}),
        json!({"type": "mute", "participant": b, "on": true}),
        json!({"type": "mute_all", "on": true}),
        json!({"type": "give", "participant": b}),
        json!({"type": "lower", "participant": b}),
        json!({"type": "move", "participant": b, "to": 0}),
        json!({"type": "mode", "mode": "stick"}),
        json!({"type": "remove", "participant": b, "ban": true}),
        json!({"type": "lock", "on": true}),
        json!({"type": "redact", "msg": msg}),
        json!({"type": "announce", "text": "I am in charge"}),
        json!({"type": "end"}),
        json!({"type": "room_open", "name": "side"}),
        json!({"type": "room_close", "room": "main"}),
    ];
    for command in commands {
        assert_eq!(
            ana.refused(command.clone()).await,
            "forbidden",
            "{command} must be refused"
        );
    }
    // A participant may not open a private thread with another participant.
    assert_eq!(
        ana.refused(json!({"type": "dm", "participant": b, "text": "psst"}))
            .await,
        "forbidden"
    );
}

#[tokio::test]
async fn bad_input_gets_its_documented_answer_and_others_keep_going() {
    let r = room(common::spawn_app_with(|s| s.malformed_per_minute = 10).await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let (mut ana, _) = r.participant("Ana").await;
    let (mut ben, _) = r.participant("Ben").await;

    ana.send_raw("{not json").await;
    assert_eq!(ana.answer_without_ref().await["code"], "bad_request");
    let unknown = ana.cmd(json!({"type": "dance"})).await;
    assert_eq!(unknown["code"], "bad_request");
    let missing = ana.cmd(json!({"type": "say", "room": "main"})).await;
    assert_eq!(missing["code"], "bad_request");
    let wrong = ana.cmd(json!({"type": "hand", "up": "yes"})).await;
    assert_eq!(wrong["code"], "bad_request");
    let long = ana
        .cmd(json!({"type": "say", "room": "main", "text": "x".repeat(2001)}))
        .await;
    assert_eq!(long["code"], "too_long");
    let nowhere = ana
        .cmd(json!({"type": "say", "room": "nowhere", "text": "hi"}))
        .await;
    assert_eq!(nowhere["code"], "not_found");
    let emoji = ana
        .cmd(json!({"type": "react", "msg": "m1", "emoji": "skull"}))
        .await;
    assert_eq!(emoji["code"], "bad_request");

    // A flood of `say`: the eleventh in ten seconds is refused, and Ben still
    // gets every accepted message and the facilitator's announcement.
    let mut refused = 0;
    for i in 0..15 {
        let answer = ana
            .cmd(json!({"type": "say", "room": "main", "text": format!("flood {i}")}))
            .await;
        if answer["type"] == "error" {
            assert_eq!(answer["code"], "rate_limited");
            refused += 1;
        }
    }
    assert_eq!(refused, 5);
    fac.ok(json!({"type": "announce", "text": "still here"}))
        .await;
    ben.wait_for("announced", |e| e["text"] == "still here")
        .await;
    let flood = ben
        .events
        .iter()
        .filter(|e| e["kind"] == "said" && e["msg"]["from"] == ana.id().as_str())
        .count();
    assert_eq!(flood, 10);

    // The tenth malformed frame in a minute closes the socket with 1008
    // (five counted above: bad JSON, unknown type, missing field, wrong
    // type, unknown emoji).
    for _ in 0..5 {
        ana.send_raw("garbage").await;
    }
    assert_eq!(ana.closed_with().await, Some(1008));

    // An oversize frame closes with 1009, just over the limit or far over it.
    let big = json!({"type": "say", "room": "main", "text": "y".repeat(17 * 1024)});
    ben.send_raw(&big.to_string()).await;
    assert_eq!(ben.closed_with().await, Some(1009));
    let (mut cai, _) = r.participant("Cai").await;
    let huge = json!({"type": "say", "room": "main", "text": "y".repeat(200 * 1024)});
    cai.send_raw(&huge.to_string()).await;
    assert_eq!(cai.closed_with().await, Some(1009));

    // The facilitator saw none of it go wrong.
    fac.ok(json!({"type": "announce", "text": "after"})).await;
    fac.wait_for("announced", |e| e["text"] == "after").await;
}

#[tokio::test]
async fn the_handshake_refuses_what_it_should() {
    let r = room(app().await).await;
    // No session in the URL: 400 before any upgrade.
    let url = format!("ws://{}/ws", r.app.addr);
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
    // A foreign Origin: 403.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/ws?session={}", r.app.addr, r.session)
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().expect("header"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 403)
        }
        other => panic!("expected 403, got {other:?}"),
    }
    // A bad token: 4001.
    let mut s = ws::open(r.app.addr, &r.session).await;
    ws::send_text(
        &mut s,
        json!({"type": "hello", "token": "nope"}).to_string(),
    )
    .await;
    assert_eq!(ws::close_code(&mut s).await, Some(4001));
    // Not a hello: 4001.
    let mut s = ws::open(r.app.addr, &r.session).await;
    ws::send_text(&mut s, json!({"type": "say"}).to_string()).await;
    assert_eq!(ws::close_code(&mut s).await, Some(4001));
    // A participant token of another session: 4001.
    let (_g, other) = r.app.open_session(&r.fac_token).await;
    let (_id, token) = r.app.join(&other, "Eve").await;
    let mut s = ws::open(r.app.addr, &r.session).await;
    ws::send_text(&mut s, json!({"type": "hello", "token": token}).to_string()).await;
    assert_eq!(ws::close_code(&mut s).await, Some(4001));
    // A facilitator of another group: 4001.
    r.app
        .create_facilitator("other@example.org", "Olu", "another password")
        .await;
    let other_fac = r.app.login("other@example.org", "another password").await;
    let mut s = ws::open(r.app.addr, &r.session).await;
    ws::send_text(
        &mut s,
        json!({"type": "hello", "token": other_fac}).to_string(),
    )
    .await;
    assert_eq!(ws::close_code(&mut s).await, Some(4001));
}

#[tokio::test]
async fn no_hello_in_time_closes_with_4001() {
    let r = room(app().await).await;
    let mut s = ws::open(r.app.addr, &r.session).await;
    tokio::time::pause();
    later(9).await;
    assert_eq!(
        ws::read_within(&mut s, Duration::from_millis(10)).await,
        None,
        "still open within the 10 s"
    );
    later(1).await;
    assert_eq!(ws::close_code(&mut s).await, Some(4001));
}

#[tokio::test]
async fn the_session_pauses_itself_without_a_facilitator() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let (mut ana, _) = r.participant("Ana").await;
    let f = fac.id();
    fac.close().await;
    ana.wait_for("presence", |e| {
        e["participant"] == f.as_str() && e["presence"] == "away"
    })
    .await;
    tokio::time::pause();
    later(29).await;
    ana.drain(Duration::from_millis(5)).await;
    assert!(
        !ana.events
            .iter()
            .any(|e| e["kind"] == "phase" && e["phase"] == "paused"),
        "not before the grace period"
    );
    later(1).await;
    let e = ana.wait_for("phase", |e| e["phase"] == "paused").await;
    assert_eq!(e["reason"], "no_facilitator");
    tokio::time::resume();
    // Back, the facilitator resumes it.
    let mut fac = r.facilitator().await;
    assert_eq!(fac.welcome["state"]["session"]["phase"], "paused");
    fac.ok(json!({"type": "pause", "on": false})).await;
    ana.wait_for("phase", |e| e["phase"] == "live").await;
}

#[tokio::test]
async fn a_slow_reader_is_disconnected_and_the_room_goes_on() {
    let r = room(
        common::spawn_app_with(|s| {
            s.outbound_queue = 8;
            s.say_rate_count = 100_000;
        })
        .await,
    )
    .await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let (mut ana, _) = r.participant("Ana").await;
    let (slow, _) = r.participant("Slow").await;
    let slow_id = slow.id();
    ana.wait_for("joined", |e| e["participant"]["name"] == "Slow")
        .await;
    // Ana keeps reading in her own task; `slow` never reads again.
    let reader = tokio::spawn(async move {
        ana.wait_for_within(
            "announced",
            |e| e["text"] == "done",
            Duration::from_secs(60),
        )
        .await;
        ana.events.iter().filter(|e| e["kind"] == "said").count()
    });
    // Messages of 1.9 KB fill the slow socket's kernel buffers, then its
    // queue; then the server lets it go.
    let text = "z".repeat(1900);
    let mut sent = 0;
    let slow_gone = |fac: &Client| {
        fac.events.iter().any(|e| {
            e["kind"] == "presence"
                && e["participant"] == slow_id.as_str()
                && e["presence"] == "away"
        })
    };
    while !slow_gone(&fac) {
        assert!(sent < 20_000, "the slow reader was never disconnected");
        fac.ok(json!({"type": "say", "room": "main", "text": text}))
            .await;
        sent += 1;
    }
    fac.ok(json!({"type": "announce", "text": "done"})).await;
    let said = reader.await.expect("reader task");
    assert_eq!(said, sent, "the reader who keeps up gets everything");
    drop(slow);
}

#[tokio::test]
async fn side_rooms_are_open_even_in_stick_mode() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    fac.ok(json!({"type": "mode", "mode": "stick"})).await;
    let (mut ana, _) = r.participant("Ana").await;
    fac.ok(json!({"type": "room_open", "name": "Quiet corner"}))
        .await;
    let opened = ana.wait_for("room_opened", |_| true).await;
    let side = opened["room"]["id"].as_str().expect("room id").to_string();
    ana.ok(json!({"type": "say", "room": side, "text": "hello corner"}))
        .await;
    let said = fac.wait_for("said", |e| e["room"] == side.as_str()).await;
    assert_eq!(
        ana.refused(json!({"type": "say", "room": "main", "text": "x"}))
            .await,
        "not_your_turn"
    );
    // Reactions, reports and help requests.
    let msg = said["msg"]["id"].as_str().expect("msg id").to_string();
    ana.ok(json!({"type": "react", "msg": msg, "emoji": "hug"}))
        .await;
    fac.wait_for("reacted", |e| e["emoji"] == "hug").await;
    let (mut ben, _) = r.participant("Ben").await;
    ben.ok(json!({"type": "report", "msg": msg, "reason": "upsetting"}))
        .await;
    fac.wait_for("reported", |e| e["msg"] == msg.as_str()).await;
    ben.ok(json!({"type": "need_help", "note": "struggling"}))
        .await;
    fac.wait_for("help_requested", |_| true).await;
    fac.ok(json!({"type": "redact", "msg": msg})).await;
    ben.wait_for("redacted", |e| e["msg"] == msg.as_str()).await;
    fac.ok(json!({"type": "announce", "text": "marker"})).await;
    ana.wait_for("announced", |_| true).await;
    assert!(
        !ana.events
            .iter()
            .any(|e| e["kind"] == "reported" || e["kind"] == "help_requested"),
        "reports and help requests reach facilitators only"
    );
    // A late joiner's snapshot hides the redacted text.
    let (carl, _) = r.participant("Carl").await;
    let rooms = carl.welcome["state"]["rooms"]
        .as_array()
        .expect("rooms")
        .clone();
    let corner = rooms
        .iter()
        .find(|r| r["id"] == side.as_str())
        .expect("room");
    assert!(!corner.to_string().contains("hello corner"));
}

#[tokio::test]
async fn locking_refuses_new_joins_over_http() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "lock", "on": true})).await;
    // Acknowledged means stored: the very next join is refused.
    let (status, body) = r
        .app
        .post(
            &format!("/api/sessions/{}/join", r.session),
            None,
            &json!({"name": "Late", "agree": true}),
        )
        .await;
    assert_eq!(status.as_u16(), 409, "{body}");
    assert_eq!(body["error"]["code"], "locked");
    fac.wait_for("locked", |e| e["on"] == true).await;
}

#[tokio::test]
async fn lock_then_unlock_in_quick_succession_leaves_the_door_open() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    // Both frames go out before either answer comes back.
    fac.send_raw(&json!({"type": "lock", "ref": "l-on", "on": true}).to_string())
        .await;
    fac.send_raw(&json!({"type": "lock", "ref": "l-off", "on": false}).to_string())
        .await;
    assert_eq!(fac.answer("l-on").await["type"], "ack");
    assert_eq!(fac.answer("l-off").await["type"], "ack");
    let record = r
        .app
        .store
        .session(&r.session)
        .await
        .expect("store")
        .expect("session");
    assert!(!record.locked, "the store ends where the facilitator ended");
    let (status, body) = r
        .app
        .post(
            &format!("/api/sessions/{}/join", r.session),
            None,
            &json!({"name": "Welcome", "agree": true}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{body}");
}

#[tokio::test]
async fn an_end_is_stored_once_before_its_ack_and_everyone_sees_it_once() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    let (mut ana, _) = r.participant("Ana").await;
    fac.ok(json!({"type": "start"})).await;
    let started = r
        .app
        .store
        .session(&r.session)
        .await
        .expect("store")
        .expect("session");
    assert!(
        started.started_at.is_some(),
        "start is stored before its ack"
    );
    fac.ok(json!({"type": "end"})).await;
    let ended = r
        .app
        .store
        .session(&r.session)
        .await
        .expect("store")
        .expect("session");
    let at = ended.ended_at.expect("the end is stored before its ack");
    for c in [&mut ana, &mut fac] {
        c.wait_for("phase", |e| e["phase"] == "ended").await;
        assert_eq!(c.closed_with().await, Some(4004));
        assert_eq!(
            c.events
                .iter()
                .filter(|e| e["kind"] == "phase" && e["phase"] == "ended")
                .count(),
            1
        );
    }
    // A cancellation after the end changes nothing that was stored.
    let (status, _) = r
        .app
        .delete(&format!("/api/sessions/{}", r.session), Some(&r.fac_token))
        .await;
    assert_eq!(status.as_u16(), 204);
    let after = r
        .app
        .store
        .session(&r.session)
        .await
        .expect("store")
        .expect("session");
    assert_eq!(after.ended_at, Some(at), "the end is written once");
    let group = after.group_id;
    let log = r.app.store.audit_log(&group, 50).await.expect("audit log");
    assert_eq!(log.iter().filter(|e| e.action == "end").count(), 1);
}

#[tokio::test]
async fn several_sockets_of_one_participant_share_presence() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    let (phone, token) = r.participant("Ana").await;
    let a = phone.id();
    let laptop = Client::connect(r.app.addr, &r.session, &token).await;
    let open = &r.app.state.sessions.connections;
    let before = open.load(std::sync::atomic::Ordering::SeqCst);
    phone.drop_connection();
    // Wait until the server has let go of the phone's socket.
    for _ in 0..500 {
        if open.load(std::sync::atomic::Ordering::SeqCst) < before {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(open.load(std::sync::atomic::Ordering::SeqCst) < before);
    // Still online through the laptop: no `away` for Ana.
    fac.ok(json!({"type": "announce", "text": "marker"})).await;
    fac.wait_for("announced", |_| true).await;
    assert!(!fac.events.iter().any(|e| e["kind"] == "presence"
        && e["participant"] == a.as_str()
        && e["presence"] == "away"));
    laptop.drop_connection();
    fac.wait_for("presence", |e| {
        e["participant"] == a.as_str() && e["presence"] == "away"
    })
    .await;
    // Offline after the 30 s grace period.
    tokio::time::pause();
    later(30).await;
    fac.wait_for("presence", |e| {
        e["participant"] == a.as_str() && e["presence"] == "offline"
    })
    .await;
    tokio::time::resume();
    // She comes back with the same token and is online again.
    let _back = Client::connect(r.app.addr, &r.session, &token).await;
    fac.wait_for("presence", |e| {
        e["participant"] == a.as_str() && e["presence"] == "online"
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_running_session_closes_every_socket() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let (mut ana, _) = r.participant("Ana").await;
    // The public card shows a pause as it happens.
    fac.ok(json!({"type": "pause", "on": true})).await;
    let (_, card) = r
        .app
        .get(&format!("/api/sessions/{}", r.session), None)
        .await;
    assert_eq!(card["phase"], "paused");

    let (status, _) = r
        .app
        .delete(&format!("/api/sessions/{}", r.session), Some(&r.fac_token))
        .await;
    assert_eq!(status, 204);
    let ended = ana.wait_for("phase", |e| e["phase"] == "ended").await;
    assert_eq!(ended["reason"], "cancelled");
    assert_eq!(ana.closed_with().await, Some(4004));
    assert_eq!(fac.closed_with().await, Some(4004));
}

#[tokio::test]
async fn a_restart_sends_1001_then_a_fresh_snapshot_and_removals_stay() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    fac.ok(json!({"type": "start"})).await;
    let (mut ana, ana_token) = r.participant("Ana").await;
    let (ben, ben_token) = r.participant("Ben").await;
    fac.ok(json!({"type": "remove", "participant": ben.id(), "ban": true}))
        .await;
    fac.wait_for("left", |_| true).await;
    // The room learns that Ben left, not that he was banned.
    let left = ana.wait_for("left", |_| true).await;
    assert!(left.get("ban").is_none(), "{left}");
    ana.ok(json!({"type": "say", "room": "main", "text": "before the restart"}))
        .await;
    let epoch = ana.epoch();
    let last = ana.last_seq();

    let Room {
        app,
        session,
        fac_token,
    } = r;
    // The audit log holds the removal (never any text): a removal is
    // acknowledged only once it is stored, with its audit entry.
    let group = app
        .store
        .session(&session)
        .await
        .expect("store")
        .expect("session")
        .group_id;
    let log = app.store.audit_log(&group, 50).await.expect("audit log");
    let removal = log
        .iter()
        .find(|e| e.action == "remove")
        .expect("the removal is audited");
    assert_eq!(removal.target.as_deref(), Some(ben.id().as_str()));
    assert_eq!(removal.detail.as_deref(), Some("ban=true"));
    assert!(log
        .iter()
        .all(|e| !format!("{e:?}").contains("before the restart")));

    let app = app.restart().await;
    // Everyone connected was told the server is going away.
    assert_eq!(ana.closed_with().await, Some(1001));
    assert_eq!(fac.closed_with().await, Some(1001));

    // Coming back: the history was lost with the old epoch, so a snapshot.
    let back = Client::resume(app.addr, &session, &ana_token, &epoch, last).await;
    assert_eq!(back.welcome["resumed"], false);
    assert_ne!(back.epoch(), epoch);
    assert_eq!(back.welcome["state"]["session"]["phase"], "live");
    // The removed participant stays out, resume or not.
    let mut s = ws::open(app.addr, &session).await;
    ws::send_text(
        &mut s,
        json!({"type": "hello", "token": ben_token}).to_string(),
    )
    .await;
    assert_eq!(ws::close_code(&mut s).await, Some(4003));
    let fac = Client::connect(app.addr, &session, &fac_token).await;
    assert_eq!(fac.welcome["you"]["role"], "facilitator");
}

#[tokio::test]
async fn a_socket_that_stops_answering_pings_is_dropped() {
    // The defaults: a ping every 15 s, dropped after 30 s of silence.
    let r = room(common::spawn_app().await).await;
    let mut fac = r.facilitator().await;
    let (silent, _) = r.participant("Quiet").await;
    let id = silent.id();
    // `silent` never reads, so it never answers a ping; the facilitator
    // keeps reading (and so answering pings) while time goes by.
    tokio::time::pause();
    let away = |e: &Value| e["participant"] == id.as_str() && e["presence"] == "away";
    for _ in 0..5 {
        later(5).await;
        fac.drain(Duration::from_millis(5)).await;
    }
    assert!(
        !fac.events
            .iter()
            .any(|e| e["kind"] == "presence" && away(e)),
        "not within 25 s"
    );
    for _ in 0..3 {
        later(5).await;
        fac.drain(Duration::from_millis(5)).await;
    }
    fac.wait_for("presence", away).await;
    assert!(fac.closed.is_none(), "a socket that answers stays");
    drop(silent);
}

#[tokio::test]
async fn help_requests_are_seen_by_every_facilitator_and_summarised_after_the_end() {
    let r = room(app().await).await;
    let mut fac = r.facilitator().await;
    let (mut ana, _) = r.participant("Ana").await;
    fac.ok(json!({"type": "start"})).await;
    ana.ok(json!({"type": "need_help", "note": "It's a hard night"}))
        .await;
    let asked = fac.wait_for("help_requested", |_| true).await;
    let item = asked["id"].as_str().expect("an id").to_string();
    // A second device of the facilitator finds it unseen, marks it seen;
    // the first device hears so.
    let mut tablet = r.facilitator().await;
    let inbox = &tablet.welcome["state"]["inbox"];
    assert_eq!(inbox[0]["id"], item.as_str());
    assert!(inbox[0]["seen_by"].is_null());
    tablet.ok(json!({"type": "mark_seen", "item": item})).await;
    let seen = fac.wait_for("marked_seen", |_| true).await;
    assert_eq!(seen["by"], fac.id().as_str());
    assert!(
        !ana.events.iter().any(|e| e["kind"] == "marked_seen"),
        "participants never see the inbox"
    );
    ana.ok(json!({"type": "break", "on": true})).await;
    fac.ok(json!({"type": "end"})).await;
    fac.wait_for("phase", |e| e["phase"] == "ended").await;

    let (status, summary) = r
        .app
        .get(
            &format!("/api/sessions/{}/summary", r.session),
            Some(&r.fac_token),
        )
        .await;
    assert_eq!(status.as_u16(), 200, "{summary}");
    let people = summary["people"].as_array().expect("people");
    let ana_row = people.iter().find(|p| p["name"] == "Ana").expect("Ana");
    assert_eq!(ana_row["breaks"], 1);
    let help = &summary["help_requests"][0];
    assert_eq!(help["from"], ana.id().as_str());
    assert!(help["seen_at"].as_i64().expect("seen") >= help["at"].as_i64().expect("asked"));
    assert!(
        !summary.to_string().contains("hard night"),
        "a summary holds no notes"
    );
    // Only the group's facilitators may read it.
    let (status, _) = r
        .app
        .get(&format!("/api/sessions/{}/summary", r.session), None)
        .await;
    assert_eq!(status.as_u16(), 401);
}

#[tokio::test]
async fn a_session_this_node_loses_closes_its_sockets_to_resume_elsewhere() {
    let r = room(app().await).await;
    let record = r
        .app
        .store
        .session(&r.session)
        .await
        .expect("store")
        .expect("session");
    // This node holds the session under lease token 7: the token is the
    // epoch, written as an id (`e_` and 16 characters).
    r.app
        .state
        .sessions
        .start_owned(&record, peercircle::session::Lease { token: 7 });
    let mut fac = r.facilitator().await;
    assert_eq!(fac.epoch(), "e_0000000000000007");
    assert_eq!(
        r.app.state.sessions.running(),
        vec![(
            r.session.clone(),
            Some(peercircle::session::Lease { token: 7 })
        )]
    );
    // The lease is lost: the socket closes with 1001 so the client resumes
    // (on the node that owns the session now).
    r.app.state.sessions.lost(&r.session);
    assert_eq!(fac.closed_with().await, Some(1001));
    assert!(r.app.state.sessions.running().is_empty());
}

#[tokio::test]
async fn a_large_room_batches_arrivals_and_pages_its_people() {
    let r = room(
        common::spawn_app_with(|s| {
            s.large_room = 3;
            s.welcome_people = 2;
            s.people_batch_ms = 100;
        })
        .await,
    )
    .await;
    let mut fac = r.facilitator().await;
    let mut people = Vec::new();
    for name in ["Ana", "Ben", "Cat", "Dan", "Eve", "Fay"] {
        people.push(r.participant(name).await.0);
    }
    // Past three people, arrivals come together in `people` events, never
    // one `joined` to everyone per person.
    let batch = fac
        .wait_for("people", |e| {
            e["people"]
                .as_array()
                .is_some_and(|p| p.iter().any(|x| x["name"] == "Fay"))
        })
        .await;
    // The batch says how many people there are now (the facilitator and
    // six), so a client that never listed some of them keeps an exact count.
    assert_eq!(batch["participants_total"], 7);
    let joined: Vec<&Value> = fac
        .events
        .iter()
        .filter(|e| e["kind"] == "joined")
        .collect();
    assert!(joined.len() <= 3, "{} joined events", joined.len());
    // A newcomer's welcome lists a first page and counts everyone.
    let (late, _) = r.participant("Gil").await;
    let state = &late.welcome["state"];
    assert_eq!(state["participants_total"], 8);
    assert_eq!(state["participants_more"], true);
    assert!(state["participants"].as_array().expect("list").len() < 8);
    // The rest come page by page.
    let mut late = late;
    let answer = late.cmd(json!({"type": "people", "limit": 100})).await;
    assert_eq!(answer["type"], "ack");
    let page = late.pages.pop().expect("a people frame before the ack");
    assert_eq!(page["type"], "people");
    assert_eq!(page["participants"].as_array().expect("list").len(), 8);
    assert_eq!(page["more"], false);
    let _ = &mut people;
}

#[tokio::test]
async fn before_the_doors_open_the_card_stays_scheduled_even_with_a_facilitator_in() {
    let app = app().await;
    let (_, token) = app.facilitator("Fran").await;
    let group = app.create_group(&token, json!({})).await;
    let group_id = group["id"].as_str().expect("group id");
    let later = common::in_minutes(60);
    let session = app.create_session(&token, group_id, &later, 60).await;
    let session = session["id"].as_str().expect("session id").to_string();
    let _fac = Client::connect(app.addr, &session, &token).await;
    let (_, card) = app.get(&format!("/api/sessions/{session}"), None).await;
    assert_eq!(
        card["phase"], "scheduled",
        "joining is still refused: {card}"
    );
}
