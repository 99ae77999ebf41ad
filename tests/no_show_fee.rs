//! No-show fees against the real servers: a restaurant that takes no prepayment keeps the
//! diner's card on file and charges its fee per guest once when the party does not come (or,
//! if it says so, when they cancel inside the refund window), through the gateway with the
//! payments' idempotency.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{Duration as Span, Utc};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const SETTLED: Duration = Duration::from_secs(60);
const FEE: i64 = 1500;

async fn restaurant(harness: &Harness, late_cancellation_fee: bool) -> (Uuid, Uuid) {
    restaurant_in(harness, late_cancellation_fee, None).await
}

/// [`restaurant`], in `zone` if given.
async fn restaurant_in(
    harness: &Harness,
    late_cancellation_fee: bool,
    zone: Option<&str>,
) -> (Uuid, Uuid) {
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "",
        (48.85, 2.35),
        &[("4-top", 1, 4, 2500, 4)],
        |r| {
            r.prepayment_required = false;
            r.no_show_fee_cents = FEE;
            r.late_cancellation_fee = late_cancellation_fee;
            if let Some(zone) = zone {
                r.time_zone = zone.to_owned();
            }
        },
    )
    .await;
    (restaurant, types[0])
}

/// A booking of three at `date` `time` with `token` as the card on file.
fn body(
    restaurant: Uuid,
    table_type: Uuid,
    at: chrono::NaiveDateTime,
    token: Option<&str>,
) -> Value {
    let mut body = booking_body(restaurant, table_type);
    body["partySize"] = json!(3);
    body["date"] = json!(at.date().to_string());
    body["time"] = json!(at.format("%H:%M").to_string());
    body["guest"]["email"] = json!(format!("{}@example.com", Uuid::new_v4().simple()));
    if let Some(token) = token {
        body["paymentToken"] = json!(token);
    }
    body
}

/// (kind, status, amount) of the reservation's payments.
async fn payments(harness: &Harness, id: Uuid) -> Vec<(String, String, i64)> {
    sqlx::query_as("SELECT kind, status, amount_cents FROM payment WHERE reservation_id = $1")
        .bind(id)
        .fetch_all(harness.store.pool())
        .await
        .unwrap()
}

async fn wait_fee(harness: &Harness, id: Uuid, status: &str) {
    let deadline = tokio::time::Instant::now() + SETTLED;
    loop {
        let now = payments(harness, id).await;
        if now.iter().any(|(kind, s, _)| kind == "fee" && s == status) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "payments: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn next_week_at_seven() -> chrono::NaiveDateTime {
    (Utc::now().date_naive() + Span::days(7))
        .and_hms_opt(19, 0, 0)
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_no_show_is_charged_the_fee_once_on_the_card_on_file(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = restaurant(&harness, false).await;
    harness.start_worker();

    // Without a card there is no booking: the page and the API say why.
    let reply = harness
        .post_reservation(&body(restaurant, table_type, next_week_at_seven(), None))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(detail.starts_with("paymentToken"), "{detail}");
    assert!(detail.contains("15.00 EUR per guest"), "{detail}");

    let reply = harness
        .post_reservation(&body(
            restaurant,
            table_type,
            next_week_at_seven(),
            Some("tok_visa"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let id = id_of(&reply.body);
    harness.wait_status(id, "confirmed", SETTLED).await;
    assert_eq!(
        payments(&harness, id).await,
        [],
        "nothing is charged when booking"
    );

    // The evening came (the booking is moved to have started an hour ago) and they did not.
    sqlx::query(
        "UPDATE reservation SET service_date = (now() - interval '1 hour')::date,
             start_time = date_trunc('hour', now() - interval '1 hour')::time
         WHERE id = $1",
    )
    .bind(id)
    .execute(harness.store.pool())
    .await
    .unwrap();
    let no_show = format!("/v1/reservations/{id}/no-show");
    let (first, second) = tokio::join!(
        harness.staff_request(Method::POST, &no_show, None),
        harness.staff_request(Method::POST, &no_show, None),
    );
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} {}",
        first.body,
        second.body
    );
    wait_fee(&harness, id, "captured").await;
    assert_eq!(
        payments(&harness, id).await,
        [("fee".to_owned(), "captured".to_owned(), 3 * FEE)]
    );
    let charged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM simulated_gateway_operation g JOIN payment p ON p.id = g.idempotency_key
         WHERE p.reservation_id = $1",
    )
    .bind(id)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(charged, 1, "one charge at the gateway");
    // The diner is told, and the audit log says so.
    let deadline = tokio::time::Instant::now() + SETTLED;
    loop {
        let kinds: Vec<String> =
            sqlx::query_scalar("SELECT kind FROM notification WHERE reservation_id = $1")
                .bind(id)
                .fetch_all(harness.store.pool())
                .await
                .unwrap();
        if kinds.contains(&"fee_charged".to_owned()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{kinds:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = harness.get(&format!("/v1/reservations/{id}/events")).await;
    let reasons: Vec<&str> = events
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"fee_charged"), "{reasons:?}");
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_late_cancellation_carries_the_fee_only_where_the_restaurant_says_so(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    // Restaurants where it is now between 17:00 and 18:00, so that 19:00 today is inside the
    // 24-hour refund window and within opening hours, whatever the hour of the machine.
    let zone = five_pm_zone();
    let (strict, strict_type) = restaurant_in(&harness, true, Some(&zone)).await;
    let (lenient, lenient_type) = restaurant_in(&harness, false, Some(&zone)).await;
    harness.start_worker();
    let local: chrono_tz::Tz = zone.parse().unwrap();
    let soon = Utc::now()
        .with_timezone(&local)
        .date_naive()
        .and_hms_opt(19, 0, 0)
        .unwrap();

    let mut booked = Vec::new();
    for (restaurant, table_type, at) in [
        (strict, strict_type, soon),
        (lenient, lenient_type, soon),
        (strict, strict_type, next_week_at_seven()),
    ] {
        let reply = harness
            .post_reservation(&body(restaurant, table_type, at, Some("tok_visa")))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        let id = id_of(&reply.body);
        let token = reply.body["accessToken"].as_str().unwrap().to_owned();
        harness.wait_status(id, "confirmed", SETTLED).await;
        let cancel = harness
            .send_as(
                Method::DELETE,
                &format!("/v1/reservations/{id}"),
                None,
                Some(&token),
            )
            .await;
        assert_eq!(cancel.status, StatusCode::ACCEPTED, "{}", cancel.body);
        harness.wait_status(id, "canceled", SETTLED).await;
        booked.push(id);
    }
    wait_fee(&harness, booked[0], "captured").await;
    assert_eq!(
        payments(&harness, booked[0]).await,
        [("fee".to_owned(), "captured".to_owned(), 3 * FEE)]
    );
    // The lenient restaurant charges nothing late; nobody is charged a week ahead.
    assert_eq!(payments(&harness, booked[1]).await, []);
    assert_eq!(payments(&harness, booked[2]).await, []);
    harness.finish().await;
}
