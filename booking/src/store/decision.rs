//! The decision, run by the worker that owns the restaurant's partition. A run of consecutive
//! `decide` commands is decided in one transaction, in queue order, with each read and each
//! write made once for the whole run: a flash crowd costs a dozen statements per run instead of
//! a dozen per request. Inventory changes only on the partition.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use sqlx::PgConnection;
use uuid::Uuid;

use super::slot_covers::SlotCovers;
use super::transition::{self, Locked, Move};
use super::{load_restaurants, load_table_types, notifications, outbound, payments, Store};
use crate::availability::{self, InventoryRow};
use crate::messages::{Command, SlotLeft};
use crate::pricing::{Occupancy, PricingSteps};
use crate::{schedule, Error, RejectReason, Restaurant, Result, Status, TableType};

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

/// What deciding a run of commands did.
#[derive(Debug, Clone, Default)]
pub struct DecidedBatch {
    /// One per id given, in the same order.
    pub decisions: Vec<Decision>,
    /// The tables left in every slot the run looked at, once it was decided: what intake's
    /// sold-out view is made of.
    pub slots_left: Vec<SlotLeft>,
}

impl Store {
    /// Decides one command: [`Store::decide_batch`] of one.
    ///
    /// # Errors
    /// On a database error, or an [`Error::Invariant`]; then nothing changed.
    pub async fn decide(&self, reservation_id: Uuid, policy: &DecisionPolicy) -> Result<Decision> {
        let batch = self.decide_batch(&[reservation_id], policy).await?;
        Ok(batch
            .decisions
            .into_iter()
            .next()
            .unwrap_or(Decision::Missing))
    }

    /// Decides the pending reservations among `ids`, in that order, in one transaction: each
    /// reserves every slot it covers under the overbooking limit and becomes `held` (or
    /// `confirmed` where no prepayment is taken), or becomes `rejected` with a reason. A held
    /// reservation gets its expiry timer, and a charge when the diner gave a token. A
    /// reservation that is no longer pending (a redelivered or repeated command) is left
    /// alone, which makes redelivery harmless.
    ///
    /// # Errors
    /// On a database error, or an [`Error::Invariant`] (inventory that changed under the row
    /// locks, an illegal transition); then nothing changed, for any of them.
    #[tracing::instrument(skip_all, fields(commands = ids.len()))]
    pub async fn decide_batch(
        &self,
        ids: &[Uuid],
        policy: &DecisionPolicy,
    ) -> Result<DecidedBatch> {
        let mut tx = self.pool.begin().await?;
        let mut found: HashMap<Uuid, Locked> = transition::lock_all(&mut tx, ids)
            .await?
            .into_iter()
            .map(|locked| (locked.id, locked))
            .collect();
        // Pending reservations in queue order, each once: a repeated command finds it decided.
        let mut pending: Vec<Locked> = Vec::new();
        for id in ids {
            if found
                .get(id)
                .is_some_and(|locked| locked.status.is_pending())
            {
                pending.extend(found.remove(id));
            }
        }

        let catalog = Catalog::load(&mut tx, &pending).await?;
        let plans: Vec<Plan> = pending.iter().map(|locked| catalog.plan(locked)).collect();
        let mut inventory = SlotInventory::lock(&mut tx, &pending, &plans).await?;
        let mut covers = SlotCovers::lock(&mut tx, &paced_starts(&pending, &plans)).await?;
        let stays: Vec<(Uuid, NaiveDate)> = pending
            .iter()
            .map(|l| (l.table_type_id, l.service_date))
            .collect();
        let rates = load_rates(&mut tx, &stays).await?;
        let outcomes: Vec<Result<Grant, RejectReason>> = pending
            .iter()
            .zip(&plans)
            .map(|(locked, plan)| match plan {
                Plan::Refuse(reason) => Err(*reason),
                Plan::Reserve {
                    slots,
                    restaurant,
                    table_type,
                } => {
                    // Pacing first, which takes nothing: a party the kitchen cannot start then
                    // never holds tables.
                    let paced_slot =
                        (!locked.walk_in).then(|| (locked.restaurant_id, locked.local_start()));
                    if paced_slot.is_some_and(|slot| !covers.fits(slot, locked.party_size)) {
                        return Err(RejectReason::PacingLimit);
                    }
                    // The occupancy before this booking prices it: what the availability showed.
                    let occupancy = inventory
                        .take(locked.table_type_id, slots, locked.table_count)
                        .ok_or(RejectReason::NoAvailability)?;
                    if let Some(slot) = paced_slot {
                        covers.add(slot, locked.party_size);
                    }
                    let per_table = rates
                        .get(&(locked.table_type_id, locked.service_date))
                        .copied()
                        .unwrap_or(table_type.base_price_cents);
                    let occupancy = occupancy.unwrap_or(Occupancy {
                        reserved: 0,
                        inventory: table_type.tables,
                    });
                    Ok(Grant {
                        slots: slots.clone(),
                        paced_slot: paced_slot.map(|(_, start)| start),
                        price_cents: policy.pricing.price_cents(
                            per_table,
                            locked.table_count,
                            occupancy,
                        ),
                        currency: table_type.currency.clone(),
                        // A walk-in pays at the table: there is no one to hold for.
                        prepayment_required: restaurant.prepayment_required && !locked.walk_in,
                    })
                }
            })
            .collect();
        inventory.write(&mut tx).await?;
        covers.write(&mut tx).await?;
        let mut moves: Vec<Move> = pending
            .iter_mut()
            .zip(&outcomes)
            .map(|(locked, outcome)| match outcome {
                Err(reason) => Move {
                    locked,
                    to: Status::Rejected,
                    reason: Some(reason.as_str()),
                },
                Ok(grant) if grant.prepayment_required => Move {
                    locked,
                    to: Status::Held,
                    reason: None,
                },
                Ok(_) => Move {
                    reason: Some(if locked.walk_in {
                        "walk_in"
                    } else {
                        "no_prepayment"
                    }),
                    locked,
                    to: Status::Confirmed,
                },
            })
            .collect();
        transition::check_moves(&moves)?;
        record_decisions(&mut tx, &mut moves, &outcomes, policy.hold_for).await?;
        transition::record_moves(&mut tx, &mut moves, WORKER_ACTOR).await?;
        drop(moves);
        let decided_now: Vec<&Locked> = pending.iter().collect();
        notifications::schedule(&mut tx, &self.notification_plan, &decided_now).await?;
        let mut decided = HashMap::with_capacity(pending.len());
        for (locked, outcome) in pending.iter().zip(outcomes) {
            let decision = match outcome {
                Err(reason) => Decision::Rejected(reason),
                Ok(grant) if grant.prepayment_required => Decision::Held {
                    charging: start_hold(&mut tx, locked, policy).await?,
                    price_cents: grant.price_cents,
                    currency: grant.currency,
                },
                Ok(grant) => Decision::Confirmed {
                    price_cents: grant.price_cents,
                    currency: grant.currency,
                },
            };
            decided.insert(locked.id, decision);
        }
        tx.commit().await?;

        let status_now: HashMap<Uuid, Status> = pending
            .iter()
            .chain(found.values())
            .map(|locked| (locked.id, locked.status))
            .collect();
        let decisions = ids
            .iter()
            .map(|id| {
                // A second command for the same id in the run finds the first one's decision.
                decided.remove(id).unwrap_or_else(|| {
                    status_now.get(id).map_or(Decision::Missing, |status| {
                        Decision::AlreadyDecided(*status)
                    })
                })
            })
            .collect();
        Ok(DecidedBatch {
            decisions,
            slots_left: inventory.left(),
        })
    }
}

/// A reservation that got its tables.
struct Grant {
    slots: Vec<NaiveDateTime>,
    /// The slot the party counts in for pacing; none for a walk-in.
    paced_slot: Option<NaiveDateTime>,
    price_cents: i64,
    currency: String,
    prepayment_required: bool,
}

/// What a pending reservation asks of the inventory, once checked against the catalog.
enum Plan<'a> {
    Refuse(RejectReason),
    Reserve {
        slots: Vec<NaiveDateTime>,
        restaurant: &'a Restaurant,
        table_type: &'a TableType,
    },
}

/// The live restaurants and table types a run refers to.
struct Catalog {
    restaurants: HashMap<Uuid, Restaurant>,
    table_types: HashMap<Uuid, TableType>,
}

impl Catalog {
    async fn load(conn: &mut PgConnection, pending: &[Locked]) -> Result<Self> {
        let mut restaurant_ids: Vec<Uuid> = pending.iter().map(|l| l.restaurant_id).collect();
        let mut type_ids: Vec<Uuid> = pending.iter().map(|l| l.table_type_id).collect();
        restaurant_ids.sort_unstable();
        restaurant_ids.dedup();
        type_ids.sort_unstable();
        type_ids.dedup();
        if pending.is_empty() {
            return Ok(Self {
                restaurants: HashMap::new(),
                table_types: HashMap::new(),
            });
        }
        lock_catalog(&mut *conn, &restaurant_ids, &type_ids).await?;
        let restaurants = load_restaurants(&mut *conn, &restaurant_ids).await?;
        let table_types = load_table_types(&mut *conn, &type_ids).await?;
        Ok(Self {
            restaurants: restaurants.into_iter().map(|r| (r.id, r)).collect(),
            table_types: table_types.into_iter().map(|t| (t.id, t)).collect(),
        })
    }

    /// The slots a reservation needs, or why it cannot have any.
    fn plan(&self, row: &Locked) -> Plan<'_> {
        let Some(restaurant) = self.restaurants.get(&row.restaurant_id) else {
            return Plan::Refuse(RejectReason::Closed);
        };
        let Some(table_type) = self
            .table_types
            .get(&row.table_type_id)
            .filter(|t| t.restaurant_id == row.restaurant_id)
        else {
            return Plan::Refuse(RejectReason::TableTypeUnavailable);
        };
        let start = row.service_date.and_time(row.start_time);
        let end = start + chrono::Duration::minutes(i64::from(row.duration_minutes));
        // Off the slot grid when the slot length changed after intake: its slots would be rows
        // of their own beside the grid's, counted apart.
        let on_grid = restaurant.slot_minutes > 0
            && row
                .start_time
                .num_seconds_from_midnight()
                .is_multiple_of(restaurant.slot_minutes.unsigned_abs() * 60);
        if !on_grid || !schedule::is_open(&restaurant.opening_hours, start, end) {
            return Plan::Refuse(RejectReason::Closed);
        }
        Plan::Reserve {
            slots: schedule::covered_slots(start, row.duration_minutes, restaurant.slot_minutes),
            restaurant,
            table_type,
        }
    }
}

/// Shared row locks on restaurants and table types: a staff update or delete of one waits for
/// the decision that holds them, and a decision after a delete finds them gone. So a delete's
/// check for upcoming bookings (and its forced cancellations) never misses one decided
/// meanwhile. (The counts make PostgreSQL run both locking reads.)
pub(super) async fn lock_catalog(
    conn: &mut PgConnection,
    restaurant_ids: &[Uuid],
    type_ids: &[Uuid],
) -> Result<()> {
    sqlx::query!(
        "WITH r AS (SELECT 1 FROM restaurant WHERE id = ANY($1) ORDER BY id FOR SHARE),
              t AS (SELECT 1 FROM table_type WHERE id = ANY($2) ORDER BY id FOR SHARE)
         SELECT (SELECT count(*) FROM r) AS restaurants, (SELECT count(*) FROM t) AS types",
        restaurant_ids,
        type_ids,
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// The inventory rows of every slot a run needs, locked, and what the run takes from them (a
/// change of a booking also gives some back).
pub(super) struct SlotInventory {
    rows: HashMap<(Uuid, NaiveDateTime), InventoryRow>,
    taken: HashMap<(Uuid, NaiveDateTime), i32>,
    restaurant_of: HashMap<Uuid, Uuid>,
}

impl SlotInventory {
    /// Makes the missing rows (from the type's active tables at this moment) and locks them
    /// all, in key order.
    async fn lock(conn: &mut PgConnection, pending: &[Locked], plans: &[Plan<'_>]) -> Result<Self> {
        let mut wanted: HashMap<(Uuid, NaiveDateTime), i32> = HashMap::new();
        let mut restaurant_of = HashMap::new();
        for (locked, plan) in pending.iter().zip(plans) {
            if let Plan::Reserve {
                slots, restaurant, ..
            } = plan
            {
                restaurant_of.insert(locked.table_type_id, restaurant.id);
                for slot in slots {
                    wanted.insert((locked.table_type_id, *slot), restaurant.overbooking_pct);
                }
            }
        }
        Self::lock_slots(conn, &wanted, restaurant_of).await
    }

    /// Makes the missing rows of `wanted` (each with its restaurant's overbooking) and locks
    /// them all. `restaurant_of` names each table type's restaurant, for [`Self::left`].
    pub(super) async fn lock_slots(
        conn: &mut PgConnection,
        wanted: &HashMap<(Uuid, NaiveDateTime), i32>,
        restaurant_of: HashMap<Uuid, Uuid>,
    ) -> Result<Self> {
        let types: Vec<Uuid> = wanted.keys().map(|(t, _)| *t).collect();
        let slots: Vec<NaiveDateTime> = wanted.keys().map(|(_, s)| *s).collect();
        let overbooking: Vec<i32> = wanted.values().copied().collect();
        let mut rows = HashMap::new();
        if !wanted.is_empty() {
            sqlx::query!(
                "INSERT INTO inventory (table_type_id, slot_start, total_inventory, overbooking_pct)
                 SELECT w.t, w.s,
                        (SELECT count(*) FROM dining_table d WHERE d.table_type_id = w.t AND d.active),
                        w.pct
                 FROM unnest($1::uuid[], $2::timestamp[], $3::int4[]) AS w(t, s, pct)
                 -- Most rows exist: count the tables only for the ones that do not.
                 WHERE NOT EXISTS (SELECT 1 FROM inventory i
                                   WHERE i.table_type_id = w.t AND i.slot_start = w.s)
                 ON CONFLICT DO NOTHING",
                &types,
                &slots,
                &overbooking,
            )
            .execute(&mut *conn)
            .await?;
            let locked = sqlx::query_as!(
                InventoryRow,
                "SELECT i.table_type_id, i.slot_start, i.total_inventory, i.total_reserved,
                        i.overbooking_pct
                 FROM inventory i
                 JOIN unnest($1::uuid[], $2::timestamp[]) AS w(t, s)
                   ON i.table_type_id = w.t AND i.slot_start = w.s
                 ORDER BY i.table_type_id, i.slot_start
                 FOR UPDATE OF i",
                &types,
                &slots,
            )
            .fetch_all(&mut *conn)
            .await?;
            rows = locked
                .into_iter()
                .map(|row| ((row.table_type_id, row.slot_start), row))
                .collect();
        }
        Ok(Self {
            rows,
            taken: HashMap::new(),
            restaurant_of,
        })
    }

    /// Takes `tables` in every slot if each has them left under its limit, returning the stay's
    /// occupancy before (`Some(None)` for a stay of no slots); `None`, taking nothing, if one
    /// slot is short.
    pub(super) fn take(
        &mut self,
        table_type_id: Uuid,
        slots: &[NaiveDateTime],
        tables: i32,
    ) -> Option<Option<Occupancy>> {
        let rows: Vec<&InventoryRow> = slots
            .iter()
            .map(|slot| self.rows.get(&(table_type_id, *slot)))
            .collect::<Option<_>>()?;
        if rows.iter().any(|row| row.left() < i64::from(tables)) {
            return None;
        }
        let occupancy = availability::stay_occupancy(rows);
        for slot in slots {
            let key = (table_type_id, *slot);
            if let Some(row) = self.rows.get_mut(&key) {
                row.total_reserved += tables;
            }
            *self.taken.entry(key).or_default() += tables;
        }
        Some(occupancy)
    }

    /// Gives back `tables` in every slot, which a change of the booking held until now.
    pub(super) fn give_back(&mut self, table_type_id: Uuid, slots: &[NaiveDateTime], tables: i32) {
        for slot in slots {
            let key = (table_type_id, *slot);
            if let Some(row) = self.rows.get_mut(&key) {
                row.total_reserved -= tables;
                *self.taken.entry(key).or_default() -= tables;
            }
        }
    }

    /// Writes what the run took. The update is conditional on the limit, and must match every
    /// row: the guard that still holds if two workers ever overlap (the CHECK is the last one).
    pub(super) async fn write(&self, conn: &mut PgConnection) -> Result<()> {
        if self.taken.is_empty() {
            return Ok(());
        }
        let types: Vec<Uuid> = self.taken.keys().map(|(t, _)| *t).collect();
        let slots: Vec<NaiveDateTime> = self.taken.keys().map(|(_, s)| *s).collect();
        let tables: Vec<i32> = self.taken.values().copied().collect();
        let updated = sqlx::query!(
            "UPDATE inventory i SET total_reserved = i.total_reserved + w.n
             FROM unnest($1::uuid[], $2::timestamp[], $3::int4[]) AS w(t, s, n)
             WHERE i.table_type_id = w.t AND i.slot_start = w.s
               AND i.total_reserved + w.n <= i.total_inventory * (100 + i.overbooking_pct) / 100",
            &types,
            &slots,
            &tables,
        )
        .execute(conn)
        .await?
        .rows_affected();
        if updated != self.taken.len() as u64 {
            return Err(Error::invariant(format!(
                "the inventory changed under the decision's row locks: {updated} of {} slots \
                 could take their tables",
                self.taken.len()
            )));
        }
        Ok(())
    }

    /// The tables left in each slot, after the run.
    fn left(&self) -> Vec<SlotLeft> {
        self.rows
            .values()
            .filter_map(|row| {
                Some(SlotLeft {
                    restaurant_id: *self.restaurant_of.get(&row.table_type_id)?,
                    table_type_id: row.table_type_id,
                    slot_start: row.slot_start,
                    left: row.left(),
                })
            })
            .collect()
    }
}

/// The start slot of every party a run may seat by booking (not walk-ins, whom the host
/// seats at once whatever the pace), with its restaurant: what the pacing ledger locks.
fn paced_starts<'a>(
    pending: &[Locked],
    plans: &[Plan<'a>],
) -> Vec<(&'a Restaurant, NaiveDateTime)> {
    pending
        .iter()
        .zip(plans)
        .filter_map(|(locked, plan)| match plan {
            Plan::Reserve { restaurant, .. } if !locked.walk_in => {
                Some((*restaurant, locked.local_start()))
            }
            _ => None,
        })
        .collect()
}

/// The day's rate of each (type, date), where one is set.
pub(super) async fn load_rates(
    conn: &mut PgConnection,
    stays: &[(Uuid, NaiveDate)],
) -> Result<HashMap<(Uuid, NaiveDate), i64>> {
    if stays.is_empty() {
        return Ok(HashMap::new());
    }
    let (types, dates): (Vec<Uuid>, Vec<NaiveDate>) = stays.iter().copied().unzip();
    let rates = sqlx::query!(
        "SELECT DISTINCT r.table_type_id, r.service_date, r.price_cents
         FROM rate r JOIN unnest($1::uuid[], $2::date[]) AS w(t, d)
           ON r.table_type_id = w.t AND r.service_date = w.d",
        &types,
        &dates,
    )
    .fetch_all(conn)
    .await?;
    Ok(rates
        .into_iter()
        .map(|rate| ((rate.table_type_id, rate.service_date), rate.price_cents))
        .collect())
}

/// Writes each decided reservation once: its new status and reason, and for a granted one its
/// price, slots, pacing slot and hold's deadline. The audit events and messages follow in
/// [`transition::record_moves`].
async fn record_decisions(
    conn: &mut PgConnection,
    moves: &mut [Move<'_>],
    outcomes: &[Result<Grant, RejectReason>],
    hold_for: Duration,
) -> Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = moves.iter().map(|m| m.locked.id).collect();
    let statuses: Vec<&str> = moves.iter().map(|m| m.to.as_str()).collect();
    let reasons: Vec<Option<&str>> = moves.iter().map(|m| m.reason).collect();
    let grants: Vec<Option<&Grant>> = outcomes.iter().map(|o| o.as_ref().ok()).collect();
    let granted: Vec<bool> = grants.iter().map(Option::is_some).collect();
    let prices: Vec<Option<i64>> = grants.iter().map(|g| g.map(|g| g.price_cents)).collect();
    let currencies: Vec<Option<&str>> = grants
        .iter()
        .map(|g| g.map(|g| g.currency.as_str()))
        .collect();
    let holds: Vec<bool> = grants
        .iter()
        .map(|g| g.is_some_and(|g| g.prepayment_required))
        .collect();
    let paced: Vec<Option<NaiveDateTime>> = grants
        .iter()
        .map(|g| g.and_then(|g| g.paced_slot))
        .collect();
    // Every stay's slots in one flat array, each beside its reservation's id: unnest cannot
    // take an array of arrays of different lengths.
    let (slot_owners, slots): (Vec<Uuid>, Vec<NaiveDateTime>) = ids
        .iter()
        .zip(&grants)
        .filter_map(|(id, grant)| Some((*id, (*grant)?)))
        .flat_map(|(id, grant)| grant.slots.iter().map(move |slot| (id, *slot)))
        .unzip();
    // One write of each row: its new status, and what a granted one got. `reason` on the
    // reservation says why it was rejected; the audit event keeps every reason.
    sqlx::query!(
        "WITH stay AS (
             SELECT s.id, array_agg(s.slot ORDER BY s.n) AS slots
             FROM unnest($6::uuid[], $7::timestamp[]) WITH ORDINALITY AS s(id, slot, n)
             GROUP BY s.id
         )
         UPDATE reservation r
         SET status = v.status,
             reason = CASE WHEN v.status = 'rejected' THEN v.reason ELSE r.reason END,
             updated_at = now(),
             price_cents = CASE WHEN v.granted THEN v.price ELSE r.price_cents END,
             currency = CASE WHEN v.granted THEN v.currency ELSE r.currency END,
             reserved_slots = CASE WHEN v.granted THEN coalesce(stay.slots, '{}')
                                   ELSE r.reserved_slots END,
             paced_slot = CASE WHEN v.granted THEN v.paced ELSE r.paced_slot END,
             hold_expires_at = CASE WHEN v.hold THEN now() + make_interval(secs => $9)
                                    WHEN v.granted THEN NULL
                                    ELSE r.hold_expires_at END
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[], $5::int8[], $8::text[],
                     $10::bool[], $11::timestamp[])
                AS v(id, status, reason, granted, price, currency, hold, paced)
              LEFT JOIN stay ON stay.id = v.id
         WHERE r.id = v.id",
        &ids,
        &statuses as _,
        &reasons as _,
        &granted,
        &prices as _,
        &slot_owners,
        &slots,
        &currencies as _,
        hold_for.as_secs_f64(),
        &holds,
        &paced as _,
    )
    .execute(&mut *conn)
    .await?;
    for (m, grant) in moves.iter_mut().zip(grants) {
        if let Some(grant) = grant {
            m.locked.paced_slot = grant.paced_slot;
            m.locked.price_cents = Some(grant.price_cents);
            m.locked.currency = Some(grant.currency.clone());
            m.locked.reserved_slots = Some(grant.slots.clone());
        }
    }
    Ok(())
}

/// A new hold's expiry timer, and its charge if the diner gave a token. Returns whether a
/// charge was requested.
async fn start_hold(
    conn: &mut PgConnection,
    locked: &Locked,
    policy: &DecisionPolicy,
) -> Result<bool> {
    outbound::enqueue_command(
        conn,
        locked.restaurant_id,
        Command::ExpireHold {
            reservation_id: locked.id,
        },
        policy.hold_for,
    )
    .await?;
    match &locked.payment_token {
        Some(token) => Ok(
            payments::request_charge(conn, locked, token, &policy.gateway)
                .await?
                .is_some(),
        ),
        None => Ok(false),
    }
}
