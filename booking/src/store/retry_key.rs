//! The retry key of a reservation: who may be handed its access token again.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Store;
use crate::Result;

fn digest(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

impl Store {
    /// Remembers the retry key the reservation's first request carried. A key already there
    /// stays: the first request's is the one that counts.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all, fields(reservation_id = %reservation_id))]
    pub async fn remember_retry_key(&self, reservation_id: Uuid, key: &str) -> Result<()> {
        sqlx::query!(
            "UPDATE reservation SET retry_key_sha256 = $2
             WHERE id = $1 AND retry_key_sha256 IS NULL",
            reservation_id,
            digest(key),
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

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
        Ok(stored.is_some_and(|stored| stored == digest(key)))
    }
}
