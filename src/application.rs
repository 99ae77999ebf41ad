//! The one way to build maitred: [`Application::build`] wires the store, the broker, the API
//! and the workers from [`Settings`]; `main`, the tests and the benches all start it through
//! here. Its tasks are supervised: one that ends or panics before shutdown was asked for stops
//! the whole process with an error, instead of leaving half a process running.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Duration;

use anyhow::Context;
use backon::{BackoffBuilder, ExponentialBuilder};
use booking::Store;
use rabbitmq::Publisher;
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgPoolOptions;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::settings::{Environment, PaymentGateway, Settings};

/// Which parts a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub api: bool,
    pub worker: bool,
}

impl Roles {
    pub const ALL: Self = Self {
        api: true,
        worker: true,
    };
    pub const API: Self = Self {
        api: true,
        worker: false,
    };
    pub const WORKER: Self = Self {
        api: false,
        worker: true,
    };
}

/// The database pools: intake's, and the workers' (the same pool unless given their own).
#[derive(Debug, Clone)]
pub struct Databases {
    pub intake: Store,
    pub worker: Store,
}

impl Databases {
    /// One pool for everything (tests, and processes that run one role).
    pub fn shared(store: Store) -> Self {
        Self {
            intake: store.clone(),
            worker: store,
        }
    }

    /// Connects the pools `roles` need. With both roles in one process the workers get a pool
    /// of their own: sharing intake's, the serial lane decided 20 commands/s instead of 47/s
    /// while a crowd was arriving (BENCHMARKS.md).
    ///
    /// # Errors
    /// When the database cannot be reached.
    pub async fn connect(settings: &Settings, roles: Roles) -> anyhow::Result<Self> {
        let intake = connect_store(settings, settings.db_pool_size).await?;
        if roles.api && roles.worker {
            let worker = connect_store(settings, settings.worker_db_pool_size).await?;
            Ok(Self { intake, worker })
        } else {
            Ok(Self::shared(intake))
        }
    }
}

async fn connect_store(settings: &Settings, size: u32) -> anyhow::Result<Store> {
    let pool = PgPoolOptions::new()
        .max_connections(size)
        // Fail fast, so intake answers 503 instead of hanging while the database is down.
        .acquire_timeout(std::time::Duration::from_secs(3))
        .connect(&settings.database_url)
        .await
        .context("connecting to PostgreSQL (DATABASE_URL)")?;
    Ok(Store::new(pool))
}

/// Creates the database if it is missing and migrates it.
///
/// # Errors
/// When the database cannot be reached or a migration fails.
pub async fn migrate(settings: &Settings) -> anyhow::Result<Store> {
    if !sqlx::Postgres::database_exists(&settings.database_url)
        .await
        .context("connecting to PostgreSQL (DATABASE_URL)")?
    {
        sqlx::Postgres::create_database(&settings.database_url)
            .await
            .context("creating the database")?;
    }
    let store = connect_store(settings, 2).await?;
    booking::MIGRATOR
        .run(store.pool())
        .await
        .context("migrating the database")?;
    Ok(store)
}

/// How long declaring the topology may take once connected (dozens of quorum queues on a slow
/// cluster take seconds, a broker that stopped answering takes for ever).
const DECLARE_TIMEOUT: Duration = Duration::from_secs(60);

/// Pauses between start-up attempts to reach the broker: 500 ms, doubling up to 30 s.
const STARTUP_BACKOFF: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(500))
    .with_max_delay(Duration::from_secs(30))
    .without_max_times();

/// Start-up was stopped (a signal) before it finished: not a failure.
#[derive(Debug, thiserror::Error)]
#[error("start-up was stopped before the broker could be reached")]
pub struct StartupCancelled;

/// Declares the RabbitMQ topology (idempotent), retrying with back-off for as long as the
/// broker cannot be reached or does not answer, until `shutdown`.
///
/// # Errors
/// [`StartupCancelled`] when `shutdown` came first, or when the broker refuses a declaration
/// (arguments that differ from the existing queues', say: retrying would not help).
pub async fn declare_topology(
    settings: &Settings,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let url = rabbitmq::with_heartbeat(&settings.amqp_url, settings.amqp_heartbeat);
    let broker = rabbitmq::address(&url);
    let mut delays = STARTUP_BACKOFF.build();
    for attempt in 1.. {
        let attempt_once = async {
            let connection =
                rabbitmq::connect_within(&url, "maitred-setup", settings.amqp_connect_timeout)
                    .await?;
            Ok::<_, anyhow::Error>(declare_on(settings, connection))
        };
        let declared = tokio::select! {
            () = shutdown.cancelled() => return Err(StartupCancelled.into()),
            connected = attempt_once => match connected {
                Ok(declaring) => tokio::select! {
                    () = shutdown.cancelled() => return Err(StartupCancelled.into()),
                    declared = tokio::time::timeout(DECLARE_TIMEOUT, declaring) => declared
                        .unwrap_or_else(|_| Err(DeclareError::Unreachable(anyhow::anyhow!(
                            "no answer to the declarations within {DECLARE_TIMEOUT:?}"
                        )))),
                },
                Err(error) => Err(DeclareError::Unreachable(error)),
            },
        };
        let error = match declared {
            Ok(()) => {
                tracing::info!(%broker, "RabbitMQ topology declared");
                return Ok(());
            }
            Err(DeclareError::Refused(error)) => {
                return Err(error.context(format!("declaring the RabbitMQ topology on {broker}")))
            }
            Err(DeclareError::Unreachable(error)) => error,
        };
        let backoff = delays.next().unwrap_or(Duration::from_secs(30));
        tracing::warn!(
            %broker,
            attempt,
            ?backoff,
            error = format!("{error:#}"),
            "RabbitMQ cannot be reached or does not answer (AMQP_URL); retrying"
        );
        tokio::select! {
            () = shutdown.cancelled() => return Err(StartupCancelled.into()),
            () = tokio::time::sleep(backoff) => {}
        }
    }
    unreachable!("the attempts never run out")
}

/// Whether a failed declaration is worth retrying.
enum DeclareError {
    /// The connection or channel failed or went silent: the broker may come back.
    Unreachable(anyhow::Error),
    /// The broker answered and said no.
    Refused(anyhow::Error),
}

async fn declare_on(
    settings: &Settings,
    connection: rabbitmq::lapin::Connection,
) -> Result<(), DeclareError> {
    let unreachable = |e: rabbitmq::lapin::Error| DeclareError::Unreachable(e.into());
    let channel = connection.create_channel().await.map_err(unreachable)?;
    if let Err(error) = settings.topology().declare(&channel).await {
        // A channel closed by the broker is a refusal; a connection lost is not.
        return Err(if connection.status().connected() {
            DeclareError::Refused(error.into())
        } else {
            DeclareError::Unreachable(error.into())
        });
    }
    connection
        .close(200, "declared".into())
        .await
        .map_err(unreachable)
}

/// A process of maitred, built and ready to start: everything shared by its parts is made
/// once here, and each part is started by a `spawn_*` method (or all of them by
/// [`Application::start`]).
pub struct Application {
    /// Read by the `spawn_*` methods when they start a part, so a test may change a setting
    /// (a shorter hold, say) before it starts the workers.
    pub settings: Settings,
    roles: Roles,
    databases: Databases,
    publisher: Arc<Publisher>,
    relay: Option<outbox::Relay>,
    relay_waker: outbox::RelayWaker,
    api: Option<api::AppState>,
    http_addr: Option<SocketAddr>,
    shutdown: CancellationToken,
    tasks: JoinSet<anyhow::Result<()>>,
    /// Each task's name, for the logs and the error that stops the process.
    task_names: HashMap<tokio::task::Id, &'static str>,
}

impl Application {
    /// Declares the topology and builds the parts `roles` asks for. Nothing runs yet.
    ///
    /// # Errors
    /// As [`Application::build_until`], which this is with a shutdown nobody asks for.
    pub async fn build(
        settings: Settings,
        roles: Roles,
        databases: Databases,
    ) -> anyhow::Result<Self> {
        Self::build_until(settings, roles, databases, CancellationToken::new()).await
    }

    /// [`Application::build`], waiting for the broker (with logged retries) until `shutdown`,
    /// which then also stops the application.
    ///
    /// # Errors
    /// [`StartupCancelled`] when `shutdown` came before the broker; when the broker refuses
    /// the topology, or a setting the roles need is missing or unusable (the API needs
    /// `MAITRED_JWT_SECRET`).
    pub async fn build_until(
        mut settings: Settings,
        roles: Roles,
        databases: Databases,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        settings.refuse_unsafe()?;
        // Whichever pool makes a transition schedules its reminders by the same plan.
        let plan = settings.notification_plan();
        let databases = Databases {
            intake: databases.intake.with_notification_plan(plan.clone()),
            worker: databases.worker.with_notification_plan(plan),
        };
        // Every connection the parts open reads this URL, so each gets the short heartbeat.
        settings.amqp_url = rabbitmq::with_heartbeat(&settings.amqp_url, settings.amqp_heartbeat);
        // Installed before anything records a metric.
        api::monitoring::prometheus();
        declare_topology(&settings, &shutdown).await?;
        let publisher = Arc::new(
            Publisher::new(&settings.amqp_url, settings.topology())
                .with_timeouts(settings.amqp_connect_timeout, settings.amqp_publish_timeout),
        );
        // Every process relays the follow-up messages its own commits queue, and picks up
        // what others left behind.
        let relay = outbox::Relay::new(databases.intake.clone(), publisher.clone());
        let relay_waker = relay.waker();
        let api = if roles.api {
            let store = databases.intake.clone();
            Some(api::AppState {
                store: store.clone(),
                publisher: publisher.clone(),
                relay: relay_waker.clone(),
                url_policy: settings.url_policy()?,
                callback_secret: settings.callback_secret()?,
                gateway: settings.payment_gateway.name().into(),
                auth: Arc::new(settings.authority()?),
                pricing: settings.pricing_steps.clone(),
                intake: outbox::IntakeBatcher::start(store, publisher.clone()),
                queue_insight: Arc::default(),
                sold_out: Arc::default(),
                decisions: Arc::new(api::decisions::DecisionWaiters::for_limit(
                    settings.http_limits().max_concurrent_requests,
                )),
                dead_letters: Arc::new(rabbitmq::DeadLetters::new(
                    &settings.amqp_url,
                    settings.topology(),
                )),
                limits: settings.http_limits(),
                rate_limits: Arc::new(api::rate_limit::RateLimits::new(
                    settings.rate_limit_config()?,
                )),
                web: settings.web_settings(),
                popular_cities: Arc::default(),
                sign_in: Arc::default(),
                sign_in_links: Arc::new(api::guest_sign_in::SignInLinks::new(
                    settings.notifier()?,
                    &settings.public_url(),
                    settings.environment == Environment::Development,
                )),
            })
        } else {
            None
        };
        Ok(Self {
            settings,
            roles,
            databases,
            publisher,
            relay: Some(relay),
            relay_waker,
            api,
            http_addr: None,
            shutdown,
            tasks: JoinSet::new(),
            task_names: HashMap::new(),
        })
    }

    /// Starts every part of the process's roles: the relay and queue-depth metrics always; the
    /// sweeper, the sold-out view and the HTTP server for the API; the workers.
    ///
    /// # Errors
    /// When an address cannot be bound or a worker setting is unusable.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        self.spawn_relay();
        self.spawn(
            "queue depths",
            worker::queue_depths::run(
                self.settings.amqp_url.clone(),
                self.settings.topology(),
                self.settings.queue_depth_interval,
                self.shutdown.clone(),
            ),
        );
        if self.roles.api {
            self.spawn_sweeper();
            self.spawn_sold_out_view();
            self.serve_http().await?;
        } else if let Some(addr) = self.settings.metrics_addr {
            self.serve_metrics(addr).await?;
        }
        if self.roles.worker {
            self.spawn_worker()?;
        }
        Ok(())
    }

    /// The HTTP application, for a caller that serves it itself (or tests it in process).
    /// `None` without the API role.
    pub fn router(&self) -> Option<axum::Router> {
        self.api.clone().map(api::app)
    }

    /// What the API's handlers share. `None` without the API role.
    pub fn api_state(&self) -> Option<&api::AppState> {
        self.api.as_ref()
    }

    /// The address the API listens on, once [`Application::start`] bound it.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    pub fn publisher(&self) -> &Arc<Publisher> {
        &self.publisher
    }

    pub fn relay_waker(&self) -> &outbox::RelayWaker {
        &self.relay_waker
    }

    /// Cancelled when the process is stopping.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs `task` under supervision: it must run until shutdown.
    pub fn spawn<F>(&mut self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawn_fallible(name, async move {
            task.await;
            Ok(())
        });
    }

    fn spawn_fallible<F>(&mut self, name: &'static str, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let id = self.tasks.spawn(task).id();
        self.task_names.insert(id, name);
    }

    /// Starts the outbox relay (once; later calls do nothing).
    pub fn spawn_relay(&mut self) {
        if let Some(relay) = self.relay.take() {
            let run = relay.run(self.settings.relay_interval, self.shutdown.clone());
            self.spawn("outbox relay", run);
        }
    }

    /// Starts the outbox sweeper, which publishes what an intake left unpublished.
    pub fn spawn_sweeper(&mut self) {
        let run = outbox::run_sweeper(
            self.databases.intake.clone(),
            self.publisher.clone(),
            outbox::SweeperConfig {
                interval: self.settings.sweep_interval,
                min_age: self.settings.sweep_min_age,
                hold_grace: self.settings.hold_grace,
            },
            self.shutdown.clone(),
        );
        self.spawn("outbox sweeper", run);
    }

    /// Keeps intake's sold-out view up to date from the workers' notices, so a flash crowd is
    /// turned away at the door. Does nothing without the API role.
    pub fn spawn_sold_out_view(&mut self) {
        let Some((view, waiters)) = self
            .api
            .as_ref()
            .map(|api| (api.sold_out.clone(), api.decisions.clone()))
        else {
            return;
        };
        let follow = view.follow(
            waiters,
            self.settings.amqp_url.clone(),
            self.settings.topology(),
            self.shutdown.clone(),
        );
        self.spawn("sold-out view", follow);
    }

    /// Starts a worker on every partition, the payments and the webhooks.
    ///
    /// # Errors
    /// When a worker setting is unusable.
    pub fn spawn_worker(&mut self) -> anyhow::Result<()> {
        let store = self.databases.worker.clone();
        let gateway: Arc<dyn payments::PaymentGateway> = match self.settings.payment_gateway {
            PaymentGateway::Simulated => Arc::new(payments::SimulatedGateway::new(
                store.pool().clone(),
                self.settings.gateway_latency,
            )),
        };
        let sender =
            webhooks::Sender::new(self.settings.url_policy()?, self.settings.webhook_timeout)
                .context("building the webhook HTTP client")?;
        let config = self.settings.worker_config()?;
        let notifier = self.settings.notifier()?;
        if notifier.name() == "log" {
            if self.settings.environment == Environment::Development {
                tracing::info!("MAITRED_SMTP_URL is not set: emails are written to the log");
            } else {
                tracing::warn!(
                    "MAITRED_SMTP_URL is not set: emails are written to the log, not sent"
                );
            }
        }
        let delivery_slots = worker::delivery_slots::DeliverySlots::new(
            config.webhooks.callback_concurrency,
            config.webhooks.per_host_concurrency,
        );
        let context = Arc::new(worker::Context {
            store,
            config,
            delivery_slots,
            notifier,
            gateway,
            sender,
            publisher: self.publisher.clone(),
            relay: self.relay_waker.clone(),
            pace: worker::pace::Pace::default(),
            notices: worker::notices::InventoryNotices::default(),
        });
        tracing::info!(partitions = self.settings.partitions, "worker starting");
        self.spawn("worker", worker::run(context, self.shutdown.clone()));
        Ok(())
    }

    /// Serves the API and the website on `settings.http_addr` (port 0: any free port; see
    /// [`Self::http_addr`]).
    pub async fn serve_http(&mut self) -> anyhow::Result<()> {
        let addr = self.settings.http_addr;
        let router = self.router().context("serving HTTP needs the API role")?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        self.http_addr = Some(local);
        tracing::info!(addr = %local, "API listening");
        let stop = self.shutdown.clone();
        let header_timeout = self.settings.http_header_timeout;
        self.spawn_fallible("HTTP server", async move {
            api::server::serve(listener, router, header_timeout, stop)
                .await
                .context("HTTP server failed")
        });
        Ok(())
    }

    async fn serve_metrics(&mut self, addr: SocketAddr) -> anyhow::Result<()> {
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
        let stop = self.shutdown.clone();
        let header_timeout = self.settings.http_header_timeout;
        self.spawn_fallible("metrics server", async move {
            api::server::serve(listener, app, header_timeout, stop)
                .await
                .context("metrics server failed")
        });
        Ok(())
    }

    /// Runs until `stop` resolves (a signal, say) or a task ends by itself, then stops every
    /// part gracefully: the API finishes the requests in flight, the workers settle the
    /// messages in hand.
    ///
    /// # Errors
    /// When a task ended or panicked before shutdown was asked for: the process is then only
    /// partly working, so it should exit and be restarted.
    pub async fn run_until(mut self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let failure = tokio::select! {
            // Shutdown first: the tasks watch the same token, so when it is cancelled some may
            // already have ended, as asked, by the time this is polled.
            biased;
            () = self.shutdown.cancelled() => None,
            () = stop => None,
            Some(ended) = self.tasks.join_next_with_id() => {
                let why = self.why_it_ended(ended);
                // Ended cleanly because shutdown began meanwhile: not a failure.
                (!(self.shutdown.is_cancelled() && why.is::<Stopped>())).then_some(why)
            }
        };
        if let Some(failure) = &failure {
            tracing::error!(
                error = format!("{failure:#}"),
                "a task stopped before shutdown; stopping"
            );
        }
        let stopped = self.stop().await;
        failure.map_or(stopped, Err)
    }

    /// Asks every part to stop and waits for them, at most the shutdown grace. The pools are
    /// the caller's to close.
    ///
    /// # Errors
    /// The first task that failed or panicked while stopping.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let grace = self.settings.shutdown_grace;
        let mut first_failure = None;
        let all_done = async {
            while let Some(ended) = self.tasks.join_next_with_id().await {
                if let Err(error) = self.why_it_ended(ended).downcast::<Stopped>() {
                    tracing::error!(error = format!("{error:#}"), "a task failed while stopping");
                    first_failure.get_or_insert(error);
                }
            }
        };
        if tokio::time::timeout(grace, all_done).await.is_err() {
            // Whatever is still in hand is redelivered by the broker or re-published from the
            // outbox: stopping late loses nothing, it only delays.
            tracing::warn!(?grace, "in-flight work did not finish; stopping anyway");
        }
        tracing::info!("stopped");
        first_failure.map_or(Ok(()), Err)
    }

    /// What a task's end means: [`Stopped`] when it returned cleanly, or its failure.
    fn why_it_ended(
        &self,
        ended: Result<(tokio::task::Id, anyhow::Result<()>), tokio::task::JoinError>,
    ) -> anyhow::Error {
        let name = |id| self.task_names.get(&id).copied().unwrap_or("task");
        match ended {
            Ok((id, Ok(()))) => Stopped(name(id)).into(),
            Ok((id, Err(error))) => error.context(format!("the {} failed", name(id))),
            Err(join) => anyhow::anyhow!("the {} panicked: {join}", name(join.id())),
        }
    }
}

/// A task that returned: right after shutdown, wrong before it.
#[derive(Debug, thiserror::Error)]
#[error("the {0} stopped on its own")]
struct Stopped(&'static str);

/// Resolves on SIGINT or SIGTERM.
pub async fn signal() {
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
}
