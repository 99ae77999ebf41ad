//! Following the inventory exchange: each intake process binds a queue of its own (exclusive,
//! deleted with its connection) and hears every worker's inventory notices. What it builds from
//! them is a hint, so nothing here is durable: after any gap the follower is told to forget
//! everything and start over.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use tokio_util::sync::CancellationToken;

use crate::Topology;

/// The longest pause between subscriptions.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Pauses between subscriptions: 200 ms, doubling up to [`MAX_BACKOFF`], for ever.
const RESUBSCRIBE_BACKOFF: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(200))
    .with_max_delay(MAX_BACKOFF)
    .without_max_times();

/// What the follower hears.
#[derive(Debug)]
pub enum Heard<'a> {
    /// A notice's body.
    Notice(&'a [u8]),
    /// The subscription (re)started, so notices may have been missed: forget what was heard.
    Gap,
}

/// Follows the inventory exchange until `shutdown`, calling `on` for every notice, and with
/// [`Heard::Gap`] whenever a subscription starts or ends. Reconnects with back-off.
pub async fn follow(
    url: &str,
    topology: &Topology,
    shutdown: CancellationToken,
    mut on: impl FnMut(Heard<'_>),
) {
    let mut delays = RESUBSCRIBE_BACKOFF.build();
    while !shutdown.is_cancelled() {
        match subscribe_and_listen(url, topology, &shutdown, &mut on).await {
            Ok(()) => delays = RESUBSCRIBE_BACKOFF.build(),
            Err(error) => tracing::debug!(%error, "inventory notices interrupted; resubscribing"),
        }
        on(Heard::Gap);
        let backoff = delays.next().unwrap_or(MAX_BACKOFF);
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(backoff) => {}
        }
    }
}

async fn subscribe_and_listen(
    url: &str,
    topology: &Topology,
    shutdown: &CancellationToken,
    on: &mut impl FnMut(Heard<'_>),
) -> Result<(), lapin::Error> {
    let connection = crate::connect(url, "maitred-intake-inventory").await?;
    let channel = connection.create_channel().await?;
    let queue = channel
        .queue_declare(
            "".into(), // the broker names it
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            queue.name().clone(),
            topology.inventory_exchange().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut notices = channel
        .basic_consume(
            queue.name().clone(),
            "".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    on(Heard::Gap);
    loop {
        let next = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            next = notices.next() => next,
        };
        let Some(delivery) = next else { break };
        on(Heard::Notice(&delivery?.data));
    }
    let _ = connection.close(200, "intake stopping".into()).await;
    Ok(())
}
