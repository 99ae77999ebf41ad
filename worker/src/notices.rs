//! Inventory notices: after deciding, a partition tells intake which slots are (nearly) sold
//! out, and after anything that may give tables back, that its restaurant's notices no longer
//! hold. One task per process publishes them in order, off the serial lane: a notice is a
//! hint, so a full buffer drops it rather than slow a decision.

use std::collections::HashMap;
use std::sync::Mutex;

use booking::messages::{InventoryNotice, SlotLeft};
use booking::request::MAX_TABLES_PER_BOOKING;
use rabbitmq::Publisher;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Notices buffered before new ones are dropped.
const BUFFER: usize = 4096;
/// Notices published together, at most: one confirm round trip for all of them.
const PUBLISH_BATCH: usize = 256;

/// The sending end, shared by the partition handlers.
pub struct InventoryNotices {
    sender: mpsc::Sender<InventoryNotice>,
    receiver: Mutex<Option<mpsc::Receiver<InventoryNotice>>>,
}

impl Default for InventoryNotices {
    fn default() -> Self {
        let (sender, receiver) = mpsc::channel(BUFFER);
        Self {
            sender,
            receiver: Mutex::new(Some(receiver)),
        }
    }
}

impl InventoryNotices {
    /// After a run of decisions: the slots with fewer tables left than one booking may ask
    /// for, per restaurant. Slots with more are not worth a word.
    pub fn tables_left(&self, slots: &[SlotLeft]) {
        let mut by_restaurant: HashMap<Uuid, Vec<SlotLeft>> = HashMap::new();
        for slot in slots.iter().filter(|s| s.left < MAX_TABLES_PER_BOOKING) {
            by_restaurant
                .entry(slot.restaurant_id)
                .or_default()
                .push(*slot);
        }
        for (restaurant_id, slots) in by_restaurant {
            self.send(InventoryNotice::Left {
                restaurant_id,
                slots,
            });
        }
    }

    /// After a run of decisions committed: its reservations, for the clients waiting on them.
    pub fn decided(&self, restaurant_id: Uuid, reservation_ids: Vec<Uuid>) {
        if !reservation_ids.is_empty() {
            self.send(InventoryNotice::Decided {
                restaurant_id,
                reservation_ids,
            });
        }
    }

    /// After a command that may have given tables back or changed the inventory.
    pub fn reset(&self, restaurant_id: Uuid) {
        self.send(InventoryNotice::Reset { restaurant_id });
    }

    fn send(&self, notice: InventoryNotice) {
        if self.sender.try_send(notice).is_err() {
            metrics::counter!("maitred_inventory_notices_dropped_total").increment(1);
        }
    }

    /// Publishes the notices in order until `shutdown`. Only the first call does anything.
    pub(crate) async fn publish(&self, publisher: &Publisher, shutdown: CancellationToken) {
        let receiver = self.receiver.lock().ok().and_then(|mut r| r.take());
        let Some(mut receiver) = receiver else { return };
        let mut batch = Vec::with_capacity(PUBLISH_BATCH);
        loop {
            // Whatever has queued up goes out together, in order.
            let received = tokio::select! {
                () = shutdown.cancelled() => break,
                received = receiver.recv_many(&mut batch, PUBLISH_BATCH) => received,
            };
            if received == 0 {
                break;
            }
            let bodies: Vec<Vec<u8>> = batch
                .drain(..)
                .map(|notice| booking::messages::to_json(&notice))
                .collect();
            if let Err(error) = publisher.notify_inventory(&bodies).await {
                // Intake forgets a notice after a few seconds; a lost one costs a queued
                // request, never a wrong decision. The whole batch counts as dropped, though
                // some of it may have gone out.
                tracing::debug!(%error, "inventory notices not published");
                metrics::counter!("maitred_inventory_notices_dropped_total")
                    .increment(bodies.len() as u64);
            }
        }
    }
}
