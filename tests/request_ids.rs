//! The request id follows a booking: from the HTTP request (the client's `x-request-id`, or a
//! new one) to the reservation row, and on as the AMQP correlation id of its command and of the
//! follow-up messages its decision sends.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use futures_util::StreamExt;
use rabbitmq::lapin::options::{BasicAckOptions, BasicConsumeOptions};
use rabbitmq::lapin::types::FieldTable;
use sqlx::PgPool;

/// Takes the next message of `queue` (acking it) and returns its correlation id. A consumer,
/// not basic.get: partitions are single-active-consumer quorum queues, which refuse gets.
async fn correlation_of_next(queue: &str) -> Option<String> {
    let connection = rabbitmq::connect(&amqp_url(), "maitred-test")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let delivery = consumer.next().await.unwrap().unwrap();
    delivery.ack(BasicAckOptions::default()).await.unwrap();
    let correlation = delivery
        .properties
        .correlation_id()
        .as_ref()
        .map(|id| id.to_string());
    connection.close(200, "ok".into()).await.unwrap();
    correlation
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_request_id_follows_the_booking_into_its_messages(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;

    let body = booking_body(restaurant, table_type);
    let request = Request::post("/v1/reservations")
        .header("content-type", "application/json")
        .header("x-request-id", "req-7f3a")
        .body(Body::from(body.to_string()))
        .unwrap();
    let reply = send(&harness.app, request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.headers["x-request-id"], "req-7f3a");
    let id = id_of(&reply.body);
    let stored: Option<String> =
        sqlx::query_scalar("SELECT request_id FROM reservation WHERE id = $1")
            .bind(id)
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some("req-7f3a"));

    // No worker runs: the Decide command waits in the partition, correlated.
    let partition = harness
        .topology
        .partition_queue(harness.topology.partition_of(restaurant));
    harness.wait_for_depth(&partition, |depth| depth == 1).await;
    assert_eq!(
        correlation_of_next(&partition).await.as_deref(),
        Some("req-7f3a")
    );

    // The decision's hold-expiry timer, relayed from the outbox, carries it too.
    harness
        .store
        .decide(
            id,
            &booking::DecisionPolicy {
                hold_for: harness.hold_for,
                gateway: "simulated".into(),
                pricing: booking::PricingSteps::default(),
            },
        )
        .await
        .unwrap();
    harness.relay.wake();
    let timers = harness.topology.delay_queue(harness.hold_for);
    harness.wait_for_depth(&timers, |depth| depth == 1).await;
    assert_eq!(
        correlation_of_next(&timers).await.as_deref(),
        Some("req-7f3a")
    );

    // Without one, the server makes one and answers it.
    let reply = harness
        .post_reservation(&booking_body(restaurant, table_type))
        .await;
    let generated = reply.headers["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    // One too long or odd to log and store is replaced, not refused.
    let request = Request::post("/v1/reservations")
        .header("content-type", "application/json")
        .header("x-request-id", "x".repeat(500))
        .body(Body::from(booking_body(restaurant, table_type).to_string()))
        .unwrap();
    let reply = send(&harness.app, request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.headers["x-request-id"].len(), 36);
    tokio::time::sleep(Duration::from_millis(10)).await;
    harness.finish().await;
}
