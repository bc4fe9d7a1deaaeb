//! The HTTP API's error type: one enum, mapped once to the wire error
//! `{"error":{"code","message"}}` with the status PROTOCOL.md §1 lists.
//!
//! Messages are plain sentences a person can read; they never carry message
//! text, display names or secrets.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Everything an HTTP handler can answer with instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or a field is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or bad credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: not allowed (wrong group, banned, wrong access code).
    #[error("{0}")]
    Forbidden(String),
    /// 403 with a machine-readable `reason` beside the code (addition): a
    /// join refused because of a ban or the access code.
    #[error("{message}")]
    ForbiddenBecause {
        reason: &'static str,
        message: String,
    },
    /// 404: no such thing (or not yours to see).
    #[error("{0}")]
    NotFound(String),
    /// 409: the session is full, locked or ended; or a duplicate.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 429: too many attempts from this address.
    #[error("{0}")]
    RateLimited(String),
    /// 503 with `Retry-After`: the server is busy (every hashing slot taken).
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_secs: u64,
    },
    /// 500: a fault on our side; details go to the log, not the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::BadRequest(m.into())
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::Unauthorized(m.into())
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::Forbidden(m.into())
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::NotFound(m.into())
    }
    pub fn conflict(code: &'static str, m: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: m.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::ForbiddenBecause { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The wire `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) | Self::ForbiddenBecause { .. } => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict { code, .. } => code,
            Self::RateLimited(_) => "rate_limited",
            Self::Busy { .. } => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                "Something went wrong on our side. Please try again in a moment.".to_string()
            }
            other => other.to_string(),
        };
        let body = match &self {
            Self::ForbiddenBecause { reason, .. } => {
                Json(json!({"error": {"code": self.code(), "message": message, "reason": reason}}))
            }
            _ => Json(json!({"error": {"code": self.code(), "message": message}})),
        };
        match &self {
            Self::Busy {
                retry_after_secs, ..
            } => (
                status,
                [(
                    axum::http::header::RETRY_AFTER,
                    retry_after_secs.to_string(),
                )],
                body,
            )
                .into_response(),
            _ => (status, body).into_response(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NotFound => Self::not_found("Not found."),
            crate::store::StoreError::Conflict(m) => Self::conflict("conflict", m),
            crate::store::StoreError::Db(e) => Self::Internal(e.into()),
            crate::store::StoreError::Other(e) => Self::Internal(e),
        }
    }
}
