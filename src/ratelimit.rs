//! Limits on what unauthenticated callers can make the server spend:
//! [`AddressLimiter`], a fixed-window rate limit keyed by client address for
//! login and join (PROTOCOL.md §1: too many → 429), whose memory stays
//! bounded (stale windows are swept as the map grows); and [`HashGate`],
//! which bounds how many password hashes (argon2, ~19 MiB each) run at once
//! so a burst of logins cannot exhaust memory.
//!
//! Nothing here logs addresses or reads the database.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::Semaphore;

/// Runs password hashing on a few dedicated threads, at most `permits` at
/// once. A caller waits at most `wait` for a slot, then gets
/// [`GateError::Busy`]. The slot is held by the hashing itself, not by the
/// caller: a client that hangs up mid-hash does not free a slot while its
/// hash still runs.
///
/// Dedicated threads rather than tokio's blocking pool: each thread that
/// ever ran argon2 keeps its ~19 MiB in its malloc arena, and the blocking
/// pool hands successive hashes to many threads (a burst of 150 wrong
/// logins peaked near 480 MB that way); `permits` threads keep it to
/// `permits` × 19 MiB.
pub struct HashGate {
    permits: Arc<Semaphore>,
    size: usize,
    wait: Duration,
    jobs: std::sync::mpsc::Sender<Job>,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    /// Callers waiting for a slot (for metrics).
    waiting: Arc<AtomicUsize>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Why [`HashGate::run`] did not run the work.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// Every slot stayed taken for the whole wait.
    #[error("every hashing slot is busy")]
    Busy,
    /// The work panicked, or the hashing threads are gone.
    #[error("the hashing task failed: {0}")]
    Failed(String),
}

impl HashGate {
    /// `permits` slots and threads (0: one per CPU core), waiting at most `wait`.
    pub fn new(permits: usize, wait: Duration) -> Self {
        let size = if permits == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            permits
        };
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..size {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("peercircle-hash-{i}"))
                .spawn(move || loop {
                    // The guard is dropped before the job runs.
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match next {
                        // A panicking job loses its answer, not the thread.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        // The gate is gone: the thread ends.
                        Err(_) => break,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(size)),
            size,
            wait,
            jobs,
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many hashes may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The most hashes that ever ran at once (for tests and metrics).
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }

    /// Hashes running now (for metrics).
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Callers waiting for a free slot now (for metrics).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Seconds a refused caller should wait before trying again.
    pub fn retry_after_secs(&self) -> u64 {
        self.wait.as_secs().max(1)
    }

    /// Runs `work` on a hashing thread once a slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, GateError> {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let permit = permit
            .map_err(|_| GateError::Busy)?
            // The semaphore is never closed.
            .map_err(|_| GateError::Busy)?;
        let running = self.running.clone();
        let peak = self.peak.clone();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let now = running.fetch_add(1, Ordering::AcqRel) + 1;
            peak.fetch_max(now, Ordering::AcqRel);
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            running.fetch_sub(1, Ordering::AcqRel);
            drop(permit);
            let _ = answer.send(out);
        });
        self.jobs
            .send(job)
            .map_err(|_| GateError::Failed("the hashing threads are gone".into()))?;
        match answered.await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(_)) => Err(GateError::Failed("the hashing work panicked".into())),
            Err(_) => Err(GateError::Failed("the hashing thread stopped".into())),
        }
    }
}

/// Allows `limit` hits per `window_ms` per address.
pub struct AddressLimiter {
    limit: u32,
    /// Loopback addresses pass without counting.
    exempt_loopback: bool,
    window_ms: i64,
    windows: DashMap<IpAddr, (i64, u32)>,
    last_sweep: Mutex<i64>,
}

impl AddressLimiter {
    pub fn new(limit: u32, window_ms: i64, exempt_loopback: bool) -> Self {
        Self {
            limit,
            exempt_loopback,
            window_ms,
            windows: DashMap::new(),
            last_sweep: Mutex::new(0),
        }
    }

    /// Records a hit at `now`; `false` when the address is over its limit.
    pub fn check(&self, addr: IpAddr, now: i64) -> bool {
        if self.exempt_loopback && addr.is_loopback() {
            return true;
        }
        self.sweep(now);
        let mut entry = self.windows.entry(addr).or_insert((now, 0));
        let (start, count) = *entry;
        if now - start >= self.window_ms {
            *entry = (now, 1);
            return true;
        }
        if count >= self.limit {
            return false;
        }
        *entry = (start, count + 1);
        true
    }

    fn sweep(&self, now: i64) {
        if self.windows.len() < 10_000 {
            return;
        }
        {
            // The guard is a plain std mutex, held only for this comparison.
            let mut last = self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
            if now - *last < self.window_ms {
                return;
            }
            *last = now;
        }
        let window = self.window_ms;
        self.windows.retain(|_, (start, _)| now - *start < window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_gate_never_runs_more_than_its_size_and_turns_away_the_rest() {
        let gate = Arc::new(HashGate::new(2, Duration::from_millis(300)));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                gate.run(|| std::thread::sleep(Duration::from_millis(100)))
                    .await
            }));
        }
        let mut done = 0;
        let mut busy = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(()) => done += 1,
                Err(GateError::Busy) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(gate.peak(), 2, "never more than two at once");
        assert!(done >= 2, "some ran: {done}");
        assert!(busy >= 1, "the excess was turned away: {busy}");
        assert_eq!(done + busy, 12);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_hangs_up_does_not_free_the_slot_early() {
        let gate = Arc::new(HashGate::new(1, Duration::from_secs(5)));
        let g = gate.clone();
        let first = tokio::spawn(async move {
            g.run(|| std::thread::sleep(Duration::from_millis(200)))
                .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        first.abort();
        gate.run(|| ()).await.expect("runs after the first");
        assert_eq!(gate.peak(), 1, "the second waited for the first hash");
    }

    #[test]
    fn allows_the_limit_then_refuses_until_the_window_passes() {
        let l = AddressLimiter::new(3, 1000, false);
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        assert!(l.check(a, 0));
        assert!(l.check(a, 1));
        assert!(l.check(a, 2));
        assert!(!l.check(a, 3), "fourth hit in the window is refused");
        assert!(l.check(b, 3), "another address is not affected");
        assert!(l.check(a, 1001), "a new window starts");
    }

    #[test]
    fn loopback_can_be_exempt() {
        let l = AddressLimiter::new(1, 1000, true);
        let local: IpAddr = "127.0.0.1".parse().expect("ip");
        let remote: IpAddr = "10.0.0.1".parse().expect("ip");
        assert!((0..100).all(|t| l.check(local, t)));
        assert!(l.check(remote, 0));
        assert!(!l.check(remote, 1), "others are still limited");
    }
}
