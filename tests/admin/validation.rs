//! Bad bodies are refused with a 422 that names the field.

use super::*;

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn bad_bodies_are_refused_naming_the_field(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let restaurant = create_restaurant(&harness, "Chez Ada").await;

    let overlapping = json!([
        {"weekday": 5, "opensAt": "18:00", "closesAt": "02:00"},
        {"weekday": 6, "opensAt": "01:00", "closesAt": "03:00"},
    ]);
    for (key, value, field) in [
        ("timeZone", json!("Europe/Atlantis"), "timeZone"),
        ("latitude", json!(90.5), "latitude"),
        ("longitude", json!(-200), "longitude"),
        ("name", json!("   "), "name"),
        ("openingHours", overlapping, "openingHours"),
        (
            "openingHours",
            json!([{"weekday": 1, "opensAt": "7pm", "closesAt": "23:00"}]),
            "openingHours",
        ),
        (
            "openingHours",
            json!([{"weekday": 0, "opensAt": "18:00", "closesAt": "23:00"}]),
            "openingHours",
        ),
        ("slotMinutes", json!(7), "slotMinutes"),
        ("overbookingPct", json!(150), "overbookingPct"),
        ("bookingHorizonDays", json!(0), "bookingHorizonDays"),
    ] {
        let mut body = restaurant_body("Bad");
        body[key] = value;
        let reply = staff_send(&harness, Method::POST, "/v1/restaurants", Some(&body), None).await;
        problem(&reply, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(reply.body["field"], field, "{key}: {}", reply.body);
    }
    // A missing field is named as well; an unknown one is refused.
    let mut no_zone = restaurant_body("Bad");
    no_zone.as_object_mut().unwrap().remove("timeZone");
    let reply = staff_send(
        &harness,
        Method::POST,
        "/v1/restaurants",
        Some(&no_zone),
        None,
    )
    .await;
    assert_eq!(reply.body["field"], "timeZone");
    let mut unknown = restaurant_body("Bad");
    unknown["stars"] = json!(3);
    let reply = staff_send(
        &harness,
        Method::POST,
        "/v1/restaurants",
        Some(&unknown),
        None,
    )
    .await;
    assert!(reply.status.is_client_error(), "{}", reply.status);
    assert!(reply.body["detail"].as_str().unwrap().contains("stars"));

    let types = format!("/v1/restaurants/{restaurant}/table-types");
    for (key, value, field) in [
        ("currency", json!("EURO"), "currency"),
        ("currency", json!("XYZ"), "currency"),
        ("basePriceCents", json!(-100), "basePriceCents"),
        ("seatsMax", json!(1), "seatsMax"),
        ("seatsMin", json!(0), "seatsMin"),
        ("name", json!("x".repeat(101)), "name"),
        ("tables", json!(-1), "tables"),
    ] {
        let mut body = table_type_body("Bad");
        body[key] = value;
        let reply = staff_send(&harness, Method::POST, &types, Some(&body), None).await;
        problem(&reply, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(reply.body["field"], field, "{key}: {}", reply.body);
    }
    // A malformed If-Match is a bad request, not a silent overwrite.
    let reply = staff_send(
        &harness,
        Method::PUT,
        &format!("/v1/restaurants/{restaurant}"),
        Some(&full_restaurant_body("Chez Ada")),
        Some("1"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // Nothing was created by the refused requests.
    let restaurants: i64 = sqlx::query_scalar("SELECT count(*) FROM restaurant")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    let table_types: i64 = sqlx::query_scalar("SELECT count(*) FROM table_type")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!((restaurants, table_types), (1, 0));
    harness.finish().await;
}
