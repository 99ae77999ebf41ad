//! What the admin panel's operations page reads from the database: how many decisions the
//! workers recorded lately.

use super::Store;
use crate::Result;

/// The most recent events a count looks at: the count stays cheap (a backward scan of the
/// primary key) however long the history is.
const MOST_EVENTS: i64 = 100_000;

/// Decisions recorded in a recent window: reservations that left `pending` for `held`,
/// `confirmed` or `rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentDecisions {
    pub decided: i64,
    pub window_secs: i64,
    /// The count stopped at the most recent events before the window's start: the real
    /// number is at least `decided`.
    pub at_least: bool,
}

impl RecentDecisions {
    /// Decisions per second over the window.
    pub fn per_second(&self) -> f64 {
        self.decided as f64 / self.window_secs.max(1) as f64
    }
}

impl Store {
    /// The decisions of the last `window_secs` seconds, from the reservations' event log.
    ///
    /// # Errors
    /// On a database error.
    pub async fn recent_decisions(&self, window_secs: i64) -> Result<RecentDecisions> {
        let row = sqlx::query!(
            r#"SELECT count(*) FILTER (
                      WHERE from_status = 'pending'
                        AND to_status IN ('held', 'confirmed', 'rejected')
                        AND created_at > now() - make_interval(secs => $1)) AS "decided!",
                      count(*) AS "scanned!",
                      coalesce(min(created_at) > now() - make_interval(secs => $1), false)
                          AS "oldest_in_window!"
               FROM (SELECT from_status, to_status, created_at FROM reservation_event
                     ORDER BY id DESC LIMIT $2) recent"#,
            window_secs as f64,
            MOST_EVENTS,
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(RecentDecisions {
            decided: row.decided,
            window_secs,
            at_least: row.scanned >= MOST_EVENTS && row.oldest_in_window,
        })
    }
}
