//! How fast the workers decide: each worker process records its mean time per command, and
//! intake turns a request's place in its queue into an estimated wait.

use std::time::Duration;

use uuid::Uuid;

use super::Store;
use crate::Result;

/// Rows older than this belong to workers that stopped.
const FRESH_FOR_SECS: f64 = 60.0;

impl Store {
    /// Records this worker process's mean time per command.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_pace(&self, worker_id: Uuid, per_command: Duration) -> Result<()> {
        sqlx::query!(
            "INSERT INTO worker_pace (worker_id, seconds_per_command) VALUES ($1, $2)
             ON CONFLICT (worker_id) DO UPDATE
             SET seconds_per_command = EXCLUDED.seconds_per_command, updated_at = now()",
            worker_id,
            per_command.as_secs_f64(),
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The mean time per command over the running workers; `None` before any has reported.
    ///
    /// # Errors
    /// On a database error.
    pub async fn pace(&self) -> Result<Option<Duration>> {
        let seconds = sqlx::query_scalar!(
            "SELECT avg(seconds_per_command) FROM worker_pace
             WHERE updated_at > now() - make_interval(secs => $1)",
            FRESH_FOR_SECS,
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64))
    }
}
