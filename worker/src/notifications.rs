//! Emails to diners, sent in parallel and apart from the decisions, retried like webhooks: a
//! failed send is published again, one attempt later, into the delay queue of its back-off, and
//! after the last attempt the job goes to the dead-letter queue (`maitred.dlq`).
//!
//! Each job is one `notification` row. The row is claimed before the send and marked sent
//! after it, so a redelivered or duplicated job finds it sent and sends nothing, and a reminder
//! whose booking was canceled meanwhile is recorded as skipped instead of sent.

use std::sync::Arc;
use std::time::Duration;

use booking::messages::NotificationJob;
use booking::store::NotificationClaim;
use chrono::Utc;
use notify::SendError;
use rabbitmq::lapin::message::Delivery;
use rabbitmq::Disposition;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::Context;

/// How emails are sent, retried and scheduled.
#[derive(Debug, Clone)]
pub struct NotificationConfig {
    /// Where the website is, for the links in the messages.
    pub public_url: String,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait before the second attempt; each later wait doubles, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Sends in flight at once in this worker.
    pub concurrency: u16,
    /// How long one send may take, connecting included.
    pub send_timeout: Duration,
    /// How often the schedule is swept for reminders and warnings that are due.
    pub sweep_interval: Duration,
}

impl NotificationConfig {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        crate::retry::doubling_backoff(self.first_backoff, self.max_backoff, attempt)
    }

    /// How long a claim is another attempt's before it counts as abandoned: a send that is
    /// still going has timed out by then.
    fn stale_after(&self) -> Duration {
        self.send_timeout.saturating_mul(2) + Duration::from_secs(5)
    }
}

/// Counts a job's result in `maitred_notifications_total`.
fn count(kind: &str, result: &'static str) {
    metrics::counter!("maitred_notifications_total", "kind" => kind.to_owned(), "result" => result)
        .increment(1);
}

/// Handles one notification job.
pub async fn handle(context: &Context, delivery: Delivery) -> Disposition {
    let job: NotificationJob = match serde_json::from_slice(&delivery.data) {
        Ok(job) => job,
        Err(error) => {
            tracing::warn!(%error, "malformed notification job: dead-lettering it");
            return Disposition::DeadLetter;
        }
    };
    let request_id = crate::request_id(&delivery);
    let span = tracing::info_span!(
        "notification",
        notification_id = job.notification_id,
        reservation_id = %job.reservation_id,
        kind = job.kind,
        attempt = job.attempt,
        request_id,
    );
    send(context, job, request_id).instrument(span).await
}

async fn send(context: &Context, job: NotificationJob, request_id: Option<&str>) -> Disposition {
    let config = &context.config.notifications;
    let claim = context
        .store
        .claim_notification(job.notification_id, config.stale_after())
        .await;
    let facts = match claim {
        Ok(NotificationClaim::Send(facts)) => facts,
        Ok(NotificationClaim::Settled(status)) => {
            tracing::info!(status, "already settled: nothing to send");
            return Disposition::Ack;
        }
        Ok(NotificationClaim::Skipped(why)) => {
            tracing::info!(why, "no longer applies: skipped");
            count(&job.kind, "skipped");
            return Disposition::Ack;
        }
        Ok(NotificationClaim::Missing) => {
            tracing::info!("its reservation is gone: dropping it");
            return Disposition::Ack;
        }
        Ok(NotificationClaim::InProgress) => {
            let delay = config.backoff(job.attempt);
            return crate::retry::publish_later(
                context,
                &job,
                delay,
                request_id,
                "another attempt is sending it; looking again later",
            )
            .await;
        }
        Err(error) if error.is_invariant() => {
            count(&job.kind, "dead_lettered");
            return crate::failure::settle(&error, "claiming the notification");
        }
        Err(error) => {
            tracing::warn!(%error, "could not claim the notification; requeueing");
            tokio::time::sleep(Duration::from_millis(500)).await;
            return Disposition::Retry;
        }
    };
    let email = notify::compose(&facts, &config.public_url, Utc::now());
    let sent = tokio::time::timeout(config.send_timeout, context.notifier.send(&email))
        .await
        .unwrap_or_else(|_| {
            Err(SendError::Transient(format!(
                "no answer within {:?}",
                config.send_timeout
            )))
        });
    match sent {
        Ok(()) => {
            tracing::info!(notifier = context.notifier.name(), "sent");
            count(&job.kind, "sent");
            if let Err(error) = context
                .store
                .record_notification_sent(job.notification_id)
                .await
            {
                // The message went: sending it again would be worse than a stale record.
                tracing::error!(%error, "sent, but could not record it");
            }
            Disposition::Ack
        }
        Err(error) if error.is_permanent() || job.attempt >= config.max_attempts => {
            tracing::warn!(%error, "not sent, and no attempt is left: dead-lettering it");
            count(&job.kind, "dead_lettered");
            record_failure(context, &job, &error, true).await;
            Disposition::DeadLetter
        }
        Err(error) => {
            tracing::info!(%error, "sending failed");
            count(&job.kind, "failed_will_retry");
            record_failure(context, &job, &error, false).await;
            let delay = config.backoff(job.attempt);
            let retry = NotificationJob {
                attempt: job.attempt + 1,
                ..job
            };
            crate::retry::publish_later(context, &retry, delay, request_id, "retry scheduled").await
        }
    }
}

/// Records a failed attempt, best effort: the retry or the dead letter happens either way.
async fn record_failure(context: &Context, job: &NotificationJob, error: &SendError, dead: bool) {
    let recorded = context
        .store
        .record_notification_failure(job.notification_id, &error.to_string(), dead)
        .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, "could not record the failed attempt");
    }
}

/// How many due notifications one sweep moves to the outbox in one transaction.
const SWEEP_BATCH: i64 = 500;

/// Every `sweep_interval` until `shutdown`, moves the reminders and warnings that are due from
/// the schedule to the outbox and wakes the relay. Any number of workers may sweep at once:
/// each takes rows the others do not hold.
pub async fn sweep_schedule(context: Arc<Context>, shutdown: CancellationToken) {
    let interval = context.config.notifications.sweep_interval;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        loop {
            match context
                .store
                .queue_due_notifications(Utc::now(), SWEEP_BATCH)
                .await
            {
                Ok(queued) => {
                    if queued > 0 {
                        tracing::debug!(queued, "due notifications queued");
                        context.relay.wake();
                    }
                    if queued < SWEEP_BATCH as usize {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not sweep the notification schedule");
                    break;
                }
            }
        }
    }
}
