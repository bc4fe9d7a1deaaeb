//! Logs: `text` for people or `json` (one object a line, for log shippers),
//! chosen by the `log_format` setting; the filter is the `log` setting (or
//! `RUST_LOG`). Every HTTP line carries the request's id (`http{id=…}`), and
//! every line of a socket its session id (`socket{session=…}`), through the
//! spans made here and in `ws` and `session`.
//!
//! Never log message text or display names: spans carry ids, methods and
//! route templates only.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Request;
use tracing_subscriber::EnvFilter;

use crate::settings::Settings;

/// The log formats `log_format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> anyhow::Result<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            other => anyhow::bail!("log_format must be \"text\" or \"json\", not {other:?}"),
        }
    }
}

/// Installs the process's logger (once, in `main`).
pub fn init(settings: &Settings) -> anyhow::Result<()> {
    let format = Format::parse(&settings.log_format)?;
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&settings.log));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        Format::Text => builder.init(),
        Format::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
    Ok(())
}

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// The span of one HTTP request: a request id (unique in this process),
/// the method and the route it matched (`/api/groups/{group}`: never the
/// path a client typed, which could hold any text).
pub fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("(no route)", |m| m.as_str());
    tracing::info_span!(
        "http",
        request_id = id,
        method = %request.method(),
        route,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(Format::parse("json").expect("json"), Format::Json);
        assert_eq!(Format::parse("TEXT").expect("text"), Format::Text);
        assert_eq!(Format::parse("").expect("default"), Format::Text);
        assert!(Format::parse("xml").is_err());
    }
}
