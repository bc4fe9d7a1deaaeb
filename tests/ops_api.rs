//! Retention and erasure through the running server (issue 12): the
//! background job deletes what is past its time on the server's own clock
//! (tokio's, paused and moved by the test), a group's facilitators erase a
//! person over HTTP, and deleting a group erases everything of it. The
//! OpenAPI document is served.

mod common;
mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

const DAY: Duration = Duration::from_secs(86_400);

/// Polls `check` (real time, at most 10 s) while the paused clock stands.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not in time");
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A store read under the paused clock: a pool timeout (the clock jumped
/// while the read waited on SQLite's thread) is tried again, a few times.
async fn read_retrying<T, F, Fut>(read: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = peercircle::store::StoreResult<T>>,
{
    let mut tries = 0;
    loop {
        match read().await {
            Ok(value) => return value,
            Err(e) if tries < 20 => {
                tries += 1;
                eprintln!("read failed ({e}); trying again");
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[tokio::test]
async fn the_retention_job_deletes_joins_once_they_are_past_their_time() {
    let clock = std::sync::Arc::new(peercircle::clock::TokioClock::new());
    let app = common::spawn_app_with_clock(
        |s| {
            s.retention_interval_minutes = 60;
            s.retention_joins_days = 30;
            s.login_token_hours = 12;
        },
        clock,
    )
    .await;
    let (_, token) = app.facilitator("Robin").await;
    let group = app.create_group(&token, json!({})).await;
    let group = group["id"].as_str().expect("group");
    let session = app
        .create_session(&token, group, &common::now_rfc3339(), 60)
        .await;
    let session = session["id"].as_str().expect("session").to_string();
    let (person, _) = app.join(&session, "Ana").await;
    let token_row = peercircle::auth::token_hash(&token);

    // Half-way through the 30 days the job has run (the expired login token
    // is gone) and the join is still kept.
    tokio::time::pause();
    // The paused clock also jumps to the job's next hourly run whenever the
    // runtime waits on SQLite's thread, so the checks keep days of slack.
    tokio::time::advance(15 * DAY).await;
    let store = app.store.clone();
    eventually("the job deletes the expired login token", || {
        let (store, row) = (store.clone(), token_row.clone());
        async move {
            // A read may time out while the paused clock jumps (sqlx's pool
            // waits on tokio's clock): that is "not yet", not a failure.
            matches!(store.facilitator_by_token(&row, 0).await, Ok(None))
        }
    })
    .await;
    assert!(
        read_retrying(|| app.store.participant(&person))
            .await
            .is_some(),
        "kept for 30 days after the session"
    );

    // Well past 30 days after the session's end: gone on the next run.
    tokio::time::advance(20 * DAY).await;
    eventually("the job deletes the join", || {
        let (store, person) = (store.clone(), person.clone());
        async move { matches!(store.participant(&person).await, Ok(None)) }
    })
    .await;
    assert!(
        read_retrying(|| app.store.session(&session))
            .await
            .is_some(),
        "the session's record (times only) stays"
    );
}

#[tokio::test]
async fn a_groups_facilitators_erase_a_person_over_http() {
    let app = common::spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let (_, stranger) = app.facilitator("Stranger").await;
    let (group, session) = app.open_session(&token).await;
    let (ana, _) = app.join(&session, "Ana").await;
    // Ben joins from another browser (the app's client keeps one device cookie).
    let res = common::client()
        .post(app.url(&format!("/api/sessions/{session}/join")))
        .json(&json!({"name": "Ben", "agree": true}))
        .send()
        .await
        .expect("join");
    let (_, joined) = common::answer(res).await;
    let ben = joined["participant_id"].as_str().expect("ben").to_string();
    let path = format!("/api/groups/{group}/participants/{ana}");

    let (s, _) = app.delete(&path, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app.delete(&path, Some(&stranger)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = app
        .delete(
            &format!("/api/groups/{group}/participants/p_nobody"),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    // Their session has not ended: not yet, and nothing lost.
    let (s, b) = app.delete(&path, Some(&token)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert!(app.store.participant(&ana).await.expect("read").is_some());

    let (s, _) = app
        .delete(&format!("/api/sessions/{session}"), Some(&token))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.delete(&path, Some(&token)).await;
    assert_eq!((s, b["erased"].clone()), (StatusCode::OK, json!(1)), "{b}");
    let (_, list) = app
        .get(
            &format!("/api/sessions/{session}/participants"),
            Some(&token),
        )
        .await;
    let ids: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, vec![ben.as_str()]);
    let log = app.store.audit_log(&group, 50).await.expect("log");
    assert!(
        log.iter()
            .all(|e| e.target.as_deref() != Some(ana.as_str())),
        "the audit log no longer names the erased id"
    );
    assert!(log.iter().any(|e| e.action == "participant.erase"));
}

#[tokio::test]
async fn deleting_a_group_erases_everything_of_it() {
    let app = common::spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let (group, session) = app.open_session(&token).await;
    let (ana, _) = app.join(&session, "Ana").await;
    let (s, _) = app
        .delete(
            &format!("/api/sessions/{session}/participants/{ana}?ban=true"),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(!app
        .store
        .audit_log(&group, 50)
        .await
        .expect("log")
        .is_empty());

    let (s, _) = app
        .delete(&format!("/api/groups/{group}"), Some(&token))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(app.store.participant(&ana).await.expect("read").is_none());
    assert!(app.store.session(&session).await.expect("read").is_none());
    let log = app.store.audit_log(&group, 50).await.expect("log");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["group.delete"],
        "only who deleted it, and when"
    );
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = common::spawn_app().await;
    let (s, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/sessions/{session}/join"]["post"].is_object());
}
