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
//!
//! # Layout
//!
//! - [`DeadLetterQueue`]: the two queues, and their names in a topology;
//! - [`DeadLetter`]: a message as read, with its `x-death` history;
//! - [`Selector`], [`Sweep`]: what a sweep acts on, and what it did;
//! - `put_back`: the pipelined put-backs that read a message without losing it;
//! - here: [`DeadLetters`], whose sweeps browse, replay and purge.

mod letter;
mod put_back;
mod queue;
mod sweep;

use std::time::Duration;

use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection};

use crate::Topology;
use put_back::PutBacks;

pub use letter::{DeadLetter, Death};
pub use queue::DeadLetterQueue;
pub use sweep::{Action, Handled, Outcome, Progress, Selector, Sweep};

/// How long to wait for the confirm of a replay or a put-back.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The topology the unit tests read messages in.
#[cfg(test)]
fn test_topology() -> Topology {
    Topology {
        prefix: "t.".into(),
        partitions: 4,
        max_length: 10,
        delivery_limit: 3,
        quorum_size: None,
    }
}
