//! The OpenAPI 3.1 document of the HTTP API, generated with `utoipa` from
//! the handlers' own annotations and types (request bodies, [`super::views`])
//! and served at `GET /api/openapi.json`. `tests/schemathesis.sh` checks
//! the running server against it. The WebSocket protocol is described in
//! `docs/protocol.md`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{groups, login, participants, sessions, views};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "peercircle HTTP API",
        description = "Facilitators sign in, run groups and schedule sessions; \
            anyone with a session's link reads its card and joins it. \
            Errors are always {\"error\": {\"code\", \"message\"}}. \
            The live session runs over the WebSocket at /ws (see docs/protocol.md).",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
        login::login,
        login::logout,
        login::me,
        groups::list,
        groups::create,
        groups::read,
        groups::update,
        groups::delete,
        sessions::schedule,
        sessions::list,
        sessions::calendar,
        sessions::card,
        sessions::cancel,
        sessions::join,
        sessions::summary,
        participants::list,
        participants::remove,
        participants::erase,
    ),
    components(schemas(views::ErrorBody, views::ErrorDetail)),
    modifiers(&BearerAuth),
    tags(
        (name = "facilitators", description = "Signing in and out"),
        (name = "groups", description = "Groups and their agreements"),
        (name = "sessions", description = "Scheduling, the public card, joining"),
        (name = "participants", description = "Who joined; removing; erasing a person's data"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token of POST /api/login (the peercircle_token cookie works too).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document, as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /api/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_route() {
        let doc = serde_json::to_value(document()).expect("json");
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().expect("paths");
        for path in [
            "/api/login",
            "/api/groups/{group}",
            "/api/sessions/{session}/join",
            "/api/groups/{group}/participants/{participant}",
        ] {
            assert!(paths.contains_key(path), "{path} is missing");
        }
        assert!(doc["components"]["schemas"]["GroupView"].is_object());
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
