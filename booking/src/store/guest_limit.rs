//! How many bookings a guest already has going at a restaurant on a day: what intake's limit on
//! bookings per email counts.

use chrono::NaiveDate;
use uuid::Uuid;

use super::Store;
use crate::Result;

/// A guest's bookings at one restaurant on one day, as intake sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestBookings {
    /// Bookings still going (pending, held or confirmed), `reservation_id` aside.
    pub active: i64,
    /// Whether `reservation_id` is recorded already: a retry, which no limit may refuse.
    pub is_retry: bool,
}

impl Store {
    /// The bookings `email` (lower-case) has going at `restaurant_id` on `date`, and whether
    /// `reservation_id` is one recorded already.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self, email))]
    pub async fn guest_bookings(
        &self,
        email: &str,
        restaurant_id: Uuid,
        date: NaiveDate,
        reservation_id: Uuid,
    ) -> Result<GuestBookings> {
        let row = sqlx::query!(
            r#"SELECT
                 (SELECT count(*) FROM reservation
                  WHERE guest_email = $1 AND restaurant_id = $2 AND service_date = $3
                    AND id <> $4 AND status IN ('pending', 'held', 'confirmed'))
                   AS "active!",
                 EXISTS (SELECT 1 FROM reservation WHERE id = $4) AS "is_retry!""#,
            email,
            restaurant_id,
            date,
            reservation_id,
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(GuestBookings {
            active: row.active,
            is_retry: row.is_retry,
        })
    }
}
