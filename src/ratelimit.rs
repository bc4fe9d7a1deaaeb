//! A fixed-window rate limiter keyed by client address, for login and join
//! (PROTOCOL.md §1: too many → 429). Memory stays bounded: stale windows
//! are swept as the map grows.

use std::net::IpAddr;
use std::sync::Mutex;

use dashmap::DashMap;

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
