//! The decision: one transaction per command, run by the worker that owns the restaurant's
//! partition. Inventory changes only here.

use std::time::Duration;

use chrono::Timelike;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::transition::{self, Locked};
use super::{outbound, payments, Store};
use crate::availability::{self, InventoryRow};
use crate::messages::Command;
use crate::pricing::{Occupancy, PricingSteps};
use crate::{schedule, RejectReason, Status};

/// What deciding a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every slot of the stay was reserved; the reservation is now `held` at this price, and
    /// `charging` says whether a charge was requested with the token the diner gave.
    Held {
        price_cents: i64,
        currency: String,
        charging: bool,
    },
    /// Every slot was reserved and the restaurant takes no prepayment: `confirmed`.
    Confirmed { price_cents: i64, currency: String },
    /// The reservation is now `rejected`.
    Rejected(RejectReason),
    /// The reservation was no longer pending: a redelivered or repeated command. Nothing
    /// changed.
    AlreadyDecided(Status),
    /// No reservation has this id: the command refers to nothing.
    Missing,
}

/// How decisions price, hold and charge.
#[derive(Debug, Clone)]
pub struct DecisionPolicy {
    /// How long a `held` reservation keeps its tables unpaid.
    pub hold_for: Duration,
    /// The gateway that charges, recorded on each payment.
    pub gateway: String,
    /// The surcharge by the stay's occupancy before the booking.
    pub pricing: PricingSteps,
}

/// Who the audit log names for the worker's decisions.
pub(crate) const WORKER_ACTOR: &str = "worker";

/// What reserving found.
enum Reserved {
    Slots {
        slots: Vec<chrono::NaiveDateTime>,
        price_cents: i64,
        currency: String,
        prepayment_required: bool,
    },
    Refused(RejectReason),
}

impl Store {
    /// Decides a pending reservation in one transaction: reserve every slot it covers under
    /// the overbooking limit and mark it `held` (or `confirmed` where no prepayment is taken),
    /// or mark it `rejected` with a reason. A held reservation gets its expiry timer, and a
    /// charge when the diner gave a token. A reservation that is no longer pending is left
    /// alone, which makes redelivery harmless.
    ///
    /// # Errors
    /// On a database error; then nothing changed.
    #[tracing::instrument(skip(self, policy))]
    pub async fn decide(
        &self,
        reservation_id: Uuid,
        policy: &DecisionPolicy,
    ) -> sqlx::Result<Decision> {
        let mut tx = self.pool.begin().await?;
        let Some(mut locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(Decision::Missing);
        };
        if !locked.status.is_pending() {
            return Ok(Decision::AlreadyDecided(locked.status));
        }

        let decision = match reserve(&mut tx, &locked, &policy.pricing).await? {
            Reserved::Refused(reason) => {
                transition::transition(
                    &mut tx,
                    &mut locked,
                    Status::Rejected,
                    Some(reason.as_str()),
                    WORKER_ACTOR,
                )
                .await?;
                Decision::Rejected(reason)
            }
            Reserved::Slots {
                slots,
                price_cents,
                currency,
                prepayment_required,
            } => {
                sqlx::query(
                    "UPDATE reservation SET price_cents = $2, currency = $3, reserved_slots = $4,
                         hold_expires_at = CASE WHEN $5 THEN now() + make_interval(secs => $6) END
                     WHERE id = $1",
                )
                .bind(reservation_id)
                .bind(price_cents)
                .bind(&currency)
                .bind(&slots)
                .bind(prepayment_required)
                .bind(policy.hold_for.as_secs_f64())
                .execute(&mut *tx)
                .await?;
                locked.price_cents = Some(price_cents);
                locked.currency = Some(currency.clone());
                locked.reserved_slots = Some(slots);
                if prepayment_required {
                    hold(&mut tx, &mut locked, policy).await?
                } else {
                    transition::transition(
                        &mut tx,
                        &mut locked,
                        Status::Confirmed,
                        Some("no_prepayment"),
                        WORKER_ACTOR,
                    )
                    .await?;
                    Decision::Confirmed {
                        price_cents,
                        currency,
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(decision)
    }
}

/// `pending → held`: start the expiry timer, and charge the token if the diner gave one.
async fn hold(
    tx: &mut Transaction<'static, Postgres>,
    locked: &mut Locked,
    policy: &DecisionPolicy,
) -> sqlx::Result<Decision> {
    transition::transition(tx, locked, Status::Held, None, WORKER_ACTOR).await?;
    outbound::enqueue_command(
        tx,
        locked.restaurant_id,
        Command::ExpireHold {
            reservation_id: locked.id,
        },
        policy.hold_for,
    )
    .await?;
    let charging = match locked.payment_token.clone() {
        Some(token) => payments::request_charge(tx, locked, &token, &policy.gateway)
            .await?
            .is_some(),
        None => false,
    };
    Ok(Decision::Held {
        price_cents: locked.price_cents.unwrap_or_default(),
        currency: locked.currency.clone().unwrap_or_default(),
        charging,
    })
}

/// Tries to reserve the stay's slots. Leaves the inventory untouched unless every slot fits.
/// The price is the day's rate (or the base price) per table, times the surcharge for the
/// stay's fullest slot as it was before this booking: what the availability showed.
async fn reserve(
    tx: &mut Transaction<'static, Postgres>,
    row: &Locked,
    pricing: &PricingSteps,
) -> sqlx::Result<Reserved> {
    // Shared row locks: a staff update or delete of the restaurant or the type waits for this
    // decision, and a decision after a delete finds them gone. So a delete's check for
    // upcoming bookings (and its forced cancellations) never misses one decided meanwhile.
    sqlx::query(
        "SELECT 1 FROM restaurant r, table_type t WHERE r.id = $1 AND t.id = $2
         FOR SHARE OF r, t",
    )
    .bind(row.restaurant_id)
    .bind(row.table_type_id)
    .execute(&mut **tx)
    .await?;
    let Some(restaurant) = super::load_restaurant(&mut *tx, row.restaurant_id).await? else {
        return Ok(Reserved::Refused(RejectReason::Closed));
    };
    let Some(table_type) =
        super::load_table_type(&mut *tx, row.restaurant_id, row.table_type_id).await?
    else {
        return Ok(Reserved::Refused(RejectReason::TableTypeUnavailable));
    };
    let start = row.service_date.and_time(row.start_time);
    let end = start + chrono::Duration::minutes(i64::from(row.duration_minutes));
    // Off the slot grid when the slot length changed after intake: its slots would be rows of
    // their own beside the grid's, counted apart.
    let on_grid = restaurant.slot_minutes > 0
        && row
            .start_time
            .num_seconds_from_midnight()
            .is_multiple_of(restaurant.slot_minutes.unsigned_abs() * 60);
    if !on_grid || !schedule::is_open(&restaurant.opening_hours, start, end) {
        return Ok(Reserved::Refused(RejectReason::Closed));
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

    // The occupancy before this booking, locked so nothing changes it before the increment.
    let before: Vec<InventoryRow> = sqlx::query_as(
        "SELECT table_type_id, slot_start, total_inventory, total_reserved, overbooking_pct
         FROM inventory WHERE table_type_id = $1 AND slot_start = ANY($2)
         ORDER BY slot_start FOR UPDATE",
    )
    .bind(row.table_type_id)
    .bind(&slots)
    .fetch_all(&mut **tx)
    .await?;
    let occupancy = availability::stay_occupancy(&before).unwrap_or(Occupancy {
        reserved: 0,
        inventory: table_type.tables,
    });

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
        return Ok(Reserved::Refused(RejectReason::NoAvailability));
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
    Ok(Reserved::Slots {
        slots,
        price_cents: pricing.price_cents(per_table, row.table_count, occupancy),
        currency: table_type.currency,
        prepayment_required: restaurant.prepayment_required,
    })
}
