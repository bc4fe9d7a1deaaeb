//! Relaying a socket one hop to the node that owns its session: a client
//! whose load balancer sent it to this node (the balancer's hash and the
//! leases disagree while nodes join or leave) still reaches its session.
//!
//! The relaying node opens a WebSocket to the owner's `node_url` with the
//! [`super::RELAYED`] header (so the owner serves it, never relays it
//! again) and copies frames both ways unchanged, the `hello` included: the
//! owner authenticates the client as if it had come directly. A close from
//! either side is passed on with its code. When the owner cannot be reached
//! (it died) the socket is handed back: the node waits until the owner's
//! lease has run out and serves it itself, so clients need not keep
//! retrying meanwhile ([`super::Cluster::relay`]).

use std::time::Duration;

use axum::extract::ws::{self, CloseFrame, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as TCloseFrame;
use tokio_tungstenite::tungstenite::Message as TMessage;

use crate::protocol::close;

/// How long reaching the owner may take before the client is told to retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The owner's socket address for `session_id` from its `node_url`.
pub fn owner_socket_url(node_url: &str, session_id: &str) -> Option<String> {
    let base = node_url.trim_end_matches('/');
    let ws_base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        return None;
    };
    // Session ids are URL-safe already; anything else is not relayed.
    let safe = session_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    safe.then(|| format!("{ws_base}/ws?session={session_id}"))
}

/// Copies `client` to and from the owner at `node_url` until either closes.
/// Gives the client's socket back, untouched, when the owner cannot be
/// reached (it may have died: see [`super::Cluster::relay`]).
pub async fn relay(
    client: WebSocket,
    node_url: &str,
    session_id: &str,
    node_id: &str,
) -> Option<WebSocket> {
    let Some(url) = owner_socket_url(node_url, session_id) else {
        tracing::error!(url = %node_url, "cannot relay to this node URL");
        going_away(client).await;
        return None;
    };
    let Ok(mut request) = url.as_str().into_client_request() else {
        going_away(client).await;
        return None;
    };
    if let Ok(v) = HeaderValue::from_str(node_id) {
        request.headers_mut().insert(super::RELAYED, v);
    }
    let owner = match tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async(request),
    )
    .await
    {
        Ok(Ok((owner, _))) => owner,
        _ => {
            tracing::warn!(session = %session_id, url = %node_url, "the session's owner cannot be reached");
            return Some(client);
        }
    };
    tracing::debug!(session = %session_id, url = %node_url, "socket relayed");
    let (mut to_owner, mut from_owner) = owner.split();
    let (mut to_client, mut from_client) = client.split();
    let upstream = async {
        while let Some(Ok(m)) = from_client.next().await {
            let m = match m {
                ws::Message::Text(t) => TMessage::text(t.as_str()),
                ws::Message::Binary(b) => TMessage::Binary(b),
                ws::Message::Ping(b) => TMessage::Ping(b),
                ws::Message::Pong(b) => TMessage::Pong(b),
                ws::Message::Close(c) => {
                    let frame = c.map(|c| TCloseFrame {
                        code: CloseCode::from(c.code),
                        reason: c.reason.as_str().into(),
                    });
                    let _ = to_owner.send(TMessage::Close(frame)).await;
                    break;
                }
            };
            if to_owner.send(m).await.is_err() {
                break;
            }
        }
    };
    let downstream = async {
        while let Some(Ok(m)) = from_owner.next().await {
            let m = match m {
                TMessage::Text(t) => ws::Message::Text(Utf8Bytes::from(t.as_str())),
                TMessage::Binary(b) => ws::Message::Binary(b),
                TMessage::Ping(b) => ws::Message::Ping(b),
                TMessage::Pong(b) => ws::Message::Pong(b),
                TMessage::Close(c) => {
                    let frame = c.map(|c| CloseFrame {
                        code: u16::from(c.code),
                        reason: Utf8Bytes::from(c.reason.as_str()),
                    });
                    let _ = to_client.send(ws::Message::Close(frame)).await;
                    return;
                }
                TMessage::Frame(_) => continue,
            };
            if to_client.send(m).await.is_err() {
                return;
            }
        }
        // The owner went away without a close (it died): tell the client
        // to come back, and it will reach the next owner.
        let _ = to_client
            .send(ws::Message::Close(Some(CloseFrame {
                code: close::GOING_AWAY,
                reason: Utf8Bytes::from_static("moved"),
            })))
            .await;
    };
    // Whichever side ends first ends the relay.
    tokio::select! {
        _ = upstream => {}
        _ = downstream => {}
    }
    None
}

/// Closes the client's socket with 1001 (`try again`).
pub async fn going_away(mut client: WebSocket) {
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        client.send(ws::Message::Close(Some(CloseFrame {
            code: close::GOING_AWAY,
            reason: Utf8Bytes::from_static("try again"),
        }))),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_urls_become_socket_urls() {
        assert_eq!(
            owner_socket_url("http://10.0.0.2:8080/", "s_Q2hY8kLm4TzW1bXa").as_deref(),
            Some("ws://10.0.0.2:8080/ws?session=s_Q2hY8kLm4TzW1bXa")
        );
        assert_eq!(
            owner_socket_url("https://n2.example.org", "s_a-b").as_deref(),
            Some("wss://n2.example.org/ws?session=s_a-b")
        );
        assert_eq!(owner_socket_url("ftp://x", "s_a"), None);
        assert_eq!(owner_socket_url("http://x", "s_a&x=1"), None);
    }
}
