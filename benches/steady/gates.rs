//! The correctness gates read from the database: oversold inventory, more reservations in a
//! slot than it can hold, and reservations decided twice. Each must be 0 for a correct
//! contender (the naive peer of the flash crowd shows that they can fail).

use super::*;
use crate::seeding::{LIMIT_EXPR, LIMIT_PER_ROW};

/// `[oversold_inventory, oversold_reservations, duplicates]` over these restaurants.
pub(crate) async fn database_gates(admin: &PgPool, restaurant_ids: &[Uuid]) -> [i64; 3] {
    let oversold_inventory: i64 = sqlx::query_scalar(&format!(
        "SELECT coalesce(sum(greatest(i.total_reserved - {LIMIT_EXPR}, 0)), 0)::bigint
         FROM inventory i JOIN table_type t ON t.id = i.table_type_id
         WHERE t.restaurant_id = ANY($1)"
    ))
    .bind(restaurant_ids)
    .fetch_one(admin)
    .await
    .unwrap();
    let oversold_reservations: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(greatest(n - $2, 0)), 0)::bigint FROM (
             SELECT count(*) AS n FROM reservation
             WHERE restaurant_id = ANY($1) AND status IN ('held', 'confirmed')
             GROUP BY table_type_id, service_date, start_time) c",
    )
    .bind(restaurant_ids)
    .bind(LIMIT_PER_ROW)
    .fetch_one(admin)
    .await
    .unwrap();
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT e.reservation_id FROM reservation_event e
             JOIN reservation r ON r.id = e.reservation_id
             WHERE r.restaurant_id = ANY($1) AND e.from_status = 'pending'
             GROUP BY e.reservation_id HAVING count(*) > 1) d",
    )
    .bind(restaurant_ids)
    .fetch_one(admin)
    .await
    .unwrap();
    [oversold_inventory, oversold_reservations, duplicates]
}

/// How many of the bookings confirmed to their clients are not confirmed reservations.
pub(crate) async fn not_kept(admin: &PgPool, confirmed: &[Uuid]) -> usize {
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reservation WHERE id = ANY($1) AND status = 'confirmed'",
    )
    .bind(confirmed)
    .fetch_one(admin)
    .await
    .unwrap();
    usize::try_from(confirmed.len() as i64 - kept).unwrap_or(0)
}
