//! The HTTP API under `/api` (PROTOCOL.md §1): login, groups, sessions,
//! the public session card, joining and the calendar feed.
//!
//! Every failure answers `{"error":{"code","message"}}` through
//! [`ApiError`], including axum's own rejections (malformed JSON, wrong
//! content type: [`ApiJson`]) and unknown routes. Handlers parse their input
//! into `crate::domain` types at once. They log ids, never names, e-mail
//! addresses, pseudonyms or message text.

pub mod facilitators;
mod groups;
mod login;
pub mod openapi;
pub mod participants;
mod sessions;
pub mod views;

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use serde::de::DeserializeOwned;

use crate::app_state::AppState;
use crate::error::ApiError;
use crate::store::{Facilitator, Store};

/// The facilitator's login cookie.
pub const TOKEN_COOKIE: &str = "peercircle_token";
/// A long-lived random cookie that recognises a browser for bans.
pub const DEVICE_COOKIE: &str = "peercircle_device";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login::login))
        .route("/logout", post(login::logout))
        .route("/me", get(login::me))
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{group}",
            get(groups::read).put(groups::update).delete(groups::delete),
        )
        .route(
            "/groups/{group}/sessions",
            get(sessions::list).post(sessions::schedule),
        )
        .route("/groups/{group}/calendar.ics", get(sessions::calendar))
        .route(
            "/sessions/{session}",
            get(sessions::card).delete(sessions::cancel),
        )
        .route("/sessions/{session}/join", post(sessions::join))
        .route("/sessions/{session}/summary", get(sessions::summary))
        .route("/sessions/{session}/participants", get(participants::list))
        .route(
            "/sessions/{session}/participants/{participant}",
            delete(participants::remove),
        )
        .route(
            "/groups/{group}/participants/{participant}",
            delete(participants::erase),
        )
        .route("/openapi.json", get(openapi::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> ApiError {
    ApiError::not_found("There is nothing at this address.")
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({"error": {
            "code": "method_not_allowed",
            "message": "This address does not take that kind of request."
        }})),
    )
        .into_response()
}

/// `axum::Json` whose rejections (bad JSON, wrong content type, missing or
/// mistyped fields) answer 400 `bad_request` in the wire error shape.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::bad_request("Please send the body as JSON (Content-Type: application/json).")
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("The body is not valid JSON."),
        JsonRejection::JsonDataError(e) => ApiError::bad_request(format!(
            "Some fields are missing or have the wrong type: {}",
            e.body_text()
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        )),
        JsonRejection::BytesRejection(_) => {
            ApiError::bad_request("The body could not be read (is it too large?).")
        }
        other => ApiError::bad_request(other.body_text()),
    }
}

/// The facilitator's token from `Authorization: Bearer …` or, failing that,
/// the `peercircle_token` cookie.
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    bearer(headers).or_else(|| cookie(headers, TOKEN_COOKIE))
}

/// The token of `Authorization: Bearer …`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
        .filter(|t| !t.is_empty())
}

/// The value of a cookie sent with the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, and Secure
/// when the server is reached over HTTPS.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}"
    );
    // Names are constants and values URL-safe base64, so the header is valid;
    // fall back to an expired empty cookie rather than panic.
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0; Path=/"))
}

/// The facilitator owning a login token, if it is valid and unexpired.
pub async fn facilitator_for_token(store: &dyn Store, token: &str) -> Option<Facilitator> {
    if token.is_empty() || token.len() > 256 {
        return None;
    }
    let hash = crate::auth::token_hash(token);
    match store.facilitator_by_token(&hash, crate::now_ms()).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "looking up a login token failed");
            None
        }
    }
}

/// A request signed in as a facilitator (Bearer token or cookie); 401 otherwise.
pub struct FacilitatorAuth(pub Facilitator);

impl FromRequestParts<AppState> for FacilitatorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = || ApiError::unauthorized("Please sign in as a facilitator.");
        let token = request_token(&parts.headers).ok_or_else(unauthorized)?;
        facilitator_for_token(state.store.as_ref(), &token)
            .await
            .map(FacilitatorAuth)
            .ok_or_else(unauthorized)
    }
}

/// The client's address: with `trust_forwarded_for`, the entry of
/// `X-Forwarded-For` that the outermost of our `trusted_proxies` appended
/// (counted from the right end: entries to its left are whatever the client
/// sent and are never trusted); else the peer address of the connection.
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let proxies = state
            .settings
            .trust_forwarded_for
            .then_some(state.settings.trusted_proxies);
        Ok(ClientAddr(client_addr(parts, proxies)))
    }
}

/// See [`ClientAddr`]: `trusted_proxies` is `None` when `X-Forwarded-For`
/// is not trusted. Without connect info (a test calling the router
/// directly) the peer address is the unspecified one.
pub fn client_addr(parts: &Parts, trusted_proxies: Option<u32>) -> IpAddr {
    if let Some(proxies) = trusted_proxies.filter(|n| *n > 0) {
        if let Some(ip) = forwarded_client(&parts.headers, proxies) {
            return ip;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_canonical())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The client address in `X-Forwarded-For` (every such header, in order)
/// as seen by the outermost of `proxies` trusted proxies: the `proxies`-th
/// entry from the right. A shorter chain means fewer proxies were passed
/// (or the client sent none): its leftmost entry is then the one a trusted
/// proxy appended. An unreadable entry there yields `None` (the peer address
/// is used), never an entry further left.
fn forwarded_client(headers: &HeaderMap, proxies: u32) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let from_right = usize::try_from(proxies).unwrap_or(usize::MAX);
    let index = entries.len().saturating_sub(from_right);
    entries.get(index).and_then(|e| parse_ip(e))
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .map(|ip| ip.to_canonical())
}

/// 429 unless the limiter lets this address through.
fn rate_limit(
    limiter: &crate::ratelimit::AddressLimiter,
    ip: IpAddr,
    now: i64,
) -> Result<(), ApiError> {
    if limiter.check(ip, now) {
        Ok(())
    } else {
        Err(ApiError::RateLimited(
            "Too many attempts from your connection. Please wait a minute and try again.".into(),
        ))
    }
}

/// Runs argon2 (deliberately slow, ~19 MiB) on the hashing threads,
/// under the server's hashing bound: when every slot stays busy for
/// `hash_wait_ms`, the answer is 503 with `Retry-After`.
async fn hashing<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    use crate::ratelimit::GateError;
    match state.hashing.run(f).await {
        Ok(v) => Ok(v),
        Err(GateError::Busy) => {
            tracing::info!("hashing slots busy: request turned away");
            Err(ApiError::Busy {
                message: "Many people are signing in right now. Please try again in a moment."
                    .into(),
                retry_after_secs: state.hashing.retry_after_secs(),
            })
        }
        Err(GateError::Failed(e)) => Err(ApiError::Internal(anyhow::anyhow!(
            "blocking task failed: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn the_client_address_is_counted_from_the_right() {
        // One proxy (the default): it appended the rightmost entry.
        let h = chain(&["6.6.6.6, 203.0.113.7"]);
        assert_eq!(forwarded_client(&h, 1), "203.0.113.7".parse().ok());
        // Two proxies: a CDN appended the client, our proxy the CDN.
        let h = chain(&["6.6.6.6, 203.0.113.7, 198.51.100.1"]);
        assert_eq!(forwarded_client(&h, 2), "203.0.113.7".parse().ok());
        // Split over two headers, with a port and IPv6.
        let h = chain(&["6.6.6.6", "[2001:db8::1]:4711"]);
        assert_eq!(forwarded_client(&h, 1), "2001:db8::1".parse().ok());
        // Fewer entries than proxies: the leftmost, which a proxy appended.
        let h = chain(&["203.0.113.7"]);
        assert_eq!(forwarded_client(&h, 2), "203.0.113.7".parse().ok());
        // Garbage where the client address should be: no address (use the peer).
        let h = chain(&["203.0.113.7, not-an-ip"]);
        assert_eq!(forwarded_client(&h, 1), None);
        assert_eq!(forwarded_client(&HeaderMap::new(), 1), None);
    }
}
