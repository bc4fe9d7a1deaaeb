//! Serves the browser client from `web-client/`, embedded in the binary
//! (read from disk in debug builds), at `/`, `/s/{session}` and `/facilitate`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app_state::AppState;

#[derive(rust_embed::Embed)]
#[folder = "web-client/"]
#[exclude = "node_modules/*"]
#[exclude = "*.json"]
struct Assets;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/s/{session}", get(index))
        .route("/facilitate", get(index))
        .route("/facilitate/{*rest}", get(index))
        .route("/{*path}", get(asset))
}

async fn index() -> Response {
    serve("index.html")
}

async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    match Assets::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref().to_string()),
                    (header::CACHE_CONTROL, "no-cache".to_string()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                ],
                file.data,
            )
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": {"code": "not_found", "message": "There is nothing at this address."}})),
        )
            .into_response(),
    }
}
