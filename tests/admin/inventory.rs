//! Catalog changes that move inventory: tables out of service, overbooking and slot length,
//! all through the restaurant's serial lane.

use super::*;

/// The total inventory of every slot row of a table type, in slot order.
async fn inventory_per_slot(harness: &Harness, table_type_id: Uuid) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT total_inventory FROM inventory WHERE table_type_id = $1 ORDER BY slot_start",
    )
    .bind(table_type_id)
    .fetch_all(harness.store.pool())
    .await
    .unwrap()
}

async fn wait_inventory(harness: &Harness, table_type_id: Uuid, expected: i32) {
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let rows = inventory_per_slot(harness, table_type_id).await;
        if !rows.is_empty() && rows.iter().all(|&n| n == expected) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "inventory is {rows:?}, not all {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Takes a table out of service through the API, as a staff member would: GET, then PUT with
/// its ETag.
async fn deactivate(harness: &Harness, tables_path: &str, table: &Value) {
    let path = format!("{tables_path}/{}", table["id"].as_str().unwrap());
    let current = harness.get(&path).await;
    let body = json!({
        "label": current.body["label"],
        "area": current.body["area"],
        "active": false,
    });
    let reply = staff_send(
        harness,
        Method::PUT,
        &path,
        Some(&body),
        Some(&etag(&current)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn taking_tables_out_of_service_lowers_future_inventory_but_never_below_bookings(
    pool: PgPool,
) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    harness.start_worker();
    let body = booking_body(restaurant, table_type);
    let booked = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(booked, "held", SETTLE_TIMEOUT).await;
    assert_eq!(
        inventory_per_slot(&harness, table_type).await,
        [4; 6],
        "a 90-minute stay holds six 15-minute slots of 4 tables"
    );

    let tables_path = format!("/v1/restaurants/{restaurant}/table-types/{table_type}/tables");
    let tables = harness.get(&tables_path).await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    for table in &tables[..2] {
        deactivate(&harness, &tables_path, table).await;
    }
    wait_inventory(&harness, table_type, 2).await;

    // With every table out of service, the booked slots keep the one table their guest holds.
    for table in &tables[2..] {
        deactivate(&harness, &tables_path, table).await;
    }
    wait_inventory(&harness, table_type, 1).await;
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        [1; 6],
        "the booking keeps its slots"
    );
    assert_eq!(
        harness
            .get(&format!(
                "/v1/restaurants/{restaurant}/table-types/{table_type}"
            ))
            .await
            .body["tables"],
        0
    );
    // And they sell nothing more.
    let mut another = booking_body(restaurant, table_type);
    another["date"] = body["date"].clone();
    let refused = id_of(&harness.post_reservation(&another).await.body);
    harness
        .wait_status(refused, "rejected", SETTLE_TIMEOUT)
        .await;
    let reason: Option<String> = sqlx::query_scalar("SELECT reason FROM reservation WHERE id = $1")
        .bind(refused)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("no_availability"));
    assert_eq!(inventory_per_slot(&harness, table_type).await, [1; 6]);
    assert_eq!(status_of(&harness, booked).await, "held");
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_slot_booked_past_its_new_limit_sells_nothing_more(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 10).await;
    harness.start_worker();
    let body = booking_body(restaurant, table_type);
    for _ in 0..10 {
        let mut one = booking_body(restaurant, table_type);
        one["date"] = body["date"].clone();
        let id = id_of(&harness.post_reservation(&one).await.body);
        harness.wait_status(id, "held", SETTLE_TIMEOUT).await;
    }
    // Half the tables go: 5 in service allow floor(5 × 1.1) = 5, and 10 are booked. Those
    // guests keep their tables, and the limit becomes exactly 10: nothing more sells (an
    // inventory of 10 with 10% overbooking would still sell an 11th).
    let tables_path = format!("/v1/restaurants/{restaurant}/table-types/{table_type}/tables");
    let tables = harness.get(&tables_path).await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    for table in &tables[..5] {
        deactivate(&harness, &tables_path, table).await;
    }
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let limits: Vec<i32> = sqlx::query_scalar(
            "SELECT total_inventory * (100 + overbooking_pct) / 100 FROM inventory \
             WHERE table_type_id = $1 ORDER BY slot_start",
        )
        .bind(table_type)
        .fetch_all(harness.store.pool())
        .await
        .unwrap();
        if limits == [10; 6] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "limits stuck at {limits:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut another = booking_body(restaurant, table_type);
    another["date"] = body["date"].clone();
    let refused = id_of(&harness.post_reservation(&another).await.body);
    harness
        .wait_status(refused, "rejected", SETTLE_TIMEOUT)
        .await;
    assert_eq!(reserved_per_slot(&harness.store, table_type).await, [10; 6]);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn overbooking_goes_through_the_lane_and_slot_length_waits_for_upcoming_bookings(
    pool: PgPool,
) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    harness.start_worker();
    let booked = id_of(
        &harness
            .post_reservation(&booking_body(restaurant, table_type))
            .await
            .body,
    );
    harness.wait_status(booked, "held", SETTLE_TIMEOUT).await;

    let path = format!("/v1/restaurants/{restaurant}");
    let mut body = full_restaurant_body("Test Bistro");
    body["timeZone"] = json!("UTC");
    body["openingHours"] = json!((1..=7)
        .map(|weekday| json!({"weekday": weekday, "opensAt": "00:00", "closesAt": "00:00"}))
        .collect::<Vec<_>>());
    body["slotMinutes"] = json!(30);
    let refused = staff_send(&harness, Method::PUT, &path, Some(&body), Some("\"1\"")).await;
    let detail = problem(&refused, StatusCode::CONFLICT).await;
    assert!(detail.contains("slotMinutes"), "{detail}");
    assert_eq!(harness.get(&path).await.body["slotMinutes"], 15);

    body["slotMinutes"] = json!(15);
    body["overbookingPct"] = json!(50);
    let replaced = staff_send(&harness, Method::PUT, &path, Some(&body), Some("\"1\"")).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let pcts: Vec<i32> =
            sqlx::query_scalar("SELECT overbooking_pct FROM inventory WHERE table_type_id = $1")
                .bind(table_type)
                .fetch_all(harness.store.pool())
                .await
                .unwrap();
        if !pcts.is_empty() && pcts.iter().all(|&p| p == 50) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "inventory overbooking is {pcts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Once nothing upcoming is booked, the slot length may change.
    let canceled = harness
        .staff_request(Method::DELETE, &format!("/v1/reservations/{booked}"), None)
        .await;
    assert_eq!(canceled.status, StatusCode::ACCEPTED);
    harness
        .wait_status(booked, "canceled", SETTLE_TIMEOUT)
        .await;
    body["slotMinutes"] = json!(30);
    let replaced = staff_send(&harness, Method::PUT, &path, Some(&body), Some("\"2\"")).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["slotMinutes"], 30);
    harness.finish().await;
}
