//! The OpenAPI document: served without credentials, the same as `docs/openapi.json`, and
//! naming only operations that exist, each with the status codes it answers.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn checked_in() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every (method, path) the document lists, with the operation.
fn operations(doc: &Value) -> Vec<(Method, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            out.push((method, path.clone(), op.clone()));
        }
    }
    out
}

fn documented(op: &Value, status: StatusCode) -> bool {
    op["responses"]
        .as_object()
        .unwrap()
        .contains_key(status.as_str())
}

#[actix_web::test]
async fn document_is_served_without_credentials_and_is_the_checked_in_one() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let served: Value = res.json().await.unwrap();
    assert_eq!(served, checked_in());
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        served["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "coffer_<64 hex>",
               "description": "An API token from `POST /api/v1/tokens` or `coffer token create`"})
    );
}

/// Each documented operation is routed: without credentials the secured ones answer 401
/// (a documented status), the open ones do not answer 404 or 405; and as the superuser
/// every answer is one the operation documents.
#[actix_web::test]
async fn every_documented_operation_is_routed_and_answers_documented_statuses() {
    let app = spawn_app().await;
    let doc = checked_in();
    let folder = app.folder(&app.admin_token, "Docs", None).await;
    let ops = operations(&doc);
    assert_eq!(ops.len(), 32, "every API route is documented");
    for (method, path, op) in ops {
        let path = path
            .replace("{id}", &folder.to_string())
            .replace("{version}", "1");
        let path = if path.ends_with("/permissions/check") {
            format!("{path}?user_id={}&folder_id={folder}", app.admin_id)
        } else {
            path
        };
        let open = op["security"] == json!([{}]);
        let (status, body) = app.request(method.clone(), None, &path, None).await;
        if open {
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status}"
            );
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(body, json!({"error": "authentication required"}));
        }
        assert!(
            documented(&op, status),
            "{method} {path}: {status} undocumented"
        );
        let body = (method == Method::POST || method == Method::PATCH || method == Method::PUT)
            .then(|| json!({}));
        let (status, _) = app
            .request(method.clone(), Some(&app.admin_token), &path, body)
            .await;
        assert!(
            documented(&op, status),
            "{method} {path} as admin: {status} undocumented"
        );
    }
}

/// A JSON route given another content type answers 415, a body over the limit 413, and
/// neither creates anything; the upload answers 415 to a body that is not multipart.
#[actix_web::test]
async fn bodies_of_another_type_answer_415_and_oversized_ones_413() {
    let app = spawn_app().await;
    for (path, body) in [
        ("/api/v1/folders", r#"{"name": "Plain"}"#),
        ("/api/v1/groups", r#"{"name": "Plain"}"#),
        (
            "/api/v1/tokens",
            r#"{"username": "admin", "password": "x"}"#,
        ),
    ] {
        for content_type in ["text/plain", "application/x-www-form-urlencoded", ""] {
            let mut req = app
                .client
                .post(app.url(path))
                .bearer_auth(&app.admin_token)
                .body(body);
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            let res = req.send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{path} as {content_type:?}"
            );
            assert_eq!(res.headers()["cache-control"], "no-store");
            let err: Value = res.json().await.unwrap();
            assert!(err["error"].as_str().unwrap().contains("application/json"));
        }
    }
    let huge = json!({"name": "x".repeat(3 * 1024 * 1024)});
    let (status, body) = app
        .request(
            Method::POST,
            Some(&app.admin_token),
            "/api/v1/folders",
            Some(huge),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"].is_string());
    for content_type in ["application/json", "text/plain"] {
        let res = app
            .client
            .post(app.url("/api/v1/files"))
            .bearer_auth(&app.admin_token)
            .header("content-type", content_type)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
    }
    let (_, listing) = app
        .request(Method::GET, Some(&app.admin_token), "/api/v1/folders", None)
        .await;
    assert_eq!(listing, json!({"folders": [], "files": []}));
    let (_, users) = app
        .request(Method::GET, Some(&app.admin_token), "/api/v1/users", None)
        .await;
    assert_eq!(users.as_array().unwrap().len(), 1);
}
