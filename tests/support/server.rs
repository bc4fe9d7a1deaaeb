//! The real `peercircle` binary as a child process, for tests that must
//! kill it (`kill -9`) and start it again on the same database. Each server
//! listens on a port of its own choosing (`127.0.0.1:0`) and says which on
//! its first line of output.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server process; killed (hard) when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub base: String,
    /// Every line the server printed on standard output (its logs), so far.
    pub output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_peercircle"))
}

/// `sqlite://…` of a database file in `dir`.
pub fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("peercircle.db").display())
}

fn command(database: &str) -> Command {
    let mut c = Command::new(binary());
    c.arg("--database")
        .arg(database)
        .env("PEERCIRCLE_LOG", "warn")
        .env("PEERCIRCLE_DEMO", "false")
        .env("PEERCIRCLE_RATE_LIMIT_LOOPBACK", "false")
        .env_remove("RUST_LOG");
    c
}

/// Adds a facilitator account with the command line, as an operator would.
pub fn add_facilitator(database: &str, email: &str, name: &str, password: &str) {
    let mut child = command(database)
        .args([
            "facilitator",
            "add",
            "--email",
            email,
            "--name",
            name,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("peercircle starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password written");
    let status = child.wait().expect("peercircle exits");
    assert!(status.success(), "facilitator add failed");
}

impl Server {
    /// Starts `peercircle serve` on `database` and waits until it listens.
    pub fn start(database: &str, env: &[(&str, &str)]) -> Server {
        let mut cmd = command(database);
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("peercircle starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("peercircle is listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
                lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
                break url;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("peercircle exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "peercircle did not start in time"
            );
        };
        let addr = base
            .trim_start_matches("http://")
            .parse()
            .expect("the listening address");
        Server {
            child,
            addr,
            base,
            output,
        }
    }

    /// Stops the server as `systemctl stop` would (SIGTERM) and waits,
    /// at most 20 s, for it to exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a `peercircle` command on `database` to its end: (success, stdout+stderr).
    pub fn run(database: &str, args: &[&str]) -> (bool, String) {
        let out = command(database)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("peercircle runs");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    /// The process id (for `kill -STOP` / `kill -CONT`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (`STOP`, `CONT`, …) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// `kill -9`: no shutdown, no last snapshot, no goodbye.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
