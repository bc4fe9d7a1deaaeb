//! Sessions: scheduling (with weekly repeats), the facilitators' list,
//! cancelling one occurrence, the public card, the calendar feed and joining.

use super::views::{
    CardGroup, GroupRef, Joined, ScheduledSession, SessionCard, SummarySession, SummaryView,
    UpcomingSession,
};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::groups::own_group;
use super::{
    cookie, hashing, rate_limit, set_cookie, ApiJson, ClientAddr, FacilitatorAuth, DEVICE_COOKIE,
};
use crate::app_state::AppState;
use crate::domain::names::{impersonates, impersonation_error};
use crate::domain::schedule::{self, rfc3339};
use crate::domain::{AccessCode, DisplayName, TimeZoneName};
use crate::error::ApiError;
use crate::store::{AuditEntry, Group, JoinOutcome, RecordPhase, SessionRecord};

/// A year, for the device cookie's lifetime.
const DEVICE_COOKIE_SECS: i64 = 365 * 24 * 3600;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Repeat {
    /// How many weekly sessions, the first included.
    #[schema(minimum = 1, maximum = 104)]
    weekly: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct ScheduleBody {
    /// RFC 3339 with an offset, or a local time in the group's zone.
    #[schema(max_length = 64, example = "2026-10-15T19:00:00+01:00")]
    starts_at: String,
    #[schema(minimum = 5, maximum = 720)]
    duration_minutes: i64,
    #[serde(default)]
    repeat: Option<Repeat>,
}

fn lobby_ms(state: &AppState) -> i64 {
    i64::from(state.settings.lobby_minutes) * 60_000
}

/// Un-arrived joins made at or before this time no longer hold a place.
fn held_since(state: &AppState, now: i64) -> i64 {
    now - i64::from(state.settings.join_hold_secs) * 1000
}

fn phase_name(phase: RecordPhase) -> &'static str {
    match phase {
        RecordPhase::Scheduled => "scheduled",
        RecordPhase::Lobby => "lobby",
        RecordPhase::Live => "live",
        RecordPhase::Ended => "ended",
    }
}

/// The link people open to join a session.
pub fn join_url(state: &AppState, session_id: &str) -> String {
    format!("{}/s/{}", state.base_url, session_id)
}

async fn session_or_404(state: &AppState, id: &str) -> Result<SessionRecord, ApiError> {
    state
        .store
        .session(id)
        .await?
        .ok_or_else(|| ApiError::not_found("There is no such session."))
}

async fn group_or_404(state: &AppState, id: &str) -> Result<Group, ApiError> {
    state
        .store
        .group(id)
        .await?
        .ok_or_else(|| ApiError::not_found("There is no such group."))
}

/// The names of a group's facilitators, as people see them.
async fn facilitator_names(state: &AppState, group: &Group) -> Result<Vec<String>, ApiError> {
    let mut names = Vec::with_capacity(group.facilitators.len());
    for id in &group.facilitators {
        if let Some(f) = state.store.facilitator(id).await? {
            names.push(f.name);
        }
    }
    Ok(names)
}

async fn audit(state: &AppState, entry: AuditEntry) {
    if let Err(e) = state.store.audit(&entry).await {
        tracing::error!(error = %e, group = %entry.group_id, action = %entry.action, "could not write the audit log");
    }
}

/// Schedules a session of a group, or a weekly series (`repeat.weekly`),
/// at the same local time across clock changes.
#[utoipa::path(post, path = "/api/groups/{group}/sessions", tag = "sessions",
    request_body = ScheduleBody, params(("group" = String, Path, description = "The group's id")),
    responses(
        (status = 201, description = "Scheduled", body = Vec<ScheduledSession>),
        (status = 400, description = "A field is missing or not valid", body = super::views::ErrorBody),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of this group", body = super::views::ErrorBody),
        (status = 404, description = "No such group", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn schedule(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path(group_id): Path<String>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Response, ApiError> {
    let group = own_group(&state, &group_id, &who).await?;
    let zone = TimeZoneName::parse(&group.timezone)?;
    let start = schedule::parse_start(&body.starts_at, zone.zone())?;
    let minutes = schedule::check_duration(body.duration_minutes)?;
    let count = match body.repeat {
        Some(r) => schedule::check_weekly_count(r.weekly)?,
        None => 1,
    };
    let times = schedule::weekly(start, zone.zone(), minutes, count)?;
    let created = state.store.create_sessions(&group.id, &times).await?;
    tracing::info!(group = %group.id, facilitator = %who.id, count = created.len(), "sessions scheduled");
    audit(
        &state,
        AuditEntry {
            group_id: group.id.clone(),
            session_id: created.first().map(|s| s.id.clone()),
            facilitator_id: who.id.clone(),
            action: "session.schedule".into(),
            target: None,
            detail: Some(format!("count={} minutes={minutes}", created.len())),
            at: state.now_ms(),
        },
    )
    .await;
    let out: Vec<ScheduledSession> = created
        .iter()
        .map(|s| ScheduledSession {
            id: s.id.clone(),
            starts_at: rfc3339(s.starts_at),
            ends_at: rfc3339(s.ends_at),
            join_url: join_url(&state, &s.id),
        })
        .collect();
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// The group's sessions that have not ended, by start time.
#[utoipa::path(get, path = "/api/groups/{group}/sessions", tag = "sessions", params(("group" = String, Path, description = "The group's id")),
    responses(
        (status = 200, description = "Upcoming and running sessions", body = Vec<UpcomingSession>),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of this group", body = super::views::ErrorBody),
        (status = 404, description = "No such group", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path(group_id): Path<String>,
) -> Result<Json<Vec<UpcomingSession>>, ApiError> {
    let group = own_group(&state, &group_id, &who).await?;
    let now = state.now_ms();
    let sessions = state.store.sessions_of_group(&group.id, now).await?;
    let out: Vec<UpcomingSession> = sessions
        .iter()
        .filter(|s| s.ended_at.is_none())
        .map(|s| UpcomingSession {
            id: s.id.clone(),
            starts_at: rfc3339(s.starts_at),
            ends_at: rfc3339(s.ends_at),
            phase: phase_name(s.phase(now, lobby_ms(&state))).into(),
            cancelled: s.cancelled,
            locked: s.locked,
            join_url: join_url(&state, &s.id),
        })
        .collect();
    Ok(Json(out))
}

/// Cancels one session (a running one ends at once).
#[utoipa::path(delete, path = "/api/sessions/{session}", tag = "sessions", params(("session" = String, Path, description = "The session's id")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of its group", body = super::views::ErrorBody),
        (status = 404, description = "No such session", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path(session_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let session = session_or_404(&state, &session_id).await?;
    own_group(&state, &session.group_id, &who).await?;
    state.store.cancel_session(&session.id).await?;
    state
        .sessions
        .end(&session.id, crate::protocol::PhaseReason::Cancelled)
        .await;
    tracing::info!(session = %session.id, facilitator = %who.id, "session cancelled");
    audit(
        &state,
        AuditEntry {
            group_id: session.group_id.clone(),
            session_id: Some(session.id.clone()),
            facilitator_id: who.id.clone(),
            action: "session.cancel".into(),
            target: None,
            detail: None,
            at: state.now_ms(),
        },
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// What a facilitator keeps after a session (`GET /api/sessions/{id}/summary`):
/// who came, turns, speaking time and breaks per person, help requests and
/// reports with when each was seen. Read from the session's saved snapshot;
/// never message text, notes or reasons.
#[utoipa::path(get, path = "/api/sessions/{session}/summary", tag = "sessions", params(("session" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "The summary", body = SummaryView),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of its group", body = super::views::ErrorBody),
        (status = 404, description = "No such session, or it has not run", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn summary(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path(session_id): Path<String>,
) -> Result<Json<SummaryView>, ApiError> {
    let session = session_or_404(&state, &session_id).await?;
    let group = own_group(&state, &session.group_id, &who).await?;
    let saved = state
        .store
        .load_snapshot(&session.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("This session has not run yet, so there is no summary.")
        })?;
    let snapshot: crate::session::state::SessionSnapshot = serde_json::from_str(&saved)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("unreadable snapshot: {e}")))?;
    let s = snapshot.summary();
    Ok(Json(SummaryView {
        session: SummarySession {
            id: session.id,
            starts_at: session.starts_at,
            ends_at: session.ends_at,
            started_at: session.started_at,
            ended_at: session.ended_at,
            phase: s.phase.as_str().into(),
            live_ms: s.live_ms,
            group: GroupRef {
                id: group.id,
                name: group.name,
            },
        },
        people: to_json(&s.people),
        help_requests: to_json(&s.help_requests),
        reports: to_json(&s.reports),
    }))
}

/// Plain data as JSON (serializing it cannot fail).
fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// The public card: what anyone with the link sees before joining.
#[utoipa::path(get, path = "/api/sessions/{session}", tag = "sessions", params(("session" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "The card", body = SessionCard),
        (status = 404, description = "No such session", body = super::views::ErrorBody),
    ))]
pub(super) async fn card(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<Json<SessionCard>, ApiError> {
    let session = session_or_404(&state, &session_id).await?;
    let group = group_or_404(&state, &session.group_id).await?;
    let names = facilitator_names(&state, &group).await?;
    let joined = state
        .store
        .count_participants(&session.id, held_since(&state, state.now_ms()))
        .await?;
    let now = state.now_ms();
    // A running session knows whether it is paused; the record does not.
    // Before the doors open it stays `scheduled` even if a facilitator is
    // already in (joining is still refused then).
    let stored = session.phase(now, lobby_ms(&state));
    let live = match state.sessions.live_phase(&session.id).await {
        // Several nodes: another node may run it; its saved state says.
        None if state.cluster.is_some() => crate::cluster::saved_phase(&state, &session.id).await,
        live => live,
    };
    let phase = match (stored, live) {
        (RecordPhase::Lobby | RecordPhase::Live, Some(live)) => live.as_str(),
        _ => phase_name(stored),
    };
    Ok(Json(SessionCard {
        id: session.id.clone(),
        group: CardGroup {
            id: group.id,
            name: group.name,
            description: group.description,
            agreement: group.agreement,
            support_resources: group.support_resources,
            has_access_code: group.has_access_code,
            timezone: group.timezone,
        },
        starts_at: rfc3339(session.starts_at),
        ends_at: rfc3339(session.ends_at),
        doors_open_at: rfc3339(session.starts_at - lobby_ms(&state)),
        phase: phase.into(),
        cancelled: session.cancelled,
        facilitators: names,
        capacity: group.capacity,
        joined,
        locked: session.locked,
    }))
}

/// The group's sessions as an iCalendar feed (public, for calendar apps).
#[utoipa::path(get, path = "/api/groups/{group}/calendar.ics", tag = "sessions", params(("group" = String, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The feed", body = String, content_type = "text/calendar"),
        (status = 404, description = "No such group", body = super::views::ErrorBody),
    ))]
pub(super) async fn calendar(
    State(state): State<AppState>,
    Path(group_id): Path<String>,
) -> Result<Response, ApiError> {
    let group = group_or_404(&state, &group_id).await?;
    let sessions = state.store.sessions_of_group(&group.id, i64::MIN).await?;
    let events: Vec<crate::ics::Event> = sessions
        .iter()
        .filter(|s| !s.cancelled)
        .map(|s| crate::ics::Event {
            uid: s.id.clone(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            summary: group.name.clone(),
            description: group.description.clone(),
            url: join_url(&state, &s.id),
        })
        .collect();
    let body = crate::ics::calendar(&group.name, &state.base_url, &events, state.now_ms());
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"peercircle.ics\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct JoinBody {
    /// A first name or pseudonym.
    #[schema(min_length = 1, max_length = 40)]
    name: String,
    #[serde(default)]
    access_code: Option<String>,
    #[serde(default)]
    agree: Option<bool>,
}

/// Joins a session under a pseudonym, after accepting the agreement: a
/// token to say `hello` with on the WebSocket.
#[utoipa::path(post, path = "/api/sessions/{session}/join", tag = "sessions",
    request_body = JoinBody, params(("session" = String, Path, description = "The session's id")),
    responses(
        (status = 201, description = "Joined", body = Joined),
        (status = 400, description = "Agreement not accepted, or the name is not valid", body = super::views::ErrorBody),
        (status = 403, description = "Banned, or the access code is missing or wrong", body = super::views::ErrorBody),
        (status = 404, description = "No such session", body = super::views::ErrorBody),
        (status = 409, description = "Not open yet, ended, locked or full", body = super::views::ErrorBody),
        (status = 429, description = "Too many joins from this address", body = super::views::ErrorBody),
        (status = 503, description = "Hashing slots busy: try again (Retry-After)", body = super::views::ErrorBody),
    ))]
pub(super) async fn join(
    state: State<AppState>,
    ip: ClientAddr,
    headers: HeaderMap,
    session_id: Path<String>,
    body: Result<ApiJson<JoinBody>, ApiError>,
) -> Result<Response, ApiError> {
    let result = join_checked(state, ip, headers, session_id, body).await;
    crate::metrics::join(match &result {
        Ok(_) => "joined",
        Err(ApiError::ForbiddenBecause { reason, .. }) => reason,
        Err(e) => e.code(),
    });
    result
}

async fn join_checked(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    Path(session_id): Path<String>,
    body: Result<ApiJson<JoinBody>, ApiError>,
) -> Result<Response, ApiError> {
    let now = state.now_ms();
    rate_limit(&state.join_limiter, ip, now)?;
    let ApiJson(body) = body?;
    if body.agree != Some(true) {
        return Err(ApiError::bad_request(
            "You need to accept the group agreement to join",
        ));
    }
    let name = DisplayName::parse(&body.name)?;
    let session = session_or_404(&state, &session_id).await?;
    match session.phase(now, lobby_ms(&state)) {
        RecordPhase::Scheduled => {
            return Err(ApiError::conflict(
                "not_open",
                format!(
                    "The doors open {} minutes before the start. Please come back then.",
                    state.settings.lobby_minutes
                ),
            ))
        }
        RecordPhase::Ended => {
            return Err(ApiError::conflict(
                "session_ended",
                "This session has ended.",
            ))
        }
        RecordPhase::Lobby | RecordPhase::Live => {}
    }
    if session.locked {
        return Err(ApiError::conflict(
            "locked",
            "The facilitator has closed this session to new people for now.",
        ));
    }
    let group = group_or_404(&state, &session.group_id).await?;
    if impersonates(&name, &facilitator_names(&state, &group).await?) {
        return Err(impersonation_error().into());
    }
    let existing_device = cookie(&headers, DEVICE_COOKIE);
    let new_device = existing_device.is_none().then(crate::auth::new_token);
    let device = existing_device.as_deref().or(new_device.as_deref());
    let device_hash = device.map(crate::auth::token_hash);
    // Keyed by group, so the same address is not linkable across groups.
    let address_hash = crate::auth::token_hash(&format!("{}|{}", group.id, ip));
    if state
        .store
        .is_banned(&group.id, device_hash.as_deref(), Some(&address_hash))
        .await?
    {
        tracing::info!(session = %session.id, "join refused: banned");
        return Err(ApiError::ForbiddenBecause {
            reason: "banned",
            message: "You can't join this group's sessions. If you think this is a mistake, contact the organisers.".into(),
        });
    }
    if let Some(hash) = state.store.access_code_hash(&group.id).await? {
        let given = body.access_code.as_deref().unwrap_or("").trim().to_string();
        if given.is_empty() {
            return Err(ApiError::ForbiddenBecause {
                reason: "access_code_missing",
                message:
                    "This group needs an access code to join. The facilitator can give it to you."
                        .into(),
            });
        }
        let ok = match AccessCode::parse(&given) {
            Ok(code) => {
                let code = code.as_str().to_string();
                hashing(&state, move || crate::auth::verify_password(&code, &hash)).await?
            }
            Err(_) => false,
        };
        if !ok {
            return Err(ApiError::ForbiddenBecause {
                reason: "access_code_wrong",
                message: "That access code isn't right. Please check it with the facilitator."
                    .into(),
            });
        }
    }
    let token = crate::auth::new_token();
    let outcome = state
        .store
        .add_participant(
            &session.id,
            name.as_str(),
            &crate::auth::token_hash(&token),
            device_hash.as_deref(),
            Some(&address_hash),
            group.capacity,
            now,
            held_since(&state, now),
        )
        .await?;
    let participant = match outcome {
        JoinOutcome::Joined(p) => p,
        JoinOutcome::Full => {
            return Err(ApiError::conflict(
                "full",
                "This session is full. Please try another session of the group.",
            ))
        }
    };
    tracing::info!(session = %session.id, participant = %participant.id, "participant joined");
    let body = Json(Joined {
        participant_id: participant.id,
        token,
    });
    let mut response = (StatusCode::CREATED, body).into_response();
    if let Some(device) = new_device {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, DEVICE_COOKIE, &device, DEVICE_COOKIE_SECS),
        );
    }
    Ok(response)
}
