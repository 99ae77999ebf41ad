//! The retry key of a reservation (recorded with it, see `record_pending_many`): who may be
//! handed its access token again.

use uuid::Uuid;

use super::Store;
use crate::request::retry_key_digest;
use crate::Result;

impl Store {
    /// Whether `key` is the retry key the reservation's first request carried.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all, fields(reservation_id = %reservation_id))]
    pub async fn retry_key_matches(&self, reservation_id: Uuid, key: &str) -> Result<bool> {
        let stored = sqlx::query_scalar!(
            "SELECT retry_key_sha256 FROM reservation WHERE id = $1",
            reservation_id
        )
        .fetch_optional(&self.pool)
        .await?
        .flatten();
        // Both are digests of equal length: comparing them leaks nothing about the key.
        Ok(stored.is_some_and(|stored| stored == retry_key_digest(key)))
    }
}
