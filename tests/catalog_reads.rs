//! The public catalog reads and the reservation poll, over HTTP against a real database.

mod common;

use axum::http::StatusCode;
use common::*;
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn restaurants_are_listed_in_pages_and_shown_with_their_table_types(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(seed_restaurant(&harness.store, 4).await);
    }
    ids.sort();

    let first = harness.get("/v1/restaurants?limit=2").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let second = harness
        .get(&format!("/v1/restaurants?limit=2&cursor={cursor}"))
        .await;
    let last = second.body["items"].as_array().unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["id"], ids[2].0.to_string());
    assert!(second.body.get("nextCursor").is_none());

    let bad = harness.get("/v1/restaurants?limit=0").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["detail"].as_str().unwrap().contains("limit"));

    let (restaurant, table_type) = ids[0];
    let page = harness.get(&format!("/v1/restaurants/{restaurant}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["timeZone"], "UTC");
    assert_eq!(page.body["openingHours"].as_array().unwrap().len(), 7);
    assert_eq!(page.body["tableTypes"][0]["tables"], 4);

    let detail = harness
        .get(&format!(
            "/v1/restaurants/{restaurant}/table-types/{table_type}"
        ))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["seatsMax"], 4);
    assert_eq!(detail.body["basePriceCents"], 2500);

    // Another restaurant's type is not found under this one.
    let (_, other_type) = ids[1];
    let wrong = harness
        .get(&format!(
            "/v1/restaurants/{restaurant}/table-types/{other_type}"
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong.headers["content-type"], "application/problem+json");
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn unknown_and_malformed_ids_are_problems(pool: PgPool) {
    let harness = Harness::new(pool).await;
    for (path, status) in [
        (
            format!("/v1/reservations/{}", Uuid::new_v4()),
            StatusCode::NOT_FOUND,
        ),
        (
            "/v1/reservations/not-a-uuid".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/v1/restaurants/{}", Uuid::new_v4()),
            StatusCode::NOT_FOUND,
        ),
        ("/v1/nowhere".to_owned(), StatusCode::NOT_FOUND),
    ] {
        let reply = harness.get(&path).await;
        assert_eq!(reply.status, status, "{path}");
        assert_eq!(
            reply.headers["content-type"], "application/problem+json",
            "{path}"
        );
        assert!(reply.body["detail"].is_string(), "{path}");
    }
    let wrong_method = harness
        .request(axum::http::Method::DELETE, "/v1/restaurants", None)
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    harness.finish().await;
}
