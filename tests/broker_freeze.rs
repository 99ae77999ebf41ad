//! A broker that keeps its TCP connections open but stops answering (a hung node, a partition
//! with no reset), played by a proxy in the test that stops forwarding. Every broker operation
//! is bounded: intake still answers `202` or `503` within seconds, `/readyz` says the broker is
//! unavailable within 2 s, a dead connection is noticed by its heartbeat, and start-up against
//! such a broker retries until it is stopped. Nothing is lost and nothing is kept by mistake.
//!
//! Each test has its own proxy and prefix; the real broker is never touched.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::*;
use futures_util::future::join_all;
use maitred::application::{Application, Databases, Roles, StartupCancelled};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A TCP proxy to the real broker with a switch: frozen, it accepts connections and keeps
/// every socket open, but forwards nothing in either direction (what it read is held and
/// forwarded on thawing, as TCP would retransmit after a partition heals).
struct FreezableProxy {
    addr: SocketAddr,
    frozen: watch::Sender<bool>,
    /// Connections accepted so far.
    accepted: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl FreezableProxy {
    async fn start(frozen: bool) -> Self {
        let upstream = broker_address();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (freeze, thawed) = watch::channel(frozen);
        let (count, accepted) = watch::channel(0);
        let task = tokio::spawn(async move {
            // Dropped with the accept loop, which aborts every pump.
            let mut pumps = JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                count.send_modify(|n| *n += 1);
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                pumps.spawn(pump(client_read, server_write, thawed.clone()));
                pumps.spawn(pump(server_read, client_write, thawed.clone()));
            }
        });
        Self {
            addr,
            frozen: freeze,
            accepted,
            task,
        }
    }

    fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// `amqp_url()`, through this proxy.
    fn url(&self) -> String {
        let uri: rabbitmq::lapin::uri::AMQPUri = amqp_url().parse().unwrap();
        let user = &uri.authority.userinfo;
        let vhost = if uri.vhost == "/" { "%2f" } else { &uri.vhost };
        format!(
            "amqp://{}:{}@{}/{vhost}",
            user.username, user.password, self.addr
        )
    }

    /// Waits until the proxy has accepted `n` connections in all, or panics after 30 s.
    async fn wait_accepted(&mut self, n: usize) {
        let accepted = self.accepted.wait_for(|count| *count >= n);
        tokio::time::timeout(Duration::from_secs(30), accepted)
            .await
            .unwrap_or_else(|_| panic!("fewer than {n} connections within 30 s"))
            .unwrap();
    }
}

impl Drop for FreezableProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn broker_address() -> String {
    let uri: rabbitmq::lapin::uri::AMQPUri = amqp_url().parse().unwrap();
    format!("{}:{}", uri.authority.host, uri.authority.port)
}

/// Copies `from` to `to`, holding whatever it reads while the proxy is frozen.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = from.read(&mut buffer).await.unwrap_or(0);
        if frozen.wait_for(|frozen| !*frozen).await.is_err() {
            return;
        }
        if read == 0 {
            let _ = to.shutdown().await;
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// The longest intake may take to answer while the broker is frozen.
const ANSWER_BOUND: Duration = Duration::from_secs(10);
/// The longest `/readyz` may take.
const READY_BOUND: Duration = Duration::from_secs(2);

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_frozen_broker_gets_prompt_answers_and_loses_nothing(pool: PgPool) {
    let proxy = FreezableProxy::start(false).await;
    let mut settings = test_settings(10_000);
    settings.amqp_url = proxy.url();
    // As in production: older than any publish intake may still be settling (two deadlines),
    // so the sweeper does not take a row intake is still publishing.
    settings.sweep_min_age = Duration::from_secs(10);
    let mut harness = Harness::with_settings(pool, settings).await;
    harness.start_worker();
    harness.start_sweeper();
    let (restaurant, table_type) = seed_restaurant(&harness.store, 50).await;

    // Warm: the publisher's connection and the workers' run through the proxy.
    let first = booking_body(restaurant, table_type);
    assert_eq!(
        harness.post_reservation(&first).await.status,
        StatusCode::ACCEPTED
    );
    harness
        .wait_decided(&[id_of(&first)], Duration::from_secs(30))
        .await;
    let ready = harness.request(Method::GET, "/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);

    proxy.freeze();
    let started = Instant::now();
    let ready = harness.request(Method::GET, "/readyz", None).await;
    let ready_took = started.elapsed();
    eprintln!(
        "frozen: /readyz answered {} in {ready_took:?}",
        ready.status
    );
    assert!(ready_took < READY_BOUND, "/readyz took {ready_took:?}");
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["broker"], "unavailable", "{}", ready.body);
    assert_eq!(ready.body["database"], "ok", "{}", ready.body);

    // Rounds of concurrent requests, so some meet the old connection still believed alive
    // and some meet it noticed dead (reconnecting to a broker that does not answer).
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    for round in 1..=4 {
        let bodies: Vec<_> = (0..4)
            .map(|_| booking_body(restaurant, table_type))
            .collect();
        let answers = join_all(bodies.iter().map(|body| async {
            let started = Instant::now();
            let reply = harness.post_reservation(body).await;
            (reply, started.elapsed())
        }))
        .await;
        for (body, (reply, took)) in bodies.iter().zip(answers) {
            eprintln!(
                "frozen for {:?}, round {round}: {} in {took:?}",
                started.elapsed(),
                reply.status
            );
            assert!(took < ANSWER_BOUND, "intake took {took:?} to answer");
            match reply.status {
                StatusCode::ACCEPTED => accepted.push(id_of(body)),
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert!(reply.headers.contains_key("retry-after"));
                    refused.push(id_of(body));
                }
                other => panic!("intake answered {other}: {}", reply.body),
            }
        }
    }
    eprintln!(
        "frozen for {:?}: {} accepted, {} refused",
        started.elapsed(),
        accepted.len(),
        refused.len()
    );

    proxy.thaw();
    // Every 202 is decided, by the sweeper's republishing if need be, and exactly once even
    // though the commands held in the frozen connection arrive late as well.
    harness
        .wait_decided(&accepted, Duration::from_secs(60))
        .await;
    harness.wait_settled(&harness.partition_queues()).await;
    for id in &accepted {
        let decisions: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reservation_event \
             WHERE reservation_id = $1 AND from_status = 'pending'",
        )
        .bind(id)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
        assert_eq!(
            decisions, 1,
            "reservation {id} was decided {decisions} times"
        );
    }
    // A 503 kept nothing: no row, so nothing will ever be decided.
    for id in &refused {
        assert!(
            harness.store.reservation(*id).await.unwrap().is_none(),
            "reservation {id} was answered 503 but kept"
        );
    }
    let ready = harness.request(Method::GET, "/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    harness.finish().await;
}

#[tokio::test]
async fn a_dead_connection_is_noticed_within_15_seconds() {
    let proxy = FreezableProxy::start(false).await;
    // The heartbeat every connection of the application asks for, by default.
    let heartbeat = maitred::settings::Settings::from_env()
        .unwrap()
        .amqp_heartbeat;
    let url = rabbitmq::with_heartbeat(&proxy.url(), heartbeat);
    let connection = rabbitmq::connect(&url, "maitred-test-heartbeat")
        .await
        .unwrap();
    // Negotiated: the broker's own default (60 s) did not win.
    assert_eq!(
        u64::from(connection.configuration().heartbeat()),
        heartbeat.as_secs()
    );
    proxy.freeze();
    let frozen = Instant::now();
    while connection.status().connected() {
        assert!(
            frozen.elapsed() < Duration::from_secs(30),
            "the dead connection went unnoticed for 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let noticed = frozen.elapsed();
    eprintln!("a dead connection was noticed after {noticed:?}");
    assert!(
        noticed < Duration::from_secs(15),
        "noticed after {noticed:?}"
    );
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn start_up_retries_a_silent_broker_until_stopped(pool: PgPool) {
    // Accepts connections, never answers the handshake.
    let mut proxy = FreezableProxy::start(true).await;
    let mut settings = test_settings(100);
    settings.amqp_url = proxy.url();
    settings.amqp_connect_timeout = Duration::from_millis(300);
    let _cleanup = QueueCleanup::for_settings(&settings);
    let shutdown = CancellationToken::new();
    let building = tokio::spawn(Application::build_until(
        settings,
        Roles::ALL,
        Databases::shared(booking::Store::new(pool)),
        shutdown.clone(),
    ));
    // A second and a third connection: each attempt timed out and was retried.
    proxy.wait_accepted(3).await;
    assert!(!building.is_finished());

    shutdown.cancel();
    let stopped = Instant::now();
    let built = tokio::time::timeout(Duration::from_secs(2), building)
        .await
        .expect("start-up did not stop within 2 s of shutdown")
        .unwrap();
    eprintln!("start-up stopped {:?} after shutdown", stopped.elapsed());
    match built {
        Ok(_) => panic!("built against a broker that never answered"),
        Err(error) => assert!(error.is::<StartupCancelled>(), "{error:#}"),
    }
}
