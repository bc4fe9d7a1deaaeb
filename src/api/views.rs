//! What the HTTP API answers, as types: the handlers build these, and the
//! OpenAPI document (`/api/openapi.json`, [`super::openapi`]) is generated
//! from them, so the document cannot drift from the answers.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{Facilitator, SupportResource};

/// `{"error": {"code", "message"}}`: every failure.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code, e.g. `bad_request`, `not_found`, `full`, `locked`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// With `forbidden` on joining: `banned`, `access_code_missing`,
    /// `access_code_wrong`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/login`.
#[derive(Serialize, ToSchema)]
pub struct LoginAnswer {
    /// The login token (also set as an HttpOnly cookie).
    pub token: String,
    pub facilitator: FacilitatorRef,
}

/// A facilitator as others see them.
#[derive(Serialize, ToSchema)]
pub struct FacilitatorRef {
    pub id: String,
    pub name: String,
}

/// The private (facilitators') view of a group. Never the access code.
#[derive(Serialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub agreement: String,
    pub timezone: String,
    pub capacity: u32,
    pub has_access_code: bool,
    pub support_resources: Vec<SupportResource>,
    pub facilitators: Vec<Facilitator>,
    pub keep_transcript: bool,
    /// RFC 3339.
    pub created_at: String,
    pub calendar_url: String,
}

/// A session just scheduled.
#[derive(Serialize, ToSchema)]
pub struct ScheduledSession {
    pub id: String,
    /// RFC 3339, in the group's time zone.
    pub starts_at: String,
    pub ends_at: String,
    pub join_url: String,
}

/// An upcoming session of a group.
#[derive(Serialize, ToSchema)]
pub struct UpcomingSession {
    pub id: String,
    pub starts_at: String,
    pub ends_at: String,
    /// `scheduled`, `lobby`, `live` or `ended`.
    pub phase: String,
    pub cancelled: bool,
    pub locked: bool,
    pub join_url: String,
}

/// The group as the public card of a session shows it.
#[derive(Serialize, ToSchema)]
pub struct CardGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub agreement: String,
    pub support_resources: Vec<SupportResource>,
    pub has_access_code: bool,
    pub timezone: String,
}

/// The public card: what anyone with the link sees before joining.
#[derive(Serialize, ToSchema)]
pub struct SessionCard {
    pub id: String,
    pub group: CardGroup,
    pub starts_at: String,
    pub ends_at: String,
    pub doors_open_at: String,
    /// `scheduled`, `lobby`, `live`, `paused` or `ended`.
    pub phase: String,
    pub cancelled: bool,
    /// The facilitators' names.
    pub facilitators: Vec<String>,
    pub capacity: u32,
    pub joined: u32,
    pub locked: bool,
}

/// `POST /api/sessions/{session}/join`.
#[derive(Serialize, ToSchema)]
pub struct Joined {
    pub participant_id: String,
    /// Say `hello` with it on the WebSocket.
    pub token: String,
}

/// Someone who joined a session, for its facilitators.
#[derive(Serialize, ToSchema)]
pub struct ParticipantView {
    pub id: String,
    pub name: String,
    pub joined_at: String,
    /// Whether their socket ever arrived.
    pub arrived: bool,
    pub removed: bool,
}

/// A group by id and name.
#[derive(Serialize, ToSchema)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
}

/// The session part of a summary.
#[derive(Serialize, ToSchema)]
pub struct SummarySession {
    pub id: String,
    /// Unix milliseconds.
    pub starts_at: i64,
    pub ends_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub phase: String,
    pub live_ms: i64,
    pub group: GroupRef,
}

/// What a facilitator keeps after a session: who came, turns, speaking
/// time and breaks per person, help requests and reports. Never message
/// text, notes or reasons.
#[derive(Serialize, ToSchema)]
pub struct SummaryView {
    pub session: SummarySession,
    /// `{id, name, role, turns, spoken_ms, breaks, removed}` per person.
    #[schema(value_type = Vec<Object>)]
    pub people: serde_json::Value,
    /// `{id, from, at, seen_by, seen_at}` per request.
    #[schema(value_type = Vec<Object>)]
    pub help_requests: serde_json::Value,
    /// `{id, from, by, at, seen_by, seen_at}` per report.
    #[schema(value_type = Vec<Object>)]
    pub reports: serde_json::Value,
}

/// `DELETE /api/groups/{group}/participants/{participant}`.
#[derive(Serialize, ToSchema)]
pub struct Erased {
    /// How many joins of this person (under any pseudonym, from the same
    /// device) were erased from the group.
    pub erased: usize,
}

/// `GET /healthz`, `GET /readyz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}
