//! The HTTP/1.1 WebSocket handshake (RFC 6455 §4.2), as an axum extractor:
//! [`WsUpgrade`] checks the request, and [`WsUpgrade::on_upgrade`] answers
//! `101 Switching Protocols` and runs the connection on the raw upgraded
//! stream with our own framing ([`super::framing`]), in the one task the
//! upgrade spawns.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};

use super::framing::FrameReader;

/// The upgraded connection's byte stream.
pub type Io = TokioIo<hyper::upgrade::Upgraded>;

/// One accepted WebSocket: the stream and its read state.
pub struct Socket<S = Io> {
    pub io: S,
    pub reader: FrameReader,
}

impl<S> Socket<S> {
    pub fn new(io: S, max_message: usize) -> Self {
        Socket {
            io,
            reader: FrameReader::new(max_message),
        }
    }
}

/// A request that asked to become a WebSocket.
pub struct WsUpgrade {
    key: HeaderValue,
    on_upgrade: hyper::upgrade::OnUpgrade,
}

/// The request was not a WebSocket handshake we can accept.
#[derive(Debug)]
pub struct NotWebSocket(&'static str);

impl IntoResponse for NotWebSocket {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.0).into_response()
    }
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

impl<S: Send + Sync> FromRequestParts<S> for WsUpgrade {
    type Rejection = NotWebSocket;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if parts.method != Method::GET {
            return Err(NotWebSocket("a WebSocket handshake is a GET"));
        }
        if !has_token(&parts.headers, header::CONNECTION, "upgrade")
            || !has_token(&parts.headers, header::UPGRADE, "websocket")
        {
            return Err(NotWebSocket("not a WebSocket upgrade"));
        }
        if parts
            .headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_none_or(|v| v.as_bytes() != b"13")
        {
            return Err(NotWebSocket("WebSocket version 13 expected"));
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or(NotWebSocket("Sec-WebSocket-Key missing"))?
            .clone();
        let on_upgrade = parts
            .extensions
            .remove::<hyper::upgrade::OnUpgrade>()
            .ok_or(NotWebSocket("this connection cannot be upgraded"))?;
        Ok(WsUpgrade { key, on_upgrade })
    }
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

impl WsUpgrade {
    /// Answers 101 and runs `callback` on the socket (messages over
    /// `max_message` bytes are refused with 1009) in a task of its own,
    /// under the current span.
    pub fn on_upgrade<C, Fut>(self, max_message: usize, callback: C) -> Response
    where
        C: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        // In the caller's span (the socket's, with its session).
        tokio::spawn(tracing::Instrument::in_current_span(async move {
            match on_upgrade.await {
                Ok(upgraded) => callback(Socket::new(TokioIo::new(upgraded), max_message)).await,
                Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
            }
        }));
        let accept = HeaderValue::from_str(&accept_key(self.key.as_bytes()))
            .expect("base64 is a valid header value");
        (
            StatusCode::SWITCHING_PROTOCOLS,
            [
                (header::CONNECTION, HeaderValue::from_static("upgrade")),
                (header::UPGRADE, HeaderValue::from_static("websocket")),
                (header::SEC_WEBSOCKET_ACCEPT, accept),
            ],
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_of_rfc_6455() {
        // The example of RFC 6455 §1.3.
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn connection_header_tokens() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(has_token(&h, header::CONNECTION, "upgrade"));
        h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        assert!(!has_token(&h, header::CONNECTION, "upgrade"));
    }
}
