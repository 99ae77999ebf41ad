//! The RabbitMQ topology: names, arguments, declaration, and partition routing.
//!
//! Every name starts with a configurable prefix, so parallel test runs on one broker never see
//! each other's queues.
//!
//! - `maitred.commands` (direct) routes `p.NNN` to the partition queues, `payments` to the
//!   payment workers' queue, `webhooks` to the webhook dispatchers' queue and `notifications`
//!   to the email senders' queue.
//! - `maitred.dlx` (topic) feeds `maitred.dlq`, keeping the routing key so a replay goes back
//!   where the message came from. Webhooks have their own `maitred.webhooks.dlx` and
//!   `maitred.webhooks.dlq`, so failed deliveries do not bury failed commands. Emails that
//!   could not be sent join the commands and payments in `maitred.dlq` (routing key
//!   `notifications`), where ops already look.
//! - `maitred.delay` (headers) feeds one TTL queue per delay, `maitred.delay.<ms>ms`, which
//!   dead-letters back into `maitred.commands` under the message's own routing key: a timer.
//!   One queue per delay keeps every queue's messages in expiry order.
//! - `maitred.inventory` (fanout) carries the workers' inventory notices to every intake
//!   process, each on a queue of its own that lives as long as its connection.

use std::time::Duration;

use lapin::options::{
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};
use uuid::Uuid;
use xxhash_rust::xxh3::xxh3_64;

/// Names and limits of the queues. Declaring it twice is harmless; declaring it with different
/// arguments than an existing queue fails loudly (RabbitMQ's PRECONDITION_FAILED), by design.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Put before every exchange and queue name, for example `"staging."` or a per-test id.
    pub prefix: String,
    /// The number of partition queues. Changing it re-routes restaurants, so it is fixed per
    /// installation.
    pub partitions: u16,
    /// `x-max-length` of each partition: past it, publishes are refused (back-pressure). The
    /// payments, webhooks and dead-letter queues, which every partition feeds, hold
    /// [`Topology::SHARED_QUEUE_FACTOR`] times as many.
    pub max_length: u32,
    /// `x-delivery-limit`: after this many failed deliveries a message is dead-lettered.
    pub delivery_limit: u32,
    /// `x-quorum-initial-group-size`: on how many nodes each queue keeps a replica. `None`
    /// leaves it to the broker (every node of the cluster). The broker refuses to redeclare a
    /// queue with another value, so it is fixed per installation, like `partitions`.
    pub quorum_size: Option<u8>,
}

impl Topology {
    /// How many partitions' worth of messages a queue that all partitions feed may hold.
    pub const SHARED_QUEUE_FACTOR: u32 = 10;

    /// `x-max-length` of the payments, webhooks and dead-letter queues. Bounded like the
    /// partitions, so no flood (a storm of failures, a receiver that fails everything) can
    /// fill the broker's memory; past it the publisher is refused and keeps the message in
    /// its outbox, or the broker keeps a dead letter in its source queue.
    pub fn shared_max_length(&self) -> u32 {
        self.max_length.saturating_mul(Self::SHARED_QUEUE_FACTOR)
    }

    pub fn commands_exchange(&self) -> String {
        format!("{}maitred.commands", self.prefix)
    }

    pub fn dead_letter_exchange(&self) -> String {
        format!("{}maitred.dlx", self.prefix)
    }

    pub fn dead_letter_queue(&self) -> String {
        format!("{}maitred.dlq", self.prefix)
    }

    pub fn inventory_exchange(&self) -> String {
        format!("{}maitred.inventory", self.prefix)
    }

    pub fn payments_queue(&self) -> String {
        format!("{}maitred.payments", self.prefix)
    }

    pub fn webhooks_queue(&self) -> String {
        format!("{}maitred.webhooks", self.prefix)
    }

    pub fn notifications_queue(&self) -> String {
        format!("{}maitred.notifications", self.prefix)
    }

    pub fn webhooks_dead_letter_exchange(&self) -> String {
        format!("{}maitred.webhooks.dlx", self.prefix)
    }

    pub fn webhooks_dead_letter_queue(&self) -> String {
        format!("{}maitred.webhooks.dlq", self.prefix)
    }

    pub fn delay_exchange(&self) -> String {
        format!("{}maitred.delay", self.prefix)
    }

    /// The TTL queue that holds messages for `delay`.
    pub fn delay_queue(&self, delay: Duration) -> String {
        format!("{}maitred.delay.{}ms", self.prefix, delay.as_millis())
    }

    /// The routing key of the payment workers' queue on the commands exchange.
    pub const PAYMENTS_KEY: &'static str = "payments";
    /// The routing key of the webhook dispatchers' queue on the commands exchange.
    pub const WEBHOOKS_KEY: &'static str = "webhooks";
    /// The routing key of the email senders' queue on the commands exchange.
    pub const NOTIFICATIONS_KEY: &'static str = "notifications";
    /// The header that selects a delay queue on the delay exchange.
    pub const DELAY_HEADER: &'static str = "delay-ms";

    pub fn partition_queue(&self, partition: u16) -> String {
        format!("{}maitred.p.{partition:03}", self.prefix)
    }

    /// The routing key of a partition. The dead-letter exchange keeps it, so a replay goes back
    /// to the same partition.
    pub fn routing_key(partition: u16) -> String {
        format!("p.{partition:03}")
    }

    /// The partition of a restaurant. xxh3 is stable across processes, versions and machines,
    /// unlike `DefaultHasher`, so every API and worker process agrees on it.
    pub fn partition_of(&self, restaurant_id: Uuid) -> u16 {
        (xxh3_64(restaurant_id.as_bytes()) % u64::from(self.partitions.max(1))) as u16
    }

    /// Declares exchanges, queues and bindings. Idempotent.
    ///
    /// # Errors
    /// When the broker refuses a declaration, for example because a queue exists with other
    /// arguments.
    pub async fn declare(&self, channel: &Channel) -> Result<(), lapin::Error> {
        let durable_exchange = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                self.commands_exchange().into(),
                ExchangeKind::Direct,
                durable_exchange,
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                self.dead_letter_exchange().into(),
                ExchangeKind::Topic,
                durable_exchange,
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                self.inventory_exchange().into(),
                ExchangeKind::Fanout,
                durable_exchange,
                FieldTable::default(),
            )
            .await?;

        channel
            .queue_declare(
                self.dead_letter_queue().into(),
                QueueDeclareOptions::durable(),
                self.dead_letter_queue_arguments(),
            )
            .await?;
        channel
            .queue_bind(
                self.dead_letter_queue().into(),
                self.dead_letter_exchange().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;

        for partition in 0..self.partitions {
            channel
                .queue_declare(
                    self.partition_queue(partition).into(),
                    QueueDeclareOptions::durable(),
                    self.partition_arguments(),
                )
                .await?;
            channel
                .queue_bind(
                    self.partition_queue(partition).into(),
                    self.commands_exchange().into(),
                    Self::routing_key(partition).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        self.declare_work_queues(channel).await
    }

    /// The payment, webhook and notification queues: parallel consumers, no single active
    /// consumer.
    async fn declare_work_queues(&self, channel: &Channel) -> Result<(), lapin::Error> {
        let durable_exchange = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                self.webhooks_dead_letter_exchange().into(),
                ExchangeKind::Fanout,
                durable_exchange,
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_declare(
                self.webhooks_dead_letter_queue().into(),
                QueueDeclareOptions::durable(),
                self.dead_letter_queue_arguments(),
            )
            .await?;
        channel
            .queue_bind(
                self.webhooks_dead_letter_queue().into(),
                self.webhooks_dead_letter_exchange().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                self.delay_exchange().into(),
                ExchangeKind::Headers,
                durable_exchange,
                FieldTable::default(),
            )
            .await?;
        let work_queues = [
            (
                self.payments_queue(),
                Self::PAYMENTS_KEY,
                self.dead_letter_exchange(),
            ),
            (
                self.webhooks_queue(),
                Self::WEBHOOKS_KEY,
                self.webhooks_dead_letter_exchange(),
            ),
            (
                self.notifications_queue(),
                Self::NOTIFICATIONS_KEY,
                self.dead_letter_exchange(),
            ),
        ];
        for (queue, key, dead_letters) in work_queues {
            let mut args = self.dead_lettering_to(&dead_letters);
            args.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(i64::from(self.delivery_limit)),
            );
            args.insert(
                "x-max-length".into(),
                AMQPValue::LongLongInt(i64::from(self.shared_max_length())),
            );
            channel
                .queue_declare(queue.as_str().into(), QueueDeclareOptions::durable(), args)
                .await?;
            channel
                .queue_bind(
                    queue.as_str().into(),
                    self.commands_exchange().into(),
                    key.into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }

    /// Declares the TTL queue for `delay`, bound to the delay exchange. Idempotent; publishers
    /// call it before the first message with a new delay.
    ///
    /// # Errors
    /// When the broker refuses the declaration.
    pub async fn declare_delay(
        &self,
        channel: &Channel,
        delay: Duration,
    ) -> Result<(), lapin::Error> {
        let queue = self.delay_queue(delay);
        let millis = delay.as_millis().to_string();
        let mut args = self.dead_lettering_to(&self.commands_exchange());
        args.insert(
            "x-message-ttl".into(),
            AMQPValue::LongLongInt(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
        );
        channel
            .queue_declare(queue.as_str().into(), QueueDeclareOptions::durable(), args)
            .await?;
        let mut binding = FieldTable::default();
        binding.insert("x-match".into(), AMQPValue::LongString("all".into()));
        binding.insert(
            Self::DELAY_HEADER.into(),
            AMQPValue::LongString(millis.as_str().into()),
        );
        channel
            .queue_bind(
                queue.as_str().into(),
                self.delay_exchange().into(),
                "".into(),
                QueueBindOptions::default(),
                binding,
            )
            .await
    }

    /// A dead-letter queue refuses what it has no room for rather than dropping its oldest
    /// (quorum queues' default): a refused dead letter stays in its source queue.
    fn dead_letter_queue_arguments(&self) -> FieldTable {
        let mut args = self.quorum();
        args.insert(
            "x-max-length".into(),
            AMQPValue::LongLongInt(i64::from(self.shared_max_length())),
        );
        args.insert(
            "x-overflow".into(),
            AMQPValue::LongString("reject-publish".into()),
        );
        args
    }

    fn partition_arguments(&self) -> FieldTable {
        // Quorum: replicated, and safe with single active consumer (classic queues with SAC can
        // crash on 3.10.8 when the consumer switches, rabbitmq-server#5460).
        let mut args = self.dead_lettering_to(&self.dead_letter_exchange());
        args.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongLongInt(i64::from(self.delivery_limit)),
        );
        // A full partition refuses the publish (a nack), which intake turns into 503: the
        // back-pressure is visible to the client and nothing is silently dropped.
        args.insert(
            "x-max-length".into(),
            AMQPValue::LongLongInt(i64::from(self.max_length)),
        );
        args
    }

    /// Deletes everything [`Topology::declare`] made. Meant for tests and for tearing down a
    /// staging prefix; it drops any messages in the queues.
    ///
    /// # Errors
    /// When the broker cannot be reached.
    pub async fn delete(&self, channel: &Channel, delays: &[Duration]) -> Result<(), lapin::Error> {
        let queues = (0..self.partitions)
            .map(|partition| self.partition_queue(partition))
            .chain([
                self.dead_letter_queue(),
                self.payments_queue(),
                self.webhooks_queue(),
                self.webhooks_dead_letter_queue(),
                self.notifications_queue(),
            ])
            .chain(delays.iter().map(|delay| self.delay_queue(*delay)));
        for queue in queues {
            channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await?;
        }
        for exchange in [
            self.commands_exchange(),
            self.dead_letter_exchange(),
            self.webhooks_dead_letter_exchange(),
            self.delay_exchange(),
            self.inventory_exchange(),
        ] {
            channel
                .exchange_delete(exchange.into(), Default::default())
                .await?;
        }
        Ok(())
    }

    /// The number of ready messages in a queue, read with a passive declare.
    ///
    /// # Errors
    /// When the queue does not exist (the channel is then closed by the broker).
    pub async fn ready_messages(
        &self,
        channel: &Channel,
        queue: &str,
    ) -> Result<u32, lapin::Error> {
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let queue = channel
            .queue_declare(queue.into(), passive, FieldTable::default())
            .await?;
        Ok(queue.message_count())
    }
}

impl Topology {
    /// The arguments every queue starts from: a quorum queue, on `quorum_size` nodes if set.
    fn quorum(&self) -> FieldTable {
        let mut args = FieldTable::default();
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
        if let Some(size) = self.quorum_size {
            args.insert(
                "x-quorum-initial-group-size".into(),
                AMQPValue::LongInt(i32::from(size)),
            );
        }
        args
    }

    /// A quorum queue whose dead letters go to `exchange`, at least once: the broker keeps a
    /// message until the dead-letter exchange's queue confirms it. That strategy needs
    /// `reject-publish` overflow.
    fn dead_lettering_to(&self, exchange: &str) -> FieldTable {
        let text = |s: &str| AMQPValue::LongString(s.into());
        let mut args = self.quorum();
        args.insert("x-dead-letter-exchange".into(), text(exchange));
        args.insert("x-dead-letter-strategy".into(), text("at-least-once"));
        args.insert("x-overflow".into(), text("reject-publish"));
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(partitions: u16) -> Topology {
        Topology {
            prefix: "t.".into(),
            partitions,
            max_length: 10,
            delivery_limit: 3,
            quorum_size: None,
        }
    }

    #[test]
    fn names_carry_the_prefix_and_a_zero_padded_partition() {
        let t = topology(64);
        assert_eq!(t.partition_queue(7), "t.maitred.p.007");
        assert_eq!(t.commands_exchange(), "t.maitred.commands");
        assert_eq!(t.dead_letter_queue(), "t.maitred.dlq");
        assert_eq!(Topology::routing_key(42), "p.042");
        assert_eq!(t.webhooks_dead_letter_queue(), "t.maitred.webhooks.dlq");
        assert_eq!(t.notifications_queue(), "t.maitred.notifications");
        assert_eq!(
            t.delay_queue(Duration::from_secs(600)),
            "t.maitred.delay.600000ms"
        );
    }

    #[test]
    fn partition_is_stable_and_in_range() {
        let t = topology(64);
        let id = Uuid::parse_str("6f1c1c9e-8a4e-4a8e-9d9e-3f0f8f3a2b10").unwrap();
        // A pinned value: if this changes, every installation's routing changes with it.
        assert_eq!(t.partition_of(id), 41);
        for _ in 0..1000 {
            assert!(t.partition_of(Uuid::new_v4()) < 64);
        }
    }

    #[test]
    fn partitions_spread_restaurants() {
        let t = topology(16);
        let mut counts = [0u32; 16];
        for _ in 0..16_000 {
            counts[usize::from(t.partition_of(Uuid::new_v4()))] += 1;
        }
        assert!(counts.iter().all(|&c| c > 700), "{counts:?}");
    }
}
