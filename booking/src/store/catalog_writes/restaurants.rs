//! Staff writes to restaurants and their opening hours, and the demo data's inserts.

use sqlx::PgConnection;
use uuid::Uuid;

use super::refusal::{check_version, no_restaurant, CatalogRefusal};
use super::{
    soft_delete, sync_inventory_later, upcoming_reservations, Deleted, Written, ON_THE_GRID,
};
use crate::booking_rules::BookingRules;
use crate::catalog_forms::RestaurantDraft;
use crate::store::Store;
use crate::{Restaurant, Result};

impl Store {
    /// Inserts a restaurant with its opening hours. Returns whether it was new.
    ///
    /// # Errors
    /// On a database error, including a CHECK that refuses a value.
    pub async fn insert_restaurant(&self, restaurant: &Restaurant) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let inserted = insert_restaurant_rows(&mut tx, restaurant).await?;
        tx.commit().await?;
        self.recent.forget_all();
        Ok(inserted)
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

    /// Replaces the restaurant's booking rules (pacing, turn times, the policy for changing a
    /// booking). They apply to decisions from now on: bookings already made keep their
    /// sitting, and a slot already booked past a lowered pacing limit keeps its guests and
    /// starts no one more. Setting the same rules twice is setting them once.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing restaurant.
    #[tracing::instrument(skip(self, rules))]
    pub async fn set_booking_rules(&self, id: Uuid, rules: &BookingRules) -> Written<Restaurant> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            sqlx::query!(
                "UPDATE restaurant SET booking_rules = $2, version = version + 1, updated_at = now()
                 WHERE id = $1 AND deleted_at IS NULL AND booking_rules <> $2",
                id,
                sqlx::types::Json(rules) as _,
            )
            .execute(&mut *tx)
            .await?;
            reloaded_restaurant(&mut tx, id).await
        }
        .await;
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
}

async fn insert_restaurant_rows(conn: &mut PgConnection, restaurant: &Restaurant) -> Result<bool> {
    let inserted = sqlx::query!(
        "INSERT INTO restaurant (id, name, address, latitude, longitude, time_zone,
             slot_minutes, default_duration_minutes, overbooking_pct, booking_horizon_days,
             refund_window_hours, prepayment_required, city, no_show_fee_cents,
             late_cancellation_fee, booking_rules)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (id) DO NOTHING",
        restaurant.id,
        &restaurant.name,
        &restaurant.address,
        restaurant.latitude,
        restaurant.longitude,
        &restaurant.time_zone,
        restaurant.slot_minutes,
        restaurant.default_duration_minutes,
        restaurant.overbooking_pct,
        restaurant.booking_horizon_days,
        restaurant.refund_window_hours,
        restaurant.prepayment_required,
        &restaurant.city,
        restaurant.no_show_fee_cents,
        restaurant.late_cancellation_fee,
        sqlx::types::Json(&restaurant.booking_rules) as _,
    )
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
) -> Result<()> {
    let weekdays: Vec<i16> = hours.iter().map(|h| h.weekday).collect();
    let opens: Vec<chrono::NaiveTime> = hours.iter().map(|h| h.opens_at).collect();
    let closes: Vec<chrono::NaiveTime> = hours.iter().map(|h| h.closes_at).collect();
    sqlx::query!(
        "INSERT INTO opening_hours (restaurant_id, weekday, opens_at, closes_at)
         SELECT $1, * FROM unnest($2::smallint[], $3::time[], $4::time[])",
        restaurant_id,
        &weekdays,
        &opens,
        &closes,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What a restaurant update compares against, locked until the transaction ends. `NO KEY
/// UPDATE` lets bookings keep referring to the row meanwhile.
struct RestaurantLock {
    version: i32,
    slot_minutes: i32,
    overbooking_pct: i32,
}

async fn lock_restaurant(conn: &mut PgConnection, id: Uuid) -> Result<Option<RestaurantLock>> {
    Ok(sqlx::query_as!(
        RestaurantLock,
        "SELECT version, slot_minutes, overbooking_pct FROM restaurant
         WHERE id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE",
        id,
    )
    .fetch_optional(conn)
    .await?)
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
    let updated = sqlx::query!(
        "UPDATE restaurant SET name = $3, address = $4, latitude = $5, longitude = $6,
             time_zone = $7, slot_minutes = $8, default_duration_minutes = $9,
             overbooking_pct = $10, booking_horizon_days = $11, refund_window_hours = $12,
             prepayment_required = $13, city = $14, no_show_fee_cents = $15,
             late_cancellation_fee = $16, version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 AND deleted_at IS NULL",
        id,
        current.version,
        &restaurant.name,
        &restaurant.address,
        restaurant.latitude,
        restaurant.longitude,
        &restaurant.time_zone,
        restaurant.slot_minutes,
        restaurant.default_duration_minutes,
        restaurant.overbooking_pct,
        restaurant.booking_horizon_days,
        restaurant.refund_window_hours,
        restaurant.prepayment_required,
        &restaurant.city,
        restaurant.no_show_fee_cents,
        restaurant.late_cancellation_fee,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Ok(Err(CatalogRefusal::Stale {
            what: "the restaurant",
            current: current.version,
        }));
    }
    sqlx::query!("DELETE FROM opening_hours WHERE restaurant_id = $1", id)
        .execute(&mut *tx)
        .await?;
    insert_opening_hours(tx, id, &restaurant.opening_hours).await?;
    if restaurant.overbooking_pct != current.overbooking_pct {
        sync_inventory_later(tx, id).await?;
    }
    reloaded_restaurant(tx, id).await
}

async fn reloaded_restaurant(conn: &mut PgConnection, id: Uuid) -> Written<Restaurant> {
    Ok(crate::store::load_restaurant(conn, id)
        .await?
        .ok_or_else(|| no_restaurant(id)))
}
