//! The PostgreSQL store.
//!
//! - this file: the store handle and catalog reads;
//! - [`availability`]: what a party can book on a date, read for the pure computation;
//! - [`intake`]: recording a request as `pending`, and the outbox that guarantees its command
//!   reaches the broker;
//! - [`decision`]: the serial decision that reserves inventory, one transaction per run of
//!   consecutive commands;
//! - [`transition`]: the one way a reservation changes state, with its event and webhooks;
//! - [`lifecycle`]: payment outcomes, hold expiry, cancellation and staff transitions;
//! - [`payments`]: charge and refund rows;
//! - [`guest_history`]: a guest's reservations, newest first;
//! - [`outbound`]: the outbox of follow-up messages that transitions send;
//! - [`pace`]: the workers' time per command, for estimated waits;
//! - [`recent`]: the catalog as intake checks requests against it, read at most seconds ago;
//! - [`inventory`]: inventory rows brought in line after staff change tables or overbooking;
//! - [`webhook_endpoints`]: the endpoints staff register for a restaurant.

mod availability;
mod catalog_writes;
mod decision;
mod guest_history;
mod intake;
mod inventory;
mod lifecycle;
mod outbound;
mod pace;
mod payments;
mod recent;
mod transition;
mod webhook_endpoints;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{OpeningInterval, Restaurant, TableType};

use crate::Result;
pub use catalog_writes::{CatalogRefusal, Deleted, DiningTable, Rate, Written};
pub use decision::{DecidedBatch, Decision, DecisionPolicy};
pub use intake::{OutboxClaim, Recorded};
pub use inventory::InventorySync;
pub use lifecycle::{Refusal, ReservationEvent, Settled};
pub use outbound::{Destination, OutboundClaim, OutboundMessage};
pub use payments::{Payment, PaymentKind, PaymentOutcome, PaymentStatus};
pub use recent::FRESH_FOR as CATALOG_FRESH_FOR;
pub use webhook_endpoints::WebhookEndpoint;

/// The store: a connection pool and the queries. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
    recent: std::sync::Arc<recent::RecentCatalog>,
}

const RESTAURANT_COLUMNS: &str =
    "id, name, address, latitude, longitude, time_zone, slot_minutes, \
     default_duration_minutes, overbooking_pct, booking_horizon_days, refund_window_hours, \
     prepayment_required, version";

pub(crate) const RESERVATION_COLUMNS: &str = "id, restaurant_id, table_type_id, table_count, \
     party_size, service_date, start_time, duration_minutes, guest_name, guest_email, \
     guest_phone, status, reason, price_cents, currency, hold_expires_at, callback_url, \
     payment_token, created_at, updated_at";

/// Live table types only: every query adds its conditions after `t.deleted_at IS NULL`.
const TABLE_TYPE_SELECT: &str = "SELECT t.id, t.restaurant_id, t.name, t.seats_min, t.seats_max, \
     t.base_price_cents, t.currency, t.version, \
     (SELECT count(*) FROM dining_table d WHERE d.table_type_id = t.id AND d.active) AS tables \
     FROM table_type t WHERE t.deleted_at IS NULL";

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            recent: std::sync::Arc::default(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// One restaurant with its opening hours.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn restaurant(&self, id: Uuid) -> Result<Option<Restaurant>> {
        load_restaurant(&mut *self.pool.acquire().await?, id).await
    }

    /// A page of restaurants in id order, starting after `after`.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn restaurants(&self, after: Option<Uuid>, limit: i64) -> Result<Vec<Restaurant>> {
        let query = format!(
            "SELECT {RESTAURANT_COLUMNS} FROM restaurant \
             WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2"
        );
        let mut restaurants = sqlx::query_as::<_, Restaurant>(&query)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        attach_hours(&mut *self.pool.acquire().await?, &mut restaurants).await?;
        Ok(restaurants)
    }

    /// The table types of a restaurant, by name.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn table_types(&self, restaurant_id: Uuid) -> Result<Vec<TableType>> {
        Ok(sqlx::query_as(&format!(
            "{TABLE_TYPE_SELECT} AND t.restaurant_id = $1 ORDER BY t.name"
        ))
        .bind(restaurant_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One table type, only if it belongs to the restaurant.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn table_type(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
    ) -> Result<Option<TableType>> {
        load_table_type(
            &mut *self.pool.acquire().await?,
            restaurant_id,
            table_type_id,
        )
        .await
    }
}

/// Reads on a given connection, so the decision can make them inside its transaction without
/// asking the pool for a second connection. A deleted restaurant is not found.
pub(crate) async fn load_restaurant(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Restaurant>> {
    load_restaurant_where(conn, id, "AND deleted_at IS NULL").await
}

/// A restaurant even if it was deleted: its reservations still need its time zone and policy.
pub(crate) async fn load_restaurant_including_deleted(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Restaurant>> {
    load_restaurant_where(conn, id, "").await
}

async fn load_restaurant_where(
    conn: &mut PgConnection,
    id: Uuid,
    condition: &str,
) -> Result<Option<Restaurant>> {
    let query = format!("SELECT {RESTAURANT_COLUMNS} FROM restaurant WHERE id = $1 {condition}");
    let Some(mut restaurant) = sqlx::query_as::<_, Restaurant>(&query)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    restaurant.opening_hours = sqlx::query_as(
        "SELECT weekday, opens_at, closes_at FROM opening_hours \
         WHERE restaurant_id = $1 ORDER BY weekday, opens_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(restaurant))
}

/// Live restaurants by id, with their opening hours, in two statements however many.
pub(crate) async fn load_restaurants(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Restaurant>> {
    let mut restaurants = sqlx::query_as::<_, Restaurant>(&format!(
        "SELECT {RESTAURANT_COLUMNS} FROM restaurant WHERE id = ANY($1) AND deleted_at IS NULL"
    ))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    attach_hours(conn, &mut restaurants).await?;
    Ok(restaurants)
}

async fn attach_hours(conn: &mut PgConnection, restaurants: &mut [Restaurant]) -> Result<()> {
    let ids: Vec<Uuid> = restaurants.iter().map(|r| r.id).collect();
    let hours: Vec<HoursRow> = sqlx::query_as(
        "SELECT restaurant_id, weekday, opens_at, closes_at FROM opening_hours \
         WHERE restaurant_id = ANY($1) ORDER BY weekday, opens_at",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    for restaurant in restaurants {
        restaurant.opening_hours = hours
            .iter()
            .filter(|row| row.restaurant_id == restaurant.id)
            .map(|row| row.interval.clone())
            .collect();
    }
    Ok(())
}

/// Live table types by id.
pub(crate) async fn load_table_types(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<TableType>> {
    Ok(
        sqlx::query_as(&format!("{TABLE_TYPE_SELECT} AND t.id = ANY($1)"))
            .bind(ids)
            .fetch_all(conn)
            .await?,
    )
}

pub(crate) async fn load_table_type(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    table_type_id: Uuid,
) -> Result<Option<TableType>> {
    Ok(sqlx::query_as(&format!(
        "{TABLE_TYPE_SELECT} AND t.restaurant_id = $1 AND t.id = $2"
    ))
    .bind(restaurant_id)
    .bind(table_type_id)
    .fetch_optional(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct HoursRow {
    restaurant_id: Uuid,
    #[sqlx(flatten)]
    interval: OpeningInterval,
}
