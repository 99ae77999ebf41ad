//! Deleting what guests have booked: only with force, and their payments are refunded.

use super::*;

async fn book_and_pay(harness: &Harness, restaurant: Uuid, table_type: Uuid) -> Uuid {
    let mut body = booking_body(restaurant, table_type);
    body["paymentToken"] = json!("tok_visa");
    let id = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;
    id
}

async fn payments_of(harness: &Harness, id: Uuid) -> Vec<(String, String)> {
    sqlx::query_as("SELECT kind, status FROM payment WHERE reservation_id = $1 ORDER BY created_at")
        .bind(id)
        .fetch_all(harness.store.pool())
        .await
        .unwrap()
}

async fn last_reason(harness: &Harness, id: Uuid, status: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT reason FROM reservation_event WHERE reservation_id = $1 AND to_status = $2",
    )
    .bind(id)
    .bind(status)
    .fetch_one(harness.store.pool())
    .await
    .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn deleting_a_booked_restaurant_needs_force_and_refunds_its_guests(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();
    let paid = book_and_pay(&harness, restaurant, table_type).await;

    let path = format!("/v1/restaurants/{restaurant}");
    let refused = harness.staff_request(Method::DELETE, &path, None).await;
    let detail = problem(&refused, StatusCode::CONFLICT).await;
    assert!(detail.contains("1 upcoming"), "{detail}");
    assert!(detail.contains("force=true"), "{detail}");
    assert_eq!(harness.get(&path).await.status, StatusCode::OK);
    assert_eq!(status_of(&harness, paid).await, "confirmed");

    let forced = harness
        .staff_request(Method::DELETE, &format!("{path}?force=true"), None)
        .await;
    assert_eq!(forced.status, StatusCode::NO_CONTENT, "{}", forced.body);
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        harness
            .request(
                Method::GET,
                &format!("{path}/table-types/{table_type}"),
                None
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    harness.wait_status(paid, "refunded", SETTLE_TIMEOUT).await;
    assert_eq!(
        payments_of(&harness, paid).await,
        [
            ("charge".to_owned(), "captured".to_owned()),
            ("refund".to_owned(), "refunded".to_owned())
        ]
    );
    assert_eq!(
        last_reason(&harness, paid, "canceled").await.as_deref(),
        Some("canceled_by_restaurant")
    );
    assert!(reserved_per_slot(&harness.store, table_type)
        .await
        .iter()
        .all(|&n| n == 0));
    // The guest still sees the reservation; new bookings are refused up front.
    assert_eq!(
        harness.get(&format!("/v1/reservations/{paid}")).await.body["status"],
        "refunded"
    );
    let late = harness
        .post_reservation(&booking_body(restaurant, table_type))
        .await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(late.body["field"], "restaurantId");
    assert_eq!(
        harness
            .staff_request(Method::DELETE, &path, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn deleting_a_booked_table_type_needs_force_and_leaves_the_others(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    let booth = staff_send(
        &harness,
        Method::POST,
        &format!("/v1/restaurants/{restaurant}/table-types"),
        Some(&json!({"name": "Booth 6", "seatsMin": 1, "seatsMax": 6,
                     "basePriceCents": 6000, "currency": "EUR", "tables": 2})),
        None,
    )
    .await;
    assert_eq!(booth.status, StatusCode::CREATED);
    let booth = uuid_of(&booth.body["id"]);
    harness.start_worker();
    let upcoming = book_and_pay(&harness, restaurant, table_type).await;
    // A reservation that is over does not block anything and is left alone.
    let past = book_and_pay(&harness, restaurant, table_type).await;
    sqlx::query("UPDATE reservation SET service_date = service_date - 30 WHERE id = $1")
        .bind(past)
        .execute(harness.store.pool())
        .await
        .unwrap();

    let path = format!("/v1/restaurants/{restaurant}/table-types/{table_type}");
    let refused = harness.staff_request(Method::DELETE, &path, None).await;
    let detail = problem(&refused, StatusCode::CONFLICT).await;
    assert!(detail.contains("1 upcoming"), "{detail}");
    assert!(detail.contains("force=true"), "{detail}");
    let stale = staff_send(
        &harness,
        Method::DELETE,
        &format!("{path}?force=true"),
        None,
        Some("\"9\""),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(harness.get(&path).await.status, StatusCode::OK);

    let forced = staff_send(
        &harness,
        Method::DELETE,
        &format!("{path}?force=true"),
        None,
        Some("\"1\""),
    )
    .await;
    assert_eq!(forced.status, StatusCode::NO_CONTENT, "{}", forced.body);
    harness
        .wait_status(upcoming, "refunded", SETTLE_TIMEOUT)
        .await;
    assert_eq!(
        last_reason(&harness, upcoming, "canceled").await.as_deref(),
        Some("canceled_by_restaurant")
    );
    assert_eq!(status_of(&harness, past).await, "confirmed");

    // The restaurant and its other type live on.
    let page = harness.get(&format!("/v1/restaurants/{restaurant}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let types: Vec<&str> = page.body["tableTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Booth 6"]);
    let gone = harness
        .post_reservation(&booking_body(restaurant, table_type))
        .await;
    assert_eq!(gone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(gone.body["field"], "tableTypeId");
    let booth_booking = harness
        .post_reservation(&booking_body(restaurant, booth))
        .await;
    assert_eq!(
        booth_booking.status,
        StatusCode::ACCEPTED,
        "{}",
        booth_booking.body
    );
    harness.finish().await;
}
