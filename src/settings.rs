//! Typed settings: defaults ← optional TOML file (`--config`) ← `PEERCIRCLE_…`
//! environment variables ← command-line flags.
//!
//! Every limit, timeout and rate the server enforces lives here, so an
//! operator (or a load test) can set it. Nothing here reads the network or
//! the database; it only describes how the server should behave.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// All settings of one server. Field names are the TOML keys; the
/// environment variable of a field is `PEERCIRCLE_` + its name in capitals.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Database URL: `sqlite://PATH` (the folder is created) or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (the database must exist).
    pub database: String,
    /// Create a demo facilitator, group and open session on an empty database.
    pub demo: bool,
    /// Origins allowed to open a WebSocket, comma separated. Empty: same origin only.
    pub allowed_origins: Vec<String>,
    /// Public base URL used in printed links and the calendar feed
    /// (empty: `http://{listen}`).
    pub public_url: String,
    /// Minutes before a session's start that its doors (lobby) open.
    pub lobby_minutes: u32,
    /// Default group capacity.
    pub default_capacity: u32,
    /// Largest capacity a group may set.
    pub max_capacity: u32,
    /// Largest WebSocket frame accepted, in bytes (bigger: close 1009).
    pub max_frame_bytes: usize,
    /// Longest message, in characters after trimming.
    pub max_message_chars: usize,
    /// `say` commands allowed per participant per `say_rate_window_secs`.
    pub say_rate_count: u32,
    /// Window of the `say` rate limit, in seconds.
    pub say_rate_window_secs: u32,
    /// Malformed frames allowed per minute before the socket closes (1008).
    pub malformed_per_minute: u32,
    /// Seconds between pings the server sends.
    pub ping_interval_secs: u32,
    /// Seconds without a pong (or any frame) before a socket is dropped.
    pub ping_timeout_secs: u32,
    /// Seconds the first frame (`hello`) may take.
    pub hello_timeout_secs: u32,
    /// Grace period, seconds: away → offline, holder disconnected, no facilitator.
    pub grace_secs: u32,
    /// Default turn length, seconds (30–900).
    pub turn_seconds: u32,
    /// Seconds before the end of a turn that `turn_warning` is sent.
    pub turn_warning_secs: u32,
    /// Minutes before the end of a session that `ending_soon` is sent.
    pub end_warning_minutes: u32,
    /// Events kept for resuming (at least this many)…
    pub replay_events: usize,
    /// …and at least this many seconds of them.
    pub replay_secs: u32,
    /// Frames queued for one socket before it is disconnected as too slow.
    pub outbound_queue: usize,
    /// Recent messages kept per room for the snapshot (in memory only).
    pub room_history: usize,
    /// Acknowledged `ref`s remembered per participant.
    pub refs_remembered: usize,
    /// Login attempts allowed per client address per minute.
    pub login_per_minute: u32,
    /// Joins allowed per client address per minute.
    pub join_per_minute: u32,
    /// Rate-limit login and join from loopback addresses too (on by default:
    /// a proxy on the same host must not make everyone unthrottled). Load
    /// tests that join thousands of people from 127.0.0.1 turn it off.
    pub rate_limit_loopback: bool,
    /// Password hashes (argon2, about 19 MiB each) computed at once, for
    /// login and access codes. 0: one per CPU core.
    pub hash_concurrency: usize,
    /// Milliseconds a login or join waits for a free hashing slot before it
    /// is answered 503 with `Retry-After`.
    pub hash_wait_ms: u32,
    /// Seconds a place taken by a join is held until that person's first
    /// socket arrives; after that an un-arrived join no longer counts
    /// toward the group's capacity.
    pub join_hold_secs: u32,
    /// Hours a facilitator's login token stays valid.
    pub login_token_hours: u32,
    /// No longer used: the WebSocket layer keeps no read or write buffer
    /// while a socket is idle (BENCHMARKS.md, issue 13). Still accepted, so
    /// existing settings files and environments load.
    pub ws_buffer_bytes: usize,
    /// Most WebSocket connections served at once (beyond: refused with 503).
    pub max_connections: usize,
    /// Seconds to wait for sockets to close on shutdown.
    pub shutdown_grace_secs: u32,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `peercircle=debug`.
    pub log: String,
    /// Trust `X-Forwarded-For` for the client address (only behind your own proxy).
    pub trust_forwarded_for: bool,
    /// With `trust_forwarded_for`: how many proxies of yours stand in front of
    /// the server. The client address is that many entries from the right
    /// end of `X-Forwarded-For` (the entries your proxies appended), never
    /// the client-supplied leftmost one.
    pub trusted_proxies: u32,
    /// Seconds a client may take to send a request's headers (from its first
    /// byte; also bounds a new connection's first request). Beyond: closed.
    pub http_header_timeout_secs: u32,
    /// Seconds an HTTP keep-alive connection may sit idle between requests.
    pub http_idle_timeout_secs: u32,
    /// Open HTTP connections allowed per client address (the TCP peer: your
    /// proxy's address when behind one). Upgraded WebSockets do not count.
    /// 0: no limit.
    pub http_connections_per_address: usize,
    /// Each of `react`, `hand`, `pass`, `dm` and `history` allowed per
    /// participant per `command_rate_window_secs`.
    pub command_rate_count: u32,
    /// Window of the command rate limit, in seconds.
    pub command_rate_window_secs: u32,
    /// Each of `break`, `report` and `need_help` allowed per participant per
    /// `signal_rate_window_secs`.
    pub signal_rate_count: u32,
    /// Window of the signal rate limit, in seconds.
    pub signal_rate_window_secs: u32,
    /// Bytes of text (messages, dms, announcements, inbox notes) a welcome
    /// may carry; older messages are paged with `history`.
    pub welcome_text_bytes: usize,
    /// Bytes of events the replay log of one session may hold.
    pub replay_max_bytes: usize,
    /// Sockets one person may have open in a session; a newer one closes
    /// the oldest (1008).
    pub max_sockets_per_participant: usize,
    /// A live session's state is saved at least this often (seconds)…
    pub snapshot_secs: u32,
    /// …and after at most this many events.
    pub snapshot_events: u32,
    /// Seconds a write to a socket may take before the socket is dropped.
    pub write_timeout_secs: u32,
    /// Above this many people a session is a large room: arrivals and
    /// presence changes go out batched (`people` events) and the welcome
    /// lists a first page of people.
    pub large_room: usize,
    /// People on the first page of a large room's welcome, besides the
    /// facilitators, the holder, the queue and the viewer.
    pub welcome_people: usize,
    /// Milliseconds a large room gathers arrivals before one `people` event.
    pub people_batch_ms: u64,
    /// Several nodes on one PostgreSQL database (`crate::cluster`): this
    /// node's name, unique in the cluster (empty: a random one per start).
    pub node_id: String,
    /// Several nodes: the URL other nodes reach this one at, to relay
    /// sockets of the sessions it owns, e.g. `http://10.0.0.11:8080`
    /// (empty: `http://` + the listening address, loopback when it listens
    /// on every interface).
    pub node_url: String,
    /// Several nodes: seconds a node's lease on a live session lasts; it is
    /// renewed every third of that, and a node that cannot renew stops the
    /// session after two thirds. The longest a group waits after its node
    /// dies is about this long.
    pub lease_secs: u32,
    /// Log format: `text` (for people) or `json` (one object a line, for
    /// log shippers).
    pub log_format: String,
    /// Bearer token that `GET /metrics` asks for on the public address.
    /// Empty: `/metrics` is not served there (404).
    pub metrics_token: String,
    /// A second address serving only `/metrics`, without a token (for a
    /// private network or loopback), e.g. `127.0.0.1:9090`. Empty: none.
    pub metrics_listen: String,
    /// Days the participants of a session (pseudonyms, token hashes, hashed
    /// addresses and device ids) are kept after it ended.
    pub retention_joins_days: u32,
    /// Days a session's saved snapshot is kept after it ended.
    pub retention_snapshots_days: u32,
    /// Days an entry of the audit log of facilitator actions is kept.
    pub retention_audit_days: u32,
    /// Days a ban (hashed device and address) is kept.
    pub retention_bans_days: u32,
    /// Minutes between two runs of the retention job. 0: never runs.
    pub retention_interval_minutes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: "sqlite://./data/peercircle.db".into(),
            demo: true,
            allowed_origins: Vec::new(),
            public_url: String::new(),
            lobby_minutes: 15,
            default_capacity: 20,
            max_capacity: 1000,
            max_frame_bytes: 16 * 1024,
            max_message_chars: 2000,
            say_rate_count: 10,
            say_rate_window_secs: 10,
            malformed_per_minute: 20,
            ping_interval_secs: 15,
            ping_timeout_secs: 30,
            hello_timeout_secs: 10,
            grace_secs: 30,
            turn_seconds: 180,
            turn_warning_secs: 30,
            end_warning_minutes: 5,
            replay_events: 1000,
            replay_secs: 600,
            outbound_queue: 256,
            room_history: 200,
            refs_remembered: 256,
            login_per_minute: 10,
            join_per_minute: 30,
            rate_limit_loopback: true,
            hash_concurrency: 0,
            hash_wait_ms: 2_000,
            join_hold_secs: 120,
            login_token_hours: 12,
            ws_buffer_bytes: 4096,
            max_connections: 50_000,
            shutdown_grace_secs: 5,
            log: "info".into(),
            trust_forwarded_for: false,
            trusted_proxies: 1,
            http_header_timeout_secs: 10,
            http_idle_timeout_secs: 60,
            http_connections_per_address: 64,
            command_rate_count: 20,
            command_rate_window_secs: 10,
            signal_rate_count: 6,
            signal_rate_window_secs: 60,
            welcome_text_bytes: 256 * 1024,
            replay_max_bytes: 8 * 1024 * 1024,
            max_sockets_per_participant: 8,
            snapshot_secs: 2,
            snapshot_events: 50,
            write_timeout_secs: 10,
            large_room: 200,
            welcome_people: 100,
            people_batch_ms: 100,
            node_id: String::new(),
            node_url: String::new(),
            lease_secs: 6,
            log_format: "text".into(),
            metrics_token: String::new(),
            metrics_listen: String::new(),
            retention_joins_days: 30,
            retention_snapshots_days: 30,
            retention_audit_days: 365,
            retention_bans_days: 365,
            retention_interval_minutes: 60,
        }
    }
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Toml {
        path: String,
        source: toml::de::Error,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
}

impl Settings {
    /// Defaults, then the TOML file (if given), then `PEERCIRCLE_*` variables
    /// from `env`. Command-line flags are applied by the caller afterwards.
    pub fn load(
        config: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Settings, SettingsError> {
        let mut value =
            toml::Value::try_from(Settings::default()).map_err(|e| SettingsError::Env {
                var: "(defaults)".into(),
                message: e.to_string(),
            })?;
        if let Some(path) = config {
            let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let file: toml::Value =
                toml::from_str(&text).map_err(|source| SettingsError::Toml {
                    path: path.display().to_string(),
                    source,
                })?;
            merge(&mut value, file);
        }
        let table = match &mut value {
            toml::Value::Table(t) => t,
            // Settings always serializes to a table.
            _ => unreachable!("settings serialize to a table"),
        };
        let keys: Vec<String> = table.keys().cloned().collect();
        for key in keys {
            let var = format!("PEERCIRCLE_{}", key.to_uppercase());
            let Some(raw) = env.get(&var) else { continue };
            let current = table.get(&key).cloned();
            let parsed =
                parse_env_value(current.as_ref(), raw).map_err(|message| SettingsError::Env {
                    var: var.clone(),
                    message,
                })?;
            table.insert(key, parsed);
        }
        value
            .try_into()
            .map_err(|e: toml::de::Error| SettingsError::Env {
                var: "PEERCIRCLE_*".into(),
                message: e.to_string(),
            })
    }

    /// Defaults overlaid with the process environment (no file): handy for tests.
    pub fn from_env() -> Result<Settings, SettingsError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Settings::load(None, &env)
    }

    /// Settings for tests: port 0, an in-memory-like temporary database path,
    /// no demo, short timers where a test would otherwise wait.
    pub fn for_tests(database: String) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database,
            demo: false,
            log: "warn".into(),
            login_per_minute: 1000,
            join_per_minute: 1000,
            // Tests join many people from 127.0.0.1; the rate-limit tests
            // turn this back on.
            rate_limit_loopback: false,
            ..Settings::default()
        }
    }

    /// The base URL people should use to reach this server.
    pub fn base_url(&self, bound: SocketAddr) -> String {
        if self.public_url.trim().is_empty() {
            format!("http://{bound}")
        } else {
            self.public_url.trim().trim_end_matches('/').to_string()
        }
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                b.insert(k, v);
            }
        }
        (b, o) => *b = o,
    }
}

fn parse_env_value(current: Option<&toml::Value>, raw: &str) -> Result<toml::Value, String> {
    let raw = raw.trim();
    Ok(match current {
        Some(toml::Value::Boolean(_)) => match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => toml::Value::Boolean(true),
            "0" | "false" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(format!("expected true or false, got {raw:?}")),
        },
        Some(toml::Value::Integer(_)) => toml::Value::Integer(
            raw.replace('_', "")
                .parse()
                .map_err(|_| format!("expected a whole number, got {raw:?}"))?,
        ),
        Some(toml::Value::Array(_)) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_protocol_limits() {
        let s = Settings::default();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.max_frame_bytes, 16 * 1024);
        assert_eq!(s.max_message_chars, 2000);
        assert_eq!((s.say_rate_count, s.say_rate_window_secs), (10, 10));
        assert_eq!(s.grace_secs, 30);
        assert_eq!(s.lobby_minutes, 15);
    }

    #[test]
    fn environment_overrides_defaults_with_types() {
        let env: HashMap<String, String> = [
            ("PEERCIRCLE_LISTEN", "0.0.0.0:9000"),
            ("PEERCIRCLE_DEMO", "false"),
            (
                "PEERCIRCLE_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("PEERCIRCLE_GRACE_SECS", "5"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = Settings::load(None, &env).expect("settings load");
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert!(!s.demo);
        assert_eq!(
            s.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(s.grace_secs, 5);
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "grace_secs = 7\nlobby_minutes = 20\n").expect("write");
        let env: HashMap<String, String> =
            [("PEERCIRCLE_GRACE_SECS".to_string(), "9".to_string())].into();
        let s = Settings::load(Some(&path), &env).expect("load");
        assert_eq!(s.lobby_minutes, 20);
        assert_eq!(s.grace_secs, 9);
    }

    #[test]
    fn bad_values_say_which_variable() {
        let env: HashMap<String, String> =
            [("PEERCIRCLE_DEMO".to_string(), "maybe".to_string())].into();
        let err = Settings::load(None, &env).expect_err("must fail");
        assert!(err.to_string().contains("PEERCIRCLE_DEMO"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "no_such_setting = 1\n").expect("write");
        assert!(Settings::load(Some(&path), &HashMap::new()).is_err());
    }
}
