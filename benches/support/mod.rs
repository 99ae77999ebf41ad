//! What both benchmarks share: a throwaway database of their own, the report file, and small
//! statistics helpers.
#![allow(dead_code)] // each bench uses its own part

use std::net::SocketAddr;
use std::time::{Duration, Instant};

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

/// The settings every maitred contender runs with: a topology of its own (`bench-<random>.`),
/// a simulated gateway of 10 ms, no webhooks to loopback, and no per-client limits (a bench is
/// one client booking as fast as it can: exactly what the limits refuse).
fn bench_settings(partitions: u16, max_length: u32, prefetch: u16) -> maitred::settings::Settings {
    let mut settings = maitred::settings::Settings::from_env().unwrap();
    settings.amqp_url = amqp_url();
    settings.amqp_prefix = format!("bench-{}.", &Uuid::new_v4().simple().to_string()[..12]);
    settings.partitions = partitions;
    settings.max_queue_length = max_length;
    settings.delivery_limit = 5;
    settings.prefetch = prefetch;
    settings.http_addr = "127.0.0.1:0".parse().unwrap();
    settings.pricing_steps = booking::PricingSteps::default();
    settings.hold_for = Duration::from_secs(600);
    settings.payment_concurrency = 4;
    settings.gateway_latency = Duration::from_millis(10);
    settings.webhook_secret = None;
    settings.webhook_allowed_networks = String::new();
    settings.webhook_max_attempts = 3;
    settings.webhook_max_backoff = Duration::from_secs(60);
    settings.webhook_timeout = Duration::from_secs(5);
    settings.webhook_concurrency = 8;
    settings.jwt_secret = Some("bench-jwt-secret-bench-jwt-secret-0123456789".into());
    settings.admin_token = None;
    settings.rate_limits = maitred::settings::Switch::Off;
    settings
}

/// The topology `settings` declare, and every delay queue its processes may declare.
fn topology_of(settings: &maitred::settings::Settings) -> (rabbitmq::Topology, Vec<Duration>) {
    let webhooks = settings.webhook_config().unwrap();
    let emails = settings.notification_config();
    let delays = std::iter::once(settings.hold_for)
        .chain((1..=webhooks.max_attempts).map(|a| webhooks.backoff(a)))
        // An email job that finds another attempt sending it looks again later.
        .chain((1..=emails.max_attempts).map(|a| emails.backoff(a)))
        .collect();
    (settings.topology(), delays)
}

/// Deletes a contender's queues and exchanges.
async fn delete_topology(topology: &rabbitmq::Topology, delays: &[Duration]) {
    let connection = rabbitmq::connect(&amqp_url(), "maitred-bench")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    topology.delete(&channel, delays).await.unwrap();
    connection.close(200, "ok".into()).await.unwrap();
}

/// maitred end to end in this process, built as `maitred up` builds it: intake served on a
/// local port, the outbox relay and sweeper, the sold-out view, and the worker on its own store
/// (which may share intake's pool).
pub struct Maitred {
    /// Where bookings are posted.
    pub url: String,
    application: maitred::application::Application,
    topology: rabbitmq::Topology,
    delays: Vec<Duration>,
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
        use maitred::application::{Application, Databases, Roles};

        let settings = bench_settings(partitions, max_length, prefetch);
        let (topology, delays) = topology_of(&settings);
        let mut application =
            Application::build(settings, Roles::ALL, Databases { intake, worker })
                .await
                .unwrap();
        application.start().await.unwrap();
        let addr = application.http_addr().unwrap();
        // Let the worker subscribe before the requests arrive.
        tokio::time::sleep(Duration::from_secs(1)).await;
        Self {
            url: format!("http://{addr}/v1/reservations"),
            application,
            topology,
            delays,
        }
    }

    /// Stops serving, stops every task, and deletes the topology.
    pub async fn stop(self) {
        self.application.stop().await.unwrap();
        delete_topology(&self.topology, &self.delays).await;
    }
}

/// maitred as a deployment runs it: `processes` × `maitred work` (each with its home share of
/// the partitions) and `processes` × `maitred serve`, separate processes of the built binary,
/// on the bench's database and a topology of their own on the broker(s) of `AMQP_URL` (the
/// nodes of `scripts/rabbitmq-cluster.sh` when it lists them).
pub struct MaitredProcesses {
    /// Where each API process takes bookings.
    pub urls: Vec<String>,
    children: Vec<std::process::Child>,
    topology: rabbitmq::Topology,
    delays: Vec<Duration>,
}

impl MaitredProcesses {
    /// Starts the processes, API processes and workers with `pools` database connections each;
    /// returns once every API process is ready and the workers have had a moment to subscribe.
    pub async fn start(
        db_url: &str,
        (partitions, prefetch): (u16, u16),
        processes: u16,
        (api_pool, worker_pool): (u32, u32),
    ) -> Self {
        let settings = bench_settings(partitions, 1_000_000, prefetch);
        let (topology, delays) = topology_of(&settings);
        let command = |subcommand: &str| {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_maitred"));
            command
                .arg(subcommand)
                .env("MAITRED_ENV", "development")
                .env("DATABASE_URL", db_url)
                .env("AMQP_URL", &settings.amqp_url)
                .env("MAITRED_AMQP_PREFIX", &settings.amqp_prefix)
                .env("MAITRED_PARTITIONS", partitions.to_string())
                .env(
                    "MAITRED_MAX_QUEUE_LENGTH",
                    settings.max_queue_length.to_string(),
                )
                .env(
                    "MAITRED_DELIVERY_LIMIT",
                    settings.delivery_limit.to_string(),
                )
                .env("MAITRED_PREFETCH", prefetch.to_string())
                .env("MAITRED_HOLD_FOR", "600s")
                .env("MAITRED_PAYMENT_CONCURRENCY", "4")
                .env("MAITRED_GATEWAY_LATENCY", "10ms")
                .env("MAITRED_WEBHOOK_MAX_ATTEMPTS", "3")
                .env("MAITRED_WEBHOOK_MAX_BACKOFF", "60s")
                .env(
                    "MAITRED_JWT_SECRET",
                    "bench-jwt-secret-bench-jwt-secret-0123456789",
                )
                .env("MAITRED_RATE_LIMITS", "off")
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null());
            command
        };
        let mut children = Vec::new();
        for index in 0..processes {
            children.push(
                command("work")
                    .env("MAITRED_DB_POOL_SIZE", worker_pool.to_string())
                    .env("MAITRED_WORKER_INDEX", index.to_string())
                    .env("MAITRED_WORKER_COUNT", processes.to_string())
                    .spawn()
                    .expect("the maitred binary runs"),
            );
        }
        let mut urls = Vec::new();
        for _ in 0..processes {
            // A port nothing listens on now, for the process to bind.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            children.push(
                command("serve")
                    .env("MAITRED_DB_POOL_SIZE", api_pool.to_string())
                    .env("MAITRED_HTTP_ADDR", format!("127.0.0.1:{port}"))
                    .spawn()
                    .expect("the maitred binary runs"),
            );
            urls.push(format!("http://127.0.0.1:{port}"));
        }
        let client = reqwest::Client::new();
        for url in &urls {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !client
                .get(format!("{url}/readyz"))
                .send()
                .await
                .is_ok_and(|reply| reply.status().is_success())
            {
                assert!(
                    Instant::now() < deadline,
                    "{url} was not ready within a minute"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        Self {
            urls: urls
                .into_iter()
                .map(|url| format!("{url}/v1/reservations"))
                .collect(),
            children,
            topology,
            delays,
        }
    }

    /// Kills the processes and deletes the topology.
    pub async fn stop(mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        delete_topology(&self.topology, &self.delays).await;
    }
}

/// What a client learned of one booking.
#[derive(Debug, Default)]
pub struct Answer {
    /// The first answer's status (0: none).
    pub status: u16,
    /// When, since `start`, the client learned the final state.
    pub final_at: Option<Duration>,
    pub confirmed: bool,
}

/// How long a client follows a queued booking before it gives up on it.
const FOLLOW_FOR: Duration = Duration::from_secs(300);

/// Posts a booking and learns its final state as a client does: a peer's `200` is final; to
/// maitred it asks `Prefer: wait=30`, so a decision within the wait comes back at once (`200`),
/// a sold-out `409` is final, and a `202` is followed ([`follow`]). Other answers are not final.
pub async fn book(
    client: &reqwest::Client,
    url: &str,
    (id, body): (Uuid, String),
    start: Instant,
) -> Answer {
    let Ok(reply) = client
        .post(url)
        .header("content-type", "application/json")
        .header("prefer", "wait=30")
        .body(body)
        .send()
        .await
    else {
        return Answer::default();
    };
    let status = reply.status().as_u16();
    let text = reply.text().await.unwrap_or_default();
    let first: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let decided =
        |body: &serde_json::Value| body["status"].as_str().is_some_and(|s| s != "pending");
    let mut answer = Answer {
        status,
        final_at: None,
        confirmed: first["status"] == "confirmed",
    };
    if status == 409 || (status == 200 && decided(&first)) {
        answer.final_at = Some(start.elapsed());
        return answer;
    }
    let (202, Some(token)) = (status, first["accessToken"].as_str()) else {
        return answer;
    };
    if let Some((at, confirmed)) = follow(client, url, id, token, start).await {
        answer.final_at = Some(at);
        answer.confirmed = confirmed;
    }
    answer
}

/// Follows a queued maitred booking with `GET`s that wait (`Prefer: wait=30`; every second, as
/// a diner's app polls, when the process has no waiter left for it) until it is decided: when, since `start`, and
/// whether it was confirmed. `None` if it never was within five minutes.
pub async fn follow(
    client: &reqwest::Client,
    url: &str,
    id: Uuid,
    token: &str,
    start: Instant,
) -> Option<(Duration, bool)> {
    let deadline = Instant::now() + FOLLOW_FOR;
    while Instant::now() < deadline {
        let Ok(reply) = client
            .get(format!("{url}/{id}"))
            .header("prefer", "wait=30")
            .bearer_auth(token)
            .send()
            .await
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let waited = reply.headers().contains_key("preference-applied");
        let bytes = reply.bytes().await.unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if body["status"].as_str().is_some_and(|s| s != "pending") {
            return Some((start.elapsed(), body["status"] == "confirmed"));
        }
        if !waited {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    None
}

/// The sum and count of a Prometheus histogram (or summary), over the series whose labels
/// contain `filter`.
pub fn metric_sum_count(text: &str, name: &str, filter: &str) -> (f64, f64) {
    let mut sum = 0.0;
    let mut count = 0.0;
    for line in text.lines() {
        let value = || {
            line.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        if !line.contains(filter) {
            continue;
        }
        if line.starts_with(&format!("{name}_sum")) {
            sum += value();
        } else if line.starts_with(&format!("{name}_count")) {
            count += value();
        }
    }
    (sum, count)
}

/// maitred's mean stage times so far, from this process's metrics (ms): a whole
/// `POST /v1/reservations` as the server saw it (with `Prefer: wait`, up to the decision's
/// answer), from the request's record to its decision, the worker's time per command, and the
/// mean run of decisions and intake batch.
pub fn maitred_stages() -> serde_json::Value {
    let text = api::monitoring::render();
    let mean = |name: &str, filter: &str, scale: f64| {
        let (sum, count) = metric_sum_count(&text, name, filter);
        scale * sum / count.max(1.0)
    };
    serde_json::json!({
        "post_ms": mean("maitred_http_request_duration_seconds", "route=\"/v1/reservations\"", 1e3),
        "get_ms": mean("maitred_http_request_duration_seconds", "route=\"/v1/reservations/{id}\"", 1e3),
        "recorded_to_decided_ms": mean("maitred_decision_latency_seconds", "", 1e3),
        "worker_ms_per_command": mean("maitred_command_duration_seconds", "", 1e3),
        "decide_run_size": mean("maitred_decide_run_size", "", 1.0),
        "intake_batch_size": mean("maitred_intake_batch_size", "", 1.0),
    })
}
