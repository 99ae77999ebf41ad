//! Payment jobs: call the gateway outside the serial lane, record its answer, and send the
//! outcome back through the restaurant's partition. The payment row's status makes a
//! redelivered job a no-op, and its id is the gateway's idempotency key, so even a crash
//! between the gateway's answer and the commit cannot charge twice.

use std::time::Duration;

use booking::messages::PaymentJob;
use booking::{Payment, PaymentKind, PaymentOutcome, PaymentStatus};
use payments::{ChargeOutcome, ChargeRequest, GatewayError, RefundOutcome, RefundRequest};
use rabbitmq::lapin::message::Delivery;
use rabbitmq::Disposition;
use tracing::Instrument;

use crate::Context;

/// Handles one payment job.
pub async fn handle(context: &Context, delivery: Delivery) -> Disposition {
    let job: PaymentJob = match serde_json::from_slice(&delivery.data) {
        Ok(job) => job,
        Err(error) => {
            tracing::warn!(%error, "malformed payment job: dead-lettering it");
            return Disposition::DeadLetter;
        }
    };
    let span = tracing::info_span!(
        "payment",
        kind = job.kind(),
        payment_id = %job.payment_id(),
        request_id = crate::request_id(&delivery),
        redelivered = delivery.redelivered,
    );
    async {
        match run(context, job).await {
            Ok(disposition) => disposition,
            Err(JobError::Store(error)) if error.is_invariant() => {
                crate::failure::settle(&error, "the payment job")
            }
            Err(error) => {
                // Unordered work: requeue after a pause; the delivery limit dead-letters a job
                // that keeps failing.
                tracing::warn!(%error, "payment job failed; requeueing");
                tokio::time::sleep(Duration::from_millis(500)).await;
                Disposition::Retry
            }
        }
    }
    .instrument(span)
    .await
}

#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Store(#[from] booking::Error),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}

async fn run(context: &Context, job: PaymentJob) -> Result<Disposition, JobError> {
    let Some(payment) = context.store.payment(job.payment_id()).await? else {
        tracing::warn!("no such payment: dead-lettering the job");
        return Ok(Disposition::DeadLetter);
    };
    if payment.status != PaymentStatus::Requested {
        // A redelivery: the outcome is recorded and its command is in the outbox.
        tracing::info!(status = ?payment.status, "payment already settled");
        return Ok(Disposition::Ack);
    }
    let outcome = match payment.kind {
        PaymentKind::Charge | PaymentKind::Fee => charge(context, &payment).await?,
        PaymentKind::Refund => refund(context, &payment).await?,
    };
    tracing::info!(?outcome, "the gateway answered");
    context
        .store
        .record_payment_outcome(payment.id, &outcome)
        .await?;
    context.relay.wake();
    Ok(Disposition::Ack)
}

async fn charge(context: &Context, payment: &Payment) -> Result<PaymentOutcome, JobError> {
    let Some(token) = payment.token.clone() else {
        return Ok(PaymentOutcome::Declined {
            reason: "no_payment_token".into(),
        });
    };
    let request = ChargeRequest {
        idempotency_key: payment.id,
        amount_cents: payment.amount_cents,
        currency: payment.currency.clone(),
        token,
        description: format!("maitred reservation {}", payment.reservation_id),
    };
    let answer = with_timeout(context, context.gateway.charge(&request)).await?;
    Ok(match answer {
        ChargeOutcome::Captured { reference } => PaymentOutcome::Captured { reference },
        ChargeOutcome::Declined { reason } => PaymentOutcome::Declined { reason },
    })
}

async fn refund(context: &Context, payment: &Payment) -> Result<PaymentOutcome, JobError> {
    // A refund gives back the charge it names (a change's own charge), else the booking's.
    let charge = match payment.refund_of {
        Some(charge_id) => context.store.payment(charge_id).await?,
        None => context.store.charge_of(payment.reservation_id).await?,
    };
    let charge_reference = charge.and_then(|charge| charge.gateway_reference);
    let Some(charge_reference) = charge_reference else {
        return Ok(PaymentOutcome::RefundFailed {
            reason: "no_captured_charge".into(),
        });
    };
    let request = RefundRequest {
        idempotency_key: payment.id,
        charge_reference,
        amount_cents: payment.amount_cents,
        currency: payment.currency.clone(),
    };
    let answer = with_timeout(context, context.gateway.refund(&request)).await?;
    Ok(match answer {
        RefundOutcome::Refunded { reference } => PaymentOutcome::Refunded { reference },
        RefundOutcome::Failed { reason } => PaymentOutcome::RefundFailed { reason },
    })
}

/// A gateway that does not answer in time leaves the outcome unknown; the job is retried with
/// the same idempotency key.
async fn with_timeout<T>(
    context: &Context,
    call: impl std::future::Future<Output = Result<T, GatewayError>>,
) -> Result<T, GatewayError> {
    tokio::time::timeout(context.config.gateway_timeout, call)
        .await
        .unwrap_or(Err(GatewayError::Timeout))
}
