//! What a crash must not forget: the real binary is killed with `kill -9`
//! (no shutdown, no last save) right after a facilitator's removal was
//! acknowledged, with a mute, a break, a queue, a holder, the mode and a
//! pause set; started again on the same database, every one of them is as
//! it was, and the removed person stays out.

mod support;

use serde_json::{json, Value};
use support::server::{self, Server};
use support::ws::{self, Client};

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn person<'a>(welcome: &'a Value, id: &str) -> &'a Value {
    welcome["state"]["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn a_kill_9_right_after_a_removal_forgets_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = server::database_url(dir.path());
    server::add_facilitator(&db, "fran@example.org", "Fran", "a good password");
    let first = Server::start(&db, &[]);
    let http = reqwest::Client::new();
    let login = post(
        &http,
        first.url("/api/login"),
        None,
        json!({"email": "fran@example.org", "password": "a good password"}),
    )
    .await;
    let token = login["token"].as_str().expect("token").to_string();
    let group = post(
        &http,
        first.url("/api/groups"),
        Some(&token),
        json!({"name": "Carers evening", "description": "A test group.",
               "agreement": "Be kind.", "capacity": 10}),
    )
    .await;
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).expect("now");
    let sessions = post(
        &http,
        first.url(&format!(
            "/api/groups/{}/sessions",
            group["id"].as_str().expect("id")
        )),
        Some(&token),
        json!({"starts_at": now.to_string(), "duration_minutes": 120}),
    )
    .await;
    let session = sessions[0]["id"].as_str().expect("session").to_string();
    let mut tokens = Vec::new();
    for name in ["Ana", "Ben", "Cat", "Dan", "Eve"] {
        let joined = post(
            &http,
            first.url(&format!("/api/sessions/{session}/join")),
            None,
            json!({"name": name, "agree": true}),
        )
        .await;
        tokens.push(joined["token"].as_str().expect("token").to_string());
    }

    let mut fac = Client::connect(first.addr, &session, &token).await;
    let mut people = Vec::new();
    for t in &tokens {
        people.push(Client::connect(first.addr, &session, t).await);
    }
    let ids: Vec<String> = people.iter().map(Client::id).collect();
    let (ana, ben, cat, dan, eve) = (&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]);
    fac.ok(json!({"type": "start"})).await;
    fac.ok(json!({"type": "mode", "mode": "stick", "turn_seconds": 300}))
        .await;
    for i in [0, 1, 3, 2] {
        people[i].ok(json!({"type": "hand", "up": true})).await;
    }
    people[3]
        .ok(json!({"type": "break", "on": true, "note": "making tea"}))
        .await;
    fac.ok(json!({"type": "mute", "participant": cat, "on": true}))
        .await;
    fac.ok(json!({"type": "pause", "on": true, "note": "a breath"}))
        .await;
    let epoch = fac.epoch();
    fac.ok(json!({"type": "remove", "participant": eve, "ban": true}))
        .await;
    // Acknowledged: now the machine dies.
    let last = fac.last_seq();
    first.kill_hard();

    let second = Server::start(&db, &[]);
    let back = Client::resume(second.addr, &session, &token, &epoch, last).await;
    let w = &back.welcome;
    assert_eq!(w["resumed"], false, "the history went with the old process");
    assert_ne!(back.epoch(), epoch, "a new epoch");
    assert_eq!(w["state"]["session"]["phase"], "paused");
    assert_eq!(w["state"]["session"]["mode"], "stick");
    assert_eq!(w["state"]["session"]["turn_seconds"], 300);
    assert_eq!(w["state"]["stick"]["holder"], ana.as_str());
    assert!(
        w["state"]["stick"]["ends_at"].is_null(),
        "the turn clock is stopped"
    );
    assert!(
        w["state"]["stick"]["remaining_ms"]
            .as_i64()
            .expect("time left")
            > 290_000
    );
    assert_eq!(
        w["state"]["queue"],
        json!([ben, dan]),
        "places in the queue"
    );
    assert_eq!(person(w, cat)["muted"], true, "still muted");
    assert_eq!(
        person(w, dan)["presence"],
        "away",
        "nobody is connected yet"
    );
    assert_eq!(
        person(w, dan)["break_note"],
        "making tea",
        "the break is kept"
    );
    assert_eq!(person(w, eve), &Value::Null, "the removed person is gone");
    assert_eq!(person(w, ana)["turns"], 1);

    // Dan comes back to his break, his place kept.
    let mut dan_back = Client::connect(second.addr, &session, &tokens[3]).await;
    assert_eq!(person(&dan_back.welcome, dan)["presence"], "break");
    assert_eq!(person(&dan_back.welcome, dan)["break_note"], "making tea");
    // Cat is still muted when she tries to speak.
    let mut cat_back = Client::connect(second.addr, &session, &tokens[2]).await;
    assert_eq!(
        cat_back.refused(json!({"type": "hand", "up": true})).await,
        "muted"
    );
    // Eve stays out, resume or not.
    for hello in [
        json!({"type": "hello", "token": tokens[4]}),
        json!({"type": "hello", "token": tokens[4], "epoch": epoch, "last_seq": 1}),
    ] {
        let mut s = ws::open(second.addr, &session).await;
        ws::send_text(&mut s, hello.to_string()).await;
        assert_eq!(ws::close_code(&mut s).await, Some(4003));
    }
    // And the group goes on where it stood.
    let mut fac = back;
    fac.ok(json!({"type": "pause", "on": false})).await;
    dan_back.wait_for("phase", |e| e["phase"] == "live").await;
    let _ = &mut cat_back;
}
