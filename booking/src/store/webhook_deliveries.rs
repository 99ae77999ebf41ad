//! The record of webhook delivery attempts: one row per attempt, written by the worker once the
//! receiver answered (or could not be reached), read by the admin panel's reservation detail.
//!
//! Retention: rows are one per attempt, so a message has at most the worker's max attempts per
//! target (a redelivery after a crash may repeat an attempt): the table grows with the
//! webhooks sent, not with the failures. Nothing purges it yet; rows are small.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Store;
use crate::Result;

/// The longest error text kept, in characters (the column allows 500).
const ERROR_CHARS: usize = 300;

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed, and another attempt is scheduled.
    Failed,
    /// It failed for good: the delivery went to the webhook dead-letter queue.
    GaveUp,
}

impl DeliveryOutcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Failed => "failed",
            DeliveryOutcome::GaveUp => "gave_up",
        }
    }
}

/// One attempt to record.
#[derive(Debug, Clone)]
pub struct NewWebhookDelivery<'a> {
    pub reservation_id: Uuid,
    /// The `webhook-id` header.
    pub webhook_id: &'a str,
    /// The target URL. Never a secret: URLs with credentials are refused before they get here.
    pub url: &'a str,
    /// The event's type, e.g. `reservation.confirmed`.
    pub event: &'a str,
    /// 1-based.
    pub attempt: u32,
    pub outcome: DeliveryOutcome,
    /// The receiver's status, if it answered.
    pub http_status: Option<u16>,
    /// Why it failed; cut to a few hundred characters.
    pub error: Option<&'a str>,
    /// From sending the request to its answer or failure.
    pub duration: Duration,
}

/// A recorded attempt.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: String,
    pub url: String,
    pub event: String,
    pub attempt: i32,
    /// `delivered`, `failed` or `gave_up`.
    pub outcome: String,
    pub http_status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub at: DateTime<Utc>,
}

/// `text` cut to `ERROR_CHARS` characters, with an ellipsis if it was longer.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(ERROR_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

impl Store {
    /// Records one delivery attempt. The caller decides what a failure here means; the worker
    /// logs it and goes on, since the record must never make a delivery fail.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self, delivery), fields(reservation_id = %delivery.reservation_id))]
    pub async fn record_webhook_delivery(&self, delivery: &NewWebhookDelivery<'_>) -> Result<()> {
        sqlx::query!(
            "INSERT INTO webhook_delivery (reservation_id, webhook_id, url, event, attempt,
                 outcome, http_status, error, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            delivery.reservation_id,
            delivery.webhook_id,
            delivery.url,
            delivery.event,
            i32::try_from(delivery.attempt).unwrap_or(i32::MAX),
            delivery.outcome.as_str(),
            delivery.http_status.map(i32::from),
            delivery.error.map(shorten),
            i32::try_from(delivery.duration.as_millis()).unwrap_or(i32::MAX),
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The reservation's recorded delivery attempts, newest first, at most `limit`.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn webhook_deliveries(
        &self,
        reservation_id: Uuid,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        Ok(sqlx::query_as!(
            WebhookDelivery,
            "SELECT id, webhook_id, url, event, attempt, outcome, http_status, error,
                    duration_ms, at
             FROM webhook_delivery WHERE reservation_id = $1
             ORDER BY at DESC, id DESC LIMIT $2",
            reservation_id,
            limit,
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        assert_eq!(shorten("refused"), "refused");
        let long = "é".repeat(ERROR_CHARS + 10);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), ERROR_CHARS + 1);
        assert!(short.ends_with('…'));
    }
}
