//! The serial lane: every command that changes a restaurant's inventory, decided one at a time
//! against the booking store.

use booking::messages::{Command, Envelope};
use booking::{Decision, DecisionPolicy, InventorySync, Settled};
use chrono::Utc;
use rabbitmq::lapin::message::Delivery;
use rabbitmq::Disposition;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::Context;

/// What a command did, for the log.
#[derive(Debug)]
enum Outcome {
    Decided(Decision),
    Settled(Settled),
    /// Future inventory rows brought in line with the tables in service.
    #[expect(dead_code, reason = "read through Debug, by the log line")]
    Synced(InventorySync),
}

impl Outcome {
    /// The `outcome` label of `maitred_commands_total`.
    fn label(&self) -> &'static str {
        match self {
            Outcome::Decided(Decision::Held { .. }) => "held",
            Outcome::Decided(Decision::Confirmed { .. }) => "confirmed",
            Outcome::Decided(Decision::Rejected(reason)) => reason.as_str(),
            Outcome::Decided(Decision::AlreadyDecided(_)) => "already_decided",
            Outcome::Decided(Decision::Missing) | Outcome::Settled(Settled::Missing) => "missing",
            Outcome::Settled(Settled::Moved(status)) => status.as_str(),
            Outcome::Settled(Settled::Refunding) => "refunding",
            Outcome::Settled(Settled::Unchanged(_)) => "unchanged",
            Outcome::Synced(_) => "synced",
        }
    }

    fn refers_to_nothing(&self) -> bool {
        matches!(
            self,
            Outcome::Decided(Decision::Missing) | Outcome::Settled(Settled::Missing)
        )
    }
}

/// Handles one delivery of a partition. Never panics on input: a malformed message or one that
/// refers to nothing goes to the dead-letter queue at once, so it never holds up its partition.
pub async fn handle(
    context: &Context,
    delivery: Delivery,
    shutdown: CancellationToken,
) -> Disposition {
    let envelope: Envelope = match serde_json::from_slice(&delivery.data) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::warn!(%error, bytes = delivery.data.len(), "malformed message: dead-lettering it");
            return Disposition::DeadLetter;
        }
    };
    let span = tracing::info_span!(
        "command",
        kind = envelope.command.kind(),
        reservation_id = envelope.command.reservation_id().map(tracing::field::display),
        restaurant_id = %envelope.restaurant_id,
        request_id = crate::request_id(&delivery),
        redelivered = delivery.redelivered,
    );
    let started = std::time::Instant::now();
    let command = envelope.command.kind();
    async {
        let result = crate::with_database(&shutdown, || {
            execute(context, envelope.restaurant_id, &envelope.command)
        })
        .await;
        let label = match &result {
            Some(Ok(outcome)) => outcome.label(),
            Some(Err(_)) => "failed",
            None => "interrupted",
        };
        metrics::counter!("maitred_commands_total", "command" => command, "outcome" => label)
            .increment(1);
        let took = started.elapsed();
        metrics::histogram!("maitred_command_duration_seconds", "command" => command)
            .record(took.as_secs_f64());
        // Only decisions made: a database outage's back-off is not the lane's pace.
        if matches!(result, Some(Ok(_))) {
            context.pace.observe(took);
        }
        match result {
            None => Disposition::Retry,
            Some(Ok(outcome)) if outcome.refers_to_nothing() => {
                tracing::warn!("the command refers to nothing: dead-lettering it");
                Disposition::DeadLetter
            }
            Some(Ok(outcome)) => {
                tracing::info!(?outcome, "done");
                context.relay.wake();
                Disposition::Ack
            }
            Some(Err(error)) => {
                // A brief pause so a failing message does not spin; the delivery limit
                // dead-letters it if it keeps failing.
                tracing::error!(error = ?error, "command failed; requeueing");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                Disposition::Retry
            }
        }
    }
    .instrument(span)
    .await
}

async fn execute(
    context: &Context,
    restaurant_id: uuid::Uuid,
    command: &Command,
) -> sqlx::Result<Outcome> {
    let store = &context.store;
    Ok(match command {
        Command::Decide { reservation_id } => {
            let policy = DecisionPolicy {
                hold_for: context.config.hold_for,
                gateway: context.gateway.name().to_owned(),
                pricing: context.config.pricing.clone(),
            };
            Outcome::Decided(store.decide(*reservation_id, &policy).await?)
        }
        Command::Settle {
            reservation_id,
            payment_id,
        } => Outcome::Settled(store.settle(*reservation_id, *payment_id).await?),
        Command::ExpireHold { reservation_id } => {
            Outcome::Settled(store.expire_hold(*reservation_id).await?)
        }
        Command::Cancel {
            reservation_id,
            actor,
            full_refund,
        } => Outcome::Settled(
            store
                .cancel(*reservation_id, actor, *full_refund, Utc::now())
                .await?,
        ),
        Command::SyncInventory => Outcome::Synced(store.sync_inventory(restaurant_id).await?),
    })
}
