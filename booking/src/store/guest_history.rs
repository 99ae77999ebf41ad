//! A guest's reservations, newest first: the history behind a guest token.

use uuid::Uuid;

use super::{Store, RESERVATION_COLUMNS};
use crate::Reservation;
use crate::Result;

impl Store {
    /// Up to `limit` reservations booked with `email` (lower-case), newest first, starting
    /// after the reservation `after` (the last one of the previous page).
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self, email))]
    pub async fn reservations_of_guest(
        &self,
        email: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Reservation>> {
        // Keyset paging on (created_at, id): stable while new bookings arrive.
        Ok(sqlx::query_as(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservation
             WHERE guest_email = $1
               AND ($2::uuid IS NULL OR (created_at, id) <
                    (SELECT created_at, id FROM reservation WHERE id = $2 AND guest_email = $1))
             ORDER BY created_at DESC, id DESC
             LIMIT $3"
        ))
        .bind(email)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
