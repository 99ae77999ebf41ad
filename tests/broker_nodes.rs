//! A broker named by several addresses, as the nodes of a RabbitMQ cluster are: every
//! connection goes to the first node that answers. Real RabbitMQ; the nodes that do not answer
//! are local ports, one refusing connections and one accepting them but never speaking AMQP.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;
use sqlx::PgPool;

/// A local port nothing listens on: a connection to it is refused at once.
fn refusing_node() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("amqp://guest:guest@127.0.0.1:{port}/%2f")
}

#[tokio::test]
async fn a_connection_moves_past_nodes_that_refuse_or_never_answer() {
    // Accepted by the kernel, never answered: only the timeout moves on from it.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_node = format!(
        "amqp://guest:guest@127.0.0.1:{}/%2f",
        silent.local_addr().unwrap().port()
    );
    let refusing = refusing_node();
    let timeout = Duration::from_millis(500);

    let nodes = format!("{refusing}, {silent_node}, {}", amqp_url());
    let started = Instant::now();
    let connection = rabbitmq::connect_within(&nodes, "maitred-test-nodes", timeout)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= timeout,
        "answered in {:?}: the silent node was not tried first",
        started.elapsed()
    );
    let channel = connection.create_channel().await.unwrap();
    assert!(channel.status().connected());
    connection.close(200, "done".into()).await.unwrap();

    // No node answers: the last one's failure is the error.
    let error = rabbitmq::connect_within(
        &format!("{refusing},{silent_node}"),
        "maitred-test-nodes",
        timeout,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, rabbitmq::ConnectError::TimedOut(_)),
        "{error}"
    );
    drop(silent);
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn bookings_are_taken_and_decided_through_the_node_that_answers(pool: PgPool) {
    let mut settings = test_settings(10_000);
    settings.amqp_url = format!("{},{}", refusing_node(), amqp_url());
    let mut harness = Harness::with_settings(pool, settings).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    harness.start_worker();

    let reply = harness
        .post_reservation(&booking_body(restaurant, table_type))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    harness
        .wait_status(id_of(&reply.body), "held", Duration::from_secs(30))
        .await;
    harness.finish().await;
}
