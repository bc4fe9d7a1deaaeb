//! Building and running the server: [`Application::build`] takes the
//! database lock (one server per SQLite file), opens the store, runs
//! migrations, creates the demo when asked, binds the listener (port 0 in
//! tests) and assembles the router with its security headers;
//! [`Application::run_until_stopped`] serves (through [`crate::serve`]: HTTP
//! timeouts and a per-address connection cap) until the shutdown token
//! fires (SIGTERM / ctrl-c in `main`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app_state::AppState;
use crate::clock::SharedClock;
use crate::ratelimit::{AddressLimiter, HashGate};
use crate::session::Registry;
use crate::settings::Settings;
use crate::store::sqlite::{lock_database, DatabaseLock};
use crate::store::{Backend, Store};

/// What the demo created on first start, for the start-up banner.
pub use crate::demo::DemoInfo;

/// A built server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    port: u16,
    router: Router,
    state: AppState,
    demo: Option<DemoInfo>,
    /// The `metrics_listen` address, bound, when set.
    metrics_listener: Option<TcpListener>,
    /// Held until the server stops: no second server on this database.
    _lock: Option<DatabaseLock>,
}

impl Application {
    /// Opens the store, runs migrations, binds, and creates the demo when the
    /// database is empty and `settings.demo` is on.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, crate::clock::system()).await
    }

    /// Like [`Application::build`] with a given clock (tests pass a
    /// [`crate::clock::TokioClock`] to run timers under `tokio::time::pause`).
    pub async fn build_with_clock(
        settings: Settings,
        clock: SharedClock,
    ) -> anyhow::Result<Application> {
        // One server per SQLite file; PostgreSQL is shared by design.
        let lock = match Backend::of(&settings.database) {
            Some(Backend::Sqlite) => lock_database(&settings.database)?,
            _ => None,
        };
        let store: Arc<dyn Store> = crate::metrics::store::MeteredStore::wrap(
            crate::store::connect(&settings.database).await?,
        );
        let listener = TcpListener::bind(settings.listen).await?;
        let metrics_listener = match settings.metrics_listen.trim() {
            "" => None,
            addr => {
                let addr: SocketAddr = addr.parse().map_err(|e| {
                    anyhow::anyhow!("metrics_listen {addr:?} is not an address and port: {e}")
                })?;
                Some(TcpListener::bind(addr).await?)
            }
        };
        let bound: SocketAddr = listener.local_addr()?;
        let base_url: Arc<str> = settings.base_url(bound).into();
        let shutdown = CancellationToken::new();
        let settings = Arc::new(settings);
        let sessions = Arc::new(Registry::new(
            settings.clone(),
            store.clone(),
            shutdown.clone(),
            clock.clone(),
        ));
        let cluster =
            crate::cluster::Cluster::new(&settings, bound, store.clone(), sessions.clone());
        if let Some(c) = &cluster {
            c.spawn(shutdown.clone());
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            sessions.set_peers(tx);
            crate::cluster::notify::spawn(
                &settings.database,
                c.node_id.clone(),
                sessions.clone(),
                rx,
                shutdown.clone(),
            )?;
        }
        let state = AppState {
            login_limiter: Arc::new(AddressLimiter::new(
                settings.login_per_minute,
                60_000,
                !settings.rate_limit_loopback,
            )),
            join_limiter: Arc::new(AddressLimiter::new(
                settings.join_per_minute,
                60_000,
                !settings.rate_limit_loopback,
            )),
            hashing: Arc::new(HashGate::new(
                settings.hash_concurrency,
                Duration::from_millis(settings.hash_wait_ms.into()),
            )),
            sessions,
            cluster,
            settings: settings.clone(),
            store,
            base_url,
            bound,
            shutdown,
            clock,
        };
        let demo = if settings.demo {
            crate::demo::ensure_demo(&state).await?
        } else {
            None
        };
        let router = router(state.clone());
        crate::retention::spawn_job(&state);
        Ok(Application {
            port: bound.port(),
            listener,
            router,
            state,
            demo,
            metrics_listener,
            _lock: lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The bound `metrics_listen` address, when one is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// What the demo created, when it was created by this start.
    pub fn demo(&self) -> Option<&DemoInfo> {
        self.demo.as_ref()
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    /// Serves until the shutdown token fires, then closes every socket with
    /// 1001 (clients resume on the next start) and waits briefly for them.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.state.shutdown.clone();
        let grace = Duration::from_secs(self.state.settings.shutdown_grace_secs.into());
        let limits = crate::serve::Limits::from_settings(&self.state.settings);
        if let Some(listener) = self.metrics_listener {
            let router = crate::metrics::private_router(self.state.clone());
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the metrics address stopped");
                }
            });
        }
        crate::serve::serve(self.listener, self.router, limits, shutdown).await;
        self.state.sessions.wait_closed(grace).await;
        if let Some(cluster) = &self.state.cluster {
            // Every actor saved its last snapshot: other nodes may take over now.
            cluster.release_all().await;
        }
        self.state.store.close().await;
        drop(self._lock);
        Ok(())
    }
}

/// The Content-Security-Policy of every response: only this server's own
/// scripts, styles and sockets (the client has no inline script or style
/// attribute), no plugins, and never inside a frame.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every response (pages, API, errors), unless a
/// handler set its own.
fn security_headers(router: Router) -> Router {
    let headers: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/ws", get(crate::ws::upgrade))
        .route("/metrics", get(crate::metrics::guarded))
        .nest("/api", crate::api::router())
        .merge(crate::static_files::router())
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(crate::logging::request_span),
        )
        .with_state(state);
    security_headers(router)
}

/// Ready while the database answers (within 2 s: a load balancer's health
/// check must not hang on a database that stopped answering).
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let ping = tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await;
    match ping.unwrap_or_else(|_| Err(anyhow::anyhow!("timed out").into())) {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({"error": {"code": "unavailable", "message": "The database is not reachable."}}),
                ),
            )
        }
    }
}
