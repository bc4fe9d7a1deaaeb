//! Reads CPU time and memory of a process from /proc (Linux only).

use std::fs;

#[derive(Clone, Copy, Debug, Default)]
pub struct ProcSample {
    /// user + system CPU seconds since the process started.
    pub cpu_secs: f64,
    /// Resident set size now, KiB.
    pub rss_kib: u64,
    /// Peak resident set size (VmHWM), KiB.
    pub hwm_kib: u64,
}

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// `pid` None means this process.
pub fn sample(pid: Option<u32>) -> Option<ProcSample> {
    let dir = match pid {
        Some(p) => format!("/proc/{p}"),
        None => "/proc/self".to_string(),
    };
    let stat = fs::read_to_string(format!("{dir}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime is field 14 overall, i.e. index 11 after "pid (comm)".
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let status = fs::read_to_string(format!("{dir}/status")).ok()?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Some(ProcSample {
        cpu_secs: (utime + stime) / clk_tck(),
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
    })
}

/// Finds the pid of a process whose command name (comm) or argv[0] basename
/// equals `name`; the newest one wins when several match.
pub fn find_pid(name: &str) -> Option<u32> {
    let me = std::process::id();
    let mut best: Option<u32> = None;
    for e in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let cmd = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv0 = cmd
            .split(|b| *b == 0)
            .next()
            .map(|a| String::from_utf8_lossy(a).to_string())
            .unwrap_or_default();
        let base = argv0.rsplit('/').next().unwrap_or("");
        if comm.trim() == name || base == name {
            best = Some(best.map_or(pid, |b| b.max(pid)));
        }
    }
    best
}
