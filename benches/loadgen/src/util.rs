//! Small helpers: clocks, a tiny PRNG, RFC 3339, loopback checks, file limits,
//! and the source-address spreader that gets past the ephemeral-port limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock microseconds since the Unix epoch (shared by every process on
/// the machine, so a timestamp written by one process can be read by another).
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// xorshift64*: fast, good enough for choosing behaviours; never for secrets.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Uniform in [lo, hi].
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// RFC 3339 (UTC) for a Unix time in seconds.
pub fn rfc3339(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        y,
        m,
        d,
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

pub fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Target of a run: host:port on loopback only.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    /// "127.0.0.1:8080" as written in URLs and Host headers.
    pub authority: String,
}

impl Target {
    /// Parses `http://127.0.0.1:8080`, `ws://localhost:9000` or `127.0.0.1:8080`;
    /// refuses anything that is not loopback.
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = url
            .trim_start_matches("http://")
            .trim_start_matches("ws://")
            .trim_end_matches('/');
        if rest.contains("://") {
            return Err(format!("{url}: only plain http:// or ws:// on loopback"));
        }
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("{url}: no port"))?;
        let port: u16 = port.parse().map_err(|_| format!("{url}: bad port"))?;
        let ip: IpAddr = if host == "localhost" {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.trim_matches(|c| c == '[' || c == ']')
                .parse()
                .map_err(|_| format!("{url}: host must be a loopback IP address or localhost"))?
        };
        if !ip.is_loopback() {
            return Err(format!(
                "{url}: refusing a non-loopback target ({ip}); load runs stay on this machine"
            ));
        }
        Ok(Target {
            addr: SocketAddr::new(ip, port),
            authority: format!("{host}:{port}"),
        })
    }
}

/// Hands out source addresses 127.0.0.2, 127.0.0.3, … round-robin, so that
/// many sockets to one server port do not run out of ephemeral ports.
pub struct SourceAddrs {
    n: usize,
    next: AtomicUsize,
    v6: bool,
}

impl SourceAddrs {
    pub fn new(n: usize, target: &Target) -> SourceAddrs {
        SourceAddrs {
            n: n.clamp(1, 250),
            next: AtomicUsize::new(0),
            v6: target.addr.is_ipv6(),
        }
    }
    pub fn next(&self) -> Option<IpAddr> {
        if self.v6 {
            return None; // ::1 is the only IPv6 loopback address
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.n;
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8)))
    }
}

/// Raises RLIMIT_NOFILE to the hard limit; returns (soft, hard) after.
pub fn raise_nofile() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a stack value we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &want);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    #[allow(clippy::unnecessary_cast)]
    let out = (lim.rlim_cur as u64, lim.rlim_max as u64);
    out
}
