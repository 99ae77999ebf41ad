//! maitred on a three-node RabbitMQ cluster (`scripts/rabbitmq-cluster.sh start`, which the
//! test command runs first): while bookings keep arriving for many restaurants, the node that
//! leads most partition queues is stopped, then killed outright, and started again. Every
//! request answered 202 is decided exactly once, every one refused left nothing behind, and no
//! slot is oversold. Ignored by a plain `cargo test`: it needs the cluster.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::cluster::*;
use common::*;
use sqlx::PgPool;
use uuid::Uuid;

/// The node (1..3) that leads most of the queues whose names start with `prefix` (asked while
/// every node is up).
async fn busiest_leader(prefix: &str) -> u8 {
    let queues = rabbitmqctl_rows(1, &["list_queues", "name", "leader"]).await;
    let mut led: HashMap<u8, usize> = HashMap::new();
    for queue in &queues {
        if !queue["name"].as_str().unwrap_or("").starts_with(prefix) {
            continue;
        }
        let leader = queue["leader"].as_str().unwrap_or("");
        // maitred2@localhost → 2
        if let Some(n) = leader
            .strip_prefix("maitred")
            .and_then(|rest| rest.chars().next())
        {
            *led.entry(n.to_digit(10).unwrap() as u8).or_default() += 1;
        }
    }
    eprintln!("queue leaders per node: {led:?}");
    led.into_iter().max_by_key(|(_, count)| *count).unwrap().0
}

/// What intake answered each booking of the stream, and when.
type Answers = Vec<(Uuid, StatusCode, Instant)>;

fn accepted(answers: &Mutex<Answers>) -> usize {
    let answers = answers.lock().unwrap();
    answers
        .iter()
        .filter(|(_, status, _)| *status == StatusCode::ACCEPTED)
        .count()
}

/// Waits until `count` bookings of the stream were answered 202, or panics after a minute.
async fn until_accepted(answers: &Mutex<Answers>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while accepted(answers) < count {
        assert!(
            Instant::now() < deadline,
            "{} of {count} accepted after a minute",
            accepted(answers)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
#[ignore = "needs the RabbitMQ cluster of scripts/rabbitmq-cluster.sh; the test command starts it"]
async fn losing_the_busiest_node_loses_no_booking_and_oversells_nothing(pool: PgPool) {
    let mut settings = test_settings(10_000);
    settings.amqp_url = cluster_urls();
    let amqp_url = settings.amqp_url.clone();
    let prefix = settings.amqp_prefix.clone();
    let topology = settings.topology();
    assert_eq!(topology.quorum_size, Some(3), "three nodes, three replicas");
    let mut harness = Harness::with_settings(pool, settings).await;
    harness.delete_queues_on(&amqp_url);
    let mut restaurants = Vec::new();
    for _ in 0..8 {
        restaurants.push(seed_restaurant(&harness.store, 4).await);
    }
    harness.start_worker();
    // A publish whose confirm died with its node is kept in the outbox: the sweeper sends it.
    harness.start_sweeper();

    // A steady stream: a booking every 20 ms, over 8 restaurants and 40 dates.
    let answers = Arc::new(Mutex::new(Answers::new()));
    let stop = tokio_util::sync::CancellationToken::new();
    let stream = {
        let (app, answers, stop) = (harness.app.clone(), answers.clone(), stop.clone());
        let restaurants = restaurants.clone();
        tokio::spawn(async move {
            for i in 0usize.. {
                if stop.is_cancelled() {
                    break;
                }
                let (restaurant, table_type) = restaurants[i % restaurants.len()];
                let mut body = booking_body(restaurant, table_type);
                let date = chrono::Utc::now().date_naive()
                    + chrono::Duration::days(2 + (i / 8 % 40) as i64);
                body["date"] = date.to_string().into();
                let request = Request::post("/v1/reservations")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
                let reply = send(&app, request).await;
                answers
                    .lock()
                    .unwrap()
                    .push((id_of(&body), reply.status, Instant::now()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    until_accepted(&answers, 50).await;

    // The node leading most partitions leaves gracefully, then its VM is killed outright; then
    // the node leading most partitions after that dies at once, without stopping first.
    let fault_started = Instant::now();
    let graceful = busiest_leader(&prefix).await.to_string();
    cluster_async(&["ctl", &graceful, "stop_app"]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster_async(&["kill", &graceful]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster_async(&["start"]).await;
    let sudden = busiest_leader(&prefix).await.to_string();
    cluster_async(&["kill", &sudden]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster_async(&["start"]).await;
    let fault_ended = Instant::now();
    let before = accepted(&answers);
    until_accepted(&answers, before + 50).await;
    stop.cancel();
    stream.await.unwrap();

    let answers = Arc::try_unwrap(answers).ok().unwrap().into_inner().unwrap();
    let accepted_ids: Vec<Uuid> = answers
        .iter()
        .filter(|(_, s, _)| *s == StatusCode::ACCEPTED)
        .map(|(id, _, _)| *id)
        .collect();
    let refused_ids: Vec<Uuid> = answers
        .iter()
        .filter(|(_, s, _)| *s != StatusCode::ACCEPTED)
        .map(|(id, _, _)| *id)
        .collect();
    for (_, status, _) in &answers {
        assert!(
            *status == StatusCode::ACCEPTED
                || *status == StatusCode::SERVICE_UNAVAILABLE
                || *status == StatusCode::CONFLICT,
            "unexpected answer {status}"
        );
    }
    let count = |wanted: StatusCode| answers.iter().filter(|(_, s, _)| *s == wanted).count();
    // The intake outage: the longest stretch without a 202 from the fault's start.
    let mut last = fault_started;
    let mut outage = Duration::ZERO;
    for (_, status, at) in &answers {
        if *status == StatusCode::ACCEPTED && *at > fault_started {
            outage = outage.max(at.duration_since(last));
            last = *at;
        }
    }
    eprintln!(
        "node {graceful} stopped and killed, node {sudden} killed, both restarted, over {:?}; \
         {} accepted, {} answered 503, {} answered 409; longest intake outage {outage:?}",
        fault_ended - fault_started,
        accepted_ids.len(),
        count(StatusCode::SERVICE_UNAVAILABLE),
        count(StatusCode::CONFLICT),
    );

    harness
        .wait_decided(&accepted_ids, Duration::from_secs(90))
        .await;
    harness.assert_decided_once(&accepted_ids).await;
    let left = harness.recorded_among(&refused_ids).await;
    assert_eq!(left, 0, "a refused booking left a reservation behind");
    for (_, table_type) in &restaurants {
        for reserved in reserved_per_slot(&harness.store, *table_type).await {
            assert!(reserved <= 4, "oversold: {reserved} of 4 tables");
        }
    }
    harness.finish().await;
}
