//! Writing the catalog: restaurants, table types, tables and rates.
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

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::{outbound, Store};
use crate::catalog_forms::{
    DateRange, InitialTables, RatesDraft, RestaurantDraft, TableDraft, TableTypeDraft,
};
use crate::messages::Command;
use crate::{Invalid, Restaurant, Status, TableType};

/// Why a staff write to the catalog was refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogRefusal {
    /// The row (or the restaurant or table type it belongs to) does not exist or was deleted.
    #[error("{0}")]
    NotFound(String),
    /// The row's version is not among those the write was made for: someone else changed it.
    #[error("{what} has changed since it was read: its version is now {current}")]
    Stale { what: &'static str, current: i32 },
    /// Upcoming reservations would be left without their restaurant or table type; forcing
    /// the deletion cancels them.
    #[error("{what} has {count} upcoming held or confirmed reservations")]
    StillBooked { what: String, count: usize },
    /// The write contradicts another row or the state of the restaurant.
    #[error("{0}")]
    Conflict(String),
    /// A value the database refuses (a CHECK the parsing did not foresee).
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// What a staff write returns: the outer error is the database's, the inner one the caller's.
pub type Written<T> = sqlx::Result<Result<T, CatalogRefusal>>;

/// What a deletion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// Upcoming reservations whose cancellation (with a full refund) was queued.
    pub canceled: Vec<Uuid>,
}

/// A physical table of a table type.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiningTable {
    pub id: Uuid,
    pub table_type_id: Uuid,
    pub label: String,
    /// The floor or room; may be empty.
    pub area: String,
    /// In service: active tables are the type's inventory.
    pub active: bool,
    /// Bumped by every update; the `ETag` of the table.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The price of a table type on one date; dates without a rate take the base price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    #[schema(value_type = String, format = Date, example = "2026-12-24")]
    pub date: NaiveDate,
    pub price_cents: i64,
}

const DINING_TABLE_COLUMNS: &str =
    "id, table_type_id, label, area, active, version, created_at, updated_at";

/// The reservations that hold a restaurant's tables, or will: deleting the catalog under them
/// needs their cancellation.
const BOOKED: [Status; 2] = [Status::Held, Status::Confirmed];
/// Everything that has or may get inventory on the slot grid: a new slot length would not
/// match it.
const ON_THE_GRID: [Status; 3] = [Status::Pending, Status::Held, Status::Confirmed];

impl Store {
    /// Inserts a restaurant with its opening hours. Returns whether it was new.
    ///
    /// # Errors
    /// On a database error, including a CHECK that refuses a value.
    pub async fn insert_restaurant(&self, restaurant: &Restaurant) -> sqlx::Result<bool> {
        let mut tx = self.pool.begin().await?;
        let inserted = insert_restaurant_rows(&mut tx, restaurant).await?;
        tx.commit().await?;
        self.recent.forget_all();
        Ok(inserted)
    }

    /// Inserts a table type and `tables` active tables of it, labelled `{prefix}1`,
    /// `{prefix}2`, …
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_table_type(
        &self,
        table_type: &TableType,
        tables: u32,
        label_prefix: &str,
    ) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_table_type_rows(&mut tx, table_type, tables, label_prefix).await?;
        tx.commit().await?;
        self.recent.forget_all();
        Ok(())
    }

    /// Sets the price of a table type for every date in `from..=to`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn set_rates(
        &self,
        table_type_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        price_cents: i64,
    ) -> sqlx::Result<()> {
        upsert_rates(
            &mut *self.pool.acquire().await?,
            table_type_id,
            from,
            to,
            price_cents,
        )
        .await?;
        Ok(())
    }

    /// Creates a restaurant with the id given. Returns it as stored.
    ///
    /// # Errors
    /// On a database error; a refusal for an id that exists or a value the database refuses.
    #[tracing::instrument(skip(self, draft))]
    pub async fn create_restaurant(
        &self,
        id: Uuid,
        draft: &RestaurantDraft,
    ) -> Written<Restaurant> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            if !insert_restaurant_rows(&mut tx, &draft.to_restaurant(id, 1)).await? {
                return Ok(Err(CatalogRefusal::Conflict(format!(
                    "a restaurant with the id {id} exists already"
                ))));
            }
            reloaded_restaurant(&mut tx, id).await
        }
        .await;
        self.finish(tx, result).await
    }

    /// Replaces a restaurant's fields and opening hours. A new overbooking percentage queues
    /// an inventory sync; a new slot length is refused while upcoming reservations sit on the
    /// current slot grid.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing or stale restaurant or a conflict.
    #[tracing::instrument(skip(self, draft))]
    pub async fn replace_restaurant(
        &self,
        id: Uuid,
        expected: Option<&[i32]>,
        draft: &RestaurantDraft,
    ) -> Written<Restaurant> {
        let mut tx = self.pool.begin().await?;
        let result = replace_restaurant_in(&mut tx, id, expected, draft).await;
        self.finish(tx, result).await
    }

    /// Deletes a restaurant and its table types (softly: reservations refer to them). Refused
    /// while upcoming reservations are held or confirmed, unless `force`, which queues their
    /// cancellation with a full refund. Pending requests are rejected by the worker, which no
    /// longer finds the restaurant.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing, stale or still booked restaurant.
    #[tracing::instrument(skip(self))]
    pub async fn delete_restaurant(
        &self,
        id: Uuid,
        expected: Option<&[i32]>,
        force: bool,
        actor: &str,
    ) -> Written<Deleted> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some(current) = lock_restaurant(&mut tx, id).await? else {
                return Ok(Err(no_restaurant(id)));
            };
            if let Err(stale) = check_version("the restaurant", current.version, expected) {
                return Ok(Err(stale));
            }
            soft_delete(&mut tx, id, None, force, actor).await
        }
        .await;
        self.finish(tx, result).await
    }

    /// Creates a table type with its first tables.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing restaurant or a name in use.
    #[tracing::instrument(skip(self, draft))]
    pub async fn create_table_type(
        &self,
        restaurant_id: Uuid,
        id: Uuid,
        draft: &TableTypeDraft,
        tables: &InitialTables,
    ) -> Written<TableType> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let live: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM restaurant WHERE id = $1 AND deleted_at IS NULL FOR SHARE",
            )
            .bind(restaurant_id)
            .fetch_optional(&mut *tx)
            .await?;
            if live.is_none() {
                return Ok(Err(no_restaurant(restaurant_id)));
            }
            if let Err(taken) = check_type_name(&mut tx, restaurant_id, None, draft).await? {
                return Ok(Err(taken));
            }
            let table_type = TableType {
                id,
                restaurant_id,
                name: draft.name.as_str().to_owned(),
                seats_min: draft.seats_min,
                seats_max: draft.seats_max,
                base_price_cents: draft.base_price.get(),
                currency: draft.currency.code().to_owned(),
                tables: 0,
                version: 1,
            };
            if !insert_table_type_rows(&mut tx, &table_type, tables.count, &tables.label_prefix)
                .await?
            {
                return Ok(Err(CatalogRefusal::Conflict(format!(
                    "a table type with the id {id} exists already"
                ))));
            }
            reloaded_table_type(&mut tx, restaurant_id, id).await
        }
        .await;
        self.finish(tx, result).await
    }

    /// Replaces a table type's fields (not its tables).
    ///
    /// # Errors
    /// On a database error; a refusal for a missing or stale type or a name in use.
    #[tracing::instrument(skip(self, draft))]
    pub async fn replace_table_type(
        &self,
        restaurant_id: Uuid,
        id: Uuid,
        expected: Option<&[i32]>,
        draft: &TableTypeDraft,
    ) -> Written<TableType> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some(current) = lock_table_type(&mut tx, restaurant_id, id).await? else {
                return Ok(Err(no_table_type(restaurant_id, id)));
            };
            if let Err(stale) = check_version("the table type", current, expected) {
                return Ok(Err(stale));
            }
            if let Err(taken) = check_type_name(&mut tx, restaurant_id, Some(id), draft).await? {
                return Ok(Err(taken));
            }
            let updated = sqlx::query(
                "UPDATE table_type SET name = $3, seats_min = $4, seats_max = $5,
                     base_price_cents = $6, currency = $7,
                     version = version + 1, updated_at = now()
                 WHERE id = $1 AND version = $2 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(current)
            .bind(draft.name.as_str())
            .bind(draft.seats_min)
            .bind(draft.seats_max)
            .bind(draft.base_price.get())
            .bind(draft.currency.code())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Ok(Err(CatalogRefusal::Stale {
                    what: "the table type",
                    current,
                }));
            }
            reloaded_table_type(&mut tx, restaurant_id, id).await
        }
        .await;
        self.finish(tx, result).await
    }

    /// Deletes a table type (softly). Refused while upcoming reservations of it are held or
    /// confirmed, unless `force`, which queues their cancellation with a full refund.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing, stale or still booked type.
    #[tracing::instrument(skip(self))]
    pub async fn delete_table_type(
        &self,
        restaurant_id: Uuid,
        id: Uuid,
        expected: Option<&[i32]>,
        force: bool,
        actor: &str,
    ) -> Written<Deleted> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some(current) = lock_table_type(&mut tx, restaurant_id, id).await? else {
                return Ok(Err(no_table_type(restaurant_id, id)));
            };
            if let Err(stale) = check_version("the table type", current, expected) {
                return Ok(Err(stale));
            }
            soft_delete(&mut tx, restaurant_id, Some(id), force, actor).await
        }
        .await;
        self.finish(tx, result).await
    }

    /// A page of a table type's tables in id order, after `after`.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type.
    #[tracing::instrument(skip(self))]
    pub async fn dining_tables(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Written<Vec<DiningTable>> {
        let mut conn = self.pool.acquire().await?;
        if !table_type_is_live(&mut conn, restaurant_id, table_type_id, false).await? {
            return Ok(Err(no_table_type(restaurant_id, table_type_id)));
        }
        let tables = sqlx::query_as(&format!(
            "SELECT {DINING_TABLE_COLUMNS} FROM dining_table
             WHERE table_type_id = $1 AND ($2::uuid IS NULL OR id > $2)
             ORDER BY id LIMIT $3"
        ))
        .bind(table_type_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        Ok(Ok(tables))
    }

    /// One table, only if its table type and restaurant are the ones named and live.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn dining_table(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        id: Uuid,
    ) -> sqlx::Result<Option<DiningTable>> {
        let mut conn = self.pool.acquire().await?;
        if !table_type_is_live(&mut conn, restaurant_id, table_type_id, false).await? {
            return Ok(None);
        }
        load_dining_table(&mut conn, table_type_id, id).await
    }

    /// Adds a table to a table type. An active one queues an inventory sync.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type or a label in use.
    #[tracing::instrument(skip(self, draft))]
    pub async fn create_dining_table(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        id: Uuid,
        draft: &TableDraft,
    ) -> Written<DiningTable> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            if !table_type_is_live(&mut tx, restaurant_id, table_type_id, true).await? {
                return Ok(Err(no_table_type(restaurant_id, table_type_id)));
            }
            if let Err(taken) = check_label(&mut tx, table_type_id, None, draft).await? {
                return Ok(Err(taken));
            }
            let table: DiningTable = sqlx::query_as(&format!(
                "INSERT INTO dining_table (id, table_type_id, label, area, active)
                 VALUES ($1, $2, $3, $4, $5)
                 RETURNING {DINING_TABLE_COLUMNS}"
            ))
            .bind(id)
            .bind(table_type_id)
            .bind(draft.label.as_str())
            .bind(&draft.area)
            .bind(draft.active)
            .fetch_one(&mut *tx)
            .await?;
            if table.active {
                sync_inventory_later(&mut tx, restaurant_id).await?;
            }
            Ok(Ok(table))
        }
        .await;
        self.finish(tx, result).await
    }

    /// Replaces a table's label, area and active flag. Putting it in or out of service queues
    /// an inventory sync.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing or stale table or a label in use.
    #[tracing::instrument(skip(self, draft))]
    pub async fn replace_dining_table(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        id: Uuid,
        expected: Option<&[i32]>,
        draft: &TableDraft,
    ) -> Written<DiningTable> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some((current, was_active)) =
                lock_dining_table(&mut tx, restaurant_id, table_type_id, id).await?
            else {
                return Ok(Err(no_table(restaurant_id, table_type_id, id)));
            };
            if let Err(stale) = check_version("the table", current, expected) {
                return Ok(Err(stale));
            }
            if let Err(taken) = check_label(&mut tx, table_type_id, Some(id), draft).await? {
                return Ok(Err(taken));
            }
            let Some(table) = sqlx::query_as::<_, DiningTable>(&format!(
                "UPDATE dining_table SET label = $3, area = $4, active = $5,
                     version = version + 1, updated_at = now()
                 WHERE id = $1 AND version = $2
                 RETURNING {DINING_TABLE_COLUMNS}"
            ))
            .bind(id)
            .bind(current)
            .bind(draft.label.as_str())
            .bind(&draft.area)
            .bind(draft.active)
            .fetch_optional(&mut *tx)
            .await?
            else {
                return Ok(Err(CatalogRefusal::Stale {
                    what: "the table",
                    current,
                }));
            };
            if was_active != table.active {
                sync_inventory_later(&mut tx, restaurant_id).await?;
            }
            Ok(Ok(table))
        }
        .await;
        self.finish(tx, result).await
    }

    /// Removes a table for good (nothing refers to a physical table). Removing an active one
    /// queues an inventory sync.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing or stale table.
    #[tracing::instrument(skip(self))]
    pub async fn delete_dining_table(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        id: Uuid,
        expected: Option<&[i32]>,
    ) -> Written<()> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some((current, was_active)) =
                lock_dining_table(&mut tx, restaurant_id, table_type_id, id).await?
            else {
                return Ok(Err(no_table(restaurant_id, table_type_id, id)));
            };
            if let Err(stale) = check_version("the table", current, expected) {
                return Ok(Err(stale));
            }
            sqlx::query("DELETE FROM dining_table WHERE id = $1 AND version = $2")
                .bind(id)
                .bind(current)
                .execute(&mut *tx)
                .await?;
            if was_active {
                sync_inventory_later(&mut tx, restaurant_id).await?;
            }
            Ok(Ok(()))
        }
        .await;
        self.finish(tx, result).await
    }

    /// Sets one price for every date of a range. Returns the number of dates set.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type.
    #[tracing::instrument(skip(self))]
    pub async fn set_table_type_rates(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        rates: &RatesDraft,
    ) -> Written<u64> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            if !table_type_is_live(&mut tx, restaurant_id, table_type_id, true).await? {
                return Ok(Err(no_table_type(restaurant_id, table_type_id)));
            }
            let days = upsert_rates(
                &mut tx,
                table_type_id,
                rates.dates.from(),
                rates.dates.to(),
                rates.price.get(),
            )
            .await?;
            Ok(Ok(days))
        }
        .await;
        self.finish(tx, result).await
    }

    /// The rates set on the dates of a range, in date order.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type.
    #[tracing::instrument(skip(self))]
    pub async fn table_type_rates(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        dates: &DateRange,
    ) -> Written<Vec<Rate>> {
        let mut conn = self.pool.acquire().await?;
        if !table_type_is_live(&mut conn, restaurant_id, table_type_id, false).await? {
            return Ok(Err(no_table_type(restaurant_id, table_type_id)));
        }
        let rates = sqlx::query_as(
            "SELECT service_date AS date, price_cents FROM rate
             WHERE table_type_id = $1 AND service_date BETWEEN $2 AND $3
             ORDER BY service_date",
        )
        .bind(table_type_id)
        .bind(dates.from())
        .bind(dates.to())
        .fetch_all(&mut *conn)
        .await?;
        Ok(Ok(rates))
    }

    /// Returns the dates of a range to the base price. Returns how many rates were removed.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type.
    #[tracing::instrument(skip(self))]
    pub async fn clear_table_type_rates(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        dates: &DateRange,
    ) -> Written<u64> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            if !table_type_is_live(&mut tx, restaurant_id, table_type_id, true).await? {
                return Ok(Err(no_table_type(restaurant_id, table_type_id)));
            }
            let removed = sqlx::query(
                "DELETE FROM rate WHERE table_type_id = $1 AND service_date BETWEEN $2 AND $3",
            )
            .bind(table_type_id)
            .bind(dates.from())
            .bind(dates.to())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok(Ok(removed))
        }
        .await;
        self.finish(tx, result).await
    }
}

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
            Err(error) => match refusal_of(&error) {
                Some(refusal) => return Ok(Err(refusal)),
                None => return Err(error),
            },
            Ok(result) => result,
        };
        if result.is_ok() {
            tx.commit().await?;
            self.recent.forget_all();
        }
        Ok(result)
    }
}

/// The refusal a database error stands for, when it is about the data rather than the
/// database: the parsing should have caught it, but the schema has the last word.
fn refusal_of(error: &sqlx::Error) -> Option<CatalogRefusal> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    let constraint = db.constraint().unwrap_or_default();
    match db.code()?.as_ref() {
        // unique_violation
        "23505" => Some(CatalogRefusal::Conflict(
            match constraint {
                "table_type_live_name" => {
                    "another table type of this restaurant already has this name"
                }
                "dining_table_table_type_id_label_key" => {
                    "another table of this table type already has this label"
                }
                "opening_hours_pkey" => "two opening intervals of one weekday open at once",
                _ => "this conflicts with an existing record",
            }
            .into(),
        )),
        // check_violation
        "23514" => Some(CatalogRefusal::Invalid(Invalid::new(
            field_of_check(constraint),
            "is outside the range the catalog allows",
        ))),
        // foreign_key_violation: what it refers to was removed meanwhile
        "23503" => Some(CatalogRefusal::NotFound(
            "a record this refers to no longer exists".into(),
        )),
        // string too long, numeric out of range, untranslatable or invalid characters
        "22001" | "22003" | "22P05" | "22021" => Some(CatalogRefusal::Invalid(Invalid::new(
            "body",
            "holds a value the database cannot store",
        ))),
        _ => None,
    }
}

/// The request field a CHECK constraint of the schema guards.
fn field_of_check(constraint: &str) -> &'static str {
    match constraint {
        "restaurant_name_check" | "table_type_name_check" => "name",
        "restaurant_latitude_check" => "latitude",
        "restaurant_longitude_check" => "longitude",
        "restaurant_slot_minutes_check" => "slotMinutes",
        "restaurant_default_duration_minutes_check" => "defaultDurationMinutes",
        "restaurant_overbooking_pct_check" => "overbookingPct",
        "restaurant_booking_horizon_days_check" => "bookingHorizonDays",
        "restaurant_refund_window_hours_check" => "refundWindowHours",
        "opening_hours_weekday_check" => "openingHours",
        "table_type_seats_min_check" => "seatsMin",
        "table_type_seats_max_check" => "seatsMax",
        "table_type_base_price_cents_check" => "basePriceCents",
        "table_type_currency_check" => "currency",
        "dining_table_label_check" => "label",
        "rate_price_cents_check" => "priceCents",
        _ => "body",
    }
}

fn check_version(
    what: &'static str,
    current: i32,
    expected: Option<&[i32]>,
) -> Result<(), CatalogRefusal> {
    match expected {
        Some(versions) if !versions.contains(&current) => {
            Err(CatalogRefusal::Stale { what, current })
        }
        _ => Ok(()),
    }
}

fn no_restaurant(id: Uuid) -> CatalogRefusal {
    CatalogRefusal::NotFound(format!("no restaurant has the id {id}"))
}

fn no_table_type(restaurant_id: Uuid, id: Uuid) -> CatalogRefusal {
    CatalogRefusal::NotFound(format!(
        "restaurant {restaurant_id} has no table type with the id {id}"
    ))
}

fn no_table(restaurant_id: Uuid, table_type_id: Uuid, id: Uuid) -> CatalogRefusal {
    CatalogRefusal::NotFound(format!(
        "table type {table_type_id} of restaurant {restaurant_id} has no table with the id {id}"
    ))
}

async fn insert_restaurant_rows(
    conn: &mut PgConnection,
    restaurant: &Restaurant,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO restaurant (id, name, address, latitude, longitude, time_zone,
             slot_minutes, default_duration_minutes, overbooking_pct, booking_horizon_days,
             refund_window_hours, prepayment_required)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(restaurant.id)
    .bind(&restaurant.name)
    .bind(&restaurant.address)
    .bind(restaurant.latitude)
    .bind(restaurant.longitude)
    .bind(&restaurant.time_zone)
    .bind(restaurant.slot_minutes)
    .bind(restaurant.default_duration_minutes)
    .bind(restaurant.overbooking_pct)
    .bind(restaurant.booking_horizon_days)
    .bind(restaurant.refund_window_hours)
    .bind(restaurant.prepayment_required)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        insert_opening_hours(conn, restaurant.id, &restaurant.opening_hours).await?;
    }
    Ok(inserted)
}

async fn insert_opening_hours(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    hours: &[crate::OpeningInterval],
) -> sqlx::Result<()> {
    let weekdays: Vec<i16> = hours.iter().map(|h| h.weekday).collect();
    let opens: Vec<chrono::NaiveTime> = hours.iter().map(|h| h.opens_at).collect();
    let closes: Vec<chrono::NaiveTime> = hours.iter().map(|h| h.closes_at).collect();
    sqlx::query(
        "INSERT INTO opening_hours (restaurant_id, weekday, opens_at, closes_at)
         SELECT $1, * FROM unnest($2::smallint[], $3::time[], $4::time[])",
    )
    .bind(restaurant_id)
    .bind(&weekdays)
    .bind(&opens)
    .bind(&closes)
    .execute(conn)
    .await?;
    Ok(())
}

async fn insert_table_type_rows(
    conn: &mut PgConnection,
    table_type: &TableType,
    tables: u32,
    label_prefix: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO table_type (id, restaurant_id, name, seats_min, seats_max,
             base_price_cents, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(table_type.id)
    .bind(table_type.restaurant_id)
    .bind(&table_type.name)
    .bind(table_type.seats_min)
    .bind(table_type.seats_max)
    .bind(table_type.base_price_cents)
    .bind(&table_type.currency)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted && tables > 0 {
        sqlx::query(
            "INSERT INTO dining_table (id, table_type_id, label)
             SELECT gen_random_uuid(), $1, $2 || n FROM generate_series(1, $3) AS n",
        )
        .bind(table_type.id)
        .bind(label_prefix)
        .bind(i64::from(tables))
        .execute(conn)
        .await?;
    }
    Ok(inserted)
}

async fn upsert_rates(
    conn: &mut PgConnection,
    table_type_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    price_cents: i64,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "INSERT INTO rate (table_type_id, service_date, price_cents)
         SELECT $1, d::date, $4 FROM generate_series($2::date, $3::date, '1 day') AS d
         ON CONFLICT (table_type_id, service_date) DO UPDATE SET price_cents = EXCLUDED.price_cents",
    )
    .bind(table_type_id)
    .bind(from)
    .bind(to)
    .bind(price_cents)
    .execute(conn)
    .await?
    .rows_affected())
}

/// What a restaurant update compares against, locked until the transaction ends. `NO KEY
/// UPDATE` lets bookings keep referring to the row meanwhile.
#[derive(sqlx::FromRow)]
struct RestaurantLock {
    version: i32,
    slot_minutes: i32,
    overbooking_pct: i32,
}

async fn lock_restaurant(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<RestaurantLock>> {
    sqlx::query_as(
        "SELECT version, slot_minutes, overbooking_pct FROM restaurant
         WHERE id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

async fn replace_restaurant_in(
    tx: &mut PgConnection,
    id: Uuid,
    expected: Option<&[i32]>,
    draft: &RestaurantDraft,
) -> Written<Restaurant> {
    let Some(current) = lock_restaurant(tx, id).await? else {
        return Ok(Err(no_restaurant(id)));
    };
    if let Err(stale) = check_version("the restaurant", current.version, expected) {
        return Ok(Err(stale));
    }
    let slot_minutes = draft.slot_minutes.get();
    if slot_minutes != current.slot_minutes {
        let on_grid = upcoming_reservations(tx, id, None, &ON_THE_GRID).await?;
        if !on_grid.is_empty() {
            return Ok(Err(CatalogRefusal::Conflict(format!(
                "slotMinutes cannot change from {} to {slot_minutes} while {} upcoming \
                 reservations (pending, held or confirmed) are booked on the current slots; \
                 cancel them or wait until they are past",
                current.slot_minutes,
                on_grid.len()
            ))));
        }
    }
    let restaurant = draft.to_restaurant(id, current.version + 1);
    let updated = sqlx::query(
        "UPDATE restaurant SET name = $3, address = $4, latitude = $5, longitude = $6,
             time_zone = $7, slot_minutes = $8, default_duration_minutes = $9,
             overbooking_pct = $10, booking_horizon_days = $11, refund_window_hours = $12,
             prepayment_required = $13, version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(current.version)
    .bind(&restaurant.name)
    .bind(&restaurant.address)
    .bind(restaurant.latitude)
    .bind(restaurant.longitude)
    .bind(&restaurant.time_zone)
    .bind(restaurant.slot_minutes)
    .bind(restaurant.default_duration_minutes)
    .bind(restaurant.overbooking_pct)
    .bind(restaurant.booking_horizon_days)
    .bind(restaurant.refund_window_hours)
    .bind(restaurant.prepayment_required)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Ok(Err(CatalogRefusal::Stale {
            what: "the restaurant",
            current: current.version,
        }));
    }
    sqlx::query("DELETE FROM opening_hours WHERE restaurant_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    insert_opening_hours(tx, id, &restaurant.opening_hours).await?;
    if restaurant.overbooking_pct != current.overbooking_pct {
        sync_inventory_later(tx, id).await?;
    }
    reloaded_restaurant(tx, id).await
}

async fn reloaded_restaurant(conn: &mut PgConnection, id: Uuid) -> Written<Restaurant> {
    Ok(super::load_restaurant(conn, id)
        .await?
        .ok_or_else(|| no_restaurant(id)))
}

async fn reloaded_table_type(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    id: Uuid,
) -> Written<TableType> {
    Ok(super::load_table_type(conn, restaurant_id, id)
        .await?
        .ok_or_else(|| no_table_type(restaurant_id, id)))
}

/// Locks a live table type of a live restaurant for an update; its version.
async fn lock_table_type(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "SELECT t.version FROM table_type t JOIN restaurant r ON r.id = t.restaurant_id
         WHERE t.id = $2 AND t.restaurant_id = $1
           AND t.deleted_at IS NULL AND r.deleted_at IS NULL
         FOR NO KEY UPDATE OF t",
    )
    .bind(restaurant_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Whether a table type is live and belongs to a live restaurant. With `hold`, it stays so
/// until the transaction ends: a concurrent deletion waits.
async fn table_type_is_live(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    id: Uuid,
    hold: bool,
) -> sqlx::Result<bool> {
    let query = format!(
        "SELECT 1 FROM table_type t JOIN restaurant r ON r.id = t.restaurant_id
         WHERE t.id = $2 AND t.restaurant_id = $1
           AND t.deleted_at IS NULL AND r.deleted_at IS NULL {}",
        if hold { "FOR SHARE OF t" } else { "" }
    );
    let found: Option<i32> = sqlx::query_scalar(&query)
        .bind(restaurant_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Locks a table of a live table type for an update; its version and active flag.
async fn lock_dining_table(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    table_type_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<(i32, bool)>> {
    if !table_type_is_live(conn, restaurant_id, table_type_id, true).await? {
        return Ok(None);
    }
    sqlx::query_as(
        "SELECT version, active FROM dining_table WHERE id = $1 AND table_type_id = $2
         FOR NO KEY UPDATE",
    )
    .bind(id)
    .bind(table_type_id)
    .fetch_optional(conn)
    .await
}

async fn load_dining_table(
    conn: &mut PgConnection,
    table_type_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<DiningTable>> {
    sqlx::query_as(&format!(
        "SELECT {DINING_TABLE_COLUMNS} FROM dining_table WHERE id = $1 AND table_type_id = $2"
    ))
    .bind(id)
    .bind(table_type_id)
    .fetch_optional(conn)
    .await
}

/// Refuses a name another live table type of the restaurant has. The unique index has the
/// last word in a race; this says which name.
async fn check_type_name(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    except: Option<Uuid>,
    draft: &TableTypeDraft,
) -> sqlx::Result<Result<(), CatalogRefusal>> {
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM table_type
             WHERE restaurant_id = $1 AND name = $2 AND deleted_at IS NULL
               AND ($3::uuid IS NULL OR id <> $3))",
    )
    .bind(restaurant_id)
    .bind(draft.name.as_str())
    .bind(except)
    .fetch_one(conn)
    .await?;
    Ok(if taken {
        Err(CatalogRefusal::Conflict(format!(
            "restaurant {restaurant_id} already has a table type named {:?}",
            draft.name.as_str()
        )))
    } else {
        Ok(())
    })
}

async fn check_label(
    conn: &mut PgConnection,
    table_type_id: Uuid,
    except: Option<Uuid>,
    draft: &TableDraft,
) -> sqlx::Result<Result<(), CatalogRefusal>> {
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM dining_table
             WHERE table_type_id = $1 AND label = $2 AND ($3::uuid IS NULL OR id <> $3))",
    )
    .bind(table_type_id)
    .bind(draft.label.as_str())
    .bind(except)
    .fetch_one(conn)
    .await?;
    Ok(if taken {
        Err(CatalogRefusal::Conflict(format!(
            "table type {table_type_id} already has a table labelled {:?}",
            draft.label.as_str()
        )))
    } else {
        Ok(())
    })
}

/// The reservations of a restaurant (or one of its table types) in one of `statuses` that
/// have not ended yet in the restaurant's local time, soonest first.
/// Soft-deletes a table type, or a restaurant with all its types (`table_type_id` `None`),
/// after refusing while upcoming reservations are held or confirmed, unless `force`, which
/// queues their cancellation with a full refund in the same transaction.
async fn soft_delete(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    table_type_id: Option<Uuid>,
    force: bool,
    actor: &str,
) -> sqlx::Result<Result<Deleted, CatalogRefusal>> {
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
        sqlx::query(
            "UPDATE restaurant SET deleted_at = now(), version = version + 1, updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(restaurant_id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE table_type SET deleted_at = now(), version = version + 1, updated_at = now()
         WHERE restaurant_id = $1 AND ($2::uuid IS NULL OR id = $2) AND deleted_at IS NULL",
    )
    .bind(restaurant_id)
    .bind(table_type_id)
    .execute(&mut *conn)
    .await?;
    Ok(Ok(Deleted { canceled: booked }))
}

async fn upcoming_reservations(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    table_type_id: Option<Uuid>,
    statuses: &[Status],
) -> sqlx::Result<Vec<Uuid>> {
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    sqlx::query_scalar(
        "SELECT r.id FROM reservation r JOIN restaurant rest ON rest.id = r.restaurant_id
         WHERE r.restaurant_id = $1 AND ($2::uuid IS NULL OR r.table_type_id = $2)
           AND r.status = ANY($3)
           AND r.service_date + r.start_time + make_interval(mins => r.duration_minutes)
               > (now() AT TIME ZONE rest.time_zone)
         ORDER BY r.service_date, r.start_time, r.id",
    )
    .bind(restaurant_id)
    .bind(table_type_id)
    .bind(&statuses)
    .fetch_all(conn)
    .await
}

/// Queues the cancellation, with a full refund, of each reservation on the restaurant's lane.
async fn cancel_all(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    reservations: &[Uuid],
    actor: &str,
) -> sqlx::Result<()> {
    for &reservation_id in reservations {
        outbound::enqueue_command(
            conn,
            restaurant_id,
            Command::Cancel {
                reservation_id,
                actor: actor.to_owned(),
                full_refund: true,
            },
            std::time::Duration::ZERO,
        )
        .await?;
    }
    Ok(())
}

/// Asks the restaurant's lane to recount its future inventory once this transaction commits.
async fn sync_inventory_later(conn: &mut PgConnection, restaurant_id: Uuid) -> sqlx::Result<()> {
    outbound::enqueue_command(
        conn,
        restaurant_id,
        Command::SyncInventory,
        std::time::Duration::ZERO,
    )
    .await
}
