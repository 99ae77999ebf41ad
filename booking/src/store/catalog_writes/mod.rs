//! Writing the catalog: restaurants, table types, tables and rates.
//!
//! - this file: what the writes share (the transaction's end, soft deletion, inventory syncs);
//! - [`refusal`]: the refusals, and the constraint violations they stand for;
//! - [`restaurants`], [`table_types`], [`tables`], [`rates`]: one resource each.
//!
//! Two kinds of writers use this:
//! - the demo data and the tests, through [`Store::insert_restaurant`],
//!   [`Store::insert_table_type`] and [`Store::set_rates`]: inserting an id that exists is a
//!   no-op, so loading the same data twice is harmless;
//! - the staff API, through the `create_*`, `replace_*` and `delete_*` methods, which take
//!   drafts parsed by [`crate::catalog_forms`] and answer a [`CatalogRefusal`] for anything
//!   the caller did wrong (a missing row, a stale version, a conflict, a value the database
//!   refuses), so no constraint of the schema surfaces as a server error.
//!
//! Optimistic concurrency: restaurants, table types and tables carry a `version`, bumped by
//! every update, which the API shows as the `ETag`. A write names the versions it may apply to
//! (`If-Match`), `None` meaning any. It locks the row, compares, and updates with
//! `WHERE id = $1 AND version = $2`, so two writers can never both win.
//!
//! Inventory rows are only ever changed on the restaurant's serial lane: a write that changes
//! the count of active tables or the overbooking percentage queues
//! [`Command::SyncInventory`] in its own transaction, and a forced deletion queues a
//! [`Command::Cancel`] for each upcoming reservation, so nothing is lost if the process dies.

mod rates;
mod refusal;
mod restaurants;
mod table_types;
mod tables;

use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::{outbound, Store};
use crate::messages::Command;
use crate::{Result, Status};
use refusal::refusal_of;

pub use rates::Rate;
pub use refusal::CatalogRefusal;
pub use tables::DiningTable;

/// What a staff write returns: the outer error is the store's ([`crate::Error`]), the inner one
/// the caller's.
pub type Written<T> = Result<Result<T, CatalogRefusal>>;

/// What a deletion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// Upcoming reservations whose cancellation (with a full refund) was queued.
    pub canceled: Vec<Uuid>,
}

/// The reservations that hold a restaurant's tables, or will: deleting the catalog under them
/// needs their cancellation.
const BOOKED: [Status; 2] = [Status::Held, Status::Confirmed];
/// Everything that has or may get inventory on the slot grid: a new slot length would not
/// match it.
const ON_THE_GRID: [Status; 3] = [Status::Pending, Status::Held, Status::Confirmed];

impl Store {
    /// Commits when the write went through; otherwise rolls back (by dropping the transaction)
    /// and turns a constraint violation into the refusal it means.
    /// Intake's recent catalog forgets everything once a write is committed.
    async fn finish<T>(
        &self,
        tx: Transaction<'static, Postgres>,
        result: Written<T>,
    ) -> Written<T> {
        let result = match result {
            Err(crate::Error::Database(error)) => match refusal_of(&error) {
                Some(refusal) => return Ok(Err(refusal)),
                None => return Err(error.into()),
            },
            Err(error) => return Err(error),
            Ok(result) => result,
        };
        if result.is_ok() {
            tx.commit().await?;
            self.recent.forget_all();
        }
        Ok(result)
    }
}

/// Soft-deletes a table type, or a restaurant with all its types (`table_type_id` `None`),
/// after refusing while upcoming reservations are held or confirmed, unless `force`, which
/// queues their cancellation with a full refund in the same transaction.
pub(super) async fn soft_delete(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    table_type_id: Option<Uuid>,
    force: bool,
    actor: &str,
) -> Result<Result<Deleted, CatalogRefusal>> {
    let booked = upcoming_reservations(conn, restaurant_id, table_type_id, &BOOKED).await?;
    if !booked.is_empty() && !force {
        return Ok(Err(CatalogRefusal::StillBooked {
            what: match table_type_id {
                Some(id) => format!("table type {id}"),
                None => format!("restaurant {restaurant_id}"),
            },
            count: booked.len(),
        }));
    }
    cancel_all(conn, restaurant_id, &booked, actor).await?;
    if table_type_id.is_none() {
        sqlx::query!(
            "UPDATE restaurant SET deleted_at = now(), version = version + 1, updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL",
            restaurant_id,
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "UPDATE table_type SET deleted_at = now(), version = version + 1, updated_at = now()
         WHERE restaurant_id = $1 AND ($2::uuid IS NULL OR id = $2) AND deleted_at IS NULL",
        restaurant_id,
        table_type_id,
    )
    .execute(&mut *conn)
    .await?;
    Ok(Ok(Deleted { canceled: booked }))
}

/// The reservations of a restaurant (or one of its table types) in one of `statuses` that
/// have not ended yet in the restaurant's local time, soonest first.
pub(super) async fn upcoming_reservations(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    table_type_id: Option<Uuid>,
    statuses: &[Status],
) -> Result<Vec<Uuid>> {
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    Ok(sqlx::query_scalar!(
        "SELECT r.id FROM reservation r JOIN restaurant rest ON rest.id = r.restaurant_id
         WHERE r.restaurant_id = $1 AND ($2::uuid IS NULL OR r.table_type_id = $2)
           AND r.status = ANY($3)
           AND r.service_date + r.start_time + make_interval(mins => r.duration_minutes)
               > (now() AT TIME ZONE rest.time_zone)
         ORDER BY r.service_date, r.start_time, r.id",
        restaurant_id,
        table_type_id,
        &statuses as _,
    )
    .fetch_all(conn)
    .await?)
}

/// Queues the cancellation, with a full refund, of each reservation on the restaurant's lane.
async fn cancel_all(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    reservations: &[Uuid],
    actor: &str,
) -> Result<()> {
    for &reservation_id in reservations {
        outbound::enqueue_command(
            conn,
            restaurant_id,
            Command::Cancel {
                reservation_id,
                actor: actor.to_owned(),
                full_refund: true,
                requested_at: Some(chrono::Utc::now()),
            },
            std::time::Duration::ZERO,
        )
        .await?;
    }
    Ok(())
}

/// Asks the restaurant's lane to recount its future inventory once this transaction commits.
pub(super) async fn sync_inventory_later(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
) -> Result<()> {
    outbound::enqueue_command(
        conn,
        restaurant_id,
        Command::SyncInventory,
        std::time::Duration::ZERO,
    )
    .await
}
