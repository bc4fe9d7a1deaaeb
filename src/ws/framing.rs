//! WebSocket framing (RFC 6455), server side, written for many quiet
//! sockets: a socket that has nothing half-read and nothing to send holds
//! no buffer at all.
//!
//! * Reading: each read goes into a 4 KiB buffer on the stack of the poll;
//!   only bytes that are read and not yet a whole frame are kept (`pending`,
//!   freed as soon as it is empty). A frame's header is checked before its
//!   payload is waited for: over the limit is [`ReadError::TooBig`] (close
//!   1009) without reading the payload; an unmasked client frame, reserved
//!   bits, an unknown opcode, a fragmented or long control frame are
//!   [`ReadError::Protocol`] (1002); text that is not UTF-8 is
//!   [`ReadError::BadUtf8`] (1007). Fragmented messages are joined (control
//!   frames may come between their fragments) and count against the same
//!   limit as a whole.
//! * Writing: frames are encoded into one buffer per batch (a batch is what
//!   the writer found queued), written with one `write_all`, and the buffer
//!   is dropped: no write buffer keeps the capacity of a past frame.
//!
//! Reading is cancel-safe: all state lives in [`FrameReader`], so the read
//! may be raced against a queue or a timer in a `select!`.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Bytes read from the socket at most per read.
const READ_CHUNK: usize = 4096;

pub(crate) const OP_CONTINUATION: u8 = 0x0;
pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
pub(crate) const OP_CLOSE: u8 = 0x8;
pub(crate) const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;

/// One message (or control frame) from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    /// A binary message: only its length matters (frames must be JSON text).
    Binary(usize),
    Ping(Vec<u8>),
    Pong,
    /// The client's close frame, with its code if it gave one.
    Close(Option<u16>),
}

/// Why reading stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The connection ended without a close frame.
    Eof,
    /// A message over the limit (close 1009).
    TooBig,
    /// A frame RFC 6455 does not allow from a client (close 1002).
    Protocol(&'static str),
    /// A text message that is not UTF-8 (close 1007).
    BadUtf8,
    Io(io::Error),
}

impl ReadError {
    /// The close code to answer with, when the connection is still usable.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            ReadError::TooBig => Some(crate::protocol::close::TOO_BIG),
            ReadError::Protocol(_) => Some(1002),
            ReadError::BadUtf8 => Some(1007),
            ReadError::Eof | ReadError::Io(_) => None,
        }
    }
}

/// A fragmented message being joined.
#[derive(Debug)]
struct Partial {
    text: bool,
    bytes: Vec<u8>,
}

/// The read side of one socket.
#[derive(Debug)]
pub struct FrameReader {
    /// Largest message accepted, in payload bytes.
    max: usize,
    /// Bytes read and not yet consumed (empty, unallocated, when idle).
    pending: Vec<u8>,
    partial: Option<Box<Partial>>,
}

impl FrameReader {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            pending: Vec::new(),
            partial: None,
        }
    }

    /// The next message. Cancel-safe.
    pub async fn next<S: AsyncRead + Unpin>(&mut self, io: &mut S) -> Result<Incoming, ReadError> {
        std::future::poll_fn(|cx| self.poll_next(io, cx)).await
    }

    pub fn poll_next<S: AsyncRead + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Incoming, ReadError>> {
        loop {
            if let Some(message) = self.parse()? {
                return Poll::Ready(Ok(message));
            }
            let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut buf = ReadBuf::uninit(&mut chunk);
            ready!(Pin::new(&mut *io).poll_read(cx, &mut buf)).map_err(ReadError::Io)?;
            if buf.filled().is_empty() {
                return Poll::Ready(Err(ReadError::Eof));
            }
            self.pending.extend_from_slice(buf.filled());
        }
    }

    /// Takes whole frames out of `pending` until one completes a message.
    fn parse(&mut self) -> Result<Option<Incoming>, ReadError> {
        loop {
            let Some((header, len)) = self.header()? else {
                return Ok(None);
            };
            let total = header + 4 + len;
            if self.pending.len() < total {
                // Room for the rest of this frame at once.
                self.pending.reserve(total - self.pending.len());
                return Ok(None);
            }
            let b0 = self.pending[0];
            let fin = b0 & 0x80 != 0;
            let opcode = b0 & 0x0f;
            let mask = [
                self.pending[header],
                self.pending[header + 1],
                self.pending[header + 2],
                self.pending[header + 3],
            ];
            let mut payload = self.pending[header + 4..total].to_vec();
            unmask(&mut payload, mask);
            self.pending.drain(..total);
            if self.pending.is_empty() {
                // Nothing half-read: give the memory back.
                self.pending = Vec::new();
            }
            if let Some(message) = self.frame(fin, opcode, payload)? {
                return Ok(Some(message));
            }
        }
    }

    /// The header length and payload length of the frame at the start of
    /// `pending`, once both are known; refuses what no payload can fix.
    fn header(&self) -> Result<Option<(usize, usize)>, ReadError> {
        let buf = &self.pending;
        if buf.len() < 2 {
            return Ok(None);
        }
        let (b0, b1) = (buf[0], buf[1]);
        if b0 & 0x70 != 0 {
            return Err(ReadError::Protocol("reserved bits set"));
        }
        if b1 & 0x80 == 0 {
            return Err(ReadError::Protocol("client frames must be masked"));
        }
        let opcode = b0 & 0x0f;
        let control = opcode & 0x08 != 0;
        let (header, len) = match b1 & 0x7f {
            126 => {
                if buf.len() < 4 {
                    return Ok(None);
                }
                (4, u64::from(u16::from_be_bytes([buf[2], buf[3]])))
            }
            127 => {
                if buf.len() < 10 {
                    return Ok(None);
                }
                let mut eight = [0u8; 8];
                eight.copy_from_slice(&buf[2..10]);
                (10, u64::from_be_bytes(eight))
            }
            n => (2, u64::from(n)),
        };
        if control {
            if b0 & 0x80 == 0 {
                return Err(ReadError::Protocol("fragmented control frame"));
            }
            if len > 125 {
                return Err(ReadError::Protocol("control frame over 125 bytes"));
            }
        } else if !matches!(opcode, OP_CONTINUATION | OP_TEXT | OP_BINARY) {
            return Err(ReadError::Protocol("unknown opcode"));
        }
        let so_far = match (&self.partial, opcode) {
            (Some(p), OP_CONTINUATION) => p.bytes.len() as u64,
            _ => 0,
        };
        if len.saturating_add(so_far) > self.max as u64 {
            return Err(ReadError::TooBig);
        }
        // Within the limit, so it fits a usize.
        Ok(Some((header, len as usize)))
    }

    /// One whole, unmasked frame: a message when it completes one.
    fn frame(
        &mut self,
        fin: bool,
        opcode: u8,
        payload: Vec<u8>,
    ) -> Result<Option<Incoming>, ReadError> {
        match opcode {
            OP_TEXT | OP_BINARY => {
                if self.partial.is_some() {
                    return Err(ReadError::Protocol("a new message inside a fragmented one"));
                }
                let text = opcode == OP_TEXT;
                if fin {
                    return complete(text, payload).map(Some);
                }
                self.partial = Some(Box::new(Partial {
                    text,
                    bytes: payload,
                }));
                Ok(None)
            }
            OP_CONTINUATION => {
                let Some(partial) = self.partial.as_mut() else {
                    return Err(ReadError::Protocol("continuation without a message"));
                };
                partial.bytes.extend_from_slice(&payload);
                if !fin {
                    return Ok(None);
                }
                let Partial { text, bytes } = *self.partial.take().expect("checked above");
                complete(text, bytes).map(Some)
            }
            OP_CLOSE => match payload.len() {
                0 => Ok(Some(Incoming::Close(None))),
                1 => Err(ReadError::Protocol("close frame of one byte")),
                _ => {
                    if std::str::from_utf8(&payload[2..]).is_err() {
                        return Err(ReadError::BadUtf8);
                    }
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    Ok(Some(Incoming::Close(Some(code))))
                }
            },
            OP_PING => Ok(Some(Incoming::Ping(payload))),
            OP_PONG => Ok(Some(Incoming::Pong)),
            _ => Err(ReadError::Protocol("unknown opcode")),
        }
    }
}

fn complete(text: bool, bytes: Vec<u8>) -> Result<Incoming, ReadError> {
    if !text {
        return Ok(Incoming::Binary(bytes.len()));
    }
    String::from_utf8(bytes)
        .map(Incoming::Text)
        .map_err(|_| ReadError::BadUtf8)
}

fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// Appends one unfragmented, unmasked server frame to `buf`.
pub fn encode(buf: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    buf.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        buf.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        buf.push(126);
        buf.extend_from_slice(&short.to_be_bytes());
    } else {
        buf.push(127);
        buf.extend_from_slice(&(len as u64).to_be_bytes());
    }
    buf.extend_from_slice(payload);
}

/// The bytes a frame of this payload takes on the wire.
pub fn encoded_len(payload: usize) -> usize {
    payload
        + match payload {
            0..=125 => 2,
            126..=65535 => 4,
            _ => 10,
        }
}

/// A close frame's payload: the code, then the reason (cut to fit 125 bytes).
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut p = Vec::with_capacity(2 + end);
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(&reason.as_bytes()[..end]);
    p
}

/// Writes one control or text frame and flushes.
pub async fn write_frame<S: AsyncWrite + Unpin>(
    io: &mut S,
    opcode: u8,
    payload: &[u8],
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(encoded_len(payload.len()));
    encode(&mut buf, opcode, payload);
    io.write_all(&buf).await?;
    io.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A client frame as a browser sends it: masked.
    fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if len <= 65535 {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    async fn read_all(bytes: Vec<u8>, max: usize) -> Vec<Result<Incoming, String>> {
        let (mut client, mut server) = tokio::io::duplex(16 * 1024);
        // Written while read: more than the pipe holds must not block.
        let writer = tokio::spawn(async move {
            let _ = client.write_all(&bytes).await;
        });
        let mut reader = FrameReader::new(max);
        let mut out = Vec::new();
        loop {
            match reader.next(&mut server).await {
                Ok(m) => out.push(Ok(m)),
                Err(ReadError::Eof) => break,
                Err(e) => {
                    out.push(Err(format!("{e:?}")));
                    break;
                }
            }
        }
        writer.abort();
        out
    }

    #[tokio::test]
    async fn masked_text_of_every_length_encoding() {
        for len in [0usize, 5, 125, 126, 300, 65535, 65536, 70_000] {
            let text = "é".repeat(len / 2) + &"a".repeat(len % 2);
            let got = read_all(client_frame(true, OP_TEXT, text.as_bytes()), 100_000).await;
            assert_eq!(got, vec![Ok(Incoming::Text(text.clone()))], "length {len}");
        }
    }

    #[tokio::test]
    async fn fragments_are_joined_around_control_frames() {
        let mut bytes = client_frame(false, OP_TEXT, b"{\"type\":");
        bytes.extend(client_frame(true, OP_PING, b"hi"));
        bytes.extend(client_frame(false, OP_CONTINUATION, b"\"sa"));
        bytes.extend(client_frame(true, OP_PONG, b""));
        bytes.extend(client_frame(true, OP_CONTINUATION, b"y\"}"));
        bytes.extend(client_frame(true, OP_CLOSE, &close_payload(1000, "bye")));
        let got = read_all(bytes, 1000).await;
        assert_eq!(
            got,
            vec![
                Ok(Incoming::Ping(b"hi".to_vec())),
                Ok(Incoming::Pong),
                Ok(Incoming::Text("{\"type\":\"say\"}".into())),
                Ok(Incoming::Close(Some(1000))),
            ]
        );
    }

    #[tokio::test]
    async fn frames_split_across_reads_byte_by_byte() {
        let mut bytes = client_frame(true, OP_TEXT, "x".repeat(5000).as_bytes());
        bytes.extend(client_frame(true, OP_TEXT, b"second"));
        let (mut client, mut server) = tokio::io::duplex(1);
        let writer = tokio::spawn(async move {
            for b in bytes {
                client.write_all(&[b]).await.expect("write");
            }
        });
        let mut reader = FrameReader::new(16 * 1024);
        let first = reader.next(&mut server).await.expect("first");
        assert_eq!(first, Incoming::Text("x".repeat(5000)));
        let second = reader.next(&mut server).await.expect("second");
        assert_eq!(second, Incoming::Text("second".into()));
        writer.await.expect("writer");
        assert_eq!(reader.pending.capacity(), 0, "nothing kept once idle");
    }

    #[tokio::test]
    async fn oversize_is_refused_from_the_header_alone() {
        // Only the header of a 1 MiB frame arrives: refused without its payload.
        let mut header = client_frame(true, OP_TEXT, &vec![b'a'; 1 << 20]);
        header.truncate(14);
        let got = read_all(header, 16 * 1024).await;
        assert_eq!(got, vec![Err("TooBig".into())]);
        // Just over the limit, and over it only once fragments are joined.
        let got = read_all(client_frame(true, OP_TEXT, &[b'a'; 1025]), 1024).await;
        assert_eq!(got, vec![Err("TooBig".into())]);
        let mut bytes = client_frame(false, OP_TEXT, &[b'a'; 600]);
        bytes.extend(client_frame(true, OP_CONTINUATION, &[b'a'; 600]));
        let got = read_all(bytes, 1024).await;
        assert_eq!(got, vec![Err("TooBig".into())]);
        assert_eq!(ReadError::TooBig.close_code(), Some(1009));
        // At the limit exactly is fine.
        let got = read_all(client_frame(true, OP_TEXT, &[b'a'; 1024]), 1024).await;
        assert_eq!(got, vec![Ok(Incoming::Text("a".repeat(1024)))]);
    }

    #[tokio::test]
    async fn frames_a_client_may_not_send() {
        let mut unmasked = vec![0x81, 2];
        unmasked.extend_from_slice(b"hi");
        let mut reserved = client_frame(true, OP_TEXT, b"hi");
        reserved[0] |= 0x40;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (unmasked, "masked"),
            (reserved, "reserved"),
            (client_frame(true, 0x3, b""), "unknown opcode"),
            (client_frame(false, OP_PING, b""), "fragmented control"),
            (client_frame(true, OP_PING, &[0; 126]), "125"),
            (client_frame(true, OP_CONTINUATION, b"x"), "continuation"),
            (
                [
                    client_frame(false, OP_TEXT, b"a"),
                    client_frame(true, OP_TEXT, b"b"),
                ]
                .concat(),
                "inside a fragmented",
            ),
            (client_frame(true, OP_CLOSE, &[3]), "one byte"),
        ];
        for (bytes, why) in cases {
            let got = read_all(bytes, 1024).await;
            let [Err(e)] = got.as_slice() else {
                panic!("{why}: {got:?}");
            };
            assert!(e.contains(why), "{why}: {e}");
        }
        let got = read_all(client_frame(true, OP_TEXT, &[0xff, 0xfe]), 1024).await;
        assert_eq!(got, vec![Err("BadUtf8".into())]);
        assert_eq!(ReadError::BadUtf8.close_code(), Some(1007));
        assert_eq!(ReadError::Protocol("x").close_code(), Some(1002));
        let got = read_all(client_frame(true, OP_BINARY, &[1, 2, 3]), 1024).await;
        assert_eq!(got, vec![Ok(Incoming::Binary(3))]);
    }

    #[tokio::test]
    async fn server_frames_are_unmasked_and_minimal() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![b'z'; len];
            let mut buf = Vec::new();
            encode(&mut buf, OP_TEXT, &payload);
            assert_eq!(buf.len(), encoded_len(len));
            assert_eq!(buf[0], 0x81);
            assert_eq!(buf[1] & 0x80, 0, "server frames are not masked");
            assert_eq!(&buf[buf.len() - len..], payload.as_slice());
        }
        let (mut client, mut server) = tokio::io::duplex(1024);
        write_frame(
            &mut server,
            OP_CLOSE,
            &close_payload(1009, "frame too large"),
        )
        .await
        .expect("write");
        let mut got = [0u8; 19];
        client.read_exact(&mut got).await.expect("read");
        assert_eq!(&got[..4], &[0x88, 17, 0x03, 0xf1]);
        assert_eq!(&got[4..], b"frame too large");
        let long = close_payload(1000, &"é".repeat(100));
        assert!(long.len() <= 125 && std::str::from_utf8(&long[2..]).is_ok());
    }
}
