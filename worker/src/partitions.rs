//! The serial lane: every command that changes a restaurant's inventory, decided in queue order
//! against the booking store. The consumer hands over every delivery that has arrived; a run of
//! consecutive `decide` commands is decided in one transaction, and acked with one
//! multiple-ack once it is committed.

use booking::messages::{Command, Envelope};
use booking::store::ChangeOutcome;
use booking::{Decision, DecisionPolicy, InventorySync, Settled};
use chrono::Utc;
use rabbitmq::lapin::message::Delivery;
use rabbitmq::Disposition;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

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
            Outcome::Settled(Settled::Change(ChangeOutcome::Applied { .. })) => "modified",
            Outcome::Settled(Settled::Change(ChangeOutcome::AwaitingPayment { .. })) => {
                "modification_awaiting_payment"
            }
            Outcome::Settled(Settled::Change(ChangeOutcome::Rejected(_))) => {
                "modification_rejected"
            }
            Outcome::Settled(Settled::Change(ChangeOutcome::AlreadyDecided)) => "unchanged",
            Outcome::Settled(Settled::Change(ChangeOutcome::Missing)) => "missing",
            Outcome::Synced(_) => "synced",
        }
    }

    fn refers_to_nothing(&self) -> bool {
        matches!(
            self,
            Outcome::Decided(Decision::Missing)
                | Outcome::Settled(Settled::Missing | Settled::Change(ChangeOutcome::Missing))
        )
    }
}

/// Handles a run of deliveries of a partition, in order, and returns one disposition per
/// delivery. Consecutive `decide` commands are decided together in one transaction; any other
/// command alone, in its place. Never panics on input: a malformed message or one that refers
/// to nothing goes to the dead-letter queue at once, so it never holds up its partition.
pub async fn handle_run(
    context: &Context,
    deliveries: Vec<Delivery>,
    shutdown: CancellationToken,
) -> Vec<Disposition> {
    let mut dispositions = vec![Disposition::Retry; deliveries.len()];
    let mut decides: Vec<(usize, Envelope)> = Vec::new();
    for (i, delivery) in deliveries.iter().enumerate() {
        let envelope: Envelope = match serde_json::from_slice(&delivery.data) {
            Ok(envelope) => envelope,
            Err(error) => {
                tracing::warn!(%error, bytes = delivery.data.len(), "malformed message: dead-lettering it");
                dispositions[i] = Disposition::DeadLetter;
                continue;
            }
        };
        if matches!(envelope.command, Command::Decide { .. }) {
            decides.push((i, envelope));
            continue;
        }
        // Order matters across kinds (a cancel after the decide of the same reservation).
        decide_run(
            context,
            &deliveries,
            &mut decides,
            &mut dispositions,
            &shutdown,
        )
        .await;
        dispositions[i] = handle_one(context, delivery, envelope, &shutdown).await;
    }
    decide_run(
        context,
        &deliveries,
        &mut decides,
        &mut dispositions,
        &shutdown,
    )
    .await;
    dispositions
}

/// Decides the queued-up `decide` commands in one transaction and empties the list. If the
/// transaction fails for a reason other than an outage, each is decided alone, so one bad
/// command fails by itself (dead-lettered at once if it broke an invariant) and the others go
/// through.
async fn decide_run(
    context: &Context,
    deliveries: &[Delivery],
    decides: &mut Vec<(usize, Envelope)>,
    dispositions: &mut [Disposition],
    shutdown: &CancellationToken,
) {
    if decides.is_empty() {
        return;
    }
    let run = std::mem::take(decides);
    let ids: Vec<Uuid> = run
        .iter()
        .filter_map(|(_, envelope)| envelope.command.reservation_id())
        .collect();
    let policy = policy(context);
    let span = tracing::info_span!("decide_run", commands = ids.len());
    let started = std::time::Instant::now();
    let result = crate::with_database(shutdown, || context.store.decide_batch(&ids, &policy))
        .instrument(span.clone())
        .await;
    let took = started.elapsed();
    match result {
        None => {} // shutting down: they stay Retry and go back to the queue
        Some(Ok(batch)) => {
            let _entered = span.enter();
            metrics::histogram!("maitred_decide_run_size").record(ids.len() as f64);
            let per_command = took / u32::try_from(ids.len()).unwrap_or(u32::MAX).max(1);
            context.pace.observe(per_command);
            context.notices.tables_left(&batch.slots_left);
            // One partition's run may span restaurants: one notice each.
            let mut by_restaurant: std::collections::HashMap<Uuid, Vec<Uuid>> =
                std::collections::HashMap::new();
            for (_, envelope) in &run {
                if let Some(id) = envelope.command.reservation_id() {
                    by_restaurant
                        .entry(envelope.restaurant_id)
                        .or_default()
                        .push(id);
                }
            }
            for (restaurant_id, ids) in by_restaurant {
                context.notices.decided(restaurant_id, ids);
            }
            for ((i, envelope), decision) in run.iter().zip(batch.decisions) {
                let outcome = Outcome::Decided(decision);
                dispositions[*i] = conclude(&deliveries[*i], envelope, Ok(outcome), per_command);
            }
            context.relay.wake();
        }
        Some(Err(error)) if run.len() > 1 => {
            tracing::warn!(error = ?error, commands = run.len(), "a run of decisions failed; deciding each alone");
            for one in run {
                Box::pin(decide_run(
                    context,
                    deliveries,
                    &mut vec![one],
                    dispositions,
                    shutdown,
                ))
                .await;
            }
        }
        Some(Err(error)) => {
            let (i, envelope) = &run[0];
            dispositions[*i] = conclude(&deliveries[*i], envelope, Err(error), took);
            if dispositions[*i] == Disposition::Retry {
                // A brief pause so a failing message does not spin; the delivery limit
                // dead-letters it if it keeps failing.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

fn policy(context: &Context) -> DecisionPolicy {
    DecisionPolicy {
        hold_for: context.config.hold_for,
        gateway: context.gateway.name().to_owned(),
        pricing: context.config.pricing.clone(),
    }
}

/// Any command other than `decide`, alone.
async fn handle_one(
    context: &Context,
    delivery: &Delivery,
    envelope: Envelope,
    shutdown: &CancellationToken,
) -> Disposition {
    let started = std::time::Instant::now();
    let result = crate::with_database(shutdown, || {
        execute(context, envelope.restaurant_id, &envelope.command)
    })
    .instrument(command_span(delivery, &envelope))
    .await;
    let took = started.elapsed();
    match result {
        None => Disposition::Retry,
        Some(result) => {
            if result.is_ok() {
                context.pace.observe(took);
                // It may have given tables back: intake forgets what it knew.
                context.notices.reset(envelope.restaurant_id);
                context.relay.wake();
            }
            let disposition = conclude(delivery, &envelope, result, took);
            if disposition == Disposition::Retry {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            disposition
        }
    }
}

fn command_span(delivery: &Delivery, envelope: &Envelope) -> tracing::Span {
    tracing::info_span!(
        "command",
        kind = envelope.command.kind(),
        reservation_id = envelope.command.reservation_id().map(tracing::field::display),
        restaurant_id = %envelope.restaurant_id,
        request_id = crate::request_id(delivery),
        redelivered = delivery.redelivered,
    )
}

/// Counts, logs and settles one command's result.
fn conclude(
    delivery: &Delivery,
    envelope: &Envelope,
    result: booking::Result<Outcome>,
    took: std::time::Duration,
) -> Disposition {
    let command = envelope.command.kind();
    let label = match &result {
        Ok(outcome) => outcome.label(),
        Err(booking::Error::Invariant(_)) => "broken_invariant",
        Err(_) => "failed",
    };
    metrics::counter!("maitred_commands_total", "command" => command, "outcome" => label)
        .increment(1);
    metrics::histogram!("maitred_command_duration_seconds", "command" => command)
        .record(took.as_secs_f64());
    let _entered = command_span(delivery, envelope).entered();
    match result {
        Ok(outcome) if outcome.refers_to_nothing() => {
            tracing::warn!("the command refers to nothing: dead-lettering it");
            Disposition::DeadLetter
        }
        Ok(outcome) => {
            tracing::info!(?outcome, "done");
            Disposition::Ack
        }
        Err(error) => crate::failure::settle(&error, "the command"),
    }
}

async fn execute(
    context: &Context,
    restaurant_id: uuid::Uuid,
    command: &Command,
) -> booking::Result<Outcome> {
    let store = &context.store;
    let outcome = match command {
        // `handle_run` sends decisions to `decide_run`; this is the same decision, alone.
        Command::Decide { reservation_id } => {
            Outcome::Decided(store.decide(*reservation_id, &policy(context)).await?)
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
            requested_at,
        } => Outcome::Settled(
            store
                .cancel(
                    *reservation_id,
                    actor,
                    *full_refund,
                    requested_at.unwrap_or_else(Utc::now),
                    context.gateway.name(),
                )
                .await?,
        ),
        Command::Modify {
            reservation_id,
            change_id,
        } => Outcome::Settled(Settled::Change(
            store
                .modify(*reservation_id, *change_id, &policy(context), Utc::now())
                .await?,
        )),
        Command::SyncInventory => Outcome::Synced(store.sync_inventory(restaurant_id).await?),
    };
    // Whatever gave tables back goes to the waitlist, in join order, on this same lane (a
    // redelivery after a crash here offers them then).
    let offers = store
        .offer_waitlist(restaurant_id, &policy(context), Utc::now())
        .await?;
    if !offers.is_empty() {
        tracing::info!(
            offers = offers.len(),
            "offered freed tables to the waitlist"
        );
    }
    Ok(outcome)
}
