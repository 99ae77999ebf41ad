//! Webhook deliveries, in parallel and apart from the decisions. A failed delivery is
//! published again, one attempt later, into the delay queue of its back-off, and the original
//! is acked; after the last attempt it goes to the webhook dead-letter queue.
//!
//! Every attempt whose outcome is known (delivered, failed and retried, given up) is recorded
//! in `webhook_delivery` for the admin panel, one row per attempt. The record is best effort:
//! it is written after the delivery's slot is given back, waits at most [`RECORD_TIMEOUT`], and
//! a failure to write it is logged, never turned into a failed delivery.

use std::time::Duration;

use booking::messages::{WebhookJob, WebhookTarget};
use booking::store::{DeliveryOutcome, NewWebhookDelivery};
use rabbitmq::lapin::message::Delivery;
use rabbitmq::Disposition;
use tokio::time::Instant;
use tracing::Instrument;

use crate::Context;

/// How webhooks are delivered and retried.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Signs deliveries to the `callbackUrl` of a reservation. Without it, those deliveries
    /// are dead-lettered (the API refuses callback URLs then).
    pub callback_secret: Option<::webhooks::Secret>,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait before the second attempt; each later wait doubles, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Deliveries in flight at once in this worker.
    pub concurrency: u16,
    /// Of those, at most this many to `callbackUrl`s (which anonymous clients choose).
    pub callback_concurrency: u16,
    /// And at most this many to any one host.
    pub per_host_concurrency: u16,
}

impl WebhookConfig {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        crate::retry::doubling_backoff(self.first_backoff, self.max_backoff, attempt)
    }
}

/// Handles one delivery job.
pub async fn handle(context: &Context, delivery: Delivery) -> Disposition {
    let job: WebhookJob = match serde_json::from_slice(&delivery.data) {
        Ok(job) => job,
        Err(error) => {
            tracing::warn!(%error, "malformed webhook job: dead-lettering it");
            return Disposition::DeadLetter;
        }
    };
    let span = tracing::info_span!(
        "webhook",
        webhook_id = job.webhook_id,
        reservation_id = %job.reservation_id,
        attempt = job.attempt,
        request_id = crate::request_id(&delivery),
    );
    let request_id = crate::request_id(&delivery);
    deliver(context, job, request_id).instrument(span).await
}

/// The longest a delivery waits for its attempt to be recorded before it goes on without.
pub const RECORD_TIMEOUT: Duration = Duration::from_secs(2);

/// Counts an attempt's result in `maitred_webhook_deliveries_total`.
fn count(result: &'static str) {
    metrics::counter!("maitred_webhook_deliveries_total", "result" => result).increment(1);
}

async fn deliver(context: &Context, job: WebhookJob, request_id: Option<&str>) -> Disposition {
    let config = &context.config.webhooks;
    let (url, secret) = match &job.target {
        // Each reservation's callbacks have a secret of their own, so no receiver can forge
        // deliveries to another.
        WebhookTarget::Callback { url } => match &config.callback_secret {
            Some(secret) => (url.clone(), secret.derive(&job.reservation_id.to_string())),
            None => {
                tracing::error!("no callback secret is configured: dead-lettering the delivery");
                let attempt = Attempt::not_sent("no callback secret is configured");
                record(context, &job, url, DeliveryOutcome::GaveUp, attempt).await;
                return Disposition::DeadLetter;
            }
        },
        WebhookTarget::Endpoint { endpoint_id } => {
            match context.store.webhook_endpoint(*endpoint_id).await {
                Ok(Some(endpoint)) => match ::webhooks::Secret::parse(&endpoint.secret) {
                    Ok(secret) => (endpoint.url, secret),
                    Err(error) => {
                        tracing::error!(%error, "the endpoint's secret is unusable");
                        let attempt = Attempt::not_sent("the endpoint's secret is unusable");
                        record(
                            context,
                            &job,
                            &endpoint.url,
                            DeliveryOutcome::GaveUp,
                            attempt,
                        )
                        .await;
                        return Disposition::DeadLetter;
                    }
                },
                Ok(None) => {
                    tracing::info!("the endpoint was removed: dropping the delivery");
                    return Disposition::Ack;
                }
                Err(error) if error.is_invariant() => {
                    return crate::failure::settle(&error, "loading the endpoint");
                }
                Err(error) => {
                    tracing::warn!(%error, "could not load the endpoint; requeueing");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    return Disposition::Retry;
                }
            }
        }
    };
    let is_callback = matches!(job.target, WebhookTarget::Callback { .. });
    let host = crate::delivery_slots::host_of(&url);
    let Some(slot) = context.delivery_slots.try_take(&host, is_callback) else {
        count("deferred");
        let delay = config.first_backoff;
        return crate::retry::publish_later(
            context,
            &job,
            delay,
            request_id,
            "receiver busy; delivery deferred",
        )
        .await;
    };
    let started = Instant::now();
    let result = context
        .sender
        .deliver(&url, &job.webhook_id, &secret, job.payload.as_bytes())
        .await;
    let duration = started.elapsed();
    // The request is over: the slot goes back before anything else is awaited.
    drop(slot);
    let attempt = Attempt {
        http_status: match &result {
            Ok(status) | Err(::webhooks::DeliveryError::Status(status)) => Some(*status),
            Err(_) => None,
        },
        // A status says it all; other failures say why in words.
        error: match &result {
            Ok(_) | Err(::webhooks::DeliveryError::Status(_)) => None,
            Err(error) => Some(error.to_string()),
        },
        duration,
    };
    match result {
        Ok(status) => {
            tracing::info!(status, "delivered");
            count("delivered");
            record(context, &job, &url, DeliveryOutcome::Delivered, attempt).await;
            Disposition::Ack
        }
        Err(error) if error.is_permanent() => {
            tracing::warn!(%error, "undeliverable: dead-lettering it");
            count("dead_lettered");
            record(context, &job, &url, DeliveryOutcome::GaveUp, attempt).await;
            Disposition::DeadLetter
        }
        Err(error) if job.attempt >= config.max_attempts => {
            tracing::warn!(%error, "last attempt failed: dead-lettering it");
            count("dead_lettered");
            record(context, &job, &url, DeliveryOutcome::GaveUp, attempt).await;
            Disposition::DeadLetter
        }
        Err(error) => {
            count("failed_will_retry");
            tracing::info!(%error, "delivery failed");
            record(context, &job, &url, DeliveryOutcome::Failed, attempt).await;
            let delay = config.backoff(job.attempt);
            let retry = WebhookJob {
                attempt: job.attempt + 1,
                ..job
            };
            crate::retry::publish_later(context, &retry, delay, request_id, "retry scheduled").await
        }
    }
}

/// What one attempt came to, for its record.
struct Attempt {
    http_status: Option<u16>,
    error: Option<String>,
    duration: Duration,
}

impl Attempt {
    /// An attempt given up before any request was made.
    fn not_sent(why: &str) -> Self {
        Self {
            http_status: None,
            error: Some(why.to_owned()),
            duration: Duration::ZERO,
        }
    }
}

/// The event's type (`reservation.confirmed`...) from the payload, or `unknown`.
fn event_of(job: &WebhookJob) -> String {
    serde_json::from_str::<serde_json::Value>(&job.payload)
        .ok()
        .and_then(|body| body.get("type")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Records the attempt in `webhook_delivery`, best effort: a failure or a slow database is
/// logged, and the delivery goes on as if it had been recorded.
async fn record(
    context: &Context,
    job: &WebhookJob,
    url: &str,
    outcome: DeliveryOutcome,
    attempt: Attempt,
) {
    let event = event_of(job);
    let delivery = NewWebhookDelivery {
        reservation_id: job.reservation_id,
        webhook_id: &job.webhook_id,
        url,
        event: &event,
        attempt: job.attempt,
        outcome,
        http_status: attempt.http_status,
        error: attempt.error.as_deref(),
        duration: attempt.duration,
    };
    let recorded = tokio::time::timeout(
        RECORD_TIMEOUT,
        context.store.record_webhook_delivery(&delivery),
    )
    .await;
    match recorded {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, outcome = outcome.as_str(), "could not record the delivery attempt");
        }
        Err(_) => {
            tracing::warn!(
                outcome = outcome.as_str(),
                "recording the delivery attempt took too long; going on without it"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = WebhookConfig {
            callback_secret: None,
            max_attempts: 5,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            concurrency: 1,
            callback_concurrency: 1,
            per_host_concurrency: 1,
        };
        let waits: Vec<u64> = (1..=5).map(|a| config.backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
    }
}
