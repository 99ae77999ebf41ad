//! Retrying a job later: its next attempt is published into the delay queue of its back-off,
//! and the delivery in hand is acked. Webhooks and emails retry this way.

use std::time::Duration;

use rabbitmq::{Disposition, Outgoing};

use crate::Context;

/// The wait after failed attempt `attempt` (1-based): `first`, doubling each time, up to `max`.
pub fn doubling_backoff(first: Duration, max: Duration, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(20);
    first.saturating_mul(1 << doublings).min(max)
}

/// A job to publish again, after `delay`.
pub(crate) struct Later<'a> {
    pub routing_key: &'a str,
    /// The AMQP `type`.
    pub kind: &'a str,
    pub message_id: &'a str,
    pub body: &'a [u8],
    /// The attempt the published job is, for the log.
    pub attempt: u32,
    pub delay: Duration,
    pub request_id: Option<&'a str>,
}

/// Publishes `later` into its delay queue, then acks the delivery in hand; if the broker
/// refuses, the delivery goes back to its queue to be tried from there.
pub(crate) async fn publish_later(
    context: &Context,
    later: Later<'_>,
    what: &'static str,
) -> Disposition {
    let outgoing = Outgoing {
        routing_key: later.routing_key,
        body: later.body,
        properties: rabbitmq::correlated_properties(later.message_id, later.kind, later.request_id),
        delay: later.delay,
    };
    match context.publisher.publish(outgoing).await {
        Ok(()) => {
            tracing::info!(delay = ?later.delay, next_attempt = later.attempt, "{what}");
            Disposition::Ack
        }
        // Not scheduled: put the delivery back and try again from the queue.
        Err(publish_error) => {
            tracing::warn!(%publish_error, "could not schedule the retry; requeueing");
            tokio::time::sleep(Duration::from_millis(500)).await;
            Disposition::Retry
        }
    }
}
