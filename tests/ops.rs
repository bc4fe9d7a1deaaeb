//! Operations (issue 12) against the real `peercircle` binary: the
//! Prometheus figures move under real sockets, the logs of a whole session
//! at debug level (text and JSON) carry no name and no message text, a
//! backup taken while the server runs restores, and `peercircle erase`
//! erases a person.
//!
//! Every wait is bounded in time; nothing sleeps to let a clock pass.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::server::{add_facilitator, database_url, Server};
use support::ws::Client;

const PASSWORD: &str = "a long enough password";

struct Http {
    base: String,
    client: reqwest::Client,
    token: Option<String>,
}

impl Http {
    fn new(server: &Server) -> Http {
        Http {
            base: server.base.clone(),
            client: reqwest::Client::new(),
            token: None,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.send(reqwest::Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "POST {path}: {status} {v}");
        v
    }

    async fn login(&mut self, email: &str) {
        let v = self
            .post("/api/login", json!({"email": email, "password": PASSWORD}))
            .await;
        self.token = Some(v["token"].as_str().expect("token").to_string());
    }

    /// A group with a session open now: (group id, session id).
    async fn open_session(&self, group_name: &str) -> (String, String) {
        let group = self
            .post(
                "/api/groups",
                json!({"name": group_name, "agreement": "Be kind. What is said here stays here."}),
            )
            .await;
        let group = group["id"].as_str().expect("group id").to_string();
        let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
            .expect("now")
            .to_string();
        let sessions = self
            .post(
                &format!("/api/groups/{group}/sessions"),
                json!({"starts_at": now, "duration_minutes": 120}),
            )
            .await;
        (
            group,
            sessions[0]["id"].as_str().expect("session").to_string(),
        )
    }

    /// Joins as `name` from a browser of its own: (participant id, token).
    async fn join(&self, session: &str, name: &str) -> (String, String) {
        let anonymous = Http {
            base: self.base.clone(),
            client: reqwest::Client::new(),
            token: None,
        };
        let v = anonymous
            .post(
                &format!("/api/sessions/{session}/join"),
                json!({"name": name, "agree": true}),
            )
            .await;
        (
            v["participant_id"].as_str().expect("id").to_string(),
            v["token"].as_str().expect("token").to_string(),
        )
    }
}

/// The value of the sample `name` (with its labels, as printed) in an
/// exposition, or 0 when absent.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(http: &reqwest::Client, server: &Server, token: &str) -> String {
    let res = http
        .get(server.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("scrape");
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.expect("text")
}

/// Scrapes until `check` holds, for at most 10 s.
async fn scrape_until(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(http, server, token).await;
        if check(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what}; last scrape:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_follow_real_sockets_and_need_their_token() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database_url(dir.path());
    add_facilitator(&db, "fac@example.org", "Fac", PASSWORD);
    let token = "metrics-secret-4711";
    let server = Server::start(&db, &[("PEERCIRCLE_METRICS_TOKEN", token)]);
    let plain = reqwest::Client::new();

    // Not without the token.
    let res = plain.get(server.url("/metrics")).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = plain
        .get(server.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = plain
        .get(server.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"]
        .to_str()
        .expect("type")
        .to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let before = res.text().await.expect("text");
    assert_eq!(sample(&before, "peercircle_sockets_open"), 0.0);
    for figure in [
        "# TYPE peercircle_sessions_live gauge",
        "# TYPE peercircle_participants_live gauge",
        "# TYPE peercircle_leases_held gauge",
        "# TYPE peercircle_lease_renewals_failed counter",
        "# TYPE peercircle_hashing_waiting gauge",
        "# TYPE peercircle_outbound_queue_depth histogram",
        "# TYPE peercircle_welcome_bytes histogram",
    ] {
        assert!(before.contains(figure), "{figure} missing:\n{before}");
    }

    let mut fac_http = Http::new(&server);
    fac_http.login("fac@example.org").await;
    let (_group, session) = fac_http.open_session("Tuesday circle").await;
    let mut people = Vec::new();
    for name in ["Ana", "Ben", "Cat"] {
        people.push(fac_http.join(&session, name).await);
    }
    // A join refused: the agreement not accepted.
    let (status, _) = fac_http
        .send(
            reqwest::Method::POST,
            &format!("/api/sessions/{session}/join"),
            Some(json!({"name": "Dee"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let fac_token = fac_http.token.clone().expect("token");
    let mut fac = Client::connect(server.addr, &session, &fac_token).await;
    let mut clients = Vec::new();
    for (_, t) in &people {
        clients.push(Client::connect(server.addr, &session, t).await);
    }
    fac.ok(json!({"type": "start"})).await;
    for c in clients.iter_mut() {
        c.ok(json!({"type": "hand", "up": true})).await;
    }
    // A participant may not lock the door: refused `forbidden`.
    let code = clients[0]
        .refused(json!({"type": "lock", "on": true}))
        .await;
    assert_eq!(code, "forbidden");

    let during = scrape_until(&plain, &server, token, "four people live", |t| {
        sample(t, "peercircle_participants_live") >= 4.0
    })
    .await;
    assert!(
        sample(&during, "peercircle_sockets_open") >= 4.0,
        "{during}"
    );
    assert_eq!(sample(&during, "peercircle_sessions_live"), 1.0);
    assert_eq!(
        sample(&during, "peercircle_joins_total{outcome=\"joined\"}"),
        3.0
    );
    assert_eq!(
        sample(&during, "peercircle_joins_total{outcome=\"bad_request\"}"),
        1.0
    );
    assert_eq!(
        sample(
            &during,
            "peercircle_login_attempts_total{outcome=\"signed_in\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &during,
            "peercircle_socket_attach_total{outcome=\"attached\"}"
        ),
        4.0
    );
    assert_eq!(
        sample(&during, "peercircle_commands_total{kind=\"hand\"}"),
        3.0
    );
    assert_eq!(
        sample(
            &during,
            "peercircle_refusals_total{kind=\"lock\",code=\"forbidden\"}"
        ),
        1.0
    );
    let events = sample(&during, "peercircle_events_total");
    let deliveries = sample(&during, "peercircle_deliveries_total");
    assert!(events >= 4.0, "{during}");
    assert!(
        deliveries > events,
        "fanned out to several sockets: {during}"
    );
    assert!(sample(&during, "peercircle_replay_log_bytes") > 0.0);
    assert_eq!(sample(&during, "peercircle_welcome_bytes_count"), 4.0);
    assert!(sample(&during, "peercircle_welcome_bytes_sum") > 400.0);
    assert!(sample(&during, "peercircle_outbound_queue_depth_count") > 0.0);
    assert!(
        sample(
            &during,
            "peercircle_store_seconds_count{op=\"add_participant\"}"
        ) >= 3.0,
        "{during}"
    );

    // Everyone leaves: the gauges come back down.
    for c in clients {
        c.close().await;
    }
    fac.close().await;
    let after = scrape_until(&plain, &server, token, "everyone gone", |t| {
        sample(t, "peercircle_sockets_open") == 0.0
            && sample(t, "peercircle_participants_live") == 0.0
    })
    .await;
    assert!(sample(&after, "peercircle_events_total") > events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_served_on_a_private_address_only() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database_url(dir.path());
    // A free port for the metrics address.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let metrics = format!("127.0.0.1:{port}");
    let server = Server::start(&db, &[("PEERCIRCLE_METRICS_LISTEN", metrics.as_str())]);
    let http = reqwest::Client::new();
    // Not on the public address (no token set)…
    let res = http.get(server.url("/metrics")).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // …but on the private one, without a token.
    let res = http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("text");
    assert!(text.contains("peercircle_sockets_open"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}

/// Names, e-mail addresses and texts that must never reach a log line.
const SECRETS: [&str; 8] = [
    "Zephyrine",
    "Quockworth",
    "Barnabyfield",
    "wilhelmina.fac@example.org",
    "Wilhelmina Facilitrix",
    "marmalade-ostrich-417",
    "lanternfish whisper 93",
    "porcupine-lullaby",
];

async fn scenario_for_logs(server: &Server, db: &str) {
    let mut http = Http::new(server);
    http.login("wilhelmina.fac@example.org").await;
    let (group, session) = http.open_session("Thursday circle").await;
    let (zeph_id, zeph_token) = http.join(&session, "Zephyrine Quockworth").await;
    let (_, barn_token) = http.join(&session, "Barnabyfield").await;
    let mut fac = Client::connect(server.addr, &session, http.token.as_deref().expect("t")).await;
    let mut zeph = Client::connect(server.addr, &session, &zeph_token).await;
    let mut barn = Client::connect(server.addr, &session, &barn_token).await;
    fac.ok(json!({"type": "start"})).await;
    fac.ok(json!({"type": "mode", "mode": "stick"})).await;
    fac.ok(json!({"type": "say", "room": "main", "text": "marmalade-ostrich-417"}))
        .await;
    zeph.ok(json!({"type": "hand", "up": true})).await;
    fac.ok(json!({"type": "give", "participant": zeph.id()}))
        .await;
    zeph.ok(json!({"type": "say", "room": "main", "text": "lanternfish whisper 93"}))
        .await;
    fac.ok(json!({"type": "dm", "participant": barn.id(), "text": "porcupine-lullaby"}))
        .await;
    barn.ok(json!({"type": "dm", "participant": fac.id(), "text": "lanternfish whisper 93"}))
        .await;
    // Refused texts and malformed frames must not be echoed to the log either.
    barn.refused(json!({"type": "say", "room": "main", "text": "porcupine-lullaby"}))
        .await;
    barn.send_raw("{\"type\": \"say\", \"text\": \"marmalade-ostrich-417\"")
        .await;
    fac.ok(json!({"type": "end"})).await;
    for c in [fac, zeph, barn] {
        c.close().await;
    }
    // Erase one person from the group, over HTTP.
    let (status, v) = http
        .send(
            reqwest::Method::DELETE,
            &format!("/api/groups/{group}/participants/{zeph_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let _ = db;
}

fn check_logs(lines: &[String], json: bool) {
    assert!(lines.len() > 20, "few log lines: {lines:?}");
    for line in lines {
        for secret in SECRETS {
            assert!(
                !line.contains(secret),
                "a log line carries {secret:?}: {line}"
            );
        }
    }
    let http_lines: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("tower_http::trace"))
        .collect();
    assert!(!http_lines.is_empty(), "no HTTP lines at debug level");
    for line in &http_lines {
        assert!(
            line.contains("request_id"),
            "an HTTP line without its request id: {line}"
        );
    }
    let socket_lines: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("peercircle::ws"))
        .collect();
    assert!(!socket_lines.is_empty(), "no socket lines at debug level");
    for line in &socket_lines {
        assert!(
            line.contains("session"),
            "a socket line without its session: {line}"
        );
    }
    if json {
        for line in lines.iter().filter(|l| l.starts_with('{')) {
            let v: Value = serde_json::from_str(line).expect("every log line is JSON");
            assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_at_debug_level_logs_no_name_and_no_text() {
    for format in ["json", "text"] {
        let dir = tempfile::tempdir().expect("dir");
        let db = database_url(dir.path());
        add_facilitator(
            &db,
            "wilhelmina.fac@example.org",
            "Wilhelmina Facilitrix",
            PASSWORD,
        );
        let server = Server::start(
            &db,
            &[
                (
                    "PEERCIRCLE_LOG",
                    "debug,sqlx=debug,hyper=info,tungstenite=info,tokio_tungstenite=info",
                ),
                ("PEERCIRCLE_LOG_FORMAT", format),
            ],
        );
        scenario_for_logs(&server, &db).await;
        let output = server.output.clone();
        server.stop();
        let lines = output.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let logs: Vec<String> = lines
            .into_iter()
            .filter(|l| !l.starts_with("peercircle is listening on "))
            .collect();
        check_logs(&logs, format == "json");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_running_restores() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database_url(dir.path());
    add_facilitator(&db, "fac@example.org", "Fac", PASSWORD);
    let server = Server::start(&db, &[]);
    let mut http = Http::new(&server);
    http.login("fac@example.org").await;
    let (first, session) = http.open_session("Kept circle").await;
    let (person, _) = http.join(&session, "Robin").await;

    let copy = dir.path().join("backups").join("copy.db");
    let (ok, out) = Server::run(&db, &["backup", copy.to_str().expect("path")]);
    assert!(ok, "backup while running: {out}");
    assert!(copy.exists());
    let (ok, out) = Server::run(&db, &["backup", copy.to_str().expect("path")]);
    assert!(!ok && out.contains("already exists"), "{out}");

    // After the backup: a second group, which the restore must undo.
    let (second, _) = http.open_session("Later circle").await;
    // No restore while the server runs.
    let (ok, out) = Server::run(&db, &["restore", copy.to_str().expect("path")]);
    assert!(!ok && out.contains("already using the database"), "{out}");
    server.stop();

    let (ok, out) = Server::run(&db, &["restore", copy.to_str().expect("path")]);
    assert!(ok, "restore: {out}");
    assert!(out.contains("kept at"), "{out}");
    let server = Server::start(&db, &[]);
    let mut http = Http::new(&server);
    http.login("fac@example.org").await;
    let (status, groups) = http.send(reqwest::Method::GET, "/api/groups", None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = groups
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|g| g["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec![first.as_str()],
        "the backup's groups, not {second}"
    );
    let (status, people) = http
        .send(
            reqwest::Method::GET,
            &format!("/api/sessions/{session}/participants"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(people[0]["id"], person);

    // A file that is not a peercircle database is refused, nothing changed.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").expect("write");
    server.stop();
    let (ok, out) = Server::run(&db, &["restore", junk.to_str().expect("path")]);
    assert!(!ok, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_erase_command_erases_a_person_once_their_session_ended() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database_url(dir.path());
    add_facilitator(&db, "fac@example.org", "Fac", PASSWORD);
    let server = Server::start(&db, &[]);
    let mut http = Http::new(&server);
    http.login("fac@example.org").await;
    let (_, session) = http.open_session("Erase circle").await;
    let (robin, _) = http.join(&session, "Robin").await;
    let (sam, _) = http.join(&session, "Sam").await;

    // Their session is still open: refused, nothing erased.
    let (ok, out) = Server::run(&db, &["erase", "--participant", &robin]);
    assert!(!ok && out.contains("has not ended"), "{out}");
    let (status, _) = http
        .send(
            reqwest::Method::DELETE,
            &format!("/api/sessions/{session}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "cancelled");
    // Cancelled counts as over once the actor stored the end; the record's
    // cancel is enough for the store.
    let deadline = Instant::now() + Duration::from_secs(10);
    let out = loop {
        let (ok, out) = Server::run(&db, &["erase", "--participant", &robin]);
        if ok {
            break out;
        }
        assert!(Instant::now() < deadline, "erase never succeeded: {out}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(out.contains("Erased 1 join"), "{out}");
    let (_, people) = http
        .send(
            reqwest::Method::GET,
            &format!("/api/sessions/{session}/participants"),
            None,
        )
        .await;
    let ids: Vec<&str> = people
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, vec![sam.as_str()]);
    let (ok, out) = Server::run(&db, &["erase", "--participant", &robin]);
    assert!(!ok && out.contains("no participant"), "{out}");
}
