//! Real `maitred work` processes against real servers: a worker killed with SIGKILL mid-load
//! hands its partitions to the survivor with nothing lost or decided twice, and SIGTERM stops a
//! worker cleanly. The API runs in the test; the workers are the built binary. And a process
//! whose task dies early stops as a whole.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::*;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Starts `maitred work` on this test's database and queues.
fn spawn_worker(harness: &Harness, pool: &PgPool, index: u16, count: u16) -> Child {
    maitred_process(pool, &harness.topology, &amqp_url(), "work")
        .env("MAITRED_WORKER_INDEX", index.to_string())
        .env("MAITRED_WORKER_COUNT", count.to_string())
        // Small runs, as in the in-process tests: with the default (256) a worker decides a
        // test's whole queue in a few runs, and a signal could not land in the middle of it.
        .env("MAITRED_PREFETCH", "16")
        // Both start at once: each stands by for the other's partitions well before the kill.
        .env("MAITRED_STANDBY_DELAY", "200ms")
        .spawn()
        .expect("the maitred binary runs")
}

/// Several restaurants (so every partition has work), each with one table type of `tables`.
async fn seed(harness: &Harness, restaurants: usize, tables: u32) -> Vec<(Uuid, Uuid)> {
    let mut seeded = Vec::new();
    for _ in 0..restaurants {
        seeded.push(seed_restaurant(&harness.store, tables).await);
    }
    seeded
}

/// Books `count` tables round-robin over the restaurants, `concurrency` at a time; returns
/// the accepted ids.
async fn book(harness: &Harness, seeded: &[(Uuid, Uuid)], count: usize) -> Vec<Uuid> {
    let bodies: Vec<Value> = (0..count)
        .map(|n| {
            let (restaurant, table_type) = seeded[n % seeded.len()];
            booking_body(restaurant, table_type)
        })
        .collect();
    let mut accepted = Vec::new();
    for chunk in bodies.chunks(20) {
        let replies =
            futures_util::future::join_all(chunk.iter().map(|body| harness.post_reservation(body)))
                .await;
        for reply in replies {
            assert_eq!(reply.status.as_u16(), 202, "{}", reply.body);
            accepted.push(id_of(&reply.body));
        }
    }
    accepted
}

/// Every reservation was decided exactly once, and every table type's inventory counts exactly
/// its held reservations.
async fn assert_decided_once(harness: &Harness, ids: &[Uuid], seeded: &[(Uuid, Uuid)]) {
    harness.assert_decided_once(ids).await;
    for (_, table_type) in seeded {
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reservation WHERE table_type_id = $1 AND status = 'held'",
        )
        .bind(table_type)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
        let reserved = reserved_per_slot(&harness.store, *table_type).await;
        assert!(
            reserved.iter().all(|&r| i64::from(r) == held),
            "{reserved:?} vs {held} held"
        );
    }
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_killed_worker_hands_its_partitions_over_with_nothing_lost_or_doubled(pool: PgPool) {
    let harness = Harness::new(pool.clone()).await;
    let seeded = seed(&harness, 8, 40).await;
    let mut workers = Processes(vec![
        spawn_worker(&harness, &pool, 0, 2),
        spawn_worker(&harness, &pool, 1, 2),
    ]);

    let mut accepted = book(&harness, &seeded, 200).await;
    harness.wait_decided(&accepted, SETTLE_TIMEOUT).await;
    // Load keeps arriving while the first worker dies without a chance to clean up.
    let before_kill = book(&harness, &seeded, 100).await;
    let first = workers.0[0].id();
    workers.kill(first);
    let killed_at: DateTime<Utc> = Utc::now();
    let killed = Instant::now();
    let after_kill = book(&harness, &seeded, 100).await;
    accepted.extend(&before_kill);
    accepted.extend(&after_kill);

    harness.wait_decided(&accepted, SETTLE_TIMEOUT).await;
    let drained = killed.elapsed();
    assert_decided_once(&harness, &accepted, &seeded).await;
    // The failover time: the longest any request that was waiting at the kill then waited.
    let worst: Option<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(e.created_at) - $2)::float8
         FROM reservation_event e
         WHERE e.reservation_id = ANY($1) AND e.from_status = 'pending' AND e.created_at > $2",
    )
    .bind(&before_kill)
    .bind(killed_at)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    println!(
        "failover: {} requests accepted; every one final {:.2} s after the SIGKILL; \
         the longest wait of a request queued before it: {:.2} s",
        accepted.len(),
        drained.as_secs_f64(),
        worst.unwrap_or(0.0)
    );
    assert!(
        drained < Duration::from_secs(30),
        "took {drained:?} to take over"
    );

    drop(workers);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn sigterm_stops_a_worker_cleanly_and_the_next_one_finishes_the_queue(pool: PgPool) {
    let mut harness = Harness::new(pool.clone()).await;
    let seeded = seed(&harness, 4, 300).await;
    // A queue to be in the middle of: booked first, then a worker starts on it.
    let accepted = book(&harness, &seeded, 800).await;
    let mut workers = Processes(vec![spawn_worker(&harness, &pool, 0, 1)]);
    let worker = &mut workers.0[0];
    loop {
        let decided: i64 =
            sqlx::query_scalar("SELECT count(*) FROM reservation WHERE status <> 'pending'")
                .fetch_one(harness.store.pool())
                .await
                .unwrap();
        if decided >= 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stopping = Instant::now();
    let exit = loop {
        if let Some(exit) = worker.try_wait().unwrap() {
            break exit;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(15),
            "the worker did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    println!(
        "graceful stop took {:.2} s",
        stopping.elapsed().as_secs_f64()
    );

    // Whatever it had not decided is back in the queues, none of it stuck unacked.
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reservation WHERE id = ANY($1) AND status = 'pending'",
    )
    .bind(&accepted)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert!(
        pending > 0,
        "the worker finished before the signal: no test"
    );
    assert_eq!(i64::from(harness.partition_depths().await), pending);
    println!(
        "{pending} of {} requests were still queued at the stop",
        accepted.len()
    );

    harness.start_worker();
    harness.wait_decided(&accepted, SETTLE_TIMEOUT).await;
    assert_decided_once(&harness, &accepted, &seeded).await;
    harness.finish().await;
}

/// A task that ends or panics before shutdown stops the whole application with an error that
/// names it (so `main` exits non-zero), and its HTTP server stops answering: never half a
/// process left running.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_task_that_dies_early_stops_the_whole_application(pool: PgPool) {
    use maitred::application::{Application, Databases, Roles};

    for panics in [false, true] {
        let mut settings = test_settings(100);
        settings.http_addr = "127.0.0.1:0".parse().unwrap();
        let mut cleanup = QueueCleanup::for_settings(&settings);
        let databases = Databases::shared(booking::Store::new(pool.clone()));
        let mut application = Application::build(settings, Roles::ALL, databases)
            .await
            .unwrap();
        application.start().await.unwrap();
        let addr = application.http_addr().unwrap();
        let healthy = reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap();
        assert_eq!(healthy.status(), 200);

        let (die, dies) = tokio::sync::oneshot::channel::<()>();
        application.spawn("doomed task", async move {
            let _ = dies.await;
            assert!(!panics, "the doomed task panics");
        });
        let running = tokio::spawn(application.run_until(std::future::pending()));
        die.send(()).unwrap();
        let error = tokio::time::timeout(Duration::from_secs(60), running)
            .await
            .expect("the application stops by itself")
            .unwrap()
            .expect_err("an early end is an error");
        let expected = if panics {
            "the doomed task panicked"
        } else {
            "the doomed task stopped on its own"
        };
        assert!(format!("{error:#}").contains(expected), "{error:#}");
        assert!(
            reqwest::get(format!("http://{addr}/healthz"))
                .await
                .is_err(),
            "the HTTP server stopped with it"
        );
        cleanup.delete().await;
    }
}

/// Outside development the binary refuses to start with the secrets `scripts/up.sh` sets, and
/// says why in one line; in development it accepts them.
#[test]
fn production_refuses_to_start_with_development_secrets() {
    let up_sh =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/up.sh")).unwrap();
    for secret in maitred::settings::DEVELOPMENT_SECRETS {
        assert!(
            up_sh.contains(secret),
            "scripts/up.sh no longer sets {secret}"
        );
    }
    let output = Command::new(env!("CARGO_BIN_EXE_maitred"))
        .arg("serve")
        .env_remove("MAITRED_ENV")
        .env(
            "MAITRED_JWT_SECRET",
            maitred::settings::DEVELOPMENT_SECRETS[0],
        )
        .env("MAITRED_LOG_FORMAT", "text")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("MAITRED_JWT_SECRET is a development value"),
        "{stderr}"
    );
}
