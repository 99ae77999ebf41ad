//! Put-backs: how a sweep reads a message without ever losing it (see the parent module's
//! documentation).

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicPublishOptions};
use lapin::{Channel, Confirmation};

use super::{DeadLetter, DeadLetterError, DeadLetterQueue, CONFIRM_TIMEOUT};
use crate::Topology;

/// Put-backs in flight at most before their confirms are awaited.
const PUT_BACK_BATCH: usize = 200;

/// Messages that stay, put back: each is published again to the dead-letter queue's exchange
/// (with its routing key, properties and headers), and the original is acked once the copy is
/// confirmed, so no delivery is ever counted against it. Copies are pipelined, up to
/// [`PUT_BACK_BATCH`] in flight.
pub(super) struct PutBacks {
    channel: Channel,
    queue: String,
    exchange: String,
    in_flight: Vec<(lapin::Acker, lapin::PublisherConfirm)>,
    /// Purged messages, acked with the next batch (for the same reason).
    removed: Vec<lapin::Acker>,
}

impl PutBacks {
    pub(super) fn new(channel: Channel, queue: DeadLetterQueue, topology: &Topology) -> Self {
        Self {
            channel,
            queue: queue.queue(topology),
            exchange: queue.exchange(topology),
            in_flight: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// Removes the message: acks it once the copies in flight are confirmed.
    pub(super) async fn remove(&mut self, delivery: &Delivery) -> Result<(), DeadLetterError> {
        self.removed.push(delivery.acker.clone());
        self.flush_if_full().await
    }

    async fn flush_if_full(&mut self) -> Result<(), DeadLetterError> {
        if self.in_flight.len() + self.removed.len() >= PUT_BACK_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    pub(super) async fn push(
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
    pub(super) async fn flush(&mut self) -> Result<(), DeadLetterError> {
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
