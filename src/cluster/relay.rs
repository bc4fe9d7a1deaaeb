//! Relaying a socket one hop to the node that owns its session: a client
//! whose load balancer sent it to this node (the balancer's hash and the
//! leases disagree while nodes join or leave) still reaches its session.
//!
//! The relaying node opens a WebSocket to the owner's `node_url` with the
//! [`super::RELAYED`] header (so the owner serves it, never relays it
//! again) and copies messages both ways, the `hello` included: the owner
//! authenticates the client as if it had come directly. A close from
//! either side is passed on with its code (the owner's with its reason). A
//! frame this node's framing refuses (over the frame limit, not allowed by
//! RFC 6455) closes the client as the owner would (1009, 1002, 1007).
//! When the owner cannot be reached
//! (it died) the socket is handed back: the node waits until the owner's
//! lease has run out and serves it itself, so clients need not keep
//! retrying meanwhile ([`super::Cluster::relay`]).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as TCloseFrame;
use tokio_tungstenite::tungstenite::Message as TMessage;

use crate::protocol::close;
use crate::ws::framing::{self, Incoming, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use crate::ws::Socket;

/// How long reaching the owner may take before the client is told to retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one write to the client may take before the relay gives up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

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

/// A client's message as it goes on to the owner.
fn to_owner(m: Incoming) -> TMessage {
    match m {
        Incoming::Text(t) => TMessage::text(t),
        // Our framing keeps only a binary message's length: frames must be
        // JSON text, and the owner refuses a binary one whatever it holds.
        Incoming::Binary(len) => TMessage::Binary(vec![0u8; len].into()),
        Incoming::Ping(p) => TMessage::Ping(p.into()),
        Incoming::Pong => TMessage::Pong(Default::default()),
        Incoming::Close(code) => TMessage::Close(code.map(|c| TCloseFrame {
            code: CloseCode::from(c),
            reason: "".into(),
        })),
    }
}

/// How the copying ended, for the client's side.
enum Ended {
    /// Close the client's socket with this code and reason.
    Close(u16, String),
    /// The client closed (answered already) or is gone.
    Gone,
}

/// Copies `client` to and from the owner at `node_url` until either closes.
/// Gives the client's socket back, untouched, when the owner cannot be
/// reached (it may have died: see [`super::Cluster::relay`]).
///
/// The client's side is our own framing ([`crate::ws::framing`]), the
/// owner's a tokio-tungstenite client; one loop copies both ways, so a
/// slow side holds the other back instead of piling frames up here.
pub async fn relay<S: AsyncRead + AsyncWrite + Unpin>(
    mut client: Socket<S>,
    node_url: &str,
    session_id: &str,
    node_id: &str,
) -> Option<Socket<S>> {
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
    let (mut up, mut down) = owner.split();
    let ended = loop {
        tokio::select! {
            // Both reads are cancel-safe: whichever side speaks first.
            from_client = client.reader.next(&mut client.io) => match from_client {
                Ok(m @ Incoming::Close(code)) => {
                    let _ = up.send(to_owner(m)).await;
                    // Answer the client's close handshake, then go.
                    let payload = code.map(|c| framing::close_payload(c, "")).unwrap_or_default();
                    let _ = tokio::time::timeout(
                        WRITE_TIMEOUT,
                        framing::write_frame(&mut client.io, OP_CLOSE, &payload),
                    )
                    .await;
                    break Ended::Gone;
                }
                Ok(m) => {
                    if up.send(to_owner(m)).await.is_err() {
                        break Ended::Close(close::GOING_AWAY, "moved".into());
                    }
                }
                Err(e) => {
                    // A frame this node refuses (too large, not allowed): the
                    // client hears why, as from the owner; the owner hears
                    // that the client left.
                    let _ = up.send(TMessage::Close(None)).await;
                    break match e.close_code() {
                        Some(close::TOO_BIG) => Ended::Close(close::TOO_BIG, "frame too large".into()),
                        Some(code @ 1002) => Ended::Close(code, "protocol error".into()),
                        Some(code) => Ended::Close(code, "invalid text".into()),
                        None => Ended::Gone,
                    };
                }
            },
            from_owner = down.next() => {
                let (opcode, payload): (u8, &[u8]) = match &from_owner {
                    Some(Ok(TMessage::Text(t))) => (OP_TEXT, t.as_bytes()),
                    Some(Ok(TMessage::Binary(b))) => (OP_BINARY, b.as_ref()),
                    Some(Ok(TMessage::Ping(b))) => (OP_PING, b.as_ref()),
                    Some(Ok(TMessage::Pong(b))) => (OP_PONG, b.as_ref()),
                    Some(Ok(TMessage::Close(c))) => {
                        break match c {
                            Some(c) => Ended::Close(u16::from(c.code), c.reason.as_str().to_string()),
                            None => Ended::Close(1000, String::new()),
                        };
                    }
                    Some(Ok(TMessage::Frame(_))) => continue,
                    // The owner went away without a close (it died): tell
                    // the client to come back, and it will reach the next owner.
                    Some(Err(_)) | None => break Ended::Close(close::GOING_AWAY, "moved".into()),
                };
                let written = tokio::time::timeout(
                    WRITE_TIMEOUT,
                    framing::write_frame(&mut client.io, opcode, payload),
                )
                .await;
                if !matches!(written, Ok(Ok(()))) {
                    break Ended::Gone;
                }
            }
        }
    };
    if let Ended::Close(code, reason) = ended {
        crate::ws::close_and_linger(&mut client, code, &reason, WRITE_TIMEOUT).await;
    }
    // The owner's side closes as it is dropped (a close was sent already
    // when the client left).
    let _ = tokio::time::timeout(Duration::from_millis(200), up.close()).await;
    None
}

/// Closes the client's socket with 1001 (`try again`).
pub async fn going_away<S: AsyncRead + AsyncWrite + Unpin>(mut client: Socket<S>) {
    crate::ws::close_and_linger(
        &mut client,
        close::GOING_AWAY,
        "try again",
        Duration::from_secs(2),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::Role;
    use tokio_tungstenite::WebSocketStream;

    /// A browser on one end of a pipe, our `Socket` on the other.
    async fn client_and_socket() -> (
        WebSocketStream<tokio::io::DuplexStream>,
        Socket<tokio::io::DuplexStream>,
    ) {
        let (browser, server) = tokio::io::duplex(64 * 1024);
        let browser = WebSocketStream::from_raw_socket(browser, Role::Client, None).await;
        (browser, Socket::new(server, 16 * 1024))
    }

    #[tokio::test]
    // tungstenite's header callback returns its own (large) error response.
    #[allow(clippy::result_large_err)]
    async fn messages_and_the_owners_close_pass_through_with_the_relayed_header() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let owner = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut relayed_by = None;
            let mut ws = tokio_tungstenite::accept_hdr_async(
                tcp,
                |req: &tokio_tungstenite::tungstenite::handshake::server::Request, res| {
                    relayed_by = req
                        .headers()
                        .get(super::super::RELAYED)
                        .map(|v| v.to_str().unwrap_or_default().to_string());
                    Ok(res)
                },
            )
            .await
            .expect("handshake");
            let hello = ws.next().await.expect("a frame").expect("readable");
            ws.send(TMessage::text("welcome")).await.expect("send");
            ws.send(TMessage::Close(Some(TCloseFrame {
                code: CloseCode::from(4004),
                reason: "session ended".into(),
            })))
            .await
            .expect("close");
            (relayed_by, hello)
        });
        let (mut browser, socket) = client_and_socket().await;
        let relay = tokio::spawn(async move {
            relay(socket, &format!("http://{addr}"), "s_a", "n1")
                .await
                .is_none()
        });
        browser.send(TMessage::text("hello")).await.expect("send");
        let welcome = browser.next().await.expect("a frame").expect("readable");
        assert_eq!(welcome, TMessage::text("welcome"));
        match browser.next().await.expect("a frame").expect("readable") {
            TMessage::Close(Some(c)) => {
                assert_eq!(u16::from(c.code), 4004);
                assert_eq!(c.reason.as_str(), "session ended");
            }
            other => panic!("expected the owner's close, got {other:?}"),
        }
        let (relayed_by, hello) = tokio::time::timeout(Duration::from_secs(5), owner)
            .await
            .expect("owner done")
            .expect("owner ran");
        assert_eq!(relayed_by.as_deref(), Some("n1"));
        assert_eq!(hello, TMessage::text("hello"));
        drop(browser);
        let ended = tokio::time::timeout(Duration::from_secs(5), relay)
            .await
            .expect("relay ended")
            .expect("relay ran");
        assert!(ended, "a relay that ran keeps the socket");
    }

    #[tokio::test]
    async fn an_owner_that_cannot_be_reached_hands_the_socket_back() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        drop(listener);
        let (_browser, socket) = client_and_socket().await;
        let back = relay(socket, &format!("http://{addr}"), "s_a", "n1").await;
        assert!(
            back.is_some(),
            "served here once the owner's lease runs out"
        );
    }

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
