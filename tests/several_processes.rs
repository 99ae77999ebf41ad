//! maitred as it runs beyond one machine: three `maitred serve` and three `maitred work`
//! processes against the three-node RabbitMQ cluster of `scripts/rabbitmq-cluster.sh` (which
//! the test command starts before the ignored tests). The workers share the partitions out,
//! the API processes share one sold-out view, and a worker killed under load hands its
//! partitions to the others with nothing lost or decided twice. Ignored by a plain
//! `cargo test`: it needs the cluster.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::cluster::*;
use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const PROCESSES: u16 = 3;
/// Four home partitions per worker.
const PARTITIONS: u16 = 12;
const TABLES: u32 = 40;
const STARTED: Duration = Duration::from_secs(60);

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Restaurants until every partition has at least one, each with one table type of [`TABLES`]
/// tables and no overbooking. Returns (restaurant, table type) pairs.
async fn seed_every_partition(harness: &Harness) -> Vec<(Uuid, Uuid)> {
    let mut seeded = Vec::new();
    let mut covered = HashSet::new();
    while covered.len() < usize::from(PARTITIONS) {
        let (restaurant, types) = seed_restaurant_with(
            &harness.store,
            "Test Bistro",
            "",
            (48.85, 2.35),
            &[("4-top", 1, 4, 2500, TABLES)],
            |r| r.overbooking_pct = 0,
        )
        .await;
        covered.insert(harness.topology.partition_of(restaurant));
        seeded.push((restaurant, types[0]));
    }
    seeded
}

async fn post(client: &reqwest::Client, api: &str, body: &Value) -> (StatusCode, Value) {
    let reply = client
        .post(format!("{api}/v1/reservations"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = reply.status();
    let bytes = reply.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Waits until every API process answers `/readyz`.
async fn until_ready(client: &reqwest::Client, apis: &[String]) {
    let deadline = Instant::now() + STARTED;
    for api in apis {
        loop {
            let ready = client.get(format!("{api}/readyz")).send().await;
            if ready.is_ok_and(|reply| reply.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "{api} not ready in {STARTED:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The worker process of each partition, once every partition has an active consumer among
/// `workers` and each of them is subscribed to every partition (the others as standbys).
async fn owners(harness: &Harness, workers: &HashSet<u32>) -> BTreeMap<u16, u32> {
    let deadline = Instant::now() + STARTED;
    loop {
        let listed = consumers(1, &harness.topology.prefix).await;
        let live: Vec<&Consumer> = listed.iter().filter(|c| workers.contains(&c.pid)).collect();
        let owned: BTreeMap<u16, u32> = (0..PARTITIONS)
            .filter_map(|partition| {
                let queue = harness.topology.partition_queue(partition);
                let owner = live.iter().find(|c| c.active && c.queue == queue)?;
                Some((partition, owner.pid))
            })
            .collect();
        let standing_by = live.len() == usize::from(PARTITIONS) * workers.len();
        if owned.len() == usize::from(PARTITIONS) && standing_by {
            return owned;
        }
        assert!(
            Instant::now() < deadline,
            "after {STARTED:?}, partitions owned: {owned:?}, subscriptions: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many partitions each worker owns.
fn spread(owners: &BTreeMap<u16, u32>) -> BTreeMap<u32, usize> {
    let mut counts = BTreeMap::new();
    for pid in owners.values() {
        *counts.entry(*pid).or_default() += 1;
    }
    counts
}

/// What the API processes answered each booking of the stream.
type Answers = Vec<(Uuid, StatusCode)>;

#[sqlx::test(migrator = "booking::MIGRATOR")]
#[ignore = "needs the RabbitMQ cluster of scripts/rabbitmq-cluster.sh; the test command starts it"]
async fn three_apis_and_three_workers_share_the_partitions_the_sold_out_view_and_a_failover(
    pool: PgPool,
) {
    let mut settings = test_settings(10_000);
    settings.amqp_url = cluster_urls();
    settings.partitions = PARTITIONS;
    let amqp_url = settings.amqp_url.clone();
    let mut harness = Harness::with_settings(pool.clone(), settings).await;
    harness.delete_queues_on(&amqp_url);
    let seeded = seed_every_partition(&harness).await;
    let (last_table, last_table_type) = {
        let (restaurant, types) = seed_restaurant_with(
            &harness.store,
            "The Last Table",
            "",
            (48.85, 2.35),
            &[("2-top", 1, 2, 2500, 1)],
            |r| r.overbooking_pct = 0,
        )
        .await;
        (restaurant, types[0])
    };

    // Started together, so that each worker's home partitions are subscribed first.
    let mut workers = Processes(
        (0..PROCESSES)
            .map(|index| {
                maitred_process(&pool, &harness.topology, &amqp_url, "work")
                    .env("MAITRED_WORKER_INDEX", index.to_string())
                    .env("MAITRED_WORKER_COUNT", PROCESSES.to_string())
                    .spawn()
                    .expect("the maitred binary runs")
            })
            .collect(),
    );
    let mut apis = Vec::new();
    let mut api_processes = Processes(Vec::new());
    for _ in 0..PROCESSES {
        let port = free_port();
        api_processes.0.push(
            maitred_process(&pool, &harness.topology, &amqp_url, "serve")
                .env("MAITRED_HTTP_ADDR", format!("127.0.0.1:{port}"))
                .env("MAITRED_RATE_LIMITS", "off")
                .spawn()
                .expect("the maitred binary runs"),
        );
        apis.push(format!("http://127.0.0.1:{port}"));
    }
    let worker_pids = workers.pids();
    let client = reqwest::Client::new();
    until_ready(&client, &apis).await;

    // 1. The partitions are spread over the three workers.
    let before = owners(&harness, &worker_pids).await;
    let spread_before = spread(&before);
    eprintln!("partitions per worker (pid: partitions): {spread_before:?}");
    assert_eq!(spread_before.len(), 3, "every worker owns partitions");
    assert!(
        spread_before
            .values()
            .all(|&n| n == usize::from(PARTITIONS / PROCESSES)),
        "uneven: {spread_before:?}"
    );

    // 2. One sold-out view: the last table is booked through the first API process; the
    // others then turn the slot away at once (409) without queueing anything.
    let mut body = booking_body(last_table, last_table_type);
    body["paymentToken"] = "tok_visa".into();
    let (status, reply) = post(&client, &apis[0], &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    harness
        .wait_decided(&[id_of(&body)], Duration::from_secs(30))
        .await;
    let mut queued_after_sold_out = Vec::new();
    for api in &apis[1..] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut another = booking_body(last_table, last_table_type);
            another["paymentToken"] = "tok_visa".into();
            let (status, reply) = post(&client, api, &another).await;
            if status == StatusCode::CONFLICT {
                let detail = reply["detail"].as_str().unwrap_or_default();
                assert!(detail.contains("sold out"), "{reply}");
                assert_eq!(harness.recorded_among(&[id_of(&another)]).await, 0);
                break;
            }
            assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
            queued_after_sold_out.push(id_of(&another));
            assert!(
                Instant::now() < deadline,
                "{api} still queues the sold-out slot after 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    eprintln!(
        "sold-out view: {} request(s) queued by the other API processes before they turned \
         the slot away",
        queued_after_sold_out.len()
    );

    // 3. A steady stream through the three APIs; the busiest worker is killed in the middle.
    let answers = Arc::new(Mutex::new(Answers::new()));
    let stop = tokio_util::sync::CancellationToken::new();
    let stream = {
        let (answers, stop, client) = (answers.clone(), stop.clone(), client.clone());
        let (apis, seeded) = (apis.clone(), seeded.clone());
        tokio::spawn(async move {
            for i in 0usize.. {
                if stop.is_cancelled() {
                    break;
                }
                let (restaurant, table_type) = seeded[i % seeded.len()];
                let mut body = booking_body(restaurant, table_type);
                let date = Utc::now().date_naive()
                    + chrono::Duration::days(2 + (i / seeded.len() % 40) as i64);
                body["date"] = date.to_string().into();
                let (status, _) = post(&client, &apis[i % apis.len()], &body).await;
                answers.lock().unwrap().push((id_of(&body), status));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (&victim, _) = spread_before.iter().max_by_key(|(_, n)| **n).unwrap();
    let victim_partitions: Vec<u16> = before
        .iter()
        .filter(|(_, pid)| **pid == victim)
        .map(|(partition, _)| *partition)
        .collect();
    workers.kill(victim);
    let killed_at = Utc::now();
    let survivors = workers.pids();
    let after = owners(&harness, &survivors).await;
    let confirmed_in = (Utc::now() - killed_at).to_std().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.cancel();
    stream.await.unwrap();

    let answers = Arc::try_unwrap(answers).unwrap().into_inner().unwrap();
    let accepted: Vec<Uuid> = answers
        .iter()
        .filter(|(_, status)| *status == StatusCode::ACCEPTED)
        .map(|(id, _)| *id)
        .collect();
    let refused: Vec<Uuid> = answers
        .iter()
        .filter(|(_, status)| *status != StatusCode::ACCEPTED)
        .map(|(id, _)| *id)
        .collect();
    harness
        .wait_decided(&accepted, Duration::from_secs(90))
        .await;
    harness.assert_decided_once(&accepted).await;
    harness.assert_decided_once(&queued_after_sold_out).await;
    assert_eq!(harness.recorded_among(&refused).await, 0);
    for (_, table_type) in seeded.iter().chain([&(last_table, last_table_type)]) {
        let tables = if *table_type == last_table_type {
            1
        } else {
            TABLES
        };
        for reserved in reserved_per_slot(&harness.store, *table_type).await {
            assert!(
                reserved as u32 <= tables,
                "oversold: {reserved} of {tables}"
            );
        }
    }

    // The failover time: for each of the killed worker's partitions, the first decision made
    // after the kill (bookings reached every partition every ~0.1–0.5 s).
    let partition_of: HashMap<Uuid, u16> = seeded
        .iter()
        .map(|(restaurant, _)| (*restaurant, harness.topology.partition_of(*restaurant)))
        .collect();
    let first_after: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "SELECT r.restaurant_id, min(e.created_at) FROM reservation_event e
         JOIN reservation r ON r.id = e.reservation_id
         WHERE e.from_status = 'pending' AND e.created_at > $1 AND r.id = ANY($2)
         GROUP BY r.restaurant_id",
    )
    .bind(killed_at)
    .bind(&accepted)
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    let mut resumed: HashMap<u16, DateTime<Utc>> = HashMap::new();
    for (restaurant, at) in first_after {
        let partition = partition_of[&restaurant];
        let first = resumed.entry(partition).or_insert(at);
        *first = (*first).min(at);
    }
    let failover = victim_partitions
        .iter()
        .map(|partition| {
            let at = resumed
                .get(partition)
                .unwrap_or_else(|| panic!("partition {partition} decided nothing after the kill"));
            (*at - killed_at).to_std().unwrap_or_default()
        })
        .max()
        .unwrap();
    eprintln!(
        "killed worker {victim} owned partitions {victim_partitions:?}; every one decided again \
         within {failover:?} of the SIGKILL (the broker showed them all on the survivors after \
         {confirmed_in:?}); partitions per worker after: {:?}; {} bookings accepted, {} \
         refused, every accepted one decided once",
        spread(&after),
        accepted.len(),
        refused.len(),
    );
    assert!(
        failover < Duration::from_secs(10),
        "failover took {failover:?}"
    );
    harness.finish().await;
}
