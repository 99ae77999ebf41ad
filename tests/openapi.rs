//! The OpenAPI document matches the server: it lists exactly the API's routes, and the server
//! answers every operation it lists (no route falls through to "no such route").
//!
//! Routes are registered through utoipa-axum, so a route cannot be served undescribed unless it
//! bypasses `routes!`; the list below is the API's contract, kept by hand on purpose so that a
//! route appearing or disappearing is a visible change.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/v1/restaurants"),
    ("post", "/v1/restaurants"),
    ("get", "/v1/restaurants/{id}"),
    ("put", "/v1/restaurants/{id}"),
    ("delete", "/v1/restaurants/{id}"),
    ("put", "/v1/restaurants/{id}/booking-rules"),
    ("get", "/v1/restaurants/{id}/availability"),
    ("get", "/v1/search"),
    ("post", "/v1/restaurants/{id}/table-types"),
    ("get", "/v1/restaurants/{id}/table-types/{type_id}"),
    ("put", "/v1/restaurants/{id}/table-types/{type_id}"),
    ("delete", "/v1/restaurants/{id}/table-types/{type_id}"),
    ("get", "/v1/restaurants/{id}/table-types/{type_id}/tables"),
    ("post", "/v1/restaurants/{id}/table-types/{type_id}/tables"),
    (
        "get",
        "/v1/restaurants/{id}/table-types/{type_id}/tables/{table_id}",
    ),
    (
        "put",
        "/v1/restaurants/{id}/table-types/{type_id}/tables/{table_id}",
    ),
    (
        "delete",
        "/v1/restaurants/{id}/table-types/{type_id}/tables/{table_id}",
    ),
    ("get", "/v1/restaurants/{id}/table-types/{type_id}/rates"),
    ("put", "/v1/restaurants/{id}/table-types/{type_id}/rates"),
    ("delete", "/v1/restaurants/{id}/table-types/{type_id}/rates"),
    ("get", "/v1/restaurants/{id}/webhook-endpoints"),
    ("post", "/v1/restaurants/{id}/webhook-endpoints"),
    (
        "delete",
        "/v1/restaurants/{id}/webhook-endpoints/{endpoint_id}",
    ),
    ("get", "/v1/reservations"),
    ("post", "/v1/reservations"),
    ("get", "/v1/reservations/{id}"),
    ("delete", "/v1/reservations/{id}"),
    ("patch", "/v1/reservations/{id}"),
    ("get", "/v1/reservations/{id}/changes"),
    ("get", "/v1/reservations/{id}/changes/{change_id}"),
    ("post", "/v1/reservations/{id}/payment"),
    ("get", "/v1/reservations/{id}/events"),
    ("post", "/v1/reservations/{id}/complete"),
    ("post", "/v1/reservations/{id}/no-show"),
    ("post", "/v1/reservations/{id}/seat"),
    ("get", "/v1/reservations/{id}/table-options"),
    ("get", "/v1/restaurants/{id}/floor"),
    ("post", "/v1/restaurants/{id}/walk-ins"),
    ("post", "/v1/waitlist"),
    ("get", "/v1/waitlist/{id}"),
    ("delete", "/v1/waitlist/{id}"),
    ("get", "/v1/restaurants/{id}/waitlist"),
    ("post", "/v1/guest-sessions"),
    ("get", "/v1/restaurants/{id}/guest-notes"),
    ("post", "/v1/restaurants/{id}/guest-notes"),
    ("delete", "/v1/restaurants/{id}/guest-notes/{note_id}"),
    ("get", "/v1/dead-letters/{queue}"),
    ("get", "/v1/dead-letters/{queue}/{id}"),
    ("post", "/v1/dead-letters/{queue}/replay"),
    ("post", "/v1/dead-letters/{queue}/purge"),
];

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_openapi_document_lists_every_route_and_the_server_serves_each(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let reply = harness.request(Method::GET, "/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = reply.body;
    assert_eq!(document["info"]["title"], "maitred");
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());

    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| ["get", "post", "put", "delete", "patch"].contains(&key.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(
        documented.difference(&expected).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not in the contract"
    );
    assert_eq!(
        expected.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in the contract but not documented"
    );

    // Every documented operation reaches a handler: whatever it answers (401, 404 for an
    // unknown id, 422 for an empty body…), it is not the router's "no such route" or 405.
    for (method, path) in &documented {
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    Uuid::new_v4().to_string()
                } else {
                    segment.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method: Method = method.to_uppercase().parse().unwrap();
        let reply = harness.request(method.clone(), &concrete, None).await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_ne!(reply.body["detail"], "no such route", "{method} {path}");
    }
    // And a route outside the contract is not served.
    let unknown = harness.request(Method::GET, "/v1/nothing-here", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["detail"], "no such route");

    harness.finish().await;
}

/// Every status the server's layers can answer is in the document, with the Problem schema it
/// points at: 408 and 503 (with Retry-After) everywhere, 413 and 415 on routes with a JSON body,
/// 429 on booking and on the staff routes.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_document_describes_the_layers_answers_and_their_problem_schema(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let document = harness
        .request(Method::GET, "/openapi.json", None)
        .await
        .body;
    let problem = &document["components"]["schemas"]["Problem"];
    assert_eq!(problem["type"], "object", "{problem}");
    for field in ["type", "title", "status", "detail"] {
        assert!(problem["properties"][field].is_object(), "Problem.{field}");
    }
    let responses = &document["components"]["responses"];
    for name in ["TooManyRequests", "Unavailable"] {
        assert!(
            responses[name]["headers"]["Retry-After"].is_object(),
            "{name}"
        );
    }
    let operation = |method: &str, path: &str| document["paths"][path][method]["responses"].clone();
    let refers = |responses: &Value, status: &str, name: &str| {
        responses[status]["$ref"] == format!("#/components/responses/{name}")
    };

    let booking = operation("post", "/v1/reservations");
    for (status, name) in [
        ("408", "RequestTimeout"),
        ("413", "PayloadTooLarge"),
        ("415", "UnsupportedMediaType"),
        ("429", "TooManyRequests"),
        ("503", "Unavailable"),
    ] {
        assert!(
            refers(&booking, status, name),
            "POST /v1/reservations {status}"
        );
    }
    // Staff routes are rate limited; reading a restaurant is not, and has no body.
    let staff = operation("put", "/v1/restaurants/{id}");
    assert!(refers(&staff, "429", "TooManyRequests"));
    let dead_letters = operation("get", "/v1/dead-letters/{queue}");
    assert!(refers(&dead_letters, "429", "TooManyRequests"));
    let public = operation("get", "/v1/restaurants/{id}");
    assert!(refers(&public, "408", "RequestTimeout"));
    assert!(refers(&public, "503", "Unavailable"));
    for status in ["413", "415", "429"] {
        assert!(
            public[status].is_null(),
            "GET /v1/restaurants/{{id}} {status}"
        );
    }

    // Every problem response anywhere refers to a schema the document defines.
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let reference = reference.split('"').next().unwrap();
        let mut target = &document;
        for segment in reference.trim_start_matches("#/").split('/') {
            target = &target[segment];
        }
        assert!(!target.is_null(), "{reference} is not defined");
    }

    // A header parameter is text or absent, never null: `If-Match: null` is not an ETag.
    let delete = &document["paths"]["/v1/restaurants/{id}"]["delete"]["parameters"];
    let if_match = delete
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "If-Match")
        .unwrap();
    assert_eq!(if_match["schema"]["type"], "string", "{if_match}");
    assert!(if_match["schema"]["pattern"].is_string(), "{if_match}");
    harness.finish().await;
}

/// `/docs` renders with no network: the page and every script and stylesheet it references
/// are served by this process.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_docs_page_and_its_assets_are_served_locally(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (status, content_type, page) = get_raw(&harness, "/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("/openapi.json"), "{page}");

    let assets: Vec<&str> = ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| page.split(attribute).skip(1))
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(assets.len() >= 2, "{page}");
    for asset in assets {
        assert!(
            asset.starts_with('/') && !asset.starts_with("//"),
            "{asset} is not served by this process"
        );
        let (status, content_type, body) = get_raw(&harness, asset).await;
        assert_eq!(status, StatusCode::OK, "{asset}");
        assert!(
            content_type.starts_with("text/javascript") || content_type.starts_with("text/css"),
            "{asset}: {content_type}"
        );
        assert!(body.len() > 10_000, "{asset} is {} bytes", body.len());
    }
    harness.finish().await;
}

async fn get_raw(harness: &Harness, path: &str) -> (StatusCode, String, Vec<u8>) {
    let request = Request::builder().uri(path).body(Body::empty()).unwrap();
    let response = harness.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, body.to_vec())
}

/// JSON has one number type, and the document's `integer` (JSON Schema's) includes `2.0`:
/// schemathesis sent `"minAgeSeconds": 436063.0` and got 422. An integral float is that integer;
/// a fraction is still refused, naming the field.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn an_integer_written_with_a_zero_fraction_is_that_integer(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 10).await;
    let mut body = booking_body(restaurant, table_type);
    body["partySize"] = serde_json::json!(2.0);
    body["tableCount"] = serde_json::json!(1.0);
    let reply = harness.post_reservation(&body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["partySize"], 2, "{}", reply.body);

    let mut body = booking_body(restaurant, table_type);
    body["partySize"] = serde_json::json!(2.5);
    let reply = harness.post_reservation(&body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(detail.contains("partySize"), "{detail}");
    harness.finish().await;
}
