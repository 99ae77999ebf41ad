//! The waitlist against the real PostgreSQL, RabbitMQ and workers: diners wait in join order
//! for a sold-out slot, freed tables are offered by the restaurant's serial worker to the
//! first that fit, never more offers than tables, and a lapsed offer goes to the next.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const SETTLED: Duration = Duration::from_secs(60);

fn join_body(restaurant: Uuid, date: &str, party_size: i64, n: usize) -> Value {
    json!({
        "waitlistId": Uuid::new_v4(),
        "restaurantId": restaurant,
        "date": date,
        "from": "19:00",
        "until": "19:30",
        "partySize": party_size,
        "guest": { "name": format!("Waiter {n}"), "email": format!("waiter-{n}@example.com") },
    })
}

/// A paid booking of `table_type` at 19:00 on `date`, confirmed.
async fn book(
    harness: &Harness,
    restaurant: Uuid,
    table_type: Uuid,
    date: &str,
    party: i64,
) -> Uuid {
    let mut body = booking_body(restaurant, table_type);
    body["date"] = json!(date);
    body["partySize"] = json!(party);
    body["guest"]["email"] = json!(format!("{}@example.com", Uuid::new_v4().simple()));
    body["paymentToken"] = json!("tok_visa");
    let reply = harness.post_reservation(&body).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    let id = id_of(&reply.body);
    harness.wait_status(id, "confirmed", SETTLED).await;
    id
}

async fn join(harness: &Harness, body: &Value) -> Reply {
    harness
        .request(Method::POST, "/v1/waitlist", Some(body))
        .await
}

/// (waitlist id, status, offer) of the restaurant's entries, in join order.
async fn entries(harness: &Harness, restaurant: Uuid) -> Vec<(Uuid, String, Option<Uuid>)> {
    sqlx::query_as(
        "SELECT id, status, offer_id FROM waitlist_entry WHERE restaurant_id = $1
         ORDER BY created_at, id",
    )
    .bind(restaurant)
    .fetch_all(harness.store.pool())
    .await
    .unwrap()
}

async fn wait_entries(
    harness: &Harness,
    restaurant: Uuid,
    done: impl Fn(&[(Uuid, String, Option<Uuid>)]) -> bool,
) -> Vec<(Uuid, String, Option<Uuid>)> {
    let deadline = tokio::time::Instant::now() + SETTLED;
    loop {
        let now = entries(harness, restaurant).await;
        if done(&now) {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the waitlist did not get there: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn fifty_waiting_and_five_cancellations_give_five_offers_in_join_order(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "",
        (48.85, 2.35),
        &[("4-top", 1, 4, 2500, 5), ("6-top", 5, 6, 4000, 1)],
        |r| r.overbooking_pct = 0,
    )
    .await;
    let (four_top, six_top) = (types[0], types[1]);
    harness.start_worker();
    let date = (chrono::Utc::now().date_naive() + chrono::Duration::days(7)).to_string();
    // 19:00 is sold out: the five 4-tops and the 6-top.
    let mut bookings = Vec::new();
    for _ in 0..5 {
        bookings.push(book(&harness, restaurant, four_top, &date, 2).await);
    }
    book(&harness, restaurant, six_top, &date, 6).await;

    // Fifty diners wait; every fifth is a party of six, whom no freed 4-top fits.
    let mut joined = Vec::new();
    for n in 0..50 {
        let party = if n % 5 == 0 { 6 } else { 2 };
        let reply = join(&harness, &join_body(restaurant, &date, party, n)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["status"], "waiting");
        assert_eq!(reply.body["place"], n + 1);
        joined.push(id_of_entry(&reply.body));
    }

    // Five cancellations, one after the other.
    for booking in &bookings {
        let reply = harness
            .staff_request(Method::DELETE, &format!("/v1/reservations/{booking}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    }
    for booking in &bookings {
        harness.wait_status(*booking, "refunded", SETTLED).await;
    }
    let now = wait_entries(&harness, restaurant, |e| {
        e.iter()
            .filter(|(_, status, _)| status == "offered")
            .count()
            == 5
    })
    .await;
    // Exactly the first five parties of two, in join order.
    let offered: Vec<Uuid> = now
        .iter()
        .filter(|(_, status, _)| status == "offered")
        .map(|(id, _, _)| *id)
        .collect();
    let expected: Vec<Uuid> = [1, 2, 3, 4, 6].iter().map(|n| joined[*n]).collect();
    assert_eq!(offered, expected);
    assert!(now
        .iter()
        .filter(|(id, _, _)| !expected.contains(id))
        .all(|(_, status, offer)| status == "waiting" && offer.is_none()));
    // Each offer is a held 4-top at 19:00 for its diner; nothing is oversold.
    for (entry, _, offer) in now.iter().filter(|(_, s, _)| s == "offered") {
        let offer = offer.unwrap();
        let reservation = harness.get(&format!("/v1/reservations/{offer}")).await;
        assert_eq!(reservation.body["status"], "held", "{}", reservation.body);
        assert_eq!(reservation.body["tableTypeId"], json!(four_top));
        assert_eq!(reservation.body["time"], "19:00");
        let n = joined.iter().position(|id| id == entry).unwrap();
        assert_eq!(
            reservation.body["guest"]["email"],
            format!("waiter-{n}@example.com")
        );
    }
    let reserved = reserved_per_slot(&harness.store, four_top).await;
    assert!(reserved.iter().all(|n| *n <= 5), "{reserved:?}");
    let offers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reservation WHERE restaurant_id = $1 AND status = 'held'",
    )
    .bind(restaurant)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(offers, 5, "never more offers than freed tables");

    // The next in line (the seventh, a party of two) is now first, the parties of six kept
    // their places.
    let seventh = harness.get(&format!("/v1/waitlist/{}", joined[7])).await;
    assert_eq!(seventh.body["status"], "waiting");
    assert_eq!(seventh.body["place"], 3, "behind waiters 0 and 5");
    harness.finish().await;
}

fn id_of_entry(body: &Value) -> Uuid {
    body["waitlistId"].as_str().unwrap().parse().unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_lapsed_offer_moves_to_the_next_in_line_who_pays_it(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 1).await;
    harness.hold_for = Duration::from_secs(3);
    harness.start_worker();
    let date = (chrono::Utc::now().date_naive() + chrono::Duration::days(7)).to_string();
    let booking = book(&harness, restaurant, table_type, &date, 2).await;
    let first = join(&harness, &join_body(restaurant, &date, 2, 1)).await;
    let second = join(&harness, &join_body(restaurant, &date, 2, 2)).await;
    let (first, first_token) = (
        id_of_entry(&first.body),
        first.body["accessToken"].as_str().unwrap().to_owned(),
    );
    let (second, second_token) = (
        id_of_entry(&second.body),
        second.body["accessToken"].as_str().unwrap().to_owned(),
    );

    harness
        .staff_request(Method::DELETE, &format!("/v1/reservations/{booking}"), None)
        .await;
    // The first is offered the table; nobody pays, and the hold lapses.
    let now = wait_entries(&harness, restaurant, |e| e[0].1 == "offered").await;
    let first_offer = now[0].2.unwrap();
    assert_eq!(now[1].1, "waiting");
    let seen = harness
        .send_as(
            Method::GET,
            &format!("/v1/waitlist/{first}"),
            None,
            Some(&first_token),
        )
        .await;
    assert_eq!(seen.body["offerReservationId"], json!(first_offer));
    assert!(seen.body["offerAccessToken"].is_string());
    // Another diner's token opens nothing.
    let other = harness
        .send_as(
            Method::GET,
            &format!("/v1/waitlist/{first}"),
            None,
            Some(&second_token),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    harness.wait_status(first_offer, "expired", SETTLED).await;

    // The table goes to the second, who pays it with the offer's own token.
    let now = wait_entries(&harness, restaurant, |e| e[1].1 == "offered").await;
    assert_eq!(now[0].1, "lapsed");
    let second_offer = now[1].2.unwrap();
    assert_ne!(second_offer, first_offer);
    // The second diner is not in a hurry: their hold lasts long enough for a busy machine
    // (its timer finds it not over, and leaves it).
    sqlx::query(
        "UPDATE reservation SET hold_expires_at = now() + interval '10 minutes' WHERE id = $1",
    )
    .bind(second_offer)
    .execute(harness.store.pool())
    .await
    .unwrap();
    let seen = harness
        .send_as(
            Method::GET,
            &format!("/v1/waitlist/{second}"),
            None,
            Some(&second_token),
        )
        .await;
    let offer_token = seen.body["offerAccessToken"].as_str().unwrap().to_owned();
    let paid = harness
        .send_as(
            Method::POST,
            &format!("/v1/reservations/{second_offer}/payment"),
            Some(&json!({ "paymentToken": "tok_visa" })),
            Some(&offer_token),
        )
        .await;
    assert!(paid.status.is_success(), "{}", paid.body);
    harness
        .wait_status(second_offer, "confirmed", SETTLED)
        .await;
    let now = wait_entries(&harness, restaurant, |e| e[1].1 == "booked").await;
    assert_eq!(
        now[0].1, "lapsed",
        "a lapsed diner is not offered the table again"
    );
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );
    // The offer was emailed and announced in the audit log like any hold.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM notification WHERE reservation_id = $1")
            .bind(second_offer)
            .fetch_all(harness.store.pool())
            .await
            .unwrap();
    assert!(kinds.contains(&"waitlist_offer".to_owned()), "{kinds:?}");
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn joining_is_idempotent_one_place_per_diner_and_leaving_ends_it(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, _) = seed_restaurant(&harness.store, 1).await;
    let date = (chrono::Utc::now().date_naive() + chrono::Duration::days(7)).to_string();
    let body = join_body(restaurant, &date, 2, 1);
    let first = join(&harness, &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = join(&harness, &body).await;
    assert_eq!(again.status, StatusCode::OK, "a retry finds the same entry");
    assert_eq!(again.body["waitlistId"], first.body["waitlistId"]);
    // The same diner again under another id: one place each.
    let second_place = join(&harness, &join_body(restaurant, &date, 2, 1)).await;
    assert_eq!(
        second_place.status,
        StatusCode::CONFLICT,
        "{}",
        second_place.body
    );
    // The same id for something else.
    let mut changed = body.clone();
    changed["partySize"] = json!(3);
    assert_eq!(join(&harness, &changed).await.status, StatusCode::CONFLICT);
    // Bad requests name their field and record nothing.
    for (field, value, named) in [
        ("partySize", json!(9), "partySize"),
        ("until", json!("18:00"), "until"),
        ("date", json!("2020-01-01"), "date"),
        ("from", json!("7pm"), "from"),
    ] {
        let mut bad = join_body(restaurant, &date, 2, 9);
        bad[field] = value;
        let reply = join(&harness, &bad).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert!(
            reply.body["detail"].as_str().unwrap().starts_with(named),
            "{}",
            reply.body
        );
    }
    assert_eq!(entries(&harness, restaurant).await.len(), 1);

    let id = id_of_entry(&first.body);
    let token = first.body["accessToken"].as_str().unwrap();
    let left = harness
        .send_as(
            Method::DELETE,
            &format!("/v1/waitlist/{id}"),
            None,
            Some(token),
        )
        .await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    assert_eq!(left.body["status"], "left");
    let twice = harness
        .send_as(
            Method::DELETE,
            &format!("/v1/waitlist/{id}"),
            None,
            Some(token),
        )
        .await;
    assert_eq!(twice.status, StatusCode::OK);
    // Staff see the day's line, the left entry included.
    let line = harness
        .get(&format!(
            "/v1/restaurants/{restaurant}/waitlist?date={date}"
        ))
        .await;
    assert_eq!(line.body[0]["status"], "left");
    // Left, the diner may join again.
    assert_eq!(
        join(&harness, &join_body(restaurant, &date, 2, 1))
            .await
            .status,
        StatusCode::CREATED
    );
    harness.finish().await;
}
