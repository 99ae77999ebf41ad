//! The OpenAPI document matches the server: it lists exactly the API's routes, and the server
//! answers every operation it lists (no route falls through to "no such route").
//!
//! Routes are registered through utoipa-axum, so a route cannot be served undescribed unless it
//! bypasses `routes!`; the list below is the API's contract, kept by hand on purpose so that a
//! route appearing or disappearing is a visible change.

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::*;
use sqlx::PgPool;
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
    ("get", "/v1/restaurants/{id}/availability"),
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
    ("post", "/v1/reservations/{id}/payment"),
    ("get", "/v1/reservations/{id}/events"),
    ("post", "/v1/reservations/{id}/complete"),
    ("post", "/v1/reservations/{id}/no-show"),
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

    // The reading page.
    let docs = harness.request(Method::GET, "/docs", None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    harness.finish().await;
}
