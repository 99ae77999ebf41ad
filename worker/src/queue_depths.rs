//! Polls the depth of every queue into gauges: `maitred_queue_depth{queue}` for the partitions
//! and work queues, `maitred_dead_letters{queue}` for the dead-letter queues. A passive declare
//! per queue is cheap, and needs no management plugin.

use std::time::Duration;

use rabbitmq::Topology;
use tokio_util::sync::CancellationToken;

/// Polls every `interval` until `shutdown`; reconnects after a broker failure.
pub async fn run(
    amqp_url: String,
    topology: Topology,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let work_queues: Vec<String> = (0..topology.partitions)
        .map(|p| topology.partition_queue(p))
        .chain([
            topology.payments_queue(),
            topology.webhooks_queue(),
            topology.notifications_queue(),
        ])
        .collect();
    let dead_letter_queues = [
        topology.dead_letter_queue(),
        topology.webhooks_dead_letter_queue(),
    ];
    let mut channel = None;
    loop {
        if channel.is_none() {
            channel = match rabbitmq::connect(&amqp_url, "maitred-queue-depths").await {
                Ok(connection) => connection.create_channel().await.ok(),
                Err(error) => {
                    tracing::debug!(%error, "queue depths: no broker connection");
                    None
                }
            };
        }
        if let Some(open) = &channel {
            let mut failed = false;
            for (queues, gauge) in [
                (&work_queues[..], "maitred_queue_depth"),
                (&dead_letter_queues[..], "maitred_dead_letters"),
            ] {
                for queue in queues {
                    match topology.ready_messages(open, queue).await {
                        Ok(depth) => {
                            metrics::gauge!(gauge, "queue" => queue.clone()).set(f64::from(depth));
                        }
                        Err(error) => {
                            tracing::debug!(%error, queue, "queue depths: poll failed");
                            failed = true;
                            break;
                        }
                    }
                }
            }
            if failed {
                channel = None; // a failed declare closes the channel
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
