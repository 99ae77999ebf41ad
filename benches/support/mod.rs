//! What both benchmarks share: a throwaway database of their own, the report file, and small
//! statistics helpers.
#![allow(dead_code)] // each bench uses its own part

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A database made for one run, migrated, and dropped by [`BenchDatabase::drop_it`].
pub struct BenchDatabase {
    /// Its name, `maitred_bench_<random>`.
    pub name: String,
    /// Its URL, for the contenders' own pools.
    pub url: String,
    /// A small pool for setup and checks.
    pub admin: PgPool,
    server: PgPool,
}

impl BenchDatabase {
    /// Creates and migrates it on the server of `BENCH_PG_URL`
    /// (default `postgres://postgres@127.0.0.1:5432`).
    pub async fn create() -> Self {
        let base = std::env::var("BENCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!(
            "maitred_bench_{}",
            &Uuid::new_v4().simple().to_string()[..12]
        );
        let server = PgPool::connect(&format!("{base}/postgres")).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&server)
            .await
            .unwrap();
        let url = format!("{base}/{name}");
        let admin = PgPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap();
        booking::MIGRATOR.run(&admin).await.unwrap();
        Self {
            name,
            url,
            admin,
            server,
        }
    }

    pub async fn drop_it(self) {
        self.admin.close().await;
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.server)
            .await
            .unwrap();
        self.server.close().await;
    }
}

/// Writes the run's JSON report to `path`, making its directory.
pub fn write_report(path: &str, report: &serde_json::Value) {
    if let Some(dir) = std::path::Path::new(path).parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, serde_json::to_string_pretty(report).unwrap()).unwrap();
    println!("\nwrote {path}");
}

/// The `p`th percentile (nearest rank) of sorted values; NaN for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Runs `main` on a multi-threaded runtime.
pub fn run<F: std::future::Future<Output = ()>>(main: F) {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(main);
}

/// A contender's own pool: every connection opened up front and kept until the CPU snapshot
/// after the run, so no contender pays for connecting during it.
pub async fn fair_pool(db_url: &str, size: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(60))
        .connect(db_url)
        .await
        .unwrap()
}

/// Serves `app` on a free local port until the token is cancelled.
pub async fn serve(app: Router) -> (SocketAddr, tokio::task::JoinHandle<()>, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let cancelled = stop.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(cancelled.cancelled_owned())
            .await
            .unwrap();
    });
    (addr, server, stop)
}

/// maitred end to end in this process, as `maitred up` runs it: intake served on a local port,
/// the outbox relay and sweeper, the sold-out view, and the worker on its own store (which may
/// share intake's pool).
pub struct Maitred {
    /// Where bookings are posted.
    pub url: String,
    topology: rabbitmq::Topology,
    connection: rabbitmq::lapin::Connection,
    channel: rabbitmq::lapin::Channel,
    shutdown: CancellationToken,
    background: Vec<tokio::task::JoinHandle<()>>,
    server: tokio::task::JoinHandle<()>,
    stop_serving: CancellationToken,
    worker_config: worker::WorkerConfig,
}

impl Maitred {
    /// Declares a topology of its own (`bench-<random>.`) and starts everything; returns once
    /// the worker has had a moment to subscribe.
    pub async fn start(
        intake: booking::Store,
        worker: booking::Store,
        partitions: u16,
        max_length: u32,
        prefetch: u16,
    ) -> Self {
        use std::sync::Arc;

        let topology = rabbitmq::Topology {
            prefix: format!("bench-{}.", &Uuid::new_v4().simple().to_string()[..12]),
            partitions,
            max_length,
            delivery_limit: 5,
        };
        let connection = rabbitmq::connect(&amqp_url(), "maitred-bench")
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        topology.declare(&channel).await.unwrap();

        let shutdown = CancellationToken::new();
        let publisher = Arc::new(rabbitmq::Publisher::new(amqp_url(), topology.clone()));
        let relay = outbox::Relay::new(intake.clone(), publisher.clone());
        let waker = relay.waker();
        let mut background = vec![tokio::spawn(
            relay.run(Duration::from_secs(1), shutdown.clone()),
        )];
        background.push(tokio::spawn(outbox::run_sweeper(
            intake.clone(),
            publisher.clone(),
            outbox::SweeperConfig {
                interval: Duration::from_secs(5),
                min_age: Duration::from_secs(15),
                hold_grace: Duration::from_secs(30),
            },
            shutdown.clone(),
        )));
        let policy = webhooks::UrlPolicy::parse_allow_list("").unwrap();
        let auth = Arc::new(
            api::Authority::new(&"bench-jwt-secret-bench-jwt-secret-0123456789".into(), None)
                .unwrap(),
        );
        let sold_out = Arc::new(api::sold_out::SoldOutView::default());
        background.push(tokio::spawn(sold_out.clone().follow(
            amqp_url(),
            topology.clone(),
            shutdown.clone(),
        )));
        let app = api::app(api::AppState {
            store: intake.clone(),
            publisher: publisher.clone(),
            relay: waker.clone(),
            url_policy: policy.clone(),
            callbacks_enabled: false,
            gateway: "simulated".into(),
            auth,
            pricing: booking::PricingSteps::default(),
            intake: outbox::IntakeBatcher::start(intake.clone(), publisher.clone()),
            queue_insight: Arc::default(),
            sold_out,
            dead_letters: Arc::new(rabbitmq::DeadLetters::new(amqp_url(), topology.clone())),
        });
        let worker_config = worker::WorkerConfig {
            amqp_url: amqp_url(),
            topology: topology.clone(),
            prefetch,
            hold_for: Duration::from_secs(600),
            pricing: booking::PricingSteps::default(),
            home: None,
            payment_concurrency: 4,
            gateway_timeout: Duration::from_secs(10),
            webhooks: worker::webhooks::WebhookConfig {
                callback_secret: None,
                max_attempts: 3,
                first_backoff: Duration::from_secs(5),
                max_backoff: Duration::from_secs(60),
                concurrency: 8,
            },
        };
        let context = Arc::new(worker::Context {
            gateway: Arc::new(payments::SimulatedGateway::new(
                worker.pool().clone(),
                Duration::from_millis(10),
            )),
            store: worker,
            config: worker_config.clone(),
            sender: webhooks::Sender::new(policy, Duration::from_secs(5)).unwrap(),
            publisher,
            pace: worker::pace::Pace::default(),
            notices: worker::notices::InventoryNotices::default(),
            relay: waker,
        });
        background.push(tokio::spawn(worker::run(context, shutdown.clone())));
        let (addr, server, stop_serving) = serve(app).await;
        // Let the worker subscribe before the requests arrive.
        tokio::time::sleep(Duration::from_secs(1)).await;
        Self {
            url: format!("http://{addr}/v1/reservations"),
            topology,
            connection,
            channel,
            shutdown,
            background,
            server,
            stop_serving,
            worker_config,
        }
    }

    /// Stops serving, stops every task, and deletes the topology.
    pub async fn stop(self) {
        self.stop_serving.cancel();
        self.server.await.unwrap();
        self.shutdown.cancel();
        for task in self.background {
            let _ = task.await;
        }
        let webhooks = &self.worker_config.webhooks;
        let delays: Vec<Duration> = std::iter::once(self.worker_config.hold_for)
            .chain((1..=webhooks.max_attempts).map(|a| webhooks.backoff(a)))
            .collect();
        self.topology.delete(&self.channel, &delays).await.unwrap();
        self.connection.close(200, "ok".into()).await.unwrap();
    }
}
