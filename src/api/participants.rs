//! Who joined a session, for its facilitators: `GET
//! /api/sessions/{session}/participants` lists everyone who joined (with
//! whether their socket ever arrived), and `DELETE
//! /api/sessions/{session}/participants/{participant}` (`?ban=true`)
//! removes someone who joined but never arrived, so joins without a socket
//! cannot squat a session's places (issue 10, item 8). People who arrived
//! are removed from the session screen (the `remove` command), which also
//! closes their sockets.
//!
//! Both are audit-logged (ids only). Names go to the facilitator who asked,
//! never to the log.

use super::views::{Erased, ParticipantView};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::groups::own_group;
use super::FacilitatorAuth;
use crate::app_state::AppState;
use crate::domain::schedule::rfc3339;
use crate::error::ApiError;
use crate::store::{AuditEntry, ParticipantRecord, SessionRecord};

/// Notes a participant's first socket, so their join keeps its place for
/// good (the WebSocket handshake calls this once the token is accepted).
/// `false` when the join's hold ran out and the session filled up meanwhile
/// (the place was given to someone else: they must join again). A store
/// failure is logged, never fatal: the person is let in.
pub async fn note_arrival(
    state: &AppState,
    session: &SessionRecord,
    participant: &ParticipantRecord,
) -> bool {
    if participant.arrived_at.is_some() {
        return true;
    }
    let held_since = state.now_ms() - i64::from(state.settings.join_hold_secs) * 1000;
    if participant.joined_at <= held_since {
        // Their place is no longer counted: take it back only if there is room.
        let full = async {
            let group = state.store.group(&session.group_id).await?;
            let taken = state
                .store
                .count_participants(&session.id, held_since)
                .await?;
            Ok::<_, crate::store::StoreError>(group.is_some_and(|g| taken >= g.capacity))
        };
        match full.await {
            Ok(true) => return false,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, session = %session.id, "could not count places"),
        }
    }
    if let Err(e) = state
        .store
        .mark_arrived(&participant.id, state.now_ms())
        .await
    {
        tracing::error!(error = %e, participant = %participant.id, "could not note an arrival");
    }
    true
}

async fn own_session(
    state: &AppState,
    session_id: &str,
    who: &crate::store::Facilitator,
) -> Result<SessionRecord, ApiError> {
    let session = state
        .store
        .session(session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("There is no such session."))?;
    own_group(state, &session.group_id, who).await?;
    Ok(session)
}

async fn audit(state: &AppState, entry: AuditEntry) {
    if let Err(e) = state.store.audit(&entry).await {
        tracing::error!(error = %e, group = %entry.group_id, action = %entry.action, "could not write the audit log");
    }
}

/// `GET /api/sessions/{session}/participants`.
#[utoipa::path(get, path = "/api/sessions/{session}/participants", tag = "participants", params(("session" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "Everyone who joined, by join time", body = Vec<ParticipantView>),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of its group", body = super::views::ErrorBody),
        (status = 404, description = "No such session", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path(session_id): Path<String>,
) -> Result<Json<Vec<ParticipantView>>, ApiError> {
    let session = own_session(&state, &session_id, &who).await?;
    let people = state.store.participants_of_session(&session.id).await?;
    audit(
        &state,
        AuditEntry {
            group_id: session.group_id.clone(),
            session_id: Some(session.id.clone()),
            facilitator_id: who.id.clone(),
            action: "participants.list".into(),
            target: None,
            detail: Some(format!("count={}", people.len())),
            at: state.now_ms(),
        },
    )
    .await;
    let out: Vec<ParticipantView> = people
        .into_iter()
        .map(|p| ParticipantView {
            joined_at: rfc3339(p.joined_at),
            arrived: p.arrived_at.is_some(),
            removed: p.removed,
            id: p.id,
            name: p.name,
        })
        .collect();
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct RemoveQuery {
    /// Also ban their device and address from the group's later sessions.
    #[serde(default)]
    ban: bool,
}

/// `DELETE /api/sessions/{session}/participants/{participant}[?ban=true]`.
#[utoipa::path(delete, path = "/api/sessions/{session}/participants/{participant}", tag = "participants",
    params(
        ("session" = String, Path, description = "The session's id"),
        ("participant" = String, Path, description = "The participant's id"),
        RemoveQuery,
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "`ban` is not true or false", body = super::views::ErrorBody),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of its group", body = super::views::ErrorBody),
        (status = 404, description = "No such session or participant", body = super::views::ErrorBody),
        (status = 409, description = "They arrived: remove them on the session screen", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn remove(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path((session_id, participant_id)): Path<(String, String)>,
    query: Result<Query<RemoveQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::bad_request("`ban` must be true or false."));
    };
    let session = own_session(&state, &session_id, &who).await?;
    let participant = state
        .store
        .participant(&participant_id)
        .await?
        .filter(|p| p.session_id == session.id)
        .ok_or_else(|| ApiError::not_found("There is no such participant in this session."))?;
    if participant.arrived_at.is_some() && !participant.removed {
        return Err(ApiError::conflict(
            "conflict",
            "They have already arrived: remove them from the session screen.",
        ));
    }
    let now = state.now_ms();
    state
        .store
        .remove_participant(&participant.id, query.ban, &who.id, now)
        .await?;
    tracing::info!(session = %session.id, participant = %participant.id, ban = query.ban, "un-arrived participant removed");
    audit(
        &state,
        AuditEntry {
            group_id: session.group_id.clone(),
            session_id: Some(session.id.clone()),
            facilitator_id: who.id.clone(),
            action: "participant.remove".into(),
            target: Some(participant.id.clone()),
            detail: Some(format!("ban={} arrived=false", query.ban)),
            at: now,
        },
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/groups/{group}/participants/{participant}`: erases a
/// person's data from a group (docs/privacy.md), on their request.
#[utoipa::path(delete, path = "/api/groups/{group}/participants/{participant}", tag = "participants",
    params(
        ("group" = String, Path, description = "The group's id"),
        ("participant" = String, Path, description = "The id of one of their joins"),
    ),
    responses(
        (status = 200, description = "Erased", body = Erased),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of this group", body = super::views::ErrorBody),
        (status = 404, description = "No such group, or nobody with that id in it", body = super::views::ErrorBody),
        (status = 409, description = "They are in a session that has not ended yet", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn erase(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path((group_id, participant_id)): Path<(String, String)>,
) -> Result<Json<Erased>, ApiError> {
    own_group(&state, &group_id, &who).await?;
    let now = state.now_ms();
    let erased = crate::retention::erase_participant(&state.store, &group_id, &participant_id, now)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                ApiError::not_found("There is nobody with that id in this group.")
            }
            other => other.into(),
        })?;
    // Who erased, and how many joins: never whose (that id is gone).
    audit(
        &state,
        AuditEntry {
            group_id: group_id.clone(),
            session_id: None,
            facilitator_id: who.id.clone(),
            action: "participant.erase".into(),
            target: None,
            detail: Some(format!("count={}", erased.len())),
            at: now,
        },
    )
    .await;
    Ok(Json(Erased {
        erased: erased.len(),
    }))
}
