//! Retrying a job later: its next attempt is published into the delay queue of its back-off,
//! and the delivery in hand is acked. Webhooks and emails retry this way.

use std::time::Duration;

use booking::messages::{self, NotificationJob, WebhookJob};
use rabbitmq::{Disposition, Outgoing, Topology};
use serde::Serialize;

use crate::Context;

/// The wait after failed attempt `attempt` (1-based): `first`, doubling each time, up to `max`.
pub fn doubling_backoff(first: Duration, max: Duration, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(20);
    first.saturating_mul(1 << doublings).min(max)
}

/// A job that is retried by publishing it again.
pub(crate) trait RetriedJob: Serialize {
    /// Its queue's routing key on the commands exchange.
    const ROUTING_KEY: &'static str;
    /// The AMQP `type`.
    const KIND: &'static str;
    /// The AMQP message id of this attempt.
    fn message_id(&self) -> String;
    fn attempt(&self) -> u32;
}

impl RetriedJob for WebhookJob {
    const ROUTING_KEY: &'static str = Topology::WEBHOOKS_KEY;
    const KIND: &'static str = "webhook";
    fn message_id(&self) -> String {
        format!("{}.{}", self.webhook_id, self.attempt)
    }
    fn attempt(&self) -> u32 {
        self.attempt
    }
}

impl RetriedJob for NotificationJob {
    const ROUTING_KEY: &'static str = Topology::NOTIFICATIONS_KEY;
    const KIND: &'static str = "notification";
    fn message_id(&self) -> String {
        format!("notification.{}.{}", self.notification_id, self.attempt)
    }
    fn attempt(&self) -> u32 {
        self.attempt
    }
}

/// Publishes `job` into the delay queue of `delay`, then acks the delivery in hand; if the
/// broker refuses, the delivery goes back to its queue to be tried from there.
pub(crate) async fn publish_later<J: RetriedJob>(
    context: &Context,
    job: &J,
    delay: Duration,
    request_id: Option<&str>,
    what: &'static str,
) -> Disposition {
    let outgoing = Outgoing {
        routing_key: J::ROUTING_KEY,
        body: &messages::to_json(job),
        properties: rabbitmq::correlated_properties(&job.message_id(), J::KIND, request_id),
        delay,
    };
    match context.publisher.publish(outgoing).await {
        Ok(()) => {
            tracing::info!(?delay, next_attempt = job.attempt(), "{what}");
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
