//! Dead-letter access: browse, replay and purge the dead-letter queues, without ever losing a
//! message. The mechanics only: which messages to act on is the caller's [`Selector`].
//!
//! # How a message is read without being lost
//!
//! AMQP has no "peek". A message is taken with `basic.get` and then must be settled. Handing
//! it back (`basic.nack`/`basic.reject` with requeue, or closing the channel) counts as a
//! failed delivery on a quorum queue, and both dead-letter queues are quorum queues declared
//! without `x-delivery-limit`: on RabbitMQ 3.10 that means no limit, but RabbitMQ 4.0 gives
//! every quorum queue a default limit of 20, and a dead-letter queue has nowhere to
//! dead-letter to, so the 21st look would silently drop the message. (4.3 stopped counting
//! `basic.nack`, but still counts `basic.reject` and a closed channel.)
//!
//! So nothing is ever handed back. A message that stays is *put back*: published again to
//! the dead-letter queue's own exchange, with its routing key, properties and headers
//! (`x-death` included), with a publisher confirm, and only then is the original acked. The
//! copy is a new message with no delivery count, whatever the broker version or policy. The
//! price: every sweep rewrites the messages it reads (they move to the back of the queue, in
//! the same order), and a crash between the confirm and the ack leaves a duplicate (never a
//! loss; every consumer is idempotent).
//!
//! Copies are pipelined in batches, and a batch's originals are acked only once *every* copy
//! of the batch is confirmed. A quorum queue's channel can hold acks back while it has many
//! unconfirmed publishes in flight (its soft limit: 256 on 3.10, 32 on 4.3), and closing the
//! channel then drops them, so the acked messages would come back (measured: acking each
//! original as its copy's confirm arrived, 200 copies in flight, left 95 duplicates in a
//! 3000-message queue; acking after the whole batch, none).
//!
//! A sweep reads exactly the messages that were in the queue when it started, once each.
//! Dead letters arriving meanwhile wait behind them and are left alone.
//!
//! # Replay
//!
//! A replayed message goes to the commands exchange under its original routing key (the
//! partition `p.NNN`, `payments` or `webhooks`: the dead-letter exchanges keep it), mandatory
//! and confirmed. The dead letter is acked only after that confirm; a replay the broker
//! refuses (unroutable, or a full queue) is put back and reported as failed.
//!
//! # One at a time
//!
//! Two sweeps of one queue would hide messages from each other (a message in one sweep's hands
//! is invisible to the other). A sweep therefore holds a lock: an exclusive, auto-delete queue
//! named after the dead-letter queue, which the broker lets only one connection have and
//! drops with the connection, even if the process dies.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::Topology;

/// How long to wait for the confirm of a replay or a put-back.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);
/// Put-backs in flight at most before their confirms are awaited.
const PUT_BACK_BATCH: usize = 200;
/// The header quorum queues add on redelivery; a copy starts afresh without it.
const DELIVERY_COUNT_HEADER: &str = "x-delivery-count";

/// One of the two dead-letter queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeadLetterQueue {
    /// `maitred.dlq`: partition commands and payment jobs.
    Commands,
    /// `maitred.webhooks.dlq`: webhook deliveries after their last attempt.
    Webhooks,
}

impl DeadLetterQueue {
    pub const ALL: [DeadLetterQueue; 2] = [DeadLetterQueue::Commands, DeadLetterQueue::Webhooks];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterQueue::Commands => "commands",
            DeadLetterQueue::Webhooks => "webhooks",
        }
    }

    /// The queue's name in `topology`.
    pub fn queue(self, topology: &Topology) -> String {
        match self {
            DeadLetterQueue::Commands => topology.dead_letter_queue(),
            DeadLetterQueue::Webhooks => topology.webhooks_dead_letter_queue(),
        }
    }

    /// The exchange that feeds the queue (and keeps routing keys): where a message that stays
    /// is put back.
    fn exchange(self, topology: &Topology) -> String {
        match self {
            DeadLetterQueue::Commands => topology.dead_letter_exchange(),
            DeadLetterQueue::Webhooks => topology.webhooks_dead_letter_exchange(),
        }
    }

    fn lock(self, topology: &Topology) -> String {
        format!("{}.lock", self.queue(topology))
    }
}

impl fmt::Display for DeadLetterQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeadLetterQueue {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "commands" => Ok(DeadLetterQueue::Commands),
            "webhooks" => Ok(DeadLetterQueue::Webhooks),
            other => Err(format!(
                "no dead-letter queue is called {other:?}: use commands or webhooks"
            )),
        }
    }
}

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

    fn from_delivery(topology: &Topology, delivery: &Delivery) -> Self {
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
    fn republished_properties(&self) -> BasicProperties {
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

/// Chooses the messages an operation acts on. Implemented by any `Fn(&DeadLetter) -> bool`;
/// a selector that must look something up (a database, for example) implements it directly.
pub trait Selector {
    fn select(&self, letter: &DeadLetter) -> impl Future<Output = bool> + Send;
}

impl<F> Selector for F
where
    F: Fn(&DeadLetter) -> bool + Sync,
{
    fn select(&self, letter: &DeadLetter) -> impl Future<Output = bool> + Send {
        std::future::ready(self(letter))
    }
}

/// What a sweep does with the messages its selector chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Read them and leave them.
    Browse,
    /// Publish them back to where they came from, then remove them.
    Replay,
    /// Remove them.
    Purge,
}

/// How far a sweep has got: `done` of the `total` messages it will read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// What happened to one chosen message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Left in place: a browse, or a dry run.
    Kept,
    Replayed,
    Purged,
    /// The replay was refused; the message is still in the dead-letter queue.
    Failed(String),
}

/// A chosen message and what happened to it.
#[derive(Debug, Clone)]
pub struct Handled {
    pub letter: DeadLetter,
    pub outcome: Outcome,
}

/// The result of a sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub action: Action,
    pub dry_run: bool,
    /// Messages read.
    pub scanned: u64,
    /// Messages the selector did not choose: left in place.
    pub skipped: u64,
    /// The chosen messages, in queue order, and what happened to each.
    pub chosen: Vec<Handled>,
}

impl Sweep {
    fn count(&self, outcome: impl Fn(&Outcome) -> bool) -> u64 {
        self.chosen.iter().filter(|h| outcome(&h.outcome)).count() as u64
    }

    pub fn replayed(&self) -> u64 {
        self.count(|o| *o == Outcome::Replayed)
    }

    pub fn purged(&self) -> u64 {
        self.count(|o| *o == Outcome::Purged)
    }

    pub fn failed(&self) -> u64 {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// Another browse, replay or purge of the same queue is running (in any process).
    #[error("another dead-letter operation is running on {0}; try again when it is done")]
    Busy(String),
    /// A message could not be put back. The sweep stopped; the message in hand goes back
    /// to the queue when the connection closes.
    #[error("could not put a message back into {queue}: {why}; the sweep stopped")]
    PutBack { queue: String, why: String },
    /// No confirm came back for a publish to `exchange`: the sweep stopped. The message in
    /// hand goes back to the queue when the connection closes; if it was a replay, the replay
    /// may have happened too (a duplicate, which consumers ignore).
    #[error("no publisher confirm from {exchange} within {CONFIRM_TIMEOUT:?}; the sweep stopped")]
    Unconfirmed { exchange: String },
    #[error("RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
}

/// Access to the dead-letter queues of one topology. Each operation opens its own connection,
/// which also scopes its lock.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    url: String,
    topology: Topology,
}

impl DeadLetters {
    pub fn new(url: impl Into<String>, topology: Topology) -> Self {
        Self {
            url: url.into(),
            topology,
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The number of messages in a dead-letter queue (cheap: reads nothing).
    ///
    /// # Errors
    /// When the broker cannot be reached or the queue does not exist.
    pub async fn depth(&self, queue: DeadLetterQueue) -> Result<u32, DeadLetterError> {
        let connection = crate::connect(&self.url, "maitred-dead-letters").await?;
        let channel = connection.create_channel().await?;
        let depth = self
            .topology
            .ready_messages(&channel, &queue.queue(&self.topology))
            .await;
        let _closed = connection.close(200, "done".into()).await;
        Ok(depth?)
    }

    /// Reads every message in the queue and leaves it there; returns the ones `selector`
    /// chooses.
    ///
    /// # Errors
    /// See [`DeadLetterError`].
    pub async fn browse(
        &self,
        queue: DeadLetterQueue,
        selector: &(impl Selector + Sync),
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Sweep, DeadLetterError> {
        self.sweep(queue, Action::Browse, false, selector, progress)
            .await
    }

    /// Replays the messages `selector` chooses (see the module's documentation). A dry run
    /// reads and reports them, and changes nothing.
    ///
    /// # Errors
    /// See [`DeadLetterError`]. Replays confirmed before an error stay done.
    pub async fn replay(
        &self,
        queue: DeadLetterQueue,
        selector: &(impl Selector + Sync),
        dry_run: bool,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Sweep, DeadLetterError> {
        self.sweep(queue, Action::Replay, dry_run, selector, progress)
            .await
    }

    /// Removes the messages `selector` chooses. A dry run reads and reports them, and changes
    /// nothing.
    ///
    /// # Errors
    /// See [`DeadLetterError`].
    pub async fn purge(
        &self,
        queue: DeadLetterQueue,
        selector: &(impl Selector + Sync),
        dry_run: bool,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Sweep, DeadLetterError> {
        self.sweep(queue, Action::Purge, dry_run, selector, progress)
            .await
    }

    async fn sweep(
        &self,
        queue: DeadLetterQueue,
        action: Action,
        dry_run: bool,
        selector: &(impl Selector + Sync),
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Sweep, DeadLetterError> {
        let connection = crate::connect(&self.url, "maitred-dead-letters").await?;
        let result = self
            .sweep_on(&connection, queue, action, dry_run, selector, progress)
            .await;
        // Closing hands back a message still in hand after an error, and drops the lock.
        let _closed = connection.close(200, "done".into()).await;
        result
    }

    async fn sweep_on(
        &self,
        connection: &Connection,
        queue: DeadLetterQueue,
        action: Action,
        dry_run: bool,
        selector: &(impl Selector + Sync),
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Sweep, DeadLetterError> {
        self.lock(connection, queue).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let name = queue.queue(&self.topology);
        let total = u64::from(self.topology.ready_messages(&channel, &name).await?);
        let mut sweep = Sweep {
            action,
            dry_run,
            scanned: 0,
            skipped: 0,
            chosen: Vec::new(),
        };
        progress(Progress { done: 0, total });
        let mut kept = PutBacks::new(channel.clone(), queue, &self.topology);
        while sweep.scanned < total {
            let Some(message) = channel
                .basic_get(name.as_str().into(), BasicGetOptions { no_ack: false })
                .await?
            else {
                break;
            };
            let delivery = message.delivery;
            let letter = DeadLetter::from_delivery(&self.topology, &delivery);
            sweep.scanned += 1;
            if !selector.select(&letter).await {
                kept.push(&letter, &delivery).await?;
                sweep.skipped += 1;
            } else {
                let outcome = match (action, dry_run) {
                    (Action::Browse, _) | (_, true) => {
                        kept.push(&letter, &delivery).await?;
                        Outcome::Kept
                    }
                    (Action::Replay, false) => {
                        // Alone in flight, so that a return can only be the replay's.
                        kept.flush().await?;
                        match self.republish(&channel, &letter).await? {
                            Ok(()) => {
                                delivery.acker.ack(BasicAckOptions::default()).await?;
                                Outcome::Replayed
                            }
                            Err(refused) => {
                                kept.push(&letter, &delivery).await?;
                                Outcome::Failed(refused)
                            }
                        }
                    }
                    (Action::Purge, false) => {
                        kept.remove(&delivery).await?;
                        Outcome::Purged
                    }
                };
                sweep.chosen.push(Handled { letter, outcome });
            }
            progress(Progress {
                done: sweep.scanned,
                total,
            });
        }
        kept.flush().await?;
        // A round trip through the channel and the queue after the last acks, before closing:
        // the broker has then handed every ack to the queue, ahead of the channel's end.
        // (Quorum queues have been seen to ignore acks sent just before a channel closes,
        // rabbitmq-server#10327; such a message comes back: a duplicate, never a loss.)
        self.topology.ready_messages(&channel, &name).await?;
        let _closed = channel.close(200, "done".into()).await;
        Ok(sweep)
    }

    /// Takes the queue's lock, held until the connection closes.
    async fn lock(
        &self,
        connection: &Connection,
        queue: DeadLetterQueue,
    ) -> Result<(), DeadLetterError> {
        let channel = connection.create_channel().await?;
        let mut args = FieldTable::default();
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("classic".into()),
        );
        let options = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        };
        let lock = queue.lock(&self.topology);
        match channel
            .queue_declare(lock.as_str().into(), options, args)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_resource_locked(&error) => {
                Err(DeadLetterError::Busy(queue.queue(&self.topology)))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Publishes the message to the commands exchange under its routing key. The outer error
    /// stops the sweep (the outcome is unknown: the message is neither acked nor put back);
    /// the inner one is a refusal (nothing was enqueued).
    async fn republish(
        &self,
        channel: &Channel,
        letter: &DeadLetter,
    ) -> Result<Result<(), String>, DeadLetterError> {
        let confirmation = publish(
            channel,
            &self.topology.commands_exchange(),
            &letter.routing_key,
            &letter.body,
            letter.republished_properties(),
        )
        .await?;
        Ok(match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(returned)) => Err(format!(
                "unroutable: no queue is bound to {:?} ({})",
                letter.routing_key, returned.reply_text
            )),
            Confirmation::Nack(_) => {
                Err("refused by the broker (is the target queue full?)".into())
            }
            Confirmation::NotRequested => {
                Err("the channel is not in confirm mode; nothing was replayed".into())
            }
        })
    }
}

/// Messages that stay, put back: each is published again to the dead-letter queue's exchange
/// (with its routing key, properties and headers), and the original is acked once the copy is
/// confirmed, so no delivery is ever counted against it. Copies are pipelined, up to
/// [`PUT_BACK_BATCH`] in flight.
struct PutBacks {
    channel: Channel,
    queue: String,
    exchange: String,
    in_flight: Vec<(lapin::Acker, lapin::PublisherConfirm)>,
    /// Purged messages, acked with the next batch (for the same reason).
    removed: Vec<lapin::Acker>,
}

impl PutBacks {
    fn new(channel: Channel, queue: DeadLetterQueue, topology: &Topology) -> Self {
        Self {
            channel,
            queue: queue.queue(topology),
            exchange: queue.exchange(topology),
            in_flight: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// Removes the message: acks it once the copies in flight are confirmed.
    async fn remove(&mut self, delivery: &Delivery) -> Result<(), DeadLetterError> {
        self.removed.push(delivery.acker.clone());
        self.flush_if_full().await
    }

    async fn flush_if_full(&mut self) -> Result<(), DeadLetterError> {
        if self.in_flight.len() + self.removed.len() >= PUT_BACK_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn push(
        &mut self,
        letter: &DeadLetter,
        delivery: &Delivery,
    ) -> Result<(), DeadLetterError> {
        let confirm = self
            .channel
            .basic_publish(
                self.exchange.as_str().into(),
                letter.routing_key.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &letter.body,
                letter.republished_properties(),
            )
            .await?;
        self.in_flight.push((delivery.acker.clone(), confirm));
        self.flush_if_full().await
    }

    /// Waits for the copies' confirms, then acks their originals (all confirms first: acks
    /// sent while the broker still has publishes in flight on the channel may be held back by
    /// its flow control, and a channel closed then drops them). On an error, the originals not
    /// yet acked go back to the queue when the connection closes: a duplicate, never a loss.
    async fn flush(&mut self) -> Result<(), DeadLetterError> {
        let mut confirmed = Vec::with_capacity(self.in_flight.len());
        let mut failure = None;
        for (acker, confirm) in std::mem::take(&mut self.in_flight) {
            let failed = |why: &str| DeadLetterError::PutBack {
                queue: self.queue.clone(),
                why: why.into(),
            };
            match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
                Ok(Ok(Confirmation::Ack(None))) => confirmed.push(acker),
                Ok(Ok(Confirmation::Ack(Some(_)))) => {
                    failure.get_or_insert(failed("a copy was unroutable"));
                }
                Ok(Ok(Confirmation::Nack(_))) => {
                    failure.get_or_insert(failed("the broker refused a copy"));
                }
                Ok(Ok(Confirmation::NotRequested)) => {
                    failure.get_or_insert(failed("no publisher confirms"));
                }
                Ok(Err(error)) => {
                    failure.get_or_insert(error.into());
                }
                Err(_) => {
                    failure.get_or_insert(DeadLetterError::Unconfirmed {
                        exchange: self.exchange.clone(),
                    });
                }
            }
        }
        if let Some(failure) = failure {
            // The removals are not acked: they come back with the rest, and the sweep stops.
            for acker in confirmed {
                acker.ack(BasicAckOptions::default()).await?;
            }
            return Err(failure);
        }
        for acker in confirmed
            .into_iter()
            .chain(std::mem::take(&mut self.removed))
        {
            acker.ack(BasicAckOptions::default()).await?;
        }
        Ok(())
    }
}

/// Publishes (mandatory) and waits for the confirm. The caller makes sure nothing else is in
/// flight on the channel, so a return can only be this message's.
async fn publish(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    properties: BasicProperties,
) -> Result<Confirmation, DeadLetterError> {
    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            options,
            body,
            properties,
        )
        .await?;
    match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
        Ok(confirmation) => Ok(confirmation?),
        Err(_) => Err(DeadLetterError::Unconfirmed {
            exchange: exchange.to_owned(),
        }),
    }
}

fn is_resource_locked(error: &lapin::Error) -> bool {
    matches!(error.kind(), lapin::ErrorKind::ProtocolError(e) if e.get_id() == 405)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::{FieldArray, LongString};

    fn topology() -> Topology {
        Topology {
            prefix: "t.".into(),
            partitions: 4,
            max_length: 10,
            delivery_limit: 3,
        }
    }

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

    #[test]
    fn queue_names_parse_and_map_to_the_topology() {
        let t = topology();
        assert_eq!(
            "commands".parse::<DeadLetterQueue>().unwrap().queue(&t),
            "t.maitred.dlq"
        );
        assert_eq!(
            "webhooks".parse::<DeadLetterQueue>().unwrap().queue(&t),
            "t.maitred.webhooks.dlq"
        );
        assert_eq!(
            DeadLetterQueue::Webhooks.exchange(&t),
            "t.maitred.webhooks.dlx"
        );
        assert_eq!(DeadLetterQueue::Commands.lock(&t), "t.maitred.dlq.lock");
        assert!("payments".parse::<DeadLetterQueue>().is_err());
    }

    #[test]
    fn closures_select_and_sweeps_count_outcomes() {
        let letter = DeadLetter::new(&topology(), "p.000", BasicProperties::default(), vec![]);
        let only_p0 = |l: &DeadLetter| l.routing_key == "p.000";
        let chosen = futures_util::FutureExt::now_or_never(only_p0.select(&letter));
        assert_eq!(chosen, Some(true));
        let handled = |outcome| Handled {
            letter: letter.clone(),
            outcome,
        };
        let sweep = Sweep {
            action: Action::Replay,
            dry_run: false,
            scanned: 5,
            skipped: 2,
            chosen: vec![
                handled(Outcome::Replayed),
                handled(Outcome::Replayed),
                handled(Outcome::Failed("unroutable".into())),
            ],
        };
        assert_eq!(
            (sweep.replayed(), sweep.failed(), sweep.purged()),
            (2, 1, 0)
        );
    }
}
