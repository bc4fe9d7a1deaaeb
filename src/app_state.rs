//! [`AppState`]: what every HTTP handler and connection task shares. It has
//! a module of its own so that `api/`, `ws/`, the demo and the static files
//! depend on it and not on `startup` (which depends on all of them).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::ratelimit::{AddressLimiter, HashGate};
use crate::session::Registry;
use crate::settings::Settings;
use crate::store::Store;

/// Everything a handler or connection task needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub sessions: Arc<Registry>,
    pub login_limiter: Arc<AddressLimiter>,
    pub join_limiter: Arc<AddressLimiter>,
    /// Bounds the password hashing of login and access codes.
    pub hashing: Arc<HashGate>,
    /// The public base URL, e.g. `http://127.0.0.1:8080`.
    pub base_url: Arc<str>,
    /// The address the listener is bound to (the real port, also in tests).
    pub bound: std::net::SocketAddr,
    /// Fires once when the server shuts down.
    pub shutdown: CancellationToken,
    /// Where "now" comes from (the wall clock; tokio's clock in tests).
    pub clock: SharedClock,
    /// Several nodes on PostgreSQL: this node's leases and relays (`None`
    /// with SQLite).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl AppState {
    /// Now, in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
