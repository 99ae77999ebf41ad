//! The JSON views of dead letters: one in a list, one in full, and what a sweep did.

use base64::Engine;
use chrono::{DateTime, Utc};
use rabbitmq::dead_letters::DeadLetter;
use rabbitmq::DeadLetterQueue;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::Resolver;

/// One dead letter, in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterSummary {
    /// The AMQP message id, or `anon-…` for a message published without one. Select
    /// messages with it.
    pub id: String,
    /// Which dead-letter queue: `commands` or `webhooks`.
    pub queue: String,
    /// The AMQP `type`: `decide`, `settle`, `expire_hold`, `cancel`, `sync_inventory`,
    /// `charge`, `refund`, `webhook`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Where a replay goes: the partition `p.NNN`, `payments` or `webhooks`.
    pub routing_key: String,
    /// Why it was dead-lettered: `rejected` (the consumer gave up on it), `delivery_limit`
    /// (it failed too often), `expired`, `maxlen`; null when the broker did not say.
    pub reason: Option<String>,
    /// The queue it died in.
    pub died_in: Option<String>,
    /// How many times it died (more than 1 after a replay that failed again).
    pub death_count: u64,
    pub first_death_at: Option<DateTime<Utc>>,
    pub age_seconds: Option<u64>,
    pub restaurant_id: Option<Uuid>,
    pub reservation_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
}

/// One dead letter in full.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterDetail {
    #[serde(flatten)]
    pub summary: DeadLetterSummary,
    /// The `x-death` entries, most recent first (passes through delay queues are timers).
    #[schema(value_type = Vec<Object>)]
    pub deaths: Vec<rabbitmq::dead_letters::Death>,
    /// The AMQP properties other than the headers.
    #[schema(value_type = Object)]
    pub properties: Value,
    #[schema(value_type = Object)]
    pub headers: Value,
    /// The body: JSON as is, other text as a string, other bytes in base64.
    #[schema(value_type = Object)]
    pub body: Value,
    /// `json`, `text` or `base64`.
    pub body_encoding: &'static str,
}

/// What a replay or purge did (or, in a dry run, would do) to one message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SweepItem {
    #[serde(flatten)]
    pub summary: DeadLetterSummary,
    /// `replayed`, `purged`, `would_replay`, `would_purge` or `failed` (still in the queue).
    pub outcome: String,
    pub error: Option<String>,
}

/// The result of a replay or a purge.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// `replay` or `purge`.
    pub action: String,
    pub queue: String,
    /// Nothing was changed.
    pub dry_run: bool,
    /// Messages read.
    pub scanned: u64,
    /// Messages selected (by id or all) that passed the filters.
    pub matched: u64,
    pub replayed: u64,
    pub purged: u64,
    /// Messages read but not selected: left in place.
    pub skipped: u64,
    /// Selected messages whose replay the broker refused: still in the queue.
    pub failed: u64,
    /// Requested ids that are not in the queue (or did not pass the filters).
    pub not_found: Vec<String>,
    pub messages: Vec<SweepItem>,
}

impl SweepReport {
    /// `replayed 3, skipped 10, failed 0` (or `would replay …` for a dry run).
    pub fn summary_line(&self) -> String {
        let (done, count) = match (self.action.as_str(), self.dry_run) {
            ("replay", false) => ("replayed", self.replayed),
            ("replay", true) => ("would replay", self.matched),
            (_, false) => ("purged", self.purged),
            (_, true) => ("would purge", self.matched),
        };
        let mut line = format!(
            "{done} {count}, skipped {}, failed {}",
            self.skipped, self.failed
        );
        if !self.not_found.is_empty() {
            line.push_str(&format!(", not found {}", self.not_found.len()));
        }
        line
    }
}

pub(crate) async fn summarize(
    queue: DeadLetterQueue,
    letter: &DeadLetter,
    resolver: &Resolver,
    now: DateTime<Utc>,
) -> DeadLetterSummary {
    let subject = resolver.subject(letter).await;
    DeadLetterSummary {
        id: letter.id.clone(),
        queue: queue.to_string(),
        kind: letter
            .kind
            .clone()
            .or_else(|| subject.command.map(str::to_owned)),
        routing_key: letter.routing_key.clone(),
        reason: letter.reason().map(str::to_owned),
        died_in: letter.died_in().map(str::to_owned),
        death_count: letter.death_count(),
        first_death_at: letter.first_death_at(),
        age_seconds: letter.age(now).map(|age| age.as_secs()),
        restaurant_id: subject.restaurant_id,
        reservation_id: subject.reservation_id,
        payment_id: subject.payment_id,
    }
}

pub(crate) fn body_view(body: &[u8]) -> (Value, &'static str) {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        (json, "json")
    } else if let Ok(text) = std::str::from_utf8(body) {
        (Value::String(text.to_owned()), "text")
    } else {
        (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            "base64",
        )
    }
}

pub(crate) fn properties_view(properties: &rabbitmq::lapin::BasicProperties) -> Value {
    let text = |s: &Option<rabbitmq::lapin::types::ShortString>| {
        s.as_ref().map(|s| Value::String(s.as_str().to_owned()))
    };
    let fields = [
        ("messageId", text(properties.message_id())),
        ("type", text(properties.kind())),
        ("contentType", text(properties.content_type())),
        ("contentEncoding", text(properties.content_encoding())),
        ("correlationId", text(properties.correlation_id())),
        ("replyTo", text(properties.reply_to())),
        ("expiration", text(properties.expiration())),
        ("userId", text(properties.user_id())),
        ("appId", text(properties.app_id())),
        (
            "deliveryMode",
            properties.delivery_mode().map(|mode| mode.into()),
        ),
        ("priority", properties.priority().map(|p| p.into())),
        (
            "timestamp",
            properties
                .timestamp()
                .and_then(|t| DateTime::from_timestamp(i64::try_from(t).ok()?, 0))
                .map(|t| Value::String(t.to_rfc3339())),
        ),
    ];
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_show_as_json_text_or_base64() {
        assert_eq!(
            body_view(br#"{"a":1}"#),
            (serde_json::json!({"a": 1}), "json")
        );
        assert_eq!(
            body_view(b"{ oops"),
            (Value::String("{ oops".into()), "text")
        );
        assert_eq!(body_view(&[0xff, 0x00]).1, "base64");
    }

    #[test]
    fn the_summary_line_says_what_was_done() {
        let report = SweepReport {
            action: "replay".into(),
            queue: "commands".into(),
            dry_run: false,
            scanned: 5,
            matched: 3,
            replayed: 2,
            purged: 0,
            skipped: 2,
            failed: 1,
            not_found: vec!["x".into()],
            messages: vec![],
        };
        assert_eq!(
            report.summary_line(),
            "replayed 2, skipped 2, failed 1, not found 1"
        );
        let dry = SweepReport {
            dry_run: true,
            action: "purge".into(),
            not_found: vec![],
            ..report
        };
        assert_eq!(dry.summary_line(), "would purge 3, skipped 2, failed 1");
    }
}
