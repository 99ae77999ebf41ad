//! A dead letter as read from its queue: its id, its `x-death` history, and its headers as
//! JSON.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lapin::message::Delivery;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::BasicProperties;
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use crate::Topology;

/// The header quorum queues add on redelivery; a copy starts afresh without it.
const DELIVERY_COUNT_HEADER: &str = "x-delivery-count";

/// One entry of a message's `x-death` header: a queue it died in, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Death {
    pub queue: String,
    /// `rejected`, `delivery_limit`, `expired` or `maxlen`.
    pub reason: String,
    /// How many times it died in this queue for this reason.
    pub count: u64,
    /// When it first died there.
    pub time: Option<DateTime<Utc>>,
    /// The exchange it had been published to.
    pub exchange: Option<String>,
    pub routing_keys: Vec<String>,
    /// A pass through a delay queue: a timer going off, not a failure.
    pub timer: bool,
}

/// A dead-lettered message, as read from its queue.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The AMQP `message_id`, or `anon-` and a digest of the routing key and body for a
    /// message published without one, so that every message can be named.
    pub id: String,
    pub message_id: Option<String>,
    /// The AMQP `type` (`decide`, `charge`, `webhook`, …).
    pub kind: Option<String>,
    /// The original routing key, which the dead-letter exchanges keep: where a replay goes.
    pub routing_key: String,
    /// The `x-death` entries, most recent first. Empty when the header is missing.
    pub deaths: Vec<Death>,
    pub properties: BasicProperties,
    pub body: Vec<u8>,
}

impl DeadLetter {
    /// Reads a message's facts from its routing key, properties and body.
    pub fn new(
        topology: &Topology,
        routing_key: &str,
        properties: BasicProperties,
        body: Vec<u8>,
    ) -> Self {
        let text = |s: &Option<ShortString>| {
            s.as_ref()
                .map(|s| s.as_str().to_owned())
                .filter(|s| !s.is_empty())
        };
        let message_id = text(properties.message_id());
        let id = message_id.clone().unwrap_or_else(|| {
            let mut bytes = routing_key.as_bytes().to_vec();
            bytes.push(0);
            bytes.extend_from_slice(&body);
            format!("anon-{:016x}", xxh3_64(&bytes))
        });
        let deaths = properties
            .headers()
            .as_ref()
            .map(|headers| deaths_of(topology, headers))
            .unwrap_or_default();
        Self {
            id,
            message_id,
            kind: text(properties.kind()),
            routing_key: routing_key.to_owned(),
            deaths,
            properties,
            body,
        }
    }

    pub(super) fn from_delivery(topology: &Topology, delivery: &Delivery) -> Self {
        Self::new(
            topology,
            delivery.routing_key.as_str(),
            delivery.properties.clone(),
            delivery.data.clone(),
        )
    }

    /// The death that brought it to the dead-letter queue: the most recent one that was not a
    /// timer.
    pub fn last_death(&self) -> Option<&Death> {
        self.deaths.iter().find(|death| !death.timer)
    }

    /// Why it was dead-lettered, if the broker said.
    pub fn reason(&self) -> Option<&str> {
        self.last_death().map(|death| death.reason.as_str())
    }

    /// The queue it died in.
    pub fn died_in(&self) -> Option<&str> {
        self.last_death().map(|death| death.queue.as_str())
    }

    /// How many times it died, timers aside (more than one after a replay that failed again).
    pub fn death_count(&self) -> u64 {
        self.deaths
            .iter()
            .filter(|death| !death.timer)
            .map(|death| death.count)
            .sum()
    }

    /// When it first died, timers aside.
    pub fn first_death_at(&self) -> Option<DateTime<Utc>> {
        self.deaths
            .iter()
            .filter(|death| !death.timer)
            .filter_map(|death| death.time)
            .min()
    }

    /// How long it has been dead, if that is known.
    pub fn age(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.first_death_at()
            .map(|at| (now - at).to_std().unwrap_or(Duration::ZERO))
    }

    /// The AMQP headers as JSON (timestamps as RFC 3339, byte arrays as hex).
    pub fn headers_json(&self) -> serde_json::Value {
        self.properties
            .headers()
            .as_ref()
            .map_or(serde_json::Value::Null, table_json)
    }

    /// The properties to publish it again with: the same, without the broker's delivery
    /// count.
    pub(super) fn republished_properties(&self) -> BasicProperties {
        match self.properties.headers() {
            Some(headers) if headers.contains_key(DELIVERY_COUNT_HEADER) => {
                let kept: std::collections::BTreeMap<_, _> = headers
                    .inner()
                    .iter()
                    .filter(|(key, _)| key.as_str() != DELIVERY_COUNT_HEADER)
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect();
                self.properties.clone().with_headers(FieldTable::from(kept))
            }
            _ => self.properties.clone(),
        }
    }
}

/// The `x-death` entries, or, without them, one entry from the `x-last-death-*` (3.13+) or
/// `x-first-death-*` headers.
fn deaths_of(topology: &Topology, headers: &FieldTable) -> Vec<Death> {
    let timer_prefix = format!("{}maitred.delay.", topology.prefix);
    let text = |value: Option<&AMQPValue>| value.and_then(string_of);
    if let Some(entries) = headers.inner().get("x-death").and_then(AMQPValue::as_array) {
        return entries
            .as_slice()
            .iter()
            .filter_map(AMQPValue::as_field_table)
            .map(|entry| {
                let field = |name: &str| entry.inner().get(name);
                let queue = text(field("queue")).unwrap_or_default();
                Death {
                    timer: queue.starts_with(&timer_prefix),
                    queue,
                    reason: text(field("reason")).unwrap_or_default(),
                    count: field("count").and_then(unsigned_of).unwrap_or(1),
                    time: field("time").and_then(time_of),
                    exchange: text(field("exchange")),
                    routing_keys: field("routing-keys")
                        .and_then(AMQPValue::as_array)
                        .map(|keys| keys.as_slice().iter().filter_map(string_of).collect())
                        .unwrap_or_default(),
                }
            })
            .collect();
    }
    for (queue, reason, exchange) in [
        (
            "x-last-death-queue",
            "x-last-death-reason",
            "x-last-death-exchange",
        ),
        (
            "x-first-death-queue",
            "x-first-death-reason",
            "x-first-death-exchange",
        ),
    ] {
        let field = |name: &str| text(headers.inner().get(name));
        if let (Some(queue), Some(reason)) = (field(queue), field(reason)) {
            return vec![Death {
                timer: queue.starts_with(&timer_prefix),
                queue,
                reason,
                count: 1,
                time: None,
                exchange: field(exchange),
                routing_keys: Vec::new(),
            }];
        }
    }
    Vec::new()
}

fn string_of(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn unsigned_of(value: &AMQPValue) -> Option<u64> {
    match *value {
        AMQPValue::ShortShortInt(n) => u64::try_from(n).ok(),
        AMQPValue::ShortShortUInt(n) => Some(n.into()),
        AMQPValue::ShortInt(n) => u64::try_from(n).ok(),
        AMQPValue::ShortUInt(n) => Some(n.into()),
        AMQPValue::LongInt(n) => u64::try_from(n).ok(),
        AMQPValue::LongUInt(n) => Some(n.into()),
        AMQPValue::LongLongInt(n) => u64::try_from(n).ok(),
        _ => None,
    }
}

fn time_of(value: &AMQPValue) -> Option<DateTime<Utc>> {
    let seconds = match value {
        AMQPValue::Timestamp(seconds) => *seconds,
        other => unsigned_of(other)?,
    };
    DateTime::from_timestamp(i64::try_from(seconds).ok()?, 0)
}

fn table_json(table: &FieldTable) -> serde_json::Value {
    serde_json::Value::Object(
        table
            .inner()
            .iter()
            .map(|(key, value)| (key.as_str().to_owned(), value_json(value)))
            .collect(),
    )
}

fn value_json(value: &AMQPValue) -> serde_json::Value {
    use serde_json::{json, Value};
    match value {
        AMQPValue::Boolean(b) => json!(b),
        AMQPValue::Float(f) => json!(f),
        AMQPValue::Double(f) => json!(f),
        AMQPValue::DecimalValue(d) => {
            json!(f64::from(d.value) / 10f64.powi(i32::from(d.scale)))
        }
        AMQPValue::LongString(_) | AMQPValue::ShortString(_) => {
            json!(string_of(value).unwrap_or_default())
        }
        AMQPValue::FieldArray(items) => {
            Value::Array(items.as_slice().iter().map(value_json).collect())
        }
        AMQPValue::Timestamp(_) => time_of(value).map_or(Value::Null, |t| json!(t.to_rfc3339())),
        AMQPValue::FieldTable(table) => table_json(table),
        AMQPValue::ByteArray(bytes) => json!(bytes
            .as_slice()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()),
        AMQPValue::Void => Value::Null,
        AMQPValue::LongLongInt(n) => json!(n),
        AMQPValue::LongInt(n) => json!(n),
        AMQPValue::ShortInt(n) => json!(n),
        AMQPValue::ShortShortInt(n) => json!(n),
        AMQPValue::LongUInt(n) => json!(n),
        AMQPValue::ShortUInt(n) => json!(n),
        AMQPValue::ShortShortUInt(n) => json!(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letters::test_topology as topology;
    use lapin::types::{FieldArray, LongString};

    fn text(s: &str) -> AMQPValue {
        AMQPValue::LongString(LongString::from(s))
    }

    fn death(queue: &str, reason: &str, count: i64, time: u64) -> AMQPValue {
        let mut entry = FieldTable::default();
        entry.insert("queue".into(), text(queue));
        entry.insert("reason".into(), text(reason));
        entry.insert("count".into(), AMQPValue::LongLongInt(count));
        entry.insert("time".into(), AMQPValue::Timestamp(time));
        entry.insert("exchange".into(), text("t.maitred.commands"));
        entry.insert(
            "routing-keys".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![text("p.001")])),
        );
        AMQPValue::FieldTable(entry)
    }

    fn with_headers(entries: Vec<(&str, AMQPValue)>) -> BasicProperties {
        let mut headers = FieldTable::default();
        for (key, value) in entries {
            headers.insert(key.into(), value);
        }
        crate::properties("m-1", "decide").with_headers(headers)
    }

    #[test]
    fn reads_the_death_that_brought_it_here_and_ignores_timers() {
        // A hold-expiry timer went off (a pass through a delay queue), then the command was
        // rejected twice by its partition (replayed once in between).
        let properties = with_headers(vec![
            (
                "x-death",
                AMQPValue::FieldArray(FieldArray::from(vec![
                    death("t.maitred.p.001", "rejected", 2, 1_700_000_100),
                    death("t.maitred.delay.600000ms", "expired", 1, 1_700_000_000),
                ])),
            ),
            (DELIVERY_COUNT_HEADER, AMQPValue::LongLongInt(3)),
        ]);
        let letter = DeadLetter::new(&topology(), "p.001", properties, b"{}".to_vec());
        assert_eq!(letter.id, "m-1");
        assert_eq!(letter.kind.as_deref(), Some("decide"));
        assert_eq!(letter.reason(), Some("rejected"));
        assert_eq!(letter.died_in(), Some("t.maitred.p.001"));
        assert_eq!(letter.death_count(), 2);
        assert_eq!(letter.deaths.len(), 2);
        assert!(letter.deaths[1].timer);
        assert_eq!(letter.deaths[0].routing_keys, ["p.001"]);
        let first = letter.first_death_at().unwrap();
        assert_eq!(first.timestamp(), 1_700_000_100);
        assert_eq!(
            letter.age(first + chrono::Duration::seconds(90)),
            Some(Duration::from_secs(90))
        );
        // A copy or a replay starts without the broker's delivery count, and keeps x-death.
        let again = letter.republished_properties();
        let headers = again.headers().as_ref().unwrap();
        assert!(!headers.contains_key(DELIVERY_COUNT_HEADER));
        assert!(headers.contains_key("x-death"));
        assert_eq!(again.message_id(), letter.properties.message_id());
        let json = letter.headers_json();
        assert_eq!(json["x-death"][0]["reason"], "rejected");
        assert_eq!(json["x-death"][0]["count"], 2);
        assert_eq!(json["x-death"][0]["time"], "2023-11-14T22:15:00+00:00");
    }

    #[test]
    fn tolerates_a_missing_x_death_and_a_missing_message_id() {
        let bare = DeadLetter::new(
            &topology(),
            "p.002",
            BasicProperties::default(),
            b"junk".to_vec(),
        );
        assert!(bare.id.starts_with("anon-"), "{}", bare.id);
        assert_eq!(bare.message_id, None);
        assert_eq!(bare.reason(), None);
        assert_eq!(bare.death_count(), 0);
        assert_eq!(bare.age(Utc::now()), None);
        assert_eq!(bare.headers_json(), serde_json::Value::Null);
        // The digest is stable, and tells different messages apart.
        let same = DeadLetter::new(
            &topology(),
            "p.002",
            BasicProperties::default(),
            b"junk".to_vec(),
        );
        let other = DeadLetter::new(
            &topology(),
            "p.003",
            BasicProperties::default(),
            b"junk".to_vec(),
        );
        assert_eq!(bare.id, same.id);
        assert_ne!(bare.id, other.id);

        // RabbitMQ 3.13+ also sets x-last-death-*; without x-death those still tell why.
        let properties = with_headers(vec![
            ("x-last-death-queue", text("t.maitred.webhooks")),
            ("x-last-death-reason", text("rejected")),
            ("x-first-death-queue", text("t.maitred.delay.300ms")),
            ("x-first-death-reason", text("expired")),
        ]);
        let letter = DeadLetter::new(&topology(), "webhooks", properties, Vec::new());
        assert_eq!(letter.reason(), Some("rejected"));
        assert_eq!(letter.died_in(), Some("t.maitred.webhooks"));
        assert_eq!(letter.death_count(), 1);
        assert_eq!(letter.first_death_at(), None);
    }
}
