//! The life of a reservation after its decision, end to end against real PostgreSQL and
//! RabbitMQ: payment, hold expiry, cancellation and refunds, staff marks, the audit log, and
//! signed webhooks delivered to a real HTTP receiver.

#[path = "../common/mod.rs"]
mod common;
mod modification;
mod webhooks;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{Timelike, Utc};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;
use webhooks::{event_type, signature_is_valid, Receiver};

const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

async fn status_of(harness: &Harness, id: Uuid) -> String {
    harness.get(&format!("/v1/reservations/{id}")).await.body["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// (kind, status) of every payment of a reservation, oldest first.
async fn payments_of(harness: &Harness, id: Uuid) -> Vec<(String, String)> {
    sqlx::query_as("SELECT kind, status FROM payment WHERE reservation_id = $1 ORDER BY created_at")
        .bind(id)
        .fetch_all(harness.store.pool())
        .await
        .unwrap()
}

async fn transitions_of(harness: &Harness, id: Uuid) -> Vec<String> {
    let events = harness.get(&format!("/v1/reservations/{id}/events")).await;
    assert_eq!(events.status, StatusCode::OK);
    events
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["toStatus"].as_str().unwrap(),
                e["reason"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

async fn set_prepayment(harness: &Harness, restaurant: Uuid, required: bool) {
    sqlx::query("UPDATE restaurant SET prepayment_required = $2 WHERE id = $1")
        .bind(restaurant)
        .bind(required)
        .execute(harness.store.pool())
        .await
        .unwrap();
}

async fn post(harness: &Harness, body: &Value) -> Uuid {
    let reply = harness.post_reservation(body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    id_of(body)
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_token_pays_in_full_and_the_receiver_hears_held_then_confirmed(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    let receiver = Receiver::start(0).await;
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    body["paymentToken"] = json!("tok_visa");
    body["callbackUrl"] = json!(receiver.url);
    let receipt = harness.post_reservation(&body).await;
    assert_eq!(receipt.status, StatusCode::ACCEPTED, "{}", receipt.body);
    // The receiver verifies with the reservation's own secret, handed over with the receipt.
    let callback_secret = receipt.body["callbackSecret"].as_str().unwrap().to_owned();
    assert_ne!(callback_secret, CALLBACK_SECRET);
    let id = id_of(&body);
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;

    assert_eq!(
        payments_of(&harness, id).await,
        [("charge".to_owned(), "captured".to_owned())]
    );
    let charged: (i64, String) = sqlx::query_as(
        "SELECT amount_cents, gateway_reference FROM payment WHERE reservation_id = $1",
    )
    .bind(id)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(charged.0, 2500, "the full price of one table");
    assert!(charged.1.starts_with("ch_"));

    let seen = receiver.wait_for(|seen| seen.len() >= 2).await;
    let mut types: Vec<String> = seen.iter().map(event_type).collect();
    types.sort();
    assert_eq!(types, ["reservation.confirmed", "reservation.held"]);
    for received in &seen {
        assert!(
            signature_is_valid(&callback_secret, received),
            "{received:?}"
        );
        // Not with the server's master secret: no receiver can forge another's deliveries.
        assert!(!signature_is_valid(CALLBACK_SECRET, received));
        let payload: Value = serde_json::from_str(&received.body).unwrap();
        assert_eq!(payload["data"]["reservationId"], id.to_string());
    }
    assert_ne!(seen[0].id, seen[1].id, "each event has its own webhook-id");
    assert_eq!(
        transitions_of(&harness, id).await,
        ["pending:-", "held:-", "confirmed:payment_captured"]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_restaurant_without_prepayment_confirms_directly(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    set_prepayment(&harness, restaurant, false).await;
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    body["paymentToken"] = json!("tok_visa");
    let id = post(&harness, &body).await;
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;

    assert_eq!(payments_of(&harness, id).await, [], "no charge");
    assert_eq!(
        transitions_of(&harness, id).await,
        ["pending:-", "confirmed:no_prepayment"]
    );
    let reply = harness.get(&format!("/v1/reservations/{id}")).await;
    assert_eq!(reply.body["holdExpiresAt"], Value::Null);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_decline_releases_the_table_for_the_next_diner(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    // One table, and 10% overbooking of one table rounds down to none.
    let (restaurant, table_type) = seed_restaurant(&harness.store, 1).await;
    // The decline takes a while, so the second request is decided while the table is held.
    harness.gateway_latency = Duration::from_millis(1500);
    harness.start_worker();

    let mut declined = booking_body(restaurant, table_type);
    declined["paymentToken"] = json!("tok_chargeDeclined");
    let declined = post(&harness, &declined).await;
    let mut too_early = booking_body(restaurant, table_type);
    too_early["paymentToken"] = json!("tok_visa");
    let too_early = post(&harness, &too_early).await;
    harness
        .wait_status(too_early, "rejected", SETTLE_TIMEOUT)
        .await;
    assert_eq!(status_of(&harness, declined).await, "held");

    harness
        .wait_status(declined, "rejected", SETTLE_TIMEOUT)
        .await;
    let reply = harness.get(&format!("/v1/reservations/{declined}")).await;
    assert_eq!(reply.body["reason"], "payment_declined");
    assert_eq!(
        payments_of(&harness, declined).await,
        [("charge".to_owned(), "declined".to_owned())]
    );
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![0; 6]
    );

    let mut last_table = booking_body(restaurant, table_type);
    last_table["paymentToken"] = json!("tok_visa");
    let last_table = post(&harness, &last_table).await;
    harness
        .wait_status(last_table, "confirmed", SETTLE_TIMEOUT)
        .await;
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn an_unpaid_hold_expires_and_gives_its_table_back(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.hold_for = Duration::from_secs(1);
    harness.start_worker();

    let id = post(&harness, &booking_body(restaurant, table_type)).await;
    harness.wait_status(id, "held", SETTLE_TIMEOUT).await;
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );
    // The delayed message, not a sweep (none runs here), expires it.
    harness.wait_status(id, "expired", SETTLE_TIMEOUT).await;
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![0; 6]
    );
    let late = harness
        .guest_request(
            Method::POST,
            &format!("/v1/reservations/{id}/payment"),
            Some(&json!({"paymentToken": "tok_visa"})),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.body["detail"].as_str().unwrap().contains("expired"));
    assert_eq!(payments_of(&harness, id).await, [], "nothing was charged");
    assert_eq!(
        transitions_of(&harness, id).await,
        ["pending:-", "held:-", "expired:hold_not_paid"]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_payment_that_lands_after_the_expiry_is_refunded(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.hold_for = Duration::from_secs(1);
    // The gateway answers after the hold is over.
    harness.gateway_latency = Duration::from_secs(3);
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    body["paymentToken"] = json!("tok_visa");
    let id = post(&harness, &body).await;
    harness.wait_status(id, "expired", SETTLE_TIMEOUT).await;

    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    while payments_of(&harness, id).await
        != [
            ("charge".to_owned(), "captured".to_owned()),
            ("refund".to_owned(), "refunded".to_owned()),
        ]
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            payments_of(&harness, id).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The refund is money, not a state: the reservation stays expired, its table free.
    harness.wait_status(id, "expired", SETTLE_TIMEOUT).await;
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![0; 6]
    );
    let transitions = transitions_of(&harness, id).await;
    assert!(
        transitions.contains(&"expired:late_payment_refunding".to_owned()),
        "{transitions:?}"
    );
    harness.finish().await;
}

/// A booking for tomorrow-or-later's slot at least `hours_ahead` hours from now (on the
/// 15-minute grid, in the always-open UTC test restaurant).
/// A booking that starts between `earliest` and `latest` hours from now, at the first quarter
/// hour whose stay ends by midnight: the test restaurant's day ends there, so a late-evening
/// run must not ask for a stay past it.
fn booking_in(restaurant: Uuid, table_type: Uuid, earliest: f64, latest: f64) -> Value {
    let last_start = chrono::NaiveTime::from_hms_opt(22, 30, 0).unwrap();
    let now = Utc::now();
    let from = now + chrono::Duration::minutes((earliest * 60.0) as i64);
    let until = now + chrono::Duration::minutes((latest * 60.0) as i64);
    let mut start =
        from.with_minute((from.minute() / 15) * 15).unwrap() + chrono::Duration::minutes(15);
    while start.time() > last_start {
        start += chrono::Duration::minutes(15);
    }
    assert!(
        start <= until,
        "no quarter hour between {from} and {until} fits"
    );
    let mut body = booking_body(restaurant, table_type);
    body["date"] = json!(start.date_naive().to_string());
    body["time"] = json!(start.format("%H:%M").to_string());
    body["paymentToken"] = json!("tok_visa");
    body
}

async fn cancel(harness: &Harness, id: Uuid) -> Reply {
    harness
        .guest_request(Method::DELETE, &format!("/v1/reservations/{id}"), None)
        .await
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn an_early_cancellation_is_refunded_and_canceling_twice_is_canceling_once(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();

    let id = post(&harness, &booking_in(restaurant, table_type, 72.0, 95.0)).await;
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;
    assert_eq!(cancel(&harness, id).await.status, StatusCode::ACCEPTED);
    assert_eq!(cancel(&harness, id).await.status, StatusCode::ACCEPTED);
    harness.wait_status(id, "refunded", SETTLE_TIMEOUT).await;
    // And once more after the fact.
    let again = cancel(&harness, id).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body["status"], "refunded");

    assert_eq!(
        payments_of(&harness, id).await,
        [
            ("charge".to_owned(), "captured".to_owned()),
            ("refund".to_owned(), "refunded".to_owned())
        ]
    );
    let refunds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM simulated_gateway_operation WHERE operation = 'refund'",
    )
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(refunds, 1, "the gateway refunded once");
    assert!(reserved_per_slot(&harness.store, table_type)
        .await
        .iter()
        .all(|&n| n == 0));
    assert_eq!(
        transitions_of(&harness, id).await,
        [
            "pending:-",
            "held:-",
            "confirmed:payment_captured",
            "canceled:canceled_within_refund_window",
            "refunded:refund_completed"
        ]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_late_cancellation_frees_the_table_but_keeps_the_payment(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();

    // Three hours ahead is inside the default 24-hour refund window.
    let id = post(&harness, &booking_in(restaurant, table_type, 3.0, 23.0)).await;
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;
    assert_eq!(cancel(&harness, id).await.status, StatusCode::ACCEPTED);
    // A refund would have been requested in the cancellation's own transaction.
    harness.wait_status(id, "canceled", SETTLE_TIMEOUT).await;
    assert_eq!(
        payments_of(&harness, id).await,
        [("charge".to_owned(), "captured".to_owned())]
    );
    assert_eq!(status_of(&harness, id).await, "canceled");
    assert!(reserved_per_slot(&harness.store, table_type)
        .await
        .iter()
        .all(|&n| n == 0));
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_held_booking_can_be_paid_later_or_canceled(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();

    let paid = post(&harness, &booking_body(restaurant, table_type)).await;
    let dropped = post(&harness, &booking_body(restaurant, table_type)).await;
    harness.wait_status(paid, "held", SETTLE_TIMEOUT).await;
    harness.wait_status(dropped, "held", SETTLE_TIMEOUT).await;

    let path = format!("/v1/reservations/{paid}/payment");
    let pay = json!({"paymentToken": "tok_visa"});
    let reply = harness.guest_request(Method::POST, &path, Some(&pay)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    // The same token again is the same payment; another one is a conflict.
    let again = harness.guest_request(Method::POST, &path, Some(&pay)).await;
    assert!(again.status.is_success(), "{}", again.body);
    let other = json!({"paymentToken": "tok_mastercard"});
    let other = harness
        .guest_request(Method::POST, &path, Some(&other))
        .await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    harness.wait_status(paid, "confirmed", SETTLE_TIMEOUT).await;
    assert_eq!(payments_of(&harness, paid).await.len(), 1);

    assert_eq!(cancel(&harness, dropped).await.status, StatusCode::ACCEPTED);
    harness
        .wait_status(dropped, "canceled", SETTLE_TIMEOUT)
        .await;
    assert_eq!(payments_of(&harness, dropped).await, []);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn staff_complete_and_no_show_and_illegal_transitions_are_409(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    set_prepayment(&harness, restaurant, false).await;
    harness.start_worker();

    let done = post(&harness, &booking_body(restaurant, table_type)).await;
    let absent = post(&harness, &booking_body(restaurant, table_type)).await;
    harness.wait_status(done, "confirmed", SETTLE_TIMEOUT).await;
    harness
        .wait_status(absent, "confirmed", SETTLE_TIMEOUT)
        .await;

    let complete = format!("/v1/reservations/{done}/complete");
    let anonymous = harness.request(Method::POST, &complete, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&harness, done).await, "confirmed");

    let reply = harness.staff_request(Method::POST, &complete, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], "completed");
    let twice = harness.staff_request(Method::POST, &complete, None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.headers["content-type"], "application/problem+json");
    assert!(twice.body["detail"].as_str().unwrap().contains("completed"));
    let cancel_done = cancel(&harness, done).await;
    assert_eq!(cancel_done.status, StatusCode::CONFLICT);

    // A no-show before the booking starts is refused; once it started, it is allowed.
    let no_show = format!("/v1/reservations/{absent}/no-show");
    let early = harness.staff_request(Method::POST, &no_show, None).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    sqlx::query("UPDATE reservation SET service_date = service_date - 8 WHERE id = $1")
        .bind(absent)
        .execute(harness.store.pool())
        .await
        .unwrap();
    let reply = harness.staff_request(Method::POST, &no_show, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], "no_show");

    let events = harness
        .get(&format!("/v1/reservations/{done}/events"))
        .await;
    let last = events.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["fromStatus"], "confirmed");
    assert_eq!(last["toStatus"], "completed");
    // The bootstrap admin token is staff for every restaurant, named "admin".
    assert_eq!(last["actor"], "staff:admin");
    let missing = harness
        .get(&format!("/v1/reservations/{}/events", Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    harness.finish().await;
}

/// The refund window is judged when the cancellation was accepted, not when the queue got to
/// it: a backlog never costs a diner their refund.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_cancellation_accepted_in_time_is_refunded_however_late_it_is_decided(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();
    // A refund window that the booking is inside now but was outside two hours ago, when
    // this cancellation was accepted (and then waited behind a backlog): the whole hours to
    // its start, plus one. (Any time of day finds a start in a 23-hour range.)
    let body = booking_in(restaurant, table_type, 24.0, 47.0);
    let start = chrono::NaiveDateTime::parse_from_str(
        &format!(
            "{} {}",
            body["date"].as_str().unwrap(),
            body["time"].as_str().unwrap()
        ),
        "%Y-%m-%d %H:%M",
    )
    .unwrap()
    .and_utc();
    let window = (start - Utc::now()).num_hours() + 1;
    sqlx::query("UPDATE restaurant SET refund_window_hours = $2 WHERE id = $1")
        .bind(restaurant)
        .bind(i32::try_from(window).unwrap())
        .execute(harness.store.pool())
        .await
        .unwrap();
    let id = post(&harness, &body).await;
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;
    let cancel = booking::messages::Envelope {
        restaurant_id: restaurant,
        command: booking::messages::Command::Cancel {
            reservation_id: id,
            actor: "guest".into(),
            full_refund: false,
            requested_at: Some(Utc::now() - chrono::Duration::hours(2)),
        },
    };
    outbox::publish_command(
        &harness.publisher,
        &cancel,
        &Uuid::new_v4().to_string(),
        None,
        Duration::ZERO,
    )
    .await
    .unwrap();
    harness.wait_status(id, "refunded", SETTLE_TIMEOUT).await;
    let events = sqlx::query_scalar::<_, Option<String>>(
        "SELECT reason FROM reservation_event WHERE reservation_id = $1 AND to_status = 'canceled'",
    )
    .bind(id)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(events.as_deref(), Some("canceled_within_refund_window"));
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn redelivered_payment_messages_never_charge_twice(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    body["paymentToken"] = json!("tok_visa");
    let id = post(&harness, &body).await;
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;
    let payment_id: Uuid = sqlx::query_scalar("SELECT id FROM payment WHERE reservation_id = $1")
        .bind(id)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    let events_before = transitions_of(&harness, id).await;

    // The charge job and its result command, delivered again as a broker would after a crash.
    let job = booking::messages::PaymentJob::Charge { payment_id };
    let settle = booking::messages::Envelope {
        restaurant_id: restaurant,
        command: booking::messages::Command::Settle {
            reservation_id: id,
            payment_id,
        },
    };
    for _ in 0..2 {
        harness
            .publisher
            .publish(rabbitmq::Outgoing {
                routing_key: rabbitmq::Topology::PAYMENTS_KEY,
                body: &booking::messages::to_json(&job),
                properties: rabbitmq::properties(&Uuid::new_v4().to_string(), "charge"),
                delay: Duration::ZERO,
            })
            .await
            .unwrap();
        outbox::publish_command(
            &harness.publisher,
            &settle,
            &Uuid::new_v4().to_string(),
            None,
            Duration::ZERO,
        )
        .await
        .unwrap();
    }
    let partition = harness
        .topology
        .partition_queue(harness.topology.partition_of(restaurant));
    harness
        .wait_settled(&[harness.topology.payments_queue(), partition])
        .await;

    let charges: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM simulated_gateway_operation WHERE operation = 'charge'",
    )
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(charges, 1, "the gateway charged once");
    assert_eq!(
        payments_of(&harness, id).await,
        [("charge".to_owned(), "captured".to_owned())]
    );
    assert_eq!(status_of(&harness, id).await, "confirmed");
    assert_eq!(transitions_of(&harness, id).await, events_before);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_sweep_expires_a_hold_whose_timer_was_lost(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    // The timer is ten minutes away: only the sweep can expire this hold in time.
    harness.start_worker();
    let id = post(&harness, &booking_body(restaurant, table_type)).await;
    harness.wait_status(id, "held", SETTLE_TIMEOUT).await;
    sqlx::query(
        "UPDATE reservation SET hold_expires_at = now() - interval '1 minute' WHERE id = $1",
    )
    .bind(id)
    .execute(harness.store.pool())
    .await
    .unwrap();
    harness.start_sweeper();
    harness.wait_status(id, "expired", SETTLE_TIMEOUT).await;
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![0; 6]
    );
    harness.finish().await;
}
