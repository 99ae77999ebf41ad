//! Pacing and turn times: the most covers a restaurant's kitchen starts per slot, enforced by the
//! serial decision and the database's ledger, and sittings by party size, through the JSON API
//! against real PostgreSQL and RabbitMQ.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const DECIDED: Duration = Duration::from_secs(60);

async fn set_rules(harness: &Harness, restaurant: Uuid, rules: &Value) -> Reply {
    harness
        .staff_request(
            Method::PUT,
            &format!("/v1/restaurants/{restaurant}/booking-rules"),
            Some(rules),
        )
        .await
}

/// The start times the availability offers a party on the booking body's date.
async fn offered_times(harness: &Harness, restaurant: Uuid, date: &str, party: i32) -> Vec<String> {
    let reply = harness
        .get(&format!(
            "/v1/restaurants/{restaurant}/availability?date={date}&partySize={party}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|slot| slot["time"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_burst_for_one_slot_starts_exactly_the_paced_covers_whatever_the_tables_left(
    pool: PgPool,
) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 100).await;
    let rules = json!({
        "pacing": [{ "from": "18:00", "until": "22:00", "maxCovers": 16 }],
        "turnTimes": [],
        "modificationCutoffMinutes": 60,
        "maxModifications": 2,
    });
    let set = set_rules(&harness, restaurant, &rules).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["bookingRules"]["pacing"][0]["maxCovers"], 16);
    harness.start_worker();

    // 100 parties of two for 19:00, all at once: 200 covers asked of a kitchen that starts 16.
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let app = harness.app.clone();
        let body = booking_body(restaurant, table_type);
        requests.spawn(async move {
            let request = axum::http::Request::post("/v1/reservations")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            send(&app, request).await
        });
    }
    let mut ids = Vec::new();
    while let Some(reply) = requests.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        ids.push(id_of(&reply.body));
    }
    harness.wait_decided(&ids, DECIDED).await;

    let counts: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT status, reason, count(*) FROM reservation GROUP BY status, reason ORDER BY status",
    )
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(
        counts,
        vec![
            ("held".into(), None, 8),
            ("rejected".into(), Some("pacing_limit".into()), 92),
        ]
    );
    let started: i32 =
        sqlx::query_scalar("SELECT covers_started FROM slot_covers WHERE restaurant_id = $1")
            .bind(restaurant)
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(started, 16);
    // 92 tables of 100 were still free: pacing, not inventory, turned them away.
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![8; 6]
    );

    // The availability no longer offers 19:00 to anyone, but still 19:15.
    let date = booking_body(restaurant, table_type)["date"]
        .as_str()
        .unwrap()
        .to_owned();
    let times = offered_times(&harness, restaurant, &date, 1).await;
    assert!(!times.contains(&"19:00".to_owned()), "{times:?}");
    assert!(times.contains(&"19:15".to_owned()), "{times:?}");

    // A cancellation gives its covers back to the kitchen, and 19:00 is offered again.
    let first = sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM reservation WHERE status = 'held' ORDER BY id LIMIT 1",
    )
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    let canceled = harness
        .staff_request(Method::DELETE, &format!("/v1/reservations/{first}"), None)
        .await;
    assert!(canceled.status.is_success(), "{}", canceled.body);
    harness.wait_status(first, "canceled", DECIDED).await;
    let started: i32 =
        sqlx::query_scalar("SELECT covers_started FROM slot_covers WHERE restaurant_id = $1")
            .bind(restaurant)
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(started, 14);
    let times = offered_times(&harness, restaurant, &date, 2).await;
    assert!(times.contains(&"19:00".to_owned()), "{times:?}");
    assert!(!offered_times(&harness, restaurant, &date, 3)
        .await
        .contains(&"19:00".to_owned()));

    // The database refuses a count past the limit, whatever the code does.
    let past = sqlx::query(
        "UPDATE slot_covers SET covers_started = covers_limit + 1 WHERE restaurant_id = $1",
    )
    .bind(restaurant)
    .execute(harness.store.pool())
    .await
    .unwrap_err();
    assert!(
        past.to_string().contains("slot_covers_within_pacing"),
        "{past}"
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_party_sits_for_its_turn_time_and_holds_those_slots(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let six_top = ("6-top", 1, 6, 4000, 4);
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Turns",
        "",
        (48.85, 2.35),
        &[six_top],
        |_| {},
    )
    .await;
    let rules = json!({
        "pacing": [],
        "turnTimes": [{ "partySizeUpTo": 2, "minutes": 60 }, { "partySizeUpTo": 6, "minutes": 120 }],
        "modificationCutoffMinutes": 60,
        "maxModifications": 2,
    });
    assert_eq!(
        set_rules(&harness, restaurant, &rules).await.status,
        StatusCode::OK
    );
    // Turn times that do not grow with the party are named.
    let mut bad = rules.clone();
    bad["turnTimes"] =
        json!([{ "partySizeUpTo": 6, "minutes": 120 }, { "partySizeUpTo": 2, "minutes": 60 }]);
    let refused = set_rules(&harness, restaurant, &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "turnTimes");
    harness.start_worker();

    let mut two = booking_body(restaurant, types[0]);
    two["paymentToken"] = json!("tok_visa");
    let mut six = booking_body(restaurant, types[0]);
    six["partySize"] = json!(6);
    six["paymentToken"] = json!("tok_visa");
    let two_reply = harness.post_reservation(&two).await;
    let six_reply = harness.post_reservation(&six).await;
    assert_eq!(two_reply.body["durationMinutes"], 60, "{}", two_reply.body);
    assert_eq!(six_reply.body["durationMinutes"], 120, "{}", six_reply.body);
    // A duration other than the party's turn time is refused, naming it.
    let mut longer = booking_body(restaurant, types[0]);
    longer["durationMinutes"] = json!(90);
    let refused = harness.post_reservation(&longer).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "durationMinutes");

    for reply in [&two_reply, &six_reply] {
        harness
            .wait_status(id_of(&reply.body), "confirmed", DECIDED)
            .await;
    }
    // 19:00-20:00 holds four 15-minute slots for two; 19:00-21:00 eight for six.
    assert_eq!(
        reserved_per_slot(&harness.store, types[0]).await,
        vec![2, 2, 2, 2, 1, 1, 1, 1]
    );
    let slots: Vec<i32> = sqlx::query_scalar(
        "SELECT cardinality(reserved_slots) FROM reservation ORDER BY party_size",
    )
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(slots, vec![4, 8]);
    harness.finish().await;
}
