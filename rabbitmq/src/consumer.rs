//! Consumers with manual acks: a serial one for partition queues (one delivery at a time, in
//! order) and a concurrent one for work queues (payments, webhooks), where order does not
//! matter and one slow job must not hold up the others.

use std::future::Future;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions};
use lapin::types::{AMQPValue, FieldTable};
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

/// How a worker subscribes to one partition queue.
#[derive(Debug, Clone, Copy)]
pub struct PartitionSubscription {
    pub partition: u16,
    /// The deliveries in flight at once, and so the largest run.
    pub prefetch: u16,
    /// The subscription's `x-priority` (see [`consume_partition`]).
    pub priority: i32,
}

/// Consumes the subscription's partition until `shutdown` is cancelled or the channel fails, calling `handle`
/// with a run of deliveries (every one that has arrived, up to `prefetch`, in queue order) and
/// settling them only after `handle` returns one disposition per delivery. A run that is all
/// acked is settled with one multiple-ack.
///
/// The partition queue has single active consumer, so several workers may call this for the same
/// partition: one is active and the others wait as standby, taking over when it goes away.
/// The subscription's `prefetch` bounds the deliveries in flight, and so the run.
///
/// `turns` is shared by the partitions of one process: a run is formed and handled only with
/// one of its permits (one per database connection the runs may use), so a lane that waits
/// for a connection collects deliveries meanwhile instead of queueing for it with a small run.
///
/// The subscription's `priority` is its `x-priority`. RabbitMQ 4.0 and later make the
/// highest-priority subscriber of a single-active-consumer queue the active one (and hand over
/// to a higher one that arrives later); 3.x ignores it and activates the first subscriber.
///
/// # Errors
/// When the channel or connection fails; the caller reconnects. Unsettled deliveries are then
/// redelivered by the broker.
pub async fn consume_partition<F, Fut>(
    connection: &Connection,
    topology: &Topology,
    subscription: PartitionSubscription,
    turns: &tokio::sync::Semaphore,
    shutdown: CancellationToken,
    mut handle: F,
) -> Result<(), lapin::Error>
where
    F: FnMut(Vec<Delivery>) -> Fut,
    Fut: Future<Output = Vec<Disposition>>,
{
    let PartitionSubscription {
        partition,
        prefetch,
        priority,
    } = subscription;
    let channel = connection.create_channel().await?;
    let mut arguments = FieldTable::default();
    arguments.insert("x-priority".into(), AMQPValue::LongInt(priority));
    let queue = topology.partition_queue(partition);
    // Named after the process, so that `rabbitmqctl list_consumers` shows which worker
    // process is the active consumer of each partition.
    let tag = format!("pid-{}.partition-{partition}", std::process::id());
    let mut deliveries = subscribe(&channel, &queue, &tag, prefetch, arguments).await?;
    loop {
        let next = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            next = deliveries.next() => next,
        };
        let Some(delivery) = next else { break };
        let mut run = vec![delivery?];
        // A lane waits for its turn before it forms its run: what arrives meanwhile joins it,
        // so a busy partition decides bigger runs instead of more of them.
        let turn = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            turn = turns.acquire() => turn.ok(),
        };
        // Whatever has already arrived joins the run; nothing waits for more.
        while run.len() < usize::from(prefetch) {
            match deliveries.next().now_or_never() {
                Some(Some(delivery)) => run.push(delivery?),
                Some(None) | None => break,
            }
        }
        let ackers: Vec<lapin::Acker> = run.iter().map(|d| d.acker.clone()).collect();
        let dispositions = handle(run).await;
        drop(turn);
        settle_run(&ackers, &dispositions).await?;
    }
    // Closing the channel hands every prefetched, unsettled delivery back to the queue.
    channel.close(200, "shutdown".into()).await
}

/// Settles a run in order: one multiple-ack when every delivery is acked, else one by one. A
/// delivery the handler gave no disposition for goes back to the queue.
async fn settle_run(
    ackers: &[lapin::Acker],
    dispositions: &[Disposition],
) -> Result<(), lapin::Error> {
    let all_acked =
        dispositions.len() == ackers.len() && dispositions.iter().all(|d| *d == Disposition::Ack);
    if all_acked {
        if let Some(last) = ackers.last() {
            let _settled = last.ack(BasicAckOptions { multiple: true }).await?;
        }
        return Ok(());
    }
    for (i, acker) in ackers.iter().enumerate() {
        let disposition = dispositions.get(i).copied().unwrap_or(Disposition::Retry);
        settle(acker, disposition).await?;
    }
    Ok(())
}

/// Consumes a work queue until `shutdown` is cancelled or the channel fails, handling up to
/// `prefetch` deliveries at once. On shutdown it stops taking deliveries and settles the ones
/// in hand before closing the channel.
///
/// # Errors
/// When the channel or connection fails; the caller reconnects. Unsettled deliveries are then
/// redelivered by the broker.
pub async fn consume_concurrently<F, Fut>(
    connection: &Connection,
    queue: &str,
    prefetch: u16,
    shutdown: CancellationToken,
    handle: F,
) -> Result<(), lapin::Error>
where
    F: Fn(Delivery) -> Fut,
    Fut: Future<Output = Disposition>,
{
    let channel = connection.create_channel().await?;
    let mut deliveries =
        subscribe(&channel, queue, "", prefetch.max(1), FieldTable::default()).await?;
    // The broker sends at most `prefetch` unsettled deliveries, which bounds this set.
    let mut in_hand = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(result) = in_hand.next(), if !in_hand.is_empty() => result?,
            next = deliveries.next() => {
                let Some(delivery) = next else { break };
                let delivery = delivery?;
                let acker = delivery.acker.clone();
                let handled = handle(delivery);
                in_hand.push(async move { settle(&acker, handled.await).await });
            }
        }
    }
    while let Some(result) = in_hand.next().await {
        result?;
    }
    channel.close(200, "shutdown".into()).await
}

async fn subscribe(
    channel: &lapin::Channel,
    queue: &str,
    tag: &str,
    prefetch: u16,
    arguments: FieldTable,
) -> Result<lapin::Consumer, lapin::Error> {
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await?;
    channel
        .basic_consume(
            queue.into(),
            tag.into(), // empty: the broker names the consumer
            BasicConsumeOptions::default(),
            arguments,
        )
        .await
}

async fn settle(acker: &lapin::Acker, disposition: Disposition) -> Result<(), lapin::Error> {
    // The boolean says whether the acker was still live; a dead channel shows up as an error
    // on the next operation anyway.
    let _settled = match disposition {
        Disposition::Ack => acker.ack(BasicAckOptions::default()).await,
        Disposition::DeadLetter => acker.reject(BasicRejectOptions { requeue: false }).await,
        // A reject, not a nack: from RabbitMQ 4.3 a nack with requeue no longer counts toward a
        // quorum queue's delivery limit, so a message that always fails would never leave.
        Disposition::Retry => acker.reject(BasicRejectOptions { requeue: true }).await,
    }?;
    Ok(())
}
