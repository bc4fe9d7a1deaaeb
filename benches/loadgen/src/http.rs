//! A tiny HTTP/1.1 client for the JSON API: one request per connection
//! (`Connection: close`), bound to a chosen loopback source address. Enough
//! for `POST /api/...` with a JSON body; not a general client.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::util::Target;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Value,
}

impl Response {
    /// The `error.code` of an error answer, or the status as text.
    pub fn error_code(&self) -> String {
        self.body
            .pointer("/error/code")
            .and_then(|v| v.as_str())
            .map(|s| format!("http_{}_{s}", self.status))
            .unwrap_or_else(|| format!("http_{}", self.status))
    }
}

pub async fn connect(
    target: &Target,
    src: Option<IpAddr>,
    rcvbuf: Option<u32>,
) -> std::io::Result<tokio::net::TcpStream> {
    let sock = if target.addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = src {
        sock.bind(SocketAddr::new(ip, 0))?;
    }
    if let Some(b) = rcvbuf {
        sock.set_recv_buffer_size(b)?;
    }
    let s = sock.connect(target.addr).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

pub async fn request(
    target: &Target,
    src: Option<IpAddr>,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Result<Response, String> {
    let fut = async {
        let mut s = connect(target, src, None)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\nOrigin: http://{}\r\n",
            target.authority, target.authority
        );
        if let Some(t) = bearer {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut buf = Vec::with_capacity(2048);
        s.read_to_end(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        parse(&buf)
    };
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .map_err(|_| "http timeout".to_string())?
}

#[allow(clippy::while_let_loop)]
fn parse(buf: &[u8]) -> Result<Response, String> {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no header end")?;
    let head = std::str::from_utf8(&buf[..split]).map_err(|_| "bad header")?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut chunked = false;
    for l in lines {
        let l = l.to_ascii_lowercase();
        if l.starts_with("transfer-encoding:") && l.contains("chunked") {
            chunked = true;
        }
    }
    let raw = &buf[split + 4..];
    let body: Vec<u8> = if chunked {
        let mut out = Vec::new();
        let mut rest = raw;
        loop {
            let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                break;
            };
            let size_txt = std::str::from_utf8(&rest[..eol]).unwrap_or("0");
            let size = usize::from_str_radix(size_txt.split(';').next().unwrap_or("0").trim(), 16)
                .unwrap_or(0);
            if size == 0 || rest.len() < eol + 2 + size {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[(eol + 4 + size).min(rest.len())..];
        }
        out
    } else {
        raw.to_vec()
    };
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    Ok(Response { status, body })
}
