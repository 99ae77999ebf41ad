//! A guest's reservations, newest first: the history behind a guest token.

use uuid::Uuid;

use super::{ReservationRow, Store};
use crate::{Reservation, Result, Status};

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
        let rows = sqlx::query_as!(
            ReservationRow,
            r#"SELECT id, restaurant_id, table_type_id, table_count, party_size, service_date,
                      start_time, duration_minutes, guest_name, guest_email, guest_phone,
                      status AS "status: Status", reason, price_cents, currency,
                      hold_expires_at, callback_url, payment_token, special_requests, tags,
                      created_at, updated_at
               FROM reservation
               WHERE guest_email = $1
                 AND ($2::uuid IS NULL OR (created_at, id) <
                      (SELECT created_at, id FROM reservation WHERE id = $2 AND guest_email = $1))
               ORDER BY created_at DESC, id DESC
               LIMIT $3"#,
            email,
            after,
            limit,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Reservation::from).collect())
    }
}
