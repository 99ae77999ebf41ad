//! Intake's group commit: requests that arrive together are recorded in one statement, their
//! commands published together (the confirms are pipelined on one channel), and their outbox
//! rows cleared in one statement. Under a crowd that is three round trips for dozens of
//! requests instead of eight for each; alone, a request waits for nothing but its own batch.
//! A few recording batches are under way at once, so a request does not wait for the previous one.
//!
//! The promises are intake's own: a request is answered `Accepted` only once it is recorded
//! and its command is confirmed or left in the outbox for the sweeper; `Withdrawn` only when
//! nothing was kept. Anything unusual (an id that exists, a refused or unknown publish) is
//! settled alone, by the same code as before batching.

use std::sync::Arc;
use std::time::Duration;

use booking::messages::{Command, Envelope};
use booking::{BookingRequest, Reservation, Store};
use futures_util::future::join_all;
use rabbitmq::{PublishError, Publisher};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::intake::pin_unknown;
use crate::{relay_decision, Relayed, Relayer};

/// Requests recorded in one statement at most.
const MAX_BATCH: usize = 256;

/// Recording batches under way at once. One at a time made every request wait for the whole
/// previous batch (insert, confirms, delete: ~250 ms at 800 requests/s on 2 cores); a few
/// overlap those round trips and fsyncs, and batches still grow while all are busy. Lookups
/// are one quick statement: one at a time keeps their batches as large as possible.
const RECORDING_BATCHES_IN_FLIGHT: usize = 4;

/// What batching did with one request.
#[derive(Debug)]
pub enum Batched {
    /// Recorded as `pending`, and its command is confirmed (or left to the sweeper): `202`.
    Accepted(Box<Reservation>),
    /// The broker refused its command and it was withdrawn: nothing was kept, `503`.
    Withdrawn,
    /// Not recorded here (its id exists, it repeats one in the batch, or the batch's
    /// statement failed): settle it alone, which also gives its own error if there is one.
    Alone,
}

type Reply = oneshot::Sender<Batched>;

/// The handle intake sends requests to; a task per process records them in batches, and
/// another looks ids up in batches.
#[derive(Debug, Clone)]
pub struct IntakeBatcher {
    sender: mpsc::Sender<(BookingRequest, Option<String>, Reply)>,
    lookups: mpsc::Sender<(uuid::Uuid, oneshot::Sender<Option<bool>>)>,
}

impl IntakeBatcher {
    /// Starts the batching tasks, which end when the last handle is dropped.
    pub fn start(store: Store, publisher: Arc<Publisher>) -> Self {
        let sender = {
            let store = store.clone();
            in_batches(RECORDING_BATCHES_IN_FLIGHT, move |batch| {
                let (store, publisher) = (store.clone(), publisher.clone());
                async move { record_and_publish(&store, &publisher, batch).await }
            })
        };
        let lookups = in_batches(1, move |batch| {
            let store = store.clone();
            async move { look_up(&store, batch).await }
        });
        Self { sender, lookups }
    }

    /// Whether a reservation has this id; `None` when the database could not say.
    pub async fn exists(&self, id: uuid::Uuid) -> Option<bool> {
        let (reply, answer) = oneshot::channel();
        self.lookups.send((id, reply)).await.ok()?;
        answer.await.ok().flatten()
    }

    /// Records a new request and relays its command, with whatever else is arriving.
    pub async fn submit(&self, request: BookingRequest, request_id: Option<&str>) -> Batched {
        let (reply, answer) = oneshot::channel();
        if self
            .sender
            .send((request, request_id.map(str::to_owned), reply))
            .await
            .is_err()
        {
            return Batched::Alone; // the task is gone (shutting down)
        }
        answer.await.unwrap_or(Batched::Alone)
    }
}

/// A task that hands `handle` everything that has arrived (up to [`MAX_BATCH`]) while the
/// batches under way were busy, with at most `in_flight` under way. It ends when every sender
/// is gone.
fn in_batches<T, F, Fut>(in_flight: usize, handle: F) -> mpsc::Sender<T>
where
    T: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, mut receiver) = mpsc::channel(MAX_BATCH * 4);
    let in_flight = Arc::new(Semaphore::new(in_flight));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = in_flight.clone().acquire_owned().await else {
                return;
            };
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let work = handle(batch);
            tokio::spawn(async move {
                work.await;
                drop(permit);
            });
        }
    });
    sender
}

async fn look_up(store: &Store, batch: Vec<(uuid::Uuid, oneshot::Sender<Option<bool>>)>) {
    let ids: Vec<uuid::Uuid> = batch.iter().map(|(id, _)| *id).collect();
    let found = store.existing_reservations(&ids).await;
    if let Err(error) = &found {
        tracing::warn!(%error, "could not look reservation ids up");
    }
    for (id, reply) in batch {
        let _ = reply.send(found.as_ref().ok().map(|found| found.contains(&id)));
    }
}

#[tracing::instrument(skip_all, fields(requests = batch.len()))]
async fn record_and_publish(
    store: &Store,
    publisher: &Publisher,
    batch: Vec<(BookingRequest, Option<String>, Reply)>,
) {
    metrics::histogram!("maitred_intake_batch_size").record(batch.len() as f64);
    let requests: Vec<(&BookingRequest, Option<&str>)> = batch
        .iter()
        .map(|(request, request_id, _)| (request, request_id.as_deref()))
        .collect();
    let created = match store.record_pending_many(&requests).await {
        Ok(created) => created,
        Err(error) => {
            // Nothing was recorded. Alone, a request that broke the statement fails by
            // itself, and an outage gives each its 503.
            tracing::warn!(%error, "recording a batch failed; recording each alone");
            for (_, _, reply) in batch {
                let _ = reply.send(Batched::Alone);
            }
            return;
        }
    };
    let publishes = created.iter().map(|reservation| {
        let envelope = Envelope {
            restaurant_id: reservation.restaurant_id,
            command: Command::Decide {
                reservation_id: reservation.id,
            },
        };
        let request_id = batch
            .iter()
            .find(|(request, _, _)| request.reservation_id == reservation.id)
            .and_then(|(_, request_id, _)| request_id.clone());
        async move {
            let message_id = envelope
                .command
                .reservation_id()
                .unwrap_or_default()
                .to_string();
            crate::publish_command(
                publisher,
                &envelope,
                &message_id,
                request_id.as_deref(),
                Duration::ZERO,
            )
            .await
        }
    });
    let outcomes = join_all(publishes).await;
    let confirmed: Vec<uuid::Uuid> = created
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| outcome.is_ok())
        .map(|(reservation, _)| reservation.id)
        .collect();
    if let Err(error) = store.published_many(&confirmed).await {
        // The sweeper publishes them again; the worker decides each once.
        tracing::warn!(%error, "published, but could not clear the outbox rows");
    }
    // Refused or unknown: settle each alone, under its outbox row's lock, all at once (one
    // after the other, a stuck broker made the last wait for every deadline before it). A
    // refusal is tried once more and withdrawn if refused again; an unknown outcome is pinned.
    let settled = join_all(created.into_iter().zip(outcomes).map(
        |(reservation, outcome)| async move {
            let relayed = match outcome {
                Ok(()) => Relayed::Published,
                Err(PublishError::Unknown(_)) => pin_unknown(store, reservation.id).await,
                Err(PublishError::Refused(_)) => {
                    relay_decision(store, publisher, reservation.id, Relayer::Creator).await
                }
            };
            (reservation.id, (reservation, relayed))
        },
    ))
    .await;
    let mut settled: std::collections::HashMap<uuid::Uuid, (Reservation, Relayed)> =
        settled.into_iter().collect();
    for (request, _, reply) in batch {
        let answer = match settled.remove(&request.reservation_id) {
            None => Batched::Alone,
            Some((_, Relayed::Withdrawn)) => Batched::Withdrawn,
            Some((_, Relayed::Vanished)) => Batched::Alone,
            Some((
                reservation,
                Relayed::Published | Relayed::AlreadyRelayed | Relayed::Deferred,
            )) => Batched::Accepted(Box::new(reservation)),
        };
        let _ = reply.send(answer);
    }
}
