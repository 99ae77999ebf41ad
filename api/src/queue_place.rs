//! Where a pending request stands: its approximate position in its restaurant's partition, and
//! an estimated wait from the workers' recent time per command. Both are cached briefly, so a
//! flash crowd costs the broker and the database a few reads a second, not one per request.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::AppState;

/// How long a partition's depth is reused.
const DEPTH_FRESH_FOR: Duration = Duration::from_millis(250);
/// How long the workers' pace is reused.
const PACE_FRESH_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuePlace {
    /// Messages waiting in the restaurant's partition when the request was queued, its own
    /// included (approximate: partitions are shared by several restaurants).
    pub position: u32,
    /// Seconds until its decision, from the workers' recent time per command; absent until a
    /// worker has reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_seconds: Option<f64>,
}

/// The caches behind [`QueuePlace`].
#[derive(Debug, Default)]
pub struct QueueInsight {
    depths: Mutex<HashMap<u16, (Instant, u32)>>,
    pace: Mutex<Option<(Instant, Option<Duration>)>>,
}

impl QueueInsight {
    /// `None` when the broker cannot tell the depth right now: the request is queued all the
    /// same, only its place is unknown.
    pub async fn place(&self, state: &AppState, restaurant_id: Uuid) -> Option<QueuePlace> {
        let topology = state.publisher.topology();
        let partition = topology.partition_of(restaurant_id);
        let position = self.depth(state, partition).await?;
        let estimated_wait_seconds = self.pace(state).await.map(|per_command| {
            // One decimal: this is an estimate, not a promise.
            (per_command.as_secs_f64() * f64::from(position) * 10.0).ceil() / 10.0
        });
        Some(QueuePlace {
            position,
            estimated_wait_seconds,
        })
    }

    async fn depth(&self, state: &AppState, partition: u16) -> Option<u32> {
        let mut depths = self.depths.lock().await;
        if let Some((at, depth)) = depths.get(&partition) {
            if at.elapsed() < DEPTH_FRESH_FOR {
                return Some(*depth);
            }
        }
        let queue = state.publisher.topology().partition_queue(partition);
        match state.publisher.queue_depth(&queue).await {
            Ok(depth) => {
                depths.insert(partition, (Instant::now(), depth));
                Some(depth)
            }
            Err(error) => {
                tracing::debug!(%error, "no queue depth for the pending answer");
                None
            }
        }
    }

    async fn pace(&self, state: &AppState) -> Option<Duration> {
        let mut pace = self.pace.lock().await;
        if let Some((at, known)) = *pace {
            if at.elapsed() < PACE_FRESH_FOR {
                return known;
            }
        }
        let known = state.store.pace().await.ok().flatten();
        *pace = Some((Instant::now(), known));
        known
    }
}
