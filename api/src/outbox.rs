//! Relaying a recorded request's command to the broker, and the sweeper.
//!
//! Intake relays right after recording. Whatever it could not settle (the API crashed, the
//! broker was unreachable, a confirm never came) stays in the outbox, and the sweeper publishes
//! it later. The worker decides a reservation only while it is pending, so a command published
//! twice is decided once.

use std::time::Duration;

use booking::{OutboxClaim, Store};
use rabbitmq::{Command, Envelope, PublishError, Publisher};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How relaying one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// The broker confirmed the command.
    Published,
    /// Nothing was left to publish (a retry of a request already relayed).
    AlreadyRelayed,
    /// The broker refused, and the request was withdrawn: nothing will happen.
    Withdrawn,
    /// The command may or may not have reached the broker; the request stays in the outbox
    /// and the sweeper makes sure it is decided.
    Deferred,
}

/// Publishes the command of a recorded, pending request, and settles its outbox row.
#[tracing::instrument(skip(store, publisher))]
pub async fn relay(store: &Store, publisher: &Publisher, reservation_id: Uuid) -> Relayed {
    match store.claim_outbox(reservation_id).await {
        Ok(Some(claim)) => settle(claim, publisher, true).await,
        Ok(None) => Relayed::AlreadyRelayed,
        Err(error) => {
            tracing::warn!(%error, "could not claim the outbox row; the sweeper will relay it");
            Relayed::Deferred
        }
    }
}

/// Publishes the claimed command. `may_withdraw` is false for the sweeper: its requests were
/// already answered `202`, so a refusal must leave them for a later attempt.
async fn settle(claim: OutboxClaim, publisher: &Publisher, may_withdraw: bool) -> Relayed {
    let envelope = Envelope {
        restaurant_id: claim.restaurant_id(),
        command: Command::Decide {
            reservation_id: claim.reservation_id(),
        },
    };
    match publisher.publish(&envelope).await {
        Ok(()) => {
            if let Err(error) = claim.published().await {
                // The sweeper publishes it again; the worker decides it once.
                tracing::warn!(%error, "published, but could not clear the outbox row");
            }
            Relayed::Published
        }
        Err(PublishError::Refused(why)) if may_withdraw => {
            tracing::info!(%why, "the broker refused the command");
            match claim.withdraw().await {
                Ok(true) => Relayed::Withdrawn,
                Ok(false) => Relayed::Deferred,
                Err(error) => {
                    tracing::warn!(%error, "could not withdraw the refused request; it stays");
                    Relayed::Deferred
                }
            }
        }
        Err(PublishError::Refused(why)) => {
            tracing::info!(%why, "the broker refused the command; it stays in the outbox");
            drop(claim); // rolls back: the row stays for the next sweep
            Relayed::Deferred
        }
        Err(PublishError::Unknown(why)) => {
            tracing::warn!(%why, "the publish outcome is unknown; the command stays in the outbox");
            if let Err(error) = claim.mark_uncertain().await {
                tracing::warn!(%error, "could not mark the outbox row uncertain");
            }
            Relayed::Deferred
        }
    }
}

/// Settings of the sweeper.
#[derive(Debug, Clone, Copy)]
pub struct SweeperConfig {
    /// How often to look for stranded requests.
    pub interval: Duration,
    /// How old an outbox row must be before the sweeper takes it: older than any publish that
    /// intake may still be settling.
    pub min_age: Duration,
}

/// Re-publishes requests whose publish was never confirmed, until `shutdown`.
pub async fn run_sweeper(
    store: Store,
    publisher: std::sync::Arc<Publisher>,
    config: SweeperConfig,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(config.interval) => {}
        }
        let mut relayed = 0u64;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match store.claim_stale_outbox(config.min_age).await {
                Ok(Some(claim)) => match settle(claim, &publisher, false).await {
                    Relayed::Published => relayed += 1,
                    // The broker is refusing or unreachable: try again next round.
                    _ => break,
                },
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "outbox sweep failed");
                    break;
                }
            }
        }
        if relayed > 0 {
            tracing::info!(relayed, "the sweeper published stranded requests");
        }
    }
}
