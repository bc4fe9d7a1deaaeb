//! A small typed WebSocket client for integration tests, speaking PROTOCOL.md
//! v1 over a real socket (tokio-tungstenite), the way a third-party client would.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

static NEXT_REF: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// How long a test waits for something the server should send promptly.
pub const WAIT: Duration = Duration::from_secs(5);

/// What a read produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Json(Value),
    Closed(Option<u16>),
}

pub struct Client {
    pub stream: Stream,
    pub welcome: Value,
    /// Every event received so far, in order.
    pub events: Vec<Value>,
    /// Acks and errors received and not yet claimed.
    pub answers: Vec<Value>,
    /// `history` frames received, in order.
    pub pages: Vec<Value>,
    pub closed: Option<Option<u16>>,
    /// `wait_for` looks only at events after the last one it matched.
    cursor: usize,
    next_ref: u64,
    pub name: &'static str,
}

pub async fn open(addr: SocketAddr, session: &str) -> Stream {
    let url = format!("ws://{addr}/ws?session={session}");
    let (stream, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects");
    stream
}

/// Reads the next JSON frame or the close, within `WAIT`.
pub async fn read(stream: &mut Stream) -> Frame {
    read_within(stream, WAIT).await.expect("a frame in time")
}

pub async fn read_within(stream: &mut Stream, wait: Duration) -> Option<Frame> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .ok()?;
        match next {
            None => return Some(Frame::Closed(None)),
            Some(Err(_)) => return Some(Frame::Closed(None)),
            Some(Ok(Message::Text(t))) => {
                return Some(Frame::Json(
                    serde_json::from_str(t.as_str()).expect("server frames are JSON"),
                ))
            }
            Some(Ok(Message::Close(frame))) => {
                return Some(Frame::Closed(frame.map(|f| u16::from(f.code))))
            }
            Some(Ok(_)) => continue,
        }
    }
}

/// Sends a raw text frame.
pub async fn send_text(stream: &mut Stream, text: impl Into<String>) {
    stream
        .send(Message::text(text.into()))
        .await
        .expect("send frame");
}

/// Waits for the socket to be closed and returns the close code.
pub async fn close_code(stream: &mut Stream) -> Option<u16> {
    loop {
        match read(stream).await {
            Frame::Closed(code) => return code,
            Frame::Json(_) => continue,
        }
    }
}

impl Client {
    /// Connects and says hello; panics unless welcomed.
    pub async fn connect(addr: SocketAddr, session: &str, token: &str) -> Client {
        Self::connect_with(addr, session, json!({"type": "hello", "token": token})).await
    }

    /// Connects and resumes from `epoch` / `last_seq`.
    pub async fn resume(
        addr: SocketAddr,
        session: &str,
        token: &str,
        epoch: &str,
        last_seq: u64,
    ) -> Client {
        Self::connect_with(
            addr,
            session,
            json!({"type": "hello", "token": token, "epoch": epoch, "last_seq": last_seq}),
        )
        .await
    }

    /// Connects and says `hello`, like [`Client::connect_with`], but says
    /// why instead of panicking when no welcome comes within `wait` (a
    /// closed socket, a refused connection): for clients that retry.
    pub async fn try_connect(
        addr: SocketAddr,
        session: &str,
        hello: &Value,
        wait: Duration,
    ) -> Result<Client, String> {
        let url = format!("ws://{addr}/ws?session={session}");
        let (mut stream, _) = tokio::time::timeout(wait, tokio_tungstenite::connect_async(url))
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .send(Message::text(hello.to_string()))
            .await
            .map_err(|e| format!("hello: {e}"))?;
        match read_within(&mut stream, wait).await {
            Some(Frame::Json(v)) if v["type"] == "welcome" => Ok(Client {
                stream,
                welcome: v,
                events: Vec::new(),
                answers: Vec::new(),
                pages: Vec::new(),
                closed: None,
                cursor: 0,
                next_ref: 0,
                name: "client",
            }),
            Some(other) => Err(format!("{other:?}")),
            None => Err("no answer in time".to_string()),
        }
    }

    /// Waits up to `wait` for the socket to close (reading what comes
    /// meanwhile); its close code, or `None` if it stayed open.
    pub async fn closed_within(&mut self, wait: Duration) -> Option<Option<u16>> {
        let deadline = tokio::time::Instant::now() + wait;
        while self.closed.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            self.pump(left).await;
        }
        self.closed
    }

    pub async fn connect_with(addr: SocketAddr, session: &str, hello: Value) -> Client {
        let mut stream = open(addr, session).await;
        send_text(&mut stream, hello.to_string()).await;
        let welcome = match read(&mut stream).await {
            Frame::Json(v) if v["type"] == "welcome" => v,
            other => panic!("expected welcome, got {other:?}"),
        };
        Client {
            stream,
            welcome,
            events: Vec::new(),
            answers: Vec::new(),
            pages: Vec::new(),
            closed: None,
            cursor: 0,
            next_ref: 0,
            name: "client",
        }
    }

    pub fn id(&self) -> String {
        self.welcome["you"]["id"]
            .as_str()
            .expect("welcome names you")
            .to_string()
    }

    pub fn epoch(&self) -> String {
        self.welcome["epoch"].as_str().expect("epoch").to_string()
    }

    /// The seq of the last event seen (or the welcome's).
    pub fn last_seq(&self) -> u64 {
        self.events
            .last()
            .and_then(|e| e["seq"].as_u64())
            .unwrap_or_else(|| self.welcome["seq"].as_u64().unwrap_or(0))
    }

    /// Reads one frame into `events`/`answers`; false when nothing came in `wait`.
    async fn pump(&mut self, wait: Duration) -> bool {
        if self.closed.is_some() {
            return false;
        }
        match read_within(&mut self.stream, wait).await {
            None => false,
            Some(Frame::Closed(code)) => {
                self.closed = Some(code);
                true
            }
            Some(Frame::Json(v)) => {
                match v["type"].as_str() {
                    Some("event") => self.events.push(v),
                    Some("ack") | Some("error") => self.answers.push(v),
                    Some("history") | Some("people") => self.pages.push(v),
                    _ => {}
                }
                true
            }
        }
    }

    /// Sends a command with a fresh ref and returns its answer (ack or error).
    pub async fn cmd(&mut self, mut command: Value) -> Value {
        // Refs must be unique per participant across sockets (a reused ref
        // is taken as a resend and not applied again), so count globally.
        self.next_ref = NEXT_REF.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let r = format!("r{}", self.next_ref);
        command["ref"] = json!(r);
        self.send_raw(&command.to_string()).await;
        self.answer(&r).await
    }

    /// Sends a command and panics unless it is acknowledged.
    pub async fn ok(&mut self, command: Value) {
        let kind = command["type"].clone();
        let answer = self.cmd(command).await;
        assert_eq!(
            answer["type"], "ack",
            "{kind} should be acknowledged: {answer}"
        );
    }

    /// Sends a command and returns the error code it was refused with.
    pub async fn refused(&mut self, command: Value) -> String {
        let answer = self.cmd(command.clone()).await;
        assert_eq!(
            answer["type"], "error",
            "{command} should be refused: {answer}"
        );
        answer["code"].as_str().expect("error code").to_string()
    }

    pub async fn send_raw(&mut self, text: &str) {
        send_text(&mut self.stream, text.to_string()).await;
    }

    /// Waits for the answer carrying `r`.
    pub async fn answer(&mut self, r: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(i) = self.answers.iter().position(|a| a["ref"] == r) {
                return self.answers.remove(i);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(
                self.pump(left).await,
                "no answer to ref {r} (closed: {:?})",
                self.closed
            );
        }
    }

    /// Waits for the next answer without a ref.
    pub async fn answer_without_ref(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(i) = self.answers.iter().position(|a| a.get("ref").is_none()) {
                return self.answers.remove(i);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(self.pump(left).await, "no answer");
        }
    }

    /// Waits (up to `WAIT`) for an event of `kind` matching `pred` that came
    /// after the last event a wait matched; returns it.
    pub async fn wait_for(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for_within(kind, pred, WAIT).await
    }

    pub async fn wait_for_within(
        &mut self,
        kind: &str,
        pred: impl Fn(&Value) -> bool,
        wait: Duration,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + wait;
        let mut checked = self.cursor;
        loop {
            while checked < self.events.len() {
                let e = &self.events[checked];
                checked += 1;
                if e["kind"] == kind && pred(e) {
                    self.cursor = checked;
                    return e.clone();
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(
                !left.is_zero() && self.pump(left).await,
                "{}: no `{kind}` event came (closed: {:?}); saw kinds {:?}",
                self.name,
                self.closed,
                self.events
                    .iter()
                    .map(|e| e["kind"].clone())
                    .collect::<Vec<_>>()
            );
        }
    }

    /// Reads whatever arrives within `wait` (to check that nothing else came).
    pub async fn drain(&mut self, wait: Duration) {
        while self.pump(wait).await {
            if self.closed.is_some() {
                break;
            }
        }
    }

    /// Forgets the events seen so far (keeps `last_seq` in mind first if needed).
    pub fn clear(&mut self) {
        self.events.clear();
        self.cursor = 0;
    }

    /// Waits for the socket to close; returns its close code.
    pub async fn closed_with(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.closed.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "socket did not close");
            self.pump(left).await;
        }
        self.closed.flatten()
    }

    /// Drops the TCP connection without a close handshake.
    pub fn drop_connection(self) {
        drop(self.stream);
    }

    /// Closes politely.
    pub async fn close(mut self) {
        let _ = self
            .stream
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await;
    }

    /// The current queue as the participant list ids, from the last `queue` event.
    pub fn last_queue(&self) -> Option<Vec<String>> {
        self.events
            .iter()
            .rev()
            .find(|e| e["kind"] == "queue")
            .map(|e| {
                e["queue"]
                    .as_array()
                    .expect("queue array")
                    .iter()
                    .map(|v| v.as_str().expect("id").to_string())
                    .collect()
            })
    }

    /// The holder named by the last `stick` event.
    pub fn last_holder(&self) -> Option<Option<String>> {
        self.events
            .iter()
            .rev()
            .find(|e| e["kind"] == "stick")
            .map(|e| e["holder"].as_str().map(str::to_string))
    }
}
