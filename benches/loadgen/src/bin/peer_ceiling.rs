//! `peer-ceiling`: the ceiling of our stack. A minimal tokio-tungstenite
//! broadcast server with no application logic: every text frame received on
//! `/…?room=R` goes to every socket in room R (the sender included). It has
//! the same fan-out shape as peercircle's session actor (one shared buffer,
//! `try_send` into each member's bounded queue, a writer task per socket)
//! and nothing else: no JSON, no state machine, no auth.
//!
//! Usage: `peer-ceiling [ADDR]` (default 127.0.0.1:9001; loopback only).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

type Rooms = Arc<Mutex<HashMap<String, Vec<(u64, mpsc::Sender<Message>)>>>>;

const QUEUE: usize = 256;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into())
        .parse()
        .expect("ADDR");
    assert!(addr.ip().is_loopback(), "loopback only");
    let listener = TcpListener::bind(addr).await?;
    eprintln!("peer-ceiling listening on {addr}");
    let rooms: Rooms = Arc::default();
    let mut next_id = 0u64;
    loop {
        let (stream, _) = listener.accept().await?;
        next_id += 1;
        tokio::spawn(serve(stream, rooms.clone(), next_id));
    }
}

#[allow(clippy::result_large_err)]
async fn serve(stream: TcpStream, rooms: Rooms, id: u64) {
    let _ = stream.set_nodelay(true);
    let mut room = String::from("default");
    let cb = |req: &Request, resp: Response| {
        if let Some(q) = req.uri().query() {
            for kv in q.split('&') {
                if let Some(v) = kv.strip_prefix("room=") {
                    room = v.to_string();
                }
            }
        }
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, cb).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    rooms
        .lock()
        .expect("rooms lock")
        .entry(room.clone())
        .or_default()
        .push((id, tx));
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.feed(m).await.is_err() {
                return;
            }
            // Batch whatever else is already queued into one flush.
            while let Ok(m) = rx.try_recv() {
                if sink.feed(m).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(msg)) = source.next().await {
        if let Message::Text(_) = msg {
            let mut slow = Vec::new();
            {
                let rooms = rooms.lock().expect("rooms lock");
                if let Some(members) = rooms.get(&room) {
                    for (mid, q) in members {
                        if q.try_send(msg.clone()).is_err() {
                            slow.push(*mid);
                        }
                    }
                }
            }
            if !slow.is_empty() {
                let mut rooms = rooms.lock().expect("rooms lock");
                if let Some(members) = rooms.get_mut(&room) {
                    members.retain(|(mid, _)| !slow.contains(mid));
                }
            }
        } else if let Message::Close(_) = msg {
            break;
        }
    }
    if let Some(members) = rooms.lock().expect("rooms lock").get_mut(&room) {
        members.retain(|(mid, _)| *mid != id);
    }
    writer.abort();
}
