//! RabbitMQ restarted in the middle of a load: nothing accepted is lost, nothing refused is
//! kept, and the workers and publishers resume by themselves.
//!
//! This stops the machine's shared broker, so it is `#[ignore]`d in the normal run and
//! `scripts/test.sh` runs it afterwards, alone.

mod common;

use std::process::Command;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use sqlx::PgPool;
use uuid::Uuid;

/// Starts the broker's application again even if the test fails half-way.
struct RestartGuard;

impl Drop for RestartGuard {
    fn drop(&mut self) {
        let _ = rabbitmqctl("start_app");
    }
}

fn rabbitmqctl(action: &str) -> bool {
    Command::new("rabbitmqctl")
        .arg(action)
        .status()
        .is_ok_and(|status| status.success())
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
#[ignore = "restarts the shared RabbitMQ: scripts/test.sh runs it alone, after the others"]
async fn a_broker_restart_mid_load_loses_nothing_accepted(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let mut seeded = Vec::new();
    for _ in 0..4 {
        seeded.push(seed_restaurant(&harness.store, 200).await);
    }
    harness.start_worker();
    harness.start_sweeper();

    let load = {
        let app = harness.app.clone();
        let seeded = seeded.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for n in 0..300 {
                let (restaurant, table_type) = seeded[n % seeded.len()];
                let body = booking_body(restaurant, table_type);
                let request = axum::http::Request::post("/v1/reservations")
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body.to_string()))
                    .unwrap();
                let reply = send(&app, request).await;
                outcomes.push((id_of(&body), reply.status));
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            outcomes
        })
    };

    tokio::time::sleep(Duration::from_secs(1)).await;
    let guard = RestartGuard;
    assert!(rabbitmqctl("stop_app"), "rabbitmqctl stop_app failed");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(rabbitmqctl("start_app"), "rabbitmqctl start_app failed");
    drop(guard);

    let outcomes = load.await.unwrap();
    let accepted: Vec<Uuid> = outcomes
        .iter()
        .filter(|(_, status)| *status == StatusCode::ACCEPTED)
        .map(|(id, _)| *id)
        .collect();
    let refused: Vec<Uuid> = outcomes
        .iter()
        .filter(|(_, status)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(
        accepted.len() + refused.len(),
        outcomes.len(),
        "every answer is 202 or 503"
    );
    println!(
        "broker restart: {} accepted, {} refused with 503",
        accepted.len(),
        refused.len()
    );

    // Every accepted request is decided once the workers reconnect and the sweeper re-publishes
    // what the outage stranded; no refused one was kept.
    harness
        .wait_decided(&accepted, Duration::from_secs(120))
        .await;
    let kept = harness.recorded_among(&refused).await;
    assert_eq!(kept, 0, "a 503 must leave nothing behind");
    let decisions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reservation_event WHERE reservation_id = ANY($1) \
         AND from_status = 'pending'",
    )
    .bind(&accepted)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(
        decisions,
        accepted.len() as i64,
        "each decided exactly once"
    );

    // And the system works as before.
    let (restaurant, table_type) = seeded[0];
    let reply = harness
        .post_reservation(&booking_body(restaurant, table_type))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    harness
        .wait_decided(&[id_of(&reply.body)], Duration::from_secs(30))
        .await;
    harness.finish().await;
}
