//! The HTTP API against a real server on 127.0.0.1:0 with a temporary
//! database: what a facilitator and a participant would notice.

mod common;

use common::{client, in_minutes, spawn_app, spawn_app_with, TestApp};
use icalendar::{CalendarComponent, CalendarDateTime, Component, DatePerhapsTime};
use peercircle::startup::Application;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, code: &str) {
    assert_eq!(status, want_status, "body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a human message: {body}"
    );
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let res = app
        .http
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    common::answer(res).await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

// --- Login ------------------------------------------------------------------

#[tokio::test]
async fn login_right_and_wrong_and_the_cookie_works() {
    let app = spawn_app().await;
    let f = app
        .create_facilitator("Robin@Example.org", "Robin", "a long password")
        .await;

    let (s, b) = app
        .post(
            "/api/login",
            None,
            &json!({"email": "robin@example.org", "password": "wrong password"}),
        )
        .await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let wrong_message = b["error"]["message"].clone();
    let (s, b) = app
        .post(
            "/api/login",
            None,
            &json!({"email": "nobody@example.org", "password": "a long password"}),
        )
        .await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        b["error"]["message"], wrong_message,
        "unknown e-mail and wrong password look alike"
    );

    let browser = client();
    let res = browser
        .post(app.url("/api/login"))
        .json(&json!({"email": " ROBIN@example.org ", "password": "a long password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a cookie")
        .to_string();
    assert!(cookie.starts_with("peercircle_token="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/")
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["facilitator"]["id"], f.id.as_str());
    assert_eq!(body["facilitator"]["name"], "Robin");
    let token = body["token"].as_str().expect("token").to_string();

    // The cookie alone signs the browser in; the bearer token works too.
    let me: Value = browser
        .get(app.url("/api/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(
        me,
        json!({"id": f.id, "name": "Robin", "email": "robin@example.org"})
    );
    let (s, me) = app.get("/api/me", Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["id"], f.id.as_str());

    // Without or with a bad token: 401.
    let (s, b) = app.get("/api/me", None).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = app.get("/api/me", Some("not-a-token")).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");

    // Logging out ends the token and clears the cookie.
    let res = browser
        .post(app.url("/api/logout"))
        .send()
        .await
        .expect("logout");
    assert!(res.status().is_success());
    let res = browser.get(app.url("/api/me")).send().await.expect("me");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (s, _) = app.get("/api/me", Some(&token)).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the token itself no longer works"
    );
}

#[tokio::test]
async fn login_tokens_expire() {
    let app = spawn_app().await;
    let f = app
        .create_facilitator("old@example.org", "Old", "password-123")
        .await;
    let token = peercircle::auth::new_token();
    app.store
        .create_login_token(
            &f.id,
            &peercircle::auth::token_hash(&token),
            peercircle::now_ms() - 1,
        )
        .await
        .expect("token");
    let (s, _) = app.get("/api/me", Some(&token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        peercircle::api::facilitator_for_token(app.store.as_ref(), &token)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn login_is_rate_limited_per_address() {
    let app = spawn_app_with(|s| {
        s.login_per_minute = 3;
        s.rate_limit_loopback = true;
    })
    .await;
    app.create_facilitator("r@example.org", "R", "password-123")
        .await;
    for _ in 0..3 {
        let (s, _) = app
            .post(
                "/api/login",
                None,
                &json!({"email": "r@example.org", "password": "nope-nope"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, b) = app
        .post(
            "/api/login",
            None,
            &json!({"email": "r@example.org", "password": "password-123"}),
        )
        .await;
    assert_error(s, &b, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn forwarded_for_is_only_trusted_when_configured() {
    let app = spawn_app_with(|s| {
        s.login_per_minute = 1;
        s.trust_forwarded_for = true;
        s.rate_limit_loopback = true;
    })
    .await;
    // Our one proxy appends the client's address on the right.
    let attempt = |ip: &'static str| {
        app.http
            .post(app.url("/api/login"))
            .header("x-forwarded-for", format!("10.0.0.1, {ip}"))
            .json(&json!({"email": "x@example.org", "password": "whatever1"}))
            .send()
    };
    assert_eq!(
        attempt("203.0.113.1").await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("203.0.113.2").await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("203.0.113.1").await.expect("send").status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    let untrusted = spawn_app_with(|s| {
        s.login_per_minute = 1;
        s.rate_limit_loopback = true;
    })
    .await;
    let attempt = |ip: &'static str| {
        untrusted
            .http
            .post(untrusted.url("/api/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": "x@example.org", "password": "whatever1"}))
            .send()
    };
    assert_eq!(
        attempt("203.0.113.1").await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("203.0.113.2").await.expect("send").status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a spoofed header does not buy new attempts"
    );
}

// --- Groups -----------------------------------------------------------------

#[tokio::test]
async fn create_update_list_and_delete_groups() {
    let app = spawn_app().await;
    let (f, token) = app.facilitator("Robin").await;
    let co = app
        .create_facilitator("kim@example.org", "Kim", "password-123")
        .await;

    let group = app.create_group(&token, json!({})).await;
    let id = group["id"].as_str().expect("id").to_string();
    assert_eq!(group["name"], "Test circle");
    assert_eq!(group["timezone"], "Europe/London");
    assert_eq!(group["capacity"], 20);
    assert_eq!(group["has_access_code"], false);
    assert_eq!(group["facilitators"][0]["id"], f.id.as_str());
    assert_eq!(group["facilitators"][0]["name"], "Robin");
    let urls: Vec<&str> = group["support_resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["url"].as_str())
        .collect();
    for u in [
        "tel:116123",
        "sms:85258?body=SHOUT",
        "tel:111",
        "https://111.nhs.uk",
        "tel:999",
    ] {
        assert!(urls.contains(&u), "default resources hold {u}: {urls:?}");
    }
    assert!(group["created_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    // With everything given, including an access code that never comes back.
    let full = app
        .create_group(
            &token,
            json!({
                "name": "Tuesday group", "description": "", "timezone": "America/New_York",
                "capacity": 8, "access_code": "open sesame",
                "support_resources": [{"label": "Crisis line", "url": "tel:988"}],
                "facilitators": ["KIM@example.org"],
            }),
        )
        .await;
    let full_id = full["id"].as_str().expect("id").to_string();
    assert_eq!(full["has_access_code"], true);
    assert_eq!(full["capacity"], 8);
    assert_eq!(full["timezone"], "America/New_York");
    assert_eq!(
        full["support_resources"],
        json!([{"label": "Crisis line", "url": "tel:988"}])
    );
    assert_eq!(full["facilitators"][1]["id"], co.id.as_str());
    let text = full.to_string();
    assert!(
        !text.contains("open sesame") && !text.contains("argon2"),
        "{text}"
    );

    // Listing: mine only; the co-facilitator sees the shared group.
    let (s, list) = app.get("/api/groups", Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&list), vec![id.clone(), full_id.clone()]);
    let kim = app.login("kim@example.org", "password-123").await;
    let (_, list) = app.get("/api/groups", Some(&kim)).await;
    assert_eq!(ids(&list), vec![full_id.clone()]);
    let (s, read) = app.get(&format!("/api/groups/{full_id}"), Some(&kim)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(read["name"], "Tuesday group");

    // Update without access_code keeps it; "" removes it.
    let base = json!({"name": "Tuesday evening group", "description": "Now with tea.",
                      "agreement": "Be kind.", "timezone": "America/New_York", "capacity": 9});
    let (s, updated) = app
        .put(&format!("/api/groups/{full_id}"), Some(&token), &base)
        .await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Tuesday evening group");
    assert_eq!(updated["capacity"], 9);
    assert_eq!(updated["has_access_code"], true, "an omitted code is kept");
    assert_eq!(
        updated["facilitators"].as_array().map(Vec::len),
        Some(2),
        "co-facilitators kept"
    );
    let mut remove = base.clone();
    remove["access_code"] = json!("");
    let (_, updated) = app
        .put(&format!("/api/groups/{full_id}"), Some(&token), &remove)
        .await;
    assert_eq!(updated["has_access_code"], false);

    // Other omitted fields keep their values too.
    let (s, updated) = app
        .put(
            &format!("/api/groups/{full_id}"),
            Some(&token),
            &json!({"name": "Renamed", "agreement": "Be kind."}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!(updated["capacity"], 9);
    assert_eq!(updated["timezone"], "America/New_York");
    assert_eq!(updated["description"], "Now with tea.");
    assert_eq!(
        updated["support_resources"],
        json!([{"label": "Crisis line", "url": "tel:988"}])
    );

    // Unknown co-facilitator: 400.
    let mut unknown = base.clone();
    unknown["facilitators"] = json!(["stranger@example.org"]);
    let (s, b) = app
        .put(&format!("/api/groups/{full_id}"), Some(&token), &unknown)
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");

    // Delete: gone for everyone.
    let (s, _) = app
        .delete(&format!("/api/groups/{full_id}"), Some(&token))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app
        .get(&format!("/api/groups/{full_id}"), Some(&token))
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (_, list) = app.get("/api/groups", Some(&kim)).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn bad_input_is_a_400_with_the_error_shape() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let good = json!({"name": "G", "description": "", "agreement": "Be kind."});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let cases = [
        with("name", json!("")),
        with("name", json!("x".repeat(101))),
        with("agreement", json!("  ")),
        with("description", json!("d".repeat(2001))),
        with("capacity", json!(0)),
        with("capacity", json!(1001)),
        with("capacity", json!("ten")),
        with("timezone", json!("Moon/Base")),
        with("access_code", json!("abc")),
        with(
            "support_resources",
            json!([{"label": "x", "url": "javascript:alert(1)"}]),
        ),
        with("facilitators", json!(["not an email"])),
        json!({"description": "no name", "agreement": "x"}),
        json!([1, 2, 3]),
    ];
    for body in &cases {
        let (s, b) = app.post("/api/groups", Some(&token), body).await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    }
    let (s, b) = post_raw(&app, "/api/login", "application/json", "{not json").await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    let (s, b) = post_raw(
        &app,
        "/api/login",
        "text/plain",
        r#"{"email":"a","password":"b"}"#,
    )
    .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    let (s, b) = app
        .post("/api/login", None, &json!({"email": "a@example.org"}))
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");

    // Schedules.
    let group = app.create_group(&token, json!({})).await;
    let path = format!("/api/groups/{}/sessions", group["id"].as_str().expect("id"));
    for body in [
        json!({"starts_at": "next tuesday", "duration_minutes": 60}),
        json!({"starts_at": in_minutes(60), "duration_minutes": 4}),
        json!({"starts_at": in_minutes(60), "duration_minutes": 721}),
        json!({"starts_at": in_minutes(60), "duration_minutes": 60, "repeat": {"weekly": 0}}),
        json!({"starts_at": in_minutes(60), "duration_minutes": 60, "repeat": {"weekly": 105}}),
        json!({"duration_minutes": 60}),
    ] {
        let (s, b) = app.post(&path, Some(&token), &body).await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    }

    // Without signing in: 401; unknown API routes: 404 JSON; wrong method: JSON too.
    let (s, b) = app.post("/api/groups", None, &good).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = app.get("/api/no/such/thing", None).await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = app.get("/api/sessions/s_nope", None).await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = app.get("/api/login", None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert!(b["error"]["code"].is_string(), "{b}");
}

#[tokio::test]
async fn a_facilitator_cannot_touch_another_group() {
    let app = spawn_app().await;
    let (_, a) = app.facilitator("A").await;
    let (_, b) = app.facilitator("B").await;
    let (group_b, session_b) = app.open_session(&b).await;
    let body = json!({"name": "Taken over", "agreement": "x"});

    let (s, _) = app.get(&format!("/api/groups/{group_b}"), Some(&a)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .put(&format!("/api/groups/{group_b}"), Some(&a), &body)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .delete(&format!("/api/groups/{group_b}"), Some(&a))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .post(
            &format!("/api/groups/{group_b}/sessions"),
            Some(&a),
            &json!({"starts_at": in_minutes(60), "duration_minutes": 60}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .get(&format!("/api/groups/{group_b}/sessions"), Some(&a))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b_err) = app
        .delete(&format!("/api/sessions/{session_b}"), Some(&a))
        .await;
    assert_error(s, &b_err, StatusCode::FORBIDDEN, "forbidden");
    let (_, list) = app.get("/api/groups", Some(&a)).await;
    assert_eq!(list, json!([]));

    // Nothing changed for B.
    let (s, group) = app.get(&format!("/api/groups/{group_b}"), Some(&b)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(group["name"], "Test circle");
    let (_, sessions) = app
        .get(&format!("/api/groups/{group_b}/sessions"), Some(&b))
        .await;
    assert_eq!(sessions[0]["cancelled"], false);
}

// --- Sessions and the calendar ---------------------------------------------

fn starts(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["starts_at"].as_str().expect("starts_at").to_string())
        .collect()
}

#[tokio::test]
async fn weekly_repeats_keep_local_time_across_clock_changes() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let group = app.create_group(&token, json!({})).await;
    let path = format!("/api/groups/{}/sessions", group["id"].as_str().expect("id"));

    // Autumn: British Summer Time ends on 25 October 2026.
    let (s, list) = app
        .post(
            &path,
            Some(&token),
            &json!({"starts_at": "2026-10-15T19:00:00+01:00", "duration_minutes": 90, "repeat": {"weekly": 3}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{list}");
    assert_eq!(
        starts(&list),
        [
            "2026-10-15T18:00:00Z",
            "2026-10-22T18:00:00Z",
            "2026-10-29T19:00:00Z"
        ]
    );
    assert_eq!(list[2]["ends_at"], "2026-10-29T20:30:00Z");
    assert!(list[0]["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("s_")));

    // Spring: it starts on 28 March 2027 (a local time without offset is
    // read in the group's zone).
    let (s, list) = app
        .post(
            &path,
            Some(&token),
            &json!({"starts_at": "2027-03-18T19:00", "duration_minutes": 60, "repeat": {"weekly": 3}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{list}");
    assert_eq!(
        starts(&list),
        [
            "2027-03-18T19:00:00Z",
            "2027-03-25T19:00:00Z",
            "2027-04-01T18:00:00Z"
        ]
    );

    // The list shows upcoming ones only, with their join links.
    let (s, upcoming) = app.get(&path, Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        upcoming.as_array().map(Vec::len),
        Some(3),
        "the October ones are over: {upcoming}"
    );
    assert_eq!(upcoming[0]["phase"], "scheduled");
    assert_eq!(upcoming[0]["cancelled"], false);
    let id = upcoming[0]["id"].as_str().expect("id");
    assert_eq!(upcoming[0]["join_url"], format!("{}/s/{id}", app.base));
}

#[tokio::test]
async fn the_calendar_feed_parses_and_skips_cancelled_sessions() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let group = app
        .create_group(&token, json!({"name": "Evening circle, Tuesdays; all welcome", "description": "Line one\nLine two"}))
        .await;
    let group_id = group["id"].as_str().expect("id");
    let (_, list) = app
        .post(
            &format!("/api/groups/{group_id}/sessions"),
            Some(&token),
            &json!({"starts_at": in_minutes(24 * 60), "duration_minutes": 60, "repeat": {"weekly": 3}}),
        )
        .await;
    let all = ids(&list);
    let (s, _) = app
        .delete(&format!("/api/sessions/{}", all[1]), Some(&token))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, upcoming) = app
        .get(&format!("/api/groups/{group_id}/sessions"), Some(&token))
        .await;
    assert_eq!(upcoming[1]["cancelled"], true);

    // Anyone with the link, no sign-in.
    let res = client()
        .get(app.url(&format!("/api/groups/{group_id}/calendar.ics")))
        .send()
        .await
        .expect("ics");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/calendar; charset=utf-8")
    );
    let text = res.text().await.expect("text");
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "CRLF line endings only"
    );
    assert!(
        text.split("\r\n").all(|l| l.len() <= 75),
        "folded at 75 octets"
    );
    assert!(text.contains("VERSION:2.0\r\n") && text.contains("PRODID:"));

    let calendar: icalendar::Calendar = text.parse().expect("the feed parses");
    let events: Vec<&icalendar::Event> = calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 2, "the cancelled session is left out");
    for (event, id) in events.iter().zip([&all[0], &all[2]]) {
        assert!(event.get_uid().is_some_and(|u| u.starts_with(id.as_str())));
        assert_eq!(
            event.get_summary(),
            Some("Evening circle, Tuesdays; all welcome")
        );
        assert_eq!(
            event.get_url(),
            Some(format!("{}/s/{id}", app.base).as_str())
        );
        assert!(event.get_timestamp().is_some(), "DTSTAMP");
        match event.get_start() {
            Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(_))) => {}
            other => panic!("DTSTART in UTC, got {other:?}"),
        }
        assert!(matches!(
            event.get_end(),
            Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(_)))
        ));
        assert!(event
            .get_description()
            .is_some_and(|d| d.contains("Line one")));
    }
    assert!(text.contains("SUMMARY:Evening circle\\, Tuesdays\\; all welcome\r\n"));

    let (s, b) = app.get("/api/groups/g_nope/calendar.ics", None).await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
}

// --- Joining ----------------------------------------------------------------

async fn try_join(
    app: &TestApp,
    http: &reqwest::Client,
    session: &str,
    body: Value,
) -> (StatusCode, Value, Option<String>) {
    let res = http
        .post(app.url(&format!("/api/sessions/{session}/join")))
        .json(&body)
        .send()
        .await
        .expect("join");
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("peercircle_device="))
        .map(str::to_string);
    let (s, b) = common::answer(res).await;
    (s, b, cookie)
}

#[tokio::test]
async fn joining_needs_the_agreement_a_fitting_name_and_an_open_door() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let (_, session) = app.open_session(&token).await;
    let browser = client();

    for body in [
        json!({"name": "Sam"}),
        json!({"name": "Sam", "agree": false}),
    ] {
        let (s, b, _) = try_join(&app, &browser, &session, body).await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
        assert_eq!(
            b["error"]["message"],
            "You need to accept the group agreement to join"
        );
    }
    for name in [
        "",
        "   ",
        "sam@example.org",
        "07700 900123",
        &"x".repeat(41),
    ] {
        let (s, b, _) = try_join(
            &app,
            &browser,
            &session,
            json!({"name": name, "agree": true}),
        )
        .await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    }
    let (s, b, _) = try_join(
        &app,
        &browser,
        "s_nope",
        json!({"name": "Sam", "agree": true}),
    )
    .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");

    // The first join sets a long-lived device cookie; later ones keep it.
    let (s, b, cookie) = try_join(
        &app,
        &browser,
        &session,
        json!({"name": "  Sam  ", "agree": true}),
    )
    .await;
    assert!(s.is_success(), "{b}");
    assert!(b["participant_id"]
        .as_str()
        .is_some_and(|p| p.starts_with("p_")));
    assert_eq!(b["token"].as_str().map(str::len), Some(43));
    let cookie = cookie.expect("a device cookie");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Max-Age=")
    );
    let (s, _, again) = try_join(
        &app,
        &browser,
        &session,
        json!({"name": "Sam again", "agree": true}),
    )
    .await;
    assert!(s.is_success());
    assert!(again.is_none(), "the device cookie is not replaced");
    let stored = app
        .store
        .participant(b["participant_id"].as_str().expect("id"))
        .await
        .expect("store")
        .expect("participant");
    assert_eq!(stored.name, "Sam", "the pseudonym is trimmed");
    assert!(
        app.store
            .participant_by_token(&peercircle::auth::token_hash(
                b["token"].as_str().expect("token")
            ))
            .await
            .expect("store")
            .is_some(),
        "the token works (stored as its hash)"
    );
}

#[tokio::test]
async fn joining_follows_the_session_phase_and_lock() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let group = app.create_group(&token, json!({})).await;
    let group_id = group["id"].as_str().expect("id");
    let join = |session: String| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/sessions/{session}/join"),
                None,
                &json!({"name": "Sam", "agree": true}),
            )
            .await
        }
    };

    let later = app
        .create_session(&token, group_id, &in_minutes(60), 60)
        .await;
    let (s, b) = join(later["id"].as_str().expect("id").to_string()).await;
    assert_error(s, &b, StatusCode::CONFLICT, "not_open");
    assert!(b["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("15 minutes")));

    let soon = app
        .create_session(&token, group_id, &in_minutes(10), 60)
        .await;
    let (s, b) = join(soon["id"].as_str().expect("id").to_string()).await;
    assert!(s.is_success(), "the lobby opens 15 minutes before: {b}");

    let over = app
        .create_session(&token, group_id, &in_minutes(-120), 60)
        .await;
    let (s, b) = join(over["id"].as_str().expect("id").to_string()).await;
    assert_error(s, &b, StatusCode::CONFLICT, "session_ended");

    let ended = app
        .create_session(&token, group_id, &in_minutes(-5), 60)
        .await;
    let ended_id = ended["id"].as_str().expect("id").to_string();
    app.store
        .set_session_ended(&ended_id, peercircle::now_ms())
        .await
        .expect("end");
    let (s, b) = join(ended_id).await;
    assert_error(s, &b, StatusCode::CONFLICT, "session_ended");

    let cancelled = app
        .create_session(&token, group_id, &in_minutes(-5), 60)
        .await;
    let cancelled_id = cancelled["id"].as_str().expect("id").to_string();
    let (s, _) = app
        .delete(&format!("/api/sessions/{cancelled_id}"), Some(&token))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = join(cancelled_id).await;
    assert_error(s, &b, StatusCode::CONFLICT, "session_ended");

    let locked = app
        .create_session(&token, group_id, &in_minutes(-5), 60)
        .await;
    let locked_id = locked["id"].as_str().expect("id").to_string();
    app.store
        .set_session_locked(&locked_id, true)
        .await
        .expect("lock");
    let (s, b) = join(locked_id.clone()).await;
    assert_error(s, &b, StatusCode::CONFLICT, "locked");
    app.store
        .set_session_locked(&locked_id, false)
        .await
        .expect("unlock");
    let (s, _) = join(locked_id).await;
    assert!(s.is_success());
}

#[tokio::test]
async fn joining_checks_the_access_code() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let (_, session) = app
        .open_session_with(&token, json!({"access_code": "blue door"}))
        .await;
    let path = format!("/api/sessions/{session}/join");

    let (s, b) = app
        .post(&path, None, &json!({"name": "Sam", "agree": true}))
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(b["error"]["reason"], "access_code_missing");
    let (s, b) = app
        .post(
            &path,
            None,
            &json!({"name": "Sam", "agree": true, "access_code": "red door"}),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(b["error"]["reason"], "access_code_wrong");
    let (s, b) = app
        .post(
            &path,
            None,
            &json!({"name": "Sam", "agree": true, "access_code": "blue door"}),
        )
        .await;
    assert!(s.is_success(), "{b}");

    let (_, card) = app.get(&format!("/api/sessions/{session}"), None).await;
    assert_eq!(card["group"]["has_access_code"], true);
}

#[tokio::test]
async fn a_full_session_refuses_the_next_person() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let (_, session) = app.open_session_with(&token, json!({"capacity": 2})).await;
    app.join(&session, "One").await;
    app.join(&session, "Two").await;
    let (s, b) = app
        .post(
            &format!("/api/sessions/{session}/join"),
            None,
            &json!({"name": "Three", "agree": true}),
        )
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "full");
}

#[tokio::test]
async fn concurrent_joins_never_exceed_capacity() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin").await;
    let (_, session) = app.open_session_with(&token, json!({"capacity": 5})).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = app.url(&format!("/api/sessions/{session}/join"));
        tasks.push(tokio::spawn(async move {
            client()
                .post(url)
                .json(&json!({"name": format!("P{i}"), "agree": true}))
                .send()
                .await
                .expect("join")
                .status()
        }));
    }
    let mut ok = 0;
    let mut full = 0;
    for t in tasks {
        match t.await.expect("task") {
            s if s.is_success() => ok += 1,
            StatusCode::CONFLICT => full += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, full), (5, 15));
    assert_eq!(
        app.store
            .count_participants(&session, 0)
            .await
            .expect("count"),
        5
    );
}

#[tokio::test]
async fn a_banned_person_cannot_join_the_groups_later_sessions() {
    let app = spawn_app().await;
    let (f, token) = app.facilitator("Robin").await;
    let (group_id, session) = app.open_session(&token).await;
    let later = app
        .create_session(&token, &group_id, &in_minutes(5), 60)
        .await;
    let later = later["id"].as_str().expect("id").to_string();
    let (_, other_session) = app.open_session(&token).await;

    let browser = client();
    let (s, b, _) = try_join(
        &app,
        &browser,
        &session,
        json!({"name": "Trouble", "agree": true}),
    )
    .await;
    assert!(s.is_success());
    let participant = b["participant_id"].as_str().expect("id");
    app.store
        .remove_participant(participant, true, &f.id, peercircle::now_ms())
        .await
        .expect("ban");
    let removed = app
        .store
        .participant(participant)
        .await
        .expect("store")
        .expect("participant");
    assert!(removed.removed);

    // Same device cookie: refused, vaguely.
    let (s, b, _) = try_join(
        &app,
        &browser,
        &later,
        json!({"name": "New name", "agree": true}),
    )
    .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(b["error"]["reason"], "banned");
    assert!(b["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("contact the organisers")));
    // A fresh browser from the same address: refused too.
    let (s, b, _) = try_join(
        &app,
        &client(),
        &later,
        json!({"name": "Someone", "agree": true}),
    )
    .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    // Bans are per group.
    let (s, b, _) = try_join(
        &app,
        &browser,
        &other_session,
        json!({"name": "Someone", "agree": true}),
    )
    .await;
    assert!(s.is_success(), "{b}");
}

#[tokio::test]
async fn joining_is_rate_limited_per_address() {
    let app = spawn_app_with(|s| {
        s.join_per_minute = 2;
        s.rate_limit_loopback = true;
    })
    .await;
    let (_, token) = app.facilitator("Robin").await;
    let (_, session) = app.open_session(&token).await;
    let path = format!("/api/sessions/{session}/join");
    app.join(&session, "One").await;
    app.join(&session, "Two").await;
    let (s, b) = app
        .post(&path, None, &json!({"name": "Three", "agree": true}))
        .await;
    assert_error(s, &b, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

// --- The public card ---------------------------------------------------------

#[tokio::test]
async fn the_public_card_shows_the_group_but_no_participant_names() {
    let app = spawn_app().await;
    let (_, token) = app.facilitator("Robin Facilitator").await;
    let (group_id, session) = app.open_session(&token).await;
    app.join(&session, "Quietly Unique Pseudonym").await;

    let (s, card) = client()
        .get(app.url(&format!("/api/sessions/{session}")))
        .send()
        .await
        .map(|r| (r.status(), r))
        .expect("card");
    assert_eq!(s, StatusCode::OK);
    let card: Value = card.json().await.expect("json");
    assert_eq!(card["id"], session.as_str());
    assert_eq!(card["group"]["id"], group_id.as_str());
    assert_eq!(card["group"]["name"], "Test circle");
    assert_eq!(
        card["group"]["agreement"],
        "1. Be kind.\n2. What is said here stays here."
    );
    assert_eq!(card["group"]["timezone"], "Europe/London");
    assert_eq!(card["group"]["has_access_code"], false);
    assert!(card["group"]["support_resources"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
    assert_eq!(card["facilitators"], json!(["Robin Facilitator"]));
    assert_eq!(card["capacity"], 20);
    assert_eq!(card["joined"], 1);
    assert_eq!(card["locked"], false);
    assert_eq!(card["phase"], "lobby");
    assert!(card["starts_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let text = card.to_string();
    assert!(!text.contains("Quietly Unique Pseudonym"), "{text}");
    assert!(
        !text.contains("@example.org"),
        "no facilitator e-mail: {text}"
    );

    app.store
        .set_session_started(&session, Some(peercircle::now_ms()))
        .await
        .expect("start");
    let (_, card) = app.get(&format!("/api/sessions/{session}"), None).await;
    assert_eq!(card["phase"], "live");
}

// --- Start-up, the demo and the pages ----------------------------------------

#[tokio::test]
async fn the_demo_is_created_once() {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = peercircle::settings::Settings::for_tests(format!(
        "sqlite://{}",
        dir.path().join("nested").join("demo.db").display()
    ));
    settings.demo = true;

    let first = Application::build(settings.clone())
        .await
        .expect("first start");
    let demo = first
        .demo()
        .expect("the demo is created on an empty database")
        .clone();
    let banner = demo.banner("http://127.0.0.1:8080");
    assert!(
        banner.contains("http://127.0.0.1:8080/facilitate"),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("http://127.0.0.1:8080/s/{}", demo.session_id)),
        "{banner}"
    );
    assert!(banner.contains("demo@peercircle.local") && banner.contains("peercircle-demo"));
    let store = first.state().store.clone();
    let (facilitator, _) = store
        .facilitator_by_email("demo@peercircle.local")
        .await
        .expect("store")
        .expect("the demo facilitator");
    assert_eq!(facilitator.name, "Alex (demo facilitator)");
    let groups = store.groups_of(&facilitator.id).await.expect("groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, "Evening circle (demo)");
    assert!(groups[0].agreement.lines().count() >= 6);
    let sessions = store
        .sessions_of_group(&groups[0].id, 0)
        .await
        .expect("sessions");
    assert_eq!(sessions.len(), 5, "now and four more weeks");
    assert_eq!(sessions[0].id, demo.session_id);
    let now = peercircle::now_ms();
    assert_ne!(
        sessions[0].phase(now, 15 * 60_000),
        peercircle::store::RecordPhase::Scheduled
    );
    assert_eq!(sessions[0].ends_at - sessions[0].starts_at, 2 * 3_600_000);
    drop(first);

    let second = Application::build(settings).await.expect("second start");
    assert!(second.demo().is_none(), "a second start creates nothing");
    let store = second.state().store.clone();
    assert_eq!(
        store
            .groups_of(&facilitator.id)
            .await
            .expect("groups")
            .len(),
        1
    );

    // And one can sign in with the printed login (one server per database:
    // the second start lets go first).
    let settings = second.state().settings.as_ref().clone();
    drop(second);
    let app = common::spawn_app_in(dir, settings).await;
    let token = app.login("demo@peercircle.local", "peercircle-demo").await;
    let (_, groups) = app.get("/api/groups", Some(&token)).await;
    assert_eq!(groups.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn health_readiness_and_the_pages() {
    let app = spawn_app().await;
    let (s, b) = app.get("/healthz", None).await;
    assert_eq!((s, b), (StatusCode::OK, json!({"status": "ok"})));
    let (s, _) = app.get("/readyz", None).await;
    assert_eq!(s, StatusCode::OK);

    let page = |path: &str| {
        let url = app.url(path);
        async move {
            let res = client().get(url).send().await.expect("page");
            let ct = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            (res.status(), ct, res.text().await.expect("text"))
        }
    };
    let (s, ct, index) = page("/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(index.to_lowercase().contains("<html"));
    let (s, _, session_page) = page("/s/s_anything").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(session_page, index, "/s/{{id}} serves the same page");
}

#[tokio::test]
async fn the_store_also_opens_in_memory() {
    use peercircle::store::Store;
    let store = peercircle::store::sqlite::SqliteStore::connect("sqlite::memory:")
        .await
        .expect("in-memory store");
    assert!(store.is_empty().await.expect("empty"));
    let f = peercircle::api::facilitators::add_facilitator(
        &store,
        "m@example.org",
        "M",
        "password-123",
    )
    .await
    .expect("facilitator");
    assert!(!store.is_empty().await.expect("not empty"));
    assert_eq!(store.facilitator(&f.id).await.expect("read"), Some(f));
    let err = peercircle::api::facilitators::add_facilitator(
        &store,
        "M@example.org",
        "M2",
        "password-123",
    )
    .await
    .expect_err("duplicate");
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(
        peercircle::api::facilitators::add_facilitator(&store, "x@example.org", "X", "short")
            .await
            .is_err()
    );
}
