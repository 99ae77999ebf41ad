//! The PostgreSQL store.
//!
//! - this file: the store handle and catalog reads;
//! - [`availability`]: what a party can book on a date, read for the pure computation;
//! - [`search`]: restaurants near a point or in a city with a table around a time;
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
//! - [`retry_key`]: the key that lets a retry be handed the access token again;
//! - [`recent`]: the catalog as intake checks requests against it, read at most seconds ago;
//! - [`inventory`]: inventory rows brought in line after staff change tables or overbooking;
//! - [`webhook_endpoints`]: the endpoints staff register for a restaurant;
//! - [`seating`]: the physical tables a party sits at, and the floor view;
//! - [`waitlist`]: diners waiting for a sold-out slot, and the offers of freed tables;
//! - [`book_panel`]: the admin panel's day's book and a reservation's detail;
//! - [`webhook_deliveries`]: the record of webhook delivery attempts;
//! - [`notifications`]: emails to diners, queued with the transitions that cause them, timed
//!   ones swept to the outbox when due, claimed once by the sender;
//! - [`rows`]: rows as the queries read them, where a read model is not shaped like its table.
//!
//! Every statement is a `sqlx::query!` macro, checked against the schema at build time (the
//! `.sqlx/` data at the workspace root stands in for the database; `scripts/sqlx-prepare.sh`
//! refreshes it). An array of borrowed or optional strings is bound `as _`: the macros' type
//! check only knows `&[String]`, and PostgreSQL still checks the array's type.

mod availability;
mod book_panel;
mod catalog_writes;
mod decision;
mod guest_history;
mod guest_limit;
mod guest_notes;
mod guest_sign_in;
mod intake;
mod inventory;
mod lifecycle;
mod modification;
mod notifications;
pub mod operations_panel;
mod outbound;
mod pace;
mod payments;
mod queue;
mod recent;
mod restaurants_panel;
mod retry_key;
mod rows;
mod search;
mod seating;
mod slot_covers;
mod staff;
mod transition;
mod waitlist;
mod webhook_deliveries;
mod webhook_endpoints;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{OpeningInterval, Restaurant, Result, TableType};
pub(crate) use rows::ReservationRow;
use rows::{RestaurantRow, RulesJson};

pub use book_panel::WaitingWebhook;
pub use catalog_writes::{CatalogRefusal, Deleted, DiningTable, Rate, Written};
pub use decision::{DecidedBatch, Decision, DecisionPolicy};
pub use guest_limit::GuestBookings;
pub use guest_notes::GuestNote;
pub use intake::{OutboxClaim, Recorded};
pub use inventory::InventorySync;
pub use lifecycle::{Refusal, ReservationEvent, Settled};
pub use modification::{ChangeOutcome, ReservationChange};
pub use notifications::{NotificationClaim, NotificationRecord};
pub use outbound::{Destination, OutboundClaim, OutboundMessage};
pub use payments::{Payment, PaymentKind, PaymentOutcome, PaymentStatus};
pub use recent::FRESH_FOR as CATALOG_FRESH_FOR;
pub use seating::{FloorTable, FreeTable, Seating, TableOptions, TableState, EARLIEST_SEATING};
pub use staff::SignInAccount;
pub use waitlist::Joined;
pub use webhook_deliveries::{DeliveryOutcome, NewWebhookDelivery, WebhookDelivery};
pub use webhook_endpoints::WebhookEndpoint;

/// The store: a connection pool and the queries. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
    recent: std::sync::Arc<recent::RecentCatalog>,
    /// When the reminders and the hold's warning of the reservations this store confirms and
    /// holds go out.
    notification_plan: std::sync::Arc<crate::NotificationPlan>,
}

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            recent: std::sync::Arc::default(),
            notification_plan: std::sync::Arc::default(),
        }
    }

    /// This store, scheduling timed notifications by `plan` (the default is 24 h and 2 h
    /// reminders and a warning 3 minutes before a hold expires).
    #[must_use]
    pub fn with_notification_plan(mut self, plan: crate::NotificationPlan) -> Self {
        self.notification_plan = std::sync::Arc::new(plan);
        self
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
        let rows = sqlx::query_as!(
            RestaurantRow,
            r#"SELECT id, name, address, city, latitude, longitude, time_zone, slot_minutes,
                    default_duration_minutes, overbooking_pct, booking_horizon_days,
                    refund_window_hours, prepayment_required, no_show_fee_cents,
                    late_cancellation_fee, version,
                    booking_rules AS "booking_rules: RulesJson"
             FROM restaurant
             WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2"#,
            after,
            limit,
        )
        .fetch_all(&self.pool)
        .await?;
        with_hours(&mut *self.pool.acquire().await?, rows).await
    }

    /// The table types of a restaurant, by name.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn table_types(&self, restaurant_id: Uuid) -> Result<Vec<TableType>> {
        // Live table types only, here and below; `tables` counts the active ones.
        Ok(sqlx::query_as!(
            TableType,
            r#"SELECT t.id, t.restaurant_id, t.name, t.seats_min, t.seats_max,
                      t.base_price_cents, t.currency, t.version,
                      (SELECT count(*) FROM dining_table d
                        WHERE d.table_type_id = t.id AND d.active) AS "tables!"
               FROM table_type t
               WHERE t.deleted_at IS NULL AND t.restaurant_id = $1 ORDER BY t.name"#,
            restaurant_id,
        )
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
    load_restaurant_where(conn, id, false).await
}

/// A restaurant even if it was deleted: its reservations still need its time zone and policy.
pub(crate) async fn load_restaurant_including_deleted(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Restaurant>> {
    load_restaurant_where(conn, id, true).await
}

async fn load_restaurant_where(
    conn: &mut PgConnection,
    id: Uuid,
    including_deleted: bool,
) -> Result<Option<Restaurant>> {
    let Some(row) = sqlx::query_as!(
        RestaurantRow,
        r#"SELECT id, name, address, city, latitude, longitude, time_zone, slot_minutes,
                default_duration_minutes, overbooking_pct, booking_horizon_days,
                refund_window_hours, prepayment_required, no_show_fee_cents,
                    late_cancellation_fee, version,
                    booking_rules AS "booking_rules: RulesJson"
         FROM restaurant WHERE id = $1 AND ($2 OR deleted_at IS NULL)"#,
        id,
        including_deleted,
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let hours = sqlx::query_as!(
        OpeningInterval,
        "SELECT weekday, opens_at, closes_at FROM opening_hours
         WHERE restaurant_id = $1 ORDER BY weekday, opens_at",
        id,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(row.with_hours(hours)))
}

/// Live restaurants by id, with their opening hours, in two statements however many.
pub(crate) async fn load_restaurants(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Restaurant>> {
    let rows = sqlx::query_as!(
        RestaurantRow,
        r#"SELECT id, name, address, city, latitude, longitude, time_zone, slot_minutes,
                default_duration_minutes, overbooking_pct, booking_horizon_days,
                refund_window_hours, prepayment_required, no_show_fee_cents,
                    late_cancellation_fee, version,
                    booking_rules AS "booking_rules: RulesJson"
         FROM restaurant WHERE id = ANY($1) AND deleted_at IS NULL"#,
        ids,
    )
    .fetch_all(&mut *conn)
    .await?;
    with_hours(conn, rows).await
}

/// The restaurants of `rows` with their opening hours, read in one statement.
async fn with_hours(conn: &mut PgConnection, rows: Vec<RestaurantRow>) -> Result<Vec<Restaurant>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let hours = sqlx::query!(
        "SELECT restaurant_id, weekday, opens_at, closes_at FROM opening_hours
         WHERE restaurant_id = ANY($1) ORDER BY weekday, opens_at",
        &ids,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let opening_hours = hours
                .iter()
                .filter(|hour| hour.restaurant_id == row.id)
                .map(|hour| OpeningInterval {
                    weekday: hour.weekday,
                    opens_at: hour.opens_at,
                    closes_at: hour.closes_at,
                })
                .collect();
            row.with_hours(opening_hours)
        })
        .collect())
}

/// Live table types by id.
pub(crate) async fn load_table_types(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<TableType>> {
    Ok(sqlx::query_as!(
        TableType,
        r#"SELECT t.id, t.restaurant_id, t.name, t.seats_min, t.seats_max,
                  t.base_price_cents, t.currency, t.version,
                  (SELECT count(*) FROM dining_table d
                    WHERE d.table_type_id = t.id AND d.active) AS "tables!"
           FROM table_type t
           WHERE t.deleted_at IS NULL AND t.id = ANY($1)"#,
        ids,
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) async fn load_table_type(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    table_type_id: Uuid,
) -> Result<Option<TableType>> {
    Ok(sqlx::query_as!(
        TableType,
        r#"SELECT t.id, t.restaurant_id, t.name, t.seats_min, t.seats_max,
                  t.base_price_cents, t.currency, t.version,
                  (SELECT count(*) FROM dining_table d
                    WHERE d.table_type_id = t.id AND d.active) AS "tables!"
           FROM table_type t
           WHERE t.deleted_at IS NULL AND t.restaurant_id = $1 AND t.id = $2"#,
        restaurant_id,
        table_type_id,
    )
    .fetch_optional(conn)
    .await?)
}
