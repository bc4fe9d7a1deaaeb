//! Where the server takes the time from.
//!
//! Production uses [`SystemClock`] (the wall clock, unix ms). Tests that
//! drive turn clocks, grace periods and pauses use [`TokioClock`], which
//! follows tokio's clock: under `tokio::time::pause` the test moves time with
//! `tokio::time::advance` and never sleeps for real. The session actor reads
//! the time only through this trait; the pure state machine is handed it.

use std::sync::Arc;

/// A source of "now" in unix milliseconds.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// The wall clock at creation, moved on by tokio's (pausable) clock.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base_ms: i64,
    base: tokio::time::Instant,
}

impl TokioClock {
    /// Starts at the current wall-clock time.
    pub fn new() -> Self {
        Self::starting_at(jiff::Timestamp::now().as_millisecond())
    }

    /// Starts at `base_ms`.
    pub fn starting_at(base_ms: i64) -> Self {
        TokioClock {
            base_ms,
            base: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> i64 {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.base);
        self.base_ms + i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX / 2)
    }
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_tokio_clock_moves_only_with_tokio_time() {
        let clock = TokioClock::starting_at(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        tokio::time::advance(std::time::Duration::from_millis(2_500)).await;
        assert_eq!(clock.now_ms(), 3_500);
    }
}
