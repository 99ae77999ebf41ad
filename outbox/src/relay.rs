//! The relay of follow-up messages: a background task that publishes the outbox's messages
//! and deletes each one the broker confirms. Committers wake it, so messages leave within
//! milliseconds; it also looks on its own every `interval`, which picks up what another
//! process left behind when it died.

use std::sync::Arc;
use std::time::Duration;

use booking::{Destination, OutboundMessage, Store};
use futures_util::future::join_all;
use rabbitmq::{Outgoing, Publisher, Topology};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Wakes the relay after a commit that wrote outbound messages. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct RelayWaker(Arc<Notify>);

impl RelayWaker {
    pub fn wake(&self) {
        // A wake with nobody waiting is kept, so a commit during a pass is not missed.
        self.0.notify_one();
    }
}

/// The relay task's handle on the store and the broker.
pub struct Relay {
    store: Store,
    publisher: Arc<Publisher>,
    waker: RelayWaker,
}

impl Relay {
    pub fn new(store: Store, publisher: Arc<Publisher>) -> Self {
        Self {
            store,
            publisher,
            waker: RelayWaker::default(),
        }
    }

    pub fn waker(&self) -> RelayWaker {
        self.waker.clone()
    }

    /// Publishes until `shutdown`: whenever woken, and every `interval` regardless.
    pub async fn run(self, interval: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.waker.0.notified() => {}
                () = tokio::time::sleep(interval) => {}
            }
            self.drain().await;
        }
    }

    /// Publishes every message waiting in the outbox, batch by batch, until it is empty or a
    /// batch could not be published completely (the broker is refusing: wait for the next
    /// round rather than spin). Returns how many were published.
    pub async fn drain(&self) -> usize {
        let mut published = 0;
        loop {
            let claim = match self.store.claim_outbound().await {
                Ok(claim) => claim,
                Err(error) => {
                    tracing::warn!(%error, "could not read the outbox");
                    return published;
                }
            };
            if claim.messages.is_empty() {
                return published;
            }
            let sends = claim.messages.iter().map(|message| self.send(message));
            let confirmed: Vec<_> = join_all(sends).await.into_iter().flatten().collect();
            let complete = confirmed.len() == claim.messages.len();
            published += confirmed.len();
            if let Err(error) = claim.finish(&confirmed).await {
                // They go out again on the next pass; consumers are idempotent.
                tracing::warn!(%error, "published, but could not clear the outbox");
                return published;
            }
            if !complete {
                return published;
            }
        }
    }

    /// Publishes one message; its id when the broker confirmed it.
    async fn send(&self, message: &OutboundMessage) -> Option<uuid::Uuid> {
        let topology = self.publisher.topology();
        let (routing_key, delay) = match message.destination {
            Destination::Partition {
                restaurant_id,
                delay,
            } => (
                Topology::routing_key(topology.partition_of(restaurant_id)),
                delay,
            ),
            Destination::Payments => (Topology::PAYMENTS_KEY.to_owned(), Duration::ZERO),
            Destination::Webhooks => (Topology::WEBHOOKS_KEY.to_owned(), Duration::ZERO),
            Destination::Notifications => (Topology::NOTIFICATIONS_KEY.to_owned(), Duration::ZERO),
        };
        let outgoing = Outgoing {
            routing_key: &routing_key,
            body: &message.body,
            properties: rabbitmq::correlated_properties(
                &message.id.to_string(),
                &message.kind,
                message.correlation_id.as_deref(),
            ),
            delay,
        };
        match self.publisher.publish(outgoing).await {
            Ok(()) => Some(message.id),
            Err(error) => {
                tracing::warn!(%error, id = %message.id, kind = message.kind, "outbound message not published yet");
                None
            }
        }
    }
}
