//! Groups: create, list (mine), read, update, delete. Only a group's own
//! facilitators may read its private view or change it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::views::GroupView;
use super::{hashing, ApiJson, FacilitatorAuth};
use crate::app_state::AppState;
use crate::domain::{
    AccessCode, Agreement, Capacity, Description, Email, GroupName, SupportResources, TimeZoneName,
    ValidationError,
};
use crate::error::ApiError;
use crate::store::{AuditEntry, Facilitator, Group, GroupInput, SupportResource};

/// The body of `POST /api/groups` and `PUT /api/groups/{id}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct GroupBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    description: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    agreement: String,
    /// An IANA time zone, e.g. `Europe/London`.
    #[serde(default)]
    #[schema(max_length = 64, example = "Europe/London")]
    timezone: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1)]
    capacity: Option<i64>,
    /// Absent: no code (create) / keep it (update). `""`: no code.
    #[serde(default)]
    access_code: Option<String>,
    #[serde(default)]
    #[schema(min_items = 1, max_items = 20)]
    support_resources: Option<Vec<SupportResource>>,
    /// E-mail addresses of existing facilitator accounts to co-facilitate.
    #[serde(default)]
    facilitators: Option<Vec<String>>,
    #[serde(default)]
    keep_transcript: Option<bool>,
}

/// A validated body.
struct ParsedGroup {
    input: GroupInput,
    co_facilitators: Option<Vec<String>>,
}

/// Validates a body. On update (`existing` given) omitted optional fields
/// keep their current values; on create they take the defaults.
async fn parse_body(
    state: &AppState,
    body: GroupBody,
    existing: Option<&Group>,
) -> Result<ParsedGroup, ApiError> {
    let name = GroupName::parse(&body.name)?;
    let description = Description::parse(
        body.description
            .as_deref()
            .or(existing.map(|g| g.description.as_str()))
            .unwrap_or(""),
    )?;
    let agreement = Agreement::parse(&body.agreement)?;
    let timezone = TimeZoneName::parse(
        body.timezone
            .as_deref()
            .or(existing.map(|g| g.timezone.as_str()))
            .unwrap_or(TimeZoneName::DEFAULT),
    )?;
    let capacity = Capacity::parse(
        body.capacity
            .or(existing.map(|g| i64::from(g.capacity)))
            .unwrap_or(i64::from(state.settings.default_capacity)),
        state.settings.max_capacity,
    )?;
    let code = match body.access_code.as_deref() {
        None => None,
        Some(raw) if raw.trim().is_empty() => Some(None),
        Some(raw) => Some(Some(AccessCode::parse(raw)?)),
    };
    let support_resources = match (&body.support_resources, existing) {
        (Some(list), _) => SupportResources::parse(list)?,
        (None, Some(g)) => SupportResources::parse(&g.support_resources)
            .unwrap_or_else(|_| SupportResources::uk_default()),
        (None, None) => SupportResources::uk_default(),
    };
    let keep_transcript = body
        .keep_transcript
        .or(existing.map(|g| g.keep_transcript))
        .unwrap_or(false);
    let creating = existing.is_none();
    let co_facilitators = match body.facilitators {
        None => None,
        Some(emails) => {
            if emails.len() > 20 {
                return Err(
                    ValidationError::new("A group can have at most 20 co-facilitators.").into(),
                );
            }
            let mut ids = Vec::with_capacity(emails.len());
            for raw in &emails {
                let email = Email::parse(raw)?;
                match state.store.facilitator_by_email(email.as_str()).await? {
                    Some((f, _)) => ids.push(f.id),
                    None => {
                        return Err(ApiError::bad_request(
                            "One of the co-facilitators' e-mail addresses has no facilitator account here. Ask them to be added first.",
                        ))
                    }
                }
            }
            Some(ids)
        }
    };
    let access_code_hash = match code {
        None if creating => Some(None),
        None => None,
        Some(None) => Some(None),
        Some(Some(code)) => {
            let code = code.as_str().to_string();
            let hash = hashing(state, move || crate::auth::hash_password(&code))
                .await?
                .map_err(ApiError::Internal)?;
            Some(Some(hash))
        }
    };
    Ok(ParsedGroup {
        input: GroupInput {
            name: name.into_inner(),
            description: description.into_inner(),
            agreement: agreement.into_inner(),
            timezone: timezone.as_str().to_string(),
            capacity: capacity.get(),
            access_code_hash,
            support_resources: support_resources.into_inner(),
            keep_transcript,
        },
        co_facilitators,
    })
}

/// The group, if it exists and `who` facilitates it: 404 / 403 otherwise.
pub(super) async fn own_group(
    state: &AppState,
    group_id: &str,
    who: &Facilitator,
) -> Result<Group, ApiError> {
    let group = state
        .store
        .group(group_id)
        .await?
        .ok_or_else(|| ApiError::not_found("There is no such group."))?;
    if !group.facilitators.iter().any(|id| id == &who.id) {
        return Err(ApiError::forbidden(
            "Only this group's facilitators can do that.",
        ));
    }
    Ok(group)
}

/// The private (facilitators') view of a group. Never the access code.
pub(super) async fn group_json(state: &AppState, group: &Group) -> Result<GroupView, ApiError> {
    let mut facilitators = Vec::with_capacity(group.facilitators.len());
    for id in &group.facilitators {
        if let Some(f) = state.store.facilitator(id).await? {
            facilitators.push(f);
        }
    }
    Ok(GroupView {
        id: group.id.clone(),
        name: group.name.clone(),
        description: group.description.clone(),
        agreement: group.agreement.clone(),
        timezone: group.timezone.clone(),
        capacity: group.capacity,
        has_access_code: group.has_access_code,
        support_resources: group.support_resources.clone(),
        facilitators,
        keep_transcript: group.keep_transcript,
        created_at: crate::domain::schedule::rfc3339(group.created_at),
        calendar_url: format!("{}/api/groups/{}/calendar.ics", state.base_url, group.id),
    })
}

async fn audit(
    state: &AppState,
    group_id: &str,
    who: &Facilitator,
    action: &str,
    detail: Option<String>,
) {
    let entry = AuditEntry {
        group_id: group_id.to_string(),
        session_id: None,
        facilitator_id: who.id.clone(),
        action: action.to_string(),
        target: None,
        detail,
        at: state.now_ms(),
    };
    if let Err(e) = state.store.audit(&entry).await {
        tracing::error!(error = %e, group = %group_id, action, "could not write the audit log");
    }
}

/// Creates a group; the facilitator signed in is its first facilitator.
#[utoipa::path(post, path = "/api/groups", tag = "groups", request_body = GroupBody,
    responses(
        (status = 201, description = "Created", body = GroupView),
        (status = 400, description = "A field is missing or not valid", body = super::views::ErrorBody),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn create(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    ApiJson(body): ApiJson<GroupBody>,
) -> Result<Response, ApiError> {
    let parsed = parse_body(&state, body, None).await?;
    let mut group = state.store.create_group(&who.id, &parsed.input).await?;
    if let Some(co) = parsed.co_facilitators {
        let mut ids = vec![who.id.clone()];
        ids.extend(co);
        state.store.set_group_facilitators(&group.id, &ids).await?;
        group = state
            .store
            .group(&group.id)
            .await?
            .ok_or_else(|| ApiError::not_found("There is no such group."))?;
    }
    tracing::info!(group = %group.id, facilitator = %who.id, "group created");
    audit(&state, &group.id, &who, "group.create", None).await;
    Ok((StatusCode::CREATED, Json(group_json(&state, &group).await?)).into_response())
}

/// The groups the facilitator signed in facilitates.
#[utoipa::path(get, path = "/api/groups", tag = "groups",
    responses(
        (status = 200, description = "Their groups", body = Vec<GroupView>),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
) -> Result<Json<Vec<GroupView>>, ApiError> {
    let groups = state.store.groups_of(&who.id).await?;
    let mut out = Vec::with_capacity(groups.len());
    for g in &groups {
        out.push(group_json(&state, g).await?);
    }
    Ok(Json(out))
}

/// One of the facilitator's groups.
#[utoipa::path(get, path = "/api/groups/{group}", tag = "groups",
    params(("group" = String, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group", body = GroupView),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of this group", body = super::views::ErrorBody),
        (status = 404, description = "No such group", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn read(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path(group_id): Path<String>,
) -> Result<Json<GroupView>, ApiError> {
    let group = own_group(&state, &group_id, &who).await?;
    Ok(Json(group_json(&state, &group).await?))
}

/// Changes a group; omitted optional fields keep their values.
#[utoipa::path(put, path = "/api/groups/{group}", tag = "groups", request_body = GroupBody,
    params(("group" = String, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group as changed", body = GroupView),
        (status = 400, description = "A field is missing or not valid", body = super::views::ErrorBody),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of this group", body = super::views::ErrorBody),
        (status = 404, description = "No such group", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn update(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path(group_id): Path<String>,
    ApiJson(body): ApiJson<GroupBody>,
) -> Result<Json<GroupView>, ApiError> {
    let existing = own_group(&state, &group_id, &who).await?;
    let parsed = parse_body(&state, body, Some(&existing)).await?;
    let mut group = state.store.update_group(&group_id, &parsed.input).await?;
    if let Some(co) = parsed.co_facilitators {
        // The creator stays first; whoever edits stays in (no lock-out by accident).
        let mut ids: Vec<String> = existing.facilitators.first().cloned().into_iter().collect();
        if !ids.contains(&who.id) {
            ids.push(who.id.clone());
        }
        ids.extend(co);
        state.store.set_group_facilitators(&group_id, &ids).await?;
        // Whoever is no longer a facilitator of the group loses its live
        // sessions at once, not at their next hello.
        for gone in existing.facilitators.iter().filter(|f| !ids.contains(f)) {
            state
                .sessions
                .revoke(
                    crate::session::Revoked::Member(gone.as_str().into()),
                    Some(&group_id),
                )
                .await;
        }
        group = state
            .store
            .group(&group_id)
            .await?
            .ok_or_else(|| ApiError::not_found("There is no such group."))?;
    }
    tracing::info!(group = %group.id, facilitator = %who.id, "group updated");
    audit(&state, &group.id, &who, "group.update", None).await;
    Ok(Json(group_json(&state, &group).await?))
}

/// Deletes a group and erases everything of it: its sessions (running
/// ones end), who joined them, bans, saved snapshots and its audit log.
#[utoipa::path(delete, path = "/api/groups/{group}", tag = "groups",
    params(("group" = String, Path, description = "The group's id")),
    responses(
        (status = 204, description = "Deleted and erased"),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
        (status = 403, description = "Not a facilitator of this group", body = super::views::ErrorBody),
        (status = 404, description = "No such group", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn delete(
    State(state): State<AppState>,
    FacilitatorAuth(who): FacilitatorAuth,
    Path(group_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    own_group(&state, &group_id, &who).await?;
    let sessions = state.store.sessions_of_group(&group_id, 0).await?;
    // Everything of the group goes, its audit log included (docs/privacy.md).
    state.store.erase_group(&group_id).await?;
    crate::metrics::erased("group");
    for session in sessions {
        state
            .sessions
            .end(&session.id, crate::protocol::PhaseReason::Cancelled)
            .await;
    }
    tracing::info!(group = %group_id, facilitator = %who.id, "group deleted");
    audit(&state, &group_id, &who, "group.delete", None).await;
    Ok(StatusCode::NO_CONTENT)
}
