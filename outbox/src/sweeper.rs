//! The safety net. Every `interval` the sweeper publishes booking requests whose `decide`
//! command was never confirmed (the API died, or the broker was away), and asks the partition
//! to expire holds whose expiry timer was lost (a broker that lost a message, a partition
//! dead-lettered and replayed late).

use std::sync::Arc;
use std::time::Duration;

use booking::messages::{Command, Envelope};
use booking::Store;
use rabbitmq::Publisher;
use tokio_util::sync::CancellationToken;

use crate::intake::{settle, Relayed, Relayer};

/// Settings of the sweeper.
#[derive(Debug, Clone, Copy)]
pub struct SweeperConfig {
    /// How often to look.
    pub interval: Duration,
    /// How old an outbox row must be before the sweeper takes it: older than any publish that
    /// intake may still be settling.
    pub min_age: Duration,
    /// How long past its expiry a hold may stay `held` before the sweep nudges its partition:
    /// long enough for the timer to have fired and been decided.
    pub hold_grace: Duration,
}

/// Holds nudged per round at most, and how long before the same hold is nudged again (its
/// partition may simply have a long queue).
const HOLD_BATCH: i64 = 500;
const RENUDGE_AFTER: Duration = Duration::from_secs(300);

/// Runs until `shutdown`.
pub async fn run_sweeper(
    store: Store,
    publisher: Arc<Publisher>,
    config: SweeperConfig,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(config.interval) => {}
        }
        let relayed = sweep_intake(&store, &publisher, config.min_age, &shutdown).await;
        if relayed > 0 {
            tracing::info!(relayed, "the sweeper published stranded requests");
        }
        let nudged = sweep_holds(&store, &publisher, config.hold_grace).await;
        if nudged > 0 {
            tracing::info!(
                nudged,
                "the sweeper asked partitions to expire overdue holds"
            );
        }
    }
}

async fn sweep_intake(
    store: &Store,
    publisher: &Publisher,
    min_age: Duration,
    shutdown: &CancellationToken,
) -> u64 {
    let mut relayed = 0;
    while !shutdown.is_cancelled() {
        match store.claim_stale_outbox(min_age).await {
            Ok(Some(claim)) => match settle(claim, publisher, Relayer::Other).await {
                Relayed::Published => relayed += 1,
                // The broker is refusing or unreachable: try again next round. (The oldest
                // row comes first, so one full partition delays the others' rows too.)
                _ => break,
            },
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(%error, "outbox sweep failed");
                break;
            }
        }
    }
    relayed
}

/// Expiry goes through the partition like every inventory change; the sweep only asks.
async fn sweep_holds(store: &Store, publisher: &Publisher, grace: Duration) -> usize {
    let overdue = match store.overdue_holds(grace, RENUDGE_AFTER, HOLD_BATCH).await {
        Ok(overdue) => overdue,
        Err(error) => {
            tracing::warn!(%error, "hold sweep failed");
            return 0;
        }
    };
    let mut nudged = 0;
    for (reservation_id, restaurant_id) in overdue {
        let envelope = Envelope {
            restaurant_id,
            command: Command::ExpireHold { reservation_id },
        };
        let message_id = uuid::Uuid::new_v4().to_string();
        // A nudge is the sweeper's own message, not part of a client's request.
        match crate::publish_command(publisher, &envelope, &message_id, None, Duration::ZERO).await
        {
            Ok(()) => nudged += 1,
            // It was stamped as nudged; the next nudge comes after RENUDGE_AFTER.
            Err(error) => {
                tracing::warn!(%error, %reservation_id, "could not nudge an overdue hold")
            }
        }
    }
    nudged
}
