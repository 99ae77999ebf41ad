//! Bringing a restaurant's existing inventory rows in line with its tables and overbooking
//! after staff change them. Runs on the restaurant's serial lane, like every inventory change.

use uuid::Uuid;

use super::Store;
use crate::Result;

/// What a sync changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InventorySync {
    /// Future slot rows whose inventory or overbooking changed.
    pub updated: u64,
    /// Of those, rows already booked past the limit of the tables in service: their limit is
    /// now exactly what is booked, so nothing more sells there.
    pub overbooked: u64,
}

impl Store {
    /// Recounts every future inventory row of the restaurant from its active tables and its
    /// overbooking percentage. A row whose bookings already exceed the new limit keeps those
    /// guests (the CHECK would refuse anything else) with its limit set to exactly what is booked
    /// (the booked count, no overbooking), so it sells nothing more; a later sync, after
    /// cancellations, brings it back to the tables in service. Past slots are history and stay
    /// as they were. Idempotent.
    ///
    /// # Errors
    /// On a database error; then nothing changed.
    #[tracing::instrument(skip(self))]
    pub async fn sync_inventory(&self, restaurant_id: Uuid) -> Result<InventorySync> {
        let changed = sqlx::query!(
            r#"WITH counted AS (
                 SELECT i.table_type_id, i.slot_start, i.total_reserved, r.overbooking_pct AS pct,
                        (SELECT count(*)::int FROM dining_table d
                          WHERE d.table_type_id = t.id AND d.active) AS active
                 FROM inventory i
                 JOIN table_type t ON t.id = i.table_type_id
                 JOIN restaurant r ON r.id = t.restaurant_id
                 WHERE t.restaurant_id = $1
                   AND i.slot_start >= (now() AT TIME ZONE r.time_zone)
             ), target AS (
                 -- Over: booked past what the tables in service allow (the CHECK's rule).
                 SELECT *, total_reserved > active * (100 + pct) / 100 AS over FROM counted
             ), changed AS (
                 UPDATE inventory i
                 SET total_inventory = CASE WHEN target.over THEN target.total_reserved
                                            ELSE target.active END,
                     overbooking_pct = CASE WHEN target.over THEN 0 ELSE target.pct END
                 FROM target
                 WHERE i.table_type_id = target.table_type_id
                   AND i.slot_start = target.slot_start
                   AND (i.total_inventory, i.overbooking_pct) IS DISTINCT FROM
                       (CASE WHEN target.over THEN target.total_reserved ELSE target.active END,
                        CASE WHEN target.over THEN 0 ELSE target.pct END)
                 RETURNING target.over
             )
             SELECT count(*) AS "updated!", count(*) FILTER (WHERE over) AS "overbooked!"
             FROM changed"#,
            restaurant_id,
        )
        .fetch_one(&self.pool)
        .await?;
        let (updated, overbooked) = (changed.updated, changed.overbooked);
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
