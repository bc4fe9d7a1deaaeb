//! A socket's outbound queue: bounded, one consumer (the socket's task),
//! written by the session actor with [`OutTx::try_send`] (never awaited:
//! a full queue means a slow reader, who is dropped).
//!
//! Why not `tokio::sync::mpsc`: a bounded tokio channel costs about 1.5 KiB
//! per socket even when empty (two cache-padded halves and a first block of
//! 32 slots), which was a third of an idle socket's budget
//! (BENCHMARKS.md, "Where the bytes of an idle socket go"). This one is a
//! mutex around a `VecDeque` that gives its memory back once drained: an
//! idle socket's queue is under a hundred bytes.
//!
//! The queue also carries the socket's kill signal ([`Kill`]): a flag the
//! socket's task sees through the same waker as its frames, so a socket
//! needs no cancellation token (a heap block and a waiter in its task).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::handle::Outbound;

/// A drained queue keeps at most this many slots.
const KEEP: usize = 8;

struct Inner {
    items: VecDeque<Outbound>,
    waker: Option<Waker>,
    /// The receiver is gone: sends fail.
    closed: bool,
    /// The socket is to be dropped ([`Kill::cancel`]).
    killed: bool,
}

struct Shared {
    inner: Mutex<Inner>,
    cap: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding it; a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a frame was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// The queue holds `cap` frames: the reader is too slow.
    Full,
    /// The socket is gone.
    Closed,
}

/// The sending side (cloneable; held by the actor and the socket's task).
#[derive(Clone)]
pub struct OutTx(Arc<Shared>);

/// The receiving side (the socket's task).
pub struct OutRx(Arc<Shared>);

/// Drops the socket of a queue: its task stops what it is doing (a write
/// in progress included) and ends. Cloneable; held by the session actor.
#[derive(Clone)]
pub struct Kill(Arc<Shared>);

impl Kill {
    /// Tells the socket's task to drop the socket (idempotent).
    pub fn cancel(&self) {
        let waker = {
            let mut inner = self.0.lock();
            inner.killed = true;
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// What the socket's task is woken for by its queue.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// Frames are waiting ([`OutRx::try_recv`]).
    Frames,
    /// The socket was killed: it goes at once, whatever is queued.
    Killed,
}

/// A queue of at most `cap` frames.
pub fn channel(cap: usize) -> (OutTx, OutRx) {
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            items: VecDeque::new(),
            waker: None,
            closed: false,
            killed: false,
        }),
        cap: cap.max(1),
    });
    (OutTx(shared.clone()), OutRx(shared))
}

impl OutTx {
    /// Queues `item` unless the queue is full or the receiver gone.
    pub fn try_send(&self, item: Outbound) -> Result<(), SendError> {
        let waker = {
            let mut inner = self.0.lock();
            if inner.closed {
                return Err(SendError::Closed);
            }
            if inner.items.len() >= self.0.cap {
                return Err(SendError::Full);
            }
            inner.items.push_back(item);
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiving socket is gone.
    pub fn is_closed(&self) -> bool {
        self.0.lock().closed
    }

    /// The kill switch of this queue's socket.
    pub fn kill_switch(&self) -> Kill {
        Kill(self.0.clone())
    }
}

impl OutRx {
    /// Whether the socket was killed or frames are waiting, in that order
    /// (a killed socket writes nothing more); registers the task's waker
    /// when neither.
    pub fn poll_wake(&self, cx: &mut Context<'_>) -> Poll<Wake> {
        let mut inner = self.0.lock();
        if inner.killed {
            Poll::Ready(Wake::Killed)
        } else if !inner.items.is_empty() {
            Poll::Ready(Wake::Frames)
        } else {
            register(&mut inner, cx);
            Poll::Pending
        }
    }

    /// Ready once the socket is killed. Registers the task's waker, which a
    /// new frame also wakes.
    pub fn poll_killed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.0.lock();
        if inner.killed {
            return Poll::Ready(());
        }
        register(&mut inner, cx);
        Poll::Pending
    }

    /// Waits until the socket is killed or frames are waiting. Cancel-safe.
    pub async fn wake(&self) -> Wake {
        poll_fn(|cx| self.poll_wake(cx)).await
    }

    /// Frames waiting now.
    pub fn len(&self) -> usize {
        self.0.lock().items.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next frame if one is queued.
    pub fn try_recv(&self) -> Option<Outbound> {
        take(&mut self.0.lock())
    }
}

fn register(inner: &mut Inner, cx: &Context<'_>) {
    if !inner
        .waker
        .as_ref()
        .is_some_and(|w| w.will_wake(cx.waker()))
    {
        inner.waker = Some(cx.waker().clone());
    }
}

fn take(inner: &mut Inner) -> Option<Outbound> {
    let item = inner.items.pop_front();
    if inner.items.is_empty() && inner.items.capacity() > KEEP {
        // A burst is over: give its memory back.
        inner.items = VecDeque::new();
    }
    item
}

impl Drop for OutRx {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.closed = true;
        inner.items = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ws::Utf8Bytes;

    fn frame(s: &'static str) -> Outbound {
        Outbound::Frame(Utf8Bytes::from_static(s))
    }

    fn text(o: Outbound) -> String {
        match o {
            Outbound::Frame(b) => b.as_str().to_string(),
            Outbound::Close(code, _) => format!("close {code}"),
        }
    }

    async fn recv(rx: &OutRx) -> String {
        match rx.wake().await {
            Wake::Frames => text(rx.try_recv().expect("a frame")),
            Wake::Killed => "killed".into(),
        }
    }

    #[tokio::test]
    async fn in_order_bounded_and_closed_when_the_socket_goes() {
        let (tx, rx) = channel(2);
        assert_eq!(tx.try_send(frame("a")), Ok(()));
        assert_eq!(tx.try_send(Outbound::Close(1000, "bye")), Ok(()));
        assert_eq!(tx.try_send(frame("c")), Err(SendError::Full));
        assert_eq!(recv(&rx).await, "a");
        assert_eq!(rx.try_recv().map(text), Some("close 1000".into()));
        assert!(rx.try_recv().is_none());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.try_send(frame("d")), Err(SendError::Closed));
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken() {
        let (tx, rx) = channel(4);
        let waiter = tokio::spawn(async move { recv(&rx).await });
        tokio::task::yield_now().await;
        tx.try_send(frame("late")).expect("room");
        assert_eq!(waiter.await.expect("task"), "late");
    }

    #[tokio::test]
    async fn a_kill_wakes_the_socket_and_comes_before_what_is_queued() {
        let (tx, rx) = channel(4);
        let kill = tx.kill_switch();
        let waiter = tokio::spawn(async move { recv(&rx).await });
        tokio::task::yield_now().await;
        kill.cancel();
        assert_eq!(waiter.await.expect("task"), "killed");

        let (tx, rx) = channel(4);
        tx.try_send(frame("queued")).expect("room");
        tx.kill_switch().cancel();
        assert_eq!(recv(&rx).await, "killed");
    }

    #[test]
    fn a_drained_burst_gives_its_memory_back() {
        let (tx, rx) = channel(256);
        for _ in 0..200 {
            tx.try_send(frame("x")).expect("room");
        }
        while rx.try_recv().is_some() {}
        assert!(tx.0.lock().items.capacity() <= KEEP);
    }
}
