//! What a party can book on a date: the reads, then [`crate::availability::availability`].

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use uuid::Uuid;

use super::Store;
use crate::availability::{availability, InventoryRow, SlotAvailability, Snapshot};
use crate::pricing::PricingSteps;
use crate::{Restaurant, Result};

impl Store {
    /// The bookable start times on `date` (the restaurant's local date) for a party of
    /// `party_size`, with every table type that seats it (only `table_type_id` when given),
    /// the tables left and the price the decision would charge at the current occupancy.
    /// Advisory: the worker's decision is what reserves, and it may still refuse.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self, pricing))]
    pub async fn availability(
        &self,
        restaurant: &Restaurant,
        date: NaiveDate,
        party_size: i32,
        table_type_id: Option<Uuid>,
        pricing: &PricingSteps,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotAvailability>> {
        let mut table_types = self.table_types(restaurant.id).await?;
        table_types.retain(|t| table_type_id.is_none_or(|id| t.id == id));
        // Slots from the date's midnight until a stay that starts at its end is over.
        let from = date.and_time(NaiveTime::MIN);
        let until = from.checked_add_signed(
            Duration::days(1)
                + Duration::minutes(i64::from(
                    restaurant
                        .booking_rules
                        .longest_sitting(restaurant.default_duration_minutes)
                        .max(0),
                )),
        );
        let Some(until) = until else {
            return Ok(Vec::new()); // the end of time is beyond every horizon
        };
        let ids: Vec<Uuid> = table_types.iter().map(|t| t.id).collect();

        let inventory = sqlx::query_as!(
            InventoryRow,
            "SELECT table_type_id, slot_start, total_inventory, total_reserved, overbooking_pct
             FROM inventory
             WHERE table_type_id = ANY($1) AND slot_start >= $2 AND slot_start < $3",
            &ids,
            from,
            until,
        )
        .fetch_all(&self.pool)
        .await?;
        let rates: HashMap<Uuid, i64> = sqlx::query!(
            "SELECT table_type_id, price_cents FROM rate
             WHERE table_type_id = ANY($1) AND service_date = $2",
            &ids,
            date,
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|rate| (rate.table_type_id, rate.price_cents))
        .collect();

        let covers_started: HashMap<NaiveDateTime, i32> = sqlx::query!(
            "SELECT slot_start, covers_started FROM slot_covers
             WHERE restaurant_id = $1 AND slot_start >= $2 AND slot_start < $3
               AND covers_started > 0",
            restaurant.id,
            from,
            from + Duration::days(1),
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|row| (row.slot_start, row.covers_started))
        .collect();

        let snapshot = Snapshot {
            restaurant,
            table_types: &table_types,
            inventory: &inventory,
            rates: &rates,
            covers_started: &covers_started,
        };
        Ok(availability(&snapshot, date, party_size, pricing, now))
    }
}
