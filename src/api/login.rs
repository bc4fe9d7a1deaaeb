//! `POST /api/login`, `POST /api/logout`, `GET /api/me`.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{
    hashing, rate_limit, request_token, set_cookie, ApiJson, ClientAddr, FacilitatorAuth,
    TOKEN_COOKIE,
};
use crate::app_state::AppState;
use crate::error::ApiError;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct LoginBody {
    #[schema(max_length = 320)]
    email: String,
    #[schema(max_length = 4096)]
    password: String,
}

/// A hash to verify against when the e-mail is unknown, so that an unknown
/// address takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        crate::auth::hash_password("peercircle timing equaliser").unwrap_or_default()
    })
}

/// Signs a facilitator in: a token for `Authorization: Bearer` (and the
/// same as an HttpOnly cookie).
#[utoipa::path(post, path = "/api/login", tag = "facilitators",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = super::views::LoginAnswer),
        (status = 400, description = "Not a JSON body with email and password", body = super::views::ErrorBody),
        (status = 401, description = "Wrong e-mail address or password", body = super::views::ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = super::views::ErrorBody),
        (status = 503, description = "Hashing slots busy: try again (Retry-After)", body = super::views::ErrorBody),
    ))]
pub(super) async fn login(
    state: State<AppState>,
    ip: ClientAddr,
    body: Result<ApiJson<LoginBody>, ApiError>,
) -> Result<Response, ApiError> {
    let result = match body {
        Ok(body) => login_checked(state, ip, body).await,
        Err(e) => Err(e),
    };
    crate::metrics::login(match &result {
        Ok(_) => "signed_in",
        Err(e) => e.code(),
    });
    result
}

async fn login_checked(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let now = state.now_ms();
    rate_limit(&state.login_limiter, ip, now)?;
    let wrong =
        || ApiError::unauthorized("That e-mail address and password don't match an account.");
    if body.password.len() > 4096 || body.email.len() > 320 {
        return Err(wrong());
    }
    let found = state.store.facilitator_by_email(&body.email).await?;
    let (facilitator, hash) = match found {
        Some((f, h)) => (Some(f), Some(h)),
        None => (None, None),
    };
    let password = body.password;
    // The dummy hash is made (once) inside the gate too: it is argon2 as well.
    let ok = hashing(&state, move || match hash {
        Some(hash) => crate::auth::verify_password(&password, &hash),
        None => crate::auth::verify_password(&password, dummy_hash()),
    })
    .await?;
    let Some(facilitator) = facilitator.filter(|_| ok) else {
        tracing::info!("failed facilitator sign-in");
        return Err(wrong());
    };
    let token = crate::auth::new_token();
    let hours = i64::from(state.settings.login_token_hours.max(1));
    state
        .store
        .create_login_token(
            &facilitator.id,
            &crate::auth::token_hash(&token),
            now + hours * 3_600_000,
        )
        .await?;
    tracing::info!(facilitator = %facilitator.id, "facilitator signed in");
    let cookie = set_cookie(&state, TOKEN_COOKIE, &token, hours * 3600);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(super::views::LoginAnswer {
            token,
            facilitator: super::views::FacilitatorRef {
                id: facilitator.id,
                name: facilitator.name,
            },
        }),
    )
        .into_response())
}

/// Signs out: the token (Bearer or cookie) stops working, and so do the
/// sockets opened with it.
#[utoipa::path(post, path = "/api/logout", tag = "facilitators",
    responses((status = 204, description = "Signed out (also when not signed in)")),
    security((), ("bearer" = [])))]
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = request_token(&headers) {
        let hash = crate::auth::token_hash(&token);
        state.store.delete_login_token(&hash).await?;
        // Sockets opened with this token stop working too.
        state
            .sessions
            .revoke(crate::session::Revoked::Credential(hash.into()), None)
            .await;
    }
    let cookie = set_cookie(&state, TOKEN_COOKIE, "", 0);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/me", tag = "facilitators",
    responses(
        (status = 200, description = "The facilitator signed in", body = crate::store::Facilitator),
        (status = 401, description = "Not signed in", body = super::views::ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn me(FacilitatorAuth(f): FacilitatorAuth) -> Json<crate::store::Facilitator> {
    Json(f)
}
