//! peercircle: a real-time server for facilitated peer-support groups.
//!
//! The layout follows the flow of a request:
//! - [`api`]: the HTTP API (`/api/…`): login, groups, sessions, joining.
//! - [`ws`]: one task per WebSocket connection: handshake, frames in, frames out.
//! - [`session`]: one actor task per live session ([`session::actor`]) around a
//!   pure state machine ([`session::state`]) that holds every rule of the
//!   talking stick, breaks and facilitator controls.
//! - [`store`]: what is kept on disk (SQLite by default), behind a trait.
//! - [`app_state`]: [`app_state::AppState`], what handlers and connection tasks share.
//! - [`clock`]: where "now" comes from (tokio's pausable clock in tests).
//! - [`startup`]: [`startup::Application`] binds, builds the router and runs
//!   until shut down; `main.rs` only parses the command line. [`serve`] is
//!   its accept loop (HTTP timeouts, per-address connection cap).
//! - [`origin`]: which pages may open a WebSocket.
//! - Operations (issue 12): [`metrics`] (Prometheus, and the metered
//!   store), [`api::openapi`] (the OpenAPI document of the HTTP API),
//!   [`retention`] (erasure and the job that deletes what is past its
//!   time), [`backup`] (consistent copies of a SQLite database) and
//!   [`logging`] (text or JSON logs).
//!
//! Privacy rule for every module: never log message text or display names.

pub mod api;
pub mod app_state;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod cluster;
pub mod demo;
pub mod domain;
pub mod error;
pub mod ics;
pub mod logging;
pub mod metrics;
pub mod origin;
pub mod protocol;
pub mod ratelimit;
pub mod retention;
pub mod serve;
pub mod session;
pub mod settings;
pub mod startup;
pub mod static_files;
pub mod store;
pub mod ws;

/// Milliseconds since the Unix epoch, from the system clock. Code that runs
/// inside the server takes the time from [`app_state::AppState::now_ms`]
/// instead, so tests can control it.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
