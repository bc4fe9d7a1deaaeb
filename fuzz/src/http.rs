//! The `http` target: arbitrary request bodies for the endpoints that read
//! one (login, group create and update, session schedule, join), sent to the
//! real `/api` router in-process, over an in-memory SQLite store.
//!
//! The input: one byte picks the endpoint, one byte the headers (content
//! type, sign-in, a device cookie, an access code on the group), the rest
//! is the body. Each input that needs one gets a fresh group (and a session
//! whose doors are open), made through the store, so an answer depends on
//! the input alone; the app itself (one runtime, one store, one signed-in
//! facilitator) is reused across inputs and rebuilt every
//! [`REBUILD_EVERY`] inputs so the store does not grow without bound.
//!
//! Checks: no panic; the status is a 2xx or a 4xx, never a 5xx; every 4xx
//! has the body `{"error":{"code","message",…}}` with two non-empty strings
//! (documented additions beside them allowed); every 2xx with a body is JSON.

use std::cell::RefCell;

use axum::body::{to_bytes, Body};
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use peercircle::app_state::AppState;
use peercircle::settings::Settings;
use peercircle::startup::Application;
use peercircle::store::{GroupInput, SupportResource};
use serde_json::Value;
use tower::ServiceExt;

use super::bytes::Bytes;

/// Inputs served by one app before it is built afresh.
pub const REBUILD_EVERY: u32 = 2_000;

const EMAIL: &str = "fuzz@example.org";
const PASSWORD: &str = "password-123";
const CO_EMAIL: &str = "co@example.org";
const ACCESS_CODE: &str = "open-sesame";

/// The endpoints with a body.
#[derive(Clone, Copy, Debug)]
enum Endpoint {
    Login,
    CreateGroup,
    UpdateGroup,
    Schedule,
    Join,
}

const ENDPOINTS: [Endpoint; 5] = [
    Endpoint::Login,
    Endpoint::CreateGroup,
    Endpoint::UpdateGroup,
    Endpoint::Schedule,
    Endpoint::Join,
];

/// One built app and what the inputs need from it.
struct App {
    router: Router,
    state: AppState,
    facilitator: String,
    token: String,
    code_hash: String,
    served: u32,
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Option<App>,
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

pub fn run(data: &[u8]) {
    HARNESS.with(|h| {
        let mut h = h.borrow_mut();
        let harness = h.get_or_insert_with(|| Harness {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            app: None,
        });
        let stale = harness
            .app
            .as_ref()
            .is_none_or(|a| a.served >= REBUILD_EVERY);
        if stale {
            harness.app = None;
            harness.app = Some(harness.runtime.block_on(build()));
        }
        let Some(app) = harness.app.as_mut() else {
            unreachable!("built just above");
        };
        app.served += 1;
        harness.runtime.block_on(one(app, data));
    });
}

async fn build() -> App {
    let mut settings = Settings::for_tests("sqlite::memory:".into());
    // One client sends every input: no rate limit may hide a handler.
    settings.login_per_minute = u32::MAX;
    settings.join_per_minute = u32::MAX;
    let app = Application::build(settings).await.expect("the app builds");
    let state = app.state().clone();
    drop(app);
    let store = state.store.as_ref();
    let facilitator =
        peercircle::api::facilitators::add_facilitator(store, EMAIL, "Fuzz", PASSWORD)
            .await
            .expect("a facilitator");
    peercircle::api::facilitators::add_facilitator(store, CO_EMAIL, "Co", PASSWORD)
        .await
        .expect("a co-facilitator");
    let router = Router::new()
        .nest("/api", peercircle::api::router())
        .with_state(state.clone());
    let code_hash = peercircle::auth::hash_password(ACCESS_CODE).expect("a hash");
    let mut app = App {
        router,
        state,
        facilitator: facilitator.id,
        token: String::new(),
        code_hash,
        served: 0,
    };
    let login = format!(r#"{{"email":"{EMAIL}","password":"{PASSWORD}"}}"#);
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/login",
        true,
        None,
        None,
        login.into(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the fuzz facilitator signs in");
    let body: Value = serde_json::from_slice(&body).expect("a JSON answer");
    app.token = body["token"].as_str().expect("a token").to_string();
    app
}

/// A fresh group (with an access code when asked) and a session of it
/// that started a minute ago: `(group id, session id)`.
async fn fresh_group(app: &App, access_code: bool) -> (String, String) {
    let store = app.state.store.as_ref();
    let input = GroupInput {
        name: "Fuzz circle".into(),
        description: "A group for fuzzing.".into(),
        agreement: "Be kind.".into(),
        timezone: "Europe/London".into(),
        capacity: 12,
        access_code_hash: Some(access_code.then(|| app.code_hash.clone())),
        support_resources: vec![SupportResource {
            label: "Samaritans".into(),
            url: "https://www.samaritans.org".into(),
        }],
        keep_transcript: false,
    };
    let group = store
        .create_group(&app.facilitator, &input)
        .await
        .expect("a group");
    let now = app.state.now_ms();
    let sessions = store
        .create_sessions(&group.id, &[(now - 60_000, now + 7_200_000)])
        .await
        .expect("a session");
    (group.id, sessions[0].id.clone())
}

async fn one(app: &App, data: &[u8]) {
    let mut b = Bytes::new(data);
    let endpoint = ENDPOINTS[b.below(ENDPOINTS.len())];
    let flags = b.byte();
    let body = b.rest().to_vec();
    let json = flags & 1 == 0;
    let signed_in = flags & 2 == 0;
    let device = (flags & 4 != 0).then_some("peercircle_device=fuzz-device");
    let access_code = flags & 8 != 0;
    let (method, uri) = match endpoint {
        Endpoint::Login => (Method::POST, "/api/login".to_string()),
        Endpoint::CreateGroup => (Method::POST, "/api/groups".to_string()),
        Endpoint::UpdateGroup => {
            let (group, _) = fresh_group(app, access_code).await;
            (Method::PUT, format!("/api/groups/{group}"))
        }
        Endpoint::Schedule => {
            let (group, _) = fresh_group(app, access_code).await;
            (Method::POST, format!("/api/groups/{group}/sessions"))
        }
        Endpoint::Join => {
            let (_, session) = fresh_group(app, access_code).await;
            (Method::POST, format!("/api/sessions/{session}/join"))
        }
    };
    let token = signed_in.then_some(app.token.as_str());
    let (status, bytes) = send(app, method, &uri, json, token, device, body.clone()).await;
    let shown = String::from_utf8_lossy(&body);
    assert!(
        status.is_success() || status.is_client_error(),
        "{endpoint:?} answered {status} to {shown:?}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if status.is_client_error() {
        check_error(&bytes, endpoint, status, &shown);
    } else if !bytes.is_empty() {
        serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|_| {
            panic!("{endpoint:?} answered {status} with a body that is not JSON")
        });
    }
}

fn check_error(bytes: &[u8], endpoint: Endpoint, status: StatusCode, sent: &str) {
    let v: Value = serde_json::from_slice(bytes)
        .unwrap_or_else(|_| panic!("{endpoint:?} {status} to {sent:?}: the error is not JSON"));
    // The wire contract only grows: fields added beside `code` and
    // `message` (such as `reason`) are allowed.
    let shape_ok = v["error"].is_object()
        && v["error"]["code"].as_str().is_some_and(|c| !c.is_empty())
        && v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty());
    assert!(
        shape_ok,
        "{endpoint:?} {status} to {sent:?}: error shape {v}"
    );
}

/// Sends one request: its status and body.
async fn send(
    app: &App,
    method: Method,
    uri: &str,
    json: bool,
    token: Option<&str>,
    cookie: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(uri);
    if json {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let request = request.body(Body::from(body)).expect("a request");
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("the router never fails");
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body reads");
    (status, bytes.to_vec())
}
