//! A table's CRUD round trip with ETags.

use super::*;

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_table_is_added_listed_replaced_and_removed_with_etags(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    let type_path = format!("/v1/restaurants/{restaurant}/table-types/{table_type}");
    let tables = format!("{type_path}/tables");

    // Paged in id order.
    let first = harness.get(&format!("{tables}?limit=3")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let second = harness
        .get(&format!("{tables}?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    let too_big = harness.get(&format!("{tables}?limit=1000")).await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_big.body["field"], "limit");

    let created = staff_send(
        &harness,
        Method::POST,
        &tables,
        Some(&json!({"label": "X1", "area": "terrace"})),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = uuid_of(&created.body["id"]);
    let path = format!("{tables}/{id}");
    assert_eq!(created.headers["location"], path.as_str());
    assert_eq!(etag(&created), "\"1\"");
    assert_eq!(created.body["active"], true);
    assert_eq!(harness.get(&type_path).await.body["tables"], 5);
    let duplicate = staff_send(
        &harness,
        Method::POST,
        &tables,
        Some(&json!({"label": "X1"})),
        None,
    )
    .await;
    assert!(problem(&duplicate, StatusCode::CONFLICT)
        .await
        .contains("X1"));

    let shown = harness.get(&path).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(etag(&shown), "\"1\"");
    assert_eq!(shown.body["area"], "terrace");

    let out_of_service = json!({"label": "X1", "area": "terrace", "active": false});
    let without = staff_send(&harness, Method::PUT, &path, Some(&out_of_service), None).await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED);
    let stale = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&out_of_service),
        Some("\"9\""),
    )
    .await;
    assert!(problem(&stale, StatusCode::PRECONDITION_FAILED)
        .await
        .contains("\"1\""));
    assert_eq!(harness.get(&path).await.body["active"], true);
    let taken = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&json!({"label": "T1", "area": "", "active": true})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);

    let replaced = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&out_of_service),
        Some("\"1\""),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(etag(&replaced), "\"2\"");
    assert_eq!(replaced.body["active"], false);
    assert_eq!(harness.get(&type_path).await.body["tables"], 4);
    // Taking a table out of service queued an inventory sync for the restaurant's lane (the
    // relay may already have published it).
    let stale_delete = staff_send(&harness, Method::DELETE, &path, None, Some("\"1\"")).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let deleted = staff_send(&harness, Method::DELETE, &path, None, Some("\"2\"")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    let again = staff_send(&harness, Method::DELETE, &path, None, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    harness.finish().await;
}
