//! Where a pending request stands: its approximate position in its restaurant's partition, and
//! an estimated wait from the workers' recent time per command. Both are cached briefly, so a
//! flash crowd costs the broker and the database a few reads a second, not one per request.

use std::fmt;
use std::time::Duration;

use moka::sync::Cache;
use serde::Serialize;
use uuid::Uuid;

use crate::AppState;

/// How long a partition's depth is reused.
const DEPTH_FRESH_FOR: Duration = Duration::from_millis(250);
/// How long the answer may wait for a depth: the place is a nicety, and a broker that stopped
/// answering must not hold a `202` for a whole publish deadline more.
const DEPTH_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the workers' pace is reused.
const PACE_FRESH_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuePlace {
    /// Messages waiting in the restaurant's partition just after the request was queued, its
    /// own included; 0 when a worker took it at once. Approximate: partitions are shared by
    /// several restaurants, and the depth is reused for a quarter of a second.
    pub position: u32,
    /// Seconds until its decision, from the workers' recent time per command; absent until a
    /// worker has reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_seconds: Option<f64>,
}

/// The caches behind [`QueuePlace`]. Neither is held across a broker or database round trip:
/// requests that miss at once all read, and the last answer is kept.
pub struct QueueInsight {
    /// Partition → messages waiting, for [`DEPTH_FRESH_FOR`].
    depths: Cache<u16, u32>,
    /// The workers' time per command (`None`: none reported yet), for [`PACE_FRESH_FOR`].
    pace: Cache<(), Option<Duration>>,
}

impl Default for QueueInsight {
    fn default() -> Self {
        Self {
            depths: Cache::builder().time_to_live(DEPTH_FRESH_FOR).build(),
            pace: Cache::builder().time_to_live(PACE_FRESH_FOR).build(),
        }
    }
}

impl fmt::Debug for QueueInsight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueInsight")
            .field("depths", &self.depths.entry_count())
            .field("pace", &self.pace.get(&()))
            .finish()
    }
}

impl QueueInsight {
    /// `None` when the broker cannot tell the depth right now: the request is queued all the
    /// same, only its place is unknown.
    pub async fn place(&self, state: &AppState, restaurant_id: Uuid) -> Option<QueuePlace> {
        let topology = state.publisher.topology();
        let partition = topology.partition_of(restaurant_id);
        let position = self.depth(state, partition).await?;
        let estimated_wait_seconds = self.estimated_wait(state, position).await;
        Some(QueuePlace {
            position,
            estimated_wait_seconds,
        })
    }

    /// Seconds until `position` requests are decided at the workers' recent pace; `None`
    /// until a worker has reported.
    pub async fn estimated_wait(&self, state: &AppState, position: u32) -> Option<f64> {
        self.pace(state).await.map(|per_command| {
            // One decimal: this is an estimate, not a promise.
            (per_command.as_secs_f64() * f64::from(position) * 10.0).ceil() / 10.0
        })
    }

    async fn depth(&self, state: &AppState, partition: u16) -> Option<u32> {
        if let Some(depth) = self.depths.get(&partition) {
            return Some(depth);
        }
        let queue = state.publisher.topology().partition_queue(partition);
        match tokio::time::timeout(DEPTH_TIMEOUT, state.publisher.queue_depth(&queue)).await {
            Ok(Ok(depth)) => {
                self.depths.insert(partition, depth);
                Some(depth)
            }
            Err(_) => {
                tracing::debug!("no queue depth within {DEPTH_TIMEOUT:?} for the pending answer");
                None
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "no queue depth for the pending answer");
                None
            }
        }
    }

    async fn pace(&self, state: &AppState) -> Option<Duration> {
        if let Some(known) = self.pace.get(&()) {
            return known;
        }
        let known = state.store.pace().await.ok().flatten();
        self.pace.insert((), known);
        known
    }
}
