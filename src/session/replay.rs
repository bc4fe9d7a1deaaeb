//! The replay log of one session: recent events as the bytes that were
//! sent, so a client that resumes gets exactly what it missed. It keeps at
//! least `replay_events` events and at least `replay_secs` of them, but never
//! more than `replay_max_bytes` bytes nor [`HARD_CAP`] events, whatever a
//! flood does.

use std::collections::VecDeque;

use axum::extract::ws::Utf8Bytes;

use crate::protocol::{Audience, Millis};

/// A hard ceiling on the number of events kept.
pub const HARD_CAP: usize = 100_000;

/// One event as sent.
pub(crate) struct Logged {
    pub seq: u64,
    pub at: Millis,
    pub audience: Audience,
    pub bytes: Utf8Bytes,
}

/// What the log keeps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub events: usize,
    pub window_ms: Millis,
    pub max_bytes: usize,
}

pub(crate) struct ReplayLog {
    entries: VecDeque<Logged>,
    bytes: usize,
    limits: Limits,
}

impl ReplayLog {
    pub(crate) fn new(limits: Limits) -> Self {
        ReplayLog {
            entries: VecDeque::new(),
            bytes: 0,
            limits,
        }
    }

    /// Bytes held now.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn push(&mut self, entry: Logged, now: Millis) {
        self.bytes += entry.bytes.len();
        self.entries.push_back(entry);
        self.trim(now);
    }

    /// Whether every event after `last_seq` (up to `seq`, the latest) is
    /// still here.
    pub(crate) fn covers(&self, last_seq: u64, seq: u64) -> bool {
        if last_seq > seq {
            return false;
        }
        match self.entries.front() {
            Some(first) => first.seq <= last_seq + 1,
            None => last_seq == seq,
        }
    }

    /// The events after `last_seq`, in order.
    pub(crate) fn after(&self, last_seq: u64) -> impl Iterator<Item = &Logged> {
        self.entries.iter().filter(move |e| e.seq > last_seq)
    }

    fn trim(&mut self, now: Millis) {
        let cap = HARD_CAP.max(self.limits.events);
        while let Some(front) = self.entries.front() {
            let old_enough =
                self.entries.len() > self.limits.events && now - front.at > self.limits.window_ms;
            let too_big = self.bytes > self.limits.max_bytes && self.entries.len() > 1;
            if old_enough || too_big || self.entries.len() > cap {
                self.bytes -= front.bytes.len();
                self.entries.pop_front();
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, at: Millis, size: usize) -> Logged {
        Logged {
            seq,
            at,
            audience: Audience::All,
            bytes: Utf8Bytes::from("x".repeat(size)),
        }
    }

    #[test]
    fn the_log_is_bounded_in_bytes_even_inside_its_window() {
        let mut log = ReplayLog::new(Limits {
            events: 1000,
            window_ms: 600_000,
            max_bytes: 10_000,
        });
        for seq in 1..=100 {
            log.push(entry(seq, 0, 1000), 0);
        }
        assert!(log.after(0).map(|e| e.bytes.len()).sum::<usize>() <= 10_000);
        assert!(!log.covers(50, 100), "old events were dropped");
        assert!(log.covers(95, 100));
        assert_eq!(log.after(98).count(), 2);
    }

    #[test]
    fn the_log_keeps_its_window_and_count() {
        let mut log = ReplayLog::new(Limits {
            events: 3,
            window_ms: 1000,
            max_bytes: usize::MAX,
        });
        for seq in 1..=10 {
            log.push(entry(seq, seq as Millis * 10, 1), seq as Millis * 10);
        }
        assert!(log.covers(0, 10), "all within the time window");
        log.push(entry(11, 5000, 1), 5000);
        assert!(!log.covers(7, 11));
        assert!(log.covers(8, 11), "at least 3 events kept");
    }
}
