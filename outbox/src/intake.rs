//! Relaying a recorded request's `decide` command to the broker.
//!
//! Intake relays right after recording. Whatever it could not settle (the API crashed, the
//! broker was unreachable, a confirm never came) stays in the outbox, and the sweeper publishes
//! it later. The worker decides a reservation only while it is pending, so a command published
//! twice is decided once.

use std::time::Duration;

use booking::messages::{Command, Envelope};
use booking::{OutboxClaim, Store};
use rabbitmq::{PublishError, Publisher};
use uuid::Uuid;

/// How relaying one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// The broker confirmed the command.
    Published,
    /// Nothing was left to publish: the command was already confirmed.
    AlreadyRelayed,
    /// The reservation no longer exists: a concurrent attempt with the same id was refused
    /// and withdrawn. The caller may record the request afresh.
    Vanished,
    /// The broker refused, and the request was withdrawn: nothing will happen.
    Withdrawn,
    /// The command may or may not have reached the broker, or could not be published yet; the
    /// request stays in the outbox, pinned, and the sweeper makes sure it is decided.
    Deferred,
}

/// Who is relaying, which decides what a refusal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayer {
    /// The request that created the reservation and has not answered yet: on a refusal it
    /// withdraws the reservation and answers 503.
    Creator,
    /// A retry or the sweeper: someone may already have been told 202, so a refusal leaves
    /// the request pinned in the outbox for a later attempt.
    Other,
}

/// Publishes the command of a recorded, pending request, and settles its outbox row.
#[tracing::instrument(skip(store, publisher))]
pub async fn relay_decision(
    store: &Store,
    publisher: &Publisher,
    reservation_id: Uuid,
    relayer: Relayer,
) -> Relayed {
    match store.claim_outbox(reservation_id).await {
        Ok(Some(claim)) => settle(claim, publisher, relayer).await,
        Ok(None) => match store.reservation(reservation_id).await {
            Ok(None) => Relayed::Vanished,
            // Published already, or unknown: either way the row, if any, is the sweeper's.
            Ok(Some(_)) | Err(_) => Relayed::AlreadyRelayed,
        },
        Err(error) => {
            tracing::warn!(%error, "could not claim the outbox row; the sweeper will relay it");
            Relayed::Deferred
        }
    }
}

/// Leaves a recorded request whose publish had an unknown outcome to the sweeper, pinned, with
/// no second attempt: a broker that did not confirm in time would most likely make the client
/// wait for another deadline, and the answer (`202`) would be the same.
#[tracing::instrument(skip(store))]
pub async fn pin_unknown(store: &Store, reservation_id: Uuid) -> Relayed {
    match store.claim_outbox(reservation_id).await {
        Ok(Some(claim)) => {
            if let Err(error) = claim.pin().await {
                // Unpinned, it is still the sweeper's: only its creator (this request, which
                // answers 202) would withdraw it.
                tracing::warn!(%error, "could not pin the outbox row");
            }
            Relayed::Deferred
        }
        Ok(None) => match store.reservation(reservation_id).await {
            Ok(None) => Relayed::Vanished,
            Ok(Some(_)) | Err(_) => Relayed::AlreadyRelayed,
        },
        Err(error) => {
            tracing::warn!(%error, "could not claim the outbox row; the sweeper will relay it");
            Relayed::Deferred
        }
    }
}

pub(crate) async fn settle(claim: OutboxClaim, publisher: &Publisher, relayer: Relayer) -> Relayed {
    let envelope = Envelope {
        restaurant_id: claim.restaurant_id(),
        command: Command::Decide {
            reservation_id: claim.reservation_id(),
        },
    };
    let message_id = claim.reservation_id().to_string();
    let published = crate::publish_command(
        publisher,
        &envelope,
        &message_id,
        claim.request_id(),
        Duration::ZERO,
    )
    .await;
    match published {
        Ok(()) => {
            if let Err(error) = claim.published().await {
                // The sweeper publishes it again; the worker decides it once.
                tracing::warn!(%error, "published, but could not clear the outbox row");
            }
            Relayed::Published
        }
        Err(PublishError::Refused(why)) if relayer == Relayer::Creator => {
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
        Err(error) => {
            // Refused for a request someone was already promised, or an unknown outcome:
            // from now on it must never be withdrawn.
            tracing::warn!(%error, "the command stays in the outbox for the sweeper");
            if let Err(error) = claim.pin().await {
                tracing::warn!(%error, "could not pin the outbox row");
            }
            Relayed::Deferred
        }
    }
}
