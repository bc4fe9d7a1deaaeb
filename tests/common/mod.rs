//! The shared test harness: a real server on `127.0.0.1:0` with a fresh
//! SQLite database in a temporary folder, and a small typed client for the
//! HTTP API. Each test binary uses a subset of the helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use peercircle::app_state::AppState;
use peercircle::settings::Settings;
use peercircle::startup::Application;
use peercircle::store::{Facilitator, Store};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

/// A running server. Dropping it stops the server.
pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client with a cookie jar (shared by the raw helpers and `join`).
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    pub settings: Settings,
    /// The server's store, for arranging what the API cannot (bans, locks…).
    pub store: Arc<dyn Store>,
    /// The server's state (settings, live-session registry…).
    pub state: AppState,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    dir: Option<TempDir>,
}

/// Starts a server with the test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server with the test settings changed by `change`.
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("data").join("peercircle.db");
    let mut settings = Settings::for_tests(format!("sqlite://{}", db.display()));
    change(&mut settings);
    spawn_app_in(dir, settings).await
}

/// Starts a server on a given folder (kept alive by the returned app) with
/// given settings.
pub async fn spawn_app_in(dir: TempDir, settings: Settings) -> TestApp {
    // The server takes its time from tokio's clock, so a test can stop it
    // (`tokio::time::pause`) and move it on (`tokio::time::advance`).
    let clock = std::sync::Arc::new(peercircle::clock::TokioClock::new());
    spawn_app_in_with_clock(dir, settings, clock).await
}

/// Like [`spawn_app_with`], with the server's clock given (a test moves it).
pub async fn spawn_app_with_clock(
    change: impl FnOnce(&mut Settings),
    clock: peercircle::clock::SharedClock,
) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("data").join("peercircle.db");
    let mut settings = Settings::for_tests(format!("sqlite://{}", db.display()));
    change(&mut settings);
    spawn_app_in_with_clock(dir, settings, clock).await
}

async fn spawn_app_in_with_clock(
    dir: TempDir,
    settings: Settings,
    clock: peercircle::clock::SharedClock,
) -> TestApp {
    let app = Application::build_with_clock(settings.clone(), clock)
        .await
        .expect("the application builds");
    let addr = SocketAddr::from(([127, 0, 0, 1], app.port()));
    let state = app.state().clone();
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        base: format!("http://{addr}"),
        http: client(),
        shutdown,
        settings,
        store: state.store.clone(),
        state,
        server: Some(server),
        dir: Some(dir),
    }
}

impl TestApp {
    /// Stops the server gracefully and starts a new one on the same
    /// database (a new port, a new epoch for every session).
    pub async fn restart(mut self) -> TestApp {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        let dir = self.dir.take().expect("the data folder");
        let settings = self.settings.clone();
        drop(self);
        spawn_app_in(dir, settings).await
    }
}

/// A new HTTP client with its own cookie jar (a different browser).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Reads an answer as `(status, JSON)`; a body that is not JSON is `Null`.
pub async fn answer(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The WebSocket URL of a session.
    pub fn ws_url(&self, session_id: &str) -> String {
        format!("ws://{}/ws?session={}", self.addr, session_id)
    }

    fn with_token(req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let req = Self::with_token(self.http.get(self.url(path)), token);
        answer(req.send().await.expect("GET")).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let req = Self::with_token(self.http.post(self.url(path)).json(body), token);
        answer(req.send().await.expect("POST")).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let req = Self::with_token(self.http.put(self.url(path)).json(body), token);
        answer(req.send().await.expect("PUT")).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let req = Self::with_token(self.http.delete(self.url(path)), token);
        answer(req.send().await.expect("DELETE")).await
    }

    /// Adds a facilitator account (as `peercircle facilitator add` does).
    pub async fn create_facilitator(&self, email: &str, name: &str, password: &str) -> Facilitator {
        peercircle::api::facilitators::add_facilitator(self.store.as_ref(), email, name, password)
            .await
            .expect("facilitator added")
    }

    /// Signs in and returns the bearer token. Uses a client without a
    /// cookie jar, so `self.http` does not silently carry a login.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.url("/api/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login request");
        let (status, body) = answer(res).await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        body["token"].as_str().expect("token").to_string()
    }

    /// A new facilitator, signed in: `(facilitator, token)`.
    pub async fn facilitator(&self, name: &str) -> (Facilitator, String) {
        let email = format!(
            "{}@example.org",
            peercircle::auth::new_id("f")
                .to_lowercase()
                .replace(['_', '-'], "")
        );
        let f = self.create_facilitator(&email, name, "password-123").await;
        let token = self.login(&email, "password-123").await;
        (f, token)
    }

    /// Creates a group; `extra` fields override the defaults (name,
    /// description, agreement). Returns the group JSON.
    pub async fn create_group(&self, token: &str, extra: Value) -> Value {
        let mut body = json!({
            "name": "Test circle",
            "description": "A group for tests.",
            "agreement": "1. Be kind.\n2. What is said here stays here.",
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (status, group) = self.post("/api/groups", Some(token), &body).await;
        assert!(status.is_success(), "create group: {status} {group}");
        group
    }

    /// Schedules one session; returns its `{id, starts_at, ends_at}`.
    pub async fn create_session(
        &self,
        token: &str,
        group_id: &str,
        starts_at: &str,
        minutes: i64,
    ) -> Value {
        let (status, sessions) = self
            .post(
                &format!("/api/groups/{group_id}/sessions"),
                Some(token),
                &json!({"starts_at": starts_at, "duration_minutes": minutes}),
            )
            .await;
        assert!(status.is_success(), "schedule: {status} {sessions}");
        sessions[0].clone()
    }

    /// A new group (default settings) with a two-hour session starting now:
    /// `(group_id, session_id)`, the session's doors open.
    pub async fn open_session(&self, token: &str) -> (String, String) {
        self.open_session_with(token, json!({})).await
    }

    /// Like [`TestApp::open_session`] with extra group fields (capacity, access_code…).
    pub async fn open_session_with(&self, token: &str, group: Value) -> (String, String) {
        let group = self.create_group(token, group).await;
        let group_id = group["id"].as_str().expect("group id").to_string();
        let session = self
            .create_session(token, &group_id, &now_rfc3339(), 120)
            .await;
        (
            group_id,
            session["id"].as_str().expect("session id").to_string(),
        )
    }

    /// Joins a session (agreeing to the group agreement) with `self.http`:
    /// `(participant_id, token)`.
    pub async fn join(&self, session_id: &str, name: &str) -> (String, String) {
        let (status, body) = self
            .post(
                &format!("/api/sessions/{session_id}/join"),
                None,
                &json!({"name": name, "agree": true}),
            )
            .await;
        assert!(status.is_success(), "join: {status} {body}");
        (
            body["participant_id"]
                .as_str()
                .expect("participant id")
                .to_string(),
            body["token"].as_str().expect("token").to_string(),
        )
    }
}

/// The current time as RFC 3339 (whole seconds).
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// The time `minutes` from now (negative: ago) as RFC 3339.
pub fn in_minutes(minutes: i64) -> String {
    let t = jiff::Timestamp::now().as_second() + minutes * 60;
    jiff::Timestamp::from_second(t)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
