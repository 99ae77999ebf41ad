//! A serial consumer of one partition queue: one delivery at a time, in order, with manual acks.

use std::future::Future;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::FieldTable;
use lapin::Connection;
use tokio_util::sync::CancellationToken;

use crate::Topology;

/// What to do with a delivery once it has been handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Handled (its effects are committed, or it needed none): remove it from the queue.
    Ack,
    /// It can never succeed (malformed, or refers to nothing): send it to the dead-letter queue
    /// now, so it does not hold up the messages behind it.
    DeadLetter,
    /// It failed in a way that may pass: put it back. The queue's delivery limit dead-letters
    /// it after repeated failures.
    Retry,
}

/// Consumes `partition` until `shutdown` is cancelled or the channel fails, calling `handle` for
/// each delivery and settling it only after `handle` returns.
///
/// The partition queue has single active consumer, so several workers may call this for the same
/// partition: one is active and the others wait as standby, taking over when it goes away.
/// `prefetch` bounds the deliveries in flight; they are still handled strictly one at a time.
///
/// # Errors
/// When the channel or connection fails; the caller reconnects. Unsettled deliveries are then
/// redelivered by the broker.
pub async fn consume_partition<F, Fut>(
    connection: &Connection,
    topology: &Topology,
    partition: u16,
    prefetch: u16,
    shutdown: CancellationToken,
    mut handle: F,
) -> Result<(), lapin::Error>
where
    F: FnMut(Delivery) -> Fut,
    Fut: Future<Output = Disposition>,
{
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await?;
    let mut deliveries = channel
        .basic_consume(
            topology.partition_queue(partition).into(),
            "".into(), // the broker names the consumer
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;

    loop {
        let next = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            next = deliveries.next() => next,
        };
        let Some(delivery) = next else { break };
        let delivery = delivery?;
        let acker = delivery.acker.clone();
        match handle(delivery).await {
            Disposition::Ack => acker.ack(BasicAckOptions::default()).await?,
            Disposition::DeadLetter => acker.reject(BasicRejectOptions { requeue: false }).await?,
            Disposition::Retry => {
                acker
                    .nack(BasicNackOptions {
                        requeue: true,
                        multiple: false,
                    })
                    .await?
            }
        };
    }
    // Closing the channel hands every prefetched, unsettled delivery back to the queue.
    channel.close(200, "shutdown".into()).await
}
