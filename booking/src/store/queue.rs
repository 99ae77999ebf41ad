//! Where a pending reservation stands in its restaurant's queue.

use uuid::Uuid;

use super::Store;
use crate::Result;

impl Store {
    /// How many pending requests of the reservation's restaurant were recorded before it, plus
    /// one (itself): its place in the restaurant's serial lane, since a restaurant's requests
    /// are decided in the order they were queued. `None` once it is no longer pending.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn place_in_queue(&self, reservation_id: Uuid) -> Result<Option<i64>> {
        let place = sqlx::query_scalar!(
            r#"SELECT (SELECT count(*) FROM reservation ahead
                       WHERE ahead.restaurant_id = r.restaurant_id
                         AND ahead.status = 'pending'
                         AND (ahead.created_at, ahead.id) <= (r.created_at, r.id)) AS "place!"
               FROM reservation r
               WHERE r.id = $1 AND r.status = 'pending'"#,
            reservation_id,
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(place)
    }
}
