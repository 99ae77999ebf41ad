//! Reads the admin panel's restaurant pages need and the JSON API does not: the restaurants
//! matching a search, and how many upcoming reservations a deletion would cancel.

use uuid::Uuid;

use super::catalog_writes::upcoming_reservations;
use super::rows::RulesJson;
use super::{with_hours, RestaurantRow, Store};
use crate::{Restaurant, Result, Status};

impl Store {
    /// A page of live restaurants by name (then id), skipping `offset`: those whose name or
    /// city contains `query` (ignoring case), among `only` when given (a manager's).
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn restaurants_matching(
        &self,
        query: Option<&str>,
        only: Option<&[Uuid]>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Restaurant>> {
        let pattern = query
            .map(str::trim)
            .filter(|query| !query.is_empty())
            .map(|query| {
                let escaped = query
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            });
        let rows = sqlx::query_as!(
            RestaurantRow,
            r#"SELECT id, name, address, city, latitude, longitude, time_zone, slot_minutes,
                     default_duration_minutes, overbooking_pct, booking_horizon_days,
                     refund_window_hours, prepayment_required, no_show_fee_cents,
                    late_cancellation_fee, version,
                    booking_rules AS "booking_rules: RulesJson"
              FROM restaurant
              WHERE deleted_at IS NULL
                AND ($1::text IS NULL OR name ILIKE $1 OR city ILIKE $1)
                AND ($2::uuid[] IS NULL OR id = ANY($2))
              ORDER BY lower(name), id OFFSET $3 LIMIT $4"#,
            pattern,
            only as _,
            offset,
            limit,
        )
        .fetch_all(&self.pool)
        .await?;
        with_hours(&mut *self.pool.acquire().await?, rows).await
    }

    /// How many upcoming reservations of a restaurant are held or confirmed: those deleting it
    /// would cancel and refund (the same count the deletion refuses with).
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn upcoming_booked(&self, restaurant_id: Uuid) -> Result<usize> {
        let booked = upcoming_reservations(
            &mut *self.pool.acquire().await?,
            restaurant_id,
            None,
            &[Status::Held, Status::Confirmed],
        )
        .await?;
        Ok(booked.len())
    }
}
