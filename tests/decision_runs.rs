//! Runs of decisions and intake's sold-out view, against real PostgreSQL and RabbitMQ.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use booking::{Decision, DecisionPolicy, RejectReason, Status};
use chrono::Utc;
use common::*;
use sqlx::PgPool;
use uuid::Uuid;

const DECIDE_TIMEOUT: Duration = Duration::from_secs(60);

fn policy() -> DecisionPolicy {
    DecisionPolicy {
        hold_for: Duration::from_secs(600),
        gateway: "simulated".into(),
        pricing: booking::PricingSteps::default(),
    }
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_run_decides_in_queue_order_and_each_reservation_once(pool: PgPool) {
    let harness = Harness::new(pool).await;
    // Two tables with 10% overbooking: floor(2 × 110 / 100) = 2 may be reserved.
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(
            harness
                .record_without_publishing(&booking_body(restaurant, table_type))
                .await,
        );
    }
    let [a, b, c, d] = ids[..] else {
        unreachable!()
    };
    let missing = Uuid::new_v4();

    let run = harness
        .store
        .decide_batch(&[a, b, a, missing, c, d], &policy())
        .await
        .unwrap();
    let held = Decision::Held {
        price_cents: 2500,
        currency: "EUR".into(),
        charging: false,
    };
    assert_eq!(
        run.decisions,
        vec![
            held.clone(),
            held,
            Decision::AlreadyDecided(Status::Held),
            Decision::Missing,
            Decision::Rejected(RejectReason::NoAvailability),
            Decision::Rejected(RejectReason::NoAvailability),
        ]
    );
    // 90 minutes on a 15-minute grid: 6 slots, each with both tables taken, and nothing left.
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![2; 6]
    );
    assert_eq!(run.slots_left.len(), 6);
    assert!(run
        .slots_left
        .iter()
        .all(|s| s.left == 0 && s.restaurant_id == restaurant && s.table_type_id == table_type));

    // Redelivered: nothing changes.
    let again = harness
        .store
        .decide_batch(&[c, a], &policy())
        .await
        .unwrap();
    assert_eq!(
        again.decisions,
        vec![
            Decision::AlreadyDecided(Status::Rejected),
            Decision::AlreadyDecided(Status::Held),
        ]
    );
    let left_pending: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT reservation_id, count(*) FROM reservation_event
         WHERE from_status = 'pending' GROUP BY reservation_id ORDER BY reservation_id",
    )
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(left_pending.len(), 4);
    assert!(
        left_pending.iter().all(|(_, n)| *n == 1),
        "{left_pending:?}"
    );
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![2; 6]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_sold_out_slot_is_turned_away_at_intake_until_a_table_comes_back(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    harness.follow_inventory().await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();
    let slot = (Utc::now().date_naive() + chrono::Duration::days(7))
        .and_hms_opt(19, 0, 0)
        .unwrap();

    let bodies: Vec<_> = (0..3)
        .map(|_| booking_body(restaurant, table_type))
        .collect();
    for body in &bodies {
        assert_eq!(
            harness.post_reservation(body).await.status,
            StatusCode::ACCEPTED
        );
    }
    let ids: Vec<Uuid> = bodies.iter().map(id_of).collect();
    harness.wait_decided(&ids, DECIDE_TIMEOUT).await;
    wait_until(|| harness.sold_out.tables_left(restaurant, table_type, slot) == Some(0)).await;

    // Sold out: answered at once, and nothing recorded.
    let late = booking_body(restaurant, table_type);
    let reply = harness.post_reservation(&late).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
    assert_eq!(reply.body["type"], api::error::SOLD_OUT_TYPE);
    assert!(harness
        .store
        .reservation(id_of(&late))
        .await
        .unwrap()
        .is_none());

    // A retry of a booking that got a table still finds it, sold out or not.
    let retry = harness.post_reservation(&bodies[0]).await;
    assert_eq!(retry.status, StatusCode::OK, "{:?}", retry.body);
    assert_eq!(retry.body["status"], "held");

    // The restaurant cancels one: the worker tells intake to forget, and the table sells again.
    let cancel = harness
        .staff_request(
            Method::DELETE,
            &format!("/v1/reservations/{}", ids[0]),
            None,
        )
        .await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED, "{:?}", cancel.body);
    harness
        .wait_status(ids[0], "canceled", DECIDE_TIMEOUT)
        .await;
    wait_until(|| {
        harness
            .sold_out
            .tables_left(restaurant, table_type, slot)
            .is_none()
    })
    .await;
    let again = harness.post_reservation(&late).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{:?}", again.body);
    harness
        .wait_status(id_of(&late), "held", DECIDE_TIMEOUT)
        .await;
    harness.finish().await;
}

async fn wait_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
