//! Rates set in bulk, listed, cleared, and priced by the worker.

use super::*;

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn rates_are_set_in_bulk_listed_cleared_and_priced_by_the_worker(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    let rates = format!("/v1/restaurants/{restaurant}/table-types/{table_type}/rates");

    let set = staff_send(
        &harness,
        Method::PUT,
        &rates,
        Some(&json!({"from": "2027-01-01", "to": "2027-01-31", "priceCents": 4000})),
        None,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["days"], 31);
    // Setting a part of the range again changes those dates only.
    let again = staff_send(
        &harness,
        Method::PUT,
        &rates,
        Some(&json!({"from": "2027-01-10", "to": "2027-01-12", "priceCents": 5500})),
        None,
    )
    .await;
    assert_eq!(again.body["days"], 3);
    let listed = harness
        .get(&format!("{rates}?from=2027-01-09&to=2027-01-13"))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body,
        json!([
            {"date": "2027-01-09", "priceCents": 4000},
            {"date": "2027-01-10", "priceCents": 5500},
            {"date": "2027-01-11", "priceCents": 5500},
            {"date": "2027-01-12", "priceCents": 5500},
            {"date": "2027-01-13", "priceCents": 4000},
        ])
    );
    let cleared = staff_send(
        &harness,
        Method::DELETE,
        &format!("{rates}?from=2027-01-02&to=2027-01-31"),
        None,
        None,
    )
    .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    let left = harness
        .get(&format!("{rates}?from=2027-01-01&to=2027-12-31"))
        .await;
    assert_eq!(
        left.body,
        json!([{"date": "2027-01-01", "priceCents": 4000}])
    );

    for (body, field) in [
        (
            json!({"from": "2027-01-01", "to": "2027-01-31", "priceCents": -1}),
            "priceCents",
        ),
        (
            json!({"from": "2027-01-31", "to": "2027-01-01", "priceCents": 1}),
            "to",
        ),
        (
            json!({"from": "2027-01-01", "to": "2029-01-01", "priceCents": 1}),
            "to",
        ),
        (
            json!({"from": "01/01/2027", "to": "2027-01-02", "priceCents": 1}),
            "from",
        ),
    ] {
        let refused = staff_send(&harness, Method::PUT, &rates, Some(&body), None).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(refused.body["field"], field, "{body}");
    }
    let missing_range = harness.get(&rates).await;
    assert_eq!(missing_range.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing_range.body["field"], "from");
    let unknown_type = harness
        .get(&format!(
            "/v1/restaurants/{restaurant}/table-types/{}/rates?from=2027-01-01&to=2027-01-02",
            Uuid::new_v4()
        ))
        .await;
    assert_eq!(unknown_type.status, StatusCode::NOT_FOUND);

    // The worker prices a booking at the day's rate (nothing booked yet: no surcharge).
    let body = booking_body(restaurant, table_type);
    let date = body["date"].as_str().unwrap().to_owned();
    let set = staff_send(
        &harness,
        Method::PUT,
        &rates,
        Some(&json!({"from": date, "to": date, "priceCents": 9999})),
        None,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK);
    harness.start_worker();
    let id = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(id, "held", SETTLE_TIMEOUT).await;
    let price: Option<i64> =
        sqlx::query_scalar("SELECT price_cents FROM reservation WHERE id = $1")
            .bind(id)
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(price, Some(9999));
    harness.finish().await;
}
