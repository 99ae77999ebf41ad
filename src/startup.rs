//! Start-up and the process's life: connect, migrate, declare the topology, run the roles, and
//! stop them gracefully on SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use booking::Store;
use rabbitmq::Publisher;
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;

use crate::cli::Settings;

/// How often the relay looks for outbound messages nobody woke it for.
const RELAY_INTERVAL: Duration = Duration::from_secs(1);
/// How long a stopping process waits for in-flight requests and messages.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How often queue depths are polled into metrics.
const QUEUE_DEPTH_INTERVAL: Duration = Duration::from_secs(5);

/// Which parts this process runs.
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub api: bool,
    pub worker: bool,
}

impl Roles {
    pub fn all() -> Self {
        Self {
            api: true,
            worker: true,
        }
    }
    pub fn api() -> Self {
        Self {
            api: true,
            worker: false,
        }
    }
    pub fn worker() -> Self {
        Self {
            api: false,
            worker: true,
        }
    }
}

/// Connects to PostgreSQL.
///
/// # Errors
/// When the database cannot be reached.
pub async fn connect_store(settings: &Settings) -> anyhow::Result<Store> {
    connect_pool(settings, settings.db_pool_size).await
}

async fn connect_pool(settings: &Settings, size: u32) -> anyhow::Result<Store> {
    let pool = PgPoolOptions::new()
        .max_connections(size)
        // Fail fast, so intake answers 503 instead of hanging while the database is down.
        .acquire_timeout(Duration::from_secs(3))
        .connect(&settings.database_url)
        .await
        .context("connecting to PostgreSQL (DATABASE_URL)")?;
    Ok(Store::new(pool))
}

/// Creates the database if it is missing and migrates it. (The topology is declared by
/// [`declare_topology`], which every running process calls at start-up.)
///
/// # Errors
/// When the database cannot be reached or a migration fails.
pub async fn prepare(settings: &Settings) -> anyhow::Result<Store> {
    if !sqlx::Postgres::database_exists(&settings.database_url)
        .await
        .context("connecting to PostgreSQL (DATABASE_URL)")?
    {
        sqlx::Postgres::create_database(&settings.database_url)
            .await
            .context("creating the database")?;
    }
    let store = connect_store(settings).await?;
    booking::MIGRATOR
        .run(store.pool())
        .await
        .context("migrating the database")?;
    Ok(store)
}

/// Declares the RabbitMQ topology (idempotent).
///
/// # Errors
/// When the broker cannot be reached or refuses a declaration.
pub async fn declare_topology(settings: &Settings) -> anyhow::Result<()> {
    let connection = rabbitmq::connect(&settings.amqp_url, "maitred-setup")
        .await
        .context("connecting to RabbitMQ (AMQP_URL)")?;
    let channel = connection.create_channel().await?;
    settings
        .topology()
        .declare(&channel)
        .await
        .context("declaring the RabbitMQ topology")?;
    connection.close(200, "declared".into()).await?;
    Ok(())
}

/// Runs the chosen roles until SIGINT or SIGTERM, then stops them gracefully: the API finishes
/// the requests in flight, and the workers settle the message in hand.
///
/// # Errors
/// When the topology cannot be declared or the HTTP address cannot be bound.
pub async fn run(settings: &Settings, store: Store, roles: Roles) -> anyhow::Result<()> {
    // Installed before anything records a metric.
    api::monitoring::prometheus();
    declare_topology(settings).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let mut tasks = tokio::task::JoinSet::new();

    let publisher = Arc::new(Publisher::new(&settings.amqp_url, settings.topology()));
    // Every process relays the follow-up messages its own commits queue, and picks up what
    // others left behind.
    let relay = outbox::Relay::new(store.clone(), publisher.clone());
    let waker = relay.waker();
    tasks.spawn(relay.run(RELAY_INTERVAL, shutdown.clone()));
    tasks.spawn(worker::queue_depths::run(
        settings.amqp_url.clone(),
        settings.topology(),
        QUEUE_DEPTH_INTERVAL,
        shutdown.clone(),
    ));
    let url_policy = settings.url_policy()?;
    let callback_secret = settings.callback_secret()?;

    if roles.api {
        tasks.spawn(outbox::run_sweeper(
            store.clone(),
            publisher.clone(),
            outbox::SweeperConfig {
                interval: Duration::from_secs(settings.sweep_interval_secs),
                min_age: Duration::from_secs(15),
                hold_grace: Duration::from_secs(30),
            },
            shutdown.clone(),
        ));
        // Sold-out hints from the workers, so a flash crowd is turned away at the door.
        let sold_out = Arc::new(api::sold_out::SoldOutView::default());
        tasks.spawn(sold_out.clone().follow(
            settings.amqp_url.clone(),
            settings.topology(),
            shutdown.clone(),
        ));
        let app = api::app(api::AppState {
            store: store.clone(),
            publisher: publisher.clone(),
            relay: waker.clone(),
            url_policy: url_policy.clone(),
            callbacks_enabled: callback_secret.is_some(),
            gateway: settings.payment_gateway.clone(),
            auth: Arc::new(settings.authority()?),
            pricing: settings.pricing_steps.clone(),
            intake: outbox::IntakeBatcher::start(store.clone(), publisher.clone()),
            queue_insight: Arc::default(),
            sold_out,
            dead_letters: Arc::new(rabbitmq::DeadLetters::new(
                &settings.amqp_url,
                settings.topology(),
            )),
        });
        let listener = tokio::net::TcpListener::bind(settings.http_addr)
            .await
            .with_context(|| format!("binding {}", settings.http_addr))?;
        tracing::info!(addr = %settings.http_addr, "API listening");
        let stop = shutdown.clone();
        tasks.spawn(async move {
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            {
                tracing::error!(%error, "HTTP server failed");
            }
        });
    }
    if let (false, Some(addr)) = (roles.api, settings.metrics_addr) {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr} for metrics"))?;
        tracing::info!(%addr, "metrics listening");
        let app = axum::Router::new()
            .route(
                "/metrics",
                axum::routing::get(|| async { api::monitoring::render() }),
            )
            .route("/healthz", axum::routing::get(|| async { "ok" }));
        let stop = shutdown.clone();
        tasks.spawn(async move {
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            {
                tracing::error!(%error, "metrics server failed");
            }
        });
    }
    if roles.worker {
        // Sharing intake's pool, the serial lane decided 20 commands/s instead of 47/s while a
        // crowd was arriving (BENCHMARKS.md): in one process, the workers get their own.
        let store = if roles.api {
            connect_pool(settings, settings.worker_db_pool_size).await?
        } else {
            store.clone()
        };
        let config = worker::WorkerConfig {
            amqp_url: settings.amqp_url.clone(),
            topology: settings.topology(),
            prefetch: settings.prefetch,
            hold_for: settings.hold_for(),
            pricing: settings.pricing_steps.clone(),
            home: settings.home_partitions(),
            payment_concurrency: settings.payment_concurrency,
            gateway_timeout: Duration::from_secs(settings.gateway_timeout_secs),
            webhooks: worker::webhooks::WebhookConfig {
                callback_secret,
                max_attempts: settings.webhook_max_attempts.max(1),
                first_backoff: Duration::from_secs(settings.webhook_first_backoff_secs.max(1)),
                max_backoff: Duration::from_secs(3600),
                concurrency: settings.webhook_concurrency,
            },
        };
        let gateway = payments::SimulatedGateway::new(
            store.pool().clone(),
            Duration::from_millis(settings.gateway_latency_ms),
        );
        let sender = webhooks::Sender::new(
            url_policy,
            Duration::from_secs(settings.webhook_timeout_secs),
        )
        .context("building the webhook HTTP client")?;
        let context = Arc::new(worker::Context {
            store: store.clone(),
            config,
            gateway: Arc::new(gateway),
            sender,
            publisher: publisher.clone(),
            relay: waker.clone(),
            pace: worker::pace::Pace::default(),
            notices: worker::notices::InventoryNotices::default(),
        });
        tracing::info!(partitions = settings.partitions, "worker starting");
        tasks.spawn(worker::run(context, shutdown.clone()));
    }

    let all_done = async { while tasks.join_next().await.is_some() {} };
    let grace_over = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        () = all_done => {}
        () = grace_over => {
            // Whatever is still in hand is redelivered by the broker or re-published from the
            // outbox: stopping late loses nothing, it only delays.
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "in-flight work did not finish; stopping anyway");
        }
    }
    store.pool().close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
pub async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received; stopping");
    shutdown.cancel();
}
