//! maitred's workers. One connection to the broker carries three kinds of consumer:
//!
//! - [`partitions`]: every partition queue, each decided strictly serially. A partition has a
//!   single active consumer, so however many workers run, each restaurant's commands are
//!   decided one at a time and in order; the others stand by and take over when it goes away.
//! - [`payments`]: payment jobs, in parallel, so a slow gateway never holds up a partition.
//!   Their outcomes go back through the restaurant's partition.
//! - [`webhooks`]: webhook deliveries, in parallel, retried with back-off through delay
//!   queues, so a slow or dead receiver never slows decisions.
//! - [`notifications`]: emails to diners, in parallel, retried like webhooks, each sent once;
//!   and the sweep that queues reminders and hold warnings when they are due.
//! - [`queue_depths`]: queue and dead-letter depths, polled into metrics.
//! - [`pace`]: this process's time per command, reported for intake's wait estimates.
//! - [`notices`]: sold-out hints for intake, published after decisions.
//!
//! Every handler acks only after its effects are committed, and every effect is idempotent,
//! so a redelivery is harmless. An unreachable database is waited out in place
//! ([`with_database`]); a broken invariant is dead-lettered at once ([`failure`]).

pub mod delivery_slots;
pub mod failure;
pub mod notices;
pub mod notifications;
pub mod pace;
pub mod partitions;
pub mod payments;
pub mod queue_depths;
pub mod retry;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use booking::Store;
use futures_util::future::join_all;
use outbox::RelayWaker;
use rabbitmq::{Publisher, Topology};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The request id that accepted the reservation a message is about (its AMQP correlation id),
/// for the logs.
pub(crate) fn request_id(delivery: &rabbitmq::lapin::message::Delivery) -> Option<&str> {
    delivery
        .properties
        .correlation_id()
        .as_ref()
        .map(|id| id.as_str())
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub amqp_url: String,
    pub topology: Topology,
    /// Deliveries in flight per partition. They are still decided one at a time; prefetch only
    /// hides the broker round trip.
    pub prefetch: u16,
    /// How long a `held` reservation keeps its tables unpaid.
    pub hold_for: Duration,
    /// The surcharge decisions add by the stay's occupancy.
    pub pricing: booking::PricingSteps,
    /// `(index, count)`: subscribe to partitions `p % count == index` first. On RabbitMQ 3.10
    /// the first subscriber of a single-active-consumer queue is the active one, so workers
    /// started together spread the partitions among themselves.
    pub home: Option<(u16, u16)>,
    /// How long after the home partitions the others are subscribed to, as a standby.
    /// RabbitMQ 3.x makes the first subscriber active, so this is how far apart workers may
    /// start and still each take their home share: 200 ms was too short for three worker
    /// processes started together against a three-node cluster (one of them took all 12
    /// partitions). A partition has no standby during its worker's first seconds, which only
    /// matters if that worker dies then.
    pub standby_delay: Duration,
    /// Payment jobs handled at once by this worker.
    pub payment_concurrency: u16,
    /// How long a gateway call may take before its outcome counts as unknown.
    pub gateway_timeout: Duration,
    pub webhooks: webhooks::WebhookConfig,
    pub notifications: notifications::NotificationConfig,
}

/// What the handlers share.
pub struct Context {
    pub store: Store,
    pub config: WorkerConfig,
    pub gateway: Arc<dyn ::payments::PaymentGateway>,
    pub sender: ::webhooks::Sender,
    /// Publishes webhook retries into their delay queues.
    pub publisher: Arc<Publisher>,
    /// Wakes this process's outbox relay after a commit that queued messages.
    pub relay: RelayWaker,
    /// Time per command on the partitions.
    pub pace: pace::Pace,
    /// Sold-out hints for intake.
    pub notices: notices::InventoryNotices,
    /// Caps on the webhook slots callbacks and any one host may hold.
    pub delivery_slots: delivery_slots::DeliverySlots,
    /// Where emails go: an SMTP server, or the log in development.
    pub notifier: Arc<dyn ::notify::Notifier>,
}

/// `x-priority` of home and standby partition subscriptions.
const HOME_PRIORITY: i32 = 10;
const STANDBY_PRIORITY: i32 = 0;

/// The longest pause between reconnection attempts and database retries.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Pauses between broker reconnections: 200 ms, doubling up to [`MAX_BACKOFF`], for ever.
const RECONNECT_BACKOFF: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(200))
    .with_max_delay(MAX_BACKOFF)
    .without_max_times();

/// Pauses between database retries: 100 ms, doubling up to [`MAX_BACKOFF`], for ever.
const DATABASE_BACKOFF: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(100))
    .with_max_delay(MAX_BACKOFF)
    .without_max_times();

/// Runs until `shutdown`: consumes every queue, reconnecting with back-off whenever the broker
/// connection fails. Returns after the messages in hand are settled and the channels are
/// closed, which hands prefetched messages back to the queues.
pub async fn run(context: Arc<Context>, shutdown: CancellationToken) {
    let reporting = tokio::spawn(pace::report(context.clone(), shutdown.clone()));
    let notifying = {
        let context = context.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move { context.notices.publish(&context.publisher, shutdown).await })
    };
    let sweeping = tokio::spawn(notifications::sweep_schedule(
        context.clone(),
        shutdown.clone(),
    ));
    let mut delays = RECONNECT_BACKOFF.build();
    while !shutdown.is_cancelled() {
        let result = consume_all(&context, &shutdown).await;
        if result.is_ok() {
            delays = RECONNECT_BACKOFF.build();
        }
        let backoff = delays.next().unwrap_or(MAX_BACKOFF);
        if let Err(error) = result {
            tracing::warn!(%error, ?backoff, "broker connection lost; reconnecting");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(backoff) => {}
        }
    }
    let _ = reporting.await;
    let _ = notifying.await;
    let _ = sweeping.await;
    tracing::info!("worker stopped");
}

/// Database connections the partitions' runs leave to the rest of the worker (the outbox relay,
/// emails, payments, sweeps).
const CONNECTIONS_BESIDE_RUNS: u32 = 2;

/// How many partitions may decide a run at once: one per database connection they can have
/// without waiting.
fn concurrent_runs(store: &booking::Store) -> usize {
    let connections = store.pool().options().get_max_connections();
    usize::try_from(connections.saturating_sub(CONNECTIONS_BESIDE_RUNS).max(1)).unwrap_or(1)
}

/// One connection's life: every queue consumed on its own channel until shutdown or until one
/// of them fails, which stops the others so the caller can reconnect.
async fn consume_all(
    context: &Arc<Context>,
    shutdown: &CancellationToken,
) -> Result<(), rabbitmq::lapin::Error> {
    let config = &context.config;
    let connection = rabbitmq::connect(&config.amqp_url, "maitred-worker").await?;
    let stop = shutdown.child_token();
    // A failed channel, or a consumer the broker cancelled, restarts the connection: no queue
    // may sit unconsumed while the others run.
    let stop_on_exit = |result: Result<(), rabbitmq::lapin::Error>| {
        if result.is_err() || !shutdown.is_cancelled() {
            stop.cancel();
        }
        result
    };

    let (home, standby) = partition_order(config);
    let turns = tokio::sync::Semaphore::new(concurrent_runs(&context.store));
    // Home partitions subscribe at a higher priority: RabbitMQ 4.0+ makes the highest-priority
    // subscriber active, 3.x the first one (hence home first, standby a moment later).
    let consume_partition = |(partition, priority): (u16, i32)| {
        let stop = stop.clone();
        let connection = &connection;
        let turns = &turns;
        async move {
            let result = rabbitmq::consume_partition(
                connection,
                &config.topology,
                rabbitmq::PartitionSubscription {
                    partition,
                    prefetch: config.prefetch,
                    priority,
                },
                turns,
                stop.clone(),
                |run| partitions::handle_run(context, run, stop.clone()),
            )
            .instrument(tracing::info_span!("partition", partition))
            .await;
            stop_on_exit(result)
        }
    };
    let home_done = join_all(
        home.into_iter()
            .map(|partition| (partition, HOME_PRIORITY))
            .map(consume_partition),
    );
    // Home partitions subscribe first; standby subscriptions follow a few seconds later.
    let standby_done = async {
        // A stop meanwhile ends the wait at once (and then each subscription at once too).
        tokio::select! {
            () = tokio::time::sleep(config.standby_delay) => {}
            () = stop.cancelled() => return Vec::new(),
        }
        join_all(
            standby
                .into_iter()
                .map(|partition| (partition, STANDBY_PRIORITY))
                .map(consume_partition),
        )
        .await
    };
    let payments_done = async {
        let result = rabbitmq::consume_concurrently(
            &connection,
            &config.topology.payments_queue(),
            config.payment_concurrency,
            stop.clone(),
            |delivery| payments::handle(context, delivery),
        )
        .instrument(tracing::info_span!("payments"))
        .await;
        stop_on_exit(result)
    };
    let webhooks_done = async {
        let result = rabbitmq::consume_concurrently(
            &connection,
            &config.topology.webhooks_queue(),
            config.webhooks.concurrency,
            stop.clone(),
            |delivery| webhooks::handle(context, delivery),
        )
        .instrument(tracing::info_span!("webhooks"))
        .await;
        stop_on_exit(result)
    };
    let notifications_done = async {
        let result = rabbitmq::consume_concurrently(
            &connection,
            &config.topology.notifications_queue(),
            config.notifications.concurrency,
            stop.clone(),
            |delivery| notifications::handle(context, delivery),
        )
        .instrument(tracing::info_span!("notifications"))
        .await;
        stop_on_exit(result)
    };
    let (home_results, standby_results, payments_result, webhooks_result, notifications_result) = tokio::join!(
        home_done,
        standby_done,
        payments_done,
        webhooks_done,
        notifications_done
    );
    let _ = connection.close(200, "worker stopping".into()).await;
    home_results
        .into_iter()
        .chain(standby_results)
        .chain([payments_result, webhooks_result, notifications_result])
        .collect()
}

fn partition_order(config: &WorkerConfig) -> (Vec<u16>, Vec<u16>) {
    let all = 0..config.topology.partitions;
    match config.home {
        Some((index, count)) if count > 0 => all.partition(|p| p % count == index),
        _ => (all.collect(), Vec::new()),
    }
}

/// Runs a database step, waiting in place while the database is unreachable: every message
/// would fail alike then, and burning through delivery limits would dead-letter good ones.
/// `None` when shutdown came first.
pub(crate) async fn with_database<T, F, Fut>(
    shutdown: &CancellationToken,
    mut step: F,
) -> Option<booking::Result<T>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = booking::Result<T>>,
{
    let mut delays = DATABASE_BACKOFF.build();
    let mut backoff = delays.next().unwrap_or(MAX_BACKOFF);
    loop {
        match step().await {
            Err(error) if error.is_unavailable() => {
                tracing::warn!(%error, ?backoff, "database unavailable; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return None,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = delays.next().unwrap_or(MAX_BACKOFF);
            }
            other => return Some(other),
        }
    }
}
