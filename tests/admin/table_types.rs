//! A table type's CRUD round trip with ETags, its initial tables included.

use super::*;

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_table_type_is_created_with_tables_replaced_and_deleted_with_etags(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let restaurant = create_restaurant(&harness, "Chez Ada").await;
    let types = format!("/v1/restaurants/{restaurant}/table-types");

    let mut body = table_type_body("Window 4");
    body["tables"] = json!(3);
    body["labelPrefix"] = json!("W");
    let created = staff_send(&harness, Method::POST, &types, Some(&body), None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = uuid_of(&created.body["id"]);
    let path = format!("{types}/{id}");
    assert_eq!(created.headers["location"], path.as_str());
    assert_eq!(etag(&created), "\"1\"");
    assert_eq!(created.body["tables"], 3);
    assert_eq!(created.body["currency"], "EUR");
    let tables = harness.get(&format!("{path}/tables")).await;
    let mut labels: Vec<&str> = tables.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    labels.sort_unstable();
    assert_eq!(labels, ["W1", "W2", "W3"]);

    // Names are unique among a restaurant's live types.
    let duplicate = staff_send(
        &harness,
        Method::POST,
        &types,
        Some(&table_type_body(" Window 4 ")),
        None,
    )
    .await;
    assert!(problem(&duplicate, StatusCode::CONFLICT)
        .await
        .contains("Window 4"));
    let booth = staff_send(
        &harness,
        Method::POST,
        &types,
        Some(&table_type_body("Booth 6")),
        None,
    )
    .await;
    assert_eq!(booth.status, StatusCode::CREATED);
    assert_eq!(booth.body["tables"], 0);

    // Two staff members naming a type at the same moment: one wins, the other gets a 409
    // (from the check or from the unique index), never a 500.
    let terrace = table_type_body("Terrace 2");
    let (a, b) = tokio::join!(
        staff_send(&harness, Method::POST, &types, Some(&terrace), None),
        staff_send(&harness, Method::POST, &types, Some(&terrace), None),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);

    // The check cannot see a name another transaction is about to commit; the unique index
    // still refuses it, and that is a 409 too.
    let mut other_writer = harness.store.pool().begin().await.unwrap();
    sqlx::query(
        "INSERT INTO table_type (id, restaurant_id, name, seats_min, seats_max,
             base_price_cents, currency)
         VALUES ($1, $2, 'Race', 1, 2, 0, 'EUR')",
    )
    .bind(Uuid::new_v4())
    .bind(restaurant)
    .execute(&mut *other_writer)
    .await
    .unwrap();
    let race = table_type_body("Race");
    let (raced, ()) = tokio::join!(
        staff_send(&harness, Method::POST, &types, Some(&race), None),
        async {
            // Commit only once the staff's insert waits on our row's lock, so the race is
            // the one under test whatever the machine's speed.
            wait_for_a_lock_wait(&harness).await;
            other_writer.commit().await.unwrap();
        },
    );
    assert!(problem(&raced, StatusCode::CONFLICT)
        .await
        .contains("already has this name"));

    // The public detail carries the ETag.
    let detail = harness.request(Method::GET, &path, None).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(etag(&detail), "\"1\"");

    let mut changed = table_type_body("Window 4 deluxe");
    changed["basePriceCents"] = json!(4500);
    changed["currency"] = json!("chf");
    let without = staff_send(&harness, Method::PUT, &path, Some(&changed), None).await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED);
    let stale = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"3\"")).await;
    assert!(problem(&stale, StatusCode::PRECONDITION_FAILED)
        .await
        .contains("\"1\""));
    assert_eq!(harness.get(&path).await.body["name"], "Window 4");
    let mut with_tables = changed.clone();
    with_tables["tables"] = json!(5);
    let refused = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&with_tables),
        Some("\"1\""),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "tables");
    let taken = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&table_type_body("Booth 6")),
        Some("\"1\""),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);

    let replaced = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"1\"")).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(etag(&replaced), "\"2\"");
    assert_eq!(replaced.body["name"], "Window 4 deluxe");
    assert_eq!(replaced.body["basePriceCents"], 4500);
    assert_eq!(replaced.body["currency"], "CHF");
    assert_eq!(
        replaced.body["tables"], 3,
        "replacing a type keeps its tables"
    );
    assert_eq!(etag(&harness.get(&path).await), "\"2\"");

    // Deleted: gone from the restaurant's page, and its name is free again.
    let deleted = staff_send(&harness, Method::DELETE, &path, None, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        harness.get(&format!("{path}/tables")).await.status,
        StatusCode::NOT_FOUND
    );
    let page = harness.get(&format!("/v1/restaurants/{restaurant}")).await;
    let names: Vec<&str> = page.body["tableTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Booth 6", "Race", "Terrace 2"]);
    let reused = staff_send(
        &harness,
        Method::POST,
        &types,
        Some(&table_type_body("Window 4 deluxe")),
        None,
    )
    .await;
    assert_eq!(reused.status, StatusCode::CREATED, "{}", reused.body);

    // A type is only found under its own restaurant.
    let other = create_restaurant(&harness, "Elsewhere").await;
    let booth_id = uuid_of(&booth.body["id"]);
    let wrong = staff_send(
        &harness,
        Method::PUT,
        &format!("/v1/restaurants/{other}/table-types/{booth_id}"),
        Some(&table_type_body("Stolen")),
        Some("*"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    harness.finish().await;
}

/// Waits until some session of the test's database is waiting for a lock.
async fn wait_for_a_lock_wait(harness: &Harness) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the insert never waited on the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
