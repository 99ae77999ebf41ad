//! Changing a booking: a new date, time, party size, table type or table count, decided on the
//! restaurant's serial lane like every change of inventory.
//!
//! The API records the change (`pending`) and queues [`Command::Modify`]. The worker checks the
//! restaurant's policy, then in one transaction gives back the old slots and takes the new
//! ones (tables and pacing alike) and prices the stay again at the new occupancy and rate. A
//! lower price is applied at once and the difference refunded; a higher one is charged first
//! (`awaiting_payment`, holding nothing new) and applied when the charge is captured, or
//! rejected, with the difference refunded, if the tables went meanwhile. Either the booking
//! has its new slots or it keeps its old ones: never both, never neither.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::decision::{load_rates, lock_catalog, DecisionPolicy, SlotInventory, WORKER_ACTOR};
use super::lifecycle::Refusal;
use super::slot_covers::SlotCovers;
use super::transition::{self, Locked};
use super::{load_restaurant, load_table_type, notifications, outbound, payments, Store};
use crate::messages::Command;
use crate::pricing::Occupancy;
use crate::request::BookingRequest;
use crate::{schedule, NotificationKind, Restaurant, Result, Status};

/// A change of a booking, as clients see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationChange {
    #[serde(rename = "changeId")]
    pub id: Uuid,
    pub reservation_id: Uuid,
    /// `pending`, `awaiting_payment` (a higher price is being charged), `applied` or
    /// `rejected`.
    pub status: String,
    /// Why it was rejected: `too_late`, `too_many_changes`, `not_confirmed`,
    /// `no_availability`, `pacing_limit`, `closed`, `table_type_unavailable`,
    /// `payment_required`, `payment_declined`.
    pub reason: Option<String>,
    pub table_type_id: Uuid,
    pub table_count: i32,
    pub party_size: i32,
    pub date: NaiveDate,
    #[serde(serialize_with = "crate::wire_time::serialize_hh_mm")]
    #[schema(value_type = String, example = "20:30")]
    pub time: NaiveTime,
    pub duration_minutes: i32,
    /// The price before the change, once decided.
    pub old_price_cents: Option<i64>,
    /// The price after it, once decided.
    pub new_price_cents: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// What deciding a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// The booking has its new slots at this price.
    Applied { price_cents: i64 },
    /// A higher price is being charged; the change applies once it is captured.
    AwaitingPayment { difference_cents: i64 },
    /// Nothing changed, for this reason.
    Rejected(&'static str),
    /// The change was decided already (a redelivered command).
    AlreadyDecided,
    /// No such change of this reservation.
    Missing,
}

/// A `reservation_change` row, locked.
struct ChangeRow {
    id: Uuid,
    status: String,
    table_type_id: Uuid,
    table_count: i32,
    party_size: i32,
    service_date: NaiveDate,
    start_time: NaiveTime,
    duration_minutes: i32,
    new_price_cents: Option<i64>,
    payment_token: Option<String>,
}

impl ChangeRow {
    fn local_start(&self) -> NaiveDateTime {
        self.service_date.and_time(self.start_time)
    }

    fn same_as(&self, wanted: &BookingRequest) -> bool {
        (
            self.table_type_id,
            self.table_count,
            self.party_size,
            self.service_date,
            self.start_time,
        ) == (
            wanted.table_type_id,
            wanted.table_count,
            wanted.party_size,
            wanted.date,
            wanted.time,
        )
    }
}

/// Whether the restaurant's policy lets the booking change now (and to `new_start`): it is
/// confirmed, both starts are at least the cut-off away, and it has changed fewer times than
/// allowed. The reason it may not, otherwise.
fn policy_refusal(
    locked: &Locked,
    modifications: i32,
    restaurant: &Restaurant,
    new_start: NaiveDateTime,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    let rules = &restaurant.booking_rules;
    let cutoff = chrono::Duration::minutes(i64::from(rules.modification_cutoff_minutes));
    let local_now = restaurant.local_now(now);
    if locked.status != Status::Confirmed {
        Some("not_confirmed")
    } else if locked.local_start() - cutoff <= local_now || new_start - cutoff <= local_now {
        Some("too_late")
    } else if modifications >= rules.max_modifications {
        Some("too_many_changes")
    } else {
        None
    }
}

/// How a moved booking is priced.
#[derive(Clone, Copy)]
enum Price<'a> {
    /// Again, at the new stay's occupancy before the change and the day's rate.
    Decide(&'a crate::PricingSteps),
    /// At the price the diner was already charged for.
    Charged(i64),
}

/// The booking's slots moved in memory: old ones given back, new ones taken, priced.
struct Moved {
    slots: Vec<NaiveDateTime>,
    paced_slot: Option<NaiveDateTime>,
    price_cents: i64,
    inventory: SlotInventory,
    covers: SlotCovers,
}

impl Store {
    /// Records a diner's or staff's change of a confirmed booking and queues it on the
    /// restaurant's lane. `wanted` is the booking as it should become, checked against the
    /// restaurant like a new request. Asking again for the change under way is the same
    /// change; another while one is under way is a conflict.
    ///
    /// # Errors
    /// A [`Refusal`] for a missing booking, one that cannot change (its state, the policy), or
    /// a change that changes nothing; the outer error on a database error.
    #[tracing::instrument(skip(self, wanted, payment_token))]
    pub async fn request_change(
        &self,
        wanted: &BookingRequest,
        payment_token: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<ReservationChange, Refusal>> {
        let id = wanted.reservation_id;
        let mut tx = self.pool.begin().await?;
        let Some(locked) = transition::lock(&mut tx, id).await? else {
            return Ok(Err(Refusal::Missing));
        };
        if let Some(open) = open_change(&mut tx, id).await? {
            if open.same_as(wanted) {
                // The transaction's connection back to the pool before the read takes one.
                tx.rollback().await?;
                return Ok(self.change(id, open.id).await?.ok_or(Refusal::Missing));
            }
            return Ok(Err(Refusal::Conflict(format!(
                "change {} of this booking is under way ({}); wait for its outcome",
                open.id, open.status
            ))));
        }
        let unchanged = (
            locked.table_type_id,
            locked.table_count,
            locked.party_size,
            locked.service_date,
            locked.start_time,
        ) == (
            wanted.table_type_id,
            wanted.table_count,
            wanted.party_size,
            wanted.date,
            wanted.time,
        );
        if unchanged {
            return Ok(Err(Refusal::Invalid(crate::Invalid::new(
                "date",
                "the booking is already for this date, time, party and table: nothing to change",
            ))));
        }
        let Some(restaurant) = load_restaurant(&mut tx, locked.restaurant_id).await? else {
            return Ok(Err(Refusal::Missing));
        };
        let modifications = modifications_of(&mut tx, id).await?;
        if let Some(reason) = policy_refusal(
            &locked,
            modifications,
            &restaurant,
            wanted.local_start(),
            now,
        ) {
            return Ok(Err(match reason {
                "not_confirmed" => Refusal::IllegalTransition {
                    current: locked.status.as_str(),
                    action: "changed",
                },
                reason => Refusal::Conflict(policy_words(reason, &restaurant)),
            }));
        }
        let change_id = Uuid::new_v4();
        sqlx::query!(
            "INSERT INTO reservation_change (id, reservation_id, status, table_type_id,
                 table_count, party_size, service_date, start_time, duration_minutes,
                 payment_token, actor)
             VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10)",
            change_id,
            id,
            wanted.table_type_id,
            wanted.table_count,
            wanted.party_size,
            wanted.date,
            wanted.time,
            wanted.duration_minutes,
            payment_token,
            actor,
        )
        .execute(&mut *tx)
        .await?;
        outbound::enqueue_command(
            &mut tx,
            locked.restaurant_id,
            Command::Modify {
                reservation_id: id,
                change_id,
            },
            std::time::Duration::ZERO,
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("maitred_modifications_requested_total").increment(1);
        Ok(self.change(id, change_id).await?.ok_or(Refusal::Missing))
    }

    /// One change of a reservation.
    ///
    /// # Errors
    /// On a database error.
    pub async fn change(
        &self,
        reservation_id: Uuid,
        change_id: Uuid,
    ) -> Result<Option<ReservationChange>> {
        Ok(self
            .changes_of(reservation_id)
            .await?
            .into_iter()
            .find(|change| change.id == change_id))
    }

    /// Every change of a reservation, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn changes_of(&self, reservation_id: Uuid) -> Result<Vec<ReservationChange>> {
        Ok(sqlx::query_as!(
            ReservationChange,
            r#"SELECT id, reservation_id, status, reason, table_type_id, table_count, party_size,
                      service_date AS date, start_time AS time, duration_minutes, old_price_cents,
                      new_price_cents, created_at, decided_at
               FROM reservation_change WHERE reservation_id = $1
               ORDER BY created_at DESC, id"#,
            reservation_id,
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Decides a change on the restaurant's lane (see the module's documentation).
    /// Deciding it twice decides it once.
    ///
    /// # Errors
    /// On a database error, or an [`crate::Error::Invariant`]; then nothing changed.
    #[tracing::instrument(skip(self, policy))]
    pub async fn modify(
        &self,
        reservation_id: Uuid,
        change_id: Uuid,
        policy: &DecisionPolicy,
        now: DateTime<Utc>,
    ) -> Result<ChangeOutcome> {
        let mut tx = self.pool.begin().await?;
        let Some(mut locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(ChangeOutcome::Missing);
        };
        let Some(change) = lock_change(&mut tx, reservation_id, change_id).await? else {
            return Ok(ChangeOutcome::Missing);
        };
        if change.status != "pending" {
            return Ok(ChangeOutcome::AlreadyDecided);
        }
        let outcome = self
            .decide_change(&mut tx, &mut locked, &change, policy, now)
            .await?;
        tx.commit().await?;
        record(&outcome);
        Ok(outcome)
    }

    async fn decide_change(
        &self,
        tx: &mut PgConnection,
        locked: &mut Locked,
        change: &ChangeRow,
        policy: &DecisionPolicy,
        now: DateTime<Utc>,
    ) -> Result<ChangeOutcome> {
        let Some(restaurant) = load_restaurant(tx, locked.restaurant_id).await? else {
            return reject(tx, locked, change, "closed").await;
        };
        let modifications = modifications_of(tx, locked.id).await?;
        if let Some(reason) = policy_refusal(
            locked,
            modifications,
            &restaurant,
            change.local_start(),
            now,
        ) {
            return reject(tx, locked, change, reason).await;
        }
        let price = Price::Decide(&policy.pricing);
        let moved = match move_slots(tx, locked, change, &restaurant, price).await? {
            Ok(moved) => moved,
            Err(reason) => return reject(tx, locked, change, reason).await,
        };
        let old_price = locked.price_cents.unwrap_or(0);
        let difference = moved.price_cents - old_price;
        let paid = payments::load_payment(tx, locked.id, payments::PaymentKind::Charge)
            .await?
            .is_some_and(|charge| charge.status == payments::PaymentStatus::Captured);
        if paid && difference > 0 {
            // Charged first, holding nothing new: the change applies once the charge is
            // captured (see `settle_change`).
            let token = change
                .payment_token
                .as_deref()
                .or(locked.payment_token.as_deref());
            let Some(token) = token else {
                return reject(tx, locked, change, "payment_required").await;
            };
            payments::request_change_charge(
                tx,
                locked,
                change.id,
                difference,
                token,
                &policy.gateway,
            )
            .await?;
            sqlx::query!(
                "UPDATE reservation_change SET status = 'awaiting_payment', old_price_cents = $2,
                     new_price_cents = $3
                 WHERE id = $1",
                change.id,
                old_price,
                moved.price_cents,
            )
            .execute(&mut *tx)
            .await?;
            transition::note(tx, locked, "modification_awaiting_payment", WORKER_ACTOR).await?;
            return Ok(ChangeOutcome::AwaitingPayment {
                difference_cents: difference,
            });
        }
        let price = moved.price_cents;
        apply(tx, locked, change, moved, &self.notification_plan).await?;
        if paid && difference < 0 {
            let refunded =
                payments::request_change_refund(tx, locked.id, change.id, -difference).await?;
            if refunded < -difference {
                tracing::error!(change_id = %change.id, refunded, owed = -difference,
                    "the booking's charges hold less than a change's refund; ops must settle it");
            }
        }
        Ok(ChangeOutcome::Applied { price_cents: price })
    }

    /// A change's payment has an outcome (called by `settle`, on the lane): a captured
    /// difference applies the change if its tables are still there, or refunds the
    /// difference; a declined one rejects the change.
    pub(crate) async fn settle_change(
        &self,
        tx: &mut PgConnection,
        locked: &mut Locked,
        payment: &payments::Payment,
    ) -> Result<ChangeOutcome> {
        let Some(change_id) = payment.change_id else {
            return Ok(ChangeOutcome::Missing);
        };
        let Some(change) = lock_change(tx, locked.id, change_id).await? else {
            return Ok(ChangeOutcome::Missing);
        };
        use payments::{PaymentKind, PaymentStatus};
        match (payment.kind, payment.status, change.status.as_str()) {
            (PaymentKind::Charge, PaymentStatus::Captured, "awaiting_payment") => {
                let (reservation_id, charge_id) = (locked.id, payment.id);
                let Some(restaurant) = load_restaurant(tx, locked.restaurant_id).await? else {
                    refund_change_charge(tx, reservation_id, change_id, charge_id).await?;
                    return reject(tx, locked, &change, "closed").await;
                };
                if locked.status != Status::Confirmed {
                    refund_change_charge(tx, reservation_id, change_id, charge_id).await?;
                    return reject(tx, locked, &change, "not_confirmed").await;
                }
                // The price the diner was charged for, not the occupancy's now.
                let Some(charged_price) = change.new_price_cents else {
                    return Err(crate::Error::invariant(format!(
                        "change {change_id} awaited a payment without a price"
                    )));
                };
                let price = Price::Charged(charged_price);
                match move_slots(tx, locked, &change, &restaurant, price).await? {
                    Ok(moved) => {
                        let price = moved.price_cents;
                        apply(tx, locked, &change, moved, &self.notification_plan).await?;
                        Ok(ChangeOutcome::Applied { price_cents: price })
                    }
                    Err(reason) => {
                        refund_change_charge(tx, reservation_id, change_id, charge_id).await?;
                        reject(tx, locked, &change, reason).await
                    }
                }
            }
            (PaymentKind::Charge, PaymentStatus::Declined, "awaiting_payment") => {
                reject(tx, locked, &change, "payment_declined").await
            }
            (PaymentKind::Refund, PaymentStatus::Refunded, _) => {
                transition::note(tx, locked, "modification_refunded", WORKER_ACTOR).await?;
                Ok(ChangeOutcome::AlreadyDecided)
            }
            (PaymentKind::Refund, PaymentStatus::Failed, _) => {
                tracing::error!(%change_id, "the gateway refused a change's refund; ops must settle it");
                transition::note(tx, locked, "modification_refund_failed", WORKER_ACTOR).await?;
                Ok(ChangeOutcome::AlreadyDecided)
            }
            _ => Ok(ChangeOutcome::AlreadyDecided),
        }
    }
}

/// The change under way for a reservation, if any.
async fn open_change(conn: &mut PgConnection, reservation_id: Uuid) -> Result<Option<ChangeRow>> {
    Ok(sqlx::query_as!(
        ChangeRow,
        "SELECT id, status, table_type_id, table_count, party_size, service_date, start_time,
                duration_minutes, new_price_cents, payment_token
         FROM reservation_change
         WHERE reservation_id = $1 AND status IN ('pending', 'awaiting_payment')",
        reservation_id,
    )
    .fetch_optional(conn)
    .await?)
}

async fn lock_change(
    conn: &mut PgConnection,
    reservation_id: Uuid,
    change_id: Uuid,
) -> Result<Option<ChangeRow>> {
    Ok(sqlx::query_as!(
        ChangeRow,
        "SELECT id, status, table_type_id, table_count, party_size, service_date, start_time,
                duration_minutes, new_price_cents, payment_token
         FROM reservation_change WHERE id = $1 AND reservation_id = $2 FOR UPDATE",
        change_id,
        reservation_id,
    )
    .fetch_optional(conn)
    .await?)
}

/// How many times the booking changed.
async fn modifications_of(conn: &mut PgConnection, reservation_id: Uuid) -> Result<i32> {
    Ok(sqlx::query_scalar!(
        "SELECT modifications FROM reservation WHERE id = $1",
        reservation_id
    )
    .fetch_one(conn)
    .await?)
}

/// Gives back the booking's slots and takes the change's, in memory, under the row locks:
/// tables under the overbooking limit and covers under the pacing, priced at the new
/// occupancy and rate. Nothing is written; the reason, when the new slots are not there.
async fn move_slots(
    conn: &mut PgConnection,
    locked: &Locked,
    change: &ChangeRow,
    restaurant: &Restaurant,
    price: Price<'_>,
) -> Result<std::result::Result<Moved, &'static str>> {
    // As a booking's decision does: a staff delete of the restaurant or the new table type
    // waits for this one, or this one finds them gone.
    let mut types = vec![locked.table_type_id, change.table_type_id];
    types.sort_unstable();
    types.dedup();
    lock_catalog(conn, &[restaurant.id], &types).await?;
    let Some(table_type) = load_table_type(conn, restaurant.id, change.table_type_id).await? else {
        return Ok(Err("table_type_unavailable"));
    };
    let start = change.local_start();
    let end = start + chrono::Duration::minutes(i64::from(change.duration_minutes));
    let on_grid = restaurant.slot_minutes > 0
        && (start.time() - NaiveTime::MIN).num_minutes() % i64::from(restaurant.slot_minutes) == 0;
    if !on_grid || !schedule::is_open(&restaurant.opening_hours, start, end) {
        return Ok(Err("closed"));
    }
    let new_slots =
        schedule::covered_slots(start, change.duration_minutes, restaurant.slot_minutes);
    let old_slots = locked.reserved_slots.clone().unwrap_or_default();

    let mut wanted = HashMap::new();
    for slot in &old_slots {
        wanted.insert((locked.table_type_id, *slot), restaurant.overbooking_pct);
    }
    for slot in &new_slots {
        wanted.insert((change.table_type_id, *slot), restaurant.overbooking_pct);
    }
    let restaurant_of = HashMap::from([
        (locked.table_type_id, restaurant.id),
        (change.table_type_id, restaurant.id),
    ]);
    let mut inventory = SlotInventory::lock_slots(conn, &wanted, restaurant_of).await?;
    let paced_slot = (!locked.walk_in).then_some(start);
    let mut starts = vec![(restaurant, start)];
    starts.extend(locked.paced_slot.map(|old| (restaurant, old)));
    let mut covers = SlotCovers::lock(conn, &starts).await?;

    inventory.give_back(locked.table_type_id, &old_slots, locked.table_count);
    if let Some(old) = locked.paced_slot {
        covers.give_back((restaurant.id, old), locked.party_size);
    }
    if paced_slot.is_some() && !covers.fits((restaurant.id, start), change.party_size) {
        return Ok(Err("pacing_limit"));
    }
    let Some(occupancy) = inventory.take(change.table_type_id, &new_slots, change.table_count)
    else {
        return Ok(Err("no_availability"));
    };
    if paced_slot.is_some() {
        covers.add((restaurant.id, start), change.party_size);
    }
    let price_cents = match price {
        Price::Charged(cents) => cents,
        Price::Decide(pricing) => {
            let key = (change.table_type_id, change.service_date);
            let rates = load_rates(conn, &[key]).await?;
            let per_table = rates
                .get(&key)
                .copied()
                .unwrap_or(table_type.base_price_cents);
            let occupancy = occupancy.unwrap_or(Occupancy {
                reserved: 0,
                inventory: table_type.tables,
            });
            pricing.price_cents(per_table, change.table_count, occupancy)
        }
    };
    Ok(Ok(Moved {
        slots: new_slots,
        paced_slot,
        price_cents,
        inventory,
        covers,
    }))
}

/// Writes a change: the slots moved, the booking's new details and price, the change applied,
/// the audit event, the webhooks and the email, and the reminders moved to the new start.
async fn apply(
    conn: &mut PgConnection,
    locked: &mut Locked,
    change: &ChangeRow,
    moved: Moved,
    plan: &crate::NotificationPlan,
) -> Result<()> {
    moved.inventory.write(conn).await?;
    moved.covers.write(conn).await?;
    let previous = sqlx::query!(
        "UPDATE reservation_change c
         SET status = 'applied', decided_at = now(), new_price_cents = $2,
             old_price_cents = coalesce(c.old_price_cents, r.price_cents),
             old_table_type_id = r.table_type_id, old_table_count = r.table_count,
             old_party_size = r.party_size, old_service_date = r.service_date,
             old_start_time = r.start_time, old_duration_minutes = r.duration_minutes
         FROM reservation r
         WHERE c.id = $1 AND r.id = c.reservation_id
         RETURNING r.modifications",
        change.id,
        moved.price_cents,
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE reservation
         SET table_type_id = $2, table_count = $3, party_size = $4, service_date = $5,
             start_time = $6, duration_minutes = $7, reserved_slots = $8, paced_slot = $9,
             price_cents = $10, modifications = modifications + 1, updated_at = now()
         WHERE id = $1",
        locked.id,
        change.table_type_id,
        change.table_count,
        change.party_size,
        change.service_date,
        change.start_time,
        change.duration_minutes,
        &moved.slots,
        moved.paced_slot,
        moved.price_cents,
    )
    .execute(&mut *conn)
    .await?;
    let old = serde_json::json!({
        "tableTypeId": locked.table_type_id,
        "tableCount": locked.table_count,
        "partySize": locked.party_size,
        "date": locked.service_date,
        "time": locked.start_time.format("%H:%M").to_string(),
        "durationMinutes": locked.duration_minutes,
        "priceCents": locked.price_cents,
    });
    locked.table_type_id = change.table_type_id;
    locked.table_count = change.table_count;
    locked.party_size = change.party_size;
    locked.service_date = change.service_date;
    locked.start_time = change.start_time;
    locked.duration_minutes = change.duration_minutes;
    locked.reserved_slots = Some(moved.slots);
    locked.paced_slot = moved.paced_slot;
    locked.price_cents = Some(moved.price_cents);

    let event = transition::append_event(
        conn,
        locked.id,
        Some(locked.status),
        locked.status,
        Some("modified"),
        WORKER_ACTOR,
    )
    .await?;
    transition::queue_modified_webhooks(conn, locked, event, &old).await?;
    let count = u32::try_from(previous.modifications).unwrap_or(0) + 1;
    notifications::queue(conn, &[(locked.id, NotificationKind::Modified { count })]).await?;
    // The reminders follow the new start: those not sent yet are made again.
    sqlx::query!(
        "DELETE FROM notification
         WHERE reservation_id = $1 AND kind LIKE 'reminder\\_%' AND status IN ('scheduled', 'skipped')",
        locked.id,
    )
    .execute(&mut *conn)
    .await?;
    notifications::schedule(conn, plan, &[&*locked]).await
}

/// Rejects a change with `reason`, in the change and the audit log. Nothing else changes.
async fn reject(
    conn: &mut PgConnection,
    locked: &Locked,
    change: &ChangeRow,
    reason: &'static str,
) -> Result<ChangeOutcome> {
    sqlx::query!(
        "UPDATE reservation_change SET status = 'rejected', reason = $2, decided_at = now()
         WHERE id = $1",
        change.id,
        reason,
    )
    .execute(&mut *conn)
    .await?;
    transition::note(
        conn,
        locked,
        &format!("modification_rejected: {reason}"),
        WORKER_ACTOR,
    )
    .await?;
    Ok(ChangeOutcome::Rejected(reason))
}

/// Refunds a change's captured difference in full, when the change cannot apply after all.
async fn refund_change_charge(
    conn: &mut PgConnection,
    reservation_id: Uuid,
    change_id: Uuid,
    charge_id: Uuid,
) -> Result<()> {
    let refund_id = sqlx::query_scalar!(
        "INSERT INTO payment (id, reservation_id, kind, amount_cents, currency, status, gateway,
                              change_id, refund_of)
         SELECT gen_random_uuid(), reservation_id, 'refund', amount_cents, currency, 'requested',
                gateway, change_id, id
         FROM payment WHERE id = $1 AND status = 'captured'
         ON CONFLICT (change_id, refund_of) WHERE change_id IS NOT NULL AND kind = 'refund'
         DO NOTHING RETURNING id",
        charge_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(payment_id) = refund_id {
        tracing::info!(%change_id, "refunding the difference of a change that could not apply");
        outbound::enqueue_payment(
            conn,
            crate::messages::PaymentJob::Refund { payment_id },
            reservation_id,
        )
        .await?;
    }
    Ok(())
}

fn record(outcome: &ChangeOutcome) {
    let label = match outcome {
        ChangeOutcome::Applied { .. } => "applied",
        ChangeOutcome::AwaitingPayment { .. } => "awaiting_payment",
        ChangeOutcome::Rejected(reason) => reason,
        ChangeOutcome::AlreadyDecided => "already_decided",
        ChangeOutcome::Missing => "missing",
    };
    metrics::counter!("maitred_modifications_total", "outcome" => label).increment(1);
}

/// A policy refusal in plain words, for the API's 409.
fn policy_words(reason: &str, restaurant: &Restaurant) -> String {
    let rules = &restaurant.booking_rules;
    match reason {
        "too_late" => format!(
            "this restaurant takes changes until {} minutes before the start, of the booking and \
             of the new time alike",
            rules.modification_cutoff_minutes
        ),
        "too_many_changes" => format!(
            "this booking was changed {} times already, the most this restaurant allows",
            rules.max_modifications
        ),
        other => other.to_owned(),
    }
}
