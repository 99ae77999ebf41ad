//! Dynamic pricing and availability against real servers: the price follows occupancy and is
//! frozen on the reservation when the worker decides it, and the availability page agrees with
//! what the worker decided after a burst.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{NaiveTime, Utc};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const DECIDE_TIMEOUT: Duration = Duration::from_secs(30);

fn date() -> String {
    (Utc::now().date_naive() + chrono::Duration::days(7)).to_string()
}

async fn availability(harness: &Harness, restaurant: Uuid, party: u32) -> Value {
    let reply = harness
        .request(
            Method::GET,
            &format!(
                "/v1/restaurants/{restaurant}/availability?date={}&partySize={party}",
                date()
            ),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["cache-control"], "public, max-age=5");
    reply.body
}

/// The one table type's (tables left, price) at `time`.
fn offer_at(availability: &Value, time: &str) -> (i64, i64) {
    let slot = availability["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|slot| slot["time"] == time)
        .unwrap_or_else(|| panic!("no slot {time} in {availability}"));
    let offer = &slot["tableTypes"][0];
    (
        offer["tablesLeft"].as_i64().unwrap(),
        offer["priceCents"].as_i64().unwrap(),
    )
}

async fn price_of(harness: &Harness, id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT price_cents FROM reservation WHERE id = $1")
        .bind(id)
        .fetch_one(harness.store.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_price_follows_occupancy_and_is_frozen_on_the_reservation(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    // 10 tables at 25.00 with 10% overbooking: 11 can be sold. Default steps: over 70%
    // occupancy ×1.2, over 90% ×1.5.
    let (restaurant, table_type) = seed_restaurant(&harness.store, 10).await;
    harness.start_worker();

    let mut booked = Vec::new();
    for sold in 0..11 {
        if sold == 8 {
            // 8 of 10 sold: the page already shows the surcharge the next diner will pay.
            let page = availability(&harness, restaurant, 2).await;
            assert_eq!(offer_at(&page, "19:00"), (3, 3000));
        }
        let reply = harness
            .post_reservation(&booking_body(restaurant, table_type))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        let id = id_of(&reply.body);
        harness.wait_status(id, "held", DECIDE_TIMEOUT).await;
        booked.push(id);
    }
    let mut prices = Vec::new();
    for id in &booked {
        prices.push(price_of(&harness, *id).await);
    }
    // Sold before each booking: 0..=7 (at most 70%) base, 8 and 9 (80%, 90%) ×1.2, 10 ×1.5.
    assert_eq!(
        prices,
        [2500, 2500, 2500, 2500, 2500, 2500, 2500, 2500, 3000, 3000, 3750]
    );
    let page = availability(&harness, restaurant, 2).await;
    assert_eq!(offer_at(&page, "19:00").0, 0, "sold out under the limit");

    // A new rate changes what the next diner pays, never what was decided.
    let today = Utc::now().date_naive();
    harness
        .store
        .set_rates(table_type, today, today + chrono::Duration::days(30), 4000)
        .await
        .unwrap();
    assert_eq!(price_of(&harness, booked[0]).await, 2500);
    let reply = harness
        .staff_request(
            Method::GET,
            &format!("/v1/reservations/{}", booked[9]),
            None,
        )
        .await;
    assert_eq!(reply.body["priceCents"], 3000);
    let page = availability(&harness, restaurant, 2).await;
    // 08:00 shares no slot with the 19:00 bookings: the new rate at 0% occupancy.
    assert_eq!(offer_at(&page, "08:00"), (11, 4000));

    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn availability_agrees_with_the_decisions_after_a_burst(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 8).await;
    let limit = 8 * 110 / 100;
    harness.start_worker();

    // 60 concurrent diners over three overlapping start times: more than the slots can hold.
    let starts = ["19:00", "19:30", "20:00"];
    let bodies: Vec<Value> = (0..60)
        .map(|n| {
            let mut body = booking_body(restaurant, table_type);
            body["time"] = json!(starts[n % starts.len()]);
            body
        })
        .collect();
    let replies =
        futures_util::future::join_all(bodies.iter().map(|body| harness.post_reservation(body)))
            .await;
    let ids: Vec<Uuid> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
            id_of(&reply.body)
        })
        .collect();
    harness.wait_decided(&ids, DECIDE_TIMEOUT).await;

    // What the worker decided: the held reservations, by start time.
    let held: Vec<(NaiveTime, i32)> = sqlx::query_as(
        "SELECT start_time, duration_minutes FROM reservation \
         WHERE restaurant_id = $1 AND status = 'held'",
    )
    .bind(restaurant)
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert!(!held.is_empty() && held.len() < 60, "{} held", held.len());
    // Tables in use per 15-minute slot, from the decisions.
    let mut in_use: HashMap<NaiveTime, i64> = HashMap::new();
    for (start, minutes) in &held {
        for quarter in 0..(minutes / 15) {
            *in_use
                .entry(*start + chrono::Duration::minutes(i64::from(quarter) * 15))
                .or_default() += 1;
        }
    }
    assert!(in_use.values().all(|&n| n <= limit), "oversold: {in_use:?}");

    let page = availability(&harness, restaurant, 2).await;
    for slot in page["slots"].as_array().unwrap() {
        let time = NaiveTime::parse_from_str(slot["time"].as_str().unwrap(), "%H:%M").unwrap();
        let busiest = (0..6)
            .map(|quarter| {
                in_use
                    .get(&(time + chrono::Duration::minutes(quarter * 15)))
                    .copied()
                    .unwrap_or(0)
            })
            .max()
            .unwrap();
        assert_eq!(
            slot["tableTypes"][0]["tablesLeft"].as_i64().unwrap(),
            limit - busiest,
            "at {time}"
        );
    }

    // And the worker agrees with the page: a sold-out start is refused, an open one is held.
    let sold_out = starts
        .iter()
        .find(|start| offer_at(&page, start).0 == 0)
        .expect("the burst sold out some start time");
    let mut late = booking_body(restaurant, table_type);
    late["time"] = json!(sold_out);
    let late = id_of(&harness.post_reservation(&late).await.body);
    let mut early = booking_body(restaurant, table_type);
    early["time"] = json!("12:00");
    let early = id_of(&harness.post_reservation(&early).await.body);
    harness.wait_status(late, "rejected", DECIDE_TIMEOUT).await;
    harness.wait_status(early, "held", DECIDE_TIMEOUT).await;

    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn availability_names_what_is_wrong_with_a_query(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, _) = seed_restaurant(&harness.store, 2).await;
    let path = |query: &str| format!("/v1/restaurants/{restaurant}/availability?{query}");
    let yesterday = (Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let far = (Utc::now().date_naive() + chrono::Duration::days(400)).to_string();
    for (query, status, field) in [
        (
            format!("date={}&partySize=0", date()),
            422,
            Some("partySize"),
        ),
        ("date=24/12/2026&partySize=2".to_owned(), 422, Some("date")),
        (format!("date={yesterday}&partySize=2"), 422, Some("date")),
        (format!("date={far}&partySize=2"), 422, Some("date")),
        ("partySize=2".to_owned(), 400, None),
        (
            format!("date={}&partySize=2&tableTypeId={}", date(), Uuid::new_v4()),
            404,
            None,
        ),
    ] {
        let reply = harness.request(Method::GET, &path(&query), None).await;
        assert_eq!(reply.status.as_u16(), status, "{query}: {}", reply.body);
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        if let Some(field) = field {
            assert_eq!(reply.body["field"], field, "{query}");
        }
    }
    let missing = harness
        .request(
            Method::GET,
            &format!(
                "/v1/restaurants/{}/availability?date={}&partySize=2",
                Uuid::new_v4(),
                date()
            ),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    harness.finish().await;
}
