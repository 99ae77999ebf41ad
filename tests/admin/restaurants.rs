//! A restaurant's CRUD round trip with ETags.

use super::*;

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_restaurant_is_created_read_replaced_and_deleted_with_etags(pool: PgPool) {
    let harness = Harness::new(pool).await;

    let created = staff_send(
        &harness,
        Method::POST,
        "/v1/restaurants",
        Some(&restaurant_body("  Chez Ada  ")),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = uuid_of(&created.body["id"]);
    let path = format!("/v1/restaurants/{id}");
    assert_eq!(created.headers["location"], path.as_str());
    assert_eq!(etag(&created), "\"1\"");
    assert_eq!(created.body["name"], "Chez Ada");
    // The chain's defaults.
    assert_eq!(created.body["slotMinutes"], 15);
    assert_eq!(created.body["overbookingPct"], 10);
    assert_eq!(created.body["refundWindowHours"], 24);
    assert_eq!(created.body["prepaymentRequired"], true);
    assert_eq!(created.body["city"], "");

    // The public page carries the ETag too, and shows the hours across midnight.
    let page = harness.request(Method::GET, &path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(etag(&page), "\"1\"");
    assert_eq!(page.body["openingHours"][0]["closesAt"], "01:00");
    assert_eq!(page.body["tableTypes"], json!([]));

    // A replacement needs If-Match, and the current one.
    let mut changed = full_restaurant_body("Chez Ada et Charles");
    changed["overbookingPct"] = json!(20);
    changed["timeZone"] = json!("America/New_York");
    let without = staff_send(&harness, Method::PUT, &path, Some(&changed), None).await;
    assert!(problem(&without, StatusCode::PRECONDITION_REQUIRED)
        .await
        .contains("If-Match"));
    let stale = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"7\"")).await;
    assert!(problem(&stale, StatusCode::PRECONDITION_FAILED)
        .await
        .contains("\"1\""));
    let weak = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&changed),
        Some("W/\"1\""),
    )
    .await;
    assert_eq!(weak.status, StatusCode::PRECONDITION_FAILED);
    let unchanged = harness.get(&path).await;
    assert_eq!(unchanged.body["name"], "Chez Ada");
    assert_eq!(etag(&unchanged), "\"1\"");

    // A replacement gives every field: a forgotten one is named, not reset to its default.
    let mut partial = changed.clone();
    partial.as_object_mut().unwrap().remove("refundWindowHours");
    let forgotten = staff_send(&harness, Method::PUT, &path, Some(&partial), Some("\"1\"")).await;
    assert_eq!(forgotten.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(forgotten.body["field"], "refundWindowHours");

    let replaced = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"1\"")).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(etag(&replaced), "\"2\"");
    assert_eq!(replaced.body["name"], "Chez Ada et Charles");
    assert_eq!(replaced.body["timeZone"], "America/New_York");
    assert_eq!(replaced.body["city"], "Paris");
    assert_eq!(replaced.body["overbookingPct"], 20);
    let page = harness.get(&path).await;
    assert_eq!(etag(&page), "\"2\"");
    assert_eq!(page.body["overbookingPct"], 20);
    // The ETag just read by another writer is now stale.
    let late = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"1\"")).await;
    assert!(problem(&late, StatusCode::PRECONDITION_FAILED)
        .await
        .contains("\"2\""));

    // Two staff members who read the same version and write at once: exactly one wins.
    let mut first = changed.clone();
    first["name"] = json!("First writer");
    let mut second = changed.clone();
    second["name"] = json!("Second writer");
    let (a, b) = tokio::join!(
        staff_send(&harness, Method::PUT, &path, Some(&first), Some("\"2\"")),
        staff_send(&harness, Method::PUT, &path, Some(&second), Some("\"2\"")),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED]);
    let winner = if a.status == StatusCode::OK { &a } else { &b };
    let page = harness.get(&path).await;
    assert_eq!(etag(&page), "\"3\"");
    assert_eq!(page.body["name"], winner.body["name"]);

    // Deleting honours If-Match when given.
    let stale_delete = staff_send(&harness, Method::DELETE, &path, None, Some("\"2\"")).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let deleted = staff_send(&harness, Method::DELETE, &path, None, Some("\"3\"")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    let listed = harness.get("/v1/restaurants").await;
    assert!(listed.body["items"].as_array().unwrap().is_empty());
    let again = staff_send(&harness, Method::DELETE, &path, None, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let put_gone = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("*")).await;
    assert_eq!(put_gone.status, StatusCode::NOT_FOUND);
    harness.finish().await;
}
