//! Building and running the server: [`Application::build`] opens the store,
//! runs migrations, creates the demo when asked, binds the listener (port 0
//! in tests) and assembles the router; [`Application::run_until_stopped`]
//! serves until the shutdown token fires (SIGTERM / ctrl-c in `main`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app_state::AppState;
use crate::clock::SharedClock;
use crate::ratelimit::AddressLimiter;
use crate::session::Registry;
use crate::settings::Settings;
use crate::store::Store;

/// What the demo created on first start, for the start-up banner.
pub use crate::demo::DemoInfo;

/// A built server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    port: u16,
    router: Router,
    state: AppState,
    demo: Option<DemoInfo>,
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
        let store: Arc<dyn Store> = crate::store::connect(&settings.database).await?;
        let listener = TcpListener::bind(settings.listen).await?;
        let bound: SocketAddr = listener.local_addr()?;
        let base_url: Arc<str> = settings.base_url(bound).into();
        let shutdown = CancellationToken::new();
        let settings = Arc::new(settings);
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
            sessions: Arc::new(Registry::new(
                settings.clone(),
                store.clone(),
                shutdown.clone(),
                clock.clone(),
            )),
            settings: settings.clone(),
            store,
            base_url,
            shutdown,
            clock,
        };
        let demo = if settings.demo {
            crate::demo::ensure_demo(&state).await?
        } else {
            None
        };
        let router = router(state.clone());
        Ok(Application {
            port: bound.port(),
            listener,
            router,
            state,
            demo,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
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
        // Small frames must not wait on Nagle and delayed ACKs.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let serve = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await });
        let sessions = self.state.sessions.clone();
        let result = serve.await;
        sessions.wait_closed(grace).await;
        self.state.store.close().await;
        result.map_err(Into::into)
    }
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/ws", get(crate::ws::upgrade))
        .nest("/api", crate::api::router())
        .merge(crate::static_files::router())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.store.ping().await {
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
