//! Intake's sold-out view: what the workers said about slots with few tables left, so intake
//! can turn a request for a sold-out slot away at once (`409`, nothing recorded) instead of
//! queueing it only for it to be rejected. During a flash crowd this is most requests.
//!
//! It is a hint, never the decision. The worker's decision stays the only thing that reserves
//! tables; the view only ever says "no" to a slot a worker saw full moments ago. A notice counts
//! for [`FRESH_FOR`] at most, any gap in the subscription forgets everything, and a worker that
//! may have given tables back (a cancellation, an expiry, a staff change) tells intake to
//! forget its restaurant. An empty view answers nothing, and requests go to the queue as ever.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use booking::messages::InventoryNotice;
use chrono::NaiveDateTime;
use moka::sync::Cache;
use rabbitmq::inventory::Heard;
use rabbitmq::Topology;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long a worker's word about a slot holds.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// (restaurant, table type, slot start)
type SlotKey = (Uuid, Uuid, NaiveDateTime);

/// The tables left in slots the workers said little is left of, each for [`FRESH_FOR`].
pub struct SoldOutView {
    slots: Cache<SlotKey, i64>,
}

impl Default for SoldOutView {
    fn default() -> Self {
        Self {
            slots: Cache::builder()
                .time_to_live(FRESH_FOR)
                // A restaurant's reset forgets its slots only.
                .support_invalidation_closures()
                .build(),
        }
    }
}

impl fmt::Debug for SoldOutView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoldOutView")
            .field("slots", &self.slots.entry_count())
            .finish()
    }
}

impl SoldOutView {
    /// Tables left in the slot by a worker's recent word, if there is one.
    pub fn tables_left(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        slot: NaiveDateTime,
    ) -> Option<i64> {
        self.slots.get(&(restaurant_id, table_type_id, slot))
    }

    /// Applies a notice's body. Bytes that are not a notice are ignored: a hint is optional.
    pub fn apply(&self, body: &[u8]) {
        let Ok(notice) = serde_json::from_slice::<InventoryNotice>(body) else {
            tracing::debug!(
                bytes = body.len(),
                "ignoring an unreadable inventory notice"
            );
            return;
        };
        match notice {
            InventoryNotice::Left { slots: left, .. } => {
                for slot in left {
                    self.slots.insert(
                        (slot.restaurant_id, slot.table_type_id, slot.slot_start),
                        slot.left,
                    );
                }
            }
            InventoryNotice::Decided { .. } => {}
            InventoryNotice::Reset { restaurant_id } => {
                let forgotten = self
                    .slots
                    .invalidate_entries_if(move |(restaurant, _, _), _| {
                        *restaurant == restaurant_id
                    });
                // Only if the cache was built without closures: then forget more, never less.
                if forgotten.is_err() {
                    self.slots.invalidate_all();
                }
            }
        }
    }

    /// Forgets everything: notices may have been missed.
    pub fn forget(&self) {
        self.slots.invalidate_all();
    }

    /// Keeps the view up to date from the workers' notices until `shutdown`, and wakes the
    /// requests `waiters` hold when their reservations are decided.
    pub async fn follow(
        self: Arc<Self>,
        waiters: Arc<crate::decisions::DecisionWaiters>,
        amqp_url: String,
        topology: Topology,
        shutdown: CancellationToken,
    ) {
        rabbitmq::inventory::follow(&amqp_url, &topology, shutdown, |heard| match heard {
            Heard::Notice(body) => {
                self.apply(body);
                waiters.apply(body);
            }
            Heard::Gap => {
                self.forget();
                waiters.wake_all();
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use booking::messages::SlotLeft;

    fn notice(restaurant_id: Uuid, table_type_id: Uuid, slot: NaiveDateTime, left: i64) -> Vec<u8> {
        booking::messages::to_json(&InventoryNotice::Left {
            restaurant_id,
            slots: vec![SlotLeft {
                restaurant_id,
                table_type_id,
                slot_start: slot,
                left,
            }],
        })
    }

    #[test]
    fn remembers_what_workers_said_until_reset() {
        let view = SoldOutView::default();
        let (restaurant, table_type) = (Uuid::new_v4(), Uuid::new_v4());
        let slot = "2026-12-24T19:00:00".parse().unwrap();
        assert_eq!(view.tables_left(restaurant, table_type, slot), None);
        view.apply(&notice(restaurant, table_type, slot, 0));
        assert_eq!(view.tables_left(restaurant, table_type, slot), Some(0));
        assert_eq!(view.tables_left(Uuid::new_v4(), table_type, slot), None);
        view.apply(&notice(restaurant, table_type, slot, 2));
        assert_eq!(view.tables_left(restaurant, table_type, slot), Some(2));
        view.apply(&booking::messages::to_json(&InventoryNotice::Reset {
            restaurant_id: restaurant,
        }));
        assert_eq!(view.tables_left(restaurant, table_type, slot), None);
        view.apply(&notice(restaurant, table_type, slot, 0));
        view.forget();
        assert_eq!(view.tables_left(restaurant, table_type, slot), None);
        view.apply(b"not json");
    }
}
