//! The OpenAPI 3 document of the JSON API, generated from the handlers' annotations and the
//! JSON types. Served at `GET /api/v1/openapi.json` (no authentication: it describes the
//! API, no data), printed by `coffer openapi`, and checked into `docs/openapi.json` (a test
//! fails when the two differ).

use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::json;
use super::{audit, files, folders, groups, permissions, shares, tokens, trash, users, versions};

/// The document. Every operation needs the bearer token unless it says otherwise.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coffer JSON API",
        description = "The JSON API of Coffer (see docs/api.md). Authenticate with \
            `Authorization: Bearer <token>`, or with the session cookie plus the \
            `X-CSRF-Token` header on writes. Every error is `{\"error\": \"...\"}` with \
            `Cache-Control: no-store`. An item the caller may not read answers 404, like a \
            missing one. A known path called with another method answers 405 with `Allow`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        tokens::create,
        users::create,
        users::list,
        users::me,
        groups::create,
        groups::set_members,
        folders::create,
        folders::top_level,
        folders::get,
        folders::update,
        folders::delete,
        folders::children,
        files::upload,
        files::get,
        files::update,
        files::delete,
        versions::list,
        versions::restore,
        permissions::create,
        permissions::list,
        permissions::get,
        permissions::delete,
        permissions::check,
        shares::create,
        shares::list,
        shares::get,
        shares::revoke,
        trash::list,
        trash::restore,
        trash::delete,
        audit::list,
        document,
    ),
    components(schemas(json::ScopeName, json::GrantName)),
    modifiers(&BearerToken),
    tags(
        (name = "tokens", description = "API tokens"),
        (name = "users", description = "Users (superusers manage them)"),
        (name = "groups", description = "Groups and members (superusers)"),
        (name = "folders", description = "Folders and listings"),
        (name = "files", description = "Uploads and file metadata"),
        (name = "folder-permissions", description = "Folder permission rules (superusers)"),
        (name = "permissions", description = "Permission decisions and their reasons"),
        (name = "shares", description = "Share links for people without an account"),
        (name = "trash", description = "Deleted items: restore or delete for good"),
        (name = "audit", description = "Who downloaded which private file (superusers)"),
        (name = "meta", description = "This document"),
    ),
)]
pub struct ApiDoc;

/// The `bearer` security scheme, required by every operation that does not opt out.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("coffer_<64 hex>")
                    .description(Some(
                        "An API token from `POST /api/v1/tokens` or `coffer token create`",
                    ))
                    .build(),
            ),
        );
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The document as pretty-printed JSON with a final newline (the form of
/// `docs/openapi.json`).
pub fn document_json() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta", operation_id = "getOpenApiDocument",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI document", content_type = "application/json",
            body = Object),
    ),
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == super::document_json(),
            "docs/openapi.json differs from the document the code generates; regenerate it \
             with `cargo run -- openapi > docs/openapi.json` and commit it"
        );
    }
}
