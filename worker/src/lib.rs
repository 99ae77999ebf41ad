//! maitred's workers: consume every partition, decide each command serially against the booking
//! store, and ack only after the decision is committed.
//!
//! Serial per partition, concurrent across partitions. A partition queue has a single active
//! consumer, so however many workers run, each restaurant's commands are decided one at a time
//! and in order; the others stand by and take over when the active one goes away.

use std::time::Duration;

use booking::{Decision, Store};
use futures_util::future::join_all;
use rabbitmq::lapin::message::Delivery;
use rabbitmq::{consume_partition, Disposition, Envelope, Topology};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub amqp_url: String,
    pub topology: Topology,
    /// Deliveries in flight per partition. They are still decided one at a time; prefetch only
    /// hides the broker round trip.
    pub prefetch: u16,
    /// How long a `held` reservation keeps its tables before it expires.
    pub hold_for: Duration,
    /// `(index, count)`: subscribe to partitions `p % count == index` first. On RabbitMQ 3.10
    /// the first subscriber of a single-active-consumer queue is the active one, so workers
    /// started together spread the partitions among themselves.
    pub home: Option<(u16, u16)>,
}

/// The longest pause between reconnection attempts and database retries.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Runs until `shutdown`: consumes every partition, reconnecting with back-off whenever the
/// broker connection fails. Returns after the message in hand is settled and the channels are
/// closed, which hands prefetched messages back to the queues.
pub async fn run(store: Store, config: WorkerConfig, shutdown: CancellationToken) {
    let mut backoff = Duration::from_millis(200);
    while !shutdown.is_cancelled() {
        match consume_all(&store, &config, &shutdown).await {
            Ok(()) => backoff = Duration::from_millis(200),
            Err(error) => tracing::warn!(%error, ?backoff, "broker connection lost; reconnecting"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    tracing::info!("worker stopped");
}

/// One connection's life: every partition consumed on its own channel until shutdown or until
/// one of them fails, which stops the others so the caller can reconnect.
async fn consume_all(
    store: &Store,
    config: &WorkerConfig,
    shutdown: &CancellationToken,
) -> Result<(), rabbitmq::lapin::Error> {
    let connection = rabbitmq::connect(&config.amqp_url, "maitred-worker").await?;
    let stop = shutdown.child_token();
    let (home, standby) = partition_order(config);
    let consume = |partition: u16| {
        let stop = stop.clone();
        let connection = &connection;
        async move {
            let result = consume_partition(
                connection,
                &config.topology,
                partition,
                config.prefetch,
                stop.clone(),
                |delivery| handle(store, config, delivery, stop.clone()),
            )
            .instrument(tracing::info_span!("partition", partition))
            .await;
            // A failed channel, or a consumer the broker cancelled, restarts the connection:
            // no partition may sit unconsumed while the others run.
            if result.is_err() || !shutdown.is_cancelled() {
                stop.cancel();
            }
            result
        }
    };
    let home_done = join_all(home.into_iter().map(consume));
    // Home partitions subscribe first; standby subscriptions follow a moment later.
    let standby_done = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        join_all(standby.into_iter().map(consume)).await
    };
    let (home_results, standby_results) = tokio::join!(home_done, standby_done);
    let _ = connection.close(200, "worker stopping".into()).await;
    home_results.into_iter().chain(standby_results).collect()
}

fn partition_order(config: &WorkerConfig) -> (Vec<u16>, Vec<u16>) {
    let all = 0..config.topology.partitions;
    match config.home {
        Some((index, count)) if count > 0 => all.partition(|p| p % count == index),
        _ => (all.collect(), Vec::new()),
    }
}

/// Decides one delivery. Never panics on input: a malformed message or one that refers to no
/// reservation goes to the dead-letter queue at once, so it never holds up its partition.
async fn handle(
    store: &Store,
    config: &WorkerConfig,
    delivery: Delivery,
    shutdown: CancellationToken,
) -> Disposition {
    let envelope = match Envelope::from_json(&delivery.data) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::warn!(%error, bytes = delivery.data.len(), "malformed message: dead-lettering it");
            return Disposition::DeadLetter;
        }
    };
    let reservation_id = envelope.command.reservation_id();
    let span = tracing::info_span!(
        "decide",
        %reservation_id,
        restaurant_id = %envelope.restaurant_id,
        redelivered = delivery.redelivered,
    );
    async {
        let mut backoff = Duration::from_millis(100);
        loop {
            match store.decide(reservation_id, config.hold_for).await {
                Ok(Decision::Missing) => {
                    tracing::warn!("no such reservation: dead-lettering the command");
                    return Disposition::DeadLetter;
                }
                Ok(decision) => {
                    tracing::info!(?decision, "decided");
                    return Disposition::Ack;
                }
                // While the database is down every message would fail alike: wait here rather
                // than burn through delivery limits and dead-letter good requests.
                Err(error) if booking::is_unavailable(&error) => {
                    tracing::warn!(%error, ?backoff, "database unavailable; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return Disposition::Retry,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(error) => {
                    // A brief pause so a failing message does not spin; the delivery limit
                    // dead-letters it if it keeps failing.
                    tracing::error!(error = ?error, "decision failed; requeueing");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    return Disposition::Retry;
                }
            }
        }
    }
    .instrument(span)
    .await
}
