//! The decision: one transaction per command, run by the worker that owns the restaurant's
//! partition. Inventory changes only here.

use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::Store;
use crate::{schedule, RejectReason, Status};

/// What deciding a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every slot of the stay was reserved; the reservation is now `held` at this price.
    Held { price_cents: i64, currency: String },
    /// The reservation is now `rejected`.
    Rejected(RejectReason),
    /// The reservation was no longer pending: a redelivered or repeated command. Nothing
    /// changed.
    AlreadyDecided(Status),
    /// No reservation has this id: the command refers to nothing.
    Missing,
}

/// Who the audit log names for the worker's decisions.
const WORKER_ACTOR: &str = "worker";

#[derive(sqlx::FromRow)]
struct PendingRow {
    status: Status,
    restaurant_id: Uuid,
    table_type_id: Uuid,
    table_count: i32,
    service_date: NaiveDate,
    start_time: NaiveTime,
    duration_minutes: i32,
}

impl Store {
    /// Decides a pending reservation in one transaction: reserve every slot it covers under
    /// the overbooking limit and mark it `held`, or mark it `rejected` with a reason. A
    /// reservation that is no longer pending is left alone, which makes redelivery harmless.
    ///
    /// # Errors
    /// On a database error; then nothing changed.
    #[tracing::instrument(skip(self, hold_for))]
    pub async fn decide(&self, reservation_id: Uuid, hold_for: Duration) -> sqlx::Result<Decision> {
        let mut tx = self.pool.begin().await?;
        // The row lock makes two deciders (a failover overlap) take turns on one reservation.
        let row: Option<PendingRow> = sqlx::query_as(
            "SELECT status, restaurant_id, table_type_id, table_count, service_date, start_time,
                    duration_minutes
             FROM reservation WHERE id = $1 FOR UPDATE",
        )
        .bind(reservation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Decision::Missing);
        };
        if !row.status.is_pending() {
            return Ok(Decision::AlreadyDecided(row.status));
        }

        let decision = reserve(&mut tx, &row).await?;
        match &decision {
            Decision::Held {
                price_cents,
                currency,
            } => {
                sqlx::query(
                    "UPDATE reservation SET status = 'held', price_cents = $2, currency = $3,
                         hold_expires_at = now() + make_interval(secs => $4), updated_at = now()
                     WHERE id = $1",
                )
                .bind(reservation_id)
                .bind(price_cents)
                .bind(currency)
                .bind(hold_for.as_secs_f64())
                .execute(&mut *tx)
                .await?;
                append_event(&mut tx, reservation_id, Status::Held, None).await?;
            }
            Decision::Rejected(reason) => {
                sqlx::query(
                    "UPDATE reservation SET status = 'rejected', reason = $2, updated_at = now()
                     WHERE id = $1",
                )
                .bind(reservation_id)
                .bind(reason.as_str())
                .execute(&mut *tx)
                .await?;
                append_event(&mut tx, reservation_id, Status::Rejected, Some(*reason)).await?;
            }
            Decision::AlreadyDecided(_) | Decision::Missing => {}
        }
        tx.commit().await?;
        Ok(decision)
    }
}

/// Tries to reserve the stay's slots. Leaves the inventory untouched unless every slot fits.
async fn reserve(
    tx: &mut Transaction<'static, Postgres>,
    row: &PendingRow,
) -> sqlx::Result<Decision> {
    let Some(restaurant) = super::load_restaurant(&mut *tx, row.restaurant_id).await? else {
        return Ok(Decision::Rejected(RejectReason::Closed));
    };
    let Some(table_type) =
        super::load_table_type(&mut *tx, row.restaurant_id, row.table_type_id).await?
    else {
        return Ok(Decision::Rejected(RejectReason::TableTypeUnavailable));
    };
    let start = row.service_date.and_time(row.start_time);
    let end = start + chrono::Duration::minutes(i64::from(row.duration_minutes));
    if !schedule::is_open(&restaurant.opening_hours, start, end) {
        return Ok(Decision::Rejected(RejectReason::Closed));
    }
    let slots = schedule::covered_slots(start, row.duration_minutes, restaurant.slot_minutes);

    // Rows are made on first need, from the active tables at that moment.
    sqlx::query(
        "INSERT INTO inventory (table_type_id, slot_start, total_inventory, overbooking_pct)
         SELECT $1, slot,
                (SELECT count(*) FROM dining_table WHERE table_type_id = $1 AND active), $3
         FROM unnest($2::timestamp[]) AS slot
         ON CONFLICT DO NOTHING",
    )
    .bind(row.table_type_id)
    .bind(&slots)
    .bind(restaurant.overbooking_pct)
    .execute(&mut **tx)
    .await?;

    // The conditional update is the guard that also holds if two workers ever overlap; the
    // CHECK constraint is the last one. Integer division is the floor of the limit.
    let mut attempt = sqlx::Connection::begin(&mut **tx).await?;
    let reserved = sqlx::query(
        "UPDATE inventory SET total_reserved = total_reserved + $3
         WHERE table_type_id = $1 AND slot_start = ANY($2)
           AND total_reserved + $3 <= total_inventory * (100 + overbooking_pct) / 100",
    )
    .bind(row.table_type_id)
    .bind(&slots)
    .bind(row.table_count)
    .execute(&mut *attempt)
    .await?
    .rows_affected();
    if reserved != slots.len() as u64 {
        attempt.rollback().await?;
        return Ok(Decision::Rejected(RejectReason::NoAvailability));
    }
    attempt.commit().await?;

    let rate: Option<i64> = sqlx::query_scalar(
        "SELECT price_cents FROM rate WHERE table_type_id = $1 AND service_date = $2",
    )
    .bind(row.table_type_id)
    .bind(row.service_date)
    .fetch_optional(&mut **tx)
    .await?;
    let per_table = rate.unwrap_or(table_type.base_price_cents);
    Ok(Decision::Held {
        price_cents: per_table * i64::from(row.table_count),
        currency: table_type.currency,
    })
}

async fn append_event(
    conn: &mut PgConnection,
    reservation_id: Uuid,
    to: Status,
    reason: Option<RejectReason>,
) -> sqlx::Result<()> {
    debug_assert!(Status::Pending.can_become(to));
    sqlx::query(
        "INSERT INTO reservation_event (reservation_id, from_status, to_status, reason, actor)
         VALUES ($1, 'pending', $2, $3, $4)",
    )
    .bind(reservation_id)
    .bind(to.as_str())
    .bind(reason.map(RejectReason::as_str))
    .bind(WORKER_ACTOR)
    .execute(conn)
    .await?;
    Ok(())
}
