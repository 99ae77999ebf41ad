//! Bringing a restaurant's existing inventory rows in line with its tables and overbooking
//! after staff change them. Runs on the restaurant's serial lane, like every inventory change.

use uuid::Uuid;

use super::Store;

/// What a sync changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InventorySync {
    /// Future slot rows whose inventory or overbooking changed.
    pub updated: u64,
    /// Of those, rows kept above the tables in service because they are already booked past
    /// the new limit: nothing more sells there until bookings fall.
    pub overbooked: u64,
}

impl Store {
    /// Recounts every future inventory row of the restaurant from its active tables and its
    /// overbooking percentage. A row is never cut below what its bookings need (the CHECK would
    /// refuse it, and those guests keep their tables); past slots are history and stay as they
    /// were. Idempotent.
    ///
    /// # Errors
    /// On a database error; then nothing changed.
    #[tracing::instrument(skip(self))]
    pub async fn sync_inventory(&self, restaurant_id: Uuid) -> sqlx::Result<InventorySync> {
        // The smallest inventory t with floor(t × (100 + p) / 100) >= reserved is
        // ceil(100 × reserved / (100 + p)).
        let (updated, overbooked): (i64, i64) = sqlx::query_as(
            "WITH target AS (
                 SELECT i.table_type_id, i.slot_start, r.overbooking_pct AS pct,
                        (SELECT count(*)::int FROM dining_table d
                          WHERE d.table_type_id = t.id AND d.active) AS active,
                        (100 * i.total_reserved + 99 + r.overbooking_pct)
                            / (100 + r.overbooking_pct) AS needed
                 FROM inventory i
                 JOIN table_type t ON t.id = i.table_type_id
                 JOIN restaurant r ON r.id = t.restaurant_id
                 WHERE t.restaurant_id = $1
                   AND i.slot_start >= (now() AT TIME ZONE r.time_zone)
             ), changed AS (
                 UPDATE inventory i
                 SET total_inventory = GREATEST(target.active, target.needed),
                     overbooking_pct = target.pct
                 FROM target
                 WHERE i.table_type_id = target.table_type_id
                   AND i.slot_start = target.slot_start
                   AND (i.total_inventory, i.overbooking_pct)
                       IS DISTINCT FROM (GREATEST(target.active, target.needed), target.pct)
                 RETURNING target.needed > target.active AS over
             )
             SELECT count(*), count(*) FILTER (WHERE over) FROM changed",
        )
        .bind(restaurant_id)
        .fetch_one(&self.pool)
        .await?;
        if overbooked > 0 {
            tracing::warn!(
                %restaurant_id,
                overbooked,
                "tables taken out of service are still booked in some slots; those slots sell \
                 nothing more until bookings fall below the new limit"
            );
        }
        Ok(InventorySync {
            updated: updated.unsigned_abs(),
            overbooked: overbooked.unsigned_abs(),
        })
    }
}
